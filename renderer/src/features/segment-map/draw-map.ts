/**
 * Canvas drawing for the segment map. Only items intersecting the viewport
 * are touched; items narrower than two pixels are folded into per-pixel
 * columns that keep the most alarming tone, so 100k segments draw as fast as
 * the canvas is wide.
 */
import { visibleItemIndexes, tickStep, type Lane, type MapItem, type MapModel, type Tone, type Viewport, worseTone } from './map-model';

/**
 * The start label is words in the UI language: the bundled CJK font is named so that Chinese is
 * drawn on desktops without one (the canvas does not fall back the way CSS text does).
 */
export const LABEL_FONT = '600 11px system-ui, "Noto Sans SC", sans-serif';

export const LANES: Record<Lane, { y: number; h: number }> = {
  snapshot: { y: 6, h: 24 },
  closed: { y: 38, h: 40 },
  open: { y: 86, h: 40 },
};
export const AXIS_Y = 134;
export const MAP_HEIGHT = 178;

export interface MapColors {
  bg: string;
  laneBg: string;
  border: string;
  text: string;
  muted: string;
  accent: string;
  focus: string;
  tone: Record<Tone, string>;
  gap: string;
  overlap: string;
}

export function readColors(el: Element): MapColors {
  const cs = getComputedStyle(el);
  const v = (name: string, fallback: string): string => cs.getPropertyValue(name).trim() || fallback;
  const ok = v('--ok', '#23865a');
  const bad = v('--bad', '#c8372d');
  // Not the orange of "truncated": a warning is a suspicion, not a loss.
  const warn = v('--warn-map', '#d6b511');
  const orange = v('--orange', '#d9730d');
  const grey = v('--grey', '#9aa3b2');
  const accent = v('--accent', '#2f6fde');
  return {
    bg: v('--surface', '#fff'),
    laneBg: v('--surface-2', '#eef0f4'),
    border: v('--border', '#d5d9e0'),
    text: v('--text', '#1c2330'),
    muted: v('--muted', '#5b6576'),
    accent,
    focus: v('--focus', '#1f5fd0'),
    gap: bad,
    overlap: orange,
    tone: {
      ok,
      warning: warn,
      bad,
      ignored: grey,
      renamed: orange,
      truncated: orange,
      deleted: grey,
      'not-read': grey,
      snapshot: accent,
      'snapshot-chosen': accent,
      'snapshot-bad': bad,
    },
  };
}

export interface DrawState {
  hover: string | null;
  focus: string | null;
  selected: string | null;
  /** Label for the loader's start index line. */
  startLabel: string;
}

function hatch(ctx: CanvasRenderingContext2D, color: string, bg: string): CanvasPattern | string {
  const c = document.createElement('canvas');
  c.width = 8;
  c.height = 8;
  const p = c.getContext('2d');
  if (!p) return color;
  p.fillStyle = bg;
  p.fillRect(0, 0, 8, 8);
  p.strokeStyle = color;
  p.lineWidth = 2;
  p.beginPath();
  p.moveTo(-2, 10);
  p.lineTo(10, -2);
  p.moveTo(-2, 2);
  p.lineTo(2, -2);
  p.moveTo(6, 10);
  p.lineTo(10, 6);
  p.stroke();
  return ctx.createPattern(c, 'repeat') ?? color;
}

/** Pixel x of an axis position. */
export function xOf(index: number, v: Viewport, width: number): number {
  return ((index - v.from) / (v.to - v.from)) * width;
}

export function indexAt(x: number, v: Viewport, width: number): number {
  return v.from + (x / Math.max(1, width)) * (v.to - v.from);
}

export function laneAt(y: number): Lane | null {
  for (const lane of ['snapshot', 'closed', 'open'] as const) {
    const l = LANES[lane];
    if (y >= l.y - 3 && y <= l.y + l.h + 3) return lane;
  }
  return null;
}

function itemFill(ctx: CanvasRenderingContext2D, it: MapItem, colors: MapColors, patterns: Map<string, CanvasPattern | string>): CanvasPattern | string {
  const color = colors.tone[it.tone];
  if (it.tone === 'renamed' || it.approx) {
    const key = `${it.tone}:${it.approx}`;
    let p = patterns.get(key);
    if (!p) patterns.set(key, (p = hatch(ctx, color, colors.laneBg)));
    return p;
  }
  return color;
}

export function drawMap(ctx: CanvasRenderingContext2D, model: MapModel, v: Viewport, width: number, colors: MapColors, state: DrawState): void {
  const patterns = new Map<string, CanvasPattern | string>();
  ctx.clearRect(0, 0, width, MAP_HEIGHT);
  ctx.fillStyle = colors.bg;
  ctx.fillRect(0, 0, width, MAP_HEIGHT);
  for (const lane of Object.values(LANES)) {
    ctx.fillStyle = colors.laneBg;
    ctx.fillRect(0, lane.y, width, lane.h);
  }

  // Gaps and overlaps between closed segments: bands across the closed lane.
  for (const m of model.markers) {
    const x0 = xOf(m.first, v, width);
    const x1 = xOf(m.last + 1, v, width);
    if (x1 < 0 || x0 > width) continue;
    const l = LANES.closed;
    ctx.globalAlpha = 0.25;
    ctx.fillStyle = m.kind === 'gap' ? colors.gap : colors.overlap;
    ctx.fillRect(x0, l.y - 4, Math.max(3, x1 - x0), l.h + 8);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = m.kind === 'gap' ? colors.gap : colors.overlap;
    ctx.setLineDash([3, 3]);
    ctx.strokeRect(x0 + 0.5, l.y - 4.5, Math.max(3, x1 - x0), l.h + 8);
    ctx.setLineDash([]);
  }

  const visible = visibleItemIndexes(model, v.from, v.to);
  // Thin items fold into pixel columns per lane.
  const columns: Record<Lane, (Tone | undefined)[]> = { snapshot: [], closed: [], open: [] };
  const wide: MapItem[] = [];
  for (const i of visible) {
    const it = model.items[i];
    if (it.lane === 'snapshot') {
      wide.push(it);
      continue;
    }
    const x0 = xOf(it.first, v, width);
    const x1 = xOf(it.last + 1, v, width);
    if (x1 - x0 >= 2) wide.push(it);
    else {
      const col = Math.max(0, Math.min(Math.floor(width) - 1, Math.floor(x0)));
      const prev = columns[it.lane][col];
      columns[it.lane][col] = prev ? worseTone(prev, it.tone) : it.tone;
    }
  }
  for (const lane of ['closed', 'open'] as const) {
    const l = LANES[lane];
    columns[lane].forEach((tone, x) => {
      if (!tone) return;
      ctx.fillStyle = colors.tone[tone];
      ctx.fillRect(x, l.y + 2, 1, l.h - 4);
    });
  }

  for (const it of wide) {
    const l = LANES[it.lane];
    if (it.lane === 'snapshot') {
      const x = xOf(it.first + 0.5, v, width);
      ctx.fillStyle = colors.tone[it.tone];
      ctx.beginPath();
      ctx.moveTo(x, l.y + l.h);
      ctx.lineTo(x - 8, l.y + 4);
      ctx.lineTo(x + 8, l.y + 4);
      ctx.closePath();
      ctx.fill();
      if (it.tone === 'snapshot-chosen') {
        ctx.strokeStyle = colors.text;
        ctx.lineWidth = 1.5;
        ctx.stroke();
        ctx.lineWidth = 1;
      }
      // A faint guide down through the segment lanes shows what the snapshot covers.
      ctx.strokeStyle = colors.tone[it.tone];
      ctx.globalAlpha = 0.5;
      ctx.setLineDash([2, 3]);
      ctx.beginPath();
      ctx.moveTo(x + 0.5, l.y + l.h);
      ctx.lineTo(x + 0.5, LANES.open.y + LANES.open.h);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.globalAlpha = 1;
      continue;
    }
    const x0 = Math.max(-2, xOf(it.first, v, width));
    const x1 = Math.min(width + 2, xOf(it.last + 1, v, width));
    // A visible seam between neighbouring segments once they are wide enough to show one.
    const w = Math.max(2, x1 - x0 - (x1 - x0 > 12 ? 2 : x1 - x0 > 6 ? 1 : 0));
    ctx.fillStyle = itemFill(ctx, it, colors, patterns);
    ctx.fillRect(x0, l.y + 2, w, l.h - 4);
    if (it.approx) {
      ctx.strokeStyle = colors.tone[it.tone];
      ctx.setLineDash([4, 3]);
      ctx.strokeRect(x0 + 0.5, l.y + 2.5, w - 1, l.h - 5);
      ctx.setLineDash([]);
    }
    if (it.tone === 'bad' && w > 4) {
      ctx.strokeStyle = colors.text;
      ctx.strokeRect(x0 + 0.5, l.y + 2.5, w - 1, l.h - 5);
    }
  }

  // Bad and silently-dropped files get a tick under their lane that stays
  // visible however far out the map is zoomed (a one-entry segment is < 1px).
  for (const i of visible) {
    const it = model.items[i];
    if (it.lane === 'snapshot' || !(it.tone === 'bad' || it.tone === 'renamed' || it.tone === 'truncated')) continue;
    const l = LANES[it.lane];
    const mid = (xOf(it.first, v, width) + xOf(it.last + 1, v, width)) / 2;
    ctx.fillStyle = colors.tone[it.tone];
    ctx.beginPath();
    ctx.moveTo(mid, l.y + l.h - 1);
    ctx.lineTo(mid - 5, l.y + l.h + 6);
    ctx.lineTo(mid + 5, l.y + l.h + 6);
    ctx.closePath();
    ctx.fill();
  }

  // Outline hover / focus / selection on top.
  const outline = (key: string | null, color: string, lw: number): void => {
    if (!key) return;
    const it = model.items.find((i) => i.key === key);
    if (!it) return;
    const l = LANES[it.lane];
    const x0 = xOf(it.first, v, width);
    const x1 = xOf(it.last + 1, v, width);
    const w = Math.max(6, x1 - x0);
    const cx = it.lane === 'snapshot' ? xOf(it.first + 0.5, v, width) - 10 : x0 - (w > x1 - x0 ? (w - (x1 - x0)) / 2 : 0);
    ctx.strokeStyle = color;
    ctx.lineWidth = lw;
    ctx.strokeRect(cx - 1, l.y - 1, it.lane === 'snapshot' ? 20 : w + 2, l.h + 2);
    ctx.lineWidth = 1;
  };
  outline(state.selected, colors.accent, 2.5);
  outline(state.hover, colors.text, 1.5);
  outline(state.focus, colors.focus, 2.5);

  if (model.startIndex !== null) {
    const x = xOf(model.startIndex, v, width);
    if (x >= 0 && x <= width) {
      ctx.strokeStyle = colors.accent;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(x, LANES.closed.y - 4);
      ctx.lineTo(x, AXIS_Y + 24);
      ctx.stroke();
      ctx.lineWidth = 1;
      // Label under the tick labels, so it never covers a segment.
      ctx.fillStyle = colors.accent;
      ctx.font = LABEL_FONT;
      const right = x > width - 140;
      ctx.textAlign = right ? 'right' : 'left';
      ctx.fillText(`${state.startLabel} (${model.startIndex})`, x + (right ? -5 : 5), AXIS_Y + 34);
    }
  }

  // Axis.
  ctx.strokeStyle = colors.border;
  ctx.beginPath();
  ctx.moveTo(0, AXIS_Y + 0.5);
  ctx.lineTo(width, AXIS_Y + 0.5);
  ctx.stroke();
  const step = tickStep(v.to - v.from, width);
  const firstTick = Math.ceil(v.from / step) * step;
  ctx.fillStyle = colors.muted;
  ctx.font = '11px ui-monospace, monospace';
  ctx.textAlign = 'center';
  for (let tick = firstTick; tick <= v.to; tick += step) {
    const x = xOf(tick, v, width);
    ctx.beginPath();
    ctx.moveTo(x + 0.5, AXIS_Y);
    ctx.lineTo(x + 0.5, AXIS_Y + 5);
    ctx.stroke();
    if (x > 30 && x < width - 30) ctx.fillText(String(tick), x, AXIS_Y + 17);
  }
}
