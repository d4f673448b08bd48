import { analyzeLogText } from '../../../shared/logs/analyze';
import { MAX_RECORD_CHARS } from '../../../shared/logs/parse';
import { SIGNATURES } from '../../../shared/logs/signatures';
import { mutateText } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { fieldReportLogs } from './corpus';
import { LOG_TOKENS } from './dictionaries';

export const logText: FuzzTarget<string, string[]> = {
  name: 'log-text',
  what: 'log analysis (line splitting, headers, records, all signatures, timeline, story) on mutated field-report logs: records capped, matches inside their records',
  corpus: () => {
    // Field-report excerpts (a few KB each) and every signature's own example lines.
    const logs = fieldReportLogs().flatMap((t) => {
      const lines = t.split('\n');
      const out: string[] = [];
      for (let i = 0; i < lines.length; i += 40) out.push(lines.slice(i, i + 40).join('\n'));
      return out;
    });
    return [...logs, ...SIGNATURES.map((s) => s.examples.join('\n'))];
  },
  generate: (r, corpus) => mutateText(r, r.pick(corpus), LOG_TOKENS, 192 * 1024),
  run: (text) => {
    const a = analyzeLogText('fuzz', text, { zoneMinutes: 480 });
    for (const rec of a.records) check(rec.text.length <= MAX_RECORD_CHARS, `record of ${rec.text.length} characters`);
    const byId = new Map(a.records.map((rec) => [rec.id, rec]));
    for (const m of a.matches) {
      check(m.span.start >= 0 && m.span.start <= m.span.end && m.span.end <= MAX_RECORD_CHARS, `match span ${m.span.start}..${m.span.end}`);
      const rec = byId.get(m.recordId);
      if (rec) check(m.span.end <= rec.text.length, `match span past its record (${m.span.end} > ${rec.text.length})`);
    }
    checkPlain(a, 'analysis');
  },
  files: (t) => ({ 'input.log': t }),
  size: (t) => t.length,
};
