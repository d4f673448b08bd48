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
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { EtcdExportFormat, EtcdMemberConfig, EtcdRepairMode, EtcdRepairOutcome, EtcdRepairPlan, SalvageReport } from '../../shared/contract/etcd-repair';
import type { ValidationReport } from '../../shared/contract/report';
import { MAX_CONFIG_BYTES, parseStaticPodManifest, planRestore } from '../../shared/formats/etcd/restore-plan';
import { memberConfigFromReport } from '../../shared/formats/etcd/restore-member';
import { ApiError } from './api-error';
import type { EtcdRepairTask, EtcdRepairWork } from './etcd-repair';
import { QUARANTINE_SUFFIX } from './etcd-repair';
import { chooseOutputPath, confinedOutput, freshFolder, newOutputFolder, outputParent, OutputRuns, refuseInsideInput } from './output-runs';
import type { CallContext, PartialHandlers } from './registry';
import type { RemoteSources } from './remote-sources';
import type { ResolvedSource, ValidationService } from './validation-service';
import { stripTrailingSlashes } from '../../shared/text/trailing-slashes';

const MODES: readonly EtcdRepairMode[] = ['repair', 'snapshot', 'export'];

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
  private readonly runs = new OutputRuns<EtcdRepairMode>(
    {
      progress: (ctx, repairId, progress) => ctx.emit('etcd.repair.progress', { repairId, progress }),
      failed: (ctx, repairId, failure) => ctx.emit('etcd.repair.failed', { repairId, ...failure }),
    },
    // A snapshot's part file (renamed .failed when the worker stopped itself); a folder as it was left.
    (run) => (run.mode === 'snapshot' ? [`${run.output}.lifeboat-part.failed`, `${run.output}.lifeboat-part`] : [run.output]),
  );
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
        return this.runs.cancel(p.repairId, ctx);
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
    const folder = newOutputFolder(root, source, 'etcd');
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
    return this.runs.finishedOutputs(ctx, 'snapshot');
  }

  async chooseOutput(modeParam: unknown, suggested: unknown, ctx: CallContext): Promise<{ path: string | null }> {
    const mode = parseMode(modeParam);
    return await chooseOutputPath(ctx, this.opts.chooseOutput, mode === 'snapshot' ? 'file' : 'dir', suggested, defaultName(mode));
  }

  /** Never inside the input, never over an existing file or into a non-empty folder. */
  private async freshOutput(mode: EtcdRepairMode, dest: string, source: ResolvedSource): Promise<string> {
    refuseInsideInput(dest, source);
    if (mode === 'snapshot') {
      if (await fs.lstat(dest).catch(() => null)) throw ApiError.localized('exists', 'apiError.repair.fileExists', { path: dest });
      if (existsSync(`${dest}.lifeboat-part`)) throw ApiError.localized('exists', 'apiError.repair.partExists', { path: `${dest}.lifeboat-part` });
      await outputParent(dest);
      return dest;
    }
    if (mode === 'repair' && existsSync(`${dest}${QUARANTINE_SUFFIX}`)) {
      throw ApiError.localized('exists', 'apiError.repair.quarantineExists', { path: `${dest}${QUARANTINE_SUFFIX}` });
    }
    return freshFolder(dest);
  }

  async start(p: Record<string, unknown>, ctx: CallContext): Promise<{ repairId: string }> {
    if (this.closed) throw ApiError.localized('closed', 'apiError.repair.closed');
    const mode = parseMode(p.mode);
    const format = parseFormat(p.format);
    const confined = await confinedOutput(p.outputPath, ctx, this.opts.outputRoot());
    const { source, report } = this.checkedSource(p.jobId, ctx);
    const refused = this.refusal(mode, source, report);
    if (refused) throw ApiError.localized('unsupported', refused.key);
    this.runs.checkCapacity();
    const output = await this.freshOutput(mode, confined, source);
    const task: EtcdRepairTask = { mode, output, format, display: displayOf(source, report) };
    const handle = await this.opts.validation.sourceWorker(p.jobId as string, ctx, (remote) =>
      source.kind === 'local' ? { type: 'etcd-repair', path: source.path, task } : { type: 'etcd-repair-remote', name: remote?.name ?? source.path, task },
    );
    const run = this.runs.launch(ctx, mode, output, handle, (msg, run) => {
      if (msg.type !== 'etcd-repair') return false;
      // Finished before a cancel reached a checkpoint: the output is complete, so it is reported as done.
      const work = msg.work;
      void this.nodeMemberConfig(work, source, ctx).then((known) =>
        ctx.emit('etcd.repair.done', { repairId: run.id, outcome: this.outcome(work, report, source, output, known) }),
      );
      return true;
    });
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
        const served = stripTrailingSlashes(source.path);
        return cfg.dataDir && (stripTrailingSlashes(cfg.dataDir) === served || `${stripTrailingSlashes(cfg.dataDir)}/member` === served) ? cfg : null;
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

  /** A client went away: stop its runs (what they wrote so far stays). */
  release(ctx: CallContext): void {
    this.runs.release(ctx);
  }

  shutdown(): void {
    this.closed = true;
    this.runs.shutdown();
  }
}

/** English refusals (the UI shows the translated `refusalText`). */
const REFUSALS: Readonly<Record<string, string>> = {
  'etcdRepairUi.refuse.repairRemote':
    'A repaired data dir copy needs the whole directory on this machine, and this one is read in place on the node: copy it out first (Nodes → Copy out), or salvage a snapshot.db or the objects from it in place.',
  'etcdRepairUi.refuse.repairFile':
    'A repaired data dir needs a data dir (with member/); this is a lone db or snapshot.db: salvage a snapshot.db from it instead.',
};
