/**
 * Worker thread (bundled to dist/validation-worker.cjs): runs validation off
 * the main thread so a slow or hostile input never freezes the UI or the web
 * server. One request per worker; the parent terminates it to cancel.
 */
import { parentPort } from 'node:worker_threads';
import type { Progress } from '../../shared/contract/progress';
import type { ValidationReport } from '../../shared/contract/report';
import type { BatchSummary } from '../../shared/contract/dqlite';
import { validateDirectory } from '../../shared/validate';
import { listSegmentBatches } from '../../shared/formats/dqlite/validate';
import { openLocalTarget } from './validation-service';

export type WorkerRequest =
  | { type: 'validate'; path: string }
  | { type: 'batches'; path: string; file: string }
  | { type: 'cancel' };

export type WorkerReply =
  | { type: 'progress'; progress: Progress }
  | { type: 'report'; report: ValidationReport }
  | { type: 'batches'; batches: BatchSummary[] }
  | { type: 'error'; message: string; cancelled: boolean };

/** Progress messages per second the worker sends at most (the service throttles again). */
const PROGRESS_INTERVAL_MS = 50;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function serve(req: WorkerRequest, signal: AbortSignal, reply: (msg: WorkerReply) => void): Promise<void> {
  if (req.type === 'cancel') return;
  const target = await openLocalTarget(req.path);
  try {
    if (req.type === 'validate') {
      let last = 0;
      const report = await validateDirectory(target, {
        signal,
        onProgress: (progress) => {
          const now = Date.now();
          if (now - last < PROGRESS_INTERVAL_MS) return;
          last = now;
          reply({ type: 'progress', progress });
        },
      });
      reply({ type: 'report', report });
    } else {
      const batches = await listSegmentBatches(target, req.file, { signal });
      reply({ type: 'batches', batches });
    }
  } finally {
    await target.close();
  }
}

const port = parentPort;
if (port) {
  const abort = new AbortController();
  let busy = false;
  port.on('message', (msg: WorkerRequest) => {
    if (msg.type === 'cancel') {
      abort.abort();
      return;
    }
    if (busy) {
      port.postMessage({ type: 'error', message: 'worker is busy', cancelled: false } satisfies WorkerReply);
      return;
    }
    busy = true;
    serve(msg, abort.signal, (m) => port.postMessage(m)).catch((err: unknown) => {
      port.postMessage({
        type: 'error',
        message: errorText(err),
        cancelled: abort.signal.aborted,
      } satisfies WorkerReply);
    });
  });
}
