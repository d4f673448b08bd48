/**
 * Benchmark: how fast is validation compared with just reading the bytes?
 *
 *   npm run bench -- [options]   (builds dist/bench.cjs, then runs `node dist/bench.cjs [options]`)
 *   options: [--gib 1] [--lz4-mb 100] [--dir DIR (reuse)] [--keep]
 *     [--no-copy-out | --only-copy-out] [--copy-sizes 256,2048] [--copy-rounds 3] [--copy-sudo-max-mib 256]
 *     [--copy-segments 32 --copy-file-mib 256 (one size)]
 *     [--no-etcd-start | --only-etcd] [--etcd-gib 1] [--etcd-dir DIR (cache)] [--etcd-keys 200000] [--etcd-rounds 3]
 *     [--no-etcd-salvage | --only-etcd-salvage] (salvage vs validation; with --etcd-dir also on that real data dir)
 *     [--only-key-browser --etcd-dir DIR] (the etcd key browser's first and next queries on that real data dir's db; also after salvage when --etcd-dir is given)
 *     [--no-kine | --only-kine] [--kine-rows 200000] (the kine export beside sqlite3 on a kine database sqlite3 makes)
 *     [--only-key-browser-filters --db FILE] (the key browser past its index budget: a namespace, a resource, substrings, one after another; see key-browser-filters.ts)
 *
 * Synthesises a libraft backend dir (8 MiB closed segments with valid CRCs,
 * one-entry batches of 16 KiB payloads: real FRAMES commands, 3 pages each), then
 * measures raw read throughput (same 4 MiB chunks, cold when the page cache can
 * be dropped, and warm), validateDqliteDirectory throughput via localDirectory,
 * their ratio, peak RSS/heap, the offline rebuild of the same log, and LZ4
 * frame verification on a big frame.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs, existsSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32 } from '../../shared/formats/dqlite/crc';
import { encodeFramesCommand } from '../../shared/formats/dqlite/command';
import { rebuildDqliteDirectory } from '../../electron/services/dqlite-rebuild';
import { validateDqliteDirectory } from '../../shared/formats/dqlite/validate';
import { verifyLz4Frame } from '../../shared/formats/lz4/frame';
import { localDirectory, openFileSource } from '../../electron/services/fs-source';
import { rawReadFiles } from './raw-read';

const SEGMENT_SIZE = 8 * 1024 * 1024;
const PAYLOAD = 16 * 1024;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function fill(buf: Uint8Array, seed: number): void {
  const words = new Uint32Array(buf.buffer, buf.byteOffset, buf.byteLength >>> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    // Half the words repeat, so pages look like real, partly compressible data.
    words[i] = i & 1 ? 0x6b696e65 : x >>> 0;
  }
}

/** Distinct FRAMES payloads the entries cycle through: 3 pages each, so the log writes a 48 MiB database. */
const PAYLOAD_VARIANTS = 4096;
const PAGES_PER_ENTRY = 3;

/**
 * The entries' payloads: real dqlite FRAMES commands for database `k8s` (3 pages of 4096 bytes, 12,352
 * bytes), zero-padded to 16 KiB (dqlite ignores bytes after the pages), so the rebuild row applies them.
 */
function framesPayloads(): { payload: Uint8Array; crc: number }[] {
  const page = new Uint8Array(4096);
  return Array.from({ length: PAYLOAD_VARIANTS }, (_, v) => {
    fill(page, v + 1);
    const pages = Array.from({ length: PAGES_PER_ENTRY }, (_, k) => ({ pgno: v * PAGES_PER_ENTRY + k + 1, data: page }));
    const payload = new Uint8Array(PAYLOAD);
    payload.set(encodeFramesCommand('k8s', pages, 4096));
    return { payload, crc: crc32(payload) };
  });
}

/** One closed segment image: format 1, then one-entry batches until 8 MiB would be exceeded. */
function segmentImage(payloads: { payload: Uint8Array; crc: number }[], firstEntry: number): { bytes: Uint8Array; entries: number } {
  const batchSize = 16 + 16 + PAYLOAD;
  const entries = Math.floor((SEGMENT_SIZE - 8) / batchSize);
  const bytes = new Uint8Array(8 + entries * batchSize);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, 1, true);
  for (let e = 0; e < entries; e++) {
    const at = 8 + e * batchSize;
    const { payload, crc } = payloads[(firstEntry + e) % payloads.length]!;
    dv.setUint32(at + 8, 1, true); // n = 1
    dv.setUint32(at + 16, 1, true); // term 1
    bytes[at + 24] = 1; // RAFT_COMMAND
    dv.setUint32(at + 28, PAYLOAD, true);
    dv.setUint32(at, crc32(bytes, 0, at + 8, at + 32), true);
    dv.setUint32(at + 4, crc, true);
    bytes.set(payload, at + 32);
  }
  return { bytes, entries };
}

async function makeBackend(dir: string, gib: number): Promise<number> {
  await fs.mkdir(dir, { recursive: true });
  const payloads = framesPayloads();
  const entries = segmentImage(payloads, 0).entries;
  const count = Math.ceil((gib * 1024 ** 3) / (8 + entries * (32 + PAYLOAD)));
  let first = 1;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const { bytes } = segmentImage(payloads, first - 1);
    total += bytes.length;
    const name = `${String(first).padStart(16, '0')}-${String(first + entries - 1).padStart(16, '0')}`;
    await fs.writeFile(path.join(dir, name), bytes);
    first += entries;
  }
  const meta = new Uint8Array(32);
  const dv = new DataView(meta.buffer);
  dv.setUint32(0, 1, true);
  dv.setUint32(8, 1, true);
  dv.setUint32(16, 1, true);
  await fs.writeFile(path.join(dir, 'metadata1'), meta);
  return total;
}

function dropCaches(): boolean {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

/** Peak RSS / heap while `fn` runs (sampled every 20 ms). */
async function measure<T>(fn: () => Promise<T>): Promise<{ result: T; seconds: number; peakRss: number; peakHeap: number }> {
  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed + m.arrayBuffers);
  };
  sample();
  const timer = setInterval(sample, 20);
  const t0 = performance.now();
  try {
    const result = await fn();
    sample();
    return { result, seconds: (performance.now() - t0) / 1000, peakRss, peakHeap };
  } finally {
    clearInterval(timer);
  }
}

/** Every file of `dir` (sorted), read into one reused buffer: the floor validation is compared with. */
async function readAll(dir: string): Promise<number> {
  return rawReadFiles((await fs.readdir(dir)).sort().map((name) => path.join(dir, name)));
}

const mb = (b: number) => b / 1e6;
const fmt = (n: number, d = 0) => n.toFixed(d);

async function printCopyOut(bench: typeof import('./copy-out').benchCopyOut): Promise<void> {
  console.log('\ncopy-out over loopback (real sshd) vs scp of the same files:');
  const opt = (name: string) => (arg(name, '') === '' ? undefined : Number(arg(name, '')));
  const sizesMib = arg('copy-sizes', '') === '' ? undefined : arg('copy-sizes', '').split(',').map(Number);
  const options = { segments: opt('copy-segments'), fileMib: opt('copy-file-mib'), rounds: opt('copy-rounds'), sizesMib, sudoMaxMib: opt('copy-sudo-max-mib') };
  for (const line of await bench(options)) console.log(line);
}

/** etcd validation vs real etcd's start and `etcdctl snapshot status` (etcd-start.ts); the dir is cached under --etcd-dir. */
async function printEtcdStart(work: string | null): Promise<void> {
  const { benchEtcdStart } = await import('./etcd-start');
  const given = arg('etcd-dir', '');
  const cacheDir = given || (work ? path.join(work, 'etcd') : await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-bench-etcd-')));
  console.log('\netcd validation vs real etcd 3.4 on the same data dir:');
  if (!given) console.log(`  (generated in ${cacheDir}; pass --etcd-dir DIR to keep it for the next run)`);
  try {
    const lines = await benchEtcdStart({
      cacheDir,
      gib: Number(arg('etcd-gib', '1')),
      keys: Number(arg('etcd-keys', '200000')),
      rounds: Math.max(1, Number(arg('etcd-rounds', '3'))),
      benchScript: process.argv[1]!,
      log: (line) => console.log(line),
    });
    for (const line of lines) console.log(line);
  } finally {
    if (!given && !work) await fs.rm(cacheDir, { recursive: true, force: true });
  }
}

/** The etcd key browser on a real etcd data dir's db (a child process: its own peak RSS). */
async function printKeyBrowser(etcdDir: string): Promise<void> {
  if (!etcdDir) return;
  // --etcd-dir is the cache the etcd benches keep their generated dir in (DIR/data); a data dir itself works too.
  const dataDir = existsSync(path.join(etcdDir, 'data', 'member')) ? path.join(etcdDir, 'data') : etcdDir;
  const { benchKeyBrowser } = await import('./key-browser');
  console.log('\netcd key browser (index built at the first query, kept for the next):');
  for (const line of benchKeyBrowser(dataDir, process.argv[1]!)) console.log(line);
}

async function main(): Promise<void> {
  if (process.argv[2] === '--salvage-child') {
    const { salvageChild } = await import('./etcd-salvage');
    return salvageChild(process.argv[3] ?? '', process.argv[4] ?? '', process.argv[5] ?? '');
  }
  if (process.argv[2] === '--kine-child') {
    const { kineChild } = await import('./kine-export');
    return kineChild(process.argv[3] ?? '', process.argv[4] ?? '', process.argv[5] ?? '');
  }
  if (process.argv.includes('--only-kine')) {
    const { benchKineExport } = await import('./kine-export');
    const work = arg('dir', '') || (await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-bench-kine-')));
    try {
      for (const line of await benchKineExport(Number(arg('kine-rows', '200000')), process.argv[1]!, work)) console.log(line);
    } finally {
      if (!arg('dir', '')) await fs.rm(work, { recursive: true, force: true });
    }
    return;
  }
  if (process.argv[2] === '--key-browser-child') {
    const { keyBrowserChild } = await import('./key-browser');
    return keyBrowserChild(process.argv[3] ?? '');
  }
  if (process.argv.includes('--only-key-browser')) return printKeyBrowser(arg('etcd-dir', ''));
  if (process.argv.includes('--only-key-browser-filters')) {
    const { printKeyBrowserFilters } = await import('./key-browser-filters');
    return printKeyBrowserFilters(arg('db', ''));
  }
  if (process.argv[2] === '--etcd-child') {
    const { etcdChild } = await import('./etcd-start');
    return etcdChild(process.argv[3] ?? '', process.argv[4] ?? '');
  }
  const { benchCopyOut } = await import('./copy-out');
  if (process.argv.includes('--only-copy-out')) return printCopyOut(benchCopyOut);
  if (process.argv.includes('--only-etcd')) return printEtcdStart(null);
  if (process.argv.includes('--only-etcd-salvage')) {
    const { benchEtcdSalvage } = await import('./etcd-salvage');
    console.log('etcd salvage vs validation on the same input (a synthetic db; with --etcd-dir also the real etcd data dir):');
    for (const line of await benchEtcdSalvage(Number(arg('etcd-gib', '1')), process.argv[1]!, arg('etcd-dir', ''))) console.log(line);
    return;
  }
  const gib = Number(arg('gib', '1'));
  const lz4Mb = Number(arg('lz4-mb', '100'));
  const reuse = arg('dir', '');
  const keep = process.argv.includes('--keep');
  const work = reuse || (await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-bench-')));
  const backend = path.join(work, 'backend');
  const rows: { what: string; mbps: string; seconds: string; ratio: string; peakRssMb: string; peakHeapMb: string }[] = [];
  try {
    let bytes: number;
    if (reuse && existsSync(backend)) {
      bytes = 0;
      for (const n of await fs.readdir(backend)) bytes += (await fs.stat(path.join(backend, n))).size;
    } else {
      const t0 = performance.now();
      bytes = await makeBackend(backend, gib);
      console.log(`generated ${fmt(mb(bytes))} MB in ${fmt((performance.now() - t0) / 1000, 1)} s at ${backend}`);
    }

    const cold = dropCaches();
    const rawCold = await measure(() => readAll(backend));
    const rawWarm = await measure(() => readAll(backend));
    if (cold) dropCaches();
    const validation = await measure(async () => {
      const src = localDirectory(backend);
      try {
        return await validateDqliteDirectory(src);
      } finally {
        await src.close();
      }
    });
    const validationWarm = await measure(async () => {
      const src = localDirectory(backend);
      try {
        return await validateDqliteDirectory(src);
      } finally {
        await src.close();
      }
    });
    const row = (what: string, m: { seconds: number; peakRss: number; peakHeap: number }, base: number | null, n = bytes) => ({
      what,
      mbps: fmt(mb(n) / m.seconds),
      seconds: fmt(m.seconds, 2),
      ratio: base === null ? '' : fmt(base / m.seconds, 2),
      peakRssMb: fmt(mb(m.peakRss)),
      peakHeapMb: fmt(mb(m.peakHeap)),
    });
    rows.push(row(cold ? 'raw read, cold cache' : 'raw read (cache could not be dropped)', rawCold, null));
    rows.push(row('raw read, warm cache', rawWarm, null));
    rows.push(row(cold ? 'validate, cold cache' : 'validate', validation, rawCold.seconds));
    rows.push(row('validate, warm cache', validationWarm, rawWarm.seconds));
    // The offline rebuild (salvage --out) of the same log: every FRAMES entry applied to a new database file.
    const rebuiltDir = path.join(work, 'rebuilt');
    await fs.rm(rebuiltDir, { recursive: true, force: true });
    const rebuild = await measure(() => rebuildDqliteDirectory(backend, rebuiltDir));
    rows.push(row('rebuild (salvage --out), warm cache', rebuild, rawWarm.seconds));
    const rb = rebuild.result;
    console.log(
      `rebuild: entries ${rb.log?.from}..${rb.log?.to} applied (${rb.log?.pages} page images) into ${rb.databases.map((d) => `${d.file} ${fmt(mb(d.bytes))} MB`).join(', ')}; stop: ${rb.stop?.why ?? 'none'}`,
    );
    await fs.rm(rebuiltDir, { recursive: true, force: true });
    const rep = validation.result;
    console.log(`validation verdict: startable=${rep.startable} dataLoss=${rep.dataLoss} findings=${rep.findings.length} bytesRead=${rep.bytesRead}`);

    // LZ4: a big compressible frame made by the real lz4 CLI (linked blocks, content checksum).
    const plain = path.join(work, 'big.bin');
    const frame = path.join(work, 'big.lz4');
    const chunk = new Uint8Array(4 * 1024 * 1024);
    const fh = await fs.open(plain, 'w');
    for (let written = 0, i = 0; written < lz4Mb * 1e6; written += chunk.length, i++) {
      fill(chunk, i + 1);
      await fh.write(chunk);
    }
    await fh.close();
    execFileSync('lz4', ['-q', '-f', '-BD', '--content-size', plain, frame]);
    await fs.rm(plain);
    const frameSrc = await openFileSource(frame);
    try {
      const lz4 = await measure(() => verifyLz4Frame(frameSrc));
      if (!lz4.result.ok) throw new Error(`lz4 verify failed: ${lz4.result.error}`);
      rows.push(row(`lz4 verify (${fmt(mb(frameSrc.size))} MB frame -> MB/s of output)`, lz4, null, lz4.result.contentSize));
    } finally {
      await frameSrc.close();
    }
    console.table(rows);
    console.log('ratio = raw read time / validation time (1.00 = validation as fast as reading).');
    if (!process.argv.includes('--no-etcd-wal')) {
      const { benchEtcdWal } = await import('./etcd-wal');
      console.log('\netcd WAL decoding (scan = the start-up model, entries = salvage):');
      for (const line of await benchEtcdWal()) console.log(line);
    }
    if (!process.argv.includes('--no-etcd-salvage')) {
      const { benchEtcdSalvage } = await import('./etcd-salvage');
      console.log('\netcd salvage vs validation on the same input (a synthetic db; with --etcd-dir also the real etcd data dir):');
      for (const line of await benchEtcdSalvage(Number(arg('etcd-gib', String(gib))), process.argv[1]!, arg('etcd-dir', ''))) console.log(line);
    }
    if (!process.argv.includes('--no-kine')) {
      const { benchKineExport } = await import('./kine-export');
      console.log("\nkine export (k3s state.db, the dqlite rebuild's objects) beside sqlite3 reading the same rows:");
      for (const line of await benchKineExport(Number(arg('kine-rows', '200000')), process.argv[1]!, work)) console.log(line);
    }
    await printKeyBrowser(arg('etcd-dir', ''));
    if (!process.argv.includes('--no-etcd-start')) await printEtcdStart(work);
    if (!process.argv.includes('--no-copy-out')) await printCopyOut(benchCopyOut);
  } finally {
    if (!keep && !reuse) await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
