/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
 * etcd's WAL records and .snap files (Go `hash/crc32` with the Castagnoli
 * table). Same conventions as Go's `crc32.Update(crc, tab, p)`: the value
 * passed in and returned is the finished CRC (pre- and post-inverted inside),
 * so `crc32c(b, crc32c(a))` equals `crc32c(a ++ b)`, which is how the WAL's
 * running CRC chains from record to record and file to file.
 * Check value: "123456789" -> 0xE3069283.
 *
 * Slice-by-16 over aligned 32-bit words read through an Int32Array view (a
 * DataView's getInt32 per word measured 15-30 % slower on WAL records), with
 * the 16 tables in one flat Int32Array (table k at k * 256) so V8 keeps one
 * base and the values in integer registers. The word view needs a
 * little-endian machine (every platform Lifeboat ships for); elsewhere the
 * byte loop alone gives the same values.
 *
 * Bytes in a buffer from `crcBuffer` (the WAL scan reads its windows into
 * them) go through the same loop compiled to WebAssembly (shared/bytes/crc-slice16-wasm.ts),
 * about 1.6x faster: the WAL's CRC was a third of validation's CPU time.
 */
import { crcSlice16Instance, WASM_PAGE_BYTES, type WasmCrc } from '../../bytes/crc-slice16-wasm';

const POLY = 0x82f63b78;

/** Table k (0..15) at [k * 256, k * 256 + 256): table k advances a byte k bytes further from the end. */
const T: Int32Array = buildTables();

function buildTables(): Int32Array {
  const t = new Int32Array(16 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[i] = c;
  }
  for (let k = 1; k < 16; k++) {
    for (let i = 0; i < 256; i++) {
      const prev = t[(k - 1) * 256 + i]!;
      t[k * 256 + i] = (prev >>> 8) ^ t[prev & 255]!;
    }
  }
  return t;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Below this many bytes the byte loop is cheaper than setting up the word view. */
const WORD_PATH_MIN = 64;

/** Below this many bytes a call into WebAssembly gains nothing. */
const WASM_MIN = 64;

/**
 * The WebAssembly CRC of each buffer `crcBuffer` handed out, by the buffer's
 * memory (weak: it goes with the buffer). Each buffer has a memory and an
 * instance of its own, so nothing is copied and nothing is shared.
 */
const wasmCrcOf = new WeakMap<ArrayBufferLike, WasmCrc>();

/**
 * A zeroed buffer of `size` bytes whose CRC-32C `crc32c` computes in
 * WebAssembly (in a WebAssembly memory of its own); a plain Uint8Array where
 * WebAssembly is not available or the memory cannot be had. Same values
 * either way.
 */
export function crcBuffer(size: number): Uint8Array {
  const wasm = crcSlice16Instance(T, size);
  if (!wasm) return new Uint8Array(size);
  wasmCrcOf.set(wasm.memory.buffer, wasm.crc);
  return new Uint8Array(wasm.memory.buffer, WASM_PAGE_BYTES, size);
}

/** CRC-32C of `bytes[start, end)` continuing from `crc` (0 to start a new one). Returns an unsigned 32-bit value. */
export function crc32c(bytes: Uint8Array, crc = 0, start = 0, end = bytes.length): number {
  if (end - start >= WASM_MIN) {
    const wasm = wasmCrcOf.get(bytes.buffer);
    if (wasm !== undefined) return wasm(crc, bytes.byteOffset + start, end - start) >>> 0;
  }
  let c = ~crc | 0;
  let i = start;
  if (LITTLE_ENDIAN && end - start >= WORD_PATH_MIN) {
    // Bytes up to the first 4-byte aligned address, then whole 16-byte blocks of aligned words.
    for (let lead = (4 - ((bytes.byteOffset + i) & 3)) & 3; lead > 0; lead--, i++) c = (c >>> 8) ^ T[(c ^ bytes[i]!) & 255]!;
    const words = new Int32Array(bytes.buffer, bytes.byteOffset + i, (end - i) >>> 2);
    const blockWords = words.length & ~3;
    let w = 0;
    for (; w < blockWords; w += 4) {
      const a = c ^ words[w]!;
      const b = words[w + 1]!;
      const d = words[w + 2]!;
      const e = words[w + 3]!;
      // The words that do not depend on the running CRC first, word a's lookups last as a small tree: the
      // XOR chain from one block's crc to the next is then 3 steps, not 15 (as in the WebAssembly loop).
      const rest =
        T[768 + (e & 255)]! ^
        T[512 + ((e >>> 8) & 255)]! ^
        T[256 + ((e >>> 16) & 255)]! ^
        T[e >>> 24]! ^
        T[1792 + (d & 255)]! ^
        T[1536 + ((d >>> 8) & 255)]! ^
        T[1280 + ((d >>> 16) & 255)]! ^
        T[1024 + (d >>> 24)]! ^
        T[2816 + (b & 255)]! ^
        T[2560 + ((b >>> 8) & 255)]! ^
        T[2304 + ((b >>> 16) & 255)]! ^
        T[2048 + (b >>> 24)]!;
      c = rest ^ (T[3840 + (a & 255)]! ^ T[3584 + ((a >>> 8) & 255)]! ^ (T[3328 + ((a >>> 16) & 255)]! ^ T[3072 + (a >>> 24)]!));
    }
    i += w * 4;
  }
  for (; i < end; i++) c = (c >>> 8) ^ T[(c ^ bytes[i]!) & 255]!;
  return ~c >>> 0;
}
