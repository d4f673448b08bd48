/**
 * etcd WAL benchmark (part of `npm run bench`): a WAL of three 64,000,000-byte
 * files written with the record encoder the way etcd 3.4 writes them (CRC
 * record, metadata, HardState at each cut; a put entry plus a HardState per
 * write; the last file preallocated), then raw reads of the same files
 * against `scanWal` (the start-up model: every record framed, CRC-checked
 * and decoded) and `readWalEntries` (salvage: every request decoded), warm
 * cache, with CPU time and peak RSS. Two value sizes: 2 KB (Kubernetes
 * objects) and 200 B (the worst case: most records per byte).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MAX_READ } from '../../shared/bytes/byte-source';
import { localDirectory, openFileSource } from '../../electron/services/fs-source';
import { readWalEntries, scanWal } from '../../shared/formats/etcd/wal';
import { encodeWalRecord, SEGMENT_SIZE_BYTES } from '../../shared/formats/etcd/wal-record';
import { walName } from '../../shared/formats/etcd/wal-name';
import { encodeEntry, encodeHardState, encodeMetadata, encodeWalSnapshot } from '../../shared/formats/etcd/raft-entry';
import { encodePutRequest } from '../../shared/formats/etcd/internal-request';

const te = new TextEncoder();

async function makeWal(dir: string, files: number, valueSize: number): Promise<number> {
  await fs.mkdir(dir, { recursive: true });
  let crc = 0;
  let index = 0;
  let state: Uint8Array | null = null;
  const metadata = encodeMetadata({ nodeId: 0x8e9e05c52164694dn, clusterId: 0xcdf818194e3a8c32n });
  const value = te.encode('v'.repeat(valueSize));
  for (let f = 0; f < files; f++) {
    const name = walName(f, f === 0 ? 0 : index + 1);
    const p = path.join(dir, name);
    const h = await fs.open(p, 'w');
    let parts: Uint8Array[] = [];
    let pending = 0;
    let size = 0;
    const flush = async () => {
      await h.write(Buffer.concat(parts));
      parts = [];
      pending = 0;
    };
    const add = (type: number, data: Uint8Array | null) => {
      const e = encodeWalRecord(type, data, crc);
      crc = e.crc;
      parts.push(e.frame);
      size += e.frame.length;
      pending += e.frame.length;
    };
    add(4, null);
    add(1, metadata);
    if (f === 0) add(5, encodeWalSnapshot({ index: 0, term: 0 }));
    else if (state) add(3, state);
    const last = f === files - 1;
    while (size < (last ? SEGMENT_SIZE_BYTES / 2 : SEGMENT_SIZE_BYTES - 4 * valueSize)) {
      index++;
      add(2, encodeEntry({ type: 0, term: 2, index, data: encodePutRequest(BigInt(index), te.encode(`/registry/pods/default/pod-${index % 5000}`), value) }));
      state = encodeHardState({ term: 2, vote: 0x8e9e05c52164694dn, commit: index });
      add(3, state);
      if (pending >= MAX_READ) await flush();
    }
    await flush();
    await h.close();
    if (last) await fs.truncate(p, SEGMENT_SIZE_BYTES);
  }
  return index;
}

/** Memory the run holds: JS heap plus ArrayBuffers (RSS keeps what earlier phases freed). */
const held = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

async function measure<T>(fn: () => Promise<T>): Promise<{ result: T; seconds: number; cpuSeconds: number; peakRss: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  let peakRss = held();
  const timer = setInterval(() => (peakRss = Math.max(peakRss, held())), 20);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const result = await fn();
    const cpu = process.cpuUsage(cpu0);
    return { result, seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRss: Math.max(peakRss, held()) };
  } finally {
    clearInterval(timer);
  }
}

async function readRaw(dir: string): Promise<number> {
  let total = 0;
  for (const name of (await fs.readdir(dir)).sort()) {
    const src = await openFileSource(path.join(dir, name));
    try {
      for (let off = 0; off < src.size; off += MAX_READ) total += (await src.read(off, MAX_READ)).length;
    } finally {
      await src.close();
    }
  }
  return total;
}

export async function benchEtcdWal(): Promise<string[]> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-bench-wal-'));
  const lines: string[] = [];
  try {
    for (const valueSize of [2000, 200]) {
      const dir = path.join(work, `wal-${valueSize}`);
      const entries = await makeWal(dir, 3, valueSize);
      const bytes = (await Promise.all((await fs.readdir(dir)).map(async (n) => (await fs.stat(path.join(dir, n))).size))).reduce((a, b) => a + b, 0);
      await readRaw(dir); // warm the cache
      const raw = await measure(() => readRaw(dir));
      const scan = await measure(async () => {
        const d = localDirectory(dir);
        try {
          return await scanWal(d, 'member/wal');
        } finally {
          await d.close();
        }
      });
      if (scan.result.readError) throw new Error(`bench WAL did not scan clean: ${scan.result.readError.engineError}`);
      const salvage = await measure(async () => {
        const d = localDirectory(dir);
        let n = 0;
        try {
          await readWalEntries(d, 'member/wal', 1, () => {
            n++;
          });
        } finally {
          await d.close();
        }
        return n;
      });
      if (salvage.result !== entries) throw new Error(`readWalEntries gave ${salvage.result} entries, expected ${entries}`);
      const mbps = (s: number) => (bytes / 1e6 / s).toFixed(0);
      lines.push(
        `WAL ${(bytes / 1e6).toFixed(0)} MB in 3 files, ${entries} puts of ${valueSize} B (warm cache):`,
        `  raw read        ${mbps(raw.seconds)} MB/s`,
        `  scanWal         ${mbps(scan.seconds)} MB/s wall, ${mbps(scan.cpuSeconds)} MB/s of CPU time, peak heap+buffers ${(scan.peakRss / 1e6).toFixed(0)} MB, read ${(scan.result.bytesRead / 1e6).toFixed(0)} MB`,
        `  readWalEntries  ${mbps(salvage.seconds)} MB/s wall, ${mbps(salvage.cpuSeconds)} MB/s of CPU time, peak heap+buffers ${(salvage.peakRss / 1e6).toFixed(0)} MB`,
      );
      await fs.rm(dir, { recursive: true, force: true });
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  return lines;
}
