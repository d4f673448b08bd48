/**
 * The etcd WAL's first pass in a worker thread of its own, while the
 * validation worker walks the db: the two passes are independent until the
 * snap choice and the cross-check (shared/formats/etcd/validate.ts awaits
 * this scan exactly where it would have run it), and the machines this runs
 * on have at least two cores. The thread runs dist/wal-scan-worker.cjs (the
 * WAL reader alone, quick to load) or, where that is missing, the validation
 * worker's bundle: both answer the same `{ type: 'wal-scan' }` request.
 *
 * Local directories only: a remote (SFTP) source is read through the parent's
 * SSH session, and a second reader there would only compete for the link.
 */
import * as path from 'node:path';
import { resourceLimits, Worker } from 'node:worker_threads';
import type { Progress } from '../../shared/contract/progress';
import type { WalScan } from '../../shared/formats/etcd/wal';
import type { WalScanStarter } from '../../shared/formats/etcd/validate';

/** What the WAL thread sends back. */
export type WalThreadReply = { type: 'progress'; progress: Progress } | { type: 'wal-scan'; scan: WalScan } | { type: 'error'; message: string };

export interface WalThreadOptions {
  /** The script to run (dist/wal-scan-worker.cjs, or the validation worker bundle). */
  workerScript: string;
  /** The local directory being validated (the root `layout.walDir` is relative to). */
  rootPath: string;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/** A WalScanStarter that scans `rootPath/walDir` in a new worker thread (terminated when done or cancelled). */
export function walScanInThread(o: WalThreadOptions): WalScanStarter {
  return (walDir: string) => {
    if (o.signal?.aborted) return null;
    // The same heap cap as the thread that starts it (the validation service caps its workers).
    const heap = resourceLimits.maxOldGenerationSizeMb;
    const worker = new Worker(o.workerScript, heap ? { resourceLimits: { maxOldGenerationSizeMb: heap } } : {});
    return new Promise<WalScan>((resolve, reject) => {
      const stop = () => {
        o.signal?.removeEventListener('abort', cancel);
        void worker.terminate();
      };
      const cancel = () => {
        stop();
        reject(new Error('cancelled'));
      };
      o.signal?.addEventListener('abort', cancel, { once: true });
      worker.on('message', (msg: WalThreadReply) => {
        if (msg.type === 'progress') {
          o.onProgress?.(msg.progress);
          return;
        }
        stop();
        if (msg.type === 'wal-scan') resolve(msg.scan);
        else reject(new Error(msg.message));
      });
      worker.on('error', (err) => {
        stop();
        reject(err);
      });
      worker.on('exit', (code) => reject(new Error(`the WAL thread exited (code ${code})`)));
      worker.postMessage({ type: 'wal-scan', path: path.join(o.rootPath, walDir), walDir });
    });
  };
}
