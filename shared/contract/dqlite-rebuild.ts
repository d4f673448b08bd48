/**
 * The dqlite offline rebuild from the UI (`dqlite.rebuild.*`): the same work as
 * `lifeboat salvage DQLITE_DIR --out DIR` (electron/services/dqlite-rebuild.ts),
 * run in a worker thread over the source a finished dqlite validation read.
 * The client names the job, never the input; the output is a new or empty
 * folder on this machine (path rules in path-rules.ts: web mode only inside
 * the copies folder).
 */
import type { DqliteRebuildReport } from './dqlite';
import type { ErrorText } from './error-text';
import type { LocalText } from './text';
import type { Progress } from './progress';

/** What a rebuild of a finished validation job's source would read and write (nothing runs yet). */
export interface DqliteRebuildPlan {
  /** What is read: a local path (a node's directory must be copied out first). */
  input: string;
  /** A proposed new folder. */
  defaultOutput: string;
  /** Web mode: the output must be inside this folder (the copies folder); null when any path may be chosen. */
  outputRoot: string | null;
  /** A native folder dialog is available (`dqlite.rebuild.choose`): desktop only. */
  canChooseWithDialog: boolean;
  /** Why this source cannot be rebuilt here (read in place on a node), null when it can. */
  refusal: string | null;
  refusalText?: LocalText;
}

export interface DqliteRebuildMethods {
  'dqlite.rebuild.plan': { params: { jobId: string }; result: DqliteRebuildPlan };
  /** Desktop only: the native folder dialog; the output is a new folder inside the one picked. Null when cancelled. */
  'dqlite.rebuild.choose': { params: { suggestedPath?: string }; result: { path: string | null } };
  /** Runs in a worker thread; progress/done/failed arrive as `dqlite.rebuild.*` events. */
  'dqlite.rebuild.start': { params: { jobId: string; outputPath: string }; result: { rebuildId: string } };
  'dqlite.rebuild.cancel': { params: { rebuildId: string }; result: { cancelled: boolean } };
}

export interface DqliteRebuildEvents {
  'dqlite.rebuild.progress': { rebuildId: string; progress: Progress };
  /** `report.input` is what the plan showed; `report.output` the folder written. */
  'dqlite.rebuild.done': { rebuildId: string; report: DqliteRebuildReport };
  /** `partial`: the folder as the run left it (its `.part` files), never deleted. */
  'dqlite.rebuild.failed': { rebuildId: string; error: string; errorText?: ErrorText; cancelled: boolean; partial?: string };
}
