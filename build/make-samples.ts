/**
 * Regenerates resources/samples/ from real dqlite-demo runs (run it with
 * `node build/make-samples.mjs`, which bundles this file with esbuild).
 *
 * dqlite-healthy: a real node after three clean sessions: a snapshot (+ .meta)
 *   at 1024, three closed segments after it, metadata1/2, cluster.yaml,
 *   info.yaml and failure-domain. Closed segments wholly covered by the snapshot
 *   are removed (libraft deletes them too once they fall behind its trailing
 *   window), which keeps the sample small.
 * dqlite-field-report: the situation of the MicroK8s field report at small
 *   scale: a closed segment X with a zero-filled tail block, the 80-byte
 *   `.reconfigure` segment right after it, open segments, and a newer
 *   snapshot. All indices are shifted (raft entries do not store their index;
 *   names and `.meta` configuration indices do) so that X ends at 14232597 and
 *   the 80-byte segment is 0000000014232598-0000000014232598, as in the report.
 *
 * Not byte-for-byte deterministic: snapshot timestamps, term/vote metadata and
 * SQLite page contents vary between runs; the layout and verdicts do not.
 * The script checks every sample with dqlite-demo before writing it.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { keyMap, requireDqliteDemo, startNode, tryStart, writeKeys } from '../test/helpers/dqlite-demo';
import { reconfigure } from '../test/helpers/dqlite-goldens';
import { closedName, decodeMeta, encodeMeta, listSegments, parseClosedName, parseSnapshotName } from '../test/helpers/dqlite-files';
import { ETCD_SAMPLE_INDEX, makeEtcdSamples } from './etcd-samples';

/** MicroK8s' dqlite address: the samples look like a real node's backend dir. */
const ADDRESS = '127.0.0.1:19001';
const VALUE_SIZE = 40;
const REPORT_Y = 14232598;

const repoRoot = process.env.LIFEBOAT_REPO_ROOT ?? path.resolve(__dirname, '..');
const samplesDir = path.join(repoRoot, 'resources', 'samples');

async function lastClosedIndex(dir: string): Promise<number> {
  const closed = (await listSegments(dir)).filter((s) => !s.open);
  return closed[closed.length - 1].last ?? 0;
}

async function snapshotsOf(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((n) => parseSnapshotName(n) !== null).sort((a, b) => parseSnapshotName(a)!.index - parseSnapshotName(b)!.index);
}

/** Pad an open segment's live data with one zeroed block, as libraft's block writes leave it. */
function asOpenSegment(bytes: Uint8Array, liveEnd: number): Uint8Array {
  let size = Math.ceil(liveEnd / 4096) * 4096;
  if (size - liveEnd < 16) size += 4096;
  const out = new Uint8Array(size);
  out.set(bytes.subarray(0, liveEnd));
  return out;
}

async function liveEndOf(bytes: Uint8Array): Promise<number> {
  const { walkBatches } = await import('../test/helpers/dqlite-files');
  return walkBatches(bytes).end;
}

async function addMicroK8sFiles(dir: string): Promise<void> {
  // MicroK8s writes the failure domain as a decimal number and a newline.
  await fs.writeFile(path.join(dir, 'failure-domain'), '1\n');
}

async function makeHealthy(work: string): Promise<{ dir: string; keys: Map<string, string> }> {
  const parent = path.join(work, 'healthy');
  let node = await startNode(parent, ADDRESS);
  await writeKeys(node, 0, 1030, VALUE_SIZE);
  await node.stop();
  for (const [from, to] of [
    [1030, 1036],
    [1036, 1042],
  ]) {
    node = await startNode(parent, ADDRESS);
    await writeKeys(node, from, to, VALUE_SIZE);
    await node.stop();
  }
  const dir = path.join(parent, ADDRESS);
  const snaps = await snapshotsOf(dir);
  const snapIndex = parseSnapshotName(snaps[snaps.length - 1])!.index;
  for (const s of await listSegments(dir)) {
    if (!s.open && (s.last ?? 0) <= snapIndex) await fs.rm(path.join(dir, s.name));
  }
  await addMicroK8sFiles(dir);
  return { dir, keys: keyMap(0, 1042, VALUE_SIZE) };
}

async function makeFieldReport(work: string): Promise<{ dir: string; keys: Map<string, string>; broken: string }> {
  const parent = path.join(work, 'field');
  const dir = path.join(parent, ADDRESS);
  let node = await startNode(parent, ADDRESS);
  await writeKeys(node, 0, 2024, VALUE_SIZE);
  await node.stop();
  const l1 = await lastClosedIndex(dir);
  // Session 2 (segment W, 4 writes) measures how many entries a restart adds by itself.
  node = await startNode(parent, ADDRESS);
  await writeKeys(node, 2024, 2028, VALUE_SIZE);
  await node.stop();
  const l2 = await lastClosedIndex(dir);
  const overhead = l2 - l1 - 4;
  // Session 3 (segment X) ends a few entries before the snapshot at 2048.
  const xWrites = Math.max(4, 2040 - l2 - overhead);
  node = await startNode(parent, ADDRESS);
  await writeKeys(node, 2028, 2028 + xWrites, VALUE_SIZE);
  await node.stop();
  reconfigure(dir);
  const y = await lastClosedIndex(dir);
  if (y >= 2046) throw new Error(`.reconfigure segment at ${y}, expected before the snapshot at 2048`);
  // Session 4 crosses the snapshot at 2048 and crashes with live open segments.
  node = await startNode(parent, ADDRESS);
  const total = 2028 + xWrites + (2048 - y) + 4;
  await writeKeys(node, 2028 + xWrites, total, VALUE_SIZE);
  await node.kill();

  const segs = await listSegments(dir);
  const closed = segs.filter((s) => !s.open);
  const yIdx = closed.findIndex((s) => s.first === y && s.last === y);
  const [w, x] = [closed[yIdx - 2], closed[yIdx - 1]];
  const afterY = closed.slice(yIdx + 1);
  const snaps = await snapshotsOf(dir);
  const newest = parseSnapshotName(snaps[snaps.length - 1])!;
  if (newest.index <= y) throw new Error('no snapshot beyond the .reconfigure segment');

  const delta = REPORT_Y - y;
  const out = path.join(work, 'field-out');
  await fs.mkdir(out, { recursive: true });
  const shifted = (n: string) => {
    const r = parseClosedName(n)!;
    return closedName(r.first + delta, r.last + delta);
  };
  await fs.copyFile(path.join(dir, w.name), path.join(out, shifted(w.name)));
  await fs.copyFile(path.join(dir, closed[yIdx].name), path.join(out, shifted(closed[yIdx].name)));
  // X: the closed segment gets a zero-filled last block (the batch after it reads count 0).
  const xBytes = await fs.readFile(path.join(dir, x.name));
  let pad = 4096 - (xBytes.length % 4096);
  if (pad < 16) pad += 4096;
  const broken = shifted(x.name);
  await fs.writeFile(path.join(out, broken), Buffer.concat([xBytes, Buffer.alloc(pad)]));
  // libraft 0.15 closes the open segment at a snapshot; newer raft keeps writing
  // it. Turn the closed segments after Y back into open segments (the loader
  // numbers them from Y + 1, as before), then the live open segment, then a spare.
  const opens = segs.filter((s) => s.open);
  let counter = 28053;
  const openSources: Uint8Array[] = [];
  for (const s of afterY) openSources.push(new Uint8Array(await fs.readFile(path.join(dir, s.name))));
  for (const s of opens) {
    const b = new Uint8Array(await fs.readFile(path.join(dir, s.name)));
    if ((await liveEndOf(b)) > 8) openSources.push(b);
  }
  for (const b of openSources) {
    await fs.writeFile(path.join(out, `open-${counter++}`), asOpenSegment(b, await liveEndOf(b)));
  }
  await fs.writeFile(path.join(out, `open-${counter}`), new Uint8Array(4096));
  // Snapshots: shift names and the configuration index inside .meta (CRC recomputed).
  for (const name of snaps) {
    const s = parseSnapshotName(name)!;
    const newName = `snapshot-${s.term}-${s.index + delta}-${s.ts}`;
    await fs.copyFile(path.join(dir, name), path.join(out, newName));
    const meta = decodeMeta(new Uint8Array(await fs.readFile(path.join(dir, `${name}.meta`))));
    if (!meta.crcOk) throw new Error(`${name}.meta has a bad CRC`);
    await fs.writeFile(path.join(out, `${newName}.meta`), encodeMeta(meta.configurationIndex + delta, meta.conf));
  }
  for (const f of ['metadata1', 'metadata2', 'cluster.yaml', 'info.yaml']) {
    await fs.copyFile(path.join(dir, f), path.join(out, f)).catch(() => undefined);
  }
  await addMicroK8sFiles(out);
  return { dir: out, keys: keyMap(0, total, VALUE_SIZE), broken };
}

async function dirSize(dir: string): Promise<number> {
  let n = 0;
  for (const f of await fs.readdir(dir)) n += (await fs.stat(path.join(dir, f))).size;
  return n;
}

/** Total bytes under `dir`, subdirectories included (etcd samples have member/wal, member/snap). */
async function treeSize(dir: string): Promise<number> {
  let n = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? await treeSize(p) : (await fs.stat(p)).size;
  }
  return n;
}

/** The etcd samples (`--etcd-only`: leaves the dqlite samples as they are). */
async function etcdSamples(work: string): Promise<void> {
  for (const sample of await makeEtcdSamples(work)) {
    const dest = path.join(samplesDir, sample.id);
    await fs.rm(dest, { recursive: true, force: true });
    await fs.cp(sample.dir, dest, { recursive: true });
    console.log(`${sample.id}: ${(await treeSize(dest)) / 1024} KiB; ${sample.note}`);
  }
}

/** index.json with the etcd entries after the dqlite ones (replacing older etcd entries). */
async function writeIndex(dqliteEntries: readonly object[] | null): Promise<void> {
  const file = path.join(samplesDir, 'index.json');
  const existing = dqliteEntries ?? (JSON.parse(await fs.readFile(file, 'utf8')) as { engine?: string }[]).filter((e) => e.engine !== 'etcd');
  await fs.writeFile(file, `${JSON.stringify([...existing, ...ETCD_SAMPLE_INDEX], null, 2)}\n`);
}

async function main(): Promise<void> {
  if (process.argv.includes('--etcd-only')) {
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-samples-'));
    try {
      await etcdSamples(work);
      await writeIndex(null);
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
    return;
  }
  if (!requireDqliteDemo()) throw new Error('dqlite-demo is required to make the samples');
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-samples-'));
  try {
    const healthy = await makeHealthy(work);
    const h = await tryStart(healthy.dir, 15000, { keys: healthy.keys });
    if (!h.started || h.keysServed?.length !== healthy.keys.size) {
      throw new Error(`healthy sample does not serve all keys: ${h.keysServed?.length} ${h.stderr}`);
    }
    const field = await makeFieldReport(work);
    const f = await tryStart(field.dir, 15000);
    if (
      f.started ||
      !/load closed segment 0000000014\d+-0000000014232597: entries batch \d+ starting at byte \d+: entries count in preamble is zero/.test(f.stderr)
    ) {
      throw new Error(`field sample does not fail like the report: ${f.stderr}`);
    }
    const fixed = path.join(work, 'field-fixed', ADDRESS);
    await fs.cp(field.dir, fixed, { recursive: true });
    await fs.rm(path.join(fixed, field.broken));
    const ff = await tryStart(fixed, 15000, { keys: field.keys });
    if (!ff.started) throw new Error(`field sample does not start after removing ${field.broken}: ${ff.stderr}`);

    for (const [id, src] of [
      ['dqlite-healthy', healthy.dir],
      ['dqlite-field-report', field.dir],
    ] as const) {
      const dest = path.join(samplesDir, id);
      await fs.rm(dest, { recursive: true, force: true });
      await fs.mkdir(dest, { recursive: true });
      for (const name of (await fs.readdir(src)).sort()) await fs.copyFile(path.join(src, name), path.join(dest, name));
      console.log(`${id}: ${(await fs.readdir(dest)).length} files, ${(await dirSize(dest)) / 1024} KiB`);
    }
    console.log(`field sample: dqlite says: ${f.stderr.split('\n')[0]}`);
    console.log(`field sample without ${field.broken}: starts, serves ${ff.keysServed?.length ?? 0} of ${field.keys.size} keys`);
    const index = [
      { id: 'dqlite-healthy', dir: 'dqlite-healthy', titleKey: 'sample.healthy.title', descriptionKey: 'sample.healthy.description', engine: 'dqlite' },
      {
        id: 'dqlite-field-report',
        dir: 'dqlite-field-report',
        titleKey: 'sample.fieldReport.title',
        descriptionKey: 'sample.fieldReport.description',
        engine: 'dqlite',
      },
    ];
    await etcdSamples(work);
    await writeIndex(index);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
