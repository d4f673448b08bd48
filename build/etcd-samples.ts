/**
 * The two bundled etcd samples, made with the real etcd 3.4 (called from
 * build/make-samples.ts):
 *
 * etcd-healthy: a single member stopped cleanly after writing Kubernetes-like
 *   objects (JSON values under /registry/...), some rewritten (history), some
 *   deleted (tombstones), with `--snapshot-count 100` so there are .snap files
 *   and WAL snapshot records.
 * etcd-field-report: field report 2 (kubeadm, etcd crash-looping with
 *   `freepages: failed to get all reachable pages (page 0: invalid type:
 *   meta)`): the same kind of member, then the first element of a branch page
 *   of the `key` bucket, in the tree of the meta bbolt uses, is pointed at
 *   page 0, which is what power loss did to that db.
 *
 * Both are kept small: the WAL's preallocated zero tail is cut after its
 * last record (etcd accepts a shorter last WAL file; checked below by starting
 * a copy). Each sample is checked with the real etcd before it is written.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { copyDir, makeGoldenWith, requireEtcd, tryStartEtcd, type EtcdGolden, type EtcdNode } from '../test/helpers/etcd';

const PAGE_HEADER = 16;
const BRANCH_FLAG = 0x01;
const LEAF_FLAG = 0x02;
const BUCKET_LEAF_FLAG = 0x01;

/** Kubernetes-looking objects, stored as JSON (what `--storage-media-type=application/json` writes). */
function k8sObject(kind: string, resource: string, ns: string | null, name: string, i: number, round: number): { key: string; value: string } {
  const key = ns ? `/registry/${resource}/${ns}/${name}` : `/registry/${resource}/${name}`;
  const metadata: Record<string, unknown> = {
    name,
    ...(ns ? { namespace: ns } : {}),
    uid: `5f3c${String(i).padStart(4, '0')}-1a2b-4c3d-8e9f-${String(1000000 + i).padStart(12, '0')}`,
    creationTimestamp: `2026-11-${String(1 + (i % 28)).padStart(2, '0')}T0${i % 10}:1${i % 6}:00Z`,
    labels: { app: name.replace(/-\d+$/, ''), round: String(round) },
  };
  const body: Record<string, unknown> =
    kind === 'ConfigMap'
      ? { data: { 'config.yaml': `replicas: ${1 + (i % 3)}\nround: ${round}\n` } }
      : kind === 'Secret'
        ? { type: 'Opaque', data: { token: Buffer.from(`token-${i}-${round}`).toString('base64') } }
        : kind === 'Pod'
          ? { spec: { nodeName: 'control-plane-1', containers: [{ name: 'main', image: `registry.k8s.io/pause:3.${round}` }] }, status: { phase: 'Running' } }
          : kind === 'Service'
            ? { spec: { type: 'ClusterIP', clusterIP: `10.96.${i % 200}.${10 + round}`, ports: [{ port: 80 + i }] } }
            : { spec: {} };
  const apiVersion = kind === 'Deployment' ? 'apps/v1' : 'v1';
  return { key, value: JSON.stringify({ kind, apiVersion, metadata, ...body }) };
}

const KINDS: [string, string, boolean][] = [
  ['ConfigMap', 'configmaps', true],
  ['Secret', 'secrets', true],
  ['Pod', 'pods', true],
  ['Service', 'services', true],
  ['Deployment', 'deployments', true],
  ['Namespace', 'namespaces', false],
];
const NAMESPACES = ['default', 'kube-system', 'shop'];

export function sampleObjects(count: number, round: number): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  for (let i = 0; i < count; i++) {
    const [kind, resource, namespaced] = KINDS[i % KINDS.length];
    const ns = namespaced ? NAMESPACES[i % NAMESPACES.length] : null;
    const name = namespaced ? `${kind.toLowerCase()}-${String(i).padStart(4, '0')}` : NAMESPACES[i % NAMESPACES.length] + (i < 3 ? '' : `-${i}`);
    out.push(k8sObject(kind, resource, ns, name, i, round));
  }
  return out;
}

/** Writes the objects: two rounds (history), then deletes every 9th (tombstones). */
async function writeSampleObjects(node: EtcdNode, count: number): Promise<void> {
  for (let round = 0; round < 2; round++) {
    for (const { key, value } of sampleObjects(count, round)) await node.put(key, value);
  }
  const objs = sampleObjects(count, 1);
  for (let i = 4; i < count; i += 9) await node.del(objs[i].key);
}

/**
 * Cut a WAL file's preallocated zero tail after its last record: frames are
 * an 8-byte length word (low 56 bits: length; top bit set: padding in bits
 * 56-58) and the padded data; a zero word is where the records end.
 */
export async function trimWalTail(file: string): Promise<{ before: number; after: number }> {
  const bytes = await fs.readFile(file);
  let off = 0;
  while (off + 8 <= bytes.length) {
    const word = bytes.readBigUInt64LE(off);
    if (word === 0n) break;
    const len = Number(word & 0x00ffffffffffffffn);
    const pad = word & 0x8000000000000000n ? Number((word >> 56n) & 0x7n) : 0;
    const next = off + 8 + len + pad;
    if (next > bytes.length) throw new Error(`${file}: record at ${off} runs past the end`);
    off = next;
  }
  await fs.truncate(file, off);
  return { before: bytes.length, after: off };
}

async function trimWalDir(dataDir: string): Promise<void> {
  const walDir = path.join(dataDir, 'member', 'wal');
  const wals = (await fs.readdir(walDir)).filter((n) => n.endsWith('.wal')).sort();
  // Only the last file is preallocated and still open; older ones were cut at their end by etcd.
  await trimWalTail(path.join(walDir, wals[wals.length - 1]));
  for (const n of await fs.readdir(walDir)) if (n.endsWith('.tmp')) await fs.rm(path.join(walDir, n));
}

interface Meta {
  page: number;
  root: number;
  txid: bigint;
}

function readMetas(db: Buffer, pageSize: number): Meta[] {
  return [0, 1].map((page) => {
    const o = page * pageSize + PAGE_HEADER;
    return { page, root: Number(db.readBigUInt64LE(o + 16)), txid: db.readBigUInt64LE(o + 48) };
  });
}

/** The root page of bucket `name` in the root bucket's leaf page. */
function bucketRoot(db: Buffer, pageSize: number, rootPage: number, name: string): number {
  const p = rootPage * pageSize;
  const flags = db.readUInt16LE(p + 8);
  const count = db.readUInt16LE(p + 10);
  if (flags !== LEAF_FLAG) throw new Error(`root page ${rootPage} is not a leaf (flags ${flags}); make the sample with fewer buckets`);
  for (let i = 0; i < count; i++) {
    const e = p + PAGE_HEADER + i * 16;
    const elFlags = db.readUInt32LE(e);
    const pos = db.readUInt32LE(e + 4);
    const ksize = db.readUInt32LE(e + 8);
    const key = db.subarray(e + pos, e + pos + ksize).toString('utf8');
    if (key === name && elFlags & BUCKET_LEAF_FLAG) return Number(db.readBigUInt64LE(e + pos + ksize));
  }
  throw new Error(`no bucket ${name} in page ${rootPage}`);
}

/**
 * Field report 2's damage: in the tree bbolt opens (the meta with the higher
 * txid), the key bucket's root branch page gets its element 1 pointed at
 * page 0. Returns the branch page and the child it used to point at.
 */
export async function pointBranchAtPageZero(dbFile: string): Promise<{ branch: number; element: number; oldChild: number }> {
  const db = await fs.readFile(dbFile);
  const pageSize = db.readUInt32LE(PAGE_HEADER + 8);
  const metas = readMetas(db, pageSize);
  const current = metas[0].txid > metas[1].txid ? metas[0] : metas[1];
  const keyRoot = bucketRoot(db, pageSize, current.root, 'key');
  const p = keyRoot * pageSize;
  if (db.readUInt16LE(p + 8) !== BRANCH_FLAG) throw new Error(`key bucket root ${keyRoot} is not a branch page: write more keys`);
  const count = db.readUInt16LE(p + 10);
  const element = Math.min(1, count - 1);
  const at = p + PAGE_HEADER + element * 16 + 8;
  const oldChild = Number(db.readBigUInt64LE(at));
  db.writeBigUInt64LE(0n, at);
  await fs.writeFile(dbFile, db);
  return { branch: keyRoot, element, oldChild };
}

export interface EtcdSample {
  id: string;
  dir: string;
  note: string;
}

async function makeMember(dir: string): Promise<EtcdGolden> {
  return makeGoldenWith(dir, { snapshotCount: 100, name: 'control-plane-1' }, (node) => writeSampleObjects(node, 180));
}

export async function makeEtcdSamples(work: string): Promise<EtcdSample[]> {
  if (!requireEtcd()) throw new Error('etcd 3.4 (etcd, etcdctl) is required to make the etcd samples');
  // Healthy: stopped cleanly, WAL tail trimmed; a copy must start and serve every key.
  const healthy = await makeMember(path.join(work, 'etcd-healthy'));
  await trimWalDir(healthy.dir);
  const hCopy = path.join(work, 'etcd-healthy-check');
  await copyDir(healthy.dir, hCopy);
  const h = await tryStartEtcd(healthy.startOptions(hCopy));
  if (!h.started || h.keys?.size !== healthy.keys.size) {
    throw new Error(`etcd-healthy does not start with every key (${h.keys?.size ?? 0} of ${healthy.keys.size}):\n${h.output.slice(-2000)}`);
  }
  for (const [k, v] of healthy.keys) if (h.keys.get(k) !== v) throw new Error(`etcd-healthy serves a different value for ${k}`);

  // Field report 2: a branch element pointing at page 0; etcd must panic the same way.
  const field = await makeMember(path.join(work, 'etcd-field-report'));
  await trimWalDir(field.dir);
  const damage = await pointBranchAtPageZero(path.join(field.dir, 'member', 'snap', 'db'));
  const fCopy = path.join(work, 'etcd-field-check');
  await copyDir(field.dir, fCopy);
  const f = await tryStartEtcd(field.startOptions(fCopy));
  if (f.started || !/failed to get all reachable pages \(page 0: invalid type: meta\)/.test(f.output)) {
    throw new Error(`etcd-field-report does not fail like the report:\n${f.output.slice(-2000)}`);
  }
  return [
    { id: 'etcd-healthy', dir: healthy.dir, note: `starts, serves ${h.keys.size} keys` },
    {
      id: 'etcd-field-report',
      dir: field.dir,
      note: `branch page ${damage.branch} element ${damage.element} now points at page 0 (was ${damage.oldChild}); etcd says: ${f.fatal ?? '?'}`,
    },
  ];
}

export const ETCD_SAMPLE_INDEX = [
  { id: 'etcd-healthy', dir: 'etcd-healthy', titleKey: 'sample.etcdHealthy.title', descriptionKey: 'sample.etcdHealthy.description', engine: 'etcd' },
  {
    id: 'etcd-field-report',
    dir: 'etcd-field-report',
    titleKey: 'sample.etcdFieldReport.title',
    descriptionKey: 'sample.etcdFieldReport.description',
    engine: 'etcd',
  },
] as const;
