/**
 * The etcd WAL's first pass in a second worker thread (wal-scan-thread.ts, run
 * by the validation worker and so by the CLI and the app) gives the very same
 * report as the sequential pass: real etcd 3.4 data dirs, intact and damaged
 * in every WAL way of the damage table (tears, bit flips, missing files, no
 * WAL at all, WAL damage with the db missing), validated both ways from the built worker
 * bundle. Inputs are hashed before and after.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ValidationReport } from '../../shared/contract/report';
import { inspectEtcd } from '../../shared/formats/etcd/validate';
import { localDirectory } from '../../electron/services/fs-source';
import { walScanInThread } from '../../electron/services/wal-scan-thread';
import { ensureBuilt } from '../cli/fixtures';
import { copyDir, hashTree, requireEtcd, tempDir } from '../helpers/etcd';
import { buildEtcdGoldens, ETCD_DAMAGE_CASES, type EtcdGoldens } from '../helpers/etcd-damage';

const HAVE_ETCD = requireEtcd();
/** The WAL thread's own bundle (what the validation worker starts), and the validation worker bundle (its fallback). */
const WAL_WORKER = path.resolve(__dirname, '../../dist/wal-scan-worker.cjs');
const VALIDATION_WORKER = path.resolve(__dirname, '../../dist/validation-worker.cjs');

async function validate(dir: string, threaded: boolean, workerScript = WAL_WORKER): Promise<ValidationReport> {
  const root = localDirectory(dir);
  try {
    const opts = threaded ? { startWalScan: walScanInThread({ workerScript, rootPath: dir }) } : {};
    const r = (await inspectEtcd(root, opts))!.report;
    return { ...r, elapsedMs: 0 };
  } finally {
    await root.close();
  }
}

describe.skipIf(!HAVE_ETCD)('etcd validation with the WAL scanned in a second thread', () => {
  let work = '';
  let goldens: EtcdGoldens;

  beforeAll(async () => {
    await ensureBuilt();
    work = await tempDir('etcd-wal-thread');
    goldens = await buildEtcdGoldens(work, ['small', 'snaps', 'multiwal']);
  }, 300_000);

  afterAll(async () => {
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('gives the sequential report, value for value, on every damage case', async () => {
    const seen = new Set<string>();
    // The cases that touch the WAL or its absence, and one of each golden intact (copying the others costs minutes, tests nothing new).
    for (const c of ETCD_DAMAGE_CASES.filter((x) => /^(WAL|several|intact)/.test(x.name))) {
      const dir = path.join(work, `case-${seen.size}`);
      seen.add(c.name);
      await copyDir(goldens.goldens[c.golden]!.dir, dir);
      await c.damage(dir);
      const before = await hashTree(dir);
      const sequential = await validate(dir, false);
      const threaded = await validate(dir, true);
      expect(threaded, c.name).toEqual(sequential);
      expect(await hashTree(dir), c.name).toBe(before);
    }
    // Guard against a vacuous pass: the table holds WAL damage and a missing WAL.
    expect([...seen].filter((n) => n.startsWith('WAL:')).length).toBeGreaterThan(10);
  }, 600_000);

  it('the validation worker bundle answers the WAL thread request too (where wal-scan-worker.cjs is missing)', async () => {
    for (const name of ['small', 'multiwal'] as const) {
      const dir = goldens.goldens[name]!.dir;
      expect(await validate(dir, true, VALIDATION_WORKER), name).toEqual(await validate(dir, false));
    }
  }, 120_000);

  it('a failing WAL thread falls back to the scan in this thread (same report)', async () => {
    const dir = goldens.goldens.small!.dir;
    const sequential = await validate(dir, false);
    const root = localDirectory(dir);
    try {
      const broken = walScanInThread({ workerScript: path.join(work, 'no-such-worker.cjs'), rootPath: dir });
      const r = (await inspectEtcd(root, { startWalScan: broken }))!.report;
      expect({ ...r, elapsedMs: 0 }).toEqual(sequential);
      expect(r.etcd?.wal?.lastIndex).toBeGreaterThan(0);
    } finally {
      await root.close();
    }
  }, 120_000);
});
