/**
 * What the node refused, said so the operator knows what to do next (never a
 * bare SFTP status code), and the one normal form of a remote path.
 */
import * as path from 'node:path';
import type { ErrorText } from '../../../shared/contract/error-text';
import { translate, type MessageParams } from '../../../shared/i18n';
import type { SshStringKey } from '../../../shared/i18n/ssh';
import { ApiError } from '../api-error';
import { SudoError } from './connection';
import { SudoSourceError } from './sudo-source';
import { stripTrailingSlashes } from '../../../shared/text/trailing-slashes';

const SFTP_PERMISSION_DENIED = 3;
const SFTP_NO_SUCH_FILE = 2;

/**
 * SFTP runs as the login user, not root: MicroK8s and etcd data dirs are
 * usually root-only. Say so, and what to do instead, rather than a bare code.
 */
export function explainSftpError(e: unknown, what: string, user: string): Error {
  const code = (e as { code?: unknown }).code;
  if (code === SFTP_PERMISSION_DENIED) return sshApiError('permission-denied', 'ssh.error.sftpPermissionDenied', { user, path: what });
  if (code === SFTP_NO_SUCH_FILE) return sshApiError('not-found', 'ssh.error.notFound', { path: what });
  return e instanceof Error ? e : new Error(String(e));
}

/** A client error whose sentence is an SSH catalog text (typed key: a missing text is a compile error). */
export function sshApiError(code: string, key: SshStringKey, params?: MessageParams): ApiError {
  return ApiError.localized(code, key, params);
}

/** Every sentence these errors can carry (tests check both languages have each). */
export const REMOTE_ERROR_KEYS: readonly SshStringKey[] = [
  'ssh.error.sftpPermissionDenied',
  'ssh.error.notFound',
  'ssh.error.pathEmpty',
  'ssh.error.pathRelative',
];

/** Login refusals, the refused unknown host key and sudo's refusals (connection.ts), as catalog texts. */
export const AUTH_ERROR_KEYS: readonly SshStringKey[] = [
  'ssh.error.authRefused',
  'ssh.error.authKeyFiles',
  'ssh.error.authServerClosed',
  'ssh.error.authCancelled',
  'ssh.hostkey.unknownRefused',
  'ssh.sudo.error.notInstalled',
  'ssh.sudo.error.cancelled',
  'ssh.sudo.error.wrongPassword',
  'ssh.sudo.error.wrongPasswordOn',
  'ssh.sudo.error.refused',
  'ssh.sudo.error.passwordNoLongerAccepted',
  'ssh.sudo.error.nowAsksPassword',
];

/**
 * Copy-out failures as catalog texts: every throw site in copy-out.ts, sudo-copy.ts and
 * copy-out-service.ts builds its error from one of these (`copyOutText`), so the
 * `ssh.copyout.failed` event carries the text for the UI while the CLI prints the English
 * rendering, word for word what it printed before. (A missing path on the node is
 * `ssh.error.notFound`, the same sentence the other remote reads use.)
 */
export const COPY_OUT_ERROR_KEYS: readonly SshStringKey[] = [
  'ssh.copyout.error.badName',
  'ssh.copyout.error.notDirOrFile',
  'ssh.copyout.error.tooManyFiles',
  'ssh.copyout.error.listingTooLarge',
  'ssh.copyout.error.listingLost',
  'ssh.copyout.error.listingFailed',
  'ssh.copyout.error.relistFailed',
  'ssh.copyout.error.hashLost',
  'ssh.copyout.error.hashFailed',
  'ssh.copyout.error.sftpUnavailable',
  'ssh.copyout.error.sftpClosed',
  'ssh.copyout.error.readFailed',
  'ssh.copyout.error.shorter',
  'ssh.copyout.error.shorterOf',
  'ssh.copyout.error.readLost',
  'ssh.copyout.error.interrupted',
  'ssh.copyout.error.cancelled',
  'ssh.copyout.error.wholeDir',
  'ssh.copyout.error.listingNoClock',
  'ssh.copyout.error.listingNotRecords',
  'ssh.copyout.error.listingBadRecord',
  'ssh.copyout.error.listingNoRoot',
  'ssh.copyout.error.hashingFailed',
  'ssh.copyout.error.fileInterrupted',
  'ssh.copyout.error.filesInterrupted',
  'ssh.copyout.error.readLostOf',
  'ssh.copyout.error.readDenied',
  'ssh.copyout.error.readFailedAsUser',
  'ssh.copyout.error.unknownJob',
  'ssh.copyout.error.notFinished',
  'ssh.copyout.error.destMissing',
  'ssh.copyout.error.destRelative',
  'ssh.copyout.error.destOutsideCopies',
  'ssh.copyout.error.destLeadsOut',
];

/** The sudo byte source's refusals (sudo-source.ts: reading a root-only directory in place), as catalog texts. */
export const SUDO_SOURCE_ERROR_KEYS: readonly SshStringKey[] = [
  'ssh.sudo.error.sourceListingLost',
  'ssh.sudo.error.sourceListingFailed',
  'ssh.sudo.error.sourceListingTooLarge',
  'ssh.sudo.error.sourceNotDirectory',
  'ssh.sudo.error.sourceListingNotRecords',
  'ssh.sudo.error.sourceListingBadRecord',
  'ssh.sudo.error.sourceListingBadName',
  'ssh.sudo.error.sourceListingNoSelf',
  'ssh.sudo.error.sourceNotFile',
  'ssh.sudo.error.sourceReadLost',
  'ssh.sudo.error.sourceReadFailed',
];

/** A copy-out failure's English message and its catalog text (key + params), from one template. */
export function copyOutText(key: SshStringKey, params?: MessageParams): { message: string; text: ErrorText } {
  return { message: translate('en', key, params), text: params ? { key, params } : { key } };
}

/** sudo's refusals (wrong password, cancelled, not allowed) and the sudo source's errors, as client errors. */
export function explainSudoError(e: unknown): Error {
  if (e instanceof ApiError) return e;
  if (e instanceof SudoError) return new ApiError('sudo-failed', e.message, e.text);
  if (e instanceof SudoSourceError) return new ApiError(e.code, e.message, e.text);
  return e instanceof Error ? e : new Error(String(e));
}

/** A remote path as the node will read it: absolute, normalised, no trailing slash. */
export function normaliseRemotePath(p: unknown): string {
  if (typeof p !== 'string' || p.trim() === '' || p.includes('\0')) throw sshApiError('bad-params', 'ssh.error.pathEmpty');
  if (!p.startsWith('/')) throw sshApiError('bad-params', 'ssh.error.pathRelative', { path: p });
  const n = path.posix.normalize(p);
  return n.length > 1 ? stripTrailingSlashes(n) : n;
}
