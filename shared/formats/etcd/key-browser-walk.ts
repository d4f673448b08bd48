/**
 * The walks the key browser is made of: open the db the way bbolt would (the
 * meta it would choose), visit every revision of the `key` bucket, and read
 * back one revision by the page and element it was seen at (the browser keeps
 * only that, never the values).
 */
import type { ByteSource } from '../../bytes/byte-source';
import { decodeLeafElements, type LeafElement } from './bbolt-element';
import { decodePageHeader } from './bbolt-page';
import { headerScanReader, MAX_SPAN_BYTES, openBbolt, readLoneLeaf, walkTree, type OpenedBbolt } from './bbolt-walk';
import { decodeKeyValueFast, keyValueKeyLength, keyValueKeyStart, type KeyValue } from './kv';
import { decodeRevisionKey, type RevisionKey } from './revision';

/**
 * The db opened on the meta bbolt would use. When no meta leads to a tree
 * (`metaLeadsToTree`), the db with `chosenMeta` null and the reader salvage's page size gives
 * (`headerScanReader`): its keys are then those of the leaves found by
 * scanning the pages (`forEachRevision`). A clear error when there are no pages.
 * `recycleReads`: a reader of its own for one walk at a time, which reuses its buffers (bbolt-walk.ts
 * PageReader): what a walk hands on is valid only while it visits that leaf, and its consumers copy what
 * they keep (the index's key arena, the locators' smallest keys). A db of `readAheadMinBytes` (64 MiB) or more
 * is then read ahead by another thread, as the validation walk is.
 */
export async function openForKeys(src: ByteSource, opts: { recycleReads?: boolean; readAheadMinBytes?: number } = {}): Promise<OpenedBbolt> {
  const db = await openBbolt(src, { recycleReads: opts.recycleReads, readAheadMinBytes: opts.readAheadMinBytes });
  const reader = await headerScanReader(src, db);
  // No tree to walk: chosenMeta null is how forEachRevision knows to scan.
  if (reader) return { ...db, chosenMeta: null, reader, pageSize: reader.pageSize };
  if (db.chosenMeta !== null) return db;
  throw new Error(`${src.name}: ${db.empty ? 'the db is empty' : `bbolt cannot open it (${db.openError ?? 'no valid meta page'})`}; its keys cannot be listed`);
}

/** Revisions remembered to drop a freed copy's repeat (a number each, ~30 MB at most); past it, repeats count in a key's history. */
const MAX_SEEN_REVISIONS = 1 << 21;

/** A revision as one number (main < 2^31, sub < 2^21), or null when it does not fit (then it is not remembered). */
function revisionId(rev: RevisionKey): number | null {
  return rev.main < 2 ** 31 && rev.sub < 2 ** 21 ? rev.main * 2 ** 22 + rev.sub * 2 + (rev.tombstone ? 1 : 0) : null;
}

/**
 * Without a tree (`chosenMeta` null): the revisions of every leaf the page
 * scan accepts (`readLoneLeaf`), each revision once though freed copies of a
 * leaf hold it again; the key index keeps the newest per key, as salvage does.
 */
async function forEachScannedRevision(
  db: OpenedBbolt,
  fn: RevisionVisitor,
  onlyKey?: Uint8Array,
  keep?: KeepKey,
  onLeaf?: (page: number, inline: boolean, elements: number) => void,
): Promise<void> {
  const seen = new Set<number>();
  const once: RevisionVisitor = (rev, kv, page, element) => {
    const id = revisionId(rev);
    if (id !== null && seen.has(id)) return;
    if (id !== null && seen.size < MAX_SEEN_REVISIONS) seen.add(id);
    fn(rev, kv, page, element);
  };
  for (let pos = 2; pos < db.reader.filePages; pos++) {
    const leaf = await readLoneLeaf(db.reader, pos);
    if (!leaf) continue;
    if (leaf.elements.some((e) => decodeRevisionKey(e.key) !== null)) {
      onLeaf?.(pos, false, leaf.elements.length);
      visitElements(leaf.elements, pos, once, onlyKey, keep);
    }
    pos += leaf.overflow;
  }
}

type RevisionVisitor = (rev: { main: number; sub: number; tombstone: boolean }, kv: KeyValue, page: number, element: number) => void;

/** Whether the key `bytes[start, end)` is one to visit (a filtered walk): false skips its KeyValue undecoded. */
export type KeepKey = (bytes: Uint8Array, start: number, end: number) => boolean;

function sameBytesAt(b: Uint8Array, start: number, end: number, other: Uint8Array): boolean {
  if (end - start !== other.length) return false;
  for (let i = 0; i < other.length; i++) if (b[start + i] !== other[i]) return false;
  return true;
}

/** The revisions of one leaf's elements, in order (what a walk hands on of a leaf, and a read-back of it). */
function visitElements(elements: LeafElement[], page: number, fn: RevisionVisitor, onlyKey?: Uint8Array, keep?: KeepKey): void {
  for (const e of elements) {
    if (e.problem) continue;
    const rev = decodeRevisionKey(e.key);
    if (!rev) continue;
    if (onlyKey || keep) {
      // The key where it lies in the KeyValue (no view of it: a walk past the index asks this of every revision).
      const v = e.value;
      const start = keyValueKeyStart(v);
      if (start >= 0) {
        const end = start + keyValueKeyLength(v, start);
        if (onlyKey && !sameBytesAt(v, start, end, onlyKey)) continue;
        if (keep && !keep(v, start, end)) continue;
      }
    }
    const kv = decodeKeyValueFast(e.value);
    if (!kv.ok) continue;
    fn(rev, kv.kv, page, e.index);
  }
}

/** Visit every item of the `key` bucket in the chosen meta's tree, or without one the scanned leaves' (of one key only, when `onlyKey` is given). */
export async function forEachRevision(
  db: OpenedBbolt,
  fn: RevisionVisitor,
  onlyKey?: Uint8Array,
  /** Keys to skip before their KeyValue is decoded (a filtered walk): false skips. */
  keep?: KeepKey,
  /** Told of each leaf of the bucket before its revisions: its page, whether it is inline (in its parent's page), its element count. */
  onLeaf?: (page: number, inline: boolean, elements: number) => void,
): Promise<void> {
  if (db.chosenMeta === null) return forEachScannedRevision(db, fn, onlyKey, keep, onLeaf);
  await walkTree(db, db.chosenMeta, {
    enterBucket: (p) => p.length === 1 && p[0] === 'key',
    onLeaf: (leaf) => {
      if (leaf.bucket.length !== 1 || leaf.bucket[0] !== 'key') return;
      onLeaf?.(leaf.page, leaf.inline, leaf.elements.length);
      visitElements(leaf.elements, leaf.page, fn, onlyKey, keep);
    },
  });
}

/** A leaf read back does not hold what the walk saw in it (the file changed, or the walk read it otherwise). */
export class LeafChangedError extends Error {
  constructor(readonly page: number) {
    super(`leaf page ${page} no longer holds the elements the walk saw`);
    this.name = 'LeafChangedError';
  }
}

/**
 * Visit the revisions of the given leaves only (pages the walk saw, in the
 * walk's order, each with the element count it saw: LeafChangedError when
 * one differs), as `forEachRevision` would visit them: a walk of the whole
 * db that skips the other leaves.
 */
export async function forEachRevisionInLeaves(
  db: OpenedBbolt,
  pages: ArrayLike<number>,
  counts: ArrayLike<number>,
  fn: RevisionVisitor,
  keep?: KeepKey,
): Promise<void> {
  for (let i = 0; i < pages.length; i++) {
    const page = pages[i]!;
    const leaf = await leafPage(db, page);
    const elements = leaf ? decodeLeafElements(leaf.span, leaf.count) : null;
    if (!elements || elements.length !== counts[i]) throw new LeafChangedError(page);
    visitElements(elements, page, fn, undefined, keep);
  }
}

/**
 * The bytes of leaf `page` (with its overflow pages), read alone: rows of a
 * key page sit on pages all over the file, and the walk's reader would read
 * (and read ahead) a whole chunk around each.
 */
async function leafPage(db: OpenedBbolt, page: number): Promise<{ span: Uint8Array; count: number } | null> {
  const size = db.reader.pageSize;
  if (page < 0 || page >= db.reader.filePages) return null;
  const first = await db.reader.readPadded(page * size, size);
  const h = decodePageHeader(first);
  if (!h) return null;
  const span =
    h.overflow === 0
      ? first
      : await db.reader.readPadded(page * size, Math.min(h.overflow + 1, db.reader.filePages - page, Math.floor(MAX_SPAN_BYTES / size)) * size);
  return { span, count: h.count };
}

/** The revision and KeyValue stored at leaf `page`, element `element`; null when that element is not one. */
export async function revisionAt(db: OpenedBbolt, page: number, element: number): Promise<{ rev: RevisionKey; kv: KeyValue } | null> {
  const leaf = await leafPage(db, page);
  if (!leaf) return null;
  const e = decodeLeafElements(leaf.span, leaf.count)[element];
  if (!e || e.problem) return null;
  const rev = decodeRevisionKey(e.key);
  const kv = decodeKeyValueFast(e.value);
  return rev && kv.ok ? { rev, kv: kv.kv } : null;
}

/** The value stored at leaf `page`, element `element`. */
export async function valueAt(db: OpenedBbolt, page: number, element: number): Promise<Uint8Array | null> {
  const leaf = await leafPage(db, page);
  if (!leaf) return null;
  const e = decodeLeafElements(leaf.span, leaf.count)[element];
  if (!e || e.problem) return null;
  const kv = decodeKeyValueFast(e.value);
  return kv.ok ? kv.kv.value : null;
}
