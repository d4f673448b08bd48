/**
 * Splits log text into records. A record starts at a line with a recognised
 * header (journald, klog, JSON, logrus…) or at a Go panic; lines without a
 * time attach to the record before them (JSON dumps, goroutine traces). Text
 * is consumed in chunks and every record is capped, so memory stays bounded
 * whatever the input.
 */
import { LineSplitter, type SplitLine } from './line-splitter';
import { readHeader } from './line-header';
import type { LogFormat, LogLevel, Stamp } from './types';

export const MAX_RECORD_CHARS = 64 * 1024;
export const MAX_RECORD_LINES = 2000;

export interface ParsedRecord {
  /** 1-based line number of the first line. */
  line: number;
  lineCount: number;
  format: LogFormat;
  level: LogLevel | null;
  unit: string | null;
  stamp: Stamp | null;
  text: string;
  truncated: boolean;
  /** A Go panic / fatal error and its goroutine trace. */
  panic: boolean;
}

const PANIC_START = /^(?:panic: |fatal error: )/;
// Lines that belong to a goroutine trace (as journald shows them, each with its own header).
const TRACE_LINE = /^(?:$|\s|goroutine \d+ \[|created by |\[signal |exit status |\.\.\.|[\w./*()@-]+\(.*\)$)/;
// journald's own separators: "-- Boot 3f2a… --", "-- No entries --", "-- Logs begin at … --".
const JOURNAL_MARK = /^-- .* --$/;
const CONTINUATION = /^[\s}\])]/;

interface Building {
  line: number;
  lineCount: number;
  format: LogFormat;
  level: LogLevel | null;
  unit: string | null;
  stamp: Stamp | null;
  parts: string[];
  chars: number;
  truncated: boolean;
  panic: boolean;
}

export class RecordAssembler {
  private readonly splitter: LineSplitter;
  private current: Building | null = null;
  private lineNo = 0;
  private lastMonth: number | null = null;
  private yearShift = 0;
  /** Characters seen (for summaries). */
  chars = 0;

  constructor(
    private readonly onRecord: (r: ParsedRecord) => void,
    private readonly maxChars: number = MAX_RECORD_CHARS,
    private readonly maxLines: number = MAX_RECORD_LINES,
  ) {
    this.splitter = new LineSplitter((l) => this.line(l), Math.min(maxChars, 64 * 1024));
  }

  get lines(): number {
    return this.lineNo;
  }

  push(chunk: string): void {
    this.chars += chunk.length;
    this.splitter.push(chunk);
  }

  end(): void {
    this.splitter.end();
    this.flush();
  }

  private line(l: SplitLine): void {
    this.lineNo++;
    const text = l.text;
    const header = text.length > 0 ? readHeader(text) : null;
    const cur = this.current;
    if (header) {
      // A goroutine trace as journald prints it: every line has a header; keep them in the panic record.
      if (
        cur &&
        cur.panic &&
        header.format === 'journald' &&
        cur.unit === header.unit &&
        TRACE_LINE.test(header.message) &&
        !PANIC_START.test(header.message)
      ) {
        this.attach(l);
        return;
      }
      this.flush();
      const stamp = header.stamp ? this.withYearShift(header.stamp) : null;
      const panic = PANIC_START.test(header.message);
      this.start(l, header.format, panic ? 'fatal' : header.level, header.unit, stamp, panic);
      return;
    }
    if (JOURNAL_MARK.test(text)) return;
    if (PANIC_START.test(text)) {
      const unit = cur?.unit ?? null;
      this.flush();
      this.start(l, 'panic', 'fatal', unit, null, true);
      return;
    }
    if (cur && (cur.stamp !== null || cur.panic || text === '' || CONTINUATION.test(text))) {
      this.attach(l);
      return;
    }
    if (text.trim() === '') return;
    this.flush();
    this.start(l, 'plain', null, cur?.unit ?? null, null, false);
  }

  /** Journald and klog omit the year: count the new years crossed (December → January) in this source. */
  private withYearShift(stamp: Stamp): Stamp {
    if (stamp.year !== null) return stamp;
    if (this.lastMonth !== null && stamp.month < this.lastMonth - 6) this.yearShift++;
    else if (this.lastMonth !== null && stamp.month > this.lastMonth + 6 && this.yearShift > 0) this.yearShift--;
    this.lastMonth = stamp.month;
    return { ...stamp, yearShift: this.yearShift };
  }

  private start(l: SplitLine, format: LogFormat, level: LogLevel | null, unit: string | null, stamp: Stamp | null, panic: boolean): void {
    const text = l.text.length > this.maxChars ? l.text.slice(0, this.maxChars) : l.text;
    this.current = {
      line: this.lineNo,
      lineCount: 1,
      format,
      level,
      unit,
      stamp,
      parts: [text],
      chars: text.length,
      truncated: l.dropped > 0 || text.length < l.text.length,
      panic,
    };
  }

  private attach(l: SplitLine): void {
    const cur = this.current;
    if (!cur) return;
    cur.lineCount++;
    if (cur.truncated && (cur.parts.length >= this.maxLines || cur.chars >= this.maxChars)) return;
    if (cur.parts.length >= this.maxLines) {
      cur.truncated = true;
      return;
    }
    const room = this.maxChars - cur.chars - 1;
    if (room <= 0) {
      cur.truncated = true;
      return;
    }
    const text = l.text.length > room ? l.text.slice(0, room) : l.text;
    cur.parts.push(text);
    cur.chars += text.length + 1;
    if (l.dropped > 0 || text.length < l.text.length) cur.truncated = true;
  }

  private flush(): void {
    const cur = this.current;
    if (!cur) return;
    this.current = null;
    // Blank lines between records belong to neither.
    let n = cur.parts.length;
    while (n > 1 && cur.parts[n - 1].trim() === '') n--;
    this.onRecord({
      line: cur.line,
      lineCount: cur.lineCount,
      format: cur.format,
      level: cur.level,
      unit: cur.unit,
      stamp: cur.stamp,
      text: cur.parts.slice(0, n).join('\n'),
      truncated: cur.truncated,
      panic: cur.panic,
    });
  }
}

/** Whole-text convenience for small inputs and tests. */
export function parseLogText(text: string, chunkChars = 1 << 20): ParsedRecord[] {
  const out: ParsedRecord[] = [];
  const asm = new RecordAssembler((r) => out.push(r));
  for (let i = 0; i < text.length; i += chunkChars) asm.push(text.slice(i, i + chunkChars));
  asm.end();
  return out;
}
