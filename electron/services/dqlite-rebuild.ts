/**
 * `lifeboat salvage DQLITE_DIR --out DIR`: rebuild a dqlite node's databases
 * offline (shared/formats/dqlite/rebuild.ts) into new SQLite files in DIR.
 * The input is only read; each database is written as `<name>.db.part`
 * (mode 0600: kine's rows hold Secrets), fsynced, then renamed to
 * `<name>.db`. A run that fails leaves its `.part` files, never a file that
 * looks finished. Then, when the databases are whole, `DIR/backend/`: a fresh
 * backend dqlite starts from (shared/formats/dqlite/fresh-backend.ts), with
 * the node's other files (cluster.yaml, info.yaml, certificates) copied in,
 * every file mode 0600, and the same files packed as `DIR/backend.tar` (for
 * a guided session's upload step). The kine database's live keys are written as object
 * files into `DIR/objects/` (kine-export.ts).
 */
import { createHash } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { DqliteFreshBackend, DqliteRebuildReport } from '../../shared/contract/dqlite';
import { encodeFsmDatabaseHeader, encodeFsmSnapshotHeader } from '../../shared/formats/dqlite/fsm-snapshot';
import { FRESH_BACKEND_ARCHIVE, freshBackendLayout } from '../../shared/formats/dqlite/fresh-backend';
import { classifyName } from '../../shared/formats/dqlite/segment-name';
import { encodeUstarFileHeader, ustarEnd, ustarPadding } from '../../shared/formats/archive/ustar';
import type { RunOptions } from '../../shared/contract/progress';
import { rebuildDqlite, type RebuildFile } from '../../shared/formats/dqlite/rebuild';
import { inspectDqliteDirectory } from '../../shared/formats/dqlite/validate';
import { copyFilePrefix, writeFully } from './file-copy';
import { exportKineObjects, NotKineError } from './kine-export';
import { localDirectory } from './fs-source';
import { makeDirs } from './make-dirs';

/** Where the kine database's objects go, inside the output folder. */
export const OBJECTS_DIR = 'objects';

/** A file name for database `name`: its own when it is a plain name, else `database-N`; `.db` added. */
export function rebuiltFileName(name: string, taken: Set<string>, ordinal: number): string {
  const plain = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name) ? name : `database-${ordinal}`;
  let file = plain.endsWith('.db') ? plain : `${plain}.db`;
  for (let n = 2; taken.has(file); n++) file = `${plain}-${n}.db`;
  taken.add(file);
  return file;
}

export async function rebuildDqliteDirectory(srcDir: string, outDir: string, opts: RunOptions = {}): Promise<DqliteRebuildReport> {
  const dir = localDirectory(srcDir);
  const opened: { handle: fs.FileHandle; part: string; final: string }[] = [];
  try {
    const { report: validated } = await inspectDqliteDirectory(dir, opts);
    if (!validated.dqlite) throw new Error(`${srcDir} is not a dqlite data directory (no segment, snapshot or metadata file)`);
    await makeDirs(outDir);
    const taken = new Set<string>();
    const report = await rebuildDqlite(
      dir,
      { dqlite: validated.dqlite, startable: validated.startable, dataLoss: validated.dataLoss, findings: validated.findings },
      {
        async create(name) {
          const fileName = rebuiltFileName(name, taken, opened.length + 1);
          const final = path.join(outDir, fileName);
          const part = `${final}.part`;
          const handle = await fs.open(part, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
          opened.push({ handle, part, final });
          const file: RebuildFile = {
            write: (offset, bytes) => writeFully(handle, bytes, offset),
            setSize: (bytes) => handle.truncate(bytes),
          };
          return { file, fileName };
        },
      },
      opts,
    );
    for (const o of opened) await o.handle.sync();
    for (const o of opened.splice(0)) {
      await o.handle.close();
      await fs.rename(o.part, o.final);
    }
    report.input = srcDir;
    report.output = outDir;
    // kine's database (MicroK8s' k8s): its live keys as object files, whatever the log's stop left out.
    for (const d of report.databases) {
      try {
        report.objects = await exportKineObjects(path.join(outDir, d.file), path.join(outDir, OBJECTS_DIR), opts);
        break;
      } catch (err) {
        if (!(err instanceof NotKineError)) throw err;
      }
    }
    if (!report.snapshotWhole) report.backendNotWritten = 'the base snapshot could not be read to its end';
    else if (report.databases.length === 0) report.backendNotWritten = 'no database was rebuilt';
    else {
      const seenTerm = validated.dqlite.metadata.reduce<number | null>((m, x) => (x.ok && x.term !== null ? Math.max(m ?? 0, x.term) : m), null);
      const layout = freshBackendLayout(report.state, seenTerm);
      if ('refused' in layout) report.backendNotWritten = layout.refused;
      else {
        opts.onProgress?.({ phase: 'rebuild: writing the fresh backend', bytesDone: 0, bytesTotal: 0, currentFile: layout.snapshotName });
        report.backend = await writeFreshBackend(srcDir, outDir, report, layout);
      }
    }
    return report;
  } finally {
    for (const o of opened) await o.handle.close().catch(() => undefined);
    await dir.close();
  }
}

/** Write `<out>/backend/`: the snapshot of the rebuilt databases, its .meta, metadata1, the node's other files. */
async function writeFreshBackend(
  srcDir: string,
  outDir: string,
  report: DqliteRebuildReport,
  layout: Exclude<ReturnType<typeof freshBackendLayout>, { refused: string }>,
): Promise<DqliteFreshBackend> {
  const dir = path.join(outDir, 'backend');
  await fs.mkdir(dir, { mode: 0o700 });
  const copied: string[] = [];
  for (const e of await fs.readdir(srcDir, { withFileTypes: true })) {
    // The node's own files (membership, certificates, failure domain); no raft file of the broken log.
    if (!e.isFile() || classifyName(e.name).kind !== 'unknown') continue;
    await copyFilePrefix(path.join(srcDir, e.name), path.join(dir, e.name));
    copied.push(e.name);
  }
  const writeNew = async (name: string, parts: () => AsyncIterable<Uint8Array>): Promise<void> => {
    const handle = await fs.open(path.join(dir, name), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      let at = 0;
      for await (const part of parts()) {
        await writeFully(handle, part, at);
        at += part.length;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
  };
  await writeNew(layout.snapshotName, async function* () {
    yield encodeFsmSnapshotHeader(report.databases.length);
    for (const d of report.databases) {
      yield encodeFsmDatabaseHeader(d.name, d.bytes, 0);
      const input = await fs.open(path.join(outDir, d.file), constants.O_RDONLY);
      try {
        const buf = new Uint8Array(4 * 1024 * 1024);
        for (let at = 0; at < d.bytes;) {
          const { bytesRead } = await input.read(buf, 0, Math.min(buf.length, d.bytes - at), at);
          if (bytesRead === 0) throw new Error(`${d.file} is shorter than the ${d.bytes} bytes just written`);
          yield buf.subarray(0, bytesRead);
          at += bytesRead;
        }
      } finally {
        await input.close();
      }
    }
  });
  await writeNew(layout.metaName, async function* () {
    yield layout.meta;
  });
  await writeNew('metadata1', async function* () {
    yield layout.metadata1;
  });
  const archive = await writeBackendArchive(dir, path.join(outDir, FRESH_BACKEND_ARCHIVE), [
    'metadata1',
    layout.metaName,
    layout.snapshotName,
    ...copied.sort(),
  ]);
  return { dir, snapshot: layout.snapshotName, index: layout.index, term: layout.term, copied, archive };
}

/**
 * `names` of `dir` as one ustar archive at `file` (members at its top level, mode 0600, owner root, mtime 0 so two
 * runs over the same input write the same bytes), written as `file.part`, fsynced and renamed; its SHA-256.
 */
async function writeBackendArchive(dir: string, file: string, names: string[]): Promise<{ file: string; bytes: number; sha256: string }> {
  const part = `${file}.part`;
  const handle = await fs.open(part, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  const hash = createHash('sha256');
  let at = 0;
  const put = async (bytes: Uint8Array): Promise<void> => {
    hash.update(bytes);
    await writeFully(handle, bytes, at);
    at += bytes.length;
  };
  try {
    const buf = new Uint8Array(4 * 1024 * 1024);
    for (const name of names) {
      const input = await fs.open(path.join(dir, name), constants.O_RDONLY);
      try {
        const size = (await input.stat()).size;
        await put(encodeUstarFileHeader({ name, size, mode: 0o600, mtime: 0 }));
        for (let from = 0; from < size;) {
          const { bytesRead } = await input.read(buf, 0, Math.min(buf.length, size - from), from);
          if (bytesRead === 0) throw new Error(`${name} is shorter than the ${size} bytes just written`);
          await put(buf.subarray(0, bytesRead));
          from += bytesRead;
        }
        await put(ustarPadding(size));
      } finally {
        await input.close();
      }
    }
    await put(ustarEnd());
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(part, file);
  return { file, bytes: at, sha256: hash.digest('hex') };
}
