import { describe, expect, it } from 'vitest';
import { BigIntColumn, KeyIndex, NumberColumn } from '../../shared/formats/etcd/key-index';
import { KeyStates } from '../../shared/formats/etcd/salvage';

const te = new TextEncoder();

describe('KeyIndex', () => {
  it('gives each distinct key one dense id and finds it again by its bytes', () => {
    const index = new KeyIndex();
    const a = index.add(te.encode('/registry/pods/a'));
    const b = index.add(te.encode('/registry/pods/b'));
    expect([a, b]).toEqual([0, 1]);
    expect(index.add(te.encode('/registry/pods/a'))).toBe(a);
    expect(index.find(te.encode('/registry/pods/b'))).toBe(b);
    expect(index.find(te.encode('/registry/pods/c'))).toBe(-1);
    expect(index.size).toBe(2);
    expect(new TextDecoder().decode(index.key(b))).toBe('/registry/pods/b');
  });

  it('keeps keys that share a hash slot apart (collisions), the empty key and every byte value', () => {
    const index = new KeyIndex();
    const keys: Uint8Array[] = [new Uint8Array(0)];
    for (let i = 0; i < 256; i++) keys.push(Uint8Array.of(i), Uint8Array.of(i, 0), Uint8Array.of(1, i, 2));
    const ids = keys.map((k) => index.add(k));
    expect(new Set(ids).size).toBe(keys.length);
    keys.forEach((k, i) => {
      expect(index.find(k)).toBe(ids[i]);
      expect(index.key(ids[i]!)).toEqual(k);
    });
  });

  it('grows its table and arena without moving a key: views taken early stay right', () => {
    const index = new KeyIndex();
    const first = index.key(index.add(te.encode('first')));
    const long = new Uint8Array(3 * 1024 * 1024).map((_, i) => i & 0xff);
    const longId = index.add(long);
    for (let i = 0; i < 200_000; i++) index.add(te.encode(`/registry/configmaps/ns-${i % 50}/cm-${i}`));
    expect(new TextDecoder().decode(first)).toBe('first');
    // Byte by byte in a loop: vitest's toEqual takes ~30 s on 3 MiB (and timed out on a loaded machine).
    const held = index.key(longId);
    expect(held.length).toBe(long.length);
    expect(held.every((b, i) => b === long[i])).toBe(true);
    expect(index.find(te.encode('/registry/configmaps/ns-7/cm-199957'))).toBe(199_957 + 2);
    expect(index.size).toBe(200_002);
  });

  it('columns read zero where nothing was set and hold 64-bit leases exactly', () => {
    const n = new NumberColumn((size) => new Float64Array(size));
    n.set(70_000, 2 ** 52);
    expect(n.get(70_000)).toBe(2 ** 52);
    expect(n.get(3)).toBe(0);
    expect(n.get(10_000_000)).toBe(0);
    const l = new BigIntColumn();
    l.set(5, -1n);
    l.set(6, 2n ** 62n);
    expect([l.get(5), l.get(6), l.get(7)]).toEqual([-1n, 2n ** 62n, 0n]);
  });
});

describe('KeyStates', () => {
  it('a million keys stay within 170 bytes a key plus the key bytes', () => {
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
        lease: 0n,
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
    expect(states.size).toBe(1_000_000);
    const overhead = (states.bytes - keyBytes) / 1_000_000;
    // Columns (~100 bytes a key) and a hash table at most half full, in 64 Ki-key chunks and 1 MiB arena chunks.
    expect(overhead).toBeLessThan(170);
    const s = states.get(states.find(te.encode('/registry/configmaps/ns-7/cm-00123457')))!;
    expect([s.modRevision, s.page, s.sourceRevision, s.verbatim, s.deleted]).toEqual([123_459, 123_457, 123_459, true, false]);
  });

  it('orders live keys by revision and leaves deletes and index-only ids out', () => {
    const states = new KeyStates();
    const base = {
      createRevision: 1,
      subRevision: 0,
      version: 1,
      lease: 0n,
      dbOffset: -1,
      dbLength: 0,
      dbValueLength: 0,
      verbatim: false,
      memValue: new Uint8Array([1]),
      source: 'wal' as const,
      sourceRevision: null,
    };
    states.set({ ...base, id: states.idOf(te.encode('b')), modRevision: 9, deleted: false, walIndex: 4 });
    states.set({ ...base, id: states.idOf(te.encode('a')), modRevision: 7, deleted: false });
    states.set({ ...base, id: states.idOf(te.encode('c')), modRevision: 8, deleted: true });
    const onlyIndexed = states.idOf(te.encode('d'));
    expect(states.has(onlyIndexed)).toBe(false);
    expect(states.size).toBe(3);
    const live = [...states.liveByRevision()].map((id) => new TextDecoder().decode(states.keyOf(id)));
    expect(live).toEqual(['a', 'b']);
    const b = states.get(states.find(te.encode('b')))!;
    expect([b.walIndex, b.page, b.sourceRevision, b.memValue]).toEqual([4, undefined, null, new Uint8Array([1])]);
  });
});
