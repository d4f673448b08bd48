/**
 * The segment map's model: where every file sits on the raft index axis, how
 * it is drawn, and what is visible in a viewport. Pure (no DOM) so it can be
 * tested and so drawing thousands of segments only touches the visible ones.
 */
import type { LoaderDecision, SegmentInfo, SnapshotInfo } from '../../../../shared/contract/dqlite';

export type Lane = 'snapshot' | 'closed' | 'open';

/** Visual class of an item; the map legend and colours key off this. */
export type Tone = 'ok' | 'warning' | 'bad' | 'ignored' | 'renamed' | 'truncated' | 'deleted' | 'not-read' | 'snapshot' | 'snapshot-chosen' | 'snapshot-bad';

export interface MapItem {
  /** File name (unique). */
  key: string;
  lane: Lane;
  /** Inclusive index range on the axis (a snapshot is a point: first = last). */
  first: number;
  last: number;
  /** Position inferred by us (open segment whose first index is unknown). */
  approx: boolean;
  tone: Tone;
  segment?: SegmentInfo;
  snapshot?: SnapshotInfo;
}

export interface MapMarker {
  kind: 'gap' | 'overlap';
  first: number;
  last: number;
  /** The two files around the gap / in the overlap. */
  between: [string, string];
}

export interface MapModel {
  /** Sorted by `first`, then lane. */
  items: MapItem[];
  /** prefixMaxLast[i] = max(items[0..i].last): monotonic, allows binary search for range queries. */
  prefixMaxLast: number[];
  markers: MapMarker[];
  startIndex: number | null;
  min: number;
  max: number;
  counts: { closed: number; open: number; snapshots: number; bad: number; ignored: number; renamed: number };
}

const TONE_RANK: Record<Tone, number> = {
  'not-read': 0,
  deleted: 1,
  ignored: 2,
  ok: 3,
  snapshot: 4,
  'snapshot-chosen': 5,
  warning: 6,
  truncated: 7,
  renamed: 8,
  'snapshot-bad': 9,
  bad: 10,
};

/** The more alarming of two tones (used when many items share one pixel). */
export function worseTone(a: Tone, b: Tone): Tone {
  return TONE_RANK[a] >= TONE_RANK[b] ? a : b;
}

export function segmentTone(s: SegmentInfo): Tone {
  switch (s.role) {
    case 'fails':
      return 'bad';
    case 'renamed-corrupt':
      return 'renamed';
    case 'truncated':
      return 'truncated';
    case 'ignored':
      return s.status === 'bad' ? 'bad' : 'ignored';
    case 'deleted':
      return 'deleted';
    case 'not-read':
      return s.status === 'bad' ? 'bad' : 'not-read';
    default:
      return s.status === 'bad' ? 'bad' : s.status === 'warning' ? 'warning' : 'ok';
  }
}

export function snapshotTone(s: SnapshotInfo): Tone {
  if (!s.metaOk || s.dataOk === false) return 'snapshot-bad';
  return s.chosen ? 'snapshot-chosen' : 'snapshot';
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export function buildMapModel(
  segments: readonly SegmentInfo[],
  snapshots: readonly SnapshotInfo[],
  decision?: Pick<LoaderDecision, 'startIndex'> | null,
): MapModel {
  const items: MapItem[] = [];
  const closed = segments
    .filter((s) => s.kind === 'closed' && s.firstIndex !== null && s.lastIndex !== null)
    .sort((a, b) => (a.firstIndex as number) - (b.firstIndex as number) || (a.lastIndex as number) - (b.lastIndex as number));
  for (const s of closed) {
    items.push({ key: s.file, lane: 'closed', first: s.firstIndex as number, last: s.lastIndex as number, approx: false, tone: segmentTone(s), segment: s });
  }

  // Open segments carry no index in their name. Use the inferred one when the
  // validator has it; otherwise do what libraft does (uvSegmentLoadOpen): the
  // first open segment continues after the newest closed segment, or after the
  // snapshot when there is none. Each is drawn one typical segment wide and
  // marked approximate.
  const typicalSpan = Math.max(1, Math.round(median(closed.map((s) => (s.lastIndex as number) - (s.firstIndex as number) + 1))) || 100);
  const lastClosedEnd = closed.reduce((m, s) => Math.max(m, s.lastIndex as number), -Infinity);
  const newestSnapshot = snapshots.reduce((m, s) => Math.max(m, s.index), -Infinity);
  let cursor = Number.isFinite(lastClosedEnd) ? lastClosedEnd + 1 : Number.isFinite(newestSnapshot) ? newestSnapshot + 1 : 1;
  const open = segments.filter((s) => s.kind === 'open').sort((a, b) => (a.counter ?? 0) - (b.counter ?? 0) || (a.file < b.file ? -1 : 1));
  for (const s of open) {
    const tone = segmentTone(s);
    if (s.firstIndex !== null) {
      const last = s.lastIndex ?? s.firstIndex;
      items.push({ key: s.file, lane: 'open', first: s.firstIndex, last: Math.max(last, s.firstIndex), approx: false, tone, segment: s });
      cursor = Math.max(cursor, last + 1);
    } else {
      items.push({ key: s.file, lane: 'open', first: cursor, last: cursor + typicalSpan - 1, approx: true, tone, segment: s });
      cursor += typicalSpan;
    }
  }
  // Closed segments with an unparseable range cannot be placed: they still appear in the file list.

  for (const s of snapshots) {
    items.push({ key: s.file, lane: 'snapshot', first: s.index, last: s.index, approx: false, tone: snapshotTone(s), snapshot: s });
  }

  const laneOrder: Record<Lane, number> = { snapshot: 0, closed: 1, open: 2 };
  items.sort((a, b) => a.first - b.first || laneOrder[a.lane] - laneOrder[b.lane] || a.last - b.last);
  const prefixMaxLast: number[] = [];
  let running = -Infinity;
  for (const it of items) {
    running = Math.max(running, it.last);
    prefixMaxLast.push(running);
  }

  const markers: MapMarker[] = [];
  for (let i = 1; i < closed.length; i++) {
    const prev = closed[i - 1];
    const next = closed[i];
    const prevLast = prev.lastIndex as number;
    const nextFirst = next.firstIndex as number;
    if (nextFirst > prevLast + 1) markers.push({ kind: 'gap', first: prevLast + 1, last: nextFirst - 1, between: [prev.file, next.file] });
    else if (nextFirst <= prevLast) {
      markers.push({ kind: 'overlap', first: nextFirst, last: Math.min(prevLast, next.lastIndex as number), between: [prev.file, next.file] });
    }
  }

  let min = Infinity;
  let max = -Infinity;
  for (const it of items) {
    min = Math.min(min, it.first);
    max = Math.max(max, it.last);
  }
  if (!Number.isFinite(min)) {
    min = 0;
    max = 1;
  }
  const startIndex = decision && decision.startIndex > 0 ? decision.startIndex : null;
  const counts = {
    closed: items.filter((i) => i.lane === 'closed').length,
    open: items.filter((i) => i.lane === 'open').length,
    snapshots: snapshots.length,
    bad: items.filter((i) => i.tone === 'bad' || i.tone === 'snapshot-bad').length,
    ignored: items.filter((i) => i.tone === 'ignored').length,
    renamed: items.filter((i) => i.tone === 'renamed').length,
  };
  return { items, prefixMaxLast, markers, startIndex, min, max, counts };
}

/** Indices into model.items of the items intersecting [from, to]. O(log n + visible). */
export function visibleItemIndexes(model: MapModel, from: number, to: number): number[] {
  const { items, prefixMaxLast } = model;
  // first i whose prefix max reaches `from`: nothing before it can intersect.
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (prefixMaxLast[mid] < from) lo = mid + 1;
    else hi = mid;
  }
  const out: number[] = [];
  for (let i = lo; i < items.length && items[i].first <= to; i++) {
    if (items[i].last >= from) out.push(i);
  }
  return out;
}

export interface Viewport {
  /** Axis position at the left edge and right edge (index units, fractional). */
  from: number;
  to: number;
}

/** A viewport showing everything, with a little margin so edge items are visible. */
export function fitViewport(model: MapModel): Viewport {
  const span = Math.max(1, model.max - model.min + 1);
  const pad = span * 0.02 + 0.5;
  return { from: model.min - pad, to: model.max + 1 + pad };
}

/**
 * The first view of a report: the log itself (segments), the chosen snapshot
 * and the loader's start, with older snapshots left out when they would
 * squeeze the log into a sliver (an old snapshot thousands of entries back is
 * common). "Fit all" still shows everything.
 */
export function focusViewport(model: MapModel): Viewport {
  const all = fitViewport(model);
  let lo = Infinity;
  let hi = -Infinity;
  for (const it of model.items) {
    if (it.lane === 'snapshot' && it.tone !== 'snapshot-chosen' && it.tone !== 'snapshot-bad') continue;
    lo = Math.min(lo, it.first);
    hi = Math.max(hi, it.last);
  }
  if (model.startIndex !== null && model.startIndex > 0) {
    lo = Math.min(lo, model.startIndex);
    hi = Math.max(hi, model.startIndex);
  }
  if (!Number.isFinite(lo)) return all;
  const span = Math.max(1, hi - lo + 1);
  // Only worth it when the focus is clearly smaller than everything.
  if (span * 3 > all.to - all.from) return all;
  const pad = span * 0.05 + 0.5;
  return { from: lo - pad, to: hi + 1 + pad };
}

/** Zooms by `factor` (>1 zooms in) keeping `anchor` (an axis position) under the same pixel. */
export function zoomViewport(v: Viewport, factor: number, anchor: number, limits: Viewport, minSpan = 4): Viewport {
  const span = v.to - v.from;
  const maxSpan = limits.to - limits.from;
  const newSpan = Math.min(maxSpan, Math.max(minSpan, span / factor));
  const ratio = span > 0 ? (anchor - v.from) / span : 0.5;
  const from = anchor - ratio * newSpan;
  return clampViewport({ from, to: from + newSpan }, limits);
}

export function panViewport(v: Viewport, delta: number, limits: Viewport): Viewport {
  return clampViewport({ from: v.from + delta, to: v.to + delta }, limits);
}

export function clampViewport(v: Viewport, limits: Viewport): Viewport {
  const span = Math.min(v.to - v.from, limits.to - limits.from);
  let from = v.from;
  if (from < limits.from) from = limits.from;
  if (from + span > limits.to) from = limits.to - span;
  return { from, to: from + span };
}

/** Centres the viewport on [first, last] without zooming out (zooms in if it is not visible well). */
export function revealRange(v: Viewport, first: number, last: number, limits: Viewport): Viewport {
  const span = v.to - v.from;
  const itemSpan = last - first + 1;
  // Already in view and wide enough to see and hover: leave the view alone.
  if (first >= v.from && last + 1 <= v.to && itemSpan / span >= 0.02) return v;
  // Otherwise centre it at about 1/12 of the width (never zooming out past the current view).
  const newSpan = Math.max(Math.min(span, itemSpan * 12), itemSpan * 1.5, 8);
  const mid = (first + last + 1) / 2;
  return clampViewport({ from: mid - newSpan / 2, to: mid + newSpan / 2 }, limits);
}

/** Picks the item under an axis position in a lane; `slop` (index units) widens thin items. */
export function hitTest(model: MapModel, lane: Lane, at: number, slop: number): MapItem | null {
  let best: MapItem | null = null;
  let bestDist = Infinity;
  for (const i of visibleItemIndexes(model, at - slop, at + slop)) {
    const it = model.items[i];
    if (it.lane !== lane) continue;
    const dist = at < it.first ? it.first - at : at > it.last + 1 ? at - it.last - 1 : 0;
    if (dist < bestDist || (dist === bestDist && best && TONE_RANK[it.tone] > TONE_RANK[best.tone])) {
      best = it;
      bestDist = dist;
    }
  }
  return best;
}

/** Nice tick spacing (1, 2, 5 × 10^k) for an axis of `span` index units over `px` pixels. */
export function tickStep(span: number, px: number, minPxPerTick = 110): number {
  const raw = (span * minPxPerTick) / Math.max(1, px);
  const pow = 10 ** Math.floor(Math.log10(Math.max(1, raw)));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}
