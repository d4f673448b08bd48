/**
 * One entries batch inside a segment (`raft:uv_encoding.c`
 * uvEncodeBatchHeader / uvDecodeBatchHeader, `raft:uv_segment.c`
 * uvLoadEntriesBatch):
 *
 *   +0       u32 crc1  CRC of the header [+8, +16+16n)
 *   +4       u32 crc2  CRC of the payloads (chained)
 *   +8       u64 n     entries, 1..262144
 *   +16+16i  u64 term, u8 type, 3 unused bytes, u32 payload length
 *   +16+16n  payloads back to back (the writer pads each to 8 bytes)
 */
import type { ByteSource } from '../../bytes/byte-source';
import { MAX_READ } from '../../bytes/byte-source';
import type { BatchDetail } from '../../contract/dqlite';
import { crc32 } from './crc';
import { pad8, putU32, putU64, u32At, u64At } from './le';

/** UV__MAX_SEGMENT_SIZE / 32: libraft's sanity bound on `n`. */
export const MAX_BATCH_ENTRIES = (8 * 1024 * 1024) / 32;

export const ENTRY_COMMAND = 1;
export const ENTRY_BARRIER = 2;
export const ENTRY_CHANGE = 3;

export function isKnownEntryType(t: number): boolean {
  return t === ENTRY_COMMAND || t === ENTRY_BARRIER || t === ENTRY_CHANGE;
}

/** Bytes of the header that crc1 covers: the count and one 16-byte record per entry. */
export function batchHeaderSize(n: number): number {
  return 8 + 16 * n;
}

export interface EntryHeader {
  term: number;
  type: number;
  /** Payload length as stored (u32). */
  length: number;
}

export interface BatchHeader {
  crc1: number;
  crc2: number;
  count: number;
  entries: EntryHeader[];
}

/**
 * Decode a header from `bytes` at `off`: 16 bytes of preamble (crc1, crc2,
 * n) plus 16n bytes of entry records. The caller has already checked
 * 1 <= n <= MAX_BATCH_ENTRIES and that the bytes are present.
 */
export function decodeBatchHeader(bytes: Uint8Array, off: number): BatchHeader {
  const count = Number(u64At(bytes, off + 8));
  const entries = new Array<EntryHeader>(count);
  for (let i = 0; i < count; i++) {
    const p = off + 16 + 16 * i;
    entries[i] = { term: Number(u64At(bytes, p)), type: bytes[p + 8], length: u32At(bytes, p + 12) };
  }
  return { crc1: u32At(bytes, off), crc2: u32At(bytes, off + 4), count, entries };
}

/** crc1 as libraft computes it: over [off+8, off+16+16n). */
export function headerChecksum(bytes: Uint8Array, off: number, n: number): number {
  return crc32(bytes, 0, off + 8, off + 8 + batchHeaderSize(n));
}

export interface EntryToEncode {
  term: number;
  type: number;
  payload: Uint8Array;
}

/**
 * Encode one batch exactly like uvSegmentBufferAppend: payloads padded to 8
 * bytes in the file, lengths stored unpadded, crc2 over the unpadded bytes.
 */
export function encodeBatch(entries: EntryToEncode[]): Uint8Array {
  let size = 8 + batchHeaderSize(entries.length);
  for (const e of entries) {
    // libraft asserts this in uvSegmentBufferAppend; its reader relies on it.
    if (e.payload.length % 8 !== 0) throw new RangeError(`payload length ${e.payload.length} is not a multiple of 8`);
    size += pad8(e.payload.length);
  }
  const out = new Uint8Array(size);
  putU64(out, 8, entries.length);
  entries.forEach((e, i) => {
    const p = 16 + 16 * i;
    putU64(out, p, e.term);
    out[p + 8] = e.type & 255;
    putU32(out, p + 12, e.payload.length);
  });
  let at = 8 + batchHeaderSize(entries.length);
  let crc2 = 0;
  for (const e of entries) {
    out.set(e.payload, at);
    crc2 = crc32(e.payload, crc2);
    at += pad8(e.payload.length);
  }
  putU32(out, 0, headerChecksum(out, 0, entries.length));
  putU32(out, 4, crc2);
  return out;
}

/** Encode a whole segment: u64 format version then the batches. */
export function encodeSegment(batches: EntryToEncode[][], format: number | bigint = 1): Uint8Array {
  const parts = batches.map(encodeBatch);
  let size = 8;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  putU64(out, 0, format);
  let at = 8;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Entries listed by readBatchDetail at most. */
export const DETAIL_MAX_ENTRIES = 1000;

/**
 * Open one batch at `offset` of a segment: stored and recomputed checksums
 * and each entry's header and payload offset. Every length is bounded by the
 * file before it is read; a count outside 1..MAX_BATCH_ENTRIES lists nothing.
 */
export async function readBatchDetail(src: ByteSource, offset: number, firstIndex: number | null): Promise<BatchDetail | null> {
  if (offset < 8 || offset + 16 > src.size) return null;
  const pre = await src.read(offset, 16);
  const n = Number(u64At(pre, 8));
  const empty = { headerCrc: { stored: u32At(pre, 0), computed: 0 }, dataCrc: { stored: u32At(pre, 4), computed: null }, entries: [], more: 0 };
  if (n < 1 || n > MAX_BATCH_ENTRIES || offset + 8 + batchHeaderSize(n) > src.size) return empty;
  const hdr = await src.read(offset + 8, batchHeaderSize(n));
  const whole = new Uint8Array(8 + hdr.length);
  whole.set(pre.subarray(0, 8));
  whole.set(hdr, 8);
  const header = decodeBatchHeader(whole, 0);
  const headerEnd = offset + 8 + batchHeaderSize(n);
  const entries: BatchDetail['entries'] = [];
  let at = headerEnd;
  let dataLen = 0;
  header.entries.forEach((e, i) => {
    if (i < DETAIL_MAX_ENTRIES) entries.push({ index: firstIndex === null ? null : firstIndex + i, term: e.term, type: e.type, length: e.length, offset: at });
    at += pad8(e.length);
    dataLen += e.length;
  });
  let computed: number | null = null;
  if (headerEnd + dataLen <= src.size) {
    computed = 0;
    for (let pos = headerEnd; pos < headerEnd + dataLen; pos += MAX_READ) {
      const chunk = await src.read(pos, Math.min(MAX_READ, headerEnd + dataLen - pos));
      computed = crc32(chunk, computed);
    }
  }
  return {
    headerCrc: { stored: header.crc1, computed: crc32(hdr) },
    dataCrc: { stored: header.crc2, computed: computed === null ? null : computed >>> 0 },
    entries,
    more: Math.max(0, n - DETAIL_MAX_ENTRIES),
  };
}

/** A batch read whole, its checksums checked: each entry's header and payload (views into one read). */
export type BatchEntries = { ok: true; size: number; entries: { term: number; type: number; payload: Uint8Array }[] } | { ok: false; why: string };

/**
 * Read the batch at `offset` whole, within `end` (the bytes a scan found valid), for a caller that
 * needs the payloads (an offline rebuild). Checks what uvLoadEntriesBatch checks; a batch larger than
 * `maxBytes` is refused rather than read (a damaged length never sizes the read: it is bounded by `end`).
 */
export async function readBatchEntries(src: ByteSource, offset: number, end: number, maxBytes = 64 * 1024 * 1024): Promise<BatchEntries> {
  if (offset + 16 > end) return { ok: false, why: `no whole batch preamble at byte ${offset}` };
  const pre = await src.read(offset, 16);
  const nBig = u64At(pre, 8);
  if (nBig < 1n || nBig > BigInt(MAX_BATCH_ENTRIES)) return { ok: false, why: `entry count ${nBig} at byte ${offset}` };
  const n = Number(nBig);
  const headerEnd = offset + 8 + batchHeaderSize(n);
  if (headerEnd > end) return { ok: false, why: `the batch header at byte ${offset} runs past the valid bytes` };
  const hdr = await src.read(offset + 8, batchHeaderSize(n));
  if (crc32(hdr) !== u32At(pre, 0)) return { ok: false, why: `header checksum mismatch at byte ${offset}` };
  let dataLen = 0;
  for (let i = 0; i < n; i++) dataLen += u32At(hdr, 8 + 16 * i + 12);
  if (headerEnd + dataLen > end) return { ok: false, why: `the batch at byte ${offset} runs past the valid bytes` };
  if (headerEnd + dataLen - offset > maxBytes) return { ok: false, why: `the batch at byte ${offset} holds more than ${maxBytes} bytes (not read)` };
  const data = await src.read(headerEnd, dataLen);
  if (data.length !== dataLen || crc32(data) >>> 0 !== u32At(pre, 4)) return { ok: false, why: `data checksum mismatch in the batch at byte ${offset}` };
  const entries: { term: number; type: number; payload: Uint8Array }[] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const p = 8 + 16 * i;
    const len = u32At(hdr, p + 12);
    if (at + len > dataLen) return { ok: false, why: `entry ${i + 1} of the batch at byte ${offset} runs past its data` };
    entries.push({ term: Number(u64At(hdr, p)), type: hdr[p + 8]!, payload: data.subarray(at, at + len) });
    at += pad8(len);
  }
  return { ok: true, size: 8 + batchHeaderSize(n) + dataLen, entries };
}
