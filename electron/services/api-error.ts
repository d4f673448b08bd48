/**
 * The error type every service throws for the client. It sits below every
 * service (validation, SSH, profiles) so they all import it downward and none
 * of them imports another just for its error class.
 */
import type { ErrorText } from '../../shared/contract/error-text';
import { translate, type MessageParams } from '../../shared/i18n';

/**
 * An error meant for the client: its message is shown, its code is stable.
 * With `text` (a catalog key and its parameters) the renderer says it in the
 * user's language; `message` is then the English rendering of that same text.
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly text?: ErrorText,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** An error whose sentence comes from the catalogs: English message, key and params for the renderer. */
  static localized(code: string, key: string, params?: MessageParams): ApiError {
    return new ApiError(code, translate('en', key, params), params ? { key, params } : { key });
  }
}

/** The catalog text an error carries (ApiError, SshNetworkError, ...), if any. */
export function errorTextOf(err: unknown): ErrorText | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const text = (err as { text?: unknown }).text;
  if (typeof text !== 'object' || text === null) return undefined;
  const { key, params } = text as { key?: unknown; params?: unknown };
  if (typeof key !== 'string') return undefined;
  return typeof params === 'object' && params !== null ? { key, params: params as MessageParams } : { key };
}
