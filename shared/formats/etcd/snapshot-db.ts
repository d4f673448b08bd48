/**
 * `etcdctl snapshot save` output: the bbolt db followed by the SHA-256 of
 * the db bytes (32 bytes). etcd's restore assumes a hash iff
 * `size % 512 == 32` and then compares (`expected sha256 %v, got %v`); without
 * one it refuses unless `--skip-hash-check` (`snapshot missing hash but
 * --skip-hash-check=false`). The hash is computed streaming (pure TS).
 */
import { sha256 } from '@noble/hashes/sha2';
import { MAX_READ, type ByteSource } from '../../bytes/byte-source';
import type { BboltInfo } from '../../contract/etcd';
import { toHex } from './bbolt-page';
import { hasHashTrailer, SHA256_TRAILER } from './bbolt-walk';

export type SnapshotHash = NonNullable<BboltInfo['sha256']>;

/** SHA-256 of `length` bytes from offset 0 of `src`, read in MAX_READ chunks. */
export async function sha256Prefix(src: ByteSource, length: number, signal?: AbortSignal): Promise<{ hex: string; bytesRead: number }> {
  const h = sha256.create();
  let at = 0;
  while (at < length) {
    if (signal?.aborted) break;
    const part = await src.read(at, Math.min(MAX_READ, length - at));
    if (part.length === 0) break;
    h.update(part);
    at += part.length;
  }
  return { hex: toHex(h.digest()), bytesRead: at };
}

/** Check the trailer of a snapshot.db: present iff size % 512 == 32; ok when it equals the SHA-256 of the bytes before it. */
export async function checkSnapshotHash(src: ByteSource, signal?: AbortSignal): Promise<{ hash: SnapshotHash; bytesRead: number }> {
  if (!hasHashTrailer(src.size)) return { hash: { present: false, ok: null, stored: null, computed: null }, bytesRead: 0 };
  const dbLen = src.size - SHA256_TRAILER;
  const stored = toHex(await src.read(dbLen, SHA256_TRAILER));
  const { hex, bytesRead } = await sha256Prefix(src, dbLen, signal);
  return { hash: { present: true, ok: hex === stored, stored, computed: hex }, bytesRead: bytesRead + SHA256_TRAILER };
}

/** Go's `%v` of a []byte: `[12 0 255]`. */
function goBytes(hex: string): string {
  return `[${(hex.match(/../g) ?? []).map((b) => parseInt(b, 16)).join(' ')}]`;
}

/** etcd's restore texts for the trailer (etcdctl 3.4 `snapshot restore`; the hashes print as Go byte slices). */
export function restoreHashError(hash: SnapshotHash): string | null {
  if (!hash.present) return 'snapshot missing hash but --skip-hash-check=false';
  if (hash.ok === false) return `expected sha256 ${goBytes(hash.stored ?? '')}, got ${goBytes(hash.computed ?? '')}`;
  return null;
}
