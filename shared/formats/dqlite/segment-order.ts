/**
 * The order in which libraft 0.15 loads segments, reproduced step by step
 * because it is NOT simply "by index" when names overlap:
 *
 * 1. `uv_fs_scandir` hands UvList the directory entries sorted by `strcmp`
 *    of their names (libuv sorts them), and UvList appends segments in that
 *    order.
 * 2. `uvSegmentSort` runs `qsort` with `uvSegmentInfoCompare`: closed before
 *    open, open by counter, and for two closed segments "-1 when the second
 *    starts after the first ends, else 1". That comparator never answers 0
 *    and is inconsistent for overlapping ranges (both orders answer 1).
 * 3. glibc's `qsort` is a top-down merge sort (msort.c: left half n/2,
 *    right half n - n/2, merge takes the left element when cmp <= 0). With
 *    an inconsistent comparator the result depends on that exact algorithm,
 *    e.g. `1979-2050` can land after `2049-2529` and become the "last
 *    closed segment" that auto-recovery renames.
 */

export interface OrderKey {
  name: string;
  kind: 'closed' | 'open';
  first?: number | null;
  last?: number | null;
  counter?: number | null;
}

/** strcmp on the UTF-8 bytes of two names (code point order is the same order). */
export function strcmpNames(a: string, b: string): number {
  // UTF-16 unit order equals code point order except around surrogates; names are nearly always ASCII.
  const n0 = Math.min(a.length, b.length);
  for (let i = 0; i < n0; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && x <= 0xdfff) break;
    if (y >= 0xd800 && y <= 0xdfff) break;
    return x < y ? -1 : 1;
  }
  const ca = Array.from(a, (c) => c.codePointAt(0) ?? 0);
  const cb = Array.from(b, (c) => c.codePointAt(0) ?? 0);
  const n = Math.min(ca.length, cb.length);
  for (let i = 0; i < n; i++) if (ca[i] !== cb[i]) return ca[i] < cb[i] ? -1 : 1;
  return ca.length === cb.length ? 0 : ca.length < cb.length ? -1 : 1;
}

/** uvSegmentInfoCompare as libraft writes it (never 0 for two different files). */
export function uvSegmentInfoCompare(a: OrderKey, b: OrderKey): number {
  if (a.kind === 'open' && b.kind !== 'open') return 1;
  if (a.kind !== 'open' && b.kind === 'open') return -1;
  if (a.kind === 'open') return (a.counter ?? 0) < (b.counter ?? 0) ? -1 : 1;
  // Closed: only "b starts after a ends" puts a first; anything else (including overlap) says a goes after b.
  return (b.first ?? 0) > (a.last ?? 0) ? -1 : 1;
}

/** glibc msort_with_tmp: recursive top-down merge, left half n/2, ties (cmp <= 0) keep the left element. */
function mergeSort<T>(items: T[], cmp: (a: T, b: T) => number): T[] {
  if (items.length <= 1) return items.slice();
  const n1 = Math.floor(items.length / 2);
  const left = mergeSort(items.slice(0, n1), cmp);
  const right = mergeSort(items.slice(n1), cmp);
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    if (cmp(left[i], right[j]) <= 0) out.push(left[i++]);
    else out.push(right[j++]);
  }
  while (i < left.length) out.push(left[i++]);
  while (j < right.length) out.push(right[j++]);
  return out;
}

/** Segments in the order libraft's loader visits them (see the file comment). */
export function libraftSegmentOrder<T extends OrderKey>(segments: T[]): T[] {
  const listed = [...segments].sort((a, b) => strcmpNames(a.name, b.name));
  return mergeSort(listed, uvSegmentInfoCompare);
}
