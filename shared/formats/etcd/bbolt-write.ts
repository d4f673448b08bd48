/**
 * Writes a valid bbolt file (the format of etcd's `member/snap/db` and of a
 * `snapshot.db` without its trailer), streaming: keys arrive in order, leaf
 * pages are written as they fill, branch levels after each bucket, the root
 * bucket page and the two meta pages last, or first when the layout was
 * planned (`BboltWriter.planner`: then every write follows the previous one
 * and the file can be hashed as it is written). Memory holds two 4 MiB runs
 * of pages, one page being filled, and the first key of every page of the
 * current bucket's lower level.
 * `put` copies what it keeps (or writes a value bigger than a page at once),
 * so callers may hand over views of buffers they reuse.
 *
 * Layout written (bbolt v1.3.6 `page.go`, `node.go`, `bucket.go`, `db.go`):
 * - pages 0 and 1: meta (magic 0xED0CDAED, version 2, FNV-1a-64 checksum over
 *   the meta fields), txid 2 on page 0 and 3 on page 1 (bbolt writes meta
 *   `txid % 2`); both name the same tree, so either one opens it.
 * - page 2: an empty freelist page. A synced (empty) freelist is what every
 *   opener accepts: etcd (NoFreelistSync) rebuilds it anyway, `etcdctl
 *   snapshot restore`/`status` and `bbolt check` read it. Every other page
 *   below the high-water mark is reachable, so nothing is "unreachable unfreed".
 * - then each bucket's leaf pages (16-byte elements {flags, pos, ksize, vsize},
 *   `pos` relative to the element), its branch pages ({pos, ksize, pgid},
 *   key = first key of the child). A leaf may span several pages (`overflow`
 *   continuation pages, up to MAX_LEAF_PAGES) when its elements are large; an
 *   element larger than that goes alone into a span of its own.
 * - last the root bucket leaf: bucket name -> InBucket {root pgid, sequence}
 *   with the bucket flag. Every bucket is written as a paged bucket (never
 *   inline; inline is only bbolt's space optimisation, both are valid).
 */
import { BBOLT_MAX_KEY_SIZE, compareBytes } from './bbolt-element';
import { BBOLT_MAGIC, BBOLT_VERSION, fnv1a64 } from './bbolt-meta';
import { BRANCH_PAGE_FLAG, BUCKET_LEAF_FLAG, FREELIST_PAGE_FLAG, LEAF_PAGE_FLAG, META_PAGE_FLAG, PAGE_HEADER_SIZE } from './bbolt-page';

export const DEFAULT_PAGE_SIZE = 4096;
/** bbolt's limits (bucket.go): MaxKeySize (BBOLT_MAX_KEY_SIZE, bbolt-element.ts), MaxValueSize 2^31-2. */
export const BBOLT_MAX_VALUE_SIZE = 0x7ffffffe;
const ELEMENT_SIZE = 16;
/** Pages are handed to the sink in runs of about this many bytes (two such buffers, one filled while the other is written). */
const FLUSH_BYTES = 4 << 20;
/**
 * A leaf spans up to this many pages (its first page's `overflow` counts the rest), as bbolt's own leaves do when
 * a node holds a few large values. Values of a few KiB (Kubernetes objects) one page apiece left a page a quarter to
 * half empty (4.2 KB values took two pages each): a salvaged snapshot.db of them was up to twice its data, and its
 * write (the salvage's slowest phase) as long. bbolt, etcd and `etcdctl snapshot restore` read any span.
 */
export const MAX_LEAF_PAGES = 8;

/**
 * Where the pages go: positional writes (the metas are written last, at
 * offset 0). The bytes handed over are reused after `write` resolves: a sink
 * that keeps them must copy.
 */
export interface PageSink {
  write(offset: number, bytes: Uint8Array): Promise<void>;
  /** The writer's run buffers, when the sink wants its own kind (a hashing sink: memory another thread can read). */
  allocate?(length: number): Uint8Array;
}

export function memorySink(): PageSink & { bytes(): Uint8Array } {
  let buf = new Uint8Array(1 << 16);
  let size = 0;
  return {
    async write(offset, bytes) {
      const end = offset + bytes.length;
      if (end > buf.length) {
        let n = buf.length;
        while (n < end) n *= 2;
        const next = new Uint8Array(n);
        next.set(buf.subarray(0, size));
        buf = next;
      }
      buf.set(bytes, offset);
      size = Math.max(size, end);
    },
    bytes: () => buf.slice(0, size),
  };
}

export class BboltWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BboltWriteError';
  }
}

interface PendingElement {
  key: Uint8Array;
  /** The value's bytes; null in a plan (only its size counts). */
  value: Uint8Array | null;
  valueSize: number;
  flags: number;
}

interface ChildRef {
  key: Uint8Array;
  pgid: number;
}

/**
 * The leaf level of a bucket's tree: one first key and page id per leaf
 * page (a million keys make hundreds of thousands of leaves). Held as bytes
 * in one buffer and two number arrays, not one object and one small
 * ArrayBuffer per leaf; the branch pages are built from it one group at a time.
 */
class LeafRefs {
  private keys = new Uint8Array(4096);
  private keyBytes = 0;
  private starts: Float64Array = new Float64Array(256);
  private pgids: Float64Array = new Float64Array(256);
  length = 0;
  push(key: Uint8Array, pgid: number): void {
    if (this.length === this.starts.length) {
      this.starts = grownF64(this.starts);
      this.pgids = grownF64(this.pgids);
    }
    if (this.keyBytes + key.length > this.keys.length) {
      const keys = new Uint8Array(Math.max(2 * this.keys.length, this.keyBytes + key.length));
      keys.set(this.keys.subarray(0, this.keyBytes));
      this.keys = keys;
    }
    this.keys.set(key, this.keyBytes);
    this.starts[this.length] = this.keyBytes;
    this.pgids[this.length++] = pgid;
    this.keyBytes += key.length;
  }
  /** The refs, each a view of the buffer (valid until the next push). */
  *[Symbol.iterator](): Generator<ChildRef> {
    for (let i = 0; i < this.length; i++) {
      const end = i + 1 < this.length ? this.starts[i + 1]! : this.keyBytes;
      yield { key: this.keys.subarray(this.starts[i]!, end), pgid: this.pgids[i]! };
    }
  }
}

function grownF64(a: Float64Array): Float64Array {
  const out = new Float64Array(a.length * 2);
  out.set(a);
  return out;
}

/** Encode the meta page `id` (0 or 1). */
export function encodeMetaPage(opts: {
  id: 0 | 1;
  pageSize: number;
  rootPage: number;
  freelistPage: number | bigint;
  highWaterMark: number;
  txid: number;
}): Uint8Array {
  const page = new Uint8Array(opts.pageSize);
  const dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
  dv.setBigUint64(0, BigInt(opts.id), true);
  dv.setUint16(8, META_PAGE_FLAG, true);
  const m = PAGE_HEADER_SIZE;
  dv.setUint32(m + 0, BBOLT_MAGIC, true);
  dv.setUint32(m + 4, BBOLT_VERSION, true);
  dv.setUint32(m + 8, opts.pageSize, true);
  dv.setUint32(m + 12, 0, true);
  dv.setBigUint64(m + 16, BigInt(opts.rootPage), true);
  dv.setBigUint64(m + 24, 0n, true);
  dv.setBigUint64(m + 32, BigInt(opts.freelistPage), true);
  dv.setBigUint64(m + 40, BigInt(opts.highWaterMark), true);
  dv.setBigUint64(m + 48, BigInt(opts.txid), true);
  dv.setBigUint64(m + 56, fnv1a64(page.subarray(m, m + 56)), true);
  return page;
}

export interface BboltWriteResult {
  /** Pages written (the high-water mark). */
  pages: number;
  /** File size in bytes (pages * pageSize). */
  size: number;
  /** The root bucket page the metas name. */
  rootPage: number;
  buckets: { name: string; keys: number; rootPage: number }[];
}

/**
 * What the metas name, known before any page is written: a plan run
 * (`BboltWriter.planner()`, the same calls with value sizes instead of bytes)
 * gives it, and a writer handed it writes every page in file order, metas
 * first, so a sink can hash the file while it is written (no second read).
 */
export interface BboltLayout {
  pages: number;
  rootPage: number;
}

const NULL_SINK: PageSink = { write: async () => undefined };

/** The bucket being written: its leaf refs so far and the leaf being filled. */
interface OpenBucket {
  name: Uint8Array;
  keys: number;
  level0: LeafRefs;
  /** Elements in the leaf being filled (their lengths in the writer's `leafKeyLengths`/`leafValueSizes`). */
  elements: number;
  pageBytes: number;
}

/** `a`'s first `aLength` bytes against `b`, as compareBytes (no view made of `a`). */
function putU32le(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

function compareWithPrefix(a: Uint8Array, aLength: number, b: Uint8Array): number {
  const n = Math.min(aLength, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return aLength - b.length;
}

/**
 * Usage: `bucket(name)` in ascending name order, `put(key, value)` in
 * ascending key order within it, `finish()` once. Order violations throw
 * (a writer bug, never an input problem: callers sort).
 *
 * Pages are laid out in call order: each bucket's leaves, then its branch
 * levels, then the root bucket page. Without a layout the metas and the
 * freelist (pages 0-2) are written last, at offset 0; with one (`layout`,
 * from a plan of the same calls) they are written first and every write
 * follows the previous one. Page runs are built in one of two reused buffers
 * while the other one's write is in flight (at most one write outstanding).
 */
export class BboltWriter {
  private readonly pageSize: number;
  /** The most a leaf of several elements spans (MAX_LEAF_PAGES pages). */
  private readonly maxLeafBytes: number;
  private readonly plan: boolean;
  private readonly layout: BboltLayout | null;
  private nextPage = 3; // 0, 1 meta; 2 freelist
  /** Pages are built in place in `chunk` (contiguous page ids from `chunkStartPage`) and written when it is full. */
  private chunk: Uint8Array;
  /** The other buffer: its write may be in flight (`inflight`). */
  private spare: Uint8Array;
  private inflight: Promise<void> | null = null;
  private writeError: Error | null = null;
  private chunkBytes = 0;
  private chunkStartPage = 3;
  private readonly buckets: { name: Uint8Array; root: number; keys: number }[] = [];
  private current: OpenBucket | null = null;
  /** The last key put in the current bucket (order check), in a reused buffer. */
  private lastKey = new Uint8Array(64);
  private lastKeyLength = -1;
  /**
   * Keys and values of the leaf being filled (copies: put's arguments may be reused by the caller), one after
   * another as the page's data area lays them out: the leaf is written with one copy of it.
   */
  private scratch = new Uint8Array(2 * DEFAULT_PAGE_SIZE);
  private scratchBytes = 0;
  /** Key and value lengths of the leaf's elements (no object or view per element). */
  private leafKeyLengths: Uint32Array;
  private leafValueSizes: Uint32Array;
  private finished = false;

  /** A writer that only counts pages: `put(key, valueSize)`; `finish()` gives the layout to hand a real writer. */
  static planner(opts: { pageSize?: number } = {}): BboltWriter {
    return new BboltWriter(NULL_SINK, { ...opts, plan: true });
  }

  constructor(
    private readonly sink: PageSink,
    opts: { pageSize?: number; layout?: BboltLayout; plan?: boolean } = {},
  ) {
    this.pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
    this.plan = opts.plan === true;
    this.layout = opts.layout ?? null;
    this.maxLeafBytes = MAX_LEAF_PAGES * this.pageSize;
    // A leaf of several elements fits its span, each element taking ELEMENT_SIZE bytes and a key byte at least.
    this.leafKeyLengths = new Uint32Array(Math.ceil(this.maxLeafBytes / ELEMENT_SIZE) + 1);
    this.leafValueSizes = new Uint32Array(this.leafKeyLengths.length);
    const bytes = this.plan ? 0 : Math.max(FLUSH_BYTES, 2 * this.maxLeafBytes);
    this.chunk = sink.allocate?.(bytes) ?? new Uint8Array(bytes);
    this.spare = sink.allocate?.(bytes) ?? new Uint8Array(bytes);
    if (this.layout) {
      // The head goes first: metas and the empty freelist open the first run of pages.
      this.chunkStartPage = 0;
      this.chunkBytes = 3 * this.pageSize;
      if (!this.plan) this.writeHead(this.chunk, this.layout);
    }
  }

  /** Start a bucket (closes the previous one). */
  async bucket(name: Uint8Array | string): Promise<void> {
    const n = typeof name === 'string' ? new TextEncoder().encode(name) : name;
    await this.closeBucket();
    const prev = this.buckets[this.buckets.length - 1];
    if (prev && compareBytes(prev.name, n) >= 0) throw new BboltWriteError('buckets must be written in ascending name order');
    this.current = { name: n, keys: 0, level0: new LeafRefs(), elements: 0, pageBytes: PAGE_HEADER_SIZE };
    this.lastKeyLength = -1;
  }

  /**
   * `value`: the bytes, or (planner only) their count. Done at once (no promise: most puts only copy into the
   * leaf being filled) unless a page is written; then the promise settles when the put is done. Misuse rejects.
   */
  put(key: Uint8Array, value: Uint8Array | number): void | Promise<void> {
    const b = this.current;
    if (!b) return Promise.reject(new BboltWriteError('put outside a bucket'));
    const valueSize = typeof value === 'number' ? value : value.length;
    if (typeof value === 'number' && !this.plan) return Promise.reject(new BboltWriteError('a value size is only accepted by a planner'));
    if (key.length === 0 || key.length > BBOLT_MAX_KEY_SIZE)
      return Promise.reject(new BboltWriteError(`key size ${key.length} outside 1..${BBOLT_MAX_KEY_SIZE}`));
    if (valueSize < 0 || valueSize > BBOLT_MAX_VALUE_SIZE)
      return Promise.reject(new BboltWriteError(`value size ${valueSize} outside 0..${BBOLT_MAX_VALUE_SIZE}`));
    if (this.lastKeyLength >= 0 && compareWithPrefix(this.lastKey, this.lastKeyLength, key) >= 0) {
      return Promise.reject(new BboltWriteError('keys must be put in ascending order'));
    }
    if (key.length > this.lastKey.length) this.lastKey = new Uint8Array(Math.max(key.length, 2 * this.lastKey.length));
    this.lastKey.set(key);
    this.lastKeyLength = key.length;
    b.keys++;
    const size = ELEMENT_SIZE + key.length + valueSize;
    const bytes = typeof value === 'number' ? null : value;
    if (b.elements > 0 && !this.leafTakes(b.pageBytes, size)) {
      const flushed = this.flushLeaf();
      if (flushed) return flushed.then(() => this.putInLeaf(b, key, bytes, valueSize, size));
    }
    return this.putInLeaf(b, key, bytes, valueSize, size);
  }

  /** The rest of `put` once the leaf has room: the element joins it (or, alone larger than MAX_LEAF_PAGES, is written now). */
  private putInLeaf(b: OpenBucket, key: Uint8Array, bytes: Uint8Array | null, valueSize: number, size: number): void | Promise<void> {
    if (PAGE_HEADER_SIZE + size > this.maxLeafBytes) {
      // Alone in its page span whatever comes next (nothing else fits beside it): written now, from the caller's bytes.
      return this.writeElementsPage([{ key, value: bytes, valueSize, flags: 0 }], LEAF_PAGE_FLAG).then((pgid) => {
        b.level0.push(key, pgid);
      });
    }
    // A plan keeps the keys only (the first is the leaf's branch key); it writes no page.
    this.keep(key);
    if (bytes && !this.plan) this.keep(bytes);
    this.leafKeyLengths[b.elements] = key.length;
    this.leafValueSizes[b.elements] = valueSize;
    b.elements++;
    b.pageBytes += size;
  }

  /**
   * Whether an element of `size` bytes joins a leaf of `pageBytes`: when it fits the pages the leaf already spans,
   * or when flushing now would leave more than an eighth of a page empty and the leaf stays within MAX_LEAF_PAGES
   * (small elements fill one page as before; large ones share a span instead of leaving each page part empty).
   */
  private leafTakes(pageBytes: number, size: number): boolean {
    const spanBytes = Math.ceil(pageBytes / this.pageSize) * this.pageSize;
    if (pageBytes + size <= spanBytes) return true;
    return spanBytes - pageBytes > this.pageSize / 8 && pageBytes + size <= this.maxLeafBytes;
  }

  /** `bytes` appended to the scratch buffer (until the leaf is flushed). */
  private keep(bytes: Uint8Array): void {
    if (this.scratchBytes + bytes.length > this.scratch.length) {
      // Grown with its contents: the leaf's data stays in one run.
      const grown = new Uint8Array(Math.max(2 * this.scratch.length, this.scratchBytes + bytes.length));
      grown.set(this.scratch.subarray(0, this.scratchBytes));
      this.scratch = grown;
    }
    this.scratch.set(bytes, this.scratchBytes);
    this.scratchBytes += bytes.length;
  }

  /** Close the last bucket, write the root bucket page and (without a layout) both metas. */
  async finish(): Promise<BboltWriteResult> {
    if (this.finished) throw new BboltWriteError('finish called twice');
    await this.closeBucket();
    this.finished = true;
    const rootElements: PendingElement[] = this.buckets.map((b) => {
      const v = new Uint8Array(16);
      new DataView(v.buffer).setBigUint64(0, BigInt(b.root), true);
      return { key: b.name, value: v, valueSize: 16, flags: BUCKET_LEAF_FLAG };
    });
    const rootPage = await this.writeElementsPage(rootElements, LEAF_PAGE_FLAG);
    await this.flushChunks();
    await this.settle();
    const hwm = this.nextPage;
    if (this.layout) {
      // The metas went out first, naming the plan's tree: a difference is a bug in the caller's sizes.
      if (this.layout.pages !== hwm || this.layout.rootPage !== rootPage) {
        throw new BboltWriteError(
          `the pages written (${hwm}, root ${rootPage}) differ from the plan (${this.layout.pages}, root ${this.layout.rootPage}): a value's size changed between the plan and the write`,
        );
      }
    } else if (!this.plan) {
      const head = new Uint8Array(3 * this.pageSize);
      this.writeHead(head, { pages: hwm, rootPage });
      await this.sink.write(0, head);
    }
    const dec = new TextDecoder();
    return {
      pages: hwm,
      size: hwm * this.pageSize,
      rootPage,
      buckets: this.buckets.map((b) => ({ name: dec.decode(b.name), keys: b.keys, rootPage: b.root })),
    };
  }

  /** Pages 0-2 into `target`: both metas (txid 2 and 3, the same tree) and an empty freelist. */
  private writeHead(target: Uint8Array, layout: BboltLayout): void {
    for (const id of [0, 1] as const) {
      target.set(
        encodeMetaPage({ id, pageSize: this.pageSize, rootPage: layout.rootPage, freelistPage: 2, highWaterMark: layout.pages, txid: 2 + id }),
        id * this.pageSize,
      );
    }
    const freelist = target.subarray(2 * this.pageSize, 3 * this.pageSize);
    freelist.fill(0);
    const fdv = new DataView(freelist.buffer, freelist.byteOffset, freelist.byteLength);
    fdv.setBigUint64(0, 2n, true);
    fdv.setUint16(8, FREELIST_PAGE_FLAG, true);
  }

  /** The leaf being filled, written; a promise only when the run of pages had to be handed over first. */
  private flushLeaf(): void | Promise<void> {
    const b = this.current!;
    if (b.elements === 0) return;
    const pgid = this.writeLeafPage(b);
    if (typeof pgid !== 'number') return pgid.then((id) => this.endLeaf(b, id));
    this.endLeaf(b, pgid);
  }

  private endLeaf(b: OpenBucket, pgid: number): void {
    // The branch keeps the first key (LeafRefs copies it: the scratch buffer is reused now).
    b.level0.push(this.scratch.subarray(0, this.leafKeyLengths[0]!), pgid);
    b.elements = 0;
    b.pageBytes = PAGE_HEADER_SIZE;
    this.scratchBytes = 0;
  }

  /**
   * The leaf being filled as one page span (at most MAX_LEAF_PAGES: `put` flushes before it would be more),
   * built in the run buffer: the element headers, then the scratch buffer's keys and values in one copy. The same
   * bytes `writeElementsPage` would write, without an object, view or promise per page unless the run is full.
   */
  private writeLeafPage(b: OpenBucket): number | Promise<number> {
    const pgid = this.nextPage;
    const pages = Math.ceil(b.pageBytes / this.pageSize);
    if (this.plan) {
      this.nextPage += pages;
      return pgid;
    }
    const spanBytes = pages * this.pageSize;
    if (this.chunkBytes + spanBytes > this.chunk.length) return this.flushChunks().then(() => this.writeLeafPage(b));
    this.nextPage += pages;
    const page = this.chunk;
    const base = this.chunkBytes;
    this.chunkBytes += spanBytes;
    const n = b.elements;
    putU32le(page, base, pgid % 0x100000000);
    putU32le(page, base + 4, Math.floor(pgid / 0x100000000));
    page[base + 8] = LEAF_PAGE_FLAG & 0xff;
    page[base + 9] = LEAF_PAGE_FLAG >>> 8;
    page[base + 10] = n & 0xff;
    page[base + 11] = n >>> 8;
    putU32le(page, base + 12, pages - 1);
    const headers = PAGE_HEADER_SIZE + n * ELEMENT_SIZE;
    let data = headers;
    for (let i = 0; i < n; i++) {
      const at = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
      const keyLength = this.leafKeyLengths[i]!;
      const valueSize = this.leafValueSizes[i]!;
      putU32le(page, base + at, 0);
      putU32le(page, base + at + 4, data - at);
      putU32le(page, base + at + 8, keyLength);
      putU32le(page, base + at + 12, valueSize);
      data += keyLength + valueSize;
    }
    if (data - headers !== this.scratchBytes || data !== b.pageBytes) throw new BboltWriteError('leaf data does not match its elements (a writer bug)');
    page.set(this.scratch.subarray(0, this.scratchBytes), base + headers);
    page.fill(0, base + data, base + spanBytes);
    return pgid;
  }

  private async closeBucket(): Promise<void> {
    const b = this.current;
    if (!b) return;
    await this.flushLeaf();
    let level: Iterable<ChildRef> & { length: number } = b.level0;
    if (level.length === 0) {
      // An empty bucket: one leaf page with no elements.
      level = [{ key: new Uint8Array(0), pgid: await this.writeElementsPage([], LEAF_PAGE_FLAG) }];
    }
    while (level.length > 1) {
      const next: ChildRef[] = [];
      let group: ChildRef[] = [];
      let bytes = PAGE_HEADER_SIZE;
      for (const ref of level) {
        const size = ELEMENT_SIZE + ref.key.length;
        if (group.length > 0 && bytes + size > this.pageSize) {
          // The group's first key is kept for the level above: a copy (the leaf refs hand out views).
          next.push({ key: new Uint8Array(group[0]!.key), pgid: await this.writeBranchPage(group) });
          group = [];
          bytes = PAGE_HEADER_SIZE;
        }
        group.push(ref);
        bytes += size;
      }
      if (group.length > 0) next.push({ key: new Uint8Array(group[0]!.key), pgid: await this.writeBranchPage(group) });
      // A level that did not shrink would loop forever: a branch page holds at least two children.
      if (next.length >= level.length) throw new BboltWriteError('branch level did not shrink (keys too large for the page size)');
      level = next;
    }
    let root = 0;
    for (const ref of level) root = ref.pgid;
    this.buckets.push({ name: b.name, root, keys: b.keys });
    this.current = null;
  }

  /**
   * A page span for `bytes`, inside the chunk buffer when it fits (no copy, little garbage); no buffer in a plan.
   * Not zeroed: the caller writes every byte up to its data's end and zeroes the rest (`zeroTail`).
   */
  private async allocate(bytes: number): Promise<{ pgid: number; page: Uint8Array | null; overflow: number }> {
    const pages = Math.max(1, Math.ceil(bytes / this.pageSize));
    const len = pages * this.pageSize;
    const pgid = this.nextPage;
    if (this.plan) {
      this.nextPage += pages;
      return { pgid, page: null, overflow: pages - 1 };
    }
    if (this.chunkBytes + len > this.chunk.length) await this.flushChunks();
    this.nextPage += pages;
    if (len > this.chunk.length) {
      // Larger than a chunk: its own buffer, written by emit().
      return { pgid, page: new Uint8Array(len), overflow: pages - 1 };
    }
    const page = this.chunk.subarray(this.chunkBytes, this.chunkBytes + len);
    this.chunkBytes += len;
    return { pgid, page, overflow: pages - 1 };
  }

  private async writeElementsPage(elements: PendingElement[], flags: number): Promise<number> {
    let bytes = PAGE_HEADER_SIZE + elements.length * ELEMENT_SIZE;
    for (const e of elements) bytes += e.key.length + e.valueSize;
    if (elements.length > 0xffff) throw new BboltWriteError('too many elements for one page');
    const { pgid, page, overflow } = await this.allocate(bytes);
    if (!page) return pgid;
    const dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
    dv.setBigUint64(0, BigInt(pgid), true);
    dv.setUint16(8, flags, true);
    dv.setUint16(10, elements.length, true);
    dv.setUint32(12, overflow, true);
    let data = PAGE_HEADER_SIZE + elements.length * ELEMENT_SIZE;
    for (let i = 0; i < elements.length; i++) {
      const e = elements[i]!;
      const at = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
      dv.setUint32(at, e.flags, true);
      dv.setUint32(at + 4, data - at, true);
      dv.setUint32(at + 8, e.key.length, true);
      dv.setUint32(at + 12, e.valueSize, true);
      page.set(e.key, data);
      data += e.key.length;
      if (e.value) page.set(e.value, data);
      else page.fill(0, data, data + e.valueSize);
      data += e.valueSize;
    }
    page.fill(0, data);
    await this.emit(page);
    return pgid;
  }

  private async writeBranchPage(children: ChildRef[]): Promise<number> {
    let bytes = PAGE_HEADER_SIZE + children.length * ELEMENT_SIZE;
    for (const c of children) bytes += c.key.length;
    const { pgid, page, overflow } = await this.allocate(bytes);
    if (!page) return pgid;
    const dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
    dv.setBigUint64(0, BigInt(pgid), true);
    dv.setUint16(8, BRANCH_PAGE_FLAG, true);
    dv.setUint16(10, children.length, true);
    dv.setUint32(12, overflow, true);
    let data = PAGE_HEADER_SIZE + children.length * ELEMENT_SIZE;
    children.forEach((c, i) => {
      const at = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
      dv.setUint32(at, data - at, true);
      dv.setUint32(at + 4, c.key.length, true);
      dv.setBigUint64(at + 8, BigInt(c.pgid), true);
      page.set(c.key, data);
      data += c.key.length;
    });
    page.fill(0, data);
    await this.emit(page);
    return pgid;
  }

  /** A page outside the chunk buffer (bigger than it) is written at once; pages inside it wait for the flush. */
  private async emit(page: Uint8Array): Promise<void> {
    if (page.buffer === this.chunk.buffer) return;
    const pages = page.length / this.pageSize;
    // allocate() flushed the chunk before handing out this span, so nothing is pending before it.
    await this.settle();
    await this.sink.write((this.nextPage - pages) * this.pageSize, page);
    this.chunkStartPage = this.nextPage;
  }

  /** Wait for the write in flight (its buffer is free again); a failed write is thrown here. */
  private async settle(): Promise<void> {
    if (this.inflight) {
      await this.inflight;
      this.inflight = null;
    }
    if (this.writeError !== null) throw this.writeError;
  }

  /** Hand the filled run to the sink without waiting for it (after the previous one is done), and fill the other buffer meanwhile. */
  private async flushChunks(): Promise<void> {
    if (this.chunkBytes > 0) {
      await this.settle();
      const run = this.chunk.subarray(0, this.chunkBytes);
      // Caught at once (a rejection nobody awaits yet would be "unhandled"); settle() rethrows it.
      this.inflight = this.sink.write(this.chunkStartPage * this.pageSize, run).then(
        () => undefined,
        (err: unknown) => {
          this.writeError = err instanceof Error ? err : new Error(String(err));
        },
      );
      const filled = this.chunk;
      this.chunk = this.spare;
      this.spare = filled;
    }
    this.chunkStartPage = this.nextPage;
    this.chunkBytes = 0;
  }
}
