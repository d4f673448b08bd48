/**
 * Opening a bbolt file and walking one meta's page tree the way bbolt v1.3.6
 * (what etcd 3.4.23 links) does at start-up, without trusting a byte of it.
 *
 * etcd on Linux never syncs the freelist, so every read-write open rebuilds it
 * with `db.freepages()`: `tx.checkBucket` over the root bucket, which walks a
 * bucket's pages depth-first (`forEachPage`, pre-order, following branch
 * elements), then recurses into each non-inline sub-bucket in key order. The
 * first error it sends is what etcd panics with: `freepages: failed to get all
 * reachable pages (<error>)`. The errors, with bbolt's texts:
 * - `page <headerId>: out of bounds: <hwm>` when the header id > high-water mark;
 * - `page <id>: multiple references` for each of the page's ids (header id +
 *   0..overflow) already seen in this walk (freepages starts with none seen);
 * - `page <headerId>: invalid type: <typ>` when neither branch nor leaf flag is set.
 * The id is always the one in the page header: a pointer to page 0 reads the
 * meta page (`page 0: invalid type: meta`), a zeroed page says `page 0: invalid
 * type: unknown<00>`.
 *
 * bbolt reads pages through its mmap with no bounds checks: a child page past
 * the end of the file faults (SIGBUS inside etcd's 10 GiB mapping, `fatal
 * error: fault`), elements past their page read neighbouring bytes. This walk
 * reports those as its own problems, never reads out of bounds, never visits
 * a page position twice (bbolt would loop forever on a cycle), and keeps its
 * per-page state in typed arrays so a 2 GiB db (500k pages) stays small.
 */
import { canReadAhead, MAX_READ, type ByteSource, type ChunkReadAhead, type ReadAheadSource } from '../../bytes/byte-source';
import type { BboltProblem } from '../../contract/etcd';
import {
  bucketNameOf,
  BBOLT_MAX_KEY_SIZE,
  childPageOf,
  compareBytes,
  decodeBranchElements,
  decodeLeafElements,
  ELEMENT_SIZE,
  elementSliceOverrun,
  elementsThatFit,
  PlainLeaf,
  sliceOverrunPanic,
  type BranchElement,
  type ElementSliceOverrun,
  type LeafElement,
} from './bbolt-element';
import { decodeFreelist } from './bbolt-freelist';
import { ownProblem, type OwnProblemText } from './bbolt-text';

import { chooseMeta, decodeMeta, DEFAULT_PAGE_SIZE, ERR_INVALID, settledPageSize } from './bbolt-meta';
import { BUCKET_LEAF_FLAG, decodePageHeader, isBranch, LEAF_PAGE_FLAG, PAGE_HEADER_SIZE, pageTypeName, toHex, type PageHeader } from './bbolt-page';

/** A problem's text: bbolt's own wording (a string), or ours from a template (translatable). */
type ProblemText = string | OwnProblemText;

/** etcd's `snapshot save` output carries a SHA-256 iff size % 512 == 32 (etcdutl restore's rule). */
/** Header ids above this are clamped in `PageHeader.id`; `idBig` has them exactly. */
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
export const SHA256_TRAILER = 32;
export function hasHashTrailer(size: number): boolean {
  return size % 512 === SHA256_TRAILER;
}

/** Problems kept in a walk's list (all are counted). */
export const MAX_PROBLEMS = 1000;
/** A page span larger than this is not read whole (bbolt's own values stay far below). */
export const MAX_SPAN_BYTES = 64 * 1024 * 1024;
/** Buckets nested deeper than this are not walked (etcd nests one level). */
export const MAX_BUCKET_DEPTH = 32;

const CHUNK_PAGES = 128;
/** The OS page size of the machines etcd runs on (amd64/arm64 Linux). */
const OS_PAGE_SIZE = 4096;
/** Largest out-of-page element read to model what bbolt hands etcd. */
const OUT_OF_PAGE_READ_LIMIT = 16 * 1024 * 1024;
/**
 * What a walk reads in all of elements that point outside their page. Each is bounded (OUT_OF_PAGE_READ_LIMIT) but
 * their number only by the pages (up to 65,535 elements a page), so a damaged file could otherwise make a walk copy
 * far more than its own size. Past it such elements are still reported; only the bytes bbolt would hand out are not
 * read. A guard, not a measured fix: on the fuzzed input that prompted it the walk's time went elsewhere.
 */
const OUT_OF_PAGE_READ_BUDGET = 64 * 1024 * 1024;
/**
 * What a walk reads of values that run past the end of the file (what etcd's mvcc restore would unmarshal up
 * to the fault; it reads the `key` bucket alone): at most this much of each (a real value is at most ~1.5 MB),
 * and in all a quarter of the file's size or this budget, whichever is less (a damaged page can declare
 * thousands of such elements, and the restore stops at the first that fails).
 */
const CUT_VALUE_READ_LIMIT = 2 * 1024 * 1024;
const CUT_VALUE_READ_BUDGET = 64 * 1024 * 1024;
const CACHE_CHUNKS = 16;
/** A span over fewer chunks than this is pieced together from them (more would push much of the cache out). */
const SPAN_FROM_CHUNKS = 4;

/** A source that can fill a caller's buffer (the local file source can: no new buffer per chunk). */
interface ReadIntoSource extends ByteSource {
  readInto(offset: number, target: Uint8Array): Promise<number>;
  /** `readInto` that blocks this thread (a local file): no hand-off to I/O threads, no promise per chunk. */
  readIntoSync?: (offset: number, target: Uint8Array) => number;
}

/**
 * With blocking reads, every this-many-th chunk is still read with `readInto`,
 * so the thread's event loop runs (a cancel message is seen) at least every
 * 8 MiB of a 4 KiB-page db.
 */
const ASYNC_READ_EVERY = 16;

/**
 * A db at least this big is read ahead by another thread when the source can (a local file): below it, starting
 * the thread (~30 ms) costs more than the reads it saves.
 */
export const READ_AHEAD_MIN_BYTES = 64 * 1024 * 1024;

function canReadInto(src: ByteSource): src is ReadIntoSource {
  return typeof (src as Partial<ReadIntoSource>).readInto === 'function';
}

/** A chunk read: its bytes (zero-filled past the end of the file) and how many came from the source. */
interface Loaded {
  bytes: Uint8Array;
  got: number;
}

/**
 * Reads pages through a ByteSource in 128-page chunks (512 KiB at 4 KiB pages:
 * 1,500 reads for a 779 MB db, each one a hand-off to the I/O threads) with a
 * small LRU cache.
 *
 * With `recycle`, a chunk evicted from the cache lends its buffer to the next
 * chunk read (through the source's `readInto` when it has one): that db is
 * then read into ~20 buffers instead of 1,500 fresh ones, whose page faults
 * and ArrayBuffer frees cost about as much CPU as the walk itself. The bytes a
 * `span` returns are then valid only until the next chunks are read: the walk
 * copies what it keeps across reads, and its `onLeaf` consumers must not keep
 * element bytes past the callback (inspectBbolt's schema collector copies what
 * it keeps; salvage and the key browser keep views, so they read without it).
 */
export class PageReader {
  private cache = new Map<number, Uint8Array>();
  /** Chunk buffers evicted from the cache, free for the next chunk read (recycle mode). */
  private spare: Uint8Array[] = [];
  /** Recycling: every chunk is read into a buffer of ours (the source can `readInto`). */
  private readonly pooled: boolean;
  bytesRead = 0;
  /** Called after every chunk read from the source (progress reporting). */
  onRead: ((bytesRead: number) => void) | null = null;
  constructor(
    readonly src: ByteSource,
    /** Bytes of the db (without a snapshot.db trailer). */
    readonly dbSize: number,
    readonly pageSize: number,
    /** Reuse chunk buffers (see the class comment). */
    recycle = false,
    /** Smallest db read ahead by another thread (tests set it lower). */
    readAheadMinBytes = READ_AHEAD_MIN_BYTES,
    /** Asked at each chunk read until it says yes: whether the read-ahead thread may start now (default: at once). */
    private readonly mayReadAhead: (() => boolean) | null = null,
  ) {
    this.pooled = recycle && canReadInto(src);
    const blocking = this.pooled && canReadInto(src) ? src.readIntoSync : undefined;
    this.readBlocking = typeof blocking === 'function' ? blocking.bind(src) : null;
    this.readAheadFrom = this.readBlocking !== null && canReadAhead(src) && dbSize >= readAheadMinBytes ? src : null;
  }

  /**
   * Until the first chunk read: the source to start a read-ahead from (recycling reads of a big enough db from a
   * source that can read ahead; null otherwise). Another thread then reads the chunks ahead of the walk's stream
   * of chunks. A walk's chunks go mostly upwards: bbolt writes a commit's pages together, and etcd's keys
   * (revisions) grow, so the key bucket's leaves lie mostly in file order, their branches among them (the bench
   * db's walk asks for 192, 191, 193, 194, 197, 195, 196, 199, ...).
   */
  private readAheadFrom: ReadAheadSource | null;
  private readAhead: ChunkReadAhead | null = null;
  /** Chunks in the cache that are read-ahead slots (released, not lent, when evicted). */
  private readonly slotOfChunk = new Map<number, number>();

  /** Done reading: a read-ahead thread stops (the bytes of chunks taken stay readable). */
  close(): void {
    this.readAhead?.stop();
  }

  /**
   * Chunks are read with `readIntoSync` (recycling, with a source that has it):
   * 1,500 reads of 512 KiB into a few reused buffers then cost about half the
   * CPU of the same reads through the I/O threads (112-131 vs 188-244 ms for
   * 742 MB from the page cache), and there is no read-ahead to hide.
   */
  private readonly readBlocking: ((offset: number, target: Uint8Array) => number) | null;
  private chunkReads = 0;

  /** Whether spans may be overwritten by later reads (recycling with a source that can `readInto`). */
  get transient(): boolean {
    return this.pooled;
  }

  /**
   * bbolt reads through an mmap: the bytes past the end of the file up to the
   * end of the last (partly backed) OS page read as zeros; only whole OS pages
   * past the end fault. So a cut last page is still a page (zero-filled).
   */
  get readableEnd(): number {
    return Math.ceil(this.dbSize / OS_PAGE_SIZE) * OS_PAGE_SIZE;
  }

  get filePages(): number {
    return Math.ceil(this.readableEnd / this.pageSize);
  }

  /**
   * The key bbolt compares for an element whose key lies outside its page span (`elementAt`: the element's file
   * offset): the bytes it points at, when they are inside the file and no longer than bbolt's MaxKeySize (a longer
   * size is garbage); null otherwise (the walk reports such a key, or the fault reading it).
   */
  keyOutsidePage(elementAt: number, e: { keyPos: number; keySize: number }): Promise<Uint8Array> | null {
    const start = elementAt + e.keyPos;
    if (e.keySize > BBOLT_MAX_KEY_SIZE || start + e.keySize > this.readableEnd) return null;
    return this.readPadded(start, e.keySize);
  }

  /** `length` bytes from `offset`, zero-filled past the end of the file up to `readableEnd`. */
  async readPadded(offset: number, length: number): Promise<Uint8Array> {
    const { bytes, got } = await this.fetchPadded(offset, length);
    this.bytesRead += got;
    return bytes;
  }

  /** readPadded without counting: `got` is how many bytes came from the source. */
  private async fetchPadded(offset: number, length: number): Promise<Loaded> {
    const want = Math.max(0, Math.min(length, this.readableEnd - offset));
    const have = Math.max(0, Math.min(want, this.dbSize - offset));
    const bytes = have > 0 ? await readFully(this.src, offset, have) : new Uint8Array(0);
    if (bytes.length >= want) return { bytes, got: bytes.length };
    const out = new Uint8Array(want);
    out.set(bytes);
    return { bytes: out, got: bytes.length };
  }

  /** The chunk last put at the end of the cache's recency order (-1: none), and its bytes. */
  private newest = -1;
  private newestBytes: Uint8Array | null = null;

  private async chunk(n: number): Promise<Uint8Array> {
    const hit = this.cache.get(n);
    if (hit) {
      this.cache.delete(n);
      this.cache.set(n, hit);
      this.newest = n;
      this.newestBytes = hit;
      return hit;
    }
    const pending = this.ahead.get(n) ?? this.load(n);
    this.ahead.delete(n);
    // Read the next chunk while this one is being walked (bbolt allocates mostly upwards).
    if (!this.readBlocking && !this.cache.has(n + 1) && !this.ahead.has(n + 1) && (n + 1) * CHUNK_PAGES < this.filePages) {
      const next = this.load(n + 1);
      next.catch(() => {});
      this.ahead.set(n + 1, next);
      if (this.ahead.size > 2) {
        // Dropped unread: its buffer (still being filled) is left to the GC, never lent again.
        const [k] = this.ahead.keys();
        this.ahead.delete(k!);
      }
    }
    // Counted when used, not when read: a read-ahead dropped or still running at the end of the walk
    // does not count, so the figure does not depend on timing.
    const { bytes, got } = await pending;
    this.bytesRead += got;
    this.onRead?.(this.bytesRead);
    this.cache.set(n, bytes);
    this.newest = n;
    this.newestBytes = bytes;
    if (this.cache.size > CACHE_CHUNKS) {
      const oldest: number = this.cache.keys().next().value!;
      const evicted = this.cache.get(oldest)!;
      this.cache.delete(oldest);
      const slot = this.slotOfChunk.get(oldest);
      if (slot !== undefined) {
        this.slotOfChunk.delete(oldest);
        this.readAhead!.release(slot);
      } else if (this.pooled) this.spare.push(new Uint8Array(evicted.buffer, 0, this.chunkBytes));
    }
    return bytes;
  }

  private ahead = new Map<number, Promise<Loaded>>();

  private get chunkBytes(): number {
    return CHUNK_PAGES * this.pageSize;
  }

  private async load(n: number): Promise<Loaded> {
    const offset = n * this.chunkBytes;
    if (this.pooled && canReadInto(this.src)) {
      const want = Math.max(0, Math.min(this.chunkBytes, this.readableEnd - offset));
      const have = Math.max(0, Math.min(want, this.dbSize - offset));
      if (this.readAheadFrom && (this.mayReadAhead === null || this.mayReadAhead())) {
        // Asked once: a source that cannot read ahead here (null) is not asked again. Held back, the thread starts
        // part way through the walk and follows its stream from its first two takes (read-ahead-thread.ts).
        this.readAhead = this.readAheadFrom.readAhead({ chunkBytes: this.chunkBytes, end: this.dbSize, paddedEnd: this.readableEnd });
        this.readAheadFrom = null;
      }
      if (this.readAhead) {
        if (++this.chunkReads % ASYNC_READ_EVERY === 0) await this.readAhead.breathe();
        const ahead = this.readAhead.take(n);
        if (ahead) {
          this.slotOfChunk.set(n, ahead.slot);
          return { bytes: ahead.bytes, got: ahead.got };
        }
      }
      const buf = this.spare.pop() ?? new Uint8Array(this.chunkBytes);
      const target = buf.subarray(0, have);
      const blocking = this.readBlocking !== null && (this.readAhead !== null || ++this.chunkReads % ASYNC_READ_EVERY !== 0) ? this.readBlocking : null;
      const got = have <= 0 ? 0 : blocking ? blocking(offset, target) : await this.src.readInto(offset, target);
      // Past the end of the file (or a file that shrank under us) reads as zeros, as in readPadded.
      if (got < want) buf.fill(0, got, want);
      return { bytes: buf.subarray(0, want), got };
    }
    return this.fetchPadded(offset, this.chunkBytes);
  }

  /**
   * `span(pos, pages)` when its chunk is already cached, without a promise
   * (the walk asks for ~200k pages of a 1 GiB db, most of them cached); else null.
   */
  cachedSpan(pos: number, pages = 1): Uint8Array | null {
    if (pos < 0 || pos >= this.filePages || pages <= 0) return null;
    const want = Math.min(pages, this.filePages - pos, Math.floor(MAX_SPAN_BYTES / this.pageSize));
    const c0 = Math.floor(pos / CHUNK_PAGES);
    if (Math.floor((pos + want - 1) / CHUNK_PAGES) !== c0) return null;
    if (c0 === this.newest) {
      // Already the most recent chunk (most pages follow their neighbour): no recency update to make.
      const chunk = this.newestBytes!;
      const at = (pos - c0 * CHUNK_PAGES) * this.pageSize;
      return chunk.subarray(at, Math.min(chunk.length, at + want * this.pageSize));
    }
    const chunk = this.cache.get(c0);
    if (!chunk) return null;
    // The same recency update as chunk(): the LRU order (and so what is read again) does not change.
    this.cache.delete(c0);
    this.cache.set(c0, chunk);
    this.newest = c0;
    this.newestBytes = chunk;
    const at = (pos - c0 * CHUNK_PAGES) * this.pageSize;
    return chunk.subarray(at, Math.min(chunk.length, at + want * this.pageSize));
  }

  /** Bytes of `pages` pages from position `pos` (fewer at the end of the db; empty past it). */
  async span(pos: number, pages = 1): Promise<Uint8Array> {
    if (pos < 0 || pos >= this.filePages || pages <= 0) return new Uint8Array(0);
    const want = Math.min(pages, this.filePages - pos, Math.floor(MAX_SPAN_BYTES / this.pageSize));
    const c0 = Math.floor(pos / CHUNK_PAGES);
    const c1 = Math.floor((pos + want - 1) / CHUNK_PAGES);
    if (c0 === c1) {
      const chunk = await this.chunk(c0);
      const at = (pos - c0 * CHUNK_PAGES) * this.pageSize;
      return chunk.subarray(at, Math.min(chunk.length, at + want * this.pageSize));
    }
    if (c1 - c0 < SPAN_FROM_CHUNKS) {
      // A leaf whose overflow crosses a chunk boundary (one in a few hundred): pieced together from the chunks,
      // which the walk reads anyway (a read of its own went through the I/O threads: 34 ms of a 1 GiB db's walk).
      const start = pos * this.pageSize;
      const out = new Uint8Array(Math.min(want * this.pageSize, this.readableEnd - start));
      for (let c = c0, done = 0; c <= c1 && done < out.length; c++) {
        const chunk = await this.chunk(c);
        const at = c === c0 ? start - c0 * this.chunkBytes : 0;
        const piece = chunk.subarray(at, Math.min(chunk.length, at + out.length - done));
        out.set(piece, done);
        done += piece.length;
      }
      return out;
    }
    return this.readPadded(pos * this.pageSize, want * this.pageSize);
  }
}

/** A plain Uint8Array view (a Node Buffer's subarray costs several times more, and the walk slices per element). */
function plain(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

async function readFully(src: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  if (length <= MAX_READ) return plain(await src.read(offset, length));
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const part = await src.read(offset + done, Math.min(MAX_READ, length - done));
    if (part.length === 0) break;
    out.set(part, done);
    done += part.length;
  }
  return done === length ? out : out.subarray(0, done);
}

export type OpenedMeta = ReturnType<typeof decodeMeta>;

export interface OpenedBbolt {
  reader: PageReader;
  /** Bytes of the source that are the db (a snapshot.db trailer excluded). */
  dbSize: number;
  pageSize: number;
  metas: OpenedMeta[];
  chosenMeta: 0 | 1 | null;
  /** bbolt.Open's error (v1.3.6 texts), null when it opens. */
  openError: string | null;
  /** A zero-length file: bbolt would initialise a fresh, empty db in it. */
  empty: boolean;
}

/**
 * Whether meta `m`'s tree can be brought back by copying its page over the other meta's (bbolt's `surgery
 * revert-meta-page`, what repair does): it validates and names the page size the file is read with. bbolt takes
 * the page size from meta 0 at open, so a meta 1 that names another size (its checksum still good) would make a
 * copy of it at page 0 unreadable ("page size 25 in meta 0"), though its tree, walked at the file's page size, is
 * intact.
 */
export function revertibleMeta(db: OpenedBbolt, m: 0 | 1): boolean {
  const meta = db.metas[m];
  return meta?.ok === true && meta.pageSize === db.pageSize;
}

/**
 * bbolt v1.3.6 `Open` over a read-only source: a zero-length file is
 * initialised (empty: true); a file shorter than 4096 bytes is `invalid
 * database`; the page size comes from meta 0 when it validates, else the OS
 * default; fewer than two pages is `file size too small`; both metas invalid
 * is meta 0's error. Never throws on content (I/O errors propagate).
 * `recycleReads`: the reader reuses its buffers, and reads a db of `readAheadMinBytes` (default 64 MiB) or more
 * ahead on another thread when the source can (PageReader's comment says
 * what an `onLeaf` consumer may then keep), from the first chunk read at
 * which `mayReadAhead` (if given) says yes.
 */
export async function openBbolt(
  src: ByteSource,
  opts: { snapshotDb?: boolean; recycleReads?: boolean; readAheadMinBytes?: number; mayReadAhead?: () => boolean } = {},
): Promise<OpenedBbolt> {
  const trailer = opts.snapshotDb ?? hasHashTrailer(src.size);
  const dbSize = trailer && src.size >= SHA256_TRAILER ? src.size - SHA256_TRAILER : src.size;
  const base = { dbSize, metas: [] as OpenedMeta[], chosenMeta: null, empty: false };
  if (dbSize === 0) return { ...base, reader: new PageReader(src, 0, DEFAULT_PAGE_SIZE), pageSize: DEFAULT_PAGE_SIZE, openError: null, empty: true };
  if (dbSize < DEFAULT_PAGE_SIZE) {
    const head = await src.read(0, dbSize);
    const metas = [decodeMeta(head, 0)];
    return { ...base, metas, reader: new PageReader(src, dbSize, DEFAULT_PAGE_SIZE), pageSize: DEFAULT_PAGE_SIZE, openError: ERR_INVALID };
  }
  const head = await src.read(0, DEFAULT_PAGE_SIZE);
  const m0 = decodeMeta(head, 0);
  let pageSize = DEFAULT_PAGE_SIZE;
  if (m0.ok) pageSize = m0.pageSize;
  if (pageSize < 512 || pageSize > 1 << 16 || (pageSize & (pageSize - 1)) !== 0) {
    return {
      ...base,
      metas: [m0],
      reader: new PageReader(src, dbSize, DEFAULT_PAGE_SIZE),
      pageSize: DEFAULT_PAGE_SIZE,
      openError: `page size ${pageSize} in meta 0 is not a usable page size`,
    };
  }
  const reader = new PageReader(src, dbSize, pageSize, opts.recycleReads === true, opts.readAheadMinBytes, opts.mayReadAhead ?? null);
  const page0 = pageSize === DEFAULT_PAGE_SIZE ? head : await reader.span(0);
  const meta0 = decodeMeta(page0, 0);
  const meta1 = decodeMeta(await reader.span(1), 1);
  const metas = [meta0, meta1];
  if (dbSize < pageSize * 2) return { ...base, metas, reader, pageSize, openError: 'file size too small' };
  if (!meta0.ok && !meta1.ok) return { ...base, metas, reader, pageSize, openError: meta0.error };
  return { ...base, metas, reader, pageSize, chosenMeta: chooseMeta(metas), openError: null };
}

/**
 * A valid meta whose root is a page of the file: bbolt has a tree to walk
 * (whatever the walk then finds). False when both metas are invalid, or every
 * valid meta's root lies past the end (a db cut short: bbolt faults at once).
 */
export function metaLeadsToTree(db: OpenedBbolt): boolean {
  return db.chosenMeta !== null && db.metas.some((m) => m.ok && m.rootPage >= 2 && m.rootPage < db.reader.filePages);
}

/**
 * A db no meta leads to a tree of (`metaLeadsToTree`: both metas invalid, the
 * file too small for bbolt, meta 0's page size unusable, every root past the
 * end), read page by page instead: a reader with the page size salvage settles
 * on (`settledPageSize`). Null when a meta leads to a tree (its walk says what
 * each page is) or there are no pages.
 */
export async function headerScanReader(src: ByteSource, db: OpenedBbolt): Promise<PageReader | null> {
  if (metaLeadsToTree(db) || db.empty || db.dbSize === 0) return null;
  const pageSize = settledPageSize(await src.read(0, Math.min(db.dbSize, DEFAULT_PAGE_SIZE)));
  const reader = pageSize === db.reader.pageSize ? db.reader : new PageReader(src, db.dbSize, pageSize);
  return reader.filePages > 0 ? reader : null;
}

/**
 * Leaf `pos` read without a tree: accepted when its header says leaf at its
 * own position, it has elements, its overflow stays inside the file, and every
 * element fits and is in key order (what salvage calls an orphaned leaf).
 */
export async function readLoneLeaf(reader: PageReader, pos: number): Promise<{ elements: LeafElement[]; overflow: number } | null> {
  const n = reader.filePages;
  if (pos < 2 || pos >= n) return null;
  const first = await reader.span(pos);
  const h = decodePageHeader(first);
  if (!h || h.flags !== LEAF_PAGE_FLAG || !h.idExact || h.id !== pos || h.count === 0) return null;
  if (h.overflow >= n - pos) return null;
  const span = h.overflow === 0 ? first : await reader.span(pos, h.overflow + 1);
  if (elementsThatFit(h.count, span.length) < h.count) return null;
  const elements = decodeLeafElements(span, h.count);
  if (elements.some((e) => e.problem) || elements.some((e, i) => i > 0 && compareBytes(e.key, elements[i - 1]!.key) <= 0)) return null;
  return { elements, overflow: h.overflow };
}

/** Page codes of a walk's per-position state. */
export const Reach = { None: 0, Branch: 1, Leaf: 2, Overflow: 3, Damaged: 4, Freelist: 5, Meta: 6 } as const;

/** Go's bounds panic when bbolt opens a sub-bucket whose value is empty (`&value[0]` in openBucket). */
export const EMPTY_BUCKET_VALUE_PANIC = 'runtime error: index out of range [0] with length 0';

export type ProblemKind =
  /** An error bbolt's checkBucket itself sends (the freepages panic is the first of these). */
  | 'bbolt'
  /** Where bbolt would read outside the file: etcd dies with `fatal error: fault`. */
  | 'fault'
  /** Where bbolt would slice an element past maxAllocSize: Go's bounds check panics in etcd's own goroutine. */
  | 'panic'
  /** Found by this walk only (element bounds, key order, header id vs position): bbolt reads on. */
  | 'extra';

export interface WalkProblem extends BboltProblem {
  kind: ProblemKind;
}

export interface LeafVisit {
  /** Bucket path from the root: [] for the root bucket, ['key'] for etcd's key bucket. */
  bucket: readonly string[];
  /** Page position holding the elements (the parent leaf for an inline bucket). */
  page: number;
  inline: boolean;
  elements: LeafElement[];
}

export interface WalkOptions {
  /** Called for every leaf (and inline bucket page) the walk reaches, in bbolt's order. */
  onLeaf?: (leaf: LeafVisit) => void | Promise<void>;
  /**
   * Leaves of the top-level bucket `bucket` that read in place (bbolt-element.ts `PlainLeaf.read`: every element
   * inside the span, none a sub-bucket; and keys in order within their parent's bounds: nothing in them for the
   * walk to report) go to this `onLeaf` as their page, span and element columns instead of to the other one as
   * element objects; every other leaf goes there as before. The span is the walk's and the columns are reused:
   * nothing of either may be kept past the call. (The bench db's leaves of `key` as objects and views, and reading
   * them, were ~7% of its validation's CPU: 0.69 -> 0.64 s.)
   */
  plainLeaves?: { bucket: string; onLeaf: (page: number, span: Uint8Array, leaf: PlainLeaf) => void };
  /** Walk into this sub-bucket? (default: all). Skipped buckets' pages count as unreached. */
  enterBucket?: (path: readonly string[]) => boolean;
  signal?: AbortSignal;
  /**
   * A finished walk of the other meta over the same file: subtrees it found
   * clean are not walked again (only the pages the last transaction changed
   * are read). For `otherMetaTreeOk`; leaves of skipped subtrees are not reported.
   */
  reuse?: WalkResult;
}

export interface WalkResult {
  meta: 0 | 1;
  root: number;
  highWaterMark: number;
  problems: WalkProblem[];
  problemCount: number;
  /** What etcd's freepages() would do first: the panic text or `fatal error: fault`; null when the walk is clean for bbolt. */
  crash: string | null;
  /** The problem behind `crash`. */
  crashProblem: WalkProblem | null;
  /** Per page position (file pages): `Reach` codes. */
  reach: Uint8Array;
  /** Per position: how many times the tree pointed here (>1 = multiply referenced). */
  refs: Uint8Array;
  /** Per position: parent position + 1 (0 = none or bucket root). */
  parent: Int32Array;
  /** Per position: index into `buckets` + 1. */
  bucketOf: Uint16Array;
  buckets: string[];
  /** Items per bucket path (joined with '/'), and whether the bucket is inline. */
  bucketItems: Map<string, { items: number; inline: boolean }>;
  /** Free pages (freelist page ids when synced; else unreached positions 2..hwm-1 are free as etcd rebuilds them). */
  freelistSynced: boolean;
  freed: Uint8Array;
  /** Per position: walked as a page (not just an overflow continuation). */
  visited: Uint8Array;
  /** Per position: a problem was found in this page's subtree (sub-buckets included). */
  dirty: Uint8Array;
}

function keyText(k: Uint8Array): string {
  return toHex(k, 64) + (k.length > 64 ? '…' : '');
}

/**
 * Walk the tree of meta `metaPage` (freepages semantics). Never throws on
 * content; bounded by the file's page count.
 */
export async function walkTree(db: OpenedBbolt, metaPage: 0 | 1, opts: WalkOptions = {}): Promise<WalkResult> {
  const meta = db.metas[metaPage]!;
  const reader = db.reader;
  const filePages = reader.filePages;
  const hwm = meta.highWaterMark;
  const hwmBig = meta.fields.pgid;
  /** `hwm` is the high-water mark itself (not clamped): compared as a number with exact header ids. */
  const hwmExact = hwmBig <= MAX_SAFE_BIG;
  const reach = new Uint8Array(filePages);
  const refs = new Uint8Array(filePages);
  const parent = new Int32Array(filePages);
  const bucketOf = new Uint16Array(filePages);
  const visited = new Uint8Array(filePages);
  /** Header ids a page marked on its first visit (0: not known, e.g. skipped by reuse): a revisit repeats them all. */
  const markCounts = new Uint32Array(filePages);
  const freed = new Uint8Array(filePages);
  /** bbolt's `reachable` map, keyed by header id: a bitmap below the file size, a bounded set above. */
  const marked = new Uint8Array(Math.max(filePages, Math.min(hwm, filePages * 2 + 16)));
  const markedHigh = new Set<number>();
  const buckets: string[] = [];
  const bucketIndex = new Map<string, number>();
  const bucketItems = new Map<string, { items: number; inline: boolean }>();
  const problems: WalkProblem[] = [];
  let problemCount = 0;
  let crashProblem: WalkProblem | null = null;
  /** The page id behind the first 'fault' problem. */
  let faultPgid: bigint | null = null;
  /** Bytes read so far of values that run past the end of the file, and how many may be (CUT_VALUE_READ_BUDGET). */
  let cutValueBytes = 0;
  const cutValueBudget = Math.min(CUT_VALUE_READ_BUDGET, Math.floor(db.reader.readableEnd / 4));
  /** Bytes read so far of elements outside their page (OUT_OF_PAGE_READ_BUDGET). */
  let outOfPageBytes = 0;

  const dirty = new Uint8Array(filePages);
  const skipped = new Uint8Array(opts.reuse ? filePages : 0);
  const markDirty = (pos: number) => {
    for (let p = pos, steps = 0; p >= 0 && p < filePages && !dirty[p] && steps < filePages; steps++) {
      dirty[p] = 1;
      p = parent[p]! - 1;
    }
  };
  /** In reuse mode: is `pos` below a subtree this walk skipped (by the other walk's parents)? */
  const inSkipped = (pos: number): boolean => {
    const reuse = opts.reuse;
    if (!reuse) return false;
    for (let a = reuse.parent[pos]! - 1, steps = 0; a >= 0 && steps < 64; a = reuse.parent[a]! - 1, steps++) if (skipped[a]) return true;
    return false;
  };
  /** `text`: bbolt's own wording (a string), or ours from a template (translatable). */
  /**
   * `text` may be a function: called only for a problem that is kept (the first MAX_PROBLEMS, and the first one bbolt
   * stops at). A damaged page can hold 65,535 bad elements; formatting every message of them took seconds.
   */
  /**
   * A problem's text made later from `args` by `make`. The walk's loops pass their values this way rather than
   * in a closure over them: a loop variable a closure refers to is kept in a scope object V8 allocates on every
   * iteration (one per page and per element, whether or not a problem is found: 100 MB of garbage for the bench db).
   */
  const later =
    <T extends ProblemText, A extends unknown[]>(make: (...args: A) => T, ...args: A): (() => T) =>
    () =>
      make(...args);
  const problem = (kind: ProblemKind, code: string, text: ProblemText | (() => ProblemText), page: number | null, offset: number | null): void => {
    problemCount++;
    const crashes = !crashProblem && kind !== 'extra';
    if (crashes || problems.length < MAX_PROBLEMS) {
      const t = typeof text === 'function' ? text() : text;
      const p: WalkProblem =
        typeof t === 'string' ? { kind, code, text: t, page, offset } : { kind, code, text: t.text, page, offset, variant: t.variant, params: t.params };
      if (crashes) crashProblem = p;
      if (problems.length < MAX_PROBLEMS) problems.push(p);
    }
    const at = offset !== null ? Math.floor(offset / reader.pageSize) : page;
    if (at !== null) markDirty(at);
  };
  const pageOffset = (pos: number) => pos * reader.pageSize;
  /**
   * A page reached again once nothing more is listed (the first MAX_PROBLEMS and bbolt's own stop are kept): its
   * repeated header ids are only counted, without reading it again. A garbage branch page can point at the same
   * page 65,535 times, from every page of the file: millions of revisits, each a frame and a read.
   */
  const revisitCountedOnly = (pos: number): boolean =>
    pos < filePages && visited[pos] === 1 && markCounts[pos]! > 0 && crashProblem !== null && problems.length >= MAX_PROBLEMS;
  const countRevisit = (pos: number, parentPos: number): void => {
    problemCount += markCounts[pos]!;
    markDirty(pos);
    if (reach[pos] !== Reach.Meta) reach[pos] = Reach.Damaged;
    markDirty(parentPos);
  };
  if (filePages > 0) reach[0] = Reach.Meta;
  if (filePages > 1) reach[1] = Reach.Meta;

  // A synced freelist (not etcd's case on Linux): bbolt reads it instead of walking.
  const freelistSynced = meta.freelistPage !== null;
  if (freelistSynced) {
    const fl = meta.freelistPage!;
    if (fl < filePages) {
      const head = decodePageHeader(await reader.span(fl));
      if (head) {
        const span = await reader.span(fl, head.overflow + 1);
        const read = decodeFreelist(span, head, filePages);
        if (read.panic) problem('bbolt', 'bbolt.freelist-invalid', read.panic, fl, pageOffset(fl));
        else {
          for (let i = 0; i <= head.overflow && fl + i < filePages; i++) reach[fl + i] = Reach.Freelist;
          for (const id of read.ids) {
            if (id < filePages) {
              if (freed[id]) problem('extra', 'bbolt.already-freed', () => ownProblem('already-freed.twice', { page: id }), id, pageOffset(id));
              freed[id] = 1;
            }
          }
          if (read.problemCase)
            problem(
              'extra',
              'bbolt.freelist-bounds',
              ownProblem(`freelist-bounds.${read.problemCase.kind}`, { page: fl, ...read.problemCase.params }),
              fl,
              pageOffset(fl),
            );
        }
      }
    } else {
      problem('fault', 'bbolt.page-beyond-file', () => ownProblem('page-beyond-file.freelist', { page: fl, pages: filePages }), fl, null);
      faultPgid ??= meta.fields.freelist;
    }
  }

  const bucketId = (path: readonly string[]): number => {
    const name = path.join('/');
    let i = bucketIndex.get(name);
    if (i === undefined) {
      i = buckets.length;
      if (i < 0xfffe) {
        buckets.push(name);
        bucketIndex.set(name, i);
      } else i = 0xfffe;
    }
    return i;
  };
  const countItems = (path: readonly string[], n: number, inline: boolean) => countItemsOf(path.join('/'), n, inline);
  const countItemsOf = (name: string, n: number, inline: boolean) => {
    const e = bucketItems.get(name);
    if (e) e.items += n;
    else bucketItems.set(name, { items: n, inline });
  };

  const mark = (id: number) => {
    if (id < marked.length) {
      if (marked[id]) return true;
      marked[id] = 1;
      return false;
    }
    if (markedHigh.has(id)) return true;
    if (markedHigh.size < 1_000_000) markedHigh.add(id);
    return false;
  };
  /**
   * Mark header id + i (bbolt's `reachable[p.id + i]`), exactly: a header id
   * past 2^53 is clamped in `h.id`, so those are keyed by the 64-bit value
   * (two different garbage ids are not "multiple references"). Reports
   * bbolt's text for a repeat; the problem's page is that id when it is a
   * page of the file, else the page holding the header.
   */
  const markedHuge = new Set<bigint>();
  const markHeaderId = (h: PageHeader, i: number, pos: number, offset: number): void => {
    const id = h.id + i;
    let repeated: boolean;
    if (h.idExact && id <= Number.MAX_SAFE_INTEGER) repeated = mark(id);
    else {
      const big = BigInt.asUintN(64, h.idBig + BigInt(i));
      repeated = markedHuge.has(big);
      if (!repeated && markedHuge.size < 1_000_000) markedHuge.add(big);
    }
    if (repeated)
      problem(
        'bbolt',
        'bbolt.multiple-references',
        later((hh: PageHeader, ii: number) => `page ${BigInt.asUintN(64, hh.idBig + BigInt(ii))}: multiple references`, h, i),
        id < filePages ? id : pos,
        offset,
      );
  };

  interface Frame {
    pos: number;
    /** The exact child pgid when `pos` is clamped (a garbage pgid can exceed 2^53) or is the page it wraps onto (childPageOf); null: `pos` is the id. */
    posBig: bigint | null;
    /** File offset of the pgid that points here (branch element, bucket value or meta root field). */
    refAt: number;
    parent: number;
    /** Keys of this subtree must be >= lo and < hi (from the ancestors' branch elements). */
    lo: Uint8Array | null;
    hi: Uint8Array | null;
  }

  /** The columns of the leaf read in place last (opts.plainLeaves), reused. */
  const plainLeaf = new PlainLeaf();

  const checkBucket = async (root: number, path: readonly string[], depth: number, from: number, refAt: number): Promise<void> => {
    if (root === 0) return;
    if (depth > MAX_BUCKET_DEPTH) {
      problem('extra', 'bbolt.bucket-depth', () => ownProblem('bucket-depth.deep', { bucket: path.join('/'), max: MAX_BUCKET_DEPTH }), null, null);
      return;
    }
    const bIdx = bucketId(path) + 1;
    const pathKey = path.join('/');
    /** What bbolt's `b.ForEach` + `b.Bucket(k)` meet after the page walk, in key order: sub-buckets, and reads outside the file. */
    const after: (
      | { root: number; path: string[]; from: number; refAt: number }
      | { fault: () => OwnProblemText; page: number; offset: number; pgid: bigint }
      | { panic: () => OwnProblemText; page: number; offset: number }
    )[] = [];
    /**
     * Faults past the first MAX_PROBLEMS + 1 of this bucket: only counted (with their pages marked), not kept. They
     * come after those in `after`, so the kept ones already fill the list, set the crash and the first fault's page:
     * a garbage page can declare thousands of such keys, from every page of the file (an object each was the walk's
     * memory and most of its time).
     */
    let faultsKept = 0;
    let faultsCounted = 0;
    /** Whether one more fault or panic of the element at `elementAt` is kept in `after`; else it is only counted. */
    const keepAfter = (elementAt: number): boolean => {
      if (faultsKept > MAX_PROBLEMS) {
        faultsCounted++;
        markDirty(Math.floor(elementAt / reader.pageSize));
        return false;
      }
      faultsKept++;
      return true;
    };
    /** A key bbolt reads past the end of the file (leaf or branch element at `elementAt`, its key at `keyAt`): the fault comes after the page walk. */
    const keyFault = (kind: 'key' | 'branch-key', page: number, index: number, elementAt: number, keyAt: number): void => {
      if (!keepAfter(elementAt)) return;
      after.push({
        fault: later(
          (p: number, i: number, at: number) => ownProblem(`element-beyond-file.${kind}`, { page: p, index: i, at, size: db.dbSize }),
          page,
          index,
          keyAt,
        ),
        page,
        offset: elementAt,
        pgid: BigInt(Math.floor(Math.min(keyAt, Number.MAX_SAFE_INTEGER) / reader.pageSize)),
      });
    };
    /**
     * An element whose key or value slice ends past maxAllocSize (leaf or branch element at `elementAt`): bbolt's
     * cursor slices it when `b.ForEach` reaches it (a branch key when a seek probes it), after the page walk, and
     * Go's bounds check panics before any byte is read. Counted like the faults.
     */
    const slicePanic = (branch: boolean, page: number, index: number, elementAt: number, overrun: ElementSliceOverrun): void => {
      if (!keepAfter(elementAt)) return;
      after.push({
        panic: later(
          (p: number, i: number, part: string, end: number) =>
            ownProblem(branch ? 'element-slice.branch-key' : part === 'key' ? 'element-slice.key' : 'element-slice.value', {
              page: p,
              index: i,
              end,
              panic: sliceOverrunPanic(end),
            }),
          page,
          index,
          overrun.part,
          overrun.end,
        ),
        page,
        offset: elementAt,
      });
    };
    const stack: Frame[] = [{ pos: root, posBig: null, refAt, parent: from, lo: null, hi: null }];
    while (stack.length > 0) {
      if (opts.signal?.aborted) return;
      const f = stack.pop()!;
      const pos = f.pos;
      if (pos >= filePages) {
        problem(
          'fault',
          'bbolt.page-beyond-file',
          later(
            (ff: Frame) =>
              ff.parent < 0
                ? ownProblem('page-beyond-file.meta', { page: String(ff.posBig ?? ff.pos), meta: metaPage, pages: filePages })
                : ownProblem('page-beyond-file.page', { page: String(ff.posBig ?? ff.pos), parent: ff.parent, pages: filePages }),
            f,
          ),
          pos,
          f.refAt,
        );
        faultPgid ??= f.posBig ?? BigInt(f.pos);
        markDirty(f.parent);
        continue;
      }
      refs[pos] = Math.min(255, refs[pos]! + 1);
      const reuse = opts.reuse;
      if (reuse && !visited[pos]) {
        // Inside a subtree skipped above (reached a second time through another page)?
        if (inSkipped(pos)) {
          problem(
            'bbolt',
            'bbolt.multiple-references',
            later((p: number) => `page ${p}: multiple references`, pos),
            pos,
            pageOffset(pos),
          );
          markDirty(f.parent);
          continue;
        }
        if (reuse.visited[pos] && !reuse.dirty[pos]) {
          // Walked clean from the other meta: the same bytes, the same subtree.
          visited[pos] = 1;
          skipped[pos] = 1;
          reach[pos] = reuse.reach[pos]!;
          if (f.parent >= 0) parent[pos] = f.parent + 1;
          continue;
        }
      }
      if (visited[pos]) {
        // bbolt would walk it again (forever, on a cycle); its header ids are already marked, so it reports them.
        if (revisitCountedOnly(pos)) {
          countRevisit(pos, f.parent);
          continue;
        }
        const h = decodePageHeader(await reader.span(pos));
        if (h) for (let i = 0; i <= Math.min(h.overflow, filePages); i++) markHeaderId(h, i, pos, pageOffset(pos));
        if (reach[pos] !== Reach.Meta) reach[pos] = Reach.Damaged;
        markDirty(f.parent);
        continue;
      }
      visited[pos] = 1;
      if (f.parent >= 0) parent[pos] = f.parent + 1;
      bucketOf[pos] = bIdx;
      const first = reader.cachedSpan(pos) ?? (await reader.span(pos));
      const h = decodePageHeader(first)!;
      const offset = pageOffset(pos);
      const typeOk = (h.flags & 0x03) !== 0;
      if (h.idExact && hwmExact ? h.id > hwm : h.idBig > hwmBig)
        problem(
          'bbolt',
          'bbolt.out-of-bounds',
          later((hh: PageHeader) => `page ${hh.idBig}: out of bounds: ${hwmBig}`, h),
          pos,
          offset,
        );
      const overflowFits = pos + h.overflow < filePages;
      const markCount = Math.min(h.overflow, filePages) + 1;
      markCounts[pos] = markCount;
      for (let i = 0; i < markCount; i++) markHeaderId(h, i, pos, offset);
      if (!typeOk)
        problem(
          'bbolt',
          'bbolt.invalid-type',
          later((hh: PageHeader) => `page ${hh.idBig}: invalid type: ${pageTypeName(hh.flags)}`, h),
          pos,
          offset,
        );
      // A child id that wrapped onto this page (childPageOf) is expected to be the id in its parent's element.
      if (f.posBig !== null ? h.idBig !== f.posBig : h.id !== pos)
        problem(
          'extra',
          'bbolt.header-id',
          later((p: bigint, hh: PageHeader) => `page ${p}: Page expected to be: ${p}, but self identifies as ${hh.idBig}`, f.posBig ?? BigInt(pos), h),
          pos,
          offset,
        );
      if (!overflowFits) {
        problem(
          'fault',
          'bbolt.overflow-beyond-file',
          later((p: number, hh: PageHeader) => ownProblem('overflow-beyond-file.pages', { page: p, overflow: hh.overflow, pages: filePages }), pos, h),
          pos,
          offset + 12,
        );
        faultPgid ??= BigInt(filePages);
      }
      if (reach[pos] !== Reach.Meta) reach[pos] = !typeOk || h.id !== pos ? Reach.Damaged : isBranch(h.flags) ? Reach.Branch : Reach.Leaf;
      for (let i = 1; i <= h.overflow && pos + i < filePages; i++) {
        if (reach[pos + i] === Reach.None) reach[pos + i] = Reach.Overflow;
        bucketOf[pos + i] = bIdx;
        parent[pos + i] = pos + 1;
      }
      if (!typeOk) continue;
      const span = h.overflow === 0 ? first : (reader.cachedSpan(pos, h.overflow + 1) ?? (await reader.span(pos, h.overflow + 1)));
      if (elementsThatFit(h.count, span.length) < h.count) {
        problem(
          'extra',
          'bbolt.element-count',
          later((p: number, count: number, bytes: number) => ownProblem('element-count.fit', { page: p, count, bytes }), pos, h.count, span.length),
          pos,
          offset + 10,
        );
      }
      if (isBranch(h.flags)) {
        // The children's key bounds outlive this page's bytes when the reader reuses its buffers:
        // decode a copy of the page (one copy per page, not one per key).
        const els = decodeBranchElements(reader.transient ? span.slice() : span, h.count);
        // Indexed loops here and below: for-of in this async function made an iterator result per element.
        for (let i = 0; i < els.length; i++) {
          const e = els[i]!;
          if (!e.problem) continue;
          problem(
            'extra',
            'bbolt.element-bounds',
            later(
              (p: number, el: BranchElement, bytes: number) =>
                ownProblem('element-bounds.branch-key', { page: p, index: el.index, ksize: el.keySize, pos: el.keyPos, bytes }),
              pos,
              e,
              span.length,
            ),
            pos,
            offset + e.at,
          );
          // bbolt compares the bytes there whatever they are: inside the file they are the key its searches use,
          // past it the first compare faults. freepages' `b.Bucket(k)` seeks every key of the bucket after the
          // page walk, and a binary search over a branch probes each element that bounds a sought key, so the
          // element is read. bytes.Compare reads from the key's start, and a difference within the first 16
          // bytes (etcd's keys: a 17-byte revision, a bucket name) stops it: only a key whose first
          // min(ksize, 16) bytes are not all readable faults for certain (the leaf keys' known gap below).
          const start = offset + e.at + e.keyPos;
          const overrun = elementSliceOverrun(e.keyPos, e.keySize, null);
          if (overrun) slicePanic(true, pos, e.index, offset + e.at, overrun);
          else if (e.keySize > 0 && start + Math.min(e.keySize, 16) > reader.readableEnd) keyFault('branch-key', pos, e.index, offset + e.at, start);
          else {
            const outside = reader.keyOutsidePage(offset + e.at, e);
            if (outside) e.key = await outside;
          }
        }
        checkOrder(pos, 'branch', els, f, offset);
        for (let i = els.length - 1; i >= 0; i--) {
          const e = els[i]!;
          const child = childPageOf(e, reader.pageSize);
          if (revisitCountedOnly(child)) {
            // What its pop would do, done now (past the list's end the order of counting does not show): no frame.
            refs[child] = Math.min(255, refs[child]! + 1);
            countRevisit(child, pos);
            continue;
          }
          const next = els[i + 1];
          stack.push({
            pos: child,
            // The exact id only for an id the number clamps or that wraps onto another page
            // (a BigInt per child was a walk's main garbage).
            posBig: child === e.child && e.child < Number.MAX_SAFE_INTEGER ? null : e.childBig,
            refAt: offset + e.at + 8,
            parent: pos,
            lo: e.problem ? f.lo : e.key,
            hi: next && !next.problem ? next.key : f.hi,
          });
        }
      } else {
        const plain = opts.plainLeaves;
        if (
          plain !== undefined &&
          path.length === 1 &&
          path[0] === plain.bucket &&
          offset + PAGE_HEADER_SIZE + h.count * ELEMENT_SIZE <= reader.readableEnd &&
          plainLeaf.read(span, h.count) &&
          plainLeaf.inOrder(span, f.lo, f.hi)
        ) {
          // Nothing here for the walk to report, and no sub-bucket to go into: the consumer reads it in place.
          countItemsOf(pathKey, h.count, false);
          plain.onLeaf(pos, span, plainLeaf);
          continue;
        }
        const els = decodeLeafElements(span, h.count);
        /** Whether any element is a sub-bucket (most leaves have none: nothing to do after onLeaf). */
        let subBuckets = false;
        for (let i = 0; i < els.length; i++) {
          const e = els[i]!;
          if ((e.flags & BUCKET_LEAF_FLAG) !== 0) subBuckets = true;
          if (!e.problem) continue;
          problem(
            'extra',
            'bbolt.element-bounds',
            later(
              (p: number, el: LeafElement, bytes: number) =>
                ownProblem('element-bounds.leaf-kv', { page: p, index: el.index, ksize: el.keySize, vsize: el.valueSize, pos: el.keyPos, bytes }),
              pos,
              e,
              span.length,
            ),
            pos,
            offset + e.at,
          );
          // bbolt reads the bytes there anyway: hand the consumers what it would read (when inside the file).
          const start = offset + e.at + e.keyPos;
          const len = e.keySize + e.valueSize;
          if (start + len <= reader.readableEnd && len <= OUT_OF_PAGE_READ_LIMIT && outOfPageBytes + len <= OUT_OF_PAGE_READ_BUDGET) {
            outOfPageBytes += len;
            const bytes = await reader.readPadded(start, len);
            e.key = bytes.subarray(0, e.keySize);
            e.value = bytes.subarray(e.keySize);
            e.outOfPage = true;
          } else if (pathKey === 'key' && start + e.keySize <= reader.readableEnd && e.keySize <= CUT_VALUE_READ_LIMIT && cutValueBytes < cutValueBudget) {
            // The value runs past the end of the file (or past what is read of one element): bbolt hands out the
            // slice anyway, and etcd's mvcc restore unmarshals it from its start until gogo fails, or faults on
            // the first byte past the file. What can be read of it, for that model (schema.ts restoreLeaf).
            const readable = Math.min(reader.readableEnd - start, e.keySize + CUT_VALUE_READ_LIMIT, e.keySize + (cutValueBudget - cutValueBytes));
            const bytes = await reader.readPadded(start, readable);
            cutValueBytes += readable;
            e.key = bytes.subarray(0, e.keySize);
            e.value = bytes.subarray(e.keySize);
            e.outOfPage = true;
            if (start + readable >= reader.readableEnd) {
              e.valueCut = 'file-end';
              e.faultPastFile = faultText(BigInt(Math.floor(reader.readableEnd / reader.pageSize)), reader.pageSize, db.dbSize);
            } else e.valueCut = 'read-limit';
          }
          // Known gap (not yet modelled, see bbolt v1.3.6 tx.checkBucket / cursor.go and Go's bytealg cmpbody):
          // freepages reads a key only through the seek `b.Bucket(k)` makes for every key of a non-inline
          // bucket, and bytes.Compare reads both keys in 16-byte blocks from their start (64 with AVX2 for
          // 64+ common bytes), stopping in the block with the first difference; a key compared with itself
          // reads nothing, and bytes.Equal of the same slice reads nothing. So a key whose first 16 bytes
          // are readable and differ from its neighbours' does not fault here; etcd 3.4's mvcc restore then
          // reads bytes 0..16 (bytesToRev) and the whole value, and faults there with the same fatal line.
          // Likewise forEachPage never reads overflow pages, so an overflow past the file is no fault by itself.
          const overrun = elementSliceOverrun(e.keyPos, e.keySize, e.valueSize);
          if (overrun) slicePanic(false, pos, e.index, offset + e.at, overrun);
          else if (e.keySize > 0 && start + e.keySize > reader.readableEnd) keyFault('key', pos, e.index, offset + e.at, start);
        }
        if (offset + PAGE_HEADER_SIZE + h.count * ELEMENT_SIZE > reader.readableEnd) {
          after.push({
            fault: later((p: number, count: number) => ownProblem('element-beyond-file.elements', { page: p, count, size: db.dbSize }), pos, h.count),
            page: pos,
            offset: offset + 10,
            pgid: BigInt(filePages),
          });
        }
        checkOrder(pos, 'leaf', els, f, offset);
        countItemsOf(pathKey, els.length, false);
        if (opts.onLeaf) {
          // Awaited only when the consumer is async (an await per leaf is a microtask per page).
          const pending = opts.onLeaf({ bucket: path, page: pos, inline: false, elements: els });
          if (pending) await pending;
        }
        // The sub-buckets are the last thing this leaf's visit does.
        if (!subBuckets) continue;
        for (const e of els) {
          if (e.problem || (e.flags & BUCKET_LEAF_FLAG) === 0) continue;
          const name = bucketNameOf(e.key);
          // bbolt's Bucket(k) seeks the key (the first element holding it) and opens its value with &value[0]: an
          // empty one is Go's bounds panic in etcd's goroutine (unaligned-access check in openBucket).
          const first = els.find((x) => compareBytes(x.key, e.key) === 0) ?? e;
          if (e.value.length === 0 && !first.problem && (first.flags & BUCKET_LEAF_FLAG) !== 0 && first.value.length === 0) {
            problem(
              'panic',
              'bbolt.bucket-value',
              later(
                (p: number, bucket: string) => ownProblem('bucket-value.empty', { page: p, bucket: JSON.stringify(bucket), panic: EMPTY_BUCKET_VALUE_PANIC }),
                pos,
                name,
              ),
              pos,
              offset + e.at,
            );
            continue;
          }
          if (e.value.length < 16) {
            problem(
              'extra',
              'bbolt.bucket-value',
              later(
                (p: number, bucket: string, size: number) => ownProblem('bucket-value.short', { page: p, bucket: JSON.stringify(bucket), size }),
                pos,
                name,
                e.value.length,
              ),
              pos,
              offset + e.at,
            );
            continue;
          }
          const dv = new DataView(e.value.buffer, e.value.byteOffset, 16);
          const rootBig = dv.getBigUint64(0, true);
          const childPath = [...path, name];
          if (rootBig === 0n) {
            const inlinePage = e.value.subarray(16);
            const ih = decodePageHeader(inlinePage);
            const ils = ih ? decodeLeafElements(inlinePage, ih.count) : [];
            if (!ih || elementsThatFit(ih.count, inlinePage.length) < ih.count)
              problem(
                'extra',
                'bbolt.inline-bucket',
                later((p: number, bucket: string) => ownProblem('inline-bucket.cut', { page: p, bucket: JSON.stringify(bucket) }), pos, name),
                pos,
                offset + e.at,
              );
            for (const ie of ils)
              if (ie.problem)
                problem(
                  'extra',
                  'bbolt.element-bounds',
                  later(
                    (p: number, bucket: string, el: LeafElement, bytes: number) =>
                      ownProblem('element-bounds.inline-kv', {
                        page: p,
                        bucket: JSON.stringify(bucket),
                        index: el.index,
                        ksize: el.keySize,
                        vsize: el.valueSize,
                        pos: el.keyPos,
                        bytes,
                      }),
                    pos,
                    name,
                    ie,
                    inlinePage.length,
                  ),
                  pos,
                  offset + e.at,
                );
            countItems(childPath, ils.length, true);
            if (opts.onLeaf && (!opts.enterBucket || opts.enterBucket(childPath)))
              await opts.onLeaf({ bucket: childPath, page: pos, inline: true, elements: ils });
          } else {
            const root = rootBig > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(rootBig);
            if (!opts.enterBucket || opts.enterBucket(childPath)) after.push({ root, path: childPath, from: pos, refAt: offset + e.at + e.keyPos + e.keySize });
          }
        }
      }
    }
    for (const a of after) {
      if ('fault' in a) {
        problem('fault', 'bbolt.element-beyond-file', a.fault, a.page, a.offset);
        faultPgid ??= a.pgid;
      } else if ('panic' in a) problem('panic', 'bbolt.element-slice', a.panic, a.page, a.offset);
      else await checkBucket(a.root, a.path, depth + 1, a.from, a.refAt);
    }
    problemCount += faultsCounted;
  };

  const checkOrder = (pos: number, kind: 'branch' | 'leaf', keys: readonly { key: Uint8Array }[], f: Frame, offset: number) => {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!.key;
      if (i > 0) {
        const c = compareBytes(k, keys[i - 1]!.key);
        if (c <= 0) {
          problem(
            'extra',
            'bbolt.key-order',
            later(
              (n: number, key: Uint8Array, prev: Uint8Array, compared: number, what: string, p: number) =>
                `key[${n}]=(hex)${keyText(key)} on ${what} page(${p}) needs to be > than previous element (hex)${keyText(prev)} (found ${compared < 0 ? '<' : '='})`,
              i,
              k,
              keys[i - 1]!.key,
              c,
              kind,
              pos,
            ),
            pos,
            offset,
          );
          break;
        }
      } else if (f.lo && compareBytes(k, f.lo) < 0) {
        problem(
          'extra',
          'bbolt.key-order',
          later(
            (key: Uint8Array, what: string, p: number, lo: Uint8Array) =>
              `the first key[0]=(hex)${keyText(key)} on ${what} page(${p}) needs to be >= the key in the ancestor (hex)${keyText(lo)}`,
            k,
            kind,
            pos,
            f.lo,
          ),
          pos,
          offset,
        );
      }
    }
    const last = keys[keys.length - 1]?.key;
    if (last && f.hi && compareBytes(last, f.hi) >= 0) {
      problem(
        'extra',
        'bbolt.key-order',
        later(
          (n: number, key: Uint8Array, what: string, p: number, hi: Uint8Array) =>
            `the last key[${n}]=(hex)${keyText(key)} on ${what} page(${p}) needs to be < than key of the next element in ancestor (hex)${keyText(hi)}`,
          keys.length - 1,
          last,
          kind,
          pos,
          f.hi,
        ),
        pos,
        offset,
      );
    }
  };

  await checkBucket(meta.rootPage, [], 0, -1, metaPage * reader.pageSize + PAGE_HEADER_SIZE + 16);

  // Pages below the high-water mark that nothing reached: free when etcd rebuilds the freelist,
  // "unreachable unfreed" for bbolt check when a synced freelist leaves them out.
  if (freelistSynced && !crashProblem) {
    for (let i = 2; i < Math.min(hwm, filePages); i++) {
      if (reach[i] === Reach.None && !freed[i] && !inSkipped(i))
        problem('extra', 'bbolt.unreachable-unfreed', () => `page ${i}: unreachable unfreed`, i, pageOffset(i));
    }
  }
  if (!freelistSynced) for (let i = 2; i < Math.min(hwm, filePages); i++) if (reach[i] === Reach.None && !inSkipped(i)) freed[i] = 1;

  const cp = crashProblem as WalkProblem | null;
  const crash = freelistSynced
    ? cp?.code === 'bbolt.freelist-invalid'
      ? cp.text
      : null
    : cp
      ? cp.kind === 'fault'
        ? faultText(faultPgid ?? BigInt(filePages), reader.pageSize, db.dbSize)
        : cp.kind === 'panic'
          ? String(cp.params!.panic)
          : `freepages: failed to get all reachable pages (${cp.text})`
      : null;
  return {
    meta: metaPage,
    root: meta.rootPage,
    highWaterMark: hwm,
    problems,
    problemCount,
    crash,
    crashProblem: cp,
    reach,
    refs,
    parent,
    bucketOf,
    buckets,
    bucketItems,
    freelistSynced,
    freed,
    visited,
    dirty,
  };
}

export type { PageHeader };

/** etcd 3.4 maps its db with `InitialMmapSize` 10 GiB; bbolt rounds sizes above 1 GiB up to whole GiB. */
export const ETCD_INITIAL_MMAP_SIZE = 10 * 1024 * 1024 * 1024;

/**
 * How the Go runtime reports bbolt reading page `page` outside the file: inside
 * etcd's mapping the kernel raises SIGBUS, beyond it SIGSEGV; either way
 * `unexpected fault address …` then `fatal error: fault` (not a recoverable panic).
 */
export function faultText(pgid: bigint, pageSize: number, dbSize: number): string {
  const gib = 1024 * 1024 * 1024;
  const mapped = BigInt(Math.ceil(Math.max(dbSize, ETCD_INITIAL_MMAP_SIZE) / gib) * gib);
  // db.page(): &db.data[id * pageSize] with uint64 arithmetic over a *[maxMapSize]byte array.
  const at = BigInt.asUintN(64, pgid * BigInt(pageSize));
  if (at >= MAX_MAP_SIZE) return `runtime error: index out of range [${at}] with length ${MAX_MAP_SIZE}`;
  return `fatal error: fault (${at < mapped ? 'SIGBUS' : 'SIGSEGV'})`;
}

/** bbolt's maxMapSize on 64-bit Linux (the length of the array type its mmap is indexed through). */
export const MAX_MAP_SIZE = 0xffffffffffffn;
