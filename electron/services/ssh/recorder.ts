/**
 * Session recording: every byte the node sent, with timestamps, plus a
 * readable transcript.
 * - `<base>.cast`: asciicast v2 (header line, then `[seconds, "o", text]` and
 *   `[seconds, "r", "COLSxROWS"]`), text decoded with a streaming UTF-8
 *   decoder so characters split across packets stay whole; plays in asciinema.
 * - `<base>.raw.jsonl`: `{"t":seconds,"b64":...}` per chunk: the exact bytes,
 *   even when they are not valid UTF-8.
 * - `<base>.txt`: the transcript as the operator saw it, rendered by
 *   @xterm/headless (so progress bars, pagers and cursor moves collapse into
 *   their final text) with a large scrollback; `<base>.ansi` keeps colours
 *   (addon-serialize).
 * Keystrokes are deliberately NOT recorded: sudo and other passwords are
 * typed into terminals with echo off and must never reach the disk.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import type { Terminal as HeadlessTerminal } from '@xterm/headless';
import type { SerializeAddon as SerializeAddonType } from '@xterm/addon-serialize';

// The packages' "module" entries point at files that are not shipped; use their CJS builds.
const load = createRequire(__filename);

export function createHeadlessTerminal(cols: number, rows: number, scrollback: number): HeadlessTerminal {
  const { Terminal } = load('@xterm/headless') as typeof import('@xterm/headless');
  return new Terminal({ cols, rows, scrollback, allowProposedApi: true });
}

export function createSerializeAddon(): SerializeAddonType {
  const { SerializeAddon } = load('@xterm/addon-serialize') as typeof import('@xterm/addon-serialize');
  return new SerializeAddon();
}

/** Plain text of the whole buffer (scrollback + screen), trailing blank lines dropped. */
export function terminalText(term: HeadlessTerminal): string {
  const buf = term.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < buf.length; i++) {
    const line = buf.getLine(i);
    if (!line) continue;
    const text = line.translateToString(true);
    if (line.isWrapped && lines.length > 0) lines[lines.length - 1] += text;
    else lines.push(text);
  }
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n') + (lines.length ? '\n' : '');
}

export interface RecorderOptions {
  /** Path prefix; the recorder adds `.cast`, `.raw.jsonl`, `.txt`, `.ansi`. */
  basePath: string;
  cols: number;
  rows: number;
  title?: string;
  /** Transcript scrollback in lines (default 100 000). */
  scrollback?: number;
}

export class SessionRecorder {
  private readonly started = Date.now();
  private readonly cast: WriteStream;
  private readonly raw: WriteStream;
  private readonly decoder = new TextDecoder('utf-8');
  private readonly term: HeadlessTerminal;
  private readonly serialize: SerializeAddonType;
  private pendingTerm = 0;
  private closed = false;
  bytes = 0;

  constructor(private readonly opts: RecorderOptions) {
    this.cast = createWriteStream(`${opts.basePath}.cast`, { mode: 0o600 });
    this.raw = createWriteStream(`${opts.basePath}.raw.jsonl`, { mode: 0o600 });
    this.cast.write(
      JSON.stringify({
        version: 2,
        width: opts.cols,
        height: opts.rows,
        timestamp: Math.floor(this.started / 1000),
        title: opts.title,
        env: { TERM: 'xterm-256color' },
      }) + '\n',
    );
    this.term = createHeadlessTerminal(opts.cols, opts.rows, opts.scrollback ?? 100_000);
    this.serialize = createSerializeAddon();
    this.term.loadAddon(this.serialize);
  }

  private t(): number {
    return Math.round(Date.now() - this.started) / 1000;
  }

  /**
   * Record bytes from the node. Resolves when the file streams accepted them
   * (callers may await it to propagate disk backpressure).
   */
  output(chunk: Uint8Array): Promise<void> {
    if (this.closed) return Promise.resolve();
    const t = this.t();
    this.bytes += chunk.length;
    const text = this.decoder.decode(chunk, { stream: true });
    const a = text ? this.cast.write(JSON.stringify([t, 'o', text]) + '\n') : true;
    const b = this.raw.write(JSON.stringify({ t, b64: Buffer.from(chunk).toString('base64') }) + '\n');
    this.pendingTerm++;
    this.term.write(chunk, () => this.pendingTerm--);
    const waits: Promise<void>[] = [];
    if (!a) waits.push(new Promise((r) => this.cast.once('drain', r)));
    if (!b) waits.push(new Promise((r) => this.raw.once('drain', r)));
    return Promise.all(waits).then(() => undefined);
  }

  resize(cols: number, rows: number): void {
    if (this.closed) return;
    this.cast.write(JSON.stringify([this.t(), 'r', `${cols}x${rows}`]) + '\n');
    this.term.resize(cols, rows);
  }

  /** The transcript as rendered so far (for export while the session runs). */
  async transcript(): Promise<string> {
    if (this.closed) return fs.readFile(`${this.opts.basePath}.txt`, 'utf8');
    await new Promise<void>((r) => this.term.write('', r));
    return terminalText(this.term);
  }

  /** Resolves once everything recorded so far is in the files (not just in stream buffers). */
  async flush(): Promise<void> {
    if (this.closed) return;
    await Promise.all([new Promise<void>((r) => this.cast.write('', () => r())), new Promise<void>((r) => this.raw.write('', () => r()))]);
  }

  get basePath(): string {
    return this.opts.basePath;
  }

  /** Flush, write the transcript files, close. Returns the transcript text. */
  async close(): Promise<string> {
    if (this.closed) return '';
    this.closed = true;
    const tail = this.decoder.decode();
    if (tail) this.cast.write(JSON.stringify([this.t(), 'o', tail]) + '\n');
    await new Promise<void>((r) => this.term.write('', r));
    const text = terminalText(this.term);
    await fs.writeFile(`${this.opts.basePath}.txt`, text, { mode: 0o600 });
    await fs.writeFile(`${this.opts.basePath}.ansi`, this.serialize.serialize(), { mode: 0o600 });
    await Promise.all([new Promise<void>((r) => this.cast.end(r)), new Promise<void>((r) => this.raw.end(r))]);
    this.term.dispose();
    return text;
  }
}
