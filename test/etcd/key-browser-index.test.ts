/**
 * The key browser's index against the walk it replaced (key-browser-oracle.ts):
 * the same answers, value by value, for pages, prefixes, groups and searches
 * on a db with history, tombstones, many namespaces, upper-case and non-ASCII
 * keys; and past its budget, an index that never holds more than the budget,
 * says so in the answer, and answers a prefix by a walk of the matching keys.
 */
import { describe, expect, it } from 'vitest';
import { memorySource, type ByteSource } from '../../shared/bytes/byte-source';
import type { EtcdKeyPage, EtcdQuery } from '../../shared/contract/etcd';
import { memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';
import { buildKeyBrowserIndex, EtcdKeyBrowser, KeyMatcher } from '../../shared/formats/etcd/key-browser-index';
import { keyGroup, keyGroupSpan, type KeyGroupSpan } from '../../shared/formats/etcd/key-browser-groups';
import { openForKeys } from '../../shared/formats/etcd/key-browser-walk';
import { readValue } from '../../shared/formats/etcd/keys';
import { groupPrefix } from '../../renderer/src/features/etcd/key-groups';
import { keyBrowserKeyName, writeKeyBrowserDb } from './key-browser-db';
import { listKeysByWalk } from './key-browser-oracle';

type KeysQuery = Extract<EtcdQuery, { kind: 'keys' }>;
const te = new TextEncoder();

async function generatedDb(keys: number): Promise<ByteSource> {
  const sink = memorySink();
  await writeKeyBrowserDb(sink, keys, true);
  return memorySource('db', sink.bytes());
}

/** A db of exactly these keys (one put each, in this order), for the corner cases of sorting and grouping. */
async function dbOf(keys: (string | Uint8Array)[]): Promise<ByteSource> {
  const items: RevisionItem[] = keys.map((k, i) => ({
    key: revisionKey(2 + i, 0),
    value: encodeKeyValue({
      key: typeof k === 'string' ? te.encode(k) : k,
      createRevision: 2 + i,
      modRevision: 2 + i,
      version: 1,
      value: te.encode(`v${i}`),
      lease: 0n,
    }),
  }));
  const sink = memorySink();
  await writeEtcdBackend(sink, { revisions: items, buckets: { meta: [[te.encode('consistent_index'), u64be(keys.length + 2)]] } });
  return memorySource('db', sink.bytes());
}

const q = (over: Partial<KeysQuery> = {}): KeysQuery => ({ kind: 'keys', offset: 0, limit: 1000, ...over });

describe('key browser index', () => {
  it('answers pages, prefixes, groups and searches as the walk did, with one index for all of them', async () => {
    const src = await generatedDb(6000);
    const browser = new EtcdKeyBrowser(src);
    const first = await listKeysByWalk(src, q());
    expect(first.total).toBeGreaterThan(5000);
    expect(first.groups.length).toBeGreaterThan(300);
    const queries: KeysQuery[] = [
      q(),
      q({ offset: 1000 }),
      q({ offset: 5990, limit: 50 }),
      q({ offset: 100_000 }),
      q({ prefix: '/registry/' }),
      q({ prefix: '/registry/secrets/' }),
      q({ prefix: '/registry/configmaps/Équipe-1/' }),
      q({ prefix: '/registry/services/' }),
      q({ prefix: '/nothing/' }),
      q({ prefix: 'compact-' }),
      q({ search: 'a7' }),
      q({ search: 'A7', offset: 10, limit: 20 }),
      q({ search: 'UPPER' }),
      q({ search: 'équipe' }),
      q({ search: 'ÜNÏ' }),
      q({ search: 'no such text' }),
      q({ prefix: '/registry/pods/', search: '-1' }),
      // Every group the whole list gives, as the UI asks for it.
      ...first.groups.slice(0, 40).map((g) => q({ ...(groupPrefix(g) ? { prefix: groupPrefix(g) } : {}) })),
    ];
    for (const query of queries) {
      const expected = await listKeysByWalk(src, query);
      const got = await browser.listKeys(query);
      expect(got, JSON.stringify(query)).toEqual(expected);
    }
  });

  it('sorts by key bytes and groups keys that share prefixes, have empty parts or are not UTF-8', async () => {
    const keys: (string | Uint8Array)[] = [
      '/registry/pods/ns/a0',
      '/registry/pods/ns/a',
      '/registry/pods/ns',
      '/registry/pods/ns/',
      '/registry/pods//x',
      '/registry/pods/x',
      '/registry/',
      '/registry',
      '/registry/cert-manager.io',
      '/registry/cert-manager.io/certificates',
      '/registry/cert-manager.io/certificates/app/c',
      '/registry/services/specs/default/kubernetes',
      '/registry/services/endpoints',
      '/registry/services/other/x/y',
      '//',
      '/',
      'a',
      'a/b',
      '/registry/pods/ns/\u00e9',
      new Uint8Array([0x2f, 0x72, 0xff, 0x2f, 0x61]),
      '/registry/pods/ns/a\u0000b',
      `/registry/pods/ns/${'x'.repeat(5000)}`,
      `/registry/pods/ns/${'x'.repeat(5000)}y`,
    ];
    const src = await dbOf(keys);
    const browser = new EtcdKeyBrowser(src);
    for (const query of [q(), q({ prefix: '/registry/pods/ns' }), q({ prefix: '/registry/pods/ns/' }), q({ search: 'X' }), q({ prefix: '/' })]) {
      expect(await browser.listKeys(query)).toEqual(await listKeysByWalk(src, query));
    }
    // The byte spans give the group the text gives.
    const span: KeyGroupSpan = { registry: false, resourceStart: 0, resourceEnd: 0, nsStart: -1, nsEnd: -1 };
    const more = [
      '/registry/a.b',
      '/registry/a.b/c',
      '/registry/a.b/c/d',
      '/registry/a.b/c/d/e',
      '/registry/services/specs',
      '/registry/services/specs/x',
      'x//y',
      '',
    ];
    for (const k of [...keys.filter((k): k is string => typeof k === 'string'), ...more]) {
      const b = te.encode(k);
      keyGroupSpan(b, 0, b.length, span);
      const text = new TextDecoder().decode(b.subarray(span.resourceStart, span.resourceEnd));
      const resource = span.registry ? text : text ? `(${text})` : '(other)';
      const namespace = span.nsStart >= 0 ? new TextDecoder().decode(b.subarray(span.nsStart, span.nsEnd)) : null;
      expect({ resource, namespace }, k).toEqual(keyGroup(k));
    }
  });

  it('finds a value in its index as the walk does', async () => {
    const src = await generatedDb(1500);
    const browser = new EtcdKeyBrowser(src);
    await browser.listKeys(q());
    for (const i of [0, 1, 3, 5, 15, 700, 1499]) {
      const key = keyBrowserKeyName(i, true);
      expect(await readValue(src, key, undefined, browser)).toEqual(await readValue(src, key));
    }
    await expect(readValue(src, '/registry/pods/none/x', undefined, browser)).rejects.toThrow('is not in the db');
  });

  it('past its budget: holds no more than the budget, says how many keys it holds, answers a prefix by a walk of its keys', async () => {
    const src = await generatedDb(6000);
    const exact = await listKeysByWalk(src, q());
    const budget = 96 * 1024;
    const db = await openForKeys(src);
    const whole = await buildKeyBrowserIndex(db, null, budget);
    expect(whole.limited).toBe(true);
    expect(whole.peakBytes).toBeLessThanOrEqual(budget);
    expect(whole.bytes).toBeLessThanOrEqual(budget);
    expect(whole.size).toBeGreaterThan(500);
    expect(whole.size).toBeLessThan(exact.total);

    const browser = new EtcdKeyBrowser(src, { budgetBytes: budget });
    const page: EtcdKeyPage = await browser.listKeys(q({ limit: 50 }));
    expect(page.indexLimited).toEqual({ keysIndexed: whole.size });
    expect(page.total).toBe(whole.size);
    // Lower bounds: every group it lists is a real one with at least its count.
    for (const g of page.groups) {
      const real = exact.groups.find((x) => x.resource === g.resource && x.namespace === g.namespace);
      expect(real, g.resource).toBeTruthy();
      expect(g.count).toBeLessThanOrEqual(real!.count);
    }
    // Each row it shows is exact (a key it holds counts all its revisions).
    const byKey = new Map(exact.items.map((i) => [i.key, i]));
    for (const item of page.items) if (byKey.has(item.key)) expect(item).toEqual(byKey.get(item.key));

    // A prefix whose keys fit: the walk of the matching keys gives the exact answer.
    for (const query of [q({ prefix: '/registry/configmaps/ns-3/' }), q({ prefix: '/registry/secrets/', limit: 100, offset: 20 }), q({ search: 'upper' })]) {
      expect(await browser.listKeys(query)).toEqual(await listKeysByWalk(src, query));
    }
    // Narrower queries are answered by the exact index of the wider one (no walk), as the walk answers them.
    await browser.listKeys(q({ prefix: '/registry/secrets/' }));
    const held = browser as unknown as { filtered: { index: Promise<unknown> } | null };
    const secrets = held.filtered!.index;
    for (const query of [
      q({ prefix: '/registry/secrets/', search: 'UPPER' }),
      q({ prefix: '/registry/secrets/ns-1' }),
      q({ prefix: '/registry/secrets/ns-12/', offset: 1 }),
    ]) {
      expect(await browser.listKeys(query)).toEqual(await listKeysByWalk(src, query));
      expect(held.filtered!.index).toBe(secrets);
    }
    // A prefix with more keys than the budget: limited again, within the budget.
    const wide = await buildKeyBrowserIndex(db, new KeyMatcher('/registry/', undefined), budget);
    expect(wide.limited).toBe(true);
    expect(wide.peakBytes).toBeLessThanOrEqual(budget);
    const widePage = await browser.listKeys(q({ prefix: '/registry/' }));
    expect(widePage.indexLimited).toEqual({ keysIndexed: wide.size });
    expect(widePage.total).toBeLessThan((await listKeysByWalk(src, q({ prefix: '/registry/' }))).total);
  });
});
