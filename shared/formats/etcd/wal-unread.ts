/**
 * The entries in the part of the last WAL file etcd never keeps: after a torn
 * record (wal.Repair truncates there) or after a zero length word (the
 * decoder's end of log; the write-mode open zero-fills the rest). They are
 * lost unless the db already holds them, so the start-up model needs their
 * index range. This walks 8-byte-aligned frames from the cut, skipping what
 * does not decode, and collects the raft indexes of entry records. Bounded by
 * the file size and read in MAX_READ chunks; never throws on content.
 */
import { MAX_READ, type ByteSource } from '../../bytes/byte-source';
import { decodeEntry } from './raft-entry';
import { crc32c } from './crc32c';
import { firstNonZero } from './wal-file';
import { decodeFrameSize, MAX_WAL_ENTRY_SIZE, RECORD_TYPE, unmarshalRecord, unmarshalRecordFast, type WalRecordFields } from './wal-record';

export interface UnreadEntries {
  first: number;
  last: number;
  count: number;
}

export interface EntriesAfterOptions {
  /** The frame at `fromOffset` has a valid length word (a torn record): skip it whole. Otherwise resynchronise word by word. */
  skipFrameAtCut: boolean;
  /** Entries at or below this index are not from the dropped tail (a mis-synchronised read of record bytes). */
  afterIndex: number;
  signal?: AbortSignal;
}

/** Reads of a file through one window of MAX_READ bytes (a gap is probed word by word). */
class WindowedReader {
  private buf: Uint8Array = new Uint8Array(0);
  private bufOff = 0;
  constructor(readonly src: ByteSource) {}

  /** `length` bytes at `offset` (a view, valid until the next call), or null past the end. */
  async view(offset: number, length: number): Promise<Uint8Array | null> {
    if (offset + length > this.src.size) return null;
    if (offset < this.bufOff || offset + length > this.bufOff + this.buf.length) {
      this.buf = await this.src.read(offset, Math.min(this.src.size - offset, Math.max(length, MAX_READ)));
      this.bufOff = offset;
      if (this.buf.length < length) return null;
    }
    return this.buf.subarray(offset - this.bufOff, offset - this.bufOff + length);
  }

  /** The first offset at or after `offset` (8-aligned, as `offset` is) whose word is not zero; the file's size when none. */
  async nonZeroWord(offset: number): Promise<number> {
    let at = offset;
    while (at + 8 <= this.src.size) {
      const chunk = await this.view(at, Math.min(MAX_READ, this.src.size - at) & ~7);
      if (!chunk || chunk.length === 0) break;
      const nz = firstNonZero(chunk);
      if (nz >= 0) return at + (nz & ~7);
      at += chunk.length;
    }
    return this.src.size;
  }
}

/** A frame's length word as its two little-endian halves (what decodeFrameSize takes). */
function lengthWord(word: Uint8Array): { lo: number; hi: number } {
  return {
    lo: (word[0]! | (word[1]! << 8) | (word[2]! << 16) | (word[3]! << 24)) >>> 0,
    hi: (word[4]! | (word[5]! << 8) | (word[6]! << 16) | (word[7]! << 24)) >>> 0,
  };
}

/** Raft indexes of the entry records at or after `fromOffset` in `src` (null when there are none). */
export async function entriesAfter(src: ByteSource, fromOffset: number, opts: EntriesAfterOptions): Promise<UnreadEntries | null> {
  const { signal } = opts;
  let first = Number.MAX_SAFE_INTEGER;
  let last = 0;
  let count = 0;
  const size = src.size;
  // The record at the cut itself is unreadable: start at the next aligned word after it when its length is sane.
  let at = Math.ceil(Math.max(0, fromOffset) / 8) * 8;
  const reader = new WindowedReader(src);
  const view = (offset: number, length: number) => reader.view(offset, length);
  let skippedCut = !opts.skipFrameAtCut;
  while (at + 8 <= size) {
    if (signal?.aborted) break;
    const word = await view(at, 8);
    if (!word) break;
    const { lo, hi } = lengthWord(word);
    if (lo === 0 && hi === 0) {
      at += 8;
      continue;
    }
    const { recBytes, padBytes } = decodeFrameSize(lo, hi);
    if (recBytes === 0 || recBytes > MAX_WAL_ENTRY_SIZE || at + 8 + recBytes + padBytes > size) {
      at += 8;
      continue;
    }
    const rec = await view(at + 8, recBytes);
    const r = rec ? unmarshalRecord(rec) : null;
    if (!r || !r.ok) {
      // The torn record at the cut: skip it whole once; elsewhere resynchronise word by word.
      at += skippedCut ? 8 : 8 + recBytes + padBytes;
      skippedCut = true;
      continue;
    }
    skippedCut = true;
    if (r.record.type === RECORD_TYPE.entry && r.record.data) {
      const e = decodeEntry(r.record.data);
      if (e.ok && e.value.index > opts.afterIndex) {
        first = Math.min(first, e.value.index);
        last = Math.max(last, e.value.index);
        count++;
      }
    }
    at += 8 + recBytes + padBytes;
  }
  return count > 0 ? { first, last, count } : null;
}

/** A frame read at a guessed offset: its record in etcd's layout, and where the frame after it starts. */
interface GuessedFrame {
  rec: WalRecordFields;
  next: number;
}

/**
 * The frame at `at` when it reads as etcd's encoder writes one: a length word whose padding makes the frame end on
 * 8 bytes, inside the file, around a record in etcd's layout (`08 type 10 crc [1a len data]`) of a known type.
 * `zero` when the word there is zero, `end` past the file; null when it is anything else.
 */
async function frameAt(r: WindowedReader, at: number): Promise<GuessedFrame | 'zero' | 'end' | null> {
  const word = await r.view(at, 8);
  if (!word) return 'end';
  const { lo, hi } = lengthWord(word);
  if (lo === 0 && hi === 0) return 'zero';
  const { recBytes, padBytes } = decodeFrameSize(lo, hi);
  if (recBytes === 0 || recBytes > MAX_WAL_ENTRY_SIZE || (recBytes + padBytes) % 8 !== 0 || at + 8 + recBytes + padBytes > r.src.size) return null;
  const bytes = await r.view(at + 8, recBytes);
  const rec: WalRecordFields = { type: 0, crc: 0, data: null };
  if (!bytes || !unmarshalRecordFast(bytes, 0, recBytes, rec)) return null;
  if (rec.type < RECORD_TYPE.metadata || rec.type > RECORD_TYPE.snapshot) return null;
  return { rec: { ...rec, data: rec.data ? rec.data.slice() : null }, next: at + 8 + recBytes + padBytes };
}

/** Whether a frame of etcd's starts at `at` (a length word that frames a record in etcd's layout, of a known type). */
export async function frameStartsAt(src: ByteSource, at: number): Promise<boolean> {
  const f = await frameAt(new WindowedReader(src), at);
  return f !== null && f !== 'zero' && f !== 'end';
}

export interface FrameAfterGapOptions {
  /** The index of the last entry read before the gap: a lone last record that is an entry must come after it. */
  afterIndex: number;
  signal?: AbortSignal;
}

/** Non-zero words looked at after a gap at most (each a frame guess). */
const MAX_GAP_PROBES = 1 << 20;

/**
 * Salvage past a gap in a WAL file (a zero length word with non-zero bytes after it, where etcd's decoder stops:
 * a zeroed run over whole records): the offset of the first frame at or after `from` that is etcd's, or null.
 * Word by word (frames start on 8 bytes), skipping zero words; a frame counts when the record after it chains its
 * CRC from it (the running CRC is unknown across the gap: the reader then takes this record's on trust and checks
 * every later one), or, when it is the file's last record, when it is an entry after `afterIndex` or a HardState.
 */
export async function frameAfterGap(src: ByteSource, from: number, opts: FrameAfterGapOptions): Promise<number | null> {
  const r = new WindowedReader(src);
  let at = Math.ceil(Math.max(0, from) / 8) * 8;
  for (let probes = 0; probes < MAX_GAP_PROBES; probes++, at += 8) {
    if (opts.signal?.aborted) return null;
    at = await r.nonZeroWord(at);
    const first = await frameAt(r, at);
    if (first === 'end' || first === 'zero') return null;
    if (first === null) continue;
    const after = await frameAt(r, first.next);
    if (after === 'zero' || after === 'end') {
      if (first.rec.type === RECORD_TYPE.state) return at;
      if (first.rec.type === RECORD_TYPE.entry && first.rec.data) {
        const e = decodeEntry(first.rec.data);
        if (e.ok && e.value.index > opts.afterIndex) return at;
      }
      continue;
    }
    if (after === null) continue;
    const chained =
      after.rec.type === RECORD_TYPE.crc ? after.rec.crc === first.rec.crc : after.rec.data !== null && crc32c(after.rec.data, first.rec.crc) === after.rec.crc;
    if (chained) return at;
  }
  return null;
}
