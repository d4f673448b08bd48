/**
 * Commands the operator runs in their own shell on the node (not through
 * Lifeboat): the listing to paste, the dqlite journal, and the copy of the
 * named files (or the whole backend) into a tarball, without stopping
 * anything and without changing the directory.
 *
 * Each privileged command comes in two forms, one per `ShellPrivilege`, so
 * what is shown pastes as it is: through sudo for a normal login, and with no
 * sudo for a root shell (minimal nodes often have no sudo at all). A single
 * form for both (`sudo` as root, or a `$(id -u)` test) would fail where sudo
 * is missing or be harder to read at a glance; the user picks instead.
 */
export const MICROK8S_BACKEND = '/var/snap/microk8s/current/var/kubernetes/backend';

/** Who runs the suggested commands on the node: a user with sudo, or root itself. */
export type ShellPrivilege = 'sudo' | 'root';

export const SHELL_PRIVILEGES: readonly ShellPrivilege[] = ['sudo', 'root'];

/** What to run on the node to get a listing Lifeboat can read. */
export const LISTING_COMMAND = `ls -l ${MICROK8S_BACKEND}/`;

/** Where k8s-dqlite logs its start-up error. */
export function journalCommand(as: ShellPrivilege = 'sudo'): string {
  return `${asRoot(as)}journalctl -u snap.microk8s.daemon-k8s-dqlite -n 50 --no-pager`;
}

/** The journal command through sudo (the form shown before the user picks). */
export const JOURNAL_COMMAND = journalCommand('sudo');

/** Quotes a file name for a POSIX shell only if it needs it. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9._+:@%/-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function asRoot(as: ShellPrivilege): string {
  return as === 'sudo' ? 'sudo ' : '';
}

/**
 * The tarball is written by root into the login user's home (`~` is expanded
 * by the user's shell, before sudo): through sudo it is then handed to the
 * user, so that scp as that user reads it even where root's umask is 077, and
 * the user can remove it afterwards. Then its checksum, to compare after scp.
 */
function tarballLines(tar: string, tarball: string, as: ShellPrivilege): string {
  const own = as === 'sudo' ? [`sudo chown "$(id -u):$(id -g)" ${tarball}`] : [];
  return [`${asRoot(as)}${tar}`, ...own, `sha256sum ${tarball}`].join('\n');
}

/** The named files of `dir` as one tarball (`--`: a name that starts with `-` stays a name). */
export function copyOutCommand(files: readonly string[], dir: string = MICROK8S_BACKEND, as: ShellPrivilege = 'sudo'): string {
  const names = files.map(shellQuote).join(' ');
  const tarball = '~/lifeboat-backend-files.tar.gz';
  return tarballLines(`tar -C ${shellQuote(dir)} -czf ${tarball} -- ${names}`, tarball, as);
}

/** Beyond this many files, copying the whole directory is simpler (and the command stays readable). */
export const MAX_NAMED_FILES = 40;

/** The whole backend directory as one tarball. */
export function copyAllCommand(dir: string = MICROK8S_BACKEND, as: ShellPrivilege = 'sudo'): string {
  const parent = dir.replace(/\/[^/]+\/?$/, '') || '/';
  const base = dir.replace(/\/$/, '').split('/').pop() ?? 'backend';
  const tarball = '~/lifeboat-backend.tar.gz';
  return tarballLines(`tar -C ${shellQuote(parent)} -czf ${tarball} -- ${shellQuote(base)}`, tarball, as);
}

/** The named files, or the whole directory when there are many or none in particular (tar refuses an empty archive). */
export function copyCommandFor(files: readonly string[], dir: string = MICROK8S_BACKEND, as: ShellPrivilege = 'sudo'): string {
  return files.length === 0 || files.length > MAX_NAMED_FILES ? copyAllCommand(dir, as) : copyOutCommand(files, dir, as);
}
