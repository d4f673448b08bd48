/**
 * Engine detection and dispatch: dqlite (libraft) directories go to
 * shared/formats/dqlite, etcd inputs (data dir, member dir, --wal-dir, lone
 * db, snapshot.db) to shared/formats/etcd. Anything else is engine 'unknown':
 * "not a datastore directory" with what was looked for, never a start-up
 * verdict (`startable` is false but means nothing there; the CLI and the UI
 * show "not a datastore" for engine 'unknown').
 */
import type { DirectorySource } from './bytes/byte-source';
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

export async function validateDirectory(dir: DirectorySource, opts: RunOptions = {}): Promise<ValidationReport> {
  const t0 = Date.now();
  const entries = await dir.list();
  const names = entries.map((e) => e.name);
  if (looksLikeDqliteDirectory(names)) return validateDqliteDirectory(dir, opts);
  if (await looksLikeEtcdInput(dir, entries)) {
    const report = await validateEtcdDirectory(dir, opts, entries);
    if (report) return report;
  }
  return notADatastore(dir.name, Date.now() - t0);
}
