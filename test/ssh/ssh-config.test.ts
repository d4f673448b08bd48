/**
 * ~/.ssh/config import, checked against OpenSSH's own resolution (`ssh -G`).
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importSshConfig, parseJumpSpec } from '../../electron/services/ssh/ssh-config';
import { makeTempDir, toolAvailable } from '../helpers/sshd';

const run = promisify(execFile);

describe.skipIf(!toolAvailable('/usr/bin/ssh'))('ssh config import', () => {
  let dir: string;
  let cfg: string;
  const env = { home: '', localUser: 'operator' };

  beforeAll(async () => {
    dir = await makeTempDir('lifeboat-cfg-');
    env.home = dir;
    await fs.mkdir(path.join(dir, '.ssh', 'config.d'), { recursive: true });
    cfg = path.join(dir, '.ssh', 'config');
    await fs.writeFile(
      path.join(dir, '.ssh', 'config.d', '10-cluster.conf'),
      ['Host node1 node2', '  ProxyJump hop2', 'Host node1', '  HostName 10.20.0.11', 'Host node2', '  HostName 10.20.0.12', '  Port 2202'].join('\n'),
    );
    await fs.writeFile(
      cfg,
      [
        '# lab',
        `Include ${path.join(dir, '.ssh', 'config.d', '*.conf')}`,
        'Host bastion',
        '  HostName bastion.example.org',
        '  User jump',
        '  Port 2222',
        `  IdentityFile ${path.join(dir, 'id_bastion')}`,
        'Host hop2',
        '  HostName 192.168.50.2',
        '  ProxyJump bastion',
        'Host direct',
        '  HostName 10.20.0.99',
        '  ProxyJump jump@bastion:2222,admin@[fd00::5]:2201',
        '  ProxyCommand nc %h %p',
        'Host *',
        '  User ops',
        `  IdentityFile ${path.join(dir, 'id_all')}`,
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function sshG(alias: string): Promise<Record<string, string[]>> {
    const { stdout } = await run('ssh', ['-G', '-F', cfg, alias]);
    const out: Record<string, string[]> = {};
    for (const line of stdout.split('\n')) {
      const i = line.indexOf(' ');
      if (i > 0) (out[line.slice(0, i)] ??= []).push(line.slice(i + 1));
    }
    return out;
  }

  it('resolves aliases like ssh -G (HostName, User, Port, IdentityFile, ProxyJump, Include)', async () => {
    const { hosts, problems } = await importSshConfig(cfg, env);
    expect(problems).toEqual([]);
    expect(hosts.map((h) => h.alias)).toEqual(['node1', 'node2', 'bastion', 'hop2', 'direct']);
    for (const h of hosts) {
      const g = await sshG(h.alias);
      expect(h.target.host, h.alias).toBe(g.hostname[0]);
      expect(h.target.user, h.alias).toBe(g.user[0]);
      expect(String(h.target.port), h.alias).toBe(g.port[0]);
      expect(h.target.identityFiles, h.alias).toEqual(g.identityfile);
    }
  });

  it('flattens ProxyJump chains, resolving each hop through the config', async () => {
    const { hosts } = await importSshConfig(cfg, env);
    const node2 = hosts.find((h) => h.alias === 'node2')!;
    expect(node2.target).toMatchObject({ host: '10.20.0.12', port: 2202, user: 'ops' });
    // node2 -> hop2 -> bastion: the hop's own ProxyJump comes first.
    expect(node2.target.jumps?.map((j) => `${j.user}@${j.host}:${j.port}`)).toEqual(['jump@bastion.example.org:2222', 'ops@192.168.50.2:22']);
    expect(node2.target.jumps?.[0].identityFiles).toEqual([path.join(dir, 'id_bastion'), path.join(dir, 'id_all')]);

    const direct = hosts.find((h) => h.alias === 'direct')!;
    expect(direct.target.jumps?.map((j) => `${j.user}@${j.host}:${j.port}`)).toEqual(['jump@bastion.example.org:2222', 'admin@fd00::5:2201']);
    expect(direct.ignored).toContain('ProxyCommand');
    expect((await sshG('direct')).proxyjump[0]).toBe('jump@bastion:2222,admin@[fd00::5]:2201');
  });

  it('parses jump specs and rejects bad ports', () => {
    expect(parseJumpSpec('a')).toEqual({ host: 'a', user: undefined, port: undefined });
    expect(parseJumpSpec('u@h:2200')).toEqual({ user: 'u', host: 'h', port: 2200 });
    expect(parseJumpSpec('[::1]:22')).toEqual({ user: undefined, host: '::1', port: 22 });
    expect(() => parseJumpSpec('h:99999')).toThrow(/bad ProxyJump/);
  });

  it('follows relative Include from ~/.ssh and ignores missing files', async () => {
    const home = await makeTempDir('lifeboat-cfg2-');
    try {
      await fs.mkdir(path.join(home, '.ssh', 'inc'), { recursive: true });
      await fs.writeFile(path.join(home, '.ssh', 'inc', 'a'), 'Host viaRelative\n  HostName 1.2.3.4\n');
      await fs.writeFile(path.join(home, '.ssh', 'config'), 'Include inc/*\nInclude does-not-exist\n');
      const { hosts } = await importSshConfig(undefined, { home, localUser: 'me' });
      expect(hosts).toEqual([{ alias: 'viaRelative', target: expect.objectContaining({ host: '1.2.3.4', user: 'me', port: 22 }) as unknown, ignored: [] }]);
    } finally {
      await fs.rm(home, { recursive: true, force: true });
    }
  });

  it('no ~/.ssh/config is no error: nothing to import; a typed "~/.ssh/config" means the home directory', async () => {
    const home = await makeTempDir('lifeboat-cfg3-');
    try {
      await expect(importSshConfig(undefined, { home, localUser: 'me' })).resolves.toEqual({ hosts: [], problems: [] });
      await expect(importSshConfig('~/.ssh/config', { home, localUser: 'me' })).resolves.toEqual({ hosts: [], problems: [] });
      await fs.mkdir(path.join(home, '.ssh'));
      await fs.writeFile(path.join(home, '.ssh', 'config'), 'Host tilde\n  HostName 5.6.7.8\n');
      const { hosts } = await importSshConfig('~/.ssh/config', { home, localUser: 'me' });
      expect(hosts.map((h) => [h.alias, h.target.host])).toEqual([['tilde', '5.6.7.8']]);
      // A config that exists but cannot be read says what to check, not EACCES.
      if (process.getuid?.() !== 0) {
        await fs.chmod(path.join(home, '.ssh', 'config'), 0);
        await expect(importSshConfig(undefined, { home, localUser: 'me' })).rejects.toThrow(/cannot be read \(permission denied\): check its owner and mode/);
      }
      await expect(importSshConfig(path.join(home, '.ssh'), { home, localUser: 'me' })).rejects.toThrow(
        `${path.join(home, '.ssh')} is a directory, not an ssh config file.`,
      );
    } finally {
      await fs.rm(home, { recursive: true, force: true });
    }
  });
});
