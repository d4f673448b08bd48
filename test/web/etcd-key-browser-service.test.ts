/**
 * The key browser's queries through the back end: a worker is kept per job
 * (its index built at the first keys query), serves queries one after
 * another (several asked at once included), survives a refused query, and
 * answers as the format code does in-process; more jobs than it keeps
 * workers for still answer (the least recently asked job's worker goes).
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireResponse } from '../../shared/contract/api';
import type { EtcdQuery } from '../../shared/contract/etcd';
import type { CallContext } from '../../electron/services/registry';
import { createAllHandlers, dispatch, type Backend } from '../../electron/services/core-handlers';
import { localDirectory } from '../../electron/services/fs-source';
import { answerEtcdQuery } from '../../shared/formats/etcd/query';
import { validateDirectory } from '../../shared/validate';
import { ensureBuilt, hashTree, REPO } from '../cli/fixtures';
import { reportContext, type ReportContext } from '../helpers/report-context';

const DIR = path.join(REPO, 'resources', 'samples', 'etcd-healthy');

let backend: Backend;
let before: Record<string, string>;

beforeAll(async () => {
  await ensureBuilt();
  before = await hashTree(DIR);
  backend = createAllHandlers({ transport: 'electron', samplesDir: path.join(REPO, 'resources', 'samples') });
}, 200_000);

afterAll(async () => {
  await backend?.shutdown();
  expect(await hashTree(DIR)).toEqual(before);
});

async function inProcess(query: EtcdQuery): Promise<unknown> {
  const dir = localDirectory(DIR);
  try {
    return await answerEtcdQuery(dir, await validateDirectory(dir), query);
  } finally {
    await dir.close();
  }
}

async function validated(ctx: ReportContext): Promise<string> {
  const started = await dispatch(backend.handlers, 1, 'validation.start', { source: { kind: 'local-path', path: DIR } }, ctx);
  if (started.type !== 'result') throw new Error(JSON.stringify(started));
  const { jobId } = started.result as { jobId: string };
  await ctx.done(jobId);
  return jobId;
}

const ask = (ctx: CallContext, jobId: string, query: unknown): Promise<WireResponse> => dispatch(backend.handlers, 1, 'etcd.query', { jobId, query }, ctx);

describe('key browser queries through the back end', () => {
  it('one kept worker per job answers keys and values as the format code does, one query after another', async () => {
    const ctx = reportContext('electron');
    const jobId = await validated(ctx);
    const queries: EtcdQuery[] = [
      { kind: 'keys', offset: 0, limit: 50 },
      { kind: 'keys', offset: 10, limit: 5, prefix: '/registry/pods/' },
      { kind: 'value', key: '/registry/pods/shop/pod-0002' },
      { kind: 'keys', offset: 0, limit: 20, search: 'SHOP' },
      { kind: 'wal-records', file: 'member/wal/0000000000000000-0000000000000000.wal', fromRecord: 0, limit: 5 },
      { kind: 'keys', offset: 50, limit: 50 },
    ];
    for (const query of queries) expect(await ask(ctx, jobId, query), JSON.stringify(query)).toEqual({ type: 'result', id: 1, result: await inProcess(query) });
    // A refused query (no such key) leaves the worker serving the next one.
    expect(await ask(ctx, jobId, { kind: 'value', key: '/registry/none' })).toMatchObject({ type: 'error' });
    // Asked at once: answered one after another, each its own answer.
    const many = await Promise.all(queries.filter((q) => q.kind === 'keys').map((q) => ask(ctx, jobId, q)));
    const expected = await Promise.all(queries.filter((q) => q.kind === 'keys').map(async (q) => ({ type: 'result', id: 1, result: await inProcess(q) })));
    expect(many).toEqual(expected);
  }, 120_000);

  it('more jobs than kept workers: every job still answers', async () => {
    const ctx = reportContext('electron');
    const jobs = [await validated(ctx), await validated(ctx), await validated(ctx)];
    const query: EtcdQuery = { kind: 'keys', offset: 0, limit: 10, prefix: '/registry/' };
    const expected = { type: 'result', id: 1, result: await inProcess(query) };
    for (const jobId of [...jobs, ...jobs]) expect(await ask(ctx, jobId, query)).toEqual(expected);
  }, 120_000);
});
