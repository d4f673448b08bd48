/**
 * Salvage's output path and its WAL replay of entries the db already holds
 * (issue 7, "salvage as fast as validation"):
 * - a layout planned from value sizes gives the very bytes the unplanned
 *   writer gives, handed over in file order (metas first), so the sink can
 *   hash while writing; a size that differs from the plan is refused;
 * - entries at or below the consistent index that rewrote a key do not bring
 *   back each older value at invented revisions: an intact db keeps its own
 *   revisions and nothing comes "from the WAL";
 * - when the db lost a key's newest revision, that key's last write in the
 *   WAL comes back, its value read again from the WAL (also from a txn's
 *   failure branch, found by its op ordinal).
 */
import { describe, expect, it } from 'vitest';
import { memorySource } from '../../shared/bytes/byte-source';
import { BboltWriteError, BboltWriter, memorySink, type PageSink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';
import type { InternalRequest } from '../../shared/formats/etcd/internal-request';
import { collectSalvage, forEachLiveKey, salvageEtcd, type ReplayEntry, type WalEntryStream } from '../../shared/formats/etcd/salvage';

const te = new TextEncoder();
const td = new TextDecoder();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** A sink that records the offsets it was handed (and keeps the bytes). */
function recordingSink(): PageSink & { bytes(): Uint8Array; offsets: [number, number][] } {
  const inner = memorySink();
  const offsets: [number, number][] = [];
  return {
    offsets,
    bytes: () => inner.bytes(),
    write(offset, bytes) {
      offsets.push([offset, bytes.length]);
      return inner.write(offset, bytes);
    },
  };
}

describe('a planned layout', () => {
  it('writes the same bytes as the unplanned writer, every run right after the previous one, metas first', async () => {
    const items: RevisionItem[] = [];
    for (let i = 0; i < 3000; i++) {
      // Small values, values bigger than a page, and one bigger than a 4 MiB run (its own write).
      const size = i === 1500 ? 5 * 1024 * 1024 : i % 97 === 0 ? 9000 + i : (i * 37) % 700;
      const value = new Uint8Array(size).map((_, j) => (i * 7 + j) & 0xff);
      items.push({
        key: revisionKey(i + 2, 0),
        value: encodeKeyValue({ key: te.encode(`/registry/pods/ns-${i % 5}/p-${i}`), createRevision: i + 2, modRevision: i + 2, version: 1, value, lease: 0n }),
      });
    }
    const buckets = { meta: [[te.encode('consistent_index'), u64be(3001)]] as [Uint8Array, Uint8Array][] };
    const plain = memorySink();
    const a = await writeEtcdBackend(plain, { revisions: items, buckets });
    const planned = recordingSink();
    const b = await writeEtcdBackend(planned, {
      revisions: items,
      revisionSizes: () => items.map((it) => ({ key: it.key, valueSize: (it.value as Uint8Array).length })),
      buckets,
    });
    expect(b).toEqual(a);
    expect(planned.bytes().length).toBe(a.size);
    expect(sameBytes(planned.bytes(), plain.bytes())).toBe(true);
    // File order: starts at 0 (the metas) and each write begins where the previous one ended.
    let end = 0;
    for (const [offset, length] of planned.offsets) {
      expect(offset).toBe(end);
      end += length;
    }
    expect(end).toBe(a.size);
    // The 5 MiB value went out as a write of its own, between runs of the reused buffers.
    expect(planned.offsets.some(([, length]) => length > 5 * 1024 * 1024)).toBe(true);
    expect(planned.offsets.length).toBeGreaterThanOrEqual(3);
  });

  it('refuses a write whose sizes differ from the plan (the metas named another tree)', async () => {
    const plan = BboltWriter.planner();
    await plan.bucket('key');
    for (let i = 0; i < 50; i++) await plan.put(revisionKey(i + 2, 0), 100);
    const layout = await plan.finish();
    const w = new BboltWriter(memorySink(), { layout: { pages: layout.pages, rootPage: layout.rootPage } });
    await w.bucket('key');
    for (let i = 0; i < 50; i++) await w.put(revisionKey(i + 2, 0), new Uint8Array(i === 10 ? 3000 : 100));
    await expect(w.finish()).rejects.toBeInstanceOf(BboltWriteError);
  });
});

describe('revision keys', () => {
  it('are main and sub as big-endian u64s around every 32-bit boundary (built without BigInt)', () => {
    const reference = (main: number, sub: number, tombstone: boolean): Uint8Array => {
      const out = new Uint8Array(tombstone ? 18 : 17);
      const dv = new DataView(out.buffer);
      dv.setBigUint64(0, BigInt(main), false);
      out[8] = 0x5f;
      dv.setBigUint64(9, BigInt(sub), false);
      if (tombstone) out[17] = 0x74;
      return out;
    };
    const values = [0, 1, 255, 256, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 12345, 2 ** 52 + 3, Number.MAX_SAFE_INTEGER];
    const wrong: string[] = [];
    for (const main of values)
      for (const sub of [0, 7, 2 ** 33 + 5])
        for (const t of [false, true]) if (!sameBytes(revisionKey(main, sub, t), reference(main, sub, t))) wrong.push(`${main}_${sub}${t ? 't' : ''}`);
    expect(wrong).toEqual([]);
  });
});

/** A db as etcd holds it: `revisions` [key, value, rev, createRev, version] in revision order, consistent index `ci`. */
async function dbOf(revisions: [string, string, number, number, number][], ci: number): Promise<Uint8Array> {
  const sink = memorySink();
  await writeEtcdBackend(sink, {
    revisions: revisions.map(([k, v, rev, create, version]) => ({
      key: revisionKey(rev, 0),
      value: encodeKeyValue({ key: te.encode(k), createRevision: create, modRevision: rev, version, value: te.encode(v), lease: 0n }),
    })),
    buckets: { meta: [[te.encode('consistent_index'), u64be(ci)]] },
  });
  return sink.bytes();
}

const put = (key: string, value: string): InternalRequest => ({
  kind: 'put',
  id: 0n,
  key: te.encode(key),
  value: te.encode(value),
  lease: 0n,
  prevKv: false,
  ignoreValue: false,
  ignoreLease: false,
});

/** A WAL stream over `requests` (index 1, 2, ...) that counts how often it was read. */
function walOf(requests: InternalRequest[]): WalEntryStream & { passes: number } {
  const entries: ReplayEntry[] = requests.map((request, i) => ({ index: i + 1, term: 2, type: 'normal', request }));
  const stream = Object.assign(
    async (onEntry: (e: ReplayEntry) => void | Promise<void>) => {
      stream.passes++;
      for (const e of entries) await onEntry(e);
    },
    { passes: 0 },
  );
  return stream;
}

async function liveKeys(db: Uint8Array, wal: WalEntryStream): Promise<Map<string, { value: string; source: string; modRevision: number }>> {
  const src = memorySource('db', db);
  const state = await collectSalvage({ db: src, dbFile: 'db', wal });
  const out = new Map<string, { value: string; source: string; modRevision: number }>();
  await forEachLiveKey(state, src, (k) => {
    out.set(td.decode(k.key), { value: td.decode(k.value), source: k.source, modRevision: k.modRevision });
  });
  return out;
}

describe('WAL entries the db already holds', () => {
  // The WAL from the first entry: a=1 (rev 2), b=1 (rev 3), a=2 (rev 4), b=2 (rev 5), a=3 (rev 6).
  const requests = [put('/a', 'a1'), put('/b', 'b1'), put('/a', 'a2-longer'), put('/b', 'b2'), put('/a', 'a3')];

  it('an intact db: every key from the tree at its own revision, nothing "from the WAL", the WAL read once', async () => {
    const db = await dbOf(
      [
        ['/a', 'a1', 2, 2, 1],
        ['/b', 'b1', 3, 3, 1],
        ['/a', 'a2-longer', 4, 2, 2],
        ['/b', 'b2', 5, 3, 2],
        ['/a', 'a3', 6, 2, 3],
      ],
      5,
    );
    const wal = walOf(requests);
    const report = await salvageEtcd({ db: memorySource('db', db), dbFile: 'db', wal }, memorySink(), { outputKind: 'snapshot-db', output: 'out' });
    expect(report.sources).toEqual({ tree: 2, 'orphaned-leaf': 0, wal: 0 });
    expect(report.revisionRange).toEqual([5, 6]);
    expect(report.walReplay?.gapFilled).toBe(0);
    expect(report.lost).toEqual([]);
    expect(wal.passes).toBe(1);
    const keys = await liveKeys(db, walOf(requests));
    expect(keys.get('/a')).toEqual({ value: 'a3', source: 'tree', modRevision: 6 });
    expect(keys.get('/b')).toEqual({ value: 'b2', source: 'tree', modRevision: 5 });
  });

  it("the db lost a key's newest revision: its last WAL write comes back, read again from the WAL", async () => {
    // Revision 6 (a=a3) is gone from the db; the consistent index still says entry 5 was applied.
    const db = await dbOf(
      [
        ['/a', 'a1', 2, 2, 1],
        ['/b', 'b1', 3, 3, 1],
        ['/a', 'a2-longer', 4, 2, 2],
        ['/b', 'b2', 5, 3, 2],
      ],
      5,
    );
    const wal = walOf(requests);
    const keys = await liveKeys(db, wal);
    expect(keys.get('/a')?.value).toBe('a3');
    expect(keys.get('/a')?.source).toBe('wal');
    expect(keys.get('/b')).toEqual({ value: 'b2', source: 'tree', modRevision: 5 });
    // The value was not kept from the first pass: a second one read it.
    expect(wal.passes).toBe(2);
  });

  it("a write in a txn's failure branch is found again by its op ordinal", async () => {
    const txn: InternalRequest = {
      kind: 'txn',
      id: 0n,
      // "/a does not exist" is false (the db has it): the failure branch runs.
      compare: [{ result: 'equal', target: 'version', key: te.encode('/a'), rangeEnd: new Uint8Array(0), number: 0n }],
      success: [put('/c', 'never'), put('/a', 'wrong-branch')],
      failure: [put('/b', 'b2'), put('/a', 'from-failure')],
    };
    const db = await dbOf(
      [
        ['/a', 'a1', 2, 2, 1],
        ['/b', 'b1', 3, 3, 1],
      ],
      3,
    );
    const keys = await liveKeys(db, walOf([put('/a', 'a1'), put('/b', 'b1'), txn]));
    expect(keys.get('/a')?.value).toBe('from-failure');
    expect(keys.get('/b')?.value).toBe('b2');
    expect(keys.has('/c')).toBe(false);
  });
});
