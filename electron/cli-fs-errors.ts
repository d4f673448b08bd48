/**
 * What a file-system error means, for the CLI's one-line messages: what
 * happened, the path, and the next step where there is one, instead of
 * Node's `ELOOP: too many symbolic links encountered, stat '…'`.
 */

/** Root is refused only by the file system itself (read-only, special like /proc or /sys, or an immutable file). */
const deniedNext = (): string =>
  process.getuid?.() === 0
    ? 'refused even to root: a special or read-only file system, or an immutable file; use another path'
    : 'run as a user that may read or write it, e.g. with sudo';

const TEXTS: Record<string, (where: string) => string> = {
  ENOENT: (p) => `no such file or directory${p}`,
  EACCES: (p) => `permission denied${p} (${deniedNext()})`,
  EPERM: (p) => `operation not permitted${p} (${deniedNext()})`,
  ELOOP: (p) => `too many levels of symbolic links${p} (links that point at each other: check them with ls -l)`,
  ENOTDIR: (p) => `not a directory${p} (a part of the path is a file)`,
  EISDIR: (p) => `is a directory${p}`,
  EEXIST: (p) => `already exists${p}`,
  EROFS: (p) => `read-only file system${p} (write the output somewhere else)`,
  ENOSPC: (p) => `no space left on the device${p} (free some space, or write the output somewhere else)`,
  EDQUOT: (p) => `disk quota exceeded${p} (write the output somewhere else)`,
  EIO: (p) => `input/output error${p} (the disk may be failing: copy off what can still be read before anything else)`,
  ENAMETOOLONG: (p) => `file name too long${p}`,
  EMFILE: () => 'too many open files (raise the limit, e.g. ulimit -n 4096, and run it again)',
  ENFILE: () => 'too many open files on this machine (close some programs and run it again)',
};

/** `what happened: PATH (next step)` for a Node file-system error; any other error's own message. */
export function fsErrorText(err: unknown): string {
  const e = err && typeof err === 'object' ? (err as NodeJS.ErrnoException) : null;
  const text = e?.code ? TEXTS[e.code] : undefined;
  if (text) return text(typeof e?.path === 'string' && e.path !== '' ? `: ${e.path}` : '');
  return err instanceof Error ? err.message : String(err);
}

/** `WHAT: what happened (next step)`, for a message that names the path itself. */
export function fsErrorAbout(err: unknown, what: string): string {
  const e = err && typeof err === 'object' ? (err as NodeJS.ErrnoException) : null;
  const text = e?.code ? TEXTS[e.code] : undefined;
  if (text) return `${what}: ${text('')}`;
  return `${what}: ${err instanceof Error ? err.message : String(err)}`;
}
