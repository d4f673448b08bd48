/**
 * The command that copies the named files out of a MicroK8s backend into a
 * tarball, without stopping anything and without changing the directory.
 */
export const MICROK8S_BACKEND = '/var/snap/microk8s/current/var/kubernetes/backend';

/** What to run on the node to get a listing Lifeboat can read. */
export const LISTING_COMMAND = `ls -l ${MICROK8S_BACKEND}/`;

/** Where k8s-dqlite logs its start-up error. */
export const JOURNAL_COMMAND = 'sudo journalctl -u snap.microk8s.daemon-k8s-dqlite -n 50 --no-pager';

/** Quotes a file name for a POSIX shell only if it needs it. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9._+:@%/-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function copyOutCommand(files: readonly string[], dir: string = MICROK8S_BACKEND): string {
  const names = files.map(shellQuote).join(' ');
  return `sudo tar -C ${shellQuote(dir)} -czf ~/lifeboat-backend-files.tar.gz ${names}\nsha256sum ~/lifeboat-backend-files.tar.gz`;
}

/** Beyond this many files, copying the whole directory is simpler (and the command stays readable). */
export const MAX_NAMED_FILES = 40;

/** The whole backend directory as one tarball. */
export function copyAllCommand(dir: string = MICROK8S_BACKEND): string {
  const parent = dir.replace(/\/[^/]+\/?$/, '') || '/';
  const base = dir.replace(/\/$/, '').split('/').pop() ?? 'backend';
  return `sudo tar -C ${shellQuote(parent)} -czf ~/lifeboat-backend.tar.gz ${shellQuote(base)}\nsha256sum ~/lifeboat-backend.tar.gz`;
}

export function copyCommandFor(files: readonly string[], dir: string = MICROK8S_BACKEND): string {
  return files.length > MAX_NAMED_FILES ? copyAllCommand(dir) : copyOutCommand(files, dir);
}
