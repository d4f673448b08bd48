/**
 * The smallest safe repair, as shell commands for a MicroK8s node and as
 * file operations that `writeRepairedCopy` applies to a copy. Files are
 * never deleted: they are moved to a quarantine directory next to the
 * backend (`lifeboat-quarantine/`), and a segment that is truncated keeps its
 * full original there too. Every candidate plan is checked by running the
 * loader model on the directory as it would be after the plan.
 */
import type { LostRange, RepairPlan, RepairStep } from '../../contract/dqlite';
import { filterSegments, simulateLoad, type LoaderResult, type SimSegment, type SimSnapshot } from './loader';
import { closedSegmentName, compareSegments } from './segment-name';
import { interpretClosed, type SegmentScan } from './segment';

export const MICROK8S_BACKEND = '/var/snap/microk8s/current/var/kubernetes/backend';
export const QUARANTINE_DIR_NAME = 'lifeboat-quarantine';

export type RepairOperation =
  | { op: 'quarantine'; file: string }
  | { op: 'truncate-rename'; file: string; bytes: number; newName: string };

export interface PlanInput {
  segments: SimSegment[];
  snapshots: SimSnapshot[];
  /** Metadata files to quarantine (bad ones), decided by the caller. */
  badMetadata: string[];
  metadataFatal: string | null;
  loader: LoaderResult;
  /** Timestamp text for the backup name. */
  stamp?: string;
}

export interface PlanOutput {
  plan: RepairPlan;
  operations: RepairOperation[];
  after: LoaderResult | null;
}

function truncatedScan(scan: SegmentScan, bytes: number, entries: number): SegmentScan {
  return { ...scan, size: bytes, validBytes: bytes, failure: null, entries, nonZeroTail: false, later: null };
}

/** Apply operations to the model (names and scans), for the check run. */
export function applyToModel(segments: SimSegment[], snapshots: SimSnapshot[], ops: RepairOperation[]): { segments: SimSegment[]; snapshots: SimSnapshot[] } {
  const gone = new Set(ops.filter((o) => o.op === 'quarantine').map((o) => o.file));
  const segs: SimSegment[] = [];
  for (const s of segments) {
    if (gone.has(s.name)) continue;
    const t = ops.find((o) => o.op === 'truncate-rename' && o.file === s.name) as Extract<RepairOperation, { op: 'truncate-rename' }> | undefined;
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
  return [...segs].sort((a, b) =>
    compareSegments({ kind: a.kind, first: a.first, last: a.last, counter: a.counter ?? 0 }, { kind: b.kind, first: b.first, last: b.last, counter: b.counter ?? 0 }),
  );
}

/**
 * Decide operations step by step: fix the first thing that stops the loader
 * (or makes it drop data), re-run the model, repeat (bounded).
 */
function decide(input: PlanInput): { ops: RepairOperation[]; notes: string[]; lost: LostRange[] } {
  const ops: RepairOperation[] = [];
  const notes: string[] = [];
  const lost: LostRange[] = [];
  for (const m of input.badMetadata) ops.push({ op: 'quarantine', file: m });
  for (let round = 0; round < 12; round++) {
    const model = applyToModel(input.segments, input.snapshots, ops);
    const r = simulateLoad(model.segments, model.snapshots, false);
    const snap = r.chosenSnapshot;
    const snapIndex = snap?.index ?? 0;
    if (r.startable && r.indexShift.length === 0 && r.lost.every((l) => l.coveredBySnapshot)) break;
    const f = r.fatal;
    // A bad newest snapshot: quarantine it (both halves) so the previous one is used.
    if (f && snap && (f.file === snap.metaName || f.file === snap.dataName)) {
      ops.push({ op: 'quarantine', file: snap.metaName }, { op: 'quarantine', file: snap.dataName });
      notes.push(`Snapshot ${snap.dataName} cannot be loaded; the previous snapshot is used instead.`);
      continue;
    }
    const list = sorted(model.segments);
    const failing = f?.file ? list.find((s) => s.name === f.file) : undefined;
    if (failing && failing.kind === 'closed' && f) {
      const idx = list.indexOf(failing);
      const later = list.slice(idx + 1);
      const first = failing.first ?? 0;
      const last = failing.last ?? 0;
      if (f.code === 'loader.unexpected-segment') {
        // A gap before this segment: nothing after it can be chained.
        for (const s of list.slice(idx)) ops.push({ op: 'quarantine', file: s.name });
        lost.push({ file: failing.name, first, last: Math.max(last, first), coveredBySnapshot: last <= snapIndex, reason: 'segments after a gap cannot be loaded' });
        notes.push(`${failing.name} does not follow the previous segment; it and later segments are moved aside.`);
        continue;
      }
      if (last <= snapIndex) {
        // Everything it holds is in the snapshot: moving it aside makes the loader start from the chain after it.
        ops.push({ op: 'quarantine', file: failing.name });
        notes.push(`${failing.name} holds only entries ${first}..${last}, all inside snapshot ${snapIndex}: moving it aside loses nothing.`);
        continue;
      }
      const cl = interpretClosed(first, last, failing.scan);
      const b = failing.scan.boundaryAtTarget;
      if (!cl.ok && b && b.entries > 0 && first + b.entries - 1 >= snapIndex) {
        const newLast = first + b.entries - 1;
        const newName = closedSegmentName(first, newLast);
        ops.push({ op: 'truncate-rename', file: failing.name, bytes: b.offset, newName });
        // Same range kept: the chain after it still connects. Otherwise later segments cannot follow.
        const laterData = newLast < last ? later.filter((s) => s.scan.entries > 0 || s.kind === 'closed') : [];
        if (newLast < last) for (const s of later) ops.push({ op: 'quarantine', file: s.name });
        if (newLast < last) {
          const lastLost = Math.max(last, ...later.filter((s) => s.kind === 'closed').map((s) => s.last ?? 0));
          void laterData;
          if (lastLost > newLast) lost.push({ file: failing.name, first: newLast + 1, last: lastLost, coveredBySnapshot: lastLost <= snapIndex, reason: `entries after the last good batch of ${failing.name}` });
        }
        notes.push(`${failing.name}: keep its ${b.entries} good entries (${first}..${newLast}) by truncating at byte ${b.offset}${newName !== failing.name ? ` and renaming it ${newName}` : ''}.`);
        continue;
      }
      // Nothing to keep from it: move it and everything after aside.
      for (const s of list.slice(idx)) ops.push({ op: 'quarantine', file: s.name });
      const lastLost = Math.max(last, ...later.filter((s) => s.kind === 'closed').map((s) => s.last ?? 0));
      lost.push({ file: failing.name, first, last: lastLost, coveredBySnapshot: lastLost <= snapIndex, reason: `${failing.name} has no usable entries beyond the snapshot` });
      notes.push(`${failing.name} and the segments after it are moved aside.`);
      continue;
    }
    if (failing && failing.kind === 'open' && f) {
      const idx = list.indexOf(failing);
      const s = failing.scan;
      if (s.batches > 0 && s.failure) {
        ops.push({ op: 'truncate-rename', file: failing.name, bytes: s.validBytes, newName: failing.name });
        notes.push(`${failing.name}: keep its ${s.entries} good entries by truncating it at byte ${s.validBytes}.`);
      } else {
        ops.push({ op: 'quarantine', file: failing.name });
        notes.push(`${failing.name} has no usable batch; it is moved aside.`);
      }
      for (const o of list.slice(idx + 1)) if (o.kind === 'open' && o.scan.entries > 0) ops.push({ op: 'quarantine', file: o.name });
      continue;
    }
    if (r.startable && r.indexShift.length) {
      for (const name of r.indexShift) ops.push({ op: 'quarantine', file: name });
      notes.push(`Open segments after a damaged one would be loaded at wrong indexes; they are moved aside.`);
      continue;
    }
    if (f && f.code === 'loader.behind-snapshot') {
      // The log does not reach the snapshot: drop the segments so the loader starts from the snapshot alone.
      for (const s of list) ops.push({ op: 'quarantine', file: s.name });
      notes.push('The segments end before the snapshot; they are moved aside and the node starts from the snapshot.');
      continue;
    }
    if (f && f.code === 'loader.past-snapshot') {
      notes.push('Entries between the snapshot and the first segment are missing; no file move can restore them.');
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
  return { ops: uniq, notes, lost };
}

export function planRepair(input: PlanInput): PlanOutput {
  const current = input.loader;
  const needed =
    input.metadataFatal !== null ||
    input.badMetadata.length > 0 ||
    !current.startable ||
    current.renamed.length > 0 ||
    current.indexShift.length > 0 ||
    current.lost.some((l) => !l.coveredBySnapshot);
  if (!needed) {
    return { plan: { needed: false, startsAfter: current.startable, steps: [], lost: [], summary: 'No repair needed: the engine starts and keeps every entry.' }, operations: [], after: current };
  }
  const { ops, notes, lost } = decide(input);
  const model = applyToModel(input.segments, input.snapshots, ops);
  const after = simulateLoad(model.segments, model.snapshots, true);
  const metadataOk = input.metadataFatal === null || input.badMetadata.length > 0;
  const startsAfter = after.startable && metadataOk;
  const B = MICROK8S_BACKEND;
  const Q = `${B.replace(/\/backend$/, '')}/${QUARANTINE_DIR_NAME}`;
  const stamp = input.stamp ?? '$(date +%Y%m%d-%H%M%S)';
  const steps: RepairStep[] = [
    { kind: 'stop', command: 'sudo snap stop microk8s    # or: microk8s stop', explanation: 'Stop the datastore: starting dqlite changes files (finalises open segments, renames corrupt ones).' },
    {
      kind: 'backup',
      command: `sudo tar -C ${B.replace(/\/backend$/, '')} -czf /root/lifeboat-backup-${stamp}.tar.gz backend`,
      explanation: 'Keep a full copy of the backend directory before changing anything.',
    },
  ];
  if (ops.length) steps.push({ kind: 'quarantine', command: `sudo mkdir -p ${Q}`, explanation: 'Files are moved here, never deleted.' });
  for (const o of ops) {
    if (o.op === 'quarantine') {
      const l = input.segments.find((s) => s.name === o.file);
      steps.push({
        kind: 'quarantine',
        file: o.file,
        command: `sudo mv ${B}/${o.file} ${Q}/`,
        explanation: l && l.kind === 'closed' ? `Move ${o.file} (entries ${l.first}..${l.last}) out of the loader's way.` : `Move ${o.file} out of the loader's way.`,
      });
    } else {
      steps.push({
        kind: 'truncate-rename',
        file: o.file,
        command:
          `sudo cp -p ${B}/${o.file} ${Q}/${o.file}.orig && sudo truncate -s ${o.bytes} ${B}/${o.file}` +
          (o.newName !== o.file ? ` && sudo mv ${B}/${o.file} ${B}/${o.newName}` : ''),
        explanation: `Keep the first ${o.bytes} bytes (all complete, checksummed batches) of ${o.file}${o.newName !== o.file ? ` as ${o.newName}` : ''}; the full original stays in quarantine.`,
      });
    }
  }
  for (const n of notes) steps.push({ kind: 'note', command: '', explanation: n });
  steps.push({ kind: 'start', command: 'sudo snap start microk8s    # or: microk8s start', explanation: 'Start again.' });
  steps.push({
    kind: 'verify',
    command: 'sudo journalctl -u snap.microk8s.daemon-k8s-dqlite -n 50 --no-pager && microk8s kubectl get nodes',
    explanation: 'Check that k8s-dqlite started and the API answers.',
  });
  const allLost = [...lost];
  for (const l of after.lost) if (!allLost.some((x) => x.first === l.first && x.file === l.file)) allLost.push(l);
  const realLoss = allLost.filter((l) => !l.coveredBySnapshot);
  const summary = startsAfter
    ? `After ${ops.length} file operation(s) the node starts${after.lastIndex !== null ? ` with entries up to ${after.lastIndex}` : ''}${
        realLoss.length ? `; entries ${realLoss.map((l) => `${l.first}..${l.last}`).join(', ')} cannot be kept` : ' and nothing that is not already in the snapshot is lost'
      }.`
    : 'No file-level repair makes the node start; an offline rebuild from the snapshot and segments is needed.';
  return { plan: { needed: true, startsAfter, steps, lost: allLost, summary }, operations: ops, after };
}

export { filterSegments };
