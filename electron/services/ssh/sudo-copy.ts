/**
 * Copy-out of a root-only directory through sudo: the flow of copy-out.ts
 * (listings before and after, node-side SHA-256, in-order writes into `.partial`, resume,
 * local SHA-256, comparison, manifest, progress) with the node read by
 * read-only commands run as root, each one exec through `SudoRunner`:
 * - `date +%s.%N && find -L ROOT -printf …` before and after the transfer
 *   (NUL-separated, sub-second times; the "being written" check of copy-out.ts),
 * - `cd ROOT && find -L . -type f -exec sha256sum -z -- {} +` (names never go
 *   through stdin, which carries sudo's password),
 * - `cat -- FILE…`, or `tail -c +N -- FILE` to resume at byte N-1
 *   (stream-fetch.ts, the same streaming the login user's copy uses).
 */
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
import { catCommand, fetchCommand, fetchFileByStream, fetchRunByStream, type StreamCommand, type StreamFailures } from './stream-fetch';
import { stripTrailingSlashes } from '../../../shared/text/trailing-slashes';

/**
 * The node's clock, then type, size, modification and change times (s.fraction) and path below
 * ROOT of everything under it, ROOT itself first (empty path); symbolic links are followed.
 */
export function sudoTreeListCommand(root: string): string {
  return findListCommand(root);
}

/** SHA-256 of every regular file under `root`, computed on the node. */
export function sudoTreeHashCommand(root: string): string {
  return `cd ${shellQuote(root)} && find -L . -type f -exec sha256sum -z -- {} +`;
}

/** SHA-256 of one file `name` in `dir`. */
export function sudoFileHashCommand(dir: string, name: string): string {
  return `cd ${shellQuote(dir)} && sha256sum -z -- ${shellQuote(name)}`;
}

/** The whole file, or from byte `offset` on (resume). */
export function sudoFetchCommand(file: string, offset: number): string {
  return fetchCommand(file, offset);
}

/** Whole files one after the other in one stream (a fresh copy; split by their listed sizes). */
export function sudoFetchRunCommand(files: string[]): string {
  return catCommand(files);
}

/** What a sudo copy-out of `root` runs (shown before it starts; `<file>` and `<N>` stand for each file and resume point). */
export function sudoCopyCommands(root: string): string[] {
  const file = `${stripTrailingSlashes(root)}/<file>`;
  return [sudoTreeListCommand(root), sudoTreeHashCommand(root), `cat -- ${shellQuote(file)} …`, `tail -c +<N> -- ${shellQuote(file)}`];
}

/** How a read through sudo fails, in the catalog's words (root's `cat`/`tail` said no, the file was short, the link went). */
const SUDO_READ_FAILURES: StreamFailures = {
  readFailed: (remote, end) =>
    copyOutError('ssh.copyout.error.readFailed', { path: remote, code: end.code ?? 'null', stderr: end.stderr.trim().slice(0, 500) }, true),
  shorter: (remote, at, size) => copyOutError('ssh.copyout.error.shorterOf', { path: remote, at, size }, true),
  // A plain Error: the copy wraps it as an interrupted file (resumable).
  lost: (remote, at, size) => new Error(copyOutText('ssh.copyout.error.readLostOf', { at, size, path: remote }).message),
  cancelled: () => copyOutError('ssh.copyout.error.cancelled', undefined, true),
};

/**
 * The node as root sees it, through read-only commands run by `sudo`: through
 * sudo, or as they are when the login user is root (transport `root`, known
 * once the runner is ready).
 */
export function sudoTreeReader(sudo: SudoRunner): RemoteTreeReader {
  const run: StreamCommand = (command, signal) => sudo.stream(command, { signal });
  return {
    transport: sudo.known === 'root' ? 'root' : 'sudo',
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
    fetch: (remote, partial, offset, size, onWritten, signal) => fetchFileByStream(run, SUDO_READ_FAILURES, remote, partial, offset, size, onWritten, signal),
    fetchRun: (files, onWritten, onDone, signal) => fetchRunByStream(run, SUDO_READ_FAILURES, files, onWritten, onDone, signal),
  };
}

export interface SudoCopyOutOptions extends CopyTreeOptions {
  sudo: SudoRunner;
}

/** Copy `remotePath` (root-only) into `localDir/<basename>`, reading it as root; same result as `copyOut`. */
export function sudoCopyOut(opts: SudoCopyOutOptions): Promise<CopyOutResult> {
  return copyTree(sudoTreeReader(opts.sudo), opts);
}
