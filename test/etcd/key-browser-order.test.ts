/**
 * The key browser reads leaves in page order when no meta leads to a tree (both metas broken): a key's tombstone
 * can then come before its puts. The row must still carry the create revision of the generation the tombstone
 * ended (seen once in CI as 0, on a real etcd db whose leaves came in that order).
 */
import { describe, expect, it } from 'vitest';
import { memorySource } from '../../shared/bytes/byte-source';
import { memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';
import { buildKeyBrowserIndexFromLeaves, KeyMatcher } from '../../shared/formats/etcd/key-browser-index';
import { openForKeys } from '../../shared/formats/etcd/key-browser-walk';

const te = new TextEncoder();
const PS = 4096;

const put = (key: string, main: number, create: number, version: number): RevisionItem => ({
  key: revisionKey(main, 0),
  value: encodeKeyValue({ key: te.encode(key), createRevision: create, modRevision: main, version, value: te.encode('v'.repeat(200)), lease: 0n }),
});

describe('key browser: revisions of a key in any order', () => {
  it('a tombstone read before its puts keeps the create revision of the generation it ended', async () => {
    // Generation 1 of /a/k (created at 2, deleted at 3), generation 2 (created at 4, put again at 5), fillers, the tombstone at 400.
    const items: RevisionItem[] = [
      put('/a/k', 2, 2, 1),
      {
        key: revisionKey(3, 0, true),
        value: encodeKeyValue({ key: te.encode('/a/k'), createRevision: 0, modRevision: 0, version: 0, value: new Uint8Array(0), lease: 0n }),
      },
    ];
    items.push(put('/a/k', 4, 4, 1), put('/a/k', 5, 4, 2));
    for (let r = 6; r < 400; r++) items.push(put(`/b/filler-${r}`, r, r, 1));
    items.push({
      key: revisionKey(400, 0, true),
      value: encodeKeyValue({ key: te.encode('/a/k'), createRevision: 0, modRevision: 0, version: 0, value: new Uint8Array(0), lease: 0n }),
    });
    const sink = memorySink();
    await writeEtcdBackend(sink, { revisions: items, buckets: { meta: [[te.encode('consistent_index'), u64be(400)]] } });
    const bytes = sink.bytes();
    // The key bucket's leaves (header flag 0x02 with revision keys), in page order, then read newest first.
    const leaves: number[] = [];
    const counts: number[] = [];
    for (let p = 2; (p + 1) * PS <= bytes.length; p++) {
      const at = p * PS;
      const count = bytes[at + 10]! | (bytes[at + 11]! << 8);
      const key = at + 16 + (bytes[at + 16 + 4]! | (bytes[at + 16 + 5]! << 8));
      if (bytes[at + 8] === 0x02 && count > 0 && bytes[key + 8] === 0x5f) {
        leaves.push(p);
        counts.push(count);
      }
    }
    expect(leaves.length).toBeGreaterThan(3);
    const db = await openForKeys(memorySource('db', bytes));
    const filter = new KeyMatcher('/a/', undefined);
    for (const order of [leaves.map((_, i) => i), leaves.map((_, i) => leaves.length - 1 - i)]) {
      const index = await buildKeyBrowserIndexFromLeaves(db, filter, {
        pages: Uint32Array.from(order.map((i) => leaves[i]!)),
        counts: Uint32Array.from(order.map((i) => counts[i]!)),
      });
      expect(index.size).toBe(1);
      const at = index.location(0);
      expect([index.createRevision(0), at.main, at.tombstone, index.historyCount(0)]).toEqual([4, 400, true, 5]);
    }
  });
});
