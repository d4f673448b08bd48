/**
 * Findings of the bbolt and schema decoders, written from the templates in
 * shared/i18n/etcd-bbolt-text.ts: the English `message` is the interpolated
 * template; `params` (+ `messageKey` for a variant) let the UI show it in the
 * user's language.
 */
import type { Finding } from '../../contract/findings';
import bboltText from '../../i18n/etcd-bbolt-text';
import { templatedFinding, type TemplatedFindingInput } from './templated-finding';

export function bboltFinding(f: TemplatedFindingInput): Finding {
  return templatedFinding(bboltText.en, f);
}
