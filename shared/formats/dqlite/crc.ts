/**
 * libraft's checksum (`raft:byte.c` byteCrc32, from libiberty): CRC-32 with
 * polynomial 0x04C11DB7, MSB-first (not reflected), init 0 by default and no
 * final XOR. Not zlib's crc32. Check value: "123456789" -> 0x89A1897F.
 *
 * Slice-by-16: sixteen 256-entry tables fold 16 input bytes per step. The
 * tables are Int32Array (V8 keeps int32 loads in registers; Uint32Array
 * values above 2^31 become doubles) and long runs read big-endian words
 * through a DataView, which V8 compiles to one load + byte swap instead of
 * four byte loads. Together about 2.5x the plain slice-by-8 byte loop; this
 * loop is where validation spends most of its CPU time (63% on the bench's
 * 1 GiB backend).
 *
 * So runs of WASM_MIN bytes or more go through the WebAssembly loop of
 * shared/bytes/crc-slice16-wasm.ts instead, with the tables byte-swapped
 * (that loop is reflected; see there why it then computes this CRC). It reads
 * only its own memory, so each run is copied into it first, a megabyte at a
 * time: the copy costs far less than the loop saves (1.5 -> 2.4 GB/s).
 */
import { crcSlice16Instance, WASM_PAGE_BYTES, type WasmCrc } from '../../bytes/crc-slice16-wasm';

/** TABLES[k][i] = CRC of byte i followed by k zero bytes (k = 0..15). */
const TABLES: Int32Array[] = buildTables();

function buildTables(): Int32Array[] {
  const t0 = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t0[i] = c;
  }
  const tables = [t0];
  for (let k = 1; k < 16; k++) {
    const prev = tables[k - 1];
    const t = new Int32Array(256);
    for (let i = 0; i < 256; i++) t[i] = (prev[i] << 8) ^ t0[prev[i] >>> 24];
    tables.push(t);
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15] = TABLES;

const bswap = (x: number): number => ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);

/** Below this many bytes the copy into WebAssembly memory and the call gain nothing. */
const WASM_MIN = 4096;
/** Bytes copied into the WebAssembly memory per call. */
const WASM_SPAN = 1024 * 1024;

/**
 * The WebAssembly loop with its memory (the swapped tables, then WASM_SPAN bytes for the data): undefined until first
 * asked for, null where WebAssembly is not available (a page whose Content-Security-Policy has no 'wasm-unsafe-eval',
 * a big-endian machine, no address space left). Made once per thread; used only synchronously.
 */
let wasmLoop: { crc: WasmCrc; data: Uint8Array } | null | undefined;

function wasm(): { crc: WasmCrc; data: Uint8Array } | null {
  if (wasmLoop !== undefined) return wasmLoop;
  const swapped = new Int32Array(16 * 256);
  TABLES.forEach((t, k) => t.forEach((v, i) => (swapped[k * 256 + i] = bswap(v))));
  const w = crcSlice16Instance(swapped, WASM_SPAN);
  wasmLoop = w && { crc: w.crc, data: new Uint8Array(w.memory.buffer, WASM_PAGE_BYTES, WASM_SPAN) };
  return wasmLoop;
}

/** Whether long runs go through WebAssembly here (for tests). */
export function crcUsesWebAssembly(): boolean {
  return wasm() !== null;
}

/** Below this many bytes a DataView costs more than it saves (batch headers are often 24 bytes). */
const WORD_PATH_MIN = 128;

/**
 * CRC of `bytes[start, end)`, continuing from `init` (pass the previous
 * result to chain several buffers, as libraft does for crc2 across payloads).
 */
export function crc32(bytes: Uint8Array, init = 0, start = 0, end = bytes.length): number {
  const w = end - start >= WASM_MIN ? wasm() : null;
  if (w) {
    // The loop inverts going in and out (Go's convention), this CRC does not: inverted here too, and swapped.
    let swapped = ~bswap(init | 0);
    for (let at = start; at < end; at += WASM_SPAN) {
      const n = Math.min(WASM_SPAN, end - at);
      w.data.set(bytes.subarray(at, at + n));
      swapped = w.crc(swapped, WASM_PAGE_BYTES, n);
    }
    return bswap(~swapped) >>> 0;
  }
  return crc32Js(bytes, init, start, end);
}

/** The JavaScript loop (runs shorter than WASM_MIN, and wherever WebAssembly is not available). */
export function crc32Js(bytes: Uint8Array, init = 0, start = 0, end = bytes.length): number {
  let crc = init | 0;
  let i = start;
  if (end - start >= WORD_PATH_MIN) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const fast = end - 16;
    while (i <= fast) {
      const a = crc ^ dv.getInt32(i, false);
      const b = dv.getInt32(i + 4, false);
      const c = dv.getInt32(i + 8, false);
      const d = dv.getInt32(i + 12, false);
      crc =
        T15[a >>> 24] ^
        T14[(a >>> 16) & 255] ^
        T13[(a >>> 8) & 255] ^
        T12[a & 255] ^
        T11[b >>> 24] ^
        T10[(b >>> 16) & 255] ^
        T9[(b >>> 8) & 255] ^
        T8[b & 255] ^
        T7[c >>> 24] ^
        T6[(c >>> 16) & 255] ^
        T5[(c >>> 8) & 255] ^
        T4[c & 255] ^
        T3[d >>> 24] ^
        T2[(d >>> 16) & 255] ^
        T1[(d >>> 8) & 255] ^
        T0[d & 255];
      i += 16;
    }
  }
  const fast8 = end - 8;
  while (i <= fast8) {
    const a = crc ^ ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]);
    crc = T7[a >>> 24] ^ T6[(a >>> 16) & 255] ^ T5[(a >>> 8) & 255] ^ T4[a & 255] ^ T3[bytes[i + 4]] ^ T2[bytes[i + 5]] ^ T1[bytes[i + 6]] ^ T0[bytes[i + 7]];
    i += 8;
  }
  while (i < end) {
    crc = (crc << 8) ^ T0[((crc >>> 24) ^ bytes[i]) & 255];
    i++;
  }
  return crc >>> 0;
}

/** Bit-at-a-time reference, straight from the polynomial (no tables), for tests of the fast path. */
export function crc32Reference(bytes: Uint8Array, init = 0): number {
  let crc = init >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    crc = (crc ^ (bytes[i] << 24)) >>> 0;
    for (let k = 0; k < 8; k++) crc = (crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1) >>> 0;
  }
  return crc;
}
