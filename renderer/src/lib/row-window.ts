/**
 * The arithmetic of a fixed-row-height virtualized list (components/VirtualList
 * over items in memory, features/etcd/PagedList over rows fetched a page at a
 * time): which rows exist in the DOM for a scroll position, and where to
 * scroll so that a row is in view.
 */

/** Rows [start, end) in view at `scrollTop`, plus `overscan` rows on each side, within [0, total). */
export function rowWindow(scrollTop: number, viewportHeight: number, rowHeight: number, total: number, overscan: number): { start: number; end: number } {
  const start = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const end = Math.min(total, Math.ceil((scrollTop + viewportHeight) / rowHeight) + overscan);
  return { start, end };
}

/**
 * The scrollTop that brings row `index` into view, placed `fromTop` (a
 * fraction of the viewport) below the top; null when it is already wholly in view.
 */
export function scrollTopToShow(index: number, rowHeight: number, scrollTop: number, clientHeight: number, fromTop: number): number | null {
  const top = index * rowHeight;
  if (top >= scrollTop && top + rowHeight <= scrollTop + clientHeight) return null;
  return Math.max(0, top - clientHeight * fromTop);
}
