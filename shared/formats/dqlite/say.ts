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

export function say(key: DqliteTextKey, params?: TextParams): Said {
  return { text: interpolate(dqliteText.en[key], params), local: params ? { key, params } : { key } };
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
