/**
 * libraft's checksum (`raft:byte.c` byteCrc32, from libiberty): CRC-32 with
 * polynomial 0x04C11DB7, MSB-first (not reflected), init 0 by default and no
 * final XOR. Not zlib's crc32. Check value: "123456789" -> 0x89A1897F.
 *
 * Slice-by-8: eight 256-entry tables let us fold 8 input bytes per step,
 * which keeps checksumming well under raw read time on large segments.
 */

const TABLES: Uint32Array[] = buildTables();

function buildTables(): Uint32Array[] {
  const t0 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t0[i] = c >>> 0;
  }
  const tables = [t0];
  for (let k = 1; k < 8; k++) {
    const prev = tables[k - 1];
    const t = new Uint32Array(256);
    // t_k[i] = CRC of byte i followed by k zero bytes.
    for (let i = 0; i < 256; i++) t[i] = ((prev[i] << 8) ^ t0[prev[i] >>> 24]) >>> 0;
    tables.push(t);
  }
  return tables;
}

/**
 * CRC of `bytes[start, end)`, continuing from `init` (pass the previous
 * result to chain several buffers, as libraft does for crc2 across payloads).
 */
export function crc32(bytes: Uint8Array, init = 0, start = 0, end = bytes.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let crc = init >>> 0;
  let i = start;
  const fast = end - 8;
  while (i <= fast) {
    const a = (crc ^ ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3])) >>> 0;
    crc =
      t7[a >>> 24] ^
      t6[(a >>> 16) & 255] ^
      t5[(a >>> 8) & 255] ^
      t4[a & 255] ^
      t3[bytes[i + 4]] ^
      t2[bytes[i + 5]] ^
      t1[bytes[i + 6]] ^
      t0[bytes[i + 7]];
    i += 8;
  }
  while (i < end) {
    crc = (crc << 8) ^ t0[((crc >>> 24) ^ bytes[i]) & 255];
    i++;
  }
  return crc >>> 0;
}

/** Byte-at-a-time reference (the libraft loop), for tests of the fast path. */
export function crc32Reference(bytes: Uint8Array, init = 0): number {
  const t0 = TABLES[0];
  let crc = init >>> 0;
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) ^ t0[((crc >>> 24) ^ bytes[i]) & 255]) >>> 0;
  return crc;
}
