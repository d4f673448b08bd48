/**
 * In-place validation over SFTP keeps at most a budget of handles open on the
 * node (the SFTP server holds a descriptor per handle, and a session's ulimit -n
 * is often 1024): a data directory with more files than that used to fail
 * halfway. Real sshd and sftp-server; the served files hashed before and after.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs, readdirSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshConnection } from '../../electron/services/ssh/connection';
import { OpenBudget } from '../../electron/services/open-budget';
import { MAX_OPEN_SFTP_FILES, sftpDirectory } from '../../electron/services/ssh/sftp-source';
import { validateDirectory } from '../../shared/validate';
import { requireDqliteDemo } from '../helpers/dqlite-demo';
import { goldenKilled } from '../helpers/dqlite-goldens';
import { contentHashes, startCopyOutNode, writeTree, type CopyOutNode } from '../helpers/copy-out-node';
import { sshdAvailable } from '../helpers/sshd';
import { copyDamaged, validateLocally, verdictOf } from '../helpers/ssh-node';

const enabled = sshdAvailable() && requireDqliteDemo();
const FILES = MAX_OPEN_SFTP_FILES * 3;

/** Descriptors the node's SFTP server (sshd's internal-sftp, in the login user's session process) holds under `dir`. */
function serverFilesOpenUnder(user: string, dir: string): number {
  let pids: string[];
  try {
    pids = execFileSync('pgrep', ['-u', user], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return 0;
  }
  let n = 0;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(`${dir}/`)) n++;
      } catch {
        // Closed meanwhile.
      }
    }
  }
  return n;
}

describe.skipIf(!enabled)('SFTP handles in place, at most a budget at once (real sshd)', () => {
  let node: CopyOutNode;
  let conn: SshConnection;
  let many: string;
  let backend: string;
  let before: { many: Record<string, string>; backend: Record<string, string> };

  beforeAll(async () => {
    node = await startCopyOutNode('lifeboat-sftp-budget-');
    many = path.join(node.dir, 'node', 'many');
    const files: Record<string, string> = {};
    for (let i = 0; i < FILES; i++) files[`f${String(i).padStart(4, '0')}`] = `file ${i} `.repeat(1 + (i % 5));
    await writeTree(many, files);
    backend = path.join(node.dir, 'node', 'backend');
    await copyDamaged((await goldenKilled()).dataDir, backend);
    for (const d of [node.dir, path.join(node.dir, 'node'), many, backend]) await fs.chmod(d, 0o755);
    for (const d of [many, backend]) for (const n of await fs.readdir(d)) await fs.chmod(path.join(d, n), 0o644);
    before = { many: await contentHashes(many), backend: await contentHashes(backend) };
    conn = await node.connect();
  }, 300_000);

  afterAll(async () => {
    conn?.close();
    if (node) {
      expect({ many: await contentHashes(many), backend: await contentHashes(backend) }).toEqual(before);
      await node.stop();
    }
  });

  it('reads three budgets of files, each right, with at most the budget open on the node, then closes them all', async () => {
    const dir = sftpDirectory(await conn.sftp(), many);
    try {
      const names = (await dir.list()).map((e) => e.name);
      expect(names).toHaveLength(FILES);
      let most = 0;
      const sources = [];
      for (const [i, name] of names.entries()) {
        const src = await dir.open(name);
        sources.push(src);
        expect(new TextDecoder().decode(await src.read(0, src.size))).toBe(`file ${i} `.repeat(1 + (i % 5)));
        if (i % 16 === 15) most = Math.max(most, serverFilesOpenUnder(node.sshd.user, many));
      }
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(MAX_OPEN_SFTP_FILES + 1);
      // The first ones were closed for the budget: read again, they open again.
      expect(new TextDecoder().decode(await sources[0]!.read(0, 6))).toBe('file 0');
    } finally {
      await dir.close();
    }
    // sftp-server closes a handle when asked: give it a moment to answer.
    for (let i = 0; i < 50 && serverFilesOpenUnder(node.sshd.user, many) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(serverFilesOpenUnder(node.sshd.user, many)).toBe(0);
  });

  it('a file changed on the node while its handle was closed is an error, never other bytes', async () => {
    const dir = sftpDirectory(await conn.sftp(), many, new OpenBudget(2));
    const victim = path.join(many, 'f0001');
    const kept = await fs.readFile(victim);
    try {
      const first = await dir.open('f0001');
      expect(new TextDecoder().decode(await first.read(0, 6))).toBe('file 1');
      await (await dir.open('f0002')).read(0, 1);
      await (await dir.open('f0003')).read(0, 1);
      await fs.writeFile(victim, 'other bytes, other size');
      await expect(first.read(0, 6)).rejects.toThrow(/f0001 changed on the node while it was being read/);
    } finally {
      await dir.close();
      await fs.writeFile(victim, kept);
      await fs.utimes(victim, new Date(), new Date());
    }
  });

  it('a real dqlite backend validated in place with a budget of 4 handles reads as it does locally', async () => {
    const remote = sftpDirectory(await conn.sftp(), backend, new OpenBudget(4));
    try {
      const files = (await remote.list()).length;
      expect(files).toBeGreaterThan(8);
      expect(verdictOf(await validateDirectory(remote))).toEqual(verdictOf(await validateLocally(backend)));
    } finally {
      await remote.close();
    }
  });
});
