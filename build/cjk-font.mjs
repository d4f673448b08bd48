// The Simplified Chinese font the renderer ships (Noto Sans SC from @fontsource,
// SIL OFL 1.1), cut down to what the UI draws: of the package's ~100
// unicode-range slices per weight, only those holding a character that the
// message catalogs or the renderer's sources use are bundled. A Linux desktop
// without CJK fonts (Debian's default) then shows Chinese instead of empty
// boxes, offline, under `font-src 'self'`.
//
// `virtual:cjk-font.css` (see renderer/vite.config.ts) is the generated CSS.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

export const CJK_FONT_FAMILY = 'Noto Sans SC';
const WEIGHT = 400;

/** Every non-ASCII code point in these files (catalogs and UI sources: what the UI can draw). */
export function codePointsUsed(files) {
  const used = new Set();
  for (const f of files) {
    for (const ch of readFileSync(f, 'utf8')) {
      const cp = ch.codePointAt(0);
      if (cp > 0x7f) used.add(cp);
    }
  }
  return used;
}

function walk(dir, exts, out = []) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, exts, out);
    else if (exts.some((e) => name.endsWith(e))) out.push(p);
  }
  return out;
}

/** The sources whose text the UI shows: the i18n catalogs and the renderer. */
export function uiSourceFiles(root) {
  // Playbooks are data with their own words in both languages (shared/guided).
  return [
    ...walk(path.join(root, 'shared', 'i18n'), ['.ts']),
    ...walk(path.join(root, 'shared', 'guided'), ['.ts']),
    ...walk(path.join(root, 'renderer', 'src'), ['.ts', '.svelte', '.css']),
  ];
}

/** `U+4e00-4e0f,U+3002` → [[0x4e00, 0x4e0f], [0x3002, 0x3002]]. */
export function parseUnicodeRange(text) {
  return text.split(',').map((part) => {
    const m = /^\s*U\+([0-9a-f]+)(?:-([0-9a-f]+))?\s*$/i.exec(part);
    if (!m) throw new Error(`unexpected unicode-range part: ${part}`);
    const lo = parseInt(m[1], 16);
    return [lo, m[2] ? parseInt(m[2], 16) : lo];
  });
}

/** The package's @font-face slices for one weight: woff2 file path and code point ranges. */
export function fontSlices(root) {
  const require = createRequire(path.join(root, 'package.json'));
  const pkgDir = path.dirname(require.resolve('@fontsource/noto-sans-sc/package.json'));
  const css = readFileSync(path.join(pkgDir, `${WEIGHT}.css`), 'utf8');
  const slices = [];
  for (const block of css.split('@font-face').slice(1)) {
    const file = /url\(\.\/files\/([^)]+\.woff2)\)/.exec(block)?.[1];
    const range = /unicode-range:\s*([^;]+);/.exec(block)?.[1];
    if (!file || !range) continue;
    slices.push({ file: path.join(pkgDir, 'files', file), ranges: parseUnicodeRange(range) });
  }
  return slices;
}

const covers = (ranges, cp) => ranges.some(([lo, hi]) => cp >= lo && cp <= hi);

/** The slices needed for `used`, and the code points no slice has (left to system fonts). */
export function selectSlices(slices, used) {
  const chosen = slices.filter((s) => [...used].some((cp) => covers(s.ranges, cp)));
  const missing = [...used].filter((cp) => !slices.some((s) => covers(s.ranges, cp)));
  return { chosen, missing };
}

/** The generated CSS: one @font-face per chosen slice (woff2 only: every Chromium reads it). */
export function cjkFontCss(root) {
  const { chosen } = selectSlices(fontSlices(root), codePointsUsed(uiSourceFiles(root)));
  return chosen
    .map((s) => {
      const range = s.ranges.map(([lo, hi]) => (lo === hi ? `U+${lo.toString(16)}` : `U+${lo.toString(16)}-${hi.toString(16)}`)).join(',');
      return `@font-face{font-family:'${CJK_FONT_FAMILY}';font-style:normal;font-display:swap;font-weight:${WEIGHT};src:url(${JSON.stringify(s.file)}) format('woff2');unicode-range:${range};}`;
    })
    .join('\n');
}

/** Vite plugin: `import 'virtual:cjk-font.css'` → the CSS above; vite emits the woff2 files as assets. */
export function cjkFontPlugin(root) {
  const id = 'virtual:cjk-font.css';
  const resolved = `\0${id}`;
  return {
    name: 'lifeboat-cjk-font',
    resolveId(source) {
      return source === id ? resolved : null;
    },
    load(source) {
      return source === resolved ? cjkFontCss(root) : null;
    },
  };
}
