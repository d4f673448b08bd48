/**
 * bbolt decoding and the tree walk on synthetic dbs (built with the repair
 * engineer's independent BboltWriter) and on arbitrary bytes: loops, element
 * counts and overflows beyond the page or the file, synced freelists, orphaned
 * leaves for salvage, and a fixed-seed fuzz run over every entry point that
 * must never throw, hang or read without bound.
 */
import { describe, expect, it } from 'vitest';
import { memorySource, type ByteSource } from '../../shared/bytes/byte-source';
import { bboltPageDetail, bboltPageMap, forEachLeafItem, guessBucket, inspectBbolt, readMetaTree } from '../../shared/formats/etcd/bbolt-db';
import { decodeBranchElements, decodeLeafElements } from '../../shared/formats/etcd/bbolt-element';
import { chooseMeta, decodeMeta, encodeMetaPage, fnv1a64 } from '../../shared/formats/etcd/bbolt-meta';
import { decodePageHeader, pageTypeName } from '../../shared/formats/etcd/bbolt-page';
import { faultText, openBbolt, walkTree } from '../../shared/formats/etcd/bbolt-walk';
import { BboltWriter, memorySink } from '../../shared/formats/etcd/bbolt-write';
import { keyGroup, listKeys, readValue } from '../../shared/formats/etcd/keys';
import { decodeKeyValue, decodeKeyValueFast, encodeKeyValue, gogoKeyValueError } from '../../shared/formats/etcd/kv';
import { decodeRevisionKey, encodeRevisionKey } from '../../shared/formats/etcd/revision';
import { summarizeK8sValue } from '../../shared/formats/etcd/k8s-value';
import { sha256 } from '@noble/hashes/sha2';
import { uniform as rng } from '../fuzz/mutate';

const enc = new TextEncoder();
const PS = 4096;

interface Built {
  bytes: Uint8Array;
  keys: Map<string, { value: string; mod: number; tombstone: boolean }>;
  revisions: number;
}

/** A db shaped like etcd's: key (revisions with history and tombstones), members, meta. */
async function buildDb(keys = 400, extra: { alarms?: [bigint, number][]; badMember?: boolean; badRevisionKey?: boolean } = {}): Promise<Built> {
  const sink = memorySink();
  const w = new BboltWriter(sink, { pageSize: PS });
  const latest = new Map<string, { value: string; mod: number; tombstone: boolean }>();
  const revs: { key: Uint8Array; value: Uint8Array }[] = [];
  let main = 1;
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < keys; i++) {
      main++;
      const k = `/registry/configmaps/ns${i % 4}/cm-${String(i).padStart(5, '0')}`;
      const v = `value-${round}-${i}-${'y'.repeat(40)}`;
      revs.push({
        key: encodeRevisionKey({ main, sub: 0, tombstone: false }),
        value: encodeKeyValue({
          key: enc.encode(k),
          createRevision: main - round * keys,
          modRevision: main,
          version: round + 1,
          value: enc.encode(v),
          lease: 0n,
        }),
      });
      latest.set(k, { value: v, mod: main, tombstone: false });
    }
  }
  for (let i = 0; i < keys; i += 10) {
    main++;
    const k = `/registry/configmaps/ns${i % 4}/cm-${String(i).padStart(5, '0')}`;
    revs.push({
      key: encodeRevisionKey({ main, sub: 0, tombstone: true }),
      value: encodeKeyValue({ key: enc.encode(k), createRevision: 0, modRevision: 0, version: 0, value: new Uint8Array(0), lease: 0n }),
    });
    latest.set(k, { value: '', mod: main, tombstone: true });
  }
  if (extra.alarms) {
    await w.bucket('alarm');
    // etcdserverpb.AlarmMember {1 memberID, 2 alarm} as the key, empty value.
    const am = ([id, a]: [bigint, number]) => {
      const out: number[] = [0x08];
      let v = id;
      while (v >= 0x80n) {
        out.push(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      out.push(Number(v), 0x10, a);
      return Uint8Array.from(out);
    };
    const keys = extra.alarms.map(am).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    for (const k of keys) await w.put(k, new Uint8Array(0));
  }
  await w.bucket('key');
  for (const r of revs) await w.put(r.key, r.value);
  if (extra.badRevisionKey) await w.put(enc.encode('\xff-not-a-revision'), enc.encode('x'));
  await w.bucket('members');
  if (extra.badMember) await w.put(enc.encode('0000000000000001'), enc.encode('not json'));
  await w.put(
    enc.encode('8e9e05c52164694d'),
    enc.encode('{"id":10276657743932975437,"peerURLs":["http://127.0.0.1:2380"],"name":"n1","clientURLs":["http://127.0.0.1:2379"]}'),
  );
  await w.bucket('meta');
  const ci = new Uint8Array(8);
  new DataView(ci.buffer).setBigUint64(0, 4242n, false);
  await w.put(enc.encode('consistent_index'), ci);
  await w.finish();
  return { bytes: sink.bytes(), keys: latest, revisions: revs.length };
}

function src(bytes: Uint8Array): ByteSource {
  return memorySource('db', bytes);
}

/** Child pgid of branch element `i` in page `page`, and leaf pages of the key bucket (read independently). */
function firstBranch(bytes: Uint8Array): { branch: number; leaves: number[] } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  for (let p = 3; p * PS < bytes.length; p++) {
    if (dv.getUint16(p * PS + 8, true) === 0x01) {
      const count = dv.getUint16(p * PS + 10, true);
      return { branch: p, leaves: Array.from({ length: count }, (_, i) => Number(dv.getBigUint64(p * PS + 16 + i * 16 + 8, true))) };
    }
  }
  throw new Error('no branch page');
}

function setU64(bytes: Uint8Array, at: number, v: bigint) {
  new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(at, v, true);
}

describe('bbolt pages and metas', () => {
  it('decodes page headers and names types as bbolt does', () => {
    expect(pageTypeName(0x01)).toBe('branch');
    expect(pageTypeName(0x03)).toBe('branch');
    expect(pageTypeName(0x02)).toBe('leaf');
    expect(pageTypeName(0x04)).toBe('meta');
    expect(pageTypeName(0x10)).toBe('freelist');
    expect(pageTypeName(0x00)).toBe('unknown<00>');
    expect(pageTypeName(0x20)).toBe('unknown<20>');
    expect(decodePageHeader(new Uint8Array(15))).toBeNull();
    const h = new Uint8Array(16);
    setU64(h, 0, 0xffff_ffff_ffff_ffffn);
    expect(decodePageHeader(h)!.idBig).toBe(0xffff_ffff_ffff_ffffn);
    expect(decodePageHeader(h)!.id).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('validates metas in bbolt order and picks the one db.meta() would', () => {
    const base = { pageSize: PS, flags: 0, root: 3n, sequence: 0n, freelist: 0xffff_ffff_ffff_ffffn, pgid: 10n };
    const m0 = encodeMetaPage({ ...base, txid: 8n }, PS);
    const m1 = encodeMetaPage({ ...base, txid: 9n }, PS);
    const d0 = decodeMeta(m0, 0);
    const d1 = decodeMeta(m1, 1);
    expect([d0.ok, d1.ok, d0.freelistPage, d1.highWaterMark, d1.txid]).toEqual([true, true, null, 10, 9]);
    expect(chooseMeta([d0, d1])).toBe(1);
    const bad1 = m1.slice();
    bad1[16 + 48] ^= 1; // txid: checksum error
    expect(decodeMeta(bad1, 1).error).toBe('checksum error');
    expect(chooseMeta([d0, decodeMeta(bad1, 1)])).toBe(0);
    const v = m0.slice();
    v[20] = 3;
    expect(decodeMeta(v, 0).error).toBe('version mismatch');
    const magic = m0.slice();
    magic[16] = 0;
    expect(decodeMeta(magic, 0).error).toBe('invalid database');
    // A zero checksum is not checked (bbolt: checksum != 0 && mismatch).
    const zero = m0.slice();
    setU64(zero, 16 + 56, 0n);
    zero[16 + 40] = 99;
    expect(decodeMeta(zero, 0).ok).toBe(true);
    expect(chooseMeta([decodeMeta(magic, 0), decodeMeta(magic, 1)])).toBeNull();
    expect(fnv1a64(new Uint8Array(0))).toBe(0xcbf29ce484222325n);
  });

  it('opens like bbolt v1.3.6: empty, too short, too small, both metas broken', async () => {
    expect((await openBbolt(src(new Uint8Array(0)))).empty).toBe(true);
    expect((await openBbolt(src(new Uint8Array(100)))).openError).toBe('invalid database');
    const { bytes } = await buildDb(20);
    expect((await openBbolt(src(bytes.slice(0, 6000)))).openError).toBe('file size too small');
    const both = bytes.slice();
    both[16] = 0;
    both[PS + 16] = 0;
    expect((await openBbolt(src(both))).openError).toBe('invalid database');
    const ck = bytes.slice();
    ck[16 + 60] ^= 1;
    ck[PS + 16 + 60] ^= 1;
    expect((await openBbolt(src(ck))).openError).toBe('checksum error');
  });

  it('models where a read outside the file ends up', () => {
    expect(faultText(100n, PS, 1 << 20)).toBe('fatal error: fault (SIGBUS)');
    expect(faultText(1n << 22n, PS, 1 << 20)).toBe('fatal error: fault (SIGSEGV)');
    expect(faultText(1n << 40n, PS, 1 << 20)).toBe('runtime error: index out of range [4503599627370496] with length 281474976710655');
    expect(faultText(0xffff_ffff_ffff_ffffn, PS, 1 << 20)).toBe(
      `runtime error: index out of range [${(0xffff_ffff_ffff_ffffn * 4096n) & 0xffff_ffff_ffff_ffffn}] with length 281474976710655`,
    );
  });

  it('bounds elements by their page', () => {
    const page = new Uint8Array(56);
    const dv = new DataView(page.buffer);
    dv.setUint16(10, 3, true);
    dv.setUint32(16 + 4, 16, true); // element 0: pos 16 -> key at 32
    dv.setUint32(16 + 8, 4, true);
    dv.setUint32(16 + 12, 1000, true); // value runs past the page
    const leaf = decodeLeafElements(page, 3);
    expect(leaf.length).toBe(2); // the third slot is past 56 bytes
    expect(leaf[0]!.problem).toMatch(/run past the end of the page/);
    expect(decodeBranchElements(page, 0xffff).length).toBe(2);
  });
});

describe('the tree walk on synthetic dbs', () => {
  it('an intact db: schema, keys, values, page map, detail', async () => {
    const b = await buildDb();
    const scan = await inspectBbolt(src(b.bytes), 'db');
    expect(scan.info.problems).toEqual([]);
    expect(scan.info.freepagesPanic).toBeNull();
    expect(scan.schema!.revisions).toBe(b.revisions);
    expect(scan.schema!.tombstones).toBe(40);
    expect(scan.schema!.liveKeys).toBe([...b.keys.values()].filter((k) => !k.tombstone).length);
    expect(scan.schema!.consistentIndex).toBe(4242);
    expect(scan.schema!.members).toEqual([{ id: '8e9e05c52164694d', name: 'n1', peerURLs: ['http://127.0.0.1:2380'], clientURLs: ['http://127.0.0.1:2379'] }]);
    expect(scan.info.pages.freelist).toBe(1);
    const page = await listKeys(src(b.bytes), { kind: 'keys', offset: 0, limit: 10_000 });
    expect(page.total).toBe(b.keys.size);
    for (const item of page.items) {
      const want = b.keys.get(item.key)!;
      expect(item.modRevision).toBe(want.mod);
      expect(item.tombstone).toBe(want.tombstone);
      expect(item.history).toBe(want.tombstone ? 3 : 2);
    }
    const [k, v] = [...b.keys].find(([, x]) => !x.tombstone)!;
    expect((await readValue(src(b.bytes), k)).display).toBe(v.value);
    const map = await bboltPageMap(src(b.bytes), 'db');
    expect(map.codes.slice(0, 3)).toBe('mmf');
    expect(map.codes.length).toBe(b.bytes.length / PS);
    const { branch, leaves } = firstBranch(b.bytes);
    const d = await bboltPageDetail(src(b.bytes), branch);
    expect(d.elements.map((e) => e.childPage)).toEqual(leaves);
  });

  it('a value larger than a page: overflow pages in the map, read back whole, a continuation page explained', async () => {
    const sink = memorySink();
    const w = new BboltWriter(sink, { pageSize: PS });
    const big = enc.encode('{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"big"},"data":{"x":"' + 'q'.repeat(10_000) + '"}}');
    await w.bucket('key');
    await w.put(
      encodeRevisionKey({ main: 2, sub: 0, tombstone: false }),
      encodeKeyValue({ key: enc.encode('/registry/configmaps/default/big'), createRevision: 2, modRevision: 2, version: 1, value: big, lease: 0n }),
    );
    await w.finish();
    const bytes = sink.bytes();
    const scan = await inspectBbolt(src(bytes), 'db');
    expect(scan.info.problems).toEqual([]);
    expect(scan.info.pages.overflow).toBe(2);
    const map = await bboltPageMap(src(bytes), 'db');
    const first = map.codes.indexOf('o');
    expect(map.codes.slice(first - 1, first + 2)).toBe('loo');
    const v = await readValue(src(bytes), '/registry/configmaps/default/big');
    expect(v.size).toBe(big.length);
    expect(JSON.parse(v.display)).toEqual(JSON.parse(new TextDecoder().decode(big)));
    const cont = await bboltPageDetail(src(bytes), first);
    expect(cont.parent).toBe(first - 1);
    expect(cont.problems[0]).toBe(`overflow: bytes 4096.. of page ${first - 1}, not a page of its own`);
  });

  it('reports progress and stops when cancelled', async () => {
    const b = await buildDb(3000);
    const seen: number[] = [];
    await inspectBbolt(src(b.bytes), 'db', { onProgress: (p) => seen.push(p.bytesDone) });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((x, i) => x <= b.bytes.length && (i === 0 || x >= seen[i - 1]!))).toBe(true);
    const ac = new AbortController();
    ac.abort();
    await expect(inspectBbolt(src(b.bytes), 'db', { signal: ac.signal })).rejects.toThrow('cancelled');
  });

  it('a branch that points at itself: reported once, no endless walk', async () => {
    const b = await buildDb();
    const { branch } = firstBranch(b.bytes);
    const bytes = b.bytes.slice();
    setU64(bytes, branch * PS + 16 + 8, BigInt(branch));
    const scan = await inspectBbolt(src(bytes), 'db');
    expect(scan.info.problems.map((p) => p.text)).toContain(`page ${branch}: multiple references`);
    const map = await bboltPageMap(src(bytes), 'db');
    expect(map.codes[branch]).toBe('d');
  });

  it('a leaf claiming 65535 elements and an overflow past the file', async () => {
    const b = await buildDb();
    const { leaves } = firstBranch(b.bytes);
    const bytes = b.bytes.slice();
    new DataView(bytes.buffer).setUint16(leaves[1]! * PS + 10, 0xffff, true);
    new DataView(bytes.buffer).setUint32(leaves[2]! * PS + 12, 0xffff_ffff, true);
    const scan = await inspectBbolt(src(bytes), 'db');
    const codes = scan.info.problems.map((p) => p.code);
    expect(codes).toContain('bbolt.element-count');
    expect(codes).toContain('bbolt.overflow-beyond-file');
    expect(scan.bytesRead).toBeLessThan(bytes.length * 4);
  });

  it('a synced freelist that is not a freelist page: bbolt panics reading it; unreachable pages are "unreachable unfreed"', async () => {
    const b = await buildDb();
    const bytes = b.bytes.slice();
    new DataView(bytes.buffer).setUint16(2 * PS + 8, 0x02, true);
    const scan = await inspectBbolt(src(bytes), 'db');
    expect(scan.info.freepagesPanic).toBe('invalid freelist page: 2, page type is leaf');
    const b2 = await buildDb();
    const grown = new Uint8Array(b2.bytes.length + PS);
    grown.set(b2.bytes);
    // Raise the high-water mark of both metas by one page: that page is neither reachable nor free.
    for (const m of [0, 1] as const) {
      const meta = decodeMeta(grown.subarray(m * PS, (m + 1) * PS), m);
      grown.set(encodeMetaPage({ ...meta.fields, pgid: meta.fields.pgid + 1n }, PS, m), m * PS);
    }
    const s2 = await inspectBbolt(src(grown), 'db');
    expect(s2.info.problems.map((p) => p.text)).toEqual([`page ${b2.bytes.length / PS}: unreachable unfreed`]);
  });

  it("the other meta's tree: walked only where it differs, and a page it shares twice is still found", async () => {
    const b = await buildDb();
    const n = b.bytes.length / PS;
    const { leaves } = firstBranch(b.bytes);
    const bytes = new Uint8Array(b.bytes.length + PS);
    bytes.set(b.bytes);
    const m1 = decodeMeta(bytes.subarray(PS, 2 * PS), 1);
    const m0 = decodeMeta(bytes.subarray(0, PS), 0);
    expect(m1.fields.txid).toBeGreaterThan(m0.fields.txid);
    // The older meta's root: a copy of the root leaf at page n whose `members` bucket points into the key bucket's tree.
    bytes.set(bytes.subarray(m1.rootPage * PS, (m1.rootPage + 1) * PS), n * PS);
    setU64(bytes, n * PS, BigInt(n));
    const el = decodeLeafElements(bytes.subarray(n * PS, (n + 1) * PS), 3).find((e) => new TextDecoder().decode(e.key) === 'members')!;
    setU64(bytes, n * PS + el.at + el.keyPos + el.keySize, BigInt(leaves[3]!));
    bytes.set(encodeMetaPage({ ...m0.fields, root: BigInt(n), pgid: BigInt(n + 1) }, PS, 0), 0);
    const scan = await inspectBbolt(src(bytes), 'db');
    expect(scan.info.chosenMeta).toBe(1);
    expect(scan.info.problems).toEqual([]);
    expect(scan.info.otherMetaTreeOk).toBe(false);
    const db = await openBbolt(src(bytes));
    const full = await walkTree(db, 0);
    expect(full.problems.map((p) => p.text)).toContain(`page ${leaves[3]}: multiple references`);
    const first = await walkTree(db, 1);
    const reused = await walkTree(db, 0, { reuse: first });
    expect(reused.problems.map((p) => p.text)).toEqual(full.problems.map((p) => p.text));
  });

  it('salvage: items of the tree, then an orphaned leaf found by scanning, with its bucket guessed', async () => {
    const b = await buildDb();
    const { branch, leaves } = firstBranch(b.bytes);
    const n = b.bytes.length / PS;
    const bytes = new Uint8Array(b.bytes.length + PS);
    bytes.set(b.bytes);
    // An orphan: a copy of a key leaf at the end (its header id says where it is).
    bytes.set(b.bytes.subarray(leaves[0]! * PS, (leaves[0]! + 1) * PS), n * PS);
    setU64(bytes, n * PS, BigInt(n));
    // And drop leaf 1 out of the tree: the branch's element 1 now points at leaf 2's page too.
    setU64(bytes, branch * PS + 16 + 16 + 8, BigInt(leaves[2]!));
    const items: { page: number; reachable: boolean; bucket: string | null }[] = [];
    const r = await forEachLeafItem(src(bytes), (it) => void items.push({ page: it.page, reachable: it.reachable, bucket: it.bucket }));
    expect(r.orphanPages).toBe(2);
    const orphanPages = [...new Set(items.filter((i) => !i.reachable).map((i) => i.page))].sort((a, c) => a - c);
    expect(orphanPages).toEqual([leaves[1]!, n].sort((a, c) => a - c));
    expect(items.filter((i) => !i.reachable).every((i) => i.bucket === 'key')).toBe(true);
    expect(items.filter((i) => i.reachable && i.bucket === 'members').length).toBe(1);
    expect(guessBucket(enc.encode('consistent_index'), new Uint8Array(8), 0)).toBe('meta');
    const tree = await readMetaTree(src(bytes), 0);
    expect(tree!.problems.map((p) => p.code)).toContain('bbolt.multiple-references');
  });
});

/** Rewrite both metas as etcd writes them on Linux: no synced freelist (every open walks the tree). */
function unsynced(bytes: Uint8Array, patchMeta: Partial<{ pgid: bigint; root: bigint }> = {}): Uint8Array {
  const out = bytes.slice();
  for (const m of [0, 1] as const) {
    const meta = decodeMeta(out.subarray(m * PS, (m + 1) * PS), m);
    out.set(encodeMetaPage({ ...meta.fields, freelist: 0xffff_ffff_ffff_ffffn, ...patchMeta }, PS, m), m * PS);
  }
  return out;
}

function leafElement(bytes: Uint8Array, page: number, i: number) {
  return decodeLeafElements(bytes.subarray(page * PS, (page + 1) * PS), i + 1)[i]!;
}

async function codesOf(bytes: Uint8Array): Promise<string[]> {
  const scan = await inspectBbolt(src(bytes), 'db');
  return [...new Set([...scan.findings.map((f) => f.code), ...scan.info.problems.map((p) => p.code)])];
}

describe('every bbolt and schema finding code, on a db damaged for it', () => {
  it('tree walk codes', async () => {
    const b = await buildDb(200);
    const { branch, leaves } = firstBranch(b.bytes);
    const n = b.bytes.length / PS;
    const base = unsynced(b.bytes);
    const root = decodeMeta(base.subarray(PS, 2 * PS), 1).rootPage;

    let x = base.slice();
    setU64(x, branch * PS + 16 + 8, BigInt(n + 5));
    expect(await codesOf(x)).toEqual(expect.arrayContaining(['bbolt.freepages-fault', 'bbolt.page-beyond-file']));
    const fault = (await inspectBbolt(src(x), 'db')).findings.find((f) => f.code === 'bbolt.freepages-fault')!;
    // The offset is where the bad page id is stored: branch element 0's pgid.
    expect(fault.offset).toBe(branch * PS + 16 + 8);
    expect(fault.engineError).toBe('fatal error: fault (SIGBUS)');

    x = base.slice();
    setU64(x, leaves[1]! * PS, BigInt(n + 100));
    expect(await codesOf(x)).toEqual(expect.arrayContaining(['bbolt.freepages-panic', 'bbolt.out-of-bounds', 'bbolt.header-id']));

    x = base.slice();
    x.fill(0, leaves[1]! * PS, (leaves[1]! + 1) * PS);
    expect(await codesOf(x)).toEqual(expect.arrayContaining(['bbolt.freepages-panic', 'bbolt.invalid-type']));

    x = base.slice();
    new DataView(x.buffer).setUint32(leaves[1]! * PS + 16 + 4, 0x4000_0000, true);
    expect(await codesOf(x)).toEqual(expect.arrayContaining(['bbolt.element-bounds', 'bbolt.element-beyond-file', 'bbolt.freepages-fault']));

    // A value size past 2 GiB: bbolt's cursor slices it through its 2 GiB array type and Go's bounds check panics.
    x = base.slice();
    new DataView(x.buffer).setUint32(leaves[1]! * PS + 16 + 16 + 12, 0xfff0_0000, true);
    expect(await codesOf(x)).toEqual(expect.arrayContaining(['bbolt.element-bounds', 'bbolt.element-slice']));
    const sliced = leafElement(x, leaves[1]!, 1);
    const slice = (await inspectBbolt(src(x), 'db')).findings.find((f) => f.code === 'bbolt.element-slice')!;
    const end = sliced.keyPos + sliced.keySize + 0xfff0_0000;
    expect(slice.engineError).toBe(`runtime error: slice bounds out of range [::${end}] with length 2147483647`);
    expect(slice.severity).toBe('error');
    expect(slice.offset).toBe(leaves[1]! * PS + 16 + 16);
    expect(slice.message).toContain(`page ${leaves[1]}: element 1's value ends ${end} bytes from the element`);
    // Just inside the bound: no panic (the value is read past the end of the file instead).
    x = base.slice();
    new DataView(x.buffer).setUint32(leaves[1]! * PS + 16 + 16 + 12, 0x7fff_ffff - sliced.keyPos - sliced.keySize, true);
    expect(await codesOf(x)).not.toContain('bbolt.element-slice');

    x = base.slice();
    const e = leafElement(x, leaves[2]!, 0);
    x.fill(0, leaves[2]! * PS + e.at + e.keyPos, leaves[2]! * PS + e.at + e.keyPos + 8); // main revision 0: sorts before its branch key
    expect(await codesOf(x)).toContain('bbolt.key-order');

    // The root leaf's `members` bucket: a value too short, then an "inline" bucket with no page image.
    const members = decodeLeafElements(base.subarray(root * PS, (root + 1) * PS), 3).find((el) => new TextDecoder().decode(el.key) === 'members')!;
    x = base.slice();
    new DataView(x.buffer).setUint32(root * PS + members.at + 12, 8, true);
    expect(await codesOf(x)).toContain('bbolt.bucket-value');
    x = base.slice();
    setU64(x, root * PS + members.at + members.keyPos + members.keySize, 0n);
    expect(await codesOf(x)).toContain('bbolt.inline-bucket');
  });

  it('a meta whose root page is beyond the file: the problem names the meta page that points there (found by `npm run fuzz`, was "referenced by page -1")', async () => {
    const b = await buildDb(50);
    const n = b.bytes.length / PS;
    const x = unsynced(b.bytes, { root: BigInt(n + 7) });
    const scan = await inspectBbolt(src(x), 'db');
    const beyond = scan.info.problems.find((p) => p.code === 'bbolt.page-beyond-file')!;
    const meta = scan.info.chosenMeta!;
    expect(beyond.text).toBe(`page ${n + 7}: referenced by meta page ${meta} but beyond the end of the file (${n} pages); bbolt would read outside the file`);
    // The offset is the meta's root field, inside the file.
    expect(beyond.offset).toBe(meta * PS + 16 + 16);
  });

  it('header ids past 2^53 are compared exactly: different garbage ids are not "multiple references", a repeated one is, with its exact id (found by `npm run fuzz`)', async () => {
    const b = await buildDb(200);
    const { leaves } = firstBranch(b.bytes);
    const x = unsynced(b.bytes);
    const huge = 1n << 60n;
    setU64(x, leaves[1]! * PS, huge);
    setU64(x, leaves[2]! * PS, huge + 2n);
    let problems = (await inspectBbolt(src(x), 'db')).info.problems;
    expect(problems.filter((p) => p.code === 'bbolt.multiple-references')).toEqual([]);
    expect(problems.filter((p) => p.code === 'bbolt.out-of-bounds').map((p) => p.text.split(':')[0])).toEqual([`page ${huge}`, `page ${huge + 2n}`]);

    setU64(x, leaves[3]! * PS, huge);
    problems = (await inspectBbolt(src(x), 'db')).info.problems;
    const repeated = problems.filter((p) => p.code === 'bbolt.multiple-references');
    expect(repeated.map((p) => p.text)).toEqual([`page ${huge}: multiple references`]);
    // The problem sits on the page holding the repeated header (the id itself is no page of the file).
    expect(repeated[0]!.page).toBe(leaves[3]);
    expect(repeated[0]!.offset).toBe(leaves[3]! * PS);
  });

  it('buckets nested deeper than the walk follows', async () => {
    // Pages 2..40: each a leaf with one sub-bucket pointing at the next page.
    const pages = 42;
    const bytes = new Uint8Array(pages * PS);
    const { encodeLeafPage } = await import('../../shared/formats/etcd/bbolt-element');
    for (let p = 2; p < pages; p++) {
      const v = new Uint8Array(16);
      new DataView(v.buffer).setBigUint64(0, BigInt(p + 1 < pages ? p + 1 : 0), true);
      bytes.set(encodeLeafPage(p, [{ key: enc.encode(`b${p}`), value: p + 1 < pages ? v : new Uint8Array(16), flags: 1 }], PS), p * PS);
    }
    for (const m of [0, 1] as const)
      bytes.set(
        encodeMetaPage({ pageSize: PS, flags: 0, root: 2n, sequence: 0n, freelist: 0xffff_ffff_ffff_ffffn, pgid: BigInt(pages), txid: BigInt(m + 1) }, PS, m),
        m * PS,
      );
    expect(await codesOf(bytes)).toContain('bbolt.bucket-depth');
  });

  it('synced freelist codes', async () => {
    const b = await buildDb(30);
    const n = b.bytes.length / PS;
    const x = new Uint8Array(b.bytes.length + PS);
    x.set(b.bytes);
    // Freelist page 2: ids [n, n] (a duplicate) and a claimed count far beyond its page.
    const dv = new DataView(x.buffer);
    dv.setUint16(2 * PS + 10, 2, true);
    setU64(x, 2 * PS + 16, BigInt(n));
    setU64(x, 2 * PS + 24, BigInt(n));
    for (const m of [0, 1] as const) {
      const meta = decodeMeta(x.subarray(m * PS, (m + 1) * PS), m);
      x.set(encodeMetaPage({ ...meta.fields, pgid: BigInt(n + 1) }, PS, m), m * PS);
    }
    expect(await codesOf(x)).toContain('bbolt.already-freed');
    dv.setUint16(2 * PS + 10, 0xffff, true);
    setU64(x, 2 * PS + 16, 1_000_000n);
    expect(await codesOf(x)).toContain('bbolt.freelist-bounds');
    dv.setUint16(2 * PS + 10, 0, true);
    expect(await codesOf(x)).toContain('bbolt.unreachable-unfreed');
    dv.setUint16(2 * PS + 8, 0x02, true);
    expect(await codesOf(x)).toContain('bbolt.freelist-invalid');
  });

  it('findings carry their template and params: the Chinese text is the same sentence with the same values', async () => {
    const b = await buildDb(20, { alarms: [[0x8e9e05c52164694dn, 1]] });
    const x = unsynced(b.bytes);
    const { branch } = firstBranch(x);
    setU64(x, branch * PS + 16 + 8, 0n);
    const scan = await inspectBbolt(src(x), 'member/snap/db');
    const { MESSAGES, translate } = await import('../../shared/i18n/index');
    for (const f of scan.findings) {
      const key = f.messageKey ?? `finding.${f.code}.message`;
      expect(MESSAGES.en[key], key).toBeDefined();
      expect(translate('en', key, f.params)).toBe(f.message);
      const zh = translate('zh-CN', key, f.params);
      expect(zh).toMatch(/[\u4e00-\u9fff]/);
      expect(zh).not.toMatch(/\{[a-z]+\}/);
    }
    const panic = scan.findings.find((f) => f.code === 'bbolt.freepages-panic')!;
    // Page 0 read as a branch: its first "child" is the meta's page size (bytes 24..31), page 4096, past this file
    // (what real etcd faults on when its walk outruns the panic: SIGBUS at mapping + 4096 * 4096 + 8).
    expect(panic.params).toMatchObject({ page: 0, child: String(PS), fault: 'fatal error: fault (SIGBUS)' });
    expect(panic.message).toBe(
      `etcd would panic opening member/snap/db: freepages: failed to get all reachable pages (page 0: invalid type: meta). The tree of meta 1 is damaged. On a busy machine etcd may die with \`fatal error: fault (SIGBUS)\` instead: bbolt raises this panic on another \`goroutine\` while its walk goes on, and the walk next reads page 0 as a branch whose first child, page ${PS}, lies past the end of the file.`,
    );
    expect(translate('zh-CN', panic.messageKey!, panic.params)).toBe(
      `etcd 打开 member/snap/db 时会 panic，报错：“freepages: failed to get all reachable pages (page 0: invalid type: meta)”。meta 1 的页面树已损坏。在繁忙的机器上，etcd 也可能改为以 \`fatal error: fault (SIGBUS)\` 退出：bbolt 在另一个 \`goroutine\` 中抛出这个 panic，而遍历仍在继续，下一步会把页 0 当作分支页读取，其第一个子页（页 ${PS}）位于文件末尾之外。`,
    );

    // A branch element at the freelist page: the walk reads that page's ids as the child, inside the file; no race to tell.
    const y = unsynced(b.bytes);
    setU64(y, firstBranch(y).branch * PS + 16 + 8, 2n);
    const other = (await inspectBbolt(src(y), 'member/snap/db')).findings.find((f) => f.code === 'bbolt.freepages-panic')!;
    expect(other.message).toBe(
      'etcd would panic opening member/snap/db: freepages: failed to get all reachable pages (page 2: invalid type: freelist). The tree of meta 1 is damaged.',
    );
  });

  it('schema codes: alarms, undecodable members and revisions, size against the quota', async () => {
    const b = await buildDb(20, {
      alarms: [
        [0x8e9e05c52164694dn, 1],
        [0x1234n, 2],
        [0x99n, 7],
      ],
      badMember: true,
      badRevisionKey: true,
    });
    const scan = await inspectBbolt(src(b.bytes), 'db');
    expect(scan.schema!.alarms).toEqual(
      expect.arrayContaining([
        { memberId: '8e9e05c52164694d', alarm: 'NOSPACE' },
        { memberId: '1234', alarm: 'CORRUPT' },
        { memberId: '99', alarm: 'unknown(7)' },
      ]),
    );
    const codes = scan.findings.map((f) => f.code);
    expect(codes).toEqual(expect.arrayContaining(['etcd.alarm-nospace', 'etcd.alarm-corrupt', 'etcd.alarm-other', 'etcd.member-decode', 'etcd.revision-key']));
    const x = b.bytes.slice();
    const { leaves } = firstBranch(x);
    const e = leafElement(x, leaves[0]!, 1);
    x[leaves[0]! * PS + e.at + e.keyPos + e.keySize] = 0x00;
    const bad = await inspectBbolt(src(x), 'db');
    expect(bad.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['etcd.kv-decode', 'etcd.mvcc-restore']));
    expect(bad.info.mvccRestoreError).toBe('cannot unmarshal event: proto: KeyValue: illegal tag 0 (wire type 0)');
    // A high-water mark at 90% of the 2 GiB quota.
    const big = unsynced(b.bytes, { pgid: BigInt(Math.ceil((0.9 * 2 ** 31) / PS)) });
    const near = await inspectBbolt(src(big), 'db');
    expect(near.findings.find((f) => f.code === 'etcd.db-near-quota')).toMatchObject({ severity: 'warning', params: { quota: 2 ** 31 } });
  });
});

describe('etcd values', () => {
  it('revision keys and KeyValue round-trip; gogo unmarshal errors with etcd texts', () => {
    const r = { main: 123456789, sub: 7, tombstone: true };
    expect(decodeRevisionKey(encodeRevisionKey(r))).toEqual(r);
    expect(decodeRevisionKey(enc.encode('not-a-revision-key'))).toBeNull();
    const kv = { key: enc.encode('/a'), createRevision: 5, modRevision: 9, version: 2, value: enc.encode('v'), lease: 0x1234n };
    const bytes = encodeKeyValue(kv);
    const d = decodeKeyValue(bytes);
    expect(d.ok && { ...d.kv, key: [...d.kv.key], value: [...d.kv.value] }).toEqual({ ...kv, key: [...kv.key], value: [...kv.value] });
    expect(gogoKeyValueError(bytes)).toBeNull();
    expect(gogoKeyValueError(bytes.subarray(0, bytes.length - 1))).toBe('unexpected EOF');
    expect(gogoKeyValueError(Uint8Array.of(0x00))).toBe('proto: KeyValue: illegal tag 0 (wire type 0)');
    expect(gogoKeyValueError(Uint8Array.of(0x0c))).toBe('proto: KeyValue: wiretype end group for non-group');
    expect(gogoKeyValueError(Uint8Array.of(0x10, 0x80))).toBe('unexpected EOF');
    expect(gogoKeyValueError(Uint8Array.of(0x12, 0x01))).toBe('proto: wrong wireType = 2 for field CreateRevision');
    expect(gogoKeyValueError(Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01))).toBe(
      'proto: negative length found during unmarshaling',
    );
    expect(gogoKeyValueError(Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01))).toBe('proto: integer overflow');
    expect(gogoKeyValueError(Uint8Array.of(0x3f))).toBe('proto: illegal wireType 7');
    expect(gogoKeyValueError(Uint8Array.of(0x38, 0x01))).toBeNull(); // unknown field 7, skipped
  });

  it('Kubernetes values: encrypted providers, JSON, text, binary', () => {
    expect(summarizeK8sValue(enc.encode('k8s:enc:kms:v2:my-kms:\x00\x01'))).toEqual({
      encoding: 'encrypted',
      encryption: { provider: 'kms', keyName: 'my-kms' },
    });
    expect(summarizeK8sValue(enc.encode('k8s:enc:secretbox:v1:k2:xyz'))).toEqual({
      encoding: 'encrypted',
      encryption: { provider: 'secretbox', keyName: 'k2' },
    });
    expect(summarizeK8sValue(enc.encode(' {"apiVersion":"v1","kind":"X","metadata":{"name":"n","labels":{"a":"b","c":1}}}'))).toEqual({
      encoding: 'json',
      apiVersion: 'v1',
      kind: 'X',
      name: 'n',
      labels: { a: 'b' },
    });
    expect(summarizeK8sValue(enc.encode('{"__proto__":{"x":1},"metadata":{"labels":{"__proto__":"p"}}}')).labels).toEqual(
      Object.defineProperty({}, '__proto__', { value: 'p', enumerable: true }),
    );
    expect(summarizeK8sValue(enc.encode('hello\nworld')).encoding).toBe('text');
    expect(summarizeK8sValue(Uint8Array.of(1, 2, 3)).encoding).toBe('binary');
    expect(summarizeK8sValue(Uint8Array.of(0x6b, 0x38, 0x73, 0x00, 0xff))).toEqual({ encoding: 'protobuf' });
  });

  it('groups Kubernetes keys by resource and namespace', () => {
    expect(keyGroup('/registry/pods/default/p')).toEqual({ resource: 'pods', namespace: 'default' });
    expect(keyGroup('/registry/namespaces/default')).toEqual({ resource: 'namespaces', namespace: null });
    expect(keyGroup('/registry/cert-manager.io/certificates/app/c')).toEqual({ resource: 'cert-manager.io/certificates', namespace: 'app' });
    expect(keyGroup('/registry/services/specs/default/kubernetes')).toEqual({ resource: 'services/specs', namespace: 'default' });
    expect(keyGroup('foo')).toEqual({ resource: '(foo)', namespace: null });
  });

  it('snapshot.db trailer: present iff size % 512 == 32, compared with the SHA-256 of the bytes before it', async () => {
    const b = await buildDb(30);
    const withHash = new Uint8Array(b.bytes.length + 32);
    withHash.set(b.bytes);
    withHash.set(sha256(b.bytes), b.bytes.length);
    const ok = await inspectBbolt(src(withHash), 'snapshot.db');
    expect(ok.info.sha256).toMatchObject({ present: true, ok: true });
    expect(ok.info.pageCount).toBe(b.bytes.length / PS);
    withHash[withHash.length - 1] ^= 1;
    const bad = await inspectBbolt(src(withHash), 'snapshot.db');
    expect(bad.info.sha256!.ok).toBe(false);
    expect(bad.findings.find((f) => f.code === 'snapshot-db.hash-mismatch')!.engineError).toMatch(/^expected sha256 \[\d+( \d+){31}\], got \[\d+( \d+){31}\]$/);
  });
});

/** A source that counts what is read, to prove reads stay bounded. */
function countingSource(bytes: Uint8Array): ByteSource & { readBytes: number } {
  const inner = memorySource('db', bytes);
  const s = {
    name: 'db',
    size: bytes.length,
    readBytes: 0,
    async read(offset: number, length: number) {
      expect(length).toBeLessThanOrEqual(64 * 1024 * 1024);
      const r = await inner.read(offset, length);
      s.readBytes += r.length;
      return r;
    },
  };
  return s;
}

function norm(d: ReturnType<typeof decodeKeyValue>) {
  return d.ok ? { ...d.kv, key: [...d.kv.key], value: [...d.kv.value] } : { ok: false };
}

describe('fuzz (fixed seed): no throw, no hang, bounded reads', () => {
  it('the fast KeyValue decoder and the gogo check agree with the exact ones on valid and mutated values', () => {
    const rand = rng(7);
    for (let iter = 0; iter < 2000; iter++) {
      const kv = {
        key: Uint8Array.from({ length: 1 + Math.floor(rand() * 40) }, () => Math.floor(rand() * 256)),
        createRevision: Math.floor(rand() * 2 ** (rand() < 0.1 ? 52 : 20)),
        modRevision: Math.floor(rand() * 2 ** 20),
        version: Math.floor(rand() * 100),
        value: Uint8Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)),
        lease: rand() < 0.3 ? BigInt(Math.floor(rand() * 2 ** 53)) * 1024n : 0n,
      };
      const bytes = encodeKeyValue(kv);
      if (iter % 2) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      expect(norm(decodeKeyValueFast(bytes))).toEqual(norm(decodeKeyValue(bytes)));
      if (iter % 2 === 0) expect(gogoKeyValueError(bytes)).toBeNull();
    }
  });

  it('mutated dbs through every entry point', async () => {
    // Two trees sharing most pages: meta 0 (older) has its own copy of the root leaf at the end.
    const built = (await buildDb(150)).bytes;
    const n0 = built.length / PS;
    const base = new Uint8Array(built.length + PS);
    base.set(built);
    const m1 = decodeMeta(base.subarray(PS, 2 * PS), 1);
    const m0 = decodeMeta(base.subarray(0, PS), 0);
    base.set(base.subarray(m1.rootPage * PS, (m1.rootPage + 1) * PS), n0 * PS);
    setU64(base, n0 * PS, BigInt(n0));
    base.set(encodeMetaPage({ ...m0.fields, root: BigInt(n0), pgid: BigInt(n0 + 1) }, PS, 0), 0);
    base.set(encodeMetaPage({ ...m1.fields, pgid: BigInt(n0 + 1) }, PS, 1), PS);
    const rand = rng(0x5eed);
    const n = base.length / PS;
    for (let iter = 0; iter < 120; iter++) {
      const bytes = base.slice();
      const edits = 1 + Math.floor(rand() * 8);
      for (let e = 0; e < edits; e++) {
        const page = Math.floor(rand() * n);
        // Mostly headers and element tables, sometimes anywhere.
        const at = page * PS + (rand() < 0.7 ? Math.floor(rand() * 96) : Math.floor(rand() * PS));
        bytes[at] = rand() < 0.3 ? 0 : rand() < 0.5 ? 0xff : Math.floor(rand() * 256);
      }
      const s = countingSource(bytes);
      const scan = await inspectBbolt(s, 'db');
      expect(scan.info.pageCount).toBe(n);
      if (scan.info.otherMetaTreeOk !== null) {
        // Reusing the chosen walk must not change the verdict on the other tree.
        const db = await openBbolt(memorySource('db', bytes));
        const full = await walkTree(db, (1 - scan.info.chosenMeta!) as 0 | 1);
        expect(scan.info.otherMetaTreeOk).toBe(full.problemCount === 0);
      }
      await bboltPageMap(s, 'db');
      await bboltPageDetail(s, Math.floor(rand() * n));
      await forEachLeafItem(s, () => {});
      try {
        await listKeys(s, { kind: 'keys', offset: 0, limit: 20 });
      } catch (err) {
        expect((err as Error).message).toMatch(/cannot be listed/);
      }
      expect(s.readBytes).toBeLessThan(bytes.length * 40);
    }
  });

  it('random bytes of random sizes, and the pure decoders on arbitrary input', async () => {
    const rand = rng(42);
    for (let iter = 0; iter < 60; iter++) {
      const size = [0, 1, 100, 4095, 4096, 8192, 12288, 20000][iter % 8]!;
      const bytes = Uint8Array.from({ length: size }, () => Math.floor(rand() * 256));
      if (size >= 8192 && iter % 2) {
        // A valid meta over random pages: the walk meets garbage.
        bytes.set(
          encodeMetaPage(
            {
              pageSize: PS,
              flags: 0,
              root: BigInt(2 + (iter % 3)),
              sequence: 0n,
              freelist: 0xffff_ffff_ffff_ffffn,
              pgid: BigInt(Math.floor(size / PS) + 3),
              txid: 5n,
            },
            PS,
            0,
          ),
        );
      }
      const scan = await inspectBbolt(memorySource('x', bytes), 'x');
      expect(scan.info.size).toBe(size);
      decodePageHeader(bytes);
      decodeMeta(bytes, 0);
      expect(norm(decodeKeyValueFast(bytes))).toEqual(norm(decodeKeyValue(bytes)));
      gogoKeyValueError(bytes);
      summarizeK8sValue(bytes);
      summarizeK8sValue(Uint8Array.of(0x6b, 0x38, 0x73, 0x00, ...bytes.subarray(0, 512)));
    }
  });
});
