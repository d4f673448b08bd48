/**
 * mvccpb.KeyValue (etcd `api/mvccpb/kv.proto`, proto3): 1 key, 2
 * create_revision, 3 mod_revision, 4 version, 5 value, 6 lease (all int64
 * but the bytes). A tombstone's value is a KeyValue with the key only.
 */
import { bytesField, decodeMessage, i64Field, numField } from '../protobuf/wire';

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

/** Decode a KeyValue; never throws. A message without a key is an error (etcd never writes one). */
export function decodeKeyValue(bytes: Uint8Array): KeyValueDecode {
  const m = decodeMessage(bytes, 64);
  if (!m.ok) return { ok: false, error: `mvccpb.KeyValue: ${m.error}`, offset: m.offset };
  for (const f of m.fields) {
    const bytesWanted = f.no === 1 || f.no === 5;
    if (f.no >= 1 && f.no <= 6 && bytesWanted !== (f.wire === 'bytes')) return { ok: false, error: `mvccpb.KeyValue: field ${f.no} has the wrong wire type`, offset: 0 };
  }
  const key = bytesField(m.fields, 1);
  if (!key || key.length === 0) return { ok: false, error: 'mvccpb.KeyValue: no key', offset: 0 };
  return {
    ok: true,
    kv: {
      key,
      createRevision: numField(m.fields, 2),
      modRevision: numField(m.fields, 3),
      version: numField(m.fields, 4),
      value: bytesField(m.fields, 5) ?? EMPTY,
      lease: i64Field(m.fields, 6),
    },
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
