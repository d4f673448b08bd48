/**
 * Copy-out of ROOT-ONLY directories through sudo, against a real sshd, real
 * sudo (a sudoers drop-in for the test user that requires the password,
 * removed afterwards) and a real dqlite data directory (dqlite-demo,
 * SIGKILLed, one payload byte flipped) in a 0700 root directory:
 * - lands byte-identical, node-side and local SHA-256 agree file by file, the
 *   copy validates as the original; only the read-only commands of the plan
 *   ran as root, each announced;
 * - a connection killed mid-copy resumes (`tail -c +N`) to identical hashes,
 *   without asking for the password again;
 * - a directory being written is refused unless forced;
 * - through the handlers (web mode): the plan shows the commands, a wrong
 *   password is a clear refusal of the start, the copy opens in validation;
 * - the password never appears in a command, an event or a file written.
 * Every served tree is hashed (contents, mode, mtime) before and after.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromptRequest } from '../../electron/services/ssh/auth';
import { ROOT_PROBE, SudoRunner, sudoWrapped, type SshConnection, type SudoSession } from '../../electron/services/ssh/connection';
import { CopyOutError, DirectoryChangingError } from '../../electron/services/ssh/copy-out';
import type { SshService } from '../../electron/services/ssh/ssh-service';
import {
  sudoCopyCommands,
  sudoCopyOut,
  sudoFetchCommand,
  sudoFetchRunCommand,
  sudoFileHashCommand,
  sudoTreeHashCommand,
  sudoTreeListCommand,
} from '../../electron/services/ssh/sudo-copy';
import { ValidationService } from '../../electron/services/validation-service';
import { createSampleCatalog } from '../../electron/services/samples';
import { translate } from '../../shared/i18n';
import type { CopyOutProgress } from '../../shared/contract/ssh';
import type { ValidationReport } from '../../shared/contract/report';
import { ensureBuilt, hashTree } from '../cli/fixtures';
import { contentHashes, contentsOf, copyCutOff, expectNowhere, makeRootOnly, startCopyOutNode, waitFor, type CopyOutNode } from '../helpers/copy-out-node';
import { requireDqliteDemo } from '../helpers/dqlite-demo';
import { goldenKilled } from '../helpers/dqlite-goldens';
import { makeTempDir, sshdAvailable, toolAvailable, TEST_USER, type SshdInstance } from '../helpers/sshd';
import { copyDamaged, validateLocally, verdictOf } from '../helpers/ssh-node';
import { sudoersDropIn } from '../helpers/sudoers';
import { sudoTestContext } from '../helpers/sudo-context';

const enabled = sshdAvailable() && toolAvailable('/usr/bin/sudo') && toolAvailable('/usr/sbin/visudo') && requireDqliteDemo();
// Sorts before other test files' drop-ins for the same user, so a NOPASSWD rule of theirs still wins for them.
const sudoers = sudoersDropIn('lifeboat-sudo-copy');

/** The files one `cat -- 'a' 'b' …` run names (test names have no quotes: inside sh -c each is '\''name'\''). */
function namesOfRun(command: string): string[] {
  const m = /^sudo -S -k -p '' sh -c '(.*)'$/s.exec(command);
  const inner = (m ? m[1] : command).split(`'\\''`).join(`'`);
  expect(inner.startsWith('cat -- '), inner).toBe(true);
  return [...inner.slice('cat -- '.length).matchAll(/'([^']*)'/g)].map((x) => x[1]);
}

describe.skipIf(!enabled)('copy-out through sudo (real sshd, real sudo, root-only real dqlite dir)', () => {
  let node: CopyOutNode;
  let ssh: SshService;
  let sshd: SshdInstance;
  let dir: string;
  let backend: string;
  let before: Record<string, string>;
  let reference: ValidationReport;

  beforeAll(async () => {
    await ensureBuilt();
    const golden = await goldenKilled();
    node = await startCopyOutNode('lifeboat-sudo-copy-');
    ({ sshd, dir } = node);
    await sudoers.install(`${TEST_USER} ALL=(root) ALL`);
    backend = path.join(dir, 'node', 'backend');
    await copyDamaged(golden.dataDir, backend);
    await makeRootOnly(backend);
    before = await hashTree(backend);
    reference = await validateLocally(backend);
    expect(reference.engine).toBe('dqlite');
    ssh = node.sshService();
  }, 300_000);

  afterAll(async () => {
    await ssh?.shutdown();
    await sudoers.remove();
    await node?.stop();
  });

  function direct(): Promise<SshConnection> {
    return node.connect();
  }

  function session(asked: PromptRequest[]): SudoSession {
    return { prompt: async (p) => (asked.push(p), [sshd.password]), user: sshd.user, host: sshd.host };
  }

  it('lands byte-identical with matching manifests, runs only the planned read-only commands, and the copy validates as the original', async () => {
    const out = await makeTempDir('lifeboat-sudo-dest-');
    const conn = await direct();
    const sent: string[] = [];
    conn.on('command', (e: { text: string }) => sent.push(e.text));
    const asked: PromptRequest[] = [];
    const sudo = new SudoRunner(conn, session(asked));
    const seen: CopyOutProgress[] = [];
    try {
      const result = await sudoCopyOut({ sudo, remotePath: backend, localDir: out, settleMs: 1100, onProgress: (p) => seen.push(p) });
      expect(result.allMatch).toBe(true);
      expect(result.localPath).toBe(path.join(out, 'backend'));
      expect(result.files.map((f) => f.path).sort()).toEqual(Object.keys(before).sort());
      for (const f of result.files) {
        expect(f.remoteSha256, f.path).toBe(before[f.path].split(':')[0]);
        expect(f.localSha256, f.path).toBe(f.remoteSha256);
      }
      expect(await contentHashes(result.localPath)).toEqual(contentsOf(before));
      expect(result.resumedBytes).toBe(0);
      const manifest = await fs.readFile(result.manifestPath, 'utf8');
      expect(manifest.trim().split('\n').sort()).toEqual(
        Object.entries(contentsOf(before))
          .map(([p, h]) => `${h}  ${p}`)
          .sort(),
      );
      // Progress with throughput and ETA, every file reported.
      expect(seen.at(-1)).toMatchObject({ phase: 'done', bytesDone: result.bytes, bytesTotal: result.bytes, filesDone: result.files.length });
      expect(seen.some((p) => p.phase === 'copying' && p.bytesPerSecond > 0 && p.etaSeconds !== null)).toBe(true);
      expect(seen.map((p) => p.phase).filter((p, i, a) => p !== a[i - 1])).toEqual(['listing', 'hashing-remote', 'copying', 'hashing-local', 'done']);

      // A single root-only file copies too.
      const one = await sudoCopyOut({ sudo, remotePath: path.join(backend, 'metadata1'), localDir: out, settleMs: 0 });
      expect(one.allMatch).toBe(true);
      expect((await fs.readFile(path.join(out, 'metadata1'))).equals(await fs.readFile(path.join(backend, 'metadata1')))).toBe(true);
    } finally {
      conn.close();
    }
    expect(asked).toHaveLength(1);
    // As root only: the sudo probe and password check once, the first listing, then (side by side: the
    // transfer starts at once, the node's hash runs beside it) the hash and one `cat` per file, and
    // the listing after the transfer (one more while it runs when it outlasts the settle time);
    // then the same for the single file.
    const root = sent.filter((t) => t.startsWith('sudo '));
    const wrapped = (c: string) => sudoWrapped(c, 'password');
    const files = Object.keys(before);
    const single = path.join(backend, 'metadata1');
    const singleAt = root.indexOf(wrapped(sudoTreeListCommand(single)));
    expect(root.slice(0, 3)).toEqual(['sudo -n true', `sudo -S -k -p '' true`, wrapped(sudoTreeListCommand(backend))]);
    const dirPart = root.slice(3, singleAt);
    const dirListings = dirPart.filter((c) => c === wrapped(sudoTreeListCommand(backend))).length;
    expect(dirListings === 1 || dirListings === 2, `${dirListings} listings after the first`).toBe(true);
    expect(dirPart.at(-1)).toBe(wrapped(sudoTreeListCommand(backend))); // the one that closes the check
    const others = dirPart.filter((c) => c !== wrapped(sudoTreeListCommand(backend)));
    expect(others.filter((c) => c === wrapped(sudoTreeHashCommand(backend)))).toHaveLength(1);
    // The files go in runs, one `cat` (one sudo) for several: each file in exactly one run, in listing order within it.
    const runs = others.filter((c) => c !== wrapped(sudoTreeHashCommand(backend))).map(namesOfRun);
    expect(runs.length).toBeLessThan(files.length);
    for (const run of runs) expect(others).toContain(wrapped(sudoFetchRunCommand(run)));
    expect(runs.flat().sort()).toEqual(files.map((f) => path.join(backend, f)).sort());
    for (const run of runs) expect(run).toEqual([...run].sort());
    expect(root.slice(singleAt + 1).sort()).toEqual(
      [wrapped(sudoTreeListCommand(single)), wrapped(sudoFileHashCommand(backend, 'metadata1')), wrapped(sudoFetchCommand(single, 0))].sort(),
    );
    // Before them only the read-only check of whether the login user is root (it is not: sudo is used).
    expect(sent).toEqual([ROOT_PROBE, ...root]);
    // The plan shows the same texts (with placeholders for each file and resume point).
    const plan = sudoCopyCommands(backend);
    expect(plan.slice(0, 2)).toEqual([sudoTreeListCommand(backend), sudoTreeHashCommand(backend)]);
    expect(plan[2]).toBe(`${sudoFetchCommand(`${backend}/<file>`, 0)} …`);
    expect(sent.join('\n')).not.toContain(sshd.password);
    expect(await expectNowhere(out, sshd.password)).toBeGreaterThan(Object.keys(before).length);

    expect(verdictOf(await validateLocally(path.join(out, 'backend')))).toEqual(verdictOf(reference));
    await fs.rm(out, { recursive: true, force: true });
    expect(await hashTree(backend)).toEqual(before);
  }, 240_000);

  it('splits one `cat` of several files by their listed sizes, empty files included, byte-identical', async () => {
    const mixed = path.join(dir, 'node', 'mixed');
    const sizes: Record<string, number> = { 'a-empty': 0, b: 1, 'c-empty': 0, d: 70_000, 'sub/e-empty': 0, 'sub/f': 3 * 1024 * 1024 + 5, 'z-empty': 0 };
    await fs.mkdir(path.join(mixed, 'sub'), { recursive: true });
    for (const [rel, size] of Object.entries(sizes)) await fs.writeFile(path.join(mixed, ...rel.split('/')), randomBytes(size));
    await makeRootOnly(mixed);
    const original = await hashTree(mixed);
    const out = await makeTempDir('lifeboat-sudo-dest-');
    const conn = await direct();
    const sent: string[] = [];
    conn.on('command', (e: { text: string }) => sent.push(e.text));
    try {
      const result = await sudoCopyOut({ sudo: new SudoRunner(conn, session([])), remotePath: mixed, localDir: out, settleMs: 0 });
      expect(result.allMatch).toBe(true);
      expect(result.files.map((f) => [f.path, f.size])).toEqual(Object.entries(sizes));
      expect(await contentHashes(result.localPath)).toEqual(contentsOf(original));
      // One sudo, one `cat`, in listing order, from the first file with bytes: a run ends after 1 MiB
      // (sub/f), and a run of empty files (z-empty), like leading ones, needs no command.
      const runs = sent.filter((c) => c.includes(`sh -c 'cat -- `)).map(namesOfRun);
      expect(runs).toEqual([['b', 'c-empty', 'd', 'sub/e-empty', 'sub/f'].map((rel) => path.join(mixed, rel))]);
      expect((await fs.readdir(result.localPath, { recursive: true })).filter((n) => n.endsWith('.partial'))).toEqual([]);
    } finally {
      conn.close();
      await fs.rm(out, { recursive: true, force: true });
    }
    expect(await hashTree(mixed)).toEqual(original);
    await fs.rm(mixed, { recursive: true, force: true });
  }, 60_000);

  it('resumes after the connection is killed mid-copy, with identical hashes and no second password prompt', async () => {
    const big = path.join(dir, 'big');
    await fs.mkdir(big);
    await fs.writeFile(path.join(big, 'a-segment'), randomBytes(64 * 1024 * 1024));
    await fs.writeFile(path.join(big, 'b-segment'), randomBytes(6 * 1024 * 1024));
    await makeRootOnly(big);
    const bigBefore = await hashTree(big);
    const out = await makeTempDir('lifeboat-sudo-dest-');
    const asked: PromptRequest[] = [];
    // The session (password in memory) outlives the connection, as in the handlers.
    const held = session(asked);
    try {
      const conn = await direct();
      const cut = await copyCutOff(sshd, 1024 * 1024, (onProgress) =>
        sudoCopyOut({ sudo: new SudoRunner(conn, held), remotePath: big, localDir: out, settleMs: 0, onProgress }),
      );
      expect(cut.dropped).toBe(true);
      expect(cut.error).toBeInstanceOf(CopyOutError);
      expect((cut.error as CopyOutError).resumable).toBe(true);
      // A partial file stays (bytes received may still have been queued for the disk when the link died: it can
      // be short, even empty); it is never the whole file, and the resume below must finish it with the right hash.
      const partial = await fs.stat(path.join(out, 'big', 'a-segment.partial'));
      expect(partial.size).toBeLessThan(64 * 1024 * 1024);
      conn.close();

      const again = await direct();
      const sent: string[] = [];
      again.on('command', (e: { text: string }) => sent.push(e.text));
      try {
        const result = await sudoCopyOut({ sudo: new SudoRunner(again, held), remotePath: big, localDir: out, settleMs: 0 });
        expect(result.allMatch).toBe(true);
        expect(result.resumedBytes).toBeGreaterThanOrEqual(partial.size);
        expect(await contentHashes(result.localPath)).toEqual(contentsOf(bigBefore));
        await expect(fs.stat(path.join(out, 'big.copyout-state.json'))).rejects.toThrow();
      } finally {
        again.close();
      }
      // It went on from the partial's size: `tail -c +N` with N = size + 1 (a partial the cut left empty, as a loaded
      // machine can, is fetched whole: `cat`).
      expect(sent).toContain(sudoWrapped(sudoFetchCommand(path.join(big, 'a-segment'), partial.size), 'password'));
      expect(sudoFetchCommand(path.join(big, 'a-segment'), partial.size)).toMatch(
        partial.size === 0 ? /^cat -- / : new RegExp(`^tail -c \\+${partial.size + 1} -- `),
      );
      expect(asked).toHaveLength(1);
      // Large files were streamed, not held: each local file hashes like the node's.
      const a = createHash('sha256')
        .update(await fs.readFile(path.join(out, 'big', 'a-segment')))
        .digest('hex');
      expect(a).toBe(bigBefore['a-segment'].split(':')[0]);
    } finally {
      await fs.rm(out, { recursive: true, force: true });
    }
    expect(await hashTree(big)).toEqual(bigBefore);
  }, 240_000);

  it('refuses a root-only directory that is being written, unless forced', async () => {
    const live = path.join(dir, 'live');
    await fs.mkdir(live);
    await fs.writeFile(path.join(live, 'open-3'), randomBytes(4096));
    await fs.writeFile(path.join(live, 'metadata1'), randomBytes(16));
    await makeRootOnly(live);
    const writer = setInterval(() => void fs.appendFile(path.join(live, 'open-3'), randomBytes(512)), 50);
    const out = await makeTempDir('lifeboat-sudo-dest-');
    const conn = await direct();
    const asked: PromptRequest[] = [];
    const sudo = new SudoRunner(conn, session(asked));
    try {
      const err = await sudoCopyOut({ sudo, remotePath: live, localDir: out, settleMs: 400 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectoryChangingError);
      expect((err as DirectoryChangingError).changed.join()).toMatch(/^open-3 \(/);
      expect(await fs.readdir(out)).toEqual([]);
      clearInterval(writer);
      const forced = await sudoCopyOut({ sudo, remotePath: live, localDir: out, settleMs: 100, force: true });
      expect(forced.files.map((f) => f.path)).toEqual(['metadata1', 'open-3']);
    } finally {
      clearInterval(writer);
      conn.close();
      await fs.rm(out, { recursive: true, force: true });
    }
  }, 60_000);

  it('a failed copy-out says why in the failed event as a catalog text (English message as the CLI prints it, Chinese for the UI)', async () => {
    const ctx = sudoTestContext(ssh, () => sshd.password);
    const target = node.target;
    const failedCopy = async (remotePath: string, sudo: boolean) => {
      const plan = await ssh.handlers['ssh.copyout.plan']({ connectionId, remotePath, ...(sudo ? { sudo: true } : {}) }, ctx);
      const { jobId } = await ssh.handlers['ssh.copyout.start']({ connectionId, remotePath, localDir: plan.localDir, ...(sudo ? { sudo: true } : {}) }, ctx);
      return waitFor(() => ctx.of('ssh.copyout.failed').find((e) => e.jobId === jobId), `the failure of ${remotePath}`);
    };
    const connectionId = (await ssh.handlers['ssh.connect']({ target }, ctx)).connectionId;
    try {
      // Over SFTP: a character device is neither a directory nor a file.
      const device = await failedCopy('/dev/null', false);
      expect(device).toMatchObject({
        error: '/dev/null is neither a directory nor a regular file',
        resumable: false,
        text: { key: 'ssh.copyout.error.notDirOrFile', params: { path: '/dev/null' } },
      });
      expect(translate('zh-CN', device.text!.key, device.text!.params)).toBe('/dev/null 既不是目录也不是普通文件');

      // Through sudo: the directory is gone (a typo, or removed since the look); root's listing says so.
      const gone = `${backend}-gone`;
      const missing = await failedCopy(gone, true);
      expect(missing).toMatchObject({
        error: `${gone} does not exist on the node`,
        resumable: false,
        text: { key: 'ssh.error.notFound', params: { path: gone } },
      });
      expect(translate('zh-CN', missing.text!.key, missing.text!.params)).toBe(`节点上不存在 ${gone}`);
      expect(ctx.of('ssh.copyout.done')).toEqual([]);
    } finally {
      await ssh.release(ctx);
    }
    expect(await hashTree(backend)).toEqual(before);
  }, 120_000);

  it('through the handlers (web mode): plan, wrong password refused, copy done and validated, no SFTP, nothing leaks', async () => {
    const service = new ValidationService({ transport: 'web', samples: createSampleCatalog(null), remote: ssh.remoteSources });
    const wrong = sudoTestContext(ssh, () => 'not-the-password');
    const ctx = sudoTestContext(ssh, () => sshd.password);
    const target = node.target;
    try {
      const bad = (await ssh.handlers['ssh.connect']({ target }, wrong)).connectionId;
      const badPlan = await ssh.handlers['ssh.copyout.plan']({ connectionId: bad, remotePath: backend, sudo: true }, wrong);
      await expect(
        ssh.handlers['ssh.copyout.start']({ connectionId: bad, remotePath: backend, localDir: badPlan.localDir, sudo: true }, wrong),
      ).rejects.toMatchObject({
        code: 'sudo-failed',
        message: `sudo on ${sshd.host}: 3 incorrect password attempts`,
        // The UI says it in its language from the catalog text.
        text: { key: 'ssh.sudo.error.wrongPasswordOn', params: { host: sshd.host } },
      });
      expect(wrong.of('ssh.copyout.progress')).toEqual([]);

      const connectionId = (await ssh.handlers['ssh.connect']({ target }, ctx)).connectionId;
      // Without sudo the root-only dir cannot be copied, and the failure says what to do.
      const sftpPlan = await ssh.handlers['ssh.copyout.plan']({ connectionId, remotePath: backend }, ctx);
      expect(sftpPlan.sudo).toBeUndefined();
      const sftpJob = await ssh.handlers['ssh.copyout.start']({ connectionId, remotePath: backend, localDir: sftpPlan.localDir }, ctx);
      const refused = await waitFor(() => ctx.of('ssh.copyout.failed').find((e) => e.jobId === sftpJob.jobId), 'the SFTP refusal');
      expect(refused.error).toMatch(/permission denied.*Use sudo/s);
      expect(refused.text).toEqual({ key: 'ssh.error.sftpPermissionDenied', params: { user: sshd.user, path: backend } });

      const plan = await ssh.handlers['ssh.copyout.plan']({ connectionId, remotePath: backend + '/', sudo: true }, ctx);
      expect(plan).toMatchObject({ remotePath: backend, sudo: true, confined: true, commands: sudoCopyCommands(backend) });
      const sftpBefore = ctx.of('ssh.command').filter((c) => c.kind === 'sftp').length;
      const { jobId } = await ssh.handlers['ssh.copyout.start']({ connectionId, remotePath: plan.remotePath, localDir: plan.localDir, sudo: true }, ctx);
      const done = await waitFor(() => ctx.of('ssh.copyout.done').find((e) => e.jobId === jobId), 'the copy');
      expect(done.result.allMatch).toBe(true);
      expect(await contentHashes(done.result.localPath)).toEqual(contentsOf(before));
      expect(ctx.prompts).toBe(1);
      expect(ctx.of('ssh.command').filter((c) => c.kind === 'sftp')).toHaveLength(sftpBefore);
      // Every command it ran as root was announced and ended with exit 0.
      const rootCommands = ctx.of('ssh.command').filter((c) => c.text.startsWith(`sudo -S -k -p '' sh -c`));
      // The hash, one `cat` per file, and the listings: before, after, and one while copying if that outlasts the settle time.
      const listings = rootCommands.filter((c) => c.text === sudoWrapped(sudoTreeListCommand(backend), 'password')).length;
      const fetches = rootCommands.filter((c) => c.text.includes(`sh -c 'cat -- `)).map((c) => namesOfRun(c.text));
      expect(fetches.flat().sort()).toEqual(
        Object.keys(before)
          .map((f) => path.join(backend, f))
          .sort(),
      );
      expect(rootCommands.length - listings).toBe(1 + fetches.length); // and the hash
      expect(listings === 2 || listings === 3, `${listings} listings`).toBe(true);
      for (const c of rootCommands) expect(ctx.of('ssh.command.end').find((e) => e.id === c.id)?.code, c.text).toBe(0);

      // The copy opens in validation by its job id, with the original's verdict.
      const v = await service.start({ kind: 'copy', jobId }, ctx);
      const report = await waitFor(() => ctx.of('validation.done').find((e) => e.jobId === v.jobId)?.report, 'the copy’s report');
      expect(verdictOf(report)).toEqual(verdictOf(reference));
      await ssh.release(ctx);
      await ssh.release(wrong);
    } finally {
      await service.shutdown();
    }
    expect(JSON.stringify([...ctx.events, ...wrong.events])).not.toContain(sshd.password);
    await expectNowhere(path.join(dir, 'copies'), sshd.password);
    await expectNowhere(path.join(dir, 'recordings'), sshd.password);
    expect(await hashTree(backend)).toEqual(before);
  }, 240_000);
});
