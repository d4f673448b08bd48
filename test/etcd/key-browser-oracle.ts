/**
 * The key browser's answer as it was before the index (one walk of the whole
 * `key` bucket per query, a JS string per key): the oracle the index's answers
 * are compared with, value by value, on dbs that fit its budget.
 */
import type { ByteSource } from '../../shared/bytes/byte-source';
import type { EtcdKeyGroup, EtcdKeyItem, EtcdKeyPage, EtcdQuery } from '../../shared/contract/etcd';
import { summarizeK8sValue } from '../../shared/formats/etcd/k8s-value';
import { forEachRevision, keyGroup, openForKeys, valueAt } from '../../shared/formats/etcd/keys';
import { ByteKeySet } from '../../shared/formats/etcd/schema';

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

export async function listKeysByWalk(src: ByteSource, query: Extract<EtcdQuery, { kind: 'keys' }>): Promise<EtcdKeyPage> {
  const db = await openForKeys(src);
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
