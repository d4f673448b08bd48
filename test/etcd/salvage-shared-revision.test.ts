/**
 * Found by the etcd-salvage fuzz target: two keys that claim the same revision (a revision key damaged into
 * another's, or replayed revisions past 2^53) stopped salvage with the writer's "keys must be put in ascending
 * order". The later one is now written at the next free sub revision of that revision, with a finding.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { salvageSourceToSnapshotDb } from '../../electron/services/etcd-repair';
import { inspectBbolt } from '../../shared/formats/etcd/bbolt-db';
import { etcdSampleDir } from '../fuzz/targets/corpus';
import { guardedSource, nestedDirectory } from '../fuzz/targets/etcd-corpus';
import { tempDir } from '../helpers/etcd';

const PS = 4096;
let root = '';
beforeAll(async () => {
  root = await tempDir('salvage-shared-revision');
});
afterAll(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
});

/** Revision-key positions of two puts, each its key's newest revision (so both keys are live there). */
function twoPuts(db: Uint8Array): { first: number; second: number } {
  const elements: { key: number; ksize: number; name: string; main: number }[][] = [];
  const newest = new Map<string, number>();
  for (let p = 2; (p + 1) * PS <= db.length; p++) {
    const at = p * PS;
    if ((db[at + 8]! & 0x02) === 0) continue;
    const count = db[at + 10]! | (db[at + 11]! << 8);
    const leaf: { key: number; ksize: number; name: string; main: number }[] = [];
    for (let i = 0; i < count; i++) {
      const e = at + 16 + i * 16;
      const key = e + (db[e + 4]! | (db[e + 5]! << 8) | (db[e + 6]! << 16));
      const ksize = db[e + 8]! | (db[e + 9]! << 8);
      const value = key + ksize;
      // mvccpb.KeyValue field 1 (the etcd key), a one-byte length.
      if ((ksize !== 17 && ksize !== 18) || db[key + 8] !== 0x5f || db[value] !== 0x0a || db[value + 1]! >= 0x80) continue;
      const name = Buffer.from(db.subarray(value + 2, value + 2 + db[value + 1]!)).toString('latin1');
      const main = Number(Buffer.from(db.subarray(key, key + 8)).readBigUInt64BE());
      newest.set(name, Math.max(newest.get(name) ?? 0, main));
      leaf.push({ key, ksize, name, main });
    }
    elements.push(leaf);
  }
  // b opens its leaf, so its damaged key still sorts before its one neighbour (salvage then cannot tell it from a
  // sound key by its order, as it does inside a leaf); a is an older put in another leaf.
  const isNewest = (x: { ksize: number; name: string; main: number }) => x.ksize === 17 && newest.get(x.name) === x.main;
  for (const leaf of elements) {
    const b = leaf[0];
    if (!b || leaf.length < 2 || !isNewest(b)) continue;
    for (const other of elements) {
      const a = other.find((x) => other !== leaf && isNewest(x) && x.main < b.main);
      if (a) return { first: a.key, second: b.key };
    }
  }
  throw new Error("no two puts that are their keys' newest");
}

describe('salvage: two keys claim one revision', () => {
  it('writes both, the later at the next free sub revision, says so, and the snapshot is sound', async () => {
    const healthy = etcdSampleDir('etcd-healthy');
    const db = healthy['member/snap/db']!.slice();
    const { first, second } = twoPuts(db);
    // The second put's revision key damaged into the first's: two different etcd keys at one main_sub revision.
    db.set(db.subarray(first, first + 17), second);
    const main = Number(Buffer.from(db.subarray(first, first + 8)).readBigUInt64BE());
    const before = createHash('sha256').update(db).digest('hex');
    const files = { ...healthy, 'member/snap/db': db };
    const report = await salvageSourceToSnapshotDb(nestedDirectory('etcd-data', files), false, 'etcd-data', path.join(root, 'out.snapshot.db'));
    const whole = await salvageSourceToSnapshotDb(nestedDirectory('etcd-data', healthy), false, 'etcd-data', path.join(root, 'healthy.snapshot.db'));
    expect(createHash('sha256').update(db).digest('hex')).toBe(before);
    const shared = report.findings.filter((f) => f.code === 'salvage.shared-revision');
    expect(shared.map((f) => [f.params!.count, f.params!.main, f.params!.sub, f.params!.to])).toEqual([[1, main, 0, 1]]);
    expect(report.keysWritten).toBe(whole.keysWritten);
    const out = new Uint8Array(readFileSync(path.join(root, 'out.snapshot.db')));
    const scan = await inspectBbolt(guardedSource('out.snapshot.db', out), 'out.snapshot.db', { snapshotDb: true });
    expect(scan.findings.filter((f) => f.severity === 'error')).toEqual([]);
  });
});
