/**
 * Field report 5's backups: a cron job writes `etcd-<date>/snapshot.db`, one
 * file per folder. Validation reads such a folder as the snapshot.db it holds;
 * salvage and repair must take the same folder too (they used to refuse it:
 * "not an etcd data dir: it has no member/ directory"). The snapshot.db here is
 * salvaged from the bundled healthy sample (a real etcd 3.4 data dir).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveEtcdPaths, salvageToSnapshotDb } from '../../electron/services/etcd-repair';
import { validateDirectory } from '../../shared/validate';
import { localDirectory } from '../../electron/services/fs-source';
import { REPO } from '../cli/fixtures';
import { hashTree, tempDir } from '../helpers/etcd';

const HEALTHY = path.join(REPO, 'resources', 'samples', 'etcd-healthy');
let tmp: string;
let backup: string;
let keys: number;

beforeAll(async () => {
  tmp = await tempDir('backup-folder');
  backup = path.join(tmp, 'kube_etcd', 'etcd-2026-11-30');
  await fs.mkdir(backup, { recursive: true });
  keys = (await salvageToSnapshotDb(HEALTHY, path.join(backup, 'snapshot.db'))).keysWritten;
});

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('a backup folder holding one snapshot.db', () => {
  it('is validated as that snapshot.db, and salvaged from as one (every key), the folder unchanged', async () => {
    const report = await validateDirectory(localDirectory(backup));
    expect(report.etcd?.layout.input).toBe('snapshot-db');
    expect(await resolveEtcdPaths(backup)).toMatchObject({ kind: 'snapshot-db', dbPath: path.join(backup, 'snapshot.db'), memberDir: null });
    const before = await hashTree(backup);
    await fs.mkdir(path.join(tmp, 'out'));
    const again = await salvageToSnapshotDb(backup, path.join(tmp, 'out', 'snapshot.db'));
    expect(again.keysWritten).toBe(keys);
    expect(keys).toBeGreaterThan(100);
    expect(await hashTree(backup)).toBe(before);
  });

  it('a folder with anything else beside it is still not a data dir', async () => {
    const mixed = path.join(tmp, 'mixed');
    await fs.mkdir(mixed, { recursive: true });
    await fs.copyFile(path.join(backup, 'snapshot.db'), path.join(mixed, 'snapshot.db'));
    await fs.writeFile(path.join(mixed, 'etcd-backup.sh'), '#!/bin/sh\n');
    await expect(resolveEtcdPaths(mixed)).rejects.toThrow('has no member/ directory');
  });
});
