/**
 * A zeroed run over whole WAL records (a lost sector, a zeroed block), found by the random-damage campaigns: the
 * length word where the next record should be reads zero, and etcd's decoder takes that for the end of the log. etcd
 * starts on what came before and silently drops every later write the db does not hold. Salvage and repair read on
 * from the next frame that is etcd's (its CRC chains into the record after it), so the writes after the run come
 * back, and only the records inside it are lost (nothing here: the db holds them).
 *
 * The member commits its db once, half way (`etcdctl defrag` commits bbolt's batch; the batch interval is an hour),
 * and is killed after the second half: the db holds the first half, the WAL both.
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterIdOf, repairEtcdCopy, salvageToSnapshotDb } from '../../electron/services/etcd-repair';
import { scanWal } from '../../shared/formats/etcd/wal';
import { localDirectory } from '../../electron/services/fs-source';
import { validateDirectory } from '../../shared/validate';
import { verdictOf } from '../../renderer/src/features/validation/verdict';
import {
  ETCDCTL,
  copyDir,
  hashTree,
  requireEtcd,
  spawnEtcd,
  tempDir,
  testKey,
  testValue,
  tryStartEtcd,
  waitHealthy,
  writeAfterStart,
  writeKeys,
  type EtcdOptions,
} from '../helpers/etcd';
import { walFiles, walFrames, zeroRange } from '../helpers/etcd-damage';
import { restoreAndRead } from '../helpers/etcd-restore';

const HAVE_ETCD = requireEtcd();
const KEYS = 60;

describe.skipIf(!HAVE_ETCD)('a zeroed run over whole WAL records, under a db that holds them', () => {
  let root: string;
  let golden: string;
  let startOptions: (dir: string) => EtcdOptions;
  /** What the member served before it was killed: every key at its second value. */
  let served: Map<string, string>;
  /** The run zeroed: from the length word of one entry record to the start of the record two entries later. */
  let run: { from: number; to: number; afterIndex: number };

  beforeAll(async () => {
    root = await tempDir('wal-gap');
    golden = path.join(root, 'golden');
    const node = await spawnEtcd({ dataDir: golden, extraArgs: ['--backend-batch-interval=1h', '--backend-batch-limit=100000000'] });
    if (!(await waitHealthy(node, 20_000))) throw new Error(`etcd did not start:\n${node.output()}`);
    try {
      await writeKeys(node, KEYS, 0, 64, 1);
      const defrag = spawnSync(ETCDCTL, ['--endpoints', node.endpoint.clientUrl, 'defrag'], { encoding: 'utf8' });
      expect(defrag.status, defrag.stderr).toBe(0);
      await writeKeys(node, KEYS, 1, 64, 1);
      served = await node.range('');
    } finally {
      await node.kill();
    }
    const ep = node.endpoint;
    startOptions = (dir) => ({ dataDir: dir, name: ep.name, host: ep.host, clientPort: ep.clientPort, peerPort: ep.peerPort });
    expect(served.get(testKey(KEYS - 1))).toBe(testValue(KEYS - 1, 1, 64));
    const [wal] = await walFiles(golden);
    const entries = (await walFrames(wal!)).filter((f) => f.type === 2 && f.payloadLength > 0);
    // Two puts of the first half (the db holds them), well before the defrag.
    const at = Math.floor(entries.length / 6);
    run = { from: entries[at]!.offset, to: entries[at + 2]!.offset, afterIndex: entries[at - 1]!.index! };
  }, 120_000);

  afterAll(async () => {
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  const damaged = async (name: string): Promise<string> => {
    const dir = path.join(root, name);
    await copyDir(golden, dir);
    const [wal] = await walFiles(dir);
    await zeroRange(wal!, run.from, run.to - run.from);
    return dir;
  };

  it('etcd ends its log at the zeroed run, serves the older values and drops a new write; validation says both', async () => {
    const dir = await damaged('as-is');
    const started = await tryStartEtcd(startOptions(dir), 30_000);
    expect(started.started, started.output.slice(-2000)).toBe(true);
    // The db's half: the last keys at their first value.
    expect(started.keys!.get(testKey(KEYS - 1))).toBe(testValue(KEYS - 1, 0, 64));
    const copy = await damaged('validated');
    const report = await validateDirectory(localDirectory(copy));
    expect([report.startable, report.dataLoss]).toEqual([true, true]);
    // The db is ahead of the log etcd reads: it applies no write until its raft index passes the db's.
    const ahead = report.findings.find((f) => f.code === 'cross.db-ahead-of-wal');
    expect(ahead?.params).toMatchObject({ last: run.afterIndex });
    // The banner does not say "keeps every entry" of a member that drops the next writes.
    expect(verdictOf(report)).toMatchObject({ kind: 'starts-with-loss', tone: 'bad' });
    const write = await writeAfterStart(startOptions(dir), '/registry/after-start', 'new');
    expect([write.written, write.error === null]).toEqual([false, false]);
  });

  it('salvage reads on past the run: every key at its newest value, nothing lost, the run named', async () => {
    const dir = await damaged('salvage-input');
    const before = await hashTree(dir);
    const out = path.join(root, 'salvaged.db');
    const report = await salvageToSnapshotDb(dir, out);
    expect(await hashTree(dir)).toBe(before);
    expect(report.lost).toEqual([]);
    const skipped = report.findings.filter((f) => f.code === 'salvage.wal-skipped');
    expect(skipped.map((f) => [f.messageKey, f.offset, f.params?.resume, f.params?.after])).toEqual([
      ['finding.salvage.wal-skipped.zero-word.message', run.from, run.to, run.afterIndex],
    ]);
    const restored = await restoreAndRead(out, path.join(root, 'restore'));
    expect(restored.started, restored.etcdOutput.slice(-2000)).toBe(true);
    expect(new Map([...restored.keys!].map(([k, v]) => [k, Buffer.from(v).toString('utf8')]))).toEqual(served);
  });

  it('repair writes a fresh WAL and a db with every key at its newest value; etcd serves them and takes new writes', async () => {
    const dir = await damaged('repair-input');
    const before = await hashTree(dir);
    const out = path.join(root, 'repaired');
    const result = await repairEtcdCopy(dir, out);
    expect(await hashTree(dir)).toBe(before);
    expect([result.dbStrategy, result.walStrategy, result.lost]).toEqual(['rebuild', 'rebuilt', []]);
    expect(result.actions.find((a) => a.kind === 'rebuild-wal')?.textLocal?.key).toBe('etcd-repair.action.rebuild-wal-early');
    const started = await tryStartEtcd(startOptions(out), 30_000);
    expect(started.started, started.output.slice(-2000)).toBe(true);
    expect(started.keys).toEqual(served);
    // A db ahead of its WAL would serve the keys above and time out on this write (kept as it was, it did).
    const write = await writeAfterStart(startOptions(out), '/registry/after-repair', 'new');
    expect([write.written, write.error], write.output.slice(-2000)).toEqual([true, null]);
  });

  it("derives a single member's cluster ID as etcd does (for a WAL written where none is left)", async () => {
    const scan = await scanWal(localDirectory(path.join(golden, 'member', 'wal')), 'member/wal');
    expect(scan.info.nodeId).toMatch(/^[0-9a-f]+$/);
    expect(clusterIdOf([scan.info.nodeId!])).toBe(scan.info.clusterId);
  });
});
