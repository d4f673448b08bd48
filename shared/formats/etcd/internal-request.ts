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
import { decodeMessage, bytesField, i64Field, u64Field, numField, stringField, idHex, type ProtoField } from '../protobuf/wire';

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
 */
export function decodeInternalRequest(data: Uint8Array | null): InternalRequest | null {
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
