/**
 * A kine table exported as object files (`lifeboat salvage STATE.db --out
 * DIR` for k3s, and the objects of a rebuilt MicroK8s database): produced by
 * electron/services/kine-export.ts over shared/formats/sqlite/.
 */
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
