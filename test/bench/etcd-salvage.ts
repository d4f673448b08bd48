/**
 * etcd salvage benchmark (part of `npm run bench`): a ~1 GiB etcd db written
 * with the bbolt writer (4 KiB values, Kubernetes-like keys, every key
 * rewritten once so half the revisions are history), then, warm cache:
 * a raw read of the file, `inspectBbolt` (validation: the freepages walk and
 * the schema), salvage into a snapshot.db (every page scanned, newest
 * revision per key re-read and written, SHA-256 trailer), and the same
 * salvage after a branch pointer is set to page 0 (the field report). Peak
 * RSS shows the memory bound: values are never held (offsets are), reads go
 * through a few reused 4 MiB windows, the key index costs ~250 bytes a key.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MAX_READ } from '../../shared/bytes/byte-source';
import { openFileSource } from '../../electron/services/fs-source';
import { salvageToSnapshotDb } from '../../electron/services/etcd-repair';
import { inspectBbolt } from '../../shared/formats/etcd/bbolt-db';
import type { PageSink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';

const te = new TextEncoder();

export async function makeDb(file: string, bytes: number, valueSize: number): Promise<{ keys: number; revisions: number }> {
  const fh = await fs.open(file, 'wx', 0o600);
  const sink: PageSink = {
    async write(offset, b) {
      await fh.write(b, 0, b.length, offset);
    },
  };
  const revisions = Math.max(2, Math.floor(bytes / (valueSize + 120)));
  const keys = Math.ceil(revisions / 2);
  const value = new Uint8Array(valueSize);
  for (let i = 0; i < valueSize; i++) value[i] = 97 + (i % 26);
  function* items(): Generator<RevisionItem> {
    for (let r = 0; r < revisions; r++) {
      const k = r % keys;
      const key = te.encode(`/registry/configmaps/ns-${k % 50}/cm-${String(k).padStart(8, '0')}`);
      const rev = r + 2;
      value[0] = 48 + (r % 10);
      yield { key: revisionKey(rev, 0), value: encodeKeyValue({ key, createRevision: k + 2, modRevision: rev, version: r < keys ? 1 : 2, value, lease: 0n }) };
    }
  }
  try {
    await writeEtcdBackend(sink, { revisions: items(), buckets: { meta: [[te.encode('consistent_index'), u64be(revisions + 4)]] } });
  } finally {
    await fh.close();
  }
  return { keys, revisions };
}

async function measure<T>(fn: () => Promise<T>): Promise<{ result: T; seconds: number; peakRss: number }> {
  // memoryUsage.rss() only: the full memoryUsage() walks the heap, and 50 calls a second showed up in profiles.
  let peakRss = process.memoryUsage.rss();
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20);
  const t0 = performance.now();
  try {
    const result = await fn();
    return { result, seconds: (performance.now() - t0) / 1000, peakRss: Math.max(peakRss, process.memoryUsage.rss()) };
  } finally {
    clearInterval(timer);
  }
}

async function readAll(file: string): Promise<number> {
  const src = await openFileSource(file);
  let total = 0;
  try {
    for (let off = 0; off < src.size; off += MAX_READ) total += (await src.read(off, MAX_READ)).length;
  } finally {
    await src.close();
  }
  return total;
}

/** Point the first element of the key bucket's root branch at page 0 (the field report's damage). */
async function pointBranchAtPageZero(file: string): Promise<boolean> {
  const src = await openFileSource(file);
  try {
    // The writer puts the key bucket's branch pages right after its leaves: the first branch page is one of them.
    for (let p = 3; p * 4096 < src.size; p++) {
      const b = await src.read(p * 4096, 16);
      if (b[8] !== 0x01) continue;
      const fh = await fs.open(file, 'r+');
      try {
        await fh.write(new Uint8Array(8), 0, 8, p * 4096 + 16 + 8);
      } finally {
        await fh.close();
      }
      return true;
    }
    return false;
  } finally {
    await src.close();
  }
}

export async function benchEtcdSalvage(gib = 1): Promise<string[]> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-bench-salvage-'));
  const out: string[] = [];
  const mb = (b: number) => (b / 1e6).toFixed(0);
  try {
    const db = path.join(work, 'db');
    const t0 = performance.now();
    const made = await makeDb(db, gib * 1024 ** 3, 4000);
    const size = (await fs.stat(db)).size;
    out.push(
      `db: ${mb(size)} MB, ${made.keys} keys, ${made.revisions} revisions, written in ${((performance.now() - t0) / 1000).toFixed(1)} s (${mb(size / ((performance.now() - t0) / 1000))} MB/s)`,
    );
    await readAll(db); // warm the cache
    const raw = await measure(() => readAll(db));
    const validate = await measure(async () => {
      const src = await openFileSource(db);
      try {
        return await inspectBbolt(src, 'db');
      } finally {
        await src.close();
      }
    });
    const salvage = await measure(() => salvageToSnapshotDb(db, path.join(work, 'salvaged.db'), { keysListedMax: 0 }));
    const line = (what: string, m: { seconds: number; peakRss: number }) =>
      `  ${what.padEnd(44)} ${mb(size / m.seconds).padStart(6)} MB/s  ${m.seconds.toFixed(2).padStart(6)} s  peak RSS ${mb(m.peakRss)} MB`;
    out.push(line('raw read (warm)', raw));
    out.push(line('validate (inspectBbolt, warm)', validate));
    out.push(line(`salvage -> snapshot.db (${salvage.result.keysWritten} keys)`, salvage));
    if (await pointBranchAtPageZero(db)) {
      const broken = await measure(() => salvageToSnapshotDb(db, path.join(work, 'salvaged-broken.db'), { keysListedMax: 0 }));
      out.push(line(`salvage, branch -> page 0 (${broken.result.keysWritten} keys)`, broken));
    }
    out.push('  (MB/s of the input db; salvage also writes the output and its SHA-256)');
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  return out;
}
