/**
 * An error sentence as a catalog key and its parameters, so that the renderer says it in the
 * user's language; the `message` sent beside it is the English rendering (CLI, logs).
 */
export interface ErrorText {
  key: string;
  params?: Record<string, string | number>;
}
