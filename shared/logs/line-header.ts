/**
 * Recognises the start of a log record in one line: journald (short,
 * short-precise, short-iso, short-full), klog, etcd/zap JSON, logrus,
 * capnslog (etcd ≤ 3.4), ISO-prefixed lines (docker --timestamps, CRI log
 * files) and Go's log package. A line with none of these is a continuation
 * or plain text; the caller decides.
 */
import type { LogFormat, LogLevel, Stamp } from './types';

export interface LineHeader {
  format: LogFormat;
  stamp: Stamp | null;
  level: LogLevel | null;
  unit: string | null;
  /** The text after the header (the journald payload, the klog message…). */
  message: string;
}

const MONTHS: Record<string, number> = { Jan: 1, Feb: 2, Mar: 3, Apr: 4, May: 5, Jun: 6, Jul: 7, Aug: 8, Sep: 9, Oct: 10, Nov: 11, Dec: 12 };

const JOURNAL_SHORT = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? (\S+) ([^\s[:]+)(?:\[(\d+)\])?: ?(.*)$/s;
const JOURNAL_ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})) (\S+) ([^\s[:]+)(?:\[(\d+)\])?: ?(.*)$/s;
// `journalctl -o short-full`: "Wed 2024-03-13 12:33:27 CST host unit[pid]: msg"; zone names are ambiguous, so only UTC/GMT/offsets count.
const JOURNAL_FULL = /^[A-Z][a-z]{2} (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,9})?) ([A-Z]{2,5}|[+-]\d{4}) (\S+) ([^\s[:]+)(?:\[(\d+)\])?: ?(.*)$/s;
const KLOG = /^([IWEF])(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{1,9})\s+\d+ ([^\]\s]+)\] ?(.*)$/s;
const ISO_PREFIX = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z| ?[+-]\d{2}:?\d{2})?)\s+(.*)$/s;
const CAPNSLOG = /^([CEWNIDT]) \| ([\w./-]+): (.*)$/s;
const GOLOG = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? (.*)$/s;
const CRI_STREAM = /^(?:stdout|stderr) [FP] (.*)$/s;
const LOGRUS = /^(?:time="([^"]*)" )?level=(\w+) (.*)$/s;
const ISO_PARTS = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z| ?[+-]\d{2}:?\d{2})?$/;

function fraction(digits: string | undefined): number {
  if (!digits) return 0;
  return Math.floor(Number((digits + '000').slice(0, 3)));
}

function zoneOf(text: string | undefined): number | null {
  if (!text) return null;
  const z = text.trim();
  if (z === 'Z' || z === 'UTC' || z === 'GMT') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(z);
  if (!m) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -minutes : minutes;
}

function validStamp(s: Stamp): Stamp | null {
  if (s.month < 1 || s.month > 12 || s.day < 1 || s.day > 31 || s.msOfDay < 0 || s.msOfDay >= 86_400_000) return null;
  if (s.year !== null && (s.year < 1970 || s.year > 9999)) return null;
  return s;
}

function hms(h: string, m: string, s: string, frac?: string): number {
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000 + fraction(frac);
}

/** "2024-03-13T04:35:41.934Z", "2024-03-13 04:35:41.934123", "2024-03-13T12:33:27+0800". */
export function parseIsoStamp(text: string): Stamp | null {
  const m = ISO_PARTS.exec(text.trim());
  if (!m) return null;
  return validStamp({
    year: Number(m[1]),
    yearShift: 0,
    month: Number(m[2]),
    day: Number(m[3]),
    msOfDay: hms(m[4], m[5], m[6], m[7]),
    zoneMinutes: zoneOf(m[8]),
  });
}

/** zap's default encoder writes ts as float seconds; some configs write milliseconds or ISO text. */
function stampFromJson(ts: unknown): Stamp | null {
  if (typeof ts === 'string') return parseIsoStamp(ts);
  if (typeof ts !== 'number' || !Number.isFinite(ts) || ts <= 0) return null;
  const ms = ts > 1e12 ? ts : ts * 1000;
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return null;
  return validStamp({
    year: d.getUTCFullYear(),
    yearShift: 0,
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    msOfDay: ms - Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()),
    zoneMinutes: 0,
  });
}

export function normalizeLevel(raw: string | undefined | null): LogLevel | null {
  if (!raw) return null;
  switch (raw.toLowerCase()) {
    case 'f':
    case 'c':
    case 'fatal':
    case 'panic':
    case 'dpanic':
    case 'crit':
    case 'critical':
      return 'fatal';
    case 'e':
    case 'err':
    case 'error':
      return 'error';
    case 'w':
    case 'warn':
    case 'warning':
      return 'warning';
    case 'i':
    case 'n':
    case 'info':
    case 'notice':
      return 'info';
    case 'd':
    case 't':
    case 'debug':
    case 'trace':
      return 'debug';
    default:
      return null;
  }
}

interface Payload {
  format: LogFormat;
  stamp: Stamp | null;
  level: LogLevel | null;
  message: string;
}

function jsonPayload(text: string): Payload | null {
  if (text.length < 2 || text.charCodeAt(0) !== 123 /* { */ || text.charCodeAt(text.length - 1) !== 125) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  const ts = o.ts ?? o.time ?? o.timestamp ?? o['@timestamp'];
  const level = typeof o.level === 'string' ? o.level : typeof o.severity === 'string' ? o.severity : undefined;
  if (ts === undefined && level === undefined) return null;
  const msg = typeof o.msg === 'string' ? o.msg : typeof o.message === 'string' ? o.message : '';
  return { format: 'json', stamp: stampFromJson(ts), level: normalizeLevel(level), message: msg };
}

/** The payload formats (also found inside a journald line). */
function payload(text: string): Payload | null {
  const json = jsonPayload(text);
  if (json) return json;
  let m = KLOG.exec(text);
  if (m) {
    return {
      format: 'klog',
      stamp: validStamp({ year: null, yearShift: 0, month: Number(m[2]), day: Number(m[3]), msOfDay: hms(m[4], m[5], m[6], m[7]), zoneMinutes: null }),
      level: normalizeLevel(m[1]),
      message: m[9],
    };
  }
  m = LOGRUS.exec(text);
  if (m && (m[1] !== undefined || /^msg=/.test(m[3]))) {
    return { format: 'logrus', stamp: m[1] ? parseIsoStamp(m[1]) : null, level: normalizeLevel(m[2]), message: m[3] };
  }
  m = GOLOG.exec(text);
  if (m) {
    return {
      format: 'golog',
      stamp: validStamp({ year: Number(m[1]), yearShift: 0, month: Number(m[2]), day: Number(m[3]), msOfDay: hms(m[4], m[5], m[6], m[7]), zoneMinutes: null }),
      level: null,
      message: m[8],
    };
  }
  m = ISO_PREFIX.exec(text);
  if (m) {
    const stamp = parseIsoStamp(m[1]);
    if (stamp) {
      let rest = m[2];
      const cri = CRI_STREAM.exec(rest);
      if (cri) rest = cri[1];
      const capn = CAPNSLOG.exec(rest);
      if (capn) return { format: 'capnslog', stamp, level: normalizeLevel(capn[1]), message: capn[3] };
      // The rest may itself be a klog/JSON line (docker logs --timestamps of a component).
      const inner = rest !== m[2] || rest.startsWith('{') || /^[IWEF]\d{4} /.test(rest) ? payload(rest) : null;
      return { format: 'iso', stamp, level: inner?.level ?? null, message: inner ? inner.message : rest };
    }
  }
  return null;
}

export function readHeader(line: string): LineHeader | null {
  // journald first: its payload may itself be klog, JSON or logrus.
  let m = JOURNAL_SHORT.exec(line);
  if (m && MONTHS[m[1]] !== undefined) {
    const stamp = validStamp({ year: null, yearShift: 0, month: MONTHS[m[1]], day: Number(m[2]), msOfDay: hms(m[3], m[4], m[5], m[6]), zoneMinutes: null });
    if (stamp) {
      const inner = payload(m[10]);
      return { format: 'journald', stamp, level: inner?.level ?? null, unit: m[8], message: m[10] };
    }
  }
  m = JOURNAL_ISO.exec(line);
  if (m) {
    const stamp = parseIsoStamp(m[1]);
    if (stamp) {
      const inner = payload(m[5]);
      return { format: 'journald', stamp, level: inner?.level ?? null, unit: m[3], message: m[5] };
    }
  }
  m = JOURNAL_FULL.exec(line);
  if (m) {
    const stamp = parseIsoStamp(m[1]);
    if (stamp) {
      stamp.zoneMinutes = zoneOf(m[2]);
      const inner = payload(m[6]);
      return { format: 'journald', stamp, level: inner?.level ?? null, unit: m[4], message: m[6] };
    }
  }
  const p = payload(line);
  if (!p) return null;
  return { format: p.format, stamp: p.stamp, level: p.level, unit: null, message: p.message };
}
