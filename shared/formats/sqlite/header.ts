/**
 * The 100-byte SQLite database header at the start of page 1
 * (fileformat2.html "The Database Header"; `sqlite:src/btree.c`
 * lockBtree checks the same fields). Big-endian:
 *
 *   0   16  "SQLite format 3\0"
 *   16  2   page size (1 means 65536; a power of two from 512)
 *   18  1+1 write and read version (1 legacy journal, 2 WAL)
 *   20  1   bytes reserved at the end of each page
 *   21  3   payload fractions, which must be 64, 32, 32
 *   24  4   file change counter
 *   28  4   size in pages (trusted only when offset 92 equals the change counter)
 *   32  4+4 first freelist trunk page, freelist pages
 *   40  4+4 schema cookie, schema format (1-4)
 *   56  4   text encoding (1 UTF-8, 2 UTF-16le, 3 UTF-16be)
 *   92  4   the change counter the size at 28 is valid for
 */
import type { TextEncodingName } from './record';

export const SQLITE_HEADER_SIZE = 100;
export const SQLITE_MAGIC = new TextEncoder().encode('SQLite format 3\0');

export interface SqliteHeader {
  pageSize: number;
  /** Page size minus the reserved bytes: what the b-tree uses of each page. */
  usableSize: number;
  writeVersion: number;
  readVersion: number;
  changeCounter: number;
  /** The size in pages the header states (0 when it is not valid for the current change counter). */
  statedPages: number;
  freelistTrunk: number;
  freelistPages: number;
  schemaFormat: number;
  encoding: TextEncodingName;
}

export type SqliteHeaderDecode = { ok: true; header: SqliteHeader } | { ok: false; why: string; offset: number };

/** True when `head` starts with SQLite's magic string. */
export function hasSqliteMagic(head: Uint8Array): boolean {
  return head.length >= SQLITE_MAGIC.length && SQLITE_MAGIC.every((b, i) => head[i] === b);
}

export function decodeSqliteHeader(b: Uint8Array): SqliteHeaderDecode {
  if (b.length < SQLITE_HEADER_SIZE) return { ok: false, why: `the file is ${b.length} bytes, shorter than the 100-byte header`, offset: 0 };
  if (!hasSqliteMagic(b)) return { ok: false, why: 'no "SQLite format 3" magic: not a SQLite database', offset: 0 };
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const raw = v.getUint16(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) return { ok: false, why: `page size ${raw} is not a power of two from 512 to 65536`, offset: 16 };
  const reserved = b[20]!;
  // SQLite refuses a usable size under 480 bytes (the b-tree's minimum cell layout needs it).
  if (pageSize - reserved < 480)
    return { ok: false, why: `${reserved} reserved bytes leave less than 480 usable bytes of a ${pageSize}-byte page`, offset: 20 };
  if (b[21] !== 64 || b[22] !== 32 || b[23] !== 32) return { ok: false, why: `payload fractions ${b[21]}/${b[22]}/${b[23]}, not 64/32/32`, offset: 21 };
  const changeCounter = v.getUint32(24);
  const encodingCode = v.getUint32(56);
  // 0: no schema yet (a new database); SQLite then uses UTF-8.
  const encoding: TextEncodingName | null = encodingCode <= 1 ? 'utf-8' : encodingCode === 2 ? 'utf-16le' : encodingCode === 3 ? 'utf-16be' : null;
  if (encoding === null) return { ok: false, why: `text encoding ${encodingCode} is not 1, 2 or 3`, offset: 56 };
  const schemaFormat = v.getUint32(44);
  if (schemaFormat > 4) return { ok: false, why: `schema format ${schemaFormat} is past 4`, offset: 44 };
  return {
    ok: true,
    header: {
      pageSize,
      usableSize: pageSize - reserved,
      writeVersion: b[18]!,
      readVersion: b[19]!,
      changeCounter,
      statedPages: v.getUint32(92) === changeCounter ? v.getUint32(28) : 0,
      freelistTrunk: v.getUint32(32),
      freelistPages: v.getUint32(36),
      schemaFormat,
      encoding,
    },
  };
}

/** A header for a new database of `pages` pages of `pageSize` bytes, UTF-8, no freelist (tests and fuzz seeds). */
export function encodeSqliteHeader(pageSize: number, pages: number): Uint8Array {
  const b = new Uint8Array(SQLITE_HEADER_SIZE);
  const v = new DataView(b.buffer);
  b.set(SQLITE_MAGIC, 0);
  v.setUint16(16, pageSize === 65536 ? 1 : pageSize);
  b[18] = 1;
  b[19] = 1;
  b[21] = 64;
  b[22] = 32;
  b[23] = 32;
  v.setUint32(24, 1);
  v.setUint32(28, pages);
  v.setUint32(44, 4);
  v.setUint32(56, 1);
  v.setUint32(92, 1);
  v.setUint32(96, 3046000);
  return b;
}
