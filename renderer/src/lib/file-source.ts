/**
 * DirectorySources over browser files: dropped folders (FileSystemDirectoryEntry),
 * `<input type=file webkitdirectory>` selections, or single files. Bytes are
 * read with `File.slice(...).arrayBuffer()` on demand; the directory is never
 * loaded into memory. `File` objects are handles, so a list of them can be
 * posted to the validation worker cheaply.
 */
import type { ByteSource, DirEntry, DirectorySource } from '../../../shared/bytes/byte-source';

/** One file and its path relative to the dropped root ("a/b/segment" uses '/'). */
export interface PickedFile {
  path: string;
  file: File;
}

/** What the user handed us: a directory tree, or one loose file. */
export interface PickedInput {
  rootName: string;
  kind: 'directory' | 'file';
  files: PickedFile[];
}

/** Guards against a pathological tree (e.g. a home directory dropped by mistake). */
export const MAX_PICKED_FILES = 200_000;

export function fileByteSource(file: File, name: string = file.name): ByteSource {
  return {
    name,
    size: file.size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
        throw new RangeError(`bad read ${offset}+${length} in ${name}`);
      }
      const end = Math.min(file.size, offset + length);
      if (offset >= end) return new Uint8Array(0);
      return new Uint8Array(await file.slice(offset, end).arrayBuffer());
    },
  };
}

interface TreeNode {
  files: Map<string, File>;
  dirs: Map<string, TreeNode>;
}

function emptyNode(): TreeNode {
  return { files: new Map(), dirs: new Map() };
}

function nodeDirectory(name: string, node: TreeNode): DirectorySource {
  return {
    name,
    async list(): Promise<DirEntry[]> {
      const out: DirEntry[] = [];
      for (const [n, f] of node.files) out.push({ name: n, size: f.size, kind: 'file', mtimeMs: f.lastModified });
      for (const n of node.dirs.keys()) out.push({ name: n, size: 0, kind: 'dir' });
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    async open(n: string): Promise<ByteSource> {
      const f = node.files.get(n);
      if (!f) throw new Error(`no such file: ${n}`);
      return fileByteSource(f, n);
    },
    async subdir(n: string): Promise<DirectorySource> {
      const d = node.dirs.get(n);
      if (!d) throw new Error(`no such directory: ${n}`);
      return nodeDirectory(n, d);
    },
  };
}

/** A DirectorySource over picked files; paths are relative to the root. */
export function pickedDirectory(input: PickedInput): DirectorySource {
  const root = emptyNode();
  for (const { path, file } of input.files) {
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.length === 0 || parts.includes('..')) continue;
    let node = root;
    for (const dir of parts.slice(0, -1)) {
      let next = node.dirs.get(dir);
      if (!next) node.dirs.set(dir, (next = emptyNode()));
      node = next;
    }
    node.files.set(parts[parts.length - 1], file);
  }
  return nodeDirectory(input.rootName, root);
}

/**
 * From `<input webkitdirectory>`: every File has `webkitRelativePath`
 * "<chosen folder>/<path>". The first component is the root name.
 */
export function pickedFromFileList(list: ArrayLike<File>): PickedInput | null {
  const files: PickedFile[] = [];
  let rootName: string | null = null;
  for (let i = 0; i < list.length; i++) {
    const file = list[i];
    const rel = file.webkitRelativePath || file.name;
    const slash = rel.indexOf('/');
    if (slash < 0) {
      files.push({ path: rel, file });
      continue;
    }
    rootName ??= rel.slice(0, slash);
    files.push({ path: rel.slice(slash + 1), file });
  }
  if (files.length === 0) return null;
  if (rootName === null && files.length === 1) return { rootName: files[0].file.name, kind: 'file', files };
  return { rootName: rootName ?? 'selection', kind: 'directory', files };
}

function readAllEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  // readEntries returns at most ~100 entries per call: keep asking until empty.
  return new Promise((resolve, reject) => {
    const next = (): void => {
      reader.readEntries((batch) => {
        if (batch.length === 0) return resolve(all);
        all.push(...batch);
        if (all.length > MAX_PICKED_FILES) return reject(new Error(`more than ${MAX_PICKED_FILES} files`));
        next();
      }, reject);
    };
    next();
  });
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** Walks a dropped directory (depth-limited: data dirs are flat or shallow). */
export async function pickedFromDirectoryEntry(dir: FileSystemDirectoryEntry, maxDepth = 4): Promise<PickedInput> {
  const files: PickedFile[] = [];
  async function walk(d: FileSystemDirectoryEntry, prefix: string, depth: number): Promise<void> {
    for (const entry of await readAllEntries(d)) {
      const path = prefix + entry.name;
      if (entry.isFile) files.push({ path, file: await entryFile(entry as FileSystemFileEntry) });
      else if (entry.isDirectory && depth < maxDepth) await walk(entry as FileSystemDirectoryEntry, path + '/', depth + 1);
      if (files.length > MAX_PICKED_FILES) throw new Error(`more than ${MAX_PICKED_FILES} files`);
    }
  }
  await walk(dir, '', 0);
  return { rootName: dir.name, kind: 'directory', files };
}

/**
 * From a drop: the first directory wins; otherwise the dropped files form a
 * flat selection (one file → kind 'file').
 */
export async function pickedFromDataTransfer(dt: DataTransfer): Promise<PickedInput | null> {
  const items = Array.from(dt.items ?? []).filter((i) => i.kind === 'file');
  const loose: File[] = [];
  for (const item of items) {
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry?.isDirectory) return pickedFromDirectoryEntry(entry as FileSystemDirectoryEntry);
    const f = item.getAsFile();
    if (f) loose.push(f);
  }
  if (loose.length === 0) loose.push(...Array.from(dt.files ?? []));
  if (loose.length === 0) return null;
  if (loose.length === 1) return { rootName: loose[0].name, kind: 'file', files: [{ path: loose[0].name, file: loose[0] }] };
  return { rootName: 'dropped files', kind: 'directory', files: loose.map((file) => ({ path: file.name, file })) };
}

export function totalBytes(input: PickedInput): number {
  return input.files.reduce((s, f) => s + f.file.size, 0);
}
