/**
 * etcd repair, salvage and export from the UI (`etcd.repair.*`): the same
 * work as `lifeboat repair` / `lifeboat salvage` (etcd-repair.ts), run in a
 * worker thread over the source a finished validation job read (a local
 * path, a sample, a copy-out, or a node's directory read in place over SFTP
 * or sudo). The client names the job, never the input; the output is always
 * on this machine and, in web mode, only inside the copies folder (path
 * rules in shared/contract/path-rules.ts). The input is only ever read.
 *
 * One instance per composition root (core-handlers.ts `createAllHandlers`);
 * its runs are keyed by id and belong to the calling context.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, promises as fs, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { isInside, realpathLoose } from './local-path-confine';
import { expandHome } from './home-path';
import type { Worker } from 'node:worker_threads';
import type { EtcdExportFormat, EtcdMemberConfig, EtcdRepairMode, EtcdRepairOutcome, EtcdRepairPlan, SalvageReport } from '../../shared/contract/etcd-repair';
import type { Progress } from '../../shared/contract/progress';
import type { ValidationReport } from '../../shared/contract/report';
import { MAX_CONFIG_BYTES, parseStaticPodManifest, planRestore } from '../../shared/formats/etcd/restore-plan';
import { memberConfigFromReport } from '../../shared/formats/etcd/restore-member';
import { ApiError } from './api-error';
import type { ErrorText } from '../../shared/contract/error-text';
import type { EtcdRepairTask, EtcdRepairWork } from './etcd-repair';
import { QUARANTINE_SUFFIX } from './etcd-repair';
import type { CallContext, PartialHandlers } from './registry';
import type { RemoteSources } from './remote-sources';
import type { ResolvedSource, ValidationService } from './validation-service';
import type { WorkerReply } from './validation-worker';

const MODES: readonly EtcdRepairMode[] = ['repair', 'snapshot', 'export'];
const MAX_PATH = 4096;
/** Runs at once per back end (each reads a whole db and writes as much). */
const MAX_RUNNING = 2;
/** Progress events per run at most every this many ms (~10/s). */
const PROGRESS_INTERVAL_MS = 100;
/** A cancelled worker that does not stop at its next checkpoint is terminated after this. */
const CANCEL_GRACE_MS = 3000;
const MAX_REMEMBERED = 50;

export interface EtcdRepairServiceOptions {
  validation: ValidationService;
  /** Web mode: outputs go only below this folder (the copies folder, LIFEBOAT_COPIES_DIR). */
  outputRoot: () => string;
  /** Desktop only: the native dialog (main.ts); absent in web mode and the CLI. */
  chooseOutput?: (kind: 'file' | 'dir', suggested: string) => Promise<string | null>;
  /** The SSH side (the composition root's SSH service): reads the node's etcd manifest for a source read in place. */
  remote?: RemoteSources;
  /** Where kubeadm keeps etcd's static pod manifest on a node (default /etc/kubernetes/manifests/etcd.yaml; tests point elsewhere). */
  manifestPath?: string;
}

const KUBEADM_MANIFEST = '/etc/kubernetes/manifests/etcd.yaml';

interface Run {
  id: string;
  ctx: CallContext;
  mode: EtcdRepairMode;
  output: string;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  /** Cancel asked: the worker stops at its next checkpoint (or is terminated after the grace period). */
  cancelRequested: boolean;
  close: (() => void) | null;
  worker: Worker | null;
  lastProgressAt: number;
  finishedAt: number;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function parseMode(v: unknown): EtcdRepairMode {
  // Contract: the panel sends one of its modes.
  if (typeof v !== 'string' || !MODES.includes(v as EtcdRepairMode)) throw new ApiError('bad-params', 'mode must be "repair", "snapshot" or "export"');
  return v as EtcdRepairMode;
}

function parseFormat(v: unknown): EtcdExportFormat {
  if (v === undefined) return 'yaml';
  // Contract: the panel sends one of its formats.
  if (v !== 'yaml' && v !== 'json') throw new ApiError('bad-params', 'format must be "yaml" or "json"');
  return v;
}

function localDate(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}-${two(d.getHours())}${two(d.getMinutes())}`;
}

/** A short, safe label for the default output folder: the input's last path component. */
function labelFor(source: ResolvedSource): string {
  const base = path.posix.basename(source.path.replace(/\/+$/, '')) || 'etcd';
  const host = source.kind === 'remote' ? 'node-' : '';
  return `${host}${base}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60);
}

function displayOf(source: ResolvedSource, report: ValidationReport): string {
  if (source.kind === 'remote') return report.root || source.path;
  return source.path;
}

/** What each mode writes, under the chosen output. */
function defaultName(mode: EtcdRepairMode): string {
  return mode === 'snapshot' ? 'snapshot.db' : mode === 'repair' ? 'etcd-data' : 'objects';
}

// ---------------------------------------------------------------- the restore plan's member configuration

/**
 * Where the validated directory is on the node: the path read in place, or
 * the one a copy came from; null for a path on this machine only (the member
 * configuration itself is shared/formats/etcd/restore-member.ts).
 */
function nodePathOf(source: ResolvedSource): string | null {
  return source.kind === 'remote' ? source.path : (source.nodePath?.path ?? null);
}

/** The restore plan for a salvaged snapshot.db: on the node it must be copied there first (it was written here). */
export function restoreOutcome(
  salvage: SalvageReport,
  report: ValidationReport,
  source: ResolvedSource,
  outFile: string,
  known: EtcdMemberConfig | null = null,
): Extract<EtcdRepairOutcome, { mode: 'snapshot' }> {
  // The node's own configuration when it was read and names this member and its data dir; else what the report knows.
  const { member, placeholders } =
    known && known.name && known.dataDir ? { member: known, placeholders: [] } : memberConfigFromReport(report, nodePathOf(source));
  const remote = source.kind === 'remote' || source.nodePath !== undefined;
  const onNode = remote ? `/var/tmp/${path.basename(outFile)}` : outFile;
  if (remote) placeholders.unshift({ token: onNode, about: { key: 'etcdRepairUi.placeholder.snapshotOnNode', params: { local: outFile, node: onNode } } });
  const restore = planRestore({ snapshot: onNode, member, expectedKeys: salvage.keysWritten });
  return { mode: 'snapshot', report: salvage, restore, placeholders, remote: source.kind === 'remote' };
}

// ---------------------------------------------------------------- the service

export class EtcdRepairService {
  readonly handlers: PartialHandlers;
  private readonly runs = new Map<string, Run>();
  private closed = false;

  constructor(private readonly opts: EtcdRepairServiceOptions) {
    this.handlers = {
      'etcd.repair.plan': async (params, ctx) => {
        const p = (params ?? {}) as { jobId?: unknown; mode?: unknown };
        return this.plan(p.jobId, p.mode, ctx);
      },
      'etcd.repair.choose': async (params, ctx) => {
        const p = (params ?? {}) as { mode?: unknown; suggestedPath?: unknown };
        return this.chooseOutput(p.mode, p.suggestedPath, ctx);
      },
      'etcd.repair.start': async (params, ctx) => {
        const p = ((params as unknown) ?? {}) as Record<string, unknown>;
        return this.start(p, ctx);
      },
      'etcd.repair.cancel': async (params, ctx) => {
        const p = (params ?? {}) as { repairId?: unknown };
        return this.cancel(p.repairId, ctx);
      },
    };
  }

  private checkedSource(jobId: unknown, ctx: CallContext): { source: ResolvedSource; report: ValidationReport } {
    const job = this.opts.validation.finishedJob(jobId, ctx);
    // Contract: the panel is offered on etcd reports only.
    if (job.report.engine !== 'etcd' || !job.report.etcd) throw new ApiError('not-etcd', 'this validation is not of an etcd data directory or snapshot.db');
    return job;
  }

  private refusal(mode: EtcdRepairMode, source: ResolvedSource, report: ValidationReport): EtcdRepairPlan['refusalText'] | null {
    if (mode !== 'repair') return null;
    if (source.kind === 'remote') return { key: 'etcdRepairUi.refuse.repairRemote' };
    const kind = report.etcd?.layout.input;
    if (kind !== 'data-dir' && kind !== 'member-dir') return { key: 'etcdRepairUi.refuse.repairFile' };
    return null;
  }

  plan(jobIdParam: unknown, modeParam: unknown, ctx: CallContext): EtcdRepairPlan {
    const mode = parseMode(modeParam);
    const { source, report } = this.checkedSource(jobIdParam, ctx);
    const root = path.resolve(this.opts.outputRoot());
    // A folder no earlier run used (two runs in the same minute get -2, -3, ...).
    const base = path.join(root, `salvage-${labelFor(source)}-${localDate(new Date())}`);
    let folder = base;
    for (let n = 2; existsSync(folder) && n < 1000; n++) folder = `${base}-${n}`;
    const refusalText = this.refusal(mode, source, report);
    return {
      mode,
      input: displayOf(source, report),
      remote: source.kind === 'remote',
      sudo: source.kind === 'remote' && source.sudo,
      defaultOutput: path.join(folder, defaultName(mode)),
      outputRoot: ctx.transport === 'web' ? root : null,
      canChooseWithDialog: ctx.transport === 'electron' && this.opts.chooseOutput !== undefined,
      refusal: refusalText ? REFUSALS[refusalText.key]! : null,
      ...(refusalText ? { refusalText } : {}),
    };
  }

  /** The snapshot.db files `ctx`'s finished salvage runs wrote, oldest first (the guided upload picker offers them). */
  salvagedSnapshots(ctx: CallContext): string[] {
    return [...this.runs.values()].filter((r) => r.ctx === ctx && r.mode === 'snapshot' && r.state === 'done').map((r) => r.output);
  }

  async chooseOutput(modeParam: unknown, suggested: unknown, ctx: CallContext): Promise<{ path: string | null }> {
    const mode = parseMode(modeParam);
    if (ctx.transport !== 'electron' || !this.opts.chooseOutput) {
      throw ApiError.localized('unsupported', 'apiError.repair.noDialogWeb');
    }
    const hint = typeof suggested === 'string' && suggested.length <= MAX_PATH && !suggested.includes('\0') ? suggested : '';
    if (mode === 'snapshot') return { path: await this.opts.chooseOutput('file', hint) };
    // A folder is picked; the output is a new folder inside it, so an existing non-empty folder is never written into.
    const picked = await this.opts.chooseOutput('dir', hint ? path.dirname(hint) : '');
    return { path: picked ? path.join(picked, hint ? path.basename(hint) : defaultName(mode)) : null };
  }

  /**
   * Where this run may write. Desktop: any absolute path. Web mode: only
   * below the copies folder, checked again after symlinks (before the job is
   * even looked up, so a refusal says nothing about either).
   */
  private async confinedOutput(output: unknown, ctx: CallContext): Promise<string> {
    if (typeof output !== 'string' || output.trim() === '' || output.length > MAX_PATH || output.includes('\0')) {
      throw ApiError.localized('bad-params', 'apiError.repair.outputRequired', { max: MAX_PATH });
    }
    const expanded = expandHome(output.trim());
    if (!path.isAbsolute(expanded)) throw ApiError.localized('bad-params', 'apiError.repair.outputNotAbsolute');
    const dest = path.resolve(expanded);
    if (ctx.transport === 'web') {
      const root = path.resolve(this.opts.outputRoot());
      // Neither path is repeated: a refusal must not tell a token holder where things are on this machine.
      if (!isInside(root, dest) || dest === root) {
        throw ApiError.localized('forbidden', 'apiError.repair.outsideCopies');
      }
      await fs.mkdir(root, { recursive: true, mode: 0o700 });
      if (!isInside(realpathSync(root), realpathLoose(dest))) {
        throw ApiError.localized('forbidden', 'apiError.repair.linkOutOfCopies');
      }
    }
    return dest;
  }

  /** Never inside the input, never over an existing file or into a non-empty folder. */
  private async freshOutput(mode: EtcdRepairMode, dest: string, source: ResolvedSource): Promise<string> {
    if (source.kind === 'local') {
      const input = realpathSync(source.path);
      const real = realpathLoose(dest);
      if (isInside(input, real)) throw ApiError.localized('forbidden', 'apiError.repair.insideInput');
    }
    const st = await fs.lstat(dest).catch(() => null);
    if (mode === 'snapshot') {
      if (st) throw ApiError.localized('exists', 'apiError.repair.fileExists', { path: dest });
      if (existsSync(`${dest}.lifeboat-part`)) throw ApiError.localized('exists', 'apiError.repair.partExists', { path: `${dest}.lifeboat-part` });
      await fs.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
      return dest;
    }
    if (st && (!st.isDirectory() || (await fs.readdir(dest)).length > 0)) {
      throw ApiError.localized('exists', 'apiError.repair.folderNotEmpty', { path: dest });
    }
    if (mode === 'repair' && existsSync(`${dest}${QUARANTINE_SUFFIX}`)) {
      throw ApiError.localized('exists', 'apiError.repair.quarantineExists', { path: `${dest}${QUARANTINE_SUFFIX}` });
    }
    await fs.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
    return dest;
  }

  async start(p: Record<string, unknown>, ctx: CallContext): Promise<{ repairId: string }> {
    if (this.closed) throw ApiError.localized('closed', 'apiError.repair.closed');
    const mode = parseMode(p.mode);
    const format = parseFormat(p.format);
    const confined = await this.confinedOutput(p.outputPath, ctx);
    const { source, report } = this.checkedSource(p.jobId, ctx);
    const refused = this.refusal(mode, source, report);
    if (refused) throw ApiError.localized('unsupported', refused.key);
    const running = [...this.runs.values()].filter((r) => r.state === 'running').length;
    if (running >= MAX_RUNNING) throw ApiError.localized('busy', 'apiError.repair.busy', { running });
    const output = await this.freshOutput(mode, confined, source);
    const task: EtcdRepairTask = { mode, output, format, display: displayOf(source, report) };
    const run: Run = {
      id: randomUUID(),
      ctx,
      mode,
      output,
      state: 'running',
      cancelRequested: false,
      close: null,
      worker: null,
      lastProgressAt: 0,
      finishedAt: 0,
    };
    const handle = await this.opts.validation.sourceWorker(p.jobId as string, ctx, (remote) =>
      source.kind === 'local' ? { type: 'etcd-repair', path: source.path, task } : { type: 'etcd-repair-remote', name: remote?.name ?? source.path, task },
    );
    const worker = handle.worker;
    run.worker = worker;
    run.close = () => handle.close();
    this.remember(run);
    worker.on('message', (msg: WorkerReply) => {
      if (run.state !== 'running') return;
      if (msg.type === 'progress') this.progress(run, msg.progress);
      else if (msg.type === 'etcd-repair') {
        // Finished before the cancel reached a checkpoint: the output is complete, so it is reported as done.
        const work = msg.work;
        this.finish(run, 'done');
        void this.nodeMemberConfig(work, source, ctx).then((known) =>
          ctx.emit('etcd.repair.done', { repairId: run.id, outcome: this.outcome(work, report, source, output, known) }),
        );
      } else if (msg.type === 'error') this.fail(run, msg.message, msg.cancelled, msg.text);
    });
    worker.on('error', (err) => this.fail(run, `the repair worker crashed: ${errorText(err)}`, false));
    worker.on('exit', (code) => this.fail(run, `the repair worker stopped unexpectedly (exit code ${code})`, false));
    return { repairId: run.id };
  }

  /**
   * For a snapshot salvaged from a node's directory read in place: etcd's
   * static pod manifest on that node, read-only over the same connection
   * (SFTP, or sudo when the source is), so the restore plan uses the
   * member's real flags (name, data dir, cluster, TLS). Null when there is
   * none, it cannot be read, or it describes another data dir.
   */
  private async nodeMemberConfig(work: EtcdRepairWork, source: ResolvedSource, ctx: CallContext): Promise<EtcdMemberConfig | null> {
    if (work.mode !== 'snapshot' || source.kind !== 'remote' || !this.opts.remote) return null;
    const file = this.opts.manifestPath ?? KUBEADM_MANIFEST;
    try {
      const dir = await this.opts.remote.openDirectory(source.connectionId, path.posix.dirname(file), ctx, { sudo: source.sudo });
      try {
        const src = await dir.open(path.posix.basename(file));
        if (src.size > MAX_CONFIG_BYTES) return null;
        const cfg = parseStaticPodManifest(new TextDecoder().decode(await src.read(0, src.size)), file);
        const served = source.path.replace(/\/+$/, '');
        return cfg.dataDir && (cfg.dataDir.replace(/\/+$/, '') === served || `${cfg.dataDir.replace(/\/+$/, '')}/member` === served) ? cfg : null;
      } finally {
        await dir.close();
      }
    } catch {
      return null;
    }
  }

  private outcome(work: EtcdRepairWork, report: ValidationReport, source: ResolvedSource, output: string, known: EtcdMemberConfig | null): EtcdRepairOutcome {
    const remote = source.kind === 'remote';
    if (work.mode === 'snapshot') return restoreOutcome(work.report, report, source, output, known);
    if (work.mode === 'repair') return { mode: 'repair', result: work.result, remote };
    return { mode: 'export', result: work.result, remote };
  }

  private progress(run: Run, progress: Progress): void {
    const now = Date.now();
    if (run.state !== 'running' || run.cancelRequested || now - run.lastProgressAt < PROGRESS_INTERVAL_MS) return;
    run.lastProgressAt = now;
    run.ctx.emit('etcd.repair.progress', { repairId: run.id, progress });
  }

  /** What a failed or cancelled run left behind (never deleted: the operator decides). */
  private partialOf(run: Run): string | undefined {
    const candidates = run.mode === 'snapshot' ? [`${run.output}.lifeboat-part.failed`, `${run.output}.lifeboat-part`] : [run.output];
    return candidates.find((c) => existsSync(c));
  }

  private fail(run: Run, error: string, cancelled: boolean, errorText?: ErrorText): void {
    if (run.state !== 'running') return;
    const wasCancelled = run.cancelRequested || cancelled;
    this.finish(run, wasCancelled ? 'cancelled' : 'failed');
    const partial = this.partialOf(run);
    run.ctx.emit('etcd.repair.failed', {
      repairId: run.id,
      error: wasCancelled ? 'cancelled' : error,
      ...(errorText && !wasCancelled ? { errorText } : {}),
      cancelled: wasCancelled,
      ...(partial ? { partial } : {}),
    });
  }

  private finish(run: Run, state: Run['state']): void {
    run.state = state;
    run.finishedAt = Date.now();
    const close = run.close;
    run.close = null;
    run.worker = null;
    close?.();
  }

  cancel(repairId: unknown, ctx: CallContext): { cancelled: boolean } {
    // Contract: the id of a run the panel started.
    if (typeof repairId !== 'string') throw new ApiError('bad-params', 'repairId must be a string');
    const run = this.runs.get(repairId);
    if (!run || run.ctx !== ctx || run.state !== 'running' || run.cancelRequested) return { cancelled: false };
    // Ask the worker to stop at its next checkpoint (a snapshot's part file is then renamed .failed);
    // terminate it if it does not within the grace period.
    run.cancelRequested = true;
    run.worker?.postMessage({ type: 'cancel' });
    const timer = setTimeout(() => this.fail(run, 'cancelled', true), CANCEL_GRACE_MS);
    timer.unref();
    return { cancelled: true };
  }

  private remember(run: Run): void {
    this.runs.set(run.id, run);
    const finished = [...this.runs.values()].filter((r) => r.state !== 'running' && r.finishedAt > 0).sort((a, b) => a.finishedAt - b.finishedAt);
    while (finished.length > MAX_REMEMBERED) this.runs.delete(finished.shift()!.id);
  }

  /** A client went away: stop its runs (what they wrote so far stays). */
  release(ctx: CallContext): void {
    for (const run of this.runs.values()) if (run.ctx === ctx && run.state === 'running') this.finish(run, 'cancelled');
  }

  shutdown(): void {
    this.closed = true;
    for (const run of this.runs.values()) if (run.state === 'running') this.finish(run, 'cancelled');
  }
}

/** English refusals (the UI shows the translated `refusalText`). */
const REFUSALS: Readonly<Record<string, string>> = {
  'etcdRepairUi.refuse.repairRemote':
    'A repaired data dir copy needs the whole directory on this machine, and this one is read in place on the node: copy it out first (Nodes → Copy out), or salvage a snapshot.db or the objects from it in place.',
  'etcdRepairUi.refuse.repairFile':
    'A repaired data dir needs a data dir (with member/); this is a lone db or snapshot.db: salvage a snapshot.db from it instead.',
};
