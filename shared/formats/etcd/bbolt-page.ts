/**
 * bbolt page header (16 bytes at the start of every page, bbolt v1.3.6
 * `page.go`): id u64, flags u16, count u16, overflow u32, little-endian. A
 * page occupies `overflow + 1` pages of `pageSize` bytes at `id * pageSize`.
 *
 * The id in the header is what bbolt reports in its errors (`page 0: invalid
 * type: unknown<00>` for a zeroed page at any position), so the header id and
 * the position are kept apart everywhere.
 */

export const PAGE_HEADER_SIZE = 16;

export const BRANCH_PAGE_FLAG = 0x01;
export const LEAF_PAGE_FLAG = 0x02;
export const META_PAGE_FLAG = 0x04;
export const FREELIST_PAGE_FLAG = 0x10;

/** Leaf element flag: the value is a sub-bucket (InBucket header + inline page, or a root page id). */
export const BUCKET_LEAF_FLAG = 0x01;

/** bbolt's "no freelist page" marker (etcd on Linux never syncs the freelist). */
export const PGID_NO_FREELIST = 0xffff_ffff_ffff_ffffn;

export interface PageHeader {
  /** Header id, clamped to Number.MAX_SAFE_INTEGER (a garbage id larger than any file). */
  readonly id: number;
  /** `id` is the header id itself (it is at most Number.MAX_SAFE_INTEGER): no need for `idBig`. */
  readonly idExact: boolean;
  /** The exact 64-bit header id (for texts that must print it as bbolt would). */
  readonly idBig: bigint;
  readonly flags: number;
  readonly count: number;
  readonly overflow: number;
}

/** A decoded header; the BigInt id is only made when asked for (a walk decodes a header per page). */
class DecodedPageHeader implements PageHeader {
  readonly id: number;
  readonly idExact: boolean;
  constructor(
    private readonly idLow: number,
    private readonly idHigh: number,
    readonly flags: number,
    readonly count: number,
    readonly overflow: number,
  ) {
    this.idExact = idHigh < 0x200000;
    this.id = this.idExact ? idHigh * 0x1_0000_0000 + idLow : Number.MAX_SAFE_INTEGER;
  }

  get idBig(): bigint {
    return (BigInt(this.idHigh) << 32n) | BigInt(this.idLow);
  }
}

/** A little-endian u32 of a page's bytes (a DataView per page cost more than these reads). */
export function u32le(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Decode a page header at `offset` of `bytes`; null when fewer than 16 bytes are there. Never throws. */
export function decodePageHeader(bytes: Uint8Array, offset = 0): PageHeader | null {
  if (offset < 0 || offset + PAGE_HEADER_SIZE > bytes.length) return null;
  const o = offset;
  return new DecodedPageHeader(
    u32le(bytes, o),
    u32le(bytes, o + 4),
    bytes[o + 8]! | (bytes[o + 9]! << 8),
    bytes[o + 10]! | (bytes[o + 11]! << 8),
    u32le(bytes, o + 12),
  );
}

export function encodePageHeader(h: { id: number | bigint; flags: number; count: number; overflow: number }): Uint8Array {
  const out = new Uint8Array(PAGE_HEADER_SIZE);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(h.id), true);
  dv.setUint16(8, h.flags, true);
  dv.setUint16(10, h.count, true);
  dv.setUint32(12, h.overflow, true);
  return out;
}

/** bbolt's `page.typ()`: the first set bit among branch, leaf, meta, freelist; else `unknown<%02x>`. */
export function pageTypeName(flags: number): 'branch' | 'leaf' | 'meta' | 'freelist' | `unknown<${string}>` {
  if (flags & BRANCH_PAGE_FLAG) return 'branch';
  if (flags & LEAF_PAGE_FLAG) return 'leaf';
  if (flags & META_PAGE_FLAG) return 'meta';
  if (flags & FREELIST_PAGE_FLAG) return 'freelist';
  return `unknown<${flags.toString(16).padStart(2, '0')}>`;
}

export function isBranch(flags: number): boolean {
  return (flags & BRANCH_PAGE_FLAG) !== 0;
}

/** Leaf as bbolt's cursor sees it (branch takes precedence in `forEachPage`). */
export function isLeaf(flags: number): boolean {
  return (flags & BRANCH_PAGE_FLAG) === 0 && (flags & LEAF_PAGE_FLAG) !== 0;
}

/** Bytes shown as UTF-8 when printable, else null. */
export function printable(bytes: Uint8Array, max = 256): string | null {
  if (bytes.length > max) return null;
  for (const b of bytes) if (b < 0x20 || b > 0x7e) return null;
  return String.fromCharCode(...bytes);
}

export function toHex(bytes: Uint8Array, max = Infinity): string {
  let s = '';
  const n = Math.min(bytes.length, max);
  for (let i = 0; i < n; i++) s += bytes[i]!.toString(16).padStart(2, '0');
  return s;
}
