/**
 * Findings of the bbolt and schema decoders, written from the templates in
 * shared/i18n/etcd-bbolt-text.ts: the English `message` is the interpolated
 * template; `params` (+ `messageKey` for a variant) let the UI show it in the
 * user's language.
 */
import type { Finding } from '../../contract/findings';
import type { TextParams } from '../../contract/text';
import bboltText, { OWN_PROBLEMS, type OwnProblemId } from '../../i18n/etcd-bbolt-text';
import { interpolate } from '../../i18n/index';
import { templatedFinding, type TemplatedFindingInput } from './templated-finding';

export function bboltFinding(f: TemplatedFindingInput): Finding {
  return templatedFinding(bboltText.en, f);
}

/** A walk problem in our own words: the English text, and the case + params that say it in any language. */
export interface OwnProblemText {
  text: string;
  /** `<case>` of `OWN_PROBLEMS[code]`. */
  variant: string;
  params: TextParams;
}

export function ownProblem(id: OwnProblemId, params: TextParams): OwnProblemText {
  const dot = id.indexOf('.');
  const code = id.slice(0, dot) as keyof typeof OWN_PROBLEMS;
  const variant = id.slice(dot + 1);
  const cases = OWN_PROBLEMS[code] as Record<string, { en: string; zh: string }>;
  return { text: interpolate(cases[variant]!.en, params), variant, params };
}
