/**
 * The bundled Noto Sans SC (virtual:cjk-font.css) comes in unicode-range
 * slices that load when a glyph first needs them. Chromium can keep the
 * shaping it did while such a slice was still on its way: that run of Chinese
 * then stays as empty boxes after the slice has arrived (seen on Debian's
 * Chromium: after switching to Chinese the key browser's first row read
 * "□□ 182", the rows under it "修订 188"). A change of a font property shapes a
 * run again, so when fonts finish loading the root's font-optical-sizing is
 * turned off for one frame and back on: font properties reach every run
 * (buttons reset letter-spacing, not those), a font without an optical-size
 * axis (all of ours) looks the same either way, and every run is shaped
 * again with the glyphs now there. The bundled font is the only web font, so
 * any load is one of its slices.
 */

/** Starts watching `doc`'s font loads; returns the function that stops. */
export function reshapeWhenFontsLoad(doc: Document): () => void {
  const root = doc.documentElement;
  let frame = 0;
  const onLoaded = (): void => {
    cancelAnimationFrame(frame);
    root.style.fontOpticalSizing = 'none';
    // One frame is laid out with the nudge (the second animation frame comes after it); then it is taken back.
    frame = requestAnimationFrame(() => {
      frame = requestAnimationFrame(() => (root.style.fontOpticalSizing = ''));
    });
  };
  doc.fonts.addEventListener('loadingdone', onLoaded);
  return () => {
    doc.fonts.removeEventListener('loadingdone', onLoaded);
    cancelAnimationFrame(frame);
    root.style.fontOpticalSizing = '';
  };
}
