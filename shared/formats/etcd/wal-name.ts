/**
 * WAL file names and which files etcd 3.4 reads (`wal/util.go`):
 * `%016x-%016x.wal` = sequence - raft index of the first entry expected in
 * the file. Names are parsed the way Go's `fmt.Sscanf(name, "%016x-%016x.wal")`
 * parses them (1 to 16 hex digits of either case per number, then the
 * literal text; anything after `.wal` is not looked at) and only after the
 * name ends in `.wal`. Files that do not parse are ignored by etcd (`.tmp`
 * silently, the rest with "ignored file in WAL directory"); `.broken` copies
 * are what `wal.Repair` left behind.
 */

export interface WalName {
  seq: number;
  index: number;
  /** Exact values (names may hold any 64-bit value; `seq`/`index` clamp to 2^53-1). */
  seqBig: bigint;
  indexBig: bigint;
}

/** Linear: anchored, bounded repetition, no nested quantifiers. */
const WAL_NAME = /^([0-9a-fA-F]{1,16})-([0-9a-fA-F]{1,16})\.wal/;

function clamp(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** `parseWALName`: null when etcd would not take the file as a WAL file. */
export function parseWalName(name: string): WalName | null {
  if (!name.endsWith('.wal')) return null;
  const m = WAL_NAME.exec(name);
  if (!m) return null;
  const seqBig = BigInt(`0x${m[1]!}`);
  const indexBig = BigInt(`0x${m[2]!}`);
  return { seq: clamp(seqBig), index: clamp(indexBig), seqBig, indexBig };
}

/** `walName(seq, index)`. */
export function walName(seq: number | bigint, index: number | bigint): string {
  return `${BigInt(seq).toString(16).padStart(16, '0')}-${BigInt(index).toString(16).padStart(16, '0')}.wal`;
}

export type WalDirEntryKind = 'wal' | 'tmp' | 'broken' | 'unknown';

/** How etcd's WAL code sees a file in the WAL directory. */
export function classifyWalDirName(name: string): WalDirEntryKind {
  if (parseWalName(name)) return 'wal';
  if (name.endsWith('.tmp')) return 'tmp';
  if (name.endsWith('.broken') || name.includes('.broken.')) return 'broken';
  return 'unknown';
}

/** Go's sort.Strings order (byte-wise; names are ASCII here, so UTF-16 order is the same). */
export function sortNames(names: readonly string[]): string[] {
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * `searchIndex`: the last position in `names` (sorted, all valid) whose index
 * is <= `snapIndex`, or -1 ("wal: file not found").
 */
export function searchIndex(names: readonly WalName[], snapIndex: bigint): number {
  for (let i = names.length - 1; i >= 0; i--) if (snapIndex >= names[i]!.indexBig) return i;
  return -1;
}

/**
 * `isValidSeq`: sequence numbers increase by one. Faithful to etcd's quirk:
 * a previous sequence of 0 is never compared (so 0 followed by 2 passes).
 * Returns the position of the first file that breaks the rule, or -1.
 */
export function firstSeqBreak(names: readonly WalName[]): number {
  let lastSeq = 0n;
  for (let i = 0; i < names.length; i++) {
    const cur = names[i]!.seqBig;
    if (lastSeq !== 0n && lastSeq !== cur - 1n) return i;
    lastSeq = cur;
  }
  return -1;
}

/** Snap file names: `%016x-%016x.snap` = term - index (etcd itself only checks the suffix). */
export function parseSnapName(name: string): { term: number; index: number } | null {
  const m = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/.exec(name);
  if (!m) return null;
  return { term: clamp(BigInt(`0x${m[1]!}`)), index: clamp(BigInt(`0x${m[2]!}`)) };
}

export function snapName(term: number | bigint, index: number | bigint): string {
  return `${BigInt(term).toString(16).padStart(16, '0')}-${BigInt(index).toString(16).padStart(16, '0')}.snap`;
}
