/**
 * The dqlite offline rebuild from the UI (`dqlite.rebuild.*`): the same work as
 * `lifeboat salvage DQLITE_DIR --out DIR` (dqlite-rebuild.ts), run in a worker
 * thread over the local directory a finished dqlite validation read (a path,
 * a sample, or a copy-out). The client names the job, never the input; the
 * output is a new or empty folder on this machine, in web mode only inside
 * the copies folder (output-runs.ts). The input is only ever read.
 *
 * One instance per composition root (core-handlers.ts `createAllHandlers`).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { DqliteRebuildPlan } from '../../shared/contract/dqlite-rebuild';
import type { LocalText } from '../../shared/contract/text';
import { ApiError } from './api-error';
import { FRESH_BACKEND_ARCHIVE } from '../../shared/formats/dqlite/fresh-backend';
import { chooseOutputPath, confinedOutput, freshFolder, newOutputFolder, OutputRuns, refuseInsideInput } from './output-runs';
import type { CallContext, PartialHandlers } from './registry';
import type { ResolvedSource, ValidationService } from './validation-service';

export interface DqliteRebuildServiceOptions {
  validation: ValidationService;
  /** Web mode: outputs go only below this folder (the copies folder, LIFEBOAT_COPIES_DIR). */
  outputRoot: () => string;
  /** Desktop only: the native folder dialog (main.ts); absent in web mode and the CLI. */
  chooseOutput?: (kind: 'file' | 'dir', suggested: string) => Promise<string | null>;
}

/** The output folder's own name inside the proposed salvage folder. */
const OUTPUT_NAME = 'dqlite-rebuilt';

/** English refusals (the UI shows the translated `refusalText`). */
const REFUSALS: Readonly<Record<string, string>> = {
  'dqliteRebuildUi.refuse.remote':
    'The rebuild needs the whole directory on this machine, and this one is read in place on the node: copy it out first (Nodes → Copy out), then rebuild the copy.',
};

export class DqliteRebuildService {
  readonly handlers: PartialHandlers;
  private readonly runs = new OutputRuns<'rebuild'>(
    {
      progress: (ctx, rebuildId, progress) => ctx.emit('dqlite.rebuild.progress', { rebuildId, progress }),
      failed: (ctx, rebuildId, failure) => ctx.emit('dqlite.rebuild.failed', { rebuildId, ...failure }),
    },
    // The folder as it was left: its `.part` files say which database was being written.
    (run) => [run.output],
  );
  private closed = false;

  constructor(private readonly opts: DqliteRebuildServiceOptions) {
    this.handlers = {
      'dqlite.rebuild.plan': async (params, ctx) => this.plan(((params ?? {}) as { jobId?: unknown }).jobId, ctx),
      'dqlite.rebuild.choose': async (params, ctx) => this.chooseOutput(((params ?? {}) as { suggestedPath?: unknown }).suggestedPath, ctx),
      'dqlite.rebuild.start': async (params, ctx) => {
        const p = ((params as unknown) ?? {}) as { jobId?: unknown; outputPath?: unknown };
        return this.start(p.jobId, p.outputPath, ctx);
      },
      'dqlite.rebuild.cancel': async (params, ctx) => this.runs.cancel(((params ?? {}) as { rebuildId?: unknown }).rebuildId, ctx),
    };
  }

  private checkedSource(jobId: unknown, ctx: CallContext): { source: ResolvedSource; display: string } {
    const job = this.opts.validation.finishedJob(jobId, ctx);
    // Contract: the panel is offered on dqlite reports only.
    if (job.report.engine !== 'dqlite' || !job.report.dqlite) throw new ApiError('not-dqlite', 'this validation is not of a dqlite data directory');
    return { source: job.source, display: job.source.kind === 'remote' ? job.report.root || job.source.path : job.source.path };
  }

  private static refusal(source: ResolvedSource): LocalText | null {
    return source.kind === 'remote' ? { key: 'dqliteRebuildUi.refuse.remote' } : null;
  }

  plan(jobId: unknown, ctx: CallContext): DqliteRebuildPlan {
    const { source, display } = this.checkedSource(jobId, ctx);
    const root = path.resolve(this.opts.outputRoot());
    const refusalText = DqliteRebuildService.refusal(source);
    return {
      input: display,
      defaultOutput: path.join(newOutputFolder(root, source, 'dqlite'), OUTPUT_NAME),
      outputRoot: ctx.transport === 'web' ? root : null,
      canChooseWithDialog: ctx.transport === 'electron' && this.opts.chooseOutput !== undefined,
      refusal: refusalText ? REFUSALS[refusalText.key]! : null,
      ...(refusalText ? { refusalText } : {}),
    };
  }

  async chooseOutput(suggested: unknown, ctx: CallContext): Promise<{ path: string | null }> {
    return await chooseOutputPath(ctx, this.opts.chooseOutput, 'dir', suggested, OUTPUT_NAME);
  }

  async start(jobId: unknown, outputPath: unknown, ctx: CallContext): Promise<{ rebuildId: string }> {
    if (this.closed) throw ApiError.localized('closed', 'apiError.repair.closed');
    const confined = await confinedOutput(outputPath, ctx, this.opts.outputRoot());
    const { source, display } = this.checkedSource(jobId, ctx);
    const refused = DqliteRebuildService.refusal(source);
    if (refused || source.kind !== 'local') throw ApiError.localized('unsupported', refused?.key ?? 'dqliteRebuildUi.refuse.remote');
    this.runs.checkCapacity();
    refuseInsideInput(confined, source);
    const output = await freshFolder(confined);
    const handle = await this.opts.validation.sourceWorker(jobId as string, ctx, () => ({ type: 'dqlite-rebuild', path: source.path, outDir: output }));
    const run = this.runs.launch(ctx, 'rebuild', output, handle, (msg, run) => {
      if (msg.type !== 'dqlite-rebuild') return false;
      ctx.emit('dqlite.rebuild.done', { rebuildId: run.id, report: { ...msg.report, input: display } });
      return true;
    });
    return { rebuildId: run.id };
  }

  /** The fresh backends this client's finished rebuilds packed (`<output>/backend.tar`, when one was written), oldest first. */
  rebuiltBackends(ctx: CallContext): string[] {
    return this.runs
      .finishedOutputs(ctx, 'rebuild')
      .map((out) => path.join(out, FRESH_BACKEND_ARCHIVE))
      .filter((f) => existsSync(f));
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
