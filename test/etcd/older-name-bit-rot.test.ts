/**
 * A flipped byte in the key name of an OLDER revision of a key (the newest
 * revision intact), on a data dir real etcd 3.4 wrote. The db does not lack
 * the key, but the old record now names a key nobody wrote, and etcd serves
 * it. The WAL entry that made that revision put the real key with the same
 * value: repair rebuilds the db without the damaged name (etcd then serves
 * exactly the keys written), and salvage leaves it out with a finding.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repairEtcdCopy, salvageToSnapshotDb } from '../../electron/services/etcd-repair';
import { copyDir, hashTree, requireEtcd, spawnEtcd, tempDir, tryStartEtcd, waitHealthy, type EtcdOptions } from '../helpers/etcd';
import { boltTree } from '../helpers/etcd-damage';

const HAVE_ETCD = requireEtcd();
const GOOD = '/registry/configmaps/default/settings';
const BAD = '/registry/configmaps/default/settingQ';

let root = '';
let golden = '';
let options: (dataDir: string) => EtcdOptions;
let served: Map<string, string>;

beforeAll(async () => {
  if (!HAVE_ETCD) return;
  root = await tempDir('older-name-bit-rot');
  golden = path.join(root, 'golden');
  const node = await spawnEtcd({ dataDir: golden });
  try {
    if (!(await waitHealthy(node, 20_000))) throw new Error(`etcd did not start:\n${node.output()}`);
    await node.put(GOOD, 'mode=first');
    for (let i = 0; i < 40; i++) await node.put(`/registry/configmaps/default/cm-${String(i).padStart(3, '0')}`, `value ${i}`);
    await node.put(GOOD, 'mode=second');
    await node.put(GONE, 'soon deleted');
    await node.del(GONE);
    served = await node.range('');
    options = (d) => ({
      dataDir: d,
      name: node.endpoint.name,
      host: node.endpoint.host,
      clientPort: node.endpoint.clientPort,
      peerPort: node.endpoint.peerPort,
    });
  } finally {
    await node.stop();
  }
}, 120_000);

afterAll(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
});

const GONE = '/registry/configmaps/default/gone';
const GONE_BAD = '/registry/configmaps/default/gonQ';

/** The file offset of the last byte of `key`'s name in its oldest put (the first of its records in tree order). */
function oldestNameEnd(b: Buffer, key: string): number {
  const { meta, pages } = boltTree(b);
  const name = Buffer.from(key, 'latin1');
  for (const p of pages) {
    if (p.bucket !== 'key' || p.kind !== 'leaf') continue;
    const at = p.id * meta.pageSize;
    for (let i = 0; i < p.count; i++) {
      const e = at + 16 + i * 16;
      const k = e + b.readUInt32LE(e + 4);
      const v = k + b.readUInt32LE(e + 8);
      // mvccpb.KeyValue field 1 (the key), a one-byte length.
      if (b.readUInt32LE(e + 8) === 17 && b[v] === 0x0a && b[v + 1] === name.length && b.subarray(v + 2, v + 2 + name.length).equals(name)) {
        return v + 2 + name.length - 1;
      }
    }
  }
  throw new Error(`${key} not found in the key bucket`);
}

async function damagedCopy(name: string, key = GOOD): Promise<string> {
  const dir = path.join(root, name);
  await copyDir(golden, dir);
  const db = path.join(dir, 'member', 'snap', 'db');
  const at = oldestNameEnd(await fs.readFile(db), key);
  const fh = await fs.open(db, 'r+');
  try {
    await fh.write(Buffer.from('Q'), 0, 1, at);
  } finally {
    await fh.close();
  }
  return dir;
}

describe.skipIf(!HAVE_ETCD)('a flipped byte in the name of an older revision of a key', () => {
  it('etcd serves a key nobody wrote beside the real one', async () => {
    const dir = await damagedCopy('served');
    const run = await tryStartEtcd(options(dir));
    expect(run.started, run.output.slice(-2000)).toBe(true);
    expect([run.keys!.get(BAD), run.keys!.get(GOOD)]).toEqual(['mode=first', 'mode=second']);
  });

  it('repair rebuilds the db: etcd serves exactly the keys written; the input is unchanged', async () => {
    const dir = await damagedCopy('repair');
    const before = await hashTree(dir);
    const out = path.join(root, 'repaired');
    const result = await repairEtcdCopy(dir, out);
    expect(await hashTree(dir)).toEqual(before);
    expect(
      result.actions.some((a) => a.text.includes('rebuilt')),
      JSON.stringify(result.actions),
    ).toBe(true);
    const run = await tryStartEtcd(options(out));
    expect(run.started, run.output.slice(-2000)).toBe(true);
    expect(run.keys).toEqual(served);
  });

  it('salvage leaves the damaged name out and says which key it was', async () => {
    const dir = await damagedCopy('salvage');
    const before = await hashTree(dir);
    const salvaged = await salvageToSnapshotDb(dir, path.join(root, 'salvaged.snapshot.db'));
    expect(await hashTree(dir)).toEqual(before);
    const finding = salvaged.findings.find((x) => x.code === 'salvage.damaged-key-name');
    expect(finding?.messageKey).toBe('finding.salvage.damaged-key-name.older.message');
    expect(finding?.params).toMatchObject({ bad: BAD, good: GOOD });
    expect(salvaged.lost).toEqual([]);
    const keys = new Map(salvaged.keys.map((k) => [k.key, k.source]));
    expect([keys.has(BAD), keys.get(GOOD)]).toEqual([false, 'tree']);
    expect([...keys.keys()].sort()).toEqual([...served.keys()].sort());
    // In passes by key hash (a key-state budget of a few keys) the same: the damaged name is held for the replay.
    const parted = await salvageToSnapshotDb(dir, path.join(root, 'salvaged-in-passes.snapshot.db'), { keyStateBudget: 2048 });
    const comparable = (r: typeof salvaged) => ({ ...r, elapsedMs: 0, bytesRead: 0, output: '' });
    expect(comparable(parted)).toEqual(comparable(salvaged));
    expect(
      Buffer.compare(await fs.readFile(path.join(root, 'salvaged-in-passes.snapshot.db')), await fs.readFile(path.join(root, 'salvaged.snapshot.db'))),
    ).toBe(0);
    // The same salvage of the healthy dir names no damaged key.
    const healthy = await salvageToSnapshotDb(golden, path.join(root, 'healthy.snapshot.db'));
    expect(healthy.findings.filter((x) => x.code === 'salvage.damaged-key-name')).toEqual([]);
  });

  it('the put of a key deleted since: etcd serves the damaged name; repair and salvage leave it out', async () => {
    const dir = await damagedCopy('deleted', GONE);
    const run = await tryStartEtcd(options(dir));
    expect(run.started, run.output.slice(-2000)).toBe(true);
    expect([run.keys!.get(GONE_BAD), run.keys!.has(GONE)]).toEqual(['soon deleted', false]);
    const out = path.join(root, 'deleted-repaired');
    await repairEtcdCopy(dir, out);
    const repaired = await tryStartEtcd(options(out));
    expect(repaired.started, repaired.output.slice(-2000)).toBe(true);
    expect(repaired.keys).toEqual(served);
    const salvaged = await salvageToSnapshotDb(dir, path.join(root, 'deleted.snapshot.db'));
    expect(salvaged.findings.find((x) => x.code === 'salvage.damaged-key-name')?.params).toMatchObject({ bad: GONE_BAD, good: GONE });
    expect(salvaged.keys.map((k) => k.key).sort()).toEqual([...served.keys()].sort());
  });
});
