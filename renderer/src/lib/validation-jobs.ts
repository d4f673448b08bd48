/**
 * One shape for a running validation, whether it runs in our Web Worker
 * (dropped files) or in the back end (samples, local paths).
 */
import type { BatchSummary } from '../../../shared/contract/dqlite';
import type { EtcdQuery, EtcdQueryResult } from '../../../shared/contract/etcd';
import type { MemberDirsResult } from '../../../shared/formats/etcd/member-dirs';
import type { Progress } from '../../../shared/contract/progress';
import type { ValidationReport } from '../../../shared/contract/report';
import type { LifeboatClient, SourceRef } from '../../../shared/contract/api';
import type { PickedInput } from './file-source';
import type { FromWorker, ToWorker } from '../worker/protocol';

export interface JobCallbacks {
  onProgress(p: Progress): void;
  onDone(report: ValidationReport): void;
  onFailed(error: string, cancelled: boolean): void;
  /** Dropped folders only: it held several etcd members (one per subfolder). */
  onMembers?(result: MemberDirsResult): void;
}

export interface ValidationJob {
  readonly id: string;
  readonly origin: 'local' | 'backend';
  /** A job that read its input in place on a node: the path there (a file or a folder), for plans that name it. */
  readonly nodePath?: string;
  cancel(): void;
  /** Batches of `file`; with `detail`, that batch carries its entries and checksums. */
  batches(file: string, detail?: number): Promise<BatchSummary[]>;
  /** etcd jobs: WAL records, the page map, one page, keys and values, read on demand (`member`: one subfolder of a several-members job). */
  etcdQuery<Q extends EtcdQuery>(query: Q, member?: string): Promise<EtcdQueryResult<Q>>;
}

/** If the worker does not confirm a cancel in time (stuck in a long read), it is terminated. */
const CANCEL_GRACE_MS = 1500;

let worker: Worker | null = null;
let nextJob = 1;
let nextRequest = 1;
const jobListeners = new Map<string, JobCallbacks>();
const batchRequests = new Map<number, { resolve(b: BatchSummary[]): void; reject(e: Error): void }>();
const queryRequests = new Map<number, { resolve(r: unknown): void; reject(e: Error): void }>();

function ensureWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('../worker/validate.worker.ts', import.meta.url), { type: 'module', name: 'lifeboat-validate' });
  w.addEventListener('message', (ev: MessageEvent<FromWorker>) => {
    const msg = ev.data;
    switch (msg.type) {
      case 'progress':
        jobListeners.get(msg.jobId)?.onProgress(msg.progress);
        break;
      case 'done': {
        const l = jobListeners.get(msg.jobId);
        jobListeners.delete(msg.jobId);
        l?.onDone(msg.report);
        break;
      }
      case 'done-members': {
        const l = jobListeners.get(msg.jobId);
        jobListeners.delete(msg.jobId);
        if (l?.onMembers) l.onMembers(msg.result);
        else if (l) l.onDone(msg.result.members[0].report);
        break;
      }
      case 'failed': {
        const l = jobListeners.get(msg.jobId);
        jobListeners.delete(msg.jobId);
        l?.onFailed(msg.error, msg.cancelled);
        break;
      }
      case 'batches':
        batchRequests.get(msg.requestId)?.resolve(msg.batches);
        batchRequests.delete(msg.requestId);
        break;
      case 'batches-failed':
        batchRequests.get(msg.requestId)?.reject(new Error(msg.error));
        batchRequests.delete(msg.requestId);
        break;
      case 'etcd-query-result':
        queryRequests.get(msg.requestId)?.resolve(msg.result);
        queryRequests.delete(msg.requestId);
        break;
      case 'etcd-query-failed':
        queryRequests.get(msg.requestId)?.reject(new Error(msg.error));
        queryRequests.delete(msg.requestId);
        break;
    }
  });
  w.addEventListener('error', (ev) => {
    // A crash in the worker (e.g. a script failed to load): fail everything that waits on it.
    const text = ev.message || 'the validation worker stopped unexpectedly';
    for (const [id, l] of jobListeners) {
      jobListeners.delete(id);
      l.onFailed(text, false);
    }
    for (const r of batchRequests.values()) r.reject(new Error(text));
    batchRequests.clear();
    for (const r of queryRequests.values()) r.reject(new Error(text));
    queryRequests.clear();
    w.terminate();
    if (worker === w) worker = null;
  });
  worker = w;
  return w;
}

function send(msg: ToWorker): void {
  ensureWorker().postMessage(msg);
}

export function startLocalValidation(input: PickedInput, cb: JobCallbacks): ValidationJob {
  const id = `local-${nextJob++}`;
  jobListeners.set(id, cb);
  send({ type: 'validate', jobId: id, input });
  return {
    id,
    origin: 'local',
    cancel() {
      if (!jobListeners.has(id)) return;
      send({ type: 'cancel', jobId: id });
      const w = worker;
      setTimeout(() => {
        const l = jobListeners.get(id);
        if (!l || worker !== w) return;
        jobListeners.delete(id);
        w?.terminate();
        worker = null;
        l.onFailed('cancelled', true);
      }, CANCEL_GRACE_MS);
    },
    batches(file: string, detail?: number) {
      const requestId = nextRequest++;
      return new Promise<BatchSummary[]>((resolve, reject) => {
        batchRequests.set(requestId, { resolve, reject });
        send({ type: 'batches', requestId, jobId: id, file, ...(detail !== undefined ? { detail } : {}) });
      });
    },
    etcdQuery<Q extends EtcdQuery>(query: Q, member?: string) {
      const requestId = nextRequest++;
      return new Promise<EtcdQueryResult<Q>>((resolve, reject) => {
        queryRequests.set(requestId, { resolve: (r) => resolve(r as EtcdQueryResult<Q>), reject });
        send({ type: 'etcd-query', requestId, jobId: id, query, ...(member !== undefined ? { member } : {}) });
      });
    },
  };
}

/** Starts a back-end job. Events may arrive before the jobId does: they are buffered. */
export async function startBackendValidation(client: LifeboatClient, source: SourceRef, cb: JobCallbacks): Promise<ValidationJob> {
  let jobId: string | null = null;
  let finished = false;
  const early: Array<() => void> = [];
  const route = (id: string, fn: () => void): void => {
    if (finished) return;
    if (jobId === null) early.push(() => id === jobId && fn());
    else if (id === jobId) fn();
  };
  const offs = [
    client.on('validation.progress', (e) => route(e.jobId, () => cb.onProgress(e.progress))),
    client.on('validation.done', (e) =>
      route(e.jobId, () => {
        finish();
        cb.onDone(e.report);
      }),
    ),
    client.on('validation.failed', (e) =>
      route(e.jobId, () => {
        finish();
        cb.onFailed(e.error, e.cancelled);
      }),
    ),
  ];
  function finish(): void {
    finished = true;
    for (const off of offs) off();
  }
  try {
    const res = await client.call('validation.start', { source });
    jobId = res.jobId;
  } catch (e) {
    finish();
    throw e;
  }
  for (const fn of early.splice(0)) fn();
  const id = jobId;
  return {
    id,
    origin: 'backend',
    ...(source.kind === 'remote' ? { nodePath: source.path } : {}),
    cancel() {
      void client.call('validation.cancel', { jobId: id }).catch(() => undefined);
    },
    batches(file: string, detail?: number) {
      return client.call('validation.batches', detail !== undefined ? { jobId: id, file, detail } : { jobId: id, file });
    },
    async etcdQuery<Q extends EtcdQuery>(query: Q, member?: string) {
      if (member !== undefined) throw new Error('several members are only validated from a dropped folder');
      return (await client.call('etcd.query', { jobId: id, query })) as EtcdQueryResult<Q>;
    },
  };
}
