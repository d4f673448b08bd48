import { checkMetadata, checkMetadataPair } from '../../../shared/formats/dqlite/metadata';
import { mutateBytes } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { sampleFiles } from './corpus';

type Pair = [Uint8Array, Uint8Array | null];

export const dqliteMetadata: FuzzTarget<Pair, Uint8Array[]> = {
  name: 'dqlite-metadata',
  what: 'metadata1/metadata2 decode and pair decision: no throw, plain results',
  corpus: () => sampleFiles((n) => /^metadata[12]$/.test(n)),
  generate: (r, corpus) => [mutateBytes(r, r.pick(corpus), 64), r.chance(0.5) ? mutateBytes(r, r.pick(corpus), 64) : null],
  run: ([m1, m2]) => {
    const a = checkMetadata('metadata1', m1.length, m1);
    const b = checkMetadata('metadata2', m2?.length ?? 0, m2);
    const pair = checkMetadataPair(a, b);
    check(pair === null || typeof pair === 'string', 'pair decision');
    checkPlain([a, b], 'metadata checks');
  },
  files: ([m1, m2]) => ({ metadata1: m1, ...(m2 ? { metadata2: m2 } : {}) }),
  size: ([m1, m2]) => m1.length + (m2?.length ?? 0),
};
