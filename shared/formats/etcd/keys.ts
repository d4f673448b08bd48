/**
 * Keys and values of etcd's `key` bucket on demand: the newest revision of
 * every key (with its history count and whether it is deleted), grouped by
 * Kubernetes resource and namespace, filtered by prefix and substring, paged;
 * and one value, decoded (JSON pretty-printed, protobuf as its metadata,
 * encrypted marked). Each call walks the tree of the meta bbolt would use,
 * entering only the `key` bucket; per key it keeps a small record (page and
 * element of the newest revision), never the values.
 */
import type { ByteSource } from '../../bytes/byte-source';
import type { EtcdKeyGroup, EtcdKeyItem, EtcdKeyPage, EtcdQuery, EtcdValueDetail } from '../../contract/etcd';
import { decodeLeafElements } from './bbolt-element';
import { decodePageHeader, toHex } from './bbolt-page';
import { openBbolt, walkTree, type OpenedBbolt } from './bbolt-walk';
import { summarizeK8sValue, parseJsonValue } from './k8s-value';
import { decodeKeyValueFast, keyValueKeyFast, type KeyValue } from './kv';
import { decodeRevisionKey } from './revision';
import { ByteKeySet } from './schema';

/** Bytes of a value shown as hex in a value detail. */
export const HEX_PREVIEW_BYTES = 256;
/** Values shown as text up to this size. */
const MAX_DISPLAY_BYTES = 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: false });

interface KeyRecord {
  createRevision: number;
  modRevision: number;
  version: number;
  lease: bigint;
  tombstone: boolean;
  valueSize: number;
  history: number;
  page: number;
  element: number;
}

function startsWithBytes(a: Uint8Array, p: Uint8Array): boolean {
  if (a.length < p.length) return false;
  for (let i = 0; i < p.length; i++) if (a[i] !== p[i]) return false;
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Resource and namespace of a key: `/registry/<resource>/[<ns>/]<name>`, CRs `/registry/<group>/<plural>/…`. */
export function keyGroup(key: string): { resource: string; namespace: string | null } {
  if (!key.startsWith('/registry/')) {
    const first = key.split('/').filter(Boolean)[0];
    return { resource: first ? `(${first})` : '(other)', namespace: null };
  }
  const parts = key.slice('/registry/'.length).split('/');
  let resource = parts[0] ?? '';
  let rest = parts.slice(1);
  if (resource.includes('.') && rest.length > 0) {
    resource = `${resource}/${rest[0]}`;
    rest = rest.slice(1);
  } else if (resource === 'services' && (rest[0] === 'specs' || rest[0] === 'endpoints')) {
    resource = `services/${rest[0]}`;
    rest = rest.slice(1);
  }
  return { resource, namespace: rest.length >= 2 ? rest[0]! : null };
}

async function openForKeys(src: ByteSource): Promise<OpenedBbolt> {
  const db = await openBbolt(src);
  if (db.chosenMeta === null)
    throw new Error(
      `${src.name}: ${db.empty ? 'the db is empty' : `bbolt cannot open it (${db.openError ?? 'no valid meta page'})`}; its keys cannot be listed`,
    );
  return db;
}

/** Visit every item of the `key` bucket in the chosen meta's tree. */
async function forEachRevision(
  db: OpenedBbolt,
  fn: (rev: { main: number; sub: number; tombstone: boolean }, kv: KeyValue, page: number, element: number) => void,
  onlyKey?: Uint8Array,
): Promise<void> {
  await walkTree(db, db.chosenMeta!, {
    enterBucket: (p) => p.length === 1 && p[0] === 'key',
    onLeaf: (leaf) => {
      if (leaf.bucket.length !== 1 || leaf.bucket[0] !== 'key') return;
      for (const e of leaf.elements) {
        if (e.problem) continue;
        const rev = decodeRevisionKey(e.key);
        if (!rev) continue;
        if (onlyKey) {
          const k = keyValueKeyFast(e.value);
          if (k && !sameBytes(k, onlyKey)) continue;
        }
        const kv = decodeKeyValueFast(e.value);
        if (!kv.ok) continue;
        fn(rev, kv.kv, leaf.page, e.index);
      }
    },
  });
}

async function valueAt(db: OpenedBbolt, page: number, element: number): Promise<Uint8Array | null> {
  const first = await db.reader.span(page);
  const h = decodePageHeader(first);
  if (!h) return null;
  const span = h.overflow === 0 ? first : await db.reader.span(page, h.overflow + 1);
  const e = decodeLeafElements(span, h.count)[element];
  if (!e || e.problem) return null;
  const kv = decodeKeyValueFast(e.value);
  return kv.ok ? kv.kv.value : null;
}

/** One page of keys (newest revision each), with the groups of all keys that match. */
export async function listKeys(src: ByteSource, query: Extract<EtcdQuery, { kind: 'keys' }>): Promise<EtcdKeyPage> {
  const db = await openForKeys(src);
  // Distinct keys by their bytes first (a db has many revisions per key); strings only per distinct key.
  const set = new ByteKeySet();
  const records: KeyRecord[] = [];
  const prefix = query.prefix ? new TextEncoder().encode(query.prefix) : null;
  await forEachRevision(db, (rev, kv, page, element) => {
    if (prefix && !startsWithBytes(kv.key, prefix)) return;
    const e = set.add(kv.key);
    const prev = records[e];
    if (prev && prev.modRevision > rev.main) {
      prev.history++;
      return;
    }
    const r =
      prev ?? (records[e] = { createRevision: 0, modRevision: 0, version: 0, lease: 0n, tombstone: false, valueSize: 0, history: 0, page: 0, element: 0 });
    r.createRevision = rev.tombstone ? r.createRevision : kv.createRevision;
    r.modRevision = rev.main;
    r.version = rev.tombstone ? 0 : kv.version;
    r.lease = kv.lease;
    r.tombstone = rev.tombstone;
    r.valueSize = kv.value.length;
    r.history++;
    r.page = page;
    r.element = element;
  });
  const keys = new Map<string, KeyRecord>();
  for (let e = 0; e < set.size; e++) keys.set(utf8.decode(set.keyAt(e)), records[e]!);
  const search = query.search?.toLowerCase();
  const names = [...keys.keys()].filter((k) => !search || k.toLowerCase().includes(search)).sort();
  const groupCounts = new Map<string, EtcdKeyGroup>();
  for (const k of names) {
    const g = keyGroup(k);
    const id = `${g.resource}\0${g.namespace ?? ''}`;
    const e = groupCounts.get(id);
    if (e) e.count++;
    else groupCounts.set(id, { resource: g.resource, namespace: g.namespace, count: 1 });
  }
  const offset = Math.max(0, query.offset);
  const items: EtcdKeyItem[] = [];
  for (const k of names.slice(offset, offset + Math.max(0, query.limit))) {
    const r = keys.get(k)!;
    const item: EtcdKeyItem = {
      key: k,
      createRevision: r.createRevision,
      modRevision: r.modRevision,
      version: r.version,
      lease: r.lease !== 0n ? BigInt.asUintN(64, r.lease).toString(16) : null,
      tombstone: r.tombstone,
      valueSize: r.valueSize,
      history: r.history,
    };
    if (!r.tombstone && k.startsWith('/registry/')) {
      const v = await valueAt(db, r.page, r.element);
      if (v) item.k8s = summarizeK8sValue(v);
    }
    items.push(item);
  }
  return { total: names.length, offset, items, groups: [...groupCounts.values()] };
}

function display(value: Uint8Array, k8s: EtcdValueDetail['k8s']): string {
  if (value.length > MAX_DISPLAY_BYTES) return `(${value.length} bytes; too large to show)`;
  switch (k8s?.encoding) {
    case 'json': {
      const j = parseJsonValue(value);
      return j.ok ? JSON.stringify(j.value, null, 2) : utf8.decode(value);
    }
    case 'protobuf':
    case 'encrypted':
      return JSON.stringify(k8s, null, 2);
    case 'text':
      return utf8.decode(value);
    default:
      return toHex(value, HEX_PREVIEW_BYTES);
  }
}

/** One key's value: the newest revision, or the given main revision. Throws a clear error when the key (or revision) is not in the db. */
export async function readValue(src: ByteSource, key: string, revision?: number): Promise<EtcdValueDetail> {
  const db = await openForKeys(src);
  const want = new TextEncoder().encode(key);
  let best: { main: number; tombstone: boolean; page: number; element: number } | null = null;
  await forEachRevision(
    db,
    (rev, kv, page, element) => {
      if (!sameBytes(kv.key, want)) return;
      if (revision !== undefined ? rev.main === revision : !best || rev.main > best.main) best = { main: rev.main, tombstone: rev.tombstone, page, element };
    },
    want,
  );
  const b = best as { main: number; tombstone: boolean; page: number; element: number } | null;
  if (!b)
    throw new Error(revision !== undefined ? `${src.name}: key ${key} has no revision ${revision} in the db` : `${src.name}: key ${key} is not in the db`);
  if (b.tombstone) return { key, modRevision: b.main, display: `(deleted at revision ${b.main})`, hexPreview: '', size: 0 };
  const value = (await valueAt(db, b.page, b.element)) ?? new Uint8Array(0);
  const k8s = summarizeK8sValue(value);
  return { key, modRevision: b.main, display: display(value, k8s), k8s, hexPreview: toHex(value, HEX_PREVIEW_BYTES), size: value.length };
}
