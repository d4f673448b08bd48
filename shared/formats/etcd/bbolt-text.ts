/**
 * Findings of the bbolt and schema decoders, written from the templates in
 * shared/i18n/etcd-bbolt-text.ts: the English `message` is the interpolated
 * template; `params` (+ `messageKey` for a variant) let the UI show it in the
 * user's language.
 */
import type { Finding, Severity } from '../../contract/findings';
import bboltText, { type EtcdBboltTextKey } from '../../i18n/etcd-bbolt-text';
import { interpolate } from '../../i18n/index';

export function bboltFinding(f: {
  severity: Severity;
  code: string;
  file: string | null;
  offset: number | null;
  params: Record<string, string | number>;
  variant?: string;
  engineError?: string;
}): Finding {
  const key = (f.variant ? `finding.${f.code}.${f.variant}.message` : `finding.${f.code}.message`) as EtcdBboltTextKey;
  const template = bboltText.en[key];
  return {
    severity: f.severity,
    code: f.code,
    file: f.file,
    offset: f.offset,
    message: template ? interpolate(template, f.params) : f.code,
    params: f.params,
    ...(f.variant ? { messageKey: key } : {}),
    ...(f.engineError !== undefined ? { engineError: f.engineError } : {}),
  };
}
