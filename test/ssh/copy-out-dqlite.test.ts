/**
 * A real dqlite data directory (written by dqlite-demo, crashed with SIGKILL,
 * then one payload byte flipped in a closed segment) served by a real sshd:
 * copy-out lands byte-identical with matching node-side and local SHA-256,
 * and validating the copy (local files) and validating in place (SFTP byte
 * source, nothing copied) give the same findings as validating the original.
 * The served directory is hashed before and after: never modified.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshConnection } from '../../electron/services/ssh/connection';
import { copyOut } from '../../electron/services/ssh/copy-out';
import { sftpDirectory } from '../../electron/services/ssh/sftp-source';
import { validateDirectory } from '../../shared/validate';
import { requireDqliteDemo } from '../helpers/dqlite-demo';
import { goldenKilled } from '../helpers/dqlite-goldens';
import { contentHashes, startCopyOutNode, type CopyOutNode } from '../helpers/copy-out-node';
import { sshdAvailable } from '../helpers/sshd';
import { copyDamaged, validateLocally, verdictOf } from '../helpers/ssh-node';

const enabled = sshdAvailable() && requireDqliteDemo();

describe.skipIf(!enabled)('copy-out and in-place validation of a real dqlite data dir (real sshd)', () => {
  let node: CopyOutNode;
  let dir: string;
  let served: string;
  let conn: SshConnection;
  let servedBefore: Record<string, string>;
  let damagedSegment: string;

  beforeAll(async () => {
    const golden = await goldenKilled();
    node = await startCopyOutNode('lifeboat-copy-dqlite-');
    dir = node.dir;
    // The node's data dir, readable by the sshd test user.
    served = path.join(dir, 'node', 'k8s-dqlite');
    damagedSegment = await copyDamaged(golden.dataDir, served);
    for (const d of [dir, path.dirname(served), served]) await fs.chmod(d, 0o755);
    for (const n of await fs.readdir(served)) await fs.chmod(path.join(served, n), 0o644);
    servedBefore = await contentHashes(served);

    conn = await node.connect();
  }, 300_000);

  afterAll(async () => {
    conn?.close();
    await node?.stop();
  });

  it('copies it byte-identical, and the copy, the original and the remote files validate the same', async () => {
    const out = path.join(dir, 'out');
    const result = await copyOut({ conn, remotePath: served, localDir: out, settleMs: 1100 });
    expect(result.allMatch).toBe(true);
    expect(result.files.map((f) => f.path).sort()).toEqual(Object.keys(servedBefore).sort());
    for (const f of result.files) expect(f.remoteSha256).toBe(servedBefore[f.path]);
    const copy = path.join(out, 'k8s-dqlite');
    expect(await contentHashes(copy)).toEqual(servedBefore);
    // The manifest is sha256sum's format and names every file.
    const manifest = await fs.readFile(result.manifestPath, 'utf8');
    expect(manifest.trim().split('\n')).toHaveLength(result.files.length);
    expect(manifest).toContain(`${servedBefore[damagedSegment]}  ${damagedSegment}\n`);

    const sftp = await conn.sftp();
    const remote = sftpDirectory(sftp, served);
    try {
      const reference = await validateLocally(served);
      const fromCopy = await validateLocally(copy);
      const inPlace = await validateDirectory(remote);
      expect(reference.engine).toBe('dqlite');
      // The flipped byte is found, in the segment we damaged.
      expect(reference.findings.some((f) => f.severity === 'error' && f.file === damagedSegment)).toBe(true);
      expect(verdictOf(fromCopy)).toEqual(verdictOf(reference));
      expect(verdictOf(inPlace)).toEqual(verdictOf(reference));
    } finally {
      await remote.close();
    }

    // Evidence untouched on the node.
    expect(await contentHashes(served)).toEqual(servedBefore);
  }, 240_000);
});
