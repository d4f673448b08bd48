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
