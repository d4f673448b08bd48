/**
 * What the canvas views (the bbolt page map, the dqlite segment map) share
 * around their drawing: a backing store sized for the screen's pixel ratio,
 * and while mounted, the container's width, the colour scheme and the wheel.
 * Drawing itself stays with each view.
 */

/**
 * The canvas's backing store sized for `cssWidth` x `cssHeight` CSS pixels at
 * the screen's pixel ratio (sharp on HiDPI), and its 2D context set to draw in
 * CSS pixels; null where the canvas has no 2D context.
 */
export function sizedContext(canvas: HTMLCanvasElement, cssWidth: number, cssHeight: number): CanvasRenderingContext2D | null {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(cssWidth * dpr);
  canvas.height = Math.round(cssHeight * dpr);
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

export interface CanvasViewWatch {
  container: HTMLElement | undefined;
  canvas: HTMLCanvasElement | undefined;
  /** The narrowest width reported, in CSS pixels. */
  minWidth: number;
  /** The container's width changed (whole CSS pixels, at least minWidth). */
  onWidth(width: number): void;
  /** The light/dark scheme changed: colours are read again on the next draw. */
  onTheme(): void;
  /** A wheel over the canvas; the listener is not passive, so the handler may stop the page scrolling. */
  onWheel(e: WheelEvent): void;
}

/** Starts listening (from onMount); the returned function stops all of it. */
export function watchCanvasView(w: CanvasViewWatch): () => void {
  const ro = new ResizeObserver((entries) => {
    for (const e of entries) w.onWidth(Math.max(w.minWidth, Math.floor(e.contentRect.width)));
  });
  if (w.container) ro.observe(w.container);
  const mq = window.matchMedia('(prefers-color-scheme: dark)');
  const onTheme = (): void => w.onTheme();
  mq.addEventListener('change', onTheme);
  const onWheel = (e: WheelEvent): void => w.onWheel(e);
  const canvas = w.canvas;
  canvas?.addEventListener('wheel', onWheel, { passive: false });
  return () => {
    ro.disconnect();
    mq.removeEventListener('change', onTheme);
    canvas?.removeEventListener('wheel', onWheel);
  };
}
