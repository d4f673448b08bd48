/**
 * File names in a libraft data directory, matched the way libraft matches
 * them: `sscanf(name, "%016llu-%016llu%n")` etc. and the whole name must be
 * consumed (`raft:uv_segment.c uvSegmentInfoMatch`, `raft:uv_snapshot.c`).
 * We reproduce sscanf's `%llu` (optional leading white space, optional sign,
 * digits, optional maximum width) so that names which merely look like
 * segments are classified exactly as libraft does.
 */

/** Names of this length or more are ignored by UvList (UV__FILENAME_LEN). */
export const MAX_FILENAME_LEN = 128;

export type RaftFileName =
  | { kind: 'closed'; first: number; last: number }
  | { kind: 'open'; counter: number }
  | { kind: 'snapshot-meta'; term: number; index: number; timestamp: number; dataName: string }
  | { kind: 'snapshot-data'; term: number; index: number; timestamp: number; metaName: string }
  | { kind: 'metadata'; n: 1 | 2 }
  | { kind: 'corrupt'; original: string }
  | { kind: 'tmp' }
  | { kind: 'unknown' };

const ULL_MAX = (1n << 64n) - 1n;

interface Scanned {
  value: bigint;
  next: number;
}

function isCSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

/** One sscanf `%llu` (width 0 = unlimited) starting at `at`; null when it matches nothing. */
function scanUll(s: string, at: number, width: number): Scanned | null {
  let i = at;
  while (i < s.length && isCSpace(s[i])) i++;
  const limit = width > 0 ? i + width : s.length;
  let neg = false;
  if (i < limit && (s[i] === '+' || s[i] === '-')) {
    neg = s[i] === '-';
    i++;
  }
  const digitsStart = i;
  let v = 0n;
  let overflow = false;
  while (i < limit && i < s.length && s[i] >= '0' && s[i] <= '9') {
    v = v * 10n + BigInt(s.charCodeAt(i) - 48);
    if (v > ULL_MAX) overflow = true;
    i++;
  }
  if (i === digitsStart) return null;
  // strtoull: overflow gives ULLONG_MAX; a minus sign negates modulo 2^64.
  if (overflow) v = ULL_MAX;
  else if (neg) v = BigInt.asUintN(64, -v);
  return { value: v, next: i };
}

function literal(s: string, at: number, lit: string): number | null {
  return s.startsWith(lit, at) ? at + lit.length : null;
}

/** A u64 from a name as a number; values beyond 2^53 are not exact, which no real index reaches. */
function num(v: bigint): number {
  return Number(v);
}

export function parseClosedSegmentName(name: string): { first: number; last: number } | null {
  const a = scanUll(name, 0, 16);
  if (!a) return null;
  const dash = literal(name, a.next, '-');
  if (dash === null) return null;
  const b = scanUll(name, dash, 16);
  if (!b || b.next !== name.length) return null;
  return { first: num(a.value), last: num(b.value) };
}

export function parseOpenSegmentName(name: string): { counter: number } | null {
  const p = literal(name, 0, 'open-');
  if (p === null) return null;
  const c = scanUll(name, p, 0);
  if (!c || c.next !== name.length) return null;
  return { counter: num(c.value) };
}

function parseSnapshot(name: string, meta: boolean): { term: number; index: number; timestamp: number } | null {
  const p = literal(name, 0, 'snapshot-');
  if (p === null) return null;
  const t = scanUll(name, p, 0);
  if (!t) return null;
  const d1 = literal(name, t.next, '-');
  if (d1 === null) return null;
  const i = scanUll(name, d1, 0);
  if (!i) return null;
  const d2 = literal(name, i.next, '-');
  if (d2 === null) return null;
  const ts = scanUll(name, d2, 0);
  if (!ts) return null;
  const end = meta ? literal(name, ts.next, '.meta') : ts.next;
  if (end === null || end !== name.length) return null;
  return { term: num(t.value), index: num(i.value), timestamp: num(ts.value) };
}

export function closedSegmentName(first: number, last: number): string {
  return `${String(first).padStart(16, '0')}-${String(last).padStart(16, '0')}`;
}

export function openSegmentName(counter: number): string {
  return `open-${counter}`;
}

export function snapshotDataName(term: number, index: number, timestamp: number): string {
  return `snapshot-${term}-${index}-${timestamp}`;
}

export function snapshotMetaName(term: number, index: number, timestamp: number): string {
  return `${snapshotDataName(term, index, timestamp)}.meta`;
}

/**
 * Classify one directory entry name. Order follows UvList: ignored names
 * first (metadata1/2, too long), then snapshot .meta, then segments.
 */
export function classifyName(name: string): RaftFileName {
  if (name === 'metadata1') return { kind: 'metadata', n: 1 };
  if (name === 'metadata2') return { kind: 'metadata', n: 2 };
  if (name.startsWith('tmp-')) return { kind: 'tmp' };
  if (name.length >= MAX_FILENAME_LEN) {
    return name.startsWith('corrupt-') ? { kind: 'corrupt', original: name.replace(/^corrupt-\d+-/, '') } : { kind: 'unknown' };
  }
  const sm = parseSnapshot(name, true);
  if (sm) return { kind: 'snapshot-meta', ...sm, dataName: name.slice(0, -'.meta'.length) };
  const sd = parseSnapshot(name, false);
  if (sd) return { kind: 'snapshot-data', ...sd, metaName: `${name}.meta` };
  const closed = parseClosedSegmentName(name);
  if (closed) return { kind: 'closed', ...closed };
  const open = parseOpenSegmentName(name);
  if (open) return { kind: 'open', ...open };
  if (name.startsWith('corrupt-')) return { kind: 'corrupt', original: name.replace(/^corrupt-\d+-/, '') };
  return { kind: 'unknown' };
}

/**
 * libraft's pairwise segment comparison (uvSegmentInfoCompare). Overlapping
 * closed ranges compare inconsistently; to order a whole directory the way
 * libraft does, use libraftSegmentOrder in segment-order.ts.
 */
export function compareSegments(
  a: { kind: 'closed' | 'open'; first?: number | null; last?: number | null; counter?: number },
  b: { kind: 'closed' | 'open'; first?: number | null; last?: number | null; counter?: number },
): number {
  if (a.kind !== b.kind) return a.kind === 'open' ? 1 : -1;
  if (a.kind === 'open') return (a.counter ?? 0) < (b.counter ?? 0) ? -1 : (a.counter ?? 0) > (b.counter ?? 0) ? 1 : 0;
  if ((b.first ?? 0) > (a.last ?? 0)) return -1;
  if (a.first === b.first && a.last === b.last) return 0;
  return 1;
}
