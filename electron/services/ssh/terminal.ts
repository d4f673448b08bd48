/**
 * An interactive shell on a PTY with end-to-end backpressure. The consumer
 * (xterm.js in the renderer, or a headless terminal) acknowledges bytes once
 * it has rendered them; above `highWaterMark` unacknowledged bytes the SSH
 * channel is paused, which stops ssh2 from granting window to the server, so
 * a `cat` of 200 MB or `yes` waits on the node instead of piling up in memory
 * or being dropped. Below `lowWaterMark` it resumes.
 */
import { EventEmitter } from 'node:events';
import type { ClientChannel } from 'ssh2';
import type { SshConnection } from './connection';
import type { SessionRecorder } from './recorder';

export interface TerminalOptions {
  cols: number;
  rows: number;
  term?: string;
  /** Pause the channel above this many unacknowledged bytes (default 1 MiB). */
  highWaterMark?: number;
  /** Resume below this (default 256 KiB). */
  lowWaterMark?: number;
  recorder?: SessionRecorder;
  /** Consumer of the raw bytes (already in order; may split UTF-8, xterm copes). */
  onData(chunk: Buffer): void;
}

export type TerminalExitReason = 'exit' | 'dropped' | 'closed';

function clampSize(n: number, max: number): number {
  return Math.max(1, Math.min(max, Math.floor(n)));
}

export class TerminalSession extends EventEmitter {
  unacked = 0;
  paused = false;
  /** How often the channel had to be paused (for tests and diagnostics). */
  pauses = 0;
  bytesReceived = 0;
  private ended = false;
  private readonly high: number;
  private readonly low: number;

  private constructor(
    private readonly conn: SshConnection,
    private readonly stream: ClientChannel,
    private readonly opts: TerminalOptions,
  ) {
    super();
    this.high = opts.highWaterMark ?? 1024 * 1024;
    this.low = Math.min(opts.lowWaterMark ?? 256 * 1024, this.high);
    const onChunk = (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      this.unacked += chunk.length;
      void opts.recorder?.output(chunk);
      opts.onData(chunk);
      if (!this.paused && this.unacked > this.high) {
        this.paused = true;
        this.pauses++;
        stream.pause();
      }
    };
    stream.on('data', onChunk);
    // With a PTY, stderr is merged by the server; keep the handler for odd servers.
    stream.stderr.on('data', onChunk);
    let code: number | null = null;
    stream.on('exit', (c: number | null) => (code = c));
    stream.on('close', () => this.finish(conn.state === 'dropped' ? 'dropped' : this.ended ? 'closed' : 'exit', code));
    this.onDropped = () => this.finish('dropped', null);
    conn.once('dropped', this.onDropped);
  }

  private onDropped: () => void;

  static async open(conn: SshConnection, opts: TerminalOptions): Promise<TerminalSession> {
    const cols = clampSize(opts.cols, 1000);
    const rows = clampSize(opts.rows, 500);
    const stream = await conn.shell({ term: opts.term ?? 'xterm-256color', cols, rows, width: 0, height: 0 });
    return new TerminalSession(conn, stream, { ...opts, cols, rows });
  }

  private done = false;

  /** Emits `exit` once: the shell exited, the link dropped, or we closed it. */
  private finish(reason: TerminalExitReason, code: number | null): void {
    if (this.done) return;
    this.done = true;
    this.conn.removeListener('dropped', this.onDropped);
    this.emit('exit', reason, code);
  }

  /** Keystrokes or a paste, passed through unchanged. */
  write(data: string | Uint8Array): void {
    if (this.ended) return;
    this.stream.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data));
  }

  resize(cols: number, rows: number): void {
    if (this.ended) return;
    const c = clampSize(cols, 1000);
    const r = clampSize(rows, 500);
    this.stream.setWindow(r, c, 0, 0);
    this.opts.recorder?.resize(c, r);
  }

  /** The consumer has rendered `bytes` more bytes. */
  ack(bytes: number): void {
    if (!(bytes > 0)) return;
    this.unacked = Math.max(0, this.unacked - bytes);
    if (this.paused && this.unacked <= this.low) {
      this.paused = false;
      this.stream.resume();
    }
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.paused) this.stream.resume();
    this.stream.close();
  }
}
