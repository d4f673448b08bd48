/**
 * The kine export through the contract, over the real web-mode transport
 * (WebSocket + token), on a k3s-shaped `state.db` the real sqlite3 made
 * (copied with its WAL while sqlite3 held it open): validated as a sample (web
 * mode never reads a path the client names), both as its folder and as the
 * file alone. Oracles: every file the UI's run writes is byte for byte what
 * the CLI's service writes from the same input, the objects are the live keys
 * sqlite3 itself selects, and the inputs' hashes never change. Refusals,
 * cancel, a SQLite file without kine's table, and the desktop side (a stand-in
 * for Electron's folder dialog, whose binary cannot run here).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireEvent } from '../../shared/contract/api';
import type { KineExportPlan, KineExportResult } from '../../shared/contract/kine';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { exportKineObjects } from '../../electron/services/kine-export';
import { KineExportService } from '../../electron/services/kine-export-jobs';
import type { CallContext } from '../../electron/services/registry';
import { createSampleCatalog } from '../../electron/services/samples';
import { ValidationService } from '../../electron/services/validation-service';
import { translate } from '../../shared/i18n';
import { ensureBuilt, REPO } from '../cli/fixtures';
import { copyDir, hashTree, tempDir } from '../helpers/etcd';
import { makeKineStateDb, sqliteLiveKeys } from '../helpers/kine-db';
import { ApiClient, tryConnect } from '../web/ws-client';
import { expectSameFiles, filesOf, refusal } from '../helpers/contract-calls';

const canRun = spawnSync('sqlite3', ['-version']).status === 0 || process.env.CI === 'true';

let tmp: string;
let copies: string;
let samples: string;
let server: WebServer;
let client: ApiClient;
const inputs: Record<string, { dir: string; hash: string; jobId: string }> = {};
const savedCopies = process.env.LIFEBOAT_COPIES_DIR;

type Ended =
  | { event: 'kine.export.done'; result: KineExportResult }
  | { event: 'kine.export.failed'; error: string; errorText?: { key: string; params?: Record<string, string | number> }; cancelled: boolean; partial?: string };

async function validate(id: string): Promise<string> {
  const { jobId } = await client.call<{ jobId: string }>('validation.start', { source: { kind: 'sample', id } });
  const end = await client.waitEvent(
    (e) => (e.event === 'validation.done' || e.event === 'validation.failed') && (e.payload as { jobId: string }).jobId === jobId,
    120_000,
  );
  expect(end.event).toBe('validation.done');
  return jobId;
}

async function runExport(jobId: string, outputPath: string, format?: 'yaml' | 'json'): Promise<{ ended: Ended; progress: WireEvent[] }> {
  const { exportId } = await client.call<{ exportId: string }>('kine.export.start', { jobId, outputPath, ...(format ? { format } : {}) });
  const mine = (e: WireEvent): boolean => (e.payload as { exportId?: string }).exportId === exportId;
  const end = await client.waitEvent((e) => (e.event === 'kine.export.done' || e.event === 'kine.export.failed') && mine(e), 120_000);
  const progress = client.events.filter((e) => e.event === 'kine.export.progress' && mine(e));
  return { ended: { event: end.event, ...(end.payload as object) } as Ended, progress };
}

beforeAll(async () => {
  if (!canRun) return;
  await ensureBuilt();
  tmp = await tempDir('kine-ui');
  copies = path.join(tmp, 'copies');
  process.env.LIFEBOAT_COPIES_DIR = copies;
  samples = path.join(tmp, 'samples');
  await fs.mkdir(samples);
  // k3s's server/db folder, and the same database alone in a folder of its own (a sample is a folder).
  makeKineStateDb(path.join(samples, 'k3s-db'));
  makeKineStateDb(path.join(samples, 'k3s-big'), { configmaps: 1500, pods: 200 });
  await copyDir(path.join(REPO, 'resources', 'samples', 'etcd-healthy'), path.join(samples, 'etcd'));
  // A SQLite database with no kine table: told as SQLite by validation, refused by the export with why.
  await fs.mkdir(path.join(samples, 'not-kine'));
  spawnSync('sqlite3', [path.join(samples, 'not-kine', 'state.db'), 'CREATE TABLE t (a, b); INSERT INTO t VALUES (1, 2);']);
  const entry = (id: string, engine: string) => ({ id, dir: id, titleKey: 'sample.healthy.title', descriptionKey: 'sample.healthy.description', engine });
  const ids = ['k3s-db', 'k3s-big', 'etcd', 'not-kine'];
  await fs.writeFile(path.join(samples, 'index.json'), JSON.stringify(ids.map((id) => entry(id, id === 'etcd' ? 'etcd' : 'dqlite'))));
  const rendererDir = path.join(tmp, 'renderer');
  await fs.mkdir(rendererDir);
  await fs.writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>Lifeboat</title>');
  server = await startWebServer({ port: 0, rendererDir, quiet: true, samplesDir: samples });
  const c = await tryConnect(server.port, { token: server.token, origin: `http://127.0.0.1:${server.port}` });
  if (!('ws' in c)) throw new Error(`upgrade refused: ${c.status}`);
  client = new ApiClient(c.ws);
  for (const id of ids) {
    const dir = path.join(samples, id);
    inputs[id] = { dir, hash: await hashTree(dir), jobId: await validate(id) };
  }
}, 300_000);

afterAll(async () => {
  client?.close();
  await server?.close();
  if (savedCopies === undefined) delete process.env.LIFEBOAT_COPIES_DIR;
  else process.env.LIFEBOAT_COPIES_DIR = savedCopies;
  try {
    // Every plan, refusal and run read the inputs only.
    for (const i of Object.values(inputs)) expect(await hashTree(i.dir)).toBe(i.hash);
  } finally {
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  }
});

describe.skipIf(!canRun)('the kine export over the web transport', () => {
  it('plans: the database the validation found, its WAL, a new folder inside the copies folder, no dialog in web mode', async () => {
    const input = inputs['k3s-db']!;
    const plan = await client.call<KineExportPlan>('kine.export.plan', { jobId: input.jobId });
    const file = path.join(input.dir, 'state.db');
    expect(plan).toMatchObject({ input: file, wal: { path: `${file}-wal`, present: true }, remote: false, outputRoot: copies, canChooseWithDialog: false });
    expect(path.dirname(path.dirname(plan.defaultOutput))).toBe(copies);
    expect(path.basename(path.dirname(plan.defaultOutput))).toMatch(/^salvage-k3s-db-\d{4}-\d{2}-\d{2}-\d{4}$/);
    expect(path.basename(plan.defaultOutput)).toBe('objects');
    expect((await refusal(client.call('kine.export.choose', {}))).code).toBe('unsupported');
    // An etcd validation has its own export (etcd.repair.start, mode export).
    expect((await refusal(client.call('kine.export.plan', { jobId: inputs.etcd!.jobId }))).code).toBe('not-sqlite');
    expect((await refusal(client.call('kine.export.start', { jobId: inputs.etcd!.jobId, outputPath: path.join(copies, 'e') }))).code).toBe('not-sqlite');
    expect((await refusal(client.call('kine.export.start', { jobId: input.jobId, outputPath: path.join(copies, 'f'), format: 'xml' }))).code).toBe(
      'bad-params',
    );
    expect(existsSync(path.join(copies, 'f'))).toBe(false);
  });

  it("exports with progress: the same files as the CLI's export, the live keys sqlite3 selects, Secrets 0600", async () => {
    const input = inputs['k3s-db']!;
    const file = path.join(input.dir, 'state.db');
    const plan = await client.call<KineExportPlan>('kine.export.plan', { jobId: input.jobId });
    const { ended, progress } = await runExport(input.jobId, plan.defaultOutput);
    expect(ended.event, JSON.stringify(ended)).toBe('kine.export.done');
    const result = (ended as Extract<Ended, { event: 'kine.export.done' }>).result;
    expect(progress.map((e) => (e.payload as { progress: { phase: string } }).progress.phase)).toContain('export: reading the database');
    expect([result.input, result.output, result.format]).toEqual([file, plan.defaultOutput, 'yaml']);
    // The WAL was laid over the file: the newest half of the rows is only there.
    expect(result.wal?.commits).toBeGreaterThan(0);
    expect(result.wal?.stop).toBeNull();
    expect(result.problems).toEqual([]);
    // The same run from the service the CLI uses, on the same input: the same result and the same bytes and modes.
    const reference = path.join(tmp, 'reference-k3s');
    const expected = await exportKineObjects(file, reference);
    expect({ ...result, output: null }).toEqual({ ...expected, output: null });
    await expectSameFiles(plan.defaultOutput, reference);
    // The objects are the keys sqlite3 itself says are live.
    const live = sqliteLiveKeys(file);
    expect(result.objects).toBe(live.length);
    const files = await filesOf(plan.defaultOutput);
    const written = [...files.keys()].map((rel) => rel.replace(/\.yaml$/, '')).sort();
    expect(written).toEqual(live.map((k) => k.split('/').slice(2).join('/')).sort());
    expect(result.secrets).toBe(live.filter((k) => k.startsWith('/registry/secrets/')).length);
    expect(files.get('secrets/kube-system/token.yaml')?.mode).toBe(0o600);
    expect(files.get('configmaps/ns-1/cm-1.yaml')?.mode).toBe(0o644);
    // A second run into the same folder is refused: nothing is ever written into a non-empty folder.
    expect((await refusal(client.call('kine.export.start', { jobId: input.jobId, outputPath: plan.defaultOutput }))).code).toBe('exists');
  });

  it('writes JSON when asked, with the same objects', async () => {
    const input = inputs['k3s-db']!;
    const out = path.join(copies, 'as-json');
    const { ended } = await runExport(input.jobId, out, 'json');
    expect(ended.event, JSON.stringify(ended)).toBe('kine.export.done');
    const reference = path.join(tmp, 'reference-json');
    await exportKineObjects(path.join(input.dir, 'state.db'), reference, { format: 'json' });
    await expectSameFiles(out, reference);
    expect(readdirSync(path.join(out, 'secrets', 'kube-system'))).toEqual(['token.json']);
  });

  it('a SQLite file without kine’s table: the run fails with why, in both languages, and leaves an empty folder', async () => {
    const input = inputs['not-kine']!;
    const out = path.join(copies, 'not-kine');
    const { ended } = await runExport(input.jobId, out);
    expect(ended.event).toBe('kine.export.failed');
    const failed = ended as Extract<Ended, { event: 'kine.export.failed' }>;
    const file = path.join(input.dir, 'state.db');
    expect(failed.error).toBe(`${file} holds no kine table: no kine table in the schema (t)`);
    expect(failed.errorText?.key).toBe('kineExportUi.error.noKine');
    expect(translate('zh-CN', failed.errorText!.key, failed.errorText!.params)).toContain(`${file} 中没有 kine 表`);
    expect(failed.cancelled).toBe(false);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('cancel ends a run as cancelled (what it wrote kept) or, when it won the race, complete', async () => {
    const input = inputs['k3s-big']!;
    const out = path.join(copies, 'cancelled');
    const { exportId } = await client.call<{ exportId: string }>('kine.export.start', { jobId: input.jobId, outputPath: out });
    const asked = await client.call<{ cancelled: boolean }>('kine.export.cancel', { exportId });
    const end = await client.waitEvent(
      (e) => (e.event === 'kine.export.done' || e.event === 'kine.export.failed') && (e.payload as { exportId: string }).exportId === exportId,
      60_000,
    );
    const live = sqliteLiveKeys(path.join(input.dir, 'state.db')).length;
    if (end.event === 'kine.export.failed') {
      expect(asked.cancelled).toBe(true);
      expect(end.payload).toMatchObject({ cancelled: true, error: 'cancelled' });
      // Whatever it wrote is kept and named (nothing when it stopped before the folder was made): fewer files than the live keys.
      if (existsSync(out)) {
        expect((end.payload as { partial?: string }).partial).toBe(out);
        expect((await filesOf(out)).size).toBeLessThan(live);
      } else expect((end.payload as { partial?: string }).partial).toBeUndefined();
    } else {
      expect((end.payload as { result: KineExportResult }).result.objects).toBe(live);
    }
    expect(await client.call('kine.export.cancel', { exportId })).toEqual({ cancelled: false });
    expect(await client.call('kine.export.cancel', { exportId: 'no-such-run' })).toEqual({ cancelled: false });
  });
});

describe.skipIf(!canRun)('the kine export on the desktop (electron transport)', () => {
  it('exports a state.db opened on its own where the user says, and refuses an output inside its folder', async () => {
    const events: { event: string; payload: unknown }[] = [];
    const ctx: CallContext = { transport: 'electron', emit: (event, payload) => void events.push({ event, payload }) };
    const validation = new ValidationService({ transport: 'electron', samples: createSampleCatalog(null) });
    const dialogDir = path.join(tmp, 'desktop-picked');
    await fs.mkdir(dialogDir);
    const exporter = new KineExportService({ validation, outputRoot: () => copies, chooseOutput: () => Promise.resolve(dialogDir) });
    const folder = inputs['k3s-db']!.dir;
    const file = path.join(folder, 'state.db');
    try {
      // The file alone (Open file): its folder's WAL is still laid over it.
      const { jobId } = await validation.start({ kind: 'local-path', path: file }, ctx);
      const deadline = Date.now() + 60_000;
      while (!events.some((e) => e.event === 'validation.done' || e.event === 'validation.failed') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      const plan = exporter.plan(jobId, ctx);
      expect(plan).toMatchObject({ input: file, wal: { path: `${file}-wal`, present: true }, outputRoot: null, canChooseWithDialog: true });
      expect(await exporter.chooseOutput(plan.defaultOutput, ctx)).toEqual({ path: path.join(dialogDir, 'objects') });
      // Beside the file is the user's choice; inside a folder that was validated is not (refuseInsideInput).
      const out = path.join(dialogDir, 'objects');
      const { exportId } = await exporter.start(jobId, out, undefined, ctx);
      const ended = () =>
        events.find((e) => (e.event === 'kine.export.done' || e.event === 'kine.export.failed') && (e.payload as { exportId: string }).exportId === exportId);
      const deadline2 = Date.now() + 60_000;
      while (!ended() && Date.now() < deadline2) await new Promise((r) => setTimeout(r, 20));
      expect(ended()?.event).toBe('kine.export.done');
      expect((ended()!.payload as { result: KineExportResult }).result.objects).toBe(sqliteLiveKeys(file).length);
      const folderJob = await validation.start({ kind: 'local-path', path: folder }, ctx);
      const deadline3 = Date.now() + 60_000;
      while (events.filter((e) => e.event === 'validation.done').length < 2 && Date.now() < deadline3) await new Promise((r) => setTimeout(r, 20));
      await expect(exporter.start(folderJob.jobId, path.join(folder, 'objects-here'), undefined, ctx)).rejects.toMatchObject({ code: 'forbidden' });
      expect(existsSync(path.join(folder, 'objects-here'))).toBe(false);
    } finally {
      exporter.shutdown();
      await validation.shutdown();
    }
  });
});
