/**
 * Engine detection and dispatch. dqlite (libraft) directories are validated
 * by shared/formats/dqlite; etcd support comes later, so anything else is
 * reported as engine 'unknown' with a finding, never an exception.
 */
import type { DirectorySource } from './bytes/byte-source';
import type { RunOptions } from './contract/progress';
import type { ValidationReport } from './contract/report';
import { looksLikeDqliteDirectory, validateDqliteDirectory } from './formats/dqlite/validate';

export async function validateDirectory(dir: DirectorySource, opts: RunOptions = {}): Promise<ValidationReport> {
  const t0 = Date.now();
  const names = (await dir.list()).map((e) => e.name);
  if (looksLikeDqliteDirectory(names)) return validateDqliteDirectory(dir, opts);
  const etcdLike = names.includes('member') || names.some((n) => n.endsWith('.wal') || n.endsWith('.snap') || n === 'db');
  return {
    engine: 'unknown',
    root: dir.name,
    startable: false,
    dataLoss: false,
    lost: [],
    findings: [
      {
        severity: 'error',
        code: etcdLike ? 'engine.etcd-not-supported' : 'engine.unknown',
        file: null,
        offset: null,
        message: etcdLike
          ? 'This looks like an etcd data directory; etcd validation is not available yet.'
          : 'No dqlite segments, snapshots or metadata files found: this is not a dqlite data directory.',
      },
    ],
    summary: etcdLike ? 'etcd data directory: validation not available yet.' : 'Not a recognised datastore directory.',
    bytesRead: 0,
    elapsedMs: Date.now() - t0,
  };
}
