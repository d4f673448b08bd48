/** Rows of the file list beside the map: every file the validator saw, one line each. */
import type { MetadataInfo, OtherFile, SegmentInfo, SnapshotInfo } from '../../../../shared/contract/dqlite';
import { segmentTone, snapshotTone, type Tone } from './map-model';

export interface FileRow {
  file: string;
  kind: 'closed' | 'open' | 'snapshot' | 'metadata' | 'other';
  size: number;
  /** Index range text or other short detail (not translated: numbers / names). */
  range: string | null;
  /** A translatable detail instead of `range` (what an "other" file is). */
  detailKey?: string;
  tone: Tone | 'other';
  /** Has a batch table (segments only). */
  hasBatches: boolean;
  findings: number;
}

export function buildFileRows(
  segments: readonly SegmentInfo[],
  snapshots: readonly SnapshotInfo[],
  metadata: readonly MetadataInfo[],
  otherFiles: readonly OtherFile[],
  findingCounts: ReadonlyMap<string, number>,
): FileRow[] {
  const rows: FileRow[] = [];
  for (const s of segments) {
    // A closed segment's name is its range: repeating it would only crowd the name out.
    const range = s.kind === 'open' && s.firstIndex !== null ? `${s.firstIndex}–${s.lastIndex ?? '?'}` : null;
    rows.push({ file: s.file, kind: s.kind, size: s.size, range, tone: segmentTone(s), hasBatches: true, findings: findingCounts.get(s.file) ?? 0 });
  }
  for (const s of snapshots) {
    rows.push({
      file: s.file,
      kind: 'snapshot',
      size: s.dataSize,
      range: `@${s.index}`,
      tone: snapshotTone(s),
      hasBatches: false,
      findings: findingCounts.get(s.file) ?? 0,
    });
  }
  for (const m of metadata) {
    rows.push({
      file: m.file,
      kind: 'metadata',
      size: m.size,
      range: null,
      tone: m.ok ? 'ok' : 'bad',
      hasBatches: false,
      findings: findingCounts.get(m.file) ?? 0,
    });
  }
  for (const o of otherFiles) {
    rows.push({
      file: o.file,
      kind: 'other',
      size: o.size,
      range: o.kind,
      ...(o.role ? { detailKey: `segmentMap.role.${o.role}` } : {}),
      tone: 'other',
      hasBatches: false,
      findings: findingCounts.get(o.file) ?? 0,
    });
  }
  const kindOrder = { closed: 0, open: 1, snapshot: 2, metadata: 3, other: 4 };
  return rows.sort((a, b) => kindOrder[a.kind] - kindOrder[b.kind] || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}
