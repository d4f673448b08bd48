/**
 * Runs one log analysis in a dedicated Web Worker. Cancelling terminates the
 * worker: analysis is pure computation, nothing to clean up.
 */
import type { LogAnalysis } from '../../../../shared/logs/types';
import type { FromLogWorker, LogSourceInput, ToLogWorker } from './protocol';

export interface LogJob {
  cancel(): void;
}

export interface LogJobCallbacks {
  onProgress(done: number, total: number): void;
  onDone(analysis: LogAnalysis): void;
  onFailed(error: string): void;
}

let nextJob = 1;

export function startLogAnalysis(sources: LogSourceInput[], cb: LogJobCallbacks): LogJob {
  const jobId = nextJob++;
  const worker = new Worker(new URL('./logs.worker.ts', import.meta.url), { type: 'module', name: 'lifeboat-logs' });
  let finished = false;
  const finish = (): void => {
    finished = true;
    worker.terminate();
  };
  worker.addEventListener('message', (ev: MessageEvent<FromLogWorker>) => {
    const msg = ev.data;
    if (finished || msg.jobId !== jobId) return;
    if (msg.type === 'progress') cb.onProgress(msg.done, msg.total);
    else if (msg.type === 'done') {
      finish();
      cb.onDone(msg.analysis);
    } else {
      finish();
      cb.onFailed(msg.error);
    }
  });
  worker.addEventListener('error', (ev) => {
    if (finished) return;
    finish();
    cb.onFailed(ev.message || 'the log worker stopped unexpectedly');
  });
  const msg: ToLogWorker = { type: 'analyze', jobId, sources };
  worker.postMessage(msg);
  return {
    cancel() {
      if (!finished) finish();
    },
  };
}
