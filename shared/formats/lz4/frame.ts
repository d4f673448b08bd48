/**
 * Streaming verifier for one LZ4 frame (the format libraft uses for compressed
 * snapshots, via liblz4's LZ4F_* API). It decodes every block and checks what
 * liblz4 checks, naming failures like liblz4 does (`ERROR_contentChecksum_invalid`
 * ...) because dqlite reports them as `LZ4F_decompress <name>`.
 *
 * Memory is bounded by the frame's declared maximum block size (at most 4 MiB):
 * one compressed block, one decoded block and the 64 KiB history window for
 * linked blocks. A block size field is compared with that maximum before any
 * read, so a corrupt length never sizes an allocation.
 */
import type { ByteSource } from '../../bytes/byte-source';
import { MAX_READ } from '../../bytes/byte-source';
import type { RunOptions } from '../../contract/progress';
import { throwIfCancelled } from '../../contract/progress';
import { decodeBlock } from './block';
import { Xxh32, xxh32 } from './xxhash32';

export const LZ4_FRAME_MAGIC = 0x184d2204;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const WINDOW = 64 * 1024;
const BLOCK_SIZES: Record<number, number> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 };
const PROGRESS_EVERY = 8 * 1024 * 1024;

/** The frame descriptor as declared in the header. */
export interface Lz4FrameDescriptor {
  blockIndependence: boolean;
  blockChecksum: boolean;
  contentChecksum: boolean;
  /** Declared decompressed size, when the flag is set. */
  contentSize: number | null;
  dictionaryId: number | null;
  maxBlockSize: number;
  /** Bytes of magic + descriptor. */
  headerSize: number;
}

export interface Lz4VerifyResult {
  ok: boolean;
  /** liblz4-style error name (`ERROR_blockChecksum_invalid`), or null. */
  error: string | null;
  /** Offset in the source where the problem starts, or null. */
  errorOffset: number | null;
  /** Decompressed bytes produced (up to the error, when there is one). */
  contentSize: number;
  /** Plain words about the failure: which block, what was expected. */
  detail?: string | null;
  descriptor?: Lz4FrameDescriptor | null;
  /** Data blocks decoded successfully. */
  blocks?: number;
  /** Compressed bytes the frame occupies (when it ended properly). */
  frameSize?: number | null;
  /** Bytes after the end of the frame (liblz4 via libraft ignores them). */
  trailingBytes?: number;
}

export interface Lz4VerifyOptions extends RunOptions {
  /**
   * Sees the decompressed stream in order. The chunk is a view into a reused
   * buffer: copy it if you keep it past the callback. A promise returned is waited for before the next block.
   */
  onData?: (chunk: Uint8Array) => void | Promise<void>;
}

/** Buffered sequential reader over a ByteSource with a fixed-capacity buffer. */
class SequentialReader {
  private buf: Uint8Array;
  private start = 0;
  private end = 0;
  /** Source offset of the next byte to fetch into the buffer. */
  private fetchPos = 0;
  bytesRead = 0;

  constructor(
    private readonly source: ByteSource,
    capacity: number,
  ) {
    this.buf = new Uint8Array(capacity);
  }

  /** Source offset of the next unconsumed byte. */
  get position(): number {
    return this.fetchPos - (this.end - this.start);
  }

  /** Grow capacity (only after the descriptor fixed the maximum block size). */
  reserve(capacity: number): void {
    if (capacity <= this.buf.length) return;
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(this.start, this.end));
    this.end -= this.start;
    this.start = 0;
    this.buf = next;
  }

  /** Make `n` bytes available; false when the source ends first. */
  async ensure(n: number): Promise<boolean> {
    if (this.end - this.start >= n) return true;
    if (n > this.buf.length) throw new RangeError(`reader asked for ${n} bytes, capacity ${this.buf.length}`);
    if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    while (this.end < n) {
      const want = Math.min(this.buf.length - this.end, MAX_READ, this.source.size - this.fetchPos);
      if (want <= 0) return false;
      const chunk = await this.source.read(this.fetchPos, want);
      if (chunk.length === 0) return false;
      this.buf.set(chunk, this.end);
      this.end += chunk.length;
      this.fetchPos += chunk.length;
      this.bytesRead += chunk.length;
    }
    return true;
  }

  available(): number {
    return this.end - this.start;
  }

  /** The buffer and the index of the next unconsumed byte (valid until the next ensure). */
  view(): { buf: Uint8Array; at: number } {
    return { buf: this.buf, at: this.start };
  }

  u8(i: number): number {
    return this.buf[this.start + i];
  }

  u32(i: number): number {
    const b = this.buf;
    const p = this.start + i;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  }

  skip(n: number): void {
    this.start += n;
  }
}

function fail(error: string, errorOffset: number, detail: string, contentSize: number, descriptor: Lz4FrameDescriptor | null, blocks: number): Lz4VerifyResult {
  return { ok: false, error, errorOffset, contentSize, detail, descriptor, blocks, frameSize: null, trailingBytes: 0 };
}

/**
 * Parse and check the frame header at the reader's position (offset 0).
 * Returns the descriptor or a failure.
 */
async function readDescriptor(reader: SequentialReader, size: number): Promise<Lz4FrameDescriptor | Lz4VerifyResult> {
  if (!(await reader.ensure(4))) {
    return fail('ERROR_frameHeader_incomplete', 0, `only ${size} bytes, no LZ4 magic number`, 0, null, 0);
  }
  const magic = reader.u32(0);
  if (magic !== LZ4_FRAME_MAGIC) {
    const what =
      (magic & SKIPPABLE_MAGIC_MASK) === SKIPPABLE_MAGIC
        ? 'a skippable frame, not an LZ4 data frame'
        : `magic number 0x${magic.toString(16).padStart(8, '0')} is not 0x184d2204`;
    return fail('ERROR_frameType_unknown', 0, what, 0, null, 0);
  }
  if (!(await reader.ensure(7))) {
    return fail('ERROR_frameHeader_incomplete', 4, 'frame descriptor cut off', 0, null, 0);
  }
  const flg = reader.u8(4);
  const bd = reader.u8(5);
  if (flg >>> 6 !== 1) {
    return fail('ERROR_headerVersion_wrong', 4, `frame version ${flg >>> 6}, expected 1`, 0, null, 0);
  }
  if (flg & 0x02) return fail('ERROR_reservedFlag_set', 4, 'reserved bit 1 of FLG is set', 0, null, 0);
  if (bd & 0x80) return fail('ERROR_reservedFlag_set', 5, 'reserved bit 7 of BD is set', 0, null, 0);
  const sizeId = (bd >>> 4) & 7;
  const maxBlockSize = BLOCK_SIZES[sizeId];
  if (maxBlockSize === undefined) {
    return fail('ERROR_maxBlockSize_invalid', 5, `block maximum size id ${sizeId} (valid: 4..7)`, 0, null, 0);
  }
  if (bd & 0x0f) return fail('ERROR_reservedFlag_set', 5, 'reserved bits 0-3 of BD are set', 0, null, 0);
  const hasContentSize = (flg & 0x08) !== 0;
  const hasDictId = (flg & 0x01) !== 0;
  const headerSize = 4 + 2 + (hasContentSize ? 8 : 0) + (hasDictId ? 4 : 0) + 1;
  if (!(await reader.ensure(headerSize))) {
    return fail('ERROR_frameHeader_incomplete', 4, `frame descriptor needs ${headerSize} bytes, file has ${size}`, 0, null, 0);
  }
  let p = 6;
  let contentSize: number | null = null;
  if (hasContentSize) {
    contentSize = reader.u32(p) + reader.u32(p + 4) * 0x100000000;
    p += 8;
  }
  let dictionaryId: number | null = null;
  if (hasDictId) {
    dictionaryId = reader.u32(p);
    p += 4;
  }
  const { buf, at } = reader.view();
  const expected = (xxh32(buf, 0, at + 4, at + p) >>> 8) & 0xff;
  const stored = reader.u8(p);
  if (expected !== stored) {
    return fail(
      'ERROR_headerChecksum_invalid',
      p,
      `header checksum byte is 0x${stored.toString(16)}, descriptor hashes to 0x${expected.toString(16)}`,
      0,
      null,
      0,
    );
  }
  reader.skip(headerSize);
  return {
    blockIndependence: (flg & 0x20) !== 0,
    blockChecksum: (flg & 0x10) !== 0,
    contentChecksum: (flg & 0x04) !== 0,
    contentSize,
    dictionaryId,
    maxBlockSize,
    headerSize,
  };
}

/** Verify the LZ4 frame at the start of `source` by decoding it completely. */
export async function verifyLz4Frame(source: ByteSource, opts: Lz4VerifyOptions = {}): Promise<Lz4VerifyResult> {
  throwIfCancelled(opts.signal);
  const reader = new SequentialReader(source, 64);
  const header = await readDescriptor(reader, source.size);
  if ('ok' in header) return header;
  const d = header;
  const checksumSize = d.blockChecksum ? 4 : 0;
  // Room for a block-size field, the largest block and its checksum, plus read-ahead.
  reader.reserve(Math.min(d.maxBlockSize + 8 + MAX_READ, d.maxBlockSize * 2 + 8));
  // Linked blocks keep the last 64 KiB before the block being decoded.
  const out = new Uint8Array((d.blockIndependence ? 0 : WINDOW) + d.maxBlockSize);
  let outPos = 0;
  const content = d.contentChecksum ? new Xxh32() : null;
  let produced = 0;
  let blocks = 0;
  let nextProgress = PROGRESS_EVERY;

  for (;;) {
    throwIfCancelled(opts.signal);
    const blockAt = reader.position;
    if (!(await reader.ensure(4))) {
      return fail(
        'ERROR_srcSize_wrong',
        blockAt,
        `frame truncated: block ${blocks + 1} size field at byte ${blockAt} is missing (file ends at ${source.size})`,
        produced,
        d,
        blocks,
      );
    }
    const field = reader.u32(0);
    if (field === 0) {
      reader.skip(4);
      break; // EndMark
    }
    const uncompressed = (field & 0x80000000) !== 0;
    const blockSize = field & 0x7fffffff;
    if (blockSize > d.maxBlockSize) {
      return fail(
        'ERROR_maxBlockSize_invalid',
        blockAt,
        `block ${blocks + 1} at byte ${blockAt} claims ${blockSize} bytes, more than the frame's maximum ${d.maxBlockSize}`,
        produced,
        d,
        blocks,
      );
    }
    if (!(await reader.ensure(4 + blockSize + checksumSize))) {
      return fail(
        'ERROR_srcSize_wrong',
        blockAt,
        `frame truncated: block ${blocks + 1} at byte ${blockAt} needs ${4 + blockSize + checksumSize} bytes, ` + `only ${reader.available()} remain`,
        produced,
        d,
        blocks,
      );
    }
    const { buf, at } = reader.view();
    const dataStart = at + 4;
    const dataEnd = dataStart + blockSize;
    if (d.blockChecksum) {
      const stored = reader.u32(4 + blockSize);
      const actual = xxh32(buf, 0, dataStart, dataEnd);
      if (stored !== actual) {
        return fail(
          'ERROR_blockChecksum_invalid',
          blockAt,
          `block ${blocks + 1} at byte ${blockAt}: checksum 0x${stored.toString(16)} stored, data hashes to 0x${actual.toString(16)}`,
          produced,
          d,
          blocks,
        );
      }
    }
    // Slide the history window so the block always fits after it.
    if (d.blockIndependence) {
      outPos = 0;
    } else if (outPos > WINDOW) {
      out.copyWithin(0, outPos - WINDOW, outPos);
      outPos = WINDOW;
    }
    const blockStart = outPos;
    if (uncompressed) {
      out.set(buf.subarray(dataStart, dataEnd), outPos);
      outPos += blockSize;
    } else {
      const r = decodeBlock(buf, dataStart, dataEnd, out, outPos, blockStart + d.maxBlockSize, 0);
      if (typeof r !== 'number') {
        return fail(
          'ERROR_decompressionFailed',
          blockAt + 4 + r.at,
          `block ${blocks + 1} at byte ${blockAt}: ${r.reason} (at byte ${blockAt + 4 + r.at})`,
          produced,
          d,
          blocks,
        );
      }
      outPos = r;
    }
    const n = outPos - blockStart;
    if (content) content.update(out, blockStart, outPos);
    if (opts.onData && n > 0) await opts.onData(out.subarray(blockStart, outPos));
    produced += n;
    blocks++;
    reader.skip(4 + blockSize + checksumSize);
    if (opts.onProgress && reader.position >= nextProgress) {
      nextProgress = reader.position + PROGRESS_EVERY;
      opts.onProgress({ phase: 'lz4', bytesDone: reader.position, bytesTotal: source.size, currentFile: source.name });
    }
  }

  const endMarkAt = reader.position - 4;
  if (d.contentSize !== null && d.contentSize !== 0 && d.contentSize !== produced) {
    return fail('ERROR_frameSize_wrong', endMarkAt, `header declares ${d.contentSize} bytes of content, the blocks decode to ${produced}`, produced, d, blocks);
  }
  if (content) {
    const at = reader.position;
    if (!(await reader.ensure(4))) {
      return fail('ERROR_srcSize_wrong', at, `frame truncated: content checksum at byte ${at} is missing (file ends at ${source.size})`, produced, d, blocks);
    }
    const stored = reader.u32(0);
    const actual = content.digest();
    if (stored !== actual) {
      return fail(
        'ERROR_contentChecksum_invalid',
        at,
        `content checksum 0x${stored.toString(16)} stored, the ${produced} decompressed bytes hash to 0x${actual.toString(16)}`,
        produced,
        d,
        blocks,
      );
    }
    reader.skip(4);
  }
  const frameSize = reader.position;
  if (opts.onProgress) {
    opts.onProgress({ phase: 'lz4', bytesDone: source.size, bytesTotal: source.size, currentFile: source.name });
  }
  return {
    ok: true,
    error: null,
    errorOffset: null,
    contentSize: produced,
    detail: null,
    descriptor: d,
    blocks,
    frameSize,
    trailingBytes: source.size - frameSize,
  };
}
