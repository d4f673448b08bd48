/**
 * Validation jobs. Each job runs in its own worker thread
 * (dist/validation-worker.cjs) so a huge or hostile directory cannot block the
 * main process; cancelling terminates the worker. Progress is throttled to
 * ~10 events/s per job; done/failed go to the context that started the job.
 *
 * Remote sources (`{ kind: 'remote' }`, validated in place over SFTP): the
 * SSH session lives in this process and cannot be handed to a worker, so the
 * worker still runs the validator and asks us for bytes (`io` messages:
 * list / open / read, each read bounded by MAX_READ); we answer from the
 * read-only SFTP DirectorySource (or, with `sudo`, the read-only sudo
 * DirectorySource). The parsing stays off the main thread, the
 * main thread only moves bytes, and cancel is the same terminate as local.
 * `{ kind: 'copy' }` resolves to the directory a finished copy-out job of the
 * same client wrote, so web mode validates it without naming a path.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { MAX_READ, type ByteSource, type DirectorySource } from '../../shared/bytes/byte-source';
import type { SourceRef } from '../../shared/contract/api';
import type { BatchSummary } from '../../shared/contract/dqlite';
import type { EtcdQuery } from '../../shared/contract/etcd';
import { parseEtcdQuery } from '../../shared/formats/etcd/query';
import type { Progress, RunOptions } from '../../shared/contract/progress';
import type { ValidationReport } from '../../shared/contract/report';
import { ApiError } from './api-error';
import type { RemoteDirectory, RemoteSources } from './remote-sources';
import type { CallContext } from './registry';
import { findAppRoot, type SampleCatalog } from './samples';
import type { IoReply, IoRequest, WorkerReply, WorkerRequest } from './validation-worker';

export { ApiError } from './api-error';
export type { RemoteDirectory, RemoteSources } from './remote-sources';
export { openLocalTarget, type LocalTarget } from './fs-source';

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
  throw ApiError.localized('not-built', 'apiError.validation.notBuilt');
}

type JobState = 'running' | 'done' | 'failed' | 'cancelled';

/** Where a job reads from: a local path, or a remote directory opened for it. */
export type ResolvedSource = { kind: 'local'; path: string; nodePath?: NodePath } | { kind: 'remote'; connectionId: string; path: string; sudo: boolean };

type NodePath = NonNullable<RunOptions['nodePath']>;

interface Job {
  id: string;
  ctx: CallContext;
  source: ResolvedSource;
  /** Open remote directory while the job runs (closed when it ends). */
  remote: RemoteDirectory | null;
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
  /** SSH-backed sources: the SSH service the composition root owns (absent: remote and copy sources are refused). */
  remote?: RemoteSources;
  /**
   * A worker started before this service (bin/lifeboat.cjs starts one for `lifeboat validate`,
   * so it loads its bundle while the CLI's loads): the first job runs in it.
   */
  prestartedWorker?: PrestartedWorker;
  /**
   * Bytes the key browser's index may hold per job (EtcdKeyBrowserOptions.budgetBytes, 160 MiB by default):
   * past it a search walks the whole db. Lower for a machine short of memory, or for tests of that walk.
   */
  keyIndexBudgetBytes?: number;
}

/**
 * A validation worker already started (unref'd, so an unused one never keeps the process up). It is
 * used only if it runs this service's worker script with its heap cap; otherwise it is terminated.
 */
export interface PrestartedWorker {
  worker: Worker;
  script: string;
  heapMb: number;
  /**
   * The request already posted to it (bin/lifeboat.cjs posts `validate` for a lone local PATH, so
   * the work starts before the CLI bundle has loaded), with the replies that came before this
   * service listened. A job asking exactly this runs on in it; any other request gets a new worker.
   */
  running?: { request: WorkerRequest; replies: WorkerReply[]; stopBuffering(): void };
}

/** Whether two first requests ask the same (the plain local validation is the only one started early). */
function sameRequest(a: WorkerRequest, b: WorkerRequest): boolean {
  return a.type === 'validate' && b.type === 'validate' && a.path === b.path && a.nodePath === undefined && b.nodePath === undefined;
}

const MAX_FILE_NAME = 255;
/** Subdirectory depth a worker may ask for (etcd: member/wal, member/snap). */
const MAX_SUBDIR_DEPTH = 8;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isPlainFileName(name: string): boolean {
  return (
    name.length > 0 && name.length <= MAX_FILE_NAME && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\\') && !name.includes('\0')
  );
}

export function parseSourceRef(value: unknown): SourceRef {
  // Contract: the page builds the source from its own state (only the path on the node is typed, said below from the catalog).
  if (typeof value !== 'object' || value === null) throw new ApiError('bad-params', 'source must be an object');
  const v = value as Record<string, unknown>;
  if (v.kind === 'sample') {
    // Contract: an id from samples.list.
    if (typeof v.id !== 'string' || v.id === '') throw new ApiError('bad-params', 'source.id must be a sample id');
    return { kind: 'sample', id: v.id };
  }
  if (v.kind === 'local-path') {
    // Contract: a path the page got from a file dialog or the node panel.
    if (typeof v.path !== 'string' || v.path === '') throw new ApiError('bad-params', 'source.path must be a string');
    if (v.nodePath === undefined) return { kind: 'local-path', path: v.path };
    if (!isNodePath(v.nodePath)) throw new ApiError('bad-params', 'source.nodePath must be an absolute path on the node (no "..", at most 4096 characters)');
    return { kind: 'local-path', path: v.path, nodePath: v.nodePath };
  }
  if (v.kind === 'remote') {
    // Contract: the connection id and the sudo box come from the node panel's state.
    if (typeof v.connectionId !== 'string' || v.connectionId === '') throw new ApiError('bad-params', 'source.connectionId must be a string');
    if (v.sudo !== undefined && typeof v.sudo !== 'boolean') throw new ApiError('bad-params', 'source.sudo must be true or false');
    if (typeof v.path !== 'string' || !v.path.startsWith('/')) throw ApiError.localized('bad-params', 'apiError.validation.remoteNotAbsolute');
    return v.sudo === true
      ? { kind: 'remote', connectionId: v.connectionId, path: v.path, sudo: true }
      : { kind: 'remote', connectionId: v.connectionId, path: v.path };
  }
  if (v.kind === 'copy') {
    // Contract: the id of a copy-out the page started.
    if (typeof v.jobId !== 'string' || v.jobId === '') throw new ApiError('bad-params', 'source.jobId must be a copy-out job id');
    return { kind: 'copy', jobId: v.jobId };
  }
  // Contract: the page sends one of these kinds.
  throw new ApiError('bad-params', 'source.kind must be "sample", "local-path", "remote" or "copy"');
}

/** An absolute POSIX path on the node, for the plan's commands: bounded, no NUL, no `..`. */
export function isNodePath(v: unknown): v is string {
  return typeof v === 'string' && v.startsWith('/') && v.length <= 4096 && !v.includes('\0') && !v.split('/').includes('..');
}

function isPlainName(v: unknown): v is string {
  return typeof v === 'string' && isPlainFileName(v);
}

function isOffset(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Answer the worker's byte requests from a remote directory. Every request is
 * checked (plain names, bounded reads): the worker is ours, but its requests
 * are driven by the bytes of the directory being validated.
 */
function serveIo(worker: Worker, root: DirectorySource): void {
  const files = new Map<string, Promise<ByteSource>>();
  const dirs = new Map<string, Promise<DirectorySource>>([['', Promise.resolve(root)]]);
  /** A subdirectory of the root by plain components (etcd's member/wal), opened once. */
  const dirAt = (parts: unknown): Promise<DirectorySource> => {
    if (parts === undefined) return Promise.resolve(root);
    if (!Array.isArray(parts) || parts.length > MAX_SUBDIR_DEPTH || !parts.every(isPlainName)) {
      return Promise.reject(new Error('not a plain subdirectory path'));
    }
    let key = '';
    let p = Promise.resolve(root);
    for (const part of parts as string[]) {
      key += `/${part}`;
      let next = dirs.get(key);
      if (!next) {
        next = p.then((d) => {
          if (!d.subdir) throw new Error(`${d.name} cannot open subdirectories`);
          return d.subdir(part);
        });
        dirs.set(key, next);
        const k = key;
        next.catch(() => dirs.delete(k));
      }
      p = next;
    }
    return p;
  };
  const openFile = (parts: unknown, name: string): Promise<ByteSource> => {
    const key = `${Array.isArray(parts) ? parts.join('/') : ''}/${name}`;
    let p = files.get(key);
    if (!p) {
      p = dirAt(parts).then((d) => d.open(name));
      files.set(key, p);
      p.catch(() => files.delete(key));
    }
    return p;
  };
  const answer = async (req: IoRequest): Promise<IoReply> => {
    if (req.op === 'list') return { type: 'io-reply', id: req.id, ok: true, entries: await (await dirAt(req.dir)).list() };
    if (!isPlainName(req.file)) throw new Error('not a plain file name');
    if (req.op === 'open') return { type: 'io-reply', id: req.id, ok: true, size: (await openFile(req.dir, req.file)).size };
    if (!isOffset(req.offset) || !isOffset(req.length)) throw new Error(`bad read ${String(req.offset)}+${String(req.length)}`);
    const src = await openFile(req.dir, req.file);
    const got = await src.read(req.offset, Math.min(req.length, MAX_READ));
    // A fresh, exactly-sized buffer so it can be transferred rather than copied again.
    const bytes = got.byteOffset === 0 && got.byteLength === got.buffer.byteLength && got.buffer instanceof ArrayBuffer ? got : got.slice();
    return { type: 'io-reply', id: req.id, ok: true, bytes };
  };
  worker.on('message', (msg: WorkerReply) => {
    if (msg.type !== 'io') return;
    answer(msg).then(
      (reply) => {
        try {
          worker.postMessage(reply, reply.ok && reply.bytes ? [reply.bytes.buffer as ArrayBuffer] : []);
        } catch {
          // The worker is gone (cancelled): nothing to answer.
        }
      },
      (err: unknown) => {
        try {
          worker.postMessage({ type: 'io-reply', id: msg.id, ok: false, message: errorText(err) } satisfies IoReply);
        } catch {
          // gone
        }
      },
    );
  });
}

/** A worker kept for one finished etcd job's key-browser queries (its index is built once, at the first). */
interface KeptQueryWorker {
  ready: Promise<{ worker: Worker; remote: RemoteDirectory | null }>;
  close(): void;
  /** The queries one after another (the worker serves one at a time). */
  queue: Promise<unknown>;
  /** Set to 1 to stop the keys query in flight (the worker's walk reads it at each leaf); see KeptQueryFields. */
  interrupt: Int32Array;
  /** Whether the query in the worker now is a keys query (what `interrupt` can stop). */
  keysInFlight: boolean;
}

/** Jobs whose key-browser worker (and its indexes, up to 2 × 160 MiB) is kept at once; the least recently asked goes first. */
const KEPT_QUERY_WORKERS = 2;

export class ValidationService {
  private readonly jobs = new Map<string, Job>();
  private readonly extraWorkers = new Set<Worker>();
  /** Job id -> its kept key-browser worker, least recently asked first. */
  private readonly queryWorkers = new Map<string, KeptQueryWorker>();
  private readonly interval: number;
  private readonly maxRunning: number;
  private readonly maxRetained: number;
  private readonly heapMb: number;
  private prestarted: PrestartedWorker | null;
  private closed = false;

  constructor(private readonly opts: ValidationServiceOptions) {
    this.interval = opts.progressIntervalMs ?? 100;
    this.maxRunning = opts.maxRunningJobs ?? 4;
    this.maxRetained = opts.maxRetainedJobs ?? 50;
    this.heapMb = opts.workerHeapMb ?? 2048;
    this.prestarted = opts.prestartedWorker ?? null;
  }

  private async remoteSources(): Promise<RemoteSources> {
    // Handed over by the composition root (the SSH service it owns): this file never imports SSH.
    if (this.opts.remote) return this.opts.remote;
    // Contract: every app the page runs in has the SSH service; only a test harness builds the service without it.
    throw new ApiError('unsupported', 'remote and copy-out sources need a connected node; this session has no SSH service');
  }

  private async resolveSource(source: SourceRef, ctx: CallContext): Promise<ResolvedSource> {
    if (source.kind === 'sample') {
      const dir = await this.opts.samples.resolve(source.id);
      // Contract: the page names a sample samples.list gave it.
      if (!dir) throw new ApiError('unknown-sample', `no sample named "${source.id}"`);
      return { kind: 'local', path: dir };
    }
    if (source.kind === 'remote') return { kind: 'remote', connectionId: source.connectionId, path: source.path, sudo: source.sudo === true };
    if (source.kind === 'copy') {
      // The back end's own record of what it wrote: never a client-named path.
      const copy = (await this.remoteSources()).copyOutput(source.jobId, ctx);
      return { kind: 'local', path: copy.localPath, nodePath: { path: copy.remotePath, origin: 'copied-from' } };
    }
    if (this.opts.transport === 'web') {
      // The web server is local, but its API is reachable by whoever holds the
      // token URL (a shared screen, shell history, a browser extension). Until
      // paths are confined to folders the user picked, reading arbitrary paths
      // by name stays an Electron-only feature; the browser validates dropped
      // files itself instead.
      throw ApiError.localized('forbidden', 'apiError.validation.localPathWeb');
    }
    // Contract: the file dialog gives absolute paths.
    if (!path.isAbsolute(source.path)) throw new ApiError('bad-params', 'source.path must be absolute');
    return source.nodePath ? { kind: 'local', path: source.path, nodePath: { path: source.nodePath, origin: 'given' } } : { kind: 'local', path: source.path };
  }

  /** The first message for a worker: validate or list batches, from a local path or through `io`. */
  private request(source: ResolvedSource, remote: RemoteDirectory | null, file?: string, detail?: number): WorkerRequest {
    const asked = detail !== undefined ? { detail } : {};
    if (source.kind === 'local') {
      return file === undefined
        ? { type: 'validate', path: source.path, ...(source.nodePath ? { nodePath: source.nodePath } : {}) }
        : { type: 'batches', path: source.path, file, ...asked };
    }
    const name = remote?.name ?? source.path;
    // Validated in place: the plan's commands name the directory that was read.
    return file === undefined
      ? { type: 'validate-remote', name, nodePath: { path: source.path, origin: 'in-place' } }
      : { type: 'batches-remote', name, file, ...asked };
  }

  /**
   * A worker for `request`: the prestarted one when it suits (idle, or already running this very
   * request: then `replies` holds what it said before anyone listened), else a new one.
   */
  private spawn(request?: WorkerRequest): { worker: Worker; replies: WorkerReply[] | null } {
    const script = resolveWorkerPath(this.opts.workerPath);
    const early = this.prestarted;
    this.prestarted = null;
    if (early) {
      const running = early.running;
      const suits = running ? request !== undefined && sameRequest(running.request, request) : true;
      // threadId is -1 once it has exited (it failed to load).
      if (suits && early.script === script && early.heapMb === this.heapMb && early.worker.threadId >= 0) {
        // It keeps the process up from now on, as a worker spawned here does.
        early.worker.ref();
        running?.stopBuffering();
        return { worker: early.worker, replies: running ? running.replies : null };
      }
      void early.worker.terminate();
    }
    return { worker: this.newWorker(script), replies: null };
  }

  private newWorker(script: string): Worker {
    return new Worker(script, {
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb },
      stdout: false,
      stderr: false,
    });
  }

  /** A remote source's directory, opened for a worker to read through (null for a local one: the worker opens the path itself). */
  private async openRemote(source: ResolvedSource, ctx: CallContext): Promise<RemoteDirectory | null> {
    return source.kind === 'remote' ? (await this.remoteSources()).openDirectory(source.connectionId, source.path, ctx, { sudo: source.sudo }) : null;
  }

  /** A new worker, served `remote`'s bytes when there is one; `remote` is closed when no worker can start. */
  private async spawnServing(remote: RemoteDirectory | null): Promise<Worker> {
    let worker: Worker;
    try {
      // Idle workers only: a prestarted one already running a validation is not taken.
      worker = this.spawn().worker;
    } catch (e) {
      await remote?.close();
      throw e;
    }
    if (remote) serveIo(worker, remote);
    return worker;
  }

  async start(sourceParam: unknown, ctx: CallContext): Promise<{ jobId: string }> {
    if (this.closed) throw ApiError.localized('closed', 'apiError.validation.closed');
    const sourceRef = parseSourceRef(sourceParam);
    const source = await this.resolveSource(sourceRef, ctx);
    const running = [...this.jobs.values()].filter((j) => j.state === 'running').length;
    if (running >= this.maxRunning) {
      throw ApiError.localized('busy', 'apiError.validation.busy', { running });
    }
    // Remote: opened (and checked: listing, permission) before the job exists,
    // so "permission denied" is the answer to validation.start, not a late event.
    const remote = await this.openRemote(source, ctx);
    const job: Job = {
      id: randomUUID(),
      ctx,
      source,
      remote,
      state: 'running',
      worker: null,
      report: null,
      lastProgressAt: 0,
      pendingProgress: null,
      progressTimer: null,
      finishedAt: 0,
    };
    const request = this.request(source, remote);
    let worker: Worker;
    /** Non-null: the worker already runs `request` and said this so far. */
    let replies: WorkerReply[] | null;
    try {
      ({ worker, replies } = this.spawn(request));
    } catch (e) {
      await remote?.close();
      throw e;
    }
    if (remote) serveIo(worker, remote);
    job.worker = worker;
    this.jobs.set(job.id, job);
    this.pruneJobs();

    const onMessage = (msg: WorkerReply) => {
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
    };
    worker.on('message', onMessage);
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
    if (replies) {
      // Said before this job listened (in order, and before anything that arrives from now on).
      const said = replies;
      queueMicrotask(() => said.forEach(onMessage));
    } else worker.postMessage(request);
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
      job.progressTimer = setTimeout(
        () => {
          job.progressTimer = null;
          const p = job.pendingProgress;
          job.pendingProgress = null;
          if (p && job.state === 'running') {
            job.lastProgressAt = Date.now();
            job.ctx.emit('validation.progress', { jobId: job.id, progress: p });
          }
        },
        Math.max(0, wait),
      );
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
    const r = job.remote;
    job.remote = null;
    if (r) void r.close().catch(() => undefined);
  }

  private pruneJobs(): void {
    const finished = [...this.jobs.values()].filter((j) => j.state !== 'running').sort((a, b) => a.finishedAt - b.finishedAt);
    while (finished.length > this.maxRetained) {
      const j = finished.shift();
      if (j) this.jobs.delete(j.id);
      if (j) this.queryWorkers.get(j.id)?.close();
    }
  }

  cancel(jobId: unknown): { cancelled: boolean } {
    // Contract: the id of a validation the page started.
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

  async batches(jobIdParam: unknown, fileParam: unknown, ctx?: CallContext, detailParam?: unknown): Promise<BatchSummary[]> {
    // Contract: the ids, files and batch numbers come from the report the page shows.
    if (typeof jobIdParam !== 'string') throw new ApiError('bad-params', 'jobId must be a string');
    if (detailParam !== undefined && (typeof detailParam !== 'number' || !Number.isSafeInteger(detailParam) || detailParam < 1)) {
      throw new ApiError('bad-params', 'detail must be a batch number (1, 2, …)');
    }
    const detail = detailParam as number | undefined;
    if (typeof fileParam !== 'string' || !isPlainFileName(fileParam)) {
      throw new ApiError('bad-params', 'file must be a plain file name');
    }
    const job = this.jobs.get(jobIdParam);
    if (!job) throw this.unknownJob();
    // Contract: the page asks for batches of a finished report only.
    if (job.state !== 'done' || !job.report) throw new ApiError('not-finished', 'the validation has not finished');
    const segments = job.report.dqlite?.segments;
    if (!segments || !segments.some((s) => s.file === fileParam)) {
      // Contract: as the file names above.
      throw new ApiError('unknown-file', `${fileParam} is not a segment of this report`);
    }
    const request = (remote: RemoteDirectory | null) => this.request(job.source, remote, fileParam, detail);
    return this.sideWorker(job, ctx, request, (msg) => (msg.type === 'batches' ? msg.batches : undefined), 'batches');
  }

  /**
   * One etcd query (WAL records, page map, page, keys, value) over a finished
   * etcd job's source, answered in a worker of its own like `batches`. The
   * query is checked here and again against the report in the worker.
   */
  async etcdQuery(jobIdParam: unknown, queryParam: unknown, ctx?: CallContext): Promise<unknown> {
    // Contract: the ids and queries come from the report the page shows (parseEtcdQuery's refusal included).
    if (typeof jobIdParam !== 'string') throw new ApiError('bad-params', 'jobId must be a string');
    let query: EtcdQuery;
    try {
      query = parseEtcdQuery(queryParam);
    } catch (e) {
      // Contract: as above.
      throw new ApiError('bad-params', errorText(e));
    }
    const job = this.jobs.get(jobIdParam);
    if (!job) throw this.unknownJob();
    // Contract: the page queries a finished etcd report only.
    if (job.state !== 'done' || !job.report) throw new ApiError('not-finished', 'the validation has not finished');
    const report = job.report;
    if (report.engine !== 'etcd' || !report.etcd) throw new ApiError('not-etcd', 'this validation is not of an etcd data directory');
    // Answered here, not queued behind the query it stops.
    if (query.kind === 'interrupt') return { interrupted: this.interruptKeys(job.id) };
    // The key browser's queries go to a worker kept for the job: its index is built at the first and answers the next.
    const keep = query.kind === 'keys' || query.kind === 'value';
    const request = (remote: RemoteDirectory | null): WorkerRequest =>
      job.source.kind === 'local'
        ? { type: 'etcd-query', path: job.source.path, report, query, ...(keep ? { keep } : {}) }
        : { type: 'etcd-query-remote', name: remote?.name ?? job.source.path, report, query, ...(keep ? { keep } : {}) };
    if (keep) return this.keptQuery(job, ctx, request);
    return this.sideWorker(job, ctx, request, (msg) => (msg.type === 'etcd-query' ? msg.result : undefined), 'etcdQuery');
  }

  /** Ask the job's kept worker to stop the keys query it is answering; whether one was in flight. */
  private interruptKeys(jobId: string): boolean {
    const k = this.queryWorkers.get(jobId);
    if (!k?.keysInFlight) return false;
    Atomics.store(k.interrupt, 0, 1);
    return true;
  }

  /** One query to the job's kept worker (started at its first query; a crash or exit lets it go, the next query starts another). */
  private keptQuery(job: Job, ctx: CallContext | undefined, request: (remote: RemoteDirectory | null) => WorkerRequest): Promise<unknown> {
    let kept = this.queryWorkers.get(job.id);
    if (kept) {
      // Most recently asked last.
      this.queryWorkers.delete(job.id);
      this.queryWorkers.set(job.id, kept);
    } else {
      if (this.closed) return Promise.reject(ApiError.localized('closed', 'apiError.validation.closed'));
      let close: (() => void) | null = null;
      let closed = false;
      const made = this.workerOver(job.source, ctx ?? job.ctx).then((w) => {
        close = w.close;
        if (closed) w.close();
        return { worker: w.worker, remote: w.remote };
      });
      const k: KeptQueryWorker = {
        ready: made,
        close: () => {
          closed = true;
          if (this.queryWorkers.get(job.id) === k) this.queryWorkers.delete(job.id);
          close?.();
        },
        queue: Promise.resolve(),
        interrupt: new Int32Array(new SharedArrayBuffer(4)),
        keysInFlight: false,
      };
      made.catch(() => k.close());
      kept = k;
      this.queryWorkers.set(job.id, k);
      for (const [id, other] of this.queryWorkers) if (this.queryWorkers.size > KEPT_QUERY_WORKERS && id !== job.id) other.close();
    }
    const k = kept;
    const ask = async (): Promise<unknown> => {
      const { worker, remote } = await k.ready;
      const asked = request(remote);
      const keys = (asked.type === 'etcd-query' || asked.type === 'etcd-query-remote') && asked.query.kind === 'keys';
      return new Promise<unknown>((resolve, reject) => {
        const done = (): void => {
          k.keysInFlight = false;
          worker.off('message', onMessage);
          worker.off('error', onError);
          worker.off('exit', onExit);
        };
        const onMessage = (msg: WorkerReply): void => {
          if (msg.type === 'etcd-query') {
            done();
            resolve(msg.result);
          } else if (msg.type === 'error') {
            // The worker's own refusal, with its catalog text when it has one; it serves the next query.
            done();
            reject(new ApiError(msg.code ?? 'failed', msg.message, msg.text));
          }
        };
        const onError = (err: Error): void => {
          done();
          k.close();
          reject(ApiError.localized('failed', 'apiError.validation.etcdQueryCrashed', { reason: errorText(err) }));
        };
        const onExit = (code: number): void => {
          done();
          k.close();
          reject(ApiError.localized('failed', 'apiError.validation.etcdQueryStopped', { code: String(code) }));
        };
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.on('exit', onExit);
        k.keysInFlight = keys;
        Atomics.store(k.interrupt, 0, 0);
        const budget = this.opts.keyIndexBudgetBytes;
        worker.postMessage({ ...asked, interrupt: k.interrupt.buffer as SharedArrayBuffer, ...(budget ? { keyIndexBudgetBytes: budget } : {}) });
      });
    };
    const run = k.queue.then(ask, ask);
    k.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * A short-lived worker reading a finished job's source again (a remote one
   * over the same connection, which must still be up) and answering one request.
   */
  private async sideWorker<T>(
    job: Job,
    ctx: CallContext | undefined,
    request: (remote: RemoteDirectory | null) => WorkerRequest,
    pick: (msg: WorkerReply) => T | undefined,
    what: 'batches' | 'etcdQuery',
  ): Promise<T> {
    const { worker, remote, close } = await this.workerOver(job.source, ctx ?? job.ctx);
    try {
      return await new Promise<T>((resolve, reject) => {
        worker.on('message', (msg: WorkerReply) => {
          const value = pick(msg);
          if (value !== undefined) resolve(value);
          // The worker's own refusal, with its catalog text when it has one.
          else if (msg.type === 'error') reject(new ApiError(msg.code ?? 'failed', msg.message, msg.text));
        });
        worker.on('error', (err) => reject(ApiError.localized('failed', `apiError.validation.${what}Crashed`, { reason: errorText(err) })));
        worker.on('exit', (code) => reject(ApiError.localized('failed', `apiError.validation.${what}Stopped`, { code: String(code) })));
        worker.postMessage(request(remote));
      });
    } finally {
      close();
    }
  }

  /** A job this back end no longer has (it keeps the last `maxRetained`), or one of another web client. */
  private unknownJob(): ApiError {
    return ApiError.localized('unknown-job', 'apiError.validation.unknownJob', { kept: this.maxRetained });
  }

  /**
   * A finished job of this client, for other work over the same source (etcd
   * repair and salvage): what it read and what it found. The source is the
   * back end's own record, so web mode never reads a path the client named.
   */
  finishedJob(jobIdParam: unknown, ctx: CallContext): { source: ResolvedSource; report: ValidationReport } {
    // Contract: the id of a validation the page started.
    if (typeof jobIdParam !== 'string' || jobIdParam === '') throw new ApiError('bad-params', 'jobId must be a validation job id');
    const job = this.jobs.get(jobIdParam);
    if (!job || (ctx.transport === 'web' && job.ctx !== ctx)) throw this.unknownJob();
    // Contract: the page offers repair and salvage on a finished report only.
    if (job.state !== 'done' || !job.report) throw new ApiError('not-finished', 'the validation has not finished');
    return { source: job.source, report: job.report };
  }

  /**
   * A long-running worker over a finished job's source (a remote one reopened
   * over the same connection, which must still be up), for work that reports
   * progress and can be cancelled; the caller listens and calls `close()`.
   */
  async sourceWorker(jobId: string, ctx: CallContext, request: (remote: RemoteDirectory | null) => WorkerRequest): Promise<{ worker: Worker; close(): void }> {
    if (this.closed) throw ApiError.localized('closed', 'apiError.validation.closed');
    const { source } = this.finishedJob(jobId, ctx);
    const { worker, remote, close } = await this.workerOver(source, ctx);
    worker.postMessage(request(remote));
    return { worker, close };
  }

  /**
   * A worker over `source`, served its bytes when it is remote (reopened over
   * the same connection, which must still be up); `close()` ends both, once.
   */
  private async workerOver(source: ResolvedSource, ctx: CallContext): Promise<{ worker: Worker; remote: RemoteDirectory | null; close: () => void }> {
    const remote = await this.openRemote(source, ctx);
    const worker = await this.spawnServing(remote);
    this.extraWorkers.add(worker);
    let closed = false;
    return {
      worker,
      remote,
      close: () => {
        if (closed) return;
        closed = true;
        this.extraWorkers.delete(worker);
        void worker.terminate();
        if (remote) void remote.close().catch(() => undefined);
      },
    };
  }

  /** Stop every worker (app quit, server close). */
  async shutdown(): Promise<void> {
    this.closed = true;
    for (const k of [...this.queryWorkers.values()]) k.close();
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
    if (this.prestarted) waits.push(this.prestarted.worker.terminate());
    this.prestarted = null;
    await Promise.allSettled(waits);
  }
}
