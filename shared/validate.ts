/**
 * Engine detection and dispatch: dqlite (libraft) directories go to
 * shared/formats/dqlite, etcd inputs (data dir, member dir, --wal-dir, lone
 * db, snapshot.db) to shared/formats/etcd. Anything else is engine 'unknown':
 * "not a datastore directory" with what was looked for, never a start-up
 * verdict (`startable` is false but means nothing there; the CLI and the UI
 * show "not a datastore" for engine 'unknown').
 */
import type { DirEntry, DirectorySource } from './bytes/byte-source';
import { ARCHIVE_HEAD_BYTES, archiveKindOf, extractCommand, type ArchiveKind } from './formats/archive/archive-kind';
import type { RunOptions } from './contract/progress';
import type { ValidationReport } from './contract/report';
import { looksLikeDqliteDirectory, validateDqliteDirectory } from './formats/dqlite/validate';
import { looksLikeEtcdInput } from './formats/etcd/layout';
import { validateEtcdDirectory } from './formats/etcd/validate';

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
 * A lone file that is an archive (a backup of the data dir taken with tar, a zip): no verdict either, but what to
 * do, since the datastore is likely inside.
 */
function anArchive(root: string, file: string, kind: ArchiveKind, elapsedMs: number): ValidationReport {
  const command = extractCommand(kind, file);
  const message = `${file} is a ${kind} archive, not a datastore: the data directory may be inside. Extract it into a new folder (${command}) and validate what it holds.`;
  const params = { file, kind, command };
  return {
    ...notADatastore(root, elapsedMs),
    findings: [{ severity: 'info', code: 'engine.archive', file, offset: null, message, params }],
    summary: message,
    summaryText: { key: 'finding.engine.archive.message', params },
  };
}

/** The archive kind of `dir`'s one file (nothing else in it), or null. */
async function loneArchive(dir: DirectorySource, entries: DirEntry[]): Promise<{ file: string; kind: ArchiveKind } | null> {
  if (entries.length !== 1 || entries[0]!.kind !== 'file') return null;
  const file = entries[0]!.name;
  try {
    const src = await dir.open(file);
    const kind = archiveKindOf(await src.read(0, Math.min(src.size, ARCHIVE_HEAD_BYTES)));
    return kind ? { file, kind } : null;
  } catch {
    return null; // unreadable: said as not a datastore
  }
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
  const archive = await loneArchive(dir, entries);
  if (archive) return anArchive(dir.name, archive.file, archive.kind, Date.now() - t0);
  return notADatastore(dir.name, Date.now() - t0);
}
