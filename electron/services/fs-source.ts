/**
 * Read-only local byte sources. Files are opened with O_RDONLY and never
 * written: validation must not touch evidence (tests hash inputs before/after).
 */
import { closeSync, constants, fstatSync, open as fsOpen, openSync, promises as fs, read as fsRead, readSync } from 'node:fs';
import * as path from 'node:path';
import type { ByteSource, ChunkReadAhead, DirEntry, DirectorySource, ReadAheadLayout } from '../../shared/bytes/byte-source';
import { startReadAhead } from './read-ahead-thread';
import { OpenBudget, type ReleasableFile } from './open-budget';

/**
 * How many files one opened directory tree (a data dir with its member/wal and member/snap) keeps open at
 * once. A dqlite backend left to grow can hold thousands of segments, and every file validated used to stay open
 * until the end: past the process's limit (ulimit -n) validation failed with EMFILE. Past this budget the least
 * recently read file that no read is using is closed, and opened again when it is read again.
 */
export const MAX_OPEN_FILES = 256;

/** The open files of one local directory tree, least recently read first. */
export class DescriptorBudget extends OpenBudget<LocalFile> {}

function openFd(filePath: string): Promise<number> {
  return new Promise((resolve, reject) => fsOpen(filePath, constants.O_RDONLY, (err, fd) => (err ? reject(err) : resolve(fd))));
}

function readFd(fd: number, target: Uint8Array, at: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => fsRead(fd, target, at, length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

/**
 * One read-only file with its descriptor, which its budget may close while no read uses it: the next read opens
 * the path again and goes on only if it is still the same file (device and inode), so a file replaced meanwhile is
 * an error, never other bytes.
 */
class LocalFile implements ReleasableFile {
  private fd: number | null;
  private busy = 0;
  private closing = false;

  constructor(
    readonly path: string,
    fd: number,
    readonly st: { size: number; dev: bigint; ino: bigint },
    private readonly budget: DescriptorBudget,
  ) {
    this.fd = fd;
    budget.used(this);
  }

  /** The descriptor, opened again if the budget closed it. */
  private descriptor(): number {
    if (this.closing) throw new Error(`${this.path} was closed`);
    if (this.fd === null) {
      const fd = openSync(this.path, constants.O_RDONLY);
      const now = fstatSync(fd, { bigint: true });
      if (now.dev !== this.st.dev || now.ino !== this.st.ino) {
        closeSync(fd);
        throw new Error(`${this.path} was replaced by another file while it was being read: copy the data directory again`);
      }
      this.fd = fd;
    }
    this.budget.used(this);
    return this.fd;
  }

  readSync(offset: number, target: Uint8Array): number {
    if (offset < 0) throw new RangeError(`bad read at ${offset}`);
    const want = Math.max(0, Math.min(target.length, this.st.size - offset));
    const fd = this.descriptor();
    let got = 0;
    while (got < want) {
      const n = readSync(fd, target, got, want - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got;
  }

  async read(offset: number, target: Uint8Array): Promise<number> {
    if (offset < 0) throw new RangeError(`bad read at ${offset}`);
    const want = Math.max(0, Math.min(target.length, this.st.size - offset));
    const fd = this.descriptor();
    this.busy++;
    try {
      let got = 0;
      while (got < want) {
        const n = await readFd(fd, target, got, want - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      return got;
    } finally {
      this.busy--;
      if (this.closing && this.busy === 0) this.closeNow();
      else if (this.busy === 0) this.budget.settled(this);
    }
  }

  /** Close the descriptor for the budget if no read uses it (reopened on the next read). */
  release(): boolean {
    if (this.busy > 0 || this.fd === null) return false;
    const fd = this.fd;
    this.fd = null;
    try {
      closeSync(fd);
    } catch {
      // Closed either way: nothing of it is used again.
    }
    return true;
  }

  close(): void {
    this.closing = true;
    this.budget.closed(this);
    if (this.busy === 0) this.closeNow();
  }

  private closeNow(): void {
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // Already gone.
      }
    }
  }
}

/**
 * A read-only file. Besides `read`, it can fill a caller's buffer (`readInto`): salvage's window
 * cache and the SHA-256 passes reuse a few buffers instead of allocating one per chunk.
 * `readIntoSync` does the same in this thread, blocking it: for a worker thread whose next step
 * waits for the bytes anyway (the bbolt walk's chunk reads: no hand-off to the I/O threads).
 * With a budget (a directory's), its descriptor may be closed between reads and opened again.
 */
export async function openFileSource(
  filePath: string,
  budget: DescriptorBudget = new DescriptorBudget(1),
): Promise<
  ByteSource & {
    readInto(offset: number, target: Uint8Array): Promise<number>;
    readIntoSync: (offset: number, target: Uint8Array) => number;
    readAhead(layout: ReadAheadLayout): ChunkReadAhead | null;
    close(): Promise<void>;
  }
> {
  const fd = await openFd(filePath);
  let file: LocalFile;
  try {
    const b = fstatSync(fd, { bigint: true });
    file = new LocalFile(filePath, fd, { size: Number(b.size), dev: b.dev, ino: b.ino }, budget);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  const st = file.st;
  const readAheads: ChunkReadAhead[] = [];
  const readInto = (offset: number, target: Uint8Array): Promise<number> => file.read(offset, target);
  const readIntoSync = (offset: number, target: Uint8Array): number => file.readSync(offset, target);
  return {
    name: path.basename(filePath),
    size: st.size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      if (offset < 0 || length < 0) throw new RangeError(`bad read ${offset}+${length}`);
      // Not zero-filled: every byte returned is overwritten by the read (short reads are trimmed).
      const pooled = Buffer.allocUnsafe(Math.max(0, Math.min(length, st.size - offset)));
      // A plain Uint8Array view, not the Buffer: the decoders then see one array class, so V8's optimized code
      // for them is not thrown away and rebuilt when a Buffer turns up among Uint8Arrays (salvage: ~30 such rebuilds).
      const buf = new Uint8Array(pooled.buffer, pooled.byteOffset, pooled.length);
      const got = await readInto(offset, buf);
      return got === buf.length ? buf : buf.subarray(0, got);
    },
    readInto,
    readIntoSync,
    // Another thread reads the same file (opened by path, checked to be this one by device and inode).
    readAhead(layout) {
      const ahead = startReadAhead(path.resolve(filePath), st, layout);
      readAheads.push(ahead);
      return ahead;
    },
    close: () => {
      for (const a of readAheads.splice(0)) a.stop();
      file.close();
      return Promise.resolve();
    },
  };
}

/**
 * A directory as a DirectorySource. Opened files stay open until `close()`
 * (a segment is read in many small reads), at most `MAX_OPEN_FILES` of the
 * tree at once (its subdirectories share the budget).
 */
export function localDirectory(dirPath: string, budget: DescriptorBudget = new DescriptorBudget(MAX_OPEN_FILES)): DirectorySource & { close(): Promise<void> } {
  const open = new Map<string, Promise<ByteSource & { close(): Promise<void> }>>();
  /** Subdirectories handed out (etcd's member/wal): closed with this one, so their files are too. */
  const children: (DirectorySource & { close(): Promise<void> })[] = [];
  const self: DirectorySource & { close(): Promise<void> } = {
    name: path.basename(path.resolve(dirPath)),
    async list(): Promise<DirEntry[]> {
      const names = await fs.readdir(dirPath);
      const out: DirEntry[] = [];
      for (const name of names.sort()) {
        const at = path.join(dirPath, name);
        const lst = await fs.lstat(at);
        // A symbolic link is read through, as etcd and dqlite open it (a WAL moved to another disk and linked
        // back); one that leads nowhere stays a link.
        const link = lst.isSymbolicLink() ? await fs.readlink(at).catch(() => '') : null;
        const st = link !== null ? await fs.stat(at).catch(() => lst) : lst;
        out.push({
          name,
          size: st.size,
          kind: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other',
          mtimeMs: st.mtimeMs,
          ...(link !== null ? { linkTarget: link } : {}),
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
        p = openFileSource(path.join(dirPath, name), budget);
        open.set(name, p);
        p.catch(() => open.delete(name));
      }
      return p;
    },
    async subdir(name: string) {
      if (name.includes('/') || name.includes('\\') || name === '..' || name === '.' || name === '') {
        throw new Error(`not a plain directory name: ${name}`);
      }
      const child = localDirectory(path.join(dirPath, name), budget);
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

type ReadIntoByteSource = ByteSource & { readInto(offset: number, target: Uint8Array): Promise<number> };

function canFill(src: ByteSource): src is ReadIntoByteSource {
  return typeof (src as Partial<ReadIntoByteSource>).readInto === 'function';
}

/** A window read ahead is read in pieces of this size, in parallel. */
const READ_PIECE = 1024 * 1024;

/** Fill `target` from `offset` (fewer bytes only at the end of the file). */
async function fillFrom(src: ReadIntoByteSource, offset: number, target: Uint8Array): Promise<number> {
  let got = 0;
  while (got < target.length) {
    const n = await src.readInto(offset + got, target.subarray(got));
    if (n === 0) break;
    got += n;
  }
  return got;
}

/**
 * `dir` whose files, read front to back with `readInto` (a WAL scan: 4 MiB
 * windows, each starting at the first record the previous one cut), have
 * their next window read while the caller decodes this one: the read runs in
 * the I/O threads instead of between two decodes. The next window is read
 * from where the last one ended; a read starting a little before that takes
 * its first bytes from the file and the rest from the window read ahead (a
 * copy). One window is read ahead for the whole directory (one buffer,
 * whichever file is being read). Other reads pass through.
 */
export function readAheadDirectory(dir: DirectorySource): DirectorySource {
  let ahead: { src: ReadIntoByteSource; offset: number; buf: Uint8Array; done: Promise<number | Error> } | null = null;
  /** A buffer no read uses (the last window read ahead for nothing). */
  let spare: Uint8Array | null = null;
  /** Where the last read of each file started (a later start: the file is read forward). */
  const starts = new WeakMap<ByteSource, number>();
  const startAhead = (src: ReadIntoByteSource, offset: number, length: number, buf: Uint8Array | null): void => {
    if (offset >= src.size || length === 0) return;
    const into = buf && buf.length >= length ? buf : new Uint8Array(length);
    const target = into.subarray(0, Math.min(length, src.size - offset));
    // In pieces read at once (the kernel's copy out of the page cache in several I/O threads); the bytes there are
    // are the pieces' sum, as a piece is short only at the end of the file.
    const pieces: Promise<number>[] = [];
    for (let at = 0; at < target.length; at += READ_PIECE)
      pieces.push(fillFrom(src, offset + at, target.subarray(at, Math.min(target.length, at + READ_PIECE))));
    // Caught at once (it may never be used); the error is rethrown to the read that uses it.
    // Settled only when every piece is (a failed one must not leave others writing into a buffer reused after it).
    const done = Promise.allSettled(pieces).then((results) => {
      let got = 0;
      for (const r of results) {
        if (r.status === 'rejected') return r.reason instanceof Error ? r.reason : new Error(String(r.reason));
        got += r.value;
      }
      return got;
    });
    ahead = { src, offset, buf: into, done };
  };
  const wrap = (src: ReadIntoByteSource): ReadIntoByteSource => ({
    name: src.name,
    size: src.size,
    read: (offset, length) => src.read(offset, length),
    async readInto(offset, target) {
      const pending = ahead;
      ahead = null;
      const forward = (starts.get(src) ?? Infinity) < offset;
      starts.set(src, offset);
      let got: number;
      const skip = pending ? pending.offset - offset : -1;
      if (pending && pending.src === src && skip >= 0 && skip < target.length) {
        // The bytes before the window read ahead (the record the last window cut) come from the file, meanwhile.
        const [head, n] = await Promise.all([fillFrom(src, offset, target.subarray(0, skip)), pending.done]);
        if (n instanceof Error) throw n;
        if (head < skip) got = head;
        else {
          const used = Math.min(n, target.length - skip);
          target.set(pending.buf.subarray(0, used), skip);
          got = skip + used;
          // A window read ahead shorter than this read (not at the end of the file): the rest as asked.
          if (got < target.length && offset + got < src.size) got += await fillFrom(src, offset + got, target.subarray(got));
        }
        startAhead(src, offset + got, target.length, pending.buf);
        return got;
      }
      if (pending) {
        // Read ahead for nothing (the reader jumped, or another file): its buffer is free once its read is over.
        await pending.done;
        spare = pending.buf;
      }
      got = await src.readInto(offset, target);
      if (forward) {
        const buf = spare;
        spare = null;
        startAhead(src, offset + got, target.length, buf);
      }
      return got;
    },
  });
  const self: DirectorySource = {
    name: dir.name,
    list: () => dir.list(),
    async open(name) {
      const src = await dir.open(name);
      return canFill(src) ? wrap(src) : src;
    },
  };
  if (dir.subdir) {
    const sub = dir.subdir.bind(dir);
    self.subdir = async (name) => readAheadDirectory(await sub(name));
  }
  return self;
}
