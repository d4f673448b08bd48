export interface Progress {
  phase: string;
  bytesDone: number;
  bytesTotal: number;
  currentFile: string | null;
}

export interface RunOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /**
   * Addresses the node has now (IPs or host names). etcd validation flags
   * members whose peer URLs use an address not in this list.
   */
  addresses?: string[];
  /**
   * Where the validated directory lives on the node, for the repair plan's
   * commands (in place, the path a copy came from, or one the user named).
   * Absent: the plan assumes the MicroK8s default and says so.
   */
  nodePath?: { path: string; origin: 'in-place' | 'copied-from' | 'given' };
  /**
   * The folder the input's files are in on this machine (absolute; a lone file's folder), so that the commands a
   * finding names for a file (`sqlite3 …`, `tar -xf …`) work from any directory. Absent for bytes read in the page.
   */
  inputDir?: string;
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export function throwIfCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}
