/**
 * etcd oracle, random damage: the fixed cases (etcd.test.ts) are the damage
 * we thought of; this one damages copies of real etcd 3.4 data dirs where a
 * seeded random draw says (a bit flip, a few random bytes, a zeroed run, a
 * cut) in the db, a WAL file or a .snap, and checks the verdict against what
 * real etcd does on each copy: would it start, and with what fatal text.
 * Other random damage is repaired (`lifeboat repair`'s back end): etcd must
 * start on every repaired copy and serve every key with its value, or the
 * repair report must name a loss; and other damage is salvaged to a
 * snapshot.db that `etcdctl snapshot restore` must take, with the same rule.
 *
 * A fresh seed each run, printed with the command that replays it
 * (LIFEBOAT_ORACLE_SEED=N); LIFEBOAT_ORACLE_CASES=N runs a longer campaign,
 * LIFEBOAT_ORACLE_REPAIRS=N as many repairs, LIFEBOAT_ORACLE_KEEP=DIR keeps
 * each disagreeing copy and etcd's output. Inputs are hashed before and after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  copyDir,
  hashTree,
  makeGolden,
  normaliseFatal,
  requireEtcd,
  tempDir,
  tryStartEtcd,
  writeAfterStart,
  type EtcdGolden,
  type GoldenSpec,
} from '../helpers/etcd';
import { boltMetas, dbPath, flipByte, newestMeta, snapFiles, walFiles, walFrames, writeAt, zeroRange } from '../helpers/etcd-damage';
import { validateLocally } from '../helpers/validate-local';
import { repairEtcdCopy, salvageToSnapshotDb } from '../../electron/services/etcd-repair';
import { restoreAndRead } from '../helpers/etcd-restore';

const HAVE_ETCD = requireEtcd();
const START_TIMEOUT_MS = 15_000;
const CASES = Number(process.env.LIFEBOAT_ORACLE_CASES ?? 18);
/** Repairs: fewer by default (each starts etcd on a rebuilt copy); LIFEBOAT_ORACLE_REPAIRS=N for a campaign. */
const REPAIR_CASES = Number(process.env.LIFEBOAT_ORACLE_REPAIRS ?? 8);
/** Salvages to a snapshot.db, restored with etcdctl: LIFEBOAT_ORACLE_SALVAGES=N. */
const SALVAGE_CASES = Number(process.env.LIFEBOAT_ORACLE_SALVAGES ?? 8);
/** A folder to keep each disagreeing copy in (as damaged, before etcd ran on it), with etcd's output beside it. */
const KEEP = process.env.LIFEBOAT_ORACLE_KEEP ?? null;
const SEED = Number(process.env.LIFEBOAT_ORACLE_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** Four members with different shapes, each with its own address so that they run side by side. */
const SPECS: Record<string, GoldenSpec> = {
  small: { keys: 300, valueSize: 64 },
  history: { keys: 250, valueSize: 200, rewrites: 2, deleteEvery: 7, snapshotCount: 200 },
  killed: { keys: 400, valueSize: 64, rewrites: 1, snapshotCount: 150, kill: true },
  multiwal: { keys: 420, valueSize: 330_000 },
};

/** mulberry32: small, seeded, good enough to pick offsets. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The end of the pages the newest intact meta counts (its high-water mark), or the file's size when neither meta reads. */
function boltHighWater(b: Buffer): number {
  if (!boltMetas(b).some((m) => m.ok)) return b.length;
  const meta = newestMeta(b);
  return meta.hwm * meta.pageSize;
}

/**
 * Findings that say data may be gone though no key is named lost: the last WAL file cut short (what followed is
 * unknown), WAL records past where it can be read while the db holds an older state (anything written after it).
 */
const LOSS_CODES = new Set(['startup.wal-cut-short', 'repair.wal-hidden-records']);

interface Damage {
  file: string;
  what: string;
}

/** One random damage to one file of the member dir `dir`, described for the table and for a replay. */
async function damageAtRandom(dir: string, next: () => number): Promise<Damage> {
  const wals = await walFiles(dir);
  const snaps = await snapFiles(dir);
  const pickFrom = (xs: string[]) => xs[Math.floor(next() * xs.length)]!;
  const r = next();
  const file = r < 0.5 ? dbPath(dir) : r < 0.85 || snaps.length === 0 ? pickFrom(wals) : pickFrom(snaps);
  const size = (await fs.stat(file)).size;
  // Where damage can matter: a WAL's records up to its preallocated zero tail, a db's pages below the
  // high-water mark (the rest is never read); one offset in ten anywhere in the file.
  const frames = file.endsWith('.wal') ? await walFrames(file) : [];
  const last = frames[frames.length - 1];
  const used = file.endsWith('.wal')
    ? last
      ? last.dataOffset + last.length + last.padding + 8
      : 8
    : file === dbPath(dir)
      ? Math.min(size, boltHighWater(await fs.readFile(file)))
      : size;
  const offset = Math.floor(next() * (next() < 0.1 ? size : Math.max(1, used))) % Math.max(1, size);
  const op = next();
  const rel = path.relative(dir, file);
  if (op < 0.4) {
    const bit = Math.floor(next() * 8);
    await flipByte(file, offset, 1 << bit);
    return { file: rel, what: `bit ${bit} flipped at ${offset}` };
  }
  if (op < 0.6) {
    const n = Math.min(1 + Math.floor(next() * 16), size - offset);
    const bytes = Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
    await writeAt(file, offset, bytes);
    return { file: rel, what: `${n} random bytes at ${offset}` };
  }
  if (op < 0.85) {
    const n = Math.min(1 + Math.floor(next() * 8192), size - offset);
    await zeroRange(file, offset, n);
    return { file: rel, what: `${n} bytes zeroed at ${offset}` };
  }
  await fs.truncate(file, offset);
  return { file: rel, what: `cut to ${offset} bytes` };
}

/** A loss the report names: keys or revisions lost, or one of LOSS_CODES. */
function saysLoss(report: { lost: readonly unknown[]; findings: readonly { code: string }[] }): boolean {
  return report.lost.length > 0 || report.findings.some((f) => LOSS_CODES.has(f.code));
}

/**
 * What etcd served from a repaired or salvaged copy against the golden: every key back with its value; or, where
 * the damage took what no file holds any more and the report says so (`lossSaid`), every key served is one written.
 */
function judgeServed(golden: Map<string, string>, served: Map<string, string>, lossSaid: boolean): { wrong: string[]; missing: string[]; served: boolean } {
  const wrong = [...served].filter(([k, v]) => golden.get(k) !== v).map(([k]) => k);
  const missing = [...golden.keys()].filter((k) => !served.has(k));
  const invented = wrong.some((k) => !golden.has(k));
  return { wrong, missing, served: !invented && ((missing.length === 0 && wrong.length === 0) || lossSaid) };
}

interface Row {
  seed: number;
  index: number;
  golden: string;
  damage: Damage;
  etcd: { starts: boolean; fatal: string | null; keysChanged: number; readError?: string };
  validator: { startable: boolean; dataLoss: boolean; fatal: string | null; codes: string[] };
  agree: boolean;
  unchanged: boolean;
}

describe.skipIf(!HAVE_ETCD)('etcd oracle: random damage, the verdict agrees with real etcd 3.4', () => {
  let work = '';
  const goldens = new Map<string, EtcdGolden>();
  const goldenHashes = new Map<string, string>();
  const rows: Row[] = [];

  /** A copy of golden `name` in its own folder, damaged by `next`'s draws, hashed; kept under KEEP as damaged. */
  const damagedCase = async (kind: 'repair' | 'salvage', index: number, name: string, next: () => number) => {
    const dir = path.join(work, `${kind}-${index}`);
    const data = path.join(dir, 'data');
    await fs.mkdir(dir);
    await copyDir(goldens.get(name)!.dir, data);
    const damage = await damageAtRandom(data, next);
    const before = await hashTree(data);
    const kept = KEEP ? path.join(KEEP, `seed${SEED}-${kind}${index}-${name}`) : null;
    if (kept) await copyDir(data, kept);
    return { dir, data, damage, before, kept };
  };

  /** `count` cases, dealt to the goldens in turn: one lane a golden (its copies share its address), lanes side by side. */
  const inLanes = async (count: number, run: (name: string, gold: EtcdGolden, index: number) => Promise<void>): Promise<void> => {
    const names = [...goldens.keys()];
    await Promise.all(
      names.map(async (name, lane) => {
        for (let index = lane; index < count; index += names.length) await run(name, goldens.get(name)!, index);
      }),
    );
  };

  beforeAll(async () => {
    work = await tempDir('etcd-random');
    for (const [name, spec] of Object.entries(SPECS)) {
      const g = await makeGolden(path.join(work, `golden-${name}`), spec);
      goldens.set(name, g);
      goldenHashes.set(name, await hashTree(g.dir));
    }
  }, 300_000);

  afterAll(async () => {
    if (rows.length > 0)
      console.table(
        rows.map((r) => ({
          case: `${r.golden} ${r.index}: ${r.damage.file} ${r.damage.what}`.slice(0, 70),
          etcd: r.etcd.starts ? 'starts' : `fails: ${(r.etcd.fatal ?? '?').slice(0, 45)}`,
          validator: r.validator.startable ? 'starts' : `fails: ${(r.validator.fatal ?? '?').slice(0, 45)}`,
          agree: r.agree ? 'yes' : 'NO',
        })),
      );
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it(`${CASES} random damages: startable and the fatal text match what etcd does (seed ${SEED}; replay with LIFEBOAT_ORACLE_SEED=${SEED})`, async () => {
    console.log(
      `etcd random damage: seed ${SEED}, ${CASES} cases; replay: LIFEBOAT_ORACLE_SEED=${SEED} LIFEBOAT_ORACLE_CASES=${CASES} npx vitest run test/oracle/etcd-random-damage.test.ts`,
    );
    await inLanes(CASES, async (name, gold, index) => {
      // Each case its own stream: one case replays alone whatever the others drew.
      const next = rng(SEED ^ Math.imul(index + 1, 0x9e3779b1));
      const copy = path.join(work, `case-${index}`);
      await copyDir(gold.dir, copy);
      const damage = await damageAtRandom(copy, next);
      const before = await hashTree(copy);
      const report = await validateLocally(copy);
      const unchanged = (await hashTree(copy)) === before;
      const kept = KEEP ? path.join(KEEP, `seed${SEED}-case${index}-${name}`) : null;
      if (kept) await copyDir(copy, kept);
      const real = await tryStartEtcd(gold.startOptions(copy), START_TIMEOUT_MS);
      await fs.rm(copy, { recursive: true, force: true });
      const starts = real.started || real.hung;
      let keysChanged = 0;
      if (real.keys) for (const [k, v] of gold.keys) if (real.keys.get(k) !== v) keysChanged++;
      const realFatal = starts ? null : normaliseFatal(real.fatal);
      const modelFatal = report.startable ? null : normaliseFatal(report.etcd?.startup.fatalError ?? null);
      // bbolt raises the freepages panic in another goroutine while its walk goes on (see etcd.test.ts).
      const walkedOn =
        realFatal === 'fatal error: fault' ||
        /^runtime error: (?:index out of range \[\d+\] with length \d+|slice bounds out of range \[::\d+\] with length 2147483647)$/.test(realFatal ?? '');
      const raced = walkedOn && modelFatal?.startsWith('freepages: failed to get all reachable pages') === true;
      // etcd started and then died on the first read of every key: the verdict must have said so, with its text.
      const readFatal = report.findings.find((f) => f.code === 'etcd.range-cannot-find')?.engineError ?? null;
      const readAgrees = real.readError ? readFatal !== null && normaliseFatal(real.fatal) === readFatal : readFatal === null || !real.started;
      const agree = report.engine === 'etcd' && report.startable === starts && (modelFatal === realFatal || raced) && readAgrees;
      rows.push({
        seed: SEED,
        index,
        golden: name,
        damage,
        etcd: { starts, fatal: real.fatal, keysChanged, ...(real.readError ? { readError: real.readError } : {}) },
        validator: {
          startable: report.startable,
          dataLoss: report.dataLoss,
          fatal: report.etcd?.startup.fatalError ?? null,
          codes: report.findings.map((f) => f.code),
        },
        agree,
        unchanged,
      });
      if (kept && agree) await fs.rm(kept, { recursive: true, force: true });
      else if (kept) await fs.writeFile(`${kept}.etcd-output.txt`, real.output);
    });
    expect(rows.length).toBe(CASES);
    expect(rows.filter((r) => !r.unchanged).map((r) => r.index)).toEqual([]);
    expect(rows.filter((r) => !r.agree).map((r) => ({ index: r.index, golden: r.golden, damage: r.damage, etcd: r.etcd, validator: r.validator }))).toEqual([]);
    for (const [name, g] of goldens) expect(await hashTree(g.dir), name).toBe(goldenHashes.get(name));
  }, 1_200_000);

  it(`${REPAIR_CASES} random damages repaired: etcd starts on each repaired copy and serves every key with its value, or the report names a loss (seed ${SEED})`, async () => {
    const failures: unknown[] = [];
    await inLanes(REPAIR_CASES, async (name, gold, index) => {
      // Streams of their own (not the validation cases'): other damage, same replay by seed.
      const { dir, data, damage, before, kept } = await damagedCase('repair', index, name, rng(SEED ^ Math.imul(index + 1, 0x85ebca6b) ^ 0x5bd1e995));
      const out = path.join(dir, 'repaired');
      let result: Awaited<ReturnType<typeof repairEtcdCopy>>;
      try {
        result = await repairEtcdCopy(data, out);
      } catch (err) {
        failures.push({ index, golden: name, damage, repairThrew: String(err) });
        await fs.rm(dir, { recursive: true, force: true });
        return;
      }
      const unchanged = (await hashTree(data)) === before;
      const real = await tryStartEtcd(gold.startOptions(out), START_TIMEOUT_MS);
      // The repaired member takes a write too (a db ahead of the log etcd reads serves reads and drops every write).
      const write = real.started ? await writeAfterStart(gold.startOptions(out), '/lifeboat/after-repair', 'written') : null;
      await fs.rm(dir, { recursive: true, force: true });
      const { wrong, missing, served } = judgeServed(gold.keys, real.keys ?? new Map<string, string>(), saysLoss(result));
      const ok = unchanged && real.started && served && write?.written === true;
      if (!ok)
        failures.push({
          index,
          golden: name,
          damage,
          unchanged,
          started: real.started,
          fatal: real.fatal,
          written: write?.written ?? null,
          wrong: wrong.slice(0, 5),
          missing: missing.length,
          lost: result.lost.length,
          strategies: [result.dbStrategy, result.walStrategy],
        });
      if (kept && ok) await fs.rm(kept, { recursive: true, force: true });
      else if (kept) await fs.writeFile(`${kept}.etcd-output.txt`, real.output);
    });
    expect(failures).toEqual([]);
  }, 1_200_000);

  it(`${SALVAGE_CASES} random damages salvaged: etcdctl snapshot restore takes each snapshot.db, and etcd serves every key with its value, or the report names a loss (seed ${SEED})`, async () => {
    const failures: unknown[] = [];
    // One restore at a time per lane: each restored member runs on its own loopback address.
    await inLanes(SALVAGE_CASES, async (name, gold, index) => {
      const { dir, data, damage, before, kept } = await damagedCase('salvage', index, name, rng(SEED ^ Math.imul(index + 1, 0xc2b2ae35) ^ 0x27d4eb2f));
      const out = path.join(dir, 'salvaged.db');
      let report: Awaited<ReturnType<typeof salvageToSnapshotDb>>;
      try {
        report = await salvageToSnapshotDb(data, out);
      } catch (err) {
        failures.push({ index, golden: name, damage, salvageThrew: String(err) });
        await fs.rm(dir, { recursive: true, force: true });
        return;
      }
      const unchanged = (await hashTree(data)) === before;
      const restored = await restoreAndRead(out, dir);
      await fs.rm(dir, { recursive: true, force: true });
      const text = new Map([...(restored.keys ?? [])].map(([k, v]) => [k, Buffer.from(v).toString('utf8')]));
      const { wrong, missing, served } = judgeServed(gold.keys, text, saysLoss(report));
      const ok = unchanged && restored.restoreStatus === 0 && restored.started && report.keysWritten === text.size && served;
      if (!ok)
        failures.push({
          index,
          golden: name,
          damage,
          unchanged,
          restore: restored.restoreStatus === 0 ? 'ok' : restored.restoreOutput.slice(-300),
          started: restored.started,
          wrong: wrong.slice(0, 5),
          missing: missing.length,
          lost: report.lost.length,
          keysWritten: report.keysWritten,
        });
      if (kept && ok) await fs.rm(kept, { recursive: true, force: true });
    });
    expect(failures).toEqual([]);
  }, 1_200_000);
});
