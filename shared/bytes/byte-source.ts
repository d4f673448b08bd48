/**
 * A small random-access byte source: the only way format code reads data.
 * Implemented over local files (read-only fd), browser `File.slice`, in-memory
 * buffers and, later, SFTP. Format code never assumes it can hold a whole file.
 */
export interface ByteSource {
  /** Display name (a file name, not necessarily a path). */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Read up to `length` bytes at `offset`. Returns fewer bytes only at end of
   * source. Callers must bound `length` themselves (never from an unchecked
   * length field).
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

export interface DirEntry {
  name: string;
  size: number;
  kind: EntryKind;
  /** Modification time, ms since epoch, when known. */
  mtimeMs?: number;
}

/** A flat directory (engine data dirs are flat, or have a few known subdirs). */
export interface DirectorySource {
  readonly name: string;
  list(): Promise<DirEntry[]>;
  open(name: string): Promise<ByteSource>;
  /** Optional nested directory (e.g. etcd `member/wal`). */
  subdir?(name: string): Promise<DirectorySource>;
}

/** Largest single read format code should request; bigger reads are chunked. */
export const MAX_READ = 4 * 1024 * 1024;

export function memorySource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: bytes.length,
    async read(offset: number, length: number): Promise<Uint8Array> {
      if (offset < 0 || length < 0) throw new RangeError(`bad read ${offset}+${length}`);
      const end = Math.min(bytes.length, offset + length);
      return bytes.subarray(Math.min(offset, bytes.length), end);
    },
  };
}

export function memoryDirectory(name: string, files: Record<string, Uint8Array>): DirectorySource {
  return {
    name,
    async list() {
      return Object.entries(files).map(([n, b]) => ({ name: n, size: b.length, kind: 'file' as const }));
    },
    async open(n: string) {
      const b = files[n];
      if (!b) throw new Error(`no such file: ${n}`);
      return memorySource(n, b);
    },
  };
}
