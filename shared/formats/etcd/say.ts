/**
 * One sentence in two forms from one etcd template: the English text for
 * reports and the CLI, and the catalog key + params the UI translates.
 */
import type { Finding, Severity } from '../../contract/findings';
import type { LocalText, TextParams } from '../../contract/text';
import etcdText, { type EtcdTextKey } from '../../i18n/etcd-text';
import { interpolate } from '../../i18n/index';

export interface Said {
  text: string;
  local: LocalText;
}

export function sayEtcd(key: EtcdTextKey, params?: TextParams): Said {
  return { text: interpolate(etcdText.en[key], params), local: params ? { key, params } : { key } };
}

/** A finding whose message comes from `finding.<code>.message`. */
export function etcdFinding(severity: Severity, code: string, file: string | null, offset: number | null, params: TextParams, engineError?: string): Finding {
  const key = `finding.${code}.message` as EtcdTextKey;
  const template = etcdText.en[key];
  return {
    severity,
    code,
    file,
    offset,
    message: template ? interpolate(template, params) : code,
    params,
    ...(engineError ? { engineError } : {}),
  };
}
