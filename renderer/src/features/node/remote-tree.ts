/**
 * The remote tree picker behind "Browse…" in the data directory panel: walk
 * the node's directories over SFTP (`ssh.list`, read-only) instead of typing
 * a path from memory at 3 a.m. Pure functions (tested in Node against a real
 * sshd); the Svelte component only draws what `openRemoteDir` returns.
 */
import type { RemoteEntry } from '../../../../shared/contract/ssh';
import { checkRemotePath } from './commands';

/** One line of the picker. */
export interface RemoteTreeRow {
  name: string;
  /** Absolute path on the node. */
  path: string;
  kind: RemoteEntry['kind'];
  size: number;
  mtimeMs: number;
  /**
   * Can be opened as a directory. Symlinks too: `/var/snap/microk8s/current`
   * is one, and SFTP lists a link's own attributes, not its target's.
   */
  enterable: boolean;
  /** Looks like a dqlite segment / metadata file or an etcd member dir (shown first among its kind). */
  datastore: boolean;
}

export interface RemoteDirView {
  dir: string;
  /** null at `/`. */
  parent: string | null;
  rows: RemoteTreeRow[];
  /** Why the directory could not be listed (permission, missing…), as the back end said it. */
  error: string | null;
}

/** `/a/b/` → `/a/b`, `//a//b` → `/a/b`; keeps `/`. */
export function normalizeRemoteDir(p: string): string {
  const parts = p
    .trim()
    .split('/')
    .filter((s) => s !== '' && s !== '.');
  const out: string[] = [];
  for (const s of parts) {
    if (s === '..') out.pop();
    else out.push(s);
  }
  return '/' + out.join('/');
}

export function parentDir(dir: string): string | null {
  const d = normalizeRemoteDir(dir);
  if (d === '/') return null;
  return d.slice(0, d.lastIndexOf('/')) || '/';
}

export function childPath(dir: string, name: string): string {
  const d = normalizeRemoteDir(dir);
  return d === '/' ? `/${name}` : `${d}/${name}`;
}

const DATASTORE_NAME = /^(\d{16}-\d{16}|open-\d+|metadata[12]|snapshot-\d+-\d+-\d+(\.meta)?|member|wal|snap|backend)$/;

/** Directories (and links) first, then files; names in byte order like `ls` in the C locale. */
export function treeRows(dir: string, entries: readonly RemoteEntry[]): RemoteTreeRow[] {
  const rows = entries
    .filter((e) => e.name !== '.' && e.name !== '..' && !e.name.includes('/'))
    .map((e) => ({
      name: e.name,
      path: childPath(dir, e.name),
      kind: e.kind,
      size: e.size,
      mtimeMs: e.mtimeMs,
      enterable: e.kind === 'dir' || e.kind === 'symlink',
      datastore: DATASTORE_NAME.test(e.name),
    }));
  return rows.sort((a, b) => Number(b.enterable) - Number(a.enterable) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Where the picker opens: the panel's path when it is a usable absolute
 * path, else `/`. A path that cannot be listed (a preset that does not exist
 * on this node) climbs to the nearest parent that can.
 */
export async function openRemoteDir(list: (dir: string) => Promise<RemoteEntry[]>, wanted: string): Promise<RemoteDirView> {
  let dir = checkRemotePath(wanted) ? '/' : normalizeRemoteDir(wanted);
  let firstError: string | null = null;
  for (;;) {
    try {
      const entries = await list(dir);
      // The error of the directory asked for stays visible even when a parent was shown instead.
      return { dir, parent: parentDir(dir), rows: treeRows(dir, entries), error: firstError };
    } catch (e) {
      firstError ??= (e as Error).message;
      const up = parentDir(dir);
      if (up === null) return { dir, parent: null, rows: [], error: firstError };
      dir = up;
    }
  }
}
