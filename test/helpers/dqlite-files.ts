/**
 * Test-side knowledge of libraft files, written independently of the product
 * code in shared/formats/dqlite so the oracle suite does not check the code
 * with itself: the raft CRC, batch walking, `.meta` encoding, and mapping the
 * keys dqlite-demo wrote to the raft indices that carry them.
 */
import { promises as fs, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** libraft byteCrc32: poly 0x04C11DB7, MSB first, init 0, no final xor. */
export function raftCrc(bytes: Uint8Array, init = 0): number {
  let crc = init >>> 0;
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ bytes[i]) & 255]) >>> 0;
  return crc;
}

function u64(b: Uint8Array, at: number): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 0x100000000;
}

function putU64(b: Uint8Array, at: number, v: number): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  dv.setUint32(at, v % 0x100000000, true);
  dv.setUint32(at + 4, Math.floor(v / 0x100000000), true);
}

export interface RawEntry {
  term: number;
  type: number;
  /** Payload, a view into the segment bytes. */
  payload: Uint8Array;
}

export interface RawBatch {
  offset: number;
  size: number;
  entries: RawEntry[];
}

/**
 * Walk the valid batches of a segment file (format 1) until the end, a zero
 * count, or the first batch whose checksums fail. Returns where it stopped.
 */
export function walkBatches(bytes: Uint8Array): { batches: RawBatch[]; end: number; stoppedBecause: string | null } {
  const batches: RawBatch[] = [];
  if (bytes.length < 8 || u64(bytes, 0) !== 1) return { batches, end: 0, stoppedBecause: 'format' };
  let at = 8;
  while (at < bytes.length) {
    if (bytes.length - at < 16) return { batches, end: at, stoppedBecause: 'short preamble' };
    const n = u64(bytes, at + 8);
    if (n === 0) return { batches, end: at, stoppedBecause: 'zero count' };
    if (n > 262144 || at + 16 + 16 * n > bytes.length) return { batches, end: at, stoppedBecause: 'header' };
    const header = bytes.subarray(at + 8, at + 16 + 16 * n);
    if (raftCrc(header) !== new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true)) {
      return { batches, end: at, stoppedBecause: 'header crc' };
    }
    let dataLen = 0;
    const lens: number[] = [];
    for (let i = 0; i < n; i++) {
      const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(at + 16 + 16 * i + 12, true);
      lens.push(len);
      dataLen += len;
    }
    const dataAt = at + 16 + 16 * n;
    if (dataAt + dataLen > bytes.length) return { batches, end: at, stoppedBecause: 'short data' };
    if (raftCrc(bytes.subarray(dataAt, dataAt + dataLen)) !== new DataView(bytes.buffer, bytes.byteOffset).getUint32(at + 4, true)) {
      return { batches, end: at, stoppedBecause: 'data crc' };
    }
    const entries: RawEntry[] = [];
    let p = dataAt;
    for (let i = 0; i < n; i++) {
      entries.push({ term: u64(bytes, at + 16 + 16 * i), type: bytes[at + 16 + 16 * i + 8], payload: bytes.subarray(p, p + lens[i]) });
      p += lens[i];
    }
    batches.push({ offset: at, size: dataAt + dataLen - at, entries });
    at = dataAt + dataLen;
  }
  return { batches, end: at, stoppedBecause: null };
}

/** Encode one batch holding the given entries (payload lengths must be multiples of 8). */
export function encodeBatch(entries: RawEntry[]): Uint8Array {
  const n = entries.length;
  const dataLen = entries.reduce((s, e) => s + e.payload.length, 0);
  const out = new Uint8Array(16 + 16 * n + dataLen);
  putU64(out, 8, n);
  let p = 16 + 16 * n;
  entries.forEach((e, i) => {
    putU64(out, 16 + 16 * i, e.term);
    out[16 + 16 * i + 8] = e.type;
    new DataView(out.buffer).setUint32(16 + 16 * i + 12, e.payload.length, true);
    out.set(e.payload, p);
    p += e.payload.length;
  });
  const dv = new DataView(out.buffer);
  dv.setUint32(0, raftCrc(out.subarray(8, 16 + 16 * n)), true);
  dv.setUint32(4, raftCrc(out.subarray(16 + 16 * n)), true);
  return out;
}

export const SEGMENT_HEADER = (() => {
  const b = new Uint8Array(8);
  b[0] = 1;
  return b;
})();

export function closedName(first: number, last: number): string {
  return `${String(first).padStart(16, '0')}-${String(last).padStart(16, '0')}`;
}

export function parseClosedName(name: string): { first: number; last: number } | null {
  const m = /^(\d{16})-(\d{16})$/.exec(name);
  return m ? { first: Number(m[1]), last: Number(m[2]) } : null;
}

export function parseSnapshotName(name: string): { term: number; index: number; ts: number } | null {
  const m = /^snapshot-(\d+)-(\d+)-(\d+)$/.exec(name);
  return m ? { term: Number(m[1]), index: Number(m[2]), ts: Number(m[3]) } : null;
}

/** `.meta`: format, crc (of [16,32) + conf), configuration index, conf length, conf. */
export function encodeMeta(configurationIndex: number, conf: Uint8Array): Uint8Array {
  const out = new Uint8Array(32 + conf.length);
  putU64(out, 0, 1);
  putU64(out, 16, configurationIndex);
  putU64(out, 24, conf.length);
  out.set(conf, 32);
  const crc = raftCrc(conf, raftCrc(out.subarray(16, 32)));
  putU64(out, 8, crc);
  return out;
}

export function decodeMeta(b: Uint8Array): { configurationIndex: number; conf: Uint8Array; crcOk: boolean } {
  const confLen = u64(b, 24);
  const conf = b.subarray(32, 32 + confLen);
  const crc = raftCrc(conf, raftCrc(b.subarray(16, 32)));
  return { configurationIndex: u64(b, 16), conf, crcOk: crc === u64(b, 8) };
}

/** metadata1/2: format 1, version, term, voted_for. */
export function encodeMetadata(version: number, term: number, votedFor: number): Uint8Array {
  const b = new Uint8Array(32);
  putU64(b, 0, 1);
  putU64(b, 8, version);
  putU64(b, 16, term);
  putU64(b, 24, votedFor);
  return b;
}

/** Segment files of a data dir in loader order: closed by first index, then open by counter. */
export async function listSegments(dir: string): Promise<{ name: string; open: boolean; first?: number; last?: number; counter?: number }[]> {
  const names = await fs.readdir(dir);
  const closed = names
    .map((n) => ({ n, r: parseClosedName(n) }))
    .filter((x) => x.r)
    .map((x) => ({ name: x.n, open: false, first: x.r!.first, last: x.r!.last }))
    .sort((a, b) => a.first - b.first);
  const open = names
    .filter((n) => /^open-\d+$/.test(n))
    .map((n) => ({ name: n, open: true, counter: Number(n.slice(5)) }))
    .sort((a, b) => a.counter - b.counter);
  return [...closed, ...open];
}

/**
 * Which raft index first carries each key written by `keyValue` values: the
 * first command entry whose page images contain `<kN>`. Open segments take the
 * index after the preceding segment (as libraft infers it).
 */
export async function indexOfKeys(dir: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  let next = 1;
  for (const seg of await listSegments(dir)) {
    const bytes = new Uint8Array(await fs.readFile(path.join(dir, seg.name)));
    if (!seg.open) next = seg.first!;
    const { batches } = walkBatches(bytes);
    for (const b of batches) {
      for (const e of b.entries) {
        if (e.type === 1) {
          const text = Buffer.from(e.payload.buffer, e.payload.byteOffset, e.payload.length).toString('latin1');
          for (const m of text.matchAll(/<(k\d+)>/g)) if (!found.has(m[1])) found.set(m[1], next);
        }
        next++;
      }
    }
  }
  return found;
}

/**
 * Flip one byte of the last entry of the newest closed segment in `dir` (100 bytes before its end): the
 * rebuild stops there, and dqlite itself starts only by dropping that entry. Returns the segment's name.
 */
export function damageLastClosedSegment(dir: string): string {
  const last = readdirSync(dir)
    .filter((n) => /^\d{16}-\d{16}$/.test(n))
    .sort()
    .at(-1)!;
  const bytes = readFileSync(path.join(dir, last));
  bytes[bytes.length - 100] ^= 0xff;
  writeFileSync(path.join(dir, last), bytes);
  return last;
}
