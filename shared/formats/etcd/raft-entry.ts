/**
 * The raft messages etcd 3.4 keeps in its WAL and .snap files
 * (`raft/raftpb/raft.proto`, `wal/walpb/record.proto`,
 * `etcdserver/etcdserverpb/etcdserver.proto`), decoded and encoded:
 *
 *   Entry        1 Type (0 Normal, 1 ConfChange, 2 ConfChangeV2), 2 Term, 3 Index, 4 Data
 *   HardState    1 term, 2 vote, 3 commit
 *   ConfChange   1 id, 2 type (0 add, 1 remove, 2 update, 3 add-learner), 3 node_id, 4 context
 *   ConfChangeV2 1 transition, 2 changes {1 type, 2 node_id}, 3 context
 *   ConfState    1 voters, 2 learners, 3 voters_outgoing, 4 learners_next, 5 auto_leave
 *   Snapshot     1 data, 2 metadata {1 conf_state, 2 index, 3 term}
 *   walpb.Snapshot 1 index, 2 term (3 conf_state from 3.5)
 *   Metadata     1 NodeID, 2 ClusterID
 *
 * Entry and HardState are read with a hand-written strict field reader
 * (there is one per WAL record, millions in a big WAL); the rest goes through
 * the schema-less reader in `protobuf/wire.ts`. Nothing here throws.
 */
import { decodeMessage, packedU64, u64Field, bytesField, numField, idHex, type ProtoField } from '../protobuf/wire';
import { readVarint } from './wal-record';

function num(lo: number, hi: number): number {
  if (hi === 0) return lo >>> 0;
  const v = hi >>> 0;
  return v >= 0x200000 ? Number.MAX_SAFE_INTEGER : v * 0x1_0000_0000 + (lo >>> 0);
}

function big(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export type EntryTypeName = 'normal' | 'conf-change' | 'conf-change-v2' | `unknown(${number})`;

export function entryTypeName(type: number): EntryTypeName {
  return type === 0 ? 'normal' : type === 1 ? 'conf-change' : type === 2 ? 'conf-change-v2' : `unknown(${type})`;
}

export interface RaftEntry {
  type: number;
  term: number;
  index: number;
  /** null when field 4 is absent (the empty entry a new leader appends). */
  data: Uint8Array | null;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Strict single pass over a message's fields: varint and length-delimited
 * fields are handed to `onField`; fixed32/64 are skipped; groups and bad wire
 * types are errors (raft messages have none).
 */
function walkFields(b: Uint8Array, onField: (no: number, wire: 0 | 2, lo: number, hi: number, start: number, end: number) => void): string | null {
  let i = 0;
  const l = b.length;
  while (i < l) {
    const tag = readVarint(b, i, l);
    if (tag.next < 0) return tag.next === -1 ? 'proto: integer overflow' : 'unexpected EOF';
    i = tag.next;
    const no = (tag.lo >>> 3) | (tag.hi << 29) | 0;
    const wire = tag.lo & 7;
    if (no <= 0) return `proto: illegal tag ${no} (wire type ${wire})`;
    switch (wire) {
      case 0: {
        const v = readVarint(b, i, l);
        if (v.next < 0) return v.next === -1 ? 'proto: integer overflow' : 'unexpected EOF';
        i = v.next;
        onField(no, 0, v.lo, v.hi, 0, 0);
        break;
      }
      case 1:
        if (i + 8 > l) return 'unexpected EOF';
        i += 8;
        break;
      case 5:
        if (i + 4 > l) return 'unexpected EOF';
        i += 4;
        break;
      case 2: {
        const v = readVarint(b, i, l);
        if (v.next < 0) return v.next === -1 ? 'proto: integer overflow' : 'unexpected EOF';
        if (v.hi & 0x80000000) return 'proto: negative length found during unmarshaling';
        i = v.next;
        if (v.hi !== 0 || i + v.lo > l) return 'unexpected EOF';
        onField(no, 2, 0, 0, i, i + v.lo);
        i += v.lo;
        break;
      }
      default:
        return `proto: illegal wireType ${wire}`;
    }
  }
  return null;
}

/** An Entry's numbers and where its Data is in the bytes (`dataStart` -1: no Data field). */
export interface EntryHead {
  type: number;
  term: number;
  index: number;
  dataStart: number;
  dataEnd: number;
}

export function newEntryHead(): EntryHead {
  return { type: 0, term: 0, index: 0, dataStart: -1, dataEnd: -1 };
}

/**
 * Entry.Unmarshal, written out, into `h` (reset first): null, or the error gogo
 * returns. A scan reuses one `h` for every entry record of a WAL (no object
 * per entry, no view of its Data).
 */
export function decodeEntryHead(b: Uint8Array, h: EntryHead): string | null {
  h.type = 0;
  h.term = 0;
  h.index = 0;
  h.dataStart = -1;
  h.dataEnd = -1;
  let i = 0;
  const l = b.length;
  while (i < l) {
    const tag = readVarint(b, i, l);
    if (tag.next < 0) return tag.next === -1 ? 'proto: integer overflow' : 'unexpected EOF';
    i = tag.next;
    const no = (tag.lo >>> 3) | (tag.hi << 29) | 0;
    const wire = tag.lo & 7;
    if (no <= 0) return `proto: illegal tag ${no} (wire type ${wire})`;
    if (wire === 0) {
      const v = readVarint(b, i, l);
      if (v.next < 0) return v.next === -1 ? 'proto: integer overflow' : 'unexpected EOF';
      i = v.next;
      if (no === 1) h.type = v.lo | 0;
      else if (no === 2) h.term = num(v.lo, v.hi);
      else if (no === 3) h.index = num(v.lo, v.hi);
      else if (no === 4) return 'proto: wrong wireType = 0 for field Data';
    } else if (wire === 2) {
      if (no >= 1 && no <= 3) return `proto: wrong wireType = 2 for field ${no === 1 ? 'Type' : no === 2 ? 'Term' : 'Index'}`;
      const v = readVarint(b, i, l);
      if (v.next < 0) return v.next === -1 ? 'proto: integer overflow' : 'unexpected EOF';
      if (v.hi & 0x80000000) return 'proto: negative length found during unmarshaling';
      i = v.next;
      if (v.hi !== 0 || i + v.lo > l) return 'unexpected EOF';
      if (no === 4) {
        h.dataStart = i;
        h.dataEnd = i + v.lo;
      }
      i += v.lo;
    } else if (wire === 1 || wire === 5) {
      if (no >= 1 && no <= 4) return `proto: wrong wireType = ${wire} for field ${['Type', 'Term', 'Index', 'Data'][no - 1]!}`;
      i += wire === 1 ? 8 : 4;
      if (i > l) return 'unexpected EOF';
    } else return `proto: illegal wireType ${wire}`;
  }
  return null;
}

/** The RaftEntry `h` (from `decodeEntryHead(b, h)`) describes, its Data a view of `b`; `b` null: no Data. */
export function entryOfHead(h: EntryHead, b: Uint8Array | null): RaftEntry {
  return { type: h.type, term: h.term, index: h.index, data: b && h.dataStart >= 0 ? b.subarray(h.dataStart, h.dataEnd) : null };
}

/** Entry.Unmarshal (`decodeEntryHead`), as an entry of its own. */
export function decodeEntry(b: Uint8Array): Decoded<RaftEntry> {
  const h = newEntryHead();
  const error = decodeEntryHead(b, h);
  return error === null ? { ok: true, value: entryOfHead(h, b) } : { ok: false, error };
}

function pushVarint(out: number[], v: bigint | number): void {
  let x = BigInt.asUintN(64, BigInt(v));
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
}

function withBytes(head: number[], fieldTag: number, data: Uint8Array | null): Uint8Array {
  if (data === null) return Uint8Array.from(head);
  const h = [...head, fieldTag];
  pushVarint(h, data.length);
  const out = new Uint8Array(h.length + data.length);
  out.set(h, 0);
  out.set(data, h.length);
  return out;
}

/** `Entry.Marshal` (gogoproto: Type, Term, Index always; Data when not nil). */
export function encodeEntry(e: RaftEntry): Uint8Array {
  const head: number[] = [0x08];
  pushVarint(head, e.type);
  head.push(0x10);
  pushVarint(head, e.term);
  head.push(0x18);
  pushVarint(head, e.index);
  return withBytes(head, 0x22, e.data);
}

export interface HardState {
  term: number;
  /** Member ID voted for, 0n for none. */
  vote: bigint;
  commit: number;
}

export function decodeHardState(b: Uint8Array): Decoded<HardState> {
  const s: HardState = { term: 0, vote: 0n, commit: 0 };
  let bad: string | null = null;
  const err = walkFields(b, (no, wire, lo, hi) => {
    if (no >= 1 && no <= 3) {
      if (wire !== 0) bad ??= `proto: wrong wireType = ${wire} for field ${['Term', 'Vote', 'Commit'][no - 1]!}`;
      else if (no === 1) s.term = num(lo, hi);
      else if (no === 2) s.vote = big(lo, hi);
      else s.commit = num(lo, hi);
    }
  });
  if (err ?? bad) return { ok: false, error: (err ?? bad)! };
  return { ok: true, value: s };
}

export function encodeHardState(s: HardState): Uint8Array {
  const out: number[] = [0x08];
  pushVarint(out, s.term);
  out.push(0x10);
  pushVarint(out, s.vote);
  out.push(0x18);
  pushVarint(out, s.commit);
  return Uint8Array.from(out);
}

/** `raft.IsEmptyHardState`. */
export function isEmptyHardState(s: HardState): boolean {
  return s.term === 0 && s.vote === 0n && s.commit === 0;
}

/** walpb.Snapshot: where a .snap was taken (plus the conf state, written from 3.5). */
export interface WalSnapshot {
  index: number;
  term: number;
  confState?: ConfState;
}

export function decodeWalSnapshot(b: Uint8Array): Decoded<WalSnapshot> {
  const m = decodeMessage(b);
  if (!m.ok) return { ok: false, error: m.error };
  const s: WalSnapshot = { index: numField(m.fields, 1), term: numField(m.fields, 2) };
  const cs = bytesField(m.fields, 3);
  if (cs) {
    const c = decodeConfState(cs);
    if (c.ok) s.confState = c.value;
  }
  return { ok: true, value: s };
}

export function encodeWalSnapshot(s: { index: number; term: number }): Uint8Array {
  const out: number[] = [0x08];
  pushVarint(out, s.index);
  out.push(0x10);
  pushVarint(out, s.term);
  return Uint8Array.from(out);
}

/** etcdserverpb.Metadata: the member and cluster this WAL belongs to. */
export interface WalMetadata {
  nodeId: bigint;
  clusterId: bigint;
}

export function decodeMetadata(b: Uint8Array): Decoded<WalMetadata> {
  const m = decodeMessage(b);
  if (!m.ok) return { ok: false, error: m.error };
  return { ok: true, value: { nodeId: u64Field(m.fields, 1), clusterId: u64Field(m.fields, 2) } };
}

export function encodeMetadata(md: WalMetadata): Uint8Array {
  const out: number[] = [0x08];
  pushVarint(out, md.nodeId);
  out.push(0x10);
  pushVarint(out, md.clusterId);
  return Uint8Array.from(out);
}

export interface ConfState {
  voters: bigint[];
  learners: bigint[];
  votersOutgoing: bigint[];
  learnersNext: bigint[];
  autoLeave: boolean;
}

/** At most this many IDs per list: real clusters have a handful of members. */
const MAX_IDS = 1024;

export function confStateFromFields(fields: readonly ProtoField[]): ConfState {
  return {
    voters: packedU64(fields, 1, MAX_IDS),
    learners: packedU64(fields, 2, MAX_IDS),
    votersOutgoing: packedU64(fields, 3, MAX_IDS),
    learnersNext: packedU64(fields, 4, MAX_IDS),
    autoLeave: u64Field(fields, 5) !== 0n,
  };
}

export function decodeConfState(b: Uint8Array): Decoded<ConfState> {
  const m = decodeMessage(b);
  if (!m.ok) return { ok: false, error: m.error };
  return { ok: true, value: confStateFromFields(m.fields) };
}

export function encodeConfState(cs: Partial<ConfState>): Uint8Array {
  const out: number[] = [];
  const lists: [number, bigint[] | undefined][] = [
    [1, cs.voters],
    [2, cs.learners],
    [3, cs.votersOutgoing],
    [4, cs.learnersNext],
  ];
  // gogoproto writes repeated uint64 of proto2 unpacked: one varint per value.
  for (const [no, ids] of lists)
    for (const id of ids ?? []) {
      out.push(no << 3);
      pushVarint(out, id);
    }
  out.push(0x28, cs.autoLeave ? 1 : 0);
  return Uint8Array.from(out);
}

export type ConfChangeTypeName = 'add' | 'remove' | 'update' | 'add-learner' | `unknown(${number})`;

export function confChangeTypeName(t: number): ConfChangeTypeName {
  return t === 0 ? 'add' : t === 1 ? 'remove' : t === 2 ? 'update' : t === 3 ? 'add-learner' : `unknown(${t})`;
}

export interface ConfChange {
  id: bigint;
  type: number;
  nodeId: bigint;
  context: Uint8Array | null;
}

export function decodeConfChange(b: Uint8Array): Decoded<ConfChange> {
  const m = decodeMessage(b);
  if (!m.ok) return { ok: false, error: m.error };
  return {
    ok: true,
    value: { id: u64Field(m.fields, 1), type: numField(m.fields, 2), nodeId: u64Field(m.fields, 3), context: bytesField(m.fields, 4) ?? null },
  };
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const head: number[] = [0x08];
  pushVarint(head, cc.id);
  head.push(0x10);
  pushVarint(head, cc.type);
  head.push(0x18);
  pushVarint(head, cc.nodeId);
  return withBytes(head, 0x22, cc.context);
}

export interface ConfChangeV2 {
  transition: number;
  changes: { type: number; nodeId: bigint }[];
  context: Uint8Array | null;
}

export function decodeConfChangeV2(b: Uint8Array): Decoded<ConfChangeV2> {
  const m = decodeMessage(b);
  if (!m.ok) return { ok: false, error: m.error };
  const changes: ConfChangeV2['changes'] = [];
  for (const f of m.fields) {
    if (f.no !== 2 || f.wire !== 'bytes' || changes.length >= MAX_IDS) continue;
    const c = decodeMessage(f.value);
    if (!c.ok) return { ok: false, error: c.error };
    changes.push({ type: numField(c.fields, 1), nodeId: u64Field(c.fields, 2) });
  }
  return { ok: true, value: { transition: numField(m.fields, 1), changes, context: bytesField(m.fields, 3) ?? null } };
}

/** raftpb.Snapshot (the content of a .snap file after its CRC wrapper). */
export interface RaftSnapshot {
  data: Uint8Array | null;
  index: number;
  term: number;
  confState: ConfState;
}

export function decodeRaftSnapshot(b: Uint8Array): Decoded<RaftSnapshot> {
  const m = decodeMessage(b);
  if (!m.ok) return { ok: false, error: m.error };
  const metaBytes = bytesField(m.fields, 2) ?? new Uint8Array(0);
  const meta = decodeMessage(metaBytes);
  if (!meta.ok) return { ok: false, error: meta.error };
  const csBytes = bytesField(meta.fields, 1) ?? new Uint8Array(0);
  const cs = decodeMessage(csBytes);
  if (!cs.ok) return { ok: false, error: cs.error };
  return {
    ok: true,
    value: {
      data: bytesField(m.fields, 1) ?? null,
      index: numField(meta.fields, 2),
      term: numField(meta.fields, 3),
      confState: confStateFromFields(cs.fields),
    },
  };
}

export function encodeRaftSnapshot(s: RaftSnapshot): Uint8Array {
  const cs = encodeConfState(s.confState);
  const meta: number[] = [0x0a];
  pushVarint(meta, cs.length);
  meta.push(...cs, 0x10);
  pushVarint(meta, s.index);
  meta.push(0x18);
  pushVarint(meta, s.term);
  const head: number[] = [];
  if (s.data !== null) {
    head.push(0x0a);
    pushVarint(head, s.data.length);
  }
  const tail: number[] = [0x12];
  pushVarint(tail, meta.length);
  tail.push(...meta);
  const out = new Uint8Array(head.length + (s.data?.length ?? 0) + tail.length);
  out.set(head, 0);
  if (s.data) out.set(s.data, head.length);
  out.set(tail, head.length + (s.data?.length ?? 0));
  return out;
}

/** A member as etcd's membership JSON carries it (ConfChange context, v2 store `/0/members/<id>/...`). */
export interface MemberJson {
  id: string;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

/** The member JSON of a ConfChange context is small; a mutated one is not parsed past this. */
export const MAX_MEMBER_JSON = 64 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: false });

function stringList(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.filter((x): x is string => typeof x === 'string').slice(0, 64);
}

/**
 * Parse `{"id":<uint64>,"peerURLs":[...],"name":"...","clientURLs":[...],"isLearner":true}`.
 * The id is a 64-bit decimal that JSON.parse would round, so it is read from
 * the text; `fallbackId` (the ConfChange's node_id) is used when absent.
 */
export function parseMemberJson(bytes: Uint8Array, fallbackId?: bigint): MemberJson | null {
  if (bytes.length === 0 || bytes.length > MAX_MEMBER_JSON) return null;
  const text = utf8.decode(bytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const o = parsed as Record<string, unknown>;
  const idMatch = /"id"\s*:\s*(\d{1,20})/.exec(text);
  let id: string;
  if (idMatch) {
    const v = BigInt(idMatch[1]!);
    id = idHex(BigInt.asUintN(64, v));
  } else if (fallbackId !== undefined) id = idHex(fallbackId);
  else return null;
  const m: MemberJson = { id };
  if (typeof o.name === 'string') m.name = o.name;
  const peers = stringList(o.peerURLs);
  if (peers) m.peerURLs = peers;
  const clients = stringList(o.clientURLs);
  if (clients) m.clientURLs = clients;
  if (o.isLearner === true) m.isLearner = true;
  return m;
}
