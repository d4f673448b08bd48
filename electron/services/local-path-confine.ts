/**
 * Web mode's rule for a file on this machine that a client names to be read
 * (shared/contract/path-rules.ts): only inside one folder, checked by name and
 * again after symbolic links, and refused without repeating the path or saying
 * whether it exists (a token holder must learn nothing about the machine).
 */
import { existsSync, promises as fs, realpathSync } from 'node:fs';
import * as path from 'node:path';
import type { ApiError } from './api-error';
import { expandHome } from './home-path';

/** `child` relative to `parent` ('' for `parent` itself), or null when it lies outside. */
function relativeWithin(parent: string, child: string): string | null {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel)) ? rel : null;
}

/** Is `child` equal to or inside `parent`? Both absolute. */
export function isInside(parent: string, child: string): boolean {
  return relativeWithin(parent, child) !== null;
}

/** Is `child` inside `parent` and not `parent` itself? Both absolute. */
export function strictlyInside(parent: string, child: string): boolean {
  const rel = relativeWithin(parent, child);
  return rel !== null && rel !== '';
}

/** Real path of the nearest existing ancestor, with the rest appended (an output that does not exist yet). */
export function realpathLoose(p: string): string {
  let cur = path.resolve(p);
  const rest: string[] = [];
  while (!existsSync(cur)) {
    const parent = path.dirname(cur);
    if (parent === cur) break;
    rest.unshift(path.basename(cur));
    cur = parent;
  }
  return path.join(realpathSync(cur), ...rest);
}

/**
 * `requested` as an absolute path that is a regular file inside `root` (after symlinks), else the error
 * `refusal` makes (the caller's catalog sentence: it knows what the folder is to the user).
 */
export async function confinedExistingFile(requested: string, root: string, refusal: () => ApiError): Promise<string> {
  const expanded = expandHome(requested);
  if (!path.isAbsolute(expanded) || expanded.includes('\0')) throw refusal();
  const wanted = path.resolve(expanded);
  const base = path.resolve(root);
  if (!strictlyInside(base, wanted)) throw refusal();
  // Both resolved: a link inside the folder that leads out of it is refused the same way.
  const [realRoot, realFile] = await Promise.all([fs.realpath(base).catch(() => null), fs.realpath(wanted).catch(() => null)]);
  if (!realRoot || !realFile || !strictlyInside(realRoot, realFile)) throw refusal();
  const st = await fs.stat(realFile).catch(() => null);
  if (!st?.isFile()) throw refusal();
  return realFile;
}
