/**
 * What a Normal raft entry asks etcd 3.4 to do: `etcdserverpb.InternalRaftRequest`
 * (`etcdserver/etcdserverpb/raft_internal.proto`, `rpc.proto`), or, when the
 * bytes do not unmarshal as one, the v2 `etcdserverpb.Request` (etcd 3.4's
 * `applyEntryNormal` tries InternalRaftRequest first and falls back to v2;
 * 3.4 still writes v2 requests itself, e.g. `PUT /0/members/<id>/attributes`).
 *
 *   InternalRaftRequest 100 header {1 ID, 2 username, 3 auth_revision}, 1 ID, 2 v2,
 *     3 range, 4 put, 5 delete_range, 6 txn, 7 compaction, 8 lease_grant,
 *     9 lease_revoke, 10 alarm, 11 lease_checkpoint, 1000.. auth
 *   PutRequest 1 key, 2 value, 3 lease, 4 prev_kv, 5 ignore_value, 6 ignore_lease
 *   DeleteRangeRequest 1 key, 2 range_end, 3 prev_kv
 *   TxnRequest 1 compare*, 2 success* RequestOp, 3 failure* RequestOp
 *   RequestOp 1 range, 2 put, 3 delete_range, 4 txn
 *   Compare 1 result, 2 target, 3 key, 4 version, 5 create_revision, 6 mod_revision, 7 value, 8 lease, 64 range_end
 *   CompactionRequest 1 revision, 2 physical
 *   LeaseGrantRequest 1 TTL, 2 ID;  LeaseRevokeRequest 1 ID
 *   AlarmRequest 1 action (0 GET, 1 ACTIVATE, 2 DEACTIVATE), 2 memberID, 3 alarm (0 NONE, 1 NOSPACE, 2 CORRUPT)
 *   Request (v2) 1 ID, 2 Method, 3 Path, 4 Val, 5 Dir, ... 9 Expiration, 15 Time
 *
 * Decoding never throws; nested transactions are followed to a bounded depth.
 */
import type { LocalText } from '../../contract/text';
import { translateLocal } from '../../i18n/index';
import { decodeMessage, bytesField, i64Field, u64Field, numField, stringField, idHex, DEFAULT_MAX_FIELDS, type ProtoField } from '../protobuf/wire';

export interface CompareSummary {
  result: 'equal' | 'greater' | 'less' | 'not-equal' | `unknown(${number})`;
  target: 'version' | 'create' | 'mod' | 'value' | 'lease' | `unknown(${number})`;
  key: Uint8Array;
  rangeEnd: Uint8Array;
  /** The compared number (version, revisions, lease), when the target is numeric. */
  number?: bigint;
  value?: Uint8Array;
}

export type InternalRequest =
  | { kind: 'put'; id: bigint; key: Uint8Array; value: Uint8Array; lease: bigint; prevKv: boolean; ignoreValue: boolean; ignoreLease: boolean }
  | { kind: 'delete-range'; id: bigint; key: Uint8Array; rangeEnd: Uint8Array; prevKv: boolean }
  | { kind: 'range'; id: bigint; key: Uint8Array; rangeEnd: Uint8Array }
  | { kind: 'txn'; id: bigint; compare: CompareSummary[]; success: InternalRequest[]; failure: InternalRequest[] }
  | { kind: 'compaction'; id: bigint; revision: number; physical: boolean }
  | { kind: 'lease-grant'; id: bigint; leaseId: bigint; ttl: number }
  | { kind: 'lease-revoke'; id: bigint; leaseId: bigint }
  | { kind: 'lease-checkpoint'; id: bigint; checkpoints: { leaseId: bigint; remainingTtl: number }[] }
  | {
      kind: 'alarm';
      id: bigint;
      action: 'get' | 'activate' | 'deactivate' | `unknown(${number})`;
      memberId: string;
      alarm: 'none' | 'nospace' | 'corrupt' | `unknown(${number})`;
    }
  | { kind: 'auth'; id: bigint; field: number }
  | { kind: 'v2'; id: bigint; method: string; path: string; val: string; expiration: bigint }
  | { kind: 'other'; id: bigint; field: number };

/** Deepest txn-in-txn followed (etcd's own limit is `--max-txn-ops`, nesting is rare). */
const MAX_TXN_DEPTH = 16;
/** Most ops per txn branch collected (etcd's default --max-txn-ops is 128). */
const MAX_TXN_OPS = 10_000;

const EMPTY = new Uint8Array(0);

type Parsed<T> = T | null;

function msg(bytes: Uint8Array): Parsed<ProtoField[]> {
  const m = decodeMessage(bytes);
  return m.ok ? m.fields : null;
}

function bool(fields: readonly ProtoField[], no: number): boolean {
  return u64Field(fields, no) !== 0n;
}

function compareResult(n: number): CompareSummary['result'] {
  return n === 0 ? 'equal' : n === 1 ? 'greater' : n === 2 ? 'less' : n === 3 ? 'not-equal' : `unknown(${n})`;
}

function compareTarget(n: number): CompareSummary['target'] {
  return n === 0 ? 'version' : n === 1 ? 'create' : n === 2 ? 'mod' : n === 3 ? 'value' : n === 4 ? 'lease' : `unknown(${n})`;
}

function decodeCompare(bytes: Uint8Array): Parsed<CompareSummary> {
  const f = msg(bytes);
  if (!f) return null;
  const c: CompareSummary = {
    result: compareResult(numField(f, 1)),
    target: compareTarget(numField(f, 2)),
    key: bytesField(f, 3) ?? EMPTY,
    rangeEnd: bytesField(f, 64) ?? EMPTY,
  };
  for (const no of [4, 5, 6, 8]) if (f.some((x) => x.no === no)) c.number = i64Field(f, no);
  const v = bytesField(f, 7);
  if (v) c.value = v;
  return c;
}

function decodePut(f: readonly ProtoField[], id: bigint): InternalRequest {
  return {
    kind: 'put',
    id,
    key: bytesField(f, 1) ?? EMPTY,
    value: bytesField(f, 2) ?? EMPTY,
    lease: i64Field(f, 3),
    prevKv: bool(f, 4),
    ignoreValue: bool(f, 5),
    ignoreLease: bool(f, 6),
  };
}

function decodeRequestOp(bytes: Uint8Array, depth: number): Parsed<InternalRequest> {
  const f = msg(bytes);
  if (!f) return null;
  // A oneof: the last set member wins.
  for (let i = f.length - 1; i >= 0; i--) {
    const x = f[i]!;
    if (x.wire !== 'bytes' || x.no < 1 || x.no > 4) continue;
    const inner = msg(x.value);
    if (!inner) return null;
    if (x.no === 1) return { kind: 'range', id: 0n, key: bytesField(inner, 1) ?? EMPTY, rangeEnd: bytesField(inner, 2) ?? EMPTY };
    if (x.no === 2) return decodePut(inner, 0n);
    if (x.no === 3)
      return { kind: 'delete-range', id: 0n, key: bytesField(inner, 1) ?? EMPTY, rangeEnd: bytesField(inner, 2) ?? EMPTY, prevKv: bool(inner, 3) };
    return decodeTxn(x.value, 0n, depth + 1);
  }
  return { kind: 'other', id: 0n, field: 0 };
}

function decodeTxn(bytes: Uint8Array, id: bigint, depth: number): Parsed<InternalRequest> {
  if (depth > MAX_TXN_DEPTH) return null;
  const f = msg(bytes);
  if (!f) return null;
  const compare: CompareSummary[] = [];
  const success: InternalRequest[] = [];
  const failure: InternalRequest[] = [];
  for (const x of f) {
    if (x.wire !== 'bytes') continue;
    if (x.no === 1 && compare.length < MAX_TXN_OPS) {
      const c = decodeCompare(x.value);
      if (!c) return null;
      compare.push(c);
    } else if ((x.no === 2 || x.no === 3) && (x.no === 2 ? success : failure).length < MAX_TXN_OPS) {
      const op = decodeRequestOp(x.value, depth);
      if (!op) return null;
      (x.no === 2 ? success : failure).push(op);
    }
  }
  return { kind: 'txn', id, compare, success, failure };
}

function alarmAction(n: number): Extract<InternalRequest, { kind: 'alarm' }>['action'] {
  return n === 0 ? 'get' : n === 1 ? 'activate' : n === 2 ? 'deactivate' : `unknown(${n})`;
}

function alarmType(n: number): Extract<InternalRequest, { kind: 'alarm' }>['alarm'] {
  return n === 0 ? 'none' : n === 1 ? 'nospace' : n === 2 ? 'corrupt' : `unknown(${n})`;
}

function decodeV2(f: readonly ProtoField[]): InternalRequest {
  return {
    kind: 'v2',
    id: u64Field(f, 1),
    method: stringField(f, 2) ?? '',
    path: stringField(f, 3) ?? '',
    val: stringField(f, 4) ?? '',
    expiration: i64Field(f, 9),
  };
}

/** The request field numbers of InternalRaftRequest, in the order etcd's apply checks them. */
const REQUEST_FIELDS = [3, 4, 5, 6, 7, 8, 9, 10, 11];

/**
 * Decode a Normal entry's data. Returns null for an empty entry (the no-op a
 * new leader appends) and for bytes that are neither an InternalRaftRequest
 * nor a v2 Request (etcd would panic applying them: "unmarshal should never fail").
 *
 * Salvage decodes every entry of the WAL (a quarter of a million in a 512 MB
 * one), so the request is read straight from the bytes (`fastRequest`) and
 * only input outside the plain shape etcd writes goes through the field lists
 * of `decodeInternalRequestFromFields`, the reference both give the same answer as.
 */
export function decodeInternalRequest(data: Uint8Array | null): InternalRequest | null {
  if (!data || data.length === 0) return null;
  const r = fastRequest(data);
  return r === UNSURE ? decodeInternalRequestFromFields(data) : r;
}

/** `decodeInternalRequest` through `decodeMessage`'s field lists (any input; slower). */
export function decodeInternalRequestFromFields(data: Uint8Array | null): InternalRequest | null {
  if (!data || data.length === 0) return null;
  const f = msg(data);
  if (f) {
    const header = bytesField(f, 100);
    const headerFields = header ? msg(header) : [];
    const id = headerFields && headerFields.length ? u64Field(headerFields, 1) : u64Field(f, 1);
    // A nested message that does not unmarshal fails the whole InternalRaftRequest: etcd then reads a v2 Request.
    let nestedOk = headerFields !== null;
    const v2 = bytesField(f, 2);
    if (nestedOk && v2) {
      const v = msg(v2);
      if (v) return decodeV2(v);
      nestedOk = false;
    }
    const present = REQUEST_FIELDS.find((no) => bytesField(f, no) !== undefined);
    if (nestedOk && present !== undefined) {
      const r = decodeField(present, bytesField(f, present)!, id);
      if (r) return r;
      nestedOk = false;
    }
    if (nestedOk) {
      const auth = f.find((x) => x.no >= 1000 && x.no < 1300 && x.wire === 'bytes');
      if (auth) return { kind: 'auth', id, field: auth.no };
      const other = f.find((x) => x.no !== 1 && x.no !== 100);
      return { kind: 'other', id, field: other?.no ?? 0 };
    }
    if (f.every((x) => x.no >= 1 && x.no <= 17)) return decodeV2(f);
  }
  return null;
}

function decodeField(no: number, b: Uint8Array, id: bigint): InternalRequest | null {
  const f = msg(b);
  if (!f) return null;
  switch (no) {
    case 3:
      return { kind: 'range', id, key: bytesField(f, 1) ?? EMPTY, rangeEnd: bytesField(f, 2) ?? EMPTY };
    case 4:
      return decodePut(f, id);
    case 5:
      return { kind: 'delete-range', id, key: bytesField(f, 1) ?? EMPTY, rangeEnd: bytesField(f, 2) ?? EMPTY, prevKv: bool(f, 3) };
    case 6:
      return decodeTxn(b, id, 0);
    case 7:
      return { kind: 'compaction', id, revision: numField(f, 1), physical: bool(f, 2) };
    case 8:
      return { kind: 'lease-grant', id, ttl: Number(i64Field(f, 1)), leaseId: i64Field(f, 2) };
    case 9:
      return { kind: 'lease-revoke', id, leaseId: i64Field(f, 1) };
    case 10:
      return { kind: 'alarm', id, action: alarmAction(numField(f, 1)), memberId: idHex(u64Field(f, 2)), alarm: alarmType(numField(f, 3)) };
    case 11: {
      const checkpoints: { leaseId: bigint; remainingTtl: number }[] = [];
      for (const x of f) {
        if (x.no !== 1 || x.wire !== 'bytes' || checkpoints.length >= MAX_TXN_OPS) continue;
        const c = msg(x.value);
        if (!c) return null;
        checkpoints.push({ leaseId: i64Field(c, 1), remainingTtl: Number(i64Field(c, 2)) });
      }
      return { kind: 'lease-checkpoint', id, checkpoints };
    }
    default:
      return null;
  }
}

// ------------------------------------------------------------ the direct reader

/**
 * `fastRequest`'s answer for bytes outside the plain shape it reads directly
 * (fixed-width or group fields, tags or lengths of more than 2 or 4 bytes,
 * anything cut short, nesting past the limit): `decodeInternalRequestFromFields`
 * then decides, so bad input gets exactly the answer it always got.
 */
const UNSURE = Symbol('unsure');
type Fast<T> = T | typeof UNSURE;

/**
 * The field `readField` last read. One scratch object, not one per field:
 * the caller reads it before reading another field.
 */
const cur = { no: 0, wire: 0, lo: 0, hi: 0, start: 0, end: 0 };

/**
 * Read the field at `pos` (before `end`) into `cur`; returns the position
 * after it, or -1 outside the plain shape. Varints are read as
 * @bufbuild/protobuf's reader reads them (`decodeMessage`), bit for bit,
 * including a tenth byte's unused bits, so both see the same values.
 */
function readField(b: Uint8Array, pos: number, end: number): number {
  let tag = b[pos++]!;
  if (tag >= 0x80) {
    if (pos >= end) return -1;
    const next = b[pos++]!;
    if (next >= 0x80) return -1;
    tag = (tag & 0x7f) | (next << 7);
  }
  const no = tag >>> 3;
  const wire = tag & 7;
  if (no === 0) return -1;
  cur.no = no;
  cur.wire = wire;
  if (wire === 0) {
    let lo = 0;
    let hi = 0;
    for (let k = 0; ; k++) {
      if (k === 10 || pos >= end) return -1;
      const c = b[pos++]!;
      if (k < 4) lo |= (c & 0x7f) << (7 * k);
      else if (k === 4) {
        lo |= (c & 0x0f) << 28;
        hi = (c & 0x70) >> 4;
      } else hi |= (c & 0x7f) << (7 * k - 32);
      if (c < 0x80) break;
    }
    cur.lo = lo >>> 0;
    cur.hi = hi >>> 0;
    return pos;
  }
  if (wire !== 2) return -1;
  let len = 0;
  for (let k = 0; ; k++) {
    if (k === 4 || pos >= end) return -1;
    const c = b[pos++]!;
    len |= (c & 0x7f) << (7 * k);
    if (c < 0x80) break;
  }
  if (len > end - pos) return -1;
  cur.start = pos;
  cur.end = pos + len;
  return pos + len;
}

/** Slots of the fields `indexFields` keeps: numbers 1..11 as is, 64 (Compare.range_end) and 100 (the header). */
const SLOTS = 14;
const RANGE_END_SLOT = 12;
const HEADER_SLOT = 13;

function slotOf(no: number): number {
  return no < 12 ? no : no === 64 ? RANGE_END_SLOT : no === 100 ? HEADER_SLOT : -1;
}

/** The last occurrence of each kept field of the message `indexFields` last read (wire -1: absent). */
const wireOf = new Int8Array(SLOTS);
const loOf = new Uint32Array(SLOTS);
const hiOf = new Uint32Array(SLOTS);
const startOf = new Float64Array(SLOTS);
const endOf = new Float64Array(SLOTS);

/** One pass over the message `b[start, end)`: how many fields it has (-1: outside the plain shape). */
function indexFields(b: Uint8Array, start: number, end: number): number {
  wireOf.fill(-1);
  let n = 0;
  for (let p = start; p < end;) {
    p = readField(b, p, end);
    // decodeMessage refuses a message of more than DEFAULT_MAX_FIELDS fields: left to it.
    if (p < 0 || ++n >= DEFAULT_MAX_FIELDS) return -1;
    const k = slotOf(cur.no);
    if (k < 0) continue;
    wireOf[k] = cur.wire;
    loOf[k] = cur.lo;
    hiOf[k] = cur.hi;
    startOf[k] = cur.start;
    endOf[k] = cur.end;
  }
  return n;
}

/** Eight bytes to build a 64-bit value in: one BigInt made per value, not four (ids and leases use all 64 bits). */
const int64Scratch = new DataView(new ArrayBuffer(8));

function uint64(lo: number, hi: number): bigint {
  if (hi === 0) return BigInt(lo);
  int64Scratch.setUint32(0, lo, true);
  int64Scratch.setUint32(4, hi, true);
  return int64Scratch.getBigUint64(0, true);
}

function int64(lo: number, hi: number): bigint {
  if (hi === 0) return BigInt(lo);
  int64Scratch.setUint32(0, lo, true);
  int64Scratch.setUint32(4, hi, true);
  return int64Scratch.getBigInt64(0, true);
}

/** The getters of `protobuf/wire.ts` over the indexed message: the last occurrence decides, of the wire type asked for. */
function bytesAt(b: Uint8Array, k: number): Uint8Array | undefined {
  return wireOf[k] === 2 ? b.subarray(startOf[k], endOf[k]) : undefined;
}

function u64At(k: number): bigint {
  return wireOf[k] === 0 ? uint64(loOf[k]!, hiOf[k]!) : 0n;
}

function i64At(k: number): bigint {
  return wireOf[k] === 0 ? int64(loOf[k]!, hiOf[k]!) : 0n;
}

function numAt(k: number): number {
  if (wireOf[k] !== 0) return 0;
  const hi = hiOf[k]!;
  return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x1_0000_0000 + loOf[k]!;
}

function boolAt(k: number): boolean {
  return wireOf[k] === 0 && (loOf[k] !== 0 || hiOf[k] !== 0);
}

function utf8At(b: Uint8Array, k: number): string {
  return wireOf[k] === 2 ? utf8.decode(b.subarray(startOf[k], endOf[k])) : '';
}

/** `decodeInternalRequestFromFields`, step for step, on the bytes themselves. */
function fastRequest(data: Uint8Array): Fast<InternalRequest | null> {
  const end = data.length;
  if (indexFields(data, 0, end) < 0) return UNSURE;
  // The nested reads below reuse the index: what they need of the top level is kept first.
  const idWire = wireOf[1]!;
  const idLo = loOf[1]!;
  const idHi = hiOf[1]!;
  const hasHeader = wireOf[HEADER_SLOT] === 2;
  const headerStart = startOf[HEADER_SLOT]!;
  const headerEnd = endOf[HEADER_SLOT]!;
  const hasV2 = wireOf[2] === 2;
  const v2Start = startOf[2]!;
  const v2End = endOf[2]!;
  let present = -1;
  for (let no = 3; no <= 11; no++)
    if (wireOf[no] === 2) {
      present = no;
      break;
    }
  const presentStart = present > 0 ? startOf[present]! : 0;
  const presentEnd = present > 0 ? endOf[present]! : 0;
  let headerFields = 0;
  if (hasHeader) {
    headerFields = indexFields(data, headerStart, headerEnd);
    if (headerFields < 0) return UNSURE;
  }
  const id = headerFields > 0 ? u64At(1) : idWire === 0 ? uint64(idLo, idHi) : 0n;
  if (hasV2) {
    if (indexFields(data, v2Start, v2End) < 0) return UNSURE;
    return { kind: 'v2', id: u64At(1), method: utf8At(data, 2), path: utf8At(data, 3), val: utf8At(data, 4), expiration: i64At(9) };
  }
  if (present > 0) return fastField(present, data, presentStart, presentEnd, id);
  let auth = 0;
  let other = 0;
  for (let p = 0; p < end;) {
    p = readField(data, p, end);
    if (p < 0) return UNSURE;
    if (auth === 0 && cur.no >= 1000 && cur.no < 1300 && cur.wire === 2) auth = cur.no;
    if (other === 0 && cur.no !== 1 && cur.no !== 100) other = cur.no;
  }
  if (auth > 0) return { kind: 'auth', id, field: auth };
  return { kind: 'other', id, field: other };
}

function fastField(no: number, b: Uint8Array, start: number, end: number, id: bigint): Fast<InternalRequest> {
  if (no === 6) return fastTxn(b, start, end, id, 0);
  if (no === 11) return fastCheckpoints(b, start, end, id);
  if (indexFields(b, start, end) < 0) return UNSURE;
  switch (no) {
    case 3:
      return { kind: 'range', id, key: bytesAt(b, 1) ?? EMPTY, rangeEnd: bytesAt(b, 2) ?? EMPTY };
    case 4:
      return putAt(b, id);
    case 5:
      return { kind: 'delete-range', id, key: bytesAt(b, 1) ?? EMPTY, rangeEnd: bytesAt(b, 2) ?? EMPTY, prevKv: boolAt(3) };
    case 7:
      return { kind: 'compaction', id, revision: numAt(1), physical: boolAt(2) };
    case 8:
      return { kind: 'lease-grant', id, ttl: Number(i64At(1)), leaseId: i64At(2) };
    case 9:
      return { kind: 'lease-revoke', id, leaseId: i64At(1) };
    case 10:
      return { kind: 'alarm', id, action: alarmAction(numAt(1)), memberId: idHex(u64At(2)), alarm: alarmType(numAt(3)) };
    default:
      return UNSURE;
  }
}

/** A PutRequest from the index `indexFields` just made of it. */
function putAt(b: Uint8Array, id: bigint): InternalRequest {
  return {
    kind: 'put',
    id,
    key: bytesAt(b, 1) ?? EMPTY,
    value: bytesAt(b, 2) ?? EMPTY,
    lease: i64At(3),
    prevKv: boolAt(4),
    ignoreValue: boolAt(5),
    ignoreLease: boolAt(6),
  };
}

function fastCheckpoints(b: Uint8Array, start: number, end: number, id: bigint): Fast<InternalRequest> {
  const checkpoints: { leaseId: bigint; remainingTtl: number }[] = [];
  let n = 0;
  for (let p = start; p < end;) {
    p = readField(b, p, end);
    if (p < 0 || ++n >= DEFAULT_MAX_FIELDS) return UNSURE;
    if (cur.no !== 1 || cur.wire !== 2 || checkpoints.length >= MAX_TXN_OPS) continue;
    if (indexFields(b, cur.start, cur.end) < 0) return UNSURE;
    checkpoints.push({ leaseId: i64At(1), remainingTtl: Number(i64At(2)) });
  }
  return { kind: 'lease-checkpoint', id, checkpoints };
}

function fastTxn(b: Uint8Array, start: number, end: number, id: bigint, depth: number): Fast<InternalRequest> {
  if (depth > MAX_TXN_DEPTH) return UNSURE;
  const compare: CompareSummary[] = [];
  const success: InternalRequest[] = [];
  const failure: InternalRequest[] = [];
  let n = 0;
  for (let p = start; p < end;) {
    p = readField(b, p, end);
    if (p < 0 || ++n >= DEFAULT_MAX_FIELDS) return UNSURE;
    if (cur.wire !== 2) continue;
    const no = cur.no;
    if (no === 1 && compare.length < MAX_TXN_OPS) {
      const c = fastCompare(b, cur.start, cur.end);
      if (c === UNSURE) return UNSURE;
      compare.push(c);
    } else if ((no === 2 || no === 3) && (no === 2 ? success : failure).length < MAX_TXN_OPS) {
      const op = fastRequestOp(b, cur.start, cur.end, depth);
      if (op === UNSURE) return UNSURE;
      (no === 2 ? success : failure).push(op);
    }
  }
  return { kind: 'txn', id, compare, success, failure };
}

function fastCompare(b: Uint8Array, start: number, end: number): Fast<CompareSummary> {
  if (indexFields(b, start, end) < 0) return UNSURE;
  const c: CompareSummary = {
    result: compareResult(numAt(1)),
    target: compareTarget(numAt(2)),
    key: bytesAt(b, 3) ?? EMPTY,
    rangeEnd: bytesAt(b, RANGE_END_SLOT) ?? EMPTY,
  };
  for (const no of COMPARE_NUMBERS) if (wireOf[no] !== -1) c.number = i64At(no);
  const v = bytesAt(b, 7);
  if (v) c.value = v;
  return c;
}

/** Compare's numeric targets (version, create_revision, mod_revision, lease): the last present sets `number`. */
const COMPARE_NUMBERS = [4, 5, 6, 8] as const;

function fastRequestOp(b: Uint8Array, start: number, end: number, depth: number): Fast<InternalRequest> {
  // A oneof: the last set member wins.
  let member = 0;
  let memberStart = 0;
  let memberEnd = 0;
  let n = 0;
  for (let p = start; p < end;) {
    p = readField(b, p, end);
    if (p < 0 || ++n >= DEFAULT_MAX_FIELDS) return UNSURE;
    if (cur.wire === 2 && cur.no >= 1 && cur.no <= 4) {
      member = cur.no;
      memberStart = cur.start;
      memberEnd = cur.end;
    }
  }
  if (member === 0) return { kind: 'other', id: 0n, field: 0 };
  if (member === 4) return fastTxn(b, memberStart, memberEnd, 0n, depth + 1);
  if (indexFields(b, memberStart, memberEnd) < 0) return UNSURE;
  if (member === 1) return { kind: 'range', id: 0n, key: bytesAt(b, 1) ?? EMPTY, rangeEnd: bytesAt(b, 2) ?? EMPTY };
  if (member === 2) return putAt(b, 0n);
  return { kind: 'delete-range', id: 0n, key: bytesAt(b, 1) ?? EMPTY, rangeEnd: bytesAt(b, 2) ?? EMPTY, prevKv: boolAt(3) };
}

// ------------------------------------------------------------ summaries

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** A key for one line of text: printable UTF-8 as is (cut at 200 chars), else hex. */
export function keyText(key: Uint8Array): string {
  let printable = true;
  for (let i = 0; i < key.length && i < 512; i++) {
    const c = key[i]!;
    if (c < 0x20 || c === 0x7f) {
      printable = false;
      break;
    }
  }
  if (!printable) return `0x${Array.from(key.subarray(0, 64), (b) => b.toString(16).padStart(2, '0')).join('')}${key.length > 64 ? '…' : ''}`;
  const s = utf8.decode(key.subarray(0, 400));
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

/** One line, e.g. `put /registry/pods/default/x (120 B)` (the English of `requestText`). */
export function summarizeRequest(r: InternalRequest): string {
  return translateLocal('en', requestText(r));
}

function keysText(key: Uint8Array, end: Uint8Array): LocalText {
  if (end.length === 0) return { key: 'wal-request.keys.one', params: { key: keyText(key) } };
  if (end.length === 1 && end[0] === 0) return { key: 'wal-request.keys.to-end', params: { key: keyText(key) } };
  return { key: 'wal-request.keys.span', params: { key: keyText(key), end: keyText(end) } };
}

function opText(o: InternalRequest): LocalText {
  if (o.kind === 'put') return { key: 'wal-request.op.put', params: { key: keyText(o.key) } };
  if (o.kind === 'delete-range') return { key: 'wal-request.op.delete', params: { key: keyText(o.key) } };
  return { key: `wal-request.kind.${o.kind}` };
}

/** The first three ops of a txn branch, and an ellipsis for more; none for an empty branch (`[]`). */
function opsText(list: readonly InternalRequest[]): LocalText[] {
  if (list.length === 0) return [];
  const shown = list.slice(0, 3).map(opText);
  const texts: Record<string, LocalText[]> = {};
  shown.forEach((t, i) => (texts['abc'[i]!] = [t]));
  return [{ key: list.length > 3 ? 'wal-request.ops.more' : `wal-request.ops.${shown.length}`, texts }];
}

/** `unknown(N)` names of decoded enums → the catalog's `unknown` case with N. */
function enumText(prefix: string, name: string): LocalText {
  const m = /^unknown\((\d+)\)$/.exec(name);
  return m ? { key: `${prefix}.unknown`, params: { n: Number(m[1]) } } : { key: `${prefix}.${name}` };
}

/** One line for a decoded request, as catalog key + params (`shared/i18n/etcd-record-text.ts`). */
export function requestText(r: InternalRequest): LocalText {
  switch (r.kind) {
    case 'put':
      return r.lease !== 0n
        ? { key: 'wal-request.put.lease', params: { key: keyText(r.key), size: r.value.length, lease: idHex(BigInt.asUintN(64, r.lease)) } }
        : { key: 'wal-request.put', params: { key: keyText(r.key), size: r.value.length } };
    case 'delete-range':
      return { key: 'wal-request.delete', texts: { range: [keysText(r.key, r.rangeEnd)] } };
    case 'range':
      return { key: 'wal-request.range', texts: { range: [keysText(r.key, r.rangeEnd)] } };
    case 'txn':
      return { key: 'wal-request.txn', params: { compares: r.compare.length }, texts: { success: opsText(r.success), failure: opsText(r.failure) } };
    case 'compaction':
      return { key: r.physical ? 'wal-request.compaction.physical' : 'wal-request.compaction', params: { revision: r.revision } };
    case 'lease-grant':
      return { key: 'wal-request.lease-grant', params: { lease: idHex(BigInt.asUintN(64, r.leaseId)), ttl: r.ttl } };
    case 'lease-revoke':
      return { key: 'wal-request.lease-revoke', params: { lease: idHex(BigInt.asUintN(64, r.leaseId)) } };
    case 'lease-checkpoint':
      return { key: 'wal-request.lease-checkpoint', params: { count: r.checkpoints.length } };
    case 'alarm':
      return {
        key: 'wal-request.alarm',
        params: { member: r.memberId },
        texts: { action: [enumText('wal-request.alarm-action', r.action)], alarm: [enumText('wal-request.alarm-type', r.alarm)] },
      };
    case 'auth':
      return { key: 'wal-request.auth', params: { field: r.field } };
    case 'v2':
      return r.val
        ? { key: 'wal-request.v2.sized', params: { method: r.method, path: r.path, size: r.val.length } }
        : { key: 'wal-request.v2', params: { method: r.method, path: r.path } };
    case 'other':
      return { key: 'wal-request.other', params: { field: r.field } };
  }
}

/** Count key for `WalInfo.requestCounts`. */
export function requestCountKey(r: InternalRequest | null): string {
  return r ? r.kind : 'empty';
}

// ------------------------------------------------------------ encoders (tests and repair build real entries with these)

function varint(out: number[], v: bigint | number): void {
  let x = BigInt.asUintN(64, BigInt(v));
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
}

function field(out: number[], no: number, bytes: Uint8Array): void {
  varint(out, (no << 3) | 2);
  varint(out, bytes.length);
  for (const b of bytes) out.push(b);
}

function header(out: number[], id: bigint): void {
  const h: number[] = [];
  if (id !== 0n) {
    h.push(0x08);
    varint(h, id);
  }
  field(out, 100, Uint8Array.from(h));
}

/** InternalRaftRequest{header{ID}, put{key, value, lease}} as etcd 3.4 writes it. */
export function encodePutRequest(id: bigint, key: Uint8Array, value: Uint8Array, lease = 0n): Uint8Array {
  const put: number[] = [];
  if (key.length) field(put, 1, key);
  if (value.length) field(put, 2, value);
  if (lease !== 0n) {
    put.push(0x18);
    varint(put, lease);
  }
  const out: number[] = [];
  header(out, id);
  field(out, 4, Uint8Array.from(put));
  return Uint8Array.from(out);
}

export function encodeDeleteRangeRequest(id: bigint, key: Uint8Array, rangeEnd: Uint8Array = EMPTY): Uint8Array {
  const del: number[] = [];
  if (key.length) field(del, 1, key);
  if (rangeEnd.length) field(del, 2, rangeEnd);
  const out: number[] = [];
  header(out, id);
  field(out, 5, Uint8Array.from(del));
  return Uint8Array.from(out);
}

export function encodeCompactionRequest(id: bigint, revision: number, physical = false): Uint8Array {
  const c: number[] = [];
  if (revision) {
    c.push(0x08);
    varint(c, revision);
  }
  if (physical) c.push(0x10, 1);
  const out: number[] = [];
  header(out, id);
  field(out, 7, Uint8Array.from(c));
  return Uint8Array.from(out);
}
