/**
 * The commands the "Data directory" panel runs on a node, built here so the
 * exact text is shown before it runs. Pure functions (tested in Node); the
 * sudo wrapping mirrors `runSudo` in electron/services/ssh/connection.ts,
 * and a test compares both against what really goes over the wire.
 */

export interface DataDirPreset {
  id: 'microk8s' | 'kubeadm' | 'kubekey' | 'k3s' | 'rke2';
  path: string;
}

/** Where the datastores usually live. */
export const DATA_DIR_PRESETS: readonly DataDirPreset[] = [
  { id: 'microk8s', path: '/var/snap/microk8s/current/var/kubernetes/backend' },
  { id: 'kubeadm', path: '/var/lib/etcd/member' },
  { id: 'kubekey', path: '/var/lib/etcd' },
  // Embedded etcd (holds member/); their own snapshots lie in server/db/snapshots beside it.
  { id: 'k3s', path: '/var/lib/rancher/k3s/server/db/etcd' },
  { id: 'rke2', path: '/var/lib/rancher/rke2/server/db/etcd' },
];

import { rootShellCommand } from '../../../../shared/node/run-tag';
import { quoteAlways, quoteIfNeeded } from '../../../../shared/node/shell';
import { sudoLinkedFileStatCommand, sudoListCommand as sharedSudoListCommand, sudoReadCommand } from '../../../../shared/node/sudo-read';
import { stripTrailingSlashes } from '../../../../shared/text/trailing-slashes';

export { quoteAlways, quoteIfNeeded };

export type PathProblem = 'empty' | 'relative' | 'control';

/** A remote data directory path the panel accepts: absolute, no control characters. */
export function checkRemotePath(p: string): PathProblem | null {
  const s = p.trim();
  if (s === '') return 'empty';
  if (!s.startsWith('/')) return 'relative';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(s)) return 'control';
  return null;
}

/** "Look": a read-only long listing with full timestamps (what `analyzeListing` reads). */
export function lookCommand(dir: string): string {
  return `ls -l --time-style=full-iso -- ${quoteIfNeeded(dir.trim())}`;
}

/** Whether the login user is root, checked once per connection before any sudo (the back end's ROOT_PROBE). */
export const ROOT_PROBE_TEXT = 'exec id -u';

/**
 * What actually goes to the node when a command runs with sudo: once per
 * connection, whether the login user is root (root then runs the command as
 * `sh -c '…'`, with no sudo at all); otherwise a probe for passwordless sudo,
 * then the command either with `-n` (no password needed) or with `-S` (the
 * password, if sudo wants one, goes to sudo's stdin; it is never part of the
 * command text). With `runTag` (the panel's next run) the command is sent
 * tagged, so that one outlasting its time limit is ended on the node.
 */
export function sudoCommandTexts(
  command: string,
  runTag: string | null = null,
): { rootProbe: string; asRoot: string; probe: string; passwordless: string; withPassword: string } {
  const wrapped = rootShellCommand(command, runTag);
  return {
    rootProbe: ROOT_PROBE_TEXT,
    asRoot: wrapped,
    probe: 'sudo -n true',
    passwordless: `sudo -n ${wrapped}`,
    withPassword: `sudo -S -k -p '' ${wrapped}`,
  };
}

export { sudoLinkedFileStatCommand, sudoReadCommand };

/**
 * The listing "Validate in place" runs as root when "Use sudo" is ticked (shared/node/sudo-read.ts, what the back
 * end sends; a test compares it with what really goes over the wire), with the path as the back end reads it:
 * no trailing slash.
 */
export function sudoListCommand(dir: string): string {
  return sharedSudoListCommand(normalisedDir(dir));
}

/** The commands with placeholders for the file and the window, for display before anything runs. */
export function sudoValidateCommands(dir: string): string[] {
  const d = normalisedDir(dir);
  const at = d === '/' ? '' : d;
  return [sudoListCommand(dir), sudoLinkedFileStatCommand(`${at}/<link>`), sudoReadCommand(`${at}/<file>`, '<offset>', '<length>')];
}

/**
 * How a series of sudo commands is sent (validation in place, copy-out): the
 * root check (a root login sends each command as `sh -c '…'`, no sudo);
 * otherwise one probe and, when sudo wants a password, one check of it, then
 * each command once, with `-n` or with `-S` (password on sudo's stdin, never
 * in the text).
 */
export const SUDO_SERIES_TEXTS = {
  rootProbe: ROOT_PROBE_TEXT,
  asRoot: `sh -c '…'`,
  probe: 'sudo -n true',
  checkPassword: `sudo -S -k -p '' true`,
  passwordless: `sudo -n sh -c '…'`,
  withPassword: `sudo -S -k -p '' sh -c '…'`,
} as const;

function normalisedDir(dir: string): string {
  const s = dir.trim();
  return s.length > 1 ? stripTrailingSlashes(s) : s;
}

/** `2m 05s`, `1h 02m`, `45s` for an ETA. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  if (h > 0) return `${h}h ${two(m)}m`;
  if (m > 0) return `${m}m ${two(sec)}s`;
  return `${sec}s`;
}
