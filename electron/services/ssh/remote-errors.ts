/**
 * What the node refused, said so the operator knows what to do next (never a
 * bare SFTP status code), and the one normal form of a remote path.
 */
import * as path from 'node:path';
import { ApiError } from '../api-error';
import { SudoError } from './connection';
import { SudoSourceError } from './sudo-source';

const SFTP_PERMISSION_DENIED = 3;
const SFTP_NO_SUCH_FILE = 2;

/**
 * SFTP runs as the login user, not root: MicroK8s and etcd data dirs are
 * usually root-only. Say so, and what to do instead, rather than a bare code.
 */
export function explainSftpError(e: unknown, what: string, user: string): Error {
  const code = (e as { code?: unknown }).code;
  if (code === SFTP_PERMISSION_DENIED) {
    return new ApiError(
      'permission-denied',
      `permission denied: ${user} cannot read ${what} over SFTP (SFTP runs as the login user, not root). ` +
        'Tick "Use sudo" to read it as root through sudo (read-only commands, shown before they run), ' +
        "or connect as a user who can read it (e.g. a member of the directory's group).",
    );
  }
  if (code === SFTP_NO_SUCH_FILE) return new ApiError('not-found', `${what} does not exist on the node`);
  return e instanceof Error ? e : new Error(String(e));
}

/** sudo's refusals (wrong password, cancelled, not allowed) and the sudo source's errors, as client errors. */
export function explainSudoError(e: unknown): Error {
  if (e instanceof ApiError) return e;
  if (e instanceof SudoError) return new ApiError('sudo-failed', e.message);
  if (e instanceof SudoSourceError) return new ApiError(e.code, e.message);
  return e instanceof Error ? e : new Error(String(e));
}

/** A remote path as the node will read it: absolute, normalised, no trailing slash. */
export function normaliseRemotePath(p: unknown): string {
  if (typeof p !== 'string' || p.trim() === '' || p.includes('\0')) throw new ApiError('bad-params', 'the remote path must be a non-empty string');
  if (!p.startsWith('/')) throw new ApiError('bad-params', `the remote path must be absolute (start with /): ${p}`);
  const n = path.posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}
