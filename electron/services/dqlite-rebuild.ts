/**
 * `lifeboat salvage DQLITE_DIR --out DIR`: rebuild a dqlite node's databases
 * offline (shared/formats/dqlite/rebuild.ts) into new SQLite files in DIR.
 * The input is only read; each database is written as `<name>.db.part`
 * (mode 0600: kine's rows hold Secrets), fsynced, then renamed to
 * `<name>.db`. A run that fails leaves its `.part` files, never a file that
 * looks finished.
 */
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { DqliteRebuildReport } from '../../shared/contract/dqlite';
import type { RunOptions } from '../../shared/contract/progress';
import { rebuildDqlite, type RebuildFile } from '../../shared/formats/dqlite/rebuild';
import { inspectDqliteDirectory } from '../../shared/formats/dqlite/validate';
import { localDirectory } from './fs-source';

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
    await fs.mkdir(outDir, { recursive: true });
    const taken = new Set<string>();
    const report = await rebuildDqlite(
      dir,
      { dqlite: validated.dqlite, startable: validated.startable, findings: validated.findings },
      {
        async create(name) {
          const fileName = rebuiltFileName(name, taken, opened.length + 1);
          const final = path.join(outDir, fileName);
          const part = `${final}.part`;
          const handle = await fs.open(part, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
          opened.push({ handle, part, final });
          const file: RebuildFile = {
            async write(offset, bytes) {
              for (let done = 0; done < bytes.length;) {
                const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, offset + done);
                done += bytesWritten;
              }
            },
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
    return report;
  } finally {
    for (const o of opened) await o.handle.close().catch(() => undefined);
    await dir.close();
  }
}
