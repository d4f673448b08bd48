/**
 * A back-end error in the UI language. The back end's catalog text when it
 * sent one (ApiError.localized, SshNetworkError, ...); else, in a language
 * other than English, the sentence a screen keeps for the error's stable
 * code (`byCode`: code -> catalog key), since the message beside the code is
 * English; else the message as it is.
 */
import type { ErrorText } from '../../../shared/contract/error-text';
import { hasMessage } from '../../../shared/i18n/index';
import { i18n, t } from './i18n.svelte';

/** The code and catalog text an error from the client carries (ClientError), if any. */
function errorFields(e: unknown): { code?: string; text?: ErrorText } {
  if (typeof e !== 'object' || e === null) return {};
  const { code, text } = e as { code?: unknown; text?: unknown };
  const out: { code?: string; text?: ErrorText } = {};
  if (typeof code === 'string') out.code = code;
  if (typeof text === 'object' && text !== null && typeof (text as { key?: unknown }).key === 'string') out.text = text as ErrorText;
  return out;
}

export function errorSentence(e: unknown, byCode: Readonly<Record<string, string>>): string {
  const { code, text } = errorFields(e);
  if (text && hasMessage(text.key)) return t(text.key, text.params);
  const message = e instanceof Error ? e.message : String(e);
  if (i18n.locale === 'en') return message;
  const key = code !== undefined ? byCode[code] : undefined;
  return key ? t(key) : message;
}
