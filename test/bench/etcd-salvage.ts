/**
 * etcd salvage benchmark (part of `npm run bench`): salvage beside validation
 * on the same input, each run in a child process of its own under
 * `/usr/bin/time` (wall, user + system CPU seconds, peak RSS of that process
 * alone), warm cache, with the machine's load average printed beside them
 * (the machine is shared: CPU seconds are the steadier figure).
 *
 * Inputs:
 * - a ~1 GiB etcd db written with the bbolt writer (4 KiB values,
 *   Kubernetes-like keys, every key rewritten once so half the revisions are
 *   history): a raw read, validation (`inspectBbolt`: the freepages walk and
 *   the schema), salvage into a snapshot.db (every page scanned, newest
 *   revision per key re-read and written, SHA-256 trailer computed while
 *   writing), and the same salvage after a branch pointer is set to page 0
 *   (the field report);
 * - with `--etcd-dir DIR` (the real-etcd data dir the etcd-start bench
 *   builds, `lifeboat-bench.json` marks it complete): `validateDirectory` on
 *   the data dir vs salvage of the data dir (db scan + WAL replay + write).
 *   That dir is only read.
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { localDirectory, openFileSource } from '../../electron/services/fs-source';
import { rawReadFiles } from './raw-read';
import { salvageToSnapshotDb } from '../../electron/services/etcd-repair';
import { validateDirectory } from '../../shared/validate';
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

/**
 * A db of `keys` distinct keys, one small revision each (salvage's memory is per distinct key, not per byte):
 * Kubernetes-like ~50-byte keys, 16-byte values. `node dist/bench.cjs --salvage-child many-keys N FILE`.
 */
export async function makeManyKeysDb(file: string, keys: number): Promise<void> {
  const fh = await fs.open(file, 'wx', 0o600);
  const sink: PageSink = {
    async write(offset, b) {
      await fh.write(b, 0, b.length, offset);
    },
  };
  const value = te.encode('value-0123456789');
  function* items(): Generator<RevisionItem> {
    for (let k = 0; k < keys; k++) {
      const key = te.encode(`/registry/secrets/namespace-${k % 97}/secret-${String(k).padStart(10, '0')}`);
      const rev = k + 2;
      yield { key: revisionKey(rev, 0), value: encodeKeyValue({ key, createRevision: rev, modRevision: rev, version: 1, value, lease: 0n }) };
    }
  }
  try {
    await writeEtcdBackend(sink, { revisions: items(), buckets: { meta: [[te.encode('consistent_index'), u64be(keys + 4)]] } });
  } finally {
    await fh.close();
  }
}

interface Measured {
  seconds: number;
  cpuSeconds: number;
  peakRss: number;
  /** The child's JSON line. */
  result: Record<string, number | string | null>;
}

/** Run `argv` under /usr/bin/time: its wall, CPU and peak RSS alone, and its stdout. */
export async function timedRun(argv: string[]): Promise<Omit<Measured, 'result'> & { stdout: string }> {
  const timeFile = path.join(os.tmpdir(), `lifeboat-bench-time-${process.pid}-${Date.now()}`);
  const t0 = performance.now();
  try {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, ...argv], { maxBuffer: 64 * 1024 * 1024 }, (err, out, stderr) =>
        err ? reject(new Error(`${argv.slice(0, 4).join(' ')} failed: ${err.message}\n${stderr}`)) : resolve(out),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    const [user, sys, maxKb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    return { seconds, cpuSeconds: user! + sys!, peakRss: maxKb! * 1024, stdout };
  } finally {
    await fs.rm(timeFile, { force: true });
  }
}

/** Run this bundle as `--salvage-child KIND ARGS...` under /usr/bin/time. */
async function child(script: string, kind: string, args: string[]): Promise<Measured> {
  const m = await timedRun([process.execPath, script, '--salvage-child', kind, ...args]);
  const line = m.stdout.trim().split('\n').pop() ?? '{}';
  return { seconds: m.seconds, cpuSeconds: m.cpuSeconds, peakRss: m.peakRss, result: JSON.parse(line) as Measured['result'] };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** `node dist/bench.cjs --salvage-child raw|validate-db|validate-dir|salvage|many-keys INPUT [OUT]`: the measured child prints one JSON line. */
export async function salvageChild(kind: string, input: string, out: string): Promise<void> {
  let result: Record<string, number | string | null>;
  if (kind === 'raw') {
    const bytes = await rawReadFiles((await fs.stat(input)).isDirectory() ? await filesUnder(input) : [input]);
    result = { bytes };
  } else if (kind === 'validate-db') {
    const src = await openFileSource(input);
    try {
      const r = await inspectBbolt(src, 'db');
      result = { liveKeys: r.schema?.liveKeys ?? null };
    } finally {
      await src.close();
    }
  } else if (kind === 'validate-dir') {
    const dir = localDirectory(input);
    try {
      const r = await validateDirectory(dir);
      result = { engine: r.engine, bytesRead: r.bytesRead, liveKeys: r.etcd?.schema?.liveKeys ?? null };
    } finally {
      await dir.close();
    }
  } else if (kind === 'salvage') {
    const r = await salvageToSnapshotDb(input, out, { keysListedMax: 0 });
    result = { keysWritten: r.keysWritten, fromWal: r.sources.wal, lost: r.lost.length, bytesWritten: r.bytesWritten, bytesRead: r.bytesRead };
  } else if (kind === 'many-keys') {
    await makeManyKeysDb(out, Number(input));
    result = { keys: Number(input) };
  } else throw new Error(`unknown salvage bench child ${kind}`);
  process.stdout.write(JSON.stringify(result) + '\n');
}

/** Point the first element of the key bucket's root branch at page 0 (the field report's damage). */
async function pointBranchAtPageZero(file: string): Promise<boolean> {
  const src = await openFileSource(file);
  try {
    // The writer puts the key bucket's branch pages right after its leaves: the first branch page is one of them.
    // Page by page span (a leaf's overflow pages hold its data, not a header).
    for (let p = 3; p * 4096 < src.size;) {
      const b = await src.read(p * 4096, 16);
      const overflow = b[12]! | (b[13]! << 8) | (b[14]! << 16) | (b[15]! << 24);
      if (b[8] !== 0x01) {
        p += 1 + overflow;
        continue;
      }
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

const mb = (b: number) => (b / 1e6).toFixed(0);
const load = () => `load ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`;

function row(what: string, inputBytes: number, m: Measured): string {
  return `  ${what.padEnd(46)} ${mb(inputBytes / m.seconds).padStart(6)} MB/s  ${m.seconds.toFixed(2).padStart(6)} s wall  ${m.cpuSeconds.toFixed(2).padStart(6)} s CPU  peak RSS ${mb(m.peakRss).padStart(4)} MB  (${load()})`;
}

/**
 * `benchScript`: this bundle (dist/bench.cjs), run again as the measured child.
 * `etcdDir`: the real-etcd bench dir (only read), or '' to skip it.
 */
export async function benchEtcdSalvage(gib: number, benchScript: string, etcdDir = ''): Promise<string[]> {
  const out: string[] = [];
  if (!existsSync('/usr/bin/time')) return ['  skipped: needs /usr/bin/time'];
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-bench-salvage-'));
  try {
    const db = path.join(work, 'db');
    const t0 = performance.now();
    const made = await makeDb(db, gib * 1024 ** 3, 4000);
    const size = (await fs.stat(db)).size;
    out.push(
      `synthetic db: ${mb(size)} MB, ${made.keys} keys, ${made.revisions} revisions, written in ${((performance.now() - t0) / 1000).toFixed(1)} s; each figure a child process of its own, warm cache:`,
    );
    await rawReadFiles([db]); // warm the cache
    out.push(row('raw read', size, await child(benchScript, 'raw', [db])));
    out.push(row('validate (inspectBbolt)', size, await child(benchScript, 'validate-db', [db])));
    const salvage = await child(benchScript, 'salvage', [db, path.join(work, 'salvaged.db')]);
    out.push(row(`salvage -> snapshot.db (${salvage.result.keysWritten} keys)`, size, salvage));
    await fs.rm(path.join(work, 'salvaged.db'), { force: true });
    if (await pointBranchAtPageZero(db)) {
      const broken = await child(benchScript, 'salvage', [db, path.join(work, 'salvaged-broken.db')]);
      out.push(row(`salvage, branch -> page 0 (${broken.result.keysWritten} keys)`, size, broken));
      await fs.rm(path.join(work, 'salvaged-broken.db'), { force: true });
    }
    out.push('  (MB/s of the input db; salvage also writes the output, hashed as it is written, and fsyncs it)');
    // Memory grows with distinct keys, not bytes: a million small keys (~115 MB of db) fit the default key-state
    // budget (one pass); four million do not (passes by key hash: peak RSS stays ~350 MB, CPU ~1.5x).
    for (const keys of [1_000_000, 4_000_000]) {
      const many = path.join(work, 'many-keys.db');
      await child(benchScript, 'many-keys', [String(keys), many]);
      const manySize = (await fs.stat(many)).size;
      const m = await child(benchScript, 'salvage', [many, path.join(work, 'many-keys-salvaged.db')]);
      out.push(row(`salvage, ${m.result.keysWritten} distinct ~50-byte keys (${mb(manySize)} MB db)`, manySize, m));
      await fs.rm(many, { force: true });
      await fs.rm(path.join(work, 'many-keys-salvaged.db'), { force: true });
    }
    if (etcdDir) out.push(...(await realDir(etcdDir, benchScript, work)));
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  return out;
}

/** Salvage vs validation on the real-etcd data dir (read only). */
async function realDir(etcdDir: string, benchScript: string, work: string): Promise<string[]> {
  const manifestFile = path.join(etcdDir, 'lifeboat-bench.json');
  if (!existsSync(manifestFile)) return [`  ${etcdDir}: no lifeboat-bench.json (run the etcd-start bench with --etcd-dir first): skipped`];
  const m = JSON.parse(await fs.readFile(manifestFile, 'utf8')) as {
    keys: number;
    liveKeys: number;
    revision: number;
    dbBytes: number;
    walBytes: number;
    bytes: number;
  };
  const dataDir = path.join(etcdDir, 'data');
  const out = [
    `real etcd 3.4 data dir ${dataDir}: ${mb(m.bytes)} MB (db ${mb(m.dbBytes)} MB, WAL ${mb(m.walBytes)} MB), ${m.liveKeys} live keys, revision ${m.revision}:`,
  ];
  await child(benchScript, 'raw', [dataDir]); // warm the cache
  out.push(row('raw read (db + WAL + snap)', m.bytes, await child(benchScript, 'raw', [dataDir])));
  out.push(row('validate (validateDirectory)', m.bytes, await child(benchScript, 'validate-dir', [dataDir])));
  const salvaged = path.join(work, 'etcd-dir-salvaged.db');
  const s = await child(benchScript, 'salvage', [dataDir, salvaged]);
  out.push(row(`salvage -> snapshot.db (${s.result.keysWritten} keys, ${s.result.fromWal} from the WAL)`, m.bytes, s));
  out.push(`  (output ${mb(Number(s.result.bytesWritten))} MB; MB/s of the data dir)`);
  await fs.rm(salvaged, { force: true });
  return out;
}
