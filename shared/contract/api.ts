/**
 * The one typed contract between the renderer and the back end. Every request
 * is `call(method, params) -> result`; the back end pushes events by topic.
 * Two transports carry it unchanged: Electron IPC (preload) and web mode
 * (WebSocket with a token). Feature contracts (SSH, ...) add their methods by
 * extending these maps in their own files and merging below.
 */
import type { ErrorText } from './error-text';
import type { ValidationReport } from './report';
import type { BatchSummary } from './dqlite';
import type { Progress } from './progress';
import type { ListingAnalysis } from './listing';
import type { SshEvents, SshMethods } from './ssh';
import type { GuidedEvents, GuidedMethods } from './guided';
import type { EtcdQuery, EtcdQueryResult } from './etcd';
import type { EtcdRepairEvents, EtcdRepairMethods } from './etcd-repair';
import type { DqliteRebuildEvents, DqliteRebuildMethods } from './dqlite-rebuild';
import type { KineExportEvents, KineExportMethods } from './kine';

export interface AppInfo {
  version: string;
  transport: 'electron' | 'web';
  platform: string;
  /**
   * Whether "This machine" (`ssh.connectLocal`) is on: always in the desktop
   * app; in web mode only when the server was started with `--this-machine`.
   */
  thisMachine: boolean;
}

export interface SampleInfo {
  id: string;
  /** i18n key for the title and the description. */
  titleKey: string;
  descriptionKey: string;
  engine: 'dqlite' | 'etcd';
}

/** Something the back end can validate (the renderer validates dropped files itself, in a Web Worker). */
export type SourceRef =
  | { kind: 'sample'; id: string }
  /**
   * `nodePath`: where this local directory lives (or was copied from) on the
   * node, so the repair plan's commands name that path.
   */
  | { kind: 'local-path'; path: string; nodePath?: string }
  /**
   * A data directory on a node, read in place over that SSH connection's SFTP
   * (read-only, nothing copied); with `sudo`, read as root through read-only
   * sudo commands (`find`, `dd`) instead, for root-only directories.
   */
  | { kind: 'remote'; connectionId: string; path: string; sudo?: boolean }
  /**
   * The local copy a finished `ssh.copyout` job wrote. The back end resolves
   * the path itself, so web mode never validates a path the client named.
   */
  | { kind: 'copy'; jobId: string };

export interface CoreMethods {
  'app.info': { params: Record<string, never>; result: AppInfo };
  'samples.list': { params: Record<string, never>; result: SampleInfo[] };
  /** Starts validation in a worker thread; progress/done/failed arrive as events. */
  'validation.start': { params: { source: SourceRef }; result: { jobId: string } };
  'validation.cancel': { params: { jobId: string }; result: { cancelled: boolean } };
  /** Batches of one segment of a finished job (loaded on demand: there can be millions). */
  /** `detail`: a batch number whose entries and checksums are included (BatchSummary.detail). */
  'validation.batches': { params: { jobId: string; file: string; detail?: number }; result: BatchSummary[] };
  /** Parse a pasted `ls -l` listing (cheap; also done locally by the renderer). */
  'listing.analyze': { params: { text: string }; result: ListingAnalysis };
  /** etcd jobs: WAL records, the page map, one page, keys and values, read on demand from the job's source. */
  'etcd.query': { params: { jobId: string; query: EtcdQuery }; result: EtcdQueryResult };
}

export interface CoreEvents {
  'validation.progress': { jobId: string; progress: Progress };
  'validation.done': { jobId: string; report: ValidationReport };
  'validation.failed': { jobId: string; error: string; cancelled: boolean };
}

// Feature contracts are merged here (import their maps and add them with `&`).
export type ApiMethods = CoreMethods & SshMethods & GuidedMethods & EtcdRepairMethods & DqliteRebuildMethods & KineExportMethods;
export type ApiEvents = CoreEvents & SshEvents & GuidedEvents & EtcdRepairEvents & DqliteRebuildEvents & KineExportEvents;

export type MethodName = keyof ApiMethods;
export type ParamsOf<M extends MethodName> = ApiMethods[M]['params'];
export type ResultOf<M extends MethodName> = ApiMethods[M]['result'];
export type EventName = keyof ApiEvents;

/** What the renderer sees, whatever the transport. */
export interface LifeboatClient {
  call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
  on<E extends EventName>(event: E, handler: (payload: ApiEvents[E]) => void): () => void;
  readonly transport: 'electron' | 'web';
}

export type { ErrorText } from './error-text';

/** Wire messages (WebSocket JSON; IPC uses the same shapes). */
export type WireRequest = { type: 'call'; id: number; method: string; params: unknown };
export type WireResponse =
  { type: 'result'; id: number; result: unknown } | { type: 'error'; id: number; error: { message: string; code?: string; text?: ErrorText } };
export type WireEvent = { type: 'event'; event: string; payload: unknown };

/** The one IPC channel names (preload allow-list). */
export const IPC_CALL = 'lifeboat:call';
export const IPC_EVENT = 'lifeboat:event';
