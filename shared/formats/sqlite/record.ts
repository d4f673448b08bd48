/**
 * SQLite's varint and record format (`sqlite:src/btreeInt.h`, "Record
 * Format" of fileformat2.html), decode beside encode.
 *
 *   varint   1-9 bytes, big-endian: the first eight carry 7 bits each with
 *            the high bit set when another byte follows; a ninth carries 8
 *   record   header size (a varint, counting itself), one serial type per
 *            column (varints), then the values in column order:
 *            0 NULL, 1/2/3/4/6/8-byte two's complement integer (types
 *            1,2,3,4,5,6 are 1,2,3,4,6,8 bytes), 7 IEEE 754 double, 8 the
 *            integer 0, 9 the integer 1, N>=12 even a BLOB of (N-12)/2
 *            bytes, N>=13 odd a TEXT of (N-13)/2 bytes in the database's
 *            encoding; 10 and 11 are reserved (never in a valid file)
 *
 * Integers stay numbers while they are exact (|n| <= 2^53), bigints past.
 */

export type SqliteValue = null | number | bigint | string | Uint8Array;
export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be';

/** A varint at `at` (bounded by `end`): its value (unsigned 64-bit) and the offset after it; null when cut. */
export function readVarint(b: Uint8Array, at: number, end: number = b.length): { value: number | bigint; next: number } | null {
  // Up to 7 bytes (49 bits) the value is exact in a number.
  let v = 0;
  for (let i = 0; i < 7; i++) {
    if (at + i >= end) return null;
    const x = b[at + i]!;
    v = v * 128 + (x & 0x7f);
    if ((x & 0x80) === 0) return { value: v, next: at + i + 1 };
  }
  let big = BigInt(v);
  if (at + 7 >= end) return null;
  const eighth = b[at + 7]!;
  big = (big << 7n) | BigInt(eighth & 0x7f);
  if ((eighth & 0x80) === 0) return { value: exact(big), next: at + 8 };
  if (at + 8 >= end) return null;
  big = (big << 8n) | BigInt(b[at + 8]!);
  return { value: exact(big), next: at + 9 };
}

const EXACT = 2n ** 53n;

/** A number while the double holds it exactly (|v| <= 2^53), else the bigint. */
function exact(v: bigint): number | bigint {
  return v <= EXACT && v >= -EXACT ? Number(v) : v;
}

/** `readVarint` as a signed 64-bit integer (rowids). */
export function asInt64(v: number | bigint): number | bigint {
  return typeof v === 'number' ? v : exact(BigInt.asIntN(64, v));
}

/** The varint encoding of an unsigned 64-bit value (a negative number is its two's complement). */
export function encodeVarint(value: number | bigint): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(value));
  if (v > 0x00ffffffffffffffn) {
    // Nine bytes: the low 8 bits in the last byte, 7 bits in each of the eight before.
    const out = new Uint8Array(9);
    out[8] = Number(v & 0xffn);
    v >>= 8n;
    for (let i = 7; i >= 0; i--) {
      out[i] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    return out;
  }
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0x7fn));
    v >>= 7n;
  } while (v > 0n);
  for (let i = 0; i < bytes.length - 1; i++) bytes[i]! |= 0x80;
  return Uint8Array.from(bytes);
}

/** The size in bytes of a value of `serialType` (null: reserved type 10 or 11). */
export function serialTypeSize(serialType: number): number | null {
  if (serialType >= 12) return Math.floor((serialType - (serialType % 2 === 0 ? 12 : 13)) / 2);
  return SIZES[serialType] ?? null;
}
const SIZES: readonly (number | null)[] = [0, 1, 2, 3, 4, 6, 8, 8, 0, 0, null, null];

export type RecordDecode = { ok: true; values: SqliteValue[] } | { ok: false; why: string; offset: number };

/**
 * The values of one record (`payload` is the whole payload, overflow included). `maxColumns` bounds the
 * header before anything is allocated per column; `upTo` decodes only the first columns (a walk that needs
 * a row's key and flags leaves its value alone).
 */
export function decodeRecord(payload: Uint8Array, encoding: TextEncodingName = 'utf-8', maxColumns = 2000, upTo = maxColumns): RecordDecode {
  const head = readVarint(payload, 0);
  if (!head) return { ok: false, why: 'the record header size is cut', offset: 0 };
  if (typeof head.value !== 'number' || head.value < head.next || head.value > payload.length)
    return { ok: false, why: `the record header size ${head.value} is outside the ${payload.length}-byte payload`, offset: 0 };
  const headerEnd = head.value;
  const types: number[] = [];
  for (let at = head.next; at < headerEnd;) {
    const t = readVarint(payload, at, headerEnd);
    if (!t) return { ok: false, why: 'a serial type is cut by the end of the record header', offset: at };
    if (typeof t.value !== 'number' || serialTypeSize(t.value) === null)
      return { ok: false, why: `serial type ${t.value} is reserved or too large`, offset: at };
    if (types.length >= maxColumns) return { ok: false, why: `more than ${maxColumns} columns`, offset: at };
    types.push(t.value);
    at = t.next;
    if (types.length >= upTo) break;
  }
  const values: SqliteValue[] = [];
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let at = headerEnd;
  for (const t of types) {
    const size = serialTypeSize(t)!;
    if (at + size > payload.length) return { ok: false, why: `a value of serial type ${t} runs past the ${payload.length}-byte payload`, offset: at };
    values.push(readValue(payload, view, at, t, size, encoding));
    at += size;
  }
  return { ok: true, values };
}

function readValue(b: Uint8Array, view: DataView, at: number, t: number, size: number, encoding: TextEncodingName): SqliteValue {
  if (t === 0) return null;
  if (t === 8) return 0;
  if (t === 9) return 1;
  if (t === 7) return view.getFloat64(at);
  if (t <= 6) {
    if (size <= 6) {
      // Two's complement of 1-6 bytes (exact in a double): the unsigned value minus 2^(8*size) when the sign bit is set.
      let u = 0;
      for (let i = 0; i < size; i++) u = u * 256 + b[at + i]!;
      return b[at]! & 0x80 ? u - 2 ** (8 * size) : u;
    }
    let u = 0n;
    for (let i = 0; i < size; i++) u = (u << 8n) | BigInt(b[at + i]!);
    return exact(BigInt.asIntN(8 * size, u));
  }
  const bytes = b.subarray(at, at + size);
  if (t % 2 === 0) return bytes.slice();
  return DECODERS[encoding].decode(bytes);
}

/** One decoder per text encoding (decode() without streaming keeps no state between calls). */
const DECODERS: Readonly<Record<TextEncodingName, TextDecoder>> = {
  'utf-8': new TextDecoder('utf-8'),
  'utf-16le': new TextDecoder('utf-16le'),
  'utf-16be': new TextDecoder('utf-16be'),
};

/** One record of `values` (integers in the smallest serial type that holds them; text as UTF-8). */
export function encodeRecord(values: readonly SqliteValue[]): Uint8Array {
  const types: number[] = [];
  const bodies: Uint8Array[] = [];
  for (const v of values) {
    if (v === null) {
      types.push(0);
      bodies.push(new Uint8Array(0));
    } else if (typeof v === 'string') {
      const bytes = new TextEncoder().encode(v);
      types.push(bytes.length * 2 + 13);
      bodies.push(bytes);
    } else if (v instanceof Uint8Array) {
      types.push(v.length * 2 + 12);
      bodies.push(v);
    } else if (typeof v === 'number' && !Number.isInteger(v)) {
      const body = new Uint8Array(8);
      new DataView(body.buffer).setFloat64(0, v);
      types.push(7);
      bodies.push(body);
    } else {
      const n = BigInt(v);
      if (n === 0n || n === 1n) {
        types.push(n === 0n ? 8 : 9);
        bodies.push(new Uint8Array(0));
        continue;
      }
      const t = [1, 2, 3, 4, 5, 6].find((st) => {
        const bits = BigInt(8 * SIZES[st]!);
        return n >= -(1n << (bits - 1n)) && n < 1n << (bits - 1n);
      })!;
      const size = SIZES[t]!;
      const body = new Uint8Array(size);
      let u = BigInt.asUintN(8 * size, n);
      for (let i = size - 1; i >= 0; i--) {
        body[i] = Number(u & 0xffn);
        u >>= 8n;
      }
      types.push(t);
      bodies.push(body);
    }
  }
  const typeBytes = types.map((t) => encodeVarint(t));
  const typesLength = typeBytes.reduce((n, b) => n + b.length, 0);
  // The header size counts its own varint: one byte for headers under 128 bytes, two up to 16,383.
  let headerSize = typesLength + 1;
  if (encodeVarint(headerSize).length > 1) headerSize = typesLength + encodeVarint(typesLength + 2).length;
  const parts = [encodeVarint(headerSize), ...typeBytes, ...bodies];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
