/**
 * A SQLite database read page by page (the main file, with the committed
 * frames of its WAL laid over it as SQLite's readers see them), and a walk of
 * one table b-tree in rowid order that never throws: a page it cannot read
 * (out of range, not a table page, reached twice, cells out of bounds) or a
 * payload whose overflow chain breaks is a problem with its page and offset,
 * and the walk goes on with the rest of the tree. Sizes are bounded before
 * they are read: the tree's depth, a payload's size, the WAL laid over.
 */
import type { ByteSource } from '../../bytes/byte-source';
import { throwIfCancelled } from '../../contract/progress';
import { SqliteWalReader, type WalSummary } from '../dqlite/sqlite-wal';
import { decodeBtreePage, decodeTableInteriorCell, decodeTableLeafCell, PAGE_TABLE_INTERIOR, PAGE_TABLE_LEAF } from './btree-page';
import { decodeSqliteHeader, SQLITE_HEADER_SIZE, type SqliteHeader } from './header';

/** A b-tree deeper than this is taken for a loop or damage (SQLite's own limit, BTCURSOR_MAX_DEPTH, is 20). */
export const MAX_TREE_DEPTH = 40;
/** A row's payload past this is damage, not a row to assemble (a kine value is at most a few MiB). */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
/** The WAL's committed pages held to lay over the main file; past this the WAL is not used (said). */
export const MAX_WAL_OVERLAY_BYTES = 512 * 1024 * 1024;
/** Problems listed one by one; past this they are counted. */
const MAX_PROBLEMS = 200;

export interface SqliteProblem {
  page: number | null;
  offset: number | null;
  why: string;
}

export interface SqliteWalUse {
  file: string;
  /** Committed transactions laid over the main file (0 when the WAL was not used). */
  commits: number;
  pages: number;
  /** Why the WAL, or its end, was not used (null: all of it was). */
  stop: string | null;
}

export interface SqliteDatabase {
  readonly name: string;
  readonly header: SqliteHeader;
  /** Pages in the database as SQLite sees it (the WAL's last commit, else the header, else the file size). */
  readonly pageCount: number;
  readonly wal: SqliteWalUse | null;
  page(pgno: number): Promise<Uint8Array>;
}

export type SqliteOpen = { ok: true; db: SqliteDatabase } | { ok: false; why: string; offset: number };

/** Read `wal` whole (bounded), keeping each page's newest committed image. */
async function readWalOverlay(
  wal: ByteSource,
  pageSize: number | null,
): Promise<{ pages: Map<number, Uint8Array>; dbPages: number; use: SqliteWalUse; summary: WalSummary }> {
  const pages = new Map<number, Uint8Array>();
  let bytes = 0;
  let dbPages = 0;
  let over = false;
  const reader = new SqliteWalReader((c) => {
    if (over) return;
    for (const p of c.pages) {
      if (!pages.has(p.pgno)) bytes += p.data.length;
      pages.set(p.pgno, p.data);
    }
    dbPages = c.dbPages;
    if (bytes > MAX_WAL_OVERLAY_BYTES) over = true;
  });
  const chunk = 4 * 1024 * 1024;
  for (let at = 0; at < wal.size && !over; at += chunk) await reader.push(await wal.read(at, Math.min(chunk, wal.size - at)));
  const summary = reader.finish();
  const use: SqliteWalUse = {
    file: wal.name,
    commits: summary.commits,
    pages: pages.size,
    stop: summary.stop ? `${summary.stop.why} (byte ${summary.stop.offset})` : null,
  };
  if (over)
    return {
      pages: new Map(),
      dbPages: 0,
      use: { ...use, commits: 0, pages: 0, stop: `its committed pages pass ${MAX_WAL_OVERLAY_BYTES} bytes: not laid over the main file` },
      summary,
    };
  if (summary.pageSize !== null && pageSize !== null && summary.pageSize !== pageSize)
    return {
      pages: new Map(),
      dbPages: 0,
      use: { ...use, commits: 0, pages: 0, stop: `its pages are ${summary.pageSize} bytes, the database's ${pageSize}: not used` },
      summary,
    };
  if (!summary.headerOk)
    return { pages: new Map(), dbPages: 0, use: { ...use, commits: 0, pages: 0, stop: 'no valid WAL header: SQLite ignores the file' }, summary };
  return { pages, dbPages, use, summary };
}

/** Open `main` (and its WAL, when there is one) for reading; a header SQLite would refuse is a clear refusal. */
export async function openSqliteDatabase(main: ByteSource, wal: ByteSource | null = null): Promise<SqliteOpen> {
  const head = await main.read(0, Math.min(main.size, SQLITE_HEADER_SIZE));
  let decoded = decodeSqliteHeader(head);
  let overlay: Awaited<ReturnType<typeof readWalOverlay>> | null = null;
  if (wal && wal.size > 0) {
    overlay = await readWalOverlay(wal, decoded.ok ? decoded.header.pageSize : null);
    // A database never checkpointed: its page 1 (with the header) only in the WAL.
    const first = overlay.pages.get(1);
    if (first) decoded = decodeSqliteHeader(first.subarray(0, SQLITE_HEADER_SIZE));
  }
  if (!decoded.ok) return decoded;
  const header = decoded.header;
  const fromFile = Math.floor(main.size / header.pageSize);
  const pageCount = overlay && overlay.dbPages > 0 ? overlay.dbPages : header.statedPages > 0 ? header.statedPages : fromFile;
  const pages = overlay?.pages ?? new Map<number, Uint8Array>();
  const windows = new ReadWindows(main);
  return {
    ok: true,
    db: {
      name: main.name,
      header,
      pageCount,
      wal: overlay?.use ?? null,
      async page(pgno: number): Promise<Uint8Array> {
        const laid = pages.get(pgno);
        if (laid) return laid;
        const at = (pgno - 1) * header.pageSize;
        // Past the main file's end (a page only a WAL commit grew to, and not in it): zeros, as SQLite reads them.
        if (at >= main.size) return new Uint8Array(header.pageSize);
        const bytes = await windows.read(at, header.pageSize);
        if (bytes.length === header.pageSize) return bytes;
        const whole = new Uint8Array(header.pageSize);
        whole.set(bytes);
        return whole;
      },
    },
  };
}

/**
 * Reads of the main file in aligned 1 MiB windows, the last few kept: a table written in order lies mostly
 * in consecutive pages, and one read per 4 KiB page cost ~20x sqlite3's own time (the read calls, not the bytes).
 * A window is a fresh buffer each time, never reused, so a page handed out stays valid.
 */
class ReadWindows {
  private static readonly SIZE = 1024 * 1024;
  private static readonly KEPT = 8;
  private readonly kept = new Map<number, Uint8Array>();

  constructor(private readonly src: ByteSource) {}

  async read(at: number, length: number): Promise<Uint8Array> {
    const size = ReadWindows.SIZE;
    const start = Math.floor(at / size) * size;
    // A page across a window boundary (never with SQLite's page sizes, which divide 1 MiB): read alone.
    if (at + length > start + size) return this.src.read(at, Math.min(length, this.src.size - at));
    let w = this.kept.get(start);
    if (w) {
      // Most recently used last.
      this.kept.delete(start);
      this.kept.set(start, w);
    } else {
      w = await this.src.read(start, Math.min(size, this.src.size - start));
      this.kept.set(start, w);
      if (this.kept.size > ReadWindows.KEPT) this.kept.delete(this.kept.keys().next().value!);
    }
    return w.subarray(at - start, Math.min(at - start + length, w.length));
  }
}

export interface TableWalk {
  rows: number;
  pages: number;
  problems: SqliteProblem[];
  /** Problems past the listed ones. */
  moreProblems: number;
}

/**
 * Every row of the table b-tree rooted at `root`, in rowid order: `onRow` gets the rowid and the whole
 * payload (overflow assembled). Unreadable pages and payloads are problems; the walk never throws for the
 * input's sake (cancel and the callback's own errors pass through).
 */
export async function walkTable(
  db: SqliteDatabase,
  root: number,
  onRow: (rowid: number | bigint, payload: Uint8Array) => void | Promise<void>,
  opts: { signal?: AbortSignal; maxPayload?: number } = {},
): Promise<TableWalk> {
  const maxPayload = opts.maxPayload ?? MAX_PAYLOAD_BYTES;
  const usable = db.header.usableSize;
  const walk: TableWalk = { rows: 0, pages: 0, problems: [], moreProblems: 0 };
  const problem = (page: number | null, offset: number | null, why: string): void => {
    if (walk.problems.length < MAX_PROBLEMS) walk.problems.push({ page, offset, why });
    else walk.moreProblems++;
  };
  const seen = new Set<number>();
  // Depth-first, children in key order: the stack holds what comes next on top.
  const stack: { pgno: number; depth: number }[] = [{ pgno: root, depth: 1 }];
  while (stack.length > 0) {
    const { pgno, depth } = stack.pop()!;
    if (pgno < 1 || pgno > db.pageCount) {
      problem(pgno, null, `page ${pgno} is outside the database's ${db.pageCount} pages`);
      continue;
    }
    if (seen.has(pgno)) {
      problem(pgno, null, `page ${pgno} is reached a second time (a loop or a page shared by two parents)`);
      continue;
    }
    if (depth > MAX_TREE_DEPTH) {
      problem(pgno, null, `the tree is deeper than ${MAX_TREE_DEPTH} levels at page ${pgno}`);
      continue;
    }
    seen.add(pgno);
    if (walk.pages % 256 === 0) throwIfCancelled(opts.signal);
    walk.pages++;
    const page = await db.page(pgno);
    const decoded = decodeBtreePage(page, pgno, usable);
    if (!decoded.ok) {
      problem(pgno, decoded.offset, decoded.why);
      continue;
    }
    const h = decoded.page;
    if (h.type === PAGE_TABLE_INTERIOR) {
      const children: number[] = [];
      for (const at of h.cells) {
        const cell = decodeTableInteriorCell(page, at, usable);
        if (cell.ok) children.push(cell.leftChild);
        else problem(pgno, cell.offset, cell.why);
      }
      children.push(h.rightChild!);
      for (let i = children.length - 1; i >= 0; i--) stack.push({ pgno: children[i]!, depth: depth + 1 });
      continue;
    }
    if (h.type !== PAGE_TABLE_LEAF) {
      problem(pgno, pgno === 1 ? 100 : 0, `page ${pgno} is an index page (type ${h.type}) inside a table's tree`);
      continue;
    }
    for (const at of h.cells) {
      const cell = decodeTableLeafCell(page, at, usable, maxPayload);
      if (!cell.ok) {
        problem(pgno, cell.offset, cell.why);
        continue;
      }
      let payload = cell.local;
      if (cell.overflow !== null) {
        const whole = await readOverflow(db, cell.overflow, cell.local, cell.payloadSize, seen);
        if (!whole.ok) {
          problem(whole.page, whole.offset, `row ${cell.rowid} (page ${pgno}): ${whole.why}`);
          continue;
        }
        payload = whole.payload;
      }
      walk.rows++;
      await onRow(cell.rowid, payload);
    }
  }
  return walk;
}

/** A spilled payload: the local part, then each overflow page's bytes after its 4-byte next-page number. */
async function readOverflow(
  db: SqliteDatabase,
  first: number,
  local: Uint8Array,
  size: number,
  seen: Set<number>,
): Promise<{ ok: true; payload: Uint8Array } | { ok: false; why: string; page: number; offset: number | null }> {
  const payload = new Uint8Array(size);
  payload.set(local);
  const perPage = db.header.usableSize - 4;
  let at = local.length;
  let pgno = first;
  while (at < size) {
    if (pgno < 1 || pgno > db.pageCount) return { ok: false, why: `its overflow chain names page ${pgno}, outside the database`, page: pgno, offset: null };
    if (seen.has(pgno)) return { ok: false, why: `its overflow chain reaches page ${pgno} a second time`, page: pgno, offset: null };
    seen.add(pgno);
    const page = await db.page(pgno);
    const n = Math.min(perPage, size - at);
    payload.set(page.subarray(4, 4 + n), at);
    at += n;
    pgno = new DataView(page.buffer, page.byteOffset, page.byteLength).getUint32(0);
  }
  return { ok: true, payload };
}
