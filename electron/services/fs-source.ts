/**
 * Read-only local byte sources. Files are opened with O_RDONLY and never
 * written: validation must not touch evidence (tests hash inputs before/after).
 */
import { promises as fs, constants, readSync } from 'node:fs';
import * as path from 'node:path';
import type { ByteSource, DirEntry, DirectorySource } from '../../shared/bytes/byte-source';

/**
 * A read-only file. Besides `read`, it can fill a caller's buffer (`readInto`): salvage's window
 * cache and the SHA-256 passes reuse a few buffers instead of allocating one per chunk.
 * `readIntoSync` does the same in this thread, blocking it: for a worker thread whose next step
 * waits for the bytes anyway (the bbolt walk's chunk reads: no hand-off to the I/O threads).
 */
export async function openFileSource(filePath: string): Promise<
  ByteSource & {
    readInto(offset: number, target: Uint8Array): Promise<number>;
    readIntoSync: (offset: number, target: Uint8Array) => number;
    close(): Promise<void>;
  }
> {
  const fh = await fs.open(filePath, constants.O_RDONLY);
  const st = await fh.stat();
  const readInto = async (offset: number, target: Uint8Array): Promise<number> => {
    if (offset < 0) throw new RangeError(`bad read at ${offset}`);
    const want = Math.max(0, Math.min(target.length, st.size - offset));
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(target, got, want - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got;
  };
  const readIntoSync = (offset: number, target: Uint8Array): number => {
    if (offset < 0) throw new RangeError(`bad read at ${offset}`);
    const want = Math.max(0, Math.min(target.length, st.size - offset));
    let got = 0;
    while (got < want) {
      const bytesRead = readSync(fh.fd, target, got, want - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got;
  };
  return {
    name: path.basename(filePath),
    size: st.size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      if (offset < 0 || length < 0) throw new RangeError(`bad read ${offset}+${length}`);
      // Not zero-filled: every byte returned is overwritten by the read (short reads are trimmed).
      const buf = Buffer.allocUnsafe(Math.max(0, Math.min(length, st.size - offset)));
      const got = await readInto(offset, buf);
      return got === buf.length ? buf : buf.subarray(0, got);
    },
    readInto,
    readIntoSync,
    close: () => fh.close(),
  };
}

/**
 * A directory as a DirectorySource. Opened files stay open until `close()`
 * (a segment is read in many small reads).
 */
export function localDirectory(dirPath: string): DirectorySource & { close(): Promise<void> } {
  const open = new Map<string, Promise<ByteSource & { close(): Promise<void> }>>();
  /** Subdirectories handed out (etcd's member/wal): closed with this one, so their files are too. */
  const children: (DirectorySource & { close(): Promise<void> })[] = [];
  const self: DirectorySource & { close(): Promise<void> } = {
    name: path.basename(path.resolve(dirPath)),
    async list(): Promise<DirEntry[]> {
      const names = await fs.readdir(dirPath);
      const out: DirEntry[] = [];
      for (const name of names.sort()) {
        const st = await fs.lstat(path.join(dirPath, name));
        out.push({
          name,
          size: st.size,
          kind: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other',
          mtimeMs: st.mtimeMs,
        });
      }
      return out;
    },
    open(name: string) {
      if (name.includes('/') || name.includes('\\') || name === '..' || name === '.') {
        return Promise.reject(new Error(`not a plain file name: ${name}`));
      }
      let p = open.get(name);
      if (!p) {
        p = openFileSource(path.join(dirPath, name));
        open.set(name, p);
        p.catch(() => open.delete(name));
      }
      return p;
    },
    async subdir(name: string) {
      if (name.includes('/') || name.includes('\\') || name === '..' || name === '.' || name === '') {
        throw new Error(`not a plain directory name: ${name}`);
      }
      const child = localDirectory(path.join(dirPath, name));
      children.push(child);
      return child;
    },
    async close() {
      const all = [...open.values()];
      open.clear();
      const subs = children.splice(0);
      await Promise.allSettled([...all.map(async (p) => (await p).close()), ...subs.map((c) => c.close())]);
    },
  };
  return self;
}

export type LocalTarget = DirectorySource & { close(): Promise<void>; isFile: boolean; path: string };

/**
 * A local path as a read-only DirectorySource. A single file becomes a
 * one-entry directory, so validation can still say what it is (or that the
 * engine is unknown). Throws for a missing or unreadable path.
 */
export async function openLocalTarget(p: string): Promise<LocalTarget> {
  const abs = path.resolve(p);
  const st = await fs.stat(abs);
  if (st.isDirectory()) {
    await fs.access(abs, fs.constants.R_OK | fs.constants.X_OK);
    return Object.assign(localDirectory(abs), { isFile: false, path: abs });
  }
  if (!st.isFile()) throw new Error(`${abs} is neither a file nor a directory`);
  await fs.access(abs, fs.constants.R_OK);
  const name = path.basename(abs);
  let opened: ReturnType<typeof openFileSource> | null = null;
  return {
    name,
    isFile: true,
    path: abs,
    async list(): Promise<DirEntry[]> {
      const s = await fs.stat(abs);
      return [{ name, size: s.size, kind: 'file', mtimeMs: s.mtimeMs }];
    },
    open(n: string) {
      if (n !== name) return Promise.reject(new Error(`no such file: ${n}`));
      opened ??= openFileSource(abs);
      return opened;
    },
    async close() {
      const o = opened;
      opened = null;
      if (o) await (await o).close();
    },
  };
}
