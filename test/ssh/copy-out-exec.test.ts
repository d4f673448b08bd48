/**
 * Copy-out as the login user through exec channels (`cat`/`tail` streamed, stream-fetch.ts) from a
 * real sshd, and the SFTP fallback for an account that cannot run commands (a real sshd with
 * `ForceCommand internal-sftp`). Names that a shell would take apart (spaces, quotes, newlines,
 * leading dashes, `$(…)`, backticks, `;`, globs) must reach `cat` as literal arguments: the copy
 * is byte-identical, no canary file appears, and the announced `cat` commands, run through a real
 * shell with `printf` in place of `cat`, give exactly the listed paths. The node's files are hashed
 * before and after: never modified.
 */
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandEvent, SshConnection } from '../../electron/services/ssh/connection';
import { copyOutCommand } from '../../electron/services/ssh/copy-out-cli';
import { canRunCommands, CopyOutError, copyOut, EXEC_PROBE_COMMAND } from '../../electron/services/ssh/copy-out';
import { loginUserCopyCommands } from '../../electron/services/ssh/copy-out-service';
import { translate } from '../../shared/i18n';
import type { CopyOutProgress } from '../../shared/contract/ssh';
import { contentHashes, copyCutOff, startCopyOutNode, waitFor, writeTree, type CopyOutNode } from '../helpers/copy-out-node';
import { makeTempDir, sshdAvailable, TEST_USER, type SshdInstance } from '../helpers/sshd';
import { sudoTestContext } from '../helpers/sudo-context';

const run = promisify(execFile);
const CJK = /[\u4e00-\u9fff]/;

/** The arguments a real shell passes to `cat` in `command` (`printf` prints them NUL-terminated instead). */
async function catArguments(command: string, cwd: string): Promise<string[]> {
  expect(command.startsWith('cat -- ')).toBe(true);
  const { stdout } = await run('/bin/sh', ['-c', `printf '%s\\0' ${command.slice('cat -- '.length)}`], { cwd, encoding: 'utf8' });
  return stdout.split('\0').slice(0, -1);
}

/** Every command `conn` announces, in order. */
function recordCommands(conn: SshConnection): string[] {
  const texts: string[] = [];
  conn.on('command', (e: CommandEvent) => texts.push(e.text));
  return texts;
}

describe.skipIf(!sshdAvailable())('copy-out as the login user through exec channels (real sshd)', () => {
  let node: CopyOutNode;
  let sshd: SshdInstance;
  let dir: string;
  let src: string;
  let canary: string;
  let home: string;

  beforeAll(async () => {
    node = await startCopyOutNode('lifeboat-copy-exec-');
    ({ sshd, dir } = node);
    home = (await run('sh', ['-c', `getent passwd ${TEST_USER} | cut -d: -f6`])).stdout.trim();
    canary = `lifeboat-pwned-${randomBytes(4).toString('hex')}`;
    // The root's own name is hostile too: a leading dash, a quote, a newline and a command substitution.
    src = path.join(dir, `-data dir 'x'\n$(touch ${canary})`);
    await fs.mkdir(path.join(src, "-sub dir 'q'"), { recursive: true });
    const names = [
      'has space',
      "it's",
      '"double"',
      'new\nline',
      '-n',
      '--help',
      `$(touch ${canary})`,
      `\`touch ${canary}\``,
      `; touch ${canary} #`,
      '*',
      'tab\there',
      'open-1',
    ];
    for (const [i, n] of names.entries()) await fs.writeFile(path.join(src, n), randomBytes(i === names.length - 1 ? 3 * 1024 * 1024 + 5 : 1000 + i * 517));
    await writeTree(path.join(src, "-sub dir 'q'"), { "x'y\nz": randomBytes(70_000), empty: '' });
    await run('chmod', ['-R', 'a+rX', dir]);
  });
  afterAll(() => node?.stop());

  it('copies hostile names byte-identical with cat, every name one literal argument, nothing run, no SFTP', async () => {
    const before = await contentHashes(src);
    const dest = await makeTempDir('lifeboat-dest-');
    const conn = await node.connect();
    const commands = recordCommands(conn);
    const seen: CopyOutProgress[] = [];
    let sftpOpened = 0;
    try {
      const result = await copyOut({ conn, remotePath: src, localDir: dest, settleMs: 100, onProgress: (p) => seen.push(p), onSftp: () => sftpOpened++ });
      expect(result.transport).toBe('exec');
      expect(result.allMatch).toBe(true);
      expect(Object.fromEntries(result.files.map((f) => [f.path, f.remoteSha256]))).toEqual(before);
      expect(await contentHashes(result.localPath)).toEqual(before);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((p) => p.transport === 'exec')).toBe(true);
      expect(sftpOpened).toBe(0);

      // What ran: the probe first, then only the read-only forms the plan shows.
      expect(commands[0]).toBe(EXEC_PROBE_COMMAND);
      const plan = loginUserCopyCommands(src);
      // (Names with a newline are hashed by `sha256sum -z` alone: the same `cd ROOT && xargs -0 …`.)
      const forms = [EXEC_PROBE_COMMAND, plan[1], `${plan[0].split(' && ')[0]} && xargs -0 sha256sum -z --`, 'cat -- '];
      for (const c of commands)
        expect(
          forms.some((f) => c.startsWith(f)),
          c,
        ).toBe(true);
      // Each `cat` gets the listed paths as literal arguments, as a real shell splits its text.
      const cats = commands.filter((c) => c.startsWith('cat -- '));
      expect(cats.length).toBeGreaterThan(0);
      const catted: string[] = [];
      for (const c of cats) catted.push(...(await catArguments(c, dir)));
      expect(catted.sort()).toEqual(
        Object.keys(before)
          .map((rel) => `${src}/${rel}`)
          .sort(),
      );
    } finally {
      conn.close();
      await fs.rm(dest, { recursive: true, force: true });
    }
    // No substitution ran anywhere: not in the login user's home, the data dir or here.
    for (const where of [home, src, dir, process.cwd()]) expect(existsSync(path.join(where, canary)), where).toBe(false);
    expect(await contentHashes(src)).toEqual(before);
  });

  it('resumes a dropped exec stream with tail from the partial size, and ends with identical hashes', async () => {
    const big = path.join(dir, "big -'x'");
    await fs.mkdir(big);
    await fs.writeFile(path.join(big, '-a-segment'), randomBytes(48 * 1024 * 1024));
    await run('chmod', ['-R', 'a+rX', big]);
    const before = await contentHashes(big);
    const dest = await makeTempDir('lifeboat-dest-');
    try {
      const conn = await node.connect();
      const cut = await copyCutOff(sshd, 2 * 1024 * 1024, (onProgress) => copyOut({ conn, remotePath: big, localDir: dest, settleMs: 0, onProgress }));
      conn.close();
      expect(cut.dropped).toBe(true);
      expect(cut.error).toBeInstanceOf(CopyOutError);
      expect((cut.error as CopyOutError).resumable).toBe(true);
      const partial = (await fs.stat(path.join(dest, "big -'x'", '-a-segment.partial'))).size;
      expect(partial).toBeGreaterThan(0);
      expect(partial).toBeLessThan(48 * 1024 * 1024);

      const again = await node.connect();
      const commands = recordCommands(again);
      try {
        const result = await copyOut({ conn: again, remotePath: big, localDir: dest, settleMs: 0 });
        expect([result.transport, result.allMatch]).toEqual(['exec', true]);
        expect(result.resumedBytes).toBe(partial);
        expect(await contentHashes(result.localPath)).toEqual(before);
        // The rest came from exactly where the partial ended, the name quoted.
        expect(commands).toContain(`tail -c +${partial + 1} -- '${big.replace(/'/g, `'\\''`)}/-a-segment'`);
      } finally {
        again.close();
      }
    } finally {
      await fs.rm(dest, { recursive: true, force: true });
    }
    expect(await contentHashes(big)).toEqual(before);
  }, 120_000);

  it('a file the login user may not read is refused with what to do, in English and Chinese', async () => {
    const locked = path.join(dir, 'locked');
    await fs.mkdir(locked);
    await fs.writeFile(path.join(locked, 'metadata1'), randomBytes(32));
    await fs.writeFile(path.join(locked, 'secret'), randomBytes(4096), { mode: 0o600 }); // root's, not the login user's
    await fs.chmod(locked, 0o755);
    await fs.chmod(path.join(locked, 'metadata1'), 0o644);
    const dest = await makeTempDir('lifeboat-dest-');
    const conn = await node.connect();
    try {
      const err = await copyOut({ conn, remotePath: locked, localDir: dest, settleMs: 0 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CopyOutError);
      const text = { key: 'ssh.copyout.error.readDenied', params: { user: TEST_USER, path: `${locked}/secret` } };
      expect([(err as CopyOutError).text, (err as CopyOutError).resumable]).toEqual([text, false]);
      expect((err as Error).message).toBe(
        `permission denied: ${TEST_USER} cannot read ${locked}/secret (the copy reads as the login user). If that user is not root, tick "Use sudo" (CLI: --sudo) to read it as root through sudo, or connect as a user who can read it. If the login is root already, sudo will not help: the path may be on a network mount that does not trust root (NFS root_squash), or a security policy (SELinux, AppArmor) denies it; the node's dmesg or audit log names which.`,
      );
      expect(translate('zh-CN', text.key, text.params)).toBe(
        `权限被拒绝：${TEST_USER} 无法读取 ${locked}/secret（复制以登录用户身份读取）。登录用户不是 root 时，勾选“使用 sudo”（命令行：--sudo）即可通过 sudo 以 root 身份读取，或以能读取它的用户连接。如果登录用户已经是 root，sudo 也无济于事：该路径可能位于不信任 root 的网络挂载上（如 \`root_squash\`），或被安全策略（如 SELinux）禁止；节点的 \`dmesg\` 或审计日志会写明原因。`,
      );
    } finally {
      conn.close();
      await fs.rm(dest, { recursive: true, force: true });
    }
  });

  it('through the handlers: the plan shows the probe and cat, progress says exec, no SFTP is recorded; destination and job errors carry texts', async () => {
    const ssh = node.sshService();
    const ctx = sudoTestContext(ssh, () => null);
    const before = await contentHashes(src);
    try {
      const { connectionId } = await ssh.handlers['ssh.connect']({ target: node.target }, ctx);
      const plan = await ssh.handlers['ssh.copyout.plan']({ connectionId, remotePath: src }, ctx);
      expect(plan.commands).toEqual(loginUserCopyCommands(src));
      expect(plan.commands.slice(2)).toEqual([
        EXEC_PROBE_COMMAND,
        `cat -- '${src.replace(/'/g, `'\\''`)}/<file>' …`,
        `tail -c +<N> -- '${src.replace(/'/g, `'\\''`)}/<file>'`,
      ]);

      // Where a copy may go (web mode), said in the UI's language.
      const refusals: [string, string, Record<string, string>?][] = [
        ['relative/dir', 'ssh.copyout.error.destRelative', { path: 'relative/dir' }],
        ['  ', 'ssh.copyout.error.destMissing'],
        [path.join(dir, 'elsewhere'), 'ssh.copyout.error.destOutsideCopies'],
      ];
      for (const [localDir, key, params] of refusals) {
        const err = await ssh.handlers['ssh.copyout.start']({ connectionId, remotePath: src, localDir }, ctx).catch((e: unknown) => e);
        expect(err, localDir).toMatchObject({ text: params ? { key, params } : { key }, message: translate('en', key, params) });
        expect(translate('zh-CN', key, params)).toMatch(CJK);
      }

      const { jobId } = await ssh.handlers['ssh.copyout.start']({ connectionId, remotePath: src, localDir: plan.localDir }, ctx);
      const done = await waitFor(() => ctx.of('ssh.copyout.done').find((e) => e.jobId === jobId), 'the copy');
      expect([done.result.transport, done.result.allMatch]).toEqual(['exec', true]);
      const progress = ctx.of('ssh.copyout.progress').filter((e) => e.jobId === jobId);
      expect(progress.length).toBeGreaterThan(0);
      expect(new Set(progress.map((e) => e.progress.transport))).toEqual(new Set(['exec']));
      expect(ctx.of('ssh.command').filter((c) => c.kind === 'sftp')).toEqual([]);
      expect(ctx.of('ssh.command').some((c) => c.kind === 'exec' && c.text === EXEC_PROBE_COMMAND)).toBe(true);
    } finally {
      await ssh.release(ctx);
      await ssh.shutdown();
    }
    expect(await contentHashes(src)).toEqual(before);
  }, 120_000);
});

describe.skipIf(!sshdAvailable())('copy-out for an account that cannot run commands (ForceCommand internal-sftp)', () => {
  let node: CopyOutNode;
  let sshd: SshdInstance;
  let src: string;

  beforeAll(async () => {
    node = await startCopyOutNode('lifeboat-copy-sftponly-', { extraConfig: ['ForceCommand internal-sftp'] });
    sshd = node.sshd;
    src = path.join(node.dir, 'k8s-dqlite');
    await writeTree(src, {
      '0000000000000001-0000000000000100': randomBytes(5 * 1024 * 1024 + 3),
      "it's -n": randomBytes(1000),
      'sub dir/metadata1': randomBytes(16),
    });
    await run('chmod', ['-R', 'a+rX', node.dir]);
  });
  afterAll(() => node?.stop());

  it('falls back to SFTP, says so, copies byte-identical, and sends the forced sftp-server nothing but the probe', async () => {
    const before = await contentHashes(src);
    const dest = await makeTempDir('lifeboat-dest-');
    const conn = await node.connect();
    const commands = recordCommands(conn);
    const seen: CopyOutProgress[] = [];
    let sftpOpened = 0;
    try {
      expect(await canRunCommands(conn)).toBe(false);
      commands.length = 0;
      const result = await copyOut({ conn, remotePath: src, localDir: dest, settleMs: 100, onProgress: (p) => seen.push(p), onSftp: () => sftpOpened++ });
      expect(result.transport).toBe('sftp');
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((p) => p.transport === 'sftp')).toBe(true);
      expect(sftpOpened).toBe(1);
      expect(commands).toEqual([EXEC_PROBE_COMMAND]);
      expect(await contentHashes(result.localPath)).toEqual(before);
      // The node could hash nothing: every file is listed with its local SHA-256 and no node hash, not as matching.
      expect(result.files.map((f) => [f.path, f.localSha256, f.remoteSha256, f.match]).sort()).toEqual(
        Object.entries(before)
          .map(([rel, h]) => [rel, h, null, false])
          .sort(),
      );
      expect(result.allMatch).toBe(false);
    } finally {
      conn.close();
      await fs.rm(dest, { recursive: true, force: true });
    }
    expect(await contentHashes(src)).toEqual(before);
  });

  it('CLI: says it reads over SFTP and that the copy is not verified against the node (exit 1)', async () => {
    const dest = await makeTempDir('lifeboat-dest-');
    const o = { out: '', err: '' };
    const io = { stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s) };
    try {
      const code = await copyOutCommand(
        [`${sshd.user}@127.0.0.1:${src}`, '--to', dest, '--port', String(sshd.port), '--identity', node.key.privatePath, '--known-hosts', node.knownHostsPath],
        io,
      );
      expect(code, o.err).toBe(1);
      expect(o.err).toContain(`reading ${src} as ${sshd.user}: SFTP: this account cannot run commands`);
      expect(o.out).toMatch(/3 files, .* NOT VERIFIED: the node computed no SHA-256/);
      expect(await contentHashes(path.join(dest, 'k8s-dqlite'))).toEqual(await contentHashes(src));
    } finally {
      await fs.rm(dest, { recursive: true, force: true });
    }
  });
});
