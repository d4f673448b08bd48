/**
 * The bbolt page map's model: one char per page (`PAGE_CODES`) laid out
 * row-major on a grid, each cell standing for `pagesPerCell` pages when zoomed
 * out. Pure (no DOM), so the aggregation is unit-tested and a redraw only
 * touches the rows in view: a 2 GiB db (500k pages) costs one pass over the
 * visible pages, never an allocation per page.
 *
 * Aggregation rule: a cell shows a problem if any page in it has one
 * (damaged before multiply referenced), else the code most of its pages have
 * (ties go to the rarer, structural kind: meta, freelist, branch, ...), so a
 * single damaged page stays visible at any zoom.
 */
import { PAGE_CODES } from '../../../../shared/contract/etcd';

export type PageKind = keyof typeof PAGE_CODES;

/** Code -> kind, for the legend and the tooltip. */
export const KIND_OF_CODE: Readonly<Record<string, PageKind>> = Object.fromEntries(
  (Object.entries(PAGE_CODES) as [PageKind, string][]).map(([kind, code]) => [code, kind]),
);

/** Problem codes: any one page with them colours the whole cell. Highest first. */
const PROBLEM_CODES = [PAGE_CODES.damaged, PAGE_CODES.multiplyReferenced];
/** Tie-break order among ordinary codes (earlier wins a tie). */
const TIE_ORDER = [PAGE_CODES.meta, PAGE_CODES.freelist, PAGE_CODES.branch, PAGE_CODES.leaf, PAGE_CODES.overflow, PAGE_CODES.free, PAGE_CODES.beyond];
/** Codes are single chars; anything unexpected counts as damaged (never silently dropped). */
const CODE_SLOT = new Map<string, number>([...PROBLEM_CODES, ...TIE_ORDER].map((c, i) => [c, i]));
const SLOTS = PROBLEM_CODES.length + TIE_ORDER.length;
const ALL_CODES = [...PROBLEM_CODES, ...TIE_ORDER];

/** Largest zoom-out step: 2^20 pages per cell (a 4 TiB db still fits). */
export const MAX_PAGES_PER_CELL = 1 << 20;

/** Slot by char code (ASCII); anything else is slot 0 (damaged). A table, not a Map: drawing reads every visible page. */
const SLOT_BY_CHAR = new Uint8Array(128);
for (const [code, slot] of CODE_SLOT) SLOT_BY_CHAR[code.charCodeAt(0)] = slot;

function slotAt(codes: string, i: number): number {
  const c = codes.charCodeAt(i);
  return c < 128 ? SLOT_BY_CHAR[c] : 0;
}

/** Counts of each code among pages [start, end) (clamped to the map). */
export function countCodes(codes: string, start: number, end: number): Record<string, number> {
  const counts = new Uint32Array(SLOTS);
  const to = Math.min(end, codes.length);
  for (let i = Math.max(0, start); i < to; i++) counts[slotAt(codes, i)]++;
  const out: Record<string, number> = {};
  counts.forEach((n, slot) => {
    if (n > 0) out[ALL_CODES[slot]] = n;
  });
  return out;
}

/** Reused by `cellCode` so drawing allocates nothing per cell. */
const scratch = new Uint32Array(SLOTS);

/** The code a cell covering pages [start, end) is drawn with ('' when it covers no page). */
export function cellCode(codes: string, start: number, end: number): string {
  const to = Math.min(end, codes.length);
  const from = Math.max(0, start);
  if (from >= to) return '';
  if (to - from === 1) return ALL_CODES[slotAt(codes, from)];
  scratch.fill(0);
  for (let i = from; i < to; i++) scratch[slotAt(codes, i)]++;
  for (let p = 0; p < PROBLEM_CODES.length; p++) if (scratch[p] > 0) return PROBLEM_CODES[p];
  let best = PROBLEM_CODES.length;
  for (let s = best + 1; s < SLOTS; s++) if (scratch[s] > scratch[best]) best = s;
  return ALL_CODES[best];
}

/** The page a click on a cell opens: the first page that has the cell's code. */
export function representativePage(codes: string, start: number, end: number): number | null {
  const code = cellCode(codes, start, end);
  if (code === '') return null;
  const to = Math.min(end, codes.length);
  for (let i = Math.max(0, start); i < to; i++) if (ALL_CODES[slotAt(codes, i)] === code) return i;
  return null;
}

export interface GridLayout {
  pageCount: number;
  pagesPerCell: number;
  cols: number;
  cells: number;
  rows: number;
}

export function layoutGrid(pageCount: number, pagesPerCell: number, cols: number): GridLayout {
  const ppc = Math.max(1, Math.floor(pagesPerCell));
  const c = Math.max(1, Math.floor(cols));
  const cells = Math.ceil(Math.max(0, pageCount) / ppc);
  return { pageCount: Math.max(0, pageCount), pagesPerCell: ppc, cols: c, cells, rows: Math.ceil(cells / c) };
}

/** Smallest power-of-two pages per cell that fits the whole db in `maxRows` rows of `cols` cells. */
export function fitPagesPerCell(pageCount: number, cols: number, maxRows: number): number {
  let ppc = 1;
  while (ppc < MAX_PAGES_PER_CELL && Math.ceil(pageCount / ppc / Math.max(1, cols)) > Math.max(1, maxRows)) ppc *= 2;
  return ppc;
}

/** Pages [start, end) of cell `cell`. */
export function cellPages(g: GridLayout, cell: number): [number, number] {
  const start = cell * g.pagesPerCell;
  return [start, Math.min(g.pageCount, start + g.pagesPerCell)];
}

export function cellOfPage(g: GridLayout, page: number): number {
  return Math.floor(Math.max(0, Math.min(page, g.pageCount - 1)) / g.pagesPerCell);
}

/** The cell under a point of the grid (cell size `cellPx`, rows scrolled by `firstRow`), or null outside. */
export function cellAtPoint(g: GridLayout, x: number, y: number, cellPx: number, firstRow: number): number | null {
  if (x < 0 || y < 0) return null;
  const col = Math.floor(x / cellPx);
  const row = firstRow + Math.floor(y / cellPx);
  if (col >= g.cols) return null;
  const cell = row * g.cols + col;
  return cell < g.cells ? cell : null;
}

/** Codes of the cells in rows [firstRow, firstRow + rowCount), row-major (the drawing loop's input). */
export function visibleCells(codes: string, g: GridLayout, firstRow: number, rowCount: number): { cell: number; code: string }[] {
  const out: { cell: number; code: string }[] = [];
  const first = Math.max(0, firstRow) * g.cols;
  const last = Math.min(g.cells, (Math.max(0, firstRow) + Math.max(0, rowCount)) * g.cols);
  for (let cell = first; cell < last; cell++) {
    const [a, b] = cellPages(g, cell);
    out.push({ cell, code: cellCode(codes, a, b) });
  }
  return out;
}

/** Keyboard: the cell an arrow / Home / End / PageUp / PageDown key moves the cursor to. */
export function moveCursor(g: GridLayout, cell: number, key: string, pageRows: number): number | null {
  const last = g.cells - 1;
  if (last < 0) return null;
  const step: Record<string, number> = {
    ArrowLeft: -1,
    ArrowRight: 1,
    ArrowUp: -g.cols,
    ArrowDown: g.cols,
    PageUp: -g.cols * Math.max(1, pageRows),
    PageDown: g.cols * Math.max(1, pageRows),
  };
  if (key === 'Home') return 0;
  if (key === 'End') return last;
  const d = step[key];
  if (d === undefined) return null;
  return Math.max(0, Math.min(last, cell + d));
}

/** The next page (after `from`, wrapping) whose code is a problem: for the "next problem" button and key. */
export function nextProblemPage(codes: string, from: number): number | null {
  const n = codes.length;
  for (let k = 1; k <= n; k++) {
    const i = (from + k) % n;
    if (slotAt(codes, i) < PROBLEM_CODES.length) return i;
  }
  return null;
}

/**
 * Every page with a problem, sorted: damaged or multiply referenced in the
 * map, plus the pages the walk's problems name (`page 0: invalid type: meta`
 * names page 0, a meta page whose code alone looks fine). Bounded by the map.
 */
export function problemPages(codes: string, named: readonly (number | null)[]): number[] {
  const out = new Set<number>();
  for (const p of named) if (p !== null && Number.isSafeInteger(p) && p >= 0 && p < codes.length) out.add(p);
  for (let i = 0; i < codes.length; i++) if (slotAt(codes, i) < PROBLEM_CODES.length) out.add(i);
  return [...out].sort((a, b) => a - b);
}

/** The first page in `sorted` after `from`, wrapping; null when there is none. */
export function nextInList(sorted: readonly number[], from: number): number | null {
  if (sorted.length === 0) return null;
  for (const p of sorted) if (p > from) return p;
  return sorted[0];
}

/** Square sizes the map may use, largest first; the smallest is used (with aggregation) for big dbs. */
export const CELL_SIZES = [28, 20, 14, 10] as const;

/** The largest square size that shows every page, one page per square, in `maxRows` rows of a `width`-pixel map. */
export function pickCellPx(pageCount: number, width: number, maxRows: number): number {
  for (const px of CELL_SIZES) {
    const cols = Math.max(1, Math.floor(width / px));
    if (Math.ceil(pageCount / cols) <= maxRows) return px;
  }
  return CELL_SIZES[CELL_SIZES.length - 1];
}

/**
 * A `key` bucket element's key as the revision it is: 8 bytes main, `_`,
 * 8 bytes sub, and a trailing `t` for a tombstone (etcd's revision key,
 * 17 or 18 bytes). Null for any other key.
 */
export function revisionLabel(keyHex: string): { main: string; sub: string; tombstone: boolean } | null {
  if (!/^[0-9a-f]{34}(74)?$/.test(keyHex) || keyHex.slice(16, 18) !== '5f') return null;
  return { main: BigInt(`0x${keyHex.slice(0, 16)}`).toString(), sub: BigInt(`0x${keyHex.slice(18, 34)}`).toString(), tombstone: keyHex.length === 36 };
}

/** The bucket a page belongs to, from the map's runs `[first, last, bucket]` (sorted by first), or null. */
export function bucketOf(runs: readonly [number, number, string][], page: number): string | null {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [first, last, bucket] = runs[mid];
    if (page < first) hi = mid - 1;
    else if (page > last) lo = mid + 1;
    else return bucket;
  }
  return null;
}
