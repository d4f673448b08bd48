/**
 * etcd's revision keys in the `key` bucket (mvcc `revision.go`): main
 * revision u64 big-endian, '_', sub revision u64 big-endian (17 bytes); an
 * 18th byte 't' marks a tombstone. Also the value of meta's
 * `scheduledCompactRev` / `finishedCompactRev`.
 */
export const REVISION_KEY_SIZE = 17;
export const TOMBSTONE_KEY_SIZE = 18;

export interface RevisionKey {
  main: number;
  sub: number;
  tombstone: boolean;
}

/** A big-endian u64 at `at` as a number, clamped to MAX_SAFE_INTEGER (no BigInt: this runs per revision). */
function u64be(b: Uint8Array, at: number): number {
  const hi = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  const lo = ((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!) >>> 0;
  return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x1_0000_0000 + lo;
}

function clamp(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** Decode a revision key; null when it does not have the shape (length 17/18, '_' at 8, 't' at 17). Never throws. */
export function decodeRevisionKey(b: Uint8Array): RevisionKey | null {
  const shape = revisionKeyShape(b);
  return shape === 0 ? null : { main: u64be(b, 0), sub: u64be(b, 9), tombstone: shape === 2 };
}

/**
 * `decodeRevisionKey` without its object, for the walk's one call per revision: 0 not a revision key,
 * 1 a put, 2 a tombstone; `revisionKeyMain`/`revisionKeySub` then read its numbers.
 */
export function revisionKeyShape(b: Uint8Array): 0 | 1 | 2 {
  return revisionKeyShapeAt(b, 0, b.length);
}

/** `revisionKeyShape` of the `length` bytes of `b` from `at`. */
export function revisionKeyShapeAt(b: Uint8Array, at: number, length: number): 0 | 1 | 2 {
  if (length !== REVISION_KEY_SIZE && length !== TOMBSTONE_KEY_SIZE) return 0;
  if (b[at + 8] !== 0x5f) return 0;
  if (length === TOMBSTONE_KEY_SIZE) return b[at + 17] === 0x74 ? 2 : 0;
  return 1;
}

/** The main revision of a key `revisionKeyShape` accepts (clamped as `decodeRevisionKey` does). */
export function revisionKeyMain(b: Uint8Array, at = 0): number {
  return u64be(b, at);
}

/** The sub revision of a key `revisionKeyShape` accepts. */
export function revisionKeySub(b: Uint8Array, at = 0): number {
  return u64be(b, at + 9);
}

export function encodeRevisionKey(r: RevisionKey): Uint8Array {
  const out = new Uint8Array(r.tombstone ? TOMBSTONE_KEY_SIZE : REVISION_KEY_SIZE);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(r.main), false);
  out[8] = 0x5f;
  dv.setBigUint64(9, BigInt(r.sub), false);
  if (r.tombstone) out[17] = 0x74;
  return out;
}

/** A big-endian u64 value (meta/consistent_index, meta/term); null unless exactly 8 bytes. */
export function decodeU64BE(b: Uint8Array): number | null {
  if (b.length !== 8) return null;
  return clamp(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, false));
}
