/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
 * etcd's WAL records and .snap files (Go `hash/crc32` with the Castagnoli
 * table). Same conventions as Go's `crc32.Update(crc, tab, p)`: the value
 * passed in and returned is the finished CRC (pre- and post-inverted inside),
 * so `crc32c(b, crc32c(a))` equals `crc32c(a ++ b)`, which is how the WAL's
 * running CRC chains from record to record and file to file.
 * Check value: "123456789" -> 0xE3069283.
 *
 * Slice-by-16 over little-endian words read through a DataView; the tables
 * are Int32Array so V8 keeps the values in integer registers.
 */

const POLY = 0x82f63b78;

const TABLES: Int32Array[] = buildTables();

function buildTables(): Int32Array[] {
  const t0 = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t0[i] = c;
  }
  const tables = [t0];
  for (let k = 1; k < 16; k++) {
    const prev = tables[k - 1]!;
    const t = new Int32Array(256);
    for (let i = 0; i < 256; i++) t[i] = (prev[i]! >>> 8) ^ t0[prev[i]! & 255]!;
    tables.push(t);
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15] = TABLES as [
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
];

/** Below this many bytes the byte loop is cheaper than setting up a DataView. */
const WORD_PATH_MIN = 64;

/** CRC-32C of `bytes[start, end)` continuing from `crc` (0 to start a new one). Returns an unsigned 32-bit value. */
export function crc32c(bytes: Uint8Array, crc = 0, start = 0, end = bytes.length): number {
  let c = ~crc | 0;
  let i = start;
  if (end - start >= WORD_PATH_MIN) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const fast16 = end - 16;
    while (i <= fast16) {
      const a = c ^ dv.getInt32(i, true);
      const b = dv.getInt32(i + 4, true);
      const d = dv.getInt32(i + 8, true);
      const e = dv.getInt32(i + 12, true);
      c =
        T15[a & 255]! ^
        T14[(a >>> 8) & 255]! ^
        T13[(a >>> 16) & 255]! ^
        T12[a >>> 24]! ^
        T11[b & 255]! ^
        T10[(b >>> 8) & 255]! ^
        T9[(b >>> 16) & 255]! ^
        T8[b >>> 24]! ^
        T7[d & 255]! ^
        T6[(d >>> 8) & 255]! ^
        T5[(d >>> 16) & 255]! ^
        T4[d >>> 24]! ^
        T3[e & 255]! ^
        T2[(e >>> 8) & 255]! ^
        T1[(e >>> 16) & 255]! ^
        T0[e >>> 24]!;
      i += 16;
    }
    const fast = end - 8;
    while (i <= fast) {
      const a = c ^ dv.getInt32(i, true);
      const b = dv.getInt32(i + 4, true);
      c =
        T7[a & 255]! ^
        T6[(a >>> 8) & 255]! ^
        T5[(a >>> 16) & 255]! ^
        T4[a >>> 24]! ^
        T3[b & 255]! ^
        T2[(b >>> 8) & 255]! ^
        T1[(b >>> 16) & 255]! ^
        T0[b >>> 24]!;
      i += 8;
    }
  }
  for (; i < end; i++) c = (c >>> 8) ^ T0[(c ^ bytes[i]!) & 255]!;
  return ~c >>> 0;
}
