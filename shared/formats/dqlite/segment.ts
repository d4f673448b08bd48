/**
 * Streaming reader of one segment file (`raft:uv_segment.c`). We parse
 * batches exactly like uvLoadEntriesBatch but through a ByteSource in
 * bounded reads: no read is sized from a length field before that length
 * is checked against the file size, and payloads are checksummed in chunks.
 *
 * `scanSegment` reports what is in the file; `interpretClosed` and
 * `interpretOpen` apply the closed/open rules of uvSegmentLoadClosed /
 * uvSegmentLoadOpen to that scan.
 */
import type { ByteSource } from '../../bytes/byte-source';
import type { BatchSummary } from '../../contract/dqlite';
import { throwIfCancelled } from '../../contract/progress';
import { crc32 } from './crc';
import { ENTRY_BARRIER, ENTRY_CHANGE, ENTRY_COMMAND, MAX_BATCH_ENTRIES, batchHeaderSize, isKnownEntryType } from './batch';
import { pad8, u32At, u64At, u64RoundedAt } from './le';
import type { EngineErrorKind } from './snapshot-meta';
import type { TextParams } from '../../contract/text';
import { interpolate } from '../../i18n/index';
import { BATCH_PROBLEMS, findingKeyOfBatch, type BatchProblemKey, type DqliteTextKey } from '../../i18n/dqlite-text';
import { say } from './say';

const CHUNK = 1024 * 1024;
/** Largest RAFT_CHANGE payload we keep for membership (configurations are tiny). */
const MAX_CHANGE_PAYLOAD = 64 * 1024;
/** Bound on checksum work spent looking for valid batches after a bad one. */
const MAX_RESYNC_HASH = 256 * 1024 * 1024;

export interface BatchFailure {
  /** 1-based batch number, as in libraft's text. */
  batch: number;
  /** The offset libraft prints (the batch start, except one preamble quirk). */
  offset: number;
  /** Start of the failing batch: valid data ends here. */
  batchStart: number;
  kind: EngineErrorKind;
  code: string;
  /** libraft's text after `entries batch N starting at byte M: ` (empty for RAFT_MALFORMED, which has none). */
  detail: string;
  message: string;
  /** Catalog key and params of `message` (the finding message adds the batch number and offset). */
  problem: BatchProblemKey;
  problemParams?: TextParams;
  /**
   * Entries in the failing batch, when its header checksum proved the count
   * (data checksum failures, short data); null when the count is not trusted.
   */
  entries?: number | null;
  /** Total size of the failing batch when its header is trusted (so where the next batch starts). */
  size?: number | null;
  /** What an untrusted (bad checksum) header claims: entry count and batch size. */
  claimed?: { entries: number; size: number };
}

export interface SegmentScan {
  size: number;
  /** u64 format version; null when the file has fewer than 8 bytes. */
  format: bigint | null;
  /** Format is 0 and every following byte is 0 (a preallocated, never written segment). */
  zeroFormatAllZero: boolean;
  batches: number;
  entries: number;
  /** Offset where valid data ends (start of the first bad batch, or the file size). */
  validBytes: number;
  failure: BatchFailure | null;
  /** Any non-zero byte after validBytes. */
  nonZeroTail: boolean;
  /** Valid batches found after the failure (data the loader would never reach). */
  later: { offset: number; batches: number; entries: number } | null;
  terms: [number, number] | null;
  types: { command: number; barrier: number; change: number; other: number };
  /** Largest batch boundary whose entry count is <= the target (closed segments: the name range). */
  boundaryAtTarget: { entries: number; offset: number } | null;
  /** Last RAFT_CHANGE entry: its 0-based ordinal in this file and payload. */
  lastChange: { ordinal: number; payload: Uint8Array } | null;
  bytesRead: number;
}

export interface ScanOptions {
  /** Record the last batch boundary with at most this many entries. */
  targetEntries?: number;
  /** Called for every valid batch and for the failing one (entriesBefore = ordinal of its first entry). */
  onBatch?: (b: BatchSummary, entriesBefore: number) => void;
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
  /** Look for valid batches after a failure (default true). */
  resync?: boolean;
}

/**
 * Sequential read window over a ByteSource: one current chunk, plus a read
 * of the following chunk already in flight, so the disk (or network) works
 * on the next CHUNK while we checksum this one. Every request is bounded by
 * the file size; a range that straddles chunks is assembled from them (only
 * batch headers and preambles do that; payload checksums walk the chunks).
 */
class Window {
  private cur: Uint8Array = new Uint8Array(0);
  private curStart = 0;
  private ahead: { start: number; bytes: Promise<Uint8Array> } | null = null;
  bytesRead = 0;
  constructor(
    private readonly src: ByteSource,
    private readonly onBytes?: (n: number) => void,
  ) {}

  private get curEnd(): number {
    return this.curStart + this.cur.length;
  }

  /** Make the current chunk the one holding byte `off` (off < size). */
  private async chunkAt(off: number): Promise<void> {
    if (off >= this.curStart && off < this.curEnd) return;
    const size = this.src.size;
    let got: Uint8Array;
    const ahead = this.ahead;
    this.ahead = null;
    if (ahead && off >= ahead.start && off < ahead.start + Math.min(CHUNK, size - ahead.start)) {
      got = await ahead.bytes;
      if (off > ahead.start) {
        // A small skip forward (resync): keep the read-ahead, starting at `off`.
        this.bytesRead += off - ahead.start;
        got = got.subarray(Math.min(got.length, off - ahead.start));
      }
    } else {
      if (ahead) await settle(ahead.bytes);
      got = await this.src.read(off, Math.min(CHUNK, size - off));
    }
    this.bytesRead += got.length;
    this.onBytes?.(got.length);
    if (got.length === 0) throw new Error(`${this.src.name}: read 0 bytes at ${off} of ${size}`);
    this.cur = got;
    this.curStart = off;
    const next = off + got.length;
    if (next < size) {
      const bytes = this.src.read(next, Math.min(CHUNK, size - next));
      // Settled later by chunkAt or close(); never an unhandled rejection meanwhile.
      bytes.catch(() => undefined);
      this.ahead = { start: next, bytes };
    }
  }

  /** Bytes [off, off+len) (len already checked to be within the file). */
  /** Bytes [off, off+len) read on their own, leaving the window where it is (a look back, len small). */
  async once(off: number, len: number): Promise<Uint8Array> {
    if (off >= this.curStart && off + len <= this.curEnd) return this.cur.slice(off - this.curStart, off - this.curStart + len);
    const got = await this.src.read(off, len);
    this.bytesRead += got.length;
    if (got.length < len) throw new Error(`${this.src.name}: read ${got.length} bytes at ${off}, expected ${len}`);
    return got.slice();
  }

  async get(off: number, len: number): Promise<{ buf: Uint8Array; at: number }> {
    await this.chunkAt(off);
    if (off + len <= this.curEnd) return { buf: this.cur, at: off - this.curStart };
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      await this.chunkAt(off + done);
      const from = off + done - this.curStart;
      const n = Math.min(len - done, this.cur.length - from);
      out.set(this.cur.subarray(from, from + n), done);
      done += n;
    }
    return { buf: out, at: 0 };
  }

  /** CRC of [off, off+len) straight from the chunks (len may be large). */
  async crc(off: number, len: number, init = 0): Promise<number> {
    let crc = init;
    let at = off;
    const end = off + len;
    while (at < end) {
      await this.chunkAt(at);
      const from = at - this.curStart;
      const n = Math.min(end - at, this.cur.length - from);
      crc = crc32(this.cur, crc, from, from + n);
      at += n;
    }
    return crc;
  }

  /** True when [off, end) holds only zeros. */
  async allZero(off: number, end: number): Promise<boolean> {
    let at = off;
    while (at < end) {
      await this.chunkAt(at);
      const from = at - this.curStart;
      const n = Math.min(end - at, this.cur.length - from);
      for (let i = from; i < from + n; i++) if (this.cur[i] !== 0) return false;
      at += n;
    }
    return true;
  }

  /** Wait for a read still in flight, so none outlives the scan (the source may be closed next). */
  async close(): Promise<void> {
    const ahead = this.ahead;
    this.ahead = null;
    if (ahead) await settle(ahead.bytes);
  }
}

async function settle(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch {
    // A failed read-ahead nobody asked for yet: the read that needs those bytes reports the error itself.
  }
}

type BatchOutcome =
  | {
      ok: true;
      size: number;
      count: number;
      terms: [number, number];
      types: { command: number; barrier: number; change: number; other: number };
      lastChange: { index: number; offset: number; length: number } | null;
    }
  | { ok: false; failure: Omit<BatchFailure, 'batch'>; headerCrc: 'ok' | 'bad' | null; count: number };

/** Mark a failure whose header checksum passed: its entry count (and size, when known) can be trusted. */
function trusted(o: BatchOutcome, size: number | null): BatchOutcome {
  if (o.ok) return o;
  return { ...o, failure: { ...o.failure, entries: o.count, size } };
}

function shortRead(remaining: number, want: number): string {
  return `short read: ${remaining} bytes instead of ${want}`;
}

/** Parse one batch at `start` exactly like uvLoadEntriesBatch (checks in the same order). */
async function readBatch(w: Window, size: number, start: number): Promise<BatchOutcome> {
  const fail = (
    kind: EngineErrorKind,
    code: string,
    detail: string,
    problem: BatchProblemKey,
    problemParams?: TextParams,
    offset = start,
    headerCrc: 'ok' | 'bad' | null = null,
    count = 0,
  ): BatchOutcome => ({
    ok: false,
    failure: {
      offset,
      batchStart: start,
      kind,
      code,
      detail,
      message: interpolate(BATCH_PROBLEMS.en[problem], problemParams),
      problem,
      ...(problemParams ? { problemParams } : {}),
    },
    headerCrc,
    count,
  });

  if (start + 8 > size) {
    return fail('ioerr', 'segment.short-preamble', `read preamble: ${shortRead(size - start, 8)}`, 'short-preamble');
  }
  if (start + 16 > size) {
    // libraft has already advanced past the checksums here and reports that offset.
    return fail('ioerr', 'segment.short-preamble', `read preamble: ${shortRead(size - start - 8, 8)}`, 'short-preamble-count', undefined, start + 8);
  }
  const pre = await w.get(start, 16);
  const nBig = u64At(pre.buf, pre.at + 8);
  if (nBig === 0n) {
    return fail('corrupt', 'segment.count-zero', 'entries count in preamble is zero', 'count-zero');
  }
  if (nBig > BigInt(MAX_BATCH_ENTRIES)) {
    return fail('corrupt', 'segment.count-too-high', `entries count ${nBig} in preamble is too high`, 'count-too-high', {
      count: String(nBig),
      limit: MAX_BATCH_ENTRIES,
    });
  }
  const n = Number(nBig);
  const headerEnd = start + 8 + batchHeaderSize(n);
  if (headerEnd > size) {
    return fail('ioerr', 'segment.short-header', `read header: ${shortRead(size - start - 16, batchHeaderSize(n) - 8)}`, 'short-header', { n }, start, null, n);
  }
  const crc1 = u32At(pre.buf, pre.at);
  const crc2Stored = u32At(pre.buf, pre.at + 4);
  const hdr = await w.get(start + 8, batchHeaderSize(n));
  const actual1 = crc32(hdr.buf, 0, hdr.at, hdr.at + batchHeaderSize(n));
  if (actual1 !== crc1) {
    // The count and lengths are not trusted, but keep what they claim: if that layout ends exactly where the
    // next valid batch starts, the count was probably intact (see entriesAfterFailure).
    let claimed = 0;
    for (let i = 0; i < n; i++) claimed += u32At(hdr.buf, hdr.at + 8 + 16 * i + 12);
    const o = fail('corrupt', 'segment.header-checksum', 'header checksum mismatch', 'header-checksum', undefined, start, 'bad', n);
    if (!o.ok) o.failure.claimed = { entries: n, size: 8 + batchHeaderSize(n) + claimed };
    return o;
  }
  let dataLen = 0;
  let minTerm = Infinity;
  let maxTerm = -Infinity;
  const types = { command: 0, barrier: 0, change: 0, other: 0 };
  let lastChange: { index: number; offset: number; length: number } | null = null;
  let payloadAt = headerEnd;
  for (let i = 0; i < n; i++) {
    const p = hdr.at + 8 + 16 * i;
    const type = hdr.buf[p + 8];
    if (!isKnownEntryType(type)) {
      return fail('malformed', 'segment.entry-type', '', 'entry-type', { entry: i + 1, type }, start, 'ok', n);
    }
    const term = u64RoundedAt(hdr.buf, p);
    const len = u32At(hdr.buf, p + 12);
    if (term < minTerm) minTerm = term;
    if (term > maxTerm) maxTerm = term;
    if (type === ENTRY_COMMAND) types.command++;
    else if (type === ENTRY_BARRIER) types.barrier++;
    else if (type === ENTRY_CHANGE) {
      types.change++;
      lastChange = { index: i, offset: payloadAt, length: len };
    }
    dataLen += len;
    payloadAt += pad8(len);
  }
  if (headerEnd + dataLen > size) {
    return trusted(
      fail(
        'ioerr',
        'segment.short-data',
        `read data: ${shortRead(size - headerEnd, dataLen)}`,
        'short-data',
        { needed: dataLen, left: size - headerEnd },
        start,
        'ok',
        n,
      ),
      null,
    );
  }
  const actual2 = await w.crc(headerEnd, dataLen);
  if (actual2 !== crc2Stored) {
    return trusted(
      fail('corrupt', 'segment.data-checksum', 'data checksum mismatch', 'data-checksum', undefined, start, 'ok', n),
      8 + batchHeaderSize(n) + dataLen,
    );
  }
  return { ok: true, size: 8 + batchHeaderSize(n) + dataLen, count: n, terms: [minTerm, maxTerm], types, lastChange };
}

function summary(number: number, offset: number, o: BatchOutcome, problem: string | null): BatchSummary {
  if (o.ok) {
    return {
      number,
      offset,
      size: o.size,
      entries: o.count,
      firstIndex: null,
      firstTerm: o.terms[0],
      lastTerm: o.terms[1],
      types: o.types,
      headerCrc: 'ok',
      dataCrc: 'ok',
      problem,
    };
  }
  return {
    number,
    offset,
    size: 0,
    entries: o.count,
    firstIndex: null,
    firstTerm: 0,
    lastTerm: 0,
    types: { command: 0, barrier: 0, change: 0, other: 0 },
    headerCrc: o.headerCrc === 'ok' ? 'ok' : 'bad',
    dataCrc: o.failure.code === 'segment.data-checksum' ? 'bad' : 'not-checked',
    problem,
  };
}

export async function scanSegment(src: ByteSource, opts: ScanOptions = {}): Promise<SegmentScan> {
  const w = new Window(src, opts.onBytes);
  try {
    return await scanWith(w, src.size, opts);
  } finally {
    await w.close();
  }
}

/** A scan of a file nothing has been read from yet (also what a listing knows: only the size). */
export function emptySegmentScan(size: number): SegmentScan {
  return {
    size,
    format: null,
    zeroFormatAllZero: false,
    batches: 0,
    entries: 0,
    validBytes: 0,
    failure: null,
    nonZeroTail: false,
    later: null,
    terms: null,
    types: { command: 0, barrier: 0, change: 0, other: 0 },
    boundaryAtTarget: null,
    lastChange: null,
    bytesRead: 0,
  };
}

async function scanWith(w: Window, size: number, opts: ScanOptions): Promise<SegmentScan> {
  const scan = emptySegmentScan(size);
  scan.validBytes = Math.min(size, 8);
  if (size < 8) {
    scan.bytesRead = w.bytesRead;
    return scan;
  }
  const head = await w.get(0, 8);
  scan.format = u64At(head.buf, head.at);
  if (scan.format !== 1n) {
    if (scan.format === 0n) scan.zeroFormatAllZero = await w.allZero(8, size);
    scan.bytesRead = w.bytesRead;
    return scan;
  }
  if (opts.targetEntries !== undefined && opts.targetEntries >= 0) scan.boundaryAtTarget = { entries: 0, offset: 8 };
  let offset = 8;
  let number = 1;
  let lastChangeAt: { index: number; offset: number; length: number; ordinal: number } | null = null;
  for (;;) {
    throwIfCancelled(opts.signal);
    const o = await readBatch(w, size, offset);
    if (!o.ok) {
      scan.failure = { ...o.failure, batch: number };
      scan.validBytes = offset;
      opts.onBatch?.(summary(number, offset, o, o.failure.detail || o.failure.message), scan.entries);
      break;
    }
    opts.onBatch?.(summary(number, offset, o, null), scan.entries);
    if (o.lastChange) lastChangeAt = { ...o.lastChange, ordinal: scan.entries + o.lastChange.index };
    scan.batches++;
    scan.entries += o.count;
    scan.terms = scan.terms ? [Math.min(scan.terms[0], o.terms[0]), Math.max(scan.terms[1], o.terms[1])] : o.terms;
    scan.types.command += o.types.command;
    scan.types.barrier += o.types.barrier;
    scan.types.change += o.types.change;
    offset += o.size;
    if (opts.targetEntries !== undefined && scan.entries <= opts.targetEntries) {
      scan.boundaryAtTarget = { entries: scan.entries, offset };
    }
    number++;
    if (offset === size) break; // libraft: last = offset == len
  }
  if (scan.failure === null) scan.validBytes = size;
  if (lastChangeAt && lastChangeAt.length <= MAX_CHANGE_PAYLOAD) {
    scan.lastChange = { ordinal: lastChangeAt.ordinal, payload: await w.once(lastChangeAt.offset, lastChangeAt.length) };
  }
  if (scan.failure) {
    scan.nonZeroTail = !(await w.allZero(scan.validBytes, size));
    if (scan.nonZeroTail && opts.resync !== false) scan.later = await resync(w, size, scan.validBytes + 8, opts.signal);
  }
  scan.bytesRead = w.bytesRead;
  return scan;
}

/**
 * Look for the next valid batch after a bad one (8-byte aligned, header and
 * data checksums both correct), then count the run of valid batches from
 * there. Bounded by MAX_RESYNC_HASH bytes of checksum work.
 */
async function resync(w: Window, size: number, from: number, signal?: AbortSignal): Promise<SegmentScan['later']> {
  let hashed = 0;
  for (let pos = from; pos + 16 <= size; pos += 8) {
    if ((pos & 0xffff) === 0) throwIfCancelled(signal);
    const pre = await w.get(pos, 16);
    const nBig = u64At(pre.buf, pre.at + 8);
    if (nBig === 0n || nBig > BigInt(MAX_BATCH_ENTRIES)) continue;
    const n = Number(nBig);
    if (pos + 8 + batchHeaderSize(n) > size) continue;
    hashed += batchHeaderSize(n);
    if (hashed > MAX_RESYNC_HASH) return null;
    const o = await readBatch(w, size, pos);
    if (!o.ok) continue;
    let batches = 0;
    let entries = 0;
    let at = pos;
    for (;;) {
      const b = await readBatch(w, size, at);
      if (!b.ok) break;
      batches++;
      entries += b.count;
      at += b.size;
      if (at === size) break;
    }
    return { offset: pos, batches, entries };
  }
  return null;
}

/** Result of loading a file as a closed segment (uvSegmentLoadClosed). */
export type ClosedLoad =
  | { ok: true; entries: number }
  | {
      ok: false;
      kind: EngineErrorKind;
      code: string;
      /** libraft's text without the `load closed segment NAME: ` prefix. */
      text: string;
      offset: number | null;
      message: string;
      /** Catalog template of `message` and its params. */
      messageKey: DqliteTextKey;
      params?: TextParams;
      /** libraft asserts/crashes instead of returning an error. */
      crash?: boolean;
    };

/** `message` plus the template key and params it came from. */
function said(key: DqliteTextKey, params?: TextParams): { message: string; messageKey: DqliteTextKey; params?: TextParams } {
  return { message: say(key, params).text, messageKey: key, ...(params ? { params } : {}) };
}

/** libraft's `unsigned expected_n = end - first + 1` (32-bit). */
export function expectedEntries(first: number, last: number): number {
  return Number(BigInt.asUintN(32, BigInt(last) - BigInt(first) + 1n));
}

export function interpretClosed(first: number, last: number, scan: SegmentScan): ClosedLoad {
  if (scan.size === 0) {
    return { ok: false, kind: 'corrupt', code: 'segment.empty', text: 'file is empty', offset: 0, ...said('finding.segment.empty.message') };
  }
  if (scan.format === null) {
    return {
      ok: false,
      kind: 'ioerr',
      code: 'segment.too-short',
      text: `file has only ${scan.size} bytes`,
      offset: 0,
      ...said('finding.segment.too-short.message', { size: scan.size }),
    };
  }
  if (scan.format !== 1n) {
    return {
      ok: false,
      kind: 'corrupt',
      code: 'segment.format',
      text: `unexpected format version ${scan.format}`,
      offset: 0,
      ...said(scan.format === 0n ? 'finding.segment.format.message.zero' : 'finding.segment.format.message', { format: String(scan.format) }),
    };
  }
  if (scan.failure) {
    const f = scan.failure;
    return {
      ok: false,
      kind: f.kind,
      code: f.code,
      text: `entries batch ${f.batch} starting at byte ${f.offset}${f.detail ? `: ${f.detail}` : ''}`,
      offset: f.batchStart,
      ...said(findingKeyOfBatch(f.problem), { ...f.problemParams, batch: f.batch, batchStart: f.batchStart }),
    };
  }
  const expected = expectedEntries(first, last);
  if (scan.entries !== expected) {
    return {
      ok: false,
      kind: 'corrupt',
      code: 'segment.entries-mismatch',
      text: `found ${scan.entries} entries (expected ${expected})`,
      offset: null,
      ...said('finding.segment.entries-mismatch.message', { entries: scan.entries, expected, first, last }),
    };
  }
  return { ok: true, entries: scan.entries };
}

/** Why libraft deletes an open segment instead of loading it. */
export type OpenDeletedReason = 'empty file' | 'never written (all zeros)' | 'no valid batch';

/** Result of loading a file as an open segment (uvSegmentLoadOpen). */
export type OpenLoad =
  | { outcome: 'deleted'; reason: OpenDeletedReason }
  | { outcome: 'finalised'; entries: number; validBytes: number; truncated: boolean }
  | {
      outcome: 'fatal';
      kind: EngineErrorKind;
      code: string;
      text: string;
      offset: number | null;
      message: string;
      /** Catalog template of `message` and its params. */
      messageKey: DqliteTextKey;
      params?: TextParams;
      /** libraft 0.15 double-frees on this path (segfault) instead of printing the error. */
      crash: boolean;
    };

export function interpretOpen(scan: SegmentScan): OpenLoad {
  if (scan.size === 0) return { outcome: 'deleted', reason: 'empty file' };
  if (scan.format === null) {
    return {
      outcome: 'fatal',
      kind: 'ioerr',
      code: 'segment.too-short',
      text: `file has only ${scan.size} bytes`,
      offset: 0,
      ...said('finding.segment.too-short.message.open', { size: scan.size }),
      crash: false,
    };
  }
  if (scan.format !== 1n) {
    if (scan.format === 0n && scan.zeroFormatAllZero) return { outcome: 'deleted', reason: 'never written (all zeros)' };
    return {
      outcome: 'fatal',
      kind: 'corrupt',
      code: 'segment.format',
      text: `unexpected format version ${scan.format}`,
      offset: 0,
      ...said('finding.segment.format.message.open', { format: String(scan.format) }),
      crash: false,
    };
  }
  if (scan.failure && scan.failure.kind !== 'corrupt') {
    const f = scan.failure;
    return {
      outcome: 'fatal',
      kind: f.kind,
      code: f.code,
      text: `entries batch ${f.batch} starting at byte ${f.offset}${f.detail ? `: ${f.detail}` : ''}`,
      offset: f.batchStart,
      ...said(findingKeyOfBatch(f.problem), { ...f.problemParams, batch: f.batch, batchStart: f.batchStart }),
      // The entries already loaded point into the buffer freed on this path.
      crash: scan.batches > 0,
    };
  }
  if (scan.batches === 0) return { outcome: 'deleted', reason: 'no valid batch' };
  return { outcome: 'finalised', entries: scan.entries, validBytes: scan.validBytes, truncated: scan.failure !== null };
}

/**
 * Entries after the last good batch of a segment that a truncation at the
 * failure would drop: the failing batch's own entries (when its header proves
 * the count) plus the valid batches found after it. `exact` is false when the
 * count is a lower bound (untrusted header, or unreadable bytes between the
 * failing batch and the later valid ones).
 */
export function entriesAfterFailure(scan: SegmentScan): { count: number; exact: boolean } {
  const f = scan.failure;
  if (!f) return { count: 0, exact: true };
  const own = f.entries ?? null;
  const later = scan.later;
  if (!later) {
    // Nothing valid follows: only the failing batch itself (when the count is known).
    return { count: own ?? 0, exact: own !== null };
  }
  const adjacent = own !== null && f.size !== undefined && f.size !== null && f.batchStart + f.size === later.offset;
  if (own === null && f.claimed && f.batchStart + f.claimed.size === later.offset) {
    // The damaged header's own layout lands exactly on the next valid batch: its count is very likely intact.
    return { count: f.claimed.entries + later.entries, exact: true };
  }
  // An untrusted header still held at least one entry before the later valid batches.
  return { count: (own ?? 1) + later.entries, exact: adjacent };
}
