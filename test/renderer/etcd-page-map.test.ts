/**
 * The bbolt page map's aggregation and navigation (renderer/src/features/etcd/page-map-model.ts):
 * what colour a zoomed-out cell gets, which page a click opens, and where the keyboard cursor goes.
 */
import { describe, expect, it } from 'vitest';
import { PAGE_CODES } from '../../shared/contract/etcd';
import {
  bucketOf,
  cellAtPoint,
  cellCode,
  cellOfPage,
  cellPages,
  countCodes,
  fitPagesPerCell,
  KIND_OF_CODE,
  layoutGrid,
  moveCursor,
  nextInList,
  nextProblemPage,
  pickCellPx,
  problemPages,
  revisionLabel,
  representativePage,
  visibleCells,
} from '../../renderer/src/features/etcd/page-map-model';

/** A db the way the page map sees one: 2 metas, a freelist, a root branch, leaves, free pages. */
function codesOf(parts: [string, number][]): string {
  return parts.map(([c, n]) => c.repeat(n)).join('');
}

describe('page map aggregation', () => {
  const codes = codesOf([
    ['m', 2],
    ['f', 1],
    ['b', 1],
    ['l', 10],
    ['.', 3],
    ['x', 1],
    ['l', 6],
    ['d', 1],
    ['o', 3],
    [' ', 4],
  ]);

  it('counts every code of a range', () => {
    expect(countCodes(codes, 0, codes.length)).toEqual({ m: 2, f: 1, b: 1, l: 16, '.': 3, x: 1, d: 1, o: 3, ' ': 4 });
    expect(countCodes(codes, 14, 18)).toEqual({ '.': 3, x: 1 });
    // Clamped to the map.
    expect(countCodes(codes, -5, 2)).toEqual({ m: 2 });
  });

  it('a single page shows its own code', () => {
    for (let i = 0; i < codes.length; i++) expect(cellCode(codes, i, i + 1)).toBe(codes[i]);
  });

  it('a damaged page colours its whole cell, whatever the majority, and wins over multiply referenced', () => {
    expect(cellCode(codes, 4, 20)).toBe('x'); // 10 leaves, 3 free, 1 damaged
    expect(cellCode(codes, 20, 28)).toBe('d'); // leaves, 1 multiply referenced, overflow
    expect(cellCode(codes, 0, codes.length)).toBe('x');
    expect(representativePage(codes, 4, 20)).toBe(17);
    expect(representativePage(codes, 20, 28)).toBe(24);
  });

  it('without problems, the most frequent code wins; ties go to the structural kind', () => {
    expect(cellCode(codes, 3, 14)).toBe('l');
    expect(cellCode('mm..', 0, 4)).toBe('m');
    expect(cellCode('lb', 0, 2)).toBe('b');
    expect(cellCode('..ll', 0, 4)).toBe('l');
    expect(cellCode(' .', 0, 2)).toBe('.');
    expect(representativePage(codes, 24, 32)).toBe(24); // d
    expect(representativePage('..lll', 0, 5)).toBe(2);
  });

  it('an empty range has no code and no page', () => {
    expect(cellCode(codes, 40, 48)).toBe('');
    expect(representativePage(codes, 40, 48)).toBeNull();
  });

  it('an unexpected code counts as damaged rather than vanishing', () => {
    expect(cellCode('llllZlll', 0, 8)).toBe('x');
    expect(countCodes('lZ', 0, 2)).toEqual({ l: 1, x: 1 });
  });

  it('names every code', () => {
    for (const [kind, code] of Object.entries(PAGE_CODES)) expect(KIND_OF_CODE[code]).toBe(kind);
  });
});

describe('page map grid', () => {
  it('lays 500k pages out in a fitted power-of-two zoom and draws only the visible rows', () => {
    const pages = 500_000;
    const codes = 'mm' + 'l'.repeat(pages - 3) + 'x';
    const ppc = fitPagesPerCell(pages, 200, 80);
    expect(ppc).toBe(32); // 500000 / 32 / 200 = 78.1 rows; 16 would need 157
    const g = layoutGrid(pages, ppc, 200);
    expect(g).toEqual({ pageCount: pages, pagesPerCell: 32, cols: 200, cells: 15625, rows: 79 });
    const firstRows = visibleCells(codes, g, 0, 2);
    expect(firstRows).toHaveLength(400);
    expect(firstRows[0]).toEqual({ cell: 0, code: 'l' }); // 2 metas, 30 leaves
    const lastRow = visibleCells(codes, g, 78, 10);
    expect(lastRow).toHaveLength(15625 - 78 * 200);
    expect(lastRow[lastRow.length - 1]).toEqual({ cell: 15624, code: 'x' }); // the damaged last page
    expect(cellPages(g, 15624)).toEqual([499968, 500000]);
    expect(cellOfPage(g, 499_999)).toBe(15624);
    expect(cellOfPage(g, 10_000_000)).toBe(15624);
  });

  it('a small db is drawn one page per cell', () => {
    expect(fitPagesPerCell(18, 64, 40)).toBe(1);
    const g = layoutGrid(18, 1, 64);
    expect(g.rows).toBe(1);
    expect(
      visibleCells('mmfbllllllllllll..', g, 0, 5)
        .map((c) => c.code)
        .join(''),
    ).toBe('mmfbllllllllllll..');
  });

  it('maps a point to its cell, scrolled or not, and nothing outside the grid', () => {
    const g = layoutGrid(1000, 4, 50); // 250 cells, 5 rows
    expect(cellAtPoint(g, 0, 0, 10, 0)).toBe(0);
    expect(cellAtPoint(g, 19, 9, 10, 0)).toBe(1);
    expect(cellAtPoint(g, 5, 15, 10, 0)).toBe(50);
    expect(cellAtPoint(g, 5, 15, 10, 3)).toBe(200);
    expect(cellAtPoint(g, 500, 0, 10, 0)).toBeNull(); // beyond the last column
    expect(cellAtPoint(g, 5, 15, 10, 4)).toBeNull(); // beyond the last row
    expect(cellAtPoint(g, -1, 0, 10, 0)).toBeNull();
  });

  it('moves the keyboard cursor within the grid', () => {
    const g = layoutGrid(1000, 4, 50);
    expect(moveCursor(g, 10, 'ArrowRight', 3)).toBe(11);
    expect(moveCursor(g, 0, 'ArrowLeft', 3)).toBe(0);
    expect(moveCursor(g, 10, 'ArrowDown', 3)).toBe(60);
    expect(moveCursor(g, 10, 'ArrowUp', 3)).toBe(0);
    expect(moveCursor(g, 10, 'PageDown', 3)).toBe(160);
    expect(moveCursor(g, 240, 'PageDown', 3)).toBe(249);
    expect(moveCursor(g, 100, 'Home', 3)).toBe(0);
    expect(moveCursor(g, 100, 'End', 3)).toBe(249);
    expect(moveCursor(g, 100, 'a', 3)).toBeNull();
  });

  it('finds the next problem page, wrapping around', () => {
    const codes = 'mmll.xlldl';
    expect(nextProblemPage(codes, 0)).toBe(5);
    expect(nextProblemPage(codes, 5)).toBe(8);
    expect(nextProblemPage(codes, 8)).toBe(5);
    expect(nextProblemPage('mmll', 0)).toBeNull();
  });
});

describe('problem pages', () => {
  it('joins the pages the walk names with the damaged and multiply referenced ones, sorted, in range', () => {
    expect(problemPages('mmllxlld', [0, 0, null, 99, -1])).toEqual([0, 4, 7]);
    expect(problemPages('mmll', [])).toEqual([]);
  });
  it('steps through them, wrapping', () => {
    expect(nextInList([0, 4, 7], -1)).toBe(0);
    expect(nextInList([0, 4, 7], 0)).toBe(4);
    expect(nextInList([0, 4, 7], 7)).toBe(0);
    expect(nextInList([], 3)).toBeNull();
  });
});

describe('square size', () => {
  it('uses big squares for a small db and the smallest for a big one', () => {
    expect(pickCellPx(44, 1100, 36)).toBe(28);
    expect(pickCellPx(1980, 1100, 36)).toBe(20); // 55 columns x 36 rows at 20 px
    expect(pickCellPx(1981, 1100, 36)).toBe(14); // one page more needs a 37th row
    expect(pickCellPx(500_000, 1100, 36)).toBe(10);
  });
});

describe('revision keys on key-bucket pages', () => {
  it('reads main, sub and the tombstone mark, and nothing else', () => {
    expect(revisionLabel('00000000000000025f0000000000000000')).toEqual({ main: '2', sub: '0', tombstone: false });
    expect(revisionLabel('000000000000016b5f000000000000000174')).toEqual({ main: '363', sub: '1', tombstone: true });
    expect(revisionLabel('6b6579')).toBeNull(); // "key"
    expect(revisionLabel('00000000000000025e0000000000000000')).toBeNull();
    expect(revisionLabel('00000000000000025f000000000000000075')).toBeNull();
  });
});

describe('buckets of pages', () => {
  it('finds the run a page is in', () => {
    const runs: [number, number, string][] = [
      [2, 3, 'meta'],
      [4, 30, 'key'],
      [33, 33, 'members'],
    ];
    expect(bucketOf(runs, 2)).toBe('meta');
    expect(bucketOf(runs, 17)).toBe('key');
    expect(bucketOf(runs, 30)).toBe('key');
    expect(bucketOf(runs, 33)).toBe('members');
    expect(bucketOf(runs, 31)).toBeNull();
    expect(bucketOf(runs, 0)).toBeNull();
    expect(bucketOf([], 5)).toBeNull();
  });
});
