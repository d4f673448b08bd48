import { memorySource } from '../../../shared/bytes/byte-source';
import { checkSnapshotData } from '../../../shared/formats/dqlite/snapshot-data';
import { checkSnapshotMeta } from '../../../shared/formats/dqlite/snapshot-meta';
import { mutateBytes } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { sampleFiles } from './corpus';

export const dqliteSnapshotMeta: FuzzTarget<Uint8Array, Uint8Array[]> = {
  name: 'dqlite-snapshot-meta',
  what: 'snapshot .meta header, CRC and configuration: no throw, offsets inside the file, reads within the 1 MiB configuration limit',
  corpus: () => sampleFiles((n) => n.endsWith('.meta')),
  generate: (r, corpus) => mutateBytes(r, r.pick(corpus), 4096),
  run: async (bytes) => {
    let largest = 0;
    const read = async (offset: number, length: number) => {
      check(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0, `bad read ${offset}+${length}`);
      check(length <= 1024 * 1024 + 32, `read of ${length} bytes (limit 1 MiB + header)`);
      largest = Math.max(largest, length);
      return bytes.slice(offset, offset + length);
    };
    const r = await checkSnapshotMeta('snapshot-1-2-3.meta', bytes.length, read);
    if (!r.ok) check(r.offset >= 0 && r.offset <= bytes.length, `offset ${r.offset} outside ${bytes.length} bytes`);
    checkPlain(r, 'meta check');
  },
  files: (b) => ({ 'snapshot-1-2-3.meta': b }),
  size: (b) => b.length,
};

export const dqliteSnapshotData: FuzzTarget<Uint8Array, Uint8Array[]> = {
  name: 'dqlite-snapshot-data',
  what: 'snapshot data (LZ4 frame as libraft reads it): no throw, error offsets inside the file',
  corpus: () => sampleFiles((n) => /^snapshot-\d+-\d+-\d+$/.test(n)),
  generate: (r, corpus) => mutateBytes(r, r.pick(corpus), 8192),
  run: async (bytes) => {
    const r = await checkSnapshotData(memorySource('snapshot-1-2-3', bytes));
    if (r.errorOffset !== null) check(r.errorOffset >= 0 && r.errorOffset <= bytes.length, `error offset ${r.errorOffset} outside ${bytes.length} bytes`);
    check(r.ok === (r.engineError === null), `ok ${r.ok} but engineError ${r.engineError}`);
    checkPlain(r, 'data check');
  },
  files: (b) => ({ 'snapshot-1-2-3': b }),
  size: (b) => b.length,
};
