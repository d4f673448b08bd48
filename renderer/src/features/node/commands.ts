/**
 * The commands the "Data directory" panel runs on a node, built here so the
 * exact text is shown before it runs. Pure functions (tested in Node); the
 * sudo wrapping mirrors `runSudo` in electron/services/ssh/connection.ts,
 * and a test compares both against what really goes over the wire.
 */

export interface DataDirPreset {
  id: 'microk8s' | 'kubeadm' | 'kubekey';
  path: string;
}

/** Where the datastores usually live. */
export const DATA_DIR_PRESETS: readonly DataDirPreset[] = [
  { id: 'microk8s', path: '/var/snap/microk8s/current/var/kubernetes/backend' },
  { id: 'kubeadm', path: '/var/lib/etcd/member' },
  { id: 'kubekey', path: '/var/lib/etcd' },
];

/** POSIX single quotes, always (the form `runSudo` uses around `sh -c`). */
export function quoteAlways(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Quotes only when needed, so ordinary paths stay readable. */
export function quoteIfNeeded(s: string): string {
  return /^[A-Za-z0-9._+:@%/=-]+$/.test(s) ? s : quoteAlways(s);
}

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

/**
 * What actually goes to the node when a command runs with sudo: a probe for
 * passwordless sudo, then the command either with `-n` (no password needed)
 * or with `-S` (the password, if sudo wants one, goes to sudo's stdin; it is
 * never part of the command text).
 */
export function sudoCommandTexts(command: string): { probe: string; passwordless: string; withPassword: string } {
  const wrapped = `sh -c ${quoteAlways(command)}`;
  return {
    probe: 'sudo -n true',
    passwordless: `sudo -n ${wrapped}`,
    withPassword: `sudo -S -k -p '' ${wrapped}`,
  };
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
