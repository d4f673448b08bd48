/**
 * A k3s-shaped `state.db` made by the real sqlite3: kine's table and indexes
 * as kine creates them, in WAL mode as k3s opens it, with what kine writes
 * (`kineRows`: creates, updates, deletions, compact_rev_key, gap rows; JSON
 * values over overflow pages, Kubernetes protobuf values, a Secret, an
 * encrypted value; the dqlite kine test writes the same rows through the real
 * `dqlite` shell).
 * The folder is copied while sqlite3 still holds the database open, so the
 * copy has a `state.db-wal` that holds the newest transactions, as a node
 * that lost power has. `latest` is what each key holds last (null: deleted).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeK8sProtobuf } from '../etcd/k8s-encode';

export const KINE_SCHEMA = [
  'CREATE TABLE IF NOT EXISTS kine (id INTEGER PRIMARY KEY AUTOINCREMENT, name INTEGER, created INTEGER, deleted INTEGER, create_revision INTEGER, prev_revision INTEGER, lease INTEGER, value BLOB, old_value BLOB);',
  'CREATE INDEX IF NOT EXISTS kine_name_index ON kine (name);',
  'CREATE INDEX IF NOT EXISTS kine_name_id_index ON kine (name,id);',
  'CREATE INDEX IF NOT EXISTS kine_id_deleted_index ON kine (id,deleted);',
  'CREATE INDEX IF NOT EXISTS kine_prev_revision_index ON kine (prev_revision);',
  'CREATE UNIQUE INDEX IF NOT EXISTS kine_name_prev_revision_uindex ON kine (name, prev_revision);',
];

export interface KineStateDb {
  /** The folder holding `state.db` and `state.db-wal` (k3s's `server/db`). */
  dir: string;
  file: string;
  latest: Map<string, Buffer | null>;
}

/**
 * kine's rows as kine writes them, as INSERT statements (for sqlite3 or the real `dqlite` shell): compact_rev_key,
 * `configmaps` ConfigMaps (JSON, padded up to `pad` bytes so values spill over pages) rewritten over four rounds with
 * some deleted and gap rows between, `pods` Pods (Kubernetes protobuf, some with a lease), a Secret and an encrypted
 * value. `latest` is what each key holds last (null: deleted).
 */
export function kineRows(opts: { configmaps?: number; pods?: number; pad?: number } = {}): { rows: string[]; latest: Map<string, Buffer | null> } {
  const configmaps = opts.configmaps ?? 60;
  const pods = opts.pods ?? 20;
  const pad = opts.pad ?? 20000;
  const latest = new Map<string, Buffer | null>();
  const prev = new Map<string, number>();
  let id = 1;
  const rows: string[] = [];
  const insert = (name: string, created: number, deleted: number, value: Buffer | null, lease = 0): void => {
    const p = prev.get(name) ?? 0;
    rows.push(
      `INSERT INTO kine (id, name, created, deleted, create_revision, prev_revision, lease, value, old_value) VALUES (${id}, '${name}', ${created}, ${deleted}, ${created ? 0 : p}, ${p}, ${lease}, ${value === null ? 'NULL' : `x'${value.toString('hex')}'`}, NULL);`,
    );
    prev.set(name, id);
    id++;
  };
  insert('compact_rev_key', 0, 0, Buffer.from(''));
  for (let i = 0; i < configmaps * 4; i++) {
    const ns = `ns-${i % 4}`;
    const name = `/registry/configmaps/${ns}/cm-${i % configmaps}`;
    const value = Buffer.from(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `cm-${i % configmaps}`, namespace: ns },
        data: { n: String(i), pad: 'x'.repeat((i * 997) % pad) },
      }),
    );
    const deleting = latest.get(name) !== undefined && latest.get(name) !== null && i % 9 === 0;
    insert(name, latest.get(name) === undefined || latest.get(name) === null ? 1 : 0, deleting ? 1 : 0, value);
    latest.set(name, deleting ? null : value);
    if (i % 50 === 0) insert(`gap-${id}`, 0, 1, null);
  }
  for (let i = 0; i < pods; i++) {
    const pb = encodeK8sProtobuf({
      apiVersion: 'v1',
      kind: 'Pod',
      name: `pod-${i}`,
      namespace: 'default',
      uid: `uid-${i}`,
      creationSeconds: 1_700_000_000 + i,
      labels: { app: 'web' },
      annotations: {},
      owners: [],
    });
    insert(`/registry/pods/default/pod-${i}`, 1, 0, pb, i % 3 === 0 ? 7587 : 0);
    latest.set(`/registry/pods/default/pod-${i}`, pb);
  }
  const secret = Buffer.from(
    JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: 'kube-system' }, data: { t: 'c2VjcmV0' } }),
  );
  insert('/registry/secrets/kube-system/token', 1, 0, secret);
  latest.set('/registry/secrets/kube-system/token', secret);
  const encrypted = Buffer.concat([Buffer.from('k8s:enc:aescbc:v1:key1:'), Buffer.alloc(48, 7)]);
  insert('/registry/secrets/default/sealed', 1, 0, encrypted);
  latest.set('/registry/secrets/default/sealed', encrypted);
  return { rows, latest };
}

/** Make `dir/state.db` (+ `-wal`) holding `kineRows(opts)`. */
export function makeKineStateDb(dir: string, opts: { configmaps?: number; pods?: number } = {}): KineStateDb {
  const { rows, latest } = kineRows(opts);

  // Written in a scratch folder; the first half checkpointed into state.db, the rest only in the WAL when copied.
  const scratch = `${dir}.making`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  mkdirSync(dir, { recursive: true });
  const file = path.join(scratch, 'state.db');
  const half = Math.floor(rows.length / 2);
  const script = [
    'PRAGMA journal_mode=WAL;',
    'PRAGMA wal_autocheckpoint=0;',
    ...KINE_SCHEMA,
    'BEGIN;',
    ...rows.slice(0, half),
    'COMMIT;',
    'PRAGMA wal_checkpoint(TRUNCATE);',
    ...rows.slice(half).flatMap((r, i) => (i % 40 === 0 ? ['BEGIN;', r] : i % 40 === 39 ? [r, 'COMMIT;'] : [r])),
    ...((rows.length - half) % 40 === 0 ? [] : ['COMMIT;']),
    `.shell cp ${file} ${file}-wal ${dir}/`,
  ].join('\n');
  const r = spawnSync('sqlite3', [file], { input: script, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0 || r.stderr.trim() !== '') throw new Error(`sqlite3: ${r.stderr}`);
  rmSync(scratch, { recursive: true, force: true });
  return { dir, file: path.join(dir, 'state.db'), latest };
}

/** The keys sqlite3 itself says are live in `file` (with its WAL): each name's newest row, not deleted. */
export function sqliteLiveKeys(file: string): string[] {
  const query =
    "SELECT k.name FROM kine k JOIN (SELECT MAX(id) AS id FROM kine GROUP BY name) m ON k.id = m.id WHERE k.deleted = 0 AND k.name LIKE '/%' ORDER BY k.name;";
  // On a copy: sqlite3 makes a `-shm` beside a WAL database it opens, even read-only, and the input must not change.
  const scratch = mkdtempSync(path.join(tmpdir(), 'lifeboat-kine-query-'));
  try {
    for (const name of [path.basename(file), `${path.basename(file)}-wal`]) {
      if (existsSync(path.join(path.dirname(file), name))) copyFileSync(path.join(path.dirname(file), name), path.join(scratch, name));
    }
    const r = spawnSync('sqlite3', [path.join(scratch, path.basename(file)), query], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`sqlite3: ${r.stderr}`);
    return r.stdout
      .trim()
      .split('\n')
      .filter((l) => l !== '');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
