/**
 * bbolt branch and leaf elements (bbolt v1.3.6 `page.go`), 16 bytes each
 * after the page header:
 * - branch: pos u32, ksize u32, pgid u64 (the child page);
 * - leaf:   flags u32, pos u32, ksize u32, vsize u32 (flags 1 = sub-bucket).
 * `pos` counts from the element's own address; a leaf's value follows its key.
 *
 * bbolt reads these through unsafe pointers without any bounds check, so a
 * damaged page makes it read garbage or fault. Here every element is checked
 * against the bytes of its page span (`overflow + 1` pages) and a bad one is
 * returned with a problem instead of being read.
 */
import { BUCKET_LEAF_FLAG, PAGE_HEADER_SIZE, u32le } from './bbolt-page';

export const ELEMENT_SIZE = 16;

/** bbolt's MaxKeySize (bucket.go): no key it writes is longer; a longer size is garbage, and reads of it stop here. */
export const BBOLT_MAX_KEY_SIZE = 32768;

/**
 * bbolt's maxAllocSize on 64-bit (bolt_amd64.go): it makes an element's key and value slices through a
 * `*[maxAllocSize]byte` array (unsafe.go `unsafeByteSlice`, `[i:j:j]` from the element's address), so Go's bounds
 * check panics on a slice that would end past it, before any byte is read.
 */
export const BBOLT_MAX_ALLOC_SIZE = 0x7fffffff;

/** Which slice of an element ends past BBOLT_MAX_ALLOC_SIZE first, and where (bytes from the element's address). */
export interface ElementSliceOverrun {
  part: 'key' | 'value';
  end: number;
}

/**
 * The first slice bbolt makes of an element that ends past maxAllocSize: a leaf's key (`pos + ksize`), then its
 * value (`pos + ksize + vsize`, page.go `leafPageElement.value`), or a branch's key (`valueSize` null). bbolt's
 * cursor makes both of a leaf's slices for every element it visits, so iterating the bucket panics there.
 */
export function elementSliceOverrun(keyPos: number, keySize: number, valueSize: number | null): ElementSliceOverrun | null {
  const keyEnd = keyPos + keySize;
  if (keyEnd > BBOLT_MAX_ALLOC_SIZE) return { part: 'key', end: keyEnd };
  if (valueSize !== null && keyEnd + valueSize > BBOLT_MAX_ALLOC_SIZE) return { part: 'value', end: keyEnd + valueSize };
  return null;
}

/** Go's text for that panic (a three-index slice whose cap passes the array's length). */
export function sliceOverrunPanic(end: number): string {
  return `runtime error: slice bounds out of range [::${end}] with length ${BBOLT_MAX_ALLOC_SIZE}`;
}

export interface BranchElement {
  index: number;
  key: Uint8Array;
  child: number;
  childBig: bigint;
  /** The raw `pos` and `ksize` (relative to the element), also when they point outside the page. */
  keyPos: number;
  keySize: number;
  /** Offset of the element within the page span. */
  at: number;
  problem: string | null;
}

export interface LeafElement {
  index: number;
  flags: number;
  /** The raw `pos` and `ksize` (relative to the element), also when they point outside the page. */
  keyPos: number;
  keySize: number;
  valueSize: number;
  /** With `problem`: `key`/`value` are the bytes bbolt would read outside the page (still inside the file). */
  outOfPage?: boolean;
  /**
   * With `outOfPage`: `value` holds only the first bytes of the `valueSize` bbolt hands out, because the rest
   * lies past the end of the file (`file-end`: reading it faults, `faultPastFile` says how) or past what the
   * walk reads of one element (`read-limit`: unknown).
   */
  valueCut?: 'file-end' | 'read-limit';
  faultPastFile?: string;
  key: Uint8Array;
  value: Uint8Array;
  at: number;
  problem: string | null;
}

const EMPTY = new Uint8Array(0);

/**
 * Longest bucket name decoded whole. etcd's are a few bytes; a longer one is garbage, and a damaged page can declare
 * thousands of sub-buckets whose keys overlap across its span: decoding each in full was quadratic in the span
 * (a fuzzed 1.4 MB db took seconds in TextDecoder alone).
 */
export const MAX_BUCKET_NAME_BYTES = 255;
const utf8Names = new TextDecoder();

/** A bucket element's key as its name: the text, or for a name past MAX_BUCKET_NAME_BYTES its first bytes and size (two such garbage names alike in both read as one bucket). */
export function bucketNameOf(key: Uint8Array): string {
  if (key.length <= MAX_BUCKET_NAME_BYTES) return utf8Names.decode(key);
  return `${utf8Names.decode(key.subarray(0, 32))}… (${key.length} bytes)`;
}

/** How many of `count` elements have their 16-byte slot inside `spanLength` bytes. */
export function elementsThatFit(count: number, spanLength: number): number {
  return Math.max(0, Math.min(count, Math.floor((spanLength - PAGE_HEADER_SIZE) / ELEMENT_SIZE)));
}

/**
 * Branch elements of a page span (`span` starts at the page header). Elements
 * whose slot lies outside the span are not returned (the caller reports the
 * count); a key outside the span gives an element with an empty key and a problem.
 */
/**
 * A branch element whose 64-bit child id is kept as its two halves: the
 * BigInt is made only when asked for (a walk decodes one element per page of
 * the db and needs the exact id only in a problem's text).
 */
class DecodedBranchElement implements BranchElement {
  constructor(
    readonly index: number,
    public key: Uint8Array,
    readonly child: number,
    private readonly childLow: number,
    private readonly childHigh: number,
    readonly keyPos: number,
    readonly keySize: number,
    readonly at: number,
    readonly problem: string | null,
  ) {}

  get childBig(): bigint {
    return (BigInt(this.childHigh) << 32n) | BigInt(this.childLow);
  }
}

/**
 * The page bbolt reads for a branch element's child: `db.page(id)` takes
 * `&db.data[id * pageSize]` in uint64 arithmetic, so an id whose offset passes
 * 2^64 wraps around (one flipped top byte of the id can land on the very page it
 * meant: etcd starts and reads it). The number is clamped above 2^53 - 1 (past
 * any file); an offset that wraps to no page boundary is left unmapped.
 */
export function childPageOf(e: BranchElement, pageSize: number): number {
  // Exact in doubles for any page size that is a power of two; the BigInt path only for the rare id past 2^63 bytes.
  if (e.child < Number.MAX_SAFE_INTEGER && e.child * pageSize < 2 ** 63) return e.child;
  const size = BigInt(pageSize);
  const at = BigInt.asUintN(64, e.childBig * size);
  if (at % size !== 0n) return e.child;
  const page = at / size;
  return page >= BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(page);
}

export function decodeBranchElements(span: Uint8Array, count: number): BranchElement[] {
  const n = elementsThatFit(count, span.length);
  const out: BranchElement[] = [];
  for (let i = 0; i < n; i++) {
    const at = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    const pos = u32le(span, at);
    const ksize = u32le(span, at + 4);
    const childLow = u32le(span, at + 8);
    const childHigh = u32le(span, at + 12);
    // Above 2^53 - 1 the number is clamped (childBig has the exact id).
    const child = childHigh >= 0x200000 ? Number.MAX_SAFE_INTEGER : childHigh * 0x1_0000_0000 + childLow;
    const kStart = at + pos;
    const kEnd = kStart + ksize;
    if (kEnd > span.length) {
      const problem = `element ${i}: key (${ksize} bytes at +${pos}) runs past the end of the page (${span.length} bytes)`;
      out.push(new DecodedBranchElement(i, EMPTY, child, childLow, childHigh, pos, ksize, at, problem));
    } else out.push(new DecodedBranchElement(i, span.subarray(kStart, kEnd), child, childLow, childHigh, pos, ksize, at, null));
  }
  return out;
}

export function decodeLeafElements(span: Uint8Array, count: number): LeafElement[] {
  const n = elementsThatFit(count, span.length);
  const out: LeafElement[] = [];
  for (let i = 0; i < n; i++) out.push(decodeLeafElementAt(span, i));
  return out;
}

/** Leaf element `i` of a page span (its 16-byte slot must lie inside the span: `elementsThatFit`). */
export function decodeLeafElementAt(span: Uint8Array, i: number): LeafElement {
  const at = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
  const flags = u32le(span, at);
  const pos = u32le(span, at + 4);
  const ksize = u32le(span, at + 8);
  const vsize = u32le(span, at + 12);
  const kStart = at + pos;
  const vEnd = kStart + ksize + vsize;
  const fits = vEnd <= span.length;
  return {
    index: i,
    flags,
    keyPos: pos,
    keySize: ksize,
    valueSize: vsize,
    key: fits ? span.subarray(kStart, kStart + ksize) : EMPTY,
    value: fits ? span.subarray(kStart + ksize, vEnd) : EMPTY,
    at,
    problem: fits ? null : `element ${i}: key and value (${ksize} + ${vsize} bytes at +${pos}) run past the end of the page (${span.length} bytes)`,
  };
}

/** Byte-wise comparison (Go's bytes.Compare). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return compareBytesAt(a, 0, a.length, b, 0, b.length);
}

/** `compareBytes` of `a[aStart, aStart + aLength)` and `b[bStart, bStart + bLength)`, without views. */
export function compareBytesAt(a: Uint8Array, aStart: number, aLength: number, b: Uint8Array, bStart: number, bLength: number): number {
  const n = Math.min(aLength, bLength);
  for (let i = 0; i < n; i++) {
    const x = a[aStart + i]!;
    const y = b[bStart + i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return aLength - bLength;
}

/**
 * A leaf read in place: the walk hands some leaves over as their span and this instead of element objects (two
 * views and an object per element, and reading them, cost ~7% of the bench db's validation CPU). Each element's
 * 16-byte slot is read once into these columns; one instance is reused from leaf to leaf, so nothing of it may be
 * kept past a leaf.
 */
export class PlainLeaf {
  count = 0;
  /** Per element: where its key starts in the span, the key's and the value's sizes (the value follows the key). */
  keyStart = new Int32Array(256);
  keySize = new Int32Array(256);
  valueSize = new Int32Array(256);

  /**
   * Read the `count` slots of `span`; false (and nothing to use) unless the leaf reads in place: every slot and
   * every key and value inside the span (decodeLeafElements would find no problem in any of the `count`), and no
   * element a sub-bucket.
   */
  read(span: Uint8Array, count: number): boolean {
    if (elementsThatFit(count, span.length) < count) return false;
    if (count > this.keyStart.length) {
      const n = Math.max(count, this.keyStart.length * 2);
      this.keyStart = new Int32Array(n);
      this.keySize = new Int32Array(n);
      this.valueSize = new Int32Array(n);
    }
    const keyStart = this.keyStart;
    const keySize = this.keySize;
    const valueSize = this.valueSize;
    for (let i = 0; i < count; i++) {
      const at = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
      if ((u32le(span, at) & BUCKET_LEAF_FLAG) !== 0) return false;
      const k = at + u32le(span, at + 4);
      const ks = u32le(span, at + 8);
      const vs = u32le(span, at + 12);
      // In doubles: garbage sizes near 2^32 cannot wrap into the span.
      if (k + ks + vs > span.length) return false;
      keyStart[i] = k;
      keySize[i] = ks;
      valueSize[i] = vs;
    }
    this.count = count;
    return true;
  }

  /**
   * Whether the keys read are strictly ascending, the first not below `lo` and the last below `hi` (the bounds
   * the parent branch gives, null for none): the checks the walk's key-order problems are made of.
   */
  inOrder(span: Uint8Array, lo: Uint8Array | null, hi: Uint8Array | null): boolean {
    const n = this.count;
    if (n === 0) return true;
    const keyStart = this.keyStart;
    const keySize = this.keySize;
    if (lo && compareBytesAt(span, keyStart[0]!, keySize[0]!, lo, 0, lo.length) < 0) return false;
    for (let i = 1; i < n; i++) {
      if (compareBytesAt(span, keyStart[i]!, keySize[i]!, span, keyStart[i - 1]!, keySize[i - 1]!) <= 0) return false;
    }
    return !hi || compareBytesAt(span, keyStart[n - 1]!, keySize[n - 1]!, hi, 0, hi.length) < 0;
  }
}

/** Encode leaf elements into a page image (for tests and inline buckets). */
export function encodeLeafPage(id: number, items: { key: Uint8Array; value: Uint8Array; flags?: number }[], size?: number): Uint8Array {
  const dataLen = items.reduce((s, it) => s + it.key.length + it.value.length, 0);
  const need = PAGE_HEADER_SIZE + items.length * ELEMENT_SIZE + dataLen;
  const out = new Uint8Array(Math.max(size ?? need, need));
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(id), true);
  dv.setUint16(8, 0x02, true);
  dv.setUint16(10, items.length, true);
  let data = PAGE_HEADER_SIZE + items.length * ELEMENT_SIZE;
  items.forEach((it, i) => {
    const at = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    dv.setUint32(at, it.flags ?? 0, true);
    dv.setUint32(at + 4, data - at, true);
    dv.setUint32(at + 8, it.key.length, true);
    dv.setUint32(at + 12, it.value.length, true);
    out.set(it.key, data);
    out.set(it.value, data + it.key.length);
    data += it.key.length + it.value.length;
  });
  return out;
}
