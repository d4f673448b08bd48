/**
 * Writes a valid bbolt file (the format of etcd's `member/snap/db` and of a
 * `snapshot.db` without its trailer), streaming: keys arrive in order, leaf
 * pages are written as they fill, branch levels after each bucket, the root
 * bucket page and the two meta pages last. Memory holds one page being filled
 * plus the first key of every page of the current bucket's lower level.
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
 *   key = first key of the child), a value too large for one page goes alone
 *   into a page with `overflow` continuation pages.
 * - last the root bucket leaf: bucket name -> InBucket {root pgid, sequence}
 *   with the bucket flag. Every bucket is written as a paged bucket (never
 *   inline; inline is only bbolt's space optimisation, both are valid).
 */
import { compareBytes } from './bbolt-element';
import { BBOLT_MAGIC, BBOLT_VERSION, fnv1a64 } from './bbolt-meta';
import { BRANCH_PAGE_FLAG, BUCKET_LEAF_FLAG, FREELIST_PAGE_FLAG, LEAF_PAGE_FLAG, META_PAGE_FLAG, PAGE_HEADER_SIZE } from './bbolt-page';

export const DEFAULT_PAGE_SIZE = 4096;
/** bbolt's limits (bucket.go): MaxKeySize 32768, MaxValueSize 2^31-2. */
export const BBOLT_MAX_KEY_SIZE = 32768;
export const BBOLT_MAX_VALUE_SIZE = 0x7ffffffe;
const ELEMENT_SIZE = 16;
/** Pages are handed to the sink in runs of about this many bytes. */
const FLUSH_BYTES = 1 << 20;

/**
 * Where the pages go: positional writes (the metas are written last, at
 * offset 0). The bytes handed over are reused after `write` resolves: a sink
 * that keeps them must copy.
 */
export interface PageSink {
  write(offset: number, bytes: Uint8Array): Promise<void>;
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
  value: Uint8Array;
  flags: number;
}

interface ChildRef {
  key: Uint8Array;
  pgid: number;
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
  buckets: { name: string; keys: number; rootPage: number }[];
}

/**
 * Usage: `bucket(name)` in ascending name order, `put(key, value)` in
 * ascending key order within it, `finish()` once. Order violations throw
 * (a writer bug, never an input problem: callers sort).
 */
export class BboltWriter {
  private readonly pageSize: number;
  private nextPage = 3; // 0, 1 meta; 2 freelist
  /** Pages are built in place in this buffer (contiguous page ids) and written when it is full. */
  private chunk = new Uint8Array(FLUSH_BYTES);
  private chunkBytes = 0;
  private chunkStartPage = 3;
  private readonly buckets: { name: Uint8Array; root: number; keys: number }[] = [];
  private current: { name: Uint8Array; keys: number; level0: ChildRef[]; page: PendingElement[]; pageBytes: number; lastKey: Uint8Array | null } | null = null;
  /** Keys and values of the leaf being filled (copies: put's arguments may be reused by the caller). */
  private scratch = new Uint8Array(2 * DEFAULT_PAGE_SIZE);
  private scratchBytes = 0;
  private finished = false;

  constructor(
    private readonly sink: PageSink,
    opts: { pageSize?: number } = {},
  ) {
    this.pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  }

  /** Start a bucket (closes the previous one). */
  async bucket(name: Uint8Array | string): Promise<void> {
    const n = typeof name === 'string' ? new TextEncoder().encode(name) : name;
    await this.closeBucket();
    const prev = this.buckets[this.buckets.length - 1];
    if (prev && compareBytes(prev.name, n) >= 0) throw new BboltWriteError('buckets must be written in ascending name order');
    this.current = { name: n, keys: 0, level0: [], page: [], pageBytes: PAGE_HEADER_SIZE, lastKey: null };
  }

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    const b = this.current;
    if (!b) throw new BboltWriteError('put outside a bucket');
    if (key.length === 0 || key.length > BBOLT_MAX_KEY_SIZE) throw new BboltWriteError(`key size ${key.length} outside 1..${BBOLT_MAX_KEY_SIZE}`);
    if (value.length > BBOLT_MAX_VALUE_SIZE) throw new BboltWriteError(`value size ${value.length} above ${BBOLT_MAX_VALUE_SIZE}`);
    if (b.lastKey && compareBytes(b.lastKey, key) >= 0) throw new BboltWriteError('keys must be put in ascending order');
    b.lastKey = new Uint8Array(key);
    b.keys++;
    const size = ELEMENT_SIZE + key.length + value.length;
    if (b.page.length > 0 && b.pageBytes + size > this.pageSize) await this.flushLeaf();
    if (PAGE_HEADER_SIZE + size > this.pageSize) {
      // Alone in its page span whatever comes next (nothing else fits beside it): written now, from the caller's bytes.
      const pgid = await this.writeElementsPage([{ key, value, flags: 0 }], LEAF_PAGE_FLAG);
      b.level0.push({ key: b.lastKey, pgid });
      return;
    }
    const keyCopy = this.keep(key);
    const valueCopy = this.keep(value);
    b.page.push({ key: keyCopy, value: valueCopy, flags: 0 });
    b.pageBytes += size;
  }

  /** A copy of `bytes` in the scratch buffer (valid until the leaf is flushed). */
  private keep(bytes: Uint8Array): Uint8Array {
    if (this.scratchBytes + bytes.length > this.scratch.length) {
      // Grown, not moved: pending elements keep viewing the old buffer until the flush.
      this.scratch = new Uint8Array(Math.max(2 * this.scratch.length, this.scratchBytes + bytes.length));
      this.scratchBytes = 0;
    }
    const copy = this.scratch.subarray(this.scratchBytes, this.scratchBytes + bytes.length);
    copy.set(bytes);
    this.scratchBytes += bytes.length;
    return copy;
  }

  /** Close the last bucket, write the root bucket page and both metas. */
  async finish(): Promise<BboltWriteResult> {
    if (this.finished) throw new BboltWriteError('finish called twice');
    await this.closeBucket();
    this.finished = true;
    const rootElements: PendingElement[] = this.buckets.map((b) => {
      const v = new Uint8Array(16);
      new DataView(v.buffer).setBigUint64(0, BigInt(b.root), true);
      return { key: b.name, value: v, flags: BUCKET_LEAF_FLAG };
    });
    const rootPage = await this.writeElementsPage(rootElements, LEAF_PAGE_FLAG);
    await this.flushChunks();
    const hwm = this.nextPage;
    const freelist = new Uint8Array(this.pageSize);
    const fdv = new DataView(freelist.buffer);
    fdv.setBigUint64(0, 2n, true);
    fdv.setUint16(8, FREELIST_PAGE_FLAG, true);
    await this.sink.write(2 * this.pageSize, freelist);
    for (const id of [0, 1] as const) {
      const meta = encodeMetaPage({ id, pageSize: this.pageSize, rootPage, freelistPage: 2, highWaterMark: hwm, txid: 2 + id });
      await this.sink.write(id * this.pageSize, meta);
    }
    const dec = new TextDecoder();
    return {
      pages: hwm,
      size: hwm * this.pageSize,
      buckets: this.buckets.map((b) => ({ name: dec.decode(b.name), keys: b.keys, rootPage: b.root })),
    };
  }

  private async flushLeaf(): Promise<void> {
    const b = this.current!;
    if (b.page.length === 0) return;
    const pgid = await this.writeElementsPage(b.page, LEAF_PAGE_FLAG);
    // The branch keeps the first key: a copy out of the scratch buffer, which is reused now.
    b.level0.push({ key: new Uint8Array(b.page[0]!.key), pgid });
    b.page = [];
    b.pageBytes = PAGE_HEADER_SIZE;
    this.scratchBytes = 0;
  }

  private async closeBucket(): Promise<void> {
    const b = this.current;
    if (!b) return;
    await this.flushLeaf();
    let level = b.level0;
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
          next.push({ key: group[0]!.key, pgid: await this.writeBranchPage(group) });
          group = [];
          bytes = PAGE_HEADER_SIZE;
        }
        group.push(ref);
        bytes += size;
      }
      if (group.length > 0) next.push({ key: group[0]!.key, pgid: await this.writeBranchPage(group) });
      // A level that did not shrink would loop forever: a branch page holds at least two children.
      if (next.length >= level.length) throw new BboltWriteError('branch level did not shrink (keys too large for the page size)');
      level = next;
    }
    this.buckets.push({ name: b.name, root: level[0]!.pgid, keys: b.keys });
    this.current = null;
  }

  /** A zeroed page span for `bytes`, inside the chunk buffer when it fits (no copy, little garbage). */
  private async allocate(bytes: number): Promise<{ pgid: number; page: Uint8Array; overflow: number }> {
    const pages = Math.max(1, Math.ceil(bytes / this.pageSize));
    const len = pages * this.pageSize;
    if (this.chunkBytes + len > this.chunk.length) await this.flushChunks();
    const pgid = this.nextPage;
    this.nextPage += pages;
    if (len > this.chunk.length) {
      // Larger than a chunk: its own buffer, written by emit().
      return { pgid, page: new Uint8Array(len), overflow: pages - 1 };
    }
    const page = this.chunk.subarray(this.chunkBytes, this.chunkBytes + len);
    page.fill(0);
    this.chunkBytes += len;
    return { pgid, page, overflow: pages - 1 };
  }

  private async writeElementsPage(elements: PendingElement[], flags: number): Promise<number> {
    let bytes = PAGE_HEADER_SIZE + elements.length * ELEMENT_SIZE;
    for (const e of elements) bytes += e.key.length + e.value.length;
    if (elements.length > 0xffff) throw new BboltWriteError('too many elements for one page');
    const { pgid, page, overflow } = await this.allocate(bytes);
    const dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
    dv.setBigUint64(0, BigInt(pgid), true);
    dv.setUint16(8, flags, true);
    dv.setUint16(10, elements.length, true);
    dv.setUint32(12, overflow, true);
    let data = PAGE_HEADER_SIZE + elements.length * ELEMENT_SIZE;
    elements.forEach((e, i) => {
      const at = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
      dv.setUint32(at, e.flags, true);
      dv.setUint32(at + 4, data - at, true);
      dv.setUint32(at + 8, e.key.length, true);
      dv.setUint32(at + 12, e.value.length, true);
      page.set(e.key, data);
      data += e.key.length;
      page.set(e.value, data);
      data += e.value.length;
    });
    await this.emit(page);
    return pgid;
  }

  private async writeBranchPage(children: ChildRef[]): Promise<number> {
    let bytes = PAGE_HEADER_SIZE + children.length * ELEMENT_SIZE;
    for (const c of children) bytes += c.key.length;
    const { pgid, page, overflow } = await this.allocate(bytes);
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
    await this.emit(page);
    return pgid;
  }

  /** A page outside the chunk buffer (bigger than it) is written at once; pages inside it wait for the flush. */
  private async emit(page: Uint8Array): Promise<void> {
    if (page.buffer === this.chunk.buffer) return;
    const pages = page.length / this.pageSize;
    // allocate() flushed the chunk before handing out this span, so nothing is pending before it.
    await this.sink.write((this.nextPage - pages) * this.pageSize, page);
    this.chunkStartPage = this.nextPage;
  }

  private async flushChunks(): Promise<void> {
    if (this.chunkBytes > 0) {
      // The sink may keep the bytes (memory sink copies; file sink writes): hand over a copy-free view, then start a new buffer.
      await this.sink.write(this.chunkStartPage * this.pageSize, this.chunk.subarray(0, this.chunkBytes));
    }
    this.chunkStartPage = this.nextPage;
    this.chunkBytes = 0;
  }
}
