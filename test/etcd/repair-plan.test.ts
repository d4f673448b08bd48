/**
 * Found by the etcd-repair fuzz target: a db whose tree bbolt walks clean but that holds no etcd meta bucket (a meta
 * page's root moved onto a leaf of revisions) has no consistent index; etcd reads that as 0, below the snapshot it
 * loads, and panics ("failed to find database snapshot file"). Repair kept such a db "intact"; it rebuilds it now.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repairEtcdCopy } from '../../electron/services/etcd-repair';
import { memorySource } from '../../shared/bytes/byte-source';
import { decodeMetaFields, encodeMetaPage } from '../../shared/formats/etcd/bbolt-meta';
import { chooseDbStrategy } from '../../shared/formats/etcd/repair-plan';
import { etcdSampleDir } from '../fuzz/targets/corpus';
import { tempDir } from '../helpers/etcd';
import { validateLocally } from '../helpers/validate-local';

const PS = 4096;
let root = '';
beforeAll(async () => {
  root = await tempDir('repair-plan');
});
afterAll(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
});

/** The sample's db with the newer meta's root moved onto a leaf of revision keys (checksum recomputed: bbolt trusts it). */
function rootOnRevisionLeaf(db: Uint8Array): Uint8Array {
  const out = db.slice();
  const metas = [0, 1].map((m) => decodeMetaFields(out.subarray(m * PS, m * PS + PS)).fields);
  const newer = metas[0]!.txid > metas[1]!.txid ? 0 : 1;
  for (let p = 2; (p + 1) * PS <= out.length; p++) {
    const at = p * PS;
    const count = out[at + 10]! | (out[at + 11]! << 8);
    // A leaf (flag 0x02) whose first element is a 17-byte revision key and not a bucket.
    if (out[at + 8] !== 0x02 || count === 0 || (out[at + 16]! & 0x01) !== 0) continue;
    const ksize = out[at + 16 + 8]! | (out[at + 16 + 9]! << 8);
    const key = at + 16 + (out[at + 16 + 4]! | (out[at + 16 + 5]! << 8));
    if (ksize !== 17 || out[key + 8] !== 0x5f) continue;
    out.set(encodeMetaPage({ ...metas[newer]!, root: BigInt(p) }, PS, newer as 0 | 1).subarray(0, PS), newer * PS);
    return out;
  }
  throw new Error('no leaf of revision keys in the sample');
}

describe('repair plan: a clean tree without a consistent index below the snapshot etcd loads', () => {
  const sample = etcdSampleDir('etcd-healthy');
  const snapIndex = Math.max(
    ...Object.keys(sample).flatMap((n) => (/([0-9a-f]{16})\.snap$/.exec(n) ? [parseInt(/([0-9a-f]{16})\.snap$/.exec(n)![1]!, 16)] : [])),
  );

  it('is rebuilt, not kept: etcd would read its consistent index as 0', async () => {
    expect(snapIndex).toBeGreaterThan(0);
    const healthy = await chooseDbStrategy(memorySource('db', sample['member/snap/db']!), { minConsistentIndex: snapIndex });
    expect(healthy.strategy).toBe('unchanged');
    const moved = await chooseDbStrategy(memorySource('db', rootOnRevisionLeaf(sample['member/snap/db']!)), { minConsistentIndex: snapIndex });
    expect([moved.strategy, moved.reason]).toEqual([
      'rebuild',
      `the db tree is intact but its consistent index 0 is below the snapshot etcd loads (${snapIndex})`,
    ]);
  });

  it('the repaired copy is one etcd starts on, with every key of the healthy member', async () => {
    const input = path.join(root, 'etcd-data');
    for (const [rel, bytes] of Object.entries({ ...sample, 'member/snap/db': rootOnRevisionLeaf(sample['member/snap/db']!) })) {
      mkdirSync(path.dirname(path.join(input, rel)), { recursive: true });
      writeFileSync(path.join(input, rel), bytes);
    }
    const before = await validateLocally(input);
    expect(before.findings.map((f) => f.code)).toContain('startup.snap-db-missing');
    const result = await repairEtcdCopy(input, path.join(root, 'repaired'));
    expect(result.dbStrategy).toBe('rebuild');
    expect(result.lost).toEqual([]);
    const after = await validateLocally(path.join(root, 'repaired'));
    const healthy = await validateLocally(path.join(__dirname, '..', '..', 'resources', 'samples', 'etcd-healthy'));
    expect(after.startable).toBe(true);
    expect(after.etcd?.schema?.liveKeys).toBeGreaterThan(0);
    expect(after.etcd?.schema?.liveKeys).toBe(healthy.etcd?.schema?.liveKeys);
  });
});
