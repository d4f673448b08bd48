/** Small display helpers for the log view (times in UTC, one-line windows around a match). */
import type { LogRecord, SignatureMatch } from '../../../../shared/logs/types';

export function formatTime(t: number | null, withDate = true): string {
  if (t === null) return '';
  const iso = new Date(t).toISOString();
  return withDate ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso.slice(11, 19);
}

export function formatTimeMs(t: number | null): string {
  if (t === null) return '';
  const iso = new Date(t).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** "+08:00" style label for a zone offset in minutes. */
export function zoneLabel(minutes: number): string {
  const sign = minutes < 0 ? '−' : '+';
  const m = Math.abs(minutes);
  return `${sign}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

export const ZONE_CHOICES: readonly number[] = [
  -720, -660, -600, -540, -480, -420, -360, -300, -240, -180, -120, -60, 0, 60, 120, 180, 210, 240, 270, 300, 330, 345, 360, 390, 420, 480, 525, 540, 570, 600,
  630, 660, 720, 765, 780, 840,
];

export interface RowText {
  before: string;
  marked: string;
  after: string;
}

const ROW_CHARS = 400;
const LEAD = 24;

/**
 * The one line of a record to show in the list: the line holding the match
 * (a match deep in a multi-line dump or a 2 KB kubelet line must be visible),
 * cut to a window that starts a little before the match.
 */
export function rowText(record: LogRecord, match: SignatureMatch | null): RowText {
  const text = record.text;
  if (!match) {
    const nl = text.indexOf('\n');
    return { before: (nl === -1 ? text : text.slice(0, nl)).slice(0, ROW_CHARS), marked: '', after: '' };
  }
  const lineStart = text.lastIndexOf('\n', match.span.start - 1) + 1;
  let lineEnd = text.indexOf('\n', match.span.start);
  if (lineEnd === -1) lineEnd = text.length;
  const markEnd = Math.min(match.span.end, lineEnd);
  const from = match.span.start - lineStart > LEAD ? match.span.start - LEAD : lineStart;
  const prefix = from > lineStart ? '…' : '';
  return {
    before: prefix + text.slice(from, match.span.start),
    marked: text.slice(match.span.start, markEnd),
    after: text.slice(markEnd, Math.min(lineEnd, markEnd + ROW_CHARS)),
  };
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
