/**
 * Salvage's per-key memory (issue 7, "bounded memory"): each key's state sits
 * in columns as wide as their values usually need, and every value that does
 * not fit still comes back exactly (a damaged record's odd revision, a
 * version past 2^32, a txn's sub-revision past 65,535, thousands of distinct
 * leases), through the columns and through a whole salvage.
 */
import { describe, expect, it } from 'vitest';
import { memorySource } from '../../shared/bytes/byte-source';
import { memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, encodeLease, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';
import { BigIntSlots, PackedNumberColumn } from '../../shared/formats/etcd/key-index';
import { collectSalvage, forEachLiveKey, KeyStates, RevisionList, salvageEtcd, sortStable } from '../../shared/formats/etcd/salvage';

const te = new TextEncoder();
const td = new TextDecoder();

describe('PackedNumberColumn', () => {
  it('gives back every number exactly, inline or from its side map, in each width', () => {
    const odd = [0, 1, 65_534, 65_535, 65_536, 2 ** 32 - 2, 2 ** 32 - 1, 2 ** 32, 2 ** 40 - 2, 2 ** 40 - 1, 2 ** 53 - 1, -1, -0.5, 1.25, NaN, Infinity];
    for (const width of [2, 4, 5] as const) {
      const col = new PackedNumberColumn(width);
      odd.forEach((v, i) => col.set(i * 70_001, v));
      odd.forEach((v, i) => expect(col.get(i * 70_001)).toBe(v));
      expect(col.get(5)).toBe(0);
      expect(col.get(100_000_000)).toBe(0);
      // An escaped slot set again to a small value is inline again (the side map forgets it).
      col.set(13 * 70_001, 7);
      expect(col.get(13 * 70_001)).toBe(7);
    }
    const five = new PackedNumberColumn(5);
    for (let i = 0; i < 200_000; i++) five.set(i, i * 4096);
    // 5 bytes a slot, nothing in the side map.
    expect(five.bytes).toBe(4 * 65_536 * 5);
  });
});

describe('BigIntSlots', () => {
  it('gives each distinct 64-bit value one slot (0n is slot 0) and the value back exactly', () => {
    const slots = new BigIntSlots();
    const values = [0n, -1n, 1n, 2n ** 63n - 1n, -(2n ** 63n), 0x694d7a9b3c4f2a10n];
    for (let i = 0; i < 10_000; i++) values.push(BigInt(i) * 0x1000000001n + 7n);
    const got = values.map((v) => slots.slotOf(v));
    expect(got[0]).toBe(0);
    expect(new Set(got).size).toBe(values.length);
    values.forEach((v, i) => {
      expect(slots.slotOf(v)).toBe(got[i]);
      expect(slots.value(got[i]!)).toBe(v);
    });
    expect(slots.size).toBe(values.length);
  });
});

describe('KeyStates in packed columns', () => {
  it('keeps odd values exactly: revisions near 2^53, versions past 2^32, big sub-revisions, offsets past 4 GiB, many leases', () => {
    const states = new KeyStates();
    const rows = Array.from({ length: 3000 }, (_, i) => ({
      id: states.idOf(te.encode(`/k/${i}`)),
      createRevision: i % 3 === 0 ? 2 ** 53 - 1 - i : i + 2,
      modRevision: i % 5 === 0 ? 2 ** 41 + i : i + 2,
      subRevision: i % 7 === 0 ? 70_000 + i : i % 3,
      version: i % 11 === 0 ? 2 ** 33 + i : i + 1,
      lease: i % 2 === 0 ? BigInt(i) * 0x7777777777n : 0n,
      deleted: i % 13 === 0,
      dbOffset: i % 4 === 0 ? -1 : 2 ** 33 + i * 4096,
      dbLength: i % 17 === 0 ? 2 ** 32 + i : 100 + i,
      dbValueLength: i % 19 === 0 ? 2 ** 32 + i : 50 + i,
      verbatim: i % 2 === 1,
      memValue: i % 4 === 0 ? Uint8Array.of(i & 0xff) : null,
      source: (['tree', 'orphaned-leaf', 'wal'] as const)[i % 3]!,
      sourceRevision: null,
      ...(i % 3 === 2 ? { walIndex: i % 23 === 0 ? 2 ** 34 + i : i } : { page: i % 29 === 0 ? 2 ** 32 + i : i }),
    }));
    for (const r of rows) states.set(r);
    for (const r of rows) {
      const s = states.get(r.id)!;
      expect({ ...s, sourceRevision: null }).toEqual(r);
      expect(s.sourceRevision).toBe(r.source === 'wal' ? null : r.modRevision);
      expect([states.lease(r.id), states.dbOffset(r.id), states.source(r.id), states.isLive(r.id)]).toEqual([r.lease, r.dbOffset, r.source, !r.deleted]);
    }
  });

  it('a million keys stay within 60 bytes a key plus the key bytes (55 measured; ~95 in Float64 columns)', () => {
    const states = new KeyStates();
    let keyBytes = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const key = te.encode(`/registry/configmaps/ns-${i % 50}/cm-${String(i).padStart(8, '0')}`);
      keyBytes += key.length;
      states.set({
        id: states.idOf(key),
        createRevision: i + 2,
        modRevision: i + 2,
        subRevision: 0,
        version: 1,
        lease: BigInt(i % 100) * 1000n,
        deleted: false,
        dbOffset: i * 4096,
        dbLength: 3000,
        dbValueLength: 2900,
        verbatim: true,
        memValue: null,
        source: 'tree',
        sourceRevision: i + 2,
        page: i,
      });
    }
    const overhead = (states.bytes - keyBytes) / 1_000_000;
    // Columns ~32 bytes, index ~11 plus a table at most half full (8-16), in 64 Ki-key chunks and 1 MiB arena chunks.
    expect(overhead).toBeLessThan(60);
  });
});

describe('RevisionList', () => {
  it('walks the distinct revisions in order whether they sit in bits or in the list (sparse, huge, pushed before their chunk)', () => {
    const list = new RevisionList();
    let seed = 7;
    const rnd = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
    const pushed: number[] = [];
    const push = (r: number) => {
      list.push(r);
      pushed.push(r);
    };
    // Sparse first: most land in the list (each chunk costs 8 KiB, allowed only as pushes grow).
    for (let i = 0; i < 3000; i++) push(rnd(2 ** 31));
    for (const r of [2 ** 52, 2 ** 53 - 1, 2 ** 32, 2 ** 32 - 1, 0, 5, 5, 5]) push(r);
    for (let r = 2; r < 300_000; r++) push(r);
    // Pushed again now that their chunks may exist: a revision in both the list and the bits is one revision.
    for (const r of pushed.slice(0, 3000)) push(r);
    const want = [...new Set(pushed)].sort((a, b) => a - b);
    expect([...list.sorted()]).toEqual(want);
    expect(list.pushed).toBe(pushed.length);
    const firstTen: number[] = [];
    list.forEachAscending((r) => firstTen.push(r) < 10);
    expect(firstTen).toEqual(want.slice(0, 10));
  });

  it('a million dense revisions take bits, not 8 bytes each', () => {
    const list = new RevisionList();
    for (let r = 2; r < 1_000_002; r++) list.push(r);
    expect(list.bytes).toBeLessThan(200_000);
  });
});

describe('sortStable', () => {
  it('orders as the built-in stable sort does, ties in their order', () => {
    let seed = 3;
    const rnd = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
    for (const n of [0, 1, 2, 31, 32, 33, 64, 65, 1000, 50_000]) {
      const key = Array.from({ length: n }, () => rnd(Math.max(1, n >> 2)));
      const ids = Uint32Array.from({ length: n }, (_, i) => i);
      const cmp = (a: number, b: number) => key[a]! - key[b]!;
      expect([...sortStable(ids.slice(), cmp)]).toEqual([...ids.slice().sort(cmp)]);
    }
    const inOrder = Uint32Array.from({ length: 100 }, (_, i) => i);
    expect(sortStable(inOrder, (a, b) => a - b)).toBe(inOrder);
  });
});

describe('a salvage through the packed columns', () => {
  it('writes odd revisions, versions, sub-revisions and many leases exactly as the source had them', async () => {
    type Row = { key: string; main: number; sub: number; create: number; version: number; lease: bigint; value: string };
    const rows: Row[] = [];
    let main = 2 ** 41;
    for (let i = 0; i < 2000; i++) {
      // One txn of many ops now and then: sub-revisions past 65,535 are not real etcd, but a damaged db may say so.
      const sub = i % 500 === 0 ? 70_000 + i : 0;
      if (sub === 0) main += 1 + (i % 3);
      rows.push({
        key: `/registry/leases/ns-${i % 9}/l-${i}`,
        main,
        sub,
        create: i % 4 === 0 ? 2 ** 40 + i : main,
        version: i % 7 === 0 ? 2 ** 33 + i : 1 + (i % 5),
        // Most keys their own lease (none shared), some without, some a lease the lease bucket lacks (detached).
        lease: i % 10 === 0 ? 0n : BigInt(i) * 0x100000001n + (i % 10 === 9 ? 3n : 0n),
        value: `value-${i}`,
      });
    }
    const leaseIds = rows.filter((r) => r.lease !== 0n && r.lease % 0x100000001n === 0n).map((r) => r.lease);
    const items: RevisionItem[] = rows.map((r) => ({
      key: revisionKey(r.main, r.sub),
      value: encodeKeyValue({
        key: te.encode(r.key),
        createRevision: r.create,
        modRevision: r.main,
        version: r.version,
        value: te.encode(r.value),
        lease: r.lease,
      }),
    }));
    const source = memorySink();
    await writeEtcdBackend(source, {
      revisions: items,
      buckets: {
        meta: [[te.encode('consistent_index'), u64be(77)]],
        lease: leaseIds.map((id) => [u64be(id), encodeLease(id, 60)] as [Uint8Array, Uint8Array]),
      },
    });
    const out = memorySink();
    const report = await salvageEtcd({ db: memorySource('db', source.bytes()), dbFile: 'db' }, out, { outputKind: 'snapshot-db', output: 'out' });
    expect(report.keysWritten).toBe(rows.length);
    expect(report.leases.detachedKeys).toBe(rows.filter((r) => r.lease % 0x100000001n === 3n).length);
    const back = await collectSalvage({ db: memorySource('out', out.bytes()), dbFile: 'out' });
    const got: Row[] = [];
    await forEachLiveKey(back, memorySource('out', out.bytes()), (k) => {
      got.push({
        key: td.decode(k.key),
        main: k.modRevision,
        sub: -1,
        create: k.createRevision,
        version: k.version,
        lease: k.lease,
        value: td.decode(k.value),
      });
    });
    const want = rows.map((r) => ({ ...r, sub: -1, lease: r.lease % 0x100000001n === 3n ? 0n : r.lease }));
    expect(got).toEqual(want);
    // The sub-revisions came through too: the output's revision keys are the source's, in the same order.
    expect([...back.revisionsSeen.sorted()]).toEqual([...new Set(rows.map((r) => r.main))]);
    const subs = rows.map((r) => back.keys.subRevision(back.keys.find(te.encode(r.key))));
    expect(subs).toEqual(rows.map((r) => r.sub));
  });
});
