/**
 * The export's file writes: one file per object, several in flight at once
 * (one at a time left the process idle ~80% of an export of 200,000 objects,
 * waiting on open, write and close), yet named exactly as one at a time would
 * name them. Two objects whose names clash (`name.yaml`, then `name~2.yaml`)
 * are written in the order they were handed in: a write waits for the one
 * before it with the same base name, and a name is claimed by an exclusive
 * create (`wx`), never overwriting and never checked apart from the create.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Writes in flight at most (memory: their texts; the kernel: their open files). */
const IN_FLIGHT = 16;

export class ObjectFileWriter {
  private readonly inFlight = new Set<Promise<void>>();
  /** The last write of each base name still running: the next one with that name waits for it. */
  private readonly lastOfName = new Map<string, Promise<void>>();
  private failure: Error | null = null;

  /**
   * Queue a write of `text` to `dir/<name>.<ext>` (or `<name>~N.<ext>`, the first free N from 2). Resolves when a
   * slot is free, not when the file is written: `finish()` waits for every write. Rethrows an earlier write's error.
   */
  async write(dir: string, name: string, ext: string, text: string, mode: number): Promise<void> {
    this.throwIfFailed();
    while (this.inFlight.size >= IN_FLIGHT) {
      await Promise.race(this.inFlight);
      this.throwIfFailed();
    }
    const base = path.join(dir, name);
    const before = this.lastOfName.get(base);
    const run = (async () => {
      if (before) await before;
      await createUnder(dir, name, ext, text, mode);
    })();
    const tracked = run.then(
      () => undefined,
      (err: unknown) => {
        this.failure ??= err instanceof Error ? err : new Error(String(err));
      },
    );
    this.lastOfName.set(base, tracked);
    this.inFlight.add(tracked);
    void tracked.then(() => {
      this.inFlight.delete(tracked);
      if (this.lastOfName.get(base) === tracked) this.lastOfName.delete(base);
    });
  }

  /** Wait for every queued write; the first error, if any, is thrown. */
  async finish(): Promise<void> {
    await Promise.all(this.inFlight);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.failure;
  }
}

/** Create the first free `name.ext`, `name~2.ext`, ... in `dir` with `text` (mode set also past the umask). */
async function createUnder(dir: string, name: string, ext: string, text: string, mode: number): Promise<void> {
  for (let n = 1; ; n++) {
    const file = path.join(dir, n === 1 ? `${name}.${ext}` : `${name}~${n}.${ext}`);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'wx', mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    try {
      // The umask may have taken bits off a 0600 secret's create mode... or left group/other bits a 0644 file should
      // not have had: set exactly what was asked.
      await handle.chmod(mode);
      await handle.writeFile(text);
    } finally {
      await handle.close();
    }
    return;
  }
}
