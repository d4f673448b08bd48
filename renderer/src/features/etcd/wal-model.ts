/**
 * The WAL timeline's model: where each WAL file, each snapshot record, the
 * HardState commit and the db's consistent index sit on one raft index axis.
 * Pure, so the placement is tested without a browser.
 */
import type { SnapFileInfo, WalFileInfo, WalInfo, WalRecordSummary } from '../../../../shared/contract/etcd';
import type { LocalText } from '../../../../shared/contract/text';
import type { Locale } from '../../../../shared/i18n/types';

export type WalTone = 'ok' | 'warning' | 'torn' | 'bad' | 'not-read' | 'before-snapshot' | 'empty';

export interface WalBar {
  file: WalFileInfo;
  /** Percent of the axis width. */
  left: number;
  width: number;
  tone: WalTone;
  /** The file holds no entries (a fresh file after a cut, or only metadata). */
  empty: boolean;
}

export type WalMarkerKind = 'commit' | 'consistent-index' | 'snapshot' | 'snap-file' | 'last-index';

export interface WalMarker {
  kind: WalMarkerKind;
  index: number;
  /** Percent of the axis width. */
  at: number;
  /** The file the marker comes from (snapshot record's WAL file, .snap file), when any. */
  file?: string;
}

export interface WalTimelineModel {
  min: number;
  max: number;
  bars: WalBar[];
  markers: WalMarker[];
  /** The db is behind the WAL's last snapshot (etcd: "does not match with snapshot"), or ahead of commit. */
  consistentIndexOutside: boolean;
}

export function toneOf(f: WalFileInfo): WalTone {
  if (f.status === 'bad' || f.role === 'fails') return 'bad';
  if (f.status === 'torn' || f.role === 'repaired') return 'torn';
  if (f.role === 'not-read') return 'not-read';
  if (f.entries === 0) return 'empty';
  if (f.role === 'before-snapshot') return 'before-snapshot';
  if (f.status === 'warning') return 'warning';
  return 'ok';
}

function clampPct(v: number): number {
  return Math.max(0, Math.min(100, v));
}

/**
 * Lay the WAL out. Files without entries get a sliver at their name index,
 * so every file stays clickable; the axis spans every index shown, padded
 * one step on each side.
 */
export function walTimeline(wal: WalInfo, consistentIndex: number | null, snaps: readonly SnapFileInfo[]): WalTimelineModel {
  const points: number[] = [];
  for (const f of wal.files) {
    points.push(f.nameIndex);
    if (f.firstEntryIndex !== null) points.push(f.firstEntryIndex);
    if (f.lastEntryIndex !== null) points.push(f.lastEntryIndex);
  }
  for (const s of wal.snapshots) points.push(s.index);
  for (const s of snaps) points.push(s.index);
  if (wal.hardState) points.push(wal.hardState.commit);
  if (consistentIndex !== null) points.push(consistentIndex);
  if (wal.lastIndex !== null) points.push(wal.lastIndex);
  const finite = points.filter((p) => Number.isFinite(p) && p >= 0);
  const lo = finite.length ? Math.min(...finite) : 0;
  const hi = finite.length ? Math.max(...finite) : 1;
  const pad = Math.max(1, Math.round((hi - lo) * 0.02));
  const min = Math.max(0, lo - pad);
  const max = hi + pad;
  const span = Math.max(1, max - min);
  const at = (i: number): number => clampPct(((i - min) / span) * 100);

  const bars: WalBar[] = wal.files.map((f) => {
    const first = f.firstEntryIndex ?? f.nameIndex;
    const last = f.lastEntryIndex ?? first;
    const empty = f.entries === 0 || f.firstEntryIndex === null;
    const left = at(first);
    // At least a sliver (0.6%) so a one-entry or empty file can be seen and clicked.
    const width = Math.max(0.6, at(last + 1) - left);
    return { file: f, left: Math.min(left, 100 - 0.6), width: Math.min(width, 100 - Math.min(left, 100 - 0.6)), tone: toneOf(f), empty };
  });

  const markers: WalMarker[] = [];
  for (const s of wal.snapshots) markers.push({ kind: 'snapshot', index: s.index, at: at(s.index), file: s.file });
  for (const s of snaps) markers.push({ kind: 'snap-file', index: s.index, at: at(s.index), file: s.file });
  if (wal.hardState) markers.push({ kind: 'commit', index: wal.hardState.commit, at: at(wal.hardState.commit) });
  if (wal.lastIndex !== null) markers.push({ kind: 'last-index', index: wal.lastIndex, at: at(wal.lastIndex) });
  if (consistentIndex !== null) markers.push({ kind: 'consistent-index', index: consistentIndex, at: at(consistentIndex) });

  const newestWalSnap = wal.snapshots.reduce((m, s) => Math.max(m, s.index), 0);
  const commit = wal.hardState?.commit ?? null;
  const consistentIndexOutside =
    consistentIndex !== null && ((newestWalSnap > 0 && consistentIndex < newestWalSnap) || (commit !== null && consistentIndex > commit));
  return { min, max, bars, markers, consistentIndexOutside };
}

/** The record row to open for a file's problem: the last records, where a torn or bad tail is. */
export function problemRecordIndex(f: WalFileInfo): number | null {
  if (f.badOffset === null && f.status !== 'torn' && f.status !== 'bad') return null;
  // `records` counts the records read before the bad one; the bad one is the next row.
  return f.records;
}

/** A raft entry's type as a catalog word (`unknown(N)` keeps its number). */
export function entryTypeText(entryType: NonNullable<WalRecordSummary['entryType']>): LocalText {
  const m = /^unknown\((\d+)\)$/.exec(entryType);
  return m ? { key: 'wal-record.entry-type.unknown', params: { n: Number(m[1]) } } : { key: `wal-record.entry-type.${entryType}` };
}

/**
 * A record's problem line: in English the decoder's own line (it carries the
 * stored and computed numbers), in another language the catalog sentence
 * (etcd's error quoted, the same finding in words).
 */
export function recordProblemText(r: Pick<WalRecordSummary, 'problem' | 'problemText'>, locale: Locale): LocalText | null {
  return locale === 'en' || !r.problemText ? null : r.problemText;
}
