/**
 * A node reached as root with no sudo installed (kind nodes, minimal kubeadm
 * images), against a real sshd that logs root in by key (its own
 * AuthorizedKeysFile, never /root/.ssh) and whose sessions cannot find
 * `sudo` (sshd's SetEnv PATH without it: the machine keeps its sudo):
 * - root is learned once per connection with one read-only exec; every
 *   privileged command then runs as `sh -c '…'`: no sudo probe, no prompt,
 *   and no announced command mentions sudo;
 * - SudoRunner and runSudo read a 0600 root-only file and return its bytes;
 * - copy-out of a root-only real dqlite directory and validation in place
 *   through the sudo source (through the handlers, as the app runs them)
 *   give local validation's verdict, the copy's transport says "root";
 * - the CLI (copy-out, detect with --sudo) asks nothing and prints no sudo;
 * - the test user on a node without sudo still gets the clear refusal, which
 *   says to log in as root or install sudo;
 * - root where sudo IS installed still sends no sudo.
 * Every served tree is hashed (contents, mode, mtime) before and after.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_PROBE, SUDO_PROBE, SudoError, SudoRunner, runSudo, sudoWrapped, type SshConnection } from '../../electron/services/ssh/connection';
import type { SshService } from '../../electron/services/ssh/ssh-service';
import { copyOutCommand, type CliIo } from '../../electron/services/ssh/copy-out-cli';
import { detectCommand } from '../../electron/services/ssh/detect-cli';
import { sudoCopyOut, sudoTreeListCommand } from '../../electron/services/ssh/sudo-copy';
import { sudoDirectory, sudoListCommand } from '../../electron/services/ssh/sudo-source';
import { ValidationService } from '../../electron/services/validation-service';
import { createSampleCatalog } from '../../electron/services/samples';
import { translate } from '../../shared/i18n';
import type { ValidationReport } from '../../shared/contract/report';
import type { CopyOutProgress } from '../../shared/contract/ssh';
import * as panel from '../../renderer/src/features/node/commands';
import { ensureBuilt, hashTree } from '../cli/fixtures';
import { contentHashes, contentsOf, makeRootOnly, startCopyOutNode, waitFor, type CopyOutNode } from '../helpers/copy-out-node';
import { requireDqliteDemo } from '../helpers/dqlite-demo';
import { goldenKilled } from '../helpers/dqlite-goldens';
import { makeTempDir, sshdAvailable, TEST_USER } from '../helpers/sshd';
import { copyDamaged, validateLocally, verdictOf } from '../helpers/ssh-node';
import { sudoTestContext, validationOutcome } from '../helpers/sudo-context';

const enabled = sshdAvailable() && requireDqliteDemo();

/** A prompt that must never be asked: root needs no password. */
const noPrompt = async (): Promise<null> => {
  throw new Error('root was asked for a sudo password');
};

describe.skipIf(!enabled)('a root login with no sudo installed (real sshd)', () => {
  let node: CopyOutNode;
  let ssh: SshService;
  let secret: string;
  let secretBytes: Buffer;
  let backend: string;
  let before: Record<string, string>;
  let reference: ValidationReport;

  beforeAll(async () => {
    await ensureBuilt();
    const golden = await goldenKilled();
    node = await startCopyOutNode('lifeboat-root-login-', { loginAs: 'root', hideCommands: ['sudo'] });
    expect(node.sshd.user).toBe('root');
    // A root-only file (0600 in a 0700 directory) and a root-only real dqlite data directory.
    const vault = path.join(node.dir, 'node', 'vault');
    await fs.mkdir(vault, { recursive: true, mode: 0o700 });
    await fs.chmod(vault, 0o700);
    secret = path.join(vault, 'secret.bin');
    secretBytes = randomBytes(70_000);
    await fs.writeFile(secret, secretBytes, { mode: 0o600 });
    backend = path.join(node.dir, 'node', 'backend');
    await copyDamaged(golden.dataDir, backend);
    await makeRootOnly(backend);
    before = await hashTree(backend);
    reference = await validateLocally(backend);
    expect(reference.engine).toBe('dqlite');
    ssh = node.sshService();
  }, 300_000);

  afterAll(async () => {
    await ssh?.shutdown();
    await node?.stop();
  });

  it('the session really has no sudo, and root is learned with one read-only exec per connection', async () => {
    const conn = await node.connect();
    const sent: string[] = [];
    conn.on('command', (e: { text: string }) => sent.push(e.text));
    try {
      const missing = await conn.exec('command -v sudo');
      expect(missing.code).not.toBe(0);
      expect((await conn.exec(SUDO_PROBE)).stderr).toMatch(/not found/);
      const [a, b] = await Promise.all([conn.loginIsRoot(), conn.loginIsRoot()]);
      expect([a, b, await conn.loginIsRoot()]).toEqual([true, true, true]);
    } finally {
      conn.close();
    }
    expect(sent.filter((t) => t === ROOT_PROBE)).toHaveLength(1);
  });

  it('SudoRunner and runSudo read a 0600 root file as root with no sudo, no probe of it and no prompt', async () => {
    const conn = await node.connect();
    const sent: string[] = [];
    conn.on('command', (e: { text: string }) => sent.push(e.text));
    try {
      const runner = new SudoRunner(conn, { prompt: noPrompt, user: 'root', host: node.sshd.host });
      expect(await runner.ready()).toBe('root');
      expect(runner.known).toBe('root');
      const read = await runner.run(`cat -- ${secret}`, 1024 * 1024);
      expect(read.code).toBe(0);
      expect(read.truncated).toBe(false);
      expect(read.stdout.equals(secretBytes)).toBe(true);
      const viaRunSudo = await runSudo(conn, `sha256sum -- ${secret} && id -u`, { prompt: noPrompt, user: 'root', host: node.sshd.host });
      expect(viaRunSudo.code).toBe(0);
      expect(viaRunSudo.stdout).toMatch(/^[0-9a-f]{64} {2}.*secret\.bin\n0\n$/);
    } finally {
      conn.close();
    }
    // Exactly what ran: the root probe once, then each command as `sh -c '…'` (the same quoting as through sudo).
    expect(sent).toEqual([ROOT_PROBE, sudoWrapped(`cat -- ${secret}`, 'root'), sudoWrapped(`sha256sum -- ${secret} && id -u`, 'root')]);
    expect(sudoWrapped(`cat -- ${secret}`, 'root')).toBe(`sh -c 'cat -- ${secret}'`);
    // What the node panels show before a sudo command runs includes exactly these forms.
    const preview = panel.sudoCommandTexts(`cat -- ${secret}`);
    expect([preview.rootProbe, preview.asRoot]).toEqual(sent.slice(0, 2));
    expect(panel.SUDO_SERIES_TEXTS.rootProbe).toBe(ROOT_PROBE);
    expect(panel.SUDO_SERIES_TEXTS.asRoot).toBe(sudoWrapped('…', 'root'));
    expect(sent.join('\n')).not.toMatch(/\bsudo\b/);
  });

  it('copy-out of a root-only real dqlite directory lands byte-identical, read as root without sudo', async () => {
    const out = await makeTempDir('lifeboat-root-dest-');
    const conn = await node.connect();
    const sent: string[] = [];
    conn.on('command', (e: { text: string }) => sent.push(e.text));
    const seen: CopyOutProgress[] = [];
    try {
      const sudo = new SudoRunner(conn, { prompt: noPrompt, user: 'root', host: node.sshd.host });
      await sudo.ready();
      const result = await sudoCopyOut({ sudo, remotePath: backend, localDir: out, settleMs: 0, onProgress: (p) => seen.push(p) });
      expect(result.allMatch).toBe(true);
      expect(result.transport).toBe('root');
      expect(await contentHashes(result.localPath)).toEqual(contentsOf(before));
      expect(verdictOf(await validateLocally(result.localPath))).toEqual(verdictOf(reference));
    } finally {
      conn.close();
      await fs.rm(out, { recursive: true, force: true });
    }
    expect(new Set(seen.map((p) => p.transport))).toEqual(new Set(['root']));
    expect(sent[0]).toBe(ROOT_PROBE);
    expect(sent[1]).toBe(sudoWrapped(sudoTreeListCommand(backend), 'root'));
    for (const t of sent.slice(1)) expect(t).toMatch(/^sh -c '/);
    expect(sent.join('\n')).not.toMatch(/\bsudo\b/);
    expect(await hashTree(backend)).toEqual(before);
  }, 240_000);

  it('through the handlers: ssh.exec, validation in place and copy-out as root, every announced command free of sudo', async () => {
    const service = new ValidationService({ transport: 'web', samples: createSampleCatalog(null), remote: ssh.remoteSources });
    const ctx = sudoTestContext(ssh, () => null);
    try {
      const { connectionId } = await ssh.handlers['ssh.connect']({ target: node.target }, ctx);
      const exec = await ssh.handlers['ssh.exec']({ connectionId, command: `id -u && cat -- ${secret} | sha256sum`, sudo: true }, ctx);
      expect(exec.code).toBe(0);
      expect(exec.stdout.split('\n')[0]).toBe('0');

      // Validation in place through the sudo source: local validation's verdict.
      const { jobId } = await service.start({ kind: 'remote', connectionId, path: backend, sudo: true }, ctx);
      const end = await validationOutcome(ctx, jobId);
      expect(end.error).toBeUndefined();
      expect(verdictOf(end.report!)).toEqual(verdictOf(reference));

      // Copy-out through the handlers: the job reads as root, with no sudo.
      const plan = await ssh.handlers['ssh.copyout.plan']({ connectionId, remotePath: backend, sudo: true }, ctx);
      const { jobId: copyJob } = await ssh.handlers['ssh.copyout.start']({ connectionId, remotePath: backend, localDir: plan.localDir, sudo: true }, ctx);
      const ended = await waitFor(
        () => ctx.of('ssh.copyout.done').find((e) => e.jobId === copyJob) ?? ctx.of('ssh.copyout.failed').find((e) => e.jobId === copyJob),
        'copy-out as root',
      );
      expect('result' in ended ? null : ended).toBeNull();
      const done = ctx.of('ssh.copyout.done').find((e) => e.jobId === copyJob);
      expect(done?.result.allMatch).toBe(true);
      expect(done?.result.transport).toBe('root');
      expect(
        ctx
          .of('ssh.copyout.progress')
          .filter((p) => p.jobId === copyJob)
          .every((p) => p.progress.transport === 'root'),
      ).toBe(true);
      await ssh.release(ctx);
    } finally {
      await service.shutdown();
    }
    expect(ctx.prompts).toBe(0);
    const commands = ctx.of('ssh.command').filter((c) => c.kind === 'exec');
    expect(commands.filter((c) => c.text === ROOT_PROBE)).toHaveLength(1);
    expect(commands.some((c) => c.text === sudoWrapped(sudoListCommand(backend), 'root'))).toBe(true);
    for (const c of commands) expect(c.text).not.toMatch(/\bsudo\b/);
    for (const c of commands.filter((x) => x.text !== ROOT_PROBE)) {
      expect(c.text).toMatch(/^sh -c '/);
      expect(ctx.of('ssh.command.end').find((e) => e.id === c.id)?.code, c.text).toBe(0);
    }
    expect(await hashTree(backend)).toEqual(before);
  }, 300_000);

  it('the CLI: copy-out --sudo and detect --sudo as root ask nothing and print no sudo', async () => {
    const to = await makeTempDir('lifeboat-root-cli-');
    let stdout = '';
    let stderr = '';
    const asked: string[] = [];
    const io: CliIo = {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      askSudoPassword: async (q) => (asked.push(q), null),
    };
    const login = ['--port', String(node.sshd.port), '--identity', node.key.privatePath, '--known-hosts', node.knownHostsPath];
    try {
      expect(await copyOutCommand([`root@${node.sshd.host}:${backend}`, '--to', to, ...login, '--sudo'], io), stderr).toBe(0);
      expect(stderr).toContain(`reading ${backend} as root, logged in as root: no sudo needed`);
      expect(stdout).toMatch(/every SHA-256 matches the node/);
      expect(await contentHashes(path.join(to, 'backend'))).toEqual(contentsOf(before));
      stderr = '';
      stdout = '';
      expect(await detectCommand([`root@${node.sshd.host}`, ...login, '--sudo'], io), stderr).toBe(0);
      // Each probe is printed as it runs: none with a sudo that did not run.
      expect(stderr).toMatch(/^\$ /m);
      expect(stderr).not.toMatch(/\bsudo\b/);
    } finally {
      await fs.rm(to, { recursive: true, force: true });
    }
    expect(asked).toEqual([]);
    expect(await hashTree(backend)).toEqual(before);
  }, 120_000);

  it('a directory read as root lists and reads like the sudo source does', async () => {
    const conn = await node.connect();
    const src = sudoDirectory(new SudoRunner(conn, { prompt: noPrompt, user: 'root', host: node.sshd.host }), path.dirname(secret));
    try {
      const listed = await src.list();
      expect(listed.map((e) => [e.name, e.kind, e.size])).toEqual([['secret.bin', 'file', secretBytes.length]]);
      const f = await src.open('secret.bin');
      expect(Buffer.from(await f.read(0, secretBytes.length)).equals(secretBytes)).toBe(true);
    } finally {
      await src.close();
      conn.close();
    }
  });
});

describe.skipIf(!enabled)('a non-root login with no sudo installed (real sshd)', () => {
  let node: CopyOutNode;

  beforeAll(async () => {
    node = await startCopyOutNode('lifeboat-no-sudo-', { hideCommands: ['sudo'] });
    expect(node.sshd.user).toBe(TEST_USER);
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
  });

  it('keeps the clear refusal, which says to log in as root or install sudo (en and zh-CN)', async () => {
    const conn: SshConnection = await node.connect();
    const sent: string[] = [];
    conn.on('command', (e: { text: string }) => sent.push(e.text));
    try {
      expect(await conn.loginIsRoot()).toBe(false);
      const runner = new SudoRunner(conn, { prompt: noPrompt, user: TEST_USER, host: node.sshd.host });
      const refused = await runner.ready().catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(SudoError);
      expect((refused as SudoError).text).toEqual({ key: 'ssh.sudo.error.notInstalled' });
      expect((refused as Error).message).toMatch(/sudo is not installed.*log in as root.*install sudo/);
      expect(translate('zh-CN', 'ssh.sudo.error.notInstalled')).toMatch(/以 root 身份登录.*安装 sudo/);
      await expect(runSudo(conn, 'id -u', { prompt: noPrompt, user: TEST_USER, host: node.sshd.host })).rejects.toMatchObject({
        text: { key: 'ssh.sudo.error.notInstalled' },
      });
    } finally {
      conn.close();
    }
    // The root probe once per connection, then sudo's probe (which finds no sudo) for each try.
    expect(sent).toEqual([ROOT_PROBE, SUDO_PROBE, SUDO_PROBE]);
  });
});

describe.skipIf(!enabled)('a root login where sudo is installed (real sshd)', () => {
  let node: CopyOutNode;

  beforeAll(async () => {
    node = await startCopyOutNode('lifeboat-root-sudo-', { loginAs: 'root' });
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
  });

  it('still sends no sudo: root needs none (no requiretty or PAM surprises)', async () => {
    const conn = await node.connect();
    const sent: string[] = [];
    conn.on('command', (e: { text: string }) => sent.push(e.text));
    try {
      expect((await conn.exec('command -v sudo')).code).toBe(0);
      const r = await runSudo(conn, 'id -u', { prompt: noPrompt, user: 'root', host: node.sshd.host });
      expect(r).toMatchObject({ code: 0, stdout: '0\n' });
      const runner = new SudoRunner(conn, { prompt: noPrompt, user: 'root', host: node.sshd.host });
      expect(await runner.ready()).toBe('root');
      expect((await runner.run('id -un', 100)).stdout.toString()).toBe('root\n');
    } finally {
      conn.close();
    }
    expect(sent).toEqual(['command -v sudo', ROOT_PROBE, `sh -c 'id -u'`, `sh -c 'id -un'`]);
  });
});
