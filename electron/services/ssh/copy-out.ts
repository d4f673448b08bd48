/**
 * Copy a data directory (or one file) off a node, with integrity:
 * 1. list the remote tree (the node's `find`, with sub-second modification
 *    and change times and the node's clock; SFTP's whole seconds where there
 *    is no GNU find);
 * 2. SHA-256 on the node (`openssl dgst -sha256`, else `sha256sum`; file names
 *    go through stdin, NUL-separated);
 * 3. file contents written strictly in order into `<file>.partial`, so a
 *    partial file is always a clean prefix and a dropped link resumes from its
 *    size; renamed into place when complete. Where the login user may run
 *    commands (checked first with `echo`), `cat` of a run of files streams
 *    through an exec channel, two runs at a time, and `tail -c +N` resumes
 *    (stream-fetch.ts: no request round trips, 1.4-1.6x of scp on loopback);
 *    an SFTP-only account gets pipelined SFTP reads over several sessions
 *    instead, and no node-side hashes (it has no shell);
 * 4. hash each local file from the bytes as they are written (a resumed
 *    prefix is read back once) and compare file by file; a resumed file that
 *    does not match is fetched again once from the start;
 * 5. list the tree again when the last byte is written and the node's hashes
 *    are in, and refuse the copy (this run's own output removed) when anything
 *    moved, unless `force`.
 *
 * The live-directory guarantee (steps 1 and 5): a copy is only reported done
 * when no file under the root changed size, modification or change time and
 * no file appeared or went, between a listing taken before the first byte was
 * read and one taken after the last byte was written and the node finished
 * hashing; and nothing under the root (files or directories) changed for at
 * least `settleMs` (default 1.5 s) before that second listing. With the node's
 * sub-second times the quiet time before the first listing counts (it is read
 * from the times themselves, against the node's clock), so a directory that
 * has been still for 1.5 s is copied without waiting; a directory written
 * within the last 1.5 s is listed again once that much time has passed, and
 * an engine still writing is refused then, while the transfer is running.
 * With SFTP's whole seconds there is no node clock: the second listing is at
 * least `settleMs` after the first, and the transfer runs meanwhile. Either
 * way the transfer starts right after the first listing; the check costs
 * time only when the copy is shorter than what is still to wait.
 *
 * The remote side is only ever opened read-only. The flow (listings, state
 * file, resume, manifest, comparison, progress) is `copyTree`; how the node is
 * read is a `RemoteTreeReader`: commands (or SFTP) as the login user here,
 * read-only commands as root through sudo in sudo-copy.ts.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';
import type { CopyOutProgress, CopyOutResult, CopyTransport, DirectoryChange, ManifestEntry } from '../../../shared/contract/ssh';
import type { ErrorText } from '../../../shared/contract/error-text';
import { translateLocal, type MessageParams } from '../../../shared/i18n';
import { directoryChangesSaid, directoryChangeText } from '../../../shared/node/directory-change';
import type { SshStringKey } from '../../../shared/i18n/ssh';
import { shellQuote, type ExecStreamEnd, type SshConnection } from './connection';
import { copyOutText } from './remote-errors';
import { closeQuietly, remoteJoin, sftpCall } from './remote-files';
import { fetchFileByStream, fetchRunByStream, quotedNameChars, type StreamCommand, type StreamFailures } from './stream-fetch';
import { makeDirs } from '../make-dirs';
import { stripTrailingSlashes } from '../../../shared/text/trailing-slashes';

export interface RemoteFile {
  /** Relative to the copied root, `/`-separated. */
  rel: string;
  size: number;
  /** Modification time in seconds (whole seconds over SFTP, with the fraction from `find`). */
  mtime: number;
  /** Inode change time in seconds with its fraction (only from `find`; utimes cannot set it back). */
  ctime?: number;
}

/** A listing of the copied root. */
export interface RemoteListing {
  isDir: boolean;
  /** The regular files, sorted by `rel` (reached through symbolic links too; specials are not copied). */
  files: RemoteFile[];
  /**
   * Present when the node listed with sub-second times (`find -printf`): the
   * directories' times (`rel` '' is the root itself; an entry made or removed
   * changes them) and the node's clock just before it listed (null when `date`
   * could not tell it).
   */
  fine?: { dirs: RemoteFile[]; nodeNow: number | null };
}

export class DirectoryChangingError extends Error {
  /** What moved, in English (the CLI, the journal). */
  readonly changed: string[];
  constructor(readonly changes: DirectoryChange[]) {
    const changed = changes.map((c) => translateLocal('en', directoryChangeText(c)));
    super(
      `the remote directory is being written (${directoryChangesSaid('en', changes)} changed between two listings); ` +
        'stop the engine first, or copy anyway with force',
    );
    this.changed = changed;
    this.name = 'DirectoryChangingError';
  }
}

export class CopyOutError extends Error {
  constructor(
    message: string,
    readonly resumable: boolean,
    /** The same sentence as a catalog text, so the node panel says it in the UI's language. */
    readonly text?: ErrorText,
  ) {
    super(message);
    this.name = 'CopyOutError';
  }
}

/** A copy-out failure from its catalog text: English message for the CLI and logs, key + params for the UI. */
export function copyOutError(key: SshStringKey, params: MessageParams | undefined, resumable: boolean): CopyOutError {
  const { message, text } = copyOutText(key, params);
  return new CopyOutError(message, resumable, text);
}

/** How a copy reads the node. Every method only reads. */
export interface RemoteTreeReader {
  /** How file contents travel (shown in the progress). */
  readonly transport: CopyTransport;
  /**
   * Regular files under `root` (symbolic links followed; specials skipped), or `root` itself when it is a file.
   * `fine: false` asks for the whole-second listing (a reader may give it anyway when the node
   * cannot list with sub-second times).
   */
  list(root: string, maxFiles: number, fine?: boolean): Promise<RemoteListing>;
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
   * `onWritten` (the copy hashes the file from these bytes as it goes; they are only valid
   * during the call, their buffer is reused).
   */
  fetch(remote: string, partial: string, offset: number, size: number, onWritten: (bytes: Uint8Array) => void, signal?: AbortSignal): Promise<void>;
  /**
   * Optional: several whole files in one stream (one command on the node instead of one each),
   * each into its `partial` as `fetch` from offset 0 would, one after the other; `onWritten(i, …)`
   * for file i's bytes, and `onDone(i)` (awaited) once file i is complete and closed. Used only
   * for a fresh copy whose tree is listed again afterwards: the stream is split by the listed
   * sizes, so a file that changed size would shift the rest, and that listing refuses it.
   */
  fetchRun?(
    files: { remote: string; partial: string; size: number }[],
    onWritten: (index: number, bytes: Uint8Array) => void,
    onDone: (index: number) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<void>;
}

/** Where and how to copy, whatever reads the node. */
export interface CopyTreeOptions {
  remotePath: string;
  /** The copy lands in `localDir/<basename(remotePath)>`. */
  localDir: string;
  force?: boolean;
  /**
   * How long the tree must have been still, up to the listing after the transfer, for the copy to
   * count as not being written (default 1500 ms; see the top of this file).
   */
  settleMs?: number;
  onProgress?: (p: CopyOutProgress) => void;
  signal?: AbortSignal;
  /** Refuse trees with more files than this (default 100 000). */
  maxFiles?: number;
}

export interface CopyOutOptions extends CopyTreeOptions {
  conn: SshConnection;
  /** Called once when the copy first opens SFTP (the session log records SFTP reads, which are not commands). */
  onSftp?: () => void;
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
/** A run of whole files in one stream (`fetchRun`): at most this many bytes (a quarter of the copy, at least 1 MiB)… */
const RUN_MAX_BYTES = 64 * 1024 * 1024;
/** …and names of at most this many characters together, quoted (one argument of `sh -c` may hold 128 KiB). */
const RUN_MAX_NAME_CHARS = 48 * 1024;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** A name is one path component; a hostile server must not steer local writes elsewhere. */
export function checkRemoteName(name: string, dir: string): void {
  if (isBadRemoteName(name)) throw copyOutError('ssh.copyout.error.badName', { name: JSON.stringify(name), dir }, false);
}

function isBadRemoteName(name: string): boolean {
  return name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name);
}

/**
 * Recursive listing of regular files, symbolic links followed as `findListCommand` follows them
 * (a folder reached again through a link, a loop, is not walked twice); links that lead nowhere
 * and specials are left out.
 */
export async function listRemoteTree(sftp: SFTPWrapper, root: string, maxFiles = 100_000): Promise<{ isDir: boolean; files: RemoteFile[] }> {
  const top = await sftpCall<Stats>((cb) => sftp.stat(root, cb));
  const type = (top.mode ?? 0) & S_IFMT;
  if (type === S_IFREG) return { isDir: false, files: [{ rel: path.posix.basename(root), size: top.size, mtime: top.mtime }] };
  if (type !== S_IFDIR) throw copyOutError('ssh.copyout.error.notDirOrFile', { path: root }, false);
  const files: RemoteFile[] = [];
  const walking = new Set<string>();
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const real = await sftpCall<string>((cb) => sftp.realpath(dir, cb)).catch(() => dir);
    if (walking.has(real)) return;
    walking.add(real);
    const entries = await sftpCall<FileEntryWithStats[]>((cb) => sftp.readdir(dir, cb));
    entries.sort((x, y) => (x.filename < y.filename ? -1 : x.filename > y.filename ? 1 : 0));
    for (const e of entries) {
      if (e.filename === '.' || e.filename === '..') continue;
      checkRemoteName(e.filename, dir);
      let attrs: Stats = e.attrs;
      if (((attrs.mode ?? 0) & S_IFMT) === S_IFLNK) {
        const through = await sftpCall<Stats>((cb) => sftp.stat(remoteJoin(dir, e.filename), cb)).catch(() => null);
        if (!through) continue;
        attrs = through;
      }
      const t = (attrs.mode ?? 0) & S_IFMT;
      const rel = prefix ? `${prefix}/${e.filename}` : e.filename;
      if (t === S_IFREG) {
        files.push({ rel, size: attrs.size, mtime: attrs.mtime });
        if (files.length > maxFiles) throw copyOutError('ssh.copyout.error.tooManyFiles', { max: maxFiles, path: root }, false);
      } else if (t === S_IFDIR) {
        await walk(remoteJoin(dir, e.filename), rel);
      }
    }
    walking.delete(real);
  };
  await walk(root, '');
  return { isDir: true, files };
}

/**
 * What moved between two listings of the same root: files gone, new, or with another size or
 * times, and (both listings with sub-second times) directories whose entries changed. A
 * whole-second listing is compared with the other in whole seconds.
 */
export function changedBetween(a: RemoteListing, b: RemoteListing): DirectoryChange[] {
  const fine = a.fine !== undefined && b.fine !== undefined;
  const sameTime = (x: number, y: number) => (fine ? x === y : Math.floor(x) === Math.floor(y));
  const before = new Map(a.files.map((f) => [f.rel, f]));
  const after = new Map(b.files.map((f) => [f.rel, f]));
  const changed: DirectoryChange[] = [];
  for (const [rel, f] of before) {
    const g = after.get(rel);
    if (!g) changed.push({ path: rel, kind: 'removed' });
    else if (g.size !== f.size) changed.push({ path: rel, kind: 'resized', from: f.size, to: g.size });
    else if (!sameTime(g.mtime, f.mtime) || (fine && g.ctime !== f.ctime)) changed.push({ path: rel, kind: 'written', size: g.size });
  }
  for (const rel of after.keys()) if (!before.has(rel)) changed.push({ path: rel, kind: 'new' });
  if (fine && changed.length === 0) {
    // Only when no file says more: a file made and removed again between the listings.
    const dirsAfter = new Map(b.fine!.dirs.map((d) => [d.rel, d]));
    for (const d of a.fine!.dirs) {
      const e = dirsAfter.get(d.rel);
      if (!e || e.mtime !== d.mtime || e.ctime !== d.ctime) changed.push({ path: d.rel === '' ? '.' : d.rel, kind: 'entries' });
    }
  }
  return changed;
}

/**
 * How long after `listing` was taken the listing that closes the check may come, at the earliest
 * (ms). With sub-second times and the node's clock: what is left of `settleMs` since the newest
 * change under the root (0 when it has been still that long; `settleMs` when a time lies in the
 * node's future, which says nothing about how long it has been still). Otherwise `settleMs`.
 */
export function settleWaitMs(listing: RemoteListing, settleMs: number): number {
  const nodeNow = listing.fine?.nodeNow;
  if (nodeNow === null || nodeNow === undefined) return settleMs;
  let newest = -Infinity;
  for (const f of [...listing.files, ...listing.fine!.dirs]) newest = Math.max(newest, f.mtime, f.ctime ?? f.mtime);
  if (newest === -Infinity) return settleMs;
  if (newest > nodeNow) return settleMs;
  return Math.max(0, Math.min(settleMs, Math.ceil((newest - nodeNow) * 1000 + settleMs)));
}

/**
 * The listing the node gives with sub-second times: its clock (`date`), then for the root and
 * everything under it, NUL-separated: type, size, modification time, change time, path below the
 * root. Symbolic links are followed (`-L`), as the engines follow them: a WAL moved to another disk
 * and linked back as `member/wal` is copied as the folder etcd reads; a link that leads nowhere
 * lists as a link and is left out (`find` stops with an error at a loop).
 */
export function findListCommand(root: string): string {
  return `date +%s.%N && find -L ${shellQuote(root)} -printf '%y\\0%s\\0%T@\\0%C@\\0%P\\0'`;
}

/** Room for the listing output of `maxFiles` files (names up to PATH_MAX), never more than 64 MiB. */
export function findListingCap(maxFiles: number): number {
  return Math.min(64 * 1024 * 1024, maxFiles * 512 + 1024 * 1024);
}

const FIND_FIELDS = 5;

/** Parse `findListCommand` output (bounded by the caller's cap; every record checked). */
export function parseFindListing(out: Buffer, root: string, maxFiles: number): RemoteListing {
  const newline = out.indexOf(0x0a);
  if (newline < 0) throw copyOutError('ssh.copyout.error.listingNoClock', { path: root }, false);
  const clock = out.subarray(0, newline).toString('latin1');
  const nodeNow = /^\d{1,12}\.\d{1,9}$/.test(clock) ? Number(clock) : null;
  const fields = out
    .subarray(newline + 1)
    .toString('utf8')
    .split('\0');
  if (fields.pop() !== '' || fields.length % FIND_FIELDS !== 0) {
    throw copyOutError('ssh.copyout.error.listingNotRecords', { path: root, bytes: out.length, fields: FIND_FIELDS }, false);
  }
  let rootType: string | null = null;
  let rootRecord: RemoteFile | null = null;
  const files: RemoteFile[] = [];
  const dirs: RemoteFile[] = [];
  let fraction = false;
  for (let i = 0; i < fields.length; i += FIND_FIELDS) {
    const [type, size, mtime, ctime, rel] = fields.slice(i, i + FIND_FIELDS);
    const bytes = Number(size);
    const record = { rel, size: bytes, mtime: Number(mtime), ctime: Number(ctime) };
    if (!/^\d+$/.test(size) || !Number.isSafeInteger(bytes) || !/^-?\d+(\.\d+)?$/.test(mtime) || !/^-?\d+(\.\d+)?$/.test(ctime)) {
      throw copyOutError(
        'ssh.copyout.error.listingBadRecord',
        { path: root, field: i, size: JSON.stringify(size), mtime: JSON.stringify(mtime), ctime: JSON.stringify(ctime) },
        false,
      );
    }
    if (!Number.isInteger(record.ctime)) fraction = true;
    if (rel === '') {
      rootType = type;
      rootRecord = { ...record, rel: path.posix.basename(root) };
      if (type === 'd') dirs.push(record);
      continue;
    }
    const parts = rel.split('/');
    // The folder is named only for a bad name: joined for every part, a path of n parts took n^2 (fuzzed: a hang).
    const bad = parts.findIndex(isBadRemoteName);
    if (bad >= 0) checkRemoteName(parts[bad], path.posix.join(root, ...parts.slice(0, bad)));
    if (type === 'd') dirs.push(record);
    if (type !== 'f') continue; // links that lead nowhere and specials are not copied
    files.push(record);
    if (files.length > maxFiles) throw copyOutError('ssh.copyout.error.tooManyFiles', { max: maxFiles, path: root }, false);
  }
  if (rootType === null || rootRecord === null) throw copyOutError('ssh.copyout.error.listingNoRoot', { path: root }, false);
  // A file system that keeps whole seconds only (every change time ends in .0) gives no more than SFTP.
  const fine = fraction ? { dirs, nodeNow } : undefined;
  if (rootType === 'f') return { isDir: false, files: [rootRecord], fine: fine && { dirs: [], nodeNow } };
  if (rootType !== 'd') throw copyOutError('ssh.copyout.error.notDirOrFile', { path: root }, false);
  const byRel = (a: RemoteFile, b: RemoteFile) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0);
  files.sort(byRel);
  dirs.sort(byRel);
  return { isDir: true, files, fine };
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
  if (res.code !== 0) throw copyOutError('ssh.copyout.error.hashingFailed', { code: String(res.code), stderr: res.stderr.trim().slice(0, 500) }, false);
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
    /** Read but not yet written, by offset: the bytes and the pooled buffer they are in. */
    const done = new Map<number, { bytes: Buffer; base: Buffer }>();
    // Read buffers are reused once written: a fresh 256 KiB buffer per request is an mmap and 64
    // page faults each (a third of the copy's CPU time went to the kernel that way).
    const free: Buffer[] = [];
    let failed: Error | null = null;
    let inFlight = 0;
    /** Outstanding reads by session: a session that closes fails its own (ssh2 may never answer them). */
    const pending = sessions.map(() => new Set<{ settled: boolean }>());
    let pump = (): void => undefined;
    const onSessionClosed = (lane: number) => (): void => {
      failed ??= copyOutError('ssh.copyout.error.sftpClosed', { path: remote }, true);
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
          if (signal?.aborted) failed = copyOutError('ssh.copyout.error.cancelled', undefined, true);
          // Requested but not yet on disk stays under IN_FLIGHT x CHUNK: a slow disk holds the reads
          // back instead of piling finished buffers up in memory.
          while (!failed && inFlight < IN_FLIGHT && next < size && next - writeAt < IN_FLIGHT * CHUNK) {
            const at = next;
            const len = Math.min(CHUNK, size - at);
            next += len;
            inFlight++;
            const buf = free.pop() ?? Buffer.allocUnsafe(CHUNK);
            const lane = turn++ % sessions.length;
            const request = { settled: false };
            pending[lane].add(request);
            sessions[lane].read(handles[lane], buf, 0, len, at, (err, n) => {
              if (request.settled) return; // its session closed and counted it already
              request.settled = true;
              pending[lane].delete(request);
              inFlight--;
              if (err) failed ??= err;
              else if (n === 0) failed ??= copyOutError('ssh.copyout.error.shorter', { path: remote, at }, true);
              else {
                done.set(at, { bytes: buf.subarray(0, n), base: buf });
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
            for (let d = done.get(writeAt); d; d = done.get(writeAt)) {
              done.delete(writeAt);
              await fh.write(d.bytes, 0, d.bytes.length, writeAt);
              writeAt += d.bytes.length;
              onWritten(d.bytes);
              free.push(d.base);
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

async function sizeOf(file: string): Promise<number | null> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return null;
  }
}

/**
 * The login user's listing: the node's `find` (sub-second times, one round trip) where the account
 * runs commands; where it is not GNU find, or anything goes wrong, SFTP lists and says what went
 * wrong in its own terms.
 */
async function listAsLoginUser(conn: SshConnection, sftp: () => Promise<SFTPWrapper>, root: string, maxFiles: number, fine: boolean): Promise<RemoteListing> {
  if (fine) {
    const listed = await conn
      .exec(findListCommand(root), { maxOutputBytes: findListingCap(maxFiles), stdin: '' })
      .then((res) => (res.code === 0 && !res.truncated ? parseFindListing(Buffer.from(res.stdout, 'utf8'), root, maxFiles) : null))
      .catch(() => null);
    if (listed) return listed;
  }
  return listRemoteTree(await sftp(), root, maxFiles);
}

/**
 * The login user's view of the node, over SFTP (plus the node's `find` and SHA-256 in a shell when
 * `canExec`; an SFTP-only account gets neither: whole-second listings, no node-side hashes).
 * Reads are spread over `sftp` and any `extra` sessions.
 */
export function sftpTreeReader(conn: SshConnection, sftp: SFTPWrapper, extra: SFTPWrapper[] = [], canExec = true): RemoteTreeReader {
  const sessions = [sftp, ...extra];
  return {
    transport: 'sftp',
    list: (root, maxFiles, fine = true) => listAsLoginUser(conn, () => Promise.resolve(sftp), root, maxFiles, fine && canExec),
    // Nothing is sent to a shell that is not there: an SFTP-only account's forced sftp-server would read the names as packets.
    hash: (hashRoot, rels) => (canExec ? remoteSha256(conn, hashRoot, rels) : Promise.resolve(new Map<string, string>())),
    fetch: (remote, partial, offset, size, onWritten, signal) => fetchSftpFile(sessions, remote, partial, offset, size, onWritten, signal),
  };
}

/**
 * What the copy runs first, as the login user, to learn whether the account runs commands: an
 * SFTP-only account (`ForceCommand internal-sftp`, a `nologin` shell) answers without the marker.
 */
export const EXEC_PROBE_COMMAND = 'echo lifeboat-exec-ok';
const EXEC_PROBE_MARKER = 'lifeboat-exec-ok';
/** A shell that neither answers nor exits (a forced interactive menu) is taken as "no commands". */
const EXEC_PROBE_TIMEOUT_MS = 15_000;

/** Whether `conn`'s account runs commands (stdin closed at once: a forced sftp-server then just exits). */
export async function canRunCommands(conn: SshConnection, signal?: AbortSignal): Promise<boolean> {
  const timeout = AbortSignal.timeout(EXEC_PROBE_TIMEOUT_MS);
  const res = await conn
    .exec(EXEC_PROBE_COMMAND, { stdin: '', maxOutputBytes: 64 * 1024, signal: signal ? AbortSignal.any([signal, timeout]) : timeout })
    .catch(() => null);
  if (signal?.aborted) throw copyOutError('ssh.copyout.error.cancelled', undefined, true);
  return res !== null && res.code === 0 && res.stdout.split('\n').some((line) => line.trim() === EXEC_PROBE_MARKER);
}

/** The first line of `stderr` that says permission was denied, and the file it names (`cat: FILE: Permission denied`). */
function deniedFile(stderr: string): string | null {
  for (const line of stderr.split('\n')) {
    const at = line.lastIndexOf(': Permission denied');
    if (at < 0) continue;
    const first = line.indexOf(': ');
    return first >= 0 && first < at ? line.slice(first + 2, at) : '';
  }
  return null;
}

/** How a read as the login user fails: a file it may not read says so (and what to do); others keep the node's words. */
function loginUserReadFailures(user: string): StreamFailures {
  return {
    readFailed: (remote: string, end: ExecStreamEnd) => {
      const denied = deniedFile(end.stderr);
      if (denied !== null) return copyOutError('ssh.copyout.error.readDenied', { user, path: denied || remote }, false);
      return copyOutError('ssh.copyout.error.readFailedAsUser', { path: remote, code: end.code ?? 'null', stderr: end.stderr.trim().slice(0, 500) }, true);
    },
    shorter: (remote, at, size) => copyOutError('ssh.copyout.error.shorterOf', { path: remote, at, size }, true),
    lost: (remote, at, size) => new Error(copyOutText('ssh.copyout.error.readLostOf', { at, size, path: remote }).message),
    cancelled: () => copyOutError('ssh.copyout.error.cancelled', undefined, true),
  };
}

/**
 * The login user's view of the node through commands: `find` lists, SHA-256 on the node, and
 * file contents streamed by `cat`/`tail` through exec channels (stream-fetch.ts). SFTP is opened
 * (`sftp()`) only to list where the node's `find` cannot.
 */
export function execTreeReader(conn: SshConnection, sftp: () => Promise<SFTPWrapper>): RemoteTreeReader {
  const run: StreamCommand = (command, signal) => conn.execStream(command, { signal });
  const failures = loginUserReadFailures(conn.target.user);
  return {
    transport: 'exec',
    list: (root, maxFiles, fine = true) => listAsLoginUser(conn, sftp, root, maxFiles, fine),
    hash: (hashRoot, rels) => remoteSha256(conn, hashRoot, rels),
    fetch: (remote, partial, offset, size, onWritten, signal) => fetchFileByStream(run, failures, remote, partial, offset, size, onWritten, signal),
    fetchRun: (files, onWritten, onDone, signal) => fetchRunByStream(run, failures, files, onWritten, onDone, signal),
  };
}

/**
 * Copy as the login user: through exec channels when the account runs commands (the fast path,
 * SHA-256 on the node), over SFTP when it cannot (an SFTP-only account: no node-side hashes).
 */
export async function copyOut(opts: CopyOutOptions): Promise<CopyOutResult> {
  const sftpOnce: { session: Promise<SFTPWrapper> | null } = { session: null };
  const openSftp = (): Promise<SFTPWrapper> => {
    if (sftpOnce.session === null) {
      opts.onSftp?.();
      sftpOnce.session = opts.conn.sftp().catch((e: unknown) => {
        sftpOnce.session = null;
        throw copyOutError('ssh.copyout.error.sftpUnavailable', { error: e instanceof Error ? e.message : String(e) }, true);
      });
    }
    return sftpOnce.session;
  };
  if (await canRunCommands(opts.conn, opts.signal)) return copyTree(execTreeReader(opts.conn, openSftp), opts);
  const sftp = await openSftp();
  // More SFTP sessions for this copy: one channel's 2 MiB window, not the link or the CPU, was
  // the limit (loopback, one 256 MiB file: ~70 MiB/s on one channel, ~105-175 on two to three). A server
  // that refuses more sessions (MaxSessions) just leaves the copy on the one it has.
  const opened = await Promise.allSettled(Array.from({ length: EXTRA_SFTP_SESSIONS }, () => opts.conn.openSftp()));
  const extra = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    return await copyTree(sftpTreeReader(opts.conn, sftp, extra, false), opts);
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

/** What an earlier, interrupted copy of `remoteRoot` left here (null: none, or not one this can resume). */
async function readState(statePath: string, remoteRoot: string): Promise<CopyState | null> {
  try {
    const state = JSON.parse(await fs.readFile(statePath, 'utf8')) as CopyState;
    return state.version === 1 && state.remotePath === remoteRoot && Array.isArray(state.files) ? state : null;
  } catch {
    return null;
  }
}

/** Resolves true at `when` (local clock, ms), or false as soon as `signal` aborts. */
function sleepUntil(when: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  const ms = when - Date.now();
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (reached: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(reached);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
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
  const remoteRoot = stripTrailingSlashes(opts.remotePath) || '/';
  const name = path.posix.basename(remoteRoot) || 'root';
  const localRoot = path.join(opts.localDir, name);
  const statePath = path.join(opts.localDir, `${name}.copyout-state.json`);
  const manifestPath = path.join(opts.localDir, `${name}.sha256`);
  const progress: CopyOutProgress = {
    phase: 'listing',
    transport: reader.transport,
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
  const remotePathOf = (rel: string) => (first.isDir ? remoteJoin(remoteRoot, rel) : remoteRoot);
  const localPathOf = (rel: string) => (first.isDir ? path.join(localRoot, ...rel.split('/')) : localRoot);
  const hashKey = (rel: string) => (first.isDir ? rel : path.posix.basename(remoteRoot));
  /** The same kind of listing as the first (sub-second times when it had them), not before `notBefore`. */
  const listAgain = async (notBefore: number, signal?: AbortSignal): Promise<RemoteListing> => {
    if (!(await sleepUntil(notBefore, signal))) throw copyOutError('ssh.copyout.error.cancelled', undefined, true);
    return reader.list(remoteRoot, maxFiles, first.fine !== undefined);
  };
  /** The listing that last showed the tree moving (a forced copy is redone from it). */
  const moved: { listing: RemoteListing | null } = { listing: null };
  const startRemoteHash = (files: RemoteFile[]) => {
    const p = reader.hash(
      hashRoot,
      files.map((f) => hashKey(f.rel)),
      first.isDir,
    );
    p.catch(() => undefined); // awaited after the transfer; never an unhandled rejection meanwhile
    return p;
  };

  await makeDirs(opts.localDir);
  const previous = await readState(statePath, remoteRoot);

  // A fresh copy (nothing of an earlier attempt here) starts moving bytes at once: the node's
  // hashing runs beside the transfer and the tree is listed again when the transfer is over (and
  // once meanwhile when it was written recently). Should the directory turn out to be changing,
  // this run's own output is removed again and the copy is refused (or, forced, redone from the
  // listing that showed the change). A resumed copy checks first, as its partial files must be
  // trusted, and is listed again after its transfer too.
  const fresh = previous === null && !(await exists(localRoot)) && !(await exists(`${localRoot}.partial`));
  if (fresh) {
    const speculative = new AbortController();
    const onAbort = () => speculative.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) speculative.abort();
    try {
      return await transferAndVerify(first.files, null, startRemoteHash(first.files), speculative.signal, { listing: first, at: listedAt });
    } catch (e) {
      if (!(e instanceof DirectoryChangingError)) throw e;
      speculative.abort();
      await removeFreshOutput(localRoot, statePath);
      if (!opts.force || moved.listing === null) throw e;
      return await transferAndVerify(moved.listing.files, null, null, opts.signal, null);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }
  const second = await listAgain(listedAt + settleWaitMs(first, settleMs), opts.signal);
  const moving = changedBetween(first, second);
  if (moving.length > 0 && !opts.force) throw new DirectoryChangingError(moving);
  return transferAndVerify(second.files, previous, null, opts.signal, opts.force ? null : { listing: first, at: listedAt });

  /**
   * Watch the tree from `base` (listed at `at`, local clock) while a transfer runs: one listing
   * once the settle time is over if the transfer still runs then (a directory being written is
   * refused while copying: `onMoving`), and `close()`, the listing after the transfer and the
   * node's hashing that every copy needs (see the guarantee at the top of this file).
   */
  function watchFrom(base: RemoteListing, at: number, onMoving: (e: Error) => void) {
    const waitMs = settleWaitMs(base, settleMs);
    const stop = new AbortController();
    let transferring = true;
    const compare = (listing: RemoteListing): void => {
      const changes = changedBetween(base, listing);
      if (changes.length === 0) return;
      moved.listing = listing;
      throw new DirectoryChangingError(changes);
    };
    const early = (async () => {
      const earlyMs = Math.max(waitMs, settleMs);
      if (earlyMs <= 0 || !(await sleepUntil(at + earlyMs, stop.signal)) || !transferring) return;
      compare(await reader.list(remoteRoot, maxFiles, base.fine !== undefined));
    })().catch((e: unknown) => {
      // Only a tree seen moving stops the transfer; a listing that failed is the final one's to judge.
      if (e instanceof DirectoryChangingError && !stop.signal.aborted) onMoving(e);
    });
    return {
      async close(signal?: AbortSignal): Promise<void> {
        transferring = false;
        await early; // one listing at a time
        try {
          let after = await listAgain(at + waitMs, signal);
          // The node stopped giving sub-second times: whole seconds need the full settle time.
          if (base.fine && !after.fine && Date.now() < at + settleMs) after = await listAgain(at + settleMs, signal);
          compare(after);
        } catch (e) {
          throw checkError(e);
        }
      },
      dispose: () => stop.abort(),
    };
  }

  /** A listing that could not finish (link lost) leaves a resumable copy, like a failed read. */
  function checkError(e: unknown): Error {
    if (e instanceof DirectoryChangingError || e instanceof CopyOutError) return e;
    return copyOutError('ssh.copyout.error.relistFailed', { path: remoteRoot, error: e instanceof Error ? e.message : String(e) }, true);
  }

  /**
   * Copy `files` (resuming what `previous` left when it still matches), hashing each file while it
   * is written, with the node's hashes computed beside the transfer (`remoteHashes`, or started
   * here); with `watch`, the tree must not move from `watch.listing` until after the transfer.
   */
  async function transferAndVerify(
    files: RemoteFile[],
    previous: CopyState | null,
    remoteHashesStarted: Promise<Map<string, string>> | null,
    signal: AbortSignal | undefined,
    watchBase: { listing: RemoteListing; at: number } | null,
  ): Promise<CopyOutResult> {
    const prevByRel = new Map((previous?.files ?? []).map((f) => [f.rel, f]));
    await fs.writeFile(statePath, JSON.stringify({ version: 1, remotePath: remoteRoot, files } satisfies CopyState));
    meter.set({ phase: 'hashing-remote', filesTotal: files.length, filesDone: 0, bytesDone: 0, bytesTotal: files.reduce((s, f) => s + f.size, 0) }, true);
    const remoteHashes = remoteHashesStarted ?? startRemoteHash(files);
    /** Why the watch stopped the transfer (a holder: it is set from callbacks). */
    const check: { failed: Error | null } = { failed: null };
    const local = new AbortController();
    const onAbort = () => local.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) local.abort();
    // A tree found moving stops the transfer at once (the caller cleans up).
    const watch = watchBase
      ? watchFrom(watchBase.listing, watchBase.at, (e) => {
          check.failed ??= e;
          local.abort();
        })
      : null;

    let resumedBytes = 0;
    const resumed = new Set<string>();
    /** SHA-256 of what was written, by rel (null: the file was already complete; hash it from disk). */
    const localHashes = new Map<string, string | null>();
    meter.set({ phase: 'copying' }, true);

    const fetchOne = async (f: RemoteFile): Promise<void> => {
      const dest = localPathOf(f.rel);
      const partial = `${dest}.partial`;
      await makeDirs(path.dirname(dest));
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
        if (check.failed) throw check.failed;
        if (e instanceof CopyOutError) throw e;
        throw copyOutError(
          'ssh.copyout.error.interrupted',
          { file: f.rel, done: (await sizeOf(partial)) ?? 0, size: f.size, error: (e as Error).message },
          true,
        );
      }
      await fs.rename(partial, dest);
      localHashes.set(f.rel, h.digest('hex'));
      meter.set({ filesDone: progress.filesDone + 1 }, true); // every finished file is reported, however fast
    };

    /** Whole files in a stream each: the reader can, nothing is resumed, and the tree is listed again after. */
    const batched = reader.fetchRun !== undefined && previous === null && watch !== null;
    const runBytes = Math.min(RUN_MAX_BYTES, Math.max(1024 * 1024, Math.ceil(progress.bytesTotal / 4)));
    const fetchWholeRun = async (run: RemoteFile[]): Promise<void> => {
      for (const d of new Set(run.map((f) => path.dirname(localPathOf(f.rel))))) await makeDirs(d);
      const hashes = run.map(() => createHash('sha256'));
      meter.set({ currentFile: run[0].rel });
      try {
        await reader.fetchRun!(
          run.map((f) => ({ remote: remotePathOf(f.rel), partial: `${localPathOf(f.rel)}.partial`, size: f.size })),
          (i, chunk) => {
            hashes[i].update(chunk);
            meter.transferred += chunk.length;
            meter.set({ bytesDone: progress.bytesDone + chunk.length, currentFile: run[i].rel });
          },
          async (i) => {
            const dest = localPathOf(run[i].rel);
            await fs.rename(`${dest}.partial`, dest);
            localHashes.set(run[i].rel, hashes[i].digest('hex'));
            meter.set({ filesDone: progress.filesDone + 1 }, true);
          },
          local.signal,
        );
      } catch (e) {
        if (check.failed) throw check.failed;
        if (e instanceof CopyOutError) throw e;
        const error = e instanceof Error ? e.message : String(e);
        throw run.length === 1
          ? copyOutError('ssh.copyout.error.fileInterrupted', { file: run[0].rel, error }, true)
          : copyOutError('ssh.copyout.error.filesInterrupted', { count: run.length, file: run[0].rel, error }, true);
      }
    };

    try {
      // A few files at once: one file's open/close round trips and tail never leave the link idle.
      let nextFile = 0;
      const lanes: { failure: Error | null } = { failure: null };
      const runLane = async (): Promise<void> => {
        while (lanes.failure === null && nextFile < files.length) {
          const run = [files[nextFile++]];
          let bytes = run[0].size;
          let chars = quotedNameChars(remotePathOf(run[0].rel));
          while (nextFile < files.length && bytes < runBytes && chars + quotedNameChars(remotePathOf(files[nextFile].rel)) < RUN_MAX_NAME_CHARS) {
            bytes += files[nextFile].size;
            chars += quotedNameChars(remotePathOf(files[nextFile].rel));
            run.push(files[nextFile++]);
          }
          try {
            await fetchWholeRun(run);
          } catch (e) {
            lanes.failure ??= e instanceof Error ? e : new Error(String(e));
            local.abort();
          }
        }
      };
      const lane = async (): Promise<void> => {
        while (lanes.failure === null && nextFile < files.length) {
          const f = files[nextFile++];
          try {
            await fetchOne(f);
          } catch (e) {
            lanes.failure ??= e instanceof Error ? e : new Error(String(e));
            local.abort();
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL_FILES, files.length) }, batched ? runLane : lane));
      if (check.failed) throw check.failed;
      if (lanes.failure !== null) throw lanes.failure;
      meter.set({ phase: 'hashing-local', currentFile: null }, true);
      // The window closes after the node read the files for its hashes too.
      await remoteHashes.catch(() => undefined);
      await watch?.close(signal);
    } finally {
      watch?.dispose();
      signal?.removeEventListener('abort', onAbort);
    }

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
      transport: reader.transport,
    };
  }
}
