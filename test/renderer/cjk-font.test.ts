/**
 * The bundled Chinese font covers every character the UI can draw from its own
 * text (catalogs and renderer sources), and only the slices needed are bundled.
 */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codePointsUsed, fontSlices, parseUnicodeRange, selectSlices, uiSourceFiles } from '../../build/cjk-font.mjs';
import { MESSAGES } from '../../shared/i18n';

const root = path.resolve(__dirname, '../..');

describe('bundled CJK font', () => {
  const slices = fontSlices(root);
  const used = codePointsUsed(uiSourceFiles(root));
  const { chosen, missing } = selectSlices(slices, used);

  it('parses unicode-range lists', () => {
    expect(parseUnicodeRange('U+4e00-4e0f,U+3002')).toEqual([
      [0x4e00, 0x4e0f],
      [0x3002, 0x3002],
    ]);
  });

  it('every non-ASCII character of the UI text is in a bundled slice (no glyph the fonts lack)', () => {
    expect(missing.map((c) => `U+${c.toString(16)} ${String.fromCodePoint(c)}`)).toEqual([]);
    for (const text of Object.values(MESSAGES['zh-CN'])) {
      for (const ch of text) {
        const cp = ch.codePointAt(0)!;
        if (cp > 0x7f)
          expect(
            chosen.some((s) => s.ranges.some(([lo, hi]) => cp >= lo && cp <= hi)),
            ch,
          ).toBe(true);
      }
    }
  });

  it('bundles a subset, not the whole family', () => {
    expect(chosen.length).toBeLessThan(slices.length / 3);
    const bytes = chosen.reduce((n, s) => n + statSync(s.file).size, 0);
    // ~0.6 MB today for the catalogs' ~700 characters; the full weight is ~3.7 MB.
    expect(bytes).toBeLessThan(1.5 * 1024 * 1024);
  });
});
