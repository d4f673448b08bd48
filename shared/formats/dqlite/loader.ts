/**
 * A model of libraft's start-up load (`raft:uv.c` uvLoadSnapshotAndEntries,
 * uvFilterSegments; `raft:uv_segment.c` uvSegmentLoadAll and auto-recovery),
 * run over scans of the files instead of the files themselves. It applies the
 * same side effects to a virtual directory (open segments finalised or
 * deleted, corrupt segments renamed) because the one retry libraft makes
 * after RAFT_CORRUPT sees the directory as the first pass left it.
 */
import type { LoaderRole, LostRange } from '../../contract/dqlite';
import { closedSegmentName } from './segment-name';
import { libraftSegmentOrder } from './segment-order';
import { entriesAfterFailure, interpretClosed, interpretOpen, type OpenDeletedReason, type SegmentScan } from './segment';
import type { LocalText } from '../../contract/text';
import type { DqliteTextKey } from '../../i18n/dqlite-text';
import { say, type Said } from './say';

const DELETED_TEXT: Record<OpenDeletedReason, DqliteTextKey> = {
  'empty file': 'dqlite.narrative.open-deleted.empty',
  'never written (all zeros)': 'dqlite.narrative.open-deleted.zeros',
  'no valid batch': 'dqlite.narrative.open-deleted.no-batch',
};
import type { EngineErrorKind, SnapshotMetaCheck } from './snapshot-meta';
import type { SnapshotDataCheck } from './snapshot-data';

export interface SimSegment {
  /** Name in the directory now. */
  name: string;
  kind: 'closed' | 'open';
  first: number | null;
  last: number | null;
  counter: number | null;
  scan: SegmentScan;
}

export interface SimSnapshot {
  metaName: string;
  dataName: string;
  term: number;
  index: number;
  timestamp: number;
  dataSize: number;
  meta: SnapshotMetaCheck;
  data: SnapshotDataCheck | null;
}

export interface LoaderFatal {
  kind: EngineErrorKind;
  code: string;
  /** libraft's io error text (what follows `raft_start(): io: `). */
  text: string;
  file: string | null;
  offset: number | null;
  crash: boolean;
}

export interface LoaderResult {
  startable: boolean;
  fatal: LoaderFatal | null;
  chosenSnapshot: SimSnapshot | null;
  /** The first index of the log in the last attempt (also when it fails); 0 when it failed before settling on one. See LoaderDecision. */
  startIndex: number;
  /** Index of the last entry loaded, when start-up succeeds (the snapshot index when no entry follows it); else null. */
  lastIndex: number | null;
  /**
   * The highest index the last attempt held before it stopped (the snapshot's,
   * then each loaded segment's last entry); null when it held nothing. Known
   * also when start-up fails, so "how far it got" can be shown.
   */
  reachedIndex: number | null;
  /** Keyed by the original file name. */
  roles: Map<string, LoaderRole>;
  /** Index range each segment was loaded as (open segments: inferred). */
  ranges: Map<string, { first: number; last: number | null }>;
  renamed: string[];
  lost: LostRange[];
  narrative: string[];
  /** `narrative` as catalog keys + params (same order). */
  narrativeText: LocalText[];
  /** Open segments loaded at indexes that may not be theirs (an earlier open segment lost entries). */
  indexShift: string[];
  passes: number;
}

interface VFile extends SimSegment {
  orig: string;
  /** Set when an open segment was finalised by the first pass: it now loads as a clean closed segment. */
  finalisedEntries?: number;
}

type PassResult =
  { ok: true; start: number; n: number; snapshot: SimSnapshot | null } | { ok: false; start: number; fatal: LoaderFatal; snapshot: SimSnapshot | null };

function cmpSnap(a: SimSnapshot, b: SimSnapshot): number {
  if (a.term !== b.term) return a.term < b.term ? -1 : 1;
  if (a.index !== b.index) return a.index < b.index ? -1 : 1;
  return a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0;
}

/** The snapshot libraft loads: newest (term, index, ts) whose data file exists and is non-empty. */
export function chooseSnapshot(snapshots: SimSnapshot[]): SimSnapshot | null {
  const usable = snapshots.filter((s) => s.dataSize > 0).sort(cmpSnap);
  return usable.length ? usable[usable.length - 1] : null;
}

export type FilterResult =
  { ok: true; kept: SimSegment[]; ignored: SimSegment[]; note: Said | null } | { ok: false; text: string; file: string; ignored: SimSegment[] };

/** uvFilterSegments over a sorted list (closed first, then open). */
export function filterSegments<T extends SimSegment>(sorted: T[], snapIndex: number, snapName: string): FilterResult {
  if (sorted.length === 0 || sorted[0].kind === 'open') return { ok: true, kept: sorted, ignored: [], note: null };
  let j = 0;
  while (j < sorted.length && sorted[j].kind === 'closed') j++;
  j--;
  const newest = sorted[j];
  let note: Said | null = null;
  if ((newest.last ?? 0) < snapIndex) {
    if (sorted[sorted.length - 1].kind !== 'open') {
      return {
        ok: true,
        kept: [],
        ignored: sorted,
        note: say('dqlite.narrative.all-ignored', { file: newest.name, index: snapIndex }),
      };
    }
    note = say('dqlite.narrative.keep-all', { file: newest.name, index: snapIndex });
  }
  let i = j;
  while (i > 0) {
    const newer = sorted[i];
    const older = sorted[i - 1];
    if ((older.last ?? 0) !== (newer.first ?? 0) - 1) break;
    i--;
  }
  const first = sorted[i];
  if ((first.first ?? 0) > snapIndex + 1) {
    return { ok: false, text: `closed segment ${first.name} is past last snapshot ${snapName}`, file: first.name, ignored: sorted.slice(0, i) };
  }
  return { ok: true, kept: sorted.slice(i), ignored: sorted.slice(0, i), note };
}

/** The order libraft lists and sorts the directory in (strcmp listing, then its qsort). */
function sortFiles(files: VFile[]): VFile[] {
  return libraftSegmentOrder(files);
}

export function simulateLoad(segments: SimSegment[], snapshots: SimSnapshot[], autoRecovery = true): LoaderResult {
  const dir = new Map<string, VFile>();
  for (const s of segments) dir.set(s.name, { ...s, orig: s.name });
  const roles = new Map<string, LoaderRole>();
  const ranges = new Map<string, { first: number; last: number | null }>();
  for (const s of segments) roles.set(s.name, 'not-read');
  const renamed: string[] = [];
  const lost: LostRange[] = [];
  const narrative: string[] = [];
  const narrativeText: LocalText[] = [];
  // The retry pass repeats most of the first one: its sentences are held back and only
  // those that differ from the first pass are told (libraft's retry is said once).
  let retryPass: Said[] | null = null;
  const said: Said[] = [];
  const tell = (s: Said) => {
    if (retryPass) retryPass.push(s);
    else said.push(s);
  };
  const indexShift: string[] = [];
  let lostOpenEntries = false;

  const snapshot = chooseSnapshot(snapshots);
  const loseRange = (file: string, first: number, count: number, reason: string) => {
    if (count <= 0) return;
    lost.push({ file, first, last: first + count - 1, coveredBySnapshot: false, reason });
  };

  let reached: number | null = null;
  const pass = (depth: number): PassResult => {
    reached = null;
    const list = sortFiles([...dir.values()]);
    // 0 until the snapshot is loaded and the segments are filtered (a failure before that has no start index).
    let start = snapshot ? 0 : 1;
    if (snapshot) {
      tell(say(depth ? 'dqlite.narrative.snapshot.retry' : 'dqlite.narrative.snapshot', { file: snapshot.dataName, index: snapshot.index }));
      if (!snapshot.meta.ok) {
        return {
          ok: false,
          start,
          snapshot,
          fatal: {
            kind: snapshot.meta.kind,
            code: snapshot.meta.code,
            text: snapshot.meta.engineError ?? (snapshot.meta.kind === 'malformed' ? 'encoded data is malformed' : 'persisted data is corrupted'),
            file: snapshot.metaName,
            offset: snapshot.meta.offset,
            crash: false,
          },
        };
      }
      if (snapshot.data && !snapshot.data.ok) {
        return {
          ok: false,
          start,
          snapshot,
          fatal: {
            kind: 'ioerr',
            code: 'snapshot.data-lz4',
            text: snapshot.data.engineError ?? 'LZ4F_decompress ERROR_GENERIC',
            file: snapshot.dataName,
            offset: snapshot.data.errorOffset,
            crash: false,
          },
        };
      }
      reached = snapshot.index;
      const f = filterSegments(list, snapshot.index, snapshot.dataName);
      for (const s of f.ignored) roles.set((s as VFile).orig, 'ignored');
      if (!f.ok)
        return { ok: false, start, snapshot, fatal: { kind: 'corrupt', code: 'loader.past-snapshot', text: f.text, file: f.file, offset: null, crash: false } };
      if (f.note) tell(f.note);
      if (f.ignored.length) {
        tell(
          say('dqlite.narrative.ignored', {
            count: f.ignored.length,
            files: `${f.ignored[0].name}${f.ignored.length > 1 ? ` … ${f.ignored[f.ignored.length - 1].name}` : ''}`,
          }),
        );
      }
      // Not splice(...spread): a backend can hold more segments than a call takes arguments.
      const kept = f.kept.slice() as VFile[]; // may be `list` itself
      list.length = 0;
      for (const k of kept) list.push(k);
      start = list.length && list[0].kind === 'closed' ? (list[0].first ?? 1) : snapshot.index + 1;
    } else {
      tell(say(depth ? 'dqlite.narrative.no-snapshot.retry' : 'dqlite.narrative.no-snapshot'));
    }
    if (list.length === 0) {
      tell(say('dqlite.narrative.no-segments', { start }));
      return { ok: true, start, n: 0, snapshot };
    }
    tell(say('dqlite.narrative.loading', { start, count: list.length }));
    let next = start;
    let n = 0;
    const recover = (i: number, firstLostIndex: number) => {
      if (!autoRecovery) return;
      let idx = firstLostIndex;
      // Open segments were written after the newest closed segment on disk, whatever order the sort put them in.
      let newestClosed = 0;
      for (const x of dir.values()) if (x.kind === 'closed') newestClosed = Math.max(newestClosed, x.last ?? 0);
      for (let k = i; k < list.length; k++) {
        const v = list[k];
        dir.delete(v.name);
        renamed.push(v.orig);
        roles.set(v.orig, 'renamed-corrupt');
        const named = (v.last ?? 0) - (v.first ?? 0) + 1;
        // A clean file holding fewer entries than its name only loses what it holds.
        const closedCount = v.scan.failure === null && v.scan.format === 1n ? Math.min(v.scan.entries, named) : named;
        const count = v.finalisedEntries ?? (v.kind === 'closed' ? closedCount : v.scan.entries + (v.scan.later ? entriesAfterFailure(v.scan).count : 0));
        if (v.kind === 'open') idx = Math.max(idx, newestClosed + 1);
        const first = v.kind === 'closed' ? (v.first ?? idx) : idx;
        loseRange(v.orig, first, count, `auto-recovery renames ${v.name} to corrupt-<ns>-${v.name}`);
        idx = first + Math.max(count, 0);
      }
      tell(
        say('dqlite.narrative.renames', {
          count: list.length - i,
          files: list
            .slice(i)
            .map((v) => v.name)
            .join(', '),
        }),
      );
    };
    for (let i = 0; i < list.length; i++) {
      const v = list[i];
      if (v.kind === 'open') {
        const r = interpretOpen(v.scan);
        if (r.outcome === 'deleted') {
          dir.delete(v.name);
          roles.set(v.orig, 'deleted');
          if (v.scan.later) {
            const after = entriesAfterFailure(v.scan);
            loseRange(
              v.orig,
              next,
              after.count,
              `${v.name} has no valid first batch and is deleted, though valid batches follow${after.exact ? '' : ' (at least this many entries)'}`,
            );
            lostOpenEntries = true;
          }
          tell(say(DELETED_TEXT[r.reason], { file: v.name }));
          continue;
        }
        if (r.outcome === 'fatal') {
          roles.set(v.orig, 'fails');
          const fatal: LoaderFatal = {
            kind: r.kind,
            code: r.code,
            text: `load open segment ${v.name}: ${r.text}`,
            file: v.orig,
            offset: r.offset,
            crash: r.crash,
          };
          if (r.kind === 'corrupt') recover(i, next);
          return { ok: false, start, snapshot, fatal };
        }
        if (lostOpenEntries) indexShift.push(v.orig);
        const newName = closedSegmentName(next, next + r.entries - 1);
        ranges.set(v.orig, { first: next, last: next + r.entries - 1 });
        if (r.truncated && (v.scan.later || v.scan.nonZeroTail)) {
          if (v.scan.later) {
            // The bad batch's own entries are lost too, not only the valid batches after it.
            const after = entriesAfterFailure(v.scan);
            loseRange(
              v.orig,
              next + r.entries,
              after.count,
              `${v.name} is truncated at byte ${v.scan.validBytes} (bad batch); it and the valid batches after it are cut off${after.exact ? '' : ' (at least this many entries)'}`,
            );
            lostOpenEntries = true;
          }
          roles.set(v.orig, 'truncated');
          tell(say('dqlite.narrative.open-truncated', { file: v.name, offset: v.scan.validBytes, newName }));
        } else {
          roles.set(v.orig, 'loaded');
          tell(say('dqlite.narrative.open-closed', { file: v.name, entries: r.entries, newName }));
        }
        dir.delete(v.name);
        const fin: VFile = { ...v, name: newName, kind: 'closed', first: next, last: next + r.entries - 1, counter: null, finalisedEntries: r.entries };
        dir.set(newName, fin);
        list[i] = fin;
        next += r.entries;
        n += r.entries;
        if (r.entries > 0) reached = Math.max(reached ?? 0, next - 1);
        continue;
      }
      if ((v.first ?? 0) !== next) {
        roles.set(v.orig, 'fails');
        return {
          ok: false,
          start,
          snapshot,
          fatal: {
            kind: 'corrupt',
            code: 'loader.unexpected-segment',
            text: `unexpected closed segment ${v.name}: first index should have been ${next}`,
            file: v.orig,
            offset: null,
            crash: false,
          },
        };
      }
      if ((v.first ?? 0) > (v.last ?? 0)) {
        roles.set(v.orig, 'fails');
        return {
          ok: false,
          start,
          snapshot,
          fatal: {
            kind: 'corrupt',
            code: 'segment.name-range',
            text: `assertion failure: ${v.name} has first > last`,
            file: v.orig,
            offset: null,
            crash: true,
          },
        };
      }
      const r = v.finalisedEntries !== undefined ? ({ ok: true, entries: v.finalisedEntries } as const) : interpretClosed(v.first ?? 0, v.last ?? 0, v.scan);
      if (!r.ok) {
        roles.set(v.orig, 'fails');
        const fatal: LoaderFatal = {
          kind: r.kind,
          code: r.code,
          text: `load closed segment ${v.name}: ${r.text}`,
          file: v.orig,
          offset: r.offset,
          crash: r.crash ?? false,
        };
        const isLastClosed = i + 1 === list.length || list[i + 1].kind === 'open';
        if (r.kind === 'corrupt' && isLastClosed) recover(i, v.first ?? next);
        else if (r.kind === 'corrupt') tell(say('dqlite.narrative.not-last-closed', { file: v.name }));
        return { ok: false, start, snapshot, fatal };
      }
      roles.set(v.orig, 'loaded');
      ranges.set(v.orig, { first: v.first ?? 0, last: v.last ?? 0 });
      next += r.entries;
      n += r.entries;
      if (r.entries > 0) reached = Math.max(reached ?? 0, next - 1);
    }
    if (snapshot && start + n - 1 < snapshot.index) {
      return {
        ok: false,
        start,
        snapshot,
        fatal: {
          kind: 'corrupt',
          code: 'loader.behind-snapshot',
          text: `last entry on disk has index ${start + n - 1}, which is behind last snapshot's index ${snapshot.index}`,
          file: null,
          offset: null,
          crash: false,
        },
      };
    }
    return { ok: true, start, n, snapshot };
  };

  let passes = 1;
  let r = pass(0);
  if (!r.ok && !r.fatal.crash && r.fatal.kind === 'corrupt' && autoRecovery) {
    tell(say('dqlite.narrative.retry', { error: r.fatal.text }));
    passes = 2;
    // Roles of the retry replace those of the first pass, except files already renamed/deleted/finalised.
    for (const [k, role] of roles) if (role === 'fails' || role === 'ignored') roles.set(k, 'not-read');
    const firstPass = said.slice();
    retryPass = [];
    r = pass(1);
    const seen = new Set(firstPass.map(sameStep));
    const news = retryPass.filter((x) => !seen.has(sameStep(x)));
    retryPass = null;
    if (news.length) for (const x of news) tell(x);
    else tell(say('dqlite.narrative.retry.same'));
  }
  const snapIndex = snapshot?.index ?? 0;
  for (const l of lost) l.coveredBySnapshot = l.last <= snapIndex;
  const told = () => {
    for (const x of said) {
      narrative.push(x.text);
      narrativeText.push(x.local);
    }
  };
  const last = !r.ok ? null : r.n > 0 ? r.start + r.n - 1 : snapshot ? snapshot.index : null;
  if (r.ok) {
    tell(
      snapshot && r.n === 0
        ? say('dqlite.narrative.succeeds.snapshot-only', { snapshot: snapshot.index })
        : snapshot
          ? say('dqlite.narrative.succeeds.snapshot', { first: r.start, last: last ?? '-', snapshot: snapshot.index })
          : say('dqlite.narrative.succeeds', { first: r.start, last: last ?? '-' }),
    );
  } else {
    tell(say(r.fatal.crash ? 'dqlite.narrative.crashes' : 'dqlite.narrative.fails', { error: r.fatal.text }));
  }
  told();
  return {
    startable: r.ok,
    fatal: r.ok ? null : r.fatal,
    chosenSnapshot: snapshot,
    startIndex: r.start,
    lastIndex: last,
    reachedIndex: reached,
    roles,
    ranges,
    renamed,
    lost,
    narrative,
    narrativeText,
    indexShift,
    passes,
  };
}

/** A sentence of the retry pass matches one of the first pass when only the "Retry:" wording differs. */
function sameStep(s: Said): string {
  const key = s.local.key.replace(/\.retry$/, '');
  return `${key}|${JSON.stringify(s.local.params ?? {})}`;
}
