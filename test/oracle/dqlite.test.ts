/**
 * Oracle suite: damaged copies of real dqlite-demo data dirs. For each copy,
 * the validator's verdict (startable, dataLoss, lost ranges) must match what
 * real dqlite-demo (libraft 0.15.0) does on that copy, and the repaired copy
 * must start and serve every key the report says is kept. Inputs are hashed
 * before and after: validation and repair never change them.
 *
 * Results (agreements and disagreements) are written to
 * $TMPDIR/lifeboat-oracle-results.json and printed as a table.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ValidationReport } from '../../shared/contract/report';
import type { LostRange } from '../../shared/contract/dqlite';
import { validateDqliteDirectory } from '../../shared/formats/dqlite/validate';
import { localDirectory } from '../../electron/services/fs-source';
import { requireDqliteDemo, tryStart, type Golden, type TryStartResult } from '../helpers/dqlite-demo';
import { goldenField, goldenKilled, goldenStopped } from '../helpers/dqlite-goldens';
import { encodeMetadata, indexOfKeys, listSegments } from '../helpers/dqlite-files';
import { rebuildDqliteDirectory } from '../../electron/services/dqlite-rebuild';

const HAVE_DQLITE = requireDqliteDemo();
const START_TIMEOUT_MS = 10000;

type GoldenName = 'killed' | 'stopped' | 'field';

interface Case {
  name: string;
  golden: GoldenName;
  /** Damage the copy in place. */
  damage: (dir: string, seg: SegmentNames) => Promise<void>;
  /**
   * Set when the damage destroys the evidence of what is lost, so no offline
   * tool can see the loss: only `startable` is compared, the loss is recorded.
   */
  evidenceGone?: string;
  /** A finding code the report must carry (the warning that stands in for evidence that is gone). */
  warns?: string;
}

/** Warnings that must not fire on a healthy directory. */
const CIRCUMSTANTIAL = ['segment.open-zeroed-live', 'segment.open-after-missing-closed'];

/** The golden's segment names by role (read from the names, not hard-coded). */
interface SegmentNames {
  closed: string[];
  open: string[];
  snapshots: string[]; // data files, oldest first
}

async function segmentNames(dir: string): Promise<SegmentNames> {
  const segs = await listSegments(dir);
  const snapshots = (await fs.readdir(dir)).filter((n) => /^snapshot-\d+-\d+-\d+$/.test(n)).sort((a, b) => Number(a.split('-')[2]) - Number(b.split('-')[2]));
  return { closed: segs.filter((s) => !s.open).map((s) => s.name), open: segs.filter((s) => s.open).map((s) => s.name), snapshots };
}

async function flip(file: string, offset: number, mask = 0xff): Promise<void> {
  const fh = await fs.open(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, offset);
    b[0] ^= mask;
    await fh.write(b, 0, 1, offset);
  } finally {
    await fh.close();
  }
}

async function appendZeros(file: string, n: number): Promise<void> {
  await fs.appendFile(file, Buffer.alloc(n));
}

async function zeroRange(file: string, from: number, length: number): Promise<void> {
  const fh = await fs.open(file, 'r+');
  try {
    await fh.write(Buffer.alloc(length), 0, length, from);
  } finally {
    await fh.close();
  }
}

async function size(file: string): Promise<number> {
  return (await fs.stat(file)).size;
}

/** Offset of the first batch whose start is past `fraction` of the file (walks batch sizes). */
async function batchStartNear(file: string, fraction: number): Promise<{ start: number; size: number }> {
  const b = await fs.readFile(file);
  const target = b.length * fraction;
  let at = 8;
  for (;;) {
    const n = Number(b.readBigUInt64LE(at + 8));
    let len = 0;
    for (let i = 0; i < n; i++) len += b.readUInt32LE(at + 16 + 16 * i + 12);
    const sz = 16 + 16 * n + len;
    if (at >= target || at + sz >= b.length) return { start: at, size: sz };
    at += sz;
  }
}

const p = (...parts: string[]): string => path.join(...parts);
const mid = (s: SegmentNames) => s.closed[4];
const lastClosed = (s: SegmentNames) => s.closed[s.closed.length - 1];
const newestSnap = (s: SegmentNames) => s.snapshots[s.snapshots.length - 1];

const CASES: Case[] = [
  { name: 'intact crashed node (open segments, two snapshots)', golden: 'killed', damage: async () => {} },
  { name: 'intact cleanly stopped node', golden: 'stopped', damage: async () => {} },
  { name: '4096 zero bytes appended to a middle closed segment', golden: 'killed', damage: (d, s) => appendZeros(p(d, mid(s)), 4096) },
  {
    name: 'zero-filled tail (last 4096 bytes zeroed) of a middle closed segment',
    golden: 'killed',
    damage: async (d, s) => zeroRange(p(d, mid(s)), (await size(p(d, mid(s)))) - 4096, 4096),
  },
  { name: 'flipped byte in a batch header of a middle closed segment', golden: 'killed', damage: (d, s) => flip(p(d, mid(s)), 8 + 16) },
  {
    name: 'flipped byte in batch data of a middle closed segment',
    golden: 'killed',
    damage: async (d, s) => flip(p(d, mid(s)), Math.floor((await size(p(d, mid(s)))) / 2)),
  },
  {
    name: 'middle closed segment truncated mid-batch',
    golden: 'killed',
    damage: async (d, s) => fs.truncate(p(d, mid(s)), (await size(p(d, mid(s)))) - 1000),
  },
  { name: 'middle closed segment emptied (0 bytes)', golden: 'killed', damage: (d, s) => fs.truncate(p(d, mid(s)), 0) },
  { name: 'middle closed segment with only 4 bytes', golden: 'killed', damage: (d, s) => fs.truncate(p(d, mid(s)), 4) },
  { name: 'middle closed segment missing (gap below the newest snapshot)', golden: 'killed', damage: (d, s) => fs.rm(p(d, s.closed[5])) },
  {
    name: 'gap with no snapshot to cover it',
    golden: 'killed',
    damage: async (d, s) => {
      for (const snap of s.snapshots) {
        await fs.rm(p(d, snap));
        await fs.rm(p(d, `${snap}.meta`));
      }
      await fs.rm(p(d, mid(s)));
    },
  },
  {
    name: 'overlapping segment names (a segment renamed 6 indices lower)',
    golden: 'killed',
    damage: async (d, s) => {
      const [a, b] = s.closed[5].split('-').map(Number);
      await fs.rename(p(d, s.closed[5]), p(d, `${String(a - 6).padStart(16, '0')}-${String(b - 6).padStart(16, '0')}`));
    },
  },
  {
    name: 'segment name claims more entries than the file holds',
    golden: 'killed',
    damage: async (d, s) => {
      const [a, b] = s.closed[6].split('-').map(Number);
      await fs.rename(p(d, s.closed[6]), p(d, `${String(a).padStart(16, '0')}-${String(b + 2).padStart(16, '0')}`));
    },
  },
  { name: 'last closed segment (before open segments) with zeros appended', golden: 'killed', damage: (d, s) => appendZeros(p(d, lastClosed(s)), 4096) },
  {
    name: 'last closed segment missing (open segments follow the snapshot)',
    golden: 'killed',
    damage: (d, s) => fs.rm(p(d, lastClosed(s))),
    evidenceGone:
      'open segments carry no index: with the closed segment before them gone, libraft numbers them from the snapshot and applies them to the wrong state; names and contents look like a healthy dir',
    warns: 'segment.open-after-missing-closed',
  },
  {
    name: 'live open segment truncated mid-batch',
    golden: 'killed',
    damage: async (d, s) => {
      const b = await batchStartNear(p(d, s.open[0]), 0.3);
      await fs.truncate(p(d, s.open[0]), b.start + Math.floor(b.size / 2));
    },
  },
  {
    name: 'flipped byte in the data of a batch inside the live open segment',
    golden: 'killed',
    damage: async (d, s) => {
      const b = await batchStartNear(p(d, s.open[0]), 0.3);
      await flip(p(d, s.open[0]), b.start + b.size - 100);
    },
  },
  {
    name: 'live open segment zeroed',
    golden: 'killed',
    damage: async (d, s) => zeroRange(p(d, s.open[0]), 0, await size(p(d, s.open[0]))),
    evidenceGone: 'an all-zero open segment is indistinguishable from an unused spare',
    warns: 'segment.open-zeroed-live',
  },
  {
    name: 'garbage in the last spare open segment',
    golden: 'killed',
    damage: async (d, s) => {
      const fh = await fs.open(p(d, s.open[s.open.length - 1]), 'r+');
      await fh.write(randomBytes(4096), 0, 4096, 0);
      await fh.close();
    },
  },
  {
    name: 'garbage in the first spare open segment (a spare follows it)',
    golden: 'killed',
    damage: async (d, s) => {
      const fh = await fs.open(p(d, s.open[1]), 'r+');
      await fh.write(randomBytes(64), 0, 64, 0);
      await fh.close();
    },
  },
  { name: 'bad .meta CRC on the newest snapshot', golden: 'killed', damage: (d, s) => flip(p(d, `${newestSnap(s)}.meta`), 40) },
  {
    name: 'flipped byte inside the newest snapshot LZ4 frame',
    golden: 'killed',
    damage: async (d, s) => flip(p(d, newestSnap(s)), Math.floor((await size(p(d, newestSnap(s)))) / 2)),
  },
  {
    name: 'newest snapshot data truncated',
    golden: 'killed',
    damage: async (d, s) => fs.truncate(p(d, newestSnap(s)), (await size(p(d, newestSnap(s)))) - 100),
  },
  { name: 'newest snapshot data missing (orphan .meta)', golden: 'killed', damage: (d, s) => fs.rm(p(d, newestSnap(s))) },
  { name: 'metadata1 torn (16 bytes)', golden: 'killed', damage: (d) => fs.truncate(p(d, 'metadata1'), 16) },
  { name: 'metadata1 too long (40 bytes)', golden: 'killed', damage: (d) => fs.appendFile(p(d, 'metadata1'), Buffer.alloc(8)) },
  { name: 'metadata1 with a bad format version', golden: 'killed', damage: (d) => flip(p(d, 'metadata1'), 0, 0x02) },
  {
    name: 'metadata2 at the same version as metadata1',
    golden: 'killed',
    damage: async (d) => fs.copyFile(p(d, 'metadata1'), p(d, 'metadata2')),
  },
  {
    name: 'metadata2 newer than metadata1 (valid pair)',
    golden: 'killed',
    damage: async (d) => {
      const m1 = await fs.readFile(p(d, 'metadata1'));
      await fs.writeFile(p(d, 'metadata2'), encodeMetadata(Number(m1.readBigUInt64LE(8)) + 1, Number(m1.readBigUInt64LE(16)), 0));
    },
  },
  { name: 'last closed segment with zeros appended (no open segments)', golden: 'stopped', damage: (d, s) => appendZeros(p(d, lastClosed(s)), 4096) },
  { name: 'flipped batch header byte in the last closed segment', golden: 'stopped', damage: (d, s) => flip(p(d, lastClosed(s)), 8 + 16) },
  {
    name: 'last closed segment truncated mid-batch',
    golden: 'stopped',
    damage: async (d, s) => fs.truncate(p(d, lastClosed(s)), (await size(p(d, lastClosed(s)))) - 1000),
  },
  {
    name: 'second-to-last closed segment (after the newest snapshot) with zeros appended',
    golden: 'stopped',
    damage: (d, s) => appendZeros(p(d, s.closed[s.closed.length - 2]), 4096),
  },
  {
    name: 'field report: zero-fill tail on the segment before the 80-byte .reconfigure segment',
    golden: 'field',
    damage: async (d, s) => {
      await fieldReportDamage(d, s);
    },
  },
  {
    name: "field report after the operator's fix (broken segment deleted)",
    golden: 'field',
    damage: async (d, s) => {
      const x = await fieldReportDamage(d, s);
      await fs.rm(p(d, x));
    },
  },
];

/**
 * The journal's situation: the closed segment just before the 80-byte segment
 * ends in a zero-filled block (file size a multiple of 4096, the next batch
 * preamble all zeros).
 */
async function fieldReportDamage(d: string, s: SegmentNames): Promise<string> {
  const sizes = await Promise.all(s.closed.map((n) => size(p(d, n))));
  const y = sizes.findIndex((sz, i) => sz === 80 && i > 0 && s.closed[i] !== '0000000000000001-0000000000000001');
  if (y < 1) throw new Error('field golden has no 80-byte .reconfigure segment');
  const x = s.closed[y - 1];
  const sz = sizes[y - 1];
  let pad = 4096 - (sz % 4096);
  if (pad < 16) pad += 4096;
  await appendZeros(p(d, x), pad);
  return x;
}

/**
 * Keys whose data survived the damage: in an intact snapshot identical to the
 * golden's, or in a valid batch at the same raft index as in the golden.
 * Only these can be expected back after a repair.
 */
async function keysStillOnDisk(dir: string, g: Golden & { indexOf: Map<string, number> }): Promise<Set<string>> {
  const here = await indexOfKeys(dir);
  let snapshotIndex = 0;
  for (const name of await fs.readdir(dir)) {
    const m = /^snapshot-\d+-(\d+)-\d+$/.exec(name);
    if (!m || !existsSync(p(g.dataDir, name)) || !existsSync(p(dir, `${name}.meta`))) continue;
    const [a, b, ma, mb] = await Promise.all([
      fs.readFile(p(dir, name)),
      fs.readFile(p(g.dataDir, name)),
      fs.readFile(p(dir, `${name}.meta`)),
      fs.readFile(p(g.dataDir, `${name}.meta`)),
    ]);
    if (a.equals(b) && ma.equals(mb)) snapshotIndex = Math.max(snapshotIndex, Number(m[1]));
  }
  const out = new Set<string>();
  for (const [k, idx] of g.indexOf) if (idx <= snapshotIndex || here.get(k) === idx) out.add(k);
  return out;
}

async function hashDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await fs.readdir(dir)).sort()) {
    const st = await fs.stat(p(dir, name));
    if (!st.isFile()) continue;
    out[name] = createHash('sha256')
      .update(await fs.readFile(p(dir, name)))
      .digest('hex');
  }
  return out;
}

async function validate(dir: string): Promise<ValidationReport> {
  const src = localDirectory(dir);
  try {
    return await validateDqliteDirectory(src);
  } finally {
    await src.close();
  }
}

/**
 * Keys a lost range must not name: still on disk at their own index, and below
 * the first key index (past the intact snapshot) that is not. Raft cannot skip
 * an entry, so everything from that first gap on may truly be lost; nothing
 * before it has to be.
 */
async function keysThatCouldBeKept(dir: string, g: Golden & { indexOf: Map<string, number> }): Promise<Map<string, number>> {
  const onDisk = await keysStillOnDisk(dir, g);
  let firstMissing = Infinity;
  for (const [k, idx] of g.indexOf) if (!onDisk.has(k)) firstMissing = Math.min(firstMissing, idx);
  return new Map([...g.indexOf].filter(([k, idx]) => onDisk.has(k) && idx < firstMissing));
}

/**
 * Run the plan's shell commands exactly as printed, against a copy laid out at
 * the path they name (a temp prefix), in a private mount namespace whose /root
 * is a tmpfs (the backup lands there, not on the host). `snap` and `microk8s`
 * are stand-ins (bind-mounted over /usr/local/bin, which sudo's secure_path
 * searches first) that only record their arguments; everything else (sudo, tar,
 * mv, cp, truncate, printf, tee, od, journalctl) is the real tool.
 */
async function runPrintedPlan(
  srcDir: string,
): Promise<{ backend: string; prefix: string; report: ValidationReport; shell: { status: number | null; output: string }; standins: string }> {
  const prefix = await fs.mkdtemp(p(os.tmpdir(), 'lifeboat-plan-'));
  const backend = p(prefix, 'var', 'snap', 'microk8s', 'current', 'var', 'kubernetes', 'backend');
  await fs.mkdir(path.dirname(backend), { recursive: true });
  await fs.cp(srcDir, backend, { recursive: true });
  const src = localDirectory(backend);
  let report: ValidationReport;
  try {
    report = await validateDqliteDirectory(src, { nodePath: { path: backend, origin: 'in-place' } });
  } finally {
    await src.close();
  }
  const bin = p(prefix, 'standins');
  await fs.mkdir(bin);
  const log = p(prefix, 'standins.log');
  for (const tool of ['snap', 'microk8s']) {
    await fs.writeFile(p(bin, tool), `#!/bin/sh\necho "${tool} $*" >> '${log}'\n`, { mode: 0o755 });
  }
  const script = report
    .dqlite!.repair.steps.filter((s) => s.command)
    .map((s) => s.command)
    .join('\n');
  // sudo resets PATH to its secure_path: the stand-ins are bind-mounted over /usr/local/bin (first in it).
  const setup = `mount -t tmpfs lifeboat-root /root\nmount --bind '${bin}' /usr/local/bin`;
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-euc', `${setup}\n${script}`], {
    encoding: 'utf8',
    timeout: 60000,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` },
  });
  return {
    backend,
    prefix,
    report,
    shell: { status: r.status, output: `${r.stdout}${r.stderr}`.slice(-2000) },
    standins: existsSync(log) ? await fs.readFile(log, 'utf8') : '',
  };
}

function inLost(index: number | undefined, lost: LostRange[]): boolean {
  return index !== undefined && lost.some((r) => !r.coveredBySnapshot && index >= r.first && index <= r.last);
}

interface Row {
  name: string;
  golden: GoldenName;
  dqlite: { started: boolean; hung: boolean; exit: string; keysLost: number | null; stderr: string; filesAfter: string[] };
  validator: { startable: boolean; dataLoss: boolean; lost: LostRange[]; fatal: string | null; summary: string };
  agree: boolean;
  evidenceGone?: string;
  lostKeysOutsideReport: string[];
  repair?: { started: boolean; stderr: string; keysMissing: string[]; actions: string[]; error?: string };
  /** The printed plan's commands, run as printed. */
  printed?: { shellStatus: number | null; shellOutput: string; started: boolean; startStderr: string; keysMissing: string[]; standins: string };
  /** Keys still on disk before the first real gap that the plan calls lost anyway. */
  needlesslyLost?: string[];
  /** The offline rebuild (`salvage --out`): keys in its database, and how they compare. */
  rebuild?: RebuildCheck;
}

interface RebuildCheck {
  keys: number;
  integrity: string;
  /** Keys whose value differs from what was written (must be none). */
  wrongValues: string[];
  /** Keys dqlite serves from the copy as it is that the rebuild lacks (must be none). */
  missingServed: string[];
  /** Keys on disk before the first real gap that the rebuild lacks (must be none). */
  missingKeepable: string[];
  stop: string | null;
  /** dqlite-demo started on the fresh backend the rebuild wrote: did it, and which keys differ from the rebuilt database. */
  backend?: { started: boolean; stderr: string; notServed: string[]; servedExtra: string[] } | { notWritten: string | null };
}

/**
 * Rebuild the copy's databases offline and read them back with the real sqlite3: the file must pass
 * SQLite's integrity check, every row must hold the value that was written, and nothing dqlite itself
 * serves, nor anything on disk before the first real gap, may be missing.
 */
async function checkRebuild(dir: string, served: Set<string>, keepable: Map<string, number>, g: Golden, startBackend: boolean): Promise<RebuildCheck> {
  const out = `${dir}.rebuilt`;
  const r = await rebuildDqliteDirectory(dir, out);
  const db = p(out, r.databases[0]?.file ?? 'demo.db');
  const integrity = spawnSync('sqlite3', [db, 'PRAGMA integrity_check;'], { encoding: 'utf8' });
  const rows = spawnSync('sqlite3', ['-json', db, 'SELECT key, value FROM model;'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const got = new Map<string, string>(
    rows.status === 0 && rows.stdout.trim() ? (JSON.parse(rows.stdout) as { key: string; value: string }[]).map((x) => [x.key, x.value]) : [],
  );
  let backend: RebuildCheck['backend'];
  if (startBackend && r.backend) {
    // The fresh backend must start and serve exactly what the rebuilt database holds.
    const started = await tryStart(r.backend.dir, START_TIMEOUT_MS, { keys: g.keys });
    const servedThere = new Set(started.keysServed ?? []);
    backend = {
      started: started.started,
      stderr: started.stderr.slice(0, 300),
      notServed: [...got.keys()].filter((k) => !servedThere.has(k)),
      servedExtra: [...servedThere].filter((k) => !got.has(k)),
    };
  } else if (startBackend) backend = { notWritten: r.backendNotWritten };
  await fs.rm(out, { recursive: true, force: true });
  return {
    backend,
    keys: got.size,
    integrity: `${integrity.stdout}${integrity.stderr}`.trim(),
    wrongValues: [...got].filter(([k, v]) => g.keys.get(k) !== v).map(([k]) => k),
    missingServed: [...served].filter((k) => !got.has(k)),
    missingKeepable: [...keepable.keys()].filter((k) => !got.has(k)),
    stop: r.stop ? r.stop.why : null,
  };
}

type RepairFn = (
  srcDir: string,
  outDir: string,
) => Promise<{ report: ValidationReport; plan: { lost: LostRange[] }; actions: string[]; after: ValidationReport }>;

async function loadRepair(): Promise<RepairFn | null> {
  const modulePath = '../../electron/services/dqlite-repair';
  if (!existsSync(path.resolve(__dirname, `${modulePath}.ts`))) return null;
  const mod = (await import(/* @vite-ignore */ modulePath)) as { writeRepairedCopy?: RepairFn };
  return mod.writeRepairedCopy ?? null;
}

describe.skipIf(!HAVE_DQLITE)('validator and repair against real dqlite-demo', () => {
  const goldens = {} as Record<GoldenName, Golden & { indexOf: Map<string, number>; names: SegmentNames }>;
  const rows: Row[] = [];
  let work: string;
  let repair: RepairFn | null = null;

  beforeAll(async () => {
    work = await fs.mkdtemp(p(os.tmpdir(), 'lifeboat-oracle-'));
    repair = await loadRepair();
    const built = { killed: await goldenKilled(), stopped: await goldenStopped(), field: await goldenField() };
    for (const [name, g] of Object.entries(built) as [GoldenName, Golden][]) {
      goldens[name] = { ...g, indexOf: await indexOfKeys(g.dataDir), names: await segmentNames(g.dataDir) };
    }
  }, 300000);

  afterAll(async () => {
    if (work) await fs.rm(work, { recursive: true, force: true });
    if (rows.length === 0) return;
    await fs.writeFile(p(os.tmpdir(), 'lifeboat-oracle-results.json'), JSON.stringify(rows, null, 2));
    const table = rows.map((r) => ({
      case: r.name.slice(0, 60),
      dqlite: r.dqlite.started
        ? r.dqlite.keysLost
          ? `starts, ${r.dqlite.keysLost} keys lost`
          : 'starts'
        : r.dqlite.hung
          ? 'hangs'
          : `fails (${r.dqlite.exit})`,
      validator: r.validator.startable ? (r.validator.dataLoss ? 'starts, data loss' : 'starts') : 'fails',
      agree: r.agree ? 'yes' : r.evidenceGone ? 'no (evidence gone)' : 'NO',
      repaired: r.repair ? (r.repair.error ? `error` : r.repair.started ? `starts, ${r.repair.keysMissing.length} kept keys missing` : 'FAILS') : '-',
      rebuilt: r.rebuild
        ? `${r.rebuild.keys} keys, ${r.rebuild.integrity === 'ok' ? 'ok' : 'NOT ok'}, ${r.rebuild.missingServed.length + r.rebuild.missingKeepable.length} missing`
        : '-',
      backend: !r.rebuild?.backend
        ? '-'
        : 'started' in r.rebuild.backend
          ? r.rebuild.backend.started
            ? `starts, ${r.rebuild.backend.notServed.length + r.rebuild.backend.servedExtra.length} differ`
            : 'FAILS'
          : 'not written',
    }));
    console.table(table);
  });

  it('builds golden dirs whose keys all map to raft indices', () => {
    for (const g of Object.values(goldens)) {
      expect(g.indexOf.size).toBe(g.keys.size);
      expect(g.names.snapshots.length).toBe(2);
      expect(g.names.closed.length).toBeGreaterThanOrEqual(8);
    }
    expect(goldens.killed.names.open.length).toBe(3);
    expect(goldens.stopped.names.open.length).toBe(0);
  });

  for (const c of CASES) {
    it(
      c.name,
      async () => {
        const g = goldens[c.golden];
        const dir = p(work, c.name.replace(/\W+/g, '_').slice(0, 60));
        await fs.cp(g.dataDir, dir, { recursive: true });
        await c.damage(dir, g.names);

        const before = await hashDir(dir);
        const report = await validate(dir);
        expect(await hashDir(dir)).toEqual(before);

        const real: TryStartResult = await tryStart(dir, START_TIMEOUT_MS, { keys: g.keys });
        expect(await hashDir(dir)).toEqual(before);
        const served = new Set(real.keysServed ?? []);
        const lostKeys = real.started ? [...g.keys.keys()].filter((k) => !served.has(k)) : [];
        const lostKeysOutsideReport = lostKeys.filter((k) => !inLost(g.indexOf.get(k), report.lost));

        const row: Row = {
          name: c.name,
          golden: c.golden,
          dqlite: {
            started: real.started,
            hung: real.hung,
            exit: real.signal ?? `rc ${real.exitCode}`,
            keysLost: real.started ? lostKeys.length : null,
            stderr: real.stderr.slice(0, 400),
            filesAfter: real.filesAfter.filter((f) => f.startsWith('corrupt-') || !(f in before)),
          },
          validator: {
            startable: report.startable,
            dataLoss: report.dataLoss,
            lost: report.lost,
            fatal: report.dqlite?.decision.fatalError ?? null,
            summary: report.summary,
          },
          agree: report.startable === real.started && report.dataLoss === lostKeys.length > 0 && lostKeysOutsideReport.length === 0,
          lostKeysOutsideReport: lostKeysOutsideReport.slice(0, 10),
          evidenceGone: c.evidenceGone,
        };
        rows.push(row);

        // The offline rebuild, on every copy (also where dqlite starts): it must keep at least what dqlite serves.
        const keepable = await keysThatCouldBeKept(dir, g);
        // The fresh backend is started where a user needs it (dqlite fails or drops keys) and on the intact crashed node.
        const needsBackend = !real.started || lostKeys.length > 0 || c.name.startsWith('intact crashed');
        row.rebuild = await checkRebuild(dir, served, keepable, g, needsBackend && !c.evidenceGone);
        expect(await hashDir(dir)).toEqual(before);

        // Repair every copy that does not start, or starts only by losing data.
        if (repair && !c.evidenceGone && (!real.started || lostKeys.length > 0)) {
          // Own parent per case: the repair may put a quarantine folder beside its output.
          const out = p(`${dir}.repair`, 'repaired');
          await fs.mkdir(`${dir}.repair`, { recursive: true });
          try {
            const r = await repair(dir, out);
            expect(await hashDir(dir)).toEqual(before);
            // Evidence is kept: every input file is in the copy unchanged, or in <out>.lifeboat-quarantine whole.
            const kept = { ...(await hashDir(out)), ...(await hashDir(`${out}.lifeboat-quarantine`).catch(() => ({}))) };
            for (const [name, h] of Object.entries(before)) {
              expect([kept[name], kept[`${name}.orig`]], `${name} neither copied nor quarantined intact`).toContain(h);
            }
            const lostByPlan = [...r.plan.lost, ...r.report.lost];
            const onDisk = await keysStillOnDisk(dir, g);
            const mustKeep = new Map([...g.keys].filter(([k]) => onDisk.has(k) && !inLost(g.indexOf.get(k), lostByPlan)));
            const after = await tryStart(out, START_TIMEOUT_MS, { keys: mustKeep });
            const servedAfter = new Set(after.keysServed ?? []);
            row.repair = {
              started: after.started,
              stderr: after.stderr.slice(0, 400),
              keysMissing: [...mustKeep.keys()].filter((k) => !servedAfter.has(k)),
              actions: r.actions,
            };
            // The smallest repair: no lost range names a key that is on disk before the first real gap (`keepable`).
            // Only what the plan itself gives up (report.lost is what starting as-is would lose).
            row.needlesslyLost = [...keepable].filter(([, idx]) => inLost(idx, r.plan.lost)).map(([k]) => k);
            // The commands a user would paste: run them as printed, then the node must start and serve the same keys.
            const printed = await runPrintedPlan(dir);
            try {
              const afterPrinted = await tryStart(printed.backend, START_TIMEOUT_MS, { keys: mustKeep });
              const servedPrinted = new Set(afterPrinted.keysServed ?? []);
              row.printed = {
                shellStatus: printed.shell.status,
                shellOutput: printed.shell.output,
                started: afterPrinted.started,
                startStderr: afterPrinted.stderr.slice(0, 400),
                keysMissing: [...mustKeep.keys()].filter((k) => !servedPrinted.has(k)),
                standins: printed.standins,
              };
            } finally {
              await fs.rm(printed.prefix, { recursive: true, force: true });
            }
          } catch (e) {
            row.repair = { started: false, stderr: '', keysMissing: [], actions: [], error: String(e) };
          }
        }

        const context = `dqlite: ${real.started ? 'started' : real.hung ? 'hung' : `failed (${row.dqlite.exit})`} ${real.stderr.slice(0, 300)}; validator: ${report.summary}`;
        // A slow start is a start (tryStart waits past its first deadline while the process runs); a node
        // that still neither answers nor exits after that hangs: it does not start either, but it prints
        // no error, so there is no text to compare.
        expect(report.startable, context).toBe(real.started);
        const crashed = real.signal !== null || /fatal error: unexpected signal|SIGSEGV|SIGABRT|^panic:/m.test(real.stderr);
        row.dqlite.exit = real.hung ? 'hung' : crashed ? `crashed (${row.dqlite.exit})` : row.dqlite.exit;
        if (!real.started && !real.hung && !crashed) {
          // dqlite failed with its own error text: the validator must print the very same words.
          const fatal = report.dqlite?.decision.fatalError ?? null;
          expect(fatal, `the validator names no engine error; ${context}`).not.toBeNull();
          expect(real.stderr, 'dqlite prints the engine error the validator predicts').toContain(fatal!);
        }
        // Never a damaged database or a wrong value, even where the evidence of a loss is gone (it stops before).
        expect(row.rebuild.integrity, 'the rebuilt database passes SQLite integrity_check').toBe('ok');
        expect(row.rebuild.wrongValues.slice(0, 5), 'rebuilt rows hold the values written').toEqual([]);
        if (row.rebuild.backend) {
          const b = row.rebuild.backend;
          expect('started' in b, `no fresh backend: ${'notWritten' in b ? b.notWritten : ''}`).toBe(true);
          if ('started' in b) {
            expect(b.started, `dqlite-demo on the fresh backend: ${b.stderr}`).toBe(true);
            expect(b.notServed.slice(0, 5), 'rebuilt keys the fresh backend does not serve').toEqual([]);
            expect(b.servedExtra.slice(0, 5), 'keys the fresh backend serves beyond the rebuilt database').toEqual([]);
          }
        }
        if (!c.evidenceGone) {
          const rb = row.rebuild;
          expect(rb.missingServed.slice(0, 5), `keys dqlite serves that the rebuild lacks (stop: ${rb.stop})`).toEqual([]);
          expect(rb.missingKeepable.slice(0, 5), `keys on disk before the first gap that the rebuild lacks (stop: ${rb.stop})`).toEqual([]);
        }
        const codes = report.findings.map((f) => f.code);
        if (c.warns) expect(codes, 'the report must warn where the evidence is gone').toContain(c.warns);
        // No false alarm: neither warning fires on the healthy goldens nor on damage whose evidence is visible.
        for (const code of CIRCUMSTANTIAL) if (code !== c.warns) expect(codes, 'unexpected circumstantial warning').not.toContain(code);
        if (!c.evidenceGone) {
          expect(report.dataLoss, `${lostKeys.length} keys lost; ${context}`).toBe(lostKeys.length > 0);
          expect(lostKeysOutsideReport, `keys dqlite lost outside report.lost; ${context}`).toEqual([]);
        }
        if (row.repair) {
          expect(row.repair.error).toBeUndefined();
          expect(row.repair.started).toBe(true);
          expect(row.repair.keysMissing.length, `kept keys missing after repair: ${row.repair.keysMissing.slice(0, 5).join(', ')}`).toBe(0);
          expect(row.needlesslyLost?.slice(0, 10), 'the plan gives up keys that are on disk before the first real gap').toEqual([]);
          expect(row.printed?.shellStatus, `the printed commands failed:\n${row.printed?.shellOutput}`).toBe(0);
          expect(row.printed?.standins).toMatch(/^snap stop microk8s\nsnap start microk8s\nmicrok8s kubectl --request-timeout=30s get nodes\n$/);
          expect(row.printed?.started, `dqlite starts after the printed commands; it said:\n${row.printed?.startStderr}`).toBe(true);
          expect(row.printed?.keysMissing.slice(0, 5), 'kept keys missing after the printed commands').toEqual([]);
        }
        await fs.rm(dir, { recursive: true, force: true });
        await fs.rm(`${dir}.repair`, { recursive: true, force: true });
        // A hang costs tryStart's long deadline up to three times (as is, repaired, printed plan).
      },
      300000,
    );
  }

  it.runIf(process.env.CI === 'true')('has the repair service to test (required in CI)', () => {
    expect(repair).not.toBeNull();
  });
});
