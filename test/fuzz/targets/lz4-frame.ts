import { memorySource } from '../../../shared/bytes/byte-source';
import { verifyLz4Frame } from '../../../shared/formats/lz4/frame';
import { mutateBytes } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { sampleFiles } from './corpus';

export const lz4Frame: FuzzTarget<Uint8Array, Uint8Array[]> = {
  name: 'lz4-frame',
  what: 'streaming LZ4 frame verifier: no throw, bounded output, error offsets inside the input',
  corpus: () => sampleFiles((n) => /^snapshot-\d+-\d+-\d+$/.test(n)),
  generate: (r, corpus) => mutateBytes(r, r.pick(corpus), 8192),
  run: async (bytes) => {
    const r = await verifyLz4Frame(memorySource('frame.lz4', bytes));
    if (r.errorOffset !== null) check(r.errorOffset >= 0 && r.errorOffset <= bytes.length, `error offset ${r.errorOffset} outside ${bytes.length} bytes`);
    check(r.ok === (r.error === null), `ok ${r.ok} with error ${r.error}`);
    // An LZ4 block expands at most 255x; a frame's content cannot exceed that of its input.
    check(r.contentSize <= bytes.length * 256 + 64 * 1024 * 1024, `content ${r.contentSize} from ${bytes.length} bytes`);
    checkPlain(r, 'lz4 result');
  },
  files: (b) => ({ 'frame.lz4': b }),
  size: (b) => b.length,
};
