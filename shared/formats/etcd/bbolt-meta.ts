/**
 * bbolt meta pages 0 and 1 (bbolt v1.3.6 `db.go`): after the 16-byte page
 * header, magic u32, version u32, pageSize u32, flags u32, root bucket
 * {root pgid u64, sequence u64}, freelist pgid u64, pgid (high-water mark)
 * u64, txid u64, checksum u64 = FNV-1a 64 over the 56 bytes before it.
 *
 * `validateMeta` follows bbolt's `meta.validate()` order and texts: magic
 * (`invalid database`), version (`version mismatch`), checksum (`checksum
 * error`, skipped when the stored checksum is 0). `chooseMeta` is
 * `db.meta()`: the higher txid if it validates, else the other if it does.
 */
import type { BboltMetaInfo } from '../../contract/etcd';
import { META_PAGE_FLAG, PAGE_HEADER_SIZE, PGID_NO_FREELIST } from './bbolt-page';

export const BBOLT_MAGIC = 0xed0cdaed;
export const BBOLT_VERSION = 2;
/** Bytes of the meta body (without the page header). */
export const META_SIZE = 64;
const CHECKSUMMED = 56;

export const ERR_INVALID = 'invalid database';
export const ERR_VERSION_MISMATCH = 'version mismatch';
export const ERR_CHECKSUM = 'checksum error';

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK64 = 0xffff_ffff_ffff_ffffn;

/** FNV-1a 64 (Go's hash/fnv New64a). */
export function fnv1a64(bytes: Uint8Array): bigint {
  let h = FNV_OFFSET;
  for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK64;
  return h;
}

export interface MetaFields {
  magic: number;
  version: number;
  pageSize: number;
  flags: number;
  root: bigint;
  sequence: bigint;
  freelist: bigint;
  pgid: bigint;
  txid: bigint;
  checksum: bigint;
}

function clamp(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** Decode the meta body from a meta page's bytes (header included). Short input reads as zeros (invalid). Never throws. */
export function decodeMetaFields(page: Uint8Array): { fields: MetaFields; computed: bigint } {
  const body = new Uint8Array(META_SIZE);
  body.set(page.subarray(PAGE_HEADER_SIZE, PAGE_HEADER_SIZE + META_SIZE));
  const dv = new DataView(body.buffer);
  const fields: MetaFields = {
    magic: dv.getUint32(0, true),
    version: dv.getUint32(4, true),
    pageSize: dv.getUint32(8, true),
    flags: dv.getUint32(12, true),
    root: dv.getBigUint64(16, true),
    sequence: dv.getBigUint64(24, true),
    freelist: dv.getBigUint64(32, true),
    pgid: dv.getBigUint64(40, true),
    txid: dv.getBigUint64(48, true),
    checksum: dv.getBigUint64(56, true),
  };
  return { fields, computed: fnv1a64(body.subarray(0, CHECKSUMMED)) };
}

/** bbolt's `meta.validate()`: null when valid, else its error text. */
export function validateMeta(fields: MetaFields, computed: bigint): string | null {
  if (fields.magic !== BBOLT_MAGIC) return ERR_INVALID;
  if (fields.version !== BBOLT_VERSION) return ERR_VERSION_MISMATCH;
  if (fields.checksum !== 0n && fields.checksum !== computed) return ERR_CHECKSUM;
  return null;
}

/** bbolt's default page size, and the one bbolt v1.3.6 assumes when meta 0 is invalid (os.Getpagesize() on amd64/arm64 Linux). */
export const DEFAULT_PAGE_SIZE = 4096;

/** Page sizes bbolt writes (512 B to 64 KiB, powers of two). */
const USABLE_PAGE_SIZES: readonly number[] = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];

/**
 * The page size to read a db's pages with when its tree may not be usable
 * (salvage, the page map found by scanning headers): meta 0's when meta 0
 * validates and names a usable size, else 4096 (bbolt's default, and etcd's on
 * every platform it ships for). `head`: the file's first bytes (4096 are enough).
 */
export function settledPageSize(head: Uint8Array): number {
  const m0 = decodeMetaFields(head.subarray(0, DEFAULT_PAGE_SIZE));
  return validateMeta(m0.fields, m0.computed) === null && USABLE_PAGE_SIZES.includes(m0.fields.pageSize) ? m0.fields.pageSize : DEFAULT_PAGE_SIZE;
}

/** The contract's view of one meta page. `page` is the meta's position (0 or 1). */
export function decodeMeta(pageBytes: Uint8Array, page: 0 | 1): BboltMetaInfo & { fields: MetaFields } {
  const { fields, computed } = decodeMetaFields(pageBytes);
  const error = pageBytes.length < PAGE_HEADER_SIZE + META_SIZE ? ERR_INVALID : validateMeta(fields, computed);
  return {
    page,
    ok: error === null,
    error,
    magic: fields.magic,
    version: fields.version,
    pageSize: fields.pageSize,
    flags: fields.flags,
    rootPage: clamp(fields.root),
    freelistPage: fields.freelist === PGID_NO_FREELIST ? null : clamp(fields.freelist),
    highWaterMark: clamp(fields.pgid),
    txid: clamp(fields.txid),
    checksum: fields.checksum.toString(16).padStart(16, '0'),
    fields,
  };
}

/** `db.meta()`: the valid meta with the higher txid (meta1 wins only when strictly higher), else the other valid one. */
export function chooseMeta(metas: readonly { page: 0 | 1; ok: boolean; fields: MetaFields }[]): 0 | 1 | null {
  const m0 = metas.find((m) => m.page === 0);
  const m1 = metas.find((m) => m.page === 1);
  if (!m0 || !m1) return m0?.ok ? 0 : m1?.ok ? 1 : null;
  const [a, b] = m1.fields.txid > m0.fields.txid ? [m1, m0] : [m0, m1];
  if (a.ok) return a.page;
  if (b.ok) return b.page;
  return null;
}

/** A meta page image (header + body with a correct checksum), for tests and the repair engineer's writer. */
export function encodeMetaPage(
  m: Omit<MetaFields, 'checksum' | 'magic' | 'version'> & { magic?: number; version?: number },
  pageSize: number,
  pageId?: 0 | 1,
): Uint8Array {
  const out = new Uint8Array(pageSize);
  const dv = new DataView(out.buffer);
  const id = pageId ?? Number(m.txid % 2n);
  dv.setBigUint64(0, BigInt(id), true);
  dv.setUint16(8, META_PAGE_FLAG, true);
  const o = PAGE_HEADER_SIZE;
  dv.setUint32(o, m.magic ?? BBOLT_MAGIC, true);
  dv.setUint32(o + 4, m.version ?? BBOLT_VERSION, true);
  dv.setUint32(o + 8, m.pageSize, true);
  dv.setUint32(o + 12, m.flags, true);
  dv.setBigUint64(o + 16, m.root, true);
  dv.setBigUint64(o + 24, m.sequence, true);
  dv.setBigUint64(o + 32, m.freelist, true);
  dv.setBigUint64(o + 40, m.pgid, true);
  dv.setBigUint64(o + 48, m.txid, true);
  dv.setBigUint64(o + 56, fnv1a64(out.subarray(o, o + CHECKSUMMED)), true);
  return out;
}
