/** Time axis maths for the timeline: view windows, zoom about a point, tick steps. */

export interface TimeWindow {
  start: number;
  end: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const STEPS = [
  10,
  50,
  100,
  250,
  500,
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
  90 * DAY,
  365 * DAY,
];
/** Never zoom in further than this span (ms). */
export const MIN_SPAN = 200;

/** The whole range with a margin, so markers at the edges are not cut in half. */
export function fitWindow(range: TimeWindow | null): TimeWindow {
  if (!range) return { start: 0, end: MINUTE };
  // More room on the right: labels are written after their markers.
  const span = range.end - range.start;
  if (span === 0) return { start: range.start - 20 * SECOND, end: range.end + 60 * SECOND };
  return { start: range.start - span * 0.05, end: range.end + span * 0.4 };
}

/** Zooms by `factor` (<1 = in) keeping time `at` under the same pixel. */
export function zoomWindow(w: TimeWindow, factor: number, at: number, limit: TimeWindow): TimeWindow {
  const span = Math.max(MIN_SPAN, (w.end - w.start) * factor);
  const maxSpan = Math.max(limit.end - limit.start, MIN_SPAN) * 4;
  const s = Math.min(span, maxSpan);
  const ratio = w.end === w.start ? 0.5 : (at - w.start) / (w.end - w.start);
  const start = at - ratio * s;
  return { start, end: start + s };
}

export function panWindow(w: TimeWindow, deltaMs: number): TimeWindow {
  return { start: w.start + deltaMs, end: w.end + deltaMs };
}

/** Tick positions for about `target` ticks across the window. */
export function ticks(w: TimeWindow, target: number): { step: number; times: number[] } {
  const span = w.end - w.start;
  const step = STEPS.find((s) => span / s <= target) ?? STEPS[STEPS.length - 1];
  const times: number[] = [];
  for (let t = Math.ceil(w.start / step) * step; t <= w.end && times.length < 200; t += step) times.push(t);
  return { step, times };
}

export function tickLabel(t: number, step: number, spansDays: boolean): string {
  const iso = new Date(t).toISOString();
  const time = step < SECOND ? iso.slice(11, 23) : step < MINUTE ? iso.slice(11, 19) : iso.slice(11, 16);
  if (step >= DAY) return iso.slice(0, 10);
  return spansDays ? `${iso.slice(5, 10)} ${time}` : time;
}
