/**
 * The etcd side of `lifeboat repair` and `lifeboat salvage`:
 *
 *   lifeboat salvage PATH --snapshot FILE [--json]
 *       every readable key of PATH (data dir, member dir, db, snapshot.db) into
 *       a new snapshot.db that `etcdctl snapshot restore` / `etcdutl snapshot
 *       restore` accept without --skip-hash-check;
 *   lifeboat salvage PATH --out DIR [--format yaml|json]
 *       every readable object exported per resource and namespace;
 *   lifeboat salvage DQLITE_DIR --out DIR [--json]
 *       a dqlite node's databases rebuilt offline as SQLite files (cli-dqlite-salvage.ts);
 *   lifeboat repair PATH --out DIR [--json]      (PATH an etcd data dir)
 *       a repaired copy of the data dir that etcd starts on.
 *
 * Exit codes: 0 everything recovered, 1 written but something was lost (or
 * the output is not startable), 2 usage or I/O error.
 */
import { CliUsageError } from './cli-usage';
import * as path from 'node:path';
import { progressPrinter } from './cli-progress';
import { fsErrorAbout, fsErrorText } from './cli-fs-errors';
import { existsSync, promises as fs, realpathSync } from 'node:fs';
import { isInside, realpathLoose } from './services/local-path-confine';
import { parseArgs } from 'node:util';
import type { EtcdRepairResult, SalvageReport } from '../shared/contract/etcd-repair';
import { looksLikeDqliteDirectory } from '../shared/formats/dqlite/validate';
import { looksLikeEtcdDataDir } from '../shared/formats/etcd/layout';
import { hasSqliteMagic } from '../shared/formats/sqlite/header';
import { EtcdInputError, exportObjects, repairEtcdCopy, salvageToSnapshotDb } from './services/etcd-repair';

export class EtcdCliUsageError extends CliUsageError {}

const EXIT_OK = 0;
const EXIT_LOSS = 1;
const EXIT_USAGE = 2;

type Out = (line?: string) => void;

function printSalvage(r: SalvageReport, out: Out): void {
  out(`Salvaged ${r.input || '(WAL only)'} into ${r.output}${r.sha256 ? ` (SHA-256 ${r.sha256})` : ''}`);
  out(
    `Keys written: ${r.keysWritten}  (tree ${r.sources.tree}, cut-off leaves ${r.sources['orphaned-leaf']}, WAL ${r.sources.wal}); deleted keys left out: ${r.deletedKeys}`,
  );
  if (r.revisionRange) out(`Revisions: ${r.revisionRange[0]}..${r.revisionRange[1]} (history below ${r.compactRevision} marked compacted)`);
  out(`Pages scanned: ${r.pagesScanned} (leaf ${r.leafPages}, not reached by the tree ${r.orphanedLeafPages})`);
  if (r.walReplay)
    out(`WAL entries ${r.walReplay.from}..${r.walReplay.to}: ${r.walReplay.applied} applied on top, ${r.walReplay.gapFilled} filled what lost pages held`);
  out(`Leases: ${r.leases.written} written, ${r.leases.detachedKeys} keys detached from a lost lease`);
  if (r.lost.length > 0) {
    out(`Lost (${r.lost.length}):`);
    for (const l of r.lost.slice(0, 50)) out(`  ${l.key ? `${l.key}: ` : ''}${l.reason}`);
    if (r.lost.length > 50) out(`  ... ${r.lost.length - 50} more (use --json)`);
  } else {
    out('Nothing lost.');
  }
  for (const f of r.findings)
    out(`  ${f.severity.toUpperCase().padEnd(7)} ${f.code}${f.file ? ` ${f.file}${f.offset === null ? '' : `@${f.offset}`}` : ''}: ${f.message}`);
}

/** A dqlite/libraft data directory (segments, snapshots or metadata files), not an etcd one. */
async function isDqliteDirectory(p: string): Promise<boolean> {
  const st = await fs.stat(p);
  if (!st.isDirectory()) return false;
  const names = await fs.readdir(p);
  return !looksLikeEtcdDataDir(names) && looksLikeDqliteDirectory(names);
}

/** A file that starts with SQLite's magic string (k3s's state.db, a database the dqlite rebuild wrote). */
async function isSqliteFile(p: string): Promise<boolean> {
  const st = await fs.stat(p);
  if (!st.isFile() || st.size < 100) return false;
  const handle = await fs.open(p, 'r');
  try {
    const head = new Uint8Array(16);
    await handle.read(head, 0, 16, 0);
    return hasSqliteMagic(head);
  } finally {
    await handle.close();
  }
}

/** `--out DIR` must be new or empty (nothing of the user's is written over): said, and true, when it is not. */
async function refusedNonEmptyOut(target: string, shown: string): Promise<boolean> {
  if (!existsSync(target) || (await fs.readdir(target)).length === 0) return false;
  process.stderr.write(`lifeboat: refusing: --out ${shown} exists and is not empty\n`);
  return true;
}

/** At most this many `*.db` files of a folder are opened to look for a SQLite head (k3s's `server/db/` holds one). */
const SQLITE_CANDIDATES_MAX = 4;

/**
 * The one SQLite database of a folder that is no etcd or dqlite input (k3s's `server/db/` with `state.db` and its
 * `-wal`), or null. Several are a usage error naming them: which one is the operator's to say.
 */
async function sqliteDbInFolder(dir: string): Promise<string | null> {
  if (!(await fs.stat(dir)).isDirectory() || (await isDqliteDirectory(dir))) return null;
  const entries = await fs.readdir(dir, { withFileTypes: true });
  // etcd's own names (a data dir, its member/, a lone db): etcd salvage reads those and says what is missing.
  if (entries.some((e) => ['member', 'wal', 'snap', 'db'].includes(e.name))) return null;
  const found: string[] = [];
  for (const e of entries.filter((x) => x.isFile() && x.name.endsWith('.db')).slice(0, SQLITE_CANDIDATES_MAX)) {
    if (await isSqliteFile(path.join(dir, e.name)).catch(() => false)) found.push(path.join(dir, e.name));
  }
  if (found.length > 1) throw new EtcdCliUsageError(`${dir} holds several SQLite databases (${found.join(', ')}): name the one to export`);
  return found[0] ?? null;
}

export async function salvageCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { snapshot: { type: 'string' }, out: { type: 'string' }, format: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1)
    throw new EtcdCliUsageError('salvage needs exactly one PATH (an etcd data dir, a db or a snapshot.db, a dqlite directory, or a kine SQLite database)');
  if (!values.snapshot === !values.out)
    throw new EtcdCliUsageError('salvage needs either --snapshot FILE (a restorable snapshot.db) or --out DIR (objects as files)');
  const src = positionals[0]!;
  let srcReal: string;
  try {
    srcReal = realpathSync(src);
  } catch (err) {
    process.stderr.write(`lifeboat: ${fsErrorAbout(err, `cannot read ${src}`)}\n`);
    return EXIT_USAGE;
  }
  const target = realpathLoose((values.snapshot ?? values.out)!);
  if (isInside(srcReal, target)) {
    process.stderr.write(`lifeboat: refusing: ${values.snapshot ?? values.out} is inside ${src} (the evidence is never written to)\n`);
    return EXIT_USAGE;
  }
  try {
    const sqlite = (await isSqliteFile(srcReal)) ? srcReal : await sqliteDbInFolder(srcReal);
    if (sqlite) {
      if (values.snapshot)
        throw new EtcdCliUsageError(
          'a SQLite database (k3s kine) is exported with --out DIR (one file per object); --snapshot FILE writes an etcd snapshot.db',
        );
      const format = values.format ?? 'yaml';
      if (format !== 'yaml' && format !== 'json') throw new EtcdCliUsageError(`--format must be yaml or json, not ${format}`);
      if (await refusedNonEmptyOut(target, values.out!)) return EXIT_USAGE;
      return await (await import('./cli-dqlite-salvage')).kineSalvageCommand(sqlite, target, format, values.json === true, out);
    }
    const dqlite = await isDqliteDirectory(srcReal);
    if (values.snapshot && dqlite)
      throw new EtcdCliUsageError('a dqlite directory is rebuilt with --out DIR (one SQLite file per database); --snapshot FILE writes an etcd snapshot.db');
    if (values.out && dqlite) {
      if (values.format) throw new EtcdCliUsageError('--format goes with an etcd export; a dqlite directory is rebuilt into SQLite files');
      if (await refusedNonEmptyOut(target, values.out)) return EXIT_USAGE;
      return await (await import('./cli-dqlite-salvage')).dqliteSalvageCommand(srcReal, target, values.json === true, out);
    }
    if (values.snapshot) {
      if (values.format) throw new EtcdCliUsageError('--format goes with --out DIR, not --snapshot');
      // Said before anything is read (the write would fail at its end, naming the file's temporary name).
      const folder = path.dirname(target);
      if (!existsSync(folder)) {
        process.stderr.write(
          `lifeboat: the folder for --snapshot ${values.snapshot} does not exist (${folder}): create it (mkdir -p ${folder}) or name a file in a folder that exists\n`,
        );
        return EXIT_USAGE;
      }
      const progress = progressPrinter();
      const report = await salvageToSnapshotDb(srcReal, target, progress.onProgress ? { onProgress: progress.onProgress } : {}).finally(() => progress.done());
      if (values.json) out(JSON.stringify(report));
      else printSalvage(report, out);
      const errors = report.findings.some((f) => f.severity === 'error');
      return report.lost.length === 0 && !errors && report.keysWritten > 0 ? EXIT_OK : EXIT_LOSS;
    }
    const format = values.format ?? 'yaml';
    if (format !== 'yaml' && format !== 'json') throw new EtcdCliUsageError(`--format must be yaml or json, not ${format}`);
    if (await refusedNonEmptyOut(target, values.out!)) return EXIT_USAGE;
    const progress = progressPrinter();
    const r = await exportObjects(srcReal, target, { format, ...(progress.onProgress ? { onProgress: progress.onProgress } : {}) }).finally(() =>
      progress.done(),
    );
    if (values.json) out(JSON.stringify(r));
    else {
      out(`Exported ${r.objects} objects (${r.secrets} secrets/encrypted, written 0600) into ${target}, by resource and namespace.`);
      if (r.lost.length > 0) out(`Lost: ${r.lost.length} damaged spots (see --json)`);
    }
    return r.lost.length === 0 ? EXIT_OK : EXIT_LOSS;
  } catch (err) {
    if (err instanceof EtcdCliUsageError) throw err;
    process.stderr.write(`lifeboat: salvage failed: ${fsErrorText(err)}\n`);
    return EXIT_USAGE;
  }
}

function printRepair(r: EtcdRepairResult, out: Out): void {
  out(`Wrote a repaired copy to ${r.output} (${r.input} was not modified):`);
  for (const a of r.actions) out(`  - ${a.text}`);
  if (r.lost.length > 0) {
    out('Lost by this repair:');
    for (const l of r.lost.slice(0, 50)) out(`  ${l.key ? `${l.key}: ` : ''}${l.reason}`);
  } else out('No keys lost by this repair.');
  for (const f of r.findings) out(`  ${f.severity.toUpperCase().padEnd(7)} ${f.code}: ${f.message}`);
  if (existsSync(r.quarantine)) out(`Set aside: ${r.quarantine}`);
}

/** `lifeboat repair PATH --out DIR` when PATH is an etcd data dir (cli.ts checked PATH and DIR). */
export async function etcdRepairCommand(srcReal: string, outReal: string, json: boolean, out: Out): Promise<number> {
  try {
    const progress = progressPrinter();
    const r = await repairEtcdCopy(srcReal, outReal, progress.onProgress ? { onProgress: progress.onProgress } : {}).finally(() => progress.done());
    if (json) out(JSON.stringify(r));
    else printRepair(r, out);
    return r.lost.length === 0 && !r.findings.some((f) => f.severity === 'error') ? EXIT_OK : EXIT_LOSS;
  } catch (err) {
    process.stderr.write(`lifeboat: repair failed: ${fsErrorText(err)}${err instanceof EtcdInputError ? '' : ''}\n`);
    return EXIT_USAGE;
  }
}
