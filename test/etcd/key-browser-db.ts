/**
 * Many-key etcd dbs for the key browser's tests and its bench: Kubernetes-like
 * keys over many resources and namespaces (custom resources, services/specs,
 * cluster-scoped ones, keys outside /registry/), written in an order unlike
 * their sorted order, with history (every third key rewritten), tombstones
 * (every fifth deleted, every fifteenth put again after), leases on events.
 * `mixed` adds upper-case and non-ASCII keys (a search folds case).
 */
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';
import { memorySink, type PageSink } from '../../shared/formats/etcd/bbolt-write';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const te = new TextEncoder();

const NAMESPACED = ['pods', 'configmaps', 'secrets', 'events', 'services/specs', 'services/endpoints', 'deployments', 'cert-manager.io/certificates', 'leases'];
const CLUSTER = ['namespaces', 'clusterroles', 'minions'];

/** A small integer hash (the keys' order must not follow the write order). */
function mix(i: number): number {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Key number `i` of a db. */
export function keyBrowserKeyName(i: number, mixed: boolean): string {
  const h = mix(i);
  const id = `${h.toString(16).padStart(8, '0')}-${i}`;
  const pick = h % 100;
  if (pick < 2) return pick === 0 ? `/other/${(h >>> 8) % 5}/thing-${id}` : `compact-${id}`;
  if (mixed && pick < 5) return pick === 2 ? `/registry/configmaps/Équipe-${(h >>> 8) % 3}/Ünïcode-${id}` : `/registry/secrets/ns-UPPER/Name-${id}`;
  if (pick < 12) return `/registry/${CLUSTER[(h >>> 8) % CLUSTER.length]}/c-${id}`;
  const resource = NAMESPACED[(h >>> 8) % NAMESPACED.length];
  return `/registry/${resource}/ns-${(h >>> 16) % 300}/o-${id}`;
}

/** The key bucket's items of a db of `keys` distinct keys, in revision order; `last` receives the next revision. */
export function* keyBrowserRevisions(keys: number, mixed = false, last?: { revision: number }): Generator<RevisionItem> {
  let rev = 2;
  const put = (i: number, version: number, create: number): RevisionItem => {
    const key = keyBrowserKeyName(i, mixed);
    const name = key.slice(key.lastIndexOf('/') + 1);
    const value = te.encode(`{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"${name}","resourceVersion":"${rev}"},"data":{"n":"${i}"}}`);
    const lease = key.startsWith('/registry/events/') ? BigInt(1000 + (i % 50)) : 0n;
    const item = { key: revisionKey(rev, 0), value: encodeKeyValue({ key: te.encode(key), createRevision: create, modRevision: rev, version, value, lease }) };
    rev++;
    return item;
  };
  const first = (i: number) => 2 + i;
  for (let i = 0; i < keys; i++) yield put(i, 1, rev);
  for (let i = 0; i < keys; i += 3) yield put(i, 2, first(i));
  for (let i = 0; i < keys; i += 5) {
    const key = te.encode(keyBrowserKeyName(i, mixed));
    yield {
      key: revisionKey(rev, 0, true),
      value: encodeKeyValue({ key, createRevision: 0, modRevision: rev, version: 0, value: new Uint8Array(0), lease: 0n }),
    };
    rev++;
  }
  for (let i = 0; i < keys; i += 15) yield put(i, 1, rev);
  if (last) last.revision = rev;
}

/** Write such a db to `sink`. */
export async function writeKeyBrowserDb(sink: PageSink, keys: number, mixed = false): Promise<void> {
  const last = { revision: 0 };
  await writeEtcdBackend(sink, {
    revisions: keyBrowserRevisions(keys, mixed, last),
    buckets: { meta: [[te.encode('consistent_index'), u64be(keys * 2)]] },
  });
}

/** Such a db written as `db` in a new temporary folder (`prefix` names it), with its bytes; the caller removes `dir`. */
export async function keyBrowserDbFile(prefix: string, keys: number, mixed = false): Promise<{ dir: string; file: string; bytes: Uint8Array }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  const sink = memorySink();
  await writeKeyBrowserDb(sink, keys, mixed);
  const bytes = sink.bytes();
  const file = path.join(dir, 'db');
  await fs.writeFile(file, bytes);
  return { dir, file, bytes };
}
