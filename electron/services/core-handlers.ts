/**
 * The core API handlers and the one dispatcher both transports use. Feature
 * areas (SSH, ...) export their own PartialHandlers; `createAllHandlers` is
 * the single place where the maps are merged.
 */
import type { MethodName } from '../../shared/contract/api';
import type { WireResponse } from '../../shared/contract/api';
import { analyzeListing } from '../../shared/formats/dqlite/listing';
import type { CallContext, Handler, PartialHandlers } from './registry';
import { appVersion, createSampleCatalog, publicSampleInfo, type SampleCatalog } from './samples';
import { ApiError, errorTextOf } from './api-error';
import type { SafeStorageLike } from './secret-store';
import { SshService, type SshServiceOptions } from './ssh/ssh-service';
import { ValidationService } from './validation-service';
import { createGuidedHandlers } from './sessions/guided-handlers';
import { SessionStore, defaultGuidedDir } from './sessions/session-store';
import { playbookById } from '../../shared/guided/playbooks';
import { EtcdRepairService } from './etcd-repair-jobs';
import { DqliteRebuildService } from './dqlite-rebuild-jobs';
import { KineExportService } from './kine-export-jobs';
import { defaultSshServiceConfig } from './ssh/settings';

export { ApiError } from './api-error';

/** A pasted `ls -l` is a few KB; refuse megabytes of paste. */
const MAX_LISTING_CHARS = 4 * 1024 * 1024;

export interface CoreDeps {
  samples: SampleCatalog;
  validation: ValidationService;
  /** "This machine" is on (app.info tells the renderer). */
  thisMachine: boolean;
}

function paramsObject(params: unknown): Record<string, unknown> {
  if (params === undefined || params === null) return {};
  // Contract: the client always sends an object.
  if (typeof params !== 'object' || Array.isArray(params)) throw new ApiError('bad-params', 'params must be an object');
  return params as Record<string, unknown>;
}

export function createCoreHandlers(deps: CoreDeps): PartialHandlers {
  return {
    'app.info': async (_params, ctx) => ({
      version: appVersion(),
      transport: ctx.transport,
      platform: process.platform,
      thisMachine: deps.thisMachine,
    }),
    'samples.list': async () => (await deps.samples.list()).map(publicSampleInfo),
    'validation.start': async (params, ctx) => deps.validation.start(paramsObject(params).source, ctx),
    'validation.cancel': async (params) => deps.validation.cancel(paramsObject(params).jobId),
    'validation.batches': async (params, ctx) => {
      const p = paramsObject(params);
      return deps.validation.batches(p.jobId, p.file, ctx, p.detail);
    },
    'etcd.query': async (params, ctx) => {
      const p = paramsObject(params);
      // The result's type follows the query's kind; the worker produced it from the same union.
      return (await deps.validation.etcdQuery(p.jobId, p.query, ctx)) as never;
    },
    'listing.analyze': async (params) => {
      const { text } = paramsObject(params);
      // Contract: the page sends the pasted text as a string.
      if (typeof text !== 'string') throw new ApiError('bad-params', 'text must be a string');
      if (text.length > MAX_LISTING_CHARS) throw ApiError.localized('too-large', 'apiError.listing.tooLarge');
      return analyzeListing(text);
    },
  };
}

/** Merge feature maps; a method defined twice is a programming error. */
export function mergeHandlers(...parts: PartialHandlers[]): PartialHandlers {
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const part of parts) {
    for (const [name, fn] of Object.entries(part)) {
      if (typeof fn !== 'function') continue;
      if (name in out) throw new Error(`API method ${name} is defined twice`);
      out[name] = fn;
    }
  }
  return out as PartialHandlers;
}

export interface Backend {
  handlers: PartialHandlers;
  validation: ValidationService;
  samples: SampleCatalog;
  ssh: SshService;
  /** Stop workers and sessions (window closed, server closed). */
  shutdown(): Promise<void>;
  /** One client went away: cancel its validations and close its SSH sessions. */
  release(ctx: CallContext): Promise<void>;
}

export interface BackendOptions {
  transport: 'electron' | 'web';
  samplesDir?: string | null;
  workerPath?: string;
  /** Electron's safeStorage (main.ts); absent in web mode and the CLI: "Remember" is refused there. */
  safeStorage?: SafeStorageLike | null;
  /** Paths and session settings for the SSH service (tests); the rest follows the LIFEBOAT_* environment. */
  ssh?: Omit<SshServiceOptions, 'safeStorage'>;
  /** Where guided-session journals live (default `$LIFEBOAT_HOME/guided`). */
  guidedDir?: string;
  /** Electron's native save/folder dialog (main.ts), for where etcd repair and salvage, the dqlite rebuild and the kine export write; absent in web mode. */
  chooseOutput?: (kind: 'file' | 'dir', suggested: string) => Promise<string | null>;
  /** Electron's native open dialog (main.ts), for the file a guided upload step sends to the node; absent in web mode. */
  chooseUploadFile?: () => Promise<string | null>;
  /**
   * Web mode: serve "This machine" too (`lifeboat serve --this-machine`).
   * Off by default there: it gives whoever holds the address a shell as the
   * server's user, past the folders web mode otherwise confines files to.
   * Always on in the desktop app, which is the user's own.
   */
  thisMachine?: boolean;
}

/** Everything both transports serve. Add feature handler maps here. */
export function createAllHandlers(opts: BackendOptions): Backend {
  const samples = createSampleCatalog(opts.samplesDir);
  const thisMachine = opts.transport === 'electron' || opts.thisMachine === true;
  const ssh = new SshService({ ...opts.ssh, safeStorage: opts.safeStorage ?? null, thisMachine });
  const validation = new ValidationService({ transport: opts.transport, samples, workerPath: opts.workerPath, remote: ssh.remoteSources });
  const sessionStore = new SessionStore(opts.guidedDir ?? defaultGuidedDir(), playbookById);
  const copiesRoot = (): string => opts.ssh?.paths?.copiesRoot ?? defaultSshServiceConfig().copiesRoot;
  // Repair and salvage outputs: web mode writes only inside the copies folder, like copy-out.
  const etcdRepair = new EtcdRepairService({
    validation,
    remote: ssh.remoteSources,
    outputRoot: copiesRoot,
    ...(opts.chooseOutput ? { chooseOutput: opts.chooseOutput } : {}),
  });
  const dqliteRebuild = new DqliteRebuildService({ validation, outputRoot: copiesRoot, ...(opts.chooseOutput ? { chooseOutput: opts.chooseOutput } : {}) });
  const kineExport = new KineExportService({ validation, outputRoot: copiesRoot, ...(opts.chooseOutput ? { chooseOutput: opts.chooseOutput } : {}) });
  const guided = createGuidedHandlers({
    ssh,
    store: sessionStore,
    uploadRoot: copiesRoot,
    salvagedOutputs: (ctx) => etcdRepair.salvagedSnapshots(ctx),
    rebuiltBackends: (ctx) => dqliteRebuild.rebuiltBackends(ctx),
    ...(opts.chooseUploadFile ? { chooseUploadFile: opts.chooseUploadFile } : {}),
  });
  const handlers = mergeHandlers(
    createCoreHandlers({ samples, validation, thisMachine }),
    ssh.handlers,
    guided.handlers,
    etcdRepair.handlers,
    dqliteRebuild.handlers,
    kineExport.handlers,
  );
  return {
    handlers,
    validation,
    samples,
    ssh,
    release: async (ctx) => {
      validation.cancelAllFor(ctx);
      etcdRepair.release(ctx);
      dqliteRebuild.release(ctx);
      kineExport.release(ctx);
      guided.release(ctx);
      await ssh.release(ctx);
    },
    shutdown: async () => {
      etcdRepair.shutdown();
      dqliteRebuild.shutdown();
      kineExport.shutdown();
      await Promise.allSettled([validation.shutdown(), ssh.shutdown(), sessionStore.close()]);
    },
  };
}

function hasMethod(handlers: PartialHandlers, method: string): method is MethodName {
  return Object.prototype.hasOwnProperty.call(handlers, method) && typeof (handlers as Record<string, unknown>)[method] === 'function';
}

/**
 * Run one call and turn every outcome into a wire response. Never throws:
 * unknown methods and handler failures become `{ type: 'error' }`.
 */
export async function dispatch(handlers: PartialHandlers, id: number, method: unknown, params: unknown, ctx: CallContext): Promise<WireResponse> {
  if (typeof method !== 'string' || !hasMethod(handlers, method)) {
    return { type: 'error', id, error: { message: `unknown method: ${String(method).slice(0, 100)}`, code: 'unknown-method' } };
  }
  const handler = handlers[method] as Handler<MethodName> | undefined;
  if (!handler) return { type: 'error', id, error: { message: `unknown method: ${method}`, code: 'unknown-method' } };
  try {
    // Params arrive untyped from the wire; every handler validates its own.
    const result = await handler(params as never, ctx);
    return { type: 'result', id, result };
  } catch (err) {
    // A catalog text (key + params) rides along so the renderer can say it in the user's language.
    const text = errorTextOf(err);
    if (err instanceof ApiError) return { type: 'error', id, error: { message: err.message, code: err.code, ...(text ? { text } : {}) } };
    const message = err instanceof Error ? err.message : String(err);
    return { type: 'error', id, error: { message, code: 'internal', ...(text ? { text } : {}) } };
  }
}
