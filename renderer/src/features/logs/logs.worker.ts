/**
 * Log analysis off the UI thread: pasted text in 1 M-character chunks, picked
 * files in 4 MiB slices decoded as a UTF-8 stream, so a 100 MB journal never
 * freezes the page nor sits in memory whole (beyond the File itself).
 */
import { LogAnalyzer } from '../../../../shared/logs/analyze';
import type { FromLogWorker, LogSourceInput, ToLogWorker } from './protocol';

const TEXT_CHUNK = 1 << 20;
const FILE_SLICE = 4 << 20;
const PROGRESS_MS = 100;

function post(msg: FromLogWorker): void {
  (self as unknown as { postMessage(m: FromLogWorker): void }).postMessage(msg);
}

async function analyze(jobId: number, sources: LogSourceInput[]): Promise<void> {
  const total = sources.reduce((n, s) => n + (s.file ? s.file.size : (s.text?.length ?? 0)), 0);
  let done = 0;
  let last = 0;
  const tick = (n: number): void => {
    done += n;
    const now = Date.now();
    if (now - last >= PROGRESS_MS) {
      last = now;
      post({ type: 'progress', jobId, done, total });
    }
  };
  const analyzer = new LogAnalyzer();
  for (const s of sources) {
    const stream = analyzer.beginSource(s.name, { zoneMinutes: s.zoneMinutes });
    if (s.file) {
      const decoder = new TextDecoder('utf-8', { fatal: false });
      for (let at = 0; at < s.file.size; at += FILE_SLICE) {
        const buf = await s.file.slice(at, Math.min(s.file.size, at + FILE_SLICE)).arrayBuffer();
        stream.push(decoder.decode(buf, { stream: true }));
        tick(buf.byteLength);
      }
      stream.push(decoder.decode());
    } else {
      const text = s.text ?? '';
      for (let i = 0; i < text.length; i += TEXT_CHUNK) {
        stream.push(text.slice(i, i + TEXT_CHUNK));
        tick(Math.min(TEXT_CHUNK, text.length - i));
      }
    }
    stream.end();
  }
  post({ type: 'progress', jobId, done: total, total });
  post({ type: 'done', jobId, analysis: analyzer.finish() });
}

self.addEventListener('message', (ev: MessageEvent<ToLogWorker>) => {
  const msg = ev.data;
  if (msg.type !== 'analyze') return;
  analyze(msg.jobId, msg.sources).catch((e: unknown) => post({ type: 'failed', jobId: msg.jobId, error: e instanceof Error ? e.message : String(e) }));
});
