import { memorySource } from '../../../shared/bytes/byte-source';
import { interpretClosed, interpretOpen, scanSegment } from '../../../shared/formats/dqlite/segment';
import { classifyName } from '../../../shared/formats/dqlite/segment-name';
import { mutateBytes } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { sampleDir } from './corpus';

type Seg = { first: number; last: number; bytes: Uint8Array };

export const dqliteSegment: FuzzTarget<Seg, Seg[]> = {
  name: 'dqlite-segment',
  what: 'closed and open segment scan (batches, CRCs, counts): no throw, valid bytes and failure offsets inside the file',
  corpus: () => {
    const out: Seg[] = [];
    for (const s of ['dqlite-healthy', 'dqlite-field-report'] as const) {
      for (const [n, bytes] of Object.entries(sampleDir(s))) {
        const c = classifyName(n);
        if (c.kind === 'closed') out.push({ first: c.first, last: c.last, bytes });
        else if (c.kind === 'open') out.push({ first: 1, last: 1, bytes });
      }
    }
    return out;
  },
  generate: (r, corpus) => {
    const s = r.pick(corpus);
    return { ...s, bytes: mutateBytes(r, s.bytes, 64 * 1024) };
  },
  run: async ({ first, last, bytes }) => {
    const scan = await scanSegment(memorySource('seg', bytes), { targetEntries: last - first + 1 });
    check(scan.validBytes <= bytes.length, `validBytes ${scan.validBytes} past the end (${bytes.length})`);
    if (scan.failure) check(scan.failure.offset <= bytes.length, `failure offset ${scan.failure.offset} past the end (${bytes.length})`);
    const c = interpretClosed(first, last, scan);
    if (!c.ok && c.offset !== null) check(c.offset <= bytes.length, `closed offset ${c.offset} past the end`);
    const o = interpretOpen(scan);
    check(['deleted', 'finalised', 'fatal'].includes(o.outcome), `open outcome ${o.outcome}`);
    checkPlain({ ...scan, lastChange: null }, 'scan');
  },
  files: (s) => ({ [`${String(s.first).padStart(16, '0')}-${String(s.last).padStart(16, '0')}`]: s.bytes }),
  size: (s) => s.bytes.length,
};
