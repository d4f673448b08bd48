/**
 * The one-line answer an operator needs first: will it start, and at what cost.
 * Derived only from the report's own fields, so the CLI and the UI agree.
 */
import type { LostRange } from '../../../../shared/contract/dqlite';
import { dataLossUnknown, type ValidationReport } from '../../../../shared/contract/report';

export type VerdictKind =
  /** Starts and keeps everything; no errors. */
  | 'healthy'
  /** Starts and keeps everything, but there are warnings worth reading. */
  | 'starts-with-warnings'
  /**
   * etcd starts on it, but the member's cluster will not take it back: its WAL is gone while it is still
   * registered, so raft panics (tocommit out of range) as soon as the leader reaches it.
   */
  | 'starts-then-panics'
  /**
   * etcd starts on it, but is not safe to run: a read kills it, a read serves another key's value or a key's older
   * state, or (a single member whose db is ahead of its WAL) it drops the next writes.
   */
  | 'starts-unsafe'
  /** Starts, but whether it drops committed data cannot be told (the last WAL file was cut short after etcd wrote it). */
  | 'starts-loss-unknown'
  /** Starts, drops entries, but the chosen snapshot already holds them. */
  | 'starts-loss-covered'
  /** Starts by silently dropping entries that exist nowhere else. */
  | 'starts-with-loss'
  /** Would not start. */
  | 'fails'
  /** Not a recognised data directory. */
  | 'unknown';

export interface Verdict {
  kind: VerdictKind;
  tone: 'ok' | 'warn' | 'bad' | 'neutral';
  /** Lost ranges not covered by a snapshot: real data loss. */
  uncovered: LostRange[];
  covered: LostRange[];
  /** Entries in uncovered ranges. */
  uncoveredEntries: number;
  errors: number;
  warnings: number;
}

export function entriesIn(ranges: readonly LostRange[]): number {
  return ranges.reduce((n, r) => n + Math.max(0, r.last - r.first + 1), 0);
}

/** etcd findings that make a member that starts unsafe to run (its reads or writes go wrong). */
const UNSAFE_TO_RUN: readonly string[] = ['etcd.range-cannot-find', 'etcd.read-wrong-value', 'etcd.read-older-state'];

/** Findings that tell a file as what it is (an archive, one compressed file, k3s's SQLite database): the report gives its commands. */
const TOLD_FILE_CODES: readonly string[] = ['engine.archive', 'engine.compressed', 'engine.sqlite'];

/**
 * The finding that tells what a report that is neither engine's holds: a file as what it is, or, with `holds`, a
 * folder holding a data directory one level down (the banner's title says either, not "not recognised").
 */
export function toldFinding(report: ValidationReport, holds = false): ValidationReport['findings'][number] | undefined {
  if (report.engine !== 'unknown') return undefined;
  return report.findings.find((f) => TOLD_FILE_CODES.includes(f.code) || (holds && f.code === 'engine.holds'));
}

export function verdictOf(report: ValidationReport): Verdict {
  const errors = report.findings.filter((f) => f.severity === 'error').length;
  const warnings = report.findings.filter((f) => f.severity === 'warning').length;
  const uncovered = report.lost.filter((r) => !r.coveredBySnapshot);
  const covered = report.lost.filter((r) => r.coveredBySnapshot);
  const base = { uncovered, covered, uncoveredEntries: entriesIn(uncovered), errors, warnings };
  if (report.engine === 'unknown') return { kind: 'unknown', tone: 'neutral', ...base };
  if (!report.startable) return { kind: 'fails', tone: 'bad', ...base };
  if (report.dataLoss && uncovered.length > 0) return { kind: 'starts-with-loss', tone: 'bad', ...base };
  if (report.dataLoss || covered.length > 0) return { kind: 'starts-loss-covered', tone: 'warn', ...base };
  if (dataLossUnknown(report)) return { kind: 'starts-loss-unknown', tone: 'warn', ...base };
  // Before the generic warning: "keeps every entry" would read as safe to start for a member that panics on rejoin.
  if (report.engine === 'etcd' && report.findings.some((f) => f.code === 'cross.member-wal-empty')) return { kind: 'starts-then-panics', tone: 'bad', ...base };
  // A db ahead of the log drops writes on a single member only (in a cluster the leader resends what it lacks).
  const alone = (report.etcd?.schema?.members.length ?? 1) <= 1;
  if (report.engine === 'etcd' && report.findings.some((f) => UNSAFE_TO_RUN.includes(f.code) || (alone && f.code === 'cross.db-ahead-of-wal')))
    return { kind: 'starts-unsafe', tone: 'bad', ...base };
  if (errors > 0 || warnings > 0) return { kind: 'starts-with-warnings', tone: 'warn', ...base };
  return { kind: 'healthy', tone: 'ok', ...base };
}
