/**
 * A real etcd 3.4 db whose two meta pages are both broken (bbolt: `checksum
 * error`, no tree to walk): the page map is found by scanning page headers,
 * a page opens with its elements, and the key browser lists the keys of the
 * leaves found that way. Checked against the intact db's real tree (read by
 * the test's own small parser in etcd-damage.ts, never the decoders under
 * test), against Lifeboat's key browser on the intact db, and against what
 * etcd served. Inputs are hashed before and after.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSource } from '../helpers/validate-local';
import { bboltPageDetail, bboltPageMap, inspectBbolt } from '../../shared/formats/etcd/bbolt-db';
import { listKeys, readValue } from '../../shared/formats/etcd/keys';
import type { EtcdKeyItem } from '../../shared/contract/etcd';
import { copyDir, hashTree, makeGolden, requireEtcd, tempDir, testKey, type EtcdGolden } from '../helpers/etcd';
import { boltMetas, boltTree, dbPath, flipByte } from '../helpers/etcd-damage';

const HAVE_ETCD = requireEtcd();
const KEYS = 300;
const DELETE_EVERY = 9;

let root = '';
let golden: EtcdGolden;
/** The intact db, the damaged copy's dir and db. */
let intactDb = '';
let damagedDir = '';
let damagedDb = '';

/** What each page's header says, read by the test itself: the code the scan must give it. */
function expectedScanCodes(b: Buffer, pageSize: number): string {
  const n = Math.floor(b.length / pageSize);
  const codes: string[] = [];
  for (let pos = 0; pos < n; pos++) {
    const at = pos * pageSize;
    if (pos < 2) {
      codes.push('x'); // both metas are broken here
      continue;
    }
    const id = b.readBigUInt64LE(at);
    const flags = b.readUInt16LE(at + 8);
    const overflow = b.readUInt32LE(at + 12);
    if (id !== BigInt(pos)) {
      codes.push(b.subarray(at, at + pageSize).every((x) => x === 0) ? '.' : 'x');
      continue;
    }
    const code = flags === 0x01 ? 'b' : flags === 0x02 ? 'l' : flags === 0x10 ? 'f' : 'x';
    if (overflow > 0 && pos + overflow < n) {
      codes.push(code, ...Array<string>(overflow).fill('o'));
      pos += overflow;
    } else codes.push(overflow > 0 ? 'x' : code);
  }
  return codes.join('');
}

async function allKeys(file: string): Promise<EtcdKeyItem[]> {
  return withSource(file, async (src) => {
    const out: EtcdKeyItem[] = [];
    for (let offset = 0; ;) {
      const page = await listKeys(src, { kind: 'keys', offset, limit: 1000 });
      out.push(...page.items);
      offset += page.items.length;
      if (page.items.length === 0 || offset >= page.total) return out;
    }
  });
}

/**
 * The newest revision of each etcd key in the leaves among the first `pages` pages, by the test's own reading: a page
 * whose header says leaf at its own position, its 17/18-byte revision keys, the KeyValue's field 1 (the etcd key).
 */
function newestInLeaves(b: Buffer, pageSize: number, pages: number): Map<string, { main: number; tombstone: boolean }> {
  const out = new Map<string, { main: number; tombstone: boolean }>();
  for (let pos = 2; pos < pages; pos++) {
    const at = pos * pageSize;
    if (b.readBigUInt64LE(at) !== BigInt(pos) || b.readUInt16LE(at + 8) !== 0x02) continue;
    const overflow = b.readUInt32LE(at + 12);
    for (let i = 0; i < b.readUInt16LE(at + 10); i++) {
      const e = at + 16 + i * 16;
      const k = e + b.readUInt32LE(e + 4);
      const ksize = b.readUInt32LE(e + 8);
      if ((ksize !== 17 && ksize !== 18) || b[k + 8] !== 0x5f) continue;
      const v = k + ksize;
      if (b[v] !== 0x0a || b[v + 1]! >= 0x80) continue; // field 1, a key shorter than 128 bytes (the test's keys)
      const key = b.subarray(v + 2, v + 2 + b[v + 1]!).toString('utf8');
      const main = Number(b.readBigUInt64BE(k));
      if ((out.get(key)?.main ?? -1) < main) out.set(key, { main, tombstone: ksize === 18 });
    }
    pos += overflow;
  }
  return out;
}

describe.skipIf(!HAVE_ETCD)('bbolt: both metas broken, pages found by scanning their headers (real etcd 3.4 db)', () => {
  beforeAll(async () => {
    root = await tempDir('bbolt-no-meta');
    golden = await makeGolden(path.join(root, 'golden'), { keys: KEYS, valueSize: 64, rewrites: 1, deleteEvery: DELETE_EVERY });
    intactDb = dbPath(golden.dir);
    damagedDir = path.join(root, 'damaged');
    await copyDir(golden.dir, damagedDir);
    damagedDb = dbPath(damagedDir);
    // The checksum byte of each meta, as the oracle's "both metas broken" case does.
    const ps = boltTree(await fs.readFile(intactDb)).meta.pageSize;
    await flipByte(damagedDb, 72);
    await flipByte(damagedDb, ps + 72);
  }, 120_000);

  afterAll(async () => {
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  it('inspects it as not opening, yet with its page size and the pages its headers name', async () => {
    const before = await hashTree(damagedDir);
    const scan = await withSource(damagedDb, (src) => inspectBbolt(src, 'member/snap/db'));
    expect(await hashTree(damagedDir)).toBe(before);
    const b = await fs.readFile(damagedDb);
    const want = expectedScanCodes(b, 4096);
    expect(scan.info.openError).toBe('checksum error');
    expect(scan.info.chosenMeta).toBeNull();
    expect(scan.info.pagesByHeaderScan).toBe(true);
    expect(scan.info.pageSize).toBe(4096);
    expect(scan.info.pageCount).toBe(b.length / 4096);
    const count = (c: string) => [...want].filter((x) => x === c).length;
    expect(scan.info.pages).toEqual({
      meta: 0,
      branch: count('b'),
      leaf: count('l'),
      freelist: count('f'),
      overflow: count('o'),
      free: count('.'),
      damaged: count('x'),
      beyond: 0,
    });
  });

  it('page map: every page coded by its own header, and every page of the real tree as what it is', async () => {
    const before = await hashTree(damagedDir);
    const map = await withSource(damagedDb, (src) => bboltPageMap(src, 'member/snap/db'));
    expect(await hashTree(damagedDir)).toBe(before);
    expect(map.byHeaderScan).toBe(true);
    expect(map.pageSize).toBe(4096);
    expect(map.bucketRuns).toEqual([]);
    const b = await fs.readFile(damagedDb);
    expect(map.codes).toBe(expectedScanCodes(b, 4096));
    // The intact db's tree (the test's own walk): each of its pages is found as the same kind by the scan.
    const tree = boltTree(await fs.readFile(intactDb));
    expect(tree.pages.length).toBeGreaterThan(5);
    expect(tree.pages.map((p) => `${p.id}:${map.codes[p.id]}`)).toEqual(tree.pages.map((p) => `${p.id}:${p.kind === 'branch' ? 'b' : 'l'}`));
    expect(map.codes.slice(0, 2)).toBe('xx');
  });

  it('a leaf of the key bucket opens with its real keys; a meta page says why it is damaged', async () => {
    const tree = boltTree(await fs.readFile(intactDb));
    const leaf = tree.pages.find((p) => p.bucket === 'key' && p.kind === 'leaf')!;
    expect(leaf).toBeDefined();
    const b = await fs.readFile(damagedDb);
    const at = leaf.id * 4096;
    const realKeys: string[] = [];
    for (let i = 0; i < leaf.count; i++) {
      const e = at + 16 + i * 16;
      const pos = b.readUInt32LE(e + 4);
      const ksize = b.readUInt32LE(e + 8);
      realKeys.push(b.subarray(e + pos, e + pos + ksize).toString('hex'));
    }
    const before = await hashTree(damagedDir);
    const detail = await withSource(damagedDb, (src) => bboltPageDetail(src, leaf.id));
    const meta0 = await withSource(damagedDb, (src) => bboltPageDetail(src, 0));
    expect(await hashTree(damagedDir)).toBe(before);
    expect(detail.type).toBe('leaf');
    expect(detail.problems).toEqual([]);
    expect(detail.elements.map((e) => e.keyHex)).toEqual(realKeys);
    // Revision keys: 8 bytes main, '_', 8 bytes sub.
    expect(realKeys.every((k) => k.length === 34 && k.slice(16, 18) === '5f')).toBe(true);
    expect(meta0.type).toBe('meta');
    expect(meta0.problems).toEqual(['checksum error']);
  });

  it('key browser: the keys of the scanned leaves are those of the intact tree and what etcd served', async () => {
    const before = await hashTree(damagedDir);
    const scanned = await allKeys(damagedDb);
    const value = await withSource(damagedDb, (src) => readValue(src, testKey(2)));
    expect(await hashTree(damagedDir)).toBe(before);
    const intact = await allKeys(intactDb);
    expect(intact.length).toBe(KEYS);
    expect(scanned).toEqual(intact);
    // etcd served the live ones with their round-1 values; the deleted ones are tombstones with a three-step history.
    const live = scanned.filter((k) => !k.tombstone).map((k) => k.key);
    expect(live.sort()).toEqual([...golden.keys.keys()].sort());
    const deleted = scanned.filter((k) => k.tombstone);
    expect(deleted.length).toBe(Math.ceil(KEYS / DELETE_EVERY));
    expect(deleted.every((k) => k.history === 3)).toBe(true);
    expect(scanned.filter((k) => !k.tombstone).every((k) => k.history === 2 && k.version === 2)).toBe(true);
    expect(value.display).toBe(golden.keys.get(testKey(2)));
  });

  it("a copy cut short before both metas' roots: the page map and the keys come from the pages left, by their headers", async () => {
    const intact = await fs.readFile(intactDb);
    const metas = boltMetas(intact);
    const cut = Math.min(...metas.map((m) => m.root));
    expect(cut).toBeGreaterThan(4);
    const dir = path.join(root, 'cut');
    await copyDir(golden.dir, dir);
    const db = dbPath(dir);
    await fs.truncate(db, cut * 4096);
    const before = await hashTree(dir);
    const scan = await withSource(db, (src) => inspectBbolt(src, 'member/snap/db'));
    const map = await withSource(db, (src) => bboltPageMap(src, 'member/snap/db'));
    const keys = await allKeys(db);
    expect(await hashTree(dir)).toBe(before);
    // bbolt opens it on a meta, and faults walking a root past the end; the pages are read by their headers instead.
    expect(scan.info.openError).toBeNull();
    expect(scan.info.freepagesPanic).toMatch(/fault/);
    expect(scan.info.pagesByHeaderScan).toBe(true);
    expect(map.byHeaderScan).toBe(true);
    const b = await fs.readFile(db);
    expect(map.codes).toBe('mm' + expectedScanCodes(b, 4096).slice(2));
    const want = newestInLeaves(b, 4096, cut);
    expect(want.size).toBeGreaterThan(10);
    expect(keys.map((k) => `${k.key}@${k.modRevision}${k.tombstone ? ' deleted' : ''}`).sort()).toEqual(
      [...want].map(([k, r]) => `${k}@${r.main}${r.tombstone ? ' deleted' : ''}`).sort(),
    );
  });
});
