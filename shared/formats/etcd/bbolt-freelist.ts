/**
 * bbolt freelist page (flag 0x10, bbolt v1.3.6 `freelist.go` read): u64 page
 * ids after the header; when count is 0xFFFF the first u64 holds the real
 * count. etcd on Linux never writes one (NoFreelistSync: meta.freelist is
 * 0xFFFF_FFFF_FFFF_FFFF), but a db written by other bbolt users may have one.
 */
import { FREELIST_PAGE_FLAG, PAGE_HEADER_SIZE, pageTypeName, type PageHeader } from './bbolt-page';

export interface FreelistRead {
  ids: number[];
  /** bbolt's own panic text when the page is not a freelist page. */
  panic: string | null;
  problem: string | null;
  /** `problem` as a case of OWN_PROBLEMS['freelist-bounds'] and its params, to say it in any language. */
  problemCase: { kind: 'count-word' | 'claims-fit' | 'claims-max'; params: Record<string, number> } | null;
}

/** Decode the ids of a freelist page span; at most `maxIds` are returned (the rest is reported). Never throws. */
export function decodeFreelist(span: Uint8Array, header: PageHeader, maxIds: number): FreelistRead {
  if ((header.flags & FREELIST_PAGE_FLAG) === 0) {
    return { ids: [], panic: `invalid freelist page: ${header.idBig}, page type is ${pageTypeName(header.flags)}`, problem: null, problemCase: null };
  }
  const dv = new DataView(span.buffer, span.byteOffset, span.length);
  let idx = 0;
  let count = header.count;
  if (count === 0xffff) {
    if (span.length < PAGE_HEADER_SIZE + 8)
      return { ids: [], panic: null, problem: 'freelist count word is past the end of the file', problemCase: { kind: 'count-word', params: {} } };
    const c = dv.getBigUint64(PAGE_HEADER_SIZE, true);
    count = c > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(c);
    idx = 1;
  }
  const fit = Math.floor((span.length - PAGE_HEADER_SIZE) / 8) - idx;
  const n = Math.min(count, fit, maxIds);
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = dv.getBigUint64(PAGE_HEADER_SIZE + (idx + i) * 8, true);
    ids.push(v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v));
  }
  const problemCase: FreelistRead['problemCase'] =
    count > fit ? { kind: 'claims-fit', params: { count, fit: Math.max(0, fit) } } : count > maxIds ? { kind: 'claims-max', params: { count } } : null;
  const problem =
    problemCase?.kind === 'claims-fit'
      ? `freelist claims ${count} ids but its pages hold ${Math.max(0, fit)}`
      : problemCase?.kind === 'claims-max'
        ? `freelist claims ${count} ids, more than the file has pages`
        : null;
  return { ids, panic: null, problem, problemCase };
}
