/**
 * Bounds for text a node hands us (YAML and JSON side files, ssh config,
 * known_hosts, command output). Real files of these kinds are tiny; a hostile
 * or damaged one must cost a finding, never a hang, a crash or an unbounded
 * allocation. Every check here is one linear pass, run before any parser.
 *
 * A refusal is data (`BoundsRefusal`), not an exception: the caller turns it
 * into a finding in its own words and languages.
 */

/** Why a text was refused before (or instead of) parsing it. */
export type BoundsProblem =
  /** Longer than `maxBytes` (UTF-16 code units of the decoded text, which never exceed its UTF-8 bytes). */
  | 'too-large'
  /** One line longer than `maxLineLength`. */
  | 'line-too-long'
  /** More than `maxLines` lines. */
  | 'too-many-lines'
  /** Nested deeper than `maxDepth` (collections inside collections). */
  | 'too-deep'
  /** More than `maxItems` collection entries in total. */
  | 'too-many-items'
  /** More YAML aliases (`*name`) than `maxAliases`. */
  | 'aliases'
  /** Not valid YAML/JSON (within the bounds). */
  | 'syntax';

export interface BoundsRefusal {
  ok: false;
  problem: BoundsProblem;
  /** The bound that was exceeded (null for `syntax`). */
  limit: number | null;
  /** Character offset in the text where the problem was seen, when known. */
  offset: number | null;
  /** One English sentence for logs and the CLI (no file name: the caller adds it). */
  detail: string;
}

export type Bounded<T> = { ok: true; value: T } | BoundsRefusal;

export function refuse(problem: BoundsProblem, limit: number | null, offset: number | null, detail: string): BoundsRefusal {
  return { ok: false, problem, limit, offset, detail };
}

export interface LineBounds {
  maxBytes: number;
  maxLines: number;
  maxLineLength: number;
}

/**
 * Size, line count and longest line of a text in one pass (no split, no
 * allocation). Line ends are `\n`; a `\r` before it counts towards the line.
 */
export function checkLines(text: string, bounds: LineBounds): { ok: true; lines: number } | BoundsRefusal {
  if (text.length > bounds.maxBytes)
    return refuse('too-large', bounds.maxBytes, bounds.maxBytes, `is ${text.length} characters long, more than the ${bounds.maxBytes} allowed`);
  let lines = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end - start > bounds.maxLineLength) {
      return refuse(
        'line-too-long',
        bounds.maxLineLength,
        start,
        `line ${lines + 1} is ${end - start} characters long, more than the ${bounds.maxLineLength} allowed`,
      );
    }
    lines++;
    if (lines > bounds.maxLines) return refuse('too-many-lines', bounds.maxLines, start, `has more than ${bounds.maxLines} lines`);
    if (end === text.length) break;
    start = end + 1;
  }
  return { ok: true, lines };
}

/** The first `max` characters of a text, and whether anything was cut (for command output shown to the user). */
export function capText(text: string, max: number): { text: string; truncated: boolean } {
  return text.length <= max ? { text, truncated: false } : { text: text.slice(0, max), truncated: true };
}
