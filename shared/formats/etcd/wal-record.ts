/**
 * One WAL record on disk (etcd 3.4 `wal/encoder.go`, `wal/decoder.go`,
 * `wal/walpb/record.proto`):
 *
 *   frame  = u64 LE length word | walpb.Record bytes | zero padding to 8
 *   length word: low 56 bits = record bytes; when padding is present the top
 *                byte is 0x80|pad (pad 1..7), i.e. the word is negative
 *   Record = 1 type int64 (varint), 2 crc uint32 (varint), 3 data bytes
 *
 * `unmarshalRecord` reproduces the gogoproto-generated `Record.Unmarshal`
 * of etcd 3.4 step by step, including its error texts and the cases where it
 * returns `io.ErrUnexpectedEOF` (which etcd then treats as a torn write).
 * The encoder mirrors `encoder.encode`: the record's crc is the running
 * CRC-32C after its data (for a CRC record, the previous running CRC).
 */
import { crc32c } from './crc32c';

export const FRAME_SIZE_BYTES = 8;
export const MIN_SECTOR_SIZE = 512;
/** `maxWALEntrySizeLimit` (etcd 3.4): 10 MiB. */
export const MAX_WAL_ENTRY_SIZE = 10 * 1024 * 1024;
/** `SegmentSizeBytes`: the preallocated size of every WAL file. */
export const SEGMENT_SIZE_BYTES = 64 * 1000 * 1000;

export const RECORD_TYPE = { metadata: 1, entry: 2, state: 3, crc: 4, snapshot: 5 } as const;

/** etcd's error texts (Go `err.Error()`), 3.4.23. */
export const WAL_ERRORS = {
  unexpectedEof: 'unexpected EOF',
  maxEntrySize: 'wal: max entry size limit exceeded',
  recordCrc: 'walpb: crc mismatch',
  chainCrc: 'wal: crc mismatch',
  fileNotFound: 'wal: file not found',
  snapshotNotFound: 'wal: snapshot not found',
  snapshotMismatch: 'wal: snapshot mismatch',
  metadataConflict: 'wal: conflicting metadata found',
  sliceOutOfRange: 'wal: slice bounds out of range',
  intOverflow: 'proto: integer overflow',
  invalidLength: 'proto: negative length found during unmarshaling',
} as const;

export interface FrameSize {
  /** Record bytes: the low 56 bits (up to 2^56-1, kept exact as a number below 2^53 or clamped). */
  recBytes: number;
  padBytes: number;
}

/** `decodeFrameSize` over the length word given as its two 32-bit halves. */
export function decodeFrameSize(lo: number, hi: number): FrameSize {
  const low56hi = hi & 0x00ffffff;
  const recBytes = low56hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : low56hi * 0x1_0000_0000 + (lo >>> 0);
  const padBytes = hi & 0x80000000 ? (hi >>> 24) & 0x7 : 0;
  return { recBytes, padBytes };
}

export function encodeFrameSize(dataBytes: number): { lo: number; hi: number; padBytes: number } {
  const padBytes = (8 - (dataBytes % 8)) % 8;
  const lo = dataBytes >>> 0;
  let hi = Math.floor(dataBytes / 0x1_0000_0000) & 0x00ffffff;
  if (padBytes !== 0) hi = (hi | ((0x80 | padBytes) << 24)) >>> 0;
  return { lo, hi, padBytes };
}

// ------------------------------------------------------------ varints the Go way

/** Result of reading one varint: the low and high 32 bits as Go's shifts leave them, and where it ended. */
export interface Varint {
  lo: number;
  hi: number;
  /** Next position, or -1 = "proto: integer overflow", -2 = ran off the end (io.ErrUnexpectedEOF). */
  next: number;
}

const SCRATCH: Varint = { lo: 0, hi: 0, next: 0 };

/**
 * Read one varint at `pos`. Returns a scratch object that the next call
 * overwrites (no allocation per varint: there are several per record):
 * read its fields before reading another varint.
 */
export function readVarint(b: Uint8Array, pos: number, end: number): Varint {
  const out = SCRATCH;
  let lo = 0;
  let hi = 0;
  for (let shift = 0; ; shift += 7) {
    if (shift >= 64) {
      out.lo = lo;
      out.hi = hi;
      out.next = -1;
      return out;
    }
    if (pos >= end) {
      out.lo = lo;
      out.hi = hi;
      out.next = -2;
      return out;
    }
    const byte = b[pos++]!;
    const v = byte & 0x7f;
    if (shift < 32) {
      lo = (lo | (v << shift)) >>> 0;
      if (shift + 7 > 32) hi = (hi | (v >>> (32 - shift))) >>> 0;
    } else {
      hi = (hi | (v << (shift - 32))) >>> 0;
    }
    if (byte < 0x80) {
      out.lo = lo;
      out.hi = hi;
      out.next = pos;
      return out;
    }
  }
}

/** Signed 64-bit value of (lo, hi) as a bigint. */
export function int64Of(lo: number, hi: number): bigint {
  return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
}

// ------------------------------------------------------------ walpb.Record

export interface WalRecordFields {
  /** int64 record type; 1..5 are known (a number: exact within ±2^53, which covers every type etcd could act on). */
  type: number;
  crc: number;
  /** null when field 3 is absent (CRC records). */
  data: Uint8Array | null;
}

export type RecordUnmarshal =
  | { ok: true; record: WalRecordFields }
  /** `unexpectedEof`: Go returned `io.ErrUnexpectedEOF` (same value as a torn read for etcd's callers). */
  | { ok: false; error: string; unexpectedEof: boolean };

function fail(error: string): RecordUnmarshal {
  return { ok: false, error, unexpectedEof: error === WAL_ERRORS.unexpectedEof };
}

function varintFail(next: number): RecordUnmarshal {
  return fail(next === -1 ? WAL_ERRORS.intOverflow : WAL_ERRORS.unexpectedEof);
}

/** Go's `int32(wire >> 3)` for a 64-bit wire value. */
function fieldNumber(lo: number, hi: number): number {
  return (lo >>> 3) | (hi << 29) | 0;
}

function wireDecimal(lo: number, hi: number): string {
  return ((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString();
}

/**
 * Skips one unknown field starting at `pos` (`skipRecord`), without
 * recursion: nested groups are tracked with a depth counter so a record of
 * 10 MiB of group-start tags cannot exhaust the stack.
 * Returns the new position (may be past `end`: the caller checks) or an error.
 */
function skipField(b: Uint8Array, pos: number, end: number): { next: number } | { error: string } {
  let depth = 0;
  let i = pos;
  for (;;) {
    const tag = readVarint(b, i, end);
    if (tag.next < 0) return { error: tag.next === -1 ? WAL_ERRORS.intOverflow : WAL_ERRORS.unexpectedEof };
    i = tag.next;
    const wt = tag.lo & 7;
    switch (wt) {
      case 0: {
        let shift = 0;
        for (;;) {
          if (shift >= 64) return { error: WAL_ERRORS.intOverflow };
          if (i >= end) return { error: WAL_ERRORS.unexpectedEof };
          i++;
          if (b[i - 1]! < 0x80) break;
          shift += 7;
        }
        break;
      }
      case 1:
        i += 8;
        break;
      case 2: {
        const len = readVarint(b, i, end);
        if (len.next < 0) return { error: len.next === -1 ? WAL_ERRORS.intOverflow : WAL_ERRORS.unexpectedEof };
        const length = int64Of(len.lo, len.hi);
        if (length < 0n) return { error: WAL_ERRORS.invalidLength };
        i = len.next + (length > BigInt(end) ? end + 1 : Number(length));
        break;
      }
      case 3:
        depth++;
        break;
      case 4:
        if (depth === 0) return { next: i };
        depth--;
        break;
      case 5:
        i += 4;
        break;
      default:
        return { error: `proto: illegal wireType ${wt}` };
    }
    if (depth === 0) return { next: i };
    // Inside a group, reading the next tag past the end is io.ErrUnexpectedEOF (checked by readVarint).
    if (i > end) return { error: WAL_ERRORS.unexpectedEof };
  }
}

/**
 * The layout etcd's encoder always writes: `08 <type> 10 <crc> [1a <len> <data>]`
 * ending exactly at `end`. Fills `out` and returns true when `b[start, end)`
 * is exactly that (then `unmarshalRecord` would give the same result);
 * false means "use `unmarshalRecord`". No allocation except the data view.
 */
export function unmarshalRecordFast(b: Uint8Array, start: number, end: number, out: WalRecordFields): boolean {
  let i = start;
  if (i >= end || b[i] !== 0x08) return false;
  const t = readVarint(b, i + 1, end);
  if (t.next < 0) return false;
  const type = t.hi === 0 ? t.lo : Number(int64Of(t.lo, t.hi));
  i = t.next;
  if (i >= end || b[i] !== 0x10) return false;
  const c = readVarint(b, i + 1, end);
  if (c.next < 0) return false;
  const crc = c.lo >>> 0;
  i = c.next;
  let data: Uint8Array | null = null;
  if (i < end) {
    if (b[i] !== 0x1a) return false;
    const n = readVarint(b, i + 1, end);
    if (n.next < 0 || n.hi !== 0 || n.next + n.lo !== end) return false;
    data = b.subarray(n.next, end);
  }
  out.type = type;
  out.crc = crc;
  out.data = data;
  return true;
}

/** `Record.Unmarshal` of etcd 3.4 (gogoproto), same results and error texts. */
export function unmarshalRecord(b: Uint8Array): RecordUnmarshal {
  const l = b.length;
  let i = 0;
  let type = 0;
  let crc = 0;
  let data: Uint8Array | null = null;
  while (i < l) {
    const pre = i;
    const tag = readVarint(b, i, l);
    if (tag.next < 0) return varintFail(tag.next);
    i = tag.next;
    const fieldNum = fieldNumber(tag.lo, tag.hi);
    const wireType = tag.lo & 7;
    if (wireType === 4) return fail('proto: Record: wiretype end group for non-group');
    if (fieldNum <= 0) return fail(`proto: Record: illegal tag ${fieldNum} (wire type ${wireDecimal(tag.lo, tag.hi)})`);
    switch (fieldNum) {
      case 1: {
        if (wireType !== 0) return fail(`proto: wrong wireType = ${wireType} for field Type`);
        const v = readVarint(b, i, l);
        if (v.next < 0) return varintFail(v.next);
        i = v.next;
        type = v.hi === 0 ? v.lo : Number(int64Of(v.lo, v.hi));
        break;
      }
      case 2: {
        if (wireType !== 0) return fail(`proto: wrong wireType = ${wireType} for field Crc`);
        const v = readVarint(b, i, l);
        if (v.next < 0) return varintFail(v.next);
        i = v.next;
        crc = v.lo >>> 0;
        break;
      }
      case 3: {
        if (wireType !== 2) return fail(`proto: wrong wireType = ${wireType} for field Data`);
        const v = readVarint(b, i, l);
        if (v.next < 0) return varintFail(v.next);
        i = v.next;
        if (v.hi & 0x80000000) return fail(WAL_ERRORS.invalidLength);
        // A length beyond the record cannot be satisfied; Go's int arithmetic only wraps for lengths near 2^63.
        if (v.hi !== 0 || i + v.lo > l) return fail(WAL_ERRORS.unexpectedEof);
        data = b.subarray(i, i + v.lo);
        i += v.lo;
        break;
      }
      default: {
        i = pre;
        const skipped = skipField(b, i, l);
        if ('error' in skipped) return fail(skipped.error);
        if (skipped.next > l) return fail(WAL_ERRORS.unexpectedEof);
        i = skipped.next;
      }
    }
  }
  if (i > l) return fail(WAL_ERRORS.unexpectedEof);
  return { ok: true, record: { type, crc, data } };
}

function varintBytes(v: bigint): number[] {
  let x = BigInt.asUintN(64, v);
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

/** `Record.Marshal`: type, crc, then data when not null. */
export function marshalRecord(rec: WalRecordFields): Uint8Array {
  const head = [0x08, ...varintBytes(BigInt(rec.type)), 0x10, ...varintBytes(BigInt(rec.crc >>> 0))];
  if (rec.data === null) return Uint8Array.from(head);
  const lenBytes = varintBytes(BigInt(rec.data.length));
  const out = new Uint8Array(head.length + 1 + lenBytes.length + rec.data.length);
  out.set(head, 0);
  out[head.length] = 0x1a;
  out.set(lenBytes, head.length + 1);
  out.set(rec.data, head.length + 1 + lenBytes.length);
  return out;
}

/** A frame (length word + record + padding) around already-marshalled record bytes. */
export function encodeFrame(recordBytes: Uint8Array): Uint8Array {
  const { lo, hi, padBytes } = encodeFrameSize(recordBytes.length);
  const out = new Uint8Array(FRAME_SIZE_BYTES + recordBytes.length + padBytes);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, lo, true);
  dv.setUint32(4, hi, true);
  out.set(recordBytes, FRAME_SIZE_BYTES);
  return out;
}

/**
 * Encode one record the way etcd's encoder does, continuing the running CRC
 * `prevCrc`: returns the frame and the new running CRC. For a CRC record
 * (`type` 4, `data` null) the stored crc is `prevCrc` itself.
 */
export function encodeWalRecord(type: number, data: Uint8Array | null, prevCrc: number): { frame: Uint8Array; crc: number } {
  const crc = data ? crc32c(data, prevCrc) : prevCrc >>> 0;
  const frame = encodeFrame(marshalRecord({ type, crc, data }));
  return { frame, crc };
}

/** Is any 512-byte-sector chunk of `data` (which starts at file offset `fileOff`) all zero? (`isTornEntry`'s test.) */
export function hasZeroSectorChunk(data: Uint8Array, fileOff: number): boolean {
  let cur = 0;
  let off = fileOff;
  while (cur < data.length) {
    let chunkLen = MIN_SECTOR_SIZE - (off % MIN_SECTOR_SIZE);
    if (chunkLen > data.length - cur) chunkLen = data.length - cur;
    let zero = true;
    for (let k = cur; k < cur + chunkLen; k++) {
      if (data[k] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) return true;
    off += chunkLen;
    cur += chunkLen;
  }
  return false;
}

export function recordTypeName(type: number): 'metadata' | 'entry' | 'state' | 'crc' | 'snapshot' | 'unknown' {
  switch (type) {
    case 1:
      return 'metadata';
    case 2:
      return 'entry';
    case 3:
      return 'state';
    case 4:
      return 'crc';
    case 5:
      return 'snapshot';
    default:
      return 'unknown';
  }
}
