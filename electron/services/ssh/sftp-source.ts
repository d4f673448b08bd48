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

/** One SFTP read never exceeds this (OpenSSH's sftp-server caps reads well above it). */
const SFTP_CHUNK = 32 * 1024;

function kindOf(mode: number): EntryKind {
  const t = mode & 0o170000;
  return t === 0o100000 ? 'file' : t === 0o040000 ? 'dir' : t === 0o120000 ? 'symlink' : 'other';
}

export async function openSftpFile(sftp: SFTPWrapper, remotePath: string): Promise<ByteSource & { close(): Promise<void> }> {
  const handle = await sftpCall<Buffer>((cb) => sftp.open(remotePath, 'r', cb));
  const st = await sftpCall<Stats>((cb) => sftp.fstat(handle, cb));
  const size = st.size;
  const readAt = (buf: Buffer, off: number, len: number, pos: number) =>
    sftpCall<number>((cb) => sftp.read(handle, buf, off, len, pos, (err, n) => cb(err, n)));
  return {
    name: remotePath.split('/').pop() ?? remotePath,
    size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      if (offset < 0 || length < 0) throw new RangeError(`bad read ${offset}+${length}`);
      const want = Math.max(0, Math.min(length, MAX_READ, size - offset));
      const buf = Buffer.alloc(want);
      // Issue the chunk reads together (SFTP pipelines them); collect short reads after.
      const starts: number[] = [];
      for (let at = 0; at < want; at += SFTP_CHUNK) starts.push(at);
      const got = await Promise.all(starts.map((at) => readAt(buf, at, Math.min(SFTP_CHUNK, want - at), offset + at)));
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
          const n = await readAt(buf, pos, Math.min(SFTP_CHUNK, want - pos), offset + pos);
          if (n === 0) break;
          pos += n;
        }
        filled = pos;
        break;
      }
      return new Uint8Array(buf.buffer, buf.byteOffset, filled);
    },
    close: () => closeQuietly(sftp, handle),
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

/** A remote directory; `close()` closes every file handle it opened. */
export function sftpDirectory(sftp: SFTPWrapper, remoteDir: string): DirectorySource & { close(): Promise<void> } {
  const open = new Map<string, Promise<ByteSource & { close(): Promise<void> }>>();
  const children: (DirectorySource & { close(): Promise<void> })[] = [];
  return {
    name: remoteDir.replace(/\/+$/, '').split('/').pop() || '/',
    async list(): Promise<DirEntry[]> {
      const entries = await sftpCall<FileEntryWithStats[]>((cb) => sftp.readdir(remoteDir, cb));
      return entries
        .filter((e) => e.filename !== '.' && e.filename !== '..')
        .map((e) => ({ name: e.filename, size: e.attrs.size, kind: kindOf(e.attrs.mode), mtimeMs: e.attrs.mtime * 1000 }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    open(name: string) {
      if (name.includes('/') || name === '.' || name === '..') return Promise.reject(new Error(`not a plain file name: ${name}`));
      let p = open.get(name);
      if (!p) {
        p = openSftpFile(sftp, remoteJoin(remoteDir, name));
        open.set(name, p);
        p.catch(() => open.delete(name));
      }
      return p;
    },
    async subdir(name: string) {
      if (name.includes('/') || name === '.' || name === '..') throw new Error(`not a plain directory name: ${name}`);
      const d = sftpDirectory(sftp, remoteJoin(remoteDir, name));
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
