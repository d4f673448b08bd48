/**
 * `mkdir -p` that always ends. Node's own `mkdir(dir, { recursive: true })`
 * never settles where a parent exists but making its child answers ENOENT:
 * procfs does (`--out /proc/x`), and Node steps back to the parent on ENOENT and
 * forward again on EEXIST, forever, at 100% of a core (async: in a libuv pool
 * thread, the promise pending for good; sync: the whole process frozen). An
 * output path is typed by a person at 3 a.m.: a typo must end in an error.
 *
 * This walks up once, to the nearest directory that exists, then makes each
 * missing one down to `dir` once; a child that still cannot be made is the
 * error, with its own code and path. The mode applies to every directory it
 * makes (under the umask), as with Node's recursive mkdir.
 *
 * Where a path's parents are already known to exist on a real file system (a
 * folder inside an output this made), Node's own recursive mkdir is kept.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Directories made at most: deeper than any real path, and a bound on the walk whatever the input. */
const MAX_DEPTH = 4096;

function codeOf(err: unknown): string | undefined {
  return err && typeof err === 'object' ? (err as NodeJS.ErrnoException).code : undefined;
}

function notADirectory(at: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`ENOTDIR: not a directory, mkdir '${at}'`);
  err.code = 'ENOTDIR';
  err.syscall = 'mkdir';
  err.path = at;
  return err;
}

/** Make `dir` and its missing parents (each `mode` when given); an existing directory is fine. */
export async function makeDirs(dir: string, mode?: number): Promise<void> {
  const options = mode === undefined ? undefined : { mode };
  const missing: string[] = [];
  /** The ENOENT of the child just below `at`: the error when `at` turns out to be a dangling link. */
  let childMissing: Error | null = null;
  let at = path.resolve(dir);
  for (;;) {
    try {
      await fs.mkdir(at, options);
      break;
    } catch (err) {
      const code = codeOf(err);
      if (code === 'EEXIST') {
        // There already: a directory (or a link to one) ends the walk; a file or a dangling link in the way is the error.
        const st = await fs.stat(at).catch(() => null);
        if (st?.isDirectory()) break;
        if (at === path.resolve(dir)) throw err;
        throw st === null && childMissing !== null ? childMissing : notADirectory(at);
      }
      const parent = path.dirname(at);
      if (code !== 'ENOENT' || parent === at || missing.length >= MAX_DEPTH) throw err;
      missing.push(at);
      childMissing = err as Error;
      at = parent;
    }
  }
  // Down, each once: the parent exists now, so an ENOENT here is final.
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      await fs.mkdir(missing[i]!, options);
    } catch (err) {
      if (codeOf(err) === 'EEXIST' && (await fs.stat(missing[i]!).catch(() => null))?.isDirectory()) continue;
      throw err;
    }
  }
}
