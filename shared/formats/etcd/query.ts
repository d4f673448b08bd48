/**
 * Answers an on-demand `EtcdQuery` (WAL records, the page map, one page, keys,
 * one value) for a finished etcd validation: the same DirectorySource the
 * report was made from, re-opened, plus the report to know which files are
 * the WAL and the db. Used by the back end's worker thread and by the
 * renderer's Web Worker alike.
 *
 * Every query is checked against the report first (a WAL file the report
 * listed, a page below its page count, bounded limits): the query comes from
 * the UI (or, in web mode, from whoever holds the token) and must not make us
 * open other files or allocate without bound.
 */
import type { ByteSource, DirectorySource } from '../../bytes/byte-source';
import type { EtcdDetails, EtcdQuery, EtcdQueryResult, EtcdQueryResults } from '../../contract/etcd';
import type { ValidationReport } from '../../contract/report';
import { listWalRecords } from './wal';
import { bboltPageDetail, bboltPageMap, readBboltPageFacts, type BboltPageFacts } from './bbolt-db';
import { listKeys, readValue } from './keys';
import { EtcdKeyBrowser, type EtcdKeyBrowserOptions } from './key-browser-index';
import { EtcdQueryError } from './query-error';

export { EtcdQueryError };

/** Records per `wal-records` request, keys per `keys` request. */
export const MAX_WAL_RECORDS_PER_QUERY = 2000;
export const MAX_KEYS_PER_QUERY = 1000;
/** Keys and search texts longer than this are refused (etcd's own key limit is 1.5 MiB, k8s keys are short). */
export const MAX_QUERY_KEY_CHARS = 64 * 1024;
/** Path components of a relative path inside the validated root (member/snap/db = 3). */
const MAX_PATH_DEPTH = 8;

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function boundedString(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new EtcdQueryError('bad-query', `${what} must be a string`);
  if (v.length > MAX_QUERY_KEY_CHARS) throw new EtcdQueryError('bad-query', `${what} is longer than ${MAX_QUERY_KEY_CHARS} characters`);
  return v;
}

/**
 * An untrusted value (from the wire) as an EtcdQuery, or EtcdQueryError.
 * Limits above the per-query maximum are clamped, not refused (a client
 * asking for "everything" gets the first page).
 */
export function parseEtcdQuery(value: unknown): EtcdQuery {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EtcdQueryError('bad-query', 'query must be an object');
  const q = value as Record<string, unknown>;
  switch (q.kind) {
    case 'wal-records': {
      const file = boundedString(q.file, 'query.file');
      if (!isCount(q.fromRecord)) throw new EtcdQueryError('bad-query', 'query.fromRecord must be a record number (0 or more)');
      if (!isCount(q.limit) || q.limit === 0) throw new EtcdQueryError('bad-query', 'query.limit must be a positive number');
      return { kind: 'wal-records', file, fromRecord: q.fromRecord, limit: Math.min(q.limit, MAX_WAL_RECORDS_PER_QUERY) };
    }
    case 'page-map':
      return { kind: 'page-map' };
    case 'page':
      if (!isCount(q.page)) throw new EtcdQueryError('bad-query', 'query.page must be a page id (0 or more)');
      return { kind: 'page', page: q.page };
    case 'keys': {
      if (!isCount(q.offset)) throw new EtcdQueryError('bad-query', 'query.offset must be 0 or more');
      if (!isCount(q.limit) || q.limit === 0) throw new EtcdQueryError('bad-query', 'query.limit must be a positive number');
      const out: Extract<EtcdQuery, { kind: 'keys' }> = { kind: 'keys', offset: q.offset, limit: Math.min(q.limit, MAX_KEYS_PER_QUERY) };
      if (q.prefix !== undefined) out.prefix = boundedString(q.prefix, 'query.prefix');
      if (q.search !== undefined) out.search = boundedString(q.search, 'query.search');
      return out;
    }
    case 'value': {
      const out: Extract<EtcdQuery, { kind: 'value' }> = { kind: 'value', key: boundedString(q.key, 'query.key') };
      if (q.revision !== undefined) {
        if (!isCount(q.revision)) throw new EtcdQueryError('bad-query', 'query.revision must be a revision number');
        out.revision = q.revision;
      }
      return out;
    }
    case 'interrupt':
      return { kind: 'interrupt' };
    default:
      throw new EtcdQueryError('bad-query', 'query.kind must be "wal-records", "page-map", "page", "keys", "value" or "interrupt"');
  }
}

/** Split a report path (`member/wal/x.wal`) into plain components, or throw. */
export function reportPathParts(rel: string): string[] {
  const parts = rel.split('/').filter((p) => p !== '');
  if (parts.length === 0 || parts.length > MAX_PATH_DEPTH || parts.some((p) => p === '.' || p === '..' || p.includes('\\') || p.includes('\0'))) {
    throw new EtcdQueryError('unknown-file', `${rel} is not a path inside the validated directory`);
  }
  return parts;
}

/** Open a file named by its path relative to the validated root, through `subdir`. */
export async function openRelative(dir: DirectorySource, rel: string): Promise<ByteSource> {
  const parts = reportPathParts(rel);
  let d = dir;
  for (const part of parts.slice(0, -1)) {
    if (!d.subdir) throw new EtcdQueryError('unknown-file', `cannot open ${rel}: this source has no subdirectories`);
    d = await d.subdir(part);
  }
  return d.open(parts[parts.length - 1]);
}

/**
 * The format functions a query calls. The real ones by default; tests of the
 * plumbing may pass their own.
 */
export interface EtcdQueryEngine {
  listWalRecords(src: ByteSource, file: string, fromRecord: number, limit: number): Promise<EtcdQueryResults['wal-records']>;
  bboltPageMap(src: ByteSource, file: string, facts?: BboltPageFacts): Promise<EtcdQueryResults['page-map']>;
  bboltPageDetail(src: ByteSource, page: number, facts?: BboltPageFacts): Promise<EtcdQueryResults['page']>;
  listKeys(src: ByteSource, query: Extract<EtcdQuery, { kind: 'keys' }>): Promise<EtcdQueryResults['keys']>;
  readValue(src: ByteSource, key: string, revision?: number): Promise<EtcdQueryResults['value']>;
}

export const DEFAULT_QUERY_ENGINE: EtcdQueryEngine = { listWalRecords, bboltPageMap, bboltPageDetail, listKeys, readValue };

/**
 * What a caller keeps between the queries of one validated directory (one
 * member): the key browser of its db, whose index is built at the first keys
 * query and answers the next ones, and the db file it keeps open for it.
 * One per directory: its browsers are found by the db's path in it.
 */
export class EtcdQuerySession {
  private readonly browsers = new Map<string, Promise<EtcdKeyBrowser>>();
  private readonly pages = new Map<string, Promise<{ src: ByteSource; facts: BboltPageFacts }>>();
  constructor(private readonly opts: EtcdKeyBrowserOptions = {}) {}

  /**
   * The page facts of `file` in `dir` (its tree walked at the first page-map or page query), so the page map and
   * every click on a page after it read them once. A failed read is not kept: the next query tries again.
   */
  pageFacts(dir: DirectorySource, file: string): Promise<{ src: ByteSource; facts: BboltPageFacts }> {
    let f = this.pages.get(file);
    if (!f) {
      const p = openRelative(dir, file).then(async (src) => ({ src, facts: await readBboltPageFacts(src) }));
      f = p;
      this.pages.set(file, p);
      p.catch(() => {
        if (this.pages.get(file) === p) this.pages.delete(file);
      });
    }
    return f;
  }

  /** The key browser of `file` in `dir` (opened at the first call). */
  browser(dir: DirectorySource, file: string): Promise<EtcdKeyBrowser> {
    let b = this.browsers.get(file);
    if (!b) {
      const p = openRelative(dir, file).then((src) => new EtcdKeyBrowser(src, this.opts));
      b = p;
      this.browsers.set(file, p);
      p.catch(() => {
        if (this.browsers.get(file) === p) this.browsers.delete(file);
      });
    }
    return b;
  }
}

function etcdOf(report: ValidationReport): EtcdDetails {
  if (report.engine !== 'etcd' || !report.etcd) throw new EtcdQueryError('not-etcd', 'this validation is not of an etcd data directory');
  return report.etcd;
}

/** The bbolt file the report validated (member/snap/db, or the dropped db / snapshot.db itself). */
function dbFileOf(etcd: EtcdDetails): string {
  const file = etcd.bbolt?.file || etcd.layout.dbFile;
  if (!file) throw new EtcdQueryError('no-db', 'this etcd directory has no bbolt db (member/snap/db) to read pages or keys from');
  return file;
}

/**
 * Answer `query` (already parsed) from `dir`, the source `report` was made
 * from. With `session` (kept by the caller for `dir`), keys and values come
 * from its key browser, built once; without, each keys query walks the db.
 */
export async function answerEtcdQuery<Q extends EtcdQuery>(
  dir: DirectorySource,
  report: ValidationReport,
  query: Q,
  engine: EtcdQueryEngine = DEFAULT_QUERY_ENGINE,
  session?: EtcdQuerySession,
  /** Asked during a keys query's walk of the whole db: true stops it (EtcdQueryError `interrupted`). */
  interrupted?: () => boolean,
): Promise<EtcdQueryResult<Q>> {
  const etcd = etcdOf(report);
  type R = EtcdQueryResult<Q>;
  switch (query.kind) {
    case 'wal-records': {
      const q = query as Extract<EtcdQuery, { kind: 'wal-records' }>;
      const known = etcd.wal?.files.find((f) => f.file === q.file);
      if (!known) throw new EtcdQueryError('unknown-file', `${q.file} is not a WAL file of this report`);
      const limit = Math.min(Math.max(1, q.limit), MAX_WAL_RECORDS_PER_QUERY);
      return (await engine.listWalRecords(await openRelative(dir, known.file), known.file, q.fromRecord, limit)) as R;
    }
    case 'page-map': {
      const file = dbFileOf(etcd);
      if (session) {
        const { src, facts } = await session.pageFacts(dir, file);
        return (await engine.bboltPageMap(src, file, facts)) as R;
      }
      return (await engine.bboltPageMap(await openRelative(dir, file), file)) as R;
    }
    case 'page': {
      const q = query as Extract<EtcdQuery, { kind: 'page' }>;
      const file = dbFileOf(etcd);
      const pages = etcd.bbolt?.pageCount ?? 0;
      if (q.page >= pages) throw new EtcdQueryError('out-of-range', `page ${q.page} is beyond the end of ${file} (${pages} pages)`);
      if (session) {
        const { src, facts } = await session.pageFacts(dir, file);
        return (await engine.bboltPageDetail(src, q.page, facts)) as R;
      }
      return (await engine.bboltPageDetail(await openRelative(dir, file), q.page)) as R;
    }
    case 'keys': {
      const q = query as Extract<EtcdQuery, { kind: 'keys' }>;
      const file = dbFileOf(etcd);
      const bounded = { ...q, limit: Math.min(Math.max(1, q.limit), MAX_KEYS_PER_QUERY) };
      if (session) return (await (await session.browser(dir, file)).listKeys(bounded, interrupted)) as R;
      return (await engine.listKeys(await openRelative(dir, file), bounded)) as R;
    }
    case 'value': {
      const q = query as Extract<EtcdQuery, { kind: 'value' }>;
      const file = dbFileOf(etcd);
      if (session) {
        const browser = await session.browser(dir, file);
        return (await readValue(browser.src, q.key, q.revision, browser)) as R;
      }
      return (await engine.readValue(await openRelative(dir, file), q.key, q.revision)) as R;
    }
    case 'interrupt':
      // Here nothing runs beside this query: the back end's kept query worker answers it itself, before its queue.
      return { interrupted: false } as R;
  }
  throw new EtcdQueryError('bad-query', 'unknown query kind');
}
