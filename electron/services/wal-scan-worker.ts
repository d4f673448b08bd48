/**
 * The etcd WAL's first pass in a thread of its own (bundled to
 * dist/wal-scan-worker.cjs, started by wal-scan-thread.ts): only the WAL
 * reader and the local file source, so the thread is ready in about a
 * quarter of the time the whole validation worker bundle takes to load
 * (~10 vs ~40 ms), while the db walk has already begun.
 *
 * One `{ type: 'wal-scan' }` request, answered with the scan (or an error);
 * the same request the validation worker answers when this bundle is absent.
 * To cancel, the parent terminates the thread.
 */
import { parentPort } from 'node:worker_threads';
import type { Progress } from '../../shared/contract/progress';
import { scanWal } from '../../shared/formats/etcd/wal';
import { localDirectory } from './fs-source';
import type { WalThreadReply } from './wal-scan-thread';

/** Progress messages per second the thread sends at most (as the validation worker). */
const PROGRESS_INTERVAL_MS = 50;

/** `path`: the local WAL directory; `walDir`: its path in the report. */
export interface WalScanRequest {
  type: 'wal-scan';
  path: string;
  walDir: string;
}

const port = parentPort;
if (port) {
  let last = 0;
  const onProgress = (progress: Progress): void => {
    const now = Date.now();
    if (now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    port.postMessage({ type: 'progress', progress } satisfies WalThreadReply);
  };
  port.once('message', (msg: WalScanRequest) => {
    const walDir = localDirectory(msg.path);
    scanWal(walDir, msg.walDir, { onProgress })
      .then((scan) => port.postMessage({ type: 'wal-scan', scan } satisfies WalThreadReply))
      .catch((err: unknown) => port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) } satisfies WalThreadReply))
      .finally(() => void walDir.close());
  });
}
