/**
 * Salvage with bounded memory (issue 7): the pieces that keep it bounded and
 * fast must not change what is written.
 * - the window cache reuses a few buffers (`readInto`) and still returns the
 *   right bytes, also when it reads the next window ahead;
 * - the bbolt writer copies what it keeps, so callers may reuse their buffers;
 * - the allocation-free KeyValue decoder agrees with the general one on
 *   valid, mutated and garbage inputs;
 * - key ids are exact and ordered as bytes; the revision gap check does not
 *   loop over revision numbers;
 * - a whole salvage through reused windows writes the same bytes as one
 *   through plain reads.
 */
import { describe, expect, it } from 'vitest';
import { memorySource, type ByteSource } from '../../shared/bytes/byte-source';
import { BboltWriter, memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';
import {
  cachedSource,
  copyBytes,
  decodeKv,
  decodeKvGeneric,
  keyBytes,
  keyId,
  missingRevisions,
  salvageEtcd,
  SalvageState,
  type ReadIntoSource,
} from '../../shared/formats/etcd/salvage';

/** Byte equality without the matcher's element-by-element walk (megabytes here). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

/** A source over `bytes` that fills caller buffers and remembers which buffers it filled. */
function readIntoSource(bytes: Uint8Array): ReadIntoSource & { targets: Set<ArrayBufferLike>; reads: number } {
  const plain = memorySource('db', bytes);
  const src = {
    name: 'db',
    size: bytes.length,
    targets: new Set<ArrayBufferLike>(),
    reads: 0,
    read: (offset: number, length: number) => plain.read(offset, length).then((b) => b.slice()),
    async readInto(offset: number, target: Uint8Array): Promise<number> {
      src.targets.add(target.buffer);
      src.reads++;
      const part = bytes.subarray(offset, Math.min(bytes.length, offset + target.length));
      target.set(part);
      return part.length;
    },
  };
  return src;
}

describe('the window cache', () => {
  it('reuses at most `windows` buffers and returns the right bytes at random offsets', async () => {
    const bytes = new Uint8Array(1 << 20);
    const r = rng(7);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(r() * 256);
    const src = readIntoSource(bytes);
    const cached = cachedSource(src, 4096, 3);
    let wrong = 0;
    for (let i = 0; i < 5000; i++) {
      const offset = Math.floor(r() * bytes.length);
      const length = 1 + Math.floor(r() * 6000);
      const got = await cached.read(offset, length);
      if (!sameBytes(got, bytes.subarray(offset, Math.min(bytes.length, offset + length)))) wrong++;
    }
    expect(wrong).toBe(0);
    // Many windows were loaded, into no more than three buffers.
    expect(src.reads).toBeGreaterThan(100);
    expect(src.targets.size).toBeLessThanOrEqual(3);
  });

  it('reading ahead: right bytes over sequential passes, jumps and the end, still at most `windows` buffers, each window read once in a pass', async () => {
    const bytes = new Uint8Array((1 << 20) + 1234);
    const r = rng(9);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(r() * 256);
    const src = readIntoSource(bytes);
    const cached = cachedSource(src, 4096, 4, true);
    let wrong = 0;
    const check = async (offset: number, length: number) => {
      const got = await cached.read(offset, length);
      if (!sameBytes(got, bytes.subarray(offset, Math.min(bytes.length, offset + length)))) wrong++;
    };
    // A page-by-page pass: every window is read once (the next one ahead, while this one is used).
    for (let at = 0; at < bytes.length; at += 512) await check(at, Math.min(512, bytes.length - at));
    expect(src.reads).toBe(Math.ceil(bytes.length / 4096));
    // Random reads and short sequential runs from random places (read ahead for nothing, then dropped).
    for (let i = 0; i < 3000; i++) {
      const start = Math.floor(r() * bytes.length);
      for (let j = 0; j < 1 + Math.floor(r() * 4); j++) {
        const offset = Math.min(bytes.length - 1, start + j * 4096);
        await check(offset, 1 + Math.floor(r() * 4000));
      }
    }
    expect(wrong).toBe(0);
    expect(src.targets.size).toBeLessThanOrEqual(4);
  });

  it('reading ahead: windows larger than a read piece (read in parallel pieces) give the right bytes', async () => {
    const bytes = new Uint8Array(10 * 1024 * 1024 + 333);
    const r = rng(21);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + Math.floor(r() * 4)) & 0xff;
    const src = readIntoSource(bytes);
    const cached = cachedSource(src, 3 * 1024 * 1024, 3, true);
    let wrong = 0;
    for (let at = 0; at < bytes.length; at += 65_536) {
      const length = Math.min(65_536, bytes.length - at);
      if (!sameBytes(await cached.read(at, length), bytes.subarray(at, at + length))) wrong++;
    }
    expect(wrong).toBe(0);
    expect(src.targets.size).toBeLessThanOrEqual(3);
  });

  it('reading ahead: a failed read ahead is thrown to the read that needs it, not left unhandled', async () => {
    const bytes = new Uint8Array(64 * 1024).fill(5);
    const src = readIntoSource(bytes);
    const failing: ReadIntoSource = {
      ...src,
      readInto: (offset, target) => (offset >= 3 * 4096 ? Promise.reject(new Error('disk error')) : src.readInto(offset, target)),
    };
    const cached = cachedSource(failing, 4096, 4, true);
    await cached.read(0, 10);
    // Sequential: window 2 is read ahead (and fails) while window 1 is used; 2 is fine, 3 fails when read ahead.
    await cached.read(4096, 10);
    await cached.read(2 * 4096, 10);
    await expect(cached.read(3 * 4096, 10)).rejects.toThrow('disk error');
  });

  it('copyBytes owns its bytes even from a Node Buffer (whose slice() is a view that pins the read buffer)', () => {
    const big = Buffer.alloc(1 << 16, 7);
    const key = big.subarray(100, 117);
    const copy = copyBytes(key);
    big.fill(9);
    expect(copy.buffer).not.toBe(big.buffer);
    expect([...copy]).toEqual(new Array(17).fill(7));
  });
});

describe('the bbolt writer copies what it keeps', () => {
  it('one reused key/value buffer gives the same file as fresh arrays (small values, and values bigger than a page)', async () => {
    const entries: [Uint8Array, Uint8Array][] = [];
    const r = rng(11);
    for (let i = 0; i < 600; i++) {
      const value = new Uint8Array(i % 50 === 0 ? 9000 + i : Math.floor(r() * 300));
      for (let j = 0; j < value.length; j++) value[j] = Math.floor(r() * 256);
      entries.push([revisionKey(i + 2, 0), value]);
    }
    const fresh = memorySink();
    const a = new BboltWriter(fresh);
    await a.bucket('key');
    for (const [k, v] of entries) await a.put(k, v);
    await a.finish();

    const reused = memorySink();
    const b = new BboltWriter(reused);
    await b.bucket('key');
    const keyBuf = new Uint8Array(17);
    const valueBuf = new Uint8Array(20_000);
    for (const [k, v] of entries) {
      keyBuf.set(k);
      valueBuf.set(v);
      await b.put(keyBuf, valueBuf.subarray(0, v.length));
      // What put was handed is overwritten at once, as a reused read window would be.
      keyBuf.fill(0xff);
      valueBuf.fill(0xee);
    }
    await b.finish();
    expect(reused.bytes().length).toBeGreaterThan(600 * 100);
    expect(sameBytes(reused.bytes(), fresh.bytes())).toBe(true);
  });
});

describe('the KeyValue decoder', () => {
  it('agrees with the general decoder on valid, mutated, truncated and garbage KeyValues', () => {
    const r = rng(3);
    const te = new TextEncoder();
    const samples: Uint8Array[] = [];
    for (let i = 0; i < 400; i++) {
      const value = new Uint8Array(Math.floor(r() * 200));
      const lease = i % 5 === 0 ? 0x694d_7c1a_2b3c_4d5en : i % 7 === 0 ? -5n : BigInt(Math.floor(r() * 1000));
      const big = i % 11 === 0 ? 2 ** 50 + i : 2 + i;
      samples.push(encodeKeyValue({ key: te.encode(`/registry/pods/ns/p-${i}`), createRevision: big, modRevision: big + 1, version: i % 3, value, lease }));
    }
    samples.push(
      new Uint8Array(0),
      Uint8Array.of(0x0a, 0x00),
      Uint8Array.of(0x0a, 0x05, 0x61),
      Uint8Array.of(0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
    );
    let differentFromOriginal = 0;
    for (const original of samples.slice(0, 400)) {
      for (let m = 0; m < 20; m++) {
        const b = original.slice(0, r() < 0.2 ? Math.floor(r() * original.length) : original.length);
        const flips = Math.floor(r() * 3);
        for (let f = 0; f < flips && b.length > 0; f++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
        samples.push(b);
        differentFromOriginal++;
      }
    }
    expect(differentFromOriginal).toBe(8000);
    let decoded = 0;
    let canonical = 0;
    for (const b of samples) {
      const fast = decodeKv(b);
      expect(fast).toEqual(decodeKvGeneric(b));
      if (fast) decoded++;
      if (fast?.canonical) canonical++;
    }
    // Both kinds of answer were exercised.
    expect(decoded).toBeGreaterThan(400);
    expect(decoded).toBeLessThan(samples.length);
    expect(canonical).toBeGreaterThan(300);
  });

  it('calls a KeyValue canonical only when re-encoding gives the same bytes', () => {
    const te = new TextEncoder();
    const kv = { key: te.encode('/registry/a'), createRevision: 5, modRevision: 9, version: 2, value: te.encode('v'), lease: 0n };
    const bytes = encodeKeyValue(kv);
    expect(decodeKv(bytes)?.canonical).toBe(true);
    // The same fields in another order, or a padded varint: a valid KeyValue, not the canonical bytes.
    const swapped = Uint8Array.of(...bytes.subarray(bytes.indexOf(0x10)), ...bytes.subarray(0, bytes.indexOf(0x10)));
    expect(decodeKv(swapped)?.key).toEqual(kv.key);
    expect(decodeKv(swapped)?.canonical).toBe(false);
    const padded = Uint8Array.of(0x0a, 11, ...kv.key, 0x10, 0x85, 0x00);
    expect(decodeKv(padded)?.createRevision).toBe(5);
    expect(decodeKv(padded)?.canonical).toBe(false);
  });
});

describe('key ids and revision gaps', () => {
  it('keyId is exact for every byte value and orders as the bytes do', () => {
    const all = new Uint8Array(256).map((_, i) => i);
    expect(keyBytes(keyId(all))).toEqual(all);
    const long = new Uint8Array(10_000).map((_, i) => (i * 7) & 0xff);
    expect(keyBytes(keyId(long))).toEqual(long);
    const a = Uint8Array.of(0x61, 0x80);
    const b = Uint8Array.of(0x61, 0xff);
    const c = Uint8Array.of(0x62);
    expect(keyId(a) < keyId(b) && keyId(b) < keyId(c)).toBe(true);
  });

  it('a revision near 2^53 from a damaged key: the gaps are found without walking every number', () => {
    const state = new SalvageState();
    for (const r of [2, 3, 5, 5, 6, 2 ** 52]) state.revisionsSeen.push(r);
    state.maxRevision = 2 ** 52;
    expect(missingRevisions(state)).toEqual([
      [4, 4],
      [7, 2 ** 52 - 1],
    ]);
    state.sourceCompacted = 4;
    expect(missingRevisions(state)).toEqual([[7, 2 ** 52 - 1]]);
  });
});

describe('a whole salvage through reused windows', () => {
  it('writes the same snapshot bytes as through plain reads, on a db larger than the window cache', async () => {
    const te = new TextEncoder();
    const sink = memorySink();
    const value = new Uint8Array(3000);
    const revisions = 14_000;
    const keys = 9000;
    function* items(): Generator<RevisionItem> {
      for (let rev = 2; rev < revisions + 2; rev++) {
        const k = rev % keys;
        value.fill(rev & 0xff);
        value[0] = k & 0xff;
        yield {
          key: revisionKey(rev, 0),
          value: encodeKeyValue({
            key: te.encode(`/registry/configmaps/ns/cm-${k}`),
            createRevision: k + 2,
            modRevision: rev,
            version: rev < keys + 2 ? 1 : 2,
            value,
            lease: 0n,
          }),
        };
      }
    }
    await writeEtcdBackend(sink, { revisions: items(), buckets: { meta: [[te.encode('consistent_index'), u64be(revisions + 5)]] } });
    const db = sink.bytes();
    // More than the eight 4 MiB windows: buffers are reused during the scan and the write.
    expect(db.length).toBeGreaterThan(40 * 1024 * 1024);
    const run = async (src: ByteSource) => {
      const out = memorySink();
      const report = await salvageEtcd({ db: src, dbFile: 'db' }, out, { outputKind: 'snapshot-db', output: 'out', keysListedMax: 0 });
      return { bytes: out.bytes(), report };
    };
    const plain = await run(memorySource('db', db));
    const reusing = readIntoSource(db);
    const windowed = await run(reusing);
    expect(reusing.targets.size).toBeLessThanOrEqual(8);
    expect(windowed.report.keysWritten).toBe(keys);
    expect(windowed.report.lost).toEqual([]);
    expect(windowed.bytes.length).toBe(plain.bytes.length);
    expect(sameBytes(windowed.bytes, plain.bytes)).toBe(true);
  });
});
