/**
 * A kine table exported as object files (`lifeboat salvage STATE.db --out
 * DIR` for k3s, and the objects of a rebuilt MicroK8s database): produced by
 * electron/services/kine-export.ts over shared/formats/sqlite/.
 */
import type { ErrorText } from './error-text';
import type { Progress } from './progress';

export interface KineExportResult {
  /** The SQLite file read (and its WAL, when one was laid over it). */
  input: string;
  output: string;
  format: 'yaml' | 'json';
  objects: number;
  /** Secrets and encrypted values (written with mode 0600). */
  secrets: number;
  /** Files by resource. */
  resources: Record<string, number>;
  /** kine rows read (every revision of every key). */
  rows: number;
  /** Keys whose newest row is a deletion (not written). */
  deletedKeys: number;
  /** The highest revision read. */
  revision: number | null;
  /** The WAL laid over the database: committed transactions and pages, and why it ended early (null: no WAL). */
  wal: { file: string; commits: number; pages: number; stop: string | null } | null;
  /** Pages or rows that could not be read (each with its page number when known); their keys may be missing. */
  problems: { page: number | null; offset: number | null; why: string }[];
  moreProblems: number;
}

/**
 * The kine export from the UI (`kine.export.*`): the same work as
 * `lifeboat salvage STATE.db --out DIR`, run in a worker thread over the
 * SQLite database a finished validation found (a k3s `state.db`, its folder,
 * or that folder read in place on a node). The client names the job, never
 * the input; the output is a new or empty folder on this machine (path rules
 * in path-rules.ts: web mode only inside the copies folder).
 */
export interface KineExportPlan {
  /** The database read (read-only): a local path, or `user@node:/path` read in place. */
  input: string;
  /**
   * `STATE.db-wal` beside it, laid over it as SQLite's readers do: `present` false when there is none, null when
   * not known before the run reads the node's folder.
   */
  wal: { path: string; present: boolean | null };
  /** Read in place on a node over SSH (the file may change under the read while k3s runs). */
  remote: boolean;
  /** A proposed new folder. */
  defaultOutput: string;
  /** Web mode: the output must be inside this folder (the copies folder); null when any path may be chosen. */
  outputRoot: string | null;
  /** A native folder dialog is available (`kine.export.choose`): desktop only. */
  canChooseWithDialog: boolean;
}

export interface KineExportMethods {
  'kine.export.plan': { params: { jobId: string }; result: KineExportPlan };
  /** Desktop only: the native folder dialog; the output is a new folder inside the one picked. Null when cancelled. */
  'kine.export.choose': { params: { suggestedPath?: string }; result: { path: string | null } };
  /** Runs in a worker thread; progress/done/failed arrive as `kine.export.*` events. */
  'kine.export.start': { params: { jobId: string; outputPath: string; format?: 'yaml' | 'json' }; result: { exportId: string } };
  'kine.export.cancel': { params: { exportId: string }; result: { cancelled: boolean } };
}

export interface KineExportEvents {
  'kine.export.progress': { exportId: string; progress: Progress };
  /** `result.input` is what the plan showed; `result.output` the folder written. */
  'kine.export.done': { exportId: string; result: KineExportResult };
  /** `partial`: the folder as the run left it, never deleted. */
  'kine.export.failed': { exportId: string; error: string; errorText?: ErrorText; cancelled: boolean; partial?: string };
}
