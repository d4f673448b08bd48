/**
 * etcd salvage and repair on local files (the back end of `lifeboat salvage`
 * and the etcd path of `lifeboat repair`). The input is only ever opened
 * read-only; outputs are new files:
 * - salvage writes `<file>.lifeboat-part` (O_EXCL), appends the SHA-256
 *   trailer, fsyncs and renames it to `<file>`; an existing `<file>` is refused;
 * - repair writes a new data dir `<out>/member/{wal,snap}` and puts what it
 *   sets aside (a torn WAL file's `.broken` original, the damaged db) in
 *   `<out>.lifeboat-quarantine/`.
 */
import { createHash } from 'node:crypto';
import { constants, existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { inlineSha256, sharedBytes, startSha256Thread } from './sha256-thread';
import type { EtcdExportFormat, EtcdExportResult, EtcdRepairAction, EtcdRepairMode, EtcdRepairResult, SalvageReport } from '../../shared/contract/etcd-repair';
import type { Finding } from '../../shared/contract/findings';
import type { LocalText } from '../../shared/contract/text';
import type { ErrorText } from '../../shared/contract/error-text';
import { translate, type MessageParams } from '../../shared/i18n';
import { throwIfCancelled, type RunOptions } from '../../shared/contract/progress';
import type { PageSink } from '../../shared/formats/etcd/bbolt-write';
import { readWalEntries, scanWal, walIndexesRise, type SkippedRecord, type WalScan } from '../../shared/formats/etcd/wal';
import { entriesAfter } from '../../shared/formats/etcd/wal-unread';
import { RECORD_TYPE } from '../../shared/formats/etcd/wal-record';
import {
  collectSalvage,
  displayKey,
  forEachLiveKey,
  noDbFinding,
  readIntoFrom,
  salvageEtcd,
  walSkippedFinding,
  walStoppedFinding,
  type SalvageCollectOptions,
  type SalvageInput,
  type WalEntryStream,
} from '../../shared/formats/etcd/salvage';
import { ObjectFileWriter } from './object-files';
import { hex } from '../../shared/formats/etcd/snapshot-db-write';
import type { ByteSource, DirEntry, DirectorySource } from '../../shared/bytes/byte-source';
import {
  buildFreshWal,
  chooseDbStrategy,
  revertMetaPage,
  walHiddenRecordsFinding,
  walUnreadableFinding,
  type DbStrategyChoice,
  type FreshWalMember,
} from '../../shared/formats/etcd/repair-plan';
import { inspectBbolt } from '../../shared/formats/etcd/bbolt-db';
import { loneBboltEntry } from '../../shared/formats/etcd/layout';
import { ARCHIVE_HEAD_BYTES, decompressCommand, extractCommand, isSqliteHead, tellArchive } from '../../shared/formats/archive/archive-kind';
import { localDirectory, openFileSource, openLocalTarget, readAheadDirectory } from './fs-source';
import { copyFilePrefix, writeFully } from './file-copy';
import { engineText, repairText, sayRepair, type RepairSaid } from '../../shared/formats/etcd/repair-say';
import { makeDirs } from './make-dirs';
import { decodeFrameSize, MAX_WAL_ENTRY_SIZE, SEGMENT_SIZE_BYTES, type FrameSize } from '../../shared/formats/etcd/wal-record';
import { etcdFinding } from '../../shared/formats/etcd/say';

export const QUARANTINE_SUFFIX = '.lifeboat-quarantine';
const PART_SUFFIX = '.lifeboat-part';
const COPY_CHUNK = 4 * 1024 * 1024;
/** A salvaged snapshot.db's runs of pages are written in pieces of this size, in parallel. */
const WRITE_PIECE = 1024 * 1024;
/** A salvage of a db this large hashes its snapshot on a thread of its own (hashingFileSink). */
const HASH_THREAD_FROM = 64 * 1024 * 1024;
/** Bytes written between two background datasyncs of a salvaged snapshot (hashingFileSink). */
const SYNC_EVERY = 64 * 1024 * 1024;

/** What a path handed to salvage/repair holds. */
export interface EtcdPaths {
  kind: 'data-dir' | 'member-dir' | 'db-file' | 'snapshot-db';
  /** The member dir (holding wal/ and snap/), null for a lone file. */
  memberDir: string | null;
  dbPath: string | null;
  walDir: string | null;
  snapDir: string | null;
}

export class EtcdInputError extends Error {
  /** The same sentence as a catalog text (shared/i18n/etcd-repair-ui.ts), for the UI's language. */
  readonly text: ErrorText;
  constructor(key: string, params: MessageParams) {
    super(translate('en', key, params));
    this.name = 'EtcdInputError';
    this.text = { key, params };
  }
}

async function isDir(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
async function isFile(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** Recognise a data dir (member/), a member dir (wal/, snap/), a db file or a snapshot.db. */
export async function resolveEtcdPaths(input: string): Promise<EtcdPaths> {
  const st = await fs.stat(input);
  if (st.isFile()) {
    return { kind: st.size % 512 === 32 ? 'snapshot-db' : 'db-file', memberDir: null, dbPath: input, walDir: null, snapDir: null };
  }
  // A folder holding nothing but one db or snapshot.db (a backup job's `etcd-<date>/snapshot.db`, a db copied off a
  // node under another name): validation reads it as that file (layout.ts, same rule), so repair and salvage too.
  const folder = localDirectory(input);
  const lone = await loneBboltEntry(folder, await folder.list()).finally(() => folder.close());
  if (lone) {
    const dbPath = path.join(input, lone.name);
    return { kind: lone.size % 512 === 32 ? 'snapshot-db' : 'db-file', memberDir: null, dbPath, walDir: null, snapDir: null };
  }
  let member: string | null = null;
  if (await isDir(path.join(input, 'member'))) member = path.join(input, 'member');
  else if ((await isDir(path.join(input, 'wal'))) || (await isDir(path.join(input, 'snap')))) member = input;
  if (!member) {
    throw new EtcdInputError('etcdRepairUi.input.notDataDir', { input });
  }
  const walDir = (await isDir(path.join(member, 'wal'))) ? path.join(member, 'wal') : null;
  const snapDir = (await isDir(path.join(member, 'snap'))) ? path.join(member, 'snap') : null;
  const dbPath = snapDir && (await isFile(path.join(snapDir, 'db'))) ? path.join(snapDir, 'db') : null;
  return { kind: member === input ? 'member-dir' : 'data-dir', memberDir: member, dbPath, walDir, snapDir };
}

/** SHA-256 with Node's native hash (the pure-TS one in shared/ is for the renderer's Web Worker), through one reused buffer. */
async function nativeSha256(src: ByteSource, length: number): Promise<Uint8Array> {
  const h = createHash('sha256');
  const buf = new Uint8Array(Math.max(1, Math.min(COPY_CHUNK, length)));
  for (let at = 0; at < length;) {
    const want = Math.min(buf.length, length - at);
    const got = await readIntoFrom(src, at, buf.subarray(0, want));
    if (got === 0) throw new Error(`${src.name}: short read at byte ${at} of ${length}`);
    h.update(buf.subarray(0, got));
    at += got;
  }
  return new Uint8Array(h.digest());
}

/** Byte equality by memcmp (Buffer.compare takes any Uint8Array, no Buffer is made). */
function nativeBytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** A positional-write sink over a new file. */
async function fileSink(file: string): Promise<PageSink & { close(): Promise<void>; sync(): Promise<void> }> {
  const fh = await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  return {
    write: (offset, bytes) => writeFully(fh, bytes, offset),
    sync: () => fh.sync(),
    close: () => fh.close(),
  };
}

/**
 * The sink of a salvaged snapshot.db: pages arrive in file order (the writer
 * planned its layout, metas first), each run is hashed as it is handed over
 * and then written, so the SHA-256 trailer is ready at the end without
 * reading the output back. A write out of order is a bug and throws.
 */
async function hashingFileSink(
  file: string,
  /** About how much will be written (the input db's size): a large output is hashed on a thread of its own. */
  expectedBytes: number,
): Promise<PageSink & { close(): Promise<void>; appendTrailer(): Promise<{ digest: Uint8Array; size: number }> }> {
  const fh = await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  // Hashed on a thread of its own while the next run is built (`allocate` gives the writer memory that thread reads).
  const threaded = expectedBytes >= HASH_THREAD_FROM;
  const hasher = threaded ? startSha256Thread() : inlineSha256();
  let end = 0;
  const writeAll = (bytes: Uint8Array, offset: number): Promise<void> => writeFully(fh, bytes, offset);
  /**
   * A run in pieces written at once (positional writes, each to its own range): the kernel's copy into the
   * page cache, the write phase's bottleneck, then runs in several I/O threads instead of one.
   */
  const writePieces = (bytes: Uint8Array, offset: number): Promise<void> => {
    if (bytes.length <= WRITE_PIECE) return writeAll(bytes, offset);
    const pieces: Promise<void>[] = [];
    for (let at = 0; at < bytes.length; at += WRITE_PIECE) pieces.push(writeAll(bytes.subarray(at, Math.min(bytes.length, at + WRITE_PIECE)), offset + at));
    // Settled when every piece is (the writer reuses the bytes after this), the first failure thrown.
    return Promise.allSettled(pieces).then((results) => {
      for (const r of results) if (r.status === 'rejected') throw r.reason;
    });
  };
  /**
   * The disk catches up while pages are still being built: a datasync is started (not awaited) after every
   * SYNC_EVERY bytes, one at a time, so the closing fsync finds little left to write (it waited ~0.3 s for a
   * 570 MB snapshot, all of it still dirty in the page cache). Its failure is thrown by the closing sync.
   */
  let syncing: Promise<void> | null = null;
  let syncError: Error | null = null;
  let unsynced = 0;
  const syncInBackground = (): void => {
    if (syncing || unsynced < SYNC_EVERY) return;
    unsynced = 0;
    syncing = fh.datasync().then(
      () => {
        syncing = null;
      },
      (err: unknown) => {
        syncError = err instanceof Error ? err : new Error(String(err));
        syncing = null;
      },
    );
  };
  return {
    write(offset, bytes) {
      if (offset !== end)
        return Promise.reject(new Error(`${file}: pages handed over out of order (byte ${offset}, expected ${end}); the SHA-256 needs them in file order`));
      // Hashed in call order; hash and write may complete after the next run is built (the writer waits for both).
      const hashed = hasher.update(bytes);
      end += bytes.length;
      const written = writePieces(bytes, offset).then(() => {
        unsynced += bytes.length;
        syncInBackground();
      });
      return Promise.all([hashed, written]).then(() => undefined);
    },
    ...(threaded ? { allocate: sharedBytes } : {}),
    async appendTrailer() {
      if (end % 512 !== 0) throw new Error(`${file}: size ${end} is not a multiple of 512`);
      const digest = await hasher.digest();
      await writeAll(digest, end);
      if (syncing) await syncing;
      if (syncError !== null) throw syncError;
      await fh.sync();
      return { digest, size: end + digest.length };
    },
    async close() {
      try {
        await hasher.close();
      } finally {
        await fh.close();
      }
    },
  };
}

/** Scan the WAL dir and give salvage an entry stream (every entry the WAL holds, in index order). */
interface WalSkip {
  skip: SkippedRecord;
  /** Index of the last entry read before the skipped record (0: none). */
  afterIndex: number;
}

/** The furthest entry record a WAL reader gave: its file, offset and index. */
interface LastWalRecord {
  file: string;
  offset: number;
  index: number;
}

/**
 * The WAL's entries for salvage, stepping over damaged records (salvage mode
 * of readWalEntries): what follows a flipped or zeroed record is still
 * replayed; each skipped record is remembered with the entry index before it.
 */
async function walStream(dir: DirectorySource, rel: string): Promise<{ scan: WalScan; stream: WalEntryStream; skips: WalSkip[] }> {
  return walStreamAfter(await scanWal(dir, rel), dir, rel);
}

function walStreamAfter(
  scan: WalScan,
  dir: DirectorySource,
  rel: string,
): { scan: WalScan; stream: WalEntryStream; skips: WalSkip[]; lastRecord: () => LastWalRecord | null } {
  const skips: WalSkip[] = [];
  const seen = new Set<string>();
  let last = 0;
  let lastRecord: LastWalRecord | null = null;
  // readWalEntries may tell every skip before the first entry (its first pass, when indexes do not only rise):
  // a skip's "entry before it" is settled by position, when the first entry after it arrives (or at the end).
  let settled = 0;
  const settleBefore = (file: string | undefined, offset: number | undefined): void => {
    while (settled < skips.length) {
      const s = skips[settled]!.skip;
      const after = file === undefined || offset === undefined || s.file < file || (s.file === file && s.offset < offset);
      if (!after) break;
      skips[settled++]!.afterIndex = last;
    }
  };
  return {
    scan,
    skips,
    lastRecord: () => lastRecord,
    stream: async (onEntry) => {
      await readWalEntries(
        dir,
        rel,
        0,
        (e) => {
          settleBefore(e.file, e.offset);
          last = e.index;
          // The furthest record read (entries may come back in another order when some were overwritten).
          if (
            e.file !== undefined &&
            e.offset !== undefined &&
            (!lastRecord || e.file > lastRecord.file || (e.file === lastRecord.file && e.offset > lastRecord.offset))
          )
            lastRecord = { file: e.file, offset: e.offset, index: e.index };
          return onEntry(e);
        },
        {
          skipDamaged: true,
          // Salvage copies what it keeps of an entry, and the scan above already read every record: one pass, one buffer.
          reuseWindow: true,
          indexesRise: walIndexesRise(scan),
          onSkip: (skip) => {
            const k = `${skip.file}@${skip.offset}`;
            if (seen.has(k) || skips.length >= 1000) return;
            seen.add(k);
            skips.push({ skip, afterIndex: last });
          },
        },
      );
      settleBefore(undefined, undefined);
    },
  };
}

/** The one-pass WAL could not be used (an error or an overwritten entry): salvage starts over with `walStream`. */
class WalStartOver extends Error {
  constructor() {
    super('the WAL needs the salvage reader: starting over');
  }
}

/**
 * The WAL in one pass: the validation scan hands its entries to the replay
 * as it reads them (the CRC and framing work once, not in a second pass).
 * That is exactly what `walStream` gives only when the scan ends with every
 * file read, no error and no overwritten entry; otherwise the stream throws
 * `WalStartOver` at the end and the caller runs salvage again with
 * `walStream` (which steps over damaged records), reusing the scan. Later
 * calls (salvage reading values back) get `walStream`'s reader.
 */
function walOnePass(dir: DirectorySource, rel: string): { stream: WalEntryStream; scan: () => WalScan | null } {
  let scan: WalScan | null = null;
  let after: WalEntryStream | null = null;
  const stream: WalEntryStream = async (onEntry) => {
    if (scan) return (after ??= walStreamAfter(scan, dir, rel).stream)(onEntry);
    const s = await scanWal(dir, rel, { onEntry });
    scan = s;
    // No WAL file at all: the salvage reader would read nothing either. Bytes after a file's zero length word
    // (etcd's end of the log) may be records the salvage reader reads on to.
    const dataAfterEnd = s.info.files.some((f) => f.findingCodes.includes('wal.data-after-end'));
    if ((!walIndexesRise(s) || dataAfterEnd) && s.info.files.length > 0) throw new WalStartOver();
  };
  return { stream, scan: () => scan };
}

/** One thing repair did: the English line and its catalog sentence. */
function action(kind: EtcdRepairAction['kind'], file: string, said: RepairSaid): EtcdRepairAction {
  return { kind, file, text: said.text, textLocal: said.local };
}

/** What the db holds, said after a WAL loss: nothing newer than its consistent index, or nothing at all. */
function dbHolds(dbCi: number | null): LocalText {
  return dbCi === null ? repairText('etcd-loss.held.none') : repairText('etcd-loss.held', { ci: dbCi });
}

/** Skipped WAL records: a loss unless the db already holds the entries after them. */
function skipLosses(skips: WalSkip[], dbCi: number | null, findings: Finding[]): SalvageReport['lost'] {
  const lost: SalvageReport['lost'] = [];
  for (const { skip, afterIndex } of skips) {
    // A record stepped over whole that is no entry (a HardState, a CRC record) wrote no key: nothing lost by it.
    const noEntry = !skip.restOfFile && skip.resumeAt === undefined && typeof skip.recordType === 'number' && skip.recordType !== RECORD_TYPE.entry;
    if (noEntry) {
      if (dbCi !== null) findings.push(walSkippedFinding(skip, afterIndex, dbCi));
      continue;
    }
    if (dbCi !== null && afterIndex + 1 <= dbCi) {
      findings.push(walSkippedFinding(skip, afterIndex, dbCi));
      continue;
    }
    const why =
      skip.zeroWord && skip.resumeAt !== undefined
        ? sayRepair(
            'etcd-loss.wal-skip.zero-word',
            { file: skip.file, offset: skip.offset, after: afterIndex, resume: skip.resumeAt },
            { held: [dbHolds(dbCi)] },
          )
        : sayRepair(
            'etcd-loss.wal-skip',
            { file: skip.file, offset: skip.offset, after: afterIndex },
            { error: [engineText(skip.engineError)], rest: skip.restOfFile ? [repairText('etcd-loss.wal-skip.rest')] : [], held: [dbHolds(dbCi)] },
          );
    lost.push({ key: null, revisions: null, page: null, reason: why.text, reasonText: why.local });
  }
  return lost;
}

export interface SalvageRunOptions extends RunOptions {
  /** Replay the WAL beside the db (default true when there is one). */
  useWal?: boolean;
  keysListedMax?: number;
  /** Key-state bytes held at once (`SalvageCollectOptions.keyStateBudget`): tests and the fuzz force passes with a small one. */
  keyStateBudget?: number | null;
}

/**
 * `lifeboat salvage PATH --snapshot FILE`: every readable key of PATH (a data
 * dir, a db or a snapshot.db) into a new snapshot.db that `etcdctl snapshot
 * restore` accepts without --skip-hash-check.
 */
export async function salvageToSnapshotDb(input: string, outFile: string, opts: SalvageRunOptions = {}): Promise<SalvageReport> {
  const target = await openLocalTarget(input);
  try {
    return await salvageSourceToSnapshotDb(target, target.isFile, input, outFile, opts);
  } finally {
    await target.close();
  }
}

/** What an etcd input holds, opened over any DirectorySource (a local path, or a node's directory read in place). */
export interface EtcdSourceParts {
  kind: EtcdPaths['kind'];
  db: ByteSource | null;
  /** The db's path relative to the input (`member/snap/db`), or the file's name. */
  dbFile: string;
  walDir: DirectorySource | null;
  /** The WAL dir relative to the input (`member/wal`). */
  walRel: string;
}

async function subdirIf(dir: DirectorySource, entries: DirEntry[], name: string): Promise<DirectorySource | null> {
  const e = entries.find((x) => x.name === name);
  if (!e || (e.kind !== 'dir' && e.kind !== 'symlink') || !dir.subdir) return null;
  try {
    const sub = await dir.subdir(name);
    await sub.list();
    return sub;
  } catch {
    return null;
  }
}

/**
 * `resolveEtcdPaths` over a DirectorySource: a data dir (member/), a member
 * dir (wal/, snap/), or a lone file (`isFile`: the source's one entry).
 */
export async function resolveEtcdSource(root: DirectorySource, isFile: boolean, display: string): Promise<EtcdSourceParts> {
  const entries = await root.list();
  if (isFile || (await loneBboltEntry(root, entries))) {
    const db = await root.open(entries[0]!.name);
    // An archive of a data dir holds no page to scan: say to extract it rather than write an empty snapshot.db.
    const head = await db.read(0, Math.min(db.size, ARCHIVE_HEAD_BYTES));
    // k3s's state.db is SQLite: no bbolt page in it either.
    if (isSqliteHead(head)) throw new EtcdInputError('etcdRepairUi.input.sqlite', { input: display });
    const name = entries[0]!.name;
    const told = tellArchive(head, name);
    if (told?.told === 'compressed')
      throw new EtcdInputError('etcdRepairUi.input.compressed', {
        input: display,
        kind: told.kind,
        inner: told.inner,
        command: decompressCommand(told.kind, name, told.inner),
      });
    if (told) throw new EtcdInputError('etcdRepairUi.input.archive', { input: display, kind: told.kind, command: extractCommand(told.kind, name) });
    return { kind: db.size % 512 === 32 ? 'snapshot-db' : 'db-file', db, dbFile: db.name, walDir: null, walRel: 'wal' };
  }
  let member = await subdirIf(root, entries, 'member');
  let rel = 'member/';
  let memberEntries: DirEntry[] = member ? await member.list() : [];
  if (!member && entries.some((e) => e.name === 'wal' || e.name === 'snap')) {
    member = root;
    rel = '';
    memberEntries = entries;
  }
  if (!member) {
    throw new EtcdInputError('etcdRepairUi.input.notDataDir', { input: display });
  }
  const walDir = await subdirIf(member, memberEntries, 'wal');
  const snapDir = await subdirIf(member, memberEntries, 'snap');
  const snapEntries = snapDir ? await snapDir.list() : [];
  const db = snapDir && snapEntries.some((e) => e.name === 'db' && e.kind === 'file') ? await snapDir.open('db') : null;
  return { kind: rel === '' ? 'member-dir' : 'data-dir', db, dbFile: `${rel}snap/db`, walDir, walRel: `${rel}wal` };
}

/**
 * `salvageToSnapshotDb` over any source: `root` is the input (a local
 * target or a node's directory read in place), `display` how it is named in
 * messages; the snapshot.db is always written here, on this machine.
 */
export async function salvageSourceToSnapshotDb(
  root: DirectorySource,
  isFile: boolean,
  input: string,
  outFile: string,
  opts: SalvageRunOptions = {},
): Promise<SalvageReport> {
  const paths = await resolveEtcdSource(root, isFile, input);
  if (existsSync(outFile)) throw new EtcdInputError('etcdRepairUi.input.outputExists', { output: outFile });
  const part = `${outFile}${PART_SUFFIX}`;
  const db = paths.db;
  // The WAL is read once from start to end while its entries are replayed: the next window is read meanwhile.
  const walDir = paths.walDir && opts.useWal !== false ? readAheadDirectory(paths.walDir) : null;
  const sink = await hashingFileSink(part, db?.size ?? 0);
  let report: SalvageReport;
  let trailer: { digest: Uint8Array; size: number };
  try {
    const findings: Finding[] = [];
    if (!db && !walDir) throw new EtcdInputError('etcdRepairUi.input.nothingToSalvage', { input });
    if (!db) findings.push(noDbFinding(input));
    const run = (stream: WalEntryStream | null, walLastIndex: number | null) =>
      salvageEtcd(
        {
          db,
          dbFile: db ? paths.dbFile : '',
          snapshotDb: paths.kind === 'snapshot-db',
          wal: stream,
          walCommit: null,
          walLastIndex,
          sha256: nativeSha256,
          bytesEqual: nativeBytesEqual,
        },
        sink,
        { ...opts, outputKind: 'snapshot-db', output: outFile },
      );
    // One pass over the WAL when it is whole (the usual case); the salvage reader when it is not (nothing is written before the replay ends).
    const once = walDir ? walOnePass(walDir, paths.walRel) : null;
    let wal: { scan: WalScan; skips: WalSkip[]; lastRecord?: () => LastWalRecord | null } | null = null;
    try {
      report = await run(once?.stream ?? null, null);
      const scan = once?.scan() ?? null;
      if (scan) wal = { scan, skips: [] };
    } catch (err) {
      const scan = once?.scan() ?? null;
      if (!(err instanceof WalStartOver) || !scan || !walDir) throw err;
      const again = walStreamAfter(scan, walDir, paths.walRel);
      wal = again;
      report = await run(again.stream, scan.info.lastIndex);
    }
    report.findings.unshift(...findings, ...(wal?.scan.readError && !wal.scan.readError.repairable ? [walStopFinding(wal.scan)] : []));
    if (wal) report.lost.unshift(...skipLosses(wal.skips, report.sourceConsistentIndex, report.findings));
    // Stepping over damage, the reader still stops at a zero length word or a cut file: records after that are
    // reported as in repair.
    const lastRecord = wal?.lastRecord?.() ?? null;
    if (wal && paths.walDir && wal.skips.length > 0 && lastRecord)
      report.lost.unshift(...(await walUnreachedLoss(lastRecord, wal.scan, paths.walDir, report.sourceConsistentIndex, report.findings)));
    // A zero length word mid-file ends the log for etcd and for the reader alike (no record to step over):
    // records after it are reported as they are in repair.
    if (wal && paths.walDir && wal.skips.length === 0)
      report.lost.unshift(...(await walHiddenLoss(wal.scan, paths.walDir, report.sourceConsistentIndex, report.findings)));
    trailer = await sink.appendTrailer();
  } catch (err) {
    await sink.close();
    await fs.rename(part, `${part}.failed`).catch(() => undefined);
    throw err;
  }
  await sink.close();
  await fs.rename(part, outFile);
  report.sha256 = hex(trailer.digest);
  report.bytesWritten += trailer.digest.length;
  return report;
}

function walStopFinding(scan: WalScan): Finding {
  return walStoppedFinding(scan.readError!);
}

// ---------------------------------------------------------------- repair

/**
 * Copies the tree as etcd reads it: a symbolic link (a WAL on another disk, linked back) is followed and its
 * contents written as plain files, never as a link to the input; a folder reached twice (a link back into the
 * tree) is copied once.
 */
async function copyTree(src: string, dst: string, skip: (rel: string) => boolean, rel = '', seen = new Set<string>()): Promise<string[]> {
  const copied: string[] = [];
  const real = await fs.realpath(src);
  if (seen.has(real)) return copied;
  seen.add(real);
  await makeDirs(dst, 0o700);
  for (const e of await fs.readdir(src, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (skip(r)) continue;
    const st = e.isSymbolicLink() ? await fs.stat(path.join(src, e.name)).catch(() => null) : e;
    if (st?.isDirectory()) copied.push(...(await copyTree(path.join(src, e.name), path.join(dst, e.name), skip, r, seen)));
    else if (st?.isFile()) {
      await copyFilePrefix(path.join(src, e.name), path.join(dst, e.name));
      copied.push(r);
    }
  }
  return copied;
}

/**
 * The frame whose length word is at `at`: its record and padding bytes (`decodeFrameSize`), where it ends, and
 * whether that length delimits a record at all (below etcd's limit, inside the file). Null past the file's end.
 */
async function frameAt(src: ByteSource, at: number): Promise<(FrameSize & { end: number; delimited: boolean }) | null> {
  if (at + 8 > src.size) return null;
  const head = await src.read(at, 8);
  if (head.length < 8) return null;
  const word = new DataView(head.buffer, head.byteOffset, 8);
  const size = decodeFrameSize(word.getUint32(0, true), word.getUint32(4, true));
  const end = at + 8 + size.recBytes + size.padBytes;
  return { ...size, end, delimited: size.recBytes < MAX_WAL_ENTRY_SIZE && end <= src.size };
}

/**
 * Bytes after the record where the WAL stops being readable: a torn last
 * record (partly written, the rest zero) hides nothing; records after it do
 * (a zeroed record or length word in the middle). Returns the offset of the
 * first non-zero byte after the stopping record, null when there is none, or
 * 'undelimited' when the stopping record's length word does not say where it ends.
 */
async function hiddenWalRecords(src: ByteSource, offset: number): Promise<number | null | 'undelimited'> {
  {
    const frame = await frameAt(src, offset);
    // A length past etcd's limit or the file's end does not delimit a record: a torn last write (etcd repairs that
    // one itself), or a damaged length word with the rest of the file behind it.
    if (frame && frame.recBytes > 0 && !frame.delimited) return 'undelimited';
    const end = frame && frame.recBytes > 0 ? frame.end : offset;
    // etcd preallocates 64 MB segments: the zeroed tail is compared a chunk at a time (memcmp), bytes only where it differs,
    // read into one buffer (a new one per chunk left ~30 MB of garbage at the end of a salvage, its peak RSS).
    const zeros = Buffer.alloc(COPY_CHUNK);
    const buf = new Uint8Array(COPY_CHUNK);
    for (let at = end; at < src.size; at += COPY_CHUNK) {
      const chunk = buf.subarray(0, await readIntoFrom(src, at, buf.subarray(0, Math.min(COPY_CHUNK, src.size - at))));
      if (Buffer.compare(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length), zeros.subarray(0, chunk.length)) === 0) continue;
      const i = chunk.findIndex((b) => b !== 0);
      if (i >= 0) return at + i;
    }
    return null;
  }
}

/**
 * WAL records etcd cannot reach (after a torn record, a zero length word, a
 * CRC error): entries there are lost when the db does not already hold them
 * (its consistent index is at or below the WAL's last readable index); when
 * the db goes further, some may be held by it, which is said as a warning.
 */
async function walHiddenLoss(scan: WalScan, walDir: DirectorySource, dbCi: number | null, findings: Finding[]): Promise<EtcdRepairResult['lost']> {
  const stop = scan.readError;
  let where: { file: string; offset: number } | null = null;
  if (stop && stop.file && stop.offset !== null && stop.kind !== 'no-wal') where = { file: stop.file, offset: stop.offset };
  else {
    const last = scan.info.files.at(-1);
    if (last) where = { file: last.file, offset: last.validBytes };
  }
  if (!where) return [];
  const walFile = await walDir.open(path.posix.basename(where.file)).catch(() => null);
  const found = walFile ? await hiddenWalRecords(walFile, where.offset) : null;
  const hidden = typeof found === 'number' ? found : null;
  const later = scan.info.files.filter((f) => f.file > where!.file).length;
  // Damage (not a torn last write) in a length word of the last file: where the record ends, and what followed it,
  // cannot be told.
  const unread = found === 'undelimited' && later === 0 && stop !== null && !stop.repairable;
  if (hidden === null && later === 0 && !unread) {
    await noteWalCutShort(scan, walDir, dbCi, findings);
    return [];
  }
  const lastIndex = scan.info.lastIndex ?? 0;
  const stopSaid = stop
    ? repairText('etcd-loss.wal-hidden.stop', undefined, { error: [engineText(stop.engineError)] })
    : repairText('etcd-loss.wal-hidden.zero-length');
  const hiddenSaid = unread
    ? sayRepair('etcd-loss.wal-unread.where', { file: where.file, offset: where.offset, last: lastIndex }, { stop: [stopSaid] })
    : sayRepair(
        'etcd-loss.wal-hidden.where',
        { file: where.file, offset: where.offset, last: lastIndex },
        {
          stop: [stopSaid],
          at: hidden !== null ? [repairText('etcd-loss.wal-hidden.at', { offset: hidden })] : [],
          later: later > 0 ? [repairText('etcd-loss.wal-hidden.later', { count: later })] : [],
        },
      );
  return hiddenLoss(where, hiddenSaid, lastIndex, dbCi, findings);
}

/**
 * WAL records no reader reaches past entry `lastIndex` (`where`, said by `said`): a finding when the db holds newer
 * entries than that (anything written after them is lost), else a loss.
 */
function hiddenLoss(
  where: { file: string; offset: number },
  said: RepairSaid,
  lastIndex: number,
  dbCi: number | null,
  findings: Finding[],
): EtcdRepairResult['lost'] {
  if (dbCi !== null && dbCi > lastIndex) {
    findings.push(walHiddenRecordsFinding(where.file, where.offset, said, dbCi));
    return [];
  }
  const why = sayRepair('etcd-loss.wal-hidden', undefined, { hidden: [said.local], held: [dbHolds(dbCi)] });
  return [{ key: null, revisions: null, page: null, reason: why.text, reasonText: why.local }];
}

/**
 * The last WAL file ends mid-record, shorter than etcd preallocates, with no zero tail and no `.broken` copy: it was
 * cut after etcd wrote it (the read side's `startup.wal-cut-short`), and what followed is unknown. A repair or
 * salvage can only keep what is left: said, with the same finding, since committed writes may be among what is gone.
 */
async function noteWalCutShort(scan: WalScan, walDir: DirectorySource, dbCi: number | null, findings: Finding[]): Promise<boolean> {
  const last = scan.info.files.at(-1);
  if (!last || last.status !== 'torn' || last.size >= SEGMENT_SIZE_BYTES || last.zeroTailBytes !== 0) return false;
  const broken = `${path.posix.basename(last.file)}.broken`;
  if ((await walDir.list().catch(() => [])).some((e) => e.name === broken)) return false;
  const params = { file: last.file, last: scan.info.lastIndex ?? 0, ci: dbCi ?? '?', size: last.size, segment: SEGMENT_SIZE_BYTES };
  findings.push(etcdFinding('warning', 'startup.wal-cut-short', last.file, last.size, params));
  return true;
}

/**
 * From the frame at `offset`, the offset of the first frame whose length word does not delimit a record in the file
 * (zero, past etcd's limit or the file's end): where any reader of the frames stops. The frames before it (state
 * records, a record whose CRC fails) were read or stepped over.
 */
async function endOfFrames(src: ByteSource, offset: number): Promise<number> {
  let at = offset;
  for (let frame = await frameAt(src, at); frame && frame.recBytes > 0 && frame.delimited; frame = await frameAt(src, at)) at = frame.end;
  return at;
}

/**
 * After salvage's reader stepped over damage: records it could not reach past the last entry it read (a zero length
 * word, a length word it cannot follow), or a last file cut short. Said as `walHiddenLoss` says etcd's.
 */
async function walUnreachedLoss(
  last: LastWalRecord,
  scan: WalScan,
  walDir: DirectorySource,
  dbCi: number | null,
  findings: Finding[],
): Promise<EtcdRepairResult['lost']> {
  const walFile = await walDir.open(path.posix.basename(last.file)).catch(() => null);
  const found = walFile ? await hiddenWalRecords(walFile, await endOfFrames(walFile, last.offset)) : null;
  const later = scan.info.files.filter((f) => f.file > last.file).length;
  // Nothing after the frames, or a frame cut by the end of a file cut short: said as such.
  if (later === 0 && found === null) {
    await noteWalCutShort(scan, walDir, dbCi, findings);
    return [];
  }
  if (later === 0 && found === 'undelimited' && (await noteWalCutShort(scan, walDir, dbCi, findings))) return [];
  const said = sayRepair(
    'etcd-loss.wal-unreached.where',
    { file: last.file, offset: last.offset, last: last.index },
    {
      at: typeof found === 'number' ? [repairText('etcd-loss.wal-hidden.at', { offset: found })] : [],
      later: later > 0 ? [repairText('etcd-loss.wal-hidden.later', { count: later })] : [],
    },
  );
  return hiddenLoss(last, said, last.index, dbCi, findings);
}

/** The members to put in a fresh WAL: the WAL's own conf changes, else the db's members bucket. */
/**
 * The newest entry index among records after a WAL file's end (a zero length word with non-zero bytes after it,
 * `wal.data-after-end`) past `afterIndex`; null when there are none.
 */
async function entriesPastWalEnd(scan: WalScan, walDir: DirectorySource, afterIndex: number): Promise<number | null> {
  let newest: number | null = null;
  for (const f of scan.info.files) {
    if (!f.findingCodes.includes('wal.data-after-end')) continue;
    const src = await walDir.open(path.posix.basename(f.file)).catch(() => null);
    if (!src) continue;
    const range = await entriesAfter(src, f.validBytes, { skipFrameAtCut: false, afterIndex });
    if (range) newest = Math.max(newest ?? 0, range.last);
  }
  return newest;
}

async function membersFor(scan: WalScan, dbPath: string | null): Promise<FreshWalMember[]> {
  const fromWal = new Map<string, FreshWalMember>();
  for (const cc of scan.info.confChanges) {
    if (cc.type === 'remove') fromWal.delete(cc.nodeId);
    else if ((cc.type === 'add' || cc.type === 'update') && cc.peerURLs)
      fromWal.set(cc.nodeId, { id: cc.nodeId, name: cc.name ?? '', peerURLs: cc.peerURLs, clientURLs: [] });
  }
  if (scan.info.nodeId && fromWal.has(scan.info.nodeId)) return [...fromWal.values()];
  if (!dbPath) return [...fromWal.values()];
  return (await dbMembers(dbPath)) ?? [...fromWal.values()];
}

/** The members bucket of the db at `dbPath`; null when it cannot be read. */
async function dbMembers(dbPath: string): Promise<FreshWalMember[] | null> {
  const src = await openFileSource(dbPath);
  try {
    const scanDb = await inspectBbolt(src, 'db');
    return (scanDb.schema?.members ?? []).map((m) => ({ id: m.id, name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs }));
  } catch {
    return null;
  } finally {
    await src.close();
  }
}

/**
 * The cluster ID etcd gives a cluster bootstrapped with these members (membership's genID): the first 8 bytes,
 * big-endian, of the SHA-1 of their IDs sorted, each 8 bytes big-endian. Hex, as member IDs are.
 */
export function clusterIdOf(memberIds: string[]): string {
  const ids = memberIds.map((id) => BigInt(`0x${id}`)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const b = Buffer.alloc(8 * ids.length);
  ids.forEach((id, i) => b.writeBigUInt64BE(id, 8 * i));
  return createHash('sha1').update(b).digest().readBigUInt64BE(0).toString(16);
}

export function quarantineDirFor(outDir: string): string {
  return `${path.resolve(outDir)}${QUARANTINE_SUFFIX}`;
}

/**
 * `lifeboat repair PATH --out DIR` for etcd: a new data dir etcd starts on,
 * serving every key that can be recovered. Strategy (repair-plan.ts):
 * the db as it is when its chosen tree is intact; the older meta when only
 * the newer one's tree is damaged; otherwise a db rebuilt from every
 * readable leaf plus the WAL. A torn WAL tail is cut as etcd's wal.Repair
 * would (the original kept as `.broken` in the quarantine).
 */
/**
 * How many writes of the WAL the db does not hold as written (salvage's replay over the db, without writing): 0 for
 * a healthy member, whose db holds every write up to its consistent index and none past it that the WAL lacks.
 */
async function walWritesNotInDb(
  dbPath: string,
  relMember: string,
  walDir: ReturnType<typeof localDirectory>,
  walScan: WalScan,
  opts: RunOptions,
): Promise<number> {
  const db = await openFileSource(dbPath);
  try {
    const state = await collectSalvage(memberSalvageInput(db, relMember, walDir, walScan, false), opts);
    // A key name damaged in an older revision: the WAL's write there is not in the db as written either.
    return (state.walReplay?.gapFilled ?? 0) + state.olderDamagedNames;
  } finally {
    await db.close();
  }
}

/** What salvage reads of a member being repaired: its db (if any) and its WAL (`skipDamaged`: read past damaged records). */
function memberSalvageInput(
  db: ByteSource | null,
  relMember: string,
  walDir: ReturnType<typeof localDirectory> | null,
  walScan: WalScan | null,
  skipDamaged: boolean,
): SalvageInput {
  return {
    db,
    dbFile: db ? `${relMember}/snap/db` : '',
    wal: walDir && walScan ? (onEntry) => readWalEntries(walDir, `${relMember}/wal`, 0, onEntry, { skipDamaged }) : null,
    walCommit: null,
    walLastIndex: walScan?.info.lastIndex ?? null,
    bytesEqual: nativeBytesEqual,
  };
}

export async function repairEtcdCopy(input: string, outDir: string, opts: RunOptions = {}): Promise<EtcdRepairResult> {
  const paths = await resolveEtcdPaths(input);
  if (paths.kind !== 'data-dir' && paths.kind !== 'member-dir') {
    throw new EtcdInputError(paths.kind === 'snapshot-db' ? 'etcdRepairUi.input.loneSnapshot' : 'etcdRepairUi.input.loneDb', { input });
  }
  const out = path.resolve(outDir);
  const quarantine = quarantineDirFor(out);
  const actions: EtcdRepairAction[] = [];
  const findings: Finding[] = [];
  const memberOut = path.join(out, 'member');
  const relMember = paths.kind === 'data-dir' ? 'member' : '.';
  // WAL: scan it (torn tail? readable at all?).
  let walScan: WalScan | null = null;
  let walDirSrc: ReturnType<typeof localDirectory> | null = null;
  if (paths.walDir) {
    walDirSrc = localDirectory(paths.walDir);
    walScan = await scanWal(walDirSrc, `${relMember}/wal`);
  }
  const minConsistentIndex = Math.max(0, ...(walScan?.validSnapshots ?? []).map((s) => s.index));
  const noDb = sayRepair('etcd-repair.reason.no-db');
  let strategy: DbStrategyChoice = { strategy: 'rebuild', reason: noDb.text, reasonText: noDb.local, revertTo: null, crash: null };
  if (paths.dbPath) {
    const src = await openFileSource(paths.dbPath);
    try {
      strategy = await chooseDbStrategy(src, { minConsistentIndex });
    } finally {
      await src.close();
    }
  }
  // A WAL etcd cannot read (CRC error, hole, missing file) and will not repair: write a fresh one
  // with the same member and cluster IDs, and a db rebuilt from the leaves plus the readable WAL.
  const walBroken = !!walScan?.readError && !walScan.readError.repairable && walScan.readError.kind !== 'no-wal';
  let freshWal: ReturnType<typeof buildFreshWal> | null = null;
  if (walBroken && walScan?.info.nodeId && walScan.info.clusterId) {
    const members = await membersFor(walScan, paths.dbPath);
    if (members.some((m) => m.id === walScan!.info.nodeId)) {
      freshWal = buildFreshWal({ nodeId: walScan.info.nodeId, clusterId: walScan.info.clusterId, members });
      const why = sayRepair('etcd-repair.reason.wal-unreadable', undefined, { error: [engineText(walScan.readError!.engineError)] });
      strategy = {
        strategy: 'rebuild',
        reason: why.text,
        reasonText: why.local,
        revertTo: null,
        crash: strategy.crash,
      };
    }
  }
  // The WAL etcd reads ends before the db's consistent index (a zero length word ended its log early, or its newest
  // files are gone), or records follow such an end: etcd would start and serve the db, but apply no write until its
  // raft index passes the db's (each one times out, and is lost). A fresh WAL, and the db rebuilt to stand alone on
  // it, with what the salvage reader reads past the WAL's end.
  let walEndsEarly = false;
  if (!freshWal && !walBroken && walScan?.info.nodeId && walScan.info.clusterId && walDirSrc) {
    const walLast = walScan.info.lastIndex ?? 0;
    const dbCi = strategy.strategy !== 'rebuild' ? (strategy.consistentIndex ?? null) : null;
    const past = await entriesPastWalEnd(walScan, walDirSrc, walLast);
    const behind = dbCi !== null && dbCi > walLast;
    if (behind || (past !== null && past > (dbCi ?? walLast))) {
      const members = await membersFor(walScan, paths.dbPath);
      if (members.some((m) => m.id === walScan!.info.nodeId)) {
        freshWal = buildFreshWal({ nodeId: walScan.info.nodeId, clusterId: walScan.info.clusterId, members });
        walEndsEarly = true;
        const why = behind
          ? sayRepair('etcd-repair.reason.wal-behind-db', { ci: dbCi, last: walLast })
          : sayRepair('etcd-repair.reason.wal-past-end', { last: walLast, past: past! });
        strategy = { strategy: 'rebuild', reason: why.text, reasonText: why.local, revertTo: null, crash: strategy.crash };
      }
    }
  }
  // No WAL at all (or no WAL file) beside a db that has applied entries: etcd would bootstrap a new log at index 1
  // and apply no write until it passed the db's consistent index. The one member the db names is this one: a fresh
  // WAL for it (its cluster ID as etcd derives it from the member IDs), and the db rebuilt to match.
  const noWalFile = !walScan || walScan.info.files.length === 0;
  let freshIds: { member: string; cluster: string } | null = null;
  if (!freshWal && noWalFile && paths.dbPath && strategy.strategy !== 'rebuild' && (strategy.consistentIndex ?? 0) > 0) {
    const members = (await dbMembers(paths.dbPath)) ?? [];
    if (members.length === 1) {
      freshIds = { member: members[0]!.id, cluster: clusterIdOf([members[0]!.id]) };
      freshWal = buildFreshWal({ nodeId: freshIds.member, clusterId: freshIds.cluster, members });
      walEndsEarly = true;
      const why = sayRepair('etcd-repair.reason.wal-missing', { ci: strategy.consistentIndex ?? 0 });
      strategy = { strategy: 'rebuild', reason: why.text, reasonText: why.local, revertTo: null, crash: strategy.crash };
    }
  }
  // An intact tree can still hold a value or key name that changed on disk (bbolt keeps no checksum; etcd serves it
  // as it reads): when the WAL still holds the write, the replay salvage makes over the db finds it differs.
  if (strategy.strategy === 'unchanged' && paths.dbPath && walDirSrc && walScan && !walBroken) {
    const differs = await walWritesNotInDb(paths.dbPath, relMember, walDirSrc, walScan, opts);
    if (differs > 0) {
      const why = sayRepair('etcd-repair.reason.wal-differs', { count: differs });
      strategy = { strategy: 'rebuild', reason: why.text, reasonText: why.local, revertTo: null, crash: null };
    }
  }
  await makeDirs(out, 0o700);
  // Copy everything but the db (handled below) and the WAL file with a torn tail: cut as etcd's wal.Repair cuts it,
  // which only a torn tail of the last file is (a torn record in an earlier file is damage etcd stops at; the WAL is
  // then written afresh, and nothing of the old one may stay beside it).
  const torn =
    freshWal === null && walScan?.readError?.kind === 'torn-tail' && walScan.readError.repairable && walScan.readError.file ? walScan.readError : null;
  const tornName = torn ? path.basename(torn.file!) : null;
  const copied = await copyTree(
    paths.memberDir!,
    memberOut,
    (rel) =>
      rel === 'snap/db' ||
      (tornName !== null && rel === `wal/${tornName}`) ||
      (freshWal !== null && (rel === 'wal' || (rel.startsWith('snap/') && rel.endsWith('.snap')))),
  );
  actions.push(action('copy', 'member', sayRepair('etcd-repair.action.copy', { count: copied.length, dir: relMember })));
  await makeDirs(path.join(memberOut, 'snap'), 0o700);
  await makeDirs(path.join(memberOut, 'wal'), 0o700);
  if (torn && tornName) {
    await makeDirs(quarantine, 0o700);
    await copyFilePrefix(path.join(paths.walDir!, tornName), path.join(quarantine, `${tornName}.broken`));
    await copyFilePrefix(path.join(paths.walDir!, tornName), path.join(memberOut, 'wal', tornName), torn.offset ?? 0);
    actions.push(
      action(
        'wal-truncate',
        `member/wal/${tornName}`,
        // `offset` is printed as it was (a null offset read "null" before the templates).
        sayRepair('etcd-repair.action.wal-truncate', { file: tornName, offset: String(torn.offset), kept: path.join(quarantine, `${tornName}.broken`) }),
      ),
    );
  }
  if (freshWal) {
    // The originals go to the quarantine; the new WAL replaces them.
    await makeDirs(quarantine, 0o700);
    if (paths.walDir) await copyTree(paths.walDir, path.join(quarantine, 'wal'), () => false);
    if (paths.snapDir) await copyTree(paths.snapDir, path.join(quarantine, 'snap'), (rel) => !rel.endsWith('.snap'));
    await fs.writeFile(path.join(memberOut, 'wal', freshWal.name), freshWal.bytes, { mode: 0o600, flag: 'wx' });
  }
  if (freshWal && freshIds) {
    actions.push(
      action(
        'rebuild-wal',
        `member/wal/${freshWal.name}`,
        sayRepair('etcd-repair.action.write-wal', { member: freshIds.member, cluster: freshIds.cluster, count: freshWal.commit, dir: quarantine }),
      ),
    );
  } else if (freshWal && paths.walDir && walEndsEarly) {
    actions.push(
      action(
        'rebuild-wal',
        `member/wal/${freshWal.name}`,
        sayRepair('etcd-repair.action.rebuild-wal-early', {
          member: String(walScan!.info.nodeId),
          cluster: String(walScan!.info.clusterId),
          count: freshWal.commit,
          dir: quarantine,
          last: walScan!.info.lastIndex ?? 0,
        }),
      ),
    );
  } else if (freshWal && paths.walDir) {
    const stop = walScan!.readError!;
    const where =
      stop.file !== null
        ? repairText('etcd-repair.where.file', { file: stop.file, offset: stop.offset ?? 0 })
        : repairText('etcd-repair.where.start', { offset: stop.offset ?? 0 });
    actions.push(
      action(
        'rebuild-wal',
        `member/wal/${freshWal.name}`,
        sayRepair(
          'etcd-repair.action.rebuild-wal',
          { member: String(walScan!.info.nodeId), cluster: String(walScan!.info.clusterId), count: freshWal.commit, dir: quarantine },
          { where: [where], error: [engineText(stop.engineError)] },
        ),
      ),
    );
  } else if (walBroken) {
    findings.push(walUnreadableFinding(walScan!.readError!, input));
  }
  let salvage: SalvageReport | null = null;
  /** The salvage reader the db is rebuilt with over a fresh WAL (it steps over damage, and remembers where). */
  let reader: ReturnType<typeof walStreamAfter> | null = null;
  const dbOut = path.join(memberOut, 'snap', 'db');
  const result = async (dbStrategy: EtcdRepairResult['dbStrategy']): Promise<EtcdRepairResult> => {
    const dbCi = dbStrategy === 'rebuild' ? (salvage?.sourceConsistentIndex ?? null) : (strategy.consistentIndex ?? null);
    // A WAL written afresh because the old one ended early: the db was rebuilt by the salvage reader, which read past
    // where etcd's reader stops and says itself what it stepped over and where it stopped. Else what etcd's reader
    // does not reach (for a WAL it cannot read, that is where the fresh WAL's entries end).
    const walLoss = walScan && walDirSrc && !walEndsEarly ? await walHiddenLoss(walScan, walDirSrc, dbCi, findings) : [];
    if (walEndsEarly && reader && walDirSrc && walScan) {
      const ci = salvage?.sourceConsistentIndex ?? null;
      walLoss.push(...skipLosses(reader.skips, ci, findings));
      // The reader can still stop short (a length word it cannot follow, a file cut short): said from its last record.
      const lastRecord = reader.lastRecord();
      if (lastRecord) walLoss.push(...(await walUnreachedLoss(lastRecord, walScan, walDirSrc, ci, findings)));
    }
    return {
      input,
      output: out,
      quarantine,
      dbStrategy,
      walStrategy: freshWal ? 'rebuilt' : 'kept',
      actions,
      salvage,
      lost: [...walLoss, ...(salvage?.lost ?? [])],
      findings,
    };
  };
  try {
    if (strategy.strategy === 'unchanged' && paths.dbPath) {
      await copyFilePrefix(paths.dbPath, dbOut);
      actions.push(action('copy', 'member/snap/db', sayRepair('etcd-repair.action.db-intact')));
      return await result('unchanged');
    }
    if (strategy.strategy === 'revert-meta' && paths.dbPath && strategy.revertTo !== null) {
      await copyFilePrefix(paths.dbPath, dbOut);
      const src = await openFileSource(paths.dbPath);
      try {
        const patch = await revertMetaPage(src, strategy.revertTo);
        const fh = await fs.open(dbOut, constants.O_WRONLY);
        try {
          await fh.write(patch.bytes, 0, patch.bytes.length, patch.offset);
          await fh.sync();
        } finally {
          await fh.close();
        }
      } finally {
        await src.close();
      }
      actions.push(
        action('revert-meta', 'member/snap/db', sayRepair('etcd-repair.action.revert-meta', { meta: strategy.revertTo }, { reason: [strategy.reasonText] })),
      );
      return await result('revert-meta');
    }
    // Rebuild from the leaves and the WAL.
    if (paths.dbPath) {
      await makeDirs(quarantine, 0o700);
      await copyFilePrefix(paths.dbPath, path.join(quarantine, 'db'));
      actions.push(action('quarantine', 'member/snap/db', sayRepair('etcd-repair.action.quarantine-db', { path: path.join(quarantine, 'db') })));
    }
    const db = paths.dbPath ? await openFileSource(paths.dbPath) : null;
    // With a fresh WAL the db stands alone (consistent_index = its commit): the salvage reader reads past damaged
    // records too, and says what it stepped over.
    reader = freshWal !== null && walDirSrc && walScan ? walStreamAfter(walScan, walDirSrc, `${relMember}/wal`) : null;
    const sink = await fileSink(dbOut);
    try {
      salvage = await salvageEtcd(
        reader
          ? { ...memberSalvageInput(db, relMember, walDirSrc, walScan, true), wal: reader.stream }
          : memberSalvageInput(db, relMember, walDirSrc, walScan, false),
        sink,
        { ...opts, outputKind: 'member-db', output: dbOut, ...(freshWal ? { consistentIndex: freshWal.commit } : {}) },
      );
      await sink.sync();
    } finally {
      await sink.close();
      await db?.close();
    }
    actions.push(
      action(
        'rebuild-db',
        'member/snap/db',
        sayRepair(
          'etcd-repair.action.rebuild-db',
          { keys: salvage.keysWritten, tree: salvage.sources.tree, orphaned: salvage.sources['orphaned-leaf'], walKeys: salvage.sources.wal },
          {
            reason: [strategy.reasonText],
            wal: salvage.walReplay ? [repairText('etcd-repair.action.rebuild-db.wal', { from: salvage.walReplay.from, to: salvage.walReplay.to })] : [],
          },
        ),
      ),
    );
    findings.push(...salvage.findings);
    return await result('rebuild');
  } finally {
    await walDirSrc?.close();
  }
}

// ---------------------------------------------------------------- export as files

export type ExportResult = EtcdExportResult;

/** `lifeboat salvage PATH --out DIR`'s options. */
export interface ExportOptions extends SalvageCollectOptions {
  format?: 'yaml' | 'json';
}

/**
 * `lifeboat salvage PATH --out DIR`: every readable object as one file,
 * `DIR/<resource>/<namespace>/<name>.yaml` (or .json). JSON values as they
 * are; protobuf values as their decoded metadata plus the raw value
 * (base64) so nothing is lost; secrets and encrypted values with mode 0600
 * and marked as such.
 */
export async function exportObjects(input: string, outDir: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const target = await openLocalTarget(input);
  try {
    return await exportSourceObjects(target, target.isFile, input, outDir, opts);
  } finally {
    await target.close();
  }
}

/** `exportObjects` over any source (a local target, or a node's directory read in place); the files are written here. */
export async function exportSourceObjects(
  root: DirectorySource,
  isFile: boolean,
  input: string,
  outDir: string,
  opts: ExportOptions = {},
): Promise<ExportResult> {
  const format = opts.format ?? 'yaml';
  const paths = await resolveEtcdSource(root, isFile, input);
  const db = paths.db;
  const wal = paths.walDir ? await walStream(paths.walDir, paths.walRel) : null;
  const result: ExportResult = { input, output: outDir, format, objects: 0, secrets: 0, resources: {}, lost: [] };
  // The db and WAL sources belong to `root` (closed by the caller).
  {
    if (!db && !wal) throw new EtcdInputError('etcdRepairUi.input.nothingToExport', { input });
    // The keys are collected as a salvage collects them: past the key-state budget in passes by key hash, the live
    // keys then read back from the db one at a time (the same keys in the same order: the same files and names).
    const state = await collectSalvage(
      { db, dbFile: db ? path.posix.basename(paths.dbFile) : '', snapshotDb: paths.kind === 'snapshot-db', wal: wal?.stream ?? null },
      opts,
    );
    // The collect already named every revision no page holds, split by what the WAL replayed (not lost) and not.
    result.lost = [...state.lost];
    await makeDirs(outDir, 0o700);
    const writer = new ObjectFileWriter(outDir, format, result);
    let reported = 0;
    await forEachLiveKey(state, db, async (k, total) => {
      // Writing one file per object is the long part of an export (~200,000 files): say how far, and stop on cancel.
      // The writes are synchronous and the db reads mostly hit the read-ahead window, so nothing else would let this
      // thread's event loop turn for the whole export: turn it every few hundred objects (~30 ms), so that a cancel
      // (a message to the worker) is seen.
      if (result.objects % 256 === 255) await new Promise<void>((resolve) => setImmediate(resolve));
      throwIfCancelled(opts.signal);
      if (opts.onProgress && (result.objects === 0 || result.objects - reported >= 1000)) {
        reported = result.objects;
        opts.onProgress({ phase: 'export: writing objects', bytesDone: result.objects, bytesTotal: total, currentFile: null });
      }
      writer.write(displayKey(k.key), k.value, (encoding, secret) => ({
        etcdKey: displayKey(k.key),
        modRevision: k.modRevision,
        createRevision: k.createRevision,
        version: k.version,
        encoding,
        source: k.source,
        ...(secret ? { secret: true } : {}),
      }));
    });
  }
  return result;
}

// ---------------------------------------------------------------- one run for the UI (in a worker thread)

/** What the UI asked for, as the worker receives it (the output already checked by the service). */
export interface EtcdRepairTask {
  mode: EtcdRepairMode;
  output: string;
  format?: EtcdExportFormat;
  /** How the input is named in messages (a local path, `user@host:/path`). */
  display: string;
}

/** The worker's answer, by mode (the service adds the restore plan for a snapshot). */
export type EtcdRepairWork =
  { mode: 'snapshot'; report: SalvageReport } | { mode: 'repair'; result: EtcdRepairResult } | { mode: 'export'; result: EtcdExportResult };

/**
 * Run one repair, salvage or export of `root` (read-only). `localPath` is the
 * input's path on this machine, null for a node's directory read in place:
 * a repaired data dir copy needs a local input (it copies every file), the
 * snapshot and the export read only the db and the WAL.
 */
export async function runEtcdRepairTask(
  root: DirectorySource,
  isFile: boolean,
  localPath: string | null,
  task: EtcdRepairTask,
  opts: RunOptions = {},
): Promise<EtcdRepairWork> {
  throwIfCancelled(opts.signal);
  // A first event at once: a small input finishes before the readers' own progress (every 4096 pages) starts.
  opts.onProgress?.({ phase: `${task.mode}: opening the input`, bytesDone: 0, bytesTotal: 0, currentFile: null });
  if (task.mode === 'snapshot') return { mode: 'snapshot', report: await salvageSourceToSnapshotDb(root, isFile, task.display, task.output, opts) };
  if (task.mode === 'export') {
    const result = await exportSourceObjects(root, isFile, task.display, task.output, { ...opts, format: task.format ?? 'yaml' });
    return { mode: 'export', result };
  }
  if (localPath === null) {
    throw new EtcdInputError('etcdRepairUi.input.readInPlace', { input: task.display });
  }
  return { mode: 'repair', result: await repairEtcdCopy(localPath, task.output, opts) };
}
