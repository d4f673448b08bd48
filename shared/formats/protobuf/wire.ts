/**
 * Schema-less protobuf decoding for the on-disk records etcd and Kubernetes
 * write (walpb.Record, raftpb.Entry, mvccpb.KeyValue, runtime.Unknown, ...).
 * The wire reader is @bufbuild/protobuf's; this module turns its exceptions
 * into a result value, caps the number of fields it will collect, and offers
 * the few typed getters the format decoders need. It never throws and never
 * allocates from a length it has not checked against the input (the reader
 * slices, it does not copy).
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

export type ProtoField =
  | { no: number; wire: 'varint'; value: bigint }
  | { no: number; wire: 'fixed64'; value: bigint }
  | { no: number; wire: 'fixed32'; value: number }
  | { no: number; wire: 'bytes'; value: Uint8Array };

export type ProtoMessage =
  | { ok: true; fields: ProtoField[] }
  /** `fields` holds what decoded before the error at `offset` (relative to the message start). */
  | { ok: false; error: string; offset: number; fields: ProtoField[] };

/** More fields than any record etcd writes; a mutated input cannot make us collect millions. */
export const DEFAULT_MAX_FIELDS = 4096;

/**
 * The field at `reader`'s position, read past it, or why it cannot be (a field number of 0 or less, a group wire
 * type). The reader's own errors (a length past the end, a varint too long) are thrown, as the reader throws them.
 */
export function readField(reader: BinaryReader): ProtoField | string {
  const [no, wireType] = reader.tag();
  if (no <= 0) return `invalid field number ${no}`;
  switch (wireType) {
    case WireType.Varint:
      return { no, wire: 'varint', value: BigInt.asUintN(64, BigInt(reader.uint64())) };
    case WireType.Bit64:
      return { no, wire: 'fixed64', value: BigInt(reader.fixed64()) };
    case WireType.Bit32:
      return { no, wire: 'fixed32', value: reader.fixed32() };
    case WireType.LengthDelimited:
      return { no, wire: 'bytes', value: reader.bytes() };
    default:
      return `unsupported wire type ${wireType as number} for field ${no}`;
  }
}

/** Decode one message's top-level fields. Groups (unused by etcd and Kubernetes) are an error. */
export function decodeMessage(bytes: Uint8Array, maxFields = DEFAULT_MAX_FIELDS): ProtoMessage {
  const fields: ProtoField[] = [];
  const reader = new BinaryReader(bytes);
  let at = 0;
  try {
    while (reader.pos < reader.len) {
      at = reader.pos;
      if (fields.length >= maxFields) return { ok: false, error: `more than ${maxFields} fields`, offset: at, fields };
      const field = readField(reader);
      if (typeof field === 'string') return { ok: false, error: field, offset: at, fields };
      fields.push(field);
    }
    if (reader.pos > reader.len) return { ok: false, error: 'unexpected end of message', offset: at, fields };
    return { ok: true, fields };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err), offset: at, fields };
  }
}

/** The last occurrence of field `no` (protobuf: the last value wins for scalars). */
export function lastField(fields: readonly ProtoField[], no: number): ProtoField | undefined {
  for (let i = fields.length - 1; i >= 0; i--) if (fields[i]!.no === no) return fields[i];
  return undefined;
}

export function allFields(fields: readonly ProtoField[], no: number): ProtoField[] {
  return fields.filter((f) => f.no === no);
}

/** Field `no` as an unsigned 64-bit integer (varint or fixed), or `fallback`. */
export function u64Field(fields: readonly ProtoField[], no: number, fallback = 0n): bigint {
  const f = lastField(fields, no);
  if (!f) return fallback;
  if (f.wire === 'varint' || f.wire === 'fixed64') return f.value;
  if (f.wire === 'fixed32') return BigInt(f.value);
  return fallback;
}

/** Field `no` as a signed 64-bit integer (int64 on the wire is two's complement). */
export function i64Field(fields: readonly ProtoField[], no: number, fallback = 0n): bigint {
  return BigInt.asIntN(64, u64Field(fields, no, BigInt.asUintN(64, fallback)));
}

/**
 * Field `no` as a JavaScript number. Raft indexes, terms and revisions stay
 * far below 2^53 in practice; larger values are clamped to MAX_SAFE_INTEGER
 * so a mutated record cannot produce an imprecise number silently (callers
 * that need the exact value, such as member IDs, use `u64Field`).
 */
export function numField(fields: readonly ProtoField[], no: number, fallback = 0): number {
  const f = lastField(fields, no);
  if (!f || f.wire === 'bytes') return fallback;
  const v = f.wire === 'fixed32' ? BigInt(f.value) : f.value;
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

export function bytesField(fields: readonly ProtoField[], no: number): Uint8Array | undefined {
  const f = lastField(fields, no);
  return f && f.wire === 'bytes' ? f.value : undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

export function stringField(fields: readonly ProtoField[], no: number): string | undefined {
  const b = bytesField(fields, no);
  return b ? utf8.decode(b) : undefined;
}

/** Repeated uint64 values, packed (one bytes field) or not (one varint per value), capped at `max`. */
export function packedU64(fields: readonly ProtoField[], no: number, max = DEFAULT_MAX_FIELDS): bigint[] {
  const out: bigint[] = [];
  for (const f of fields) {
    if (f.no !== no) continue;
    if (f.wire === 'varint' || f.wire === 'fixed64') out.push(f.value);
    else if (f.wire === 'bytes') {
      const r = new BinaryReader(f.value);
      try {
        while (r.pos < r.len && out.length < max) out.push(BigInt.asUintN(64, BigInt(r.uint64())));
      } catch {
        break;
      }
    }
    if (out.length >= max) break;
  }
  return out;
}

/** A 64-bit id as etcd prints it (`types.ID.String()`: lower-case hex, no padding). */
export function idHex(v: bigint): string {
  return v.toString(16);
}
