/**
 * Copy a data directory (or one file) off a node over SFTP, with integrity:
 * 1. list the remote tree twice, `settleMs` apart; refuse when sizes/mtimes
 *    move (an engine still writing) unless `force`;
 * 2. SHA-256 on the node (`openssl dgst -sha256`, else `sha256sum`; file names
 *    go through stdin, NUL-separated);
 * 3. pipelined SFTP reads (spread over several SFTP sessions, two files at a
 *    time) written strictly in order into `<file>.partial`, so a partial file
 *    is always a clean prefix and a dropped link resumes from its size;
 *    renamed into place when complete;
 * 4. hash each local file from the bytes as they are written (a resumed
 *    prefix is read back once) and compare file by file; a resumed file that
 *    does not match is fetched again once from the start.
 * A fresh copy does not wait for steps 1 and 2: the transfer starts after the
 * first listing, the second listing and the node's hashing run beside it, and
 * a directory found changing is refused (this run's own output removed) just
 * as before. The copy needs the same time as the transfer, not their sum.
 * The remote side is only ever opened read-only. The flow (listings, state
 * file, resume, manifest, comparison, progress) is `copyTree`; how the node is
 * read is a `RemoteTreeReader`: SFTP as the login user here, read-only
 * commands as root through sudo in sudo-copy.ts.
 */
import { createHash, type Hash } from 'node:crypto';
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
   * leaves a clean prefix. Reports each written run, in file order, through
   * `onWritten` (the copy hashes the file from these bytes as it goes).
   */
  fetch(remote: string, partial: string, offset: number, size: number, onWritten: (bytes: Uint8Array) => void, signal?: AbortSignal): Promise<void>;
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
// 48 in flight (12 MiB of buffers per file), spread over the copy's SFTP sessions, keeps every
// channel's 2 MiB window full where 8 on one channel left the link idle between replies.
const CHUNK = 256 * 1024;
const IN_FLIGHT = 48;
/** Files fetched at once (memory: PARALLEL_FILES x IN_FLIGHT x CHUNK = 24 MiB of read buffers at most). */
const PARALLEL_FILES = 2;
/**
 * SFTP sessions a copy opens besides the connection's own, for its duration. OpenSSH allows 10
 * channels per connection by default (MaxSessions), shared with terminals and commands: with the
 * connection's own SFTP and the node-side hash, a copy holds 5 and leaves 5.
 */
const EXTRA_SFTP_SESSIONS = 3;
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

/**
 * The exact command that hashes on the node (shown to the user before a copy starts). OpenSSL's
 * SHA-256 uses the CPU's SHA instructions where coreutils' `sha256sum` does not (here: 0.15 against
 * 0.51 CPU seconds per 256 MiB), which matters when the node's CPU is busy; `sha256sum` when
 * there is no openssl. Both read the file names NUL-separated from stdin.
 */
export function remoteHashCommand(root: string): string {
  return `cd ${shellQuote(root)} && if command -v openssl >/dev/null 2>&1; then xargs -0 openssl dgst -sha256 -r --; else xargs -0 sha256sum -z --; fi`;
}

/** For names OpenSSL's line output cannot carry unambiguously (newline, backslash): `sha256sum -z` only. */
function plainHashCommand(root: string): string {
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

/** `openssl dgst -sha256 -r` output (`HASH *NAME` lines) or `sha256sum -z` output, by name. */
export function parseNodeHashes(stdout: string): Map<string, string> {
  if (stdout.includes('\0')) return parseSha256z(stdout);
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^([0-9a-f]{64}) \*(.*)$/.exec(line);
    if (m) out.set(m[2], m[1]);
  }
  return out;
}

/** SHA-256 of each file on the node; names via stdin so nothing is limited by the command line. */
export async function remoteSha256(conn: SshConnection, root: string, rels: string[]): Promise<Map<string, string>> {
  if (rels.length === 0) return new Map();
  const command = rels.some((r) => /[\n\\]/.test(r)) ? plainHashCommand(root) : remoteHashCommand(root);
  const res = await conn.exec(command, {
    stdin: Buffer.from(rels.map((r) => r + '\0').join(''), 'utf8'),
    maxOutputBytes: rels.length * (64 + 4 + 4096) + 1024,
  });
  if (res.code !== 0) throw new CopyOutError(`hashing on the node failed (exit ${res.code}): ${res.stderr.trim().slice(0, 500)}`, false);
  return parseNodeHashes(res.stdout);
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

/**
 * Download `remote` from `offset` into `partial`, reads pipelined and spread
 * round-robin over the SFTP sessions given (each has its own channel window),
 * writes in order.
 */
async function fetchSftpFile(
  sessions: SFTPWrapper[],
  remote: string,
  partial: string,
  offset: number,
  size: number,
  onWritten: (bytes: Uint8Array) => void,
  signal?: AbortSignal,
): Promise<void> {
  const handles: Buffer[] = [];
  try {
    for (const sftp of sessions) handles.push(await sftpCall<Buffer>((cb) => sftp.open(remote, 'r', cb)));
  } catch (e) {
    await Promise.all(handles.map((h, i) => closeQuietly(sessions[i], h)));
    throw e;
  }
  let turn = 0;
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(partial, offset > 0 ? 'r+' : 'w');
  } catch (e) {
    await Promise.all(handles.map((h, i) => closeQuietly(sessions[i], h)));
    throw e;
  }
  try {
    let next = offset; // next offset to request
    let writeAt = offset; // contiguous prefix on disk
    const done = new Map<number, Buffer>();
    let failed: Error | null = null;
    let inFlight = 0;
    /** Outstanding reads by session: a session that closes fails its own (ssh2 may never answer them). */
    const pending = sessions.map(() => new Set<{ settled: boolean }>());
    let pump = (): void => undefined;
    const onSessionClosed = (lane: number) => (): void => {
      failed ??= new CopyOutError(`the SFTP session closed while reading ${remote} (connection lost)`, true);
      for (const r of pending[lane]) {
        r.settled = true;
        inFlight--;
      }
      pending[lane].clear();
      pump();
    };
    const closers = sessions.map((sftp, lane) => {
      const onClose = onSessionClosed(lane);
      sftp.once('close', onClose);
      return () => sftp.off('close', onClose);
    });
    const onAbort = (): void => pump();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await new Promise<void>((resolve, reject) => {
        pump = (): void => {
          if (failed) {
            if (inFlight === 0) reject(failed);
            return;
          }
          if (signal?.aborted) failed = new CopyOutError('cancelled', true);
          // Requested but not yet on disk stays under IN_FLIGHT x CHUNK: a slow disk holds the reads
          // back instead of piling finished buffers up in memory.
          while (!failed && inFlight < IN_FLIGHT && next < size && next - writeAt < IN_FLIGHT * CHUNK) {
            const at = next;
            const len = Math.min(CHUNK, size - at);
            next += len;
            inFlight++;
            const buf = Buffer.allocUnsafe(len);
            const lane = turn++ % sessions.length;
            const request = { settled: false };
            pending[lane].add(request);
            sessions[lane].read(handles[lane], buf, 0, len, at, (err, n) => {
              if (request.settled) return; // its session closed and counted it already
              request.settled = true;
              pending[lane].delete(request);
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
              onWritten(b);
            }
          } finally {
            flushing = false;
          }
        };
        pump();
      });
    } finally {
      for (const off of closers) off();
      signal?.removeEventListener('abort', onAbort);
    }
  } finally {
    await fh.close();
    await Promise.all(handles.map((h, i) => closeQuietly(sessions[i], h)));
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

/**
 * The login user's view of the node, over SFTP (plus `sha256sum` in a shell).
 * Reads are spread over `sftp` and any `extra` sessions.
 */
export function sftpTreeReader(conn: SshConnection, sftp: SFTPWrapper, extra: SFTPWrapper[] = []): RemoteTreeReader {
  const sessions = [sftp, ...extra];
  return {
    list: (root, maxFiles) => listRemoteTree(sftp, root, maxFiles),
    hash: (hashRoot, rels) => remoteSha256(conn, hashRoot, rels),
    fetch: (remote, partial, offset, size, onWritten, signal) => fetchSftpFile(sessions, remote, partial, offset, size, onWritten, signal),
  };
}

export async function copyOut(opts: CopyOutOptions): Promise<CopyOutResult> {
  let sftp: SFTPWrapper;
  try {
    sftp = await opts.conn.sftp();
  } catch (e) {
    throw new CopyOutError(`SFTP not available: ${(e as Error).message}`, true);
  }
  // More SFTP sessions for this copy: one channel's 2 MiB window, not the link or the CPU, was
  // the limit (loopback, one 256 MiB file: ~70 MiB/s on one channel, ~105-175 on two to three). A server
  // that refuses more sessions (MaxSessions) just leaves the copy on the one it has.
  const opened = await Promise.allSettled(Array.from({ length: EXTRA_SFTP_SESSIONS }, () => opts.conn.openSftp()));
  const extra = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    return await copyTree(sftpTreeReader(opts.conn, sftp, extra), opts);
  } finally {
    for (const s of extra) {
      try {
        s.end();
      } catch {
        // already gone with the connection
      }
    }
  }
}

/** Remove what a speculative first pass wrote (only ever this run's own, fresh output). */
async function removeFreshOutput(localRoot: string, statePath: string): Promise<void> {
  await fs.rm(localRoot, { recursive: true, force: true });
  await fs.rm(`${localRoot}.partial`, { force: true });
  await fs.rm(statePath, { force: true });
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** SHA-256 of exactly the first `length` bytes of `file` (a resumed partial's trusted prefix). */
async function hashPrefix(file: string, length: number, h: Hash): Promise<void> {
  if (length <= 0) return;
  for await (const chunk of createReadStream(file, { start: 0, end: length - 1 })) h.update(chunk as Buffer);
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
    phase: 'listing',
    bytesDone: 0,
    bytesTotal: 0,
    filesDone: 0,
    filesTotal: 0,
    currentFile: null,
    bytesPerSecond: 0,
    etaSeconds: null,
  };
  const meter = new ProgressMeter(progress, opts.onProgress);
  const maxFiles = opts.maxFiles ?? 100_000;
  const settleMs = opts.settleMs ?? 1500;

  meter.set({ phase: 'listing' }, true);
  const first = await reader.list(remoteRoot, maxFiles);
  const listedAt = Date.now();
  const hashRoot = first.isDir ? remoteRoot : path.posix.dirname(remoteRoot);
  const remotePathOf = (rel: string) => (first.isDir ? posixJoin(remoteRoot, rel) : remoteRoot);
  const localPathOf = (rel: string) => (first.isDir ? path.join(localRoot, ...rel.split('/')) : localRoot);
  const hashKey = (rel: string) => (first.isDir ? rel : path.posix.basename(remoteRoot));
  const secondListing = async () => {
    const wait = settleMs - (Date.now() - listedAt);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return reader.list(remoteRoot, maxFiles);
  };
  const startRemoteHash = (files: RemoteFile[]) => {
    const p = reader.hash(
      hashRoot,
      files.map((f) => hashKey(f.rel)),
      first.isDir,
    );
    p.catch(() => undefined); // awaited after the transfer; never an unhandled rejection meanwhile
    return p;
  };

  await fs.mkdir(opts.localDir, { recursive: true });
  let previous: CopyState | null = null;
  try {
    previous = JSON.parse(await fs.readFile(statePath, 'utf8')) as CopyState;
    if (previous.version !== 1 || previous.remotePath !== remoteRoot) previous = null;
  } catch {
    previous = null;
  }

  // A fresh copy (nothing of an earlier attempt here) starts moving bytes at once: the second
  // listing and the node's sha256sum run beside the transfer. Should the directory turn out to be
  // changing, this run's own output is removed again and the copy is refused (or, forced, redone
  // from the second listing). A resumed copy checks first, as its partial files must be trusted.
  const fresh = previous === null && !(await exists(localRoot)) && !(await exists(`${localRoot}.partial`));
  if (fresh) {
    const speculative = new AbortController();
    const onAbort = () => speculative.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) speculative.abort();
    const second = secondListing();
    second.catch(() => undefined);
    try {
      const result = await transferAndVerify(first.files, null, startRemoteHash(first.files), speculative.signal, async () => {
        const moving = changedBetween(first.files, (await second).files);
        if (moving.length > 0) throw new DirectoryChangingError(moving);
      });
      return result;
    } catch (e) {
      if (!(e instanceof DirectoryChangingError)) throw e;
      speculative.abort();
      await removeFreshOutput(localRoot, statePath);
      if (!opts.force) throw e;
      const again = await second;
      return transferAndVerify(again.files, null, null, opts.signal, null);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }
  const second = await secondListing();
  const moving = changedBetween(first.files, second.files);
  if (moving.length > 0 && !opts.force) throw new DirectoryChangingError(moving);
  return transferAndVerify(second.files, previous, null, opts.signal, null);

  /**
   * Copy `files` (resuming what `previous` left when it still matches), hashing each file while it
   * is written, with the node's hashes computed beside the transfer (`remoteHashes`, or started
   * here); `check` (the speculative pass's second listing) must pass before anything is reported done.
   */
  async function transferAndVerify(
    files: RemoteFile[],
    previous: CopyState | null,
    remoteHashesStarted: Promise<Map<string, string>> | null,
    signal: AbortSignal | undefined,
    check: (() => Promise<void>) | null,
  ): Promise<CopyOutResult> {
    const prevByRel = new Map((previous?.files ?? []).map((f) => [f.rel, f]));
    await fs.writeFile(statePath, JSON.stringify({ version: 1, remotePath: remoteRoot, files } satisfies CopyState));
    meter.set({ phase: 'hashing-remote', filesTotal: files.length, filesDone: 0, bytesDone: 0, bytesTotal: files.reduce((s, f) => s + f.size, 0) }, true);
    const remoteHashes = remoteHashesStarted ?? startRemoteHash(files);
    // A failed check stops the transfer at once (the caller cleans up).
    const checked = check?.();
    checked?.catch(() => undefined);
    let checkFailed: unknown = null;
    const local = new AbortController();
    const onAbort = () => local.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) local.abort();
    void checked?.catch((e: unknown) => {
      // A second listing that could not finish (link lost) leaves a resumable copy, like a failed read.
      checkFailed =
        e instanceof DirectoryChangingError || e instanceof CopyOutError
          ? e
          : new CopyOutError(`listing ${remoteRoot} again failed: ${(e as Error).message}`, true);
      local.abort();
    });

    let resumedBytes = 0;
    const resumed = new Set<string>();
    /** SHA-256 of what was written, by rel (null: the file was already complete; hash it from disk). */
    const localHashes = new Map<string, string | null>();
    meter.set({ phase: 'copying' }, true);

    const fetchOne = async (f: RemoteFile): Promise<void> => {
      const dest = localPathOf(f.rel);
      const partial = `${dest}.partial`;
      await fs.mkdir(path.dirname(dest), { recursive: true });
      const prev = prevByRel.get(f.rel);
      const unchanged = prev !== undefined && prev.size === f.size && prev.mtime === f.mtime;
      meter.set({ currentFile: f.rel });
      if (unchanged && (await sizeOf(dest)) === f.size) {
        resumedBytes += f.size;
        resumed.add(f.rel);
        localHashes.set(f.rel, null);
        meter.set({ bytesDone: progress.bytesDone + f.size, filesDone: progress.filesDone + 1 });
        return;
      }
      let offset = unchanged ? ((await sizeOf(partial)) ?? 0) : 0;
      if (offset > f.size) offset = 0;
      const h = createHash('sha256');
      if (offset > 0) {
        await hashPrefix(partial, offset, h);
        resumedBytes += offset;
        resumed.add(f.rel);
        meter.set({ bytesDone: progress.bytesDone + offset });
      }
      try {
        await reader.fetch(
          remotePathOf(f.rel),
          partial,
          offset,
          f.size,
          (chunk) => {
            h.update(chunk);
            meter.transferred += chunk.length;
            meter.set({ bytesDone: progress.bytesDone + chunk.length });
          },
          local.signal,
        );
      } catch (e) {
        if (checkFailed) throw checkFailed;
        if (e instanceof CopyOutError) throw e;
        throw new CopyOutError(`copy of ${f.rel} interrupted at ${(await sizeOf(partial)) ?? 0}/${f.size} bytes: ${(e as Error).message}`, true);
      }
      await fs.rename(partial, dest);
      localHashes.set(f.rel, h.digest('hex'));
      meter.set({ filesDone: progress.filesDone + 1 }, true); // every finished file is reported, however fast
    };

    try {
      // A few files at once: one file's open/close round trips and tail never leave the link idle.
      let nextFile = 0;
      let failure: unknown = null;
      const lane = async (): Promise<void> => {
        while (failure === null && nextFile < files.length) {
          const f = files[nextFile++];
          try {
            await fetchOne(f);
          } catch (e) {
            failure ??= e;
            local.abort();
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL_FILES, files.length) }, lane));
      if (checkFailed) throw checkFailed;
      if (failure !== null) throw failure;
      if (checked) await checked.catch(() => undefined);
      if (checkFailed) throw checkFailed;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }

    meter.set({ phase: 'hashing-local', currentFile: null }, true);
    const nodeHashes = await remoteHashes;
    const entries: ManifestEntry[] = [];
    for (const f of files) {
      const dest = localPathOf(f.rel);
      const remoteHash = nodeHashes.get(hashKey(f.rel)) ?? null;
      let localHash = localHashes.get(f.rel) ?? (await localSha256(dest));
      if (remoteHash && localHash !== remoteHash && resumed.has(f.rel)) {
        // The resumed prefix was not what the node has now: fetch it whole once.
        const h = createHash('sha256');
        await reader.fetch(
          remotePathOf(f.rel),
          `${dest}.partial`,
          0,
          f.size,
          (chunk) => {
            h.update(chunk);
            meter.transferred += chunk.length;
          },
          signal,
        );
        await fs.rename(`${dest}.partial`, dest);
        localHash = h.digest('hex');
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
}
