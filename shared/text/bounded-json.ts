/**
 * JSON from a node (etcd member lists, Kubernetes values, command output)
 * parsed within bounds. One linear pre-scan measures size, nesting and the
 * number of collection entries exactly as JSON defines them (brackets inside
 * strings do not count); only a text within every bound reaches JSON.parse.
 *
 *   const r = parseBoundedJson(text, { maxBytes: 1 << 20 });
 *   if (!r.ok) finding(r.problem, r.limit, r.offset, r.detail) else use(r.value)
 */
import { refuse, type Bounded } from './bounds';

export interface JsonBounds {
  /** Longest text accepted (characters). */
  maxBytes: number;
  /** Deepest nesting of arrays/objects (a bare scalar is depth 0, `[1]` depth 1). */
  maxDepth: number;
  /** Total entries of all arrays and objects together. */
  maxItems: number;
}

export const DEFAULT_JSON_BOUNDS: JsonBounds = { maxBytes: 1024 * 1024, maxDepth: 64, maxItems: 100_000 };

/** Size, depth and entry count of a JSON text, or the first bound it breaks. Never throws. */
export function scanJson(text: string, bounds: JsonBounds): Bounded<{ depth: number; items: number }> {
  if (text.length > bounds.maxBytes)
    return refuse('too-large', bounds.maxBytes, bounds.maxBytes, `is ${text.length} characters long, more than the ${bounds.maxBytes} allowed`);
  let depth = 0;
  let deepest = 0;
  let items = 0;
  let inString = false;
  // After an opener, the first non-blank character decides whether the collection has an entry.
  let afterOpener = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (afterOpener) {
      afterOpener = false;
      if (c !== 0x5d && c !== 0x7d) items++;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > bounds.maxDepth) return refuse('too-deep', bounds.maxDepth, i, `nests arrays/objects more than ${bounds.maxDepth} deep (at offset ${i})`);
      deepest = Math.max(deepest, depth);
      afterOpener = true;
    } else if (c === 0x5d || c === 0x7d) {
      if (depth > 0) depth--;
    } else if (c === 0x2c && depth > 0) {
      items++;
    }
    if (items > bounds.maxItems) return refuse('too-many-items', bounds.maxItems, i, `has more than ${bounds.maxItems} array/object entries`);
  }
  return { ok: true, value: { depth: deepest, items } };
}

/** `JSON.parse` after `scanJson`; a syntax error becomes a refusal with its offset. */
export function parseBoundedJson(text: string, bounds: Partial<JsonBounds> = {}): Bounded<unknown> {
  const b: JsonBounds = { ...DEFAULT_JSON_BOUNDS, ...bounds };
  const scan = scanJson(text, b);
  if (!scan.ok) return scan;
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const at = /position (\d{1,10})/.exec(message);
    // V8 sometimes quotes the text itself ("Unexpected token ',', "{…" is not valid JSON"): keep only its own words.
    const own = message
      .split('\n')[0]
      .slice(0, 400)
      .replace(/, (?:\.\.\.)?".*$/, '')
      .slice(0, 200);
    return refuse('syntax', null, at ? Number(at[1]) : null, `is not valid JSON: ${own}`);
  }
}
