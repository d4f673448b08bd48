/**
 * YAML text for the export's documents (plain JSON data: objects, arrays,
 * strings, numbers, booleans, null), written directly. The `yaml` package's
 * `stringify` builds a node tree and tests every string against a dozen
 * expressions; over the ~200,000 objects of an export that was ~25 s of CPU.
 *
 * What it writes reads back as the same data in both YAML 1.2 (the core
 * schema) and YAML 1.1 (go-yaml v2, which kubectl uses: `yes`, `on`, `0x1F`,
 * `1:20` and timestamps are not strings there): a string is written plain only
 * when no reading can take it for anything else, a string with line breaks as
 * a literal block when that is exact, and every other string double-quoted
 * (JSON's escapes are YAML's; characters YAML does not allow raw are escaped).
 * Layout as `yaml` lays it out (2 spaces, sequences indented under their key,
 * `{}` and `[]` for empty collections), lines never folded.
 */

/** Nesting past this is not written (`emitYamlDocument` returns null): the caller keeps the raw bytes instead. */
export const MAX_EMIT_DEPTH = 1000;

/** Words YAML 1.1 or 1.2 reads as a boolean or null (compared lower-cased; the schemas accept a few casings of each). */
const KEYWORDS = new Set(['true', 'false', 'yes', 'no', 'y', 'n', 'on', 'off', 'null']);

/**
 * Plain-safe: starts with a letter, `_` or `/` (so never a number, a date, `.inf`, `-` or another indicator), then
 * letters, digits and `_ . / - @ + =`, with single inner spaces. No `:` or `#`, so never a key or a comment.
 */
const PLAIN_SAFE = /^[A-Za-z_/][A-Za-z0-9_./@+=-]*(?: [A-Za-z0-9_./@+=-]+)*$/;

/** What a double-quoted scalar may not hold raw: JSON.stringify escapes C0 and lone surrogates, not these. */
const QUOTE_MORE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/;
const QUOTE_MORE_ALL = new RegExp(QUOTE_MORE.source, 'g');

/** A literal block must not hold these raw (no escapes there): C0 but tab and line feed, DEL, C1, and the others above. */
// eslint-disable-next-line no-control-regex -- the point is to find the control characters
const NOT_LITERAL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]/;

function isPlainSafe(s: string): boolean {
  // The keywords are at most 5 letters: a long string (a value in base64) is not lower-cased to find out.
  return PLAIN_SAFE.test(s) && (s.length > 5 || !KEYWORDS.has(s.toLowerCase()));
}

function quoted(s: string): string {
  const json = JSON.stringify(s);
  return QUOTE_MORE.test(json) ? json.replace(QUOTE_MORE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}

/** A scalar on one line (a key, or a value that is not a literal block). */
function inlineString(s: string): string {
  return isPlainSafe(s) ? s : quoted(s);
}

/**
 * `s` as a literal block at `indent`, or null when a block would not read back exactly: only text with a line break,
 * no leading space or line break (no indentation indicator needed), at most one line break at the end (clip `|` or
 * strip `|-`), no tab or line of spaces only at a line's start before text (kept simple: none at all), and nothing
 * that needs an escape.
 */
function literalBlock(s: string, indent: string): string | null {
  if (!s.includes('\n') || NOT_LITERAL.test(s)) return null;
  const first = s.charCodeAt(0);
  if (first === 0x20 || first === 0x0a || first === 0x09) return null;
  const endsWithBreak = s.endsWith('\n');
  const body = endsWithBreak ? s.slice(0, -1) : s;
  if (body.endsWith('\n')) return null; // More than one line break at the end: would need `|+`.
  const lines = body.split('\n');
  for (const line of lines) if (line.startsWith('\t')) return null;
  const pad = indent + '  ';
  let out = endsWithBreak ? '|' : '|-';
  for (const line of lines) out += line === '' ? '\n' : `\n${pad}${line}`;
  return out;
}

function scalar(value: unknown): string | null {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (Number.isFinite(value)) return Object.is(value, -0) ? '-0' : String(value);
      return Number.isNaN(value) ? '.nan' : value > 0 ? '.inf' : '-.inf';
    case 'bigint':
      return value.toString();
    default:
      return null;
  }
}

function isCollection(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null;
}

function isEmptyCollection(value: Record<string, unknown> | unknown[]): boolean {
  if (Array.isArray(value)) return value.length === 0;
  for (const k in value) if (Object.hasOwn(value, k) && value[k] !== undefined) return false;
  return true;
}

/** Thrown inside the writer when nesting passes MAX_EMIT_DEPTH (caught by emitYamlDocument). */
class TooDeep extends Error {}

class Writer {
  readonly parts: string[] = [];

  /** A value after `key:` or `- ` on the current line: a scalar there, or a collection on the next lines. */
  value(value: unknown, indent: string, depth: number, inSequence: boolean): void {
    if (depth > MAX_EMIT_DEPTH) throw new TooDeep();
    if (typeof value === 'string') {
      const block = literalBlock(value, indent);
      this.parts.push(' ', block ?? inlineString(value), '\n');
      return;
    }
    if (isCollection(value)) {
      if (isEmptyCollection(value)) {
        this.parts.push(Array.isArray(value) ? ' []\n' : ' {}\n');
        return;
      }
      if (inSequence) {
        // `- a: 1` / `- - x`: the first entry shares the dash's line.
        this.parts.push(' ');
        this.collection(value, indent + '  ', depth + 1, true);
        return;
      }
      this.parts.push('\n');
      // A sequence under a key is indented two spaces past the key, a mapping likewise.
      this.collection(value, indent + '  ', depth + 1, false);
      return;
    }
    this.parts.push(' ', scalar(value) ?? 'null', '\n');
  }

  /** Entries of a non-empty collection at `indent`; `continued`: the first one goes on the current line. */
  collection(value: Record<string, unknown> | unknown[], indent: string, depth: number, continued: boolean): void {
    let first = true;
    if (Array.isArray(value)) {
      for (const item of value) {
        this.parts.push(first && continued ? '-' : `${indent}-`);
        first = false;
        this.value(item === undefined ? null : item, indent, depth, true);
      }
      return;
    }
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const item = value[key];
      if (item === undefined) continue;
      this.parts.push(first && continued ? '' : indent, inlineString(key), ':');
      first = false;
      this.value(item, indent, depth, false);
    }
  }
}

/**
 * The YAML document for `value` (JSON data; `undefined` members are left out, as JSON.stringify leaves them), ending
 * with a line break; null when it nests deeper than MAX_EMIT_DEPTH.
 */
export function emitYamlDocument(value: unknown): string | null {
  if (typeof value === 'string') return `${literalBlock(value, '') ?? inlineString(value)}\n`;
  if (!isCollection(value)) return `${scalar(value) ?? 'null'}\n`;
  if (isEmptyCollection(value)) return Array.isArray(value) ? '[]\n' : '{}\n';
  const w = new Writer();
  try {
    w.collection(value, '', 0, false);
  } catch (err) {
    if (err instanceof TooDeep) return null;
    throw err;
  }
  return w.parts.join('');
}
