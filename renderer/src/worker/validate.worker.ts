/**
 * Validation off the UI thread. Receives File handles (cheap to post), builds
 * a DirectorySource that reads slices on demand, runs the engine-detecting
 * validator, and posts throttled progress and the report. One job at a time;
 * the last job's source is kept so the batch table can load on demand.
 */
import { validateDirectory } from '../../../shared/validate';
import { listSegmentBatches } from '../../../shared/formats/dqlite/validate';
import { answerEtcdQuery, EtcdQuerySession, parseEtcdQuery } from '../../../shared/formats/etcd/query';
import { validateMemberDirs } from '../../../shared/formats/etcd/member-dirs';
import type { DirectorySource } from '../../../shared/bytes/byte-source';
import type { ValidationReport } from '../../../shared/contract/report';
import type { Progress } from '../../../shared/contract/progress';
import { pickedDirectory } from '../lib/file-source';
import { PROGRESS_INTERVAL_MS, type FromWorker, type ToWorker } from './protocol';

interface Job {
  id: string;
  dir: DirectorySource;
  abort: AbortController;
  /** Set when it finished: etcd queries are checked against it. */
  report?: ValidationReport;
  /** Several members (subfolder name -> report), when the folder held them. */
  members?: Map<string, ValidationReport>;
  /** etcd queries' kept state (the key browser's index) per member ('' for the folder itself), for as long as the job is the last finished. */
  querySessions: Map<string, EtcdQuerySession>;
}

let current: Job | null = null;
let lastFinished: Job | null = null;

function post(msg: FromWorker): void {
  (self as unknown as { postMessage(m: FromWorker): void }).postMessage(msg);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function runValidation(jobId: string, msg: Extract<ToWorker, { type: 'validate' }>): Promise<void> {
  current?.abort.abort();
  const job: Job = { id: jobId, dir: pickedDirectory(msg.input), abort: new AbortController(), querySessions: new Map() };
  current = job;
  let lastPost = 0;
  let pendingProgress: Progress | null = null;
  const flush = (): void => {
    if (pendingProgress) post({ type: 'progress', jobId, progress: pendingProgress });
    pendingProgress = null;
    lastPost = Date.now();
  };
  const onProgress = (p: Progress): void => {
    pendingProgress = p;
    if (Date.now() - lastPost >= PROGRESS_INTERVAL_MS) flush();
  };
  try {
    const report = await validateDirectory(job.dir, { onProgress, signal: job.abort.signal });
    if (job.abort.signal.aborted) throw new Error('cancelled');
    // No datastore at the top: maybe one etcd member per subfolder.
    const members = report.engine === 'unknown' ? await validateMemberDirs(job.dir, { onProgress, signal: job.abort.signal }) : null;
    if (job.abort.signal.aborted) throw new Error('cancelled');
    flush();
    job.report = report;
    lastFinished = job;
    if (members) {
      job.members = new Map(members.members.map((m) => [m.name, m.report]));
      post({ type: 'done-members', jobId, result: members });
    } else post({ type: 'done', jobId, report });
  } catch (e) {
    const cancelled = job.abort.signal.aborted;
    post({ type: 'failed', jobId, error: cancelled ? 'cancelled' : errorText(e), cancelled });
  } finally {
    if (current === job) current = null;
  }
}

async function loadBatches(msg: Extract<ToWorker, { type: 'batches' }>): Promise<void> {
  const job = lastFinished?.id === msg.jobId ? lastFinished : null;
  if (!job) {
    post({ type: 'batches-failed', requestId: msg.requestId, error: 'This validation is no longer loaded; validate the folder again.' });
    return;
  }
  try {
    const batches = await listSegmentBatches(job.dir, msg.file, msg.detail !== undefined ? { detail: msg.detail } : {});
    post({ type: 'batches', requestId: msg.requestId, batches });
  } catch (e) {
    post({ type: 'batches-failed', requestId: msg.requestId, error: errorText(e) });
  }
}

async function etcdQuery(msg: Extract<ToWorker, { type: 'etcd-query' }>): Promise<void> {
  const job = lastFinished?.id === msg.jobId ? lastFinished : null;
  if (!job?.report) {
    post({ type: 'etcd-query-failed', requestId: msg.requestId, error: 'This validation is no longer loaded; validate the folder again.' });
    return;
  }
  try {
    const memberReport = msg.member !== undefined ? job.members?.get(msg.member) : undefined;
    if (msg.member !== undefined && (!memberReport || !job.dir.subdir)) throw new Error(`no member ${msg.member} in this validation`);
    const dir = msg.member !== undefined && job.dir.subdir ? await job.dir.subdir(msg.member) : job.dir;
    const sessionId = msg.member ?? '';
    let session = job.querySessions.get(sessionId);
    if (!session) job.querySessions.set(sessionId, (session = new EtcdQuerySession()));
    const result = await answerEtcdQuery(dir, memberReport ?? job.report, parseEtcdQuery(msg.query), undefined, session);
    post({ type: 'etcd-query-result', requestId: msg.requestId, result });
  } catch (e) {
    post({ type: 'etcd-query-failed', requestId: msg.requestId, error: errorText(e) });
  }
}

self.addEventListener('message', (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'validate':
      void runValidation(msg.jobId, msg);
      break;
    case 'cancel':
      if (current?.id === msg.jobId) current.abort.abort();
      break;
    case 'batches':
      void loadBatches(msg);
      break;
    case 'etcd-query':
      void etcdQuery(msg);
      break;
  }
});
