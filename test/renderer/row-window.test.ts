/** The virtualized lists' window and scroll-into-view arithmetic (renderer/src/lib/row-window.ts). */
import { describe, expect, it } from 'vitest';
import { rowWindow, scrollTopToShow } from '../../renderer/src/lib/row-window';

describe('row window', () => {
  it('is the rows in view plus the overscan, clamped to the list', () => {
    // 20 px rows, 100 px viewport scrolled to 400: rows 20..24 in view.
    expect(rowWindow(400, 100, 20, 1000, 6)).toEqual({ start: 14, end: 31 });
    expect(rowWindow(0, 100, 20, 1000, 6)).toEqual({ start: 0, end: 11 });
    expect(rowWindow(19_900, 100, 20, 1000, 6)).toEqual({ start: 989, end: 1000 });
    expect(rowWindow(0, 100, 20, 3, 8)).toEqual({ start: 0, end: 3 });
    expect(rowWindow(0, 100, 20, 0, 8)).toEqual({ start: 0, end: 0 });
    // A row cut by the bottom edge is in the window.
    expect(rowWindow(10, 100, 20, 1000, 0)).toEqual({ start: 0, end: 6 });
  });

  it('scrolls only when the row is not wholly in view, placing it the given fraction below the top', () => {
    expect(scrollTopToShow(22, 20, 400, 100, 1 / 2)).toBeNull();
    expect(scrollTopToShow(20, 20, 400, 100, 1 / 2)).toBeNull();
    // Row 24 ends at 500 = the bottom edge: in view. Row 25 is not.
    expect(scrollTopToShow(24, 20, 400, 100, 1 / 2)).toBeNull();
    expect(scrollTopToShow(25, 20, 400, 100, 1 / 2)).toBe(450);
    expect(scrollTopToShow(25, 20, 400, 90, 1 / 3)).toBe(470);
    // Above the view, and near the top of the list (never negative).
    expect(scrollTopToShow(19, 20, 400, 100, 1 / 2)).toBe(330);
    expect(scrollTopToShow(1, 20, 400, 100, 1 / 2)).toBe(0);
  });
});
