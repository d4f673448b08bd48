/**
 * "Reading the node" in the back end, against a real sshd serving a real
 * dqlite data directory (dqlite-demo, SIGKILLed, one byte flipped):
 * - `{ kind: 'remote' }` validates in place over SFTP (the worker asks the
 *   main process for bytes) with the same verdict and findings as local;
 * - a root-only directory or file is a clear "permission denied" with what to
 *   do instead, answered by validation.start itself;
 * - cancel stops a remote job;
 * - `{ kind: 'copy' }` resolves only to a finished copy job of the same
 *   client (web mode included), never to another job or another client's copy;
 * - every command run on the node is announced before it runs, exact text.
 * - a k3s database folder read in place is exported (its WAL listed there)
 *   with the same files as a local export.
 * The served directories are hashed before and after: never modified.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DqliteRebuildService } from '../../electron/services/dqlite-rebuild-jobs';
import { exportKineObjects } from '../../electron/services/kine-export';
import { KineExportService } from '../../electron/services/kine-export-jobs';
import type { ApiEvents, EventName } from '../../shared/contract/api';
import type { ValidationReport } from '../../shared/contract/report';
import type { SshEvents } from '../../shared/contract/ssh';
import type { CallContext } from '../../electron/services/registry';
import { createSampleCatalog } from '../../electron/services/samples';
import { SshService } from '../../electron/services/ssh/ssh-service';
import { localDirectory } from '../../electron/services/fs-source';
import { ValidationService } from '../../electron/services/validation-service';
import { listSegmentBatches } from '../../shared/formats/dqlite/validate';
import { ensureBuilt, hashTree } from '../cli/fixtures';
import { requireDqliteDemo } from '../helpers/dqlite-demo';
import { goldenKilled } from '../helpers/dqlite-goldens';
import { makeTempDir, sshdAvailable, startSshd, type KeyPair, type SshdInstance } from '../helpers/sshd';
import { copyDamaged, keyClient, validateLocally } from '../helpers/ssh-node';
import { makeKineStateDb, sqliteLiveKeys } from '../helpers/kine-db';

const enabled = sshdAvailable() && requireDqliteDemo();

interface Recorded {
  event: EventName;
  payload: ApiEvents[EventName];
}

type TestContext = CallContext & {
  events: Recorded[];
  /** The first event for which `pred` holds (waits up to 60 s). */
  waitFor<E extends EventName>(event: E, pred: (p: ApiEvents[E]) => boolean): Promise<ApiEvents[E]>;
  of<E extends EventName>(event: E): ApiEvents[E][];
};

function testContext(transport: 'electron' | 'web'): TestContext {
  const events: Recorded[] = [];
  const waiters: (() => void)[] = [];
  const ctx: TestContext = {
    transport,
    events,
    emit(event, payload) {
      events.push({ event, payload });
      for (const w of waiters.splice(0)) w();
    },
    of<E extends EventName>(event: E) {
      return events.filter((e) => e.event === event).map((e) => e.payload as ApiEvents[E]);
    },
    waitFor<E extends EventName>(event: E, pred: (p: ApiEvents[E]) => boolean) {
      return new Promise<ApiEvents[E]>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no ${event} event`)), 60_000);
        const check = (): void => {
          const hit = ctx.of(event).find(pred);
          if (hit) {
            clearTimeout(t);
            resolve(hit);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
  return ctx;
}

/** What a user reads in a report; timing and bytes-read differ between sources by nature. */
function verdictOf(r: ValidationReport) {
  return { engine: r.engine, startable: r.startable, dataLoss: r.dataLoss, lost: r.lost, findings: r.findings, summary: r.summary };
}

/** Content hashes only: a copy has its own mtimes (hashTree records `sha256:mode:mtime`). */
function contentsOf(tree: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, v.split(':')[0]]));
}

/** A validation job's end: the report, or the failure. */
async function outcome(ctx: TestContext, jobId: string): Promise<{ report?: ValidationReport; error?: string; cancelled?: boolean }> {
  const isEnd = (e: Recorded) => (e.event === 'validation.done' || e.event === 'validation.failed') && (e.payload as { jobId: string }).jobId === jobId;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('validation did not end')), 120_000);
    const tick = (): void => {
      if (ctx.events.some(isEnd)) {
        clearTimeout(t);
        resolve();
      } else setTimeout(tick, 20);
    };
    tick();
  });
  const end = ctx.events.find(isEnd)!;
  if (end.event === 'validation.done') return { report: (end.payload as ApiEvents['validation.done']).report };
  const f = end.payload as ApiEvents['validation.failed'];
  return { error: f.error, cancelled: f.cancelled };
}

describe.skipIf(!enabled)('reading the node: remote and copy validation sources (real sshd, real dqlite dir)', () => {
  let ssh: SshService;
  let sshd: SshdInstance;
  let dir: string;
  let served: string;
  let servedBefore: Record<string, string>;
  let damagedSegment: string;
  let key: KeyPair;
  let reference: ValidationReport;

  beforeAll(async () => {
    await ensureBuilt();
    const golden = await goldenKilled();
    [sshd, dir] = await Promise.all([startSshd(), makeTempDir('lifeboat-remote-val-')]);
    served = path.join(dir, 'node', 'k8s-dqlite');
    damagedSegment = await copyDamaged(golden.dataDir, served);
    for (const d of [dir, path.dirname(served), served]) await fs.chmod(d, 0o755);
    for (const n of await fs.readdir(served)) await fs.chmod(path.join(served, n), 0o644);
    servedBefore = await hashTree(served);

    let kh: string;
    ({ key, knownHostsPath: kh } = await keyClient(sshd, dir));
    ssh = new SshService({
      paths: { keysDir: dir, knownHostsPath: kh, auditLogPath: path.join(dir, 'audit.jsonl'), recordingsDir: null, copiesRoot: path.join(dir, 'copies') },
    });

    reference = await validateLocally(served);
    expect(reference.engine).toBe('dqlite');
    expect(reference.findings.some((f) => f.severity === 'error' && f.file === damagedSegment)).toBe(true);
  }, 300_000);

  afterAll(async () => {
    await ssh?.shutdown();
    await sshd?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  async function connect(ctx: TestContext): Promise<string> {
    const { connectionId } = await ssh.handlers['ssh.connect'](
      { target: { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [key.privatePath], useAgent: false } },
      ctx,
    );
    return connectionId;
  }

  it('validates in place over SFTP with the same verdict and findings as local validation (web mode)', async () => {
    const service = new ValidationService({ transport: 'web', samples: createSampleCatalog(null), remote: ssh.remoteSources });
    const ctx = testContext('web');
    try {
      const connectionId = await connect(ctx);
      const { jobId } = await service.start({ kind: 'remote', connectionId, path: served + '/' }, ctx);
      const end = await outcome(ctx, jobId);
      expect(end.error).toBeUndefined();
      const report = end.report!;
      expect(verdictOf(report)).toEqual(verdictOf(reference));
      // The report says where it was read: user@host:/path.
      expect(report.root).toBe(`${sshd.user}@${sshd.host}:${served}`);
      expect(report.bytesRead).toBeGreaterThan(0);
      // Batches of a segment are read again over the same connection.
      const batches = await service.batches(jobId, damagedSegment);
      const local = localDirectory(served);
      try {
        expect(batches).toEqual(await listSegmentBatches(local, damagedSegment));
      } finally {
        await local.close();
      }
      expect(batches.some((b) => b.dataCrc === 'bad')).toBe(true);
      // The session log names the read-only SFTP access.
      expect(ctx.of('ssh.command').some((c) => c.kind === 'sftp' && c.text.includes(served))).toBe(true);
      await ssh.release(ctx);
    } finally {
      await service.shutdown();
    }
    expect(await hashTree(served)).toEqual(servedBefore);
  }, 120_000);

  it('says clearly when the login user may not read the directory or its files, and what to do', async () => {
    const service = new ValidationService({ transport: 'web', samples: createSampleCatalog(null), remote: ssh.remoteSources });
    const ctx = testContext('web');
    // Root-only, as MicroK8s and etcd data dirs usually are.
    const rootOnly = path.join(dir, 'root-only');
    await fs.cp(served, rootOnly, { recursive: true });
    await fs.chmod(rootOnly, 0o700);
    const filesRootOnly = path.join(dir, 'files-root-only');
    await fs.cp(served, filesRootOnly, { recursive: true });
    await fs.chmod(filesRootOnly, 0o755);
    for (const n of await fs.readdir(filesRootOnly)) await fs.chmod(path.join(filesRootOnly, n), 0o600);
    try {
      const connectionId = await connect(ctx);
      for (const p of [rootOnly, filesRootOnly]) {
        const err = await service.start({ kind: 'remote', connectionId, path: p }, ctx).then(
          () => null,
          (e: unknown) => e as { code?: string; message: string },
        );
        expect(err, p).not.toBeNull();
        expect(err!.code).toBe('permission-denied');
        expect(err!.message).toContain(`${sshd.user} cannot read ${p}`);
        expect(err!.message).toMatch(/SFTP runs as the login user/);
        expect(err!.message).toMatch(/sudo/);
      }
      const missing = await service.start({ kind: 'remote', connectionId, path: path.join(dir, 'nope') }, ctx).catch((e: unknown) => e);
      expect(missing).toMatchObject({ code: 'not-found' });
      // No job was started for any of them.
      expect(ctx.of('validation.failed')).toEqual([]);
      expect(ctx.of('validation.done')).toEqual([]);
      await ssh.release(ctx);
    } finally {
      await service.shutdown();
    }
  }, 120_000);

  it('cancel stops a remote validation: one cancelled event, no report', async () => {
    const service = new ValidationService({ transport: 'web', samples: createSampleCatalog(null), remote: ssh.remoteSources });
    const ctx = testContext('web');
    try {
      const connectionId = await connect(ctx);
      const { jobId } = await service.start({ kind: 'remote', connectionId, path: served }, ctx);
      expect(service.cancel(jobId)).toEqual({ cancelled: true });
      const end = await outcome(ctx, jobId);
      expect(end).toEqual({ error: 'cancelled', cancelled: true });
      await new Promise((r) => setTimeout(r, 1500));
      expect(ctx.of('validation.done')).toEqual([]);
      expect(ctx.of('validation.failed')).toHaveLength(1);
      // The connection is still usable afterwards.
      const again = await service.start({ kind: 'remote', connectionId, path: served }, ctx);
      const second = await outcome(ctx, again.jobId);
      expect(second.report && verdictOf(second.report)).toEqual(verdictOf(reference));
      await ssh.release(ctx);
    } finally {
      await service.shutdown();
    }
  }, 120_000);

  it('another client cannot use a connection it did not open', async () => {
    const service = new ValidationService({ transport: 'web', samples: createSampleCatalog(null), remote: ssh.remoteSources });
    const owner = testContext('web');
    const other = testContext('web');
    try {
      const connectionId = await connect(owner);
      await expect(service.start({ kind: 'remote', connectionId, path: served }, other)).rejects.toMatchObject({ code: 'unknown-connection' });
      await expect(service.start({ kind: 'remote', connectionId, path: 'relative/dir' }, owner)).rejects.toMatchObject({ code: 'bad-params' });
      await ssh.release(owner);
    } finally {
      await service.shutdown();
    }
  }, 60_000);

  it('copy-out shows its commands first, stays under the copies root in web mode, and its copy validates as the original', async () => {
    const service = new ValidationService({ transport: 'web', samples: createSampleCatalog(null), remote: ssh.remoteSources });
    const ctx = testContext('web');
    const other = testContext('web');
    try {
      const connectionId = await connect(ctx);
      const plan = await ssh.handlers['ssh.copyout.plan']({ connectionId, remotePath: served + '//' }, ctx);
      expect(plan.remotePath).toBe(served);
      expect(plan.confined).toBe(true);
      expect(plan.copiesRoot).toBe(path.join(dir, 'copies'));
      expect(path.dirname(plan.localDir)).toBe(plan.copiesRoot);
      expect(path.basename(plan.localDir)).toMatch(new RegExp(`^${sshd.host.replace(/\./g, '\\.')}-\\d{4}-\\d{2}-\\d{2}$`));

      // Web mode: outside the copies root (directly, by `..`, or through a symlink) is refused.
      for (const localDir of ['/tmp/elsewhere', path.join(plan.copiesRoot, '..', 'escape'), plan.copiesRoot]) {
        await expect(ssh.handlers['ssh.copyout.start']({ connectionId, remotePath: served, localDir }, ctx)).rejects.toMatchObject({ code: 'forbidden' });
      }
      await fs.mkdir(plan.copiesRoot, { recursive: true });
      await fs.symlink('/tmp', path.join(plan.copiesRoot, 'link-out'));
      await expect(
        ssh.handlers['ssh.copyout.start']({ connectionId, remotePath: served, localDir: path.join(plan.copiesRoot, 'link-out', 'x') }, ctx),
      ).rejects.toMatchObject({ code: 'forbidden' });

      // A validation job id, an unknown id and a running copy are not copies to validate.
      const remoteJob = await service.start({ kind: 'remote', connectionId, path: served }, ctx);
      await outcome(ctx, remoteJob.jobId);
      await expect(service.start({ kind: 'copy', jobId: remoteJob.jobId }, ctx)).rejects.toMatchObject({ code: 'unknown-copy' });
      await expect(service.start({ kind: 'copy', jobId: 'no-such-job' }, ctx)).rejects.toMatchObject({ code: 'unknown-copy' });
      await expect(service.start({ kind: 'copy', jobId: { path: '/etc' } } as never, ctx)).rejects.toMatchObject({ code: 'bad-params' });

      const { jobId } = await ssh.handlers['ssh.copyout.start']({ connectionId, remotePath: plan.remotePath, localDir: plan.localDir }, ctx);
      await expect(service.start({ kind: 'copy', jobId }, ctx)).rejects.toMatchObject({ code: 'not-finished' });
      const done = await ctx.waitFor('ssh.copyout.done', (e) => e.jobId === jobId);
      expect(done.result.allMatch).toBe(true);
      expect(done.result.localPath).toBe(path.join(plan.localDir, 'k8s-dqlite'));
      expect(contentsOf(await hashTree(done.result.localPath))).toEqual(contentsOf(servedBefore));

      // The hash command was announced, exact text, before it ended; and it is the plan's.
      const commands = ctx.of('ssh.command');
      const hash = commands.find((c) => c.kind === 'exec' && c.text === plan.commands[0]);
      expect(hash).toBeDefined();
      const ends = ctx.events.filter((e) => e.event === 'ssh.command.end' && (e.payload as SshEvents['ssh.command.end']).id === hash!.id);
      expect(ends).toHaveLength(1);
      expect(ctx.events.findIndex((e) => e.payload === hash)).toBeLessThan(ctx.events.indexOf(ends[0]));
      expect((ends[0].payload as SshEvents['ssh.command.end']).code).toBe(0);

      // Another client cannot reach this copy.
      await expect(service.start({ kind: 'copy', jobId }, other)).rejects.toMatchObject({ code: 'unknown-copy' });
      // This client validates it, by job id only, and gets the original's verdict.
      const copyJob = await service.start({ kind: 'copy', jobId }, ctx);
      const end = await outcome(ctx, copyJob.jobId);
      expect(end.report && verdictOf(end.report)).toEqual(verdictOf(reference));
      expect(end.report?.root).toBe('k8s-dqlite');

      // The way to rebuild a node's databases: the directory read in place is refused (with what to do), its copy is rebuilt.
      const rebuild = new DqliteRebuildService({ validation: service, outputRoot: () => plan.copiesRoot });
      const inPlace = rebuild.plan(remoteJob.jobId, ctx);
      expect(inPlace.refusalText).toEqual({ key: 'dqliteRebuildUi.refuse.remote' });
      expect(inPlace.refusal).toContain('copy it out first');
      await expect(rebuild.start(remoteJob.jobId, path.join(plan.copiesRoot, 'r-in-place'), ctx)).rejects.toMatchObject({ code: 'unsupported' });
      expect(rebuild.plan(copyJob.jobId, ctx)).toMatchObject({ input: done.result.localPath, refusal: null, outputRoot: plan.copiesRoot });
      const copyBefore = await hashTree(done.result.localPath);
      const out = path.join(plan.copiesRoot, 'rebuilt');
      const { rebuildId } = await rebuild.start(copyJob.jobId, out, ctx);
      const rebuilt = await ctx.waitFor('dqlite.rebuild.done', (e) => e.rebuildId === rebuildId);
      expect(rebuilt.report.input).toBe(done.result.localPath);
      expect(rebuilt.report.output).toBe(out);
      expect(rebuilt.report.databases.length).toBeGreaterThan(0);
      for (const d of rebuilt.report.databases) expect((await fs.stat(path.join(out, d.file))).size).toBe(d.bytes);
      expect(await hashTree(done.result.localPath)).toEqual(copyBefore);
      rebuild.shutdown();
      await ssh.release(ctx);
      // Gone with its client.
      await expect(service.start({ kind: 'copy', jobId }, ctx)).rejects.toMatchObject({ code: 'unknown-copy' });
    } finally {
      await service.shutdown();
    }
    expect(await hashTree(served)).toEqual(servedBefore);
  }, 180_000);

  it("exports a k3s database's objects read in place over SFTP: the same files as a local export, the node's files unchanged", async () => {
    const k3s = makeKineStateDb(path.join(dir, 'node', 'k3s-db'));
    for (const d of [path.dirname(k3s.dir), k3s.dir]) await fs.chmod(d, 0o755);
    for (const n of await fs.readdir(k3s.dir)) await fs.chmod(path.join(k3s.dir, n), 0o644);
    const before = await hashTree(k3s.dir);
    const service = new ValidationService({ transport: 'web', samples: createSampleCatalog(null), remote: ssh.remoteSources });
    const ctx = testContext('web');
    const copies = path.join(dir, 'copies');
    const exporter = new KineExportService({ validation: service, outputRoot: () => copies });
    try {
      const connectionId = await connect(ctx);
      const { jobId } = await service.start({ kind: 'remote', connectionId, path: k3s.dir }, ctx);
      const end = await outcome(ctx, jobId);
      expect(end.report?.findings.map((f) => [f.code, f.params?.file])).toEqual([['engine.sqlite', 'state.db']]);
      // Read in place: its commands name the file where it is on the node.
      expect(end.report?.findings[0]?.params?.command).toBe(`sqlite3 -readonly '${k3s.dir}/state.db' 'PRAGMA integrity_check'`);
      const plan = exporter.plan(jobId, ctx);
      const label = `${sshd.user}@${sshd.host}:${k3s.dir}/state.db`;
      // The WAL is found when the run lists the node's folder; the operator is told to stop k3s first.
      expect(plan).toMatchObject({ input: label, wal: { path: `${label}-wal`, present: null }, remote: true, outputRoot: copies });
      const { exportId } = await exporter.start(jobId, plan.defaultOutput, undefined, ctx);
      const done = await ctx.waitFor('kine.export.done', (e) => e.exportId === exportId);
      expect(done.result.input).toBe(label);
      expect(done.result.wal?.commits).toBeGreaterThan(0);
      const local = path.join(dir, 'kine-local');
      const expected = await exportKineObjects(k3s.file, local);
      expect({ ...done.result, input: null, output: null, wal: { ...done.result.wal, file: null } }).toEqual({
        ...expected,
        input: null,
        output: null,
        wal: { ...expected.wal, file: null },
      });
      expect(contentsOf(await hashTree(plan.defaultOutput))).toEqual(contentsOf(await hashTree(local)));
      expect(done.result.objects).toBe(sqliteLiveKeys(k3s.file).length);
    } finally {
      exporter.shutdown();
      await ssh.release(ctx);
      await service.shutdown();
    }
    expect(await hashTree(k3s.dir)).toEqual(before);
  }, 120_000);
});
