/**
 * Little-endian integer helpers (libraft stores every integer little-endian,
 * `raft:byte.h`). u64 values are returned as bigint where they may exceed
 * 2^53 (counts, format versions, ids); callers convert after range checks.
 */

export function u32At(b: Uint8Array, off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
}

export function u64At(b: Uint8Array, off: number): bigint {
  return (BigInt(u32At(b, off + 4)) << 32n) | BigInt(u32At(b, off));
}

/** u64 rounded to the nearest double, like Number(u64At(...)) but without a BigInt (hot loops). */
export function u64RoundedAt(b: Uint8Array, off: number): number {
  return u32At(b, off + 4) * 0x100000000 + u32At(b, off);
}

/** u64 as a number when it is exactly representable, else Infinity (never a silently wrong value). */
export function u64NumAt(b: Uint8Array, off: number): number {
  const hi = u32At(b, off + 4);
  const lo = u32At(b, off);
  if (hi >= 0x200000) return Infinity;
  return hi * 0x100000000 + lo;
}

export function putU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 255;
  b[off + 1] = (v >>> 8) & 255;
  b[off + 2] = (v >>> 16) & 255;
  b[off + 3] = (v >>> 24) & 255;
}

export function putU64(b: Uint8Array, off: number, v: number | bigint): void {
  const big = BigInt.asUintN(64, BigInt(v));
  putU32(b, off, Number(big & 0xffffffffn));
  putU32(b, off + 4, Number(big >> 32n));
}

/** Round up to a multiple of 8 (libraft's bytePad64). */
export function pad8(n: number): number {
  return n + ((8 - (n % 8)) % 8);
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
