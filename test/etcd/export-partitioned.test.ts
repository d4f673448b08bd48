/**
 * The per-object export (`lifeboat salvage PATH --out DIR`) past its key-state budget (issue 7, bounded memory):
 * the keys are collected as a salvage collects them, in passes by key hash, and the live keys read back from the db
 * one at a time. It must write the same tree as an export that holds every key: every file's relative path, bytes
 * and mode, the same `~2` names where two keys make one file name, the same counts and the same `lost` list. The
 * data dir: a db with history, tombstones, leases (one gone from the lease bucket), a compaction marker, keys in
 * several namespaces, secrets, JSON, protobuf, encrypted and text values, revisions no page holds, and a WAL newer
 * than the db (puts of new and of db keys, a delete, a range delete). The input is hashed before and after.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportObjects, type ExportResult } from '../../electron/services/etcd-repair';
import { memorySource } from '../../shared/bytes/byte-source';
import type { Progress } from '../../shared/contract/progress';
import { memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, encodeLease, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';
import { decodeInternalRequest, encodeDeleteRangeRequest, encodePutRequest } from '../../shared/formats/etcd/internal-request';
import { encodeEntry, encodeHardState, encodeMetadata } from '../../shared/formats/etcd/raft-entry';
import { collectSalvage, forEachLiveKey, type ReplayEntry, type WalEntryStream } from '../../shared/formats/etcd/salvage';
import { walName } from '../../shared/formats/etcd/wal-name';
import { encodeWalRecord } from '../../shared/formats/etcd/wal-record';
import { hashTree, tempDir } from '../helpers/etcd';
import { encodeK8sProtobuf } from './k8s-encode';
import { zeroFirstBranch } from '../helpers/etcd-damage';

const te = new TextEncoder();
const td = new TextDecoder();
const EMPTY = new Uint8Array(0);
const OBJECTS = 1800;
const CONSISTENT_INDEX = 9000;

const ns = (i: number) => `ns-${i % 7}`;
const name = (i: number) => `obj-${String(i).padStart(5, '0')}`;
/** Four kinds of value by key: JSON configmaps, protobuf pods, encrypted secrets, plain text under a non-k8s prefix. */
function keyOf(i: number): string {
  switch (i % 4) {
    case 0:
      return `/registry/configmaps/${ns(i)}/${name(i)}`;
    case 1:
      return `/registry/pods/${ns(i)}/${name(i)}`;
    case 2:
      return `/registry/secrets/${ns(i)}/${name(i)}`;
    default:
      return `/registry/apps.example.io/widgets/${ns(i)}/${name(i)}`;
  }
}
function valueOf(i: number, round: string): Uint8Array {
  switch (i % 4) {
    case 0:
      return te.encode(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: name(i), namespace: ns(i) }, data: { round } }));
    case 1:
      return encodeK8sProtobuf({
        apiVersion: 'v1',
        kind: 'Pod',
        name: name(i),
        namespace: ns(i),
        uid: `uid-${i}-${round}`,
        creationSeconds: 1_700_000_000 + i,
        labels: { app: `a${i % 5}` },
        annotations: {},
        owners: [],
      });
    case 2:
      return te.encode(`k8s:enc:aescbc:v1:key1:${round}\u0001\u0002${'s'.repeat(i % 30)}`);
    default:
      return te.encode(`widget ${i} ${round}`);
  }
}
/** Keys that make the same file name (`safeSegment` turns both ' ' and '?' into '_'): the later ones get `~2`, `~3`. */
const CLASHING = ['/registry/configmaps/default/same name', '/registry/configmaps/default/same?name', '/registry/configmaps/default/same_name'];
/** Leases 1 and 2 are in the lease bucket; 3 is not (its keys are exported all the same). */
const leaseOf = (i: number) => BigInt(1 + (i % 3));

/** The db: every object, a third rewritten, a seventh deleted (some put again), leased events, the clashing names. */
async function buildDb(withConsistentIndex = true): Promise<Uint8Array> {
  const items: RevisionItem[] = [];
  const created = new Map<string, number>();
  const versions = new Map<string, number>();
  let rev = 2;
  const put = (key: string, value: Uint8Array, lease = 0n) => {
    const create = created.get(key) ?? rev;
    const version = (versions.get(key) ?? 0) + 1;
    created.set(key, create);
    versions.set(key, version);
    items.push({ key: revisionKey(rev, 0), value: encodeKeyValue({ key: te.encode(key), createRevision: create, modRevision: rev, version, value, lease }) });
    rev++;
  };
  const del = (key: string) => {
    created.delete(key);
    versions.delete(key);
    items.push({
      key: revisionKey(rev, 0, true),
      value: encodeKeyValue({ key: te.encode(key), createRevision: 0, modRevision: rev, version: 0, value: EMPTY, lease: 0n }),
    });
    rev++;
  };
  for (let i = 0; i < OBJECTS; i++) put(keyOf(i), valueOf(i, 'first'));
  // Revisions no page holds: the export lists them as lost.
  rev += 3;
  put(CLASHING[2]!, te.encode('clash c'));
  for (let i = 0; i < 90; i++) put(`/registry/events/${ns(i)}/ev-${i}`, te.encode(`event ${i}`), leaseOf(i));
  for (let i = 0; i < OBJECTS; i += 3) put(keyOf(i), valueOf(i, 'second'));
  put(CLASHING[0]!, te.encode('clash a'));
  for (let i = 1; i < OBJECTS; i += 7) del(keyOf(i));
  for (let i = 1; i < OBJECTS; i += 70) put(keyOf(i), valueOf(i, 'again'));
  put(CLASHING[1]!, te.encode('clash b'));
  const sink = memorySink();
  await writeEtcdBackend(sink, {
    revisions: items,
    buckets: {
      meta: [
        ...(withConsistentIndex ? [[te.encode('consistent_index'), u64be(CONSISTENT_INDEX)] as [Uint8Array, Uint8Array]] : []),
        [te.encode('finishedCompactRev'), revisionKey(3, 0)],
      ],
      lease: [1n, 2n].map((id) => [u64be(id), encodeLease(id, 3600)] as [Uint8Array, Uint8Array]),
    },
  });
  return sink.bytes();
}

/** The WAL's requests, entries CONSISTENT_INDEX + 1, + 2, ...: newer than the db. */
function walRequests(): Uint8Array[] {
  return [
    encodePutRequest(1n, te.encode('/registry/configmaps/ns-new/from-wal'), valueOf(0, 'wal')),
    encodePutRequest(2n, te.encode(keyOf(5)), valueOf(5, 'wal')),
    encodePutRequest(3n, te.encode(keyOf(6)), valueOf(6, 'wal'), 2n),
    encodeDeleteRangeRequest(4n, te.encode(keyOf(8))),
    // A range delete: every object of ns-3 named obj-001..., except those put again below.
    encodeDeleteRangeRequest(5n, te.encode('/registry/pods/ns-3/obj-001'), te.encode('/registry/pods/ns-3/obj-002')),
    encodePutRequest(6n, te.encode('/registry/pods/ns-3/obj-00150'), valueOf(150, 'wal again')),
    // The first clashing name written again: it now comes last, so the file names move (`~2`, `~3`).
    encodePutRequest(7n, te.encode(CLASHING[2]!), te.encode('clash c from the WAL')),
    encodePutRequest(8n, te.encode('/registry/secrets/ns-new/from-wal'), te.encode('k8s:enc:kms:v2:my-kms:\u0000\u0001')),
  ];
}

/** A WAL file of the requests, as etcd cuts one (CRC, metadata, HardState, then entries). */
function buildWal(): { name: string; bytes: Uint8Array } {
  let crc = 0;
  const frames: Uint8Array[] = [];
  const add = (type: number, data: Uint8Array | null) => {
    const e = encodeWalRecord(type, data, crc);
    crc = e.crc;
    frames.push(e.frame);
  };
  add(4, null);
  add(1, encodeMetadata({ nodeId: 0x8e9e05c52164694dn, clusterId: 0xcdf818194e3a8c32n }));
  add(3, encodeHardState({ term: 2, vote: 0x8e9e05c52164694dn, commit: CONSISTENT_INDEX }));
  walRequests().forEach((data, i) => {
    const index = CONSISTENT_INDEX + 1 + i;
    add(2, encodeEntry({ type: 0, term: 2, index, data }));
    add(3, encodeHardState({ term: 2, vote: 0x8e9e05c52164694dn, commit: index }));
  });
  return { name: walName(1, CONSISTENT_INDEX + 1), bytes: Buffer.concat(frames) };
}

interface TreeEntry {
  path: string;
  mode: string;
  sha256: string | null;
}

/** Every directory and file under `root`: relative path, permission bits, and a file's SHA-256. */
async function treeOf(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = path.join(dir, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      const mode = ((await fs.stat(p)).mode & 0o7777).toString(8);
      if (e.isDirectory()) {
        out.push({ path: `${r}/`, mode, sha256: null });
        await walk(p, r);
      } else
        out.push({
          path: r,
          mode,
          sha256: createHash('sha256')
            .update(await fs.readFile(p))
            .digest('hex'),
        });
    }
  };
  await walk(root, '');
  return out;
}

describe('export in passes by key hash', () => {
  let work = '';
  let data = '';
  beforeAll(async () => {
    work = await tempDir('export-partitioned');
    data = path.join(work, 'data');
    await fs.mkdir(path.join(data, 'member', 'snap'), { recursive: true });
    await fs.mkdir(path.join(data, 'member', 'wal'), { recursive: true });
    await fs.writeFile(path.join(data, 'member', 'snap', 'db'), await buildDb());
    const wal = buildWal();
    await fs.writeFile(path.join(data, 'member', 'wal', wal.name), wal.bytes);
  });
  afterAll(async () => {
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  /** An export of the data dir into `out`, with the part passes it made. */
  async function exported(out: string, keyStateBudget: number | null): Promise<{ result: ExportResult; parts: string[]; writing: Progress[] }> {
    const phases = new Set<string>();
    const writing: Progress[] = [];
    const result = await exportObjects(data, path.join(work, out), {
      keyStateBudget,
      onProgress: (p: Progress) => {
        phases.add(p.phase);
        if (p.phase === 'export: writing objects') writing.push(p);
      },
    });
    return { result, parts: [...phases].filter((p) => /\(part \d+ of \d+/.test(p)), writing };
  }

  it('writes the same files (paths, bytes, modes), names and lost list as an export holding every key', async () => {
    const before = await hashTree(data);
    const whole = await exported('whole', null);
    const parted = await exported('parted', 60_000);
    expect(await hashTree(data)).toBe(before);
    expect(whole.parts).toEqual([]);
    expect(parted.parts.length).toBeGreaterThanOrEqual(4);
    expect(parted.parts.length).toBeLessThanOrEqual(8);
    // The file writing says how far it is, against the number of objects it then wrote (both ways of collecting).
    for (const run of [whole, parted]) {
      expect(run.writing.map((p) => p.bytesDone)).toEqual(Array.from({ length: Math.ceil(run.result.objects / 1000) }, (_, i) => i * 1000));
      expect(new Set(run.writing.map((p) => p.bytesTotal))).toEqual(new Set([run.result.objects]));
    }

    const tree = await treeOf(path.join(work, 'whole'));
    const byPath = new Map(tree.map((e) => [e.path, e]));
    // The input did its work: every kind of value, the WAL's puts and deletes, secrets 0600, the clashing names.
    expect(whole.result.objects).toBeGreaterThan(OBJECTS * 0.8);
    expect(whole.result.secrets).toBeGreaterThan(OBJECTS / 5);
    expect(byPath.get('configmaps/ns-new/from-wal.yaml')).toBeDefined();
    expect(byPath.get('secrets/ns-new/from-wal.yaml')?.mode).toBe('600');
    expect(byPath.get(`secrets/${ns(2)}/${name(2)}.yaml`)?.mode).toBe('600');
    expect(byPath.get(`configmaps/${ns(0)}/${name(0)}.yaml`)?.mode).toBe('644');
    expect(byPath.has(`configmaps/${ns(8)}/${name(8)}.yaml`)).toBe(false); // deleted by the WAL
    expect(byPath.has('pods/ns-3/obj-00101.yaml')).toBe(false); // in the WAL's range delete
    expect(byPath.has('pods/ns-3/obj-00150.yaml')).toBe(true); // put again after it
    expect(byPath.has(`pods/${ns(29)}/${name(29)}.yaml`)).toBe(false); // a tombstone in the db
    expect(byPath.has(`pods/${ns(1)}/${name(1)}.yaml`)).toBe(true); // deleted, then put again
    expect(byPath.has(`apps.example.io/widgets/${ns(3)}/${name(3)}.yaml`)).toBe(true);
    expect(byPath.has(`events/${ns(2)}/ev-2.yaml`)).toBe(true); // lease 3, not in the lease bucket
    const clashA = await fs.readFile(path.join(work, 'whole', 'configmaps/default/same_name.yaml'), 'utf8');
    const clashC = await fs.readFile(path.join(work, 'whole', 'configmaps/default/same_name~3.yaml'), 'utf8');
    expect(clashA).toContain('same name');
    expect(clashC).toContain('clash c from the WAL');
    const encodings = new Set<string>();
    for (const e of tree) {
      if (e.sha256 === null) continue;
      const m = /encoding: (\w+)/.exec(await fs.readFile(path.join(work, 'whole', e.path), 'utf8'));
      encodings.add(m ? m[1]! : 'json');
    }
    expect([...encodings].sort()).toEqual(['encrypted', 'json', 'protobuf', 'text']);

    // The gap is named once (it was listed twice: by the collect and again by the export).
    expect(whole.result.lost.map((l) => ({ key: l.key, revisions: l.revisions }))).toEqual([{ key: null, revisions: [OBJECTS + 2, OBJECTS + 4] }]);

    expect(await treeOf(path.join(work, 'parted'))).toEqual(tree);
    expect({ ...parted.result, output: '' }).toEqual({ ...whole.result, output: '' });
  });
});

/** Every live key `forEachLiveKey` reads back, every field, in its order (values as hex). */
async function liveKeysOf(db: Uint8Array, keyStateBudget: number | null): Promise<{ keys: Record<string, unknown>[]; parts: number; lost: unknown[] }> {
  const entries: ReplayEntry[] = walRequests().map((data, i) => ({
    index: CONSISTENT_INDEX + 1 + i,
    term: 2,
    type: 'normal',
    request: decodeInternalRequest(data),
  }));
  const wal: WalEntryStream = async (onEntry) => {
    for (const e of entries) await onEntry(e);
  };
  const src = memorySource('db', db);
  const phases = new Set<string>();
  const state = await collectSalvage({ db: src, dbFile: 'db', wal }, { keyStateBudget, onProgress: (p: Progress) => phases.add(p.phase) });
  const keys: Record<string, unknown>[] = [];
  await forEachLiveKey(state, src, (k) => {
    keys.push({ ...k, key: td.decode(k.key), value: Buffer.from(k.value).toString('hex') });
  });
  return { keys, parts: [...phases].filter((p) => /\(part \d+ of \d+/.test(p)).length, lost: state.lost };
}

describe('the live keys read back after passes (LiveKeyCursor)', () => {
  it('are the same keys, fields and order as from every key held: orphaned leaves, detached leases, no consistent index', async () => {
    const cases = [
      { db: zeroFirstBranch(await buildDb()), orphaned: true },
      { db: await buildDb(false), orphaned: false },
    ];
    for (const { db, orphaned } of cases) {
      const whole = await liveKeysOf(db, null);
      const parted = await liveKeysOf(db, 60_000);
      expect(whole.parts).toBe(0);
      expect(parted.parts).toBeGreaterThanOrEqual(4);
      expect(whole.keys.length).toBeGreaterThan(OBJECTS * 0.8);
      expect(whole.keys.some((k) => k.source === 'wal')).toBe(true);
      // The zeroed branch did its work: most keys come from leaves the tree no longer reaches.
      if (orphaned) expect(whole.keys.filter((k) => k.source === 'orphaned-leaf').length).toBeGreaterThan(OBJECTS / 2);
      // Lease 3 is not in the lease bucket: its keys are read back without it, as a salvage writes them.
      expect(new Set(whole.keys.map((k) => k.lease))).toEqual(new Set([0n, 1n, 2n]));
      expect(parted.keys).toEqual(whole.keys);
      expect(parted.lost).toEqual(whole.lost);
    }
  });
});
