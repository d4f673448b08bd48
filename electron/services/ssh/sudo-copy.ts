/**
 * Copy-out of a root-only directory through sudo: the flow of copy-out.ts
 * (listings before and after, node-side SHA-256, in-order writes into `.partial`, resume,
 * local SHA-256, comparison, manifest, progress) with the node read by
 * read-only commands run as root, each one exec through `SudoRunner`:
 * - `date +%s.%N && find -H ROOT -printf …` before and after the transfer
 *   (NUL-separated, sub-second times; the "being written" check of copy-out.ts),
 * - `cd ROOT && find . -type f -exec sha256sum -z -- {} +` (names never go
 *   through stdin, which carries sudo's password),
 * - `cat -- FILE`, or `tail -c +N -- FILE` to resume at byte N-1.
 * File contents stream to disk with backpressure (the channel is paused while
 * a write is pending, so ssh2 stops granting window): memory stays bounded.
 */
import { promises as fs } from 'node:fs';
import type { CopyOutResult } from '../../../shared/contract/ssh';
import { shellQuote, type SudoRunner } from './connection';
import { copyOutText } from './remote-errors';
import {
  copyOutError,
  copyTree,
  findListCommand,
  findListingCap,
  parseFindListing,
  parseSha256z,
  type CopyTreeOptions,
  type RemoteTreeReader,
} from './copy-out';

/**
 * The node's clock, then type, size, modification and change times (s.fraction) and path below
 * ROOT of everything under it, ROOT itself first (empty path); a symlinked ROOT is followed.
 */
export function sudoTreeListCommand(root: string): string {
  return findListCommand(root, true);
}

/** SHA-256 of every regular file under `root`, computed on the node. */
export function sudoTreeHashCommand(root: string): string {
  return `cd ${shellQuote(root)} && find . -type f -exec sha256sum -z -- {} +`;
}

/** SHA-256 of one file `name` in `dir`. */
export function sudoFileHashCommand(dir: string, name: string): string {
  return `cd ${shellQuote(dir)} && sha256sum -z -- ${shellQuote(name)}`;
}

/** The whole file, or from byte `offset` on (resume). */
export function sudoFetchCommand(file: string, offset: number): string {
  return offset > 0 ? `tail -c +${offset + 1} -- ${shellQuote(file)}` : sudoFetchRunCommand([file]);
}

/** Whole files one after the other in one stream (a fresh copy; split by their listed sizes). */
export function sudoFetchRunCommand(files: string[]): string {
  return `cat -- ${files.map(shellQuote).join(' ')}`;
}

/** What a sudo copy-out of `root` runs (shown before it starts; `<file>` and `<N>` stand for each file and resume point). */
export function sudoCopyCommands(root: string): string[] {
  const file = `${root.replace(/\/+$/, '')}/<file>`;
  return [sudoTreeListCommand(root), sudoTreeHashCommand(root), `cat -- ${shellQuote(file)} …`, `tail -c +<N> -- ${shellQuote(file)}`];
}

/** Stream `remote` from `offset` into `partial` through sudo, writes strictly in order, at most `size` bytes. */
async function fetchThroughSudo(
  sudo: SudoRunner,
  remote: string,
  partial: string,
  offset: number,
  size: number,
  onWritten: (bytes: Uint8Array) => void,
  signal?: AbortSignal,
): Promise<void> {
  if (signal?.aborted) throw copyOutError('ssh.copyout.error.cancelled', undefined, true);
  const fh = await fs.open(partial, offset > 0 ? 'r+' : 'w');
  try {
    if (offset > 0) await fh.truncate(offset); // the partial is exactly its trusted prefix
    const s = await sudo.stream(sudoFetchCommand(remote, offset), { signal });
    let at = offset;
    /** A failed local write (a holder: it is set from the stream's callbacks). */
    const failed: { write: Error | null } = { write: null };
    let writing: Promise<void> = Promise.resolve();
    const stdout = s.stdout;
    stdout.on('data', (chunk: Buffer) => {
      // Past the listed size (the file grew since; only with force) or after a failed write: drain and drop.
      const room = size - at;
      if (failed.write || room <= 0) return;
      const part = room < chunk.length ? chunk.subarray(0, room) : chunk;
      at += part.length;
      // Paused while the write is pending: ssh2 stops granting window, the node's cat waits.
      stdout.pause();
      writing = writing
        .then(() => fh.write(part, 0, part.length, at - part.length))
        .then(
          () => {
            onWritten(part);
            if (at >= size) stdout.close(); // every listed byte is here; the rest is not ours
          },
          (e: unknown) => {
            failed.write ??= e instanceof Error ? e : new Error(String(e));
            stdout.close();
          },
        )
        .finally(() => stdout.resume());
    });
    const end = await s.done;
    await writing;
    if (failed.write) throw failed.write;
    if (signal?.aborted) throw copyOutError('ssh.copyout.error.cancelled', undefined, true);
    if (at < size) {
      if (end.code === 0) throw copyOutError('ssh.copyout.error.shorterOf', { path: remote, at, size }, true);
      if (end.code === null) throw new Error(copyOutText('ssh.copyout.error.readLost', { at, size }).message); // a plain Error: the copy wraps it as an interrupted file
      throw copyOutError('ssh.copyout.error.readFailed', { path: remote, code: end.code, stderr: end.stderr.trim().slice(0, 500) }, true);
    }
  } finally {
    await fh.close();
  }
}

/**
 * Whole files through one `cat` as root, split by their listed sizes, each written strictly in
 * order into its partial (an interruption leaves complete files and one clean prefix). One sudo
 * (one password check on the node) for many files instead of one each.
 */
async function fetchRunThroughSudo(
  sudo: SudoRunner,
  files: { remote: string; partial: string; size: number }[],
  onWritten: (index: number, bytes: Uint8Array) => void,
  onDone: (index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  if (signal?.aborted) throw copyOutError('ssh.copyout.error.cancelled', undefined, true);
  /** The file being written, its handle and how much of it is there (a holder: the stream's callbacks move it on). */
  const cur: { index: number; fh: fs.FileHandle | null; at: number; failed: Error | null } = { index: 0, fh: null, at: 0, failed: null };
  /** Close a complete file and open the next one with bytes to come (empty files are complete at once). */
  const advance = async (): Promise<void> => {
    for (;;) {
      if (cur.fh) {
        await cur.fh.close();
        cur.fh = null;
        await onDone(cur.index);
        cur.index++;
        cur.at = 0;
      }
      if (cur.index >= files.length) return;
      cur.fh = await fs.open(files[cur.index].partial, 'w');
      if (files[cur.index].size > 0) return;
    }
  };
  try {
    await advance();
    if (cur.index >= files.length) return;
    const s = await sudo.stream(sudoFetchRunCommand(files.slice(cur.index).map((f) => f.remote)), { signal });
    const stdout = s.stdout;
    const take = async (chunk: Buffer): Promise<void> => {
      let rest = chunk;
      while (rest.length > 0 && cur.index < files.length && cur.fh) {
        const part = rest.subarray(0, files[cur.index].size - cur.at);
        await cur.fh.write(part, 0, part.length, cur.at);
        cur.at += part.length;
        rest = rest.subarray(part.length);
        onWritten(cur.index, part);
        if (cur.at >= files[cur.index].size) await advance();
      }
      if (cur.index >= files.length) stdout.close(); // every listed byte is here; the rest is not ours
    };
    let writing: Promise<void> = Promise.resolve();
    stdout.on('data', (chunk: Buffer) => {
      if (cur.failed || cur.index >= files.length) return; // drain and drop
      // Paused while the write is pending: ssh2 stops granting window, the node's cat waits.
      stdout.pause();
      writing = writing
        .then(() => take(chunk))
        .catch((e: unknown) => {
          cur.failed ??= e instanceof Error ? e : new Error(String(e));
          stdout.close();
        })
        .finally(() => stdout.resume());
    });
    const end = await s.done;
    await writing;
    if (cur.failed) throw cur.failed;
    if (signal?.aborted) throw copyOutError('ssh.copyout.error.cancelled', undefined, true);
    if (cur.index < files.length) {
      const { remote, size } = files[cur.index];
      if (end.code === 0) throw copyOutError('ssh.copyout.error.shorterOf', { path: remote, at: cur.at, size }, true);
      if (end.code === null) throw new Error(copyOutText('ssh.copyout.error.readLostOf', { at: cur.at, size, path: remote }).message);
      throw copyOutError('ssh.copyout.error.readFailed', { path: remote, code: end.code, stderr: end.stderr.trim().slice(0, 500) }, true);
    }
  } finally {
    await cur.fh?.close();
  }
}

/** The node as root sees it, through read-only sudo commands. */
export function sudoTreeReader(sudo: SudoRunner): RemoteTreeReader {
  return {
    async list(root, maxFiles) {
      const res = await sudo.run(sudoTreeListCommand(root), findListingCap(maxFiles));
      if (res.code !== 0) {
        if (/No such file or directory/.test(res.stderr)) throw copyOutError('ssh.error.notFound', { path: root }, false);
        if (res.code === null) throw copyOutError('ssh.copyout.error.listingLost', { path: root }, true);
        throw copyOutError('ssh.copyout.error.listingFailed', { path: root, code: res.code, stderr: res.stderr.trim().slice(0, 500) }, false);
      }
      if (res.truncated) throw copyOutError('ssh.copyout.error.listingTooLarge', { path: root, max: maxFiles }, false);
      return parseFindListing(res.stdout, root, maxFiles);
    },
    async hash(hashRoot, rels, isDir) {
      if (rels.length === 0) return new Map();
      const command = isDir ? sudoTreeHashCommand(hashRoot) : sudoFileHashCommand(hashRoot, rels[0]);
      // Room for every listed name plus files that appeared since (only with force); bounded by what was listed.
      const cap = rels.reduce((n, r) => n + 70 + 3 * r.length, 0) + 1024 * 1024;
      const res = await sudo.run(command, cap);
      if (res.code !== 0) {
        if (res.code === null) throw copyOutError('ssh.copyout.error.hashLost', undefined, true);
        throw copyOutError('ssh.copyout.error.hashFailed', { code: res.code, stderr: res.stderr.trim().slice(0, 500) }, false);
      }
      return parseSha256z(res.stdout.toString('utf8'), (name) => (isDir && name.startsWith('./') ? name.slice(2) : name));
    },
    fetch: (remote, partial, offset, size, onWritten, signal) => fetchThroughSudo(sudo, remote, partial, offset, size, onWritten, signal),
    fetchRun: (files, onWritten, onDone, signal) => fetchRunThroughSudo(sudo, files, onWritten, onDone, signal),
  };
}

export interface SudoCopyOutOptions extends CopyTreeOptions {
  sudo: SudoRunner;
}

/** Copy `remotePath` (root-only) into `localDir/<basename>`, reading it as root; same result as `copyOut`. */
export function sudoCopyOut(opts: SudoCopyOutOptions): Promise<CopyOutResult> {
  return copyTree(sudoTreeReader(opts.sudo), opts);
}
