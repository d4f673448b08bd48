/**
 * The smallest safe repair, as shell commands for a MicroK8s node and as
 * file operations that `writeRepairedCopy` applies to a copy. Files are
 * never deleted: they are moved to a quarantine directory next to the
 * backend (`lifeboat-quarantine/`), a segment that is truncated keeps its
 * full original there too, and a metadata file is only written after any
 * original of that name was moved there. Every candidate plan is checked by running the
 * loader model on the directory as it would be after the plan.
 */
import type { BackendLocation, LostRange, RepairPlan, RepairStep } from '../../contract/dqlite';
import type { LocalText } from '../../contract/text';
import { filterSegments, simulateLoad, type LoaderResult, type SimSegment, type SimSnapshot } from './loader';
import { say, type Said } from './say';
import { closedSegmentName } from './segment-name';
import { libraftSegmentOrder } from './segment-order';
import { entriesAfterFailure, interpretClosed, type SegmentScan } from './segment';
import { stripTrailingSlashes } from '../../text/trailing-slashes';

export const MICROK8S_BACKEND = '/var/snap/microk8s/current/var/kubernetes/backend';
export const QUARANTINE_DIR_NAME = 'lifeboat-quarantine';

export type RepairOperation =
  | { op: 'quarantine'; file: string }
  | { op: 'truncate-rename'; file: string; bytes: number; newName: string }
  /** Create `file` with these bytes (metadata only); any original is quarantined by a separate operation first. */
  | { op: 'write'; file: string; bytes: Uint8Array };

export interface PlanInput {
  segments: SimSegment[];
  snapshots: SimSnapshot[];
  /** Operations that make metadata1/metadata2 usable (decided by metadata-startup.ts). */
  metadataOps: RepairOperation[];
  metadataNotes: Said[];
  /** The engine error raised before raft_start (metadata or bootstrap), if any. */
  metadataFatal: string | null;
  /** After metadataOps, metadata loads and no bootstrap is attempted. */
  metadataFixed: boolean;
  loader: LoaderResult;
  /** Timestamp text for the backup name. */
  stamp?: string;
  /** The node directory the commands act on; absent: the MicroK8s default, stated in the plan. */
  backend?: BackendLocation;
}

export interface PlanOutput {
  /** Its summary always has its catalog form (the verdict's `{plan}` says it in the UI language). */
  plan: RepairPlan & { summaryText: LocalText };
  operations: RepairOperation[];
  after: LoaderResult | null;
}

function truncatedScan(scan: SegmentScan, bytes: number, entries: number): SegmentScan {
  return { ...scan, size: bytes, validBytes: bytes, failure: null, entries, nonZeroTail: false, later: null };
}

/** Apply operations to the model (names and scans), for the check run. */
export function applyToModel(segments: SimSegment[], snapshots: SimSnapshot[], ops: RepairOperation[]): { segments: SimSegment[]; snapshots: SimSnapshot[] } {
  const gone = new Set(ops.filter((o) => o.op === 'quarantine').map((o) => o.file));
  // By file, first one wins (as a search of the list would): a backend left to grow has thousands of segments.
  const truncations = new Map<string, Extract<RepairOperation, { op: 'truncate-rename' }>>();
  for (const o of ops) if (o.op === 'truncate-rename' && !truncations.has(o.file)) truncations.set(o.file, o);
  const segs: SimSegment[] = [];
  for (const s of segments) {
    if (gone.has(s.name)) continue;
    const t = truncations.get(s.name);
    if (!t) {
      segs.push(s);
      continue;
    }
    const m = /^(\d{16})-(\d{16})$/.exec(t.newName);
    const entries = m ? Number(m[2]) - Number(m[1]) + 1 : s.scan.entries;
    segs.push({
      ...s,
      name: t.newName,
      kind: m ? 'closed' : s.kind,
      first: m ? Number(m[1]) : s.first,
      last: m ? Number(m[2]) : s.last,
      scan: truncatedScan(s.scan, t.bytes, entries),
    });
  }
  const snaps = snapshots.filter((s) => !gone.has(s.metaName) && !gone.has(s.dataName));
  return { segments: segs, snapshots: snaps };
}

function sorted(segs: SimSegment[]): SimSegment[] {
  return libraftSegmentOrder(segs);
}

/**
 * Index ranges held by `list[from..]` if they were loaded in this order:
 * closed segments by their names, open segments after the entry before them
 * (`next` for the first one). Used to say exactly what a plan drops.
 */
function rangesFrom(list: SimSegment[], from: number, next: number): { file: string; first: number; last: number }[] {
  const out: { file: string; first: number; last: number }[] = [];
  let cursor = next;
  for (const s of list.slice(from)) {
    if (s.kind === 'closed') {
      const first = s.first ?? cursor;
      const last = Math.max(s.last ?? first, first);
      out.push({ file: s.name, first, last });
      cursor = last + 1;
      continue;
    }
    const count = s.scan.entries + (s.scan.later ? entriesAfterFailure(s.scan).count : 0);
    if (count <= 0) continue;
    out.push({ file: s.name, first: cursor, last: cursor + count - 1 });
    cursor += count;
  }
  return out;
}

/**
 * Decide operations step by step: fix the first thing that stops the loader
 * (or makes it drop data), re-run the model, repeat (bounded). Every entry
 * the plan gives up is listed in `lost`, so nothing it drops goes unsaid.
 */
function decide(input: PlanInput): { ops: RepairOperation[]; notes: Said[]; lost: LostRange[] } {
  const ops: RepairOperation[] = [...input.metadataOps];
  const notes: Said[] = [...input.metadataNotes];
  const lost: LostRange[] = [];
  const quarantined = () => new Set(ops.filter((o) => o.op === 'quarantine').map((o) => o.file));
  const drop = (list: SimSegment[], from: number, next: number, snapIndex: number, reason: string) => {
    const gone = quarantined();
    for (const s of list.slice(from)) if (!gone.has(s.name)) ops.push({ op: 'quarantine', file: s.name });
    for (const r of rangesFrom(list, from, next)) lost.push({ ...r, coveredBySnapshot: r.last <= snapIndex, reason });
  };
  for (let round = 0; round < 16; round++) {
    const model = applyToModel(input.segments, input.snapshots, ops);
    const r = simulateLoad(model.segments, model.snapshots, false);
    const snap = r.chosenSnapshot;
    const snapIndex = snap?.index ?? 0;
    if (r.startable && r.indexShift.length === 0 && r.lost.every((l) => l.coveredBySnapshot)) break;
    const f = r.fatal;
    // A bad newest snapshot: quarantine it (both halves) so the previous one is used.
    if (f && snap && (f.file === snap.metaName || f.file === snap.dataName)) {
      ops.push({ op: 'quarantine', file: snap.metaName }, { op: 'quarantine', file: snap.dataName });
      notes.push(say('dqlite.repair.note.snapshot-unusable', { file: snap.dataName }));
      continue;
    }
    const list = sorted(model.segments);
    const failing = f?.file ? list.find((s) => s.name === f.file) : undefined;
    // Where the loader stood when it failed: the index it expected next.
    const expected = /first index should have been (\d+)/.exec(f?.text ?? '');
    if (failing && failing.kind === 'closed' && f) {
      const idx = list.indexOf(failing);
      const first = failing.first ?? 0;
      const last = failing.last ?? 0;
      if (f.code === 'loader.unexpected-segment') {
        // A gap (or overlap) before this segment: nothing from here on can be chained.
        const next = expected ? Number(expected[1]) : first;
        if (next < first) {
          lost.push({
            file: failing.name,
            first: next,
            last: first - 1,
            coveredBySnapshot: first - 1 <= snapIndex,
            reason: `entries ${next}..${first - 1} are not in any segment${snap ? ' and not in the snapshot' : ' and there is no snapshot'}`,
          });
        }
        drop(list, idx, first, snapIndex, `after the gap before ${failing.name}: raft cannot apply these entries without the ones before them`);
        const dropped = rangesFrom(list, idx, first);
        const lastDropped = dropped.length ? dropped[dropped.length - 1].last : last;
        notes.push(
          say(snap ? 'dqlite.repair.note.gap' : 'dqlite.repair.note.gap.no-snapshot', {
            next,
            before: first - 1,
            prev: next - 1,
            file: failing.name,
            first,
            last: lastDropped,
          }),
        );
        continue;
      }
      if (last <= snapIndex) {
        // Everything it holds is in the snapshot: moving it aside makes the loader start from the chain after it.
        ops.push({ op: 'quarantine', file: failing.name });
        notes.push(say('dqlite.repair.note.inside-snapshot', { file: failing.name, first, last, snapshot: snapIndex }));
        continue;
      }
      const cl = interpretClosed(first, last, failing.scan);
      const b = failing.scan.boundaryAtTarget;
      if (!cl.ok && b && b.entries > 0 && first + b.entries - 1 >= snapIndex) {
        const newLast = first + b.entries - 1;
        const newName = closedSegmentName(first, newLast);
        ops.push({ op: 'truncate-rename', file: failing.name, bytes: b.offset, newName });
        if (newLast < last) {
          // The name promised more than the file holds. The next round shows whether later segments still chain.
          lost.push({
            file: failing.name,
            first: newLast + 1,
            last,
            coveredBySnapshot: last <= snapIndex,
            reason: `${failing.name} names entries up to ${last} but its good batches end at ${newLast}`,
          });
        }
        const kept = { file: failing.name, entries: b.entries, first, last: newLast, offset: b.offset };
        notes.push(newName !== failing.name ? say('dqlite.repair.note.keep-closed.rename', { ...kept, newName }) : say('dqlite.repair.note.keep-closed', kept));
        continue;
      }
      // Nothing to keep from it: move it and everything after aside.
      drop(list, idx, first, snapIndex, `${failing.name} has no usable entries beyond the snapshot, so it and what follows cannot be loaded`);
      notes.push(say('dqlite.repair.note.drop-rest', { file: failing.name }));
      continue;
    }
    if (failing && failing.kind === 'open' && f) {
      const idx = list.indexOf(failing);
      const s = failing.scan;
      const at = r.ranges.get(failing.name)?.first ?? null;
      // The open segment's first index: right after the loaded entries before it.
      const start = at ?? (idx > 0 ? (rangesFrom(list, 0, r.startIndex).find((x) => x.file === failing.name)?.first ?? r.startIndex) : r.startIndex);
      if (s.batches > 0 && s.failure) {
        ops.push({ op: 'truncate-rename', file: failing.name, bytes: s.validBytes, newName: failing.name });
        notes.push(say('dqlite.repair.note.keep-open', { file: failing.name, entries: s.entries, offset: s.validBytes }));
        const after = entriesAfterFailure(s);
        if (after.count > 0) {
          lost.push({
            file: failing.name,
            first: start + s.entries,
            last: start + s.entries + after.count - 1,
            coveredBySnapshot: start + s.entries + after.count - 1 <= snapIndex,
            reason: `the bad batch in ${failing.name} and what follows it`,
          });
        }
      } else {
        ops.push({ op: 'quarantine', file: failing.name });
        notes.push(say('dqlite.repair.note.open-unusable', { file: failing.name }));
      }
      // Later open segments would be numbered from a shorter log: they cannot be kept at their real indexes.
      const laterOpen = list.slice(idx + 1).filter((o) => o.kind === 'open' && o.scan.entries > 0);
      if (laterOpen.length) {
        const shifted = rangesFrom(list, idx, start).filter((x) => laterOpen.some((o) => o.name === x.file));
        for (const o of laterOpen) ops.push({ op: 'quarantine', file: o.name });
        for (const x of shifted) lost.push({ ...x, coveredBySnapshot: x.last <= snapIndex, reason: `${x.file} follows a damaged open segment` });
      }
      continue;
    }
    if (r.startable && r.indexShift.length) {
      const shifted = new Set(r.indexShift);
      for (const name of r.indexShift) ops.push({ op: 'quarantine', file: name });
      // Their real indexes: counted with every entry of the damaged segment before them, not only the loaded ones.
      for (const x of rangesFrom(list, 0, r.startIndex)) {
        if (shifted.has(x.file))
          lost.push({ ...x, coveredBySnapshot: x.last <= snapIndex, reason: `${x.file} would be loaded at the wrong indexes (after a damaged open segment)` });
      }
      notes.push(say('dqlite.repair.note.shifted'));
      continue;
    }
    // Starts, but truncates (or deletes) a damaged open segment on the way: do it explicitly, so the full
    // original is kept in quarantine instead of being cut by the engine, and the loss is stated.
    const cut = r.startable
      ? r.lost.find((l) => !l.coveredBySnapshot && list.some((x) => x.name === l.file && x.kind === 'open') && !ops.some((o) => o.file === l.file))
      : undefined;
    const cutSeg = cut ? list.find((x) => x.name === cut.file) : undefined;
    if (cut && cutSeg) {
      if (cutSeg.scan.batches > 0 && cutSeg.scan.failure) {
        ops.push({ op: 'truncate-rename', file: cutSeg.name, bytes: cutSeg.scan.validBytes, newName: cutSeg.name });
        notes.push(
          say('dqlite.repair.note.cut-open', {
            file: cutSeg.name,
            entries: cutSeg.scan.entries,
            offset: cutSeg.scan.validBytes,
            first: cut.first,
            last: cut.last,
          }),
        );
      } else {
        ops.push({ op: 'quarantine', file: cutSeg.name });
        notes.push(say('dqlite.repair.note.cut-open-unusable', { file: cutSeg.name, first: cut.first, last: cut.last }));
      }
      lost.push({ ...cut });
      continue;
    }
    if (f && f.code === 'loader.behind-snapshot') {
      // The log does not reach the snapshot: drop the segments so the loader starts from the snapshot alone.
      drop(list, 0, r.startIndex, snapIndex, 'the log ends before the snapshot');
      notes.push(say('dqlite.repair.note.behind-snapshot'));
      continue;
    }
    if (f && f.code === 'loader.past-snapshot') {
      notes.push(say('dqlite.repair.note.past-snapshot'));
      break;
    }
    break;
  }
  // Keep the operations unique (a file may be named twice across rounds).
  const seen = new Set<string>();
  const uniq = ops.filter((o) => {
    const k = `${o.op}:${o.file}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { ops: uniq, notes, lost: mergeLost(lost) };
}

/**
 * The smallest plan: decide() fixes one failure per round, and an early round
 * may move a segment aside that a later fix (a rename to the true range, say)
 * makes loadable again. Each segment move is dropped when the plan without it
 * still starts with nothing lost outside the snapshot (an open segment only where it then loads at
 * the index libraft wrote it at); notes about a move that
 * is dropped go too. (Lost ranges are trimmed to what really stays out by
 * keptAfter, from the directory after the plan.)
 */
/**
 * Segment moves the smallest-plan pass tries to take back at most. A real backend's plan moves a few segments; one
 * left to grow for months can move thousands, and each trial is a load of the whole model.
 */
const MAX_PRUNE_TRIALS = 256;

function prune(input: PlanInput, ops: RepairOperation[], notes: Said[]): { ops: RepairOperation[]; notes: Said[] } {
  // A closed segment's name fixes its indexes. An open segment's first index is only inferred from
  // what loads before it: one may come back only where it then starts right after the newest closed
  // segment on disk, which is where libraft wrote it (after a gap it must stay aside).
  const segmentNames = new Set(input.segments.map((s) => s.name));
  const openNames = new Set(input.segments.filter((s) => s.kind === 'open').map((s) => s.name));
  const writtenAfter = Math.max(0, ...input.segments.filter((s) => s.kind === 'closed').map((s) => s.last ?? 0)) + 1;
  let kept = ops;
  const dropped = new Set<string>();
  let trials = 0;
  for (const o of ops) {
    if (o.op !== 'quarantine' || !segmentNames.has(o.file)) continue;
    // Each trial loads the whole model again: past the bound the remaining moves stay (safe, if not the fewest).
    if (++trials > MAX_PRUNE_TRIALS) break;
    const trial = kept.filter((x) => x !== o);
    const model = applyToModel(input.segments, input.snapshots, trial);
    const r = simulateLoad(model.segments, model.snapshots, false);
    const movedInTrial = new Set(trial.filter((x) => x.op === 'quarantine').map((x) => x.file));
    const openStarts = [...openNames].filter((n) => !movedInTrial.has(n)).map((n) => r.ranges.get(n)?.first ?? null);
    const firstOpen = openStarts.filter((x): x is number => x !== null).sort((a, b) => a - b)[0];
    const openInPlace = !openNames.has(o.file) || firstOpen === writtenAfter;
    if (r.startable && r.indexShift.length === 0 && r.lost.every((l) => l.coveredBySnapshot) && openInPlace) {
      kept = trial;
      dropped.add(o.file);
    }
  }
  if (dropped.size === 0) return { ops, notes };
  const stillMoved = kept.some((o) => o.op === 'quarantine' && segmentNames.has(o.file));
  return {
    ops: kept,
    notes: notes.filter((n) => {
      const file = n.local.params?.file;
      if (typeof file === 'string' && dropped.has(file)) return false;
      return !(n.local.key === 'dqlite.repair.note.shifted' && !stillMoved);
    }),
  };
}

/** Ranges said in one sentence at most; every range stays in the plan's `lost` list. */
const MAX_RANGES_SAID = 8;

/**
 * Lost index ranges for the summary sentence: sorted, overlapping and adjacent ones merged (a backend of many
 * one-entry segments would otherwise read "0..1, 1..2, 2..3, ..."), the first few, then an ellipsis.
 */
export function rangesText(ranges: readonly { first: number; last: number }[]): string {
  const merged: { first: number; last: number }[] = [];
  for (const r of [...ranges].sort((a, b) => a.first - b.first)) {
    const prev = merged[merged.length - 1];
    if (prev && r.first <= prev.last + 1) prev.last = Math.max(prev.last, r.last);
    else merged.push({ first: r.first, last: r.last });
  }
  const said = merged.slice(0, MAX_RANGES_SAID).map((r) => `${r.first}..${r.last}`);
  return merged.length > MAX_RANGES_SAID ? `${said.join(', ')}, …` : said.join(', ');
}

/** One entry per (file, first): later rounds may name the same range again. */
function mergeLost(lost: LostRange[]): LostRange[] {
  const out: LostRange[] = [];
  const seen = new Set<string>();
  for (const l of lost) {
    const key = `${l.file}\u0000${l.first}\u0000${l.last}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(l);
  }
  return out.sort((a, b) => a.first - b.first);
}

/**
 * Remove from the lost ranges what the repaired directory loads after all
 * (e.g. a segment renamed to its true range overlaps the next one, which
 * holds those entries). Only trusted when nothing loads at shifted indexes.
 */
function keptAfter(lost: LostRange[], after: LoaderResult): LostRange[] {
  if (!after.startable || after.indexShift.length || after.lastIndex === null) return lost;
  const lo = after.startIndex;
  const hi = after.lastIndex;
  const out: LostRange[] = [];
  for (const l of lost) {
    if (l.last < lo || l.first > hi) out.push(l);
    else {
      if (l.first < lo) out.push({ ...l, last: lo - 1 });
      if (l.last > hi) out.push({ ...l, first: hi + 1 });
    }
  }
  return out;
}

/** A step's `explanation` and `explanationText` from one sentence. */
function explained(s: Said): { explanation: string; explanationText: LocalText } {
  return { explanation: s.text, explanationText: s.local };
}

/** `p` as one POSIX shell word: plain paths stay readable, anything else is single-quoted. */
export function shellWord(p: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

/** The parent directory of an absolute POSIX path (`/` for a top-level one). */
function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/** An absolute POSIX path without trailing slashes (`/` stays `/`). */
export function normaliseBackendPath(p: string): string {
  const t = stripTrailingSlashes(p);
  return t === '' ? '/' : t;
}

/** A POSIX printf format string writing these bytes (octal escapes). */
function printfBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
}

/**
 * The shell commands for a node, from file operations: stop, back up the
 * whole directory, move to quarantine / truncate / write, the notes, start,
 * verify. Every command names `backend` (quoted as shell words); files are
 * libraft's own names. Used for validated directories and for listings.
 */
export function planSteps(
  ops: readonly RepairOperation[],
  notes: readonly Said[],
  segments: readonly Pick<SimSegment, 'name' | 'kind' | 'first' | 'last'>[],
  backend: BackendLocation,
  stampText?: string,
): RepairStep[] {
  // Every command names the directory that was validated (or the one it was copied from); file
  // names are libraft's own (digits, dashes, `metadata1`), paths are quoted as shell words.
  const parent = parentOf(backend.path);
  const base = backend.path.slice(parent === '/' ? 1 : parent.length + 1) || '.';
  const at = (file: string) => shellWord(`${backend.path === '/' ? '' : backend.path}/${file}`);
  const quarantinePath = `${parent === '/' ? '' : parent}/${QUARANTINE_DIR_NAME}`;
  const Q = shellWord(quarantinePath);
  const inQ = (file: string) => shellWord(`${quarantinePath}/${file}`);
  const stamp = stampText ?? '$(date +%Y%m%d-%H%M%S)';
  const steps: RepairStep[] = [];
  if (backend.origin === 'microk8s-default') {
    steps.push({ kind: 'note', command: '', ...explained(say('dqlite.repair.note.default-path', { path: backend.path })) });
  }
  steps.push(
    { kind: 'stop', command: 'sudo snap stop microk8s', ...explained(say('dqlite.repair.step.stop')) },
    {
      kind: 'backup',
      command: `sudo tar -C ${shellWord(parent)} -czf /root/lifeboat-backup-${stamp}.tar.gz ${shellWord(base)}`,
      ...explained(say('dqlite.repair.step.backup', { path: backend.path })),
    },
  );
  if (ops.length)
    steps.push({ kind: 'quarantine', command: `sudo mkdir -p ${Q}`, ...explained(say('dqlite.repair.step.quarantine-dir', { path: quarantinePath })) });
  const segmentByName = new Map<string, Pick<SimSegment, 'name' | 'kind' | 'first' | 'last'>>();
  for (const s of segments) if (!segmentByName.has(s.name)) segmentByName.set(s.name, s);
  for (const o of ops) {
    if (o.op === 'quarantine') {
      const l = segmentByName.get(o.file);
      steps.push({
        kind: 'quarantine',
        file: o.file,
        command: `sudo mv ${at(o.file)} ${Q}/`,
        ...explained(
          l && l.kind === 'closed'
            ? say('dqlite.repair.step.move.range', { file: o.file, first: String(l.first), last: String(l.last) })
            : say('dqlite.repair.step.move', { file: o.file }),
        ),
      });
    } else if (o.op === 'truncate-rename') {
      steps.push({
        kind: 'truncate-rename',
        file: o.file,
        command:
          `sudo cp -p ${at(o.file)} ${inQ(`${o.file}.orig`)} && sudo truncate -s ${o.bytes} ${at(o.file)}` +
          (o.newName !== o.file ? ` && sudo mv ${at(o.file)} ${at(o.newName)}` : ''),
        ...explained(
          o.newName !== o.file
            ? say('dqlite.repair.step.keep-bytes.rename', { bytes: o.bytes, file: o.file, newName: o.newName })
            : say('dqlite.repair.step.keep-bytes', { bytes: o.bytes, file: o.file }),
        ),
      });
    } else {
      steps.push({
        kind: 'write',
        file: o.file,
        command: `printf '${printfBytes(o.bytes)}' | sudo tee ${at(o.file)} > /dev/null && sudo chmod 600 ${at(o.file)} && sudo od -A d -t u8 ${at(o.file)}`,
        ...explained(say('dqlite.repair.step.write', { size: o.bytes.length, file: o.file })),
      });
    }
  }
  for (const n of notes) steps.push({ kind: 'note', command: '', ...explained(n) });
  steps.push({ kind: 'start', command: 'sudo snap start microk8s', ...explained(say('dqlite.repair.step.start')) });
  steps.push({
    kind: 'verify',
    command: 'sudo journalctl -u snap.microk8s.daemon-k8s-dqlite -n 50 --no-pager && microk8s kubectl --request-timeout=30s get nodes',
    ...explained(say('dqlite.repair.step.verify')),
  });
  return steps;
}

/** The node directory a plan names: the one given, else the MicroK8s default. */
export function backendLocation(given?: BackendLocation): BackendLocation {
  return given ? { path: normaliseBackendPath(given.path), origin: given.origin } : { path: MICROK8S_BACKEND, origin: 'microk8s-default' };
}

export function planRepair(input: PlanInput): PlanOutput {
  const current = input.loader;
  const needed =
    input.metadataFatal !== null ||
    !current.startable ||
    current.renamed.length > 0 ||
    current.indexShift.length > 0 ||
    current.lost.some((l) => !l.coveredBySnapshot);
  const backend = backendLocation(input.backend);
  if (!needed) {
    const none = say('dqlite.repair.summary.not-needed');
    return {
      plan: { backend, needed: false, startsAfter: current.startable, steps: [], lost: [], summary: none.text, summaryText: none.local },
      operations: [],
      after: current,
    };
  }
  const decided = decide(input);
  const { ops, notes } = prune(input, decided.ops, decided.notes);
  const lost = decided.lost;
  const model = applyToModel(input.segments, input.snapshots, ops);
  const after = simulateLoad(model.segments, model.snapshots, true);
  const metadataOk = input.metadataFatal === null || input.metadataFixed;
  const startsAfter = after.startable && metadataOk;
  const steps = planSteps(ops, notes, input.segments, backend, input.stamp);
  const allLost = keptAfter(lost, after);
  const said = new Set(allLost.map((x) => `${x.file}\u0000${x.first}`));
  for (const l of after.lost) {
    const key = `${l.file}\u0000${l.first}`;
    if (said.has(key)) continue;
    said.add(key);
    allLost.push(l);
  }
  // Coverage is judged against the snapshot the node will really load after the plan.
  const afterSnap = after.chosenSnapshot?.index ?? 0;
  for (const l of allLost) l.coveredBySnapshot = l.last <= afterSnap;
  allLost.sort((a, b) => a.first - b.first);
  const realLoss = allLost.filter((l) => !l.coveredBySnapshot);
  const ranges = rangesText(realLoss);
  const summary = !startsAfter
    ? say('dqlite.repair.summary.fails')
    : after.lastIndex !== null
      ? realLoss.length
        ? say('dqlite.repair.summary.starts.loses', { ops: ops.length, last: after.lastIndex, ranges })
        : say('dqlite.repair.summary.starts', { ops: ops.length, last: after.lastIndex })
      : realLoss.length
        ? say('dqlite.repair.summary.starts.empty.loses', { ops: ops.length, ranges })
        : say('dqlite.repair.summary.starts.empty', { ops: ops.length });
  return { plan: { backend, needed: true, startsAfter, steps, lost: allLost, summary: summary.text, summaryText: summary.local }, operations: ops, after };
}

export { filterSegments };
