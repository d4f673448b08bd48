/**
 * Pasted directory listings (`ls -l`, `ll`, `ls -l --time-style=full-iso`):
 * names and sizes alone already tell where each segment and snapshot sits
 * on the index axis, what uvFilterSegments would keep, and which files are
 * worth copying out for a full validation.
 */
import type { BackendLocation, RepairPlan, SegmentInfo, SnapshotInfo } from '../../contract/dqlite';
import type { Finding } from '../../contract/findings';
import type { ListingAnalysis, ListingEntry } from '../../contract/listing';
import type { LocalText } from '../../contract/text';
import { filterSegments, type SimSegment } from './loader';
import { backendLocation, planSteps } from './repair-plan';
import { emptySegmentScan } from './segment';
import { classifyName } from './segment-name';
import { libraftSegmentOrder } from './segment-order';
import { findingText, say, type Said } from './say';
import findingTitles from '../../i18n/findings';

const FINDING_TITLES_EN: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(findingTitles.en).map(([k, v]) => [k.replace(/^finding\./, ''), v]),
);

const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const DATE =
  `(\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?(?: [+-]\\d{4})?` + // full-iso / long-iso
  `|${MONTH}\\s+\\d{1,2}\\s+(?:\\d{1,2}:\\d{2}|\\d{4})` + // Jan 28 00:41 / Jan 28  2024
  `|\\d{1,2}\\s+${MONTH}\\s+(?:\\d{1,2}:\\d{2}|\\d{4}))`; // 28 Jan 00:41
const LINE = new RegExp(`^([-dlcbps][-rwxsStTl]{9}[.+@]?)\\s+\\d+\\s+\\S+\\s+\\S+\\s+(\\d+)\\s+${DATE}\\s+(.+)$`);
const BLOCK_SIZE = 4096;
const SEGMENT_SIZE = 8 * 1024 * 1024;

/** Longest line read for a log error: a journal line is a few hundred characters. */
const MAX_LOG_LINE = 4096;
/**
 * libraft's start-up errors as k8s-dqlite logs them (`… raft_start(): io: load
 * closed segment NAME: entries batch N starting at byte B: DETAIL\n"`). Each
 * part is bounded, so matching stays linear on any input.
 */
const ENGINE_ERROR =
  /load (?:closed|open) segment [A-Za-z0-9_.-]{1,80}: [^"\\\n]{1,400}|unexpected closed segment [A-Za-z0-9_.-]{1,80}: first index should have been \d{1,20}|closed segment [A-Za-z0-9_.-]{1,80} is past last snapshot [A-Za-z0-9_.-]{1,80}/;

/**
 * The loader's fatal error in pasted log lines (the last one wins: it is the
 * newest start attempt), with the file it names and the byte offset it gives.
 */
export function engineErrorInLog(lines: Iterable<string>): { text: string; file: string | null; offset: number | null } | null {
  let found: { text: string; file: string | null; offset: number | null } | null = null;
  for (const raw of lines) {
    const m = ENGINE_ERROR.exec(raw.length > MAX_LOG_LINE ? raw.slice(0, MAX_LOG_LINE) : raw);
    if (!m) continue;
    const text = m[0].replace(/\s+$/, '');
    const file = /segment ([A-Za-z0-9_.-]{1,80})/.exec(text)?.[1] ?? null;
    const at = /starting at byte (\d{1,15})/.exec(text);
    found = { text, file, offset: at ? Number(at[1]) : null };
  }
  return found;
}

export function parseListing(text: string): { entries: ListingEntry[]; skipped: string[] } {
  const entries: ListingEntry[] = [];
  const skipped: string[] = [];
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.replace(/\t/g, ' ').trim();
    if (!line || /^total\s+\d+/.test(line)) continue;
    const m = LINE.exec(line);
    if (!m) {
      skipped.push(line);
      continue;
    }
    let name = m[4];
    if (m[1].startsWith('l')) name = name.replace(/ -> .*$/, '');
    if (name === '.' || name === '..' || m[1].startsWith('d')) continue;
    entries.push({ name, size: Number(m[2]), dateText: m[3], mode: m[1] });
  }
  return { entries, skipped };
}

export interface ListingOptions {
  /** Log text pasted beside the listing (the k8s-dqlite journal); its start error is used. */
  log?: string;
  /** The node directory the listing is of (the plan's commands name it); default: MicroK8s. */
  backend?: BackendLocation;
}

export function analyzeListing(text: string, opts: ListingOptions = {}): ListingAnalysis {
  const parsed = parseListing(text);
  const { skipped } = parsed;
  // One directory never lists a name twice: a paste that does holds several listings (two nodes, or the same one
  // pasted twice). The first line of each name is used, so every segment stands once (each copy of a name took every
  // finding of that name: n copies, n^2 of them).
  const firstOfName = new Map<string, ListingEntry>();
  const repeated = new Set<string>();
  for (const e of parsed.entries) {
    if (firstOfName.has(e.name)) repeated.add(e.name);
    else firstOfName.set(e.name, e);
  }
  const entries = [...firstOfName.values()];
  const findings: Finding[] = [];
  if (repeated.size) {
    findings.push({
      severity: 'warning',
      code: 'listing.repeated-names',
      file: null,
      offset: null,
      ...findingText('finding.listing.repeated-names.message', { count: repeated.size, name: [...repeated][0]! }),
    });
  }
  const told: Said[] = [];
  const tell = (s: Said) => told.push(s);
  const copyOut: ListingAnalysis['copyOut'] = [];
  // Everything below is O(n log n) at most: a backend can hold tens of thousands of segments.
  const wanted = new Set<string>();
  const want = (file: string, why: Said | { text: string; local: LocalText }) => {
    if (wanted.has(file)) return;
    wanted.add(file);
    copyOut.push({ file, why: why.text, whyText: why.local });
  };
  // Journal lines pasted with the listing (or beside it) say where start-up really fails.
  const engineError = engineErrorInLog([...skipped, ...(opts.log ? opts.log.split(/\r\n|\r|\n/) : [])]);
  const notListing = skipped.filter((l) => !ENGINE_ERROR.test(l.length > MAX_LOG_LINE ? l.slice(0, MAX_LOG_LINE) : l));
  if (notListing.length) {
    findings.push({
      severity: 'info',
      code: 'listing.unparsed-lines',
      file: null,
      offset: null,
      ...findingText('finding.listing.unparsed-lines.message', { count: notListing.length }),
    });
  }
  const sims: SimSegment[] = [];
  const snapshots: SnapshotInfo[] = [];
  const byName = new Map(entries.map((e) => [e.name, e]));
  const names = new Set(byName.keys());
  for (const e of entries) {
    const c = classifyName(e.name);
    if (c.kind === 'closed' || c.kind === 'open') {
      sims.push({
        name: e.name,
        kind: c.kind,
        first: c.kind === 'closed' ? c.first : null,
        last: c.kind === 'closed' ? c.last : null,
        counter: c.kind === 'open' ? c.counter : null,
        scan: emptySegmentScan(e.size),
      });
    } else if (c.kind === 'snapshot-meta') {
      const data = byName.get(c.dataName);
      snapshots.push({
        file: c.dataName,
        term: c.term,
        index: c.index,
        timestamp: c.timestamp,
        dataSize: data?.size ?? 0,
        metaOk: e.size >= 32,
        dataOk: null,
        encoding: 'unknown',
        configurationIndex: null,
        configuration: null,
        chosen: false,
        findingCodes: data ? [] : ['snapshot.orphan-meta'],
      });
      if (!data)
        findings.push({
          severity: 'warning',
          code: 'snapshot.orphan-meta',
          file: e.name,
          offset: null,
          ...findingText('finding.snapshot.orphan-meta.message', { file: e.name }),
        });
    } else if (c.kind === 'snapshot-data' && !names.has(c.metaName)) {
      findings.push({
        severity: 'warning',
        code: 'snapshot.orphan-data',
        file: e.name,
        offset: null,
        ...findingText('finding.snapshot.orphan-data.message', { file: e.name }),
      });
    }
  }
  const sorted = libraftSegmentOrder(sims);
  const closed = sorted.filter((s) => s.kind === 'closed');
  const open = sorted.filter((s) => s.kind === 'open');
  const usable = snapshots.filter((s) => s.dataSize > 0).sort((a, b) => a.term - b.term || a.index - b.index || a.timestamp - b.timestamp);
  const chosen = usable.length ? usable[usable.length - 1] : null;
  if (chosen) chosen.chosen = true;

  // Segment sequence: gaps, overlaps, odd sizes.
  for (let i = 1; i < closed.length; i++) {
    const a = closed[i - 1];
    const b = closed[i];
    if ((b.first ?? 0) > (a.last ?? 0) + 1) {
      findings.push({
        severity: 'warning',
        code: 'listing.gap',
        file: b.name,
        offset: null,
        ...findingText('finding.listing.gap.message', { first: (a.last ?? 0) + 1, last: (b.first ?? 0) - 1, before: a.name, after: b.name }),
      });
    } else if ((b.first ?? 0) <= (a.last ?? 0)) {
      findings.push({
        severity: 'error',
        code: 'listing.overlap',
        file: b.name,
        offset: null,
        ...findingText('finding.listing.overlap.message', { file: b.name, previous: a.name }),
      });
    }
  }
  for (let i = 0; i < closed.length; i++) {
    const s = closed[i];
    const size = s.scan.size;
    if ((s.first ?? 0) > (s.last ?? 0))
      findings.push({
        severity: 'error',
        code: 'listing.bad-range',
        file: s.name,
        offset: null,
        ...findingText('finding.listing.bad-range.message', { file: s.name }),
      });
    if (size === 0)
      findings.push({
        severity: 'error',
        code: 'listing.empty-segment',
        file: s.name,
        offset: null,
        ...findingText('finding.listing.empty-segment.message', { file: s.name }),
      });
    if (size > 0 && size % BLOCK_SIZE === 0 && size < SEGMENT_SIZE + 1 && size !== 80 && i < closed.length - 1) {
      findings.push({
        severity: 'warning',
        code: 'listing.block-aligned-closed',
        file: s.name,
        offset: null,
        ...findingText('finding.listing.block-aligned-closed.message', { file: s.name, blocks: size / BLOCK_SIZE }),
      });
    }
    const prev = closed[i - 1];
    if (prev && size <= 128 && prev.scan.size > 1024 * 1024) {
      findings.push({
        severity: 'info',
        code: 'listing.tiny-after-full',
        file: s.name,
        offset: null,
        ...findingText('finding.listing.tiny-after-full.message', { file: s.name, size }),
      });
    }
  }
  if (open.length) {
    findings.push({
      severity: 'info',
      code: 'listing.open-segments',
      file: open[0].name,
      offset: null,
      ...findingText('finding.listing.open-segments.message', { count: open.length, files: open.map((o) => o.name).join(', ') }),
    });
  }
  const lastClosed = closed[closed.length - 1];
  if (chosen && lastClosed && (lastClosed.last ?? 0) < chosen.index) {
    findings.push({
      severity: 'info',
      code: 'listing.snapshot-ahead',
      file: `${chosen.file}.meta`,
      offset: null,
      ...findingText('finding.listing.snapshot-ahead.message', { index: chosen.index, last: String(lastClosed.last) }),
    });
  }

  // What uvFilterSegments would keep.
  const roleOf = new Map<string, SegmentInfo['role']>();
  if (chosen) {
    tell(say('dqlite.listing.narrative.snapshot', { file: chosen.file, index: chosen.index }));
    const f = filterSegments(sorted, chosen.index, chosen.file);
    if (f.ok) {
      if (f.note) tell(f.note);
      for (const s of f.ignored) roleOf.set(s.name, 'ignored');
      for (const s of f.kept) roleOf.set(s.name, 'loaded');
      if (f.ignored.length) tell(say('dqlite.listing.narrative.ignored', { count: f.ignored.length }));
      const keptClosed = f.kept.filter((s) => s.kind === 'closed');
      if (keptClosed.length) {
        const chain = { count: keptClosed.length, first: keptClosed[0].name, last: keptClosed[keptClosed.length - 1].name, open: open.length };
        tell(say(open.length ? 'dqlite.listing.narrative.chain.open' : 'dqlite.listing.narrative.chain', chain));
      } else {
        tell(say(open.length ? 'dqlite.listing.narrative.snapshot-only.open' : 'dqlite.listing.narrative.snapshot-only', { open: open.length }));
      }
      const coveredChain = keptClosed.filter((s) => (s.last ?? 0) <= chosen.index);
      if (coveredChain.length) tell(say('dqlite.listing.narrative.covered', { count: coveredChain.length }));
    } else {
      tell(say('dqlite.listing.narrative.fails', { error: f.text }));
      findings.push({
        severity: 'error',
        code: 'loader.past-snapshot',
        file: f.file,
        offset: null,
        ...findingText('finding.loader.past-snapshot.message.listing'),
        engineError: f.text,
      });
    }
  } else {
    tell(say('dqlite.listing.narrative.no-snapshot'));
    for (const s of sorted) roleOf.set(s.name, 'loaded');
    if (closed.length && closed[0].first !== 1) {
      findings.push({
        severity: 'error',
        code: 'loader.unexpected-segment',
        file: closed[0].name,
        offset: null,
        ...findingText('finding.loader.unexpected-segment.message.listing'),
        engineError: `unexpected closed segment ${closed[0].name}: first index should have been 1`,
      });
    }
  }

  // The log's word on where start-up fails outranks every guess from sizes.
  const failing = engineError?.file ? sorted.find((s) => s.name === engineError.file) : undefined;
  let startable: boolean | null = null;
  let plan: RepairPlan | null = null;
  if (engineError) {
    startable = engineError.file === null || failing !== undefined ? false : null;
    if (engineError.file !== null && !failing) {
      findings.push({
        severity: 'warning',
        code: 'listing.log-file-missing',
        file: null,
        offset: null,
        ...findingText('finding.listing.log-file-missing.message', { file: engineError.file }),
        engineError: engineError.text,
      });
    } else {
      findings.push({
        severity: 'error',
        code: 'listing.log-start-fails',
        file: engineError.file,
        offset: engineError.offset,
        ...findingText('finding.listing.log-start-fails.message', { file: engineError.file ?? '-' }),
        engineError: engineError.text,
      });
      tell(say('dqlite.listing.narrative.log', { error: engineError.text }));
      if (failing) roleOf.set(failing.name, 'fails');
      plan = listingPlan(sorted, chosen, failing ?? null, engineError, backendLocation(opts.backend));
    }
  }

  // What to copy out for a full validation: every file the loader reads, plus suspicious ones.
  if (failing) want(failing.name, say('dqlite.listing.why.log'));
  for (const f of findings) if (f.file && names.has(f.file) && f.severity !== 'info') want(f.file, titled(f.code, f.message));
  for (const s of sorted) if (roleOf.get(s.name) === 'loaded') want(s.name, say('dqlite.listing.why.loaded'));
  if (chosen) {
    want(`${chosen.file}.meta`, say('dqlite.listing.why.snapshot-meta'));
    want(chosen.file, say('dqlite.listing.why.snapshot-data'));
  }
  for (const n of ['metadata1', 'metadata2', 'cluster.yaml', 'info.yaml'])
    if (names.has(n)) want(n, say(n.startsWith('metadata') ? 'dqlite.listing.why.metadata' : 'dqlite.listing.why.membership'));

  const findingsByFile = new Map<string, Finding[]>();
  for (const f of findings) {
    if (f.file === null) continue;
    const list = findingsByFile.get(f.file);
    if (list) list.push(f);
    else findingsByFile.set(f.file, [f]);
  }
  const segments: SegmentInfo[] = sorted.map((s) => {
    const mine = findingsByFile.get(s.name) ?? [];
    const bad = s === failing;
    return {
      file: s.name,
      kind: s.kind,
      size: s.scan.size,
      firstIndex: s.first,
      lastIndex: s.last,
      ...(s.kind === 'open' ? { counter: s.counter ?? 0 } : {}),
      batches: 0,
      entries: 0,
      validBytes: bad && engineError?.offset !== null && engineError?.offset !== undefined ? engineError.offset : s.scan.size,
      lastValidIndex: null,
      status: bad ? 'bad' : mine.some((f) => f.severity !== 'info') ? 'warning' : 'ok',
      badOffset: bad ? (engineError?.offset ?? null) : null,
      findingCodes: mine.map((f) => f.code),
      role: roleOf.get(s.name) ?? 'not-read',
      terms: null,
    };
  });
  return {
    entries,
    segments,
    snapshots,
    findings,
    copyOut,
    narrative: told.map((x) => x.text),
    narrativeText: told.map((x) => x.local),
    engineError,
    startable,
    plan,
  };
}

/** A finding's short title as the copy-out reason (`finding.<code>`), so the file is not named twice. */
function titled(code: string, fallback: string): { text: string; local: LocalText } {
  return { text: FINDING_TITLES_EN[code] ?? fallback, local: { key: `finding.${code}` } };
}

/**
 * The repair as far as names and sizes allow, once a log names the failing
 * file. A closed segment whose entries all sit inside the chosen snapshot is
 * moved aside (nothing is lost: the field report's case); the names then say
 * whether the rest of the chain loads. Anything else needs the file's bytes
 * (how many entries its good batches hold), so the plan says to copy it out.
 */
function listingPlan(
  sorted: SimSegment[],
  chosen: SnapshotInfo | null,
  failing: SimSegment | null,
  engineError: { text: string; file: string | null; offset: number | null },
  backend: BackendLocation,
): RepairPlan {
  const copyAdds = say('dqlite.listing.plan.copy-out-adds');
  const needsCopy = (why: Said): RepairPlan => {
    const notes = [why, copyAdds];
    return {
      backend,
      needed: true,
      startsAfter: false,
      steps: notes.map((n) => ({ kind: 'note' as const, command: '', explanation: n.text, explanationText: n.local })),
      lost: [],
      summary: why.text,
      summaryText: why.local,
    };
  };
  if (!failing || failing.kind !== 'closed' || !/^load closed segment /.test(engineError.text)) {
    return needsCopy(say('dqlite.listing.plan.needs-copy', { file: engineError.file ?? '-' }));
  }
  const first = failing.first ?? 0;
  const last = failing.last ?? 0;
  if (!chosen || last > chosen.index) {
    return needsCopy(say('dqlite.listing.plan.needs-copy.truncate', { file: failing.name, offset: engineError.offset ?? '-', first, last }));
  }
  // Without it, does the chain the loader keeps still reach the snapshot? (uvFilterSegments on the names.)
  const rest = sorted.filter((s) => s !== failing);
  const f = filterSegments(rest, chosen.index, chosen.file);
  if (!f.ok) return needsCopy(say('dqlite.listing.plan.needs-copy', { file: failing.name }));
  const inside = say('dqlite.repair.note.inside-snapshot', { file: failing.name, first, last, snapshot: chosen.index });
  const steps = planSteps([{ op: 'quarantine', file: failing.name }], [inside, copyAdds], rest.concat(failing), backend);
  const summary = say('dqlite.listing.plan.summary.inside-snapshot', { file: failing.name, first, last, snapshot: chosen.index });
  return {
    backend,
    needed: true,
    startsAfter: true,
    steps,
    lost: [
      { file: failing.name, first, last, coveredBySnapshot: true, reason: `${failing.name} is moved aside; snapshot ${chosen.index} holds all its entries` },
    ],
    summary: summary.text,
    summaryText: summary.local,
  };
}
