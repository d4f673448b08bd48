/**
 * The error type every service throws for the client. It sits below every
 * service (validation, SSH, profiles) so they all import it downward and none
 * of them imports another just for its error class.
 */

/** An error meant for the client: its message is shown, its code is stable. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
