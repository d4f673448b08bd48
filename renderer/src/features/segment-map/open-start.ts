/**
 * Where an open segment's entries sit in the log. `open-N` stores no index (its name is a
 * counter), so libraft numbers its entries as it loads them (uvSegmentLoadAll): open segments
 * come after every closed segment, in counter order, each continuing the index where the one
 * before stopped; the first continues after the newest closed segment or, with no closed
 * segment, after the snapshot (start index 1 without one). This works that out the same way,
 * and says when it cannot be known instead of guessing.
 */
import type { BatchSummary, SegmentInfo, SnapshotInfo } from '../../../../shared/contract/dqlite';
import type { Finding } from '../../../../shared/contract/findings';

export type OpenStart =
  | {
      known: true;
      /** Index of the segment's first entry. */
      first: number;
      /** `loaded`: the loader model placed it (start-up reaches it); otherwise from the files before it. */
      how: 'loaded' | 'after-open' | 'after-closed' | 'after-snapshot' | 'empty-log';
      /** What it continues: the closed segment or snapshot (its last index), or the earlier open segment start-up places (its first). */
      after?: { name: string; last: number };
      /** Earlier open segments whose entries come first. */
      before: { file: string; entries: number }[];
      /** An earlier open segment lost entries: libraft loads these at indexes that may not be their own. */
      shifted: boolean;
    }
  | {
      known: false;
      /** `damaged-before`: an earlier open segment is damaged, so how many entries precede is not known; `no-base`: nothing before it to count from. */
      why: 'damaged-before' | 'no-base';
      file?: string;
    };

/** The open segment `file`'s first index, or why it cannot be known; null for a closed segment. */
export function openSegmentStart(
  file: string,
  segments: readonly SegmentInfo[],
  snapshots: readonly SnapshotInfo[],
  findings: readonly Finding[],
): OpenStart | null {
  const seg = segments.find((s) => s.file === file);
  if (!seg || seg.kind !== 'open') return null;
  const shifted = findings.some(
    (f) =>
      f.code === 'loader.open-index-shift' &&
      (f.file === file ||
        String(f.params?.files ?? '')
          .split(', ')
          .includes(file)),
  );
  if (seg.firstIndex !== null) return { known: true, first: seg.firstIndex, how: 'loaded', before: [], shifted };

  const opens = segments.filter((s) => s.kind === 'open').sort((a, b) => (a.counter ?? 0) - (b.counter ?? 0));
  const closed = segments.filter((s) => s.kind === 'closed' && s.lastIndex !== null);
  let next: number;
  let how: 'after-open' | 'after-closed' | 'after-snapshot' | 'empty-log';
  let after: { name: string; last: number } | undefined;
  if (closed.length > 0) {
    const newest = closed.reduce((a, b) => ((b.lastIndex as number) > (a.lastIndex as number) ? b : a));
    next = (newest.lastIndex as number) + 1;
    how = 'after-closed';
    after = { name: newest.file, last: newest.lastIndex as number };
  } else {
    const chosen = snapshots.find((s) => s.chosen);
    if (chosen) {
      next = chosen.index + 1;
      how = 'after-snapshot';
      after = { name: chosen.file, last: chosen.index };
    } else if (snapshots.length === 0) {
      next = 1;
      how = 'empty-log';
    } else {
      // Snapshots on disk, none usable: libraft would not get this far, and there is nothing to count from.
      return { known: false, why: 'no-base' };
    }
  }
  const before: { file: string; entries: number }[] = [];
  for (const o of opens) {
    if (o.file === file) return { known: true, first: next, how, ...(after ? { after } : {}), before, shifted };
    if (o.firstIndex !== null) {
      // The loader placed this earlier one: count on from there.
      next = o.firstIndex;
      before.length = 0;
      how = 'after-open';
      after = { name: o.file, last: o.firstIndex };
    }
    // Any problem in an earlier open segment (also one start-up never reaches) leaves its entry count in doubt.
    if (o.status !== 'ok' || o.findingCodes.length > 0) return { known: false, why: 'damaged-before', file: o.file };
    next += o.entries;
    if (o.entries > 0) before.push({ file: o.file, entries: o.entries });
  }
  return { known: false, why: 'no-base' };
}

/** Each batch's first index: from the name (closed), or counted on from the open segment's start. */
export function withFirstIndexes(batches: readonly BatchSummary[], start: OpenStart | null): BatchSummary[] {
  if (!start || !start.known) return [...batches];
  let next = start.first;
  return batches.map((b) => {
    if (b.zeroFill) return b;
    const at = next;
    next += b.entries;
    if (b.firstIndex !== null) return b;
    const detail = b.detail ? { ...b.detail, entries: b.detail.entries.map((e, i) => ({ ...e, index: e.index ?? at + i })) } : undefined;
    return { ...b, firstIndex: at, ...(detail ? { detail } : {}) };
  });
}
