/**
 * The "Data directory" panel's command texts: what the user is shown before a
 * command runs must be what runs. `lookCommand` feeds the real `ls` on a real
 * sshd and `analyzeListing` must read its output into segments; paths with
 * spaces and quotes survive the quoting; bad paths are refused before
 * anything is sent.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshConnection } from '../../electron/services/ssh/connection';
import { analyzeListing } from '../../shared/formats/dqlite/listing';
import { DATA_DIR_PRESETS, checkRemotePath, formatDuration, lookCommand, quoteIfNeeded } from '../../renderer/src/features/node/commands';
import { makeTempDir, sshdAvailable, startSshd, type SshdInstance } from '../helpers/sshd';
import { connectByKey, keyClient } from '../helpers/ssh-node';

describe('data directory commands', () => {
  it('offers the usual data directories', () => {
    expect(DATA_DIR_PRESETS.map((p) => p.path)).toEqual([
      '/var/snap/microk8s/current/var/kubernetes/backend',
      '/var/lib/etcd/member',
      '/var/lib/etcd',
      '/var/lib/rancher/k3s/server/db/etcd',
      '/var/lib/rancher/rke2/server/db/etcd',
    ]);
    expect(lookCommand(DATA_DIR_PRESETS[0].path)).toBe('ls -l --time-style=full-iso -- /var/snap/microk8s/current/var/kubernetes/backend');
  });

  it('quotes only what needs quoting, and refuses relative or control-character paths', () => {
    expect(quoteIfNeeded('/var/lib/etcd')).toBe('/var/lib/etcd');
    expect(quoteIfNeeded("/data/it's here")).toBe(`'/data/it'\\''s here'`);
    expect(quoteIfNeeded('/x/$(reboot)')).toBe(`'/x/$(reboot)'`);
    expect(checkRemotePath('var/lib/etcd')).toBe('relative');
    expect(checkRemotePath('  ')).toBe('empty');
    expect(checkRemotePath('/a\nrm -rf /')).toBe('control');
    expect(checkRemotePath('/var/lib/etcd')).toBeNull();
  });

  it('formats an ETA', () => {
    expect(formatDuration(45)).toBe('45s');
    expect(formatDuration(125)).toBe('2m 05s');
    expect(formatDuration(3720)).toBe('1h 02m');
    expect(formatDuration(-3)).toBe('0s');
  });
});

describe.skipIf(!sshdAvailable())('Look on a real node (real sshd, real ls)', () => {
  let sshd: SshdInstance;
  let dir: string;
  let conn: SshConnection;

  beforeAll(async () => {
    [sshd, dir] = await Promise.all([startSshd(), makeTempDir('lifeboat-look-')]);
    conn = await connectByKey(sshd, await keyClient(sshd, dir));
  });
  afterAll(async () => {
    conn?.close();
    await sshd?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('the shown command lists an awkwardly named directory and its output becomes the segment map', async () => {
    const backend = path.join(dir, "it's a $(backend)");
    await fs.mkdir(backend, { mode: 0o755 });
    await fs.writeFile(path.join(backend, '0000000000000001-0000000000000010'), Buffer.alloc(4096));
    await fs.writeFile(path.join(backend, '0000000000000011-0000000000000020'), Buffer.alloc(8192));
    await fs.writeFile(path.join(backend, 'open-1'), Buffer.alloc(1024));
    await fs.writeFile(path.join(backend, 'metadata1'), Buffer.alloc(32));
    const shown = lookCommand(backend);
    const announced: string[] = [];
    const onCommand = (e: { text: string }) => announced.push(e.text);
    conn.on('command', onCommand);
    const r = await conn.exec(shown);
    conn.off('command', onCommand);
    expect(announced).toEqual([shown]);
    expect(r.code).toBe(0);
    const analysis = analyzeListing(r.stdout);
    expect(analysis.entries.map((e) => e.name).sort()).toEqual([
      '0000000000000001-0000000000000010',
      '0000000000000011-0000000000000020',
      'metadata1',
      'open-1',
    ]);
    expect(analysis.segments.map((s) => s.file)).toContain('0000000000000011-0000000000000020');
    expect(analysis.entries.find((e) => e.name === '0000000000000011-0000000000000020')?.size).toBe(8192);
  });
});
