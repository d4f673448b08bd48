/**
 * `etcd.query` through the back end's dispatcher and the real worker thread:
 * a sample (web mode) and a local path (Electron mode) answer as the format
 * code does in-process; malformed queries, unknown or unfinished jobs and
 * non-etcd jobs get stable error codes; the input is never modified.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireResponse } from '../../shared/contract/api';
import type { CallContext } from '../../electron/services/registry';
import { createAllHandlers, dispatch, type Backend } from '../../electron/services/core-handlers';
import { localDirectory } from '../../electron/services/fs-source';
import { answerEtcdQuery } from '../../shared/formats/etcd/query';
import { validateDirectory } from '../../shared/validate';
import { ensureBuilt, hashTree, REPO } from '../cli/fixtures';
import { reportContext } from '../helpers/report-context';

const SAMPLES = path.join(REPO, 'resources', 'samples');

let web: Backend;
let electron: Backend;
let before: Record<string, string>;

beforeAll(async () => {
  await ensureBuilt();
  before = await hashTree(SAMPLES);
  web = createAllHandlers({ transport: 'web', samplesDir: SAMPLES });
  electron = createAllHandlers({ transport: 'electron', samplesDir: SAMPLES });
}, 200_000);

afterAll(async () => {
  await web?.shutdown();
  await electron?.shutdown();
  expect(await hashTree(SAMPLES)).toEqual(before);
});

async function call(b: Backend, ctx: CallContext, method: string, params: unknown): Promise<WireResponse> {
  return dispatch(b.handlers, 1, method, params, ctx);
}

async function inProcess(dirPath: string, query: Parameters<typeof answerEtcdQuery>[2]) {
  const dir = localDirectory(dirPath);
  try {
    return await answerEtcdQuery(dir, await validateDirectory(dir), query);
  } finally {
    await dir.close();
  }
}

describe('etcd.query through the dispatcher', () => {
  it('web mode, a sample: the answers of the format code, and stable errors', async () => {
    const ctx = reportContext('web');
    const started = await call(web, ctx, 'validation.start', { source: { kind: 'sample', id: 'etcd-field-report' } });
    if (started.type !== 'result') throw new Error(JSON.stringify(started));
    const { jobId } = started.result as { jobId: string };
    // Before the report exists: not finished.
    const early = await call(web, ctx, 'etcd.query', { jobId, query: { kind: 'page-map' } });
    if (early.type === 'error') expect(early.error.code).toBe('not-finished');
    const report = await ctx.done(jobId);
    expect(report.engine).toBe('etcd');
    const dir = path.join(SAMPLES, 'etcd-field-report');
    for (const query of [{ kind: 'page-map' }, { kind: 'page', page: 0 }, { kind: 'keys', search: 'pod', offset: 3, limit: 7 }] as const) {
      const r = await call(web, ctx, 'etcd.query', { jobId, query });
      expect(r, query.kind).toEqual({ type: 'result', id: 1, result: await inProcess(dir, query) });
    }
    expect(await call(web, ctx, 'etcd.query', { jobId, query: { kind: 'page', page: -1 } })).toMatchObject({ type: 'error', error: { code: 'bad-params' } });
    expect(await call(web, ctx, 'etcd.query', { jobId, query: 'page-map' })).toMatchObject({ type: 'error', error: { code: 'bad-params' } });
    expect(await call(web, ctx, 'etcd.query', { jobId: 'nope', query: { kind: 'page-map' } })).toMatchObject({ type: 'error', error: { code: 'unknown-job' } });
    // A page beyond the db: a clear message naming the file and its size.
    const beyond = await call(web, ctx, 'etcd.query', { jobId, query: { kind: 'page', page: 1_000_000 } });
    expect(beyond).toMatchObject({ type: 'error', error: { code: 'out-of-range' } });
    if (beyond.type === 'error') expect(beyond.error.message).toBe('page 1000000 is beyond the end of member/snap/db (44 pages)');

    // A dqlite job has no etcd parts.
    const dq = await call(web, ctx, 'validation.start', { source: { kind: 'sample', id: 'dqlite-healthy' } });
    if (dq.type !== 'result') throw new Error(JSON.stringify(dq));
    const dqJob = (dq.result as { jobId: string }).jobId;
    await ctx.done(dqJob);
    expect(await call(web, ctx, 'etcd.query', { jobId: dqJob, query: { kind: 'page-map' } })).toMatchObject({ type: 'error', error: { code: 'not-etcd' } });
  }, 120_000);

  it('Electron mode, a local path: WAL records and a value', async () => {
    const ctx = reportContext('electron');
    const dir = path.join(SAMPLES, 'etcd-healthy');
    const started = await call(electron, ctx, 'validation.start', { source: { kind: 'local-path', path: dir } });
    if (started.type !== 'result') throw new Error(JSON.stringify(started));
    const { jobId } = started.result as { jobId: string };
    await ctx.done(jobId);
    const wal = { kind: 'wal-records', file: 'member/wal/0000000000000000-0000000000000000.wal', fromRecord: 0, limit: 30 } as const;
    const value = { kind: 'value', key: '/registry/pods/shop/pod-0002' } as const;
    expect(await call(electron, ctx, 'etcd.query', { jobId, query: wal })).toEqual({ type: 'result', id: 1, result: await inProcess(dir, wal) });
    const v = await call(electron, ctx, 'etcd.query', { jobId, query: value });
    expect(v).toEqual({ type: 'result', id: 1, result: await inProcess(dir, value) });
    expect(JSON.parse((v as { result: { display: string } }).result.display)).toMatchObject({ kind: 'Pod', metadata: { name: 'pod-0002', namespace: 'shop' } });
  }, 120_000);
});
