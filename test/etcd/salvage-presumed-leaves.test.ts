/**
 * The salvage walk does not read the key bucket's leaves once their level is known (bbolt trees are balanced): the
 * page scan, which reads every page anyway, checks each such leaf when it gets there and records the holes the walk
 * recorded when it read them. These cases damage a leaf the walk no longer reads, on a db of 1,500 keys (a branch
 * over ~100 leaves), and check what salvage makes of it is what the walk that read every leaf made of it:
 * - a leaf zeroed, with an older copy of it in a freed page BEFORE it in the file: the scan meets the copy before it
 *   knows the hole, so it drops the copy's revisions as stale, then must start over (else those keys are lost);
 * - the same with the copy AFTER the leaf: the hole is known when the scan meets it;
 * - a leaf whose header names another page: its items are kept by their shape, as an orphan in the hole (whose
 *   bounds the scan takes from the parent branch);
 * - a zeroed leaf and no copy: exactly its revisions are reported lost;
 * - a leaf that is really a branch (a page of the tree copied over it): the walk would have gone down; salvage
 *   gives what a full walk gives.
 */
import { describe, expect, it } from 'vitest';
import { memorySource } from '../../shared/bytes/byte-source';
import { decodeBranchElements, decodeLeafElements } from '../../shared/formats/etcd/bbolt-element';
import { decodeMetaFields } from '../../shared/formats/etcd/bbolt-meta';
import { decodePageHeader } from '../../shared/formats/etcd/bbolt-page';
import { memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';
import { collectSalvage, forEachLiveKey, salvageEtcd } from '../../shared/formats/etcd/salvage';

const te = new TextEncoder();
const td = new TextDecoder();
const PAGE = 4096;
const KEYS = 1500;

const keyOf = (i: number) => `/registry/configmaps/ns-${i % 7}/cm-${String(i).padStart(5, '0')}`;
const valueOf = (i: number) => `value of ${i} `.repeat(12 + (i % 5));

async function buildDb(): Promise<Uint8Array> {
  const items: RevisionItem[] = [];
  for (let i = 0; i < KEYS; i++) {
    items.push({
      key: revisionKey(i + 2, 0),
      value: encodeKeyValue({ key: te.encode(keyOf(i)), createRevision: i + 2, modRevision: i + 2, version: 1, value: te.encode(valueOf(i)), lease: 0n }),
    });
  }
  const sink = memorySink();
  await writeEtcdBackend(sink, { revisions: items, buckets: { meta: [[te.encode('consistent_index'), u64be(KEYS + 1)]] } });
  return sink.bytes().slice();
}

/** The key bucket's root branch (page) and its children's pages, in element order. */
function keyBucketTree(db: Uint8Array): { branch: number; children: number[] } {
  const meta = decodeMetaFields(db.subarray(0, PAGE)).fields;
  const rootPage = Number(meta.root);
  const root = db.subarray(rootPage * PAGE, (rootPage + 1) * PAGE);
  const key = decodeLeafElements(root, decodePageHeader(root)!.count).find((e) => td.decode(e.key) === 'key')!;
  const branch = Number(new DataView(key.value.buffer, key.value.byteOffset, 8).getBigUint64(0, true));
  const page = db.subarray(branch * PAGE, (branch + 1) * PAGE);
  const h = decodePageHeader(page)!;
  expect(h.flags & 0x01).toBe(0x01); // a branch: the db is big enough for two levels
  return { branch, children: decodeBranchElements(page, h.count).map((e) => e.child) };
}

/** The revisions (main) a leaf holds. */
function revisionsIn(db: Uint8Array, pageNo: number): number[] {
  const page = db.subarray(pageNo * PAGE, (pageNo + 1) * PAGE);
  return decodeLeafElements(page, decodePageHeader(page)!.count).map((e) => Number(new DataView(e.key.buffer, e.key.byteOffset, 8).getBigUint64(0, false)));
}

function setPageId(db: Uint8Array, pageNo: number, id: number): void {
  new DataView(db.buffer, db.byteOffset + pageNo * PAGE, 8).setBigUint64(0, BigInt(id), true);
}

/** A copy of the db with one more page at the end (the meta's high-water mark is not raised: salvage reads the file's pages). */
function withPageAppended(db: Uint8Array, page: Uint8Array): { db: Uint8Array; added: number } {
  const out = new Uint8Array(db.length + PAGE);
  out.set(db);
  out.set(page, db.length);
  const added = db.length / PAGE;
  setPageId(out, added, added);
  return { db: out, added };
}

/** Point the branch's element `index` at `child`. */
function repoint(db: Uint8Array, branch: number, index: number, child: number): void {
  new DataView(db.buffer, db.byteOffset + branch * PAGE + 16 + index * 16 + 8, 8).setBigUint64(0, BigInt(child), true);
}

async function salvageOf(db: Uint8Array) {
  const input = { db: memorySource('db', db), dbFile: 'db', snapshotDb: false, wal: null };
  const report = await salvageEtcd(input, memorySink(), { outputKind: 'snapshot-db', output: 'salvaged.db', keysListedMax: KEYS });
  const values = new Map<string, { value: string; source: string }>();
  const state = await collectSalvage(input);
  await forEachLiveKey(state, input.db, (k) => {
    values.set(td.decode(k.key), { value: td.decode(k.value), source: k.source });
  });
  return { report, values };
}

function expectEveryKey(values: Map<string, { value: string; source: string }>, except: Set<number> = new Set()): void {
  for (let i = 0; i < KEYS; i++) {
    if (except.has(i + 2)) expect(values.has(keyOf(i)), keyOf(i)).toBe(false);
    else expect(values.get(keyOf(i))?.value, keyOf(i)).toBe(valueOf(i));
  }
}

describe('salvage: leaves the walk does not read are checked by the page scan', () => {
  it('a zeroed leaf with an older copy in a freed page before it: the copy is used', async () => {
    const golden = await buildDb();
    const { branch, children } = keyBucketTree(golden);
    expect(children.length).toBeGreaterThan(20);
    // A (early in the file) moves to a new page at the end, leaving its page free; the copy of K goes there.
    const [a, k] = [children[1]!, children[10]!];
    expect(a).toBeLessThan(k);
    const lostRevisions = revisionsIn(golden, k);
    const { db, added } = withPageAppended(golden, golden.subarray(a * PAGE, (a + 1) * PAGE));
    repoint(db, branch, 1, added);
    db.set(golden.subarray(k * PAGE, (k + 1) * PAGE), a * PAGE);
    setPageId(db, a, a);
    db.fill(0, k * PAGE, (k + 1) * PAGE);

    const { report, values } = await salvageOf(db);
    expectEveryKey(values);
    expect(report.lost).toEqual([]);
    expect(report.keysWritten).toBe(KEYS);
    // K's keys came from the freed copy, the others from the tree (A's from its new page).
    const fromCopy = report.keys.filter((x) => x.source === 'orphaned-leaf');
    expect(fromCopy.map((x) => x.modRevision)).toEqual(lostRevisions);
    expect(new Set(fromCopy.map((x) => x.page))).toEqual(new Set([a]));
    expect(report.sources).toEqual({ tree: KEYS - lostRevisions.length, 'orphaned-leaf': lostRevisions.length, wal: 0 });
    expect(report.orphanedLeafPages).toBe(1);
  });

  it('a zeroed leaf with an older copy after it: the copy is used', async () => {
    const golden = await buildDb();
    const { children } = keyBucketTree(golden);
    const k = children[10]!;
    const lostRevisions = revisionsIn(golden, k);
    const { db, added } = withPageAppended(golden, golden.subarray(k * PAGE, (k + 1) * PAGE));
    db.fill(0, k * PAGE, (k + 1) * PAGE);

    const { report, values } = await salvageOf(db);
    expectEveryKey(values);
    expect(report.lost).toEqual([]);
    const fromCopy = report.keys.filter((x) => x.source === 'orphaned-leaf');
    expect(fromCopy.map((x) => x.modRevision)).toEqual(lostRevisions);
    expect(new Set(fromCopy.map((x) => x.page))).toEqual(new Set([added]));
  });

  it('a leaf whose header names another page: its items are kept by their shape (the hole covers them)', async () => {
    const golden = await buildDb();
    const { children } = keyBucketTree(golden);
    const k = children[10]!;
    const kept = revisionsIn(golden, k);
    const db = golden.slice();
    setPageId(db, k, children[11]!);

    const { report, values } = await salvageOf(db);
    expectEveryKey(values);
    expect(report.lost).toEqual([]);
    // Not a tree page any more: an orphan whose revisions fall in the hole the parent's keys bound.
    const fromPage = report.keys.filter((x) => x.source === 'orphaned-leaf');
    expect(fromPage.map((x) => x.modRevision)).toEqual(kept);
    expect(new Set(fromPage.map((x) => x.page))).toEqual(new Set([k]));
  });

  it('a zeroed leaf and no copy: exactly its revisions are lost', async () => {
    const golden = await buildDb();
    const { children } = keyBucketTree(golden);
    const k = children[10]!;
    const lostRevisions = revisionsIn(golden, k);
    const db = golden.slice();
    db.fill(0, k * PAGE, (k + 1) * PAGE);

    const { report, values } = await salvageOf(db);
    expectEveryKey(values, new Set(lostRevisions));
    expect(report.sources).toEqual({ tree: KEYS - lostRevisions.length, 'orphaned-leaf': 0, wal: 0 });
    expect(report.lost.map((l) => l.revisions)).toEqual([[lostRevisions[0], lostRevisions.at(-1)]]);
  });

  it('a leaf position holding a copy of the branch: walked as the branch it is', async () => {
    const golden = await buildDb();
    const { branch, children } = keyBucketTree(golden);
    const k = children[10]!;
    const db = golden.slice();
    // A branch at a leaf level, with its own id: the walk goes down it (every child is already entered).
    db.set(golden.subarray(branch * PAGE, (branch + 1) * PAGE), k * PAGE);
    setPageId(db, k, k);
    const lostRevisions = revisionsIn(golden, k);

    const { report, values } = await salvageOf(db);
    expectEveryKey(values, new Set(lostRevisions));
    expect(report.lost.map((l) => l.revisions)).toEqual([[lostRevisions[0], lostRevisions.at(-1)]]);
    expect(report.sources.tree).toBe(KEYS - lostRevisions.length);
  });
});
