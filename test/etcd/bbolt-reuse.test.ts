/**
 * inspectBbolt over a local file reuses its read buffers (PageReader's
 * recycle mode: chunks evicted from the cache are read into again). The
 * report must be the one a plain read gives, on a db larger than the cache
 * (so buffers really are reused), intact and with a key that breaks its
 * ancestors' bounds (the walk keeps branch keys across reads: they must be
 * copies, not views into a buffer read into since).
 */
import { createHash } from 'node:crypto';
import { promises as fs, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFileSource } from '../../electron/services/fs-source';
import { startReadAhead, type ReadAheadStats } from '../../electron/services/read-ahead-thread';
import { memorySource, type ChunkReadAhead, type ReadAheadLayout } from '../../shared/bytes/byte-source';
import { CancelledError } from '../../shared/contract/progress';
import { inspectBbolt } from '../../shared/formats/etcd/bbolt-db';
import { decodePageHeader, LEAF_PAGE_FLAG } from '../../shared/formats/etcd/bbolt-page';
import { memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';

const te = new TextEncoder();
const PS = 4096;
let dir = '';
let intact: Uint8Array;

/** ~27 MB (`keys` 16,000): over three times the reader's 8 MiB cache. */
function buildDb(keys = 16_000): Promise<Uint8Array> {
  const items: RevisionItem[] = [];
  for (let i = 0; i < keys; i++) {
    const key = te.encode(`/registry/configmaps/ns-${i % 7}/cm-${String(i).padStart(6, '0')}`);
    const value = te.encode(`${i}:`.padEnd(1200 + (i % 900), 'x'));
    items.push({ key: revisionKey(i + 2, 0), value: encodeKeyValue({ key, createRevision: i + 2, modRevision: i + 2, version: 1, value, lease: 0n }) });
  }
  const sink = memorySink();
  return writeEtcdBackend(sink, { revisions: items, buckets: { meta: [[te.encode('consistent_index'), u64be(keys + 1)]] } }).then(() => sink.bytes());
}

/**
 * A read-ahead thread over `file` whose first take waits (up to 5 s) for the thread to hold that chunk, so that
 * chunks are really taken from it (a walk of this small db can otherwise end before the thread has started).
 */
function waitingThread(file: string, layout: ReadAheadLayout, stats: ReadAheadStats): ChunkReadAhead {
  const st = statSync(file, { bigint: true });
  const thread = startReadAhead(file, { dev: st.dev, ino: st.ino }, layout, stats);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let first = true;
  return {
    ...thread,
    take: (n: number) => {
      for (let i = 0; first && i < 500 && !thread.holds(n); i++) Atomics.wait(pause, 0, 0, 10);
      first = false;
      return thread.take(n);
    },
  };
}

async function bothWays(name: string, bytes: Uint8Array) {
  const file = path.join(dir, name);
  await fs.writeFile(file, bytes);
  const hash = async () =>
    createHash('sha256')
      .update(await fs.readFile(file))
      .digest('hex');
  const before = await hash();
  const src = await openFileSource(file);
  try {
    const fromFile = await inspectBbolt(src, 'db');
    const fromMemory = await inspectBbolt(memorySource('db', bytes), 'db');
    expect(await hash()).toBe(before);
    return { fromFile, fromMemory };
  } finally {
    await src.close();
  }
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-bbolt-reuse-'));
  intact = await buildDb();
});
afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('the db walk with reused read buffers', () => {
  it('an intact db larger than the cache: the same report as plain reads', async () => {
    expect(intact.length).toBeGreaterThan(3 * 8 * 1024 * 1024);
    const { fromFile, fromMemory } = await bothWays('intact.db', intact);
    expect(fromFile.info).toEqual(fromMemory.info);
    expect(fromFile.schema).toEqual(fromMemory.schema);
    expect(fromFile.findings).toEqual(fromMemory.findings);
    expect(fromFile.info.problems).toEqual([]);
    expect(fromFile.schema!.revisions).toBe(16_000);
    expect(fromFile.schema!.liveKeys).toBe(16_000);
    expect(fromFile.bytesRead).toBe(fromMemory.bytesRead);
  });

  it('reads through the I/O threads (readInto, no readIntoSync) give the same report as blocking reads', async () => {
    const file = path.join(dir, 'async.db');
    await fs.writeFile(file, intact);
    const src = await openFileSource(file);
    try {
      const blocking = await inspectBbolt(src, 'db');
      // The same file source without its blocking read: every chunk through readInto, with read-ahead.
      const { readIntoSync: _blockingRead, ...asyncOnly } = src;
      const viaThreads = await inspectBbolt(asyncOnly, 'db');
      expect(viaThreads.info).toEqual(blocking.info);
      expect(viaThreads.schema).toEqual(blocking.schema);
      expect(viaThreads.findings).toEqual(blocking.findings);
      expect(viaThreads.bytesRead).toBe(blocking.bytesRead);
    } finally {
      await src.close();
    }
  });

  it('chunks read ahead by another thread (the walk takes them where they lie): the same report as plain reads', async () => {
    const file = path.join(dir, 'read-ahead.db');
    await fs.writeFile(file, intact);
    const src = await openFileSource(file);
    const stats: ReadAheadStats = { taken: 0, missed: 0, stale: 0 };
    try {
      const plain = await inspectBbolt(src, 'db');
      // This db is below the 64 MiB the walk reads ahead from: the threshold lowered, and the thread counted.
      const withThread = { ...src, readAhead: (layout: ReadAheadLayout) => waitingThread(file, layout, stats) };
      const ahead = await inspectBbolt(withThread, 'db', { readAheadMinBytes: 0 });
      expect(ahead.info).toEqual(plain.info);
      expect(ahead.schema).toEqual(plain.schema);
      expect(ahead.findings).toEqual(plain.findings);
      expect(ahead.bytesRead).toBe(plain.bytesRead);
      expect(stats.taken).toBeGreaterThan(0);
      // Without the lowered threshold no thread starts (a small db reads faster without one).
      const before = { ...stats };
      await inspectBbolt(withThread, 'db');
      expect(stats).toEqual(before);
    } finally {
      await src.close();
    }
  });

  it('a walk cancelled while its chunks are read ahead: the thread stops and closes the file', async () => {
    // ~48 MB: more than the thread's ring holds (32 MiB), so it is still reading (its file open) when the walk stops.
    const big = await buildDb(32_000);
    expect(big.length).toBeGreaterThan(40 * 1024 * 1024);
    const file = path.join(dir, 'read-ahead-cancel.db');
    await fs.writeFile(file, big);
    const src = await openFileSource(file);
    const stats: ReadAheadStats = { taken: 0, missed: 0, stale: 0 };
    const fds = async () => (await fs.readdir('/proc/self/fd')).length;
    try {
      const before = await fds();
      const controller = new AbortController();
      const withThread = { ...src, readAhead: (layout: ReadAheadLayout) => waitingThread(file, layout, stats) };
      // Cancelled once the thread has handed out a chunk (its file open), part way through the walk.
      const walk = inspectBbolt(withThread, 'db', {
        readAheadMinBytes: 0,
        signal: controller.signal,
        onProgress: (p) => {
          if (stats.taken > 0 && p.bytesDone > big.length / 2) controller.abort();
        },
      });
      await expect(walk).rejects.toBeInstanceOf(CancelledError);
      expect(stats.taken).toBeGreaterThan(0);
      let after = await fds();
      for (let i = 0; i < 100 && after > before; i++) {
        await new Promise((r) => setTimeout(r, 20));
        after = await fds();
      }
      expect(after).toBe(before);
    } finally {
      await src.close();
    }
  });

  it('a key below its ancestors’ bound near the end of the file: the same key-order problem as plain reads', async () => {
    const bytes = intact.slice();
    // The last revision leaf in the file: its first key set to revision 0 sorts before the branch key that leads to it.
    let leaf = -1;
    for (let pos = bytes.length / PS - 1; pos >= 2 && leaf < 0; pos--) {
      const h = decodePageHeader(bytes, pos * PS)!;
      const ksize = new DataView(bytes.buffer, pos * PS + 16 + 8, 4).getUint32(0, true);
      if (h.flags === LEAF_PAGE_FLAG && h.count > 1 && ksize === 17) leaf = pos;
    }
    expect(leaf).toBeGreaterThan(bytes.length / PS / 2);
    const keyAt = leaf * PS + 16 + new DataView(bytes.buffer, leaf * PS + 16 + 4, 4).getUint32(0, true);
    bytes.fill(0, keyAt, keyAt + 8);
    const { fromFile, fromMemory } = await bothWays('key-order.db', bytes);
    const order = fromFile.info.problems.filter((p) => p.code === 'bbolt.key-order');
    expect(order.length).toBeGreaterThan(0);
    expect(order.some((p) => p.page === leaf && p.text.includes('needs to be >= the key in the ancestor'))).toBe(true);
    expect(fromFile.info.problems).toEqual(fromMemory.info.problems);
    expect(fromFile.findings).toEqual(fromMemory.findings);
  });
});
