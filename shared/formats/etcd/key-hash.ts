/**
 * The one hash of etcd key bytes for the in-memory key sets (validation's
 * distinct-key set, salvage's key index, the key browser's index): four
 * bytes per step (a multiply per byte was most of a set's time), finished
 * with murmur3's mixer so the low bits (the slot) depend on every byte:
 * keys often differ only at the end. Slots only: never stored or compared
 * across runs.
 */
export function hashKeyBytes(b: Uint8Array): number {
  return hashKeyPrefix(b, b.length);
}

/** `hashKeyBytes` of `b[0, end)` without making a view of it (the key browser hashes a key's group prefix). */
export function hashKeyPrefix(b: Uint8Array, end: number): number {
  return hashKeyRange(b, 0, end);
}

/** `hashKeyBytes` of `b[start, end)` without making a view of it (validation hashes a key inside its KeyValue). */
export function hashKeyRange(b: Uint8Array, start: number, end: number): number {
  let h = (0x811c9dc5 ^ (end - start)) | 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    h = Math.imul(h ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)), 0x9e3779b1);
    h ^= h >>> 15;
  }
  for (; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
