/**
 * A report exported in Chinese must read on a machine without CJK fonts (a
 * Debian desktop's default), and it is one self-contained file: the @font-face
 * slices of the bundled Noto Sans SC that hold a character the report uses
 * are inlined as data: URLs (a few hundred KB, not the whole font). A slice
 * that cannot be read is left out: the export itself never fails on fonts.
 */
function parseRanges(text: string): [number, number][] {
  const out: [number, number][] = [];
  for (const part of text.split(',')) {
    const m = /U\+([0-9a-f]+)(?:-([0-9a-f]+))?/i.exec(part.trim());
    if (m) out.push([parseInt(m[1]!, 16), parseInt(m[2] ?? m[1]!, 16)]);
  }
  return out;
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** `html` with the font slices it needs inlined before `</head>`; unchanged when it needs none. */
export async function withEmbeddedFonts(html: string, family = 'Noto Sans SC'): Promise<string> {
  const used = new Set<number>();
  for (const ch of html) {
    const cp = ch.codePointAt(0)!;
    if (cp > 0x2e7f) used.add(cp);
  }
  if (used.size === 0) return html;
  const faces: string[] = [];
  for (const sheet of Array.from(document.styleSheets)) {
    let rules: CSSRuleList;
    try {
      rules = sheet.cssRules;
    } catch {
      continue;
    }
    for (const rule of Array.from(rules)) {
      if (!(rule instanceof CSSFontFaceRule)) continue;
      if (!rule.style.getPropertyValue('font-family').includes(family)) continue;
      const ranges = parseRanges(rule.style.getPropertyValue('unicode-range'));
      if (!ranges.some(([lo, hi]) => [...used].some((cp) => cp >= lo && cp <= hi))) continue;
      const url = /url\(["']?([^"')]+\.woff2)["']?\)/.exec(rule.style.getPropertyValue('src'))?.[1];
      if (!url) continue;
      // Both policies allow reading the page's own /assets/ (electron/security.ts ASSETS_PATH); should a slice still
      // not come (a policy or a file changed), the report goes out without it rather than not at all.
      const bytes = await fetch(new URL(url, sheet.href ?? document.baseURI))
        .then((res) => (res.ok ? res.arrayBuffer() : null))
        .catch(() => null);
      if (!bytes) continue;
      const data = base64(new Uint8Array(bytes));
      faces.push(
        `@font-face{font-family:'${family}';font-style:normal;font-weight:400;font-display:swap;` +
          `src:url(data:font/woff2;base64,${data}) format('woff2');unicode-range:${rule.style.getPropertyValue('unicode-range')}}`,
      );
    }
  }
  if (faces.length === 0) return html;
  return html.replace('</head>', `<style>${faces.join('\n')}</style></head>`);
}
