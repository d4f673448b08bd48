/**
 * The key browser past its index budget with the notes of where each group's
 * keys are (key-browser-locators.ts): every answer the same as the browser
 * gave without them (the same budget, every filter a walk of the whole db)
 * and, where that answer is exact, the same as the unbudgeted index's; the
 * list of all keys gets the exact groups and key count of the unbudgeted
 * index; a namespace is read back from its own leaves, not by a walk; and a
 * leaf that changed since the walk is told.
 */
import { describe, expect, it } from 'vitest';
import { memorySource, type ByteSource } from '../../shared/bytes/byte-source';
import type { EtcdKeyPage, EtcdQuery } from '../../shared/contract/etcd';
import { memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';
import { buildKeyBrowserIndexFromLeaves, EtcdKeyBrowser, KeyMatcher } from '../../shared/formats/etcd/key-browser-index';
import type { KeyGroupLocators } from '../../shared/formats/etcd/key-browser-locators';
import { LeafChangedError, openForKeys } from '../../shared/formats/etcd/key-browser-walk';
import { groupPrefix } from '../../renderer/src/features/etcd/key-groups';
import { keyBrowserRevisions } from './key-browser-db';

type KeysQuery = Extract<EtcdQuery, { kind: 'keys' }>;
const te = new TextEncoder();
const q = (over: Partial<KeysQuery> = {}): KeysQuery => ({ kind: 'keys', offset: 0, limit: 1000, ...over });

/** Keys whose groups are corner cases: a namespace '' and none, a resource as a whole key, invalid UTF-8, empty parts. */
const CORNER_KEYS: (string | Uint8Array)[] = [
  '/registry/pods//empty-ns',
  '/registry/pods/no-ns',
  '/registry/pods',
  '/registry/services/specs',
  '/registry/services/specs/default/kubernetes',
  '/registry/services/other/x/y',
  '/registry/cert-manager.io',
  '/registry/cert-manager.io/certificates/app/c',
  '//double/slash',
  '/double/slash2',
  '/',
  new Uint8Array([0x2f, 0x72, 0xff, 0x2f, 0x61]),
  new Uint8Array([0x2f, 0x72, 0xfe, 0x2f, 0x62]),
  '/registry/configmaps/Équipe-1/extra-ü',
];

/** The generated db (history, tombstones, leases, upper-case and non-ASCII keys) and the corner keys, some rewritten and deleted. */
async function db(keys: number): Promise<ByteSource> {
  const last = { revision: 0 };
  const items: RevisionItem[] = [...keyBrowserRevisions(keys, true, last)];
  let rev = last.revision;
  const put = (key: Uint8Array, tombstone: boolean, create: number): void => {
    items.push({
      key: revisionKey(rev, 0, tombstone),
      value: encodeKeyValue({
        key,
        createRevision: tombstone ? 0 : create,
        modRevision: rev,
        version: tombstone ? 0 : 1,
        value: te.encode(tombstone ? '' : `v${rev}`),
        lease: 0n,
      }),
    });
    rev++;
  };
  const corner = CORNER_KEYS.map((k) => (typeof k === 'string' ? te.encode(k) : k));
  corner.forEach((k) => put(k, false, rev));
  corner.forEach((k, i) => i % 3 === 0 && put(k, true, 0));
  corner.forEach((k, i) => i % 2 === 0 && put(k, false, rev));
  const sink = memorySink();
  await writeEtcdBackend(sink, { revisions: items, buckets: { meta: [[te.encode('consistent_index'), u64be(rev)]] } });
  return memorySource('db', sink.bytes());
}

/** A source that counts the bytes read through it. */
function counted(src: ByteSource): ByteSource & { bytesRead: number } {
  const out = {
    name: src.name,
    size: src.size,
    bytesRead: 0,
    async read(offset: number, length: number): Promise<Uint8Array> {
      const b = await src.read(offset, length);
      out.bytesRead += b.length;
      return b;
    },
  };
  return out;
}

describe('key browser past its budget, with where each group is', () => {
  it('answers every filter as without the notes, exactly as the unbudgeted index where that is exact, and counts all keys and groups', async () => {
    const src = await db(6000);
    const budget = 256 * 1024;
    const unbudgeted = new EtcdKeyBrowser(src);
    const walking = new EtcdKeyBrowser(src, { budgetBytes: budget, locatorBudgetBytes: 0 });
    const source = counted(src);
    const located = new EtcdKeyBrowser(source, { budgetBytes: budget });

    // The list of all keys: the rows the budget holds (as before), the groups and key count of the whole db.
    const all = await unbudgeted.listKeys(q());
    expect(all.indexLimited).toBeUndefined();
    const before = await walking.listKeys(q({ limit: 50 }));
    const first = await located.listKeys(q({ limit: 50 }));
    expect(before.indexLimited).toBeDefined();
    expect(before.keysInDb).toBeUndefined();
    expect(first.keysInDb).toBe(all.total);
    expect(first.groups).toEqual(all.groups);
    expect({ ...first, groups: before.groups, keysInDb: undefined }).toEqual({ ...before, keysInDb: undefined });
    // A namespace '' and none are one group, named by its first key ('/registry/pods').
    expect(all.groups.filter((g) => g.resource === 'pods' && !g.namespace)).toEqual([{ resource: 'pods', namespace: null, count: 3 }]);
    // Paging the list of all keys: still the rows held, the same groups.
    const later = await located.listKeys(q({ offset: 40, limit: 30 }));
    expect(later.items).toEqual((await walking.listKeys(q({ offset: 40, limit: 30 }))).items);
    expect(later.groups).toEqual(all.groups);

    const queries: KeysQuery[] = [
      // Groups as the UI asks for them (their prefix), a page further in, a search in them: the corner cases and every fifth.
      ...all.groups
        .filter((g, i) => i % 5 === 0 || !g.namespace?.startsWith('ns-'))
        .flatMap((g) => {
          const prefix = groupPrefix(g);
          return prefix ? [q({ prefix }), q({ prefix, offset: 3, limit: 5 }), q({ prefix, search: 'A' })] : [];
        }),
      q({ prefix: '/registry/secrets/' }),
      q({ prefix: '/registry/secrets/ns-UPPER/', search: 'name-' }),
      q({ prefix: '/registry/pods/ns-1' }),
      q({ prefix: '/registry/pods/' }),
      q({ prefix: '/registry/pods' }),
      q({ prefix: '/registry/services/' }),
      q({ prefix: '/registry/services/specs' }),
      q({ prefix: '/registry/cert-manager.io/' }),
      q({ prefix: '/registry/configmaps/Équipe-1/' }),
      q({ prefix: '/registry/configmaps/Équipe-1/', search: 'ÜNÏ' }),
      q({ prefix: '/registry/' }),
      q({ prefix: '/regi' }),
      q({ prefix: '/' }),
      q({ prefix: '//' }),
      q({ prefix: '/other/3/' }),
      q({ prefix: 'compact-' }),
      q({ prefix: '/nothing/' }),
      q({ prefix: '/registry/pods/ns-1/', offset: 100_000 }),
      q({ search: 'a7' }),
      q({ search: 'équipe' }),
      q({ prefix: '/registry/events/ns-4/', search: 'no such text' }),
    ];
    let exact = 0;
    for (const query of queries) {
      const got = await located.listKeys(query);
      const was = await walking.listKeys(query);
      expect(got, JSON.stringify(query)).toEqual(was);
      if (was.indexLimited) continue;
      exact++;
      expect(got, JSON.stringify(query)).toEqual(await unbudgeted.listKeys(query));
    }
    expect(exact).toBeGreaterThan(queries.length - 6);

    // A namespace not held yet is read back from its own leaves: a small part of the db, not a walk of it.
    const readBefore = source.bytesRead;
    const ns: EtcdKeyPage = await located.listKeys(q({ prefix: '/registry/deployments/ns-299/' }));
    expect(ns).toEqual(await unbudgeted.listKeys(q({ prefix: '/registry/deployments/ns-299/' })));
    expect(ns.total).toBeGreaterThan(0);
    expect(source.bytesRead - readBefore).toBeLessThan(src.size / 10);
  });

  it('without room for its notes, or within the budget, answers as before', async () => {
    const src = await db(3000);
    const unbudgeted = new EtcdKeyBrowser(src);
    const walking = new EtcdKeyBrowser(src, { budgetBytes: 128 * 1024, locatorBudgetBytes: 0 });
    const cramped = new EtcdKeyBrowser(src, { budgetBytes: 128 * 1024, locatorBudgetBytes: 64 * 1024 });
    const roomy = new EtcdKeyBrowser(src, { locatorBudgetBytes: 0 });
    for (const query of [q(), q({ prefix: '/registry/secrets/' }), q({ prefix: '/registry/pods/ns-7/', search: '1' }), q({ search: 'b' })]) {
      const was = await walking.listKeys(query);
      expect(await cramped.listKeys(query)).toEqual(was);
      expect(was.keysInDb).toBeUndefined();
      expect(await roomy.listKeys(query)).toEqual(await unbudgeted.listKeys(query));
    }
  });

  it('a leaf that no longer holds what the walk saw is told (the browser then walks the db)', async () => {
    const src = await db(3000);
    const browser = new EtcdKeyBrowser(src, { budgetBytes: 128 * 1024 });
    await browser.listKeys(q({ limit: 1 }));
    const locators = (browser as unknown as { locators: KeyGroupLocators | null }).locators!;
    expect(locators).not.toBeNull();
    const prefix = new KeyMatcher('/registry/pods/ns-7/', undefined);
    const leaves = locators.leavesFor(prefix.prefix!);
    expect(leaves.pages.length).toBeGreaterThan(0);
    expect(leaves.pages.length).toBeLessThan(locators.leafCount / 4);
    const opened = await openForKeys(src);
    const read = await buildKeyBrowserIndexFromLeaves(opened, prefix, leaves);
    expect(read.size).toBe((await new EtcdKeyBrowser(src).listKeys(q({ prefix: '/registry/pods/ns-7/' }))).total);
    const counts = leaves.counts.slice();
    counts[0]!++;
    await expect(buildKeyBrowserIndexFromLeaves(opened, prefix, { pages: leaves.pages, counts })).rejects.toBeInstanceOf(LeafChangedError);
  });
});
