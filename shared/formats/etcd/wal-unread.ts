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
import { decodeFrameSize, MAX_WAL_ENTRY_SIZE, RECORD_TYPE, unmarshalRecord } from './wal-record';

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

/** Raft indexes of the entry records at or after `fromOffset` in `src` (null when there are none). */
export async function entriesAfter(src: ByteSource, fromOffset: number, opts: EntriesAfterOptions): Promise<UnreadEntries | null> {
  const { signal } = opts;
  let first = Number.MAX_SAFE_INTEGER;
  let last = 0;
  let count = 0;
  const size = src.size;
  // The record at the cut itself is unreadable: start at the next aligned word after it when its length is sane.
  let at = Math.ceil(Math.max(0, fromOffset) / 8) * 8;
  let buf: Uint8Array = new Uint8Array(0);
  let bufOff = 0;
  const view = async (offset: number, length: number): Promise<Uint8Array | null> => {
    if (offset + length > size) return null;
    if (offset < bufOff || offset + length > bufOff + buf.length) {
      buf = await src.read(offset, Math.min(size - offset, Math.max(length, MAX_READ)));
      bufOff = offset;
      if (buf.length < length) return null;
    }
    return buf.subarray(offset - bufOff, offset - bufOff + length);
  };
  let skippedCut = !opts.skipFrameAtCut;
  while (at + 8 <= size) {
    if (signal?.aborted) break;
    const word = await view(at, 8);
    if (!word) break;
    const lo = (word[0]! | (word[1]! << 8) | (word[2]! << 16) | (word[3]! << 24)) >>> 0;
    const hi = (word[4]! | (word[5]! << 8) | (word[6]! << 16) | (word[7]! << 24)) >>> 0;
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
