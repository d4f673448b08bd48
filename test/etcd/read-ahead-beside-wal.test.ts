/**
 * A data dir's validation walks the db while its WAL is scanned in another
 * thread. On two cores the db's read-ahead thread as well made the whole
 * slower, so the walk holds its read-ahead back until the WAL scan is over
 * (unless `readAheadBesideWalScan`: a core for each), then starts it part
 * way through; the report is the same whichever way the chunks came.
 * The WAL scan is the real one, released by the test at a chunk read it
 * chooses; the read-ahead thread is the real one, over the real file.
 */
import { promises as fs, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDirectory, openFileSource } from '../../electron/services/fs-source';
import { startReadAhead, type ReadAheadStats } from '../../electron/services/read-ahead-thread';
import type { ByteSource, ChunkReadAhead, DirectorySource, ReadAheadLayout } from '../../shared/bytes/byte-source';
import { memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';
import { inspectEtcd, type EtcdRunOptions } from '../../shared/formats/etcd/validate';
import { scanWal } from '../../shared/formats/etcd/wal';

const te = new TextEncoder();
let root = '';

/** ~24 MB: chunks enough for the walk to read some before the WAL scan is released. */
async function buildDb(keys = 12_000): Promise<Uint8Array> {
  const items: RevisionItem[] = [];
  for (let i = 0; i < keys; i++) {
    const key = te.encode(`/registry/configmaps/ns-${i % 7}/cm-${String(i).padStart(6, '0')}`);
    const value = te.encode(`${i}:`.padEnd(1200 + (i % 900), 'x'));
    items.push({ key: revisionKey(i + 2, 0), value: encodeKeyValue({ key, createRevision: i + 2, modRevision: i + 2, version: 1, value, lease: 0n }) });
  }
  const sink = memorySink();
  await writeEtcdBackend(sink, { revisions: items, buckets: { meta: [[te.encode('consistent_index'), u64be(keys + 1)]] } });
  return sink.bytes();
}

/** `dir` with its `db` file opened through `wrapDb` (subdirectories included). */
function wrappingDb(dir: DirectorySource, wrapDb: (src: ByteSource) => ByteSource): DirectorySource {
  return {
    name: dir.name,
    list: () => dir.list(),
    open: async (name) => (name === 'db' ? wrapDb(await dir.open(name)) : dir.open(name)),
    subdir: async (name) => wrappingDb(await dir.subdir!(name), wrapDb),
  };
}

interface Run {
  /** Chunk reads the walk made itself before the read-ahead thread was asked for (null: never asked). */
  startedAfterReads: number | null;
  /** Chunk reads the walk made itself in all. */
  reads: number;
  stats: ReadAheadStats;
  report: Awaited<ReturnType<typeof inspectEtcd>>;
}

/**
 * Validate the dir with its WAL scan released at the walk's `releaseAt`-th own chunk read (or when the walk stops
 * its read-ahead thread), and the db's read-ahead thread recorded.
 */
async function validate(releaseAt: number, opts: EtcdRunOptions = {}): Promise<Run> {
  const stats: ReadAheadStats = { taken: 0, missed: 0, stale: 0 };
  let reads = 0;
  let startedAfterReads: number | null = null;
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const file = path.join(root, 'member', 'snap', 'db');
  const wrapDb = (src: ByteSource): ByteSource => {
    const local = src as Awaited<ReturnType<typeof openFileSource>>;
    return {
      ...local,
      readIntoSync: (offset: number, target: Uint8Array) => {
        if (++reads === releaseAt) release();
        return local.readIntoSync(offset, target);
      },
      readAhead: (layout: ReadAheadLayout): ChunkReadAhead => {
        startedAfterReads = reads;
        const st = statSync(file, { bigint: true });
        const thread = startReadAhead(file, { dev: st.dev, ino: st.ino }, layout, stats);
        // The first take waits for the thread to hold its chunk, so that chunks are really taken from it.
        const pause = new Int32Array(new SharedArrayBuffer(4));
        let first = true;
        return {
          ...thread,
          // The walk is over (a walk whose chunks came from the thread may make fewer reads of its own than releaseAt).
          stop: () => {
            release();
            thread.stop();
          },
          take: (n: number) => {
            for (let i = 0; first && i < 500 && !thread.holds(n); i++) Atomics.wait(pause, 0, 0, 10);
            first = false;
            return thread.take(n);
          },
        };
      },
    } as ByteSource;
  };
  const dir = localDirectory(root);
  try {
    const report = await inspectEtcd(wrappingDb(dir, wrapDb), {
      readAheadMinBytes: 0,
      ...opts,
      // The real WAL scan, over when the test releases it (as a thread's would end at some point of the walk).
      startWalScan: (walDir) => released.then(async () => scanWal(await dir.subdir!('member').then((m) => m.subdir!('wal')), walDir)),
    });
    return { startedAfterReads, reads, stats, report };
  } finally {
    release();
    await dir.close();
  }
}

/** Chunk reads a walk of the db makes without any read-ahead (the same every time: the same db, the same walk). */
let plainReads = 0;
let plain: Run;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-read-ahead-wal-'));
  await fs.mkdir(path.join(root, 'member', 'snap'), { recursive: true });
  await fs.mkdir(path.join(root, 'member', 'wal'), { recursive: true });
  await fs.writeFile(path.join(root, 'member', 'snap', 'db'), await buildDb());
});
afterAll(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
});

describe('the db read-ahead beside a WAL scanned in another thread', () => {
  beforeAll(async () => {
    plain = await validate(1, { readAheadMinBytes: Number.POSITIVE_INFINITY });
    plainReads = plain.reads;
    expect(plain.startedAfterReads).toBeNull();
    expect(plain.report!.report.etcd!.schema!.revisions).toBe(12_000);
  });

  it('held back while the WAL is scanned: never started when the scan ends with the walk’s last read, the same report', async () => {
    const held = await validate(plainReads);
    expect(held.reads).toBe(plainReads);
    expect(held.startedAfterReads).toBeNull();
    expect(held.stats.taken).toBe(0);
    expect(held.report!.report).toEqual({ ...plain.report!.report, elapsedMs: held.report!.report.elapsedMs });
  });

  it('started at a chunk read after the WAL scan ends, and chunks taken from it: the same report', async () => {
    const late = await validate(8);
    // Released at the 8th read: the walk sees the scan over at a later read (its event loop turns every 16 chunks).
    expect(late.startedAfterReads).not.toBeNull();
    expect(late.startedAfterReads!).toBeGreaterThanOrEqual(8);
    expect(late.startedAfterReads!).toBeLessThan(plainReads);
    expect(late.stats.taken).toBeGreaterThan(0);
    expect(late.reads).toBeLessThan(plainReads);
    expect(late.report!.report).toEqual({ ...plain.report!.report, elapsedMs: late.report!.report.elapsedMs });
  });

  it('with a core for each (readAheadBesideWalScan): started at the walk’s first chunk while the WAL is scanned', async () => {
    const beside = await validate(plainReads, { readAheadBesideWalScan: true });
    expect(beside.startedAfterReads).toBe(0);
    expect(beside.stats.taken).toBeGreaterThan(0);
    expect(beside.report!.report).toEqual({ ...plain.report!.report, elapsedMs: beside.report!.report.elapsedMs });
  });
});
