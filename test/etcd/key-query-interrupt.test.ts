/**
 * Past the key browser's index a search walks the whole db; when the search
 * changes under such a walk, the page asks it to stop (`interrupt`). In the
 * key browser: the walk stops at the next leaf with code `interrupted`, keeps
 * nothing of itself, and the next query answers as a fresh browser does; the
 * whole db's index (kept for every query) is never stopped. Through the real
 * ValidationService and its kept query worker (the walk reads a flag in
 * shared memory, since the busy worker reads no message): the query in flight
 * fails with code `interrupted`, the job's worker then answers the same search
 * in full, and an interrupt with nothing in flight says so. Input hashed.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvents, EventName } from '../../shared/contract/api';
import { memorySource } from '../../shared/bytes/byte-source';
import type { EtcdQuery } from '../../shared/contract/etcd';
import { EtcdKeyBrowser } from '../../shared/formats/etcd/key-browser-index';
import { EtcdQueryError } from '../../shared/formats/etcd/query';
import type { CallContext } from '../../electron/services/registry';
import { createSampleCatalog } from '../../electron/services/samples';
import { ValidationService } from '../../electron/services/validation-service';
import { ensureBuilt } from '../cli/fixtures';
import { keyBrowserDbFile } from './key-browser-db';

type KeysQuery = Extract<EtcdQuery, { kind: 'keys' }>;
const q = (over: Partial<KeysQuery> = {}): KeysQuery => ({ kind: 'keys', offset: 0, limit: 200, ...over });
/** Past this, a search is a walk of the whole db (the 80,000-key db's index is several MiB). */
const BUDGET = 512 * 1024;

let dir = '';
let file = '';
let bytes: Uint8Array;
const sha = () => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  await ensureBuilt();
  ({ dir, file, bytes } = await keyBrowserDbFile('lifeboat-kb-interrupt-', 80_000, true));
});
afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('a search past the index, stopped when the search changes', () => {
  it('the key browser stops its walk at the next leaf, keeps nothing of it, and answers the next query in full', async () => {
    const browser = new EtcdKeyBrowser(memorySource('db', bytes), { budgetBytes: BUDGET });
    const fresh = new EtcdKeyBrowser(memorySource('db', bytes), { budgetBytes: BUDGET });
    // The whole db's index is built to its end even when asked to stop: every later query needs it.
    const all = await browser.listKeys(q(), () => true);
    expect(all.indexLimited).toBeDefined();
    expect(all).toEqual(await fresh.listKeys(q()));

    let asked = 0;
    const stopped = await browser.listKeys(q({ search: 'a7' }), () => ++asked > 5).catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(EtcdQueryError);
    expect((stopped as EtcdQueryError).code).toBe('interrupted');
    expect(asked).toBe(6);

    // Nothing of the stopped walk is kept: the same search again, and another, answer as a fresh browser does.
    const expected = await fresh.listKeys(q({ search: 'a7' }));
    expect(expected.total).toBeGreaterThan(100);
    expect(await browser.listKeys(q({ search: 'a7' }))).toEqual(expected);
    expect(await browser.listKeys(q({ search: 'b8', offset: 50, limit: 20 }))).toEqual(await fresh.listKeys(q({ search: 'b8', offset: 50, limit: 20 })));
  });

  it('through the service: the query in flight fails with code interrupted, and the job still answers the search in full', async () => {
    const before = sha();
    const events: { event: EventName; payload: ApiEvents[EventName] }[] = [];
    const ctx: CallContext = { transport: 'electron', emit: (event, payload) => events.push({ event, payload }) };
    const service = new ValidationService({ transport: 'electron', samples: createSampleCatalog(null), keyIndexBudgetBytes: BUDGET });
    try {
      const { jobId } = await service.start({ kind: 'local-path', path: file }, ctx);
      const deadline = Date.now() + 60_000;
      while (!events.some((e) => e.event === 'validation.done' || e.event === 'validation.failed') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(events.map((e) => e.event)).toContain('validation.done');
      const fresh = new EtcdKeyBrowser(memorySource('db', bytes), { budgetBytes: BUDGET });

      // Nothing in flight: nothing to stop.
      expect(await service.etcdQuery(jobId, { kind: 'interrupt' }, ctx)).toEqual({ interrupted: false });
      // The first keys query builds the whole db's index in the job's kept worker, then walks for the search.
      expect(await service.etcdQuery(jobId, q({ search: 'a7' }), ctx)).toEqual(await fresh.listKeys(q({ search: 'a7' })));

      // Another search: asked to stop as soon as it is in the worker (the walk of 80,000 keys takes far longer).
      const inFlight = service.etcdQuery(jobId, q({ search: 'b8' }), ctx);
      const outcome = inFlight.then(
        () => 'answered',
        (e: unknown) => e,
      );
      let told: unknown = { interrupted: false };
      while ((told as { interrupted: boolean }).interrupted === false && Date.now() < deadline) {
        told = await service.etcdQuery(jobId, { kind: 'interrupt' }, ctx);
        if ((told as { interrupted: boolean }).interrupted === false) await new Promise((r) => setTimeout(r, 1));
      }
      expect(told).toEqual({ interrupted: true });
      expect(await outcome).toMatchObject({ code: 'interrupted' });

      // The worker serves on: the same search in full, as a fresh browser answers it.
      const expected = await fresh.listKeys(q({ search: 'b8' }));
      expect(expected.total).toBeGreaterThan(100);
      expect(await service.etcdQuery(jobId, q({ search: 'b8' }), ctx)).toEqual(expected);
    } finally {
      await service.shutdown();
    }
    expect(sha()).toBe(before);
    expect(
      createHash('sha256')
        .update(await fs.readFile(file))
        .digest('hex'),
    ).toBe(before);
  });
});
