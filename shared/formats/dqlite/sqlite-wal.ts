/**
 * A SQLite write-ahead log (the WAL dqlite keeps beside each database and puts
 * into its snapshots before v1.17), read the way SQLite recovers one
 * (`sqlite:src/wal.c` walIndexRecover): every integer big-endian.
 *
 *   header  32 bytes: u32 magic (0x377f0682: checksum words little-endian,
 *           0x377f0683: big-endian), u32 version 3007000, u32 page size,
 *           u32 checkpoint sequence, u32 salt-1, u32 salt-2, u32 checksum-1,
 *           u32 checksum-2 (over the first 24 bytes)
 *   frame   24 bytes + one page: u32 page number, u32 database size in pages
 *           after a commit (0 in other frames), u32 salt-1, u32 salt-2,
 *           u32 checksum-1, u32 checksum-2 (running: the previous frame's
 *           checksum, then this frame's first 8 bytes and its page)
 *
 * The log ends at the first frame whose salts or checksum do not match; only
 * whole transactions (up to a commit frame) count, as in SQLite. Bytes come in
 * chunks of any size (a streaming reader): one frame at most is held while it
 * is incomplete, and a transaction's frames until its commit, bounded.
 */

export const WAL_HEADER_SIZE = 32;
export const WAL_FRAME_HEADER_SIZE = 24;
const WAL_MAGIC_LE = 0x377f0682;
const WAL_MAGIC_BE = 0x377f0683;
const WAL_VERSION = 3007000;

/** One committed transaction: its pages in log order (a page written twice: the later image wins). */
export interface WalCommit {
  pages: { pgno: number; data: Uint8Array }[];
  /** The database size in pages after the commit. */
  dbPages: number;
}

export interface WalSummary {
  /** False when the header is not a valid WAL header (SQLite then ignores the file). */
  headerOk: boolean;
  pageSize: number | null;
  frames: number;
  commits: number;
  /** Frames after the last commit (SQLite drops them). */
  uncommittedFrames: number;
  /** Why the log ends before its last byte, or null when it ends cleanly. */
  stop: { offset: number; why: string } | null;
}

function be32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** A SQLite page size: a power of two from 512 to 65536. */
export function isSqlitePageSize(n: number): boolean {
  return n >= 512 && n <= 65536 && (n & (n - 1)) === 0;
}

/** The page size a WAL header declares (its first 12 bytes at least), or null when it is not a SQLite page size. */
export function walHeaderPageSize(head: Uint8Array): number | null {
  if (head.length < 12) return null;
  const size = be32(head, 8);
  return isSqlitePageSize(size) ? size : null;
}

/** SQLite's walChecksumBytes over b[from, to) (a multiple of 8), continuing from s. */
export function walChecksum(b: Uint8Array, from: number, to: number, bigEndian: boolean, s: [number, number]): [number, number] {
  let s1 = s[0];
  let s2 = s[1];
  for (let i = from; i < to; i += 8) {
    const x0 = bigEndian ? be32(b, i) : (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
    const x1 = bigEndian ? be32(b, i + 4) : (b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24)) >>> 0;
    s1 = (s1 + x0 + s2) >>> 0;
    s2 = (s2 + x1 + s1) >>> 0;
  }
  return [s1, s2];
}

export class SqliteWalReader {
  private readonly pending: { pgno: number; data: Uint8Array }[] = [];
  private pendingBytes = 0;
  /** Bytes of the header or of the frame being assembled. */
  private part: Uint8Array = new Uint8Array(WAL_HEADER_SIZE);
  private partFill = 0;
  private offset = 0;
  private bigEndian = false;
  private salt1 = 0;
  private salt2 = 0;
  private sum: [number, number] = [0, 0];
  private ended = false;
  readonly summary: WalSummary = { headerOk: false, pageSize: null, frames: 0, commits: 0, uncommittedFrames: 0, stop: null };

  /**
   * @param onCommit each whole transaction, in order
   * @param maxTransactionBytes a transaction holding more page bytes than this ends the log (said in `stop`)
   */
  constructor(
    private readonly onCommit: (c: WalCommit) => void | Promise<void>,
    private readonly maxTransactionBytes = 256 * 1024 * 1024,
  ) {}

  /** The next bytes of the WAL. */
  async push(chunk: Uint8Array): Promise<void> {
    let at = 0;
    while (at < chunk.length && !this.ended) {
      const want = this.part.length - this.partFill;
      const n = Math.min(want, chunk.length - at);
      this.part.set(chunk.subarray(at, at + n), this.partFill);
      this.partFill += n;
      at += n;
      if (this.partFill < this.part.length) break;
      if (this.summary.pageSize === null) this.header();
      else await this.frame();
      this.offset += this.part.length;
      this.partFill = 0;
      if (this.summary.pageSize !== null && this.part.length !== WAL_FRAME_HEADER_SIZE + this.summary.pageSize)
        this.part = new Uint8Array(WAL_FRAME_HEADER_SIZE + this.summary.pageSize);
    }
  }

  /** No more bytes: a cut frame or an unfinished transaction is said in the summary. */
  finish(): WalSummary {
    if (!this.ended && this.partFill > 0 && this.summary.stop === null) {
      this.summary.stop = {
        offset: this.offset,
        why: `the WAL ends inside a ${this.summary.pageSize === null ? 'header' : 'frame'} (${this.partFill} bytes of ${this.part.length})`,
      };
    }
    this.summary.uncommittedFrames = this.pending.length;
    this.pending.length = 0;
    this.ended = true;
    return this.summary;
  }

  private end(why: string): void {
    this.summary.stop = { offset: this.offset, why };
    this.ended = true;
  }

  private header(): void {
    const h = this.part;
    const magic = be32(h, 0);
    if (magic !== WAL_MAGIC_LE && magic !== WAL_MAGIC_BE) return this.end(`magic 0x${magic.toString(16)} is not a SQLite WAL's`);
    if (be32(h, 4) !== WAL_VERSION) return this.end(`WAL format version ${be32(h, 4)} (SQLite writes ${WAL_VERSION})`);
    const pageSize = be32(h, 8);
    if (!isSqlitePageSize(pageSize)) return this.end(`page size ${pageSize} is not a SQLite page size`);
    this.bigEndian = magic === WAL_MAGIC_BE;
    const sum = walChecksum(h, 0, 24, this.bigEndian, [0, 0]);
    if (sum[0] !== be32(h, 24) || sum[1] !== be32(h, 28)) return this.end('the WAL header checksum does not match');
    this.salt1 = be32(h, 16);
    this.salt2 = be32(h, 20);
    this.sum = sum;
    this.summary.headerOk = true;
    this.summary.pageSize = pageSize;
  }

  private async frame(): Promise<void> {
    const f = this.part;
    if (be32(f, 8) !== this.salt1 || be32(f, 12) !== this.salt2) return this.end('a frame from an older log generation (its salts differ from the header)');
    let sum = walChecksum(f, 0, 8, this.bigEndian, this.sum);
    sum = walChecksum(f, WAL_FRAME_HEADER_SIZE, f.length, this.bigEndian, sum);
    if (sum[0] !== be32(f, 16) || sum[1] !== be32(f, 20)) return this.end('frame checksum does not match');
    const pgno = be32(f, 0);
    if (pgno === 0) return this.end('frame for page 0');
    this.sum = sum;
    this.summary.frames++;
    const pageSize = this.summary.pageSize!;
    if (this.pendingBytes + pageSize > this.maxTransactionBytes) {
      this.pending.length = 0;
      return this.end(`a transaction of more than ${this.maxTransactionBytes} bytes of pages (not read further)`);
    }
    this.pending.push({ pgno, data: f.slice(WAL_FRAME_HEADER_SIZE) });
    this.pendingBytes += pageSize;
    const dbPages = be32(f, 4);
    if (dbPages === 0) return;
    const pages = this.pending.splice(0);
    this.pendingBytes = 0;
    this.summary.commits++;
    await this.onCommit({ pages, dbPages });
  }
}
