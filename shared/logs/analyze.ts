/**
 * The log analysis API: feed one or more named sources (pasted text, a file
 * read in chunks, an SSH command's output), get records, matched failure
 * signatures, the timeline and the story. Memory is bounded: records are
 * kept until a character budget, after that only matched ones.
 *
 *   analyzeLogText('kubelet journal', text)          // one source, all at once
 *   const a = new LogAnalyzer(); const s = a.beginSource('etcd'); s.push(chunk)…; s.end(); a.finish()
 */
import { RecordAssembler, type ParsedRecord } from './parse';
import { SignatureMatcher } from './match';
import { buildTimeline, laneId } from './timeline';
import type { AnalysisNote, AnalyzeOptions, LogAnalysis, LogFormat, LogRecord, SignatureMatch, SourceOptions, SourceSummary, Stamp } from './types';

export const DEFAULT_MAX_KEPT_CHARS = 8_000_000;
export const DEFAULT_MAX_MATCHES = 20_000;
/** Text of matched records may exceed the budget by this factor before they, too, are only counted. */
const MATCHED_BUDGET_FACTOR = 2;
/** Zones written as text are trusted; journald/klog times get the source's zone. */
const MINUTE = 60_000;

interface SourceState {
  name: string;
  zoneMinutes: number;
  assembler: RecordAssembler;
  records: number;
  formats: Set<LogFormat>;
  yearCounts: Map<number, number>;
  yearless: boolean;
  truncatedRecords: number;
  matches: number;
  lastStamp: Stamp | null;
  firstStamp: Stamp | null;
  /** Kept records before the first timed one: they borrow its time. */
  pendingUntimed: number[];
  ended: boolean;
  units: (string | null)[];
}

export interface LogSourceStream {
  readonly name: string;
  push(chunk: string): void;
  end(): void;
}

let sharedMatcher: SignatureMatcher | null = null;
function matcher(): SignatureMatcher {
  return (sharedMatcher ??= new SignatureMatcher());
}

export function stampToEpoch(stamp: Stamp, baseYear: number, zoneMinutes: number): number {
  const year = stamp.year ?? baseYear + stamp.yearShift;
  const zone = stamp.zoneMinutes ?? zoneMinutes;
  return Date.UTC(year, stamp.month - 1, stamp.day) + stamp.msOfDay - zone * MINUTE;
}

export class LogAnalyzer {
  private readonly sources: SourceState[] = [];
  private readonly records: LogRecord[] = [];
  private readonly recordStamps: (Stamp | null)[] = [];
  private readonly recordSource: SourceState[] = [];
  private readonly matches: SignatureMatch[] = [];
  private readonly counts: Record<string, number> = {};
  private keptChars = 0;
  private elidedRecords = 0;
  private elidedMatches = 0;
  private readonly maxKeptChars: number;
  private readonly maxMatches: number;
  private readonly now: number;
  private finished = false;

  constructor(opts: AnalyzeOptions = {}) {
    this.maxKeptChars = opts.maxKeptChars ?? DEFAULT_MAX_KEPT_CHARS;
    this.maxMatches = opts.maxMatches ?? DEFAULT_MAX_MATCHES;
    this.now = opts.now ?? Date.now();
  }

  beginSource(name: string, opts: SourceOptions = {}): LogSourceStream {
    if (this.finished) throw new Error('analysis already finished');
    const unique = this.uniqueName(name.trim() || `source ${this.sources.length + 1}`);
    const zone = opts.zoneMinutes ?? 0;
    const state: SourceState = {
      name: unique,
      zoneMinutes: Number.isFinite(zone) && Math.abs(zone) <= 14 * 60 ? zone : 0,
      assembler: new RecordAssembler((r) => this.onRecord(state, r)),
      records: 0,
      formats: new Set(),
      yearCounts: new Map(),
      yearless: false,
      truncatedRecords: 0,
      matches: 0,
      lastStamp: null,
      firstStamp: null,
      pendingUntimed: [],
      ended: false,
      units: [],
    };
    this.sources.push(state);
    return {
      name: unique,
      push: (chunk) => {
        if (!state.ended) state.assembler.push(chunk);
      },
      end: () => {
        if (state.ended) return;
        state.ended = true;
        state.assembler.end();
      },
    };
  }

  private uniqueName(name: string): string {
    const taken = new Set(this.sources.map((s) => s.name));
    if (!taken.has(name)) return name;
    for (let i = 2; ; i++) if (!taken.has(`${name} (${i})`)) return `${name} (${i})`;
  }

  private onRecord(src: SourceState, r: ParsedRecord): void {
    src.records++;
    src.formats.add(r.format);
    if (r.truncated) src.truncatedRecords++;
    if (r.stamp) {
      if (r.stamp.year !== null) src.yearCounts.set(r.stamp.year, (src.yearCounts.get(r.stamp.year) ?? 0) + 1);
      else src.yearless = true;
      src.firstStamp ??= r.stamp;
      src.lastStamp = r.stamp;
      for (const id of src.pendingUntimed) this.recordStamps[id] = r.stamp;
      src.pendingUntimed = [];
    }

    const found = matcher().match(r.text);
    for (const f of found) this.counts[f.signature.id] = (this.counts[f.signature.id] ?? 0) + 1;
    src.matches += found.length;

    const budget = found.length > 0 ? this.maxKeptChars * MATCHED_BUDGET_FACTOR : this.maxKeptChars;
    if (this.keptChars + r.text.length > budget || (found.length > 0 && this.matches.length + found.length > this.maxMatches)) {
      this.elidedRecords++;
      this.elidedMatches += found.length;
      return;
    }
    this.keptChars += r.text.length;

    const id = this.records.length;
    const stamp = r.stamp ?? src.lastStamp;
    if (!stamp) src.pendingUntimed.push(id);
    if (!src.units.includes(r.unit)) src.units.push(r.unit);
    const lane = laneId(src.name, r.unit);
    const record: LogRecord = {
      id,
      source: src.name,
      line: r.line,
      lineCount: r.lineCount,
      format: r.format,
      level: r.level,
      unit: r.unit,
      time: null,
      timeApprox: r.stamp === null,
      text: r.text,
      truncated: r.truncated,
      matchIds: [],
    };
    for (const f of found) {
      const m: SignatureMatch = {
        id: this.matches.length,
        recordId: id,
        signatureId: f.signature.id,
        engine: f.signature.engine,
        severity: f.signature.severity,
        stage: f.stage,
        fields: f.fields,
        span: f.span,
        time: null,
        timeApprox: r.stamp === null,
        lane,
      };
      this.matches.push(m);
      record.matchIds.push(m.id);
    }
    this.records.push(record);
    this.recordStamps.push(stamp);
    this.recordSource.push(src);
  }

  /** Ends every open source and builds the analysis. */
  finish(): LogAnalysis {
    for (const s of this.sources) {
      if (!s.ended) {
        s.ended = true;
        s.assembler.end();
      }
    }
    this.finished = true;
    const notes: AnalysisNote[] = [];

    // The year for journald/klog lines: the one the other lines (etcd JSON, ISO stamps) carry, else the clock's.
    const years = new Map<number, number>();
    for (const s of this.sources) for (const [y, n] of s.yearCounts) years.set(y, (years.get(y) ?? 0) + n);
    let baseYear: number;
    let fromOtherLines = false;
    if (years.size > 0) {
      baseYear = [...years.entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0][0];
      fromOtherLines = true;
    } else {
      baseYear = new Date(this.now).getUTCFullYear();
      // A journal from December read in January belongs to last year.
      const latest = this.sources.map((s) => s.lastStamp).filter((x): x is Stamp => x !== null && x.year === null);
      if (latest.some((st) => stampToEpoch(st, baseYear, 0) > this.now + 2 * 86_400_000)) baseYear--;
    }

    for (let i = 0; i < this.records.length; i++) {
      const st = this.recordStamps[i];
      this.records[i].time = st ? stampToEpoch(st, baseYear, this.recordSource[i].zoneMinutes) : null;
    }
    for (const m of this.matches) m.time = this.records[m.recordId].time;

    const summaries: SourceSummary[] = this.sources.map((s) => {
      const a = s.firstStamp ? stampToEpoch(s.firstStamp, baseYear, s.zoneMinutes) : null;
      const b = s.lastStamp ? stampToEpoch(s.lastStamp, baseYear, s.zoneMinutes) : null;
      if (s.yearless)
        notes.push({ code: fromOtherLines ? 'year-inferred' : 'year-assumed', source: s.name, params: { source: s.name, year: String(baseYear) } });
      if (s.records > 0 && !s.firstStamp) notes.push({ code: 'no-times', source: s.name, params: { source: s.name } });
      if (s.truncatedRecords > 0) notes.push({ code: 'records-truncated', source: s.name, params: { source: s.name, n: s.truncatedRecords } });
      return {
        name: s.name,
        chars: s.assembler.chars,
        lines: s.assembler.lines,
        records: s.records,
        formats: [...s.formats],
        firstTime: a !== null && b !== null ? Math.min(a, b) : a,
        lastTime: a !== null && b !== null ? Math.max(a, b) : b,
        yearInferred: s.yearless ? baseYear : null,
        zoneMinutes: s.zoneMinutes,
        truncatedRecords: s.truncatedRecords,
        matches: s.matches,
      };
    });
    notes.push(...clockSkewNotes(summaries, this.sources));
    if (this.elidedRecords > 0) notes.push({ code: 'records-elided', source: null, params: { n: this.elidedRecords } });
    if (this.elidedMatches > 0) notes.push({ code: 'matches-elided', source: null, params: { n: this.elidedMatches } });
    if (this.matches.length === 0 && this.elidedMatches === 0) notes.push({ code: 'nothing-matched', source: null, params: {} });

    // One lane per unit with matches; a source with none keeps one empty lane, so "nothing found here" is visible too.
    const used = new Set(this.matches.map((m) => m.lane));
    const lanes: { source: string; unit: string | null }[] = [];
    for (const s of this.sources) {
      const withMatches = s.units.filter((unit) => used.has(laneId(s.name, unit)));
      if (withMatches.length > 0) lanes.push(...withMatches.map((unit) => ({ source: s.name, unit })));
      else lanes.push({ source: s.name, unit: null });
    }
    const timeline = buildTimeline(this.matches, lanes, this.counts);

    return {
      sources: summaries,
      records: this.records,
      matches: this.matches,
      elidedRecords: this.elidedRecords,
      lanes: timeline.lanes,
      events: timeline.events,
      story: timeline.story,
      range: timeline.range,
      notes,
      counts: { ...this.counts },
    };
  }
}

/**
 * Times without a zone are read in the zone chosen for their source (UTC by
 * default). When one source sits whole hours away from all the others, its
 * clock is probably in another zone: say so rather than draw a false order.
 */
function clockSkewNotes(summaries: SourceSummary[], states: SourceState[]): AnalysisNote[] {
  const notes: AnalysisNote[] = [];
  const timed = summaries.filter((s) => s.firstTime !== null && s.lastTime !== null);
  if (timed.length < 2) return notes;
  for (const s of timed) {
    const state = states.find((x) => x.name === s.name);
    if (!state?.yearless) continue; // only zone-less clocks (journald short, klog) can be off by a zone
    const others = timed.filter((o) => o !== s);
    const lo = Math.min(...others.map((o) => o.firstTime as number));
    const hi = Math.max(...others.map((o) => o.lastTime as number));
    const first = s.firstTime as number;
    const last = s.lastTime as number;
    const gap = first > hi ? first - hi : lo > last ? last - lo : 0;
    // A zone is at most 14 hours away; larger gaps are simply different days.
    if (Math.abs(gap) >= 50 * MINUTE && Math.abs(gap) <= 14 * 60 * MINUTE) {
      const mid = (first + last) / 2 - (lo + hi) / 2;
      notes.push({ code: 'clock-skew', source: s.name, params: { source: s.name, hours: Math.round(mid / 3_600_000) } });
    }
  }
  return notes;
}

/** One source, all text at once: the API the SSH side reuses for fetched journals. */
export function analyzeLogText(source: string, text: string, opts: AnalyzeOptions & SourceOptions = {}): LogAnalysis {
  return analyzeLogSources([{ name: source, text, zoneMinutes: opts.zoneMinutes }], opts);
}

export interface LogSourceText extends SourceOptions {
  name: string;
  text: string;
}

/** Several named sources (kubelet journal, etcd container log…) on one timeline. */
export function analyzeLogSources(sources: readonly LogSourceText[], opts: AnalyzeOptions = {}): LogAnalysis {
  const analyzer = new LogAnalyzer(opts);
  const CHUNK = 1 << 20;
  for (const s of sources) {
    const stream = analyzer.beginSource(s.name, { zoneMinutes: s.zoneMinutes });
    for (let i = 0; i < s.text.length; i += CHUNK) stream.push(s.text.slice(i, i + CHUNK));
    stream.end();
  }
  return analyzer.finish();
}
