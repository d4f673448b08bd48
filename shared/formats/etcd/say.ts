/**
 * One sentence in two forms from one etcd template: the English text for
 * reports and the CLI, and the catalog key + params the UI translates.
 * Placeholders that are sentences or words themselves (the next step, the
 * repairs etcd makes, the first warning) go in `texts`, so the UI translates
 * them too instead of splicing English into a Chinese sentence.
 */
import type { Finding, Severity } from '../../contract/findings';
import type { LocalText, TextParams } from '../../contract/text';
import etcdText, { type EtcdTextKey } from '../../i18n/etcd-text';
import { hasMessage, interpolate, translateLocal } from '../../i18n/index';

export interface Said {
  text: string;
  local: LocalText;
}

export function sayEtcd(key: EtcdTextKey, params?: TextParams, texts?: Record<string, Said[]>): Said {
  const local: LocalText = { key, ...(params ? { params } : {}) };
  if (!texts) return { text: interpolate(etcdText.en[key], params), local };
  local.texts = Object.fromEntries(Object.entries(texts).map(([name, list]) => [name, list.map((s) => s.local)]));
  return { text: translateLocal('en', local), local };
}

/** A finding's message as a sentence to nest (its template and params), or null when it was not written from a template. */
export function saidOfFinding(f: Finding): Said | null {
  const key = f.messageKey ?? `finding.${f.code}.message`;
  if (!f.params || !hasMessage(key)) return null;
  return { text: f.message, local: { key, params: f.params } };
}

/**
 * A finding whose message comes from `finding.<code>.message`, or from
 * `finding.<code>.<variant>.message` when a word in it depends on the case
 * (the variant's template has that word written out in each language).
 */
export function etcdFinding(
  severity: Severity,
  code: string,
  file: string | null,
  offset: number | null,
  params: TextParams,
  engineError?: string,
  variant?: string,
): Finding {
  const key = (variant ? `finding.${code}.${variant}.message` : `finding.${code}.message`) as EtcdTextKey;
  const template = etcdText.en[key];
  return {
    severity,
    code,
    file,
    offset,
    message: template ? interpolate(template, params) : code,
    params,
    ...(variant ? { messageKey: key } : {}),
    ...(engineError ? { engineError } : {}),
  };
}
