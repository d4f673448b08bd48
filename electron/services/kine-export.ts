/**
 * Every live key of a kine table (a k3s `state.db`, or a database the dqlite
 * rebuild wrote) as one object file, `DIR/<resource>/<namespace>/<name>.yaml`
 * (object-files.ts: the same documents as etcd's export). The SQLite file
 * and its WAL are only read; the WAL's committed transactions are laid over
 * the main file as SQLite's readers see them, so nothing acknowledged is
 * missed. Pages that cannot be read are listed; the rest is exported.
 */
import * as path from 'node:path';
import type { DirectorySource } from '../../shared/bytes/byte-source';
import type { ErrorText } from '../../shared/contract/error-text';
import type { KineExportResult } from '../../shared/contract/kine';
import { throwIfCancelled, type RunOptions } from '../../shared/contract/progress';
import { findKineTable, forEachLiveKineRow } from '../../shared/formats/sqlite/kine';
import { openSqliteDatabase } from '../../shared/formats/sqlite/table';
import { localDirectory } from './fs-source';
import { ObjectFileWriter } from './object-files';
import { makeDirs } from './make-dirs';

/** The input is no SQLite database, or holds no kine table: said in the UI's language too (`text`). */
export class NotKineError extends Error {
  constructor(
    message: string,
    readonly text: ErrorText,
  ) {
    super(message);
  }
}

export interface KineExportOptions extends RunOptions {
  format?: 'yaml' | 'json';
}

/** Export the kine table of `dbFile` (with `dbFile-wal` laid over it when present) into the new folder `outDir`. */
export async function exportKineObjects(dbFile: string, outDir: string, opts: KineExportOptions = {}): Promise<KineExportResult> {
  const dir = localDirectory(path.dirname(dbFile));
  try {
    return await exportKineFrom(dir, path.basename(dbFile), dbFile, outDir, opts);
  } finally {
    await dir.close();
  }
}

/**
 * Export the kine table of `dir`'s file `name` (shown as `display`; its `name-wal` beside it laid over it when
 * the folder holds one) into the new folder `outDir`: a local folder, or a node's folder read in place.
 */
export async function exportKineFrom(
  dir: DirectorySource,
  name: string,
  display: string,
  outDir: string,
  opts: KineExportOptions = {},
): Promise<KineExportResult> {
  const format = opts.format ?? 'yaml';
  const main = await dir.open(name);
  const walName = `${name}-wal`;
  const wal = (await dir.list()).some((e) => e.name === walName && e.kind === 'file') ? await dir.open(walName) : null;
  const opened = await openSqliteDatabase(main, wal);
  if (!opened.ok) {
    throw new NotKineError(`${display} cannot be read as a SQLite database: ${opened.why} (byte ${opened.offset})`, {
      key: 'kineExportUi.error.notSqlite',
      params: { file: display, why: opened.why, offset: opened.offset },
    });
  }
  const db = opened.db;
  const found = await findKineTable(db, opts.signal);
  if (!found.ok)
    throw new NotKineError(`${display} holds no kine table: ${found.why}`, { key: 'kineExportUi.error.noKine', params: { file: display, why: found.why } });
  await makeDirs(outDir, 0o700);
  const result: KineExportResult = {
    input: display,
    output: outDir,
    format,
    objects: 0,
    secrets: 0,
    resources: {},
    rows: 0,
    deletedKeys: 0,
    revision: null,
    wal: db.wal,
    problems: [],
    moreProblems: 0,
  };
  const writer = new ObjectFileWriter(outDir, format, result);
  let live = 0;
  // The first of the two walks (kine.ts) counts the live keys; the objects are written during the second.
  opts.onProgress?.({ phase: 'export: reading the database', bytesDone: 0, bytesTotal: 0, currentFile: display });
  const walk = await forEachLiveKineRow(
    db,
    found.table,
    async (row) => {
      // The writes are synchronous: let a cancel (a message to the worker) through every few hundred objects.
      if (result.objects % 256 === 255) await new Promise<void>((resolve) => setImmediate(resolve));
      throwIfCancelled(opts.signal);
      if (result.objects % 1000 === 0) opts.onProgress?.({ phase: 'export: writing objects', bytesDone: result.objects, bytesTotal: live, currentFile: null });
      writer.write(row.name, row.value, (encoding, secret) => ({
        kineKey: row.name,
        revision: Number(row.id),
        createRevision: row.createRevision === null ? null : Number(row.createRevision),
        encoding,
        source: 'kine',
        ...(row.lease !== null && row.lease !== 0 ? { lease: Number(row.lease) } : {}),
        ...(secret ? { secret: true } : {}),
      }));
    },
    { ...(opts.signal ? { signal: opts.signal } : {}), onCounted: (n) => (live = n) },
  );
  result.rows = walk.rows;
  result.deletedKeys = walk.deleted;
  result.revision = walk.revision === null ? null : Number(walk.revision);
  result.problems = [...found.problems, ...walk.problems].slice(0, 200);
  result.moreProblems = walk.moreProblems;
  return result;
}
