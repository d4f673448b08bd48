/**
 * `lifeboat salvage DQLITE_DIR --out DIR [--json]`: every database of a dqlite
 * node rebuilt offline into DIR as SQLite files (services/dqlite-rebuild.ts).
 *
 * Exit codes: 0 the whole log on disk was applied, 1 written but the rebuild
 * stopped short of it (what was not applied is said), 2 usage or I/O error.
 */
import type { DqliteRebuildReport } from '../shared/contract/dqlite';
import type { KineExportResult } from '../shared/contract/kine';
import { backendSwapCommands, kineLiveKeysCommand } from '../shared/formats/dqlite/fresh-backend';
import { MICROK8S_BACKEND } from '../shared/formats/dqlite/repair-plan';
import { progressPrinter } from './cli-progress';
import { rebuildDqliteDirectory } from './services/dqlite-rebuild';
import { exportKineObjects, NotKineError } from './services/kine-export';

type Out = (line?: string) => void;

/** What a kine export wrote (the rebuild's objects, or a k3s state.db's). */
export function printKineObjects(k: KineExportResult, out: Out): void {
  out(
    `Objects: ${k.objects} live keys written as files into ${k.output} by resource and namespace (${k.secrets} secrets/encrypted, mode 0600); ${k.deletedKeys} deleted keys not written; ${k.rows} kine rows read, revision ${k.revision ?? 'none'}.`,
  );
  if (k.wal) out(`  its WAL ${k.wal.file}: ${k.wal.commits} committed transactions laid over the database${k.wal.stop ? ` (${k.wal.stop})` : ''}`);
  if (k.problems.length > 0) {
    out(`  ${k.problems.length + k.moreProblems} spots could not be read (their keys may be missing):`);
    for (const p of k.problems.slice(0, 20)) out(`    ${p.page === null ? '' : `page ${p.page}: `}${p.why}`);
  }
}

function printRebuild(r: DqliteRebuildReport, out: Out): void {
  out(`Rebuilt ${r.databases.length} database${r.databases.length === 1 ? '' : 's'} of ${r.input} into ${r.output} (the input was only read):`);
  for (const d of r.databases) {
    const wal = d.snapshotWal
      ? `, the snapshot's WAL: ${d.snapshotWal.transactions} transactions applied${d.snapshotWal.stop ? ` (it ends early: ${d.snapshotWal.stop})` : ''}`
      : '';
    out(`  ${d.file}  database ${d.name}: ${d.pages} pages of ${d.pageSize} bytes (${d.bytes} bytes)${d.fromSnapshot ? '' : ', created by the log'}${wal}`);
  }
  out(r.base ? `Base: ${r.base.snapshot} (entries up to ${r.base.index}, term ${r.base.term})` : 'Base: none (no usable snapshot; the log from entry 1)');
  for (const p of r.passedOver) out(`  passed over ${p.snapshot}: ${p.why}`);
  out(
    r.log ? `Log: entries ${r.log.from}..${r.log.to} applied (${r.log.transactions} transactions, ${r.log.pages} page images)` : 'Log: no entry after the base',
  );
  if (!r.snapshotWhole) out('The snapshot could not be read to its end: the databases above are INCOMPLETE.');
  if (r.stop) {
    const where = r.stop.file ? ` (${r.stop.file}${r.stop.offset === null ? '' : ` at byte ${r.stop.offset}`})` : '';
    out(`Stopped${r.stop.index === null ? '' : ` at entry ${r.stop.index}`}: ${r.stop.why}${where}.`);
    if (r.stop.index !== null && r.lastIndexOnDisk !== null && r.lastIndexOnDisk >= r.stop.index)
      out(`Not applied: entries ${r.stop.index}..${r.lastIndexOnDisk} (later page images may depend on the ones missing, so none after the stop is used).`);
  } else out('Every entry on disk was applied.');
  out(
    !r.engineWouldStart
      ? 'dqlite itself would NOT start on the input as it is (lifeboat validate shows why and the smallest repair).'
      : r.engineWouldDrop
        ? 'dqlite itself would start on the input as it is, but only by silently dropping entries (lifeboat validate lists them).'
        : 'dqlite itself would start on the input as it is.',
  );
  if (r.objects) printKineObjects(r.objects, out);
  out('Open a database with: sqlite3 FILE');
  const kine = r.databases.find((d) => d.name === 'k8s');
  if (kine) out(`  the live Kubernetes keys: ${kineLiveKeysCommand(`${r.output}/${kine.file}`)}`);
  if (r.backend) {
    const b = r.backend;
    out(
      `A fresh backend dqlite starts from: ${b.dir} (${b.snapshot}: these databases at entry ${b.index}, term ${b.term}; copied: ${b.copied.join(', ') || 'nothing'}).`,
    );
    const swap = backendSwapCommands(MICROK8S_BACKEND);
    out('To start the node from it (MicroK8s paths; the old backend is kept aside, never deleted):');
    out(`  ${swap.stop}`);
    out(`  ${swap.moveAside}`);
    out(`  # copy ${b.dir} to the node as ${MICROK8S_BACKEND} (owner root, files 0600), then:`);
    out(`  ${swap.start}`);
    out(
      `The same files in one archive, for the guided session's upload step (MicroK8s playbook, "fresh backend"): ${b.archive.file} (${b.archive.bytes} bytes, SHA-256 ${b.archive.sha256}).`,
    );
    const voters = r.state.servers?.filter((x) => x.role === 'voter').length ?? 0;
    if (voters > 1)
      out(
        `Its membership has ${voters} voters, as the log left it: alone this node has no quorum. Follow MicroK8s' quorum restore (cluster.yaml naming this node only, then dqlite .reconfigure) before starting it, then re-join the others.`,
      );
  } else if (r.backendNotWritten) out(`No fresh backend written: ${r.backendNotWritten}.`);
}

/** Called by `lifeboat salvage` when PATH is a dqlite directory (cli-etcd-repair.ts checked PATH, and DIR new or empty). */
export async function dqliteSalvageCommand(srcReal: string, outDir: string, json: boolean, out: Out): Promise<number> {
  const progress = progressPrinter();
  const r = await rebuildDqliteDirectory(srcReal, outDir, progress.onProgress ? { onProgress: progress.onProgress } : {}).finally(() => progress.done());
  if (json) out(JSON.stringify(r));
  else printRebuild(r, out);
  return r.stop === null && r.snapshotWhole && r.databases.length > 0 ? 0 : 1;
}

/**
 * Called by `lifeboat salvage` when PATH is a SQLite database (k3s's state.db, with its state.db-wal laid over it
 * when present): its kine table's live keys as object files in DIR. Exit 0 when every page was read, 1 when some
 * could not be (what was read is written), 2 when it holds no kine table.
 */
export async function kineSalvageCommand(srcReal: string, outDir: string, format: 'yaml' | 'json', json: boolean, out: Out): Promise<number> {
  const progress = progressPrinter();
  try {
    const r = await exportKineObjects(srcReal, outDir, { format, ...(progress.onProgress ? { onProgress: progress.onProgress } : {}) }).finally(() =>
      progress.done(),
    );
    if (json) out(JSON.stringify(r));
    else {
      out(`Exported ${r.input} (the input was only read):`);
      printKineObjects(r, out);
    }
    return r.problems.length === 0 ? 0 : 1;
  } catch (err) {
    if (!(err instanceof NotKineError)) throw err;
    process.stderr.write(`lifeboat: ${err.message}\n`);
    return 2;
  }
}
