/**
 * Offline rebuild of a dqlite node's databases from what is on disk, for a
 * node dqlite will not start on (or to read the data without starting it):
 *
 * 1. the base: the snapshot the readable log reaches furthest from (newest
 *    first among equals), its `.meta` and data whole (the validator checked
 *    both); its databases' main files are written out and their WALs applied
 *    transaction by transaction, as SQLite's checkpoint would;
 * 2. then every log entry after the snapshot's index, in order, from the
 *    segments the validator read (closed by index, open by counter): each
 *    FRAMES command writes full page images at (page - 1) * page size, and
 *    the database grows to its highest page (`dqlite:src/fsm.c`: frames never
 *    shrink a database);
 * 3. it stops at the first thing it cannot read (a damaged batch, a gap, a
 *    command it does not know), because later page images may depend on the
 *    missing ones; what it did not apply is said, by index.
 *
 * Pure: bytes come from a DirectorySource, pages go to a RebuildSink (the
 * service writes files). Memory is bounded whatever the sizes: one LZ4
 * block, one segment's valid bytes (up to 64 MiB; a larger one is read batch
 * by batch), one WAL transaction (up to 256 MiB), and up to 64 MiB of pages
 * waiting to be written.
 */
import type { ByteSource, DirectorySource } from '../../bytes/byte-source';
import { MAX_READ, memorySource } from '../../bytes/byte-source';
import type { DqliteDetails, DqliteRebuildReport, DqliteRebuiltDatabase, SegmentInfo, SnapshotInfo } from '../../contract/dqlite';
import type { Finding } from '../../contract/findings';
import { throwIfCancelled, type RunOptions } from '../../contract/progress';
import { verifyLz4Frame } from '../lz4/frame';
import { ENTRY_CHANGE, ENTRY_COMMAND, readBatchEntries } from './batch';
import { decodeConfiguration } from './configuration';
import { decodeCommand } from './command';
import { FsmSnapshotReader } from './fsm-snapshot';
import { isSqlitePageSize, SqliteWalReader, walHeaderPageSize } from './sqlite-wal';
import { LZ4_MAGIC } from './snapshot-data';
import { concatBytes, u32At } from './le';

/** A database file being written. */
export interface RebuildFile {
  write(offset: number, bytes: Uint8Array): Promise<void>;
  /** The file's final length in bytes. */
  setSize(bytes: number): Promise<void>;
}

export interface RebuildSink {
  /** A new, empty file for database `name`; returns it and the name it was given in the output. */
  create(name: string): Promise<{ file: RebuildFile; fileName: string }>;
}

/** Pages a transaction may hold before commit (the legacy is_commit = 0 frames) before the rebuild stops. */
const MAX_PENDING_BYTES = 256 * 1024 * 1024;

/**
 * The largest database the rebuild writes (a Kubernetes datastore is a few GiB): a page number or size
 * past it is taken for damage, and the rebuild stops instead of writing a file that large.
 */
export const MAX_REBUILT_BYTES = 64 * 1024 ** 3;

/** The largest of many numbers (no spread: a list can hold more than a call's arguments may). */
function highest(xs: number[]): number {
  let m = 0;
  for (const x of xs) if (x > m) m = x;
  return m;
}

function checkExtent(pages: number, pageSize: number, what: string, file: string | null, index: number | null = null): void {
  if (pages * pageSize > MAX_REBUILT_BYTES)
    throw new Stop(
      `${what} would make the database ${pages} pages of ${pageSize} bytes, past the ${MAX_REBUILT_BYTES / 1024 ** 3} GiB this rebuild writes (damage)`,
      file,
      null,
      index,
    );
}

/**
 * Pages held in memory before they are written, across databases: a page later transactions write
 * again (the b-tree's root and inner pages, the table's last leaf: most of a kine log) goes to disk
 * once, and pages that follow each other go out in one write.
 */
const MAX_DIRTY_BYTES = 64 * 1024 * 1024;
/** The longest write of consecutive pages. */
const MAX_RUN_BYTES = 1024 * 1024;

interface DatabaseState {
  out: DqliteRebuiltDatabase;
  file: RebuildFile;
  /** Page number -> its newest image, not yet written. */
  dirty: Map<number, Uint8Array>;
  /** Frames of a transaction not yet committed (legacy protocol), with its id. */
  pending: { txId: number; pages: { pgno: number; data: Uint8Array }[]; bytes: number } | null;
}

class Stop extends Error {
  constructor(
    readonly why: string,
    readonly file: string | null = null,
    readonly offset: number | null = null,
    readonly index: number | null = null,
  ) {
    super(why);
  }
}

/**
 * Segments in the order libraft loads them: closed by first index, then open by counter. Open segments
 * carry no index: each follows the one before, the first follows the newest closed segment (or the base
 * when there is none), as uvSegmentLoadOpen numbers them. The validator's loader model numbers only the
 * ones it reaches before start-up fails; the rest are numbered here the same way.
 */
function loadOrder(segments: SegmentInfo[], base: number): SegmentInfo[] {
  const closed = segments.filter((s) => s.kind === 'closed').sort((a, b) => (a.firstIndex ?? 0) - (b.firstIndex ?? 0));
  const open = segments.filter((s) => s.kind === 'open').sort((a, b) => (a.counter ?? 0) - (b.counter ?? 0));
  let next = closed.reduce((m, s) => Math.max(m, s.lastIndex ?? 0), 0) + 1;
  if (closed.length === 0) next = base + 1;
  const numbered = open.map((s) => {
    const first = s.firstIndex ?? next;
    const last = s.entries > 0 ? first + s.entries - 1 : null;
    next = first + s.entries;
    return { ...s, firstIndex: first, lastIndex: last, lastValidIndex: last };
  });
  return [...closed, ...numbered];
}

/** The validator's warning that open segments follow a missing closed one (they would be numbered wrongly). */
const OPEN_NUMBERED_WRONGLY = 'segment.open-after-missing-closed';

/** How far the readable log goes from `base` (the last index it reaches; `base` when it reaches none). */
export function logReach(segments: SegmentInfo[], base: number): number {
  let next = base + 1;
  let lastFromSegment: number | null = null;
  for (const s of loadOrder(segments, base)) {
    if (s.findingCodes.includes(OPEN_NUMBERED_WRONGLY)) break;
    if (s.firstIndex === null || s.lastValidIndex === null || s.lastValidIndex < next) continue;
    if (s.firstIndex > next || (lastFromSegment !== null && s.firstIndex <= lastFromSegment)) break;
    next = s.lastValidIndex + 1;
    lastFromSegment = s.lastValidIndex;
    if ((s.lastIndex !== null && s.lastValidIndex < s.lastIndex) || (s.kind === 'open' && s.status === 'bad')) break;
  }
  return next - 1;
}

function usable(s: SnapshotInfo): boolean {
  return s.metaOk && s.dataOk === true && s.encoding !== 'unknown';
}

/** The base the log reaches furthest from: a snapshot, or (index 0) an empty start when the log begins at 1. */
export function chooseBase(details: DqliteDetails): { snapshot: SnapshotInfo | null; reach: number; passedOver: { snapshot: string; why: string }[] } {
  const snapshots = [...details.snapshots].sort((a, b) => b.index - a.index || b.term - a.term || b.timestamp - a.timestamp);
  let best: { snapshot: SnapshotInfo | null; reach: number } | null = null;
  for (const s of snapshots) {
    if (!usable(s)) continue;
    const reach = logReach(details.segments, s.index);
    if (!best || reach > best.reach) best = { snapshot: s, reach };
  }
  const fromEmpty = logReach(details.segments, 0);
  if (fromEmpty > 0 && (!best || fromEmpty > best.reach)) best = { snapshot: null, reach: fromEmpty };
  const passedOver: { snapshot: string; why: string }[] = [];
  for (const s of snapshots) {
    if (best?.snapshot && s.index <= best.snapshot.index) break;
    if (!usable(s))
      passedOver.push({
        snapshot: s.file,
        why: !s.metaOk ? 'its .meta file is damaged' : s.dataOk === false ? 'its data is damaged' : 'its data format is unknown',
      });
    else
      passedOver.push({
        snapshot: s.file,
        why: `the log from an older start reaches entry ${best?.reach ?? 0}, from this one only ${logReach(details.segments, s.index)}`,
      });
  }
  return { snapshot: best?.snapshot ?? null, reach: best?.reach ?? 0, passedOver };
}

const SQLITE_DEFAULT_PAGE_SIZE = 4096;

/** The page size in a SQLite database header (a big-endian u16 at byte 16; 1 means 65536). */
function pageSizeOf(header: Uint8Array): number | null {
  if (header.length < 18) return null;
  const raw = (header[16]! << 8) | header[17]!;
  const size = raw === 1 ? 65536 : raw;
  return isSqlitePageSize(size) ? size : null;
}

/** `validated`: the validator's report on the same directory (its dqlite details and start-up verdict). */
export async function rebuildDqlite(
  dir: DirectorySource,
  validated: { dqlite: DqliteDetails; startable: boolean; dataLoss: boolean; findings: Finding[] },
  sink: RebuildSink,
  opts: RunOptions = {},
): Promise<DqliteRebuildReport> {
  // The warning that open segments follow a missing closed one is a report-level finding naming the file.
  const numberedWrongly = new Set(validated.findings.filter((f) => f.code === OPEN_NUMBERED_WRONGLY && f.file).map((f) => f.file));
  const details: DqliteDetails = {
    ...validated.dqlite,
    segments: validated.dqlite.segments.map((seg) =>
      numberedWrongly.has(seg.file) && !seg.findingCodes.includes(OPEN_NUMBERED_WRONGLY)
        ? { ...seg, findingCodes: [...seg.findingCodes, OPEN_NUMBERED_WRONGLY] }
        : seg,
    ),
  };
  const dbs = new Map<string, DatabaseState>();
  const { snapshot, passedOver } = chooseBase(details);
  const lastIndexOnDisk = loadOrder(details.segments, snapshot?.index ?? 0).reduce<number | null>(
    (m, s) => (s.lastIndex === null || s.findingCodes.includes(OPEN_NUMBERED_WRONGLY) ? m : Math.max(m ?? 0, s.lastIndex)),
    null,
  );
  const report: DqliteRebuildReport = {
    input: dir.name,
    output: null,
    base: snapshot ? { snapshot: snapshot.file, term: snapshot.term, index: snapshot.index } : null,
    passedOver,
    log: null,
    lastIndexOnDisk,
    stop: null,
    databases: [],
    engineWouldStart: validated.startable,
    engineWouldDrop: validated.startable && validated.dataLoss,
    snapshotWhole: true,
    state: {
      index: snapshot?.index ?? 0,
      term: snapshot?.term ?? 0,
      configurationIndex: snapshot?.configurationIndex ?? null,
      servers: snapshot?.configuration ?? null,
    },
    backend: null,
    backendNotWritten: null,
    objects: null,
  };
  const create = async (name: string, fromSnapshot: boolean, pageSize: number): Promise<DatabaseState> => {
    const { file, fileName } = await sink.create(name);
    const state: DatabaseState = {
      out: { name, file: fileName, pageSize, pages: 0, bytes: 0, fromSnapshot, snapshotWal: null },
      file,
      dirty: new Map(),
      pending: null,
    };
    dbs.set(name, state);
    report.databases.push(state.out);
    return state;
  };
  let dirtyBytes = 0;
  const writePages = async (db: DatabaseState, pages: { pgno: number; data: Uint8Array }[]): Promise<void> => {
    // Copied: a page image may be a view into a batch's buffer, which would otherwise stay alive whole.
    for (const p of pages) {
      if (!db.dirty.has(p.pgno)) dirtyBytes += p.data.length;
      db.dirty.set(p.pgno, p.data.slice());
    }
    if (dirtyBytes > MAX_DIRTY_BYTES) {
      for (const d of dbs.values()) await flushDirty(d);
      dirtyBytes = 0;
    }
  };

  const base = snapshot?.index ?? 0;
  const log = { from: base + 1, to: base, entries: 0, transactions: 0, pages: 0 };
  try {
    if (snapshot) {
      report.snapshotWhole = false;
      opts.onProgress?.({ phase: 'rebuild: reading the snapshot', bytesDone: 0, bytesTotal: 0, currentFile: snapshot.file });
      await readSnapshot(dir, snapshot, create, writePages, opts);
      report.snapshotWhole = true;
    }
    let next = base + 1;
    const segmentBuffer = { buffer: new Uint8Array(0) };
    /** The last segment entries were applied from, and its last index (an overlap with it is a stop). */
    let lastFromSegment: { file: string; index: number } | null = null;
    const ordered = loadOrder(details.segments, base);
    // Progress: the bytes of the segments after the base, each counted when the rebuild reaches it.
    const counted = (s: SegmentInfo): boolean => s.lastValidIndex !== null && s.lastValidIndex > base;
    const logBytes = { done: 0, total: ordered.reduce((n, s) => n + (counted(s) ? s.validBytes : 0), 0) };
    for (const seg of ordered) {
      throwIfCancelled(opts.signal);
      opts.onProgress?.({ phase: 'rebuild: applying the log', bytesDone: logBytes.done, bytesTotal: logBytes.total, currentFile: seg.file });
      if (counted(seg)) logBytes.done += seg.validBytes;
      if (seg.findingCodes.includes(OPEN_NUMBERED_WRONGLY))
        throw new Stop(
          `${seg.file} and the open segments after it are not applied: a closed segment before them is missing, so which entries they hold is unknown (open segments carry no index)`,
          seg.file,
          null,
          next,
        );
      if (seg.firstIndex === null || seg.lastValidIndex === null || seg.lastValidIndex < next) continue;
      if (seg.firstIndex > next) throw new Stop(`entries ${next}..${seg.firstIndex - 1} are in no segment (a gap before ${seg.file})`, seg.file, null, next);
      // A segment whose names overlap one already applied: which file holds which entries is unknown (a
      // renamed or stale file), and page images applied out of order corrupt the database.
      if (lastFromSegment !== null && seg.firstIndex <= lastFromSegment.index)
        throw new Stop(`${seg.file} overlaps ${lastFromSegment.file} (entries ${seg.firstIndex}..${lastFromSegment.index} in both)`, seg.file, null, next);
      const src = await readWhole(await dir.open(seg.file), seg.validBytes, segmentBuffer);
      let index = seg.firstIndex;
      for (let offset = 8; offset < seg.validBytes;) {
        const batch = await readBatchEntries(src, offset, seg.validBytes);
        if (!batch.ok) throw new Stop(batch.why, seg.file, offset, index);
        for (const e of batch.entries) {
          if (index >= next) {
            if (e.type === ENTRY_COMMAND) await applyCommand(e.payload, index, seg.file, offset, dbs, create, writePages, log);
            else if (e.type === ENTRY_CHANGE) {
              // The membership as of this entry (a fresh backend's snapshot carries the newest one applied).
              const conf = decodeConfiguration(e.payload);
              if (conf.ok) report.state = { ...report.state, configurationIndex: index, servers: conf.servers };
            }
            report.state.index = index;
            report.state.term = e.term;
            log.entries++;
            log.to = index;
            next = index + 1;
          }
          index++;
        }
        offset += batch.size;
      }
      lastFromSegment = { file: seg.file, index: seg.lastValidIndex };
      if (seg.kind === 'open' && seg.status === 'bad')
        throw new Stop(`${seg.file} is damaged: what follows the damage cannot be numbered`, seg.file, seg.badOffset ?? seg.validBytes, next);
      if (seg.lastIndex !== null && seg.lastValidIndex < seg.lastIndex)
        throw new Stop(
          `entries ${seg.lastValidIndex + 1}..${seg.lastIndex} of ${seg.file} are damaged`,
          seg.file,
          seg.badOffset ?? seg.validBytes,
          seg.lastValidIndex + 1,
        );
    }
    if (lastIndexOnDisk !== null && log.to < lastIndexOnDisk)
      report.stop = {
        file: null,
        offset: null,
        index: log.to + 1,
        why: `no readable segment holds entry ${log.to + 1} (the log on disk names entries up to ${lastIndexOnDisk})`,
      };
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    report.stop = { file: err.file, offset: err.offset, index: err.index, why: err.why };
  }
  if (log.entries > 0) report.log = log;
  for (const db of dbs.values()) {
    // A transaction left open at the end was never committed: dqlite drops it too.
    db.pending = null;
    await flushDirty(db);
    db.out.bytes = db.out.pages * db.out.pageSize;
    await db.file.setSize(db.out.bytes);
  }
  return report;
}

/** Write a database's held pages in page order, consecutive ones together, and forget them. */
async function flushDirty(db: DatabaseState): Promise<void> {
  if (db.dirty.size === 0) return;
  const size = db.out.pageSize;
  const numbers = [...db.dirty.keys()].sort((a, b) => a - b);
  const run = new Uint8Array(Math.max(size, MAX_RUN_BYTES - (MAX_RUN_BYTES % size)));
  for (let i = 0; i < numbers.length;) {
    let j = i + 1;
    while (j < numbers.length && numbers[j] === numbers[j - 1]! + 1 && (j - i + 1) * size <= run.length) j++;
    if (j - i === 1) await db.file.write((numbers[i]! - 1) * size, db.dirty.get(numbers[i]!)!);
    else {
      for (let k = i; k < j; k++) run.set(db.dirty.get(numbers[k]!)!, (k - i) * size);
      await db.file.write((numbers[i]! - 1) * size, run.subarray(0, (j - i) * size));
    }
    i = j;
  }
  db.dirty.clear();
}

type Create = (name: string, fromSnapshot: boolean, pageSize: number) => Promise<DatabaseState>;
type WritePages = (db: DatabaseState, pages: { pgno: number; data: Uint8Array }[]) => Promise<void>;

async function applyCommand(
  payload: Uint8Array,
  index: number,
  file: string,
  offset: number,
  dbs: Map<string, DatabaseState>,
  create: Create,
  writePages: WritePages,
  log: { transactions: number; pages: number },
): Promise<void> {
  const c = decodeCommand(payload);
  if (c.kind === 'bad') throw new Stop(`entry ${index}: not a dqlite command this rebuild reads (${c.why})`, file, offset, index);
  if (c.kind === 'undo') {
    for (const db of dbs.values()) if (db.pending?.txId === c.txId) db.pending = null;
    return;
  }
  if (c.kind !== 'frames') return; // OPEN and CHECKPOINT change no page
  const db = dbs.get(c.database) ?? (await create(c.database, false, c.pageSize));
  if (c.pageSize !== db.out.pageSize)
    throw new Stop(`entry ${index}: pages of ${c.pageSize} bytes for database ${c.database}, whose pages are ${db.out.pageSize} bytes`, file, offset, index);
  checkExtent(highest(c.pageNumbers), c.pageSize, `entry ${index}`, file, index);
  const pages = c.pageNumbers.map((pgno, i) => ({ pgno, data: payload.subarray(c.pagesAt + i * c.pageSize, c.pagesAt + (i + 1) * c.pageSize) }));
  if (!c.isCommit) {
    // Legacy frames: held until the transaction commits (UNDO drops them), copied out of the batch's buffer.
    const held = db.pending && db.pending.txId === c.txId ? db.pending : { txId: c.txId, pages: [], bytes: 0 };
    for (const p of pages) held.pages.push({ pgno: p.pgno, data: p.data.slice() });
    held.bytes += pages.length * c.pageSize;
    if (held.bytes > MAX_PENDING_BYTES)
      throw new Stop(`entry ${index}: an uncommitted transaction of more than ${MAX_PENDING_BYTES} bytes`, file, offset, index);
    db.pending = held;
    return;
  }
  const all = db.pending && db.pending.txId === c.txId ? [...db.pending.pages, ...pages] : pages;
  db.pending = null;
  await writePages(db, all);
  for (const p of all) if (p.pgno > db.out.pages) db.out.pages = p.pgno;
  log.transactions++;
  log.pages += all.length;
}

async function readSnapshot(dir: DirectorySource, snapshot: SnapshotInfo, create: Create, writePages: WritePages, opts: RunOptions): Promise<void> {
  let current: DatabaseState | null = null;
  let wal: SqliteWalReader | null = null;
  /** The main file's first bytes, until the page size in its header can be read. */
  let head: Uint8Array = new Uint8Array(0);
  /** The WAL's first bytes, while the database waits for a page size (a main file of 0 bytes: never checkpointed). */
  let walHead: Uint8Array = new Uint8Array(0);
  const fsm = new FsmSnapshotReader((name, mainSize) => {
    head = new Uint8Array(0);
    walHead = new Uint8Array(0);
    current = null;
    const ensure = async (pageSize: number | null): Promise<DatabaseState> => {
      if (current) return current;
      if (pageSize === null) throw new Stop(`database ${name} in ${snapshot.file}: its main file has no SQLite page size`, snapshot.file);
      checkExtent(Math.ceil(mainSize / pageSize), pageSize, `database ${name}'s main file in ${snapshot.file}`, snapshot.file);
      const db = await create(name, true, pageSize);
      db.out.pages = Math.floor(mainSize / pageSize);
      current = db;
      return db;
    };
    return {
      main: async (offset, bytes) => {
        if (!current) {
          // Hold the first bytes until the header's page size is in (chunks can be of any size).
          head = concatBytes([head, bytes]);
          if (head.length < 100 && offset + bytes.length < mainSize) return;
          const db = await ensure(pageSizeOf(head));
          await db.file.write(0, head);
          return;
        }
        await current.file.write(offset, bytes);
      },
      wal: async (bytes) => {
        if (!wal && !current && head.length === 0) {
          // No main file: the page size is in the WAL header.
          walHead = concatBytes([walHead, bytes]);
          if (walHead.length < 12) return;
          await ensure(walHeaderPageSize(walHead));
          bytes = walHead;
        }
        if (!wal) {
          const db = await ensure(pageSizeOf(head));
          wal = new SqliteWalReader(async (commit) => {
            checkExtent(
              Math.max(commit.dbPages, highest(commit.pages.map((p) => p.pgno))),
              db.out.pageSize,
              `database ${name}'s WAL in ${snapshot.file}`,
              snapshot.file,
            );
            await writePages(db, commit.pages);
            db.out.pages = commit.dbPages;
          });
        }
        await wal.push(bytes);
      },
      end: async () => {
        // A database never written (no main file, no WAL) is an empty file, which SQLite opens as an empty database.
        const db = await ensure(mainSize === 0 && !wal ? SQLITE_DEFAULT_PAGE_SIZE : pageSizeOf(head));
        if (wal) {
          const s = wal.finish();
          if (s.pageSize !== null && s.pageSize !== db.out.pageSize)
            throw new Stop(`database ${name}: its WAL's pages are ${s.pageSize} bytes, its main file's ${db.out.pageSize}`, snapshot.file);
          db.out.snapshotWal = {
            frames: s.frames,
            transactions: s.commits,
            droppedFrames: s.uncommittedFrames,
            stop: s.stop ? `${s.stop.why} (WAL byte ${s.stop.offset})` : null,
          };
        }
        wal = null;
      },
    };
  });
  const src = await dir.open(snapshot.file);
  const push = (chunk: Uint8Array) => fsm.push(chunk);
  if (snapshot.encoding === 'lz4' || (src.size >= 4 && u32At(await src.read(0, 4), 0) === LZ4_MAGIC)) {
    const r = await verifyLz4Frame(src, { onData: push, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (!r.ok) throw new Stop(`${snapshot.file}: the LZ4 frame is damaged (${r.error ?? 'unknown'})`, snapshot.file, r.errorOffset);
  } else {
    await streamRaw(src, push, opts);
  }
  const s = fsm.finish();
  if (s.stop) throw new Stop(`${snapshot.file}: ${s.stop.why} (byte ${s.stop.offset} of the snapshot's contents)`, snapshot.file);
}

/** Segments up to this size are read in one go (libraft writes 8 MiB ones), larger ones batch by batch. */
const WHOLE_SEGMENT_MAX = 64 * 1024 * 1024;

/**
 * The valid part of a segment in memory (one read instead of three per batch), or the file itself when it
 * is large. `into` is reused segment after segment (a page applied from it is copied out first).
 */
async function readWhole(src: ByteSource, validBytes: number, into: { buffer: Uint8Array }): Promise<ByteSource> {
  if (validBytes > WHOLE_SEGMENT_MAX) return src;
  if (into.buffer.length < validBytes) into.buffer = new Uint8Array(validBytes);
  const bytes = into.buffer.subarray(0, validBytes);
  for (let at = 0; at < validBytes;) {
    const chunk = await src.read(at, Math.min(MAX_READ, validBytes - at));
    if (chunk.length === 0) break;
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return memorySource(src.name, bytes);
}

async function streamRaw(src: ByteSource, push: (chunk: Uint8Array) => Promise<void>, opts: RunOptions): Promise<void> {
  for (let at = 0; at < src.size; at += MAX_READ) {
    throwIfCancelled(opts.signal);
    await push(await src.read(at, Math.min(MAX_READ, src.size - at)));
  }
}
