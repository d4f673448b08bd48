/**
 * A finding written from a message template of an etcd text catalog: the
 * English `message` is the interpolated template; `params` (+ `messageKey`
 * for a variant) let the UI show it in the user's language.
 */
import type { Finding, Severity } from '../../contract/findings';
import { interpolate } from '../../i18n/index';

export interface TemplatedFindingInput {
  severity: Severity;
  code: string;
  file: string | null;
  offset: number | null;
  params: Record<string, string | number>;
  variant?: string;
  engineError?: string;
}

export function templatedFinding(english: Readonly<Record<string, string>>, f: TemplatedFindingInput): Finding {
  const key = f.variant ? `finding.${f.code}.${f.variant}.message` : `finding.${f.code}.message`;
  const template = english[key];
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
