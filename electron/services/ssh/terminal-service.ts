/**
 * Terminals on live connections and their recordings (kept after a terminal
 * ends so they can still be exported). One instance per SSH service.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { RecordingExport } from '../../../shared/contract/ssh';
import type { SshConnectionService } from './connection-service';
import { SessionRecorder } from './recorder';
import type { SshCallContext, SshServiceConfig } from './settings';
import { TerminalSession } from './terminal';
import { makeDirs } from '../make-dirs';

const MAX_RECORDINGS_REMEMBERED = 500;
/** An export travels as one JSON message: cap it (the full file stays on disk). */
const MAX_EXPORT_CHARS = 32 * 1024 * 1024;
const MAX_EXPORT_BYTES = 4 * MAX_EXPORT_CHARS;

interface OpenTerminal {
  session: TerminalSession;
  recorder: SessionRecorder | null;
  connectionId: string;
}

interface Recording {
  basePath: string;
  recorder: SessionRecorder;
  closing?: Promise<void>;
}

/** The last `maxBytes` of a file as UTF-8 (never reads more than that into memory). */
async function readTail(file: string, maxBytes: number): Promise<string> {
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

export class TerminalService {
  private readonly terminals = new Map<string, OpenTerminal>();
  /** Recordings by terminal id, kept after the terminal ends so they can still be exported. */
  private readonly recordings = new Map<string, Recording>();

  constructor(
    private readonly connections: SshConnectionService,
    private readonly paths: () => SshServiceConfig,
  ) {}

  async open(connectionId: string, cols: number, rows: number, term: string | undefined, ctx: SshCallContext): Promise<{ terminalId: string }> {
    const c = this.connections.live(connectionId);
    const terminalId = randomUUID();
    const dir = this.paths().recordingsDir;
    let recorder: SessionRecorder | null = null;
    if (dir) {
      // Recordings can hold whatever the node printed: owner-only.
      await makeDirs(dir, 0o700);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const host = c.target.host.replace(/[^A-Za-z0-9._-]/g, '_');
      recorder = new SessionRecorder({
        basePath: path.join(dir, `${stamp}-${host}-${terminalId.slice(0, 8)}`),
        cols,
        rows,
        title: `${c.target.user}@${c.target.host}`,
      });
    }
    let session: TerminalSession;
    try {
      session = await TerminalSession.open(c.conn, {
        cols,
        rows,
        term,
        recorder: recorder ?? undefined,
        onData: (chunk) => ctx.emit('ssh.terminal.data', { terminalId, dataBase64: chunk.toString('base64') }),
      });
    } catch (e) {
      await recorder?.close();
      throw e;
    }
    this.terminals.set(terminalId, { session, recorder, connectionId });
    if (recorder) this.rememberRecording(terminalId, { basePath: recorder.basePath, recorder });
    session.once('exit', (reason: 'exit' | 'dropped' | 'closed', code: number | null) => {
      this.terminals.delete(terminalId);
      const rec = this.recordings.get(terminalId);
      if (rec)
        rec.closing = recorder!.close().then(
          () => undefined,
          () => undefined,
        );
      ctx.emit('ssh.terminal.exit', { terminalId, reason, code });
    });
    return { terminalId };
  }

  async exportRecording(terminalId: string, format: unknown): Promise<RecordingExport> {
    const rec = this.recordings.get(terminalId);
    if (!rec) throw new Error(`no recording for terminal ${terminalId} (recording is off, or it was opened in another session)`);
    if (format !== 'txt' && format !== 'cast') throw new Error(`unknown recording format: ${String(format)}`);
    if (rec.closing) await rec.closing;
    const file = `${rec.basePath}.${format}`;
    let text: string;
    if (format === 'txt') {
      text = rec.closing ? await fs.readFile(file, 'utf8') : await rec.recorder.transcript();
    } else {
      if (!rec.closing) await rec.recorder.flush();
      text = await readTail(file, MAX_EXPORT_BYTES);
    }
    const truncated = text.length > MAX_EXPORT_CHARS;
    if (truncated) text = text.slice(text.length - MAX_EXPORT_CHARS);
    return { fileName: path.basename(file), path: file, text, truncated };
  }

  /** The open terminal, or undefined (ended, or never opened here). */
  get(terminalId: string): TerminalSession | undefined {
    return this.terminals.get(terminalId)?.session;
  }

  /** Close the terminals of a connection that is closing. */
  closeFor(connectionId: string): void {
    for (const t of this.terminals.values()) if (t.connectionId === connectionId) t.session.close();
  }

  private rememberRecording(terminalId: string, rec: Recording): void {
    this.recordings.set(terminalId, rec);
    while (this.recordings.size > MAX_RECORDINGS_REMEMBERED) this.recordings.delete(this.recordings.keys().next().value!);
  }
}
