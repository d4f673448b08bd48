/**
 * The kine export from the UI (`kine.export.*`): the same work as
 * `lifeboat salvage STATE.db --out DIR` (kine-export.ts), run in a worker
 * thread over the SQLite database a finished validation found (validate.ts's
 * `engine.sqlite` finding names it): a k3s `state.db` opened on its own, its
 * folder, or that folder read in place on a node (SFTP or sudo). The client
 * names the job, never the input; the output is a new or empty folder on this
 * machine, in web mode only inside the copies folder (output-runs.ts). The
 * input is only ever read.
 *
 * One instance per composition root (core-handlers.ts `createAllHandlers`).
 */
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { KineExportPlan } from '../../shared/contract/kine';
import { ApiError } from './api-error';
import { chooseOutputPath, confinedOutput, freshFolder, newOutputFolder, OutputRuns, refuseInsideInput } from './output-runs';
import type { CallContext, PartialHandlers } from './registry';
import type { ResolvedSource, ValidationService } from './validation-service';
import { stripTrailingSlashes } from '../../shared/text/trailing-slashes';

export interface KineExportServiceOptions {
  validation: ValidationService;
  /** Web mode: outputs go only below this folder (the copies folder, LIFEBOAT_COPIES_DIR). */
  outputRoot: () => string;
  /** Desktop only: the native folder dialog (main.ts); absent in web mode and the CLI. */
  chooseOutput?: (kind: 'file' | 'dir', suggested: string) => Promise<string | null>;
}

/** The output folder's own name inside the proposed salvage folder. */
const OUTPUT_NAME = 'objects';

/** What a finished job's source and report say about the database to export. */
interface KineInput {
  source: ResolvedSource;
  /** The SQLite file's name in the folder read (validate.ts's finding `file`). */
  file: string;
  /** The database as the plan and the result show it. */
  display: string;
  /** Local: the folder holding it; null for a node's folder (the worker reads it through the parent). */
  localDir: string | null;
}

export class KineExportService {
  readonly handlers: PartialHandlers;
  private readonly runs = new OutputRuns<'export'>(
    {
      progress: (ctx, exportId, progress) => ctx.emit('kine.export.progress', { exportId, progress }),
      failed: (ctx, exportId, failure) => ctx.emit('kine.export.failed', { exportId, ...failure }),
    },
    // The folder as it was left: the objects written before the stop.
    (run) => [run.output],
  );
  private closed = false;

  constructor(private readonly opts: KineExportServiceOptions) {
    this.handlers = {
      'kine.export.plan': async (params, ctx) => this.plan(((params ?? {}) as { jobId?: unknown }).jobId, ctx),
      'kine.export.choose': async (params, ctx) => this.chooseOutput(((params ?? {}) as { suggestedPath?: unknown }).suggestedPath, ctx),
      'kine.export.start': async (params, ctx) => {
        const p = ((params as unknown) ?? {}) as { jobId?: unknown; outputPath?: unknown; format?: unknown };
        return this.start(p.jobId, p.outputPath, p.format, ctx);
      },
      'kine.export.cancel': async (params, ctx) => this.runs.cancel(((params ?? {}) as { exportId?: unknown }).exportId, ctx),
    };
  }

  private checkedInput(jobId: unknown, ctx: CallContext): KineInput {
    const job = this.opts.validation.finishedJob(jobId, ctx);
    const finding = job.report.engine === 'unknown' ? job.report.findings.find((f) => f.code === 'engine.sqlite') : undefined;
    const file = finding?.params?.file;
    // Contract: the panel is offered on reports that found a SQLite database; its name is one entry of the folder read.
    if (typeof file !== 'string' || file === '' || file === '.' || file === '..' || /[/\\\0]/.test(file)) {
      throw new ApiError('not-sqlite', 'this validation found no SQLite database');
    }
    const source = job.source;
    if (source.kind === 'remote') {
      const root = stripTrailingSlashes(job.report.root || source.path);
      return { source, file, display: `${root}/${file}`, localDir: null };
    }
    // A lone file was validated as itself (fs-source.ts openLocalTarget), a folder as the folder holding it.
    const isFile = statSync(source.path, { throwIfNoEntry: false })?.isFile() === true;
    const localDir = isFile ? path.dirname(source.path) : source.path;
    return { source, file, display: isFile ? source.path : path.join(source.path, file), localDir };
  }

  plan(jobId: unknown, ctx: CallContext): KineExportPlan {
    const input = this.checkedInput(jobId, ctx);
    const root = path.resolve(this.opts.outputRoot());
    return {
      input: input.display,
      wal: {
        path: `${input.display}-wal`,
        present: input.localDir === null ? null : existsSync(path.join(input.localDir, `${input.file}-wal`)),
      },
      remote: input.source.kind === 'remote',
      defaultOutput: path.join(newOutputFolder(root, input.source, 'kine'), OUTPUT_NAME),
      outputRoot: ctx.transport === 'web' ? root : null,
      canChooseWithDialog: ctx.transport === 'electron' && this.opts.chooseOutput !== undefined,
    };
  }

  async chooseOutput(suggested: unknown, ctx: CallContext): Promise<{ path: string | null }> {
    return await chooseOutputPath(ctx, this.opts.chooseOutput, 'dir', suggested, OUTPUT_NAME);
  }

  async start(jobId: unknown, outputPath: unknown, format: unknown, ctx: CallContext): Promise<{ exportId: string }> {
    if (this.closed) throw ApiError.localized('closed', 'apiError.repair.closed');
    // Contract: the panel's own choice.
    if (format !== undefined && format !== 'yaml' && format !== 'json') throw new ApiError('bad-params', 'format must be yaml or json');
    const confined = await confinedOutput(outputPath, ctx, this.opts.outputRoot());
    const input = this.checkedInput(jobId, ctx);
    this.runs.checkCapacity();
    refuseInsideInput(confined, input.source);
    const output = await freshFolder(confined);
    const common = { file: input.file, display: input.display, outDir: output, format: format ?? 'yaml' } as const;
    const handle = await this.opts.validation.sourceWorker(jobId as string, ctx, (remote) =>
      // Locally the folder is read, not the file alone: a state.db opened on its own still has its WAL beside it.
      input.localDir !== null
        ? { type: 'kine-export', path: input.localDir, ...common }
        : { type: 'kine-export-remote', name: remote?.name ?? input.source.path, ...common },
    );
    const run = this.runs.launch(ctx, 'export', output, handle, (msg, run) => {
      if (msg.type !== 'kine-export') return false;
      ctx.emit('kine.export.done', { exportId: run.id, result: msg.result });
      return true;
    });
    return { exportId: run.id };
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
