/**
 * SHA-256 of a stream of runs in a worker thread of its own. A salvaged
 * snapshot.db is hashed as it is written (its trailer is the SHA-256 of the
 * bytes before it); on the thread that builds the pages the hash was the
 * write phase's largest cost (~0.35 s of a 570 MB snapshot), and the machines
 * this runs on have a second core. Runs in a SharedArrayBuffer are hashed
 * where they lie (the caller keeps them unchanged until `update` settles);
 * other runs are copied into the message. Updates are hashed in call order.
 *
 * The thread's code is a few lines of node:crypto, run with `eval` (no bundle
 * of its own to find next to the main one).
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hash = createHash('sha256');
parentPort.on('message', (m) => {
  try {
    if (m.type === 'update') {
      hash.update(new Uint8Array(m.buffer, m.byteOffset, m.length));
      parentPort.postMessage({ type: 'updated', seq: m.seq });
    } else if (m.type === 'digest') {
      parentPort.postMessage({ type: 'digest', digest: new Uint8Array(hash.digest()) });
    }
  } catch (err) {
    parentPort.postMessage({ type: 'error', message: String(err && err.message || err) });
  }
});
`;

type Reply = { type: 'updated'; seq: number } | { type: 'digest'; digest: Uint8Array } | { type: 'error'; message: string };

export interface Sha256Thread {
  /** Hash `bytes` next; settles once they are hashed (a run in a SharedArrayBuffer may be reused only then). */
  update(bytes: Uint8Array): Promise<void>;
  /** The digest of every update so far (call once, after the last update). */
  digest(): Promise<Uint8Array>;
  /** Stop the thread (also after a failure). */
  close(): Promise<void>;
}

/** A buffer the thread can hash without a copy (for the writer's runs). */
export function sharedBytes(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

/**
 * The same interface on this thread (no second thread to start: ~30 ms, more than a small snapshot's hash takes).
 * Runs are hashed at once, so the caller may reuse them as soon as `update` returns.
 */
export function inlineSha256(): Sha256Thread {
  const hash = createHash('sha256');
  let closed = false;
  const refuse = () => Promise.reject(new Error('SHA-256 thread closed'));
  return {
    update(bytes) {
      if (closed) return refuse();
      hash.update(bytes);
      return Promise.resolve();
    },
    digest() {
      return closed ? refuse() : Promise.resolve(new Uint8Array(hash.digest()));
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}

export function startSha256Thread(): Sha256Thread {
  const worker = new Worker(THREAD_SOURCE, { eval: true });
  let seq = 0;
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let onDigest: { resolve: (d: Uint8Array) => void; reject: (e: Error) => void } | null = null;
  let failure: Error | null = null;
  const fail = (err: Error): void => {
    failure ??= err;
    for (const w of waiting.values()) w.reject(failure);
    waiting.clear();
    onDigest?.reject(failure);
    onDigest = null;
  };
  worker.on('message', (m: Reply) => {
    if (m.type === 'updated') {
      const w = waiting.get(m.seq);
      waiting.delete(m.seq);
      w?.resolve();
    } else if (m.type === 'digest') {
      onDigest?.resolve(m.digest);
      onDigest = null;
    } else fail(new Error(`SHA-256 thread: ${m.message}`));
  });
  worker.on('error', (err) => fail(err));
  worker.on('exit', () => fail(new Error('SHA-256 thread stopped')));
  return {
    update(bytes) {
      if (failure) return Promise.reject(failure);
      const n = ++seq;
      const done = new Promise<void>((resolve, reject) => waiting.set(n, { resolve, reject }));
      if (bytes.buffer instanceof SharedArrayBuffer) {
        worker.postMessage({ type: 'update', seq: n, buffer: bytes.buffer, byteOffset: bytes.byteOffset, length: bytes.length });
      } else {
        // A copy of its own, handed over (not copied again by the message).
        const own = bytes.slice();
        worker.postMessage({ type: 'update', seq: n, buffer: own.buffer, byteOffset: 0, length: own.length }, [own.buffer]);
      }
      return done;
    },
    digest() {
      if (failure) return Promise.reject(failure);
      const d = new Promise<Uint8Array>((resolve, reject) => (onDigest = { resolve, reject }));
      worker.postMessage({ type: 'digest' });
      return d;
    },
    async close() {
      // Whatever still waits is told so, and a later call fails at once.
      fail(new Error('SHA-256 thread closed'));
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}
