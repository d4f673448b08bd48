/**
 * Leaves of `key` read in place (the walk's `plainLeaves`, the schema
 * collector's onPlainKeyLeaf) must say exactly what the element objects say:
 * the same schema, findings, mvcc restore error, unseekable reads and walk
 * problems, on a healthy db and on copies damaged byte by byte. The damage
 * sends some leaves back to the element path (a key out of order, an element
 * past its page) and leaves others plain with odd contents (a value gogo
 * rejects, a short or malformed revision key), so both paths and their mix
 * are compared. A test that the plain path is taken at all keeps this honest.
 */
import { describe, expect, it } from 'vitest';
import { memorySource } from '../../shared/bytes/byte-source';
import { openBbolt, walkTree } from '../../shared/formats/etcd/bbolt-walk';
import { memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';
import { SchemaCollector } from '../../shared/formats/etcd/schema';

const te = new TextEncoder();

/** A db of `keys` keys with history: puts, updates of every third key, deletes of every eleventh, values 10 B to 5 KB. */
async function buildDb(keys: number, odd: (rev: number) => RevisionItem | null = () => null): Promise<Uint8Array> {
  const items: RevisionItem[] = [];
  let rev = 2;
  const name = (i: number) => te.encode(`/registry/configmaps/ns-${i % 7}/cm-${String(i).padStart(6, '0')}`);
  const value = (i: number, round: number) => te.encode(`${round}:`.padEnd(10 + ((i * 7919 + round * 104729) % 5000), String.fromCharCode(97 + (i % 26))));
  const put = (i: number, round: number) => {
    const extra = odd(rev);
    if (extra) items.push(extra);
    else
      items.push({
        key: revisionKey(rev, 0),
        value: encodeKeyValue({ key: name(i), createRevision: rev, modRevision: rev, version: round + 1, value: value(i, round), lease: 0n }),
      });
    rev++;
  };
  for (let i = 0; i < keys; i++) put(i, 0);
  for (let i = 0; i < keys; i += 3) put(i, 1);
  for (let i = 0; i < keys; i += 11) {
    items.push({
      key: revisionKey(rev, 0, true),
      value: encodeKeyValue({ key: name(i), createRevision: 0, modRevision: rev, version: 0, value: new Uint8Array(0), lease: 0n }),
    });
    rev++;
  }
  const sink = memorySink();
  await writeEtcdBackend(sink, { revisions: items, buckets: { meta: [[te.encode('consistent_index'), u64be(rev)]] } });
  return sink.bytes();
}

/** Everything the collector and the walk say, through element objects only or with plain leaves. */
async function collect(bytes: Uint8Array, plain: boolean) {
  const db = await openBbolt(memorySource('db', bytes), { recycleReads: true });
  if (db.chosenMeta === null) return { opened: false };
  const collector = new SchemaCollector('db', db.pageSize);
  let plainLeaves = 0;
  const walk = await walkTree(db, db.chosenMeta, {
    onLeaf: collector.onLeaf,
    ...(plain
      ? {
          plainLeaves: {
            bucket: 'key',
            onLeaf: (...args: Parameters<SchemaCollector['onPlainKeyLeaf']>) => {
              plainLeaves++;
              collector.onPlainKeyLeaf(...args);
            },
          },
        }
      : {}),
  });
  const schema = collector.finish();
  return {
    opened: true,
    plainLeaves,
    said: {
      schema,
      findings: collector.findings,
      mvccRestoreError: collector.mvccRestoreError,
      keyBucketRoot: collector.keyBucketRoot,
      unseekable: collector.unseekableReads(1000),
      crash: walk.crash,
      problemCount: walk.problemCount,
      problems: walk.problems.map((p) => ({ code: p.code, page: p.page, offset: p.offset, text: p.text })),
    },
  };
}

/** A small seeded generator (the damage is the same on every run). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('leaves of key read in place say what their element objects say', () => {
  it('a healthy db: the same report, with the leaves of key read in place', async () => {
    const bytes = await buildDb(3000);
    const objects = await collect(bytes, false);
    const plain = await collect(bytes, true);
    expect(plain.said).toEqual(objects.said);
    expect(plain.said!.schema.liveKeys).toBe(3000 - Math.ceil(3000 / 11));
    expect(plain.said!.schema.revisions).toBe(3000 + 1000 + Math.ceil(3000 / 11));
    // Every leaf of key went the plain way (a leaf spanning several pages included: values up to 5 KB).
    expect(plain.plainLeaves).toBeGreaterThan(100);
    expect(objects.plainLeaves).toBe(0);
  });

  it('odd contents inside plain leaves: a value gogo rejects, a short and a malformed revision key', async () => {
    const odd = (rev: number): RevisionItem | null => {
      if (rev === 500) return { key: revisionKey(rev, 0), value: new Uint8Array([0x0a, 0x7f, 1, 2, 3]) }; // key length past the value
      if (rev === 900)
        return {
          key: revisionKey(rev, 0).subarray(0, 12),
          value: encodeKeyValue({ key: te.encode('/short'), createRevision: rev, modRevision: rev, version: 1, value: te.encode('x'), lease: 0n }),
        };
      if (rev === 1300) {
        const k = revisionKey(rev, 0).slice();
        k[8] = 0x2d; // not '_': etcd indexes it, a read cannot find it
        return {
          key: k,
          value: encodeKeyValue({ key: te.encode('/form'), createRevision: rev, modRevision: rev, version: 1, value: te.encode('y'), lease: 0n }),
        };
      }
      return null;
    };
    for (const only of [500, 900, 1300]) {
      const bytes = await buildDb(2000, (rev) => (rev === only ? odd(rev) : null));
      const objects = await collect(bytes, false);
      const plain = await collect(bytes, true);
      expect(plain.said, `odd item at revision ${only}`).toEqual(objects.said);
      expect(plain.plainLeaves).toBeGreaterThan(50);
    }
    // Each case is one the collector speaks of (so the comparison compares something).
    const rejected = await collect(await buildDb(2000, (rev) => (rev === 500 ? odd(rev) : null)), true);
    expect(rejected.said!.mvccRestoreError).toMatch(/^cannot unmarshal event: /);
    const short = await collect(await buildDb(2000, (rev) => (rev === 900 ? odd(rev) : null)), true);
    expect(short.said!.mvccRestoreError).toMatch(/^runtime error: /);
    const form = await collect(await buildDb(2000, (rev) => (rev === 1300 ? odd(rev) : null)), true);
    expect(form.said!.unseekable.map((u) => new TextDecoder().decode(u.key))).toEqual(['/form']);
  });

  it('200 copies damaged byte by byte: the same report each time, through both paths', async () => {
    const clean = await buildDb(1500);
    const rnd = lcg(20261206);
    const pageSize = 4096;
    const pages = clean.length / pageSize;
    let differing = 0;
    let mixed = 0;
    for (let c = 0; c < 200; c++) {
      const bytes = clean.slice();
      // 1-4 bytes of one page past the metas and the freelist, often in the element slots and the keys.
      const page = 3 + Math.floor(rnd() * (pages - 3));
      for (let n = 1 + Math.floor(rnd() * 4); n > 0; n--) {
        const at = page * pageSize + (rnd() < 0.6 ? 16 + Math.floor(rnd() * 256) : Math.floor(rnd() * pageSize));
        bytes[at] ^= 1 << Math.floor(rnd() * 8);
      }
      const objects = await collect(bytes, false);
      const plain = await collect(bytes, true);
      expect(plain.said, `copy ${c} (page ${page})`).toEqual(objects.said);
      if (JSON.stringify(objects.said?.problems) !== '[]' || objects.said?.mvccRestoreError) differing++;
      if (plain.plainLeaves && objects.said?.problems.length) mixed++;
    }
    // The damage did reach what the reports say, and some walks mixed both paths.
    expect(differing).toBeGreaterThan(20);
    expect(mixed).toBeGreaterThan(10);
  });
});
