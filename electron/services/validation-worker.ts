/**
 * Worker thread (bundled to dist/validation-worker.cjs): runs validation off
 * the main thread so a slow or hostile input never freezes the UI or the web
 * server. One request per worker; the parent terminates it to cancel.
 *
 * Local sources are opened here (read-only). Remote sources (SFTP) live in
 * the parent, which owns the SSH session: the worker reads them through `io`
 * requests (list / open / read) answered with `io-reply`.
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { ByteSource, DirEntry, DirectorySource } from '../../shared/bytes/byte-source';
import type { Progress, RunOptions } from '../../shared/contract/progress';
import type { ValidationReport } from '../../shared/contract/report';
import type { BatchSummary, DqliteRebuildReport } from '../../shared/contract/dqlite';
import type { EtcdQuery } from '../../shared/contract/etcd';
import { validateDirectory } from '../../shared/validate';
import { listSegmentBatches } from '../../shared/formats/dqlite/validate';
import { answerEtcdQuery, EtcdQueryError, EtcdQuerySession } from '../../shared/formats/etcd/query';
import { EtcdInputError, runEtcdRepairTask, type EtcdRepairTask, type EtcdRepairWork } from './etcd-repair';
import type { ErrorText } from '../../shared/contract/error-text';
import type { EtcdRunOptions } from '../../shared/formats/etcd/validate';
import { scanWal, type WalScan } from '../../shared/formats/etcd/wal';
import { rebuildDqliteDirectory } from './dqlite-rebuild';
import { exportKineFrom, NotKineError } from './kine-export';
import type { KineExportResult } from '../../shared/contract/kine';
import { localDirectory, openLocalTarget } from './fs-source';
import { walScanInThread } from './wal-scan-thread';

export type WorkerRequest =
  | { type: 'validate'; path: string; nodePath?: RunOptions['nodePath'] }
  | { type: 'batches'; path: string; file: string; detail?: number }
  /** Validate the parent's remote directory through `io` requests; `name` is its display name. */
  | { type: 'validate-remote'; name: string; nodePath?: RunOptions['nodePath'] }
  | { type: 'batches-remote'; name: string; file: string; detail?: number }
  /**
   * Answer one etcd query over the source `report` was made from (local path, or the parent's remote directory).
   * `keep`: the parent keeps this worker for the job's next queries: the source stays open and the key
   * browser's index is built once (by the first keys query) for all of them.
   */
  | ({ type: 'etcd-query'; path: string; report: ValidationReport; query: EtcdQuery } & KeptQueryFields)
  | ({ type: 'etcd-query-remote'; name: string; report: ValidationReport; query: EtcdQuery } & KeptQueryFields)
  /** etcd repair, salvage or export (etcd-repair.ts) of a finished job's source: a local path, or the parent's remote directory. */
  | { type: 'etcd-repair'; path: string; task: EtcdRepairTask }
  | { type: 'etcd-repair-remote'; name: string; task: EtcdRepairTask }
  /** A dqlite node's databases rebuilt offline (dqlite-rebuild.ts) from the local directory `path` into the new folder `outDir`. */
  | { type: 'dqlite-rebuild'; path: string; outDir: string }
  /**
   * A kine table's live keys as object files (kine-export.ts): the SQLite file `file` of the local path `path` (a
   * folder, or that file itself) or of the parent's remote directory (`-remote`), shown as `display`.
   */
  | { type: 'kine-export'; path: string; file: string; display: string; outDir: string; format: 'yaml' | 'json' }
  | { type: 'kine-export-remote'; name: string; file: string; display: string; outDir: string; format: 'yaml' | 'json' }
  /** The etcd WAL's first pass over the local directory `path` (`walDir`: its path in the report), for wal-scan-thread.ts. */
  | { type: 'wal-scan'; path: string; walDir: string }
  | IoReply
  | { type: 'cancel' };

/**
 * A byte request to the parent (remote sources). `dir` names a subdirectory
 * of the remote root by its plain components (`['member', 'wal']`); absent
 * for the root itself.
 */
export type IoRequest =
  | { type: 'io'; id: number; op: 'list'; dir?: string[] }
  | { type: 'io'; id: number; op: 'open'; file: string; dir?: string[] }
  | { type: 'io'; id: number; op: 'read'; file: string; offset: number; length: number; dir?: string[] };

export type IoReply =
  | { type: 'io-reply'; id: number; ok: true; entries?: DirEntry[]; size?: number; bytes?: Uint8Array }
  | { type: 'io-reply'; id: number; ok: false; message: string };

/** What a query to the kept worker of a job carries besides the query. */
export interface KeptQueryFields {
  keep?: boolean;
  /**
   * One Int32 in shared memory, set to 1 by the parent to stop this keys query's walk of the whole db (the
   * parent's `interrupt` query: this thread, busy walking, reads no message until it is done). The parent
   * clears it before it posts each query, so an interrupt that comes right after the post is not lost.
   */
  interrupt?: SharedArrayBuffer;
  /** The key browser's index budget (EtcdKeyBrowserOptions.budgetBytes), for the session the first kept query opens. */
  keyIndexBudgetBytes?: number;
}

export type WorkerReply =
  | { type: 'progress'; progress: Progress }
  | { type: 'report'; report: ValidationReport }
  | { type: 'batches'; batches: BatchSummary[] }
  | { type: 'etcd-query'; result: unknown }
  | { type: 'etcd-repair'; work: EtcdRepairWork }
  | { type: 'wal-scan'; scan: WalScan }
  | { type: 'dqlite-rebuild'; report: DqliteRebuildReport }
  | { type: 'kine-export'; result: KineExportResult }
  /** `code`: an etcd query's refusal (`out-of-range`, `unknown-file`, ...), passed on to the client. */
  | { type: 'error'; message: string; cancelled: boolean; code?: string; text?: ErrorText }
  | IoRequest;

/** Progress messages per second the worker sends at most (the service throttles again). */
const PROGRESS_INTERVAL_MS = 50;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

type IoAsk = ({ op: 'list' } | { op: 'open'; file: string } | { op: 'read'; file: string; offset: number; length: number }) & { dir?: string[] };

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

/**
 * The parent's remote directory, seen from the worker; `dir` is the path of
 * a subdirectory below the remote root (etcd's `member/wal`), [] for the root.
 */
function remoteDirectory(name: string, io: IoChannel, dir: string[] = []): DirectorySource {
  const opened = new Map<string, Promise<ByteSource>>();
  const at = dir.length > 0 ? { dir } : {};
  return {
    name,
    async list() {
      return (await io.ask({ op: 'list', ...at })).entries ?? [];
    },
    open(file: string) {
      let p = opened.get(file);
      if (!p) {
        p = io.ask({ op: 'open', file, ...at }).then((r) => {
          const size = r.size ?? 0;
          const src: ByteSource = {
            name: file,
            size,
            async read(offset: number, length: number): Promise<Uint8Array> {
              if (offset < 0 || length < 0) throw new RangeError(`bad read ${offset}+${length}`);
              if (length === 0 || offset >= size) return new Uint8Array(0);
              return (await io.ask({ op: 'read', file, offset, length, ...at })).bytes ?? new Uint8Array(0);
            },
          };
          return src;
        });
        opened.set(file, p);
        p.catch(() => opened.delete(file));
      }
      return p;
    },
    async subdir(sub: string) {
      return remoteDirectory(sub, io, [...dir, sub]);
    },
  };
}

/**
 * A kept query worker's source (one job's: the parent keeps a worker per job)
 * and its query session, opened at the first query and kept until the worker ends.
 */
class KeptQuerySource {
  private kept: { id: string; dir: Promise<DirectorySource>; session: EtcdQuerySession } | null = null;

  get(req: Extract<WorkerRequest, { type: 'etcd-query' | 'etcd-query-remote' }>, io: IoChannel): { dir: Promise<DirectorySource>; session: EtcdQuerySession } {
    const id = req.type === 'etcd-query' ? `local:${req.path}` : `remote:${req.name}`;
    if (this.kept?.id !== id) {
      // Never closed: the worker ends with it (the parent terminates it when it lets the job go).
      const dir: Promise<DirectorySource> = req.type === 'etcd-query' ? openLocalTarget(req.path) : Promise.resolve(remoteDirectory(req.name, io));
      const budget = req.keyIndexBudgetBytes;
      this.kept = { id, dir, session: new EtcdQuerySession(budget ? { budgetBytes: budget, locatorBudgetBytes: budget } : {}) };
      const k = this.kept;
      dir.catch(() => {
        if (this.kept === k) this.kept = null;
      });
    }
    return this.kept;
  }
}

async function serve(req: WorkerRequest, signal: AbortSignal, reply: (msg: WorkerReply) => void, io: IoChannel, kept: KeptQuerySource): Promise<void> {
  if (req.type === 'cancel' || req.type === 'io-reply') return;
  if ((req.type === 'etcd-query' || req.type === 'etcd-query-remote') && req.keep) {
    const { dir, session } = kept.get(req, io);
    const flag = req.interrupt ? new Int32Array(req.interrupt) : null;
    const interrupted = flag ? () => Atomics.load(flag, 0) !== 0 : undefined;
    reply({ type: 'etcd-query', result: await answerEtcdQuery(await dir, req.report, req.query, undefined, session, interrupted) });
    return;
  }
  let last = 0;
  const onProgress = (progress: Progress): void => {
    const now = Date.now();
    if (now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    reply({ type: 'progress', progress });
  };
  if (
    req.type === 'validate-remote' ||
    req.type === 'batches-remote' ||
    req.type === 'etcd-query-remote' ||
    req.type === 'etcd-repair-remote' ||
    req.type === 'kine-export-remote'
  ) {
    const dir = remoteDirectory(req.name, io);
    if (req.type === 'kine-export-remote')
      reply({ type: 'kine-export', result: await exportKineFrom(dir, req.file, req.display, req.outDir, { format: req.format, signal, onProgress }) });
    else if (req.type === 'etcd-repair-remote')
      reply({ type: 'etcd-repair', work: await runEtcdRepairTask(dir, false, null, req.task, { signal, onProgress }) });
    else if (req.type === 'validate-remote') reply({ type: 'report', report: await validateDirectory(dir, { signal, onProgress, nodePath: req.nodePath }) });
    else if (req.type === 'batches-remote') reply({ type: 'batches', batches: await listSegmentBatches(dir, req.file, { signal, detail: req.detail }) });
    else reply({ type: 'etcd-query', result: await answerEtcdQuery(dir, req.report, req.query) });
    return;
  }
  if (req.type === 'wal-scan') {
    const walDir = localDirectory(req.path);
    try {
      reply({ type: 'wal-scan', scan: await scanWal(walDir, req.walDir, { signal, onProgress }) });
    } finally {
      await walDir.close();
    }
    return;
  }
  if (req.type === 'dqlite-rebuild') {
    reply({ type: 'dqlite-rebuild', report: await rebuildDqliteDirectory(req.path, req.outDir, { signal, onProgress }) });
    return;
  }
  const target = await openLocalTarget(req.path);
  try {
    if (req.type === 'kine-export') {
      reply({ type: 'kine-export', result: await exportKineFrom(target, req.file, req.display, req.outDir, { format: req.format, signal, onProgress }) });
    } else if (req.type === 'validate') {
      const run: EtcdRunOptions = { signal, onProgress, nodePath: req.nodePath, inputDir: target.isFile ? path.dirname(target.path) : target.path };
      // An etcd WAL is scanned in a second thread while this one walks the db (same report, less wall time).
      if (!target.isFile) {
        run.startWalScan = walScanInThread({ workerScript: walScanScript(), rootPath: target.path, signal, onProgress });
        // The walk, the WAL scan and the db's read-ahead: all three at once only with a core for each.
        run.readAheadBesideWalScan = availableParallelism() >= 3;
      }
      const report = await validateDirectory(target, run);
      reply({ type: 'report', report });
    } else if (req.type === 'etcd-repair') {
      reply({ type: 'etcd-repair', work: await runEtcdRepairTask(target, target.isFile, target.path, req.task, { signal, onProgress }) });
    } else if (req.type === 'batches') {
      const batches = await listSegmentBatches(target, req.file, { signal, detail: req.detail });
      reply({ type: 'batches', batches });
    } else {
      reply({ type: 'etcd-query', result: await answerEtcdQuery(target, req.report, req.query) });
    }
  } finally {
    await target.close();
  }
}

/**
 * The WAL thread's script: the small bundle beside this one (it loads in about a quarter
 * of this bundle's time), else this bundle, which answers the same request.
 */
function walScanScript(): string {
  const small = path.join(__dirname, 'wal-scan-worker.cjs');
  return existsSync(small) ? small : __filename;
}

const port = parentPort;
if (port) {
  const abort = new AbortController();
  const io = new IoChannel((m) => port.postMessage(m));
  const kept = new KeptQuerySource();
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
    // A kept query worker serves its job's queries one after another.
    const again = (msg.type === 'etcd-query' || msg.type === 'etcd-query-remote') && msg.keep === true;
    const served = serve(msg, abort.signal, (m) => port.postMessage(m), io, kept);
    if (again) void served.finally(() => (busy = false)).catch(() => undefined);
    served.catch((err: unknown) => {
      port.postMessage({
        type: 'error',
        message: errorText(err),
        cancelled: abort.signal.aborted,
        ...(err instanceof EtcdQueryError ? { code: err.code } : {}),
        // An input refusal says itself in the UI's language (EtcdInputError's catalog text).
        ...(err instanceof EtcdInputError || err instanceof NotKineError ? { text: err.text } : {}),
      } satisfies WorkerReply);
    });
  });
}
