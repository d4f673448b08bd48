/**
 * The export's file writes: one file per object, named in the order the
 * objects come (`name.yaml`, then `name~2.yaml` for a clash), a name claimed
 * by an exclusive create (`wx`), never overwriting and never checked apart
 * from the create.
 *
 * Synchronous on purpose: each file is an open, a write and a close of a few
 * KB, and through promises each of those cost ~40 µs of this thread's CPU in
 * hand-offs to libuv's pool (200,000 files: ~25 s), more than the kernel's
 * own work; written here directly, the thread pays only the system calls. The
 * export runs in a worker thread in the app (and in the CLI's only thread), so
 * nothing else waits on it.
 */
import { closeSync, fchmodSync, fstatSync, openSync, writeSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Create the first free `name.ext`, `name~2.ext`, ... in `dir` with `text` (mode set also past the umask); throws the
 * file system's error (the export stops there).
 */
export function writeObjectFile(dir: string, name: string, ext: string, text: string, mode: number): void {
  for (let n = 1; ; n++) {
    const file = path.join(dir, n === 1 ? `${name}.${ext}` : `${name}~${n}.${ext}`);
    let fd: number;
    try {
      fd = openSync(file, 'wx', mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    try {
      // The umask (or a default ACL) may have taken bits off a 0644 file's create mode: set exactly what was asked.
      if ((fstatSync(fd).mode & 0o7777) !== mode) fchmodSync(fd, mode);
      const bytes = Buffer.from(text, 'utf8');
      for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
    } finally {
      closeSync(fd);
    }
    return;
  }
}
