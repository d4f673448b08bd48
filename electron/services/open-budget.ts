/**
 * How many files a directory source keeps open at once (local descriptors, or
 * SFTP handles on the node, where sftp-server shares the session's ulimit -n,
 * often 1024). A data directory can hold more files than that: every file read
 * used to stay open until the end, and validation failed halfway with EMFILE.
 * Past the budget the least recently read file that no read is using gives its
 * descriptor back; it opens again when it is read again.
 */

/** A file whose descriptor can be given back while no read uses it. */
export interface ReleasableFile {
  /** Give the descriptor back if no read is using it; true if it did (the next read opens the file again). */
  release(): boolean;
}

export class OpenBudget<F extends ReleasableFile> {
  private readonly open = new Set<F>();
  private newest: F | null = null;
  constructor(readonly max: number) {}

  /** `file` has its descriptor and is being read: it is the newest; the oldest idle ones past the budget give theirs back. */
  used(file: F): void {
    if (this.newest === file) return;
    this.newest = file;
    this.open.delete(file);
    this.open.add(file);
    if (this.open.size <= this.max) return;
    for (const f of this.open) {
      if (this.open.size <= this.max) break;
      if (f !== file && f.release()) this.open.delete(f);
    }
  }

  /** A read of `file` ended: reads at once on more files than the budget leave it over, and the first idle goes. */
  settled(file: F): void {
    if (this.open.size > this.max && file.release()) this.closed(file);
  }

  /** `file` no longer has a descriptor. */
  closed(file: F): void {
    this.open.delete(file);
    if (this.newest === file) this.newest = null;
  }

  /** Files with a descriptor now (tests). */
  get openCount(): number {
    return this.open.size;
  }
}
