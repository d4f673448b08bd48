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
  /** For a symbolic link that leads somewhere: what it leads to (its size and kind), as the engines open it. */
  size: number;
  /** `symlink` only for a link that leads nowhere (dangling, a loop); one that leads to a file or folder is that. */
  kind: EntryKind;
  /** Modification time, ms since epoch, when known. */
  mtimeMs?: number;
  /** Where a symbolic link points (its text, as `readlink` prints it), when the entry is one. */
  linkTarget?: string;
}

/** A flat directory (engine data dirs are flat, or have a few known subdirs). */
export interface DirectorySource {
  readonly name: string;
  list(): Promise<DirEntry[]>;
  open(name: string): Promise<ByteSource>;
  /** Optional nested directory (e.g. etcd `member/wal`). */
  subdir?(name: string): Promise<DirectorySource>;
}

/**
 * Fixed-size chunks of a file read by another thread ahead of a mostly forward
 * pass (a bbolt walk), into memory the pass then reads where it lies. The
 * pass's own reads were a quarter of a 1 GiB db's validation, on one core
 * while the second one idled.
 */
export interface ChunkReadAhead {
  /**
   * Chunk `n` (offset `n * chunkBytes`, `min(chunkBytes, paddedEnd - offset)` bytes, zeros past `end`) when it
   * was read ahead or is being read (this call then waits for it), with how many bytes came from the file and
   * the slot to `release`; null when it was not: read it yourself. Chunks read ahead and passed over are let go.
   */
  take(n: number): { bytes: Uint8Array; got: number; slot: number } | null;
  /** The pass is done with a taken chunk's bytes: its slot may be read into again. */
  release(slot: number): void;
  /** A turn of this thread's event loop (a pass that only takes chunks never awaits anything otherwise). */
  breathe(): Promise<void>;
  /** No more chunks: the thread stops reading (taken chunks stay readable). */
  stop(): void;
}

/** What a read-ahead reads: chunk size, the file's bytes to read, and where the zero padding after them ends. */
export interface ReadAheadLayout {
  chunkBytes: number;
  end: number;
  paddedEnd: number;
}

/** A source that can read ahead (a local file). Null when it cannot here (the pass reads for itself). */
export interface ReadAheadSource extends ByteSource {
  readAhead(layout: ReadAheadLayout): ChunkReadAhead | null;
}

export function canReadAhead(src: ByteSource): src is ReadAheadSource {
  return typeof (src as Partial<ReadAheadSource>).readAhead === 'function';
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
