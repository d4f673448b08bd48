/**
 * Runs the signature catalog over one record's text. A single pre-filter
 * regex of every needle rejects the vast majority of lines with one scan, so
 * a 100 MB journal costs about one regex test per record.
 */
import { SIGNATURES, type Signature } from './signatures';
import type { LogStage } from './types';

export interface RecordMatch {
  signature: Signature;
  stage: LogStage;
  fields: Record<string, string>;
  span: { start: number; end: number };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class SignatureMatcher {
  private readonly prefilter: RegExp;

  constructor(private readonly signatures: readonly Signature[] = SIGNATURES) {
    const needles = [...new Set(signatures.flatMap((s) => s.needles))];
    this.prefilter = new RegExp(needles.map(escapeRegExp).join('|'));
  }

  match(text: string): RecordMatch[] {
    if (!this.prefilter.test(text)) return [];
    const specific: RecordMatch[] = [];
    const generic: RecordMatch[] = [];
    const fallback: RecordMatch[] = [];
    for (const sig of this.signatures) {
      if (!sig.needles.some((n) => text.includes(n))) continue;
      for (const pattern of sig.patterns) {
        const m = pattern.exec(text);
        if (!m) continue;
        const fields: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) fields[k] = v;
        if (sig.derive) Object.assign(fields, sig.derive(fields, text));
        const found: RecordMatch = {
          signature: sig,
          stage: sig.stageOf ? sig.stageOf(fields) : sig.stage,
          fields,
          span: { start: m.index, end: m.index + m[0].length },
        };
        (sig.fallback ? fallback : sig.generic ? generic : specific).push(found);
        break;
      }
    }
    return specific.length > 0 ? specific : generic.length > 0 ? generic : fallback;
  }
}
