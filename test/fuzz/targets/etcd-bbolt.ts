import type { Finding } from '../../../shared/contract/findings';
import { PAGE_CODES } from '../../../shared/contract/etcd';
import { bboltPageDetail, bboltPageMap, forEachLeafItem, inspectBbolt, readBboltPageFacts } from '../../../shared/formats/etcd/bbolt-db';
import { decodeBranchElements, decodeLeafElements } from '../../../shared/formats/etcd/bbolt-element';
import { decodeFreelist } from '../../../shared/formats/etcd/bbolt-freelist';
import { decodeMeta, decodeMetaFields, encodeMetaPage } from '../../../shared/formats/etcd/bbolt-meta';
import { PAGE_HEADER_SIZE, decodePageHeader } from '../../../shared/formats/etcd/bbolt-page';
import { INTERESTING_U64, mutateBytes, type Rng } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { etcdSampleFiles } from './corpus';
import { listKeys } from '../../../shared/formats/etcd/keys';
import { guardedSource } from './etcd-corpus';

const PS = 4096;
const FILE = 'member/snap/db';

function putLE(b: Uint8Array, at: number, v: bigint, width: number): void {
  for (let k = 0; k < width && at + k < b.length; k++) b[at + k] = Number((v >> BigInt(8 * k)) & 0xffn);
}

/** Page ids of one kind (by header flags) in a sample db. */
function pagesWith(db: Uint8Array, mask: number): number[] {
  const out: number[] = [];
  for (let p = 2; (p + 1) * PS <= db.length; p++) if ((db[p * PS + 8] & mask) !== 0) out.push(p);
  return out;
}

/**
 * Mutations aimed at the structure as well as random bytes: a page header
 * field set to an interesting value, the element array of a branch or leaf
 * page (positions, sizes, child ids), a meta field with the checksum
 * recomputed (so bbolt would trust it), or both metas at once.
 */
export function mutateDb(r: Rng, original: Uint8Array): Uint8Array {
  const way = r.int(6);
  if (way === 0) return mutateBytes(r, original, 16 * 1024);
  const b = original.slice();
  const pages = Math.floor(b.length / PS);
  for (let k = 1 + (r.chance(0.3) ? r.int(3) : 0); k > 0; k--) {
    if (way === 1) {
      // Page header: id (8), flags (2), count (2), overflow (4).
      const p = r.int(pages);
      const [at, width] = r.pick([
        [0, 8],
        [8, 2],
        [10, 2],
        [12, 4],
      ] as const);
      const v = at === 8 ? BigInt(r.pick([0, 1, 2, 4, 0x10, 0x12, 0xff, r.int(0x10000)])) : r.pick(INTERESTING_U64);
      putLE(b, p * PS + at, v, width);
    } else if (way === 2 || way === 3) {
      // Element array of a branch (16-byte pos, ksize, pgid) or leaf (flags, pos, ksize, vsize) page.
      const candidates = pagesWith(original, way === 2 ? 0x01 : 0x02);
      if (candidates.length === 0) continue;
      const p = r.pick(candidates);
      const count = original[p * PS + 10] | (original[p * PS + 11] << 8);
      const el = p * PS + PAGE_HEADER_SIZE + 16 * r.int(Math.max(1, Math.min(count, 255)));
      const [at, width] = r.pick([
        [0, 4],
        [4, 4],
        [8, 4],
        [12, 4],
        [8, 8],
      ] as const);
      putLE(b, el + at, r.chance(0.7) ? r.pick(INTERESTING_U64) : BigInt(r.int(pages + 3)), width);
    } else if (way === 4) {
      // A meta field, checksum recomputed: bbolt trusts this meta.
      const m = r.int(2) as 0 | 1;
      const { fields } = decodeMetaFields(b.subarray(m * PS, m * PS + PS));
      const pick = r.int(6);
      const v = r.chance(0.5) ? r.pick(INTERESTING_U64) : BigInt(r.int(pages + 4));
      const next = { ...fields };
      if (pick === 0) next.root = v;
      else if (pick === 1) next.freelist = v;
      else if (pick === 2) next.pgid = v;
      else if (pick === 3) next.txid = v;
      else if (pick === 4) next.pageSize = Number(v & 0xffffffffn);
      else next.flags = Number(v & 0xffffffffn);
      b.set(encodeMetaPage(next, PS, m).subarray(0, PS), m * PS);
    } else {
      // Both metas damaged, or one page zeroed or duplicated over another.
      const p = r.int(pages);
      if (r.chance(0.3)) b.fill(0, 0, 2 * PS);
      else if (r.chance(0.5)) b.fill(0, p * PS, p * PS + PS);
      else b.copyWithin(p * PS, r.int(pages) * PS, r.int(pages) * PS + PS);
    }
  }
  return r.chance(0.15) ? mutateBytes(r, b, 8 * 1024) : b;
}

function checkFindings(findings: readonly Finding[], size: number): void {
  for (const f of findings) {
    if (f.file === null) {
      check(f.offset === null, `${f.code} has an offset but no file`);
      continue;
    }
    check(f.file === FILE, `${f.code} names ${f.file}`);
    if (f.offset !== null)
      check(Number.isSafeInteger(f.offset) && f.offset >= 0 && f.offset <= size, `${f.code} at ${f.offset} outside ${f.file} (${size} bytes)`);
  }
}

export const etcdBbolt: FuzzTarget<Uint8Array, Uint8Array[]> = {
  name: 'etcd-bbolt',
  what: 'bbolt db (member/snap/db): inspectBbolt, page map, page detail, leaf items and the page decoders (header, meta, branch/leaf elements, freelist) on real dbs with page-header, element, meta and random mutations: no throw, problem offsets inside the file, page ids < page count, plain data',
  corpus: () => etcdSampleFiles((n) => n === FILE),
  generate: (r, corpus) => mutateDb(r, r.pick(corpus)),
  run: async (bytes, corpus) => {
    const size = bytes.length;
    const scan = await inspectBbolt(guardedSource(FILE, bytes), FILE);
    const pageCount = scan.info.pageCount;
    const ps = scan.info.pageSize;
    if (ps !== null) check(ps > 0 && pageCount <= Math.ceil(size / Math.min(ps, 512)) + 2, `pageCount ${pageCount} for ${size} bytes of ${ps}-byte pages`);
    checkFindings(scan.findings, size);
    for (const p of scan.info.problems) {
      if (p.offset !== null) check(p.offset >= 0 && p.offset <= size, `problem "${p.text}" at ${p.offset} outside ${size} bytes`);
      // A reference past the end names the bad id it read (its offset is the reference, inside the file); every other problem is on a page of the file.
      if (p.page !== null && p.code !== 'bbolt.page-beyond-file')
        check(p.page >= 0 && p.page < Math.max(pageCount, 1), `problem "${p.text}" on page ${p.page} of ${pageCount}`);
      check(!/referenced by page -/.test(p.text), `problem text "${p.text}" names a negative page`);
    }
    check(scan.info.problems.length <= 1000, `${scan.info.problems.length} problems listed`);
    checkPlain(scan, 'bbolt scan');

    const map = await bboltPageMap(guardedSource(FILE, bytes), FILE);
    const codes = new Set<string>(Object.values(PAGE_CODES));
    for (const ch of new Set(map.codes)) check(codes.has(ch), `page map code ${JSON.stringify(ch)}`);
    check(map.codes.length <= Math.max(2, Math.ceil(size / Math.max(1, map.pageSize ?? 1)) + 1), `page map of ${map.codes.length} pages for ${size} bytes`);
    for (const [a, z] of map.bucketRuns) check(a <= z && z < map.codes.length, `bucket run ${a}..${z} of ${map.codes.length} pages`);
    if (map.byHeaderScan) {
      // No meta leads to a tree: the report, the map and the key browser read the same scanned pages.
      check(scan.info.pagesByHeaderScan === true && map.codes.length === pageCount, `scanned map of ${map.codes.length} pages, report says ${pageCount}`);
      const keys = await listKeys(guardedSource(FILE, bytes), { kind: 'keys', offset: 0, limit: 50 });
      check(keys.items.length <= 50 && keys.total <= size, `${keys.total} keys listed from the scanned leaves of ${size} bytes`);
      checkPlain(keys, 'keys of scanned leaves');
    }

    // A query session reads the page facts once for the map and every page: the same answers as reading them each time.
    const facts = await readBboltPageFacts(guardedSource(FILE, bytes));
    check(JSON.stringify(await bboltPageMap(guardedSource(FILE, bytes), FILE, facts)) === JSON.stringify(map), 'page map from kept facts differs');
    const pages = Math.max(1, map.codes.length);
    for (const page of [size % pages, (size >> 3) % pages, 2, pages, -1]) {
      const d = await bboltPageDetail(guardedSource(FILE, bytes), page);
      check(d.elements.length <= 0xffff, `${d.elements.length} elements on page ${page}`);
      for (const e of d.elements) if (e.childPage !== undefined) check(Number.isSafeInteger(e.childPage) && e.childPage >= 0, `child page ${e.childPage}`);
      checkPlain(d, 'page detail');
      const kept = await bboltPageDetail(guardedSource(FILE, bytes), page, facts);
      check(JSON.stringify(kept) === JSON.stringify(d), `page ${page} from kept facts differs`);
    }

    let items = 0;
    await forEachLeafItem(guardedSource(FILE, bytes), (item) => {
      items++;
      check(item.page >= 0 && item.page < pages, `leaf item on page ${item.page} of ${pages}`);
      check(item.key.length + item.value.length <= size, `item of ${item.key.length}+${item.value.length} bytes in a ${size}-byte file`);
    });
    check(items <= size, `${items} leaf items in ${size} bytes`);

    // Page-level decoders on every page of the raw bytes, as they are called on a damaged file.
    for (let p = 0; p * PS < size && p < 64; p++) {
      const span = bytes.subarray(p * PS, p * PS + PS);
      const h = decodePageHeader(span);
      if (!h) continue;
      if (p < 2) checkPlain(decodeMeta(span, p as 0 | 1), 'meta');
      for (const e of decodeBranchElements(span, h.count)) check(e.key.length <= span.length, 'branch key past the span');
      for (const e of decodeLeafElements(span, h.count)) check(e.key.length + e.value.length <= span.length, 'leaf item past the span');
      const fl = decodeFreelist(span, h, 4096);
      check(fl.ids.length <= 4096, `${fl.ids.length} freelist ids (limit 4096)`);
    }
    void corpus;
  },
  files: (b) => ({ db: b }),
  size: (b) => b.length,
};
