/**
 * Saved connection profiles (`$LIFEBOAT_HOME/profiles.json`): only
 * whitelisted, checked fields, owner-only, never a secret. Against a real
 * sshd that wants a key (with a passphrase) AND a password, and real sudo:
 * every prompt is answered with "Remember" ticked, then the profile is saved
 * again and the file grepped for the passphrase and the passwords. The
 * remembered secrets (Electron, a stand-in keychain) let the next connect
 * and sudo run without asking; a wrong remembered one is forgotten and asked
 * for again; web mode never offers "Remember".
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretStore } from '../../electron/services/secret-store';
import { ProfileStore } from '../../electron/services/ssh/profiles';
import { SshService, type SshCallContext } from '../../electron/services/ssh/ssh-service';
import type { SshEvents, SshPrompt, SshTarget } from '../../shared/contract/ssh';
import { generateKey, makeTempDir, sshdAvailable, startSshd, toolAvailable, TEST_USER, type SshdInstance } from '../helpers/sshd';
import { memoryKeychain } from '../helpers/keychain';

const run = promisify(execFile);
const PASSPHRASE = 'profile-test-passphrase-7391';
const SUDOERS = `/etc/sudoers.d/lifeboat-profiles-${process.pid}`;

function leaks(text: string, secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')].filter((f) => text.includes(f));
}

describe('ProfileStore', () => {
  let home: string;
  const savedHome = process.env.LIFEBOAT_HOME;
  beforeAll(async () => {
    home = await makeTempDir('lifeboat-profiles-');
    process.env.LIFEBOAT_HOME = path.join(home, 'lb');
  });
  afterAll(async () => {
    if (savedHome === undefined) delete process.env.LIFEBOAT_HOME;
    else process.env.LIFEBOAT_HOME = savedHome;
    await fs.rm(home, { recursive: true, force: true });
  });

  it('saves under LIFEBOAT_HOME, owner-only, keeping only the fields a profile may hold', async () => {
    const store = new ProfileStore();
    expect(store.file).toBe(path.join(home, 'lb', 'profiles.json'));
    expect(await store.list()).toEqual([]);
    const target = {
      host: 'cp1.example',
      port: 2222,
      user: 'ops',
      identityFiles: ['~/.ssh/id_ed25519'],
      jumps: [{ host: 'bastion', port: 22, user: 'jump', password: 'jump-secret' }],
      useAgent: false,
      autoReconnect: false,
      password: 'hunter2-password',
      passphrase: 'key-passphrase',
      privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----',
    } as unknown as SshTarget;
    const p = await store.save({ label: 'control plane 1', target });
    expect(p.target).toEqual({
      host: 'cp1.example',
      port: 2222,
      user: 'ops',
      identityFiles: ['~/.ssh/id_ed25519'],
      jumps: [{ host: 'bastion', port: 22, user: 'jump' }],
      useAgent: false,
      autoReconnect: false,
    });
    const text = await fs.readFile(store.file, 'utf8');
    for (const s of ['hunter2-password', 'key-passphrase', 'jump-secret', 'PRIVATE KEY']) expect(text).not.toContain(s);
    expect((await fs.stat(store.file)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.dirname(store.file))).mode & 0o777).toBe(0o700);

    // Update in place, add a second, delete the first.
    const p2 = await store.save({ id: p.id, label: 'cp1 (renamed)', target: { ...p.target, port: 22 } });
    expect(p2.id).toBe(p.id);
    const other = await store.save({ label: '', target: { host: 'cp2', port: 22, user: 'ops' } });
    expect(other.label).toBe('ops@cp2');
    expect((await store.list()).map((x) => [x.label, x.target.port])).toEqual([
      ['cp1 (renamed)', 22],
      ['ops@cp2', 22],
    ]);
    expect(await store.delete(p.id)).toBe(true);
    expect(await store.delete(p.id)).toBe(false);
    expect((await store.list()).map((x) => x.id)).toEqual([other.id]);
  });

  it('refuses unusable fields with a clear message', async () => {
    const store = new ProfileStore();
    await expect(store.save({ label: 'x', target: { host: '', port: 22, user: 'u' } })).rejects.toThrow(/host is required/);
    await expect(store.save({ label: 'x', target: { host: 'h', port: 70000, user: 'u' } })).rejects.toThrow(/port must be a number/);
    await expect(store.save({ label: 'x', target: { host: 'h\nevil', port: 22, user: 'u' } })).rejects.toThrow(/cannot have/);
    await expect(store.save({ label: 'x', target: { host: 'h', port: 22, user: 'u', identityFiles: 'id' } })).rejects.toThrow(/identityFiles/);
    await expect(store.save({ id: '../../etc', label: 'x', target: { host: 'h', port: 22, user: 'u' } })).rejects.toThrow(/profile id/);
  });

  it('does not overwrite a profiles file it cannot read', async () => {
    const file = path.join(home, 'broken', 'profiles.json');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, '{ "profiles": [ oops');
    const store = new ProfileStore(file);
    await expect(store.list()).rejects.toThrow(/not valid JSON/);
    await expect(store.save({ label: 'x', target: { host: 'h', port: 22, user: 'u' } })).rejects.toThrow(/not valid JSON/);
    expect(await fs.readFile(file, 'utf8')).toBe('{ "profiles": [ oops');
  });
});

const enabled = sshdAvailable() && toolAvailable('/usr/bin/sudo') && toolAvailable('/usr/sbin/visudo');

describe.skipIf(!enabled)('profiles and remembered secrets against a real sshd and sudo', () => {
  let ssh: SshService;
  let sshd: SshdInstance;
  let dir: string;
  let keyPath: string;
  const savedHome = process.env.LIFEBOAT_HOME;
  const kc = memoryKeychain();

  beforeAll(async () => {
    sshd = await startSshd({ authenticationMethods: 'publickey,password' });
    dir = await makeTempDir('lifeboat-profiles-ssh-');
    const key = await generateKey(dir, 'id_pp', { passphrase: PASSPHRASE });
    keyPath = key.privatePath;
    await sshd.authorize(key.publicLine);
    const knownHosts = path.join(dir, 'known_hosts');
    await fs.writeFile(knownHosts, sshd.knownHostsLine() + '\n');
    const staged = `${SUDOERS}.staged`;
    await fs.writeFile(staged, `${TEST_USER} ALL=(root) ALL\n`, { mode: 0o440 });
    await run('/usr/sbin/visudo', ['-c', '-q', '-f', staged]);
    await fs.rename(staged, SUDOERS);
    process.env.LIFEBOAT_HOME = path.join(dir, 'home');
    ssh = new SshService({
      paths: {
        keysDir: dir,
        knownHostsPath: knownHosts,
        auditLogPath: path.join(dir, 'audit.jsonl'),
        recordingsDir: null,
        copiesRoot: path.join(dir, 'copies'),
      },
      safeStorage: kc,
    });
  });
  afterAll(async () => {
    await ssh?.shutdown();
    await fs.rm(SUDOERS, { force: true });
    await sshd?.stop();
    if (savedHome === undefined) delete process.env.LIFEBOAT_HOME;
    else process.env.LIFEBOAT_HOME = savedHome;
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  /** A client that answers every prompt from `answers` (null: cancel) and records what it was asked. */
  function client(transport: 'electron' | 'web', answers: Partial<Record<SshPrompt['kind'], string | null>>, remember: boolean) {
    const asked: SshPrompt[] = [];
    const ctx: SshCallContext = {
      transport,
      emit(event, payload) {
        if (event !== 'ssh.prompt') return;
        const p = payload as SshEvents['ssh.prompt'];
        asked.push(p);
        const a = answers[p.kind];
        void ssh.handlers['ssh.prompt.answer']({ promptId: p.promptId, answers: a === undefined || a === null ? null : [a], remember }, ctx);
      },
    };
    return { ctx, asked };
  }

  it('never writes a secret into profiles.json; remembered secrets let the next connect and sudo run without asking', async () => {
    const target: SshTarget = { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [keyPath], useAgent: false };
    const first = client('electron', { passphrase: PASSPHRASE, password: sshd.password, sudo: sshd.password }, true);
    const profile = await ssh.handlers['ssh.profiles.save']({ label: 'test node', target }, first.ctx);

    const { connectionId } = await ssh.handlers['ssh.connect']({ target, profileId: profile.id }, first.ctx);
    const r = await ssh.handlers['ssh.exec']({ connectionId, command: 'id -u', sudo: true }, first.ctx);
    expect(r.stdout.trim()).toBe('0');
    expect(first.asked.map((p) => p.kind)).toEqual(['passphrase', 'password', 'sudo']);
    for (const p of first.asked) expect(p.remember).toEqual({ offered: true });

    // Saved again after every prompt was answered (with junk fields a careless caller might add).
    await ssh.handlers['ssh.profiles.save'](
      { id: profile.id, label: 'test node', target: { ...target, password: sshd.password, passphrase: PASSPHRASE } as SshTarget },
      first.ctx,
    );
    const profilesFile = path.join(dir, 'home', 'profiles.json');
    const profilesText = await fs.readFile(profilesFile, 'utf8');
    expect(leaks(profilesText, PASSPHRASE)).toEqual([]);
    expect(leaks(profilesText, sshd.password)).toEqual([]);
    expect(profilesText).toContain(keyPath);
    expect((await fs.stat(profilesFile)).mode & 0o777).toBe(0o600);

    const secretsFile = path.join(dir, 'home', 'secrets.json');
    const secretsText = await fs.readFile(secretsFile, 'utf8');
    expect(leaks(secretsText, PASSPHRASE)).toEqual([]);
    expect(leaks(secretsText, sshd.password)).toEqual([]);
    expect((JSON.parse(secretsText) as { secrets: { kind: string }[] }).secrets.map((s) => s.kind).sort()).toEqual(['passphrase', 'password', 'sudo']);
    await ssh.handlers['ssh.disconnect']({ connectionId }, first.ctx);

    // Next time: nothing is asked (every answer would be a cancel).
    const second = client('electron', {}, false);
    const again = await ssh.handlers['ssh.connect']({ target, profileId: profile.id }, second.ctx);
    expect((await ssh.handlers['ssh.exec']({ connectionId: again.connectionId, command: 'id -u', sudo: true }, second.ctx)).stdout.trim()).toBe('0');
    expect(second.asked).toEqual([]);
    await ssh.handlers['ssh.disconnect']({ connectionId: again.connectionId }, second.ctx);

    // A remembered sudo password that no longer works is forgotten and asked for again.
    const store = new SecretStore(secretsFile, kc, 'electron');
    const sudoSubject = `${sshd.user}@${sshd.host}:${sshd.port}`;
    await store.save(profile.id, 'sudo', sudoSubject, 'an-outdated-sudo-password');
    const third = client('electron', { sudo: sshd.password }, true);
    const c3 = await ssh.handlers['ssh.connect']({ target, profileId: profile.id }, third.ctx);
    expect((await ssh.handlers['ssh.exec']({ connectionId: c3.connectionId, command: 'id -u', sudo: true }, third.ctx)).stdout.trim()).toBe('0');
    expect(third.asked.map((p) => [p.kind, 'attempt' in p ? p.attempt : 0])).toEqual([['sudo', 2]]);
    expect(await store.get(profile.id, 'sudo', sudoSubject)).toBe(sshd.password);
    await ssh.handlers['ssh.disconnect']({ connectionId: c3.connectionId }, third.ctx);

    // Deleting the profile forgets its secrets too.
    expect(await ssh.handlers['ssh.profiles.delete']({ id: profile.id }, first.ctx)).toEqual({ deleted: true });
    expect((JSON.parse(await fs.readFile(secretsFile, 'utf8')) as { secrets: unknown }).secrets).toEqual([]);
  }, 120_000);

  it('web mode never offers "Remember" and never uses remembered secrets', async () => {
    const target: SshTarget = { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [keyPath], useAgent: false };
    const electron = client('electron', { passphrase: PASSPHRASE, password: sshd.password }, true);
    const profile = await ssh.handlers['ssh.profiles.save']({ label: 'web check', target }, electron.ctx);
    const e = await ssh.handlers['ssh.connect']({ target, profileId: profile.id }, electron.ctx);
    await ssh.handlers['ssh.disconnect']({ connectionId: e.connectionId }, electron.ctx);

    const web = client('web', { passphrase: PASSPHRASE, password: sshd.password }, true);
    const w = await ssh.handlers['ssh.connect']({ target, profileId: profile.id }, web.ctx);
    expect(web.asked.map((p) => [p.kind, p.remember])).toEqual([
      ['passphrase', { offered: false, reason: 'web' }],
      ['password', { offered: false, reason: 'web' }],
    ]);
    await ssh.handlers['ssh.disconnect']({ connectionId: w.connectionId }, web.ctx);
    await ssh.handlers['ssh.profiles.delete']({ id: profile.id }, web.ctx);
  }, 60_000);
});
