/**
 * The remote tree picker ("Browse…" in the data directory panel): walking a
 * real node over SFTP, through MicroK8s's `current` symlink, down to the
 * backend directory, and what it shows for a directory it may not read.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshConnection } from '../../electron/services/ssh/connection';
import { listRemoteDir } from '../../electron/services/ssh/sftp-source';
import { childPath, normalizeRemoteDir, openRemoteDir, parentDir, treeRows } from '../../renderer/src/features/node/remote-tree';
import type { RemoteEntry } from '../../shared/contract/ssh';
import { makeTempDir, sshdAvailable, startSshd, type SshdInstance } from '../helpers/sshd';
import { connectByKey, keyClient } from '../helpers/ssh-node';

describe('remote tree paths', () => {
  it('normalises, climbs and descends like a shell would', () => {
    expect(normalizeRemoteDir('//var//lib/./etcd/../etcd/')).toBe('/var/lib/etcd');
    expect(normalizeRemoteDir('/..')).toBe('/');
    expect(parentDir('/var/lib')).toBe('/var');
    expect(parentDir('/var')).toBe('/');
    expect(parentDir('/')).toBeNull();
    expect(childPath('/', 'var')).toBe('/var');
    expect(childPath('/var/', 'lib')).toBe('/var/lib');
  });

  it('lists folders and links before files, and never offers a name with a slash', () => {
    const e = (name: string, kind: RemoteEntry['kind']): RemoteEntry => ({ name, kind, size: 1, mtimeMs: 0, mode: 0o644 });
    const rows = treeRows('/x', [e('b.txt', 'file'), e('zeta', 'dir'), e('current', 'symlink'), e('a/b', 'file'), e('metadata1', 'file')]);
    expect(rows.map((r) => [r.name, r.enterable])).toEqual([
      ['current', true],
      ['zeta', true],
      ['b.txt', false],
      ['metadata1', false],
    ]);
    expect(rows.find((r) => r.name === 'metadata1')?.datastore).toBe(true);
    expect(rows.find((r) => r.name === 'b.txt')?.datastore).toBe(false);
  });
});

describe.skipIf(!sshdAvailable())('remote tree picker on a real node (real sshd, SFTP)', () => {
  let sshd: SshdInstance;
  let dir: string;
  let conn: SshConnection;
  let list: (d: string) => Promise<RemoteEntry[]>;
  const segment = '0000000000000001-0000000000000010';

  beforeAll(async () => {
    [sshd, dir] = await Promise.all([startSshd(), makeTempDir('lifeboat-tree-')]);
    conn = await connectByKey(sshd, await keyClient(sshd, dir));
    // Like a MicroK8s node: snap/microk8s/current -> 7229, the backend below it.
    const backend = path.join(dir, 'snap/microk8s/7229/var/kubernetes/backend');
    await fs.mkdir(backend, { recursive: true, mode: 0o755 });
    await fs.chmod(path.join(dir, 'snap'), 0o755);
    await fs.chmod(path.join(dir, 'snap/microk8s'), 0o755);
    await fs.symlink('7229', path.join(dir, 'snap/microk8s/current'));
    await fs.writeFile(path.join(backend, segment), Buffer.alloc(8192));
    await fs.writeFile(path.join(backend, 'metadata1'), Buffer.alloc(32));
    await fs.writeFile(path.join(dir, 'notes.txt'), 'x');
    // Root-only, as /var/lib/etcd often is: the login user may not list it.
    await fs.mkdir(path.join(dir, 'root-only'), { mode: 0o700 });
    const sftp = await conn.sftp();
    list = (d) => listRemoteDir(sftp, d);
  });
  afterAll(async () => {
    conn?.close();
    await sshd?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('walks from the top through the `current` symlink down to the backend, whose files are marked', async () => {
    let view = await openRemoteDir(list, dir);
    expect(view.error).toBeNull();
    expect(view.dir).toBe(dir);
    const names = view.rows.map((r) => r.name);
    // Folders first: both come before the first file.
    expect(names.indexOf('root-only')).toBeLessThan(names.indexOf('notes.txt'));
    expect(names.indexOf('snap')).toBeLessThan(names.indexOf('notes.txt'));
    expect(view.rows.find((r) => r.name === 'notes.txt')?.enterable).toBe(false);
    for (const name of ['snap', 'microk8s', 'current', 'var', 'kubernetes', 'backend']) {
      const row = view.rows.find((r) => r.name === name);
      expect(row, `${name} in ${view.dir}`).toBeDefined();
      expect(row!.enterable).toBe(true);
      view = await openRemoteDir(list, row!.path);
      expect(view.error).toBeNull();
    }
    expect(view.dir).toBe(path.join(dir, 'snap/microk8s/current/var/kubernetes/backend'));
    expect(view.rows.map((r) => [r.name, r.size, r.datastore])).toEqual([
      [segment, 8192, true],
      ['metadata1', 32, true],
    ]);
    expect(view.parent).toBe(path.join(dir, 'snap/microk8s/current/var/kubernetes'));
  });

  it('a path that is missing or not readable opens its nearest listable parent and says why', async () => {
    const missing = await openRemoteDir(list, path.join(dir, 'snap/microk8s/current/var/kubernetes/backend/gone/deeper'));
    expect(missing.dir).toBe(path.join(dir, 'snap/microk8s/current/var/kubernetes/backend'));
    expect(missing.error).toMatch(/no such file/i);

    const locked = await openRemoteDir(list, path.join(dir, 'root-only'));
    expect(locked.dir).toBe(dir);
    expect(locked.error).toMatch(/permission denied/i);

    // A typed path that is not absolute starts at the top of the node.
    expect((await openRemoteDir(list, 'var/lib/etcd')).dir).toBe('/');
  });
});
