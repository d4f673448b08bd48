/**
 * Validation jobs. Each job runs in its own worker thread
 * (dist/validation-worker.cjs) so a huge or hostile directory cannot block the
 * main process; cancelling terminates the worker. Progress is throttled to
 * ~10 events/s per job; done/failed go to the context that started the job.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DirEntry, DirectorySource } from '../../shared/bytes/byte-source';
import type { SourceRef } from '../../shared/contract/api';
import type { BatchSummary } from '../../shared/contract/dqlite';
import type { Progress } from '../../shared/contract/progress';
import type { ValidationReport } from '../../shared/contract/report';
import { localDirectory, openFileSource } from './fs-source';
import type { CallContext } from './registry';
import { findAppRoot, type SampleCatalog } from './samples';
import type { WorkerReply, WorkerRequest } from './validation-worker';

/** An error meant for the client: its message is shown, its code is stable. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type LocalTarget = DirectorySource & { close(): Promise<void>; isFile: boolean; path: string };

/**
 * A local path as a read-only DirectorySource. A single file becomes a
 * one-entry directory, so validation can still say what it is (or that the
 * engine is unknown). Throws for a missing or unreadable path.
 */
export async function openLocalTarget(p: string): Promise<LocalTarget> {
  const abs = path.resolve(p);
  const st = await fs.stat(abs);
  if (st.isDirectory()) {
    await fs.access(abs, fs.constants.R_OK | fs.constants.X_OK);
    return Object.assign(localDirectory(abs), { isFile: false, path: abs });
  }
  if (!st.isFile()) throw new Error(`${abs} is neither a file nor a directory`);
  await fs.access(abs, fs.constants.R_OK);
  const name = path.basename(abs);
  let opened: ReturnType<typeof openFileSource> | null = null;
  return {
    name,
    isFile: true,
    path: abs,
    async list(): Promise<DirEntry[]> {
      const s = await fs.stat(abs);
      return [{ name, size: s.size, kind: 'file', mtimeMs: s.mtimeMs }];
    },
    open(n: string) {
      if (n !== name) return Promise.reject(new Error(`no such file: ${n}`));
      opened ??= openFileSource(abs);
      return opened;
    },
    async close() {
      const o = opened;
      opened = null;
      if (o) await (await o).close();
    },
  };
}

/**
 * Where dist/validation-worker.cjs is: next to the bundle that runs us
 * (dist/main.cjs, dist/cli.cjs), else in the repository's dist (sources run
 * by vitest). Inside a packaged app the worker is asar-unpacked, because
 * worker_threads cannot start a script stored inside app.asar.
 */
export function resolveWorkerPath(explicit?: string): string {
  const candidates = [
    explicit,
    path.join(__dirname, 'validation-worker.cjs'),
    (() => {
      const root = findAppRoot();
      return root ? path.join(root, 'dist', 'validation-worker.cjs') : undefined;
    })(),
  ];
  for (const c of candidates) {
    if (!c) continue;
    const unpacked = c.replace(`app.asar${path.sep}`, `app.asar.unpacked${path.sep}`);
    if (unpacked !== c && existsSync(unpacked)) return unpacked;
    if (existsSync(c)) return c;
  }
  throw new ApiError('not-built', 'the validation worker is not built (dist/validation-worker.cjs): run `npm run build`');
}

type JobState = 'running' | 'done' | 'failed' | 'cancelled';

interface Job {
  id: string;
  ctx: CallContext;
  path: string;
  state: JobState;
  worker: Worker | null;
  report: ValidationReport | null;
  lastProgressAt: number;
  pendingProgress: Progress | null;
  progressTimer: NodeJS.Timeout | null;
  finishedAt: number;
}

export interface ValidationServiceOptions {
  transport: 'electron' | 'web';
  samples: SampleCatalog;
  workerPath?: string;
  /** Minimum spacing of progress events per job (default 100 ms: ~10/s). */
  progressIntervalMs?: number;
  /** Running jobs at once (each is a thread reading the disk). */
  maxRunningJobs?: number;
  /** Finished jobs kept for `validation.batches`. */
  maxRetainedJobs?: number;
  /** Heap cap per worker: a malformed length field must not take the app down. */
  workerHeapMb?: number;
}

const MAX_FILE_NAME = 255;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isPlainFileName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= MAX_FILE_NAME &&
    name !== '.' &&
    name !== '..' &&
    !name.includes('/') &&
    !name.includes('\\') &&
    !name.includes('\0')
  );
}

export function parseSourceRef(value: unknown): SourceRef {
  if (typeof value !== 'object' || value === null) throw new ApiError('bad-params', 'source must be an object');
  const v = value as Record<string, unknown>;
  if (v.kind === 'sample') {
    if (typeof v.id !== 'string' || v.id === '') throw new ApiError('bad-params', 'source.id must be a sample id');
    return { kind: 'sample', id: v.id };
  }
  if (v.kind === 'local-path') {
    if (typeof v.path !== 'string' || v.path === '') throw new ApiError('bad-params', 'source.path must be a string');
    return { kind: 'local-path', path: v.path };
  }
  throw new ApiError('bad-params', 'source.kind must be "sample" or "local-path"');
}

export class ValidationService {
  private readonly jobs = new Map<string, Job>();
  private readonly extraWorkers = new Set<Worker>();
  private readonly interval: number;
  private readonly maxRunning: number;
  private readonly maxRetained: number;
  private readonly heapMb: number;
  private closed = false;

  constructor(private readonly opts: ValidationServiceOptions) {
    this.interval = opts.progressIntervalMs ?? 100;
    this.maxRunning = opts.maxRunningJobs ?? 4;
    this.maxRetained = opts.maxRetainedJobs ?? 50;
    this.heapMb = opts.workerHeapMb ?? 2048;
  }

  private async resolveSource(source: SourceRef): Promise<string> {
    if (source.kind === 'sample') {
      const dir = await this.opts.samples.resolve(source.id);
      if (!dir) throw new ApiError('unknown-sample', `no sample named "${source.id}"`);
      return dir;
    }
    if (this.opts.transport === 'web') {
      // The web server is local, but its API is reachable by whoever holds the
      // token URL (a shared screen, shell history, a browser extension). Until
      // paths are confined to folders the user picked, reading arbitrary paths
      // by name stays an Electron-only feature; the browser validates dropped
      // files itself instead.
      throw new ApiError(
        'forbidden',
        'local paths are refused in web mode; open the folder in the page (it is validated in the browser) or use `lifeboat validate PATH`',
      );
    }
    if (!path.isAbsolute(source.path)) throw new ApiError('bad-params', 'source.path must be absolute');
    return source.path;
  }

  private spawn(): Worker {
    return new Worker(resolveWorkerPath(this.opts.workerPath), {
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb },
      stdout: false,
      stderr: false,
    });
  }

  async start(sourceParam: unknown, ctx: CallContext): Promise<{ jobId: string }> {
    if (this.closed) throw new ApiError('closed', 'the validation service is shutting down');
    const source = parseSourceRef(sourceParam);
    const dir = await this.resolveSource(source);
    const running = [...this.jobs.values()].filter((j) => j.state === 'running').length;
    if (running >= this.maxRunning) {
      throw new ApiError('busy', `${running} validations are already running; wait or cancel one`);
    }
    const job: Job = {
      id: randomUUID(),
      ctx,
      path: dir,
      state: 'running',
      worker: null,
      report: null,
      lastProgressAt: 0,
      pendingProgress: null,
      progressTimer: null,
      finishedAt: 0,
    };
    const worker = this.spawn();
    job.worker = worker;
    this.jobs.set(job.id, job);
    this.pruneJobs();

    worker.on('message', (msg: WorkerReply) => {
      if (job.state !== 'running') return;
      if (msg.type === 'progress') this.onProgress(job, msg.progress);
      else if (msg.type === 'report') {
        job.report = msg.report;
        this.finish(job, 'done');
        job.ctx.emit('validation.done', { jobId: job.id, report: msg.report });
      } else if (msg.type === 'error') {
        this.finish(job, 'failed');
        job.ctx.emit('validation.failed', { jobId: job.id, error: msg.message, cancelled: msg.cancelled });
      }
    });
    worker.on('error', (err) => {
      if (job.state !== 'running') return;
      this.finish(job, 'failed');
      job.ctx.emit('validation.failed', { jobId: job.id, error: `validation crashed: ${errorText(err)}`, cancelled: false });
    });
    worker.on('exit', (code) => {
      if (job.state !== 'running') return;
      this.finish(job, 'failed');
      job.ctx.emit('validation.failed', {
        jobId: job.id,
        error: `validation worker stopped unexpectedly (exit code ${code})`,
        cancelled: false,
      });
    });
    worker.postMessage({ type: 'validate', path: dir } satisfies WorkerRequest);
    return { jobId: job.id };
  }

  private onProgress(job: Job, progress: Progress): void {
    const now = Date.now();
    const wait = job.lastProgressAt + this.interval - now;
    if (wait <= 0 && !job.progressTimer) {
      job.lastProgressAt = now;
      job.ctx.emit('validation.progress', { jobId: job.id, progress });
      return;
    }
    job.pendingProgress = progress;
    if (!job.progressTimer) {
      job.progressTimer = setTimeout(() => {
        job.progressTimer = null;
        const p = job.pendingProgress;
        job.pendingProgress = null;
        if (p && job.state === 'running') {
          job.lastProgressAt = Date.now();
          job.ctx.emit('validation.progress', { jobId: job.id, progress: p });
        }
      }, Math.max(0, wait));
    }
  }

  private finish(job: Job, state: JobState): void {
    job.state = state;
    job.finishedAt = Date.now();
    if (job.progressTimer) clearTimeout(job.progressTimer);
    job.progressTimer = null;
    job.pendingProgress = null;
    const w = job.worker;
    job.worker = null;
    if (w) void w.terminate();
  }

  private pruneJobs(): void {
    const finished = [...this.jobs.values()]
      .filter((j) => j.state !== 'running')
      .sort((a, b) => a.finishedAt - b.finishedAt);
    while (finished.length > this.maxRetained) {
      const j = finished.shift();
      if (j) this.jobs.delete(j.id);
    }
  }

  cancel(jobId: unknown): { cancelled: boolean } {
    if (typeof jobId !== 'string') throw new ApiError('bad-params', 'jobId must be a string');
    const job = this.jobs.get(jobId);
    if (!job || job.state !== 'running') return { cancelled: false };
    // Ask nicely first (the worker stops at its next checkpoint), then
    // terminate: a worker stuck in one huge read must not keep running.
    job.worker?.postMessage({ type: 'cancel' } satisfies WorkerRequest);
    this.finish(job, 'cancelled');
    job.ctx.emit('validation.failed', { jobId: job.id, error: 'cancelled', cancelled: true });
    return { cancelled: true };
  }

  /** Cancel the running jobs of a context that went away (closed socket). */
  cancelAllFor(ctx: CallContext): void {
    for (const job of this.jobs.values()) {
      if (job.ctx === ctx && job.state === 'running') {
        this.finish(job, 'cancelled');
      }
    }
  }

  async batches(jobIdParam: unknown, fileParam: unknown): Promise<BatchSummary[]> {
    if (typeof jobIdParam !== 'string') throw new ApiError('bad-params', 'jobId must be a string');
    if (typeof fileParam !== 'string' || !isPlainFileName(fileParam)) {
      throw new ApiError('bad-params', 'file must be a plain file name');
    }
    const job = this.jobs.get(jobIdParam);
    if (!job) throw new ApiError('unknown-job', `no validation job ${jobIdParam}`);
    if (job.state !== 'done' || !job.report) throw new ApiError('not-finished', 'the validation has not finished');
    const segments = job.report.dqlite?.segments;
    if (!segments || !segments.some((s) => s.file === fileParam)) {
      throw new ApiError('unknown-file', `${fileParam} is not a segment of this report`);
    }
    const worker = this.spawn();
    this.extraWorkers.add(worker);
    try {
      return await new Promise<BatchSummary[]>((resolve, reject) => {
        worker.on('message', (msg: WorkerReply) => {
          if (msg.type === 'batches') resolve(msg.batches);
          else if (msg.type === 'error') reject(new ApiError('failed', msg.message));
        });
        worker.on('error', (err) => reject(new ApiError('failed', `batch listing crashed: ${errorText(err)}`)));
        worker.on('exit', (code) => reject(new ApiError('failed', `batch listing stopped (exit code ${code})`)));
        worker.postMessage({ type: 'batches', path: job.path, file: fileParam } satisfies WorkerRequest);
      });
    } finally {
      this.extraWorkers.delete(worker);
      void worker.terminate();
    }
  }

  /** Stop every worker (app quit, server close). */
  async shutdown(): Promise<void> {
    this.closed = true;
    const waits: Promise<number>[] = [];
    for (const job of this.jobs.values()) {
      if (job.state === 'running') {
        const w = job.worker;
        this.finish(job, 'cancelled');
        if (w) waits.push(w.terminate());
      }
    }
    for (const w of this.extraWorkers) waits.push(w.terminate());
    this.extraWorkers.clear();
    await Promise.allSettled(waits);
  }
}
