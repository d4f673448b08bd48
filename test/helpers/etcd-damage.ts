/**
 * Damage cases for real etcd 3.4 data dirs (the etcd oracle and the repair
 * engineer's tests share them). Each case names the golden it damages and a
 * function that damages a copy in place. The damage code finds WAL records
 * and bbolt pages itself with the small independent parsers below (never the
 * decoders under test), so a bug in the product cannot hide a bug here.
 *
 * Goldens (built once per test file by `buildEtcdGoldens`):
 * - `small`: 300 keys, no .snap (snapshot count not reached), one WAL file, cleanly stopped.
 * - `snaps`: 400 keys written twice, `--snapshot-count 150`, killed: several .snap files.
 * - `multiwal`: 330 KB values, enough for three 64 MB WAL files.
 * - `snapshot`: a `snapshot.db` saved with `etcdctl snapshot save` from a copy of `small`.
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { copyDir, makeGolden, spawnEtcd, waitHealthy, ETCDCTL, type EtcdGolden, type GoldenSpec } from './etcd';

export type EtcdGoldenName = 'small' | 'snaps' | 'multiwal';

export const GOLDEN_SPECS: Record<EtcdGoldenName, GoldenSpec> = {
  small: { keys: 300, valueSize: 64 },
  snaps: { keys: 400, valueSize: 64, rewrites: 1, snapshotCount: 150, kill: true },
  multiwal: { keys: 420, valueSize: 330_000 },
};

export interface EtcdDamageCase {
  name: string;
  golden: EtcdGoldenName;
  /** Damage the copied data dir (the dir etcd is started with) in place. */
  damage: (dataDir: string) => Promise<void>;
}

export interface SnapshotDbCase {
  name: string;
  /** Damage the copied snapshot.db file in place. */
  damage: (file: string) => Promise<void>;
}

// ------------------------------------------------------------------ small file edits

export async function flipByte(file: string, offset: number, mask = 0xff): Promise<void> {
  const fh = await fs.open(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, offset);
    b[0]! ^= mask;
    await fh.write(b, 0, 1, offset);
  } finally {
    await fh.close();
  }
}

export async function writeAt(file: string, offset: number, bytes: Uint8Array): Promise<void> {
  const fh = await fs.open(file, 'r+');
  try {
    await fh.write(bytes, 0, bytes.length, offset);
  } finally {
    await fh.close();
  }
}

export async function zeroRange(file: string, offset: number, length: number): Promise<void> {
  await writeAt(file, offset, new Uint8Array(length));
}

function u64le(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

// ------------------------------------------------------------------ protobuf (just enough)

function varint(b: Uint8Array, at: number): [bigint, number] {
  let v = 0n;
  let shift = 0n;
  for (let i = at; i < b.length && i < at + 10; i++) {
    v |= BigInt(b[i]! & 0x7f) << shift;
    if ((b[i]! & 0x80) === 0) return [v, i + 1];
    shift += 7n;
  }
  throw new Error(`bad varint at ${at}`);
}

/** Top-level fields of a protobuf message: field number -> [wireType, value or [start,end) of bytes]. */
function pbFields(b: Uint8Array): { field: number; varint?: bigint; start?: number; end?: number }[] {
  const out: { field: number; varint?: bigint; start?: number; end?: number }[] = [];
  let at = 0;
  while (at < b.length) {
    const [tag, next] = varint(b, at);
    at = next;
    const field = Number(tag >> 3n);
    const wt = Number(tag & 7n);
    if (wt === 0) {
      const [v, n2] = varint(b, at);
      out.push({ field, varint: v });
      at = n2;
    } else if (wt === 2) {
      const [len, n2] = varint(b, at);
      out.push({ field, start: n2, end: n2 + Number(len) });
      at = n2 + Number(len);
    } else if (wt === 1) at += 8;
    else if (wt === 5) at += 4;
    else throw new Error(`wire type ${wt}`);
  }
  return out;
}

// ------------------------------------------------------------------ WAL

export interface WalFrame {
  /** Offset of the 8-byte length word. */
  offset: number;
  /** Offset of the record bytes. */
  dataOffset: number;
  length: number;
  padding: number;
  /** walpb.Record type: 1 metadata, 2 entry, 3 state, 4 crc, 5 snapshot. */
  type: number;
  crc: number;
  /** Offset (in the file) of the walpb.Record `data` payload, and its length. */
  payloadOffset: number;
  payloadLength: number;
  /** For entries: raft index. */
  index?: number;
}

/** Every frame of one WAL file up to the zero tail. */
export async function walFrames(file: string): Promise<WalFrame[]> {
  const b = await fs.readFile(file);
  const frames: WalFrame[] = [];
  let at = 0;
  while (at + 8 <= b.length) {
    const word = b.readBigUInt64LE(at);
    if (word === 0n) break;
    const length = Number(word & 0x00ff_ffff_ffff_ffffn);
    const padding = word >> 63n ? Number((word >> 56n) & 7n) : 0;
    if (at + 8 + length > b.length) break;
    const rec = b.subarray(at + 8, at + 8 + length);
    let type = 0;
    let crc = 0;
    let payloadOffset = at + 8;
    let payloadLength = 0;
    for (const f of pbFields(rec)) {
      if (f.field === 1) type = Number(f.varint);
      if (f.field === 2) crc = Number(f.varint);
      if (f.field === 3) {
        payloadOffset = at + 8 + f.start!;
        payloadLength = f.end! - f.start!;
      }
    }
    let index: number | undefined;
    if (type === 2) {
      for (const f of pbFields(b.subarray(payloadOffset, payloadOffset + payloadLength))) if (f.field === 3) index = Number(f.varint);
    }
    frames.push({ offset: at, dataOffset: at + 8, length, padding, type, crc, payloadOffset, payloadLength, index });
    at += 8 + length + padding;
  }
  return frames;
}

export async function walFiles(dataDir: string): Promise<string[]> {
  const dir = path.join(dataDir, 'member', 'wal');
  return (await fs.readdir(dir))
    .filter((n) => n.endsWith('.wal'))
    .sort()
    .map((n) => path.join(dir, n));
}

export async function snapFiles(dataDir: string): Promise<string[]> {
  const dir = path.join(dataDir, 'member', 'snap');
  return (await fs.readdir(dir))
    .filter((n) => n.endsWith('.snap'))
    .sort()
    .map((n) => path.join(dir, n));
}

export function dbPath(dataDir: string): string {
  return path.join(dataDir, 'member', 'snap', 'db');
}

async function lastWal(dataDir: string): Promise<string> {
  const files = await walFiles(dataDir);
  return files[files.length - 1]!;
}

async function entryFrames(file: string): Promise<WalFrame[]> {
  return (await walFrames(file)).filter((f) => f.type === 2 && f.payloadLength > 0);
}

// ------------------------------------------------------------------ bbolt

export interface BoltMeta {
  page: 0 | 1;
  pageSize: number;
  root: number;
  hwm: number;
  txid: number;
  ok: boolean;
}

export interface BoltPageHeader {
  id: number;
  headerId: number;
  flags: number;
  count: number;
  overflow: number;
}

const BOLT_MAGIC = 0xed0cdaed;

function fnv1a64(b: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const x of b) {
    h ^= BigInt(x);
    h = (h * 0x100000001b3n) & 0xffff_ffff_ffff_ffffn;
  }
  return h;
}

export function boltMetas(b: Buffer): BoltMeta[] {
  const pageSize0 = b.length >= 32 ? b.readUInt32LE(24) : 4096;
  const out: BoltMeta[] = [];
  for (const page of [0, 1] as const) {
    const at = page * pageSize0;
    if (at + 80 > b.length) continue;
    const ok = b.readUInt32LE(at + 16) === BOLT_MAGIC && b.readUInt32LE(at + 20) === 2 && fnv1a64(b.subarray(at + 16, at + 72)) === b.readBigUInt64LE(at + 72);
    out.push({
      page,
      pageSize: b.readUInt32LE(at + 24),
      root: Number(b.readBigUInt64LE(at + 32)),
      hwm: Number(b.readBigUInt64LE(at + 56)),
      txid: Number(b.readBigUInt64LE(at + 64)),
      ok,
    });
  }
  return out;
}

export function newestMeta(b: Buffer): BoltMeta {
  const ok = boltMetas(b)
    .filter((m) => m.ok)
    .sort((x, y) => y.txid - x.txid);
  if (!ok.length) throw new Error('no valid bbolt meta');
  return ok[0]!;
}

function pageHeader(b: Buffer, pageSize: number, id: number): BoltPageHeader {
  const at = id * pageSize;
  return { id, headerId: Number(b.readBigUInt64LE(at)), flags: b.readUInt16LE(at + 8), count: b.readUInt16LE(at + 10), overflow: b.readUInt32LE(at + 12) };
}

export interface BoltTreePage {
  id: number;
  kind: 'branch' | 'leaf';
  depth: number;
  count: number;
  /** Bucket the page belongs to (root bucket = ''). */
  bucket: string;
}

/** Walk the newest meta's tree: every page of every (non-inline) bucket, parents before children. */
export function boltTree(b: Buffer): { meta: BoltMeta; pages: BoltTreePage[]; bucketRoots: Map<string, number> } {
  const meta = newestMeta(b);
  const ps = meta.pageSize;
  const pages: BoltTreePage[] = [];
  const bucketRoots = new Map<string, number>();
  const walk = (id: number, depth: number, bucket: string, onLeafItem?: (key: Buffer, value: Buffer, flags: number) => void) => {
    const h = pageHeader(b, ps, id);
    const at = id * ps;
    if (h.flags & 0x01) {
      pages.push({ id, kind: 'branch', depth, count: h.count, bucket });
      for (let i = 0; i < h.count; i++) walk(Number(b.readBigUInt64LE(at + 16 + i * 16 + 8)), depth + 1, bucket, onLeafItem);
    } else if (h.flags & 0x02) {
      pages.push({ id, kind: 'leaf', depth, count: h.count, bucket });
      for (let i = 0; i < h.count; i++) {
        const e = at + 16 + i * 16;
        const flags = b.readUInt32LE(e);
        const pos = b.readUInt32LE(e + 4);
        const ksize = b.readUInt32LE(e + 8);
        const vsize = b.readUInt32LE(e + 12);
        const key = b.subarray(e + pos, e + pos + ksize);
        const value = b.subarray(e + pos + ksize, e + pos + ksize + vsize);
        onLeafItem?.(key, value, flags);
      }
    }
  };
  walk(meta.root, 0, '', (key, value, flags) => {
    if (flags & 1) {
      const root = Number(value.readBigUInt64LE(0));
      bucketRoots.set(key.toString('latin1'), root);
    }
  });
  for (const [name, root] of bucketRoots) if (root !== 0) walk(root, 0, name);
  return { meta, pages, bucketRoots };
}

/** Offset of page `id`'s header. */
export function pageOffset(meta: BoltMeta, id: number): number {
  return id * meta.pageSize;
}

async function keyBucketPages(dataDir: string): Promise<{ file: string; b: Buffer; meta: BoltMeta; branch: BoltTreePage; leaves: BoltTreePage[] }> {
  const file = dbPath(dataDir);
  const b = await fs.readFile(file);
  const t = boltTree(b);
  const inKey = t.pages.filter((p) => p.bucket === 'key');
  const branch = inKey.find((p) => p.kind === 'branch');
  if (!branch) throw new Error(`${file}: the key bucket has no branch page (golden too small)`);
  return { file, b, meta: t.meta, branch, leaves: inKey.filter((p) => p.kind === 'leaf') };
}

/** Inline bucket `meta` lives in the root leaf: find its `consistent_index` value offset. */
export async function consistentIndexOffset(file: string): Promise<{ offset: number; value: bigint }> {
  const b = await fs.readFile(file);
  const needle = Buffer.from('consistent_index', 'latin1');
  // The key is followed (in the same leaf element area) by its 8-byte big-endian value.
  const meta = newestMeta(b);
  const start = meta.root * meta.pageSize;
  const at = b.indexOf(needle, start);
  if (at < 0 || at > start + meta.pageSize * 4) throw new Error(`${file}: consistent_index not found in the root leaf`);
  return { offset: at + needle.length, value: b.readBigUInt64BE(at + needle.length) };
}

// ------------------------------------------------------------------ the cases

const member = (d: string, ...rest: string[]) => path.join(d, 'member', ...rest);

export const ETCD_DAMAGE_CASES: EtcdDamageCase[] = [
  // intact
  { name: 'intact, cleanly stopped', golden: 'small', damage: async () => {} },
  { name: 'intact, killed, with .snap files', golden: 'snaps', damage: async () => {} },
  { name: 'intact, three WAL files', golden: 'multiwal', damage: async () => {} },
  {
    name: 'leftover .tmp and .broken files beside an intact WAL',
    golden: 'small',
    damage: async (d) => {
      await fs.writeFile(member(d, 'wal', '0.tmp'), Buffer.alloc(4096));
      const w = await lastWal(d);
      await fs.copyFile(w, `${w}.broken`);
    },
  },
  // bbolt
  {
    name: 'bbolt: branch element points at page 0',
    golden: 'small',
    damage: async (d) => {
      const { file, meta, branch } = await keyBucketPages(d);
      await writeAt(file, pageOffset(meta, branch.id) + 16 + 8, u64le(0));
    },
  },
  {
    name: 'bbolt: a leaf page of the key bucket zeroed',
    golden: 'small',
    damage: async (d) => {
      const { file, meta, leaves } = await keyBucketPages(d);
      const leaf = leaves[Math.floor(leaves.length / 2)]!;
      await zeroRange(file, pageOffset(meta, leaf.id), meta.pageSize);
    },
  },
  {
    name: 'bbolt: the branch page of the key bucket zeroed',
    golden: 'small',
    damage: async (d) => {
      const { file, meta, branch } = await keyBucketPages(d);
      await zeroRange(file, pageOffset(meta, branch.id), meta.pageSize);
    },
  },
  {
    name: 'bbolt: a branch child past the high-water mark',
    golden: 'small',
    damage: async (d) => {
      const { file, meta, branch } = await keyBucketPages(d);
      await writeAt(file, pageOffset(meta, branch.id) + 16 + 16 + 8, u64le(meta.hwm + 1000));
    },
  },
  {
    // Found by a random-damage campaign: bbolt computes the page's offset as id x page size in uint64, so an id
    // with its top byte set (4 KiB pages: + 2^56 pages = 2^68 bytes) wraps onto the very page it meant. etcd starts.
    name: "bbolt: a branch child id's top byte flipped (its offset wraps past 2^64 onto the same page)",
    golden: 'small',
    damage: async (d) => {
      const { file, meta, branch } = await keyBucketPages(d);
      if (meta.pageSize !== 4096) throw new Error(`page size ${meta.pageSize}: this damage needs 4 KiB pages`);
      await writeAt(file, pageOffset(meta, branch.id) + 16 + 16 + 15, Buffer.from([0x01]));
    },
  },
  {
    // Found by a random-damage campaign: freepages seeks every key of the bucket (b.Bucket(k)), and the binary
    // search compares the sought key with this element's, 8 MiB past the end of the file: etcd faults on open.
    name: "bbolt: a branch key's offset points past the end of the file",
    golden: 'small',
    damage: async (d) => {
      const { file, meta, branch } = await keyBucketPages(d);
      await writeAt(file, pageOffset(meta, branch.id) + 16 + 2 * 16 + 2, Buffer.from([0x80]));
    },
  },
  {
    name: 'bbolt: a leaf element offset points outside its page',
    golden: 'small',
    damage: async (d) => {
      const { file, meta, leaves } = await keyBucketPages(d);
      const leaf = leaves[1]!;
      await writeAt(file, pageOffset(meta, leaf.id) + 16 + 4, Buffer.from([0x00, 0x00, 0x00, 0x40]));
    },
  },
  {
    // Found by a random-damage campaign against real etcd: bbolt hands out the value anyway, and etcd's mvcc restore
    // unmarshals it from its start into the next element's key (a revision starting with a zero byte).
    name: "bbolt: a leaf value's size runs past the end of the file",
    golden: 'small',
    damage: async (d) => {
      const { file, meta, leaves } = await keyBucketPages(d);
      await writeAt(file, pageOffset(meta, leaves[1]!.id) + 16 + 15, Buffer.from([0x7f]));
    },
  },
  {
    // bbolt slices a page's bytes through a 2 GiB array type: Go's bounds check panics when its cursor reaches the element.
    name: "bbolt: a leaf value's size past 2 GiB (bbolt's slice panics)",
    golden: 'small',
    damage: async (d) => {
      const { file, meta, leaves } = await keyBucketPages(d);
      await writeAt(file, pageOffset(meta, leaves[1]!.id) + 16 + 15, Buffer.from([0xff]));
    },
  },
  {
    name: "bbolt: a leaf key's size past 2 GiB (bbolt's slice panics)",
    golden: 'small',
    damage: async (d) => {
      const { file, meta, leaves } = await keyBucketPages(d);
      await writeAt(file, pageOffset(meta, leaves[2]!.id) + 16 + 16 * 3 + 11, Buffer.from([0x80]));
    },
  },
  {
    name: 'bbolt: a leaf page header names another reachable page',
    golden: 'small',
    damage: async (d) => {
      // The id names another leaf of the tree: bbolt counts that page twice (multiple references).
      const { file, meta, leaves } = await keyBucketPages(d);
      await writeAt(file, pageOffset(meta, leaves[2]!.id), u64le(leaves[4]!.id));
    },
  },
  {
    name: 'bbolt: a leaf page flagged as freelist',
    golden: 'small',
    damage: async (d) => {
      const { file, meta, leaves } = await keyBucketPages(d);
      await writeAt(file, pageOffset(meta, leaves[0]!.id) + 8, Buffer.from([0x10, 0x00]));
    },
  },
  {
    name: 'bbolt: newest meta checksum broken (older meta used)',
    golden: 'small',
    damage: async (d) => {
      const file = dbPath(d);
      const meta = newestMeta(await fs.readFile(file));
      await flipByte(file, meta.page * meta.pageSize + 72);
    },
  },
  {
    name: 'bbolt: both metas broken',
    golden: 'small',
    damage: async (d) => {
      const file = dbPath(d);
      const ps = newestMeta(await fs.readFile(file)).pageSize;
      await flipByte(file, 72);
      await flipByte(file, ps + 72);
    },
  },
  {
    name: 'bbolt: both metas with a wrong magic',
    golden: 'small',
    damage: async (d) => {
      const file = dbPath(d);
      const ps = newestMeta(await fs.readFile(file)).pageSize;
      await zeroRange(file, 16, 4);
      await zeroRange(file, ps + 16, 4);
    },
  },
  {
    name: 'bbolt: db truncated to half',
    golden: 'small',
    damage: async (d) => {
      const file = dbPath(d);
      const st = await fs.stat(file);
      await fs.truncate(file, Math.floor(st.size / 2 / 4096) * 4096);
    },
  },
  { name: 'bbolt: db truncated to 0 bytes', golden: 'small', damage: (d) => fs.truncate(dbPath(d), 0) },
  { name: 'bbolt: db truncated to 100 bytes', golden: 'small', damage: (d) => fs.truncate(dbPath(d), 100) },
  { name: 'bbolt: db missing, no .snap', golden: 'small', damage: (d) => fs.rm(dbPath(d)) },
  { name: 'bbolt: db missing, .snap files present', golden: 'snaps', damage: (d) => fs.rm(dbPath(d)) },
  {
    name: 'bbolt: consistent index below the newest snap',
    golden: 'snaps',
    damage: async (d) => {
      const { offset } = await consistentIndexOffset(dbPath(d));
      const v = Buffer.alloc(8);
      v.writeBigUInt64BE(5n);
      await writeAt(dbPath(d), offset, v);
    },
  },
  // WAL
  {
    name: 'WAL: torn tail (last record zeroed)',
    golden: 'small',
    damage: async (d) => {
      const w = await lastWal(d);
      const frames = await walFrames(w);
      const last = frames[frames.length - 1]!;
      await zeroRange(w, last.dataOffset, last.length);
    },
  },
  {
    name: 'WAL: file cut in the middle of the last entry',
    golden: 'small',
    damage: async (d) => {
      const w = await lastWal(d);
      const e = (await entryFrames(w)).at(-1)!;
      await fs.truncate(w, e.dataOffset + Math.floor(e.length / 2));
    },
  },
  {
    name: 'WAL: file cut in the middle of an early entry',
    golden: 'small',
    damage: async (d) => {
      const w = await lastWal(d);
      const e = (await entryFrames(w))[20]!;
      await fs.truncate(w, e.dataOffset + Math.floor(e.length / 2));
    },
  },
  {
    name: 'WAL: bit flip in the head (first entry)',
    golden: 'small',
    damage: async (d) => {
      const w = (await walFiles(d))[0]!;
      const e = (await entryFrames(w))[0]!;
      await flipByte(w, e.payloadOffset + e.payloadLength - 1, 0x01);
    },
  },
  {
    name: 'WAL: bit flip in the middle',
    golden: 'small',
    damage: async (d) => {
      const w = await lastWal(d);
      const es = await entryFrames(w);
      const e = es[Math.floor(es.length / 2)]!;
      await flipByte(w, e.payloadOffset + e.payloadLength - 1, 0x01);
    },
  },
  {
    // In the second round of writes, below the db's consistent index: the entry stepped over rewrote a key whose
    // first write the WAL still reads; the db holds the newer value.
    name: 'WAL: bit flip in a rewrite the db holds (the older write of its key still reads)',
    golden: 'snaps',
    damage: async (d) => {
      const w = await lastWal(d);
      const es = await entryFrames(w);
      const e = es[Math.floor(es.length * 0.7)]!;
      await flipByte(w, e.payloadOffset + e.payloadLength - 1, 0x01);
    },
  },
  {
    name: 'WAL: bit flip in the last record',
    golden: 'small',
    damage: async (d) => {
      const w = await lastWal(d);
      const frames = await walFrames(w);
      const last = frames.filter((f) => f.payloadLength > 0).at(-1)!;
      await flipByte(w, last.payloadOffset + last.payloadLength - 1, 0x01);
    },
  },
  {
    name: 'WAL: bit flip in the middle of the first of three files',
    golden: 'multiwal',
    damage: async (d) => {
      const w = (await walFiles(d))[0]!;
      const es = await entryFrames(w);
      const e = es[Math.floor(es.length / 2)]!;
      await flipByte(w, e.payloadOffset + 20, 0x01);
    },
  },
  {
    name: 'WAL: CRC record at the start of the second file changed',
    golden: 'multiwal',
    damage: async (d) => {
      const w = (await walFiles(d))[1]!;
      const crcFrame = (await walFrames(w)).find((f) => f.type === 4)!;
      // The crc field is the second varint of the record: rewrite the whole record with crc+1 (same length).
      const b = await fs.readFile(w);
      const rec = b.subarray(crcFrame.dataOffset, crcFrame.dataOffset + crcFrame.length);
      // Find field 2 (tag 0x10) and bump its lowest varint byte's low bit.
      const at = rec.indexOf(0x10);
      await flipByte(w, crcFrame.dataOffset + at + 1, 0x01);
    },
  },
  {
    name: 'WAL: a record in the middle zeroed (torn; the db holds what follows)',
    golden: 'small',
    damage: async (d) => {
      const w = await lastWal(d);
      const es = await entryFrames(w);
      const e = es[Math.floor(es.length / 2)]!;
      await zeroRange(w, e.dataOffset, e.length);
    },
  },
  {
    name: 'WAL: a zero length word in the middle (the db holds what follows)',
    golden: 'small',
    damage: async (d) => {
      const w = await lastWal(d);
      const es = await entryFrames(w);
      await zeroRange(w, es[Math.floor(es.length / 2)]!.offset, 8);
    },
  },
  {
    name: 'several: db missing and a WAL record in the middle zeroed (keys lost)',
    golden: 'small',
    damage: async (d) => {
      await fs.rm(dbPath(d));
      const w = await lastWal(d);
      const es = await entryFrames(w);
      const e = es[Math.floor(es.length / 2)]!;
      await zeroRange(w, e.dataOffset, e.length);
    },
  },
  {
    name: 'several: db missing and a zero length word in the middle of the WAL (keys lost)',
    golden: 'small',
    damage: async (d) => {
      await fs.rm(dbPath(d));
      const w = await lastWal(d);
      const es = await entryFrames(w);
      await zeroRange(w, es[Math.floor(es.length / 2)]!.offset, 8);
    },
  },
  { name: 'WAL: middle file of three missing', golden: 'multiwal', damage: async (d) => fs.rm((await walFiles(d))[1]!) },
  {
    name: 'WAL: newest file of three missing',
    golden: 'multiwal',
    damage: async (d) => fs.rm((await walFiles(d)).at(-1)!),
  },
  { name: 'WAL: the wal directory missing', golden: 'small', damage: (d) => fs.rm(member(d, 'wal'), { recursive: true }) },
  {
    name: 'WAL: the wal directory empty',
    golden: 'small',
    damage: async (d) => {
      for (const w of await walFiles(d)) await fs.rm(w);
    },
  },
  // .snap
  {
    name: '.snap: newest snap has a flipped byte',
    golden: 'snaps',
    damage: async (d) => {
      const s = (await snapFiles(d)).at(-1)!;
      const st = await fs.stat(s);
      await flipByte(s, Math.floor(st.size / 2));
    },
  },
  { name: '.snap: newest snap empty', golden: 'snaps', damage: async (d) => fs.truncate((await snapFiles(d)).at(-1)!, 0) },
  {
    name: '.snap: every snap missing',
    golden: 'snaps',
    damage: async (d) => {
      for (const s of await snapFiles(d)) await fs.rm(s);
    },
  },
  {
    name: '.snap: every snap broken',
    golden: 'snaps',
    damage: async (d) => {
      for (const s of await snapFiles(d)) await fs.truncate(s, 0);
    },
  },
  // several at once: the start-up order decides which error wins
  {
    name: 'several: zeroed leaf page and a WAL bit flip',
    golden: 'small',
    damage: async (d) => {
      const { file, meta, leaves } = await keyBucketPages(d);
      await zeroRange(file, pageOffset(meta, leaves[0]!.id), meta.pageSize);
      const w = await lastWal(d);
      const es = await entryFrames(w);
      const e = es[Math.floor(es.length / 2)]!;
      await flipByte(w, e.payloadOffset + e.payloadLength - 1, 0x01);
    },
  },
  {
    name: 'several: torn WAL tail and every snap broken',
    golden: 'snaps',
    damage: async (d) => {
      for (const s of await snapFiles(d)) await fs.truncate(s, 0);
      const w = await lastWal(d);
      const frames = await walFrames(w);
      const last = frames[frames.length - 1]!;
      await zeroRange(w, last.dataOffset, last.length);
    },
  },
];

export const SNAPSHOT_DB_CASES: SnapshotDbCase[] = [
  { name: 'snapshot.db: intact', damage: async () => {} },
  {
    name: 'snapshot.db: a byte of the db changed (hash mismatch)',
    damage: async (f) => {
      const st = await fs.stat(f);
      await flipByte(f, Math.floor((st.size - 32) / 2));
    },
  },
  { name: 'snapshot.db: trailer cut off', damage: async (f) => fs.truncate(f, (await fs.stat(f)).size - 32) },
  {
    name: 'snapshot.db: the stored hash changed',
    damage: async (f) => flipByte(f, (await fs.stat(f)).size - 1),
  },
];

// ------------------------------------------------------------------ goldens

export interface EtcdGoldens {
  root: string;
  goldens: Partial<Record<EtcdGoldenName, EtcdGolden>>;
  /** `etcdctl snapshot save` output of a copy of `small`, with the keys it holds. */
  snapshotDb?: { file: string; keys: Map<string, string> };
}

/** Build the named goldens (sequentially: 2 shared cores) under `root`. */
export async function buildEtcdGoldens(root: string, names: EtcdGoldenName[], withSnapshotDb = false): Promise<EtcdGoldens> {
  const out: EtcdGoldens = { root, goldens: {} };
  for (const name of names) out.goldens[name] = await makeGolden(path.join(root, `golden-${name}`), GOLDEN_SPECS[name]);
  if (withSnapshotDb) {
    const small = out.goldens.small ?? (await makeGolden(path.join(root, 'golden-small'), GOLDEN_SPECS.small));
    out.goldens.small = small;
    const copy = path.join(root, 'snapshot-source');
    await copyDir(small.dir, copy);
    const node = await spawnEtcd(small.startOptions(copy));
    try {
      if (!(await waitHealthy(node, 20_000))) throw new Error(`etcd did not start for snapshot save:\n${node.output()}`);
      const file = path.join(root, 'snapshot.db');
      const r = spawnSync(ETCDCTL, [`--endpoints=${node.endpoint.clientUrl}`, 'snapshot', 'save', file], {
        encoding: 'utf8',
        env: { ...process.env, ETCDCTL_API: '3' },
      });
      if (r.status !== 0) throw new Error(`etcdctl snapshot save: ${r.stderr}`);
      out.snapshotDb = { file, keys: await node.range('') };
    } finally {
      await node.stop();
    }
  }
  return out;
}

export interface RestoreResult {
  ok: boolean;
  /** etcdctl's error line (`Error: expected sha256 ...`), null when it restored. */
  error: string | null;
  output: string;
}

/** `etcdctl snapshot restore FILE --data-dir OUT` without --skip-hash-check: what the verdict on a snapshot.db predicts. */
export function restoreSnapshot(file: string, outDir: string): RestoreResult {
  const r = spawnSync(
    ETCDCTL,
    [
      'snapshot',
      'restore',
      file,
      '--data-dir',
      outDir,
      '--name',
      'n1',
      '--initial-cluster',
      'n1=http://127.0.0.1:2380',
      '--initial-advertise-peer-urls',
      'http://127.0.0.1:2380',
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, ETCDCTL_API: '3' },
      timeout: 60_000,
    },
  );
  const output = `${r.stdout}${r.stderr}`;
  const err = /^Error: (.+)$/m.exec(output);
  const panic = /^panic: (.+)$/m.exec(output);
  return { ok: r.status === 0, error: r.status === 0 ? null : (err?.[1] ?? panic?.[1] ?? output.trim().split('\n').at(-1) ?? 'failed'), output };
}

/** A copy of a db with its first branch page (4 KiB pages) zeroed: the leaves under it become orphaned leaves. */
export function zeroFirstBranch(db: Uint8Array): Uint8Array {
  const out = db.slice();
  const pageSize = 4096;
  for (let p = 2; (p + 1) * pageSize <= out.length; p++) {
    const flags = out[p * pageSize + 8]! | (out[p * pageSize + 9]! << 8);
    if (flags === 0x01) {
      out.fill(0, p * pageSize, (p + 1) * pageSize);
      return out;
    }
  }
  throw new Error('no branch page');
}
