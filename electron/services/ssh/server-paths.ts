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
import { expandHome } from '../home-path';

type Transport = 'electron' | 'web';

/** The config file `ssh.config.import` reads: the server's own in web mode (a client-named path is refused unopened). */
export function configImportPath(requested: unknown, own: string, transport: Transport): string {
  if (requested === undefined || requested === null || requested === '') return own;
  // Contract: the page sends no path or a string.
  if (typeof requested !== 'string' || requested.includes('\0')) throw new ApiError('bad-params', 'path must be a file path');
  if (transport !== 'web') return expandHome(requested);
  if (path.resolve(expandHome(requested)) === path.resolve(own)) return own;
  throw ApiError.localized('forbidden', 'apiError.sshConfig.webOwnOnly');
}

/** Reading the config failed: in web mode say only that there is none (never the path, never an errno). */
export function configImportError(e: unknown, file: string, transport: Transport): Error {
  if (e instanceof ApiError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (transport === 'web') {
    return ApiError.localized('not-found', 'apiError.sshConfig.noneWeb');
  }
  const status = code === 'ENOENT' ? 'not-found' : 'unreadable';
  if (code === 'ENOENT') return ApiError.localized(status, 'apiError.sshConfig.missing', { file });
  if (code === 'EISDIR') return ApiError.localized(status, 'apiError.sshConfig.directory', { file });
  if (code === 'EACCES') return ApiError.localized(status, 'apiError.sshConfig.denied', { file });
  return ApiError.localized(status, 'apiError.sshConfig.unreadable', { file, reason: (e as Error).message });
}

/** Where a key file is named: key file `file` (1-based) of the target, or of jump host `jump` (1-based). */
interface KeyFilePlace {
  file: number;
  jump?: number;
}

/** Every key file a target names, with where it is (for a message that names the place, not the path). */
function keyFilesOf(target: unknown): { file: unknown; at: KeyFilePlace }[] {
  if (typeof target !== 'object' || target === null) return [];
  const t = target as { identityFiles?: unknown; jumps?: unknown };
  const out: { file: unknown; at: KeyFilePlace }[] = [];
  const add = (files: unknown, jump?: number): void => {
    if (files === undefined) return;
    // Contract: the form sends a list.
    if (!Array.isArray(files))
      throw new ApiError('bad-params', `${jump === undefined ? 'the target' : `jump host ${jump}`}: identityFiles must be a list of paths`);
    files.forEach((file, i) => out.push({ file, at: jump === undefined ? { file: i + 1 } : { file: i + 1, jump } }));
  };
  add(t.identityFiles);
  if (Array.isArray(t.jumps)) t.jumps.forEach((j: unknown, i: number) => add((j as { identityFiles?: unknown } | null)?.identityFiles, i + 1));
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
  for (const { file, at } of keyFilesOf(target)) {
    const refuse = (): ApiError =>
      at.jump === undefined
        ? ApiError.localized('forbidden', 'apiError.sshKeys.outsideWeb', { file: at.file })
        : ApiError.localized('forbidden', 'apiError.sshKeys.jumpOutsideWeb', { file: at.file, jump: at.jump });
    // Contract: the form sends no empty key file (ssh.profiles.save says an empty one in the user's language).
    if (typeof file !== 'string' || file === '' || file.includes('\0')) {
      throw new ApiError('bad-params', `${at.jump === undefined ? 'the target' : `jump host ${at.jump}`}, key file ${at.file} must be a path`);
    }
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
