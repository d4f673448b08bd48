/**
 * Copy a data directory (or one file) off a node over SFTP, with integrity:
 * 1. list the remote tree twice, `settleMs` apart; refuse when sizes/mtimes
 *    move (an engine still writing) unless `force`;
 * 2. `sha256sum` on the node (file names go through stdin, NUL-separated);
 * 3. pipelined SFTP reads written strictly in order into `<file>.partial`, so a
 *    partial file is always a clean prefix and a dropped link resumes from
 *    its size; renamed into place when complete;
 * 4. hash the local copy and compare file by file; a resumed file that does
 *    not match is fetched again once from the start.
 * The remote side is only ever opened read-only. The flow (listings, state
 * file, resume, manifest, comparison, progress) is `copyTree`; how the node is
 * read is a `RemoteTreeReader`: SFTP as the login user here, read-only
 * commands as root through sudo in sudo-copy.ts.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';
import type { CopyOutProgress, CopyOutResult, ManifestEntry } from '../../../shared/contract/ssh';
import { shellQuote, type SshConnection } from './connection';

export interface RemoteFile {
  /** Relative to the copied root, `/`-separated. */
  rel: string;
  size: number;
  mtime: number;
}

export class DirectoryChangingError extends Error {
  constructor(readonly changed: string[]) {
    super(
      `the remote directory is being written (${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', …' : ''} changed between two listings); ` +
        'stop the engine first, or copy anyway with force',
    );
    this.name = 'DirectoryChangingError';
  }
}

export class CopyOutError extends Error {
  constructor(
    message: string,
    readonly resumable: boolean,
  ) {
    super(message);
    this.name = 'CopyOutError';
  }
}

/** How a copy reads the node. Every method only reads. */
export interface RemoteTreeReader {
  /** Regular files under `root` (symlinks and specials skipped), or `root` itself when it is a file. */
  list(root: string, maxFiles: number): Promise<{ isDir: boolean; files: RemoteFile[] }>;
  /**
   * SHA-256 computed on the node, by `rels` (relative to `hashRoot`). For a
   * directory `hashRoot` is the copied root; for one file its parent and
   * `rels` is its name.
   */
  hash(hashRoot: string, rels: string[], isDir: boolean): Promise<Map<string, string>>;
  /**
   * Bytes [offset, size) of `remote` into `partial`, which holds exactly the
   * first `offset` bytes, written strictly in order so that an interruption
   * leaves a clean prefix. Reports each written run through `onBytes`.
   */
  fetch(remote: string, partial: string, offset: number, size: number, onBytes: (n: number) => void, signal?: AbortSignal): Promise<void>;
}

/** Where and how to copy, whatever reads the node. */
export interface CopyTreeOptions {
  remotePath: string;
  /** The copy lands in `localDir/<basename(remotePath)>`. */
  localDir: string;
  force?: boolean;
  /** Pause between the two listings (default 1500 ms; SFTP mtimes have 1 s resolution). */
  settleMs?: number;
  onProgress?(p: CopyOutProgress): void;
  signal?: AbortSignal;
  /** Refuse trees with more files than this (default 100 000). */
  maxFiles?: number;
}

export interface CopyOutOptions extends CopyTreeOptions {
  conn: SshConnection;
}

// Large requests: ssh2 splits each into packet-sized reads itself, and fewer, bigger
// requests keep more bytes in flight per round trip (about 2x over 64 KiB x 16 on loopback).
const CHUNK = 256 * 1024;
const IN_FLIGHT = 8;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

function sftpCall<T>(fn: (cb: (err: Error | null | undefined, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

function posixJoin(a: string, b: string): string {
  return a.endsWith('/') ? a + b : `${a}/${b}`;
}

/** A name is one path component; a hostile server must not steer local writes elsewhere. */
export function checkRemoteName(name: string, dir: string): void {
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new CopyOutError(`refusing the remote file name ${JSON.stringify(name)} in ${dir}`, false);
  }
}

/** Recursive listing of regular files (symlinks and specials are not followed). */
export async function listRemoteTree(sftp: SFTPWrapper, root: string, maxFiles = 100_000): Promise<{ isDir: boolean; files: RemoteFile[] }> {
  const top = await sftpCall<Stats>((cb) => sftp.lstat(root, cb));
  const type = (top.mode ?? 0) & S_IFMT;
  if (type === S_IFREG) return { isDir: false, files: [{ rel: path.posix.basename(root), size: top.size, mtime: top.mtime }] };
  if (type !== S_IFDIR) throw new CopyOutError(`${root} is neither a directory nor a regular file`, false);
  const files: RemoteFile[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = await sftpCall<FileEntryWithStats[]>((cb) => sftp.readdir(dir, cb));
    entries.sort((x, y) => (x.filename < y.filename ? -1 : x.filename > y.filename ? 1 : 0));
    for (const e of entries) {
      if (e.filename === '.' || e.filename === '..') continue;
      checkRemoteName(e.filename, dir);
      const t = (e.attrs.mode ?? 0) & S_IFMT;
      const rel = prefix ? `${prefix}/${e.filename}` : e.filename;
      if (t === S_IFREG) {
        files.push({ rel, size: e.attrs.size, mtime: e.attrs.mtime });
        if (files.length > maxFiles) throw new CopyOutError(`more than ${maxFiles} files under ${root}`, false);
      } else if (t === S_IFDIR) {
        await walk(posixJoin(dir, e.filename), rel);
      }
    }
  };
  await walk(root, '');
  return { isDir: true, files };
}

export function changedBetween(a: RemoteFile[], b: RemoteFile[]): string[] {
  const before = new Map(a.map((f) => [f.rel, f]));
  const after = new Map(b.map((f) => [f.rel, f]));
  const changed: string[] = [];
  for (const [rel, f] of before) {
    const g = after.get(rel);
    if (!g) changed.push(`${rel} (removed)`);
    else if (g.size !== f.size || g.mtime !== f.mtime) changed.push(`${rel} (${f.size} → ${g.size} bytes)`);
  }
  for (const rel of after.keys()) if (!before.has(rel)) changed.push(`${rel} (new)`);
  return changed;
}

/** The exact command that hashes on the node (shown to the user before a copy starts). */
export function remoteHashCommand(root: string): string {
  return `cd ${shellQuote(root)} && xargs -0 sha256sum -z --`;
}

/** `sha256sum -z` output (`HASH  NAME\0` records, names unescaped) by name; `rename` maps printed names. */
export function parseSha256z(stdout: string, rename: (name: string) => string = (n) => n): Map<string, string> {
  const out = new Map<string, string>();
  for (const rec of stdout.split('\0')) {
    const m = /^([0-9a-f]{64}) [ *](.*)$/s.exec(rec);
    if (m) out.set(rename(m[2]), m[1]);
  }
  return out;
}

/** `sha256sum -z` on the node; names via stdin so nothing is limited by the command line. */
export async function remoteSha256(conn: SshConnection, root: string, rels: string[]): Promise<Map<string, string>> {
  if (rels.length === 0) return new Map();
  const res = await conn.exec(remoteHashCommand(root), {
    stdin: Buffer.from(rels.map((r) => r + '\0').join(''), 'utf8'),
    maxOutputBytes: rels.length * (64 + 4 + 4096) + 1024,
  });
  if (res.code !== 0) throw new CopyOutError(`sha256sum on the node failed (exit ${res.code}): ${res.stderr.trim().slice(0, 500)}`, false);
  return parseSha256z(res.stdout);
}

export async function localSha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

interface CopyState {
  version: 1;
  remotePath: string;
  files: RemoteFile[];
}

class ProgressMeter {
  private startedAt = Date.now();
  private lastEmit = 0;
  transferred = 0;
  constructor(
    private readonly p: CopyOutProgress,
    private readonly sink?: (p: CopyOutProgress) => void,
  ) {}
  set(patch: Partial<CopyOutProgress>, force = false): void {
    Object.assign(this.p, patch);
    const now = Date.now();
    if (!force && now - this.lastEmit < 200) return;
    this.lastEmit = now;
    const secs = Math.max(0.001, (now - this.startedAt) / 1000);
    this.p.bytesPerSecond = Math.round(this.transferred / secs);
    const left = this.p.bytesTotal - this.p.bytesDone;
    this.p.etaSeconds = this.p.bytesPerSecond > 0 ? Math.ceil(left / this.p.bytesPerSecond) : null;
    this.sink?.({ ...this.p });
  }
}

/** Download `remote` from `offset` into `partial`, reads pipelined, writes in order. */
async function fetchSftpFile(
  sftp: SFTPWrapper,
  remote: string,
  partial: string,
  offset: number,
  size: number,
  onBytes: (n: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const handle = await sftpCall<Buffer>((cb) => sftp.open(remote, 'r', cb));
  const fh = await fs.open(partial, offset > 0 ? 'r+' : 'w');
  try {
    let next = offset; // next offset to request
    let writeAt = offset; // contiguous prefix on disk
    const done = new Map<number, Buffer>();
    let failed: Error | null = null;
    let inFlight = 0;
    await new Promise<void>((resolve, reject) => {
      const pump = (): void => {
        if (failed) {
          if (inFlight === 0) reject(failed);
          return;
        }
        if (signal?.aborted) failed = new CopyOutError('cancelled', true);
        while (!failed && inFlight < IN_FLIGHT && next < size) {
          const at = next;
          const len = Math.min(CHUNK, size - at);
          next += len;
          inFlight++;
          const buf = Buffer.allocUnsafe(len);
          sftp.read(handle, buf, 0, len, at, (err, n) => {
            inFlight--;
            if (err) failed ??= err;
            else if (n === 0) failed ??= new CopyOutError(`${remote} is shorter than listed (EOF at ${at})`, true);
            else {
              done.set(at, buf.subarray(0, n));
              if (n < len) {
                // Short read: ask for the rest later; keep the order intact.
                const rest = at + n;
                next = Math.min(next, rest);
                for (const k of [...done.keys()]) if (k > rest) done.delete(k);
              }
            }
            void flush().then(pump, (e: Error) => {
              failed ??= e;
              pump();
            });
          });
        }
        if (!failed && inFlight === 0 && writeAt >= size) resolve();
        else if (failed && inFlight === 0) reject(failed);
      };
      let flushing = false;
      const flush = async (): Promise<void> => {
        if (flushing) return;
        flushing = true;
        try {
          for (let b = done.get(writeAt); b; b = done.get(writeAt)) {
            done.delete(writeAt);
            await fh.write(b, 0, b.length, writeAt);
            writeAt += b.length;
            onBytes(b.length);
          }
        } finally {
          flushing = false;
        }
      };
      pump();
    });
  } finally {
    await fh.close();
    await closeQuietly(sftp, handle);
  }
}

/** Close a remote handle; on a dead link the reply never comes, so do not wait long. */
async function closeQuietly(sftp: SFTPWrapper, handle: Buffer): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    sftpCall<void>((cb) => sftp.close(handle, (err) => cb(err, undefined))).catch(() => undefined),
    new Promise<void>((r) => (timer = setTimeout(r, 2000))),
  ]);
  clearTimeout(timer);
}

async function sizeOf(file: string): Promise<number | null> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return null;
  }
}

/** The login user's view of the node, over SFTP (plus `sha256sum` in a shell). */
export function sftpTreeReader(conn: SshConnection, sftp: SFTPWrapper): RemoteTreeReader {
  return {
    list: (root, maxFiles) => listRemoteTree(sftp, root, maxFiles),
    hash: (hashRoot, rels) => remoteSha256(conn, hashRoot, rels),
    fetch: (remote, partial, offset, size, onBytes, signal) => fetchSftpFile(sftp, remote, partial, offset, size, onBytes, signal),
  };
}

export async function copyOut(opts: CopyOutOptions): Promise<CopyOutResult> {
  let sftp: SFTPWrapper;
  try {
    sftp = await opts.conn.sftp();
  } catch (e) {
    throw new CopyOutError(`SFTP not available: ${(e as Error).message}`, true);
  }
  return copyTree(sftpTreeReader(opts.conn, sftp), opts);
}

/** The copy-out flow (see the top of this file), reading the node through `reader`. */
export async function copyTree(reader: RemoteTreeReader, opts: CopyTreeOptions): Promise<CopyOutResult> {
  const t0 = Date.now();
  const remoteRoot = opts.remotePath.replace(/\/+$/, '') || '/';
  const name = path.posix.basename(remoteRoot) || 'root';
  const localRoot = path.join(opts.localDir, name);
  const statePath = path.join(opts.localDir, `${name}.copyout-state.json`);
  const manifestPath = path.join(opts.localDir, `${name}.sha256`);
  const progress: CopyOutProgress = {
    phase: 'listing', bytesDone: 0, bytesTotal: 0, filesDone: 0, filesTotal: 0,
    currentFile: null, bytesPerSecond: 0, etaSeconds: null,
  };
  const meter = new ProgressMeter(progress, opts.onProgress);
  const maxFiles = opts.maxFiles ?? 100_000;

  meter.set({ phase: 'listing' }, true);
  const first = await reader.list(remoteRoot, maxFiles);
  await new Promise((r) => setTimeout(r, opts.settleMs ?? 1500));
  const second = await reader.list(remoteRoot, maxFiles);
  const moving = changedBetween(first.files, second.files);
  if (moving.length > 0 && !opts.force) throw new DirectoryChangingError(moving);
  const files = second.files;
  const hashRoot = first.isDir ? remoteRoot : path.posix.dirname(remoteRoot);
  const remotePathOf = (rel: string) => (first.isDir ? posixJoin(remoteRoot, rel) : remoteRoot);
  const localPathOf = (rel: string) => (first.isDir ? path.join(localRoot, ...rel.split('/')) : localRoot);

  // A previous attempt's partial files are only trusted if the remote did not move since.
  await fs.mkdir(opts.localDir, { recursive: true });
  let previous: CopyState | null = null;
  try {
    previous = JSON.parse(await fs.readFile(statePath, 'utf8')) as CopyState;
    if (previous.version !== 1 || previous.remotePath !== remoteRoot) previous = null;
  } catch {
    previous = null;
  }
  const prevByRel = new Map((previous?.files ?? []).map((f) => [f.rel, f]));
  await fs.writeFile(statePath, JSON.stringify({ version: 1, remotePath: remoteRoot, files } satisfies CopyState));

  meter.set({ phase: 'hashing-remote', filesTotal: files.length, bytesTotal: files.reduce((s, f) => s + f.size, 0) }, true);
  const remoteHashes = await reader.hash(hashRoot, first.isDir ? files.map((f) => f.rel) : [path.posix.basename(remoteRoot)], first.isDir);

  let resumedBytes = 0;
  const resumed = new Set<string>();
  meter.set({ phase: 'copying' }, true);
  for (const f of files) {
    const dest = localPathOf(f.rel);
    const partial = `${dest}.partial`;
    await fs.mkdir(path.dirname(dest), { recursive: true });
    const prev = prevByRel.get(f.rel);
    const unchanged = prev !== undefined && prev.size === f.size && prev.mtime === f.mtime;
    meter.set({ currentFile: f.rel });
    if (unchanged && (await sizeOf(dest)) === f.size) {
      resumedBytes += f.size;
      resumed.add(f.rel);
      meter.set({ bytesDone: progress.bytesDone + f.size, filesDone: progress.filesDone + 1 });
      continue;
    }
    let offset = unchanged ? ((await sizeOf(partial)) ?? 0) : 0;
    if (offset > f.size) offset = 0;
    if (offset > 0) {
      resumedBytes += offset;
      resumed.add(f.rel);
      meter.set({ bytesDone: progress.bytesDone + offset });
    }
    try {
      await reader.fetch(remotePathOf(f.rel), partial, offset, f.size, (n) => {
        meter.transferred += n;
        meter.set({ bytesDone: progress.bytesDone + n });
      }, opts.signal);
    } catch (e) {
      if (e instanceof CopyOutError) throw e;
      throw new CopyOutError(`copy of ${f.rel} interrupted at ${(await sizeOf(partial)) ?? 0}/${f.size} bytes: ${(e as Error).message}`, true);
    }
    await fs.rename(partial, dest);
    meter.set({ filesDone: progress.filesDone + 1 }, true); // every finished file is reported, however fast
  }

  meter.set({ phase: 'hashing-local', currentFile: null }, true);
  const entries: ManifestEntry[] = [];
  for (const f of files) {
    const dest = localPathOf(f.rel);
    const remoteHash = remoteHashes.get(first.isDir ? f.rel : path.posix.basename(remoteRoot)) ?? null;
    let localHash = await localSha256(dest);
    if (remoteHash && localHash !== remoteHash && resumed.has(f.rel)) {
      // The resumed prefix was not what the node has now: fetch it whole once.
      await reader.fetch(remotePathOf(f.rel), `${dest}.partial`, 0, f.size, (n) => (meter.transferred += n), opts.signal);
      await fs.rename(`${dest}.partial`, dest);
      localHash = await localSha256(dest);
      resumedBytes -= Math.min(resumedBytes, f.size);
    }
    entries.push({ path: f.rel, size: f.size, remoteSha256: remoteHash, localSha256: localHash, match: remoteHash === localHash });
  }
  await fs.writeFile(manifestPath, entries.map((e) => `${e.remoteSha256 ?? '-'.repeat(64)}  ${e.path}\n`).join(''));
  await fs.rm(statePath, { force: true });
  meter.set({ phase: 'done' }, true);
  return {
    remotePath: remoteRoot,
    localPath: localRoot,
    files: entries,
    bytes: files.reduce((s, f) => s + f.size, 0),
    allMatch: entries.every((e) => e.match),
    resumedBytes,
    elapsedMs: Date.now() - t0,
    manifestPath,
  };
}
