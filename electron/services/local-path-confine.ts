/**
 * Web mode's rule for a file on this machine that a client names to be read
 * (shared/contract/path-rules.ts): only inside one folder, checked by name and
 * again after symbolic links, and refused without repeating the path or saying
 * whether it exists (a token holder must learn nothing about the machine).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ApiError } from './api-error';

function strictlyInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** `requested` as an absolute path that is a regular file inside `root` (after symlinks), else a `forbidden` ApiError saying `refusal`. */
export async function confinedExistingFile(requested: string, root: string, refusal: string): Promise<string> {
  const home = process.env.HOME ?? '';
  const expanded = requested === '~' ? home : requested.startsWith('~/') ? path.join(home, requested.slice(2)) : requested;
  if (!path.isAbsolute(expanded) || expanded.includes('\0')) throw new ApiError('forbidden', refusal);
  const wanted = path.resolve(expanded);
  const base = path.resolve(root);
  if (!strictlyInside(base, wanted)) throw new ApiError('forbidden', refusal);
  // Both resolved: a link inside the folder that leads out of it is refused the same way.
  const [realRoot, realFile] = await Promise.all([fs.realpath(base).catch(() => null), fs.realpath(wanted).catch(() => null)]);
  if (!realRoot || !realFile || !strictlyInside(realRoot, realFile)) throw new ApiError('forbidden', refusal);
  const st = await fs.stat(realFile).catch(() => null);
  if (!st?.isFile()) throw new ApiError('forbidden', refusal);
  return realFile;
}
