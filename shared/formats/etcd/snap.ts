/**
 * `.snap` files (etcd 3.4 `etcdserver/api/snap/snapshotter.go` Read,
 * `snappb/snap.proto`, `raft/raftpb`):
 *
 *   file = snappb.Snapshot { 1 crc uint32, 2 data bytes }, crc = CRC-32C(0, data)
 *   data = raftpb.Snapshot { 1 data = v2 store JSON, 2 metadata {1 conf_state, 2 index, 3 term} }
 *
 * Read's checks, in order, with etcd's texts: empty file -> "snap: empty
 * snapshot"; snappb unmarshal error; no data or crc 0 -> "snap: empty
 * snapshot"; CRC -> "snap: crc mismatch"; raftpb unmarshal error. A file
 * that fails any of them is renamed `<name>.broken` by etcd when it tries to
 * load it. The v2 store JSON holds the member list under `/0/members/<id>/`
 * (`attributes`: name, clientURLs; `raftAttributes`: peerURLs, isLearner)
 * and removed members under `/0/removed_members/<id>`.
 */
import type { ByteSource } from '../../bytes/byte-source';
import type { EtcdMember, SnapFileInfo } from '../../contract/etcd';
import type { Finding } from '../../contract/findings';
import { decodeMessage, u64Field, bytesField, idHex } from '../protobuf/wire';
import { crc32c } from './crc32c';
import { decodeRaftSnapshot, encodeRaftSnapshot, type RaftSnapshot } from './raft-entry';
import { parseSnapName } from './wal-name';
import { readRange } from './wal-file';
import { hex32, walFinding } from './wal-text';

export const SNAP_ERRORS = {
  empty: 'snap: empty snapshot',
  crc: 'snap: crc mismatch',
  noSnapshot: 'snap: no available snapshot',
} as const;

/** Largest .snap read whole (the v2 store of a Kubernetes cluster is a few KiB; etcd itself reads the file whole). */
export const MAX_SNAP_FILE = 256 * 1024 * 1024;
/** Largest v2 store JSON parsed for members. */
const MAX_STORE_JSON = 64 * 1024 * 1024;

export const SNAP_FINDING_TITLES: Record<string, { en: string; zh: string }> = {
  'snap.empty': { en: 'Empty .snap file', zh: '.snap 文件为空' },
  'snap.crc': { en: '.snap checksum mismatch', zh: '.snap 校验和不匹配' },
  'snap.decode': { en: '.snap file does not decode', zh: '.snap 文件无法解码' },
  'snap.too-large': { en: '.snap file too large to check', zh: '.snap 文件过大，无法检查' },
  'snap.name-mismatch': { en: '.snap name differs from its content', zh: '.snap 文件名与内容不符' },
  'snap.orphan': { en: '.snap without a WAL snapshot record', zh: '没有对应 WAL 快照记录的 .snap' },
  'snap.unreadable-skipped': { en: 'etcd renames this .snap to .broken', zh: 'etcd 会将此 .snap 重命名为 .broken' },
};

export interface SnapDecode {
  ok: boolean;
  /** etcd's error text when not ok. */
  error: string | null;
  crcStored: number | null;
  crcComputed: number | null;
  snapshot: RaftSnapshot | null;
  members: EtcdMember[];
  removedMembers: string[];
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Pure decode of a whole .snap file's bytes (the fuzz entry point). Never throws. */
export function decodeSnapBytes(b: Uint8Array): SnapDecode {
  const out: SnapDecode = { ok: false, error: null, crcStored: null, crcComputed: null, snapshot: null, members: [], removedMembers: [] };
  if (b.length === 0) return { ...out, error: SNAP_ERRORS.empty };
  const m = decodeMessage(b);
  if (!m.ok) return { ...out, error: protoText(m.error) };
  const crc = Number(u64Field(m.fields, 1) & 0xffffffffn);
  const data = bytesField(m.fields, 2);
  out.crcStored = crc;
  if (!data || data.length === 0 || crc === 0) return { ...out, error: SNAP_ERRORS.empty };
  const computed = crc32c(data);
  out.crcComputed = computed;
  if (computed !== crc) return { ...out, error: SNAP_ERRORS.crc };
  const s = decodeRaftSnapshot(data);
  if (!s.ok) return { ...out, error: protoText(s.error) };
  out.snapshot = s.value;
  out.ok = true;
  if (s.value.data && s.value.data.length <= MAX_STORE_JSON) {
    const members = v2Members(s.value.data);
    out.members = members.members;
    out.removedMembers = members.removed;
  }
  return out;
}

function protoText(e: string): string {
  // @bufbuild's reader says "premature EOF"; Go's gogoproto says "unexpected EOF".
  return /premature|EOF|end of/i.test(e) ? 'unexpected EOF' : e;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function child(node: Json | undefined, name: string): Json | undefined {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined;
  const ch = node.Children;
  if (!ch || typeof ch !== 'object' || Array.isArray(ch)) return undefined;
  return ch[name];
}

function children(node: Json | undefined): [string, Json][] {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return [];
  const ch = node.Children;
  if (!ch || typeof ch !== 'object' || Array.isArray(ch)) return [];
  return Object.entries(ch);
}

function valueJson(node: Json | undefined): Record<string, Json> | null {
  if (!node || typeof node !== 'object' || Array.isArray(node) || typeof node.Value !== 'string') return null;
  try {
    const v = JSON.parse(node.Value) as Json;
    return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

function strings(v: Json | undefined): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, 64) : [];
}

/** The members of the v2 store JSON (`/0/members`), sorted by id. */
export function v2Members(json: Uint8Array): { members: EtcdMember[]; removed: string[] } {
  let root: Json;
  try {
    root = JSON.parse(utf8.decode(json)) as Json;
  } catch {
    return { members: [], removed: [] };
  }
  const top = root && typeof root === 'object' && !Array.isArray(root) ? root.Root : undefined;
  const zero = child(top, '0');
  const members: EtcdMember[] = [];
  for (const [id, node] of children(child(zero, 'members')).slice(0, 1024)) {
    if (!/^[0-9a-f]{1,16}$/.test(id)) continue;
    const attrs = valueJson(child(node, 'attributes'));
    const raft = valueJson(child(node, 'raftAttributes'));
    const m: EtcdMember = {
      id,
      name: typeof attrs?.name === 'string' ? attrs.name : '',
      peerURLs: strings(raft?.peerURLs),
      clientURLs: strings(attrs?.clientURLs),
    };
    if (raft?.isLearner === true) m.isLearner = true;
    members.push(m);
  }
  const removed = children(child(zero, 'removed_members'))
    .map(([id]) => id)
    .filter((id) => /^[0-9a-f]{1,16}$/.test(id))
    .slice(0, 1024);
  members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { members, removed: removed.sort() };
}

/** Read one .snap (`file` is its path relative to the validated root). Never throws for bad content. */
export async function readSnapFile(src: ByteSource, file: string): Promise<{ info: SnapFileInfo; findings: Finding[] }> {
  const base = file.split('/').pop() ?? file;
  const named = parseSnapName(base);
  const info: SnapFileInfo = {
    file,
    term: named?.term ?? 0,
    index: named?.index ?? 0,
    size: src.size,
    ok: false,
    error: null,
    voters: [],
    learners: [],
    members: [],
    matchesWal: false,
    chosen: false,
  };
  const findings: Finding[] = [];
  if (src.size > MAX_SNAP_FILE) {
    info.error = `larger than ${MAX_SNAP_FILE} bytes, not checked`;
    findings.push(walFinding({ severity: 'warning', code: 'snap.too-large', file, offset: null, params: { file, size: src.size, max: MAX_SNAP_FILE } }));
    return { info, findings };
  }
  const bytes = await readRange(src, 0, src.size);
  const d = decodeSnapBytes(bytes);
  info.ok = d.ok;
  info.error = d.error;
  if (d.snapshot) {
    info.term = d.snapshot.term;
    info.index = d.snapshot.index;
    info.voters = d.snapshot.confState.voters.map(idHex);
    info.learners = d.snapshot.confState.learners.map(idHex);
    info.members = d.members;
    if (named && (named.term !== d.snapshot.term || named.index !== d.snapshot.index)) {
      findings.push(
        walFinding({
          severity: 'warning',
          code: 'snap.name-mismatch',
          file,
          offset: null,
          params: { file, nameTerm: named.term, nameIndex: named.index, term: d.snapshot.term, index: d.snapshot.index },
        }),
      );
    }
  }
  if (!d.ok) {
    const code = d.error === SNAP_ERRORS.empty ? 'snap.empty' : d.error === SNAP_ERRORS.crc ? 'snap.crc' : 'snap.decode';
    const params = { file, base, error: d.error ?? '', stored: hex32(d.crcStored), computed: hex32(d.crcComputed) };
    const variant = code === 'snap.empty' && bytes.length === 0 ? 'zero' : undefined;
    findings.push(
      walFinding({
        severity: 'warning',
        code,
        file,
        offset: code === 'snap.crc' ? 0 : null,
        params,
        engineError: d.error ?? '',
        ...(variant ? { variant } : {}),
      }),
    );
  }
  return { info, findings };
}

/** Build a .snap file (tests and the repair engineer use it). */
export function encodeSnapFile(s: RaftSnapshot): Uint8Array {
  const data = encodeRaftSnapshot(s);
  const crc = crc32c(data);
  const head: number[] = [0x08];
  let x = crc >>> 0;
  while (x >= 0x80) {
    head.push((x & 0x7f) | 0x80);
    x >>>= 7;
  }
  head.push(x, 0x12);
  let n = data.length;
  while (n >= 0x80) {
    head.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  head.push(n);
  const out = new Uint8Array(head.length + data.length);
  out.set(head, 0);
  out.set(data, head.length);
  return out;
}
