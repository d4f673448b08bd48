/**
 * Connections against real OpenSSH sshd: host-key verdicts, every auth
 * method (agent, key files, PEM, passphrases, password, PAM keyboard-
 * interactive, publickey+keyboard-interactive), ProxyJump chains, drop
 * detection and reconnect.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromptRequest } from '../../electron/services/ssh/auth';
import { HostKeyRejectedError, SshAuthError, connectSsh, connectWithBackoff, type ConnectOptions } from '../../electron/services/ssh/connection';
import { KnownHostsFile } from '../../electron/services/ssh/known-hosts';
import { SshNetworkError } from '../../electron/services/ssh/network-error';
import { translate } from '../../shared/i18n';
import type { HostKeyVerdict, SshTarget, UnknownKeyDecision } from '../../shared/contract/ssh';
import { generateKey, makeTempDir, sshdAvailable, startSshd, toolAvailable, type KeyPair, type SshdInstance } from '../helpers/sshd';
import { startKbdServer, type KbdServer } from './kbd-server';

const run = promisify(execFile);

/** A 127.0.0.1 port nobody listens on: bound once by us, then closed. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
const enabled = sshdAvailable() && toolAvailable('/usr/bin/ssh-agent') && toolAvailable('/usr/bin/ssh-add');

interface Harness {
  opts: ConnectOptions;
  prompts: PromptRequest[];
  asked: HostKeyVerdict[];
}

describe.skipIf(!enabled)('ssh connections (real sshd)', () => {
  let dir: string;
  let main: SshdInstance;
  let bastion: SshdInstance;
  let mfa: SshdInstance;
  let kbd: KbdServer;
  let plainKey: KeyPair;
  let encKey: KeyPair;
  let pemKey: KeyPair;
  let agentKey: KeyPair;
  let strangerKey: KeyPair;

  beforeAll(async () => {
    dir = await makeTempDir('lifeboat-conn-');
    [main, bastion, mfa] = await Promise.all([startSshd(), startSshd(), startSshd({ authenticationMethods: 'publickey,keyboard-interactive' })]);
    plainKey = await generateKey(dir, 'id_plain');
    encKey = await generateKey(dir, 'id_enc', { passphrase: 'correct horse' });
    pemKey = await generateKey(dir, 'id_pem', { type: 'rsa', format: 'pem', passphrase: 'pem-pass' });
    agentKey = await generateKey(dir, 'id_agent');
    strangerKey = await generateKey(dir, 'stranger');
    for (const s of [main, bastion, mfa]) {
      for (const k of [plainKey, encKey, pemKey, agentKey]) await s.authorize(k.publicLine);
    }
    kbd = await startKbdServer({ user: 'op', password: 'pw1', otp: '424242', clientPublicLine: plainKey.publicLine });
  });

  afterAll(async () => {
    await Promise.allSettled([main?.stop(), bastion?.stop(), mfa?.stop(), kbd?.close()]);
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  let khCounter = 0;
  async function harness(
    target: Partial<SshTarget> & { port: number },
    answers: { hostKey?: UnknownKeyDecision; respond?: (p: PromptRequest) => string[] | null; knownHosts?: string } = {},
  ): Promise<Harness> {
    const khPath = path.join(dir, `known_hosts_${++khCounter}`);
    if (answers.knownHosts !== undefined) await fs.writeFile(khPath, answers.knownHosts);
    const prompts: PromptRequest[] = [];
    const asked: HostKeyVerdict[] = [];
    return {
      prompts,
      asked,
      opts: {
        target: { host: '127.0.0.1', user: main.user, ...target },
        hostKeys: {
          knownHosts: new KnownHostsFile(khPath),
          decideUnknown: async (v) => {
            asked.push(v);
            return answers.hostKey ?? 'reject';
          },
        },
        prompt: async (p) => {
          prompts.push(p);
          return answers.respond ? answers.respond(p) : null;
        },
        agentSocket: null,
        keepaliveIntervalMs: 1000,
      },
    };
  }

  function khText(h: Harness): Promise<string> {
    return h.opts.hostKeys.knownHosts.read();
  }

  it('asks about an unknown key with its SHA256 fingerprint, and refuses when rejected', async () => {
    const h = await harness({ port: main.port, identityFiles: [plainKey.privatePath] }, { hostKey: 'reject' });
    const err = await connectSsh(h.opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyRejectedError);
    expect(h.asked).toHaveLength(1);
    expect(h.asked[0]).toMatchObject({ kind: 'unknown', lookupName: `[127.0.0.1]:${main.port}`, fingerprint: main.hostKeys.ed25519.fingerprint });
    expect(await khText(h)).toBe('');
    // The refusal carries its UI text (the English message stays the detailed one for logs and the CLI).
    const refusal = err as HostKeyRejectedError;
    expect(refusal.text).toEqual({
      key: 'ssh.hostkey.unknownRefused',
      params: { host: `[127.0.0.1]:${main.port}`, keyType: 'ssh-ed25519', fingerprint: main.hostKeys.ed25519.fingerprint },
    });
    expect(translate('zh-CN', refusal.text!.key, refusal.text!.params)).toContain(`未知且未被信任`);
  });

  it('accept-save writes a line that real OpenSSH ssh accepts with StrictHostKeyChecking=yes', async () => {
    const h = await harness({ port: main.port, identityFiles: [plainKey.privatePath] }, { hostKey: 'accept-save' });
    const conn = await connectSsh(h.opts);
    expect((await conn.exec('id -un')).stdout.trim()).toBe(main.user);
    conn.close();
    const kh = h.opts.hostKeys.knownHosts.filePath;
    await run('ssh', [
      '-F',
      '/dev/null',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${kh}`,
      '-o',
      'BatchMode=yes',
      '-o',
      'IdentitiesOnly=yes',
      '-i',
      plainKey.privatePath,
      '-p',
      String(main.port),
      `${main.user}@127.0.0.1`,
      'true',
    ]);
    // Second time: known, no question.
    const again = await connectSsh(h.opts);
    expect(again.verdicts[0].kind).toBe('known');
    expect(h.asked).toHaveLength(1);
    again.close();
  });

  it('refuses a changed key without asking, leaves known_hosts alone, and connects after the explicit replace', async () => {
    const [alg, b64] = strangerKey.publicLine.split(' ');
    const before = `[127.0.0.1]:${main.port} ${alg} ${b64}\n`;
    const h = await harness({ port: main.port, identityFiles: [plainKey.privatePath] }, { hostKey: 'accept-save', knownHosts: before });
    const err = await connectSsh(h.opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyRejectedError);
    const rej = err as HostKeyRejectedError;
    expect(rej.verdict.kind).toBe('changed');
    expect(rej.message).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/);
    expect(rej.message).toContain(main.hostKeys.ed25519.fingerprint);
    expect(rej.message).toContain(strangerKey.fingerprint);
    expect(h.asked).toHaveLength(0);
    expect(await khText(h)).toBe(before);

    await h.opts.hostKeys.knownHosts.replace('127.0.0.1', main.port, rej.keyBlob, {
      approvedFingerprint: rej.verdict.fingerprint,
      reason: 'test: node rebuilt',
    });
    const conn = await connectSsh(h.opts);
    expect(conn.verdicts[0].kind).toBe('known');
    conn.close();
  });

  it('refuses a @revoked key', async () => {
    const [alg, b64] = main.hostKeys.ed25519.publicLine.split(' ');
    const h = await harness(
      { port: main.port, identityFiles: [plainKey.privatePath] },
      { hostKey: 'accept-save', knownHosts: `@revoked [127.0.0.1]:${main.port} ${alg} ${b64}\n` },
    );
    const err = await connectSsh(h.opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyRejectedError);
    expect((err as HostKeyRejectedError).verdict.kind).toBe('revoked');
    expect((err as Error).message).toMatch(/revoked/);
    expect(h.asked).toHaveLength(0);
  });

  it('asks for the rsa key type it already knows (no false "unknown" when known_hosts has only rsa)', async () => {
    const h = await harness({ port: main.port, identityFiles: [plainKey.privatePath] }, { knownHosts: main.knownHostsLine('rsa') + '\n' });
    const conn = await connectSsh(h.opts);
    expect(conn.verdicts[0]).toMatchObject({ kind: 'known', keyType: 'ssh-rsa' });
    conn.close();
  });

  it('authenticates with a real ssh-agent', async () => {
    const sock = path.join(dir, 'agent.sock');
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50 && !readdirSync(dir).includes('agent.sock'); i++) await new Promise((r) => setTimeout(r, 50));
      await run('ssh-add', [agentKey.privatePath], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
      const h = await harness({ port: main.port }, { knownHosts: main.knownHostsLine() + '\n' });
      h.opts.agentSocket = sock;
      h.opts.interactive = false;
      const conn = await connectSsh(h.opts);
      expect((await conn.exec('echo via-agent')).stdout).toBe('via-agent\n');
      conn.close();
      expect(main.log()).toMatch(new RegExp(`Accepted publickey for ${main.user}.*ED25519 ${agentKey.fingerprint.replace(/[+/]/g, '.')}`));
      expect(h.prompts).toEqual([]);
    } finally {
      agent.kill('SIGTERM');
    }
  });

  it('says "wrong passphrase" for an encrypted key, and accepts the right one on retry', async () => {
    const bad = await harness(
      { port: main.port, identityFiles: [encKey.privatePath] },
      { knownHosts: main.knownHostsLine() + '\n', respond: (p) => (p.kind === 'passphrase' ? ['nope'] : null) },
    );
    bad.opts.interactive = false;
    const err = await connectSsh(bad.opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SshAuthError);
    expect((err as Error).message).toMatch(/id_enc: wrong passphrase \(3 attempts\)/);
    const keyText = (err as SshAuthError).text;
    expect(keyText).toEqual({ key: 'ssh.error.authKeyFiles', params: { target: `${main.user}@127.0.0.1:${main.port}`, files: encKey.privatePath } });
    expect(translate('zh-CN', keyText!.key, keyText!.params)).toContain(`密钥文件 ${encKey.privatePath} 无法使用`);
    expect(bad.prompts.map((p) => p.kind === 'passphrase' && p.attempt)).toEqual([1, 2, 3]);

    let n = 0;
    const good = await harness(
      { port: main.port, identityFiles: [encKey.privatePath] },
      { knownHosts: main.knownHostsLine() + '\n', respond: () => [n++ === 0 ? 'nope' : 'correct horse'] },
    );
    good.opts.interactive = false;
    const conn = await connectSsh(good.opts);
    conn.close();
    expect(good.prompts[1]).toMatchObject({ kind: 'passphrase', attempt: 2, lastError: 'wrong passphrase' });
  });

  it('uses a passphrase-protected PEM RSA key', async () => {
    const h = await harness(
      { port: main.port, identityFiles: [pemKey.privatePath] },
      { knownHosts: main.knownHostsLine() + '\n', respond: () => ['pem-pass'] },
    );
    h.opts.interactive = false;
    const conn = await connectSsh(h.opts);
    conn.close();
    expect(main.log()).toContain(`RSA ${pemKey.fingerprint}`);
  });

  it('authenticates by password (prompted) and by PAM keyboard-interactive', async () => {
    const h = await harness({ port: main.port }, { knownHosts: main.knownHostsLine() + '\n', respond: () => [main.password] });
    const conn = await connectSsh(h.opts);
    conn.close();
    // OpenSSH order: keyboard-interactive (PAM "Password:") before password.
    expect(h.prompts[0]).toMatchObject({ kind: 'keyboard-interactive', prompts: [{ prompt: 'Password: ', echo: false }] });

    // One try per method keeps PAM's failure delay short.
    const wrong = await harness({ port: main.port }, { knownHosts: main.knownHostsLine() + '\n', respond: () => ['bad'] });
    wrong.opts.maxAttempts = 1;
    const err = await connectSsh(wrong.opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SshAuthError);
    expect((err as Error).message).toMatch(/authentication to lifeboat-test@127\.0\.0\.1:\d+ failed/);
    const target = `${main.user}@127.0.0.1:${main.port}`;
    expect((err as SshAuthError).text).toEqual({ key: 'ssh.error.authRefused', params: { target, user: main.user } });
    expect(translate('zh-CN', 'ssh.error.authRefused', { target, user: main.user })).toContain(`节点拒绝了以 ${target} 登录`);
    expect(wrong.prompts.map((p) => p.kind)).toEqual(['keyboard-interactive', 'password']);
  });

  it('passes publickey + keyboard-interactive (AuthenticationMethods) on real sshd', async () => {
    const h = await harness(
      { port: mfa.port, identityFiles: [plainKey.privatePath] },
      { knownHosts: mfa.knownHostsLine() + '\n', respond: () => [mfa.password] },
    );
    const conn = await connectSsh(h.opts);
    expect((await conn.exec('echo mfa-ok')).stdout).toBe('mfa-ok\n');
    conn.close();
    expect(mfa.log()).toMatch(/Partial publickey/);
    expect(mfa.log()).toMatch(/Accepted keyboard-interactive\/pam/);
  });

  it('answers multi-step keyboard-interactive prompts (two rounds) after a key', async () => {
    const h = await harness(
      { port: kbd.port, user: 'op', identityFiles: [plainKey.privatePath] },
      {
        hostKey: 'accept-once',
        respond: (p) => (p.kind === 'keyboard-interactive' ? [p.prompts[0].prompt.startsWith('Password') ? 'pw1' : '424242'] : null),
      },
    );
    const conn = await connectSsh(h.opts);
    conn.close();
    expect(kbd.rounds).toEqual([['pw1'], ['424242']]);
    expect(h.prompts.map((p) => p.kind === 'keyboard-interactive' && p.name)).toEqual(['Step 1 of 2', 'Step 2 of 2']);
    expect(await khText(h)).toBe(''); // accept-once does not write
  });

  it('jumps through a ProxyJump chain, verifying every hop', async () => {
    const known = [bastion.knownHostsLine(), main.knownHostsLine()].join('\n') + '\n';
    const h = await harness(
      {
        port: mfa.port,
        identityFiles: [plainKey.privatePath],
        jumps: [
          { host: '127.0.0.1', port: bastion.port, user: bastion.user, identityFiles: [plainKey.privatePath] },
          { host: '127.0.0.1', port: main.port, user: main.user, identityFiles: [plainKey.privatePath] },
        ],
      },
      { hostKey: 'accept-once', knownHosts: known, respond: () => [mfa.password] },
    );
    const conn = await connectSsh(h.opts);
    expect(conn.verdicts.map((v) => [v.port, v.kind])).toEqual([
      [bastion.port, 'known'],
      [main.port, 'known'],
      [mfa.port, 'unknown'],
    ]);
    expect(h.asked.map((v) => v.port)).toEqual([mfa.port]);
    expect((await conn.exec('echo hopped')).stdout).toBe('hopped\n');
    conn.close();
    // The target saw the connection coming from the middle hop (a forwarded channel).
    expect(main.log()).toMatch(/direct-tcpip|Accepted publickey/);

    // A changed key on a middle hop stops the chain there.
    const [alg, b64] = strangerKey.publicLine.split(' ');
    const bad = await harness(
      { ...h.opts.target },
      { hostKey: 'accept-once', knownHosts: `${bastion.knownHostsLine()}\n[127.0.0.1]:${main.port} ${alg} ${b64}\n` },
    );
    const err = await connectSsh(bad.opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyRejectedError);
    expect((err as HostKeyRejectedError).verdict).toMatchObject({ kind: 'changed', port: main.port });
  });

  it('detects a dropped connection and reconnects with backoff', async () => {
    const h = await harness({ port: main.port, identityFiles: [plainKey.privatePath] }, { knownHosts: main.knownHostsLine() + '\n' });
    const conn = await connectSsh(h.opts);
    const dropped = new Promise<Error>((resolve) => conn.once('dropped', resolve));
    await main.dropConnections();
    await dropped;
    expect(conn.state).toBe('dropped');
    const retries: number[] = [];
    const again = await connectWithBackoff(h.opts, { baseDelayMs: 50, onRetry: (a) => retries.push(a) });
    expect((await again.exec('echo back')).stdout).toBe('back\n');
    // sshd itself stayed up (only the connections were cut): the first attempt succeeds.
    expect(retries).toEqual([]);
    again.close();
  });

  it('a port where nothing listens: retried with doubling delays, then a plain explanation (no raw ECONNREFUSED)', async () => {
    const port = await closedPort();
    const h = await harness({ port, identityFiles: [plainKey.privatePath] });
    const retries: { attempt: number; delay: number }[] = [];
    const err = await connectWithBackoff(h.opts, { attempts: 3, baseDelayMs: 20, onRetry: (attempt, delay) => retries.push({ attempt, delay }) }).catch(
      (e: unknown) => e,
    );
    expect(retries).toEqual([
      { attempt: 1, delay: 20 },
      { attempt: 2, delay: 40 },
    ]);
    expect(err).toBeInstanceOf(SshNetworkError);
    expect((err as SshNetworkError).code).toBe('ECONNREFUSED');
    expect((err as Error).message).toBe(
      `Nothing accepted the connection at 127.0.0.1:${port}: the connection was refused. Check that sshd is running on the node (systemctl status ssh) and listens on port ${port}, and that the port is right.`,
    );
    expect((err as Error).message).not.toMatch(/ECONNREFUSED/);
  });

  it('never retries a host-key refusal', async () => {
    const h = await harness({ port: main.port, identityFiles: [plainKey.privatePath] }, { hostKey: 'reject' });
    const retries: number[] = [];
    await expect(connectWithBackoff(h.opts, { baseDelayMs: 10, onRetry: (a) => retries.push(a) })).rejects.toBeInstanceOf(HostKeyRejectedError);
    expect(retries).toEqual([]);
  });

  it('has exactly one place that connects an ssh2 Client (always with hostVerifier)', () => {
    const root = path.resolve(__dirname, '../../electron/services/ssh');
    const offenders: string[] = [];
    for (const f of readdirSync(root).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(path.join(root, f), 'utf8');
      const creates = (text.match(/new Client\(/g) ?? []).length;
      const connects = (text.match(/\.connect\(\s*[a-zA-Z{]/g) ?? []).length;
      if (f === 'connection.ts') {
        expect(creates).toBe(1);
        expect(connects).toBe(1);
        expect(text).toMatch(/hostVerifier: \(key: Buffer/);
      } else if (creates || connects) offenders.push(f);
    }
    expect(offenders).toEqual([]);
  });
});
