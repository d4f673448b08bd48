/**
 * Validation in place of a ROOT-ONLY data directory through sudo, against a
 * real sshd, real sudo (a sudoers drop-in for the test user that requires
 * the password, removed afterwards) and a real dqlite data directory
 * (dqlite-demo, SIGKILLed, one payload byte flipped) copied into a 0700 root
 * directory:
 * - SFTP is refused (permission denied); with sudo the verdict and findings
 *   are local validation's, batches too;
 * - the sudo password is asked once per connection and reused; it never
 *   appears in an announced command, an event or a file we wrote;
 * - names with spaces, quotes, `$(…)` and newlines are listed and read
 *   exactly (nothing is executed), with the texts the panel shows;
 * - a wrong password and a cancelled prompt are clear errors; a missing
 *   directory is `not-found`.
 * Every served tree is hashed (contents, mode, mtime) before and after.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromptRequest } from '../../electron/services/ssh/auth';
import { ROOT_PROBE, SUDO_CHECK_PASSWORD, SUDO_PROBE, SudoRunner, sudoWrapped, type SshConnection } from '../../electron/services/ssh/connection';
import { SshService } from '../../electron/services/ssh/ssh-service';
import { sudoDirectory, sudoLinkedFileStatCommand, sudoListCommand, sudoReadCommand } from '../../electron/services/ssh/sudo-source';
import { localDirectory } from '../../electron/services/fs-source';
import { ValidationService } from '../../electron/services/validation-service';
import { createSampleCatalog } from '../../electron/services/samples';
import { listSegmentBatches } from '../../shared/formats/dqlite/validate';
import type { ValidationReport } from '../../shared/contract/report';
import * as panel from '../../renderer/src/features/node/commands';
import { ensureBuilt, hashTree } from '../cli/fixtures';
import { requireDqliteDemo } from '../helpers/dqlite-demo';
import { goldenKilled } from '../helpers/dqlite-goldens';
import { makeTempDir, sshdAvailable, startSshd, toolAvailable, TEST_USER, type KeyPair, type SshdInstance } from '../helpers/sshd';
import { connectByKey, copyDamaged, keyClient, validateLocalPath, validateLocally } from '../helpers/ssh-node';
import { sudoersDropIn } from '../helpers/sudoers';
import { sudoTestContext, validationOutcome, type SudoTestContext } from '../helpers/sudo-context';

const enabled = sshdAvailable() && toolAvailable('/usr/bin/sudo') && toolAvailable('/usr/sbin/visudo') && requireDqliteDemo();
// Sorts before other test files' drop-ins for the same user, so a NOPASSWD rule of theirs still wins for them.
const sudoers = sudoersDropIn('lifeboat-sudo-source');

function verdictOf(r: ValidationReport) {
  return { engine: r.engine, startable: r.startable, dataLoss: r.dataLoss, lost: r.lost, findings: r.findings, summary: r.summary };
}

/** Byte equality without a deep-equality walk over megabytes. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Every regular file under `root` as text (to look for the password in what we wrote). */
async function filesUnder(root: string): Promise<string[]> {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const e of await fs.readdir(root, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  }
  return out;
}

describe.skipIf(!enabled)('validation in place through sudo (real sshd, real sudo, root-only real dqlite dir)', () => {
  let ssh: SshService;
  let sshd: SshdInstance;
  let dir: string;
  let key: KeyPair;
  let knownHostsPath: string;
  let rootOnly: string;
  let before: Record<string, string>;
  let damagedSegment: string;
  let reference: ValidationReport;

  beforeAll(async () => {
    await ensureBuilt();
    const golden = await goldenKilled();
    [sshd, dir] = await Promise.all([startSshd(), makeTempDir('lifeboat-sudo-src-')]);
    ({ key, knownHostsPath } = await keyClient(sshd, dir));
    await sudoers.install(`${TEST_USER} ALL=(root) ALL`);
    // As MicroK8s's backend: owned by root, 0700; the login user cannot even list it.
    rootOnly = path.join(dir, 'node', 'backend');
    damagedSegment = await copyDamaged(golden.dataDir, rootOnly);
    for (const n of await fs.readdir(rootOnly)) await fs.chmod(path.join(rootOnly, n), 0o600);
    await fs.chmod(rootOnly, 0o700);
    before = await hashTree(rootOnly);
    reference = await validateLocally(rootOnly);
    expect(reference.engine).toBe('dqlite');
    expect(reference.findings.some((f) => f.severity === 'error' && f.file === damagedSegment)).toBe(true);
    ssh = new SshService({
      paths: {
        keysDir: dir,
        knownHostsPath,
        auditLogPath: path.join(dir, 'audit.jsonl'),
        recordingsDir: path.join(dir, 'recordings'),
        copiesRoot: path.join(dir, 'copies'),
      },
    });
  }, 300_000);

  afterAll(async () => {
    await ssh?.shutdown();
    await sudoers.remove();
    await sshd?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  function direct(): Promise<SshConnection> {
    return connectByKey(sshd, { key, knownHostsPath });
  }

  async function connect(ctx: SudoTestContext): Promise<string> {
    const { connectionId } = await ssh.handlers['ssh.connect'](
      { target: { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [key.privatePath], useAgent: false } },
      ctx,
    );
    return connectionId;
  }

  it('lists and reads awkward names exactly, with the texts the panel shows, asking for the password once', async () => {
    const awkward = path.join(dir, "awkward $(dir) it's");
    await fs.mkdir(awkward, { mode: 0o700 });
    // Were a name ever run by a shell, it would leave this file in the working directory (the login user's home).
    const canary = `lifeboat-pwned-${process.pid}`;
    const names = ['plain', 'with space', `it's "quoted"`, `$(touch ${canary})`, `\`touch ${canary}\`; x`, 'new\nline', 'tab\there', '数据-段'];
    const contents = new Map<string, Buffer>();
    for (const [i, n] of names.entries()) {
      const b = randomBytes(i === 0 ? 5 * 1024 * 1024 + 123 : 1000 + i);
      contents.set(n, b);
      await fs.writeFile(path.join(awkward, n), b, { mode: 0o600 });
    }
    const awkwardBefore = await hashTree(awkward);
    const conn = await direct();
    const sent: string[] = [];
    conn.on('command', (e: { text: string }) => sent.push(e.text));
    const asked: PromptRequest[] = [];
    const sudo = new SudoRunner(conn, { prompt: async (p) => (asked.push(p), [sshd.password]), user: sshd.user, host: sshd.host });
    const src = sudoDirectory(sudo, awkward);
    try {
      const listed = await src.list();
      expect(listed.map((e) => e.name).sort()).toEqual([...names].sort());
      for (const e of listed) {
        expect(e.kind).toBe('file');
        expect(e.size).toBe(contents.get(e.name)!.length);
        expect(Math.abs(e.mtimeMs! - (await fs.stat(path.join(awkward, e.name))).mtimeMs)).toBeLessThan(1);
      }
      for (const n of names) {
        const f = await src.open(n);
        const want = contents.get(n)!;
        expect(f.size).toBe(want.length);
        expect(sameBytes(await f.read(0, want.length), want.subarray(0, Math.min(want.length, 4 * 1024 * 1024))), n).toBe(true);
      }
      // The big file in the validator's pattern (1 MiB windows in order), then jumps, a tail and past the end.
      const big = await src.open('plain');
      const want = contents.get('plain')!;
      const got: Buffer[] = [];
      for (let at = 0; at < want.length; at += 1024 * 1024) got.push(Buffer.from(await big.read(at, 1024 * 1024)));
      expect(sameBytes(Buffer.concat(got), want)).toBe(true);
      expect(Buffer.from(await big.read(3_000_001, 77))).toEqual(want.subarray(3_000_001, 3_000_078));
      expect(Buffer.from(await big.read(want.length - 5, 100))).toEqual(want.subarray(want.length - 5));
      expect((await big.read(want.length + 10, 10)).length).toBe(0);
      await expect(src.open('../etc/shadow')).rejects.toThrow(/plain file name/);
      await expect(src.open('missing')).rejects.toThrow(/does not exist/);
    } finally {
      await src.close();
      conn.close();
    }
    for (const home of [`/home/${TEST_USER}`, '/root', '/']) expect(existsSync(path.join(home, canary))).toBe(false);
    expect(asked).toEqual([{ kind: 'sudo', user: sshd.user, host: sshd.host, attempt: 1 }]);
    // Exactly: whether the login user is root (no), one sudo probe, one password check, then each command once as `sudo -S -k -p '' sh -c '…'`.
    expect(sent.slice(0, 4)).toEqual([ROOT_PROBE, SUDO_PROBE, SUDO_CHECK_PASSWORD, sudoWrapped(sudoListCommand(awkward), 'password')]);
    expect(sent.filter((t) => t === ROOT_PROBE)).toHaveLength(1);
    expect(sent.filter((t) => t === SUDO_PROBE || t === SUDO_CHECK_PASSWORD)).toHaveLength(2);
    // What the panel shows is what was sent.
    expect(panel.sudoListCommand(awkward)).toBe(sudoListCommand(awkward));
    expect(panel.sudoListCommand(awkward + '/')).toBe(sudoListCommand(awkward));
    expect(panel.sudoLinkedFileStatCommand(path.join(awkward, 'plain'))).toBe(sudoLinkedFileStatCommand(path.join(awkward, 'plain')));
    // The first read of `plain` asked for 4 MiB (MAX_READ) at 0.
    const firstRead = sent.find((t) => t.includes(`sh -c 'dd `))!;
    expect(firstRead).toBe(sudoWrapped(panel.sudoReadCommand(path.join(awkward, 'plain'), 0, 4 * 1024 * 1024), 'password'));
    expect(panel.SUDO_SERIES_TEXTS.probe).toBe(SUDO_PROBE);
    expect(panel.SUDO_SERIES_TEXTS.checkPassword).toBe(SUDO_CHECK_PASSWORD);
    expect(sudoWrapped('…', 'password')).toBe(panel.SUDO_SERIES_TEXTS.withPassword);
    expect(sudoWrapped('…', 'passwordless')).toBe(panel.SUDO_SERIES_TEXTS.passwordless);
    // Windows grow while reading in order: far fewer reads than the 1 MiB windows asked for.
    const plainRead = sudoWrapped(sudoReadCommand(path.join(awkward, 'plain'), 0, 1), 'password').split(' skip=')[0];
    expect(sent.filter((t) => t.startsWith(plainRead)).length).toBeLessThanOrEqual(3);
    expect(sent.join('\n')).not.toContain(sshd.password);
    expect(await hashTree(awkward)).toEqual(awkwardBefore);
  }, 120_000);

  it('SFTP is refused on the root-only dir; with sudo the verdict, findings and batches are local validation’s', async () => {
    const service = new ValidationService({ transport: 'web', samples: createSampleCatalog(null), remote: ssh.remoteSources });
    const ctx = sudoTestContext(ssh, () => sshd.password);
    try {
      const connectionId = await connect(ctx);
      await expect(service.start({ kind: 'remote', connectionId, path: rootOnly }, ctx)).rejects.toMatchObject({ code: 'permission-denied' });
      await expect(service.start({ kind: 'remote', connectionId, path: rootOnly }, ctx)).rejects.toThrow(/Use sudo/);
      expect(ctx.prompts).toBe(0);

      const { jobId } = await service.start({ kind: 'remote', connectionId, path: rootOnly + '/', sudo: true }, ctx);
      const end = await validationOutcome(ctx, jobId);
      expect(end.error).toBeUndefined();
      expect(verdictOf(end.report!)).toEqual(verdictOf(reference));
      expect(end.report!.root).toBe(`${sshd.user}@${sshd.host}:${rootOnly}`);
      const batches = await service.batches(jobId, damagedSegment);
      const local = localDirectory(rootOnly);
      try {
        expect(batches).toEqual(await listSegmentBatches(local, damagedSegment));
      } finally {
        await local.close();
      }
      expect(batches.some((b) => b.dataCrc === 'bad')).toBe(true);
      // A second validation on the same connection: no second prompt.
      const again = await service.start({ kind: 'remote', connectionId, path: rootOnly, sudo: true }, ctx);
      expect(verdictOf((await validationOutcome(ctx, again.jobId)).report!)).toEqual(verdictOf(reference));
      expect(ctx.prompts).toBe(1);
      // The session log: only the listing and dd reads ran as root, each announced and ended with exit 0.
      const commands = ctx.of('ssh.command').filter((c) => c.kind === 'exec');
      const rootCommands = commands.filter((c) => c.text.startsWith('sudo -S'));
      expect(rootCommands.length).toBeGreaterThan(3);
      for (const c of rootCommands) {
        expect(c.text).toMatch(/^sudo -S -k -p '' (true|sh -c '(find -H |dd if=))/);
        const ended = ctx.of('ssh.command.end').find((e) => e.id === c.id);
        expect(ended?.code, c.text).toBe(0);
      }
      expect(commands.some((c) => c.text === sudoWrapped(sudoListCommand(rootOnly), 'password'))).toBe(true);
      await ssh.release(ctx);
    } finally {
      await service.shutdown();
    }
    // Never in what was announced or emitted, nor in anything we wrote.
    expect(JSON.stringify(ctx.events)).not.toContain(sshd.password);
    for (const f of [...(await filesUnder(path.join(dir, 'recordings'))), knownHostsPath]) {
      expect(await fs.readFile(f, 'latin1')).not.toContain(sshd.password);
    }
    expect(await hashTree(rootOnly)).toEqual(before);
  }, 180_000);

  it('a wrong password, a cancelled prompt and a missing directory are clear errors, and start no job; a file is read as one', async () => {
    const service = new ValidationService({ transport: 'web', samples: createSampleCatalog(null), remote: ssh.remoteSources });
    const wrong = sudoTestContext(ssh, () => 'not-the-password');
    const cancelling = sudoTestContext(ssh, () => null);
    try {
      const a = await connect(wrong);
      const err = await service.start({ kind: 'remote', connectionId: a, path: rootOnly, sudo: true }, wrong).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'sudo-failed' });
      expect((err as Error).message).toMatch(/3 incorrect password attempts/);
      expect(wrong.prompts).toBe(3);
      expect(wrong.of('validation.done')).toEqual([]);

      const b = await connect(cancelling);
      await expect(service.start({ kind: 'remote', connectionId: b, path: rootOnly, sudo: true }, cancelling)).rejects.toMatchObject({
        code: 'sudo-failed',
        message: expect.stringMatching(/cancelled/) as unknown,
      });
      await expect(service.start({ kind: 'remote', connectionId: b, path: rootOnly, sudo: 'yes' } as never, cancelling)).rejects.toMatchObject({
        code: 'bad-params',
      });

      const ok = sudoTestContext(ssh, () => sshd.password);
      const c = await connect(ok);
      await expect(service.start({ kind: 'remote', connectionId: c, path: path.join(dir, 'nope'), sudo: true }, ok)).rejects.toMatchObject({
        code: 'not-found',
      });
      // A file is no error: it is read as a local file is (a folder of that one file), with the same report.
      const segment = path.join(rootOnly, damagedSegment);
      const one = await service.start({ kind: 'remote', connectionId: c, path: segment, sudo: true }, ok);
      const local = await validateLocalPath(segment);
      expect(verdictOf((await validationOutcome(ok, one.jobId)).report!)).toEqual(verdictOf(local));
      await ssh.release(ok);
      await ssh.release(wrong);
      await ssh.release(cancelling);
    } finally {
      await service.shutdown();
    }
    expect(JSON.stringify([...wrong.events, ...cancelling.events])).not.toContain(sshd.password);
    expect(await hashTree(rootOnly)).toEqual(before);
  }, 120_000);
});
