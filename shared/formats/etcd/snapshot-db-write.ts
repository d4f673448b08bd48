/**
 * The trailer `etcdctl snapshot save` appends to a bbolt file: 32 bytes of
 * SHA-256 over every byte before it (etcd `snapshot/v3_snapshot.go`;
 * `etcdutl snapshot restore` assumes a hash iff `size % 512 == 32`, then
 * compares it). A bbolt file written with 4096-byte pages always has
 * `size % 512 == 0`, so `size + 32` is recognised as hashed.
 *
 * Streaming: the bytes are read back in 4 MiB chunks, never held whole.
 */
import { sha256 } from '@noble/hashes/sha2';
import { MAX_READ, type ByteSource } from '../../bytes/byte-source';

export const SNAPSHOT_HASH_SIZE = 32;

/** SHA-256 over `src[0, length)`. */
export async function sha256OfSource(src: ByteSource, length = src.size, onBytes?: (done: number) => void): Promise<Uint8Array> {
  const h = sha256.create();
  let at = 0;
  while (at < length) {
    const chunk = await src.read(at, Math.min(MAX_READ, length - at));
    if (chunk.length === 0) throw new Error(`${src.name}: short read at byte ${at} of ${length}`);
    h.update(chunk);
    at += chunk.length;
    onBytes?.(at);
  }
  return h.digest();
}

/** The 32-byte trailer to append to a bbolt file to make it a `snapshot.db`. */
export async function snapshotTrailer(db: ByteSource, onBytes?: (done: number) => void): Promise<Uint8Array> {
  if (db.size % 512 !== 0) {
    throw new Error(`${db.name}: size ${db.size} is not a multiple of 512; etcdctl would not recognise the appended hash`);
  }
  return sha256OfSource(db, db.size, onBytes);
}

export function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
