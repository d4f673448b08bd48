/**
 * Every contract method that takes a path (shared/contract/path-rules.ts),
 * walked over the real web transport (WebSocket + token) against a real sshd:
 * server-side paths are confined (the server's own ~/.ssh config and keys,
 * the copies folder), refusals never repeat a server path, say whether it
 * exists or return its content, and the allowed paths still work.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireEvent } from '../../shared/contract/api';
import { PATH_RULES, type PathRule } from '../../shared/contract/path-rules';
import { SshService, type SshCallContext } from '../../electron/services/ssh/ssh-service';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { ensureBuilt, REPO } from '../cli/fixtures';
import { generateKey, makeTempDir, sshdAvailable, startSshd, type KeyPair, type SshdInstance } from '../helpers/sshd';
import { ApiClient, tryConnect } from './ws-client';

const ENV = [
  'LIFEBOAT_SSH_DIR',
  'LIFEBOAT_SSH_CONFIG',
  'LIFEBOAT_SSH_KNOWN_HOSTS',
  'LIFEBOAT_SSH_AUDIT_LOG',
  'LIFEBOAT_COPIES_DIR',
  'LIFEBOAT_RECORDINGS_DIR',
  'LIFEBOAT_HOME',
] as const;
const SECRET_TEXT = 'root:$6$not-a-real-hash:SECRET-CONTENT';

describe('the path-rule list covers the contract', () => {
  it('lists every contract method whose params can carry a path', async () => {
    const dir = path.join(REPO, 'shared', 'contract');
    const withPaths = new Set<string>();
    for (const name of await fs.readdir(dir)) {
      if (!name.endsWith('.ts') || name === 'path-rules.ts') continue;
      const text = await fs.readFile(path.join(dir, name), 'utf8');
      for (const m of text.matchAll(/'([a-z]+(?:\.[a-z]+)+)':\s*\{\s*(?:\/\*\*[\s\S]*?\*\/\s*)?params:\s*([\s\S]*?);\s*result:/g)) {
        // A path directly (path, remotePath, localDir, file) or inside a type that has one (SshTarget's key files, SourceRef, EtcdQuery).
        if (/\b(?:path|\w*Path|\w*Dir|file|identityFiles)\??:|SshTarget|SourceRef|EtcdQuery/.test(m[2])) withPaths.add(m[1]);
      }
    }
    expect(withPaths.size).toBeGreaterThan(5);
    expect([...new Set(PATH_RULES.map((r) => r.method))].sort()).toEqual([...withPaths].sort());
    for (const r of PATH_RULES) {
      expect(r.web.length, `${r.method} ${r.param}`).toBeGreaterThan(20);
      expect(r.electron.length, `${r.method} ${r.param}`).toBeGreaterThan(5);
    }
  });
});

describe("the Electron side of the same rules (the local user's own desktop)", () => {
  it('imports a config the user names and saves profiles with keys anywhere; web mode refuses both', async () => {
    const tmp = await makeTempDir('lifeboat-paths-electron-');
    try {
      const own = path.join(tmp, 'ssh');
      await fs.mkdir(own);
      const elsewhere = path.join(tmp, 'elsewhere.conf');
      await fs.writeFile(elsewhere, 'Host picked\n  HostName 127.0.0.1\n');
      const ssh = new SshService({
        paths: {
          keysDir: own,
          sshConfigPath: path.join(own, 'config'),
          knownHostsPath: path.join(tmp, 'kh'),
          auditLogPath: path.join(tmp, 'a'),
          recordingsDir: null,
          copiesRoot: path.join(tmp, 'c'),
        },
        sessions: { profilesPath: path.join(tmp, 'profiles.json'), secretsPath: path.join(tmp, 'secrets.json') },
      });
      const electron: SshCallContext = { transport: 'electron', emit: () => undefined };
      const web: SshCallContext = { transport: 'web', emit: () => undefined };
      expect(await ssh.handlers['ssh.config.import']({ path: elsewhere }, electron)).toEqual([expect.objectContaining({ alias: 'picked' })]);
      await expect(ssh.handlers['ssh.config.import']({ path: elsewhere }, web)).rejects.toMatchObject({ code: 'forbidden' });
      // Electron names the file in its error (it is the user's own machine); web mode never does.
      await expect(ssh.handlers['ssh.config.import']({ path: path.join(tmp, 'missing') }, electron)).rejects.toThrow(path.join(tmp, 'missing'));
      // No config of one's own is nothing to import, not an error (OpenSSH runs without one).
      expect(await ssh.handlers['ssh.config.import']({}, web)).toEqual([]);
      const target = { host: '127.0.0.1', port: 22, user: 'root', identityFiles: [path.join(tmp, 'elsewhere-key')] };
      expect((await ssh.handlers['ssh.profiles.save']({ label: 'desk', target }, electron)).target.identityFiles).toEqual(target.identityFiles);
      await expect(ssh.handlers['ssh.profiles.save']({ label: 'web', target }, web)).rejects.toMatchObject({ code: 'forbidden' });
      await ssh.shutdown();
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!sshdAvailable())('path rules over the web transport (real web server, real sshd)', () => {
  let tmp: string;
  let sshDir: string;
  let secretFile: string;
  let outsideKey: KeyPair;
  let insideKey: KeyPair;
  let remoteDir: string;
  let copies: string;
  let sshd: SshdInstance;
  let server: WebServer;
  let client: ApiClient;
  let connectionId = '';
  const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));

  /** A refusal: the expected code, and nothing about the server's files in the message. */
  async function refused(call: Promise<unknown>, code: string, mustNotContain: string[] = []): Promise<string> {
    const err = (await call.then(
      () => null,
      (e: unknown) => e,
    )) as (Error & { code?: string }) | null;
    expect(err, 'the call was refused').not.toBeNull();
    expect(err!.code).toBe(code);
    for (const s of [tmp, secretFile, SECRET_TEXT, 'SECRET-CONTENT', '/etc/shadow', 'ENOENT', 'EISDIR', 'EACCES', ...mustNotContain]) {
      expect(err!.message).not.toContain(s);
    }
    return err!.message;
  }

  function target(identityFiles?: string[], jumps?: unknown[]): Record<string, unknown> {
    return {
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      useAgent: false,
      autoReconnect: false,
      ...(identityFiles ? { identityFiles } : {}),
      ...(jumps ? { jumps } : {}),
    };
  }

  beforeAll(async () => {
    await ensureBuilt();
    tmp = await makeTempDir('lifeboat-paths-');
    sshDir = path.join(tmp, 'server-home', '.ssh');
    await fs.mkdir(sshDir, { recursive: true, mode: 0o700 });
    await fs.mkdir(path.join(tmp, 'outside'), { mode: 0o700 });
    secretFile = path.join(tmp, 'outside', 'shadow');
    await fs.writeFile(secretFile, `${SECRET_TEXT}\nHost leaked\n  HostName 10.0.0.1\n`, { mode: 0o600 });
    insideKey = await generateKey(sshDir, 'id_ed25519');
    outsideKey = await generateKey(path.join(tmp, 'outside'), 'id_outside');
    await fs.symlink(outsideKey.privatePath, path.join(sshDir, 'id_link'));
    await fs.writeFile(path.join(sshDir, 'config'), 'Host node-a\n  HostName 127.0.0.1\n  User root\n');
    copies = path.join(tmp, 'copies');
    remoteDir = path.join(tmp, 'node-data');
    await fs.mkdir(remoteDir, { mode: 0o755 });
    await fs.chmod(tmp, 0o755);
    await fs.writeFile(path.join(remoteDir, 'metadata1'), Buffer.alloc(16, 1), { mode: 0o644 });

    sshd = await startSshd();
    await sshd.authorize(insideKey.publicLine);
    await sshd.authorize(outsideKey.publicLine);
    process.env.LIFEBOAT_SSH_DIR = sshDir;
    delete process.env.LIFEBOAT_SSH_CONFIG;
    process.env.LIFEBOAT_SSH_KNOWN_HOSTS = path.join(tmp, 'known_hosts');
    process.env.LIFEBOAT_SSH_AUDIT_LOG = path.join(tmp, 'audit.jsonl');
    process.env.LIFEBOAT_COPIES_DIR = copies;
    process.env.LIFEBOAT_RECORDINGS_DIR = path.join(tmp, 'recordings');
    process.env.LIFEBOAT_HOME = path.join(tmp, 'lifeboat-home');
    await fs.writeFile(path.join(tmp, 'known_hosts'), sshd.knownHostsLine() + '\n');

    const rendererDir = path.join(tmp, 'renderer');
    await fs.mkdir(rendererDir);
    await fs.writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>Lifeboat</title>');
    server = await startWebServer({ port: 0, rendererDir, quiet: true, samplesDir: null });
    const r = await tryConnect(server.port, { token: server.token, origin: `http://127.0.0.1:${server.port}` });
    if (!('ws' in r)) throw new Error(`upgrade refused: ${r.status}`);
    client = new ApiClient(r.ws);
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await server?.close();
    await sshd?.stop();
    for (const k of ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  const isPrompt = (e: WireEvent): boolean => e.event === 'ssh.prompt';

  /** Each rule's walk; keyed `method param` so a rule added without a walk fails the test below. */
  const walks: Record<string, () => Promise<void>> = {
    'ssh.config.import path': async () => {
      // The server's own config (and only it) is imported, with or without naming it.
      expect(await client.call('ssh.config.import', {})).toEqual([expect.objectContaining({ alias: 'node-a' })]);
      expect(await client.call('ssh.config.import', { path: path.join(sshDir, 'config') })).toEqual([expect.objectContaining({ alias: 'node-a' })]);
      // An existing secret, a missing file, a directory and /etc/shadow: the same refusal, unopened.
      const messages = [
        await refused(client.call('ssh.config.import', { path: secretFile }), 'forbidden', ['leaked']),
        await refused(client.call('ssh.config.import', { path: path.join(tmp, 'outside', 'missing') }), 'forbidden'),
        await refused(client.call('ssh.config.import', { path: tmp }), 'forbidden'),
        await refused(client.call('ssh.config.import', { path: '/etc/shadow' }), 'forbidden'),
        await refused(client.call('ssh.config.import', { path: `${sshDir}/../../outside/shadow` }), 'forbidden'),
      ];
      expect(new Set(messages).size).toBe(1);
      // The server's own config missing: nothing to import (OpenSSH runs without one), never its path or an errno.
      await fs.rename(path.join(sshDir, 'config'), path.join(sshDir, 'config.away'));
      try {
        expect(await client.call('ssh.config.import', {})).toEqual([]);
      } finally {
        await fs.rename(path.join(sshDir, 'config.away'), path.join(sshDir, 'config'));
      }
    },

    'ssh.connect target.identityFiles[]': async () => {
      const outside = [
        secretFile,
        outsideKey.privatePath,
        path.join(tmp, 'outside', 'missing'),
        path.join(sshDir, 'id_link'),
        path.join(sshDir, '..', '..', 'outside', 'id_outside'),
        'id_ed25519',
      ];
      const messages: string[] = [];
      for (const f of outside) messages.push(await refused(client.call('ssh.connect', { target: target([f]) }), 'forbidden', [f]));
      expect(new Set(messages).size).toBe(1);
      // Refused before any connection was attempted: no prompt, no state event.
      expect(client.events.filter((e) => e.event === 'ssh.state' || isPrompt(e))).toEqual([]);
      // A key inside ~/.ssh works (the host is already known).
      const r = await client.call<{ connectionId: string }>('ssh.connect', { target: target([insideKey.privatePath]) });
      connectionId = r.connectionId;
      expect(client.events.filter(isPrompt)).toEqual([]);
    },

    'ssh.connect target.jumps[].identityFiles[]': async () => {
      const jump = { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [outsideKey.privatePath] };
      await refused(client.call('ssh.connect', { target: target([insideKey.privatePath], [jump]) }), 'forbidden', [outsideKey.privatePath]);
    },

    'ssh.profiles.save target.identityFiles[]': async () => {
      await refused(client.call('ssh.profiles.save', { label: 'bad', target: target([secretFile]) }), 'forbidden');
      const saved = await client.call<{ id: string; target: { identityFiles: string[] } }>('ssh.profiles.save', {
        label: 'good',
        target: target([insideKey.privatePath]),
      });
      expect(saved.target.identityFiles).toEqual([insideKey.privatePath]);
    },

    'ssh.profiles.save target.jumps[].identityFiles[]': async () => {
      const jump = { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: ['/etc/shadow'] };
      await refused(client.call('ssh.profiles.save', { label: 'bad jump', target: target(undefined, [jump]) }), 'forbidden');
      const labels = (await client.call<{ label: string }[]>('ssh.profiles.list', {})).map((p) => p.label);
      expect(labels).toEqual(['good']);
    },

    'ssh.copyout.start localDir': async () => {
      for (const localDir of [path.join(tmp, 'outside', 'copy'), '/etc/lifeboat', copies]) {
        await refused(client.call('ssh.copyout.start', { connectionId, remotePath: remoteDir, localDir }), 'forbidden', [localDir]);
      }
      await fs.mkdir(copies, { recursive: true });
      await fs.symlink(path.join(tmp, 'outside'), path.join(copies, 'link-out'));
      await refused(client.call('ssh.copyout.start', { connectionId, remotePath: remoteDir, localDir: path.join(copies, 'link-out', 'x') }), 'forbidden');
      const plan = await client.call<{ localDir: string }>('ssh.copyout.plan', { connectionId, remotePath: remoteDir });
      const { jobId } = await client.call<{ jobId: string }>('ssh.copyout.start', { connectionId, remotePath: remoteDir, localDir: plan.localDir });
      const end = await client.waitEvent(
        (e) => (e.event === 'ssh.copyout.done' || e.event === 'ssh.copyout.failed') && (e.payload as { jobId: string }).jobId === jobId,
      );
      expect(end.event).toBe('ssh.copyout.done');
      expect(await fs.readFile(path.join(plan.localDir, 'node-data', 'metadata1'))).toEqual(Buffer.alloc(16, 1));
    },

    'validation.start source.path (kind "local-path")': async () => {
      for (const p of [secretFile, remoteDir, '/etc']) {
        await refused(client.call('validation.start', { source: { kind: 'local-path', path: p } }), 'forbidden', [p]);
      }
    },

    'validation.start source.path (kind "remote")': async () => {
      await refused(client.call('validation.start', { source: { kind: 'remote', connectionId, path: 'relative/dir' } }), 'bad-params');
      const { jobId } = await client.call<{ jobId: string }>('validation.start', { source: { kind: 'remote', connectionId, path: remoteDir } });
      const end = await client.waitEvent(
        (e) => (e.event === 'validation.done' || e.event === 'validation.failed') && (e.payload as { jobId: string }).jobId === jobId,
      );
      expect(end.event).toBe('validation.done');
    },

    'ssh.list path': async () => {
      const entries = await client.call<{ name: string }[]>('ssh.list', { connectionId, path: remoteDir });
      expect(entries.map((e) => e.name)).toEqual(['metadata1']);
    },

    'ssh.copyout.plan remotePath': async () => {
      await refused(client.call('ssh.copyout.plan', { connectionId, remotePath: 'node-data' }), 'bad-params');
      expect(await client.call('ssh.copyout.plan', { connectionId, remotePath: `${remoteDir}//` })).toMatchObject({
        remotePath: remoteDir,
        copiesRoot: copies,
        confined: true,
      });
    },

    'ssh.copyout.start remotePath': async () => {
      const plan = await client.call<{ localDir: string }>('ssh.copyout.plan', { connectionId, remotePath: remoteDir });
      await refused(client.call('ssh.copyout.start', { connectionId, remotePath: 'node-data', localDir: plan.localDir }), 'bad-params');
      await refused(client.call('ssh.copyout.start', { connectionId, remotePath: '/', localDir: plan.localDir }), 'bad-params');
    },

    'validation.batches file': async () => {
      for (const file of ['/etc/shadow', '../outside/shadow', secretFile]) {
        await refused(client.call('validation.batches', { jobId: 'no-such-job', file }), 'bad-params', [file]);
      }
    },

    'etcd.repair.start outputPath': async () => {
      // Outside the copies folder, the folder itself, or out of it through a symlink: refused before the job is looked up.
      await fs.mkdir(copies, { recursive: true });
      await fs.symlink(path.join(tmp, 'outside'), path.join(copies, 'salvage-link-out'));
      const outside = [
        secretFile,
        path.join(tmp, 'outside', 'snapshot.db'),
        '/etc/lifeboat-snapshot.db',
        copies,
        path.join(copies, 'salvage-link-out', 'snapshot.db'),
        `${copies}/../outside/x.db`,
      ];
      const messages: string[] = [];
      for (const outputPath of outside) {
        messages.push(await refused(client.call('etcd.repair.start', { jobId: 'no-such-job', mode: 'snapshot', outputPath }), 'forbidden', [outputPath]));
      }
      expect(new Set(messages).size).toBeLessThanOrEqual(2);
      // Inside the copies folder the path passes, and the unknown job is what is refused.
      await refused(
        client.call('etcd.repair.start', { jobId: 'no-such-job', mode: 'snapshot', outputPath: path.join(copies, 's', 'snapshot.db') }),
        'unknown-job',
      );
      expect(await fs.readdir(path.join(tmp, 'outside'))).toEqual(['id_outside', 'id_outside.pub', 'shadow']);
    },

    'dqlite.rebuild.start outputPath': async () => {
      // The same confinement as etcd's salvage (one helper): refused before the job is looked up, never echoed.
      await fs.mkdir(copies, { recursive: true });
      await fs.symlink(path.join(tmp, 'outside'), path.join(copies, 'rebuild-link-out'));
      const outside = [
        secretFile,
        path.join(tmp, 'outside', 'rebuilt'),
        '/etc/lifeboat-rebuilt',
        copies,
        path.join(copies, 'rebuild-link-out', 'db'),
        `${copies}/../outside/r`,
      ];
      const messages: string[] = [];
      for (const outputPath of outside) {
        messages.push(await refused(client.call('dqlite.rebuild.start', { jobId: 'no-such-job', outputPath }), 'forbidden', [outputPath]));
      }
      expect(new Set(messages).size).toBeLessThanOrEqual(2);
      await refused(client.call('dqlite.rebuild.start', { jobId: 'no-such-job', outputPath: path.join(copies, 'r', 'databases') }), 'unknown-job');
      expect(await fs.readdir(path.join(tmp, 'outside'))).toEqual(['id_outside', 'id_outside.pub', 'shadow']);
    },

    'dqlite.rebuild.choose suggestedPath': async () => {
      await refused(client.call('dqlite.rebuild.choose', { suggestedPath: secretFile }), 'unsupported', [secretFile]);
    },

    'kine.export.start outputPath': async () => {
      // The same confinement as the rebuild and etcd's salvage (one helper): refused before the job is looked up, never echoed.
      await fs.mkdir(copies, { recursive: true });
      await fs.symlink(path.join(tmp, 'outside'), path.join(copies, 'kine-link-out'));
      const outside = [
        secretFile,
        path.join(tmp, 'outside', 'objects'),
        '/etc/lifeboat-objects',
        copies,
        path.join(copies, 'kine-link-out', 'o'),
        `${copies}/../outside/o`,
      ];
      const messages: string[] = [];
      for (const outputPath of outside) {
        messages.push(await refused(client.call('kine.export.start', { jobId: 'no-such-job', outputPath }), 'forbidden', [outputPath]));
      }
      expect(new Set(messages).size).toBeLessThanOrEqual(2);
      await refused(client.call('kine.export.start', { jobId: 'no-such-job', outputPath: path.join(copies, 'k', 'objects') }), 'unknown-job');
      expect(await fs.readdir(path.join(tmp, 'outside'))).toEqual(['id_outside', 'id_outside.pub', 'shadow']);
    },

    'kine.export.choose suggestedPath': async () => {
      await refused(client.call('kine.export.choose', { suggestedPath: secretFile }), 'unsupported', [secretFile]);
    },

    'guided.upload localPath': async () => {
      // A file outside the copies folder (or reached through a link out of it, or the folder itself) is refused before the
      // session is looked up, so a token holder cannot push the server's own files to a node.
      await fs.mkdir(copies, { recursive: true });
      await fs.symlink(secretFile, path.join(copies, 'upload-link-out.db'));
      await fs.writeFile(path.join(copies, 'salvaged.db'), 'snapshot bytes');
      const outside = [secretFile, path.join(copies, 'upload-link-out.db'), copies, `${copies}/../outside/shadow`, 'relative.db', '/etc/passwd'];
      const messages: string[] = [];
      for (const localPath of outside) {
        messages.push(await refused(client.call('guided.upload', { sessionId: 'no-such-session', stepId: 'upload', localPath }), 'forbidden', [localPath]));
      }
      expect(new Set(messages).size).toBe(1);
      // A file inside the copies folder passes the rule; the unknown session is what is refused.
      await refused(
        client.call('guided.upload', { sessionId: 'no-such-session', stepId: 'upload', localPath: path.join(copies, 'salvaged.db') }),
        'unknown-session',
      );
    },

    'etcd.repair.choose suggestedPath': async () => {
      await refused(client.call('etcd.repair.choose', { mode: 'snapshot', suggestedPath: secretFile }), 'unsupported', [secretFile]);
    },

    'etcd.query query.file': async () => {
      // Whatever the etcd handler answers for an unknown job, it never echoes the server path named.
      const err = (await client
        .call('etcd.query', { jobId: 'no-such-job', query: { kind: 'wal-records', file: secretFile, fromRecord: 0, limit: 10 } })
        .catch((e: unknown) => e)) as Error & { code?: string };
      expect(err).toBeInstanceOf(Error);
      expect(err.message).not.toContain(secretFile);
      expect(err.message).not.toContain(SECRET_TEXT);
    },
  };

  it('walks every listed rule, in order', async () => {
    const key = (r: PathRule): string => `${r.method} ${r.param}`;
    expect(Object.keys(walks).sort()).toEqual(PATH_RULES.map(key).sort());
    for (const rule of PATH_RULES) {
      try {
        await walks[key(rule)]();
      } catch (e) {
        (e as Error).message = `${key(rule)}: ${(e as Error).message}`;
        throw e;
      }
    }
    // Nothing was written or read where it should not be.
    expect(await fs.readFile(secretFile, 'utf8')).toContain(SECRET_TEXT);
    expect(await fs.readdir(path.join(tmp, 'outside'))).toEqual(['id_outside', 'id_outside.pub', 'shadow']);
  }, 120_000);
});
