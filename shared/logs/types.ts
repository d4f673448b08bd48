/**
 * What the log reader produces: records split out of pasted or fetched text,
 * the failure signatures they match, and the timeline drawn from them. All
 * plain data (structured-clone safe) so a Web Worker can post it.
 */

/** How serious a matched line is: `critical` = the datastore cannot start. */
export type LogSeverity = 'critical' | 'error' | 'warning' | 'info';

/** Which part of the stack logged the failure (drives lanes' colours and the story order). */
export type LogEngine = 'dqlite' | 'etcd' | 'kubernetes' | 'runtime';

/**
 * Where in the cause-and-effect chain a failure sits: the host (disk, memory),
 * the datastore, the API server that needs it, the node agents that need the
 * API server, then the operator's client.
 */
export type LogStage = 'host' | 'datastore' | 'apiserver' | 'node' | 'client';

export const STAGE_ORDER: readonly LogStage[] = ['host', 'datastore', 'apiserver', 'node', 'client'];

export type LogFormat = 'journald' | 'klog' | 'json' | 'logrus' | 'iso' | 'capnslog' | 'golog' | 'panic' | 'plain';

export type LogLevel = 'fatal' | 'error' | 'warning' | 'info' | 'debug';

/**
 * A timestamp as written. Journald short and klog carry no year: those keep
 * `year: null` and a `yearShift` (how many new years were crossed since the
 * start of the source) until the analysis picks the base year.
 */
export interface Stamp {
  year: number | null;
  yearShift: number;
  month: number; // 1-12
  day: number;
  /** Milliseconds since midnight, as written. */
  msOfDay: number;
  /** Minutes east of UTC when the text says so (Z, +08:00), else null = the node's local clock. */
  zoneMinutes: number | null;
}

/** One log event: a line, or a line plus its continuation lines (a goroutine trace, a JSON dump). */
export interface LogRecord {
  /** Index in `LogAnalysis.records`. */
  id: number;
  source: string;
  /** 1-based line number of the first line in its source. */
  line: number;
  lineCount: number;
  format: LogFormat;
  level: LogLevel | null;
  /** journald identifier (kubelet, systemd, etcd…) or null. */
  unit: string | null;
  /** Milliseconds since the epoch (UTC), or null when the source has no times at all. */
  time: number | null;
  /** The time is borrowed from a neighbouring record (the line itself has none). */
  timeApprox: boolean;
  /** Record text with ANSI codes and CRs removed, capped (see `truncated`). */
  text: string;
  /** Characters or lines were dropped because the record was too long. */
  truncated: boolean;
  /** Ids of matches on this record (into `LogAnalysis.matches`). */
  matchIds: number[];
}

export interface SignatureMatch {
  id: number;
  recordId: number;
  signatureId: string;
  engine: LogEngine;
  severity: LogSeverity;
  stage: LogStage;
  /** Captured values: segment names, batch numbers, byte offsets, peer URLs, member ids… */
  fields: Record<string, string>;
  /** The matched span in the record text, [start, end). */
  span: { start: number; end: number };
  time: number | null;
  timeApprox: boolean;
  /** Lane id (source + unit). */
  lane: string;
}

export interface TimelineLane {
  id: string;
  source: string;
  unit: string | null;
  /** Number of matches in this lane. */
  matches: number;
}

/** A run of the same signature in one lane, collapsed into one marker. */
export interface TimelineEvent {
  id: number;
  lane: string;
  signatureId: string;
  severity: LogSeverity;
  stage: LogStage;
  engine: LogEngine;
  first: number | null;
  last: number | null;
  count: number;
  /** Match ids in this burst (capped; `count` is exact). */
  matchIds: number[];
  /** Fields of the first match, for labels. */
  fields: Record<string, string>;
  /** What failed, when the matches name it (containers, units, components), distinct, at most a few. */
  subjects: string[];
}

export interface StoryStep {
  stage: LogStage;
  eventId: number;
  signatureId: string;
  lane: string;
  time: number | null;
  /** How many times this signature was seen in the whole analysis. */
  count: number;
  fields: Record<string, string>;
  /** Everything of this signature in this stage that failed (e.g. both etcd and kube-apiserver crash-looping). */
  subjects: string[];
  /**
   * The logs show this effect only before the step above it (different rounds
   * of a repeating failure were captured); the UI says so rather than showing
   * times that run backwards without a word.
   */
  earlierThanCause: boolean;
}

export interface SourceSummary {
  name: string;
  chars: number;
  lines: number;
  records: number;
  formats: LogFormat[];
  firstTime: number | null;
  lastTime: number | null;
  /** The year used for lines that carry none, or null when none was needed. */
  yearInferred: number | null;
  /** Offset applied to times without a zone, in minutes east of UTC. */
  zoneMinutes: number;
  truncatedRecords: number;
  matches: number;
}

/** Things the user should know about how the text was read; `code` is an i18n key suffix. */
export interface AnalysisNote {
  code: 'year-inferred' | 'year-assumed' | 'records-elided' | 'matches-elided' | 'records-truncated' | 'no-times' | 'clock-skew' | 'nothing-matched';
  source: string | null;
  params: Record<string, string | number>;
}

export interface LogAnalysis {
  sources: SourceSummary[];
  /** Kept records: all of them up to a memory budget, then only matched ones. */
  records: LogRecord[];
  matches: SignatureMatch[];
  /** Records not kept (beyond the budget and without a match). */
  elidedRecords: number;
  lanes: TimelineLane[];
  events: TimelineEvent[];
  story: StoryStep[];
  /** Time range of all timed matches, or null. */
  range: { start: number; end: number } | null;
  notes: AnalysisNote[];
  /** Per signature: how many matches there were in total (including elided ones). */
  counts: Record<string, number>;
}

export interface SourceOptions {
  /** Minutes east of UTC for times written without a zone (journald short, klog). Default 0. */
  zoneMinutes?: number;
}

export interface AnalyzeOptions {
  /** "Now", for choosing a year when no line carries one. Default: the current time. */
  now?: number;
  /** Keep every record until this many characters are held (then only matched ones). */
  maxKeptChars?: number;
  /** Stop recording individual matches beyond this many (counts stay exact). */
  maxMatches?: number;
}
