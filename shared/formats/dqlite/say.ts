/**
 * One sentence in two forms from one template: the English text reports and the
 * CLI print, and the catalog key + params the UI translates. Every sentence the
 * validator writes goes through here so the two cannot drift.
 */
import type { LocalText, TextParams } from '../../contract/text';
import dqliteText, { type DqliteTextKey } from '../../i18n/dqlite-text';
import { interpolate } from '../../i18n/index';

export interface Said {
  text: string;
  local: LocalText;
}

/** `texts`: placeholders filled with other sentences (English here, their keys for the UI). */
export function say(key: DqliteTextKey, params?: TextParams, texts?: Record<string, Said>): Said {
  const english = texts ? { ...params, ...Object.fromEntries(Object.entries(texts).map(([name, s]) => [name, s.text])) } : params;
  const local: LocalText = params ? { key, params } : { key };
  if (texts) local.texts = Object.fromEntries(Object.entries(texts).map(([name, s]) => [name, [s.local]]));
  return { text: interpolate(dqliteText.en[key], english), local };
}

/**
 * The `message`, `params` and (for variants) `messageKey` of a Finding. `params`
 * is always set, even empty: it marks the message as coming from a template.
 */
export function findingText(key: DqliteTextKey, params?: TextParams): { message: string; params: TextParams; messageKey?: string } {
  const s = say(key, params);
  const implied = key.endsWith('.message') && key.startsWith('finding.');
  return { message: s.text, params: params ?? {}, ...(implied ? {} : { messageKey: key }) };
}
