/** Values filled into `{name}` placeholders of a catalog template. */
export type TextParams = Record<string, string | number>;

/** A sentence the UI can translate: catalog key plus the values for its placeholders. */
export interface LocalText {
  key: string;
  params?: TextParams;
}
