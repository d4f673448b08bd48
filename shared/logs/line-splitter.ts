/**
 * Turns a stream of text chunks into lines with bounded memory: CRLF and lone
 * CR are handled, ANSI colour codes removed, and a line longer than the cap
 * keeps its head and only counts the rest (a 50 MB line without a newline
 * costs no more than the cap).
 */

/** Longest line kept, in characters. Real log lines are far shorter; dumps are not. */
export const MAX_LINE_CHARS = 64 * 1024;

// CSI sequences (colours, cursor moves) and OSC sequences (titles, links), as terminals and `docker logs` emit them.
// eslint-disable-next-line no-control-regex -- matching escape sequences is the point
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

export function stripAnsi(line: string): string {
  return line.indexOf('\u001b') === -1 ? line : line.replace(ANSI, '');
}

export interface SplitLine {
  text: string;
  /** Characters dropped from the end of this line. */
  dropped: number;
}

export class LineSplitter {
  private carry = '';
  private dropped = 0;
  private lastWasCr = false;

  constructor(
    private readonly onLine: (line: SplitLine) => void,
    private readonly maxChars: number = MAX_LINE_CHARS,
  ) {}

  push(chunk: string): void {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      // "\r\n" split across two chunks: the "\n" ends nothing new.
      if (c === 10 && i === 0 && this.lastWasCr && this.carry === '' && this.dropped === 0) {
        start = 1;
        this.lastWasCr = false;
        continue;
      }
      this.append(chunk, start, i);
      this.emit();
      if (c === 13 && i + 1 < chunk.length && chunk.charCodeAt(i + 1) === 10) i++;
      this.lastWasCr = c === 13 && i === chunk.length - 1;
      start = i + 1;
    }
    if (start < chunk.length) {
      this.append(chunk, start, chunk.length);
      this.lastWasCr = false;
    }
  }

  end(): void {
    if (this.carry !== '' || this.dropped > 0) this.emit();
  }

  private append(chunk: string, from: number, to: number): void {
    const room = this.maxChars - this.carry.length;
    const len = to - from;
    if (len <= room) this.carry += chunk.slice(from, to);
    else {
      if (room > 0) this.carry += chunk.slice(from, from + room);
      this.dropped += len - Math.max(0, room);
    }
  }

  private emit(): void {
    this.onLine({ text: stripAnsi(this.carry), dropped: this.dropped });
    this.carry = '';
    this.dropped = 0;
  }
}
