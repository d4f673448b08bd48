/**
 * The key browser's list queries go one at a time, and one waiting for the
 * query in flight is dropped when a query for another filter comes (typing a
 * search past a db's index queued a whole-db walk per pause). The back end
 * here is a recorder whose answers the test releases one by one, so that the
 * order of what was asked and answered is exact.
 */
import { describe, expect, it } from 'vitest';
import type { EtcdKeyPage, EtcdQuery } from '../../shared/contract/etcd';
import { latestFilterFirst, SupersededQuery } from '../../renderer/src/features/etcd/key-query-gate';
import type { EtcdQueryFn } from '../../renderer/src/features/etcd/query-fn';

/** A back end that answers each query when the test says: `asked` in order, `answer(i)` / `fail(i)` settle the i-th. */
function heldBackEnd() {
  const asked: EtcdQuery[] = [];
  const settle: { resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  const query = ((q: EtcdQuery) =>
    new Promise<unknown>((resolve, reject) => {
      asked.push(q);
      settle.push({ resolve, reject });
    })) as EtcdQueryFn;
  const page = (i: number): EtcdKeyPage => ({ items: [], total: i, groups: [] }) as unknown as EtcdKeyPage;
  return {
    query,
    asked,
    answer: (i: number) => settle[i]!.resolve(page(i)),
    fail: (i: number) => settle[i]!.reject(new Error(`query ${i} failed`)),
    /** The i-th fails as the back end's kept query worker fails a stopped walk (ApiError code `interrupted`). */
    interrupted: (i: number) => settle[i]!.reject(Object.assign(new Error('stopped: a newer search replaced this one'), { code: 'interrupted' })),
  };
}

const keys = (search: string, offset = 0): EtcdQuery => ({ kind: 'keys', offset, limit: 200, search });
const INTERRUPT: EtcdQuery = { kind: 'interrupt' };
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('the key browser’s list queries', () => {
  it('a search typed past a waiting one: the waiting one is dropped, the newest asked once the one in flight is answered', async () => {
    const back = heldBackEnd();
    const gated = latestFilterFirst(back.query);
    const a = gated(keys('k'));
    const b = gated(keys('ku'));
    const c = gated(keys('kub'));
    await expect(b).rejects.toBeInstanceOf(SupersededQuery);
    await tick();
    // Only the first is asked while it is in flight, and asked once to stop.
    expect(back.asked).toEqual([keys('k'), INTERRUPT]);
    back.answer(1);
    // This back end could not stop it (a Web Worker's walk): its answer still comes, and is the caller's.
    back.answer(0);
    await expect(a).resolves.toMatchObject({ total: 0 });
    await tick();
    expect(back.asked).toEqual([keys('k'), INTERRUPT, keys('kub')]);
    back.answer(2);
    await expect(c).resolves.toMatchObject({ total: 2 });
  });

  it('a walk in flight for another filter is asked to stop, and its stop is no error on screen; the new filter is asked next', async () => {
    const back = heldBackEnd();
    const gated = latestFilterFirst(back.query);
    const a = gated(keys('etcd'));
    await tick();
    expect(back.asked).toEqual([keys('etcd')]);
    const b = gated(keys('kube'));
    await tick();
    expect(back.asked).toEqual([keys('etcd'), INTERRUPT]);
    back.answer(1);
    back.interrupted(0);
    await expect(a).rejects.toBeInstanceOf(SupersededQuery);
    await tick();
    expect(back.asked).toEqual([keys('etcd'), INTERRUPT, keys('kube')]);
    back.answer(2);
    await expect(b).resolves.toMatchObject({ total: 2 });
  });

  it('the next page of the same filter does not stop the walk in flight', async () => {
    const back = heldBackEnd();
    const gated = latestFilterFirst(back.query);
    void gated(keys('etcd'));
    void gated(keys('etcd', 200));
    await tick();
    expect(back.asked).toEqual([keys('etcd')]);
  });

  it('pages of one filter keep their order, one at a time; a key’s value is asked at once', async () => {
    const back = heldBackEnd();
    const gated = latestFilterFirst(back.query);
    const pages = [0, 200, 400].map((offset) => gated(keys('kube', offset)));
    const value = gated({ kind: 'value', key: '/registry/pods/a' });
    await tick();
    expect(back.asked).toEqual([keys('kube', 0), { kind: 'value', key: '/registry/pods/a' }]);
    back.answer(1);
    await expect(value).resolves.toMatchObject({ total: 1 });
    back.answer(0);
    await tick();
    expect(back.asked.slice(2)).toEqual([keys('kube', 200)]);
    back.answer(2);
    await tick();
    expect(back.asked.slice(3)).toEqual([keys('kube', 400)]);
    back.answer(3);
    expect((await Promise.all(pages)).map((p) => (p as EtcdKeyPage).total)).toEqual([0, 2, 3]);
  });

  it('a query that fails is the caller’s error and the next one is still asked', async () => {
    const back = heldBackEnd();
    const gated = latestFilterFirst(back.query);
    const a = gated(keys('x'));
    const b = gated(keys('y'));
    back.fail(0);
    await expect(a).rejects.toThrow('query 0 failed');
    await tick();
    expect(back.asked).toEqual([keys('x'), INTERRUPT, keys('y')]);
    back.answer(2);
    await expect(b).resolves.toMatchObject({ total: 2 });
  });
});
