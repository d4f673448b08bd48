/**
 * A SQLite b-tree page and its cells (fileformat2.html "B-tree Pages";
 * `sqlite:src/btree.c` decodeFlags, btreeParseCellPtr, cellSizePtr). The
 * page header (after the 100-byte database header on page 1), big-endian:
 *
 *   0  1  type: 2 interior index, 5 interior table, 10 leaf index, 13 leaf table
 *   1  2  first freeblock   3  2  cell count   5  2  cell content start (0 = 65536)
 *   7  1  fragmented bytes  8  4  right-most child (interior pages only)
 *
 * then one 2-byte offset per cell (from the start of the page). A table leaf
 * cell is the payload size (varint), the rowid (varint), the payload's local
 * part and, when it spills, the first overflow page (4 bytes); a table
 * interior cell is a left child (4 bytes) and a rowid key (varint).
 */
import { asInt64, readVarint } from './record';

export const PAGE_INDEX_INTERIOR = 2;
export const PAGE_TABLE_INTERIOR = 5;
export const PAGE_INDEX_LEAF = 10;
export const PAGE_TABLE_LEAF = 13;

export interface BtreePageHeader {
  type: number;
  cellCount: number;
  /** Offsets of the cells from the start of the page, in key order. */
  cells: number[];
  /** The right-most child of an interior page (null on a leaf). */
  rightChild: number | null;
}

export type BtreePageDecode = { ok: true; page: BtreePageHeader } | { ok: false; why: string; offset: number };

/** The header and cell offsets of `page` (page number `pgno`: page 1 starts after the database header). */
export function decodeBtreePage(page: Uint8Array, pgno: number, usableSize: number): BtreePageDecode {
  const base = pgno === 1 ? 100 : 0;
  if (page.length < base + 8) return { ok: false, why: 'the page is shorter than its header', offset: base };
  const type = page[base]!;
  if (type !== PAGE_INDEX_INTERIOR && type !== PAGE_TABLE_INTERIOR && type !== PAGE_INDEX_LEAF && type !== PAGE_TABLE_LEAF)
    return { ok: false, why: `page type ${type} is not a b-tree page (2, 5, 10 or 13)`, offset: base };
  const interior = type === PAGE_INDEX_INTERIOR || type === PAGE_TABLE_INTERIOR;
  const headerSize = interior ? 12 : 8;
  const v = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const cellCount = v.getUint16(base + 3);
  const pointersEnd = base + headerSize + 2 * cellCount;
  if (pointersEnd > usableSize) return { ok: false, why: `${cellCount} cell pointers run past the page's ${usableSize} usable bytes`, offset: base + 3 };
  const contentStart = v.getUint16(base + 5) || 65536;
  if (cellCount > 0 && (contentStart < pointersEnd || contentStart > usableSize))
    return { ok: false, why: `the cell content area starts at ${contentStart}, outside ${pointersEnd}..${usableSize}`, offset: base + 5 };
  const cells: number[] = new Array<number>(cellCount);
  for (let i = 0; i < cellCount; i++) {
    const at = v.getUint16(base + headerSize + 2 * i);
    // A cell lies in the content area, inside the usable part of the page (as btree.c's cell-overlap checks require).
    if (at < contentStart || at >= usableSize)
      return { ok: false, why: `cell ${i} at offset ${at} is outside the content area ${contentStart}..${usableSize}`, offset: base + headerSize + 2 * i };
    cells[i] = at;
  }
  return { ok: true, page: { type, cellCount, cells, rightChild: interior ? v.getUint32(base + 8) : null } };
}

/**
 * How many of a payload's `payloadSize` bytes a table leaf cell keeps on its page (the rest spills to
 * overflow pages): all when it fits in U-35 bytes; else the minimum M, plus what makes the spilled part a
 * whole number of overflow pages if that still fits.
 */
export function tableLeafLocalSize(payloadSize: number, usableSize: number): number {
  const maxLocal = usableSize - 35;
  if (payloadSize <= maxLocal) return payloadSize;
  const minLocal = Math.floor(((usableSize - 12) * 32) / 255) - 23;
  const k = minLocal + ((payloadSize - minLocal) % (usableSize - 4));
  return k <= maxLocal ? k : minLocal;
}

export type TableLeafCell =
  { ok: true; rowid: number | bigint; payloadSize: number; local: Uint8Array; overflow: number | null } | { ok: false; why: string; offset: number };

/** The table leaf cell at `at`; `maxPayload` bounds the payload size before anything is read or allocated. */
export function decodeTableLeafCell(page: Uint8Array, at: number, usableSize: number, maxPayload: number): TableLeafCell {
  const size = readVarint(page, at, usableSize);
  if (!size) return { ok: false, why: 'the payload size is cut by the end of the page', offset: at };
  if (typeof size.value !== 'number' || size.value > maxPayload)
    return { ok: false, why: `a payload of ${size.value} bytes, past the ${maxPayload}-byte bound`, offset: at };
  const rowid = readVarint(page, size.next, usableSize);
  if (!rowid) return { ok: false, why: 'the rowid is cut by the end of the page', offset: size.next };
  const payloadSize = size.value;
  const localSize = tableLeafLocalSize(payloadSize, usableSize);
  const spills = localSize < payloadSize;
  const end = rowid.next + localSize + (spills ? 4 : 0);
  if (end > usableSize) return { ok: false, why: `the cell's ${localSize} local payload bytes run past the page's usable end`, offset: rowid.next };
  const local = page.subarray(rowid.next, rowid.next + localSize);
  const overflow = spills ? new DataView(page.buffer, page.byteOffset, page.byteLength).getUint32(rowid.next + localSize) : null;
  return { ok: true, rowid: asInt64(rowid.value), payloadSize, local, overflow };
}

export type TableInteriorCell = { ok: true; leftChild: number; rowid: number | bigint } | { ok: false; why: string; offset: number };

export function decodeTableInteriorCell(page: Uint8Array, at: number, usableSize: number): TableInteriorCell {
  if (at + 4 > usableSize) return { ok: false, why: 'the left child pointer is cut by the end of the page', offset: at };
  const leftChild = new DataView(page.buffer, page.byteOffset, page.byteLength).getUint32(at);
  const key = readVarint(page, at + 4, usableSize);
  if (!key) return { ok: false, why: 'the rowid key is cut by the end of the page', offset: at + 4 };
  return { ok: true, leftChild, rowid: asInt64(key.value) };
}
