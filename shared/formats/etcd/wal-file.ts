/**
 * Reading one WAL file record by record exactly as etcd 3.4's
 * `wal/decoder.go` `decodeRecord` does, plus the CRC-record check every
 * caller of the decoder makes (`ReadAll`, `ValidSnapshotEntries`, `Verify`,
 * `Repair`: a CRC record must carry the running CRC unless that is 0, then
 * the running CRC restarts from it).
 *
 * Order of checks per record (each one ends the file, as in etcd):
 *  1. fewer than 8 bytes left: 0 -> end of file (io.EOF), else io.ErrUnexpectedEOF;
 *  2. length word 0 -> end of file ("hit end of file or preallocated space");
 *  3. record bytes >= 10 MiB - padding -> "wal: max entry size limit exceeded";
 *  4. record + padding beyond the end of the file -> io.ErrUnexpectedEOF;
 *  5. `Record.Unmarshal` fails -> io.ErrUnexpectedEOF if torn, else its error;
 *  6. not a CRC record: running CRC over data, mismatch -> io.ErrUnexpectedEOF
 *     if torn, else "walpb: crc mismatch";
 *  7. CRC record whose crc differs from a non-zero running CRC -> "wal: crc mismatch".
 * "Torn" (`isTornEntry`) only in the last file: some 512-byte-sector-aligned
 * chunk of the record (with its padding) is all zero.
 *
 * The core (`nextRecord`) is synchronous over a window of bytes so the same
 * code serves the chunked async reader (`readWalFile`, reads of at most
 * MAX_READ) and the pure in-memory entry point for fuzzing
 * (`decodeWalFileBytes`). No length is used for an allocation or a read
 * before it is checked against the 10 MiB limit and the file size.
 */
import { MAX_READ, type ByteSource } from '../../bytes/byte-source';
import { crc32c, crcBuffer } from './crc32c';
import {
  FRAME_SIZE_BYTES,
  MAX_WAL_ENTRY_SIZE,
  WAL_ERRORS,
  hasZeroSectorChunk,
  unmarshalRecord,
  unmarshalRecordFast,
  RECORD_TYPE,
  type WalRecordFields,
} from './wal-record';

export interface DecodedWalRecord {
  /** 0-based position in the file. */
  number: number;
  /** Offset of the length word. */
  offset: number;
  length: number;
  padding: number;
  type: number;
  /** The crc field as stored. */
  crcField: number;
  /** Valid until the next record is decoded (a view into the read window): copy to keep. */
  data: Uint8Array | null;
  /** Running CRC after this record (what the next record chains from). */
  crcAfter: number;
}

export type DecodeFailure = 'short-length-word' | 'short-record' | 'max-size' | 'torn' | 'proto' | 'proto-unexpected-eof' | 'record-crc' | 'chain-crc';

export interface DecodeError {
  failure: DecodeFailure;
  /** Offset of the record's length word (etcd's `lastOffset()` when it fails). */
  offset: number;
  /** Go's error text: `unexpected EOF`, `walpb: crc mismatch`, `wal: crc mismatch`, `proto: ...`. */
  engineError: string;
  /** The error is `io.ErrUnexpectedEOF` (what `wal.Repair` can truncate away, in the last file). */
  unexpectedEof: boolean;
  /** Plain words: what was found. */
  detail: string;
  /** The record that failed, when its frame could be read (for listings). */
  record?: { length: number; padding: number; type: number | null; crcField: number | null; crcComputed: number | null };
}

export type FileEnd = { kind: 'eof'; offset: number; zeroWord: boolean } | { kind: 'error'; error: DecodeError };

export interface FileDecodeState {
  fileSize: number;
  /** Only the last file can hold a torn record. */
  isLast: boolean;
  /** Running CRC (the decoder's `crc`). */
  crc: number;
  offset: number;
  recordNo: number;
  /**
   * Salvage only: the running CRC is unknown (a record that could not be
   * read was stepped over); take the next data record's stored CRC on trust.
   */
  resync?: boolean;
}

export type NextRecord = { kind: 'record'; record: DecodedWalRecord } | { kind: 'need'; until: number } | { kind: 'end'; end: FileEnd };

/**
 * What `nextRecord` fills and returns for a good record instead of new
 * objects, for a reader that hands each record on before decoding the next
 * (readWalFile): a 512 MB WAL has ~300k records, and three objects per record
 * were a third of the WAL scan's garbage.
 */
export interface RecordScratch {
  readonly fields: WalRecordFields;
  readonly result: { kind: 'record'; record: DecodedWalRecord };
}

export function recordScratch(): RecordScratch {
  return {
    fields: { type: 0, crc: 0, data: null },
    result: { kind: 'record', record: { number: 0, offset: 0, length: 0, padding: 0, type: 0, crcField: 0, data: null, crcAfter: 0 } },
  };
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

function failure(st: FileDecodeState, f: DecodeFailure, engineError: string, detail: string, record?: DecodeError['record']): NextRecord {
  return {
    kind: 'end',
    end: { kind: 'error', error: { failure: f, offset: st.offset, engineError, unexpectedEof: engineError === WAL_ERRORS.unexpectedEof, detail, record } },
  };
}

/**
 * Decode the record at `st.offset`, given `win` holding file bytes from
 * `winOff`. Advances `st` on success. `verifyChain`: apply the callers' CRC
 * record check (off only for listings that show it themselves). With
 * `scratch`, a good record is returned in it (valid until the next call).
 */
export function nextRecord(win: Uint8Array, winOff: number, st: FileDecodeState, verifyChain = true, scratch?: RecordScratch): NextRecord {
  const off = st.offset;
  if (off >= st.fileSize) return { kind: 'end', end: { kind: 'eof', offset: off, zeroWord: false } };
  if (off + FRAME_SIZE_BYTES > st.fileSize) {
    return failure(st, 'short-length-word', WAL_ERRORS.unexpectedEof, `only ${st.fileSize - off} bytes left where an 8-byte length word should be`);
  }
  const at = off - winOff;
  if (at < 0 || at + FRAME_SIZE_BYTES > win.length) return { kind: 'need', until: off + FRAME_SIZE_BYTES };
  const lo = win[at]! | (win[at + 1]! << 8) | (win[at + 2]! << 16) | (win[at + 3]! << 24);
  const hi = win[at + 4]! | (win[at + 5]! << 8) | (win[at + 6]! << 16) | (win[at + 7]! << 24);
  if (lo === 0 && hi === 0) return { kind: 'end', end: { kind: 'eof', offset: off, zeroWord: true } };
  // decodeFrameSize, inline: low 56 bits = record bytes, top bit set = padding in bits 56..58.
  const low56hi = hi & 0x00ffffff;
  const recBytes = low56hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : low56hi * 0x1_0000_0000 + (lo >>> 0);
  const padBytes = hi < 0 ? (hi >>> 24) & 0x7 : 0;
  if (recBytes >= MAX_WAL_ENTRY_SIZE - padBytes) {
    return failure(st, 'max-size', WAL_ERRORS.maxEntrySize, `length word says ${recBytes} record bytes (limit ${MAX_WAL_ENTRY_SIZE - padBytes})`, {
      length: recBytes,
      padding: padBytes,
      type: null,
      crcField: null,
      crcComputed: null,
    });
  }
  const frameEnd = off + FRAME_SIZE_BYTES + recBytes + padBytes;
  if (frameEnd > st.fileSize) {
    return failure(
      st,
      'short-record',
      WAL_ERRORS.unexpectedEof,
      `record of ${recBytes} bytes (+${padBytes} padding) runs ${frameEnd - st.fileSize} bytes past the end of the file`,
      {
        length: recBytes,
        padding: padBytes,
        type: null,
        crcField: null,
        crcComputed: null,
      },
    );
  }
  if (frameEnd - winOff > win.length) return { kind: 'need', until: frameEnd };
  const dataStart = at + FRAME_SIZE_BYTES;
  const rec: WalRecordFields = scratch ? scratch.fields : { type: 0, crc: 0, data: null };
  if (!unmarshalRecordFast(win, dataStart, dataStart + recBytes, rec)) {
    const u = unmarshalRecord(win.subarray(dataStart, dataStart + recBytes));
    if (!u.ok) {
      const info = { length: recBytes, padding: padBytes, type: null, crcField: null, crcComputed: null };
      if (isTorn(st, win, dataStart, recBytes + padBytes, off))
        return failure(st, 'torn', WAL_ERRORS.unexpectedEof, `record does not unmarshal (${u.error}) and part of it is all zero: a torn write`, info);
      return failure(st, u.unexpectedEof ? 'proto-unexpected-eof' : 'proto', u.error, `record does not unmarshal: ${u.error}`, info);
    }
    rec.type = u.record.type;
    rec.crc = u.record.crc;
    rec.data = u.record.data;
  }
  let crcAfter: number;
  if (rec.type !== RECORD_TYPE.crc && st.resync) {
    crcAfter = rec.crc;
    st.resync = false;
  } else if (rec.type !== RECORD_TYPE.crc) {
    crcAfter = rec.data ? crc32c(rec.data, st.crc) : st.crc;
    if (rec.crc !== crcAfter) {
      const info = { length: recBytes, padding: padBytes, type: rec.type, crcField: rec.crc, crcComputed: crcAfter };
      if (isTorn(st, win, dataStart, recBytes + padBytes, off))
        return failure(
          st,
          'torn',
          WAL_ERRORS.unexpectedEof,
          `stored CRC ${hex(rec.crc)} but computed ${hex(crcAfter)}, and part of the record is all zero: a torn write`,
          info,
        );
      return failure(st, 'record-crc', WAL_ERRORS.recordCrc, `stored CRC ${hex(rec.crc)} but the data gives ${hex(crcAfter)}`, info);
    }
  } else if (verifyChain) {
    if (st.crc !== 0 && rec.crc !== st.crc) {
      return failure(st, 'chain-crc', WAL_ERRORS.chainCrc, `CRC record carries ${hex(rec.crc)} but the records before it end at ${hex(st.crc)}`, {
        length: recBytes,
        padding: padBytes,
        type: rec.type,
        crcField: rec.crc,
        crcComputed: st.crc,
      });
    }
    crcAfter = rec.crc;
  } else {
    crcAfter = rec.crc;
  }
  const number = st.recordNo;
  st.crc = crcAfter;
  st.offset = frameEnd;
  st.recordNo++;
  if (scratch) {
    const record = scratch.result.record;
    record.number = number;
    record.offset = off;
    record.length = recBytes;
    record.padding = padBytes;
    record.type = rec.type;
    record.crcField = rec.crc;
    record.data = rec.data;
    record.crcAfter = crcAfter;
    return scratch.result;
  }
  const record: DecodedWalRecord = {
    number,
    offset: off,
    length: recBytes,
    padding: padBytes,
    type: rec.type,
    crcField: rec.crc,
    data: rec.data,
    crcAfter,
  };
  return { kind: 'record', record };
}

/** `isTornEntry`: only in the last file, some sector-aligned chunk of the record (with padding) is all zero. */
function isTorn(st: FileDecodeState, win: Uint8Array, dataStart: number, length: number, off: number): boolean {
  return st.isLast && hasZeroSectorChunk(win.subarray(dataStart, dataStart + length), off + FRAME_SIZE_BYTES);
}

/** First non-zero byte in `b`, or -1 (word-at-a-time where the view is aligned). */
export function firstNonZero(b: Uint8Array): number {
  let i = 0;
  const n = b.length;
  const lead = (4 - (b.byteOffset & 3)) & 3;
  for (; i < lead && i < n; i++) if (b[i] !== 0) return i;
  const words = (n - i) >>> 2;
  if (words > 0) {
    const w = new Int32Array(b.buffer, b.byteOffset + i, words);
    for (let k = 0; k < words; k += 1024) {
      const stop = Math.min(words, k + 1024);
      let acc = 0;
      for (let j = k; j < stop; j++) acc |= w[j]!;
      if (acc !== 0) {
        for (let j = k; j < stop; j++)
          if (w[j] !== 0) {
            const base = i + j * 4;
            for (let q = 0; q < 4; q++) if (b[base + q] !== 0) return base + q;
          }
      }
    }
    i += words * 4;
  }
  for (; i < n; i++) if (b[i] !== 0) return i;
  return -1;
}

export interface FileReadResult {
  end: FileEnd;
  /** Running CRC after the last good record. */
  crc: number;
  records: number;
  /** Offset after the last good record. */
  validBytes: number;
  /** After an end-of-log zero word: zero bytes from there (up to the first non-zero byte or the end). */
  zeroTailBytes: number;
  /** First non-zero byte after the end-of-log word (etcd zero-fills it on a write-mode open), or null. */
  dataAfterEnd: number | null;
  bytesRead: number;
}

/** Called with each good record; the record object and its `data` are valid until the visitor returns (copy to keep). */
export type RecordVisitor = (rec: DecodedWalRecord) => void | boolean | Promise<void | boolean>;

/** Window of file bytes kept for decoding; a record larger than this is read on its own (bounded by the 10 MiB limit). */
const WINDOW = MAX_READ;

/**
 * Read one WAL file through `src` in reads of at most MAX_READ bytes,
 * calling `visit` for every good record (return `false` to stop early: the
 * result then has `end.kind === 'eof'` at the stop offset). Never throws for
 * bad content; I/O errors from `src` propagate.
 */
export async function readWalFile(
  src: ByteSource,
  opts: {
    isLast: boolean;
    crc: number;
    verifyChain?: boolean;
    scanTail?: boolean;
    signal?: AbortSignal;
    startOffset?: number;
    startRecord?: number;
    resync?: boolean;
    /**
     * Read every window into one buffer (when the source can `readInto`): a
     * 64 MB file is then one 4 MiB buffer instead of 16 fresh ones, whose page
     * faults and frees cost CPU. A record's `data` is overwritten by the next
     * window read, so the visitor must copy what it keeps (as it must anyway:
     * it is only valid until the next record).
     */
    reuseWindow?: boolean;
  },
  visit?: RecordVisitor,
): Promise<FileReadResult> {
  const st: FileDecodeState = {
    fileSize: src.size,
    isLast: opts.isLast,
    crc: opts.crc >>> 0,
    offset: opts.startOffset ?? 0,
    recordNo: opts.startRecord ?? 0,
    resync: opts.resync ?? false,
  };
  let win: Uint8Array = new Uint8Array(0);
  let winOff = 0;
  let bytesRead = 0;
  let end: FileEnd;
  const into = opts.reuseWindow && canReadInto(src) ? src : null;
  /** The reused window's buffer (grown for a record larger than a window: bounded by the 10 MiB record limit checked before). */
  let buffer: Uint8Array | null = null;
  const readWindow = async (offset: number, length: number): Promise<Uint8Array> => {
    if (!into) return plain(await readRange(src, offset, length));
    // A CRC buffer: the records' CRCs are then computed where they were read (in WebAssembly).
    if (!buffer || buffer.length < length) buffer = crcBuffer(Math.max(length, Math.min(WINDOW, st.fileSize)));
    const target = buffer.subarray(0, length);
    let got = 0;
    while (got < length) {
      const n = await into.readInto(offset + got, target.subarray(got));
      if (n === 0) break;
      got += n;
    }
    return target.subarray(0, got);
  };
  // The visitor is done with a record before the next is decoded: one record object for the whole file.
  const scratch = recordScratch();
  for (;;) {
    const r = nextRecord(win, winOff, st, opts.verifyChain ?? true, scratch);
    if (r.kind === 'need') {
      if (opts.signal?.aborted) throw new Error('cancelled');
      const want = Math.max(r.until, Math.min(st.fileSize, st.offset + WINDOW)) - st.offset;
      win = await readWindow(st.offset, want);
      bytesRead += win.length;
      winOff = st.offset;
      if (win.length < r.until - st.offset) {
        // The source returned less than its size promised: treat as the end of the file.
        st.fileSize = st.offset + win.length;
      }
      continue;
    }
    if (r.kind === 'end') {
      end = r.end;
      break;
    }
    if (visit) {
      const v = visit(r.record);
      const res = v instanceof Promise ? await v : v;
      if (res === false) {
        end = { kind: 'eof', offset: st.offset, zeroWord: false };
        break;
      }
    }
  }
  let zeroTailBytes = 0;
  let dataAfterEnd: number | null = null;
  if (end.kind === 'eof' && end.zeroWord && (opts.scanTail ?? true)) {
    let at = end.offset;
    while (at < st.fileSize) {
      const chunk = await readWindow(at, Math.min(MAX_READ, st.fileSize - at));
      if (chunk.length === 0) break;
      bytesRead += chunk.length;
      const nz = firstNonZero(chunk);
      if (nz >= 0) {
        dataAfterEnd = at + nz;
        break;
      }
      at += chunk.length;
    }
    zeroTailBytes = (dataAfterEnd ?? st.fileSize) - end.offset;
  }
  return {
    end,
    crc: st.crc,
    records: st.recordNo,
    validBytes: end.kind === 'eof' ? end.offset : end.error.offset,
    zeroTailBytes,
    dataAfterEnd,
    bytesRead,
  };
}

/** A source that can fill a caller's buffer (the local file source can). */
interface ReadIntoSource extends ByteSource {
  readInto(offset: number, target: Uint8Array): Promise<number>;
}

function canReadInto(src: ByteSource): src is ReadIntoSource {
  return typeof (src as Partial<ReadIntoSource>).readInto === 'function';
}

/** A plain Uint8Array view (Node's Buffer.subarray is several times slower than Uint8Array's). */
export function plain(b: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Read exactly `length` bytes (fewer only at the end of the source) in pieces of at most MAX_READ. */
export async function readRange(src: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  if (length <= MAX_READ) return src.read(offset, length);
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const part = await src.read(offset + got, Math.min(MAX_READ, length - got));
    if (part.length === 0) break;
    out.set(part, got);
    got += part.length;
  }
  return got === length ? out : out.subarray(0, got);
}

export interface WalFileBytesSummary {
  records: { offset: number; length: number; type: string; crcField: number; crcAfter: number }[];
  end: FileEnd;
  crc: number;
  validBytes: number;
}

/**
 * Pure, synchronous decode of one WAL file held in memory, as the last file
 * of a WAL starting a fresh CRC chain (the fuzz entry point). Records beyond
 * `maxRecords` are decoded but not listed.
 */
export function decodeWalFileBytes(bytes: Uint8Array, maxRecords = 10_000): WalFileBytesSummary {
  const st: FileDecodeState = { fileSize: bytes.length, isLast: true, crc: 0, offset: 0, recordNo: 0 };
  const records: WalFileBytesSummary['records'] = [];
  for (;;) {
    const r = nextRecord(bytes, 0, st);
    if (r.kind === 'need') {
      // Cannot happen with the whole file in the window; end defensively.
      return { records, end: { kind: 'eof', offset: st.offset, zeroWord: false }, crc: st.crc, validBytes: st.offset };
    }
    if (r.kind === 'end') return { records, end: r.end, crc: st.crc, validBytes: r.end.kind === 'eof' ? r.end.offset : r.end.error.offset };
    if (records.length < maxRecords) {
      const rec = r.record;
      records.push({ offset: rec.offset, length: rec.length, type: rec.type.toString(), crcField: rec.crcField, crcAfter: rec.crcAfter });
    }
  }
}
