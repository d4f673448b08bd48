/**
 * One bbolt file as etcd 3.4 would see it: `inspectBbolt` (metas, open
 * error, the freepages panic, the tree's problems, page counts, etcd schema,
 * snapshot.db hash), the page map and one page on demand, and, for salvage,
 * every leaf item (reachable from either meta, or orphaned) without trusting
 * the tree.
 */
import type { ByteSource } from '../../bytes/byte-source';
import type { LocalText } from '../../contract/text';
import { translateLocal } from '../../i18n/index';
import type { BboltElementSummary, BboltInfo, BboltPageCounts, BboltPageDetail, BboltPageMap, EtcdSchemaInfo } from '../../contract/etcd';
import { PAGE_CODES } from '../../contract/etcd';
import type { Finding } from '../../contract/findings';
import { throwIfCancelled, type RunOptions } from '../../contract/progress';
import { compareBytes, decodeBranchElements, decodeLeafElements, elementsThatFit } from './bbolt-element';
import {
  BRANCH_PAGE_FLAG,
  BUCKET_LEAF_FLAG,
  decodePageHeader,
  FREELIST_PAGE_FLAG,
  isBranch,
  LEAF_PAGE_FLAG,
  META_PAGE_FLAG,
  pageTypeName,
  printable,
  toHex,
} from './bbolt-page';
import {
  faultText,
  hasHashTrailer,
  headerScanReader,
  openBbolt,
  readLoneLeaf,
  Reach,
  revertibleMeta,
  walkTree,
  type LeafVisit,
  type OpenedBbolt,
  type WalkProblem,
  type WalkResult,
} from './bbolt-walk';
import { decodeKeyValue, keyValueKeyLength, keyValueKeyStart } from './kv';
import { BucketSeeker } from './bbolt-seek';
import { decodeRevisionKey } from './revision';
import { DEFAULT_QUOTA_BYTES, SchemaCollector, type SchemaCollectorOptions } from './schema';
import { checkSnapshotHash, restoreHashError } from './snapshot-db';
import { bboltFinding } from './bbolt-text';

const utf8 = new TextDecoder('utf-8', { fatal: false });

export interface BboltScan {
  info: BboltInfo;
  schema: EtcdSchemaInfo | null;
  findings: Finding[];
  bytesRead: number;
}

/** Problem findings listed one by one (the rest are in `info.problems` / counted). */
const MAX_PROBLEM_FINDINGS = 20;

/** Page counts by code: `codeAt(i)` for every page of the file; no codes (nothing read) counts the two metas. */
function counts(pageCount: number, codeAt: ((pos: number) => string) | null): BboltPageCounts {
  const c: BboltPageCounts = { meta: 0, branch: 0, leaf: 0, freelist: 0, overflow: 0, free: 0, damaged: 0, beyond: 0 };
  if (!codeAt) {
    c.meta = Math.min(2, pageCount);
    return c;
  }
  for (let i = 0; i < pageCount; i++) {
    const code = codeAt(i);
    switch (code) {
      case PAGE_CODES.meta:
        c.meta++;
        break;
      case PAGE_CODES.branch:
        c.branch++;
        break;
      case PAGE_CODES.leaf:
        c.leaf++;
        break;
      case PAGE_CODES.freelist:
        c.freelist++;
        break;
      case PAGE_CODES.overflow:
        c.overflow++;
        break;
      case PAGE_CODES.free:
        c.free++;
        break;
      case PAGE_CODES.beyond:
        c.beyond++;
        break;
      default:
        c.damaged++;
    }
  }
  return c;
}

/**
 * A db no meta leads to a tree of (`metaLeadsToTree`): its pages as their own
 * headers say, read with the page size salvage settles on (`settledPageSize`).
 * Null when a meta leads to a tree (the walk says what each page is) or there
 * is nothing to scan.
 */
export interface HeaderScan {
  reader: OpenedBbolt['reader'];
  /** `PAGE_CODES` per page position, from each page's header alone. */
  codes: string;
}

function allZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * Every page coloured by its own header: a meta page at 0/1 that validates,
 * branch, leaf, freelist at the position its header names, the pages an
 * `overflow` > 0 header covers (when they are inside the file), a page of
 * zeros as free (never written, or preallocated), anything else damaged.
 * One header read per page (overflow pages skipped); never throws on content.
 */
export async function scanPageHeaders(src: ByteSource, db: OpenedBbolt, signal?: AbortSignal): Promise<HeaderScan | null> {
  const reader = await headerScanReader(src, db);
  if (!reader) return null;
  const n = reader.filePages;
  const codes = new Array<string>(n);
  for (let pos = 0; pos < n; pos++) {
    if ((pos & 0xfff) === 0) throwIfCancelled(signal);
    const first = await reader.span(pos);
    const h = decodePageHeader(first);
    if (pos < 2) {
      codes[pos] = h && h.flags === META_PAGE_FLAG && db.metas[pos]?.ok ? PAGE_CODES.meta : PAGE_CODES.damaged;
      continue;
    }
    if (!h || !h.idExact || h.id !== pos) {
      codes[pos] = h && h.idExact && h.id === 0 && h.flags === 0 && allZero(first) ? PAGE_CODES.free : PAGE_CODES.damaged;
      continue;
    }
    const code =
      h.flags === BRANCH_PAGE_FLAG
        ? PAGE_CODES.branch
        : h.flags === LEAF_PAGE_FLAG
          ? PAGE_CODES.leaf
          : h.flags === FREELIST_PAGE_FLAG
            ? PAGE_CODES.freelist
            : PAGE_CODES.damaged;
    // An overflow past the end of the file is the header's own damage: the pages after it speak for themselves.
    if (h.overflow > 0 && h.overflow < n - pos) {
      codes[pos] = code;
      for (let k = 1; k <= h.overflow; k++) codes[pos + k] = PAGE_CODES.overflow;
      pos += h.overflow;
    } else codes[pos] = h.overflow > 0 ? PAGE_CODES.damaged : code;
  }
  return { reader, codes: codes.join('') };
}

/** Leaves of `key` whose revisions are checked with the seek model at most (a damaged branch can put a whole tree under suspicion). */
const MAX_SUSPECT_LEAVES = 20_000;

/** A read revision bbolt cannot find: its key (bytes, for key order), revision, leaf page (null: not known) and why. */
interface UnreadableRead {
  key: Uint8Array;
  main: number;
  sub: number | bigint;
  page: number | null;
  cause: 'order' | 'form';
}

/** A read revision bbolt finds twice (its key equals a neighbour's): the seek lands on the other element. */
interface WrongRead {
  /** The key read (the name in its own value), bytes for key order. */
  key: Uint8Array;
  /** The name in the value the seek lands on: what etcd serves for `key`. */
  served: Uint8Array;
  main: number;
  sub: number;
  page: number;
}

/** What etcd's reads meet after it has started: the first read that kills it, and the first that serves another key's value. */
export interface ReadsAfterStart {
  fatal: NonNullable<BboltInfo['readFatal']> | null;
  wrong: NonNullable<BboltInfo['wrongRead']> | null;
  older: NonNullable<BboltInfo['olderRead']> | null;
}

/** A key's name for a finding: as text, long ones cut. */
function keyName(key: Uint8Array): string {
  const name = utf8.decode(key);
  return name.length > 200 ? `${name.slice(0, 200)}…` : name;
}

/**
 * Where etcd, having started, dies on a read or reads the wrong value: the revisions its key index reads (a live
 * key's newest, at its current revision) that bbolt's seek cannot find, or finds on another element. Two causes
 * of an unfound revision: a revision key stored in another form (byte 8 not '_'), and keys out of order in the
 * `key` bucket (only the leaves under such a problem are suspects); a wrong value comes from a revision key
 * damaged into its neighbour's (two equal keys: the seek lands on the first). Each named by the one a read of
 * everything meets first (ranges go in key order, as the apiserver lists by key prefix), with how many there are.
 * Null when none, when etcd stops before (freepages, mvcc restore), or when the model cannot say (too many
 * suspect leaves).
 */
export async function readsAfterStart(db: OpenedBbolt, walk: WalkResult, collector: SchemaCollector, signal?: AbortSignal): Promise<ReadsAfterStart> {
  if (walk.crash || collector.mvccRestoreError) return { fatal: null, wrong: null, older: null };
  const found: UnreadableRead[] = collector.unseekableReads(1_000_000).map((u) => ({ ...u, page: null, cause: 'form' }));
  const disordered = await outOfOrderReads(db, walk, collector, signal);
  found.push(...disordered.unreadable);
  let first: UnreadableRead | null = null;
  for (const u of found) if (!first || compareBytes(u.key, first.key) < 0) first = u;
  let firstWrong: WrongRead | null = null;
  for (const w of disordered.wrong) if (!firstWrong || compareBytes(w.key, firstWrong.key) < 0) firstWrong = w;
  const above = collector.revisionsAboveCurrent();
  return {
    older: above.first
      ? { key: keyName(above.first.key), main: above.first.main, current: collector.restoredRevision, tombstone: above.first.tombstone, count: above.count }
      : null,
    fatal: first
      ? {
          text: `range cannot find rev (${first.main},${first.sub})`,
          key: keyName(first.key),
          page: first.page ?? 0,
          unreadable: found.length,
          cause: first.cause,
        }
      : null,
    wrong: firstWrong
      ? {
          key: keyName(firstWrong.key),
          servedKey: keyName(firstWrong.served),
          main: firstWrong.main,
          sub: firstWrong.sub,
          page: firstWrong.page,
          count: disordered.wrong.length,
        }
      : null,
  };
}

/**
 * What etcd's reads meet after it has started, as findings: keys read as they were before their newest revision,
 * a key served another's value, and the read that kills it (with etcd's own text).
 */
function readFindings(reads: ReadsAfterStart, file: string, pageSize: number): Finding[] {
  const out: Finding[] = [];
  const { older, wrong, fatal } = reads;
  if (older)
    out.push(
      bboltFinding({
        severity: 'error',
        code: 'etcd.read-older-state',
        file,
        offset: null,
        ...(older.tombstone ? { variant: 'deleted' } : {}),
        params: { file, key: older.key, revision: older.main, current: older.current, count: older.count },
      }),
    );
  if (wrong)
    out.push(
      bboltFinding({
        severity: 'error',
        code: 'etcd.read-wrong-value',
        file,
        offset: wrong.page * pageSize,
        params: { file, key: wrong.key, served: wrong.servedKey, page: wrong.page, count: wrong.count, revision: `${wrong.main}_${wrong.sub}` },
      }),
    );
  if (fatal)
    out.push(
      bboltFinding({
        severity: 'error',
        code: 'etcd.range-cannot-find',
        file,
        offset: fatal.cause === 'order' ? fatal.page * pageSize : null,
        params: { file, text: fatal.text, key: fatal.key, page: fatal.page, count: fatal.unreadable },
        ...(fatal.cause === 'form' ? { variant: 'form' } : {}),
        engineError: fatal.text,
      }),
    );
  return out;
}

/** The name in a KeyValue (field 1), empty when it does not read. */
function nameInValue(value: Uint8Array): Uint8Array {
  const start = keyValueKeyStart(value);
  return start < 0 ? new Uint8Array(0) : value.slice(start, start + keyValueKeyLength(value, start));
}

/**
 * The read revisions in leaves under a key-order problem of `key` that the emulated seek does not find
 * (`unreadable`), or finds on another element holding another value (`wrong`).
 */
async function outOfOrderReads(
  db: OpenedBbolt,
  walk: WalkResult,
  collector: SchemaCollector,
  signal?: AbortSignal,
): Promise<{ unreadable: UnreadableRead[]; wrong: WrongRead[] }> {
  const none = { unreadable: [], wrong: [] };
  if (collector.keyBucketRoot === null) return none;
  const keyBucket = walk.buckets.indexOf('key') + 1;
  if (keyBucket === 0) return none;
  const disordered = new Set<number>();
  for (const p of walk.problems) if (p.code === 'bbolt.key-order' && p.page !== null && walk.bucketOf[p.page] === keyBucket) disordered.add(p.page);
  if (disordered.size === 0) return none;
  // Every leaf of the bucket with a disordered page on its way up (itself, or a branch above it).
  const suspects: number[] = [];
  for (let pos = 0; pos < walk.reach.length; pos++) {
    if (walk.reach[pos] !== Reach.Leaf || walk.bucketOf[pos] !== keyBucket) continue;
    let up = pos;
    for (let depth = 0; depth < 64 && up >= 0; depth++) {
      if (disordered.has(up)) {
        suspects.push(pos);
        break;
      }
      up = walk.parent[up]! - 1;
    }
    if (suspects.length > MAX_SUSPECT_LEAVES) return none;
  }
  const seeker = new BucketSeeker(db.reader, collector.keyBucketRoot);
  const leafElements = async (pos: number) => {
    const head = decodePageHeader(await db.reader.span(pos));
    return head ? decodeLeafElements(await db.reader.span(pos, head.overflow + 1), head.count) : [];
  };
  const unreadable: UnreadableRead[] = [];
  const wrong: WrongRead[] = [];
  for (const pos of suspects) {
    throwIfCancelled(signal);
    for (const [i, e] of (await leafElements(pos)).entries()) {
      if (e.problem || !collector.isReadRevision(e.key, e.value)) continue;
      const landed = await seeker.seek(e.key);
      const rev = decodeRevisionKey(e.key)!;
      if (!landed) {
        unreadable.push({ key: nameInValue(e.value), main: rev.main, sub: rev.sub, page: pos, cause: 'order' });
        continue;
      }
      if (landed.page === pos && landed.index === i) continue;
      const other = (await leafElements(landed.page))[landed.index];
      if (other && compareBytes(other.value, e.value) === 0) continue;
      wrong.push({ key: nameInValue(e.value), served: other ? nameInValue(other.value) : new Uint8Array(0), main: rev.main, sub: rev.sub, page: pos });
    }
  }
  return { unreadable, wrong };
}

/**
 * The race behind a freepages panic over a page that is neither branch nor leaf (a branch element pointing at a
 * meta or freelist page: `page 0: invalid type: meta`). bbolt 1.3.6 sends that error to another goroutine to panic
 * and goes on with the same bucket's ForEach, whose cursor takes the page for a branch and descends into its first
 * element's child without looking at the count (cursor.go first()). When that child lies past the end of the file,
 * the read faults (SIGBUS inside etcd's mapping, SIGSEGV past it), and on a busy machine it can come before the
 * panic: that page id and the runtime's words for the fault are returned then, else null (the walk stays in the
 * file: nothing can be said of what it reads).
 */
async function walkOnFaults(db: OpenedBbolt, p: WalkProblem): Promise<{ child: string; fault: string } | null> {
  if (p.code !== 'bbolt.invalid-type' || p.page === null || p.page < 0 || p.page >= db.reader.filePages) return null;
  const page = await db.reader.span(p.page);
  // The first branch element: pos (4), ksize (4), pgid (8) after the 16-byte page header.
  if (page.length < 32) return null;
  const child = new DataView(page.buffer, page.byteOffset, page.byteLength).getBigUint64(24, true);
  if (child < BigInt(db.reader.filePages)) return null;
  return { child: child.toString(), fault: faultText(child, db.pageSize, db.dbSize) };
}

function pageCode(walk: WalkResult, pos: number): string {
  const r = walk.reach[pos];
  if (r === Reach.Meta) return PAGE_CODES.meta;
  if (walk.refs[pos]! > 1) return PAGE_CODES.multiplyReferenced;
  switch (r) {
    case Reach.Branch:
      return PAGE_CODES.branch;
    case Reach.Leaf:
      return PAGE_CODES.leaf;
    case Reach.Overflow:
      return PAGE_CODES.overflow;
    case Reach.Freelist:
      return PAGE_CODES.freelist;
    case Reach.Damaged:
      return PAGE_CODES.damaged;
  }
  if (pos >= walk.highWaterMark) return PAGE_CODES.beyond;
  return walk.freed[pos] ? PAGE_CODES.free : PAGE_CODES.damaged;
}

/** Inspect a bbolt file (member/snap/db, a `<index>.snap.db`, or a snapshot.db with trailer). Never throws on content. */
export async function inspectBbolt(
  src: ByteSource,
  file: string,
  opts: RunOptions & { snapshotDb?: boolean; readAheadMinBytes?: number; mayReadAhead?: () => boolean } & SchemaCollectorOptions = {},
): Promise<BboltScan> {
  // The schema collector copies what it keeps from a leaf, so the reader may reuse its buffers.
  const db = await openBbolt(src, {
    snapshotDb: opts.snapshotDb,
    recycleReads: true,
    readAheadMinBytes: opts.readAheadMinBytes,
    mayReadAhead: opts.mayReadAhead,
  });
  try {
    return await inspectOpened(src, file, db, opts);
  } finally {
    // A read-ahead thread stops here, whatever ended the inspection (a cancel, an I/O error).
    db.reader.close();
  }
}

async function inspectOpened(
  src: ByteSource,
  file: string,
  db: OpenedBbolt,
  opts: RunOptions & { snapshotDb?: boolean } & SchemaCollectorOptions,
): Promise<BboltScan> {
  const findings: Finding[] = [];
  const ps = db.pageSize;
  if (opts.onProgress) {
    // The walk reads each page about once per walked meta; report against the db size.
    const step = Math.min(4 * 1024 * 1024, Math.max(256 * 1024, db.dbSize / 100));
    let last = -step;
    db.reader.onRead = (n) => {
      if (n - last < step) return;
      last = n;
      opts.onProgress!({ phase: 'bbolt', bytesDone: Math.min(n, db.dbSize), bytesTotal: db.dbSize, currentFile: file });
    };
    // What opening read already (the first chunk: all of a small db) is the first report.
    if (db.reader.bytesRead > 0) db.reader.onRead(db.reader.bytesRead);
  }
  const info: BboltInfo = {
    file,
    size: src.size,
    pageSize: db.metas.length ? ps : null,
    pageCount: db.reader.filePages,
    metas: db.metas.map(({ fields: _f, ...m }) => m),
    chosenMeta: db.chosenMeta,
    openError: db.openError,
    freepagesPanic: null,
    problems: [],
    problemCount: 0,
    otherMetaTreeOk: null,
    pages: counts(db.reader.filePages, null),
  };
  let schema: EtcdSchemaInfo | null = null;
  let hashBytes = 0;

  if (db.empty) {
    findings.push(bboltFinding({ severity: 'warning', code: 'bbolt.empty-file', file, offset: 0, params: { file } }));
  } else if (db.openError) {
    findings.push(
      bboltFinding({
        severity: 'error',
        code: 'bbolt.open-error',
        file,
        offset: 0,
        params: { file, size: src.size, error: db.openError },
        engineError: db.openError,
      }),
    );
  }
  for (const m of db.metas) {
    if (!m.ok && !db.openError) {
      findings.push(
        bboltFinding({
          severity: 'warning',
          code: 'bbolt.meta-invalid',
          file,
          offset: m.page * ps + 16,
          params: { file, page: m.page, error: m.error ?? '' },
          engineError: m.error ?? undefined,
        }),
      );
    }
  }
  if (db.chosenMeta !== null) {
    const chosen = db.metas[db.chosenMeta]!;
    const other = db.metas[1 - db.chosenMeta]!;
    if (!other.ok && other.fields.txid > chosen.fields.txid) {
      findings.push(
        bboltFinding({
          severity: 'warning',
          code: 'bbolt.meta-fallback',
          file,
          offset: db.chosenMeta * ps,
          params: { page: db.chosenMeta, txid: chosen.txid },
        }),
      );
    }
    const collector = new SchemaCollector(file, ps, { keySetBudgetBytes: opts.keySetBudgetBytes });
    const walk = await walkTree(db, db.chosenMeta, { onLeaf: collector.onLeaf, plainLeaves: collector.plainKeyLeaves, signal: opts.signal });
    throwIfCancelled(opts.signal);
    info.problems = walk.problems.map(({ kind: _k, ...p }) => p);
    info.problemCount = walk.problemCount;
    info.freepagesPanic = walk.crash;
    info.pages = counts(db.reader.filePages, (i) => pageCode(walk, i));
    const otherMeta = (1 - db.chosenMeta) as 0 | 1;
    if (other.ok)
      info.otherMetaTreeOk = revertibleMeta(db, otherMeta) && (await walkTree(db, otherMeta, { signal: opts.signal, reuse: walk })).problemCount === 0;
    throwIfCancelled(opts.signal);
    /** A walk problem as a finding of its own (an error unless only this walk sees it), with what etcd says for it. */
    const problemFinding = (p: WalkProblem, engineError: string | null): Finding =>
      bboltFinding({
        severity: p.kind === 'extra' ? 'warning' : 'error',
        code: p.code,
        file,
        offset: p.offset,
        params: { file, text: p.text, page: p.page ?? -1, ...p.params },
        ...(p.variant ? { variant: p.variant } : {}),
        ...(engineError !== null ? { engineError } : {}),
      });
    // Go's own panic in etcd's goroutine, no race with anything: the problem in our words says where and why.
    if (walk.crash && walk.crashProblem!.kind === 'panic') findings.push(problemFinding(walk.crashProblem!, walk.crash));
    else if (walk.crash) {
      const p = walk.crashProblem!;
      const fault = p.kind === 'fault';
      const race = fault ? null : await walkOnFaults(db, p);
      findings.push(
        bboltFinding({
          severity: 'error',
          code: fault ? 'bbolt.freepages-fault' : 'bbolt.freepages-panic',
          file,
          offset: p.offset ?? (p.page !== null ? p.page * ps : null),
          // A crash in our own words (page beyond the file, ...) is a case of its own, with that problem's numbers.
          params: {
            file,
            text: walk.crash,
            detail: p.text,
            meta: db.chosenMeta,
            page: p.page ?? -1,
            ...p.params,
            ...(race ?? {}),
          },
          ...(fault
            ? p.variant
              ? { variant: `${p.code.slice('bbolt.'.length)}.${p.variant}` }
              : {}
            : info.otherMetaTreeOk || race !== null
              ? { variant: [info.otherMetaTreeOk ? 'revert' : '', race !== null ? 'race' : ''].filter(Boolean).join('-') }
              : {}),
          engineError: walk.crash,
        }),
      );
    }
    let listed = 0;
    for (const p of walk.problems) {
      if (p === walk.crashProblem || listed >= MAX_PROBLEM_FINDINGS) continue;
      listed++;
      findings.push(problemFinding(p, p.kind === 'bbolt' ? p.text : null));
    }
    const reads = await readsAfterStart(db, walk, collector, opts.signal);
    info.readFatal = reads.fatal;
    info.wrongRead = reads.wrong;
    info.olderRead = reads.older;
    findings.push(...readFindings(reads, file, ps));
    schema = collector.finish();
    findings.push(...collector.findings);
    info.mvccRestoreError = walk.crash ? null : collector.mvccRestoreError;
    if (info.mvccRestoreError) {
      findings.push(
        bboltFinding({
          severity: 'error',
          code: 'etcd.mvcc-restore',
          file,
          offset: null,
          params: { file, text: info.mvccRestoreError },
          engineError: info.mvccRestoreError,
        }),
      );
    }
    for (const a of schema.alarms) {
      findings.push(
        bboltFinding({
          severity: 'warning',
          code: a.alarm === 'NOSPACE' ? 'etcd.alarm-nospace' : a.alarm === 'CORRUPT' ? 'etcd.alarm-corrupt' : 'etcd.alarm-other',
          file,
          offset: null,
          params: { alarm: a.alarm, member: a.memberId },
        }),
      );
    }
    const used = walk.highWaterMark * ps;
    if (used >= DEFAULT_QUOTA_BYTES * 0.8) {
      findings.push(
        bboltFinding({
          severity: used >= DEFAULT_QUOTA_BYTES ? 'error' : 'warning',
          code: 'etcd.db-near-quota',
          file,
          offset: null,
          params: { used, quota: DEFAULT_QUOTA_BYTES, percent: Math.round((used / DEFAULT_QUOTA_BYTES) * 100) },
        }),
      );
    }
  }
  const scan = await scanPageHeaders(src, db, opts.signal);
  if (scan) {
    // No meta leads to a tree: what is in the file is what the pages' own headers say (the page map reads it the same way).
    info.pagesByHeaderScan = true;
    info.pageSize = scan.reader.pageSize;
    info.pageCount = scan.reader.filePages;
    info.pages = counts(scan.codes.length, (i) => scan.codes[i]!);
  }
  if (opts.snapshotDb ?? hasHashTrailer(src.size)) {
    const { hash, bytesRead } = await checkSnapshotHash(src, opts.signal);
    hashBytes = bytesRead;
    info.sha256 = hash;
    const err = restoreHashError(hash);
    if (hash.present && hash.ok === false) {
      findings.push(
        bboltFinding({
          severity: 'error',
          code: 'snapshot-db.hash-mismatch',
          file,
          offset: src.size - 32,
          params: { file, error: err ?? '', stored: hash.stored ?? '', computed: hash.computed ?? '' },
          engineError: err ?? undefined,
        }),
      );
    } else if (!hash.present) {
      findings.push(bboltFinding({ severity: 'info', code: 'snapshot-db.no-hash', file, offset: null, params: { file }, engineError: err ?? undefined }));
    }
  }
  const scanBytes = scan && scan.reader !== db.reader ? scan.reader.bytesRead : 0;
  return { info, schema, findings, bytesRead: db.reader.bytesRead + scanBytes + hashBytes };
}

/**
 * What the page map and each page's detail are read from: the db opened, and
 * either the walk of the tree bbolt would use or, when no meta leads to a
 * tree, every page header scanned. A caller that answers many page queries on
 * one db (a query session) reads these once: on a 1 GiB db the walk is ~0.5 s,
 * which each click on a page used to pay again.
 */
export interface BboltPageFacts {
  db: OpenedBbolt;
  /** Set when no meta leads to a tree: the pages as their own headers say. */
  scan: HeaderScan | null;
  /** The chosen meta's walk; null with `scan`, or when no meta validates. */
  walk: WalkResult | null;
}

export async function readBboltPageFacts(src: ByteSource): Promise<BboltPageFacts> {
  const db = await openBbolt(src);
  const scan = await scanPageHeaders(src, db);
  const walk = !scan && db.chosenMeta !== null ? await walkTree(db, db.chosenMeta) : null;
  return { db, scan, walk };
}

/** The page map of the tree bbolt would use (per page position one `PAGE_CODES` char). */
export async function bboltPageMap(src: ByteSource, file: string, facts?: BboltPageFacts): Promise<BboltPageMap> {
  const { db, scan, walk } = facts ?? (await readBboltPageFacts(src));
  const n = db.reader.filePages;
  if (scan) return { file, pageSize: scan.reader.pageSize, codes: scan.codes, bucketRuns: [], byHeaderScan: true };
  if (!walk) {
    return { file, pageSize: db.pageSize, codes: (n > 0 ? 'x' : '').repeat(Math.min(n, 2)) + PAGE_CODES.damaged.repeat(Math.max(0, n - 2)), bucketRuns: [] };
  }
  const codes: string[] = [];
  for (let i = 0; i < n; i++) codes.push(pageCode(walk, i));
  const bucketRuns: [number, number, string][] = [];
  let run: [number, number, string] | null = null;
  for (let i = 0; i < n; i++) {
    const b = walk.bucketOf[i]!;
    const name = b ? walk.buckets[b - 1]! || '(root)' : null;
    if (name !== null && run && run[2] === name && run[1] === i - 1) run[1] = i;
    else if (name !== null) {
      run = [i, i, name];
      bucketRuns.push(run);
    } else run = null;
  }
  return { file, pageSize: db.pageSize, codes: codes.join(''), bucketRuns };
}

function elementKey(k: Uint8Array): { key: string; keyHex: string } {
  return { key: printable(k, 1024) ?? toHex(k, 256), keyHex: toHex(k, 1024) };
}

/** One page, decoded, with where the walk of the chosen meta found it. Out-of-file pages give a page with a problem. */
export async function bboltPageDetail(src: ByteSource, page: number, facts?: BboltPageFacts): Promise<BboltPageDetail> {
  // No meta leads to a tree (`scan`): the page is read as the page map found it by scanning headers (its page size, its overflow runs).
  const { db, scan, walk } = facts ?? (await readBboltPageFacts(src));
  const reader = scan?.reader ?? db.reader;
  const ps = reader.pageSize;
  const base: BboltPageDetail = {
    id: page,
    headerId: 0,
    offset: page * ps,
    type: 'unknown<00>',
    flags: 0,
    count: 0,
    overflow: 0,
    parent: null,
    bucket: null,
    elements: [],
    problems: [],
    problemTexts: [],
  };
  const problem = (d: BboltPageDetail, text: LocalText, first = false) => {
    const english = translateLocal('en', text);
    if (first) {
      d.problems.unshift(english);
      d.problemTexts.unshift(text);
    } else {
      d.problems.push(english);
      d.problemTexts.push(text);
    }
  };
  if (!Number.isSafeInteger(page) || page < 0 || page >= reader.filePages) {
    const out = { ...base, problems: [], problemTexts: [] };
    problem(out, { key: 'bbolt-page.beyond-file', params: { page, pages: reader.filePages } });
    return out;
  }
  const first = await reader.span(page);
  const h = decodePageHeader(first)!;
  const detail: BboltPageDetail = { ...base, headerId: h.id, type: pageTypeName(h.flags), flags: h.flags, count: h.count, overflow: h.overflow };
  if (h.id !== page) problem(detail, { key: 'bbolt-page.header-id', params: { header: String(h.idBig) } });
  if (walk) {
    const p = walk.parent[page]!;
    detail.parent = p > 0 ? p - 1 : null;
    const b = walk.bucketOf[page]!;
    detail.bucket = b ? walk.buckets[b - 1]! : null;
    for (const pr of walk.problems)
      if (pr.page === page || (pr.offset !== null && Math.floor(pr.offset / ps) === page)) {
        // Ours in a template (the same English as pr.text); bbolt's own wording quoted as it is.
        detail.problems.push(pr.text);
        detail.problemTexts.push(
          pr.variant && pr.params
            ? { key: `bbolt-problem.${pr.code.replace(/^bbolt\./, '')}.${pr.variant}`, params: pr.params }
            : { key: 'bbolt-page.bbolt-says', params: { text: pr.text } },
        );
      }
    if (walk.reach[page] === Reach.Overflow && detail.parent !== null) {
      // A continuation page: its first bytes are the owner's data, not a header.
      const out: BboltPageDetail = { ...detail, headerId: page, type: pageTypeName(0), flags: 0, count: 0, overflow: 0 };
      problem(out, { key: 'bbolt-page.overflow-of', params: { from: (page - detail.parent) * ps, owner: detail.parent } }, true);
      return out;
    }
  }
  if (scan) {
    const meta = page < 2 ? db.metas[page] : undefined;
    if (meta && !meta.ok && meta.error) problem(detail, { key: 'bbolt-page.bbolt-says', params: { text: meta.error } });
    if (scan.codes[page] === PAGE_CODES.overflow) {
      let owner = page - 1;
      while (owner > 2 && scan.codes[owner] === PAGE_CODES.overflow) owner--;
      const out: BboltPageDetail = {
        ...detail,
        headerId: page,
        type: pageTypeName(0),
        flags: 0,
        count: 0,
        overflow: 0,
        parent: owner,
        problems: [],
        problemTexts: [],
      };
      problem(out, { key: 'bbolt-page.overflow-of', params: { from: (page - owner) * ps, owner } });
      return out;
    }
  }
  if (page < 2 || (h.flags & 0x03) === 0) return detail;
  const span = h.overflow === 0 ? first : await reader.span(page, h.overflow + 1);
  if (elementsThatFit(h.count, span.length) < h.count)
    problem(detail, { key: 'bbolt-page.elements-do-not-fit', params: { count: h.count, bytes: span.length } });
  const els: BboltElementSummary[] = [];
  if (isBranch(h.flags)) {
    for (const e of decodeBranchElements(span, h.count)) {
      const el: BboltElementSummary = { index: e.index, ...elementKey(e.key), childPage: e.child, problem: e.problem };
      if (e.problem !== null)
        el.problemText = { key: 'bbolt-page.element.branch-key', params: { index: e.index, ksize: e.keySize, pos: e.keyPos, bytes: span.length } };
      els.push(el);
    }
  } else {
    for (const e of decodeLeafElements(span, h.count)) {
      const el: BboltElementSummary = {
        index: e.index,
        ...elementKey(e.key),
        valueSize: e.value.length,
        bucket: (e.flags & BUCKET_LEAF_FLAG) !== 0,
        problem: e.problem,
      };
      if (e.problem !== null)
        el.problemText = {
          key: 'bbolt-page.element.leaf-kv',
          params: { index: e.index, ksize: e.keySize, vsize: e.valueSize, pos: e.keyPos, bytes: span.length },
        };
      els.push(el);
    }
  }
  detail.elements = els;
  return detail;
}

/** The walk of one meta's tree (for salvage and the revert-meta-page decision). Null when the file does not open. */
export async function readMetaTree(
  src: ByteSource,
  meta: 0 | 1,
  opts: { onLeaf?: (leaf: LeafVisit) => void | Promise<void>; signal?: AbortSignal } = {},
): Promise<WalkResult | null> {
  const db = await openBbolt(src);
  if (db.metas.length < 2 || db.empty) return null;
  return walkTree(db, meta, opts);
}

export interface LeafItem {
  page: number;
  reachable: boolean;
  /** Bucket path joined with '/' (reachable), or the bucket the key shape suggests (orphaned); null = root / unknown. */
  bucket: string | null;
  key: Uint8Array;
  value: Uint8Array;
  flags: number;
}

/** The bucket an orphaned item most likely came from, by the shape of its key and value. */
export function guessBucket(key: Uint8Array, value: Uint8Array, flags: number): string | null {
  if (flags & BUCKET_LEAF_FLAG) return null;
  if (decodeRevisionKey(key) && decodeKeyValue(value).ok) return 'key';
  const k = printable(key, 64);
  if (k === 'consistent_index' || k === 'term' || k === 'finishedCompactRev' || k === 'scheduledCompactRev' || k === 'confState' || k === 'storageVersion')
    return 'meta';
  if (k === 'clusterVersion' || k === 'downgrade') return 'cluster';
  if (k === 'authEnabled' || k === 'authRevision') return 'auth';
  if (k && /^[0-9a-f]{1,16}$/.test(k)) {
    if (value.length > 0 && value[0] === 0x7b) return 'members';
    if (printable(value, 16) === 'removed') return 'members_removed';
  }
  if (key.length === 8 && value.length > 0 && value[0] === 0x08) return 'lease';
  return null;
}

/**
 * Every leaf item in the file, without trusting the tree: first the tree of
 * the meta bbolt would use, then the other meta's (pages not seen yet), then
 * every page 2..end not reached, accepted as a leaf when its header says leaf
 * at its own position and its elements fit and are in order.
 */
export async function forEachLeafItem(
  src: ByteSource,
  onItem: (item: LeafItem) => void | Promise<void>,
  opts: { signal?: AbortSignal } = {},
): Promise<{ reachablePages: number; orphanPages: number }> {
  const db = await openBbolt(src);
  const n = db.reader.filePages;
  const seen = new Uint8Array(n);
  let reachablePages = 0;
  let orphanPages = 0;
  const emitWalk = async (leaf: LeafVisit) => {
    if (!leaf.inline) {
      if (seen[leaf.page]) return;
      seen[leaf.page] = 1;
      reachablePages++;
    }
    const bucket = leaf.bucket.length ? leaf.bucket.join('/') : null;
    for (const e of leaf.elements) if (!e.problem) await onItem({ page: leaf.page, reachable: true, bucket, key: e.key, value: e.value, flags: e.flags });
  };
  if (!db.empty && db.metas.length === 2) {
    const order: (0 | 1)[] = db.chosenMeta === 1 ? [1, 0] : [0, 1];
    for (const m of order) {
      const meta = db.metas[m]!;
      if (!meta.ok && db.chosenMeta !== null) continue;
      const before = seen.slice();
      await walkTree(db, m, {
        signal: opts.signal,
        onLeaf: async (leaf) => {
          // An inline bucket is emitted with its parent leaf: only when that leaf is new in this walk.
          if (leaf.inline && before[leaf.page]) return;
          await emitWalk(leaf);
        },
      });
    }
  }
  for (let pos = 2; pos < n; pos++) {
    if (opts.signal?.aborted) break;
    if (seen[pos]) continue;
    const leaf = await readLoneLeaf(db.reader, pos);
    if (!leaf) continue;
    const els = leaf.elements;
    orphanPages++;
    for (const e of els) {
      await onItem({ page: pos, reachable: false, bucket: guessBucket(e.key, e.value, e.flags), key: e.key, value: e.value, flags: e.flags });
      // Inline buckets in an orphaned root leaf: their items, with the bucket's name.
      if ((e.flags & BUCKET_LEAF_FLAG) !== 0 && e.value.length > 32 && e.value.subarray(0, 8).every((b) => b === 0)) {
        const inner = e.value.subarray(16);
        const ih = decodePageHeader(inner);
        if (ih && elementsThatFit(ih.count, inner.length) >= ih.count) {
          const name = printable(e.key, 256) ?? toHex(e.key);
          for (const ie of decodeLeafElements(inner, ih.count))
            if (!ie.problem) await onItem({ page: pos, reachable: false, bucket: name, key: ie.key, value: ie.value, flags: ie.flags });
        }
      }
    }
    pos += leaf.overflow;
  }
  return { reachablePages, orphanPages };
}
