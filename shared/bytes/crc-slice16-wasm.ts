/**
 * The bytes of a small WebAssembly module with one function, a table-driven
 * slice-by-16 CRC loop (the same as crc32c.ts's JavaScript one):
 *
 *   crc(crc: i32, at: i32, length: i32) -> i32
 *
 * over `length` bytes of its imported memory `env.mem` from `at`, with the 16
 * tables (table k at byte k * 1024) at the start of that memory, continuing
 * `crc` (pre- and post-inverted inside, Go's conventions). The loop knows no
 * polynomial: the tables say which CRC it computes.
 *  - A reflected CRC (CRC-32C, etcd's WAL and .snap): the tables as built for
 *    it, table k advancing a byte k bytes further from the end.
 *  - An MSB-first CRC (libraft's CRC-32, dqlite's segments): its tables with
 *    each entry byte-swapped. The loop then runs on the byte-swapped CRC: the
 *    word of bytes b0..b3 loaded little-endian is the big-endian word
 *    byte-swapped, XOR and table lookups commute with the swap, and the
 *    byte step `(c >>> 8) ^ T0[(c ^ b) & 255]` is `(c << 8) ^ T0[(c >>> 24) ^ b]`
 *    in swapped form. The caller swaps (and inverts) going in and out.
 * It runs about 1.6x the JavaScript loop (2.4 vs 1.5 GB/s measured on the
 * bench machine): no bounds check per table read, and a table entry is one
 * load with a constant offset. WebAssembly is little-endian everywhere, so its
 * word loads need no byte-order check.
 *
 * Written out here as the instructions it is made of (a few opcodes of the
 * WebAssembly binary format, spec section 5), not as an opaque blob, so it can
 * be read and changed.
 */

/** Where the tables are (16 x 256 x 4 bytes) and where data may start (the next 64 KiB page). */
export const CRC_TABLES_BYTES = 16 * 256 * 4;
export const WASM_PAGE_BYTES = 64 * 1024;

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 127;
    n >>>= 7;
    if (n !== 0) b |= 128;
    out.push(b);
  } while (n !== 0);
  return out;
};

const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 127;
    n >>= 7;
    if ((n === 0 && (b & 64) === 0) || (n === -1 && (b & 64) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 128);
  }
};

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const name = (s: string): number[] => [...uleb(s.length), ...ascii(s)];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

// Opcodes used.
const I32 = 0x7f;
const BLOCK = 0x02;
const LOOP = 0x03;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const EMPTY = 0x40;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_LOAD = 0x28;
const I32_LOAD8_U = 0x2d;
const I32_CONST = 0x41;
const I32_GE_U = 0x4f;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_AND = 0x71;
const I32_XOR = 0x73;
const I32_SHL = 0x74;
const I32_SHR_U = 0x76;

// Locals: the three parameters, then the four words of a 16-byte block.
const CRC = 0;
const AT = 1;
const END_AT = 2; // holds `length` on entry, the end address after the prologue
const BLOCKS_END = 3;
const W0 = 4;
const W1 = 5;
const W2 = 6;
const W3 = 7;

const get = (local: number) => [LOCAL_GET, local];
const set = (local: number) => [LOCAL_SET, local];
const i32 = (n: number) => [I32_CONST, ...sleb(n)];
/** i32.load with 4-byte alignment hint and a constant offset. */
const load = (offset: number) => [I32_LOAD, 2, ...uleb(offset)];

/** Table `table`'s entry for byte `byte` (0 = lowest) of the word in `local`. */
function lookup(local: number, byte: number, table: number): number[] {
  // The entry's address is byte * 4 = (word >>> (8 * byte - 2)) & 0x3fc (a shift left for byte 0).
  const address =
    byte === 0 ? [...get(local), ...i32(255), I32_AND, ...i32(2), I32_SHL] : [...get(local), ...i32(8 * byte - 2), I32_SHR_U, ...i32(0x3fc), I32_AND];
  return [...address, ...load(table * 1024)];
}

function crcBody(): number[] {
  const blockXor: number[] = [];
  // Word 0 (crc ^ first word) goes through tables 15..12, word 3 through 3..0. The lookups of words
  // 3, 2, 1 come first: they do not depend on the crc, so they run while the previous block's crc is
  // still being computed; only word 0's four lookups and three XORs are on the path from crc to crc
  // (in the order 0..3 the XOR chain after word 0's lookups was 12 steps longer: about 1.4x slower).
  [W3, W2, W1].forEach((w, n) => {
    const i = 3 - n;
    for (let byte = 0; byte < 4; byte++) {
      blockXor.push(...lookup(w, byte, 15 - 4 * i - byte));
      if (n > 0 || byte > 0) blockXor.push(I32_XOR);
    }
  });
  // Word 0's lookups as (t15 ^ t14) ^ (t13 ^ t12), then into the rest: a tree of depth 3, not a chain of 4.
  blockXor.push(...lookup(W0, 0, 15), ...lookup(W0, 1, 14), I32_XOR, ...lookup(W0, 2, 13), ...lookup(W0, 3, 12), I32_XOR, I32_XOR, I32_XOR);
  // prettier-ignore
  return [
    // crc = ~crc; end = at + length; blocksEnd = at + (length & ~15)
    ...get(CRC), ...i32(-1), I32_XOR, ...set(CRC),
    ...get(AT), ...get(END_AT), I32_ADD, ...set(END_AT),
    ...get(END_AT), ...get(AT), I32_SUB, ...i32(-16), I32_AND, ...get(AT), I32_ADD, ...set(BLOCKS_END),
    // while (at < blocksEnd): one 16-byte block
    BLOCK, EMPTY, LOOP, EMPTY,
    ...get(AT), ...get(BLOCKS_END), I32_GE_U, BR_IF, 1,
    ...get(CRC), ...get(AT), ...load(0), I32_XOR, ...set(W0),
    ...get(AT), ...load(4), ...set(W1),
    ...get(AT), ...load(8), ...set(W2),
    ...get(AT), ...load(12), ...set(W3),
    ...blockXor, ...set(CRC),
    ...get(AT), ...i32(16), I32_ADD, ...set(AT),
    BR, 0, END, END,
    // while (at < end): crc = (crc >>> 8) ^ T0[(crc ^ byte) & 255]
    BLOCK, EMPTY, LOOP, EMPTY,
    ...get(AT), ...get(END_AT), I32_GE_U, BR_IF, 1,
    ...get(CRC), ...i32(8), I32_SHR_U,
    ...get(CRC), ...get(AT), I32_LOAD8_U, 0, 0, I32_XOR, ...i32(255), I32_AND, ...i32(2), I32_SHL, ...load(0),
    I32_XOR, ...set(CRC),
    ...get(AT), ...i32(1), I32_ADD, ...set(AT),
    BR, 0, END, END,
    // return ~crc
    ...get(CRC), ...i32(-1), I32_XOR,
    END,
  ];
}

/** The module's bytes (about 500). */
export function crcSlice16WasmModule(): Uint8Array<ArrayBuffer> {
  const code = [...vec([[5, I32]]), ...crcBody()]; // 5 locals besides the parameters: BLOCKS_END, W0..W3
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32]]), ...vec([[I32]])]])), // type 0: (i32, i32, i32) -> i32
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x00, 0x01]])), // import env.mem: a memory of at least 1 page
    ...section(3, vec([[0]])), // function 0 has type 0
    ...section(7, vec([[...name('crc'), 0x00, 0x00]])), // export "crc" = function 0
    ...section(10, vec([[...uleb(code.length), ...code]])), // its code
  ]);
}

export type WasmCrc = (crc: number, at: number, length: number) => number;

/** The compiled module: undefined until first asked for, null when WebAssembly is not available here. */
let compiled: WebAssembly.Module | null | undefined;

function crcSlice16Module(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      // Absent or refused in some hosts (a page whose Content-Security-Policy has no 'wasm-unsafe-eval'); the word
      // loads are little-endian, so a big-endian machine keeps to the JavaScript loops.
      const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
      compiled = littleEndian && typeof WebAssembly === 'object' ? new WebAssembly.Module(crcSlice16WasmModule()) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/**
 * The loop with a memory of its own: `tables` (16 x 256 entries, the CRC's) in its first page, room for `dataBytes`
 * from WASM_PAGE_BYTES on (a fixed size, so the memory never moves). null where WebAssembly is not available or the
 * memory cannot be had (each reserves several GiB of address space): the caller's JavaScript loop then.
 */
export function crcSlice16Instance(tables: Int32Array, dataBytes: number): { crc: WasmCrc; memory: WebAssembly.Memory } | null {
  const mod = crcSlice16Module();
  if (!mod) return null;
  try {
    const pages = 1 + Math.ceil(dataBytes / WASM_PAGE_BYTES);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const instance = new WebAssembly.Instance(mod, { env: { mem: memory } });
    new Int32Array(memory.buffer, 0, tables.length).set(tables);
    return { crc: instance.exports.crc as WasmCrc, memory };
  } catch {
    return null;
  }
}
