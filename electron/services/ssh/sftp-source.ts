/**
 * Remote files as a ByteSource / DirectorySource over SFTP, for validating a
 * data directory in place. Files are opened with flag 'r' only; nothing here
 * can write to the node.
 */
import type { FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';
import type { ByteSource, DirEntry, DirectorySource, EntryKind } from '../../../shared/bytes/byte-source';
import type { RemoteEntry } from '../../../shared/contract/ssh';
import { MAX_READ } from '../../../shared/bytes/byte-source';
import { closeQuietly, remoteJoin, sftpCall } from './remote-files';
import { OpenBudget, type ReleasableFile } from '../open-budget';
import { stripTrailingSlashes } from '../../../shared/text/trailing-slashes';

/** One SFTP read never exceeds this (OpenSSH's sftp-server caps reads well above it). */
const SFTP_CHUNK = 32 * 1024;

function kindOf(mode: number): EntryKind {
  const t = mode & 0o170000;
  return t === 0o100000 ? 'file' : t === 0o040000 ? 'dir' : t === 0o120000 ? 'symlink' : 'other';
}

/**
 * SFTP handles one remote directory tree keeps open at once: sftp-server holds a descriptor per handle, and a
 * session's limit on the node is often 1024.
 */
export const MAX_OPEN_SFTP_FILES = 64;

/**
 * One remote file opened read-only, whose handle its budget may close while no read uses it: the next read opens
 * the path again and goes on only if its size and modification time are still the ones first seen (SFTP gives no
 * inode), so a file replaced meanwhile is an error, never other bytes.
 */
class RemoteFile implements ReleasableFile {
  private handle: Buffer | null;
  private reopening: Promise<Buffer> | null = null;
  private busy = 0;
  private closing = false;

  constructor(
    private readonly sftp: SFTPWrapper,
    readonly path: string,
    handle: Buffer,
    readonly st: { size: number; mtime: number },
    private readonly budget: OpenBudget<RemoteFile>,
  ) {
    this.handle = handle;
    budget.used(this);
  }

  private async descriptor(): Promise<Buffer> {
    if (this.closing) throw new Error(`${this.path} was closed`);
    if (this.handle === null) {
      this.reopening ??= (async () => {
        const handle = await sftpCall<Buffer>((cb) => this.sftp.open(this.path, 'r', cb));
        const now = await sftpCall<Stats>((cb) => this.sftp.fstat(handle, cb)).catch(async (err: unknown) => {
          await closeQuietly(this.sftp, handle);
          throw err;
        });
        if (now.size !== this.st.size || now.mtime !== this.st.mtime) {
          await closeQuietly(this.sftp, handle);
          throw new Error(`${this.path} changed on the node while it was being read: stop the service, then validate again`);
        }
        return handle;
      })().finally(() => (this.reopening = null));
      this.handle = await this.reopening;
    }
    this.budget.used(this);
    return this.handle;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0) throw new RangeError(`bad read ${offset}+${length}`);
    const want = Math.max(0, Math.min(length, MAX_READ, this.st.size - offset));
    const buf = Buffer.alloc(want);
    this.busy++;
    try {
      const handle = await this.descriptor();
      const readAt = (off: number, len: number, pos: number) => sftpCall<number>((cb) => this.sftp.read(handle, buf, off, len, pos, (err, n) => cb(err, n)));
      // Issue the chunk reads together (SFTP pipelines them); collect short reads after.
      const starts: number[] = [];
      for (let at = 0; at < want; at += SFTP_CHUNK) starts.push(at);
      const got = await Promise.all(starts.map((at) => readAt(at, Math.min(SFTP_CHUNK, want - at), offset + at)));
      let filled = 0;
      for (let i = 0; i < starts.length; i++) {
        const len = Math.min(SFTP_CHUNK, want - starts[i]);
        if (got[i] === len) {
          filled = starts[i] + len;
          continue;
        }
        // Short read: continue sequentially from here (rare; only near a changing EOF).
        let pos = starts[i] + got[i];
        while (pos < want) {
          const n = await readAt(pos, Math.min(SFTP_CHUNK, want - pos), offset + pos);
          if (n === 0) break;
          pos += n;
        }
        filled = pos;
        break;
      }
      return new Uint8Array(buf.buffer, buf.byteOffset, filled);
    } finally {
      this.busy--;
      if (this.closing && this.busy === 0) void this.closeNow();
      else if (this.busy === 0) this.budget.settled(this);
    }
  }

  release(): boolean {
    if (this.busy > 0 || this.handle === null) return false;
    const handle = this.handle;
    this.handle = null;
    void closeQuietly(this.sftp, handle);
    return true;
  }

  close(): Promise<void> {
    this.closing = true;
    this.budget.closed(this);
    return this.busy === 0 ? this.closeNow() : Promise.resolve();
  }

  private async closeNow(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    if (handle) await closeQuietly(this.sftp, handle);
  }
}

export async function openSftpFile(
  sftp: SFTPWrapper,
  remotePath: string,
  budget: OpenBudget<RemoteFile> = new OpenBudget<RemoteFile>(1),
): Promise<ByteSource & { close(): Promise<void> }> {
  const handle = await sftpCall<Buffer>((cb) => sftp.open(remotePath, 'r', cb));
  let st: Stats;
  try {
    st = await sftpCall<Stats>((cb) => sftp.fstat(handle, cb));
  } catch (err) {
    await closeQuietly(sftp, handle);
    throw err;
  }
  const file = new RemoteFile(sftp, remotePath, handle, { size: st.size, mtime: st.mtime }, budget);
  return {
    name: remotePath.split('/').pop() ?? remotePath,
    size: st.size,
    read: (offset: number, length: number) => file.read(offset, length),
    close: () => file.close(),
  };
}

/** One directory level for the remote file picker (mode bits included). */
export async function listRemoteDir(sftp: SFTPWrapper, remoteDir: string): Promise<RemoteEntry[]> {
  const entries = await sftpCall<FileEntryWithStats[]>((cb) => sftp.readdir(remoteDir, cb));
  return entries
    .filter((e) => e.filename !== '.' && e.filename !== '..')
    .map((e) => ({ name: e.filename, kind: kindOf(e.attrs.mode), size: e.attrs.size, mtimeMs: e.attrs.mtime * 1000, mode: e.attrs.mode & 0o7777 }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A remote directory; `close()` closes every file handle it opened. At most `MAX_OPEN_SFTP_FILES` of the tree are open at once. */
export function sftpDirectory(
  sftp: SFTPWrapper,
  remoteDir: string,
  budget: OpenBudget<RemoteFile> = new OpenBudget<RemoteFile>(MAX_OPEN_SFTP_FILES),
): DirectorySource & { close(): Promise<void> } {
  const open = new Map<string, Promise<ByteSource & { close(): Promise<void> }>>();
  const children: (DirectorySource & { close(): Promise<void> })[] = [];
  return {
    name: stripTrailingSlashes(remoteDir).split('/').pop() || '/',
    async list(): Promise<DirEntry[]> {
      const entries = await sftpCall<FileEntryWithStats[]>((cb) => sftp.readdir(remoteDir, cb));
      const out: DirEntry[] = [];
      for (const e of entries) {
        if (e.filename === '.' || e.filename === '..') continue;
        const entry: DirEntry = { name: e.filename, size: e.attrs.size, kind: kindOf(e.attrs.mode), mtimeMs: e.attrs.mtime * 1000 };
        if (entry.kind === 'symlink') {
          // Read through, as the engines open it; a link that leads nowhere stays a link.
          const at = remoteJoin(remoteDir, e.filename);
          entry.linkTarget = await sftpCall<string>((cb) => sftp.readlink(at, cb)).catch(() => '');
          const st = await sftpCall<Stats>((cb) => sftp.stat(at, cb)).catch(() => null);
          if (st) Object.assign(entry, { size: st.size, kind: kindOf(st.mode), mtimeMs: st.mtime * 1000 });
        }
        out.push(entry);
      }
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    open(name: string) {
      if (name.includes('/') || name === '.' || name === '..') return Promise.reject(new Error(`not a plain file name: ${name}`));
      let p = open.get(name);
      if (!p) {
        p = openSftpFile(sftp, remoteJoin(remoteDir, name), budget);
        open.set(name, p);
        p.catch(() => open.delete(name));
      }
      return p;
    },
    async subdir(name: string) {
      if (name.includes('/') || name === '.' || name === '..') throw new Error(`not a plain directory name: ${name}`);
      const d = sftpDirectory(sftp, remoteJoin(remoteDir, name), budget);
      children.push(d);
      return d;
    },
    async close() {
      const all = [...open.values()];
      open.clear();
      await Promise.allSettled([...all.map(async (p) => (await p).close()), ...children.map((c) => c.close())]);
    },
  };
}
