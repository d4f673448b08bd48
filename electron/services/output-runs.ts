/**
 * What the UI's offline runs share (etcd repair and salvage, etcd-repair-jobs.ts; the dqlite rebuild,
 * dqlite-rebuild-jobs.ts): where an output may go (path rules in shared/contract/path-rules.ts), the
 * default output folder, and the runs themselves, each a worker thread over a finished validation job's
 * source, with throttled progress, cancel at the worker's next checkpoint (terminated after a grace
 * period), and what a failed run left behind (never deleted). One instance per service; a run belongs to
 * the calling context.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, promises as fs, realpathSync } from 'node:fs';
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { ErrorText } from '../../shared/contract/error-text';
import type { Progress } from '../../shared/contract/progress';
import { ApiError } from './api-error';
import { expandHome } from './home-path';
import { isInside, realpathLoose } from './local-path-confine';
import type { CallContext } from './registry';
import type { ResolvedSource } from './validation-service';
import type { WorkerReply } from './validation-worker';
import { makeDirs } from './make-dirs';
import { stripTrailingSlashes } from '../../shared/text/trailing-slashes';

export const MAX_OUTPUT_PATH = 4096;
/** Runs at once per service (each reads a whole input and writes as much). */
const MAX_RUNNING = 2;
/** Progress events per run at most every this many ms (~10/s). */
const PROGRESS_INTERVAL_MS = 100;
/** A cancelled worker that does not stop at its next checkpoint is terminated after this. */
const CANCEL_GRACE_MS = 3000;
const MAX_REMEMBERED = 50;

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function localDate(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}-${two(d.getHours())}${two(d.getMinutes())}`;
}

/**
 * A folder no earlier run used, in `root`: `salvage-<input's last path component>-<date>` (two runs in the
 * same minute get -2, -3, ...); a node's directory read in place is marked `node-`.
 */
export function newOutputFolder(root: string, source: ResolvedSource, fallback: string): string {
  const last = path.posix.basename(stripTrailingSlashes(source.path)) || fallback;
  const label = `${source.kind === 'remote' ? 'node-' : ''}${last}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60);
  const base = path.join(path.resolve(root), `salvage-${label}-${localDate(new Date())}`);
  let folder = base;
  for (let n = 2; existsSync(folder) && n < 1000; n++) folder = `${base}-${n}`;
  return folder;
}

/**
 * Where a run may write. Desktop: any absolute path. Web mode: only below the copies folder `root`,
 * checked again after symlinks (before the job is even looked up, so a refusal says nothing about either).
 */
export async function confinedOutput(output: unknown, ctx: CallContext, root: string): Promise<string> {
  if (typeof output !== 'string' || output.trim() === '' || output.length > MAX_OUTPUT_PATH || output.includes('\0')) {
    throw ApiError.localized('bad-params', 'apiError.repair.outputRequired', { max: MAX_OUTPUT_PATH });
  }
  const expanded = expandHome(output.trim());
  if (!path.isAbsolute(expanded)) throw ApiError.localized('bad-params', 'apiError.repair.outputNotAbsolute');
  const dest = path.resolve(expanded);
  if (ctx.transport === 'web') {
    const confine = path.resolve(root);
    // Neither path is repeated: a refusal must not tell a token holder where things are on this machine.
    if (!isInside(confine, dest) || dest === confine) {
      throw ApiError.localized('forbidden', 'apiError.repair.outsideCopies');
    }
    await makeDirs(confine, 0o700);
    if (!isInside(realpathSync(confine), realpathLoose(dest))) {
      throw ApiError.localized('forbidden', 'apiError.repair.linkOutOfCopies');
    }
  }
  return dest;
}

/**
 * Desktop only (refused in web mode): the native dialog for where a run writes. For a file, the save dialog's own
 * choice; for a folder, a folder is picked and the output is a new folder inside it, named as the suggestion's last
 * component (or `defaultName`), so an existing non-empty folder is never written into. Null when cancelled.
 */
export async function chooseOutputPath(
  ctx: CallContext,
  choose: ((kind: 'file' | 'dir', suggested: string) => Promise<string | null>) | undefined,
  kind: 'file' | 'dir',
  suggested: unknown,
  defaultName: string,
): Promise<{ path: string | null }> {
  if (ctx.transport !== 'electron' || !choose) throw ApiError.localized('unsupported', 'apiError.repair.noDialogWeb');
  const hint = typeof suggested === 'string' && suggested.length <= MAX_OUTPUT_PATH && !suggested.includes('\0') ? suggested : '';
  if (kind === 'file') return { path: await choose('file', hint) };
  const picked = await choose('dir', hint ? path.dirname(hint) : '');
  return { path: picked ? path.join(picked, hint ? path.basename(hint) : defaultName) : null };
}

/** An output never inside a local input. */
export function refuseInsideInput(dest: string, source: ResolvedSource): void {
  if (source.kind !== 'local') return;
  if (isInside(realpathSync(source.path), realpathLoose(dest))) throw ApiError.localized('forbidden', 'apiError.repair.insideInput');
}

/** A new or empty folder (its parent created, 0700); an existing file or non-empty folder is refused. */
export async function freshFolder(dest: string): Promise<string> {
  const st = await fs.lstat(dest).catch(() => null);
  if (st && (!st.isDirectory() || (await fs.readdir(dest)).length > 0)) {
    throw ApiError.localized('exists', 'apiError.repair.folderNotEmpty', { path: dest });
  }
  await outputParent(dest);
  return dest;
}

/**
 * The folder an output goes into, made (0700) where missing; what stops it is said as the user can act on it (a
 * typed path at 3 a.m.: a typo, a read-only or full disk, a path into /proc), not as Node's `ENOENT … mkdir`.
 */
export async function outputParent(dest: string): Promise<void> {
  const parent = path.dirname(dest);
  try {
    await makeDirs(parent, 0o700);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const at = (err as NodeJS.ErrnoException).path ?? parent;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw ApiError.localized('unwritable', 'apiError.repair.folderDenied', { path: at });
    if (code === 'ENOSPC' || code === 'EDQUOT') throw ApiError.localized('unwritable', 'apiError.repair.folderNoSpace', { path: at });
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'EEXIST')
      throw ApiError.localized('unwritable', 'apiError.repair.folderNoPath', { path: at });
    throw ApiError.localized('unwritable', 'apiError.repair.folderFailed', { path: at, error: errorMessage(err) });
  }
}

export interface OutputRun<Mode extends string> {
  id: string;
  ctx: CallContext;
  mode: Mode;
  output: string;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  /** Cancel asked: the worker stops at its next checkpoint (or is terminated after the grace period). */
  cancelRequested: boolean;
  close: (() => void) | null;
  worker: Worker | null;
  lastProgressAt: number;
  finishedAt: number;
}

export interface RunFailure {
  error: string;
  errorText?: ErrorText;
  cancelled: boolean;
  /** What the run left behind (a part file, a half-written folder), never deleted. */
  partial?: string;
}

/** How a service tells its client about its runs (its own event names). */
export interface RunEvents {
  progress(ctx: CallContext, id: string, progress: Progress): void;
  failed(ctx: CallContext, id: string, failure: RunFailure): void;
}

export class OutputRuns<Mode extends string> {
  private readonly runs = new Map<string, OutputRun<Mode>>();

  constructor(
    private readonly events: RunEvents,
    /** Where a failed or cancelled run's leftovers are, first existing one reported. */
    private readonly leftovers: (run: OutputRun<Mode>) => string[],
  ) {}

  /** Refused (busy) when as many runs as allowed are still running. */
  checkCapacity(): void {
    const running = [...this.runs.values()].filter((r) => r.state === 'running').length;
    if (running >= MAX_RUNNING) throw ApiError.localized('busy', 'apiError.repair.busy', { running });
  }

  /** The outputs of `ctx`'s finished runs of `mode`, oldest first. */
  finishedOutputs(ctx: CallContext, mode: Mode): string[] {
    return [...this.runs.values()].filter((r) => r.ctx === ctx && r.mode === mode && r.state === 'done').map((r) => r.output);
  }

  /**
   * Follow a worker that was just handed its request: progress is forwarded, `onResult` gets every other
   * reply that is not an error and says whether it ended the run (the output is then complete: a cancel
   * that came too late still ends as done).
   */
  launch(
    ctx: CallContext,
    mode: Mode,
    output: string,
    handle: { worker: Worker; close(): void },
    onResult: (msg: WorkerReply, run: OutputRun<Mode>) => boolean,
  ): OutputRun<Mode> {
    const run: OutputRun<Mode> = {
      id: randomUUID(),
      ctx,
      mode,
      output,
      state: 'running',
      cancelRequested: false,
      close: () => handle.close(),
      worker: handle.worker,
      lastProgressAt: 0,
      finishedAt: 0,
    };
    this.remember(run);
    handle.worker.on('message', (msg: WorkerReply) => {
      if (run.state !== 'running') return;
      if (msg.type === 'progress') this.progress(run, msg.progress);
      else if (msg.type === 'error') this.fail(run, msg.message, msg.cancelled, msg.text);
      else if (onResult(msg, run)) this.finish(run, 'done');
    });
    handle.worker.on('error', (err) => this.fail(run, `the worker crashed: ${errorMessage(err)}`, false));
    handle.worker.on('exit', (code) => this.fail(run, `the worker stopped unexpectedly (exit code ${code})`, false));
    return run;
  }

  private progress(run: OutputRun<Mode>, progress: Progress): void {
    const now = Date.now();
    if (run.state !== 'running' || run.cancelRequested || now - run.lastProgressAt < PROGRESS_INTERVAL_MS) return;
    run.lastProgressAt = now;
    this.events.progress(run.ctx, run.id, progress);
  }

  private fail(run: OutputRun<Mode>, error: string, cancelled: boolean, errorText?: ErrorText): void {
    if (run.state !== 'running') return;
    const wasCancelled = run.cancelRequested || cancelled;
    this.finish(run, wasCancelled ? 'cancelled' : 'failed');
    const partial = this.leftovers(run).find((c) => existsSync(c));
    this.events.failed(run.ctx, run.id, {
      error: wasCancelled ? 'cancelled' : error,
      ...(errorText && !wasCancelled ? { errorText } : {}),
      cancelled: wasCancelled,
      ...(partial ? { partial } : {}),
    });
  }

  private finish(run: OutputRun<Mode>, state: OutputRun<Mode>['state']): void {
    run.state = state;
    run.finishedAt = Date.now();
    const close = run.close;
    run.close = null;
    run.worker = null;
    close?.();
  }

  cancel(runId: unknown, ctx: CallContext): { cancelled: boolean } {
    // Contract: the id of a run the panel started.
    if (typeof runId !== 'string') throw new ApiError('bad-params', 'the run id must be a string');
    const run = this.runs.get(runId);
    if (!run || run.ctx !== ctx || run.state !== 'running' || run.cancelRequested) return { cancelled: false };
    // Ask the worker to stop at its next checkpoint; terminate it if it does not within the grace period.
    run.cancelRequested = true;
    run.worker?.postMessage({ type: 'cancel' });
    const timer = setTimeout(() => this.fail(run, 'cancelled', true), CANCEL_GRACE_MS);
    timer.unref();
    return { cancelled: true };
  }

  private remember(run: OutputRun<Mode>): void {
    this.runs.set(run.id, run);
    const finished = [...this.runs.values()].filter((r) => r.state !== 'running' && r.finishedAt > 0).sort((a, b) => a.finishedAt - b.finishedAt);
    while (finished.length > MAX_REMEMBERED) this.runs.delete(finished.shift()!.id);
  }

  /** A client went away: stop its runs (what they wrote so far stays). */
  release(ctx: CallContext): void {
    for (const run of this.runs.values()) if (run.ctx === ctx && run.state === 'running') this.finish(run, 'cancelled');
  }

  shutdown(): void {
    for (const run of this.runs.values()) if (run.state === 'running') this.finish(run, 'cancelled');
  }
}
