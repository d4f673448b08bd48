/**
 * An etcd data directory read in place on a node, against a real sshd (and
 * real sudo for the root-only case), with the bundled field-report sample
 * (made by etcd 3.4) as the node's data dir:
 * - over SFTP and through sudo the report is local validation's: the WAL in
 *   member/wal and the db in member/snap are read through subdirectories of
 *   the remote source (the worker asks the main process for them);
 * - `etcd.query` (WAL records, page map, a page, keys, a value) over the same
 *   connection answers what it answers locally.
 * - a lone file (the db, as a backup's snapshot.db) is read in place as a
 *   local file is: its folder listed, only that file opened.
 * - copy-out (SFTP, and sudo for the root-only dir) copies member/wal and
 *   member/snap byte for byte, and the copy validates and answers as the original.
 * The served trees are hashed before and after: never modified.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EtcdQuery } from '../../shared/contract/etcd';
import type { ValidationReport } from '../../shared/contract/report';
import { SshService } from '../../electron/services/ssh/ssh-service';
import { localDirectory } from '../../electron/services/fs-source';
import { ValidationService } from '../../electron/services/validation-service';
import { createSampleCatalog } from '../../electron/services/samples';
import { answerEtcdQuery } from '../../shared/formats/etcd/query';
import { ensureBuilt } from '../cli/fixtures';
import { sshdAvailable, toolAvailable, type SshdInstance } from '../helpers/sshd';
import { validateLocalPath, validateLocally } from '../helpers/ssh-node';
import { connectToSampleNode, sshServiceFor, startEtcdSampleNode, stopEtcdSampleNode, type EtcdSampleNode } from '../helpers/etcd-sample-node';
import { sudoersDropIn } from '../helpers/sudoers';
import { sudoTestContext, validationOutcome, type SudoTestContext } from '../helpers/sudo-context';

const enabled = sshdAvailable() && toolAvailable('/usr/bin/sudo') && toolAvailable('/usr/sbin/visudo');
const sudoers = sudoersDropIn('lifeboat-etcd-remote');

function verdictOf(r: ValidationReport) {
  return { engine: r.engine, startable: r.startable, dataLoss: r.dataLoss, findings: r.findings, summary: r.summary, etcd: r.etcd };
}

describe.skipIf(!enabled)('etcd data dir read in place over SFTP and through sudo (real sshd, real sudo)', () => {
  let node: EtcdSampleNode;
  let sshd: SshdInstance;
  let ssh: SshService;
  let readable: string;
  let rootOnly: string;
  let reference: ValidationReport;
  const queries: EtcdQuery[] = [
    { kind: 'wal-records', file: 'member/wal/0000000000000000-0000000000000000.wal', fromRecord: 700, limit: 50 },
    { kind: 'page-map' },
    { kind: 'page', page: 0 },
    { kind: 'keys', prefix: '/registry/pods/', offset: 5, limit: 10 },
    { kind: 'value', key: '/registry/configmaps/default/configmap-0006' },
  ];
  const expected: unknown[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    node = await startEtcdSampleNode('lifeboat-etcd-remote-', sudoers);
    ({ sshd, readable, rootOnly } = node);
    reference = await validateLocally(readable);
    expect(reference.engine).toBe('etcd');
    expect(reference.etcd?.startup.fatalError).toBe('freepages: failed to get all reachable pages (page 0: invalid type: meta)');
    const local = localDirectory(readable);
    try {
      for (const q of queries) expected.push(await answerEtcdQuery(local, reference, q));
    } finally {
      await local.close();
    }
    ssh = sshServiceFor(node);
  }, 300_000);

  afterAll(() => stopEtcdSampleNode(node, sudoers));

  const connect = (ctx: SudoTestContext) => connectToSampleNode(ssh, node, ctx);

  for (const mode of ['sftp', 'sudo'] as const) {
    it(`${mode}: the report and every etcd query are local validation's`, async () => {
      const service = new ValidationService({ transport: 'web', samples: createSampleCatalog(null), remote: ssh.remoteSources });
      const ctx = sudoTestContext(ssh, () => sshd.password);
      try {
        const connectionId = await connect(ctx);
        const source = mode === 'sftp' ? { kind: 'remote', connectionId, path: readable } : { kind: 'remote', connectionId, path: rootOnly, sudo: true };
        const { jobId } = await service.start(source, ctx);
        const end = await validationOutcome(ctx, jobId);
        expect(end.error).toBeUndefined();
        expect(verdictOf(end.report!)).toEqual(verdictOf(reference));
        expect(end.report!.root).toBe(`${sshd.user}@${sshd.host}:${mode === 'sftp' ? readable : rootOnly}`);
        for (const [i, q] of queries.entries()) expect(await service.etcdQuery(jobId, q, ctx), q.kind).toEqual(expected[i]);
        // Bad queries are refused before anything is read.
        await expect(service.etcdQuery(jobId, { kind: 'wal-records', file: '../../../etc/shadow', fromRecord: 0, limit: 1 }, ctx)).rejects.toThrow(
          /not a WAL file of this report/,
        );
        await expect(service.etcdQuery(jobId, { kind: 'nope' }, ctx)).rejects.toMatchObject({ code: 'bad-params' });
        if (mode === 'sudo') {
          // Only the read-only listing and dd ran as root, in member/wal and member/snap too.
          const root = ctx.of('ssh.command').filter((c) => c.kind === 'exec' && c.text.startsWith('sudo -S'));
          expect(root.some((c) => c.text.includes(`${rootOnly}/member/wal`))).toBe(true);
          expect(root.some((c) => c.text.includes(`${rootOnly}/member/snap/db`))).toBe(true);
          for (const c of root) expect(c.text).toMatch(/^sudo -S -k -p '' (true|sh -c '(find -H |dd if=))/);
        }
        await ssh.release(ctx);
      } finally {
        await service.shutdown();
      }
    }, 180_000);

    it(`${mode}: a lone file (the member's db, as a backup's snapshot.db is) validates in place as it does locally, and nothing beside it is read`, async () => {
      const service = new ValidationService({ transport: 'web', samples: createSampleCatalog(null), remote: ssh.remoteSources });
      const ctx = sudoTestContext(ssh, () => sshd.password);
      const db = `${mode === 'sftp' ? readable : rootOnly}/member/snap/db`;
      const local = await validateLocalPath(`${readable}/member/snap/db`);
      expect(local.etcd?.startup.fatalError).toBe('freepages: failed to get all reachable pages (page 0: invalid type: meta)');
      try {
        const connectionId = await connect(ctx);
        const { jobId } = await service.start({ kind: 'remote', connectionId, path: db, ...(mode === 'sudo' ? { sudo: true } : {}) }, ctx);
        const end = await validationOutcome(ctx, jobId);
        expect(end.error).toBeUndefined();
        expect(verdictOf(end.report!)).toEqual(verdictOf(local));
        expect(end.report!.root).toBe(`${sshd.user}@${sshd.host}:${db}`);
        // Pages are read on demand from the same file.
        expect(await service.etcdQuery(jobId, { kind: 'page', page: 0 }, ctx)).toEqual(expected[2]);
        if (mode === 'sudo') {
          const root = ctx.of('ssh.command').filter((c) => c.kind === 'exec' && c.text.startsWith('sudo -S'));
          expect(root.some((c) => c.text.includes('dd if=') && c.text.includes(db))).toBe(true);
          // The folder is listed, but no other file in it is opened.
          expect(root.filter((c) => c.text.includes('dd if=')).every((c) => c.text.includes(db))).toBe(true);
        }
        await ssh.release(ctx);
      } finally {
        await service.shutdown();
      }
    }, 180_000);

    it(`${mode}: copy-out takes member/wal and member/snap, and the copy validates as the original`, async () => {
      const service = new ValidationService({ transport: 'web', samples: createSampleCatalog(null), remote: ssh.remoteSources });
      const ctx = sudoTestContext(ssh, () => sshd.password);
      const served = mode === 'sftp' ? readable : rootOnly;
      try {
        const connectionId = await connect(ctx);
        const sudo = mode === 'sudo' ? { sudo: true } : {};
        const plan = await ssh.handlers['ssh.copyout.plan']({ connectionId, remotePath: served, ...sudo }, ctx);
        const localDir = path.join(plan.copiesRoot, `etcd-${mode}`);
        const { jobId } = await ssh.handlers['ssh.copyout.start']({ connectionId, remotePath: served, localDir, ...sudo }, ctx);
        const done = await waitFor(ctx, 'ssh.copyout.done', (e) => e.jobId === jobId);
        expect(done.result.allMatch).toBe(true);
        const copied = done.result.localPath;
        const files = (await fs.readdir(copied, { recursive: true })).map(String).sort();
        expect(files).toEqual(expect.arrayContaining(['member/snap/db', 'member/wal/0000000000000000-0000000000000000.wal']));
        let compared = 0;
        for (const f of files) {
          if (!(await fs.stat(path.join(copied, f))).isFile()) continue;
          expect((await fs.readFile(path.join(copied, f))).equals(await fs.readFile(path.join(served, f))), f).toBe(true);
          compared++;
        }
        expect(compared).toBe(5); // 1 WAL, 3 .snap, the db
        const v = await service.start({ kind: 'copy', jobId }, ctx);
        const end = await validationOutcome(ctx, v.jobId);
        expect(verdictOf({ ...end.report!, root: reference.root })).toEqual(verdictOf(reference));
        expect(await service.etcdQuery(v.jobId, queries[2], ctx)).toEqual(expected[2]);
        await ssh.release(ctx);
      } finally {
        await service.shutdown();
      }
    }, 180_000);
  }
});

/** The first event `event` for which `pred` holds (60 s). */
async function waitFor<E extends 'ssh.copyout.done'>(ctx: SudoTestContext, event: E, pred: (p: import('../../shared/contract/api').ApiEvents[E]) => boolean) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const hit = ctx.of(event).find(pred);
    if (hit) return hit;
    const failed = ctx.of('ssh.copyout.failed');
    if (failed.length > 0) throw new Error(`copy-out failed: ${JSON.stringify(failed[0])}`);
    if (Date.now() > deadline) throw new Error(`no ${event}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
