/**
 * Small pieces every reader of a node's files needs: a remote (POSIX) path
 * joined with one name, ssh2's SFTP callbacks as promises, and a remote
 * handle closed without waiting on a dead link.
 */
import type { SFTPWrapper } from 'ssh2';

/** `name` inside the remote directory `dir` (POSIX, whatever this machine is; `dir` may end in `/`, e.g. the root). */
export function remoteJoin(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** One ssh2 SFTP call (`(…, cb) => sftp.open(…, cb)`) as a promise. */
export function sftpCall<T>(fn: (cb: (err: Error | null | undefined, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

/** How long a close may wait for its reply before the handle is given up on. */
const CLOSE_WAIT_MS = 2000;

/** Close a remote handle; on a dead link the reply never comes, so do not wait long. */
export async function closeQuietly(sftp: SFTPWrapper, handle: Buffer): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    sftpCall<void>((cb) => sftp.close(handle, (err) => cb(err, undefined))).catch(() => undefined),
    new Promise<void>((r) => (timer = setTimeout(r, CLOSE_WAIT_MS))),
  ]);
  clearTimeout(timer);
}
