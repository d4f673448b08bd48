/**
 * Findings of the WAL and .snap decoders, written from the templates in
 * shared/i18n/etcd-wal-text.ts: the English `message` is the interpolated
 * template, `params` (+ `messageKey` for a variant) let the UI show it in
 * the user's language.
 */
import type { Finding } from '../../contract/findings';
import walText from '../../i18n/etcd-wal-text';
import { templatedFinding, type TemplatedFindingInput } from './templated-finding';

export function walFinding(f: TemplatedFindingInput): Finding {
  return templatedFinding(walText.en, f);
}

export const hex32 = (n: number | null | undefined): string => `0x${((n ?? 0) >>> 0).toString(16).padStart(8, '0')}`;
