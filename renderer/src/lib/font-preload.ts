/**
 * The bundled Noto Sans SC (virtual:cjk-font.css) comes in unicode-range
 * slices that would load only when a glyph first needs them. Chromium shapes
 * a run of Chinese drawn while its slice is still on the way with a fallback
 * that has no such glyphs, and keeps that shaping: on Debian's Chromium, after
 * switching to Chinese, the key browser's first row read "□□ 182" for good
 * (the rows under it, drawn a moment later, "修订 188"); re-applying styles
 * after the load did not bring it back. So every slice is loaded before the
 * app is first drawn: they are local files (a few hundred KiB in all), and
 * nothing is ever shaped without them. A slice that fails, or takes longer
 * than `timeoutMs`, does not hold the app back.
 */
export async function preloadFontFamily(fonts: FontFaceSet, family: string, timeoutMs: number): Promise<void> {
  const faces = [...fonts].filter((f) => f.family.replace(/['"]/g, '') === family);
  const loaded = Promise.allSettled(faces.map((f) => f.load()));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  await Promise.race([loaded, late]);
  clearTimeout(timer);
}
