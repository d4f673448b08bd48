/**
 * Engine detection and dispatch: dqlite (libraft) directories go to
 * shared/formats/dqlite, etcd inputs (data dir, member dir, --wal-dir, lone
 * db, snapshot.db) to shared/formats/etcd. Anything else is engine 'unknown':
 * "not a datastore directory" with what was looked for, never a start-up
 * verdict (`startable` is false but means nothing there; the CLI and the UI
 * show "not a datastore" for engine 'unknown').
 */
import type { DirEntry, DirectorySource } from './bytes/byte-source';
import {
  ARCHIVE_HEAD_BYTES,
  decompressCommand,
  decompressedFolder,
  extractCommand,
  isSqliteHead,
  tellArchive,
  type ArchiveKind,
  type ArchiveTold,
  type CompressedKind,
} from './formats/archive/archive-kind';
import type { RunOptions } from './contract/progress';
import { quoteAlways } from './node/shell';
import type { ValidationReport } from './contract/report';
import { looksLikeDqliteDirectory, validateDqliteDirectory } from './formats/dqlite/validate';
import { looksLikeEtcdDataDir, looksLikeEtcdInput } from './formats/etcd/layout';
import { validateEtcdDirectory } from './formats/etcd/validate';
import { stripTrailingSlashes } from './text/trailing-slashes';

/** What the dispatcher looks for, said when it finds none of it. */
export const NOT_A_DATASTORE_MESSAGE =
  'Not a datastore directory: found no dqlite files (closed or open segments NNN-NNN / open-N, snapshot-*.meta, metadata1/2) and no etcd files (member/, wal/ or snap/, *.wal, *.snap, a bbolt db or snapshot.db).';

export function notADatastore(name: string, elapsedMs: number): ValidationReport {
  return {
    engine: 'unknown',
    root: name,
    startable: false,
    dataLoss: false,
    lost: [],
    findings: [{ severity: 'info', code: 'engine.unknown', file: null, offset: null, message: NOT_A_DATASTORE_MESSAGE }],
    summary: NOT_A_DATASTORE_MESSAGE,
    summaryText: { key: 'finding.engine.unknown.message' },
    bytesRead: 0,
    elapsedMs,
  };
}

/**
 * A file that is no datastore of ours, told as what it is: no verdict, but one finding (`code`) whose sentence
 * says what to do with it, and the same sentence as the summary.
 */
function toldAs(
  root: string,
  elapsedMs: number,
  code: 'engine.archive' | 'engine.compressed' | 'engine.sqlite' | 'engine.holds',
  file: string,
  message: string,
  params: Record<string, string>,
): ValidationReport {
  return {
    ...notADatastore(root, elapsedMs),
    findings: [{ severity: 'info', code, file, offset: null, message, params }],
    summary: message,
    summaryText: { key: `finding.${code}.message`, params },
  };
}

/**
 * A lone file that is an archive (a backup of the data dir taken with tar, a zip): no verdict either, but what to
 * do, since the datastore is likely inside. `file` is its name in the folder read, `filePath` where the command
 * finds it.
 */
function anArchive(root: string, file: string, filePath: string, kind: ArchiveKind, elapsedMs: number): ValidationReport {
  const command = extractCommand(kind, filePath);
  const message = `${file} is a ${kind} archive, not a datastore: the data directory may be inside. Extract it into a new folder (${command}) and validate what it holds.`;
  return toldAs(root, elapsedMs, 'engine.archive', file, message, { file, kind, command });
}

/**
 * One file compressed on its own (`gzip snapshot.db` after `etcdctl snapshot save`, a `db.zst` copied off a node):
 * tar's command would fail on it. What to do: decompress it into a new folder, keeping the file, and validate the
 * copy.
 */
function aCompressedFile(root: string, file: string, filePath: string, kind: CompressedKind, inner: string, elapsedMs: number): ValidationReport {
  const command = decompressCommand(kind, filePath, inner);
  const validate = `lifeboat validate ${quoteAlways(`${decompressedFolder(inner)}/${inner}`)}`;
  const message = `${file} is ${inner} compressed with ${kind}, not a datastore itself. Decompress it into a new folder, keeping the original (${command}), then validate the copy (${validate}).`;
  return toldAs(root, elapsedMs, 'engine.compressed', file, message, { file, kind, inner, command, validate });
}

/**
 * A SQLite database handed over on its own (k3s's `state.db`, named like etcd's files): not a datastore Lifeboat
 * reads, but what it is and how to check it.
 */
function aSqliteDb(root: string, file: string, filePath: string, elapsedMs: number): ValidationReport {
  // Read-only (`-readonly`): sqlite3 opening a path that is not there would otherwise create an empty database there.
  const command = `sqlite3 -readonly ${quoteAlways(filePath)} 'PRAGMA integrity_check'`;
  const salvage = `lifeboat salvage ${quoteAlways(filePath)} --out DIR`;
  const message = `${file} is a SQLite database, not etcd's bbolt: k3s keeps its cluster state in one by default (kine). Back this file up, then check it with ${command}; its Kubernetes objects can be written out as files with ${salvage}.`;
  return toldAs(root, elapsedMs, 'engine.sqlite', file, message, { file, command, salvage });
}

/** At most this many `*.db` files of a folder are opened to look for a SQLite head (k3s's db folder holds one). */
const SQLITE_CANDIDATES_MAX = 4;

/**
/** A file that is no datastore of ours, told as what it is. */
type ForeignFile = { told: 'sqlite'; file: string } | (ArchiveTold & { file: string });

/**
 * What `dir` holds when it is no datastore of ours: its one file an archive, one compressed file or a SQLite db,
 * or a folder whose `*.db` file is a SQLite db (k3s's `server/db/` with `state.db`, `state.db-wal`,
 * `state.db-shm`); or null.
 */
async function foreignFile(dir: DirectorySource, entries: DirEntry[]): Promise<{ found: ForeignFile | null; bytesRead: number }> {
  const files = entries.filter((e) => e.kind === 'file');
  const candidates = entries.length === 1 ? files : files.filter((e) => e.name.endsWith('.db')).slice(0, SQLITE_CANDIDATES_MAX);
  // The heads read are what the report's "Read N bytes" counts: a told file was read, if only its first bytes.
  let bytesRead = 0;
  for (const { name: file } of candidates) {
    try {
      const src = await dir.open(file);
      const head = await src.read(0, Math.min(src.size, ARCHIVE_HEAD_BYTES));
      bytesRead += head.length;
      if (isSqliteHead(head)) return { found: { told: 'sqlite', file }, bytesRead };
      const told = entries.length === 1 ? tellArchive(head, file) : null;
      if (told) return { found: { ...told, file }, bytesRead };
    } catch {
      // unreadable: said as not a datastore
    }
  }
  return { found: null, bytesRead };
}

/** Subfolders looked into for a data directory one level down (a copy of /var/lib holds etcd/ among many others). */
const SUBDIRS_LOOKED_INTO = 32;

/**
 * A data directory one level down, when `dir` is no datastore itself: the folder above it was copied or picked
 * (`/var/lib` for `/var/lib/etcd`, `.../var/kubernetes` for its `backend/`, k3s's `server/` for `db/`). By names
 * only: the engine's own validation reads it when the user picks it.
 */
async function heldBelow(dir: DirectorySource, entries: DirEntry[]): Promise<{ folder: string; kind: 'etcd' | 'dqlite' | 'k3s' } | null> {
  if (!dir.subdir) return null;
  for (const e of entries.filter((x) => x.kind === 'dir').slice(0, SUBDIRS_LOOKED_INTO)) {
    try {
      const inner = await (await dir.subdir(e.name)).list();
      const names = inner.map((x) => x.name);
      if (looksLikeEtcdDataDir(inner.filter((x) => x.kind === 'dir').map((x) => x.name))) return { folder: e.name, kind: 'etcd' };
      if (looksLikeDqliteDirectory(names)) return { folder: e.name, kind: 'dqlite' };
      if (names.includes('state.db')) return { folder: e.name, kind: 'k3s' };
    } catch {
      // unreadable: not looked into
    }
  }
  return null;
}

/** A folder that holds a data directory one level down: no verdict, but which folder to validate instead. */
function holdsOne(root: string, folder: string, kind: 'etcd' | 'dqlite' | 'k3s', folderPath: string, elapsedMs: number): ValidationReport {
  const command = `lifeboat validate ${quoteAlways(folderPath)}`;
  const message = `Not a datastore directory itself, but ${folder}/ inside it is a data directory (${kind}): validate that folder instead (${command}).`;
  return toldAs(root, elapsedMs, 'engine.holds', `${folder}/`, message, { folder: `${folder}/`, kind, command });
}

export async function validateDirectory(dir: DirectorySource, opts: RunOptions = {}): Promise<ValidationReport> {
  const t0 = Date.now();
  const entries = await dir.list();
  const names = entries.map((e) => e.name);
  if (looksLikeDqliteDirectory(names)) return validateDqliteDirectory(dir, opts);
  if (await looksLikeEtcdInput(dir, entries)) {
    const report = await validateEtcdDirectory(dir, opts, entries);
    if (report) return report;
  }
  const { found: foreign, bytesRead } = await foreignFile(dir, entries);
  // The commands name the file where it is: on this machine, or on the node when the folder is read in place.
  const folder = opts.inputDir ?? (opts.nodePath?.origin === 'in-place' ? opts.nodePath.path : undefined);
  const where = (file: string): string => (folder ? `${stripTrailingSlashes(folder)}/${file}` : file);
  const read = (report: ValidationReport): ValidationReport => ({ ...report, bytesRead });
  if (foreign?.told === 'sqlite') return read(aSqliteDb(dir.name, foreign.file, where(foreign.file), Date.now() - t0));
  if (foreign?.told === 'compressed') return read(aCompressedFile(dir.name, foreign.file, where(foreign.file), foreign.kind, foreign.inner, Date.now() - t0));
  if (foreign) return read(anArchive(dir.name, foreign.file, where(foreign.file), foreign.kind, Date.now() - t0));
  const held = await heldBelow(dir, entries);
  if (held) return read(holdsOne(dir.name, held.folder, held.kind, where(held.folder), Date.now() - t0));
  return read(notADatastore(dir.name, Date.now() - t0));
}
