/**
 * The server-side paths an SSH client may name, enforced as
 * `shared/contract/path-rules.ts` states them: in web mode, only the server's
 * own SSH config and key files inside its ~/.ssh; refusals never repeat the
 * path or say whether it exists. Electron mode takes the user's own paths.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ApiError } from '../api-error';
import { strictlyInside } from '../local-path-confine';
import { expandHome } from './settings';

type Transport = 'electron' | 'web';

/** The config file `ssh.config.import` reads: the server's own in web mode (a client-named path is refused unopened). */
export function configImportPath(requested: unknown, own: string, transport: Transport): string {
  if (requested === undefined || requested === null || requested === '') return own;
  if (typeof requested !== 'string' || requested.includes('\0')) throw new ApiError('bad-params', 'path must be a file path');
  if (transport !== 'web') return expandHome(requested);
  if (path.resolve(expandHome(requested)) === path.resolve(own)) return own;
  throw new ApiError('forbidden', 'in web mode only the SSH config of the user running Lifeboat (~/.ssh/config) can be imported: leave the path empty');
}

/** Reading the config failed: in web mode say only that there is none (never the path, never an errno). */
export function configImportError(e: unknown, file: string, transport: Transport): Error {
  if (e instanceof ApiError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (transport === 'web') {
    return new ApiError('not-found', 'no SSH config to import: ~/.ssh/config of the user running Lifeboat is missing or unreadable');
  }
  const why =
    code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
  return new ApiError(code === 'ENOENT' ? 'not-found' : 'unreadable', `cannot import the SSH config ${file}: ${why}; choose another file`);
}

/** Every key file a target names, with where it is (for a message that names the place, not the path). */
function keyFilesOf(target: unknown): { file: unknown; where: string }[] {
  if (typeof target !== 'object' || target === null) return [];
  const t = target as { identityFiles?: unknown; jumps?: unknown };
  const out: { file: unknown; where: string }[] = [];
  const add = (files: unknown, where: string): void => {
    if (files === undefined) return;
    if (!Array.isArray(files)) throw new ApiError('bad-params', `${where}: identityFiles must be a list of paths`);
    files.forEach((file, i) => out.push({ file, where: `${where}, key file ${i + 1}` }));
  };
  add(t.identityFiles, 'the target');
  if (Array.isArray(t.jumps)) t.jumps.forEach((j: unknown, i: number) => add((j as { identityFiles?: unknown } | null)?.identityFiles, `jump host ${i + 1}`));
  return out;
}

/**
 * Web mode: every key file of `target` (and its jumps) lies inside `keysDir`,
 * by name and after symlinks, or the call is refused before any key is read.
 * A file that does not exist yet is left to the connection to report (it can
 * only be inside `keysDir`).
 */
export async function checkKeyFiles(target: unknown, keysDir: string, transport: Transport): Promise<void> {
  if (transport !== 'web') return;
  const root = path.resolve(keysDir);
  let realRoot: string | null = null;
  for (const { file, where } of keyFilesOf(target)) {
    const refuse = (): ApiError =>
      new ApiError(
        'forbidden',
        `in web mode key files must be inside ~/.ssh of the user running Lifeboat; ${where} is not (use ssh-agent, or move the key there)`,
      );
    if (typeof file !== 'string' || file === '' || file.includes('\0')) throw new ApiError('bad-params', `${where} must be a path`);
    const expanded = expandHome(file);
    if (!path.isAbsolute(expanded)) throw refuse();
    const abs = path.resolve(expanded);
    if (!strictlyInside(root, abs)) throw refuse();
    let real: string;
    try {
      real = await fs.realpath(abs);
    } catch {
      continue;
    }
    realRoot ??= await fs.realpath(root).catch(() => root);
    if (!strictlyInside(realRoot, real)) throw refuse();
  }
}
