/**
 * Pasted directory listings (`ls -l`, `ll`, `ls -l --time-style=full-iso`):
 * names and sizes alone already tell where each segment and snapshot sits
 * on the index axis, what uvFilterSegments would keep, and which files are
 * worth copying out for a full validation.
 */
import type { SegmentInfo, SnapshotInfo } from '../../contract/dqlite';
import type { Finding } from '../../contract/findings';
import type { ListingAnalysis, ListingEntry } from '../../contract/listing';
import { filterSegments, type SimSegment } from './loader';
import { emptySegmentScan } from './segment';
import { classifyName } from './segment-name';
import { libraftSegmentOrder } from './segment-order';
import { findingText } from './say';

const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const DATE =
  `(\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?(?: [+-]\\d{4})?` + // full-iso / long-iso
  `|${MONTH}\\s+\\d{1,2}\\s+(?:\\d{1,2}:\\d{2}|\\d{4})` + // Jan 28 00:41 / Jan 28  2024
  `|\\d{1,2}\\s+${MONTH}\\s+(?:\\d{1,2}:\\d{2}|\\d{4}))`; // 28 Jan 00:41
const LINE = new RegExp(`^([-dlcbps][-rwxsStTl]{9}[.+@]?)\\s+\\d+\\s+\\S+\\s+\\S+\\s+(\\d+)\\s+${DATE}\\s+(.+)$`);
const BLOCK_SIZE = 4096;
const SEGMENT_SIZE = 8 * 1024 * 1024;

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


export function analyzeListing(text: string): ListingAnalysis {
  const { entries, skipped } = parseListing(text);
  const findings: Finding[] = [];
  const narrative: string[] = [];
  const copyOut: { file: string; why: string }[] = [];
  // Everything below is O(n log n) at most: a backend can hold tens of thousands of segments.
  const wanted = new Set<string>();
  const want = (file: string, why: string) => {
    if (wanted.has(file)) return;
    wanted.add(file);
    copyOut.push({ file, why });
  };
  if (skipped.length) {
    findings.push({ severity: 'info', code: 'listing.unparsed-lines', file: null, offset: null, ...findingText('finding.listing.unparsed-lines.message', { count: skipped.length }) });
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
      if (!data) findings.push({ severity: 'warning', code: 'snapshot.orphan-meta', file: e.name, offset: null, ...findingText('finding.snapshot.orphan-meta.message', { file: e.name }) });
    } else if (c.kind === 'snapshot-data' && !names.has(c.metaName)) {
      findings.push({ severity: 'warning', code: 'snapshot.orphan-data', file: e.name, offset: null, ...findingText('finding.snapshot.orphan-data.message', { file: e.name }) });
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
      findings.push({ severity: 'error', code: 'listing.overlap', file: b.name, offset: null, ...findingText('finding.listing.overlap.message', { file: b.name, previous: a.name }) });
    }
  }
  for (let i = 0; i < closed.length; i++) {
    const s = closed[i];
    const size = s.scan.size;
    if ((s.first ?? 0) > (s.last ?? 0)) findings.push({ severity: 'error', code: 'listing.bad-range', file: s.name, offset: null, ...findingText('finding.listing.bad-range.message', { file: s.name }) });
    if (size === 0) findings.push({ severity: 'error', code: 'listing.empty-segment', file: s.name, offset: null, ...findingText('finding.listing.empty-segment.message', { file: s.name }) });
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
    narrative.push(`The loader takes the newest snapshot ${chosen.file} (index ${chosen.index}).`);
    const f = filterSegments(sorted, chosen.index, chosen.file);
    if (f.ok) {
      if (f.note) narrative.push(f.note.text);
      for (const s of f.ignored) roleOf.set(s.name, 'ignored');
      for (const s of f.kept) roleOf.set(s.name, 'loaded');
      if (f.ignored.length) narrative.push(`${f.ignored.length} closed segment(s) before the newest contiguous chain are ignored.`);
      const keptClosed = f.kept.filter((s) => s.kind === 'closed');
      narrative.push(
        keptClosed.length
          ? `It would read ${keptClosed.length} closed segment(s) from ${keptClosed[0].name} to ${keptClosed[keptClosed.length - 1].name}${open.length ? `, then ${open.length} open segment(s)` : ''}; a damaged file anywhere in that chain except the last closed one stops start-up.`
          : `It would start from the snapshot${open.length ? ` and the ${open.length} open segment(s)` : ''}.`,
      );
      const coveredChain = keptClosed.filter((s) => (s.last ?? 0) <= chosen.index);
      if (coveredChain.length) {
        narrative.push(
          `${coveredChain.length} of those closed segments hold only entries already inside the snapshot: if one of them is damaged, moving it aside creates a gap and the loader then ignores everything before the gap, so start-up works and nothing is lost. This is why deleting such a file "works".`,
        );
      }
    } else {
      narrative.push(`Start-up fails: ${f.text}.`);
      findings.push({ severity: 'error', code: 'loader.past-snapshot', file: f.file, offset: null, ...findingText('finding.loader.past-snapshot.message.listing'), engineError: f.text });
    }
  } else {
    narrative.push('No snapshot: the loader reads every segment from index 1.');
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

  // What to copy out for a full validation: every file the loader reads, plus suspicious ones.
  for (const f of findings) if (f.file && names.has(f.file) && f.severity !== 'info') want(f.file, f.message);
  for (const s of sorted) if (roleOf.get(s.name) === 'loaded') want(s.name, 'read by the loader at start-up');
  if (chosen) {
    want(`${chosen.file}.meta`, 'the snapshot the loader would take (metadata)');
    want(chosen.file, 'the snapshot the loader would take (data)');
  }
  for (const n of ['metadata1', 'metadata2', 'cluster.yaml', 'info.yaml']) if (names.has(n)) want(n, n.startsWith('metadata') ? 'raft term and vote' : 'membership cache');

  const findingsByFile = new Map<string, Finding[]>();
  for (const f of findings) {
    if (f.file === null) continue;
    const list = findingsByFile.get(f.file);
    if (list) list.push(f);
    else findingsByFile.set(f.file, [f]);
  }
  const segments: SegmentInfo[] = sorted.map((s) => ({
    file: s.name,
    kind: s.kind,
    size: s.scan.size,
    firstIndex: s.first,
    lastIndex: s.last,
    ...(s.kind === 'open' ? { counter: s.counter ?? 0 } : {}),
    batches: 0,
    entries: 0,
    validBytes: s.scan.size,
    lastValidIndex: null,
    status: (findingsByFile.get(s.name) ?? []).some((f) => f.severity !== 'info') ? 'warning' : 'ok',
    badOffset: null,
    findingCodes: (findingsByFile.get(s.name) ?? []).map((f) => f.code),
    role: roleOf.get(s.name) ?? 'not-read',
    terms: null,
  }));
  return { entries, segments, snapshots, findings, copyOut, narrative };
}
