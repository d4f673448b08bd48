import type { Finding } from './findings';
import type { DqliteDetails, LostRange } from './dqlite';
import type { LocalText } from './text';
import type { EtcdDetails } from './etcd';

export type Engine = 'dqlite' | 'etcd' | 'unknown';

/** The result of validating one data directory or file. Serialisable (JSON). */
export interface ValidationReport {
  engine: Engine;
  /** Display name of what was validated. */
  root: string;
  /** Would the real engine start on this input as it is? */
  startable: boolean;
  /** It would start only by silently discarding data. */
  dataLoss: boolean;
  /** What would be lost on start (index ranges for dqlite). */
  lost: LostRange[];
  findings: Finding[];
  /** One-paragraph verdict in plain English. */
  summary: string;
  /** `summary` as catalog key + params, for the UI language (set by the dqlite and etcd validators). */
  summaryText?: LocalText;
  bytesRead: number;
  elapsedMs: number;
  dqlite?: DqliteDetails;
  etcd?: EtcdDetails;
}

/** The finding of a last WAL file cut short after etcd wrote it (shared/formats/etcd/startup.ts): what followed its end is unknown. */
export const WAL_CUT_SHORT = 'startup.wal-cut-short';

/**
 * Whether the data the engine would drop cannot be told from the input (a WAL cut short after etcd wrote it):
 * "Data loss on start" reads "unknown" rather than "no" (CLI and verdict banner).
 */
export function dataLossUnknown(report: Pick<ValidationReport, 'dataLoss' | 'findings'>): boolean {
  return !report.dataLoss && report.findings.some((f) => f.code === WAL_CUT_SHORT);
}
