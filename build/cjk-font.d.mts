// Types for the plain-JavaScript build helper beside it (used by the vite config and a test).
import type { Plugin } from 'vite';

export declare const CJK_FONT_FAMILY: string;
export interface FontSlice {
  /** Absolute path of the woff2 file. */
  file: string;
  /** Inclusive code point ranges from the slice's unicode-range. */
  ranges: [number, number][];
}
export declare function codePointsUsed(files: string[]): Set<number>;
export declare function uiSourceFiles(root: string): string[];
export declare function parseUnicodeRange(text: string): [number, number][];
export declare function fontSlices(root: string): FontSlice[];
export declare function selectSlices(slices: FontSlice[], used: Set<number>): { chosen: FontSlice[]; missing: number[] };
export declare function cjkFontCss(root: string): string;
export declare function cjkFontPlugin(root: string): Plugin;
