/**
 * Worker thread (bundled to dist/validation-worker.cjs): runs validation off
 * the main thread so a slow or hostile input never freezes the UI or the web
 * server. One request per worker; the parent terminates it to cancel.
 *
 * Local sources are opened here (read-only). Remote sources (SFTP) live in
 * the parent, which owns the SSH session: the worker reads them through `io`
 * requests (list / open / read) answered with `io-reply`.
 */
import { parentPort } from 'node:worker_threads';
import type { ByteSource, DirEntry, DirectorySource } from '../../shared/bytes/byte-source';
import type { Progress, RunOptions } from '../../shared/contract/progress';
import type { ValidationReport } from '../../shared/contract/report';
import type { BatchSummary } from '../../shared/contract/dqlite';
import { validateDirectory } from '../../shared/validate';
import { listSegmentBatches } from '../../shared/formats/dqlite/validate';
import { openLocalTarget } from './validation-service';

export type WorkerRequest =
  | { type: 'validate'; path: string; nodePath?: RunOptions['nodePath'] }
  | { type: 'batches'; path: string; file: string; detail?: number }
  /** Validate the parent's remote directory through `io` requests; `name` is its display name. */
  | { type: 'validate-remote'; name: string; nodePath?: RunOptions['nodePath'] }
  | { type: 'batches-remote'; name: string; file: string; detail?: number }
  | IoReply
  | { type: 'cancel' };

/** A byte request to the parent (remote sources). */
export type IoRequest =
  | { type: 'io'; id: number; op: 'list' }
  | { type: 'io'; id: number; op: 'open'; file: string }
  | { type: 'io'; id: number; op: 'read'; file: string; offset: number; length: number };

export type IoReply =
  | { type: 'io-reply'; id: number; ok: true; entries?: DirEntry[]; size?: number; bytes?: Uint8Array }
  | { type: 'io-reply'; id: number; ok: false; message: string };

export type WorkerReply =
  | { type: 'progress'; progress: Progress }
  | { type: 'report'; report: ValidationReport }
  | { type: 'batches'; batches: BatchSummary[] }
  | { type: 'error'; message: string; cancelled: boolean }
  | IoRequest;

/** Progress messages per second the worker sends at most (the service throttles again). */
const PROGRESS_INTERVAL_MS = 50;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

type IoAsk = { op: 'list' } | { op: 'open'; file: string } | { op: 'read'; file: string; offset: number; length: number };

/** Requests to the parent, matched to replies by id. */
class IoChannel {
  private next = 1;
  private readonly pending = new Map<number, { resolve(r: IoReply & { ok: true }): void; reject(e: Error): void }>();
  constructor(private readonly send: (msg: IoRequest) => void) {}

  ask(q: IoAsk): Promise<IoReply & { ok: true }> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ type: 'io', id, ...q } as IoRequest);
    });
  }

  settle(reply: IoReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (reply.ok) p.resolve(reply);
    else p.reject(new Error(reply.message));
  }
}

/** The parent's remote directory, seen from the worker. */
function remoteDirectory(name: string, io: IoChannel): DirectorySource {
  const opened = new Map<string, Promise<ByteSource>>();
  return {
    name,
    async list() {
      return (await io.ask({ op: 'list' })).entries ?? [];
    },
    open(file: string) {
      let p = opened.get(file);
      if (!p) {
        p = io.ask({ op: 'open', file }).then((r) => {
          const size = r.size ?? 0;
          const src: ByteSource = {
            name: file,
            size,
            async read(offset: number, length: number): Promise<Uint8Array> {
              if (offset < 0 || length < 0) throw new RangeError(`bad read ${offset}+${length}`);
              if (length === 0 || offset >= size) return new Uint8Array(0);
              return (await io.ask({ op: 'read', file, offset, length })).bytes ?? new Uint8Array(0);
            },
          };
          return src;
        });
        opened.set(file, p);
        p.catch(() => opened.delete(file));
      }
      return p;
    },
  };
}

async function serve(req: WorkerRequest, signal: AbortSignal, reply: (msg: WorkerReply) => void, io: IoChannel): Promise<void> {
  if (req.type === 'cancel' || req.type === 'io-reply') return;
  let last = 0;
  const onProgress = (progress: Progress): void => {
    const now = Date.now();
    if (now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    reply({ type: 'progress', progress });
  };
  if (req.type === 'validate-remote' || req.type === 'batches-remote') {
    const dir = remoteDirectory(req.name, io);
    if (req.type === 'validate-remote') reply({ type: 'report', report: await validateDirectory(dir, { signal, onProgress, nodePath: req.nodePath }) });
    else reply({ type: 'batches', batches: await listSegmentBatches(dir, req.file, { signal, detail: req.detail }) });
    return;
  }
  const target = await openLocalTarget(req.path);
  try {
    if (req.type === 'validate') {
      const report = await validateDirectory(target, { signal, onProgress, nodePath: req.nodePath });
      reply({ type: 'report', report });
    } else {
      const batches = await listSegmentBatches(target, req.file, { signal, detail: req.detail });
      reply({ type: 'batches', batches });
    }
  } finally {
    await target.close();
  }
}

const port = parentPort;
if (port) {
  const abort = new AbortController();
  const io = new IoChannel((m) => port.postMessage(m));
  let busy = false;
  port.on('message', (msg: WorkerRequest) => {
    if (msg.type === 'cancel') {
      abort.abort();
      return;
    }
    if (msg.type === 'io-reply') {
      io.settle(msg);
      return;
    }
    if (busy) {
      port.postMessage({ type: 'error', message: 'worker is busy', cancelled: false } satisfies WorkerReply);
      return;
    }
    busy = true;
    serve(msg, abort.signal, (m) => port.postMessage(m), io).catch((err: unknown) => {
      port.postMessage({
        type: 'error',
        message: errorText(err),
        cancelled: abort.signal.aborted,
      } satisfies WorkerReply);
    });
  });
}
