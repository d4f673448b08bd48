/**
 * The WAL scan reads a local file's windows into one reused buffer
 * (readWalFile's `reuseWindow`). On a real etcd 3.4 WAL holding more than a
 * few 4 MiB windows of records (so records straddle windows and every window
 * overwrites the last), the scan must equal the scan of the same bytes read
 * without reuse (an in-memory copy of the directory), and leave the files as
 * they were.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localDirectory } from '../../electron/services/fs-source';
import { memoryDirectory } from '../../shared/bytes/byte-source';
import { scanWal } from '../../shared/formats/etcd/wal';
import { hashTree, requireEtcd, spawnEtcd, tempDir, waitHealthy, writeKeys } from '../helpers/etcd';

const haveEtcd = requireEtcd();
let root = '';

afterAll(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
});

describe.skipIf(!haveEtcd)('the WAL scan with a reused read window', () => {
  it('a real WAL with ~14 MB of records: the same scan as reads without reuse', async () => {
    root = await tempDir('wal-reuse');
    const dir = path.join(root, 'data');
    const node = await spawnEtcd({ dataDir: dir });
    try {
      if (!(await waitHealthy(node, 20_000))) throw new Error(node.output());
      await writeKeys(node, 1400, 0, 10_000);
    } finally {
      await node.stop();
    }
    const walDir = path.join(dir, 'member/wal');
    const files: Record<string, Uint8Array> = {};
    for (const name of await fs.readdir(walDir)) files[name] = new Uint8Array(await fs.readFile(path.join(walDir, name)));
    const before = await hashTree(dir);
    const local = localDirectory(walDir);
    let reused;
    try {
      reused = await scanWal(local, 'member/wal');
    } finally {
      await local.close();
    }
    expect(await hashTree(dir)).toBe(before);
    const plain = await scanWal(memoryDirectory('wal', files), 'member/wal');
    // More than three windows of records in the file that holds them.
    expect(Math.max(...reused.info.files.map((f) => f.validBytes))).toBeGreaterThan(3 * 4 * 1024 * 1024);
    expect(reused.readError).toBeNull();
    expect(reused.info.lastIndex).toBeGreaterThanOrEqual(1400);
    expect(reused.info).toEqual(plain.info);
    expect(reused.findings).toEqual(plain.findings);
    expect(reused.bytesRead).toBe(plain.bytesRead);
  }, 240_000);
});
