/**
 * mvccpb.KeyValue (etcd `api/mvccpb/kv.proto`, proto3): 1 key, 2
 * create_revision, 3 mod_revision, 4 version, 5 value, 6 lease (all int64
 * but the bytes). A tombstone's value is a KeyValue with the key only.
 */
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { readField } from '../protobuf/wire';

export interface KeyValue {
  key: Uint8Array;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Uint8Array;
  /** Lease id (0 = none). */
  lease: bigint;
}

export type KeyValueDecode = { ok: true; kv: KeyValue } | { ok: false; error: string; offset: number };

const EMPTY = new Uint8Array(0);

/**
 * Decode a KeyValue; never throws. A message without a key is an error (etcd never writes one). Fields are read one
 * at a time (`readField`, as `decodeMessage` reads them) and only the last of each known one is kept (protobuf's
 * rule, and gogo's: any number of fields, unknown ones skipped), so a record of thousands of repeated fields costs
 * no memory.
 */
export function decodeKeyValue(bytes: Uint8Array): KeyValueDecode {
  const reader = new BinaryReader(bytes);
  let key: Uint8Array | undefined;
  let value: Uint8Array | undefined;
  /** The last varint or fixed value of fields 2, 3, 4 and 6 (index = field number). */
  const ints: (bigint | undefined)[] = [];
  let wrongWire = 0;
  let at = 0;
  const fail = (error: string): KeyValueDecode => ({ ok: false, error: `mvccpb.KeyValue: ${error}`, offset: at });
  try {
    while (reader.pos < reader.len) {
      at = reader.pos;
      const f = readField(reader);
      if (typeof f === 'string') return fail(f);
      if (f.no > 6) continue;
      const isBytes = f.wire === 'bytes';
      if ((f.no === 1 || f.no === 5) !== isBytes && wrongWire === 0) wrongWire = f.no;
      if (f.no === 1) key = isBytes ? f.value : undefined;
      else if (f.no === 5) value = isBytes ? f.value : undefined;
      else ints[f.no] = isBytes ? undefined : BigInt(f.value);
    }
    if (reader.pos > reader.len) return fail('unexpected end of message');
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  if (wrongWire !== 0) return { ok: false, error: `mvccpb.KeyValue: field ${wrongWire} has the wrong wire type`, offset: 0 };
  if (!key || key.length === 0) return { ok: false, error: 'mvccpb.KeyValue: no key', offset: 0 };
  const num = (no: number): number => {
    const v = ints[no];
    return v === undefined ? 0 : v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  };
  return {
    ok: true,
    kv: { key, createRevision: num(2), modRevision: num(3), version: num(4), value: value ?? EMPTY, lease: BigInt.asIntN(64, ints[6] ?? 0n) },
  };
}

function varint(v: bigint, out: number[]): void {
  let x = BigInt.asUintN(64, v);
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
}

/** Encode a KeyValue as etcd does (proto3: zero scalars and empty bytes left out, field order 1..6). */
export function encodeKeyValue(kv: KeyValue): Uint8Array {
  const head: number[] = [];
  const parts: Uint8Array[] = [];
  const flush = () => {
    if (head.length) parts.push(Uint8Array.from(head.splice(0)));
  };
  const bytesF = (no: number, b: Uint8Array) => {
    if (b.length === 0) return;
    head.push((no << 3) | 2);
    varint(BigInt(b.length), head);
    flush();
    parts.push(b);
  };
  const intF = (no: number, v: bigint) => {
    if (v === 0n) return;
    head.push(no << 3);
    varint(v, head);
  };
  bytesF(1, kv.key);
  intF(2, BigInt(kv.createRevision));
  intF(3, BigInt(kv.modRevision));
  intF(4, BigInt(kv.version));
  flush();
  bytesF(5, kv.value);
  intF(6, kv.lease);
  flush();
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const FIELD_NAMES: Record<number, string> = { 1: 'Key', 2: 'CreateRevision', 3: 'ModRevision', 4: 'Version', 5: 'Value', 6: 'Lease' };
const ERR_EOF = 'unexpected EOF';
const ERR_OVERFLOW = 'proto: integer overflow';
const ERR_LENGTH = 'proto: negative length found during unmarshaling';

/**
 * The error etcd 3.4's generated (gogo/protobuf) `KeyValue.Unmarshal` returns
 * for these bytes, with its exact text, or null when it accepts them. etcd's
 * mvcc restore stops at start-up on the first one: `C | mvcc: cannot
 * unmarshal event: <error>`. Lengths use Go's 64-bit int arithmetic.
 */
export function gogoKeyValueError(b: Uint8Array): string | null {
  if (wellFormedKeyValue(b, 0, b.length)) return null;
  return gogoKeyValueErrorExact(b);
}

/** `gogoKeyValueError` of the value `b[start, end)`, without a view of it unless it is not well formed. */
export function gogoKeyValueErrorAt(b: Uint8Array, start: number, end: number): string | null {
  if (wellFormedKeyValue(b, start, end)) return null;
  return gogoKeyValueErrorExact(b.subarray(start, end));
}

/**
 * Fast path (numbers, no allocation): true when the bytes are a KeyValue of
 * known fields with the right wire types, short varints and in-bounds lengths,
 * which gogo accepts. Anything else goes to the exact emulation.
 */
function wellFormedKeyValue(b: Uint8Array, start: number, end: number): boolean {
  return walkKeyValue(b, start, end) !== NOT_WELL_FORMED;
}

/**
 * Where the key field's tag is in the KeyValue `b[start, end)` when the bytes are well formed (`wellFormedKeyValue`)
 * and hold that field exactly once (a decoder takes the last of several); -1 otherwise. With it,
 * `keyValueKeyStartAt(b, tag, end)` and `keyValueKeyLengthAt` give the key in place: a salvage pass hashes it there.
 */
export function keyValueSingleKeyTagAt(b: Uint8Array, start: number, end: number): number {
  const tag = walkKeyValue(b, start, end);
  return tag < 0 ? -1 : tag;
}

/**
 * The mod_revision of the KeyValue `b[start, end)` read in place, as a decoder reads it (the last of several; 0
 * when absent; past 2^53 not exact), when the bytes are well formed (`wellFormedKeyValue`); -1 otherwise. A
 * salvage pass reads it where it lies: the revision a damaged revision key is written at (salvage.ts
 * `revisionInOrder`).
 */
export function keyValueModRevisionAt(b: Uint8Array, start: number, end: number): number {
  const mod = walkKeyValue(b, start, end, MOD_REVISION_FIELD);
  return mod === NOT_WELL_FORMED ? -1 : mod;
}

const NOT_WELL_FORMED = -2;
const NO_SINGLE_KEY = -1;
const MOD_REVISION_FIELD = 3;

/**
 * The walk of `wellFormedKeyValue`: NOT_WELL_FORMED, else the single key field's tag position or NO_SINGLE_KEY; with
 * `varintField` (2, 3, 4 or 6), the last value of that field instead (0 when absent).
 */
function walkKeyValue(b: Uint8Array, start: number, end: number, varintField = 0): number {
  const l = end;
  let i = start;
  let keyTag = NO_SINGLE_KEY;
  let keys = 0;
  let fieldValue = 0;
  while (i < l) {
    const tagAt = i;
    const tag = b[i++]!;
    if (tag >= 0x80) return NOT_WELL_FORMED;
    const no = tag >> 3;
    const wt = tag & 7;
    if (no < 1 || no > 6) return NOT_WELL_FORMED;
    if (no === 1 || no === 5) {
      if (wt !== 2) return NOT_WELL_FORMED;
      let len = 0;
      let mul = 1;
      for (let n = 0; ; n++) {
        if (n >= 7 || i >= l) return NOT_WELL_FORMED;
        const c = b[i++]!;
        len += (c & 0x7f) * mul;
        mul *= 128;
        if (c < 0x80) break;
      }
      if (i + len > l) return NOT_WELL_FORMED;
      i += len;
      if (no === 1) {
        keys++;
        keyTag = tagAt;
      }
    } else {
      if (wt !== 0) return NOT_WELL_FORMED;
      const varintAt = i;
      for (let n = 0; ; n++) {
        if (n >= 10 || i >= l) return NOT_WELL_FORMED;
        if (b[i++]! < 0x80) break;
      }
      if (no === varintField) {
        fieldValue = 0;
        for (let j = varintAt, mul = 1; j < i; j++, mul *= 128) fieldValue += (b[j]! & 0x7f) * mul;
      }
    }
  }
  if (varintField !== 0) return fieldValue;
  return keys === 1 ? keyTag : NO_SINGLE_KEY;
}

/** The key of a KeyValue when it is the first field (as etcd writes it), without decoding the rest; null otherwise. */
export function keyValueKeyFast(b: Uint8Array): Uint8Array | null {
  const start = keyValueKeyStart(b);
  return start < 0 ? null : b.subarray(start, start + keyValueKeyLength(b, start));
}

/**
 * Where `keyValueKeyFast`'s key starts in `b` (-1 where it returns null);
 * `keyValueKeyLength` gives its length. No view is made: validation hashes
 * the key where it is, once per revision of the db.
 */
export function keyValueKeyStart(b: Uint8Array): number {
  return keyValueKeyStartAt(b, 0, b.length);
}

/** `keyValueKeyStart` of the value `b[start, end)`: where in `b` its key starts, or -1. */
export function keyValueKeyStartAt(b: Uint8Array, start: number, end: number): number {
  if (end - start < 2 || b[start] !== 0x0a) return -1;
  let i = start + 1;
  let len = 0;
  let mul = 1;
  for (let n = 0; ; n++) {
    if (n >= 5 || i >= end) return -1;
    const c = b[i++]!;
    len += (c & 0x7f) * mul;
    mul *= 128;
    if (c < 0x80) break;
  }
  return len > 0 && i + len <= end ? i : -1;
}

/** The length of the key starting at `start` (from `keyValueKeyStart`): its length varint, read again. */
export function keyValueKeyLength(b: Uint8Array, start: number): number {
  return keyValueKeyLengthAt(b, 0, start);
}

/** `keyValueKeyLength` for a value starting at `valueStart` in `b` whose key starts at `keyStart` (keyValueKeyStartAt). */
export function keyValueKeyLengthAt(b: Uint8Array, valueStart: number, keyStart: number): number {
  let len = 0;
  let mul = 1;
  for (let i = valueStart + 1; i < keyStart; i++) {
    len += (b[i]! & 0x7f) * mul;
    mul *= 128;
  }
  return len;
}

/** What `gogoKeyValueErrorWithin` says when gogo would read a byte past the readable ones. */
export const READS_PAST_READABLE = Symbol('reads past the readable bytes');

/** Thrown inside the emulation when it would read a byte past the readable ones. */
class PastReadable extends Error {
  constructor() {
    super('reads past the readable bytes');
  }
}

/**
 * gogo's `KeyValue.Unmarshal` over a slice of `declared` bytes of which only
 * the first `b.length` can be read: bbolt hands etcd a value whose size runs
 * past the end of the file, and gogo reads it from its start until it fails.
 * Its error, null when it succeeds, or READS_PAST_READABLE when it would read
 * a byte past `b.length` first (a tag, a varint, or a key or value it copies;
 * skipping an unknown field reads none of its bytes).
 */
export function gogoKeyValueErrorWithin(b: Uint8Array, declared: number): string | null | typeof READS_PAST_READABLE {
  try {
    return gogoKeyValueErrorExact(b, Math.max(declared, b.length));
  } catch (e) {
    if (e instanceof PastReadable) return READS_PAST_READABLE;
    throw e;
  }
}

function gogoKeyValueErrorExact(bytes: Uint8Array, declared = bytes.length): string | null {
  const l = declared;
  // Only `gogoKeyValueErrorWithin` declares more bytes than there are: a read past them throws.
  const readable = bytes.length;
  const at = (k: number): number => {
    if (k >= readable) throw new PastReadable();
    return bytes[k]!;
  };
  let i = 0;
  /** A varint as Go accumulates it: uint64 for tags, wrapping int64 for lengths. */
  const varint = (): bigint | string => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (shift >= 64n) return ERR_OVERFLOW;
      if (i >= l) return ERR_EOF;
      const c = at(i++);
      v |= BigInt(c & 0x7f) << shift;
      if (c < 0x80) break;
    }
    return BigInt.asUintN(64, v);
  };
  const skip = (start: number): number | string => {
    // skipKv over b[start:]: returns the bytes consumed.
    let j = start;
    const vr = (): bigint | string => {
      let v = 0n;
      for (let shift = 0n; ; shift += 7n) {
        if (shift >= 64n) return ERR_OVERFLOW;
        if (j >= l) return ERR_EOF;
        const c = at(j++);
        v |= BigInt(c & 0x7f) << shift;
        if (c < 0x80) break;
      }
      return BigInt.asUintN(64, v);
    };
    while (j < l) {
      const wire = vr();
      if (typeof wire === 'string') return wire;
      const wt = Number(wire & 7n);
      switch (wt) {
        case 0: {
          const v = vr();
          return typeof v === 'string' ? v : j - start;
        }
        case 1:
          return j + 8 - start;
        case 2: {
          const len = vr();
          if (typeof len === 'string') return len;
          const n = BigInt.asIntN(64, len);
          if (n < 0n) return ERR_LENGTH;
          return n > BigInt(l) * 2n ? Number.MAX_SAFE_INTEGER : j + Number(n) - start;
        }
        case 3: {
          for (let depth = 0; depth < 10_000; depth++) {
            const inner = j;
            const w = vr();
            if (typeof w === 'string') return w;
            if ((w & 7n) === 4n) break;
            const next = skip(inner);
            if (typeof next === 'string') return next;
            j = inner + next;
          }
          return j - start;
        }
        case 4:
          return j - start;
        case 5:
          return j + 4 - start;
        default:
          return `proto: illegal wireType ${wt}`;
      }
    }
    return ERR_EOF; // Go panics with "unreachable" here; only an empty tail gets here, which the caller never passes.
  };
  while (i < l) {
    const pre = i;
    const wire = varint();
    if (typeof wire === 'string') return wire;
    const fieldNum = BigInt.asIntN(32, wire >> 3n);
    const wireType = Number(wire & 7n);
    if (wireType === 4) return 'proto: KeyValue: wiretype end group for non-group';
    if (fieldNum <= 0n) return `proto: KeyValue: illegal tag ${fieldNum} (wire type ${wire})`;
    const no = Number(fieldNum);
    const name = FIELD_NAMES[no];
    if (name) {
      const bytesField = no === 1 || no === 5;
      if (bytesField && wireType !== 2) return `proto: wrong wireType = ${wireType} for field ${name}`;
      if (!bytesField && wireType !== 0) return `proto: wrong wireType = ${wireType} for field ${name}`;
      const v = varint();
      if (typeof v === 'string') return v;
      if (bytesField) {
        const n = BigInt.asIntN(64, v);
        if (n < 0n) return ERR_LENGTH;
        if (BigInt(i) + n > BigInt(l)) return ERR_EOF;
        // gogo copies the key or value (append): every byte of it is read.
        if (i + Number(n) > readable) throw new PastReadable();
        i += Number(n);
      }
    } else {
      i = pre;
      const s = skip(i);
      if (typeof s === 'string') return s;
      if (s < 0) return ERR_LENGTH;
      if (i + s > l) return ERR_EOF;
      i += s;
    }
  }
  return null;
}

/**
 * `decodeKeyValue` for the common case, without BigInt or intermediate
 * objects (it runs once per revision over a whole db): known fields with
 * their wire types and varints of up to 7 bytes; anything else is handed to
 * `decodeKeyValue`. Same result.
 */
export function decodeKeyValueFast(b: Uint8Array): KeyValueDecode {
  const l = b.length;
  let i = 0;
  let key: Uint8Array | null = null;
  let value: Uint8Array = EMPTY;
  let createRevision = 0;
  let modRevision = 0;
  let version = 0;
  let lease = 0n;
  while (i < l) {
    const tag = b[i++]!;
    const no = tag >> 3;
    const wt = tag & 7;
    if (tag >= 0x80 || no < 1 || no > 6) return decodeKeyValue(b);
    if (no === 6) {
      if (wt !== 0) return decodeKeyValue(b);
      let v = 0n;
      let shift = 0n;
      for (let n = 0; ; n++) {
        if (n >= 10 || i >= l) return decodeKeyValue(b);
        const c = b[i++]!;
        v |= BigInt(c & 0x7f) << shift;
        shift += 7n;
        if (c < 0x80) break;
      }
      lease = BigInt.asIntN(64, v);
      continue;
    }
    let v = 0;
    let mul = 1;
    for (let n = 0; ; n++) {
      if (n >= 7 || i >= l) return decodeKeyValue(b);
      const c = b[i++]!;
      v += (c & 0x7f) * mul;
      mul *= 128;
      if (c < 0x80) break;
    }
    if (no === 1 || no === 5) {
      if (wt !== 2 || i + v > l) return decodeKeyValue(b);
      if (no === 1) key = b.subarray(i, i + v);
      else value = b.subarray(i, i + v);
      i += v;
    } else {
      if (wt !== 0) return decodeKeyValue(b);
      if (no === 2) createRevision = v;
      else if (no === 3) modRevision = v;
      else version = v;
    }
  }
  if (!key || key.length === 0) return decodeKeyValue(b);
  return { ok: true, kv: { key, createRevision, modRevision, version, value, lease } };
}
