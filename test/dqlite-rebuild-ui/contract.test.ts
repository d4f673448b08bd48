/**
 * The dqlite rebuild through the contract, over the real web-mode transport
 * (WebSocket + token), on the bundled samples (real dqlite-demo data dirs):
 * the field report's node (a broken segment dqlite will not start on) and a
 * copy of the healthy node with its last segment damaged (the rebuild stops
 * there). The input is a sample (web mode never reads a path the client
 * names); the output goes into the copies folder only. Oracles: every file
 * the UI's run writes is byte for byte what the CLI's service writes from
 * the same input, `sqlite3` finds the databases whole, and the inputs'
 * hashes never change.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireEvent } from '../../shared/contract/api';
import type { DqliteRebuildReport } from '../../shared/contract/dqlite';
import type { DqliteRebuildPlan } from '../../shared/contract/dqlite-rebuild';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { rebuildDqliteDirectory } from '../../electron/services/dqlite-rebuild';
import { DqliteRebuildService } from '../../electron/services/dqlite-rebuild-jobs';
import type { CallContext } from '../../electron/services/registry';
import { createSampleCatalog } from '../../electron/services/samples';
import { ValidationService } from '../../electron/services/validation-service';
import { ensureBuilt, REPO } from '../cli/fixtures';
import { copyDir, hashTree, tempDir } from '../helpers/etcd';
import { damageLastClosedSegment } from '../helpers/dqlite-files';
import { ApiClient, tryConnect } from '../web/ws-client';
import { expectSameFiles, refusal } from '../helpers/contract-calls';

const SAMPLES = path.join(REPO, 'resources', 'samples');
const canRun = spawnSync('sqlite3', ['-version']).status === 0 || process.env.CI === 'true';

let tmp: string;
let copies: string;
let server: WebServer;
let client: ApiClient;
const inputs: Record<string, { dir: string; hash: string; jobId: string }> = {};
const savedCopies = process.env.LIFEBOAT_COPIES_DIR;

type Ended =
  { event: 'dqlite.rebuild.done'; report: DqliteRebuildReport } | { event: 'dqlite.rebuild.failed'; error: string; cancelled: boolean; partial?: string };

async function validate(id: string): Promise<string> {
  const { jobId } = await client.call<{ jobId: string }>('validation.start', { source: { kind: 'sample', id } });
  const end = await client.waitEvent(
    (e) => (e.event === 'validation.done' || e.event === 'validation.failed') && (e.payload as { jobId: string }).jobId === jobId,
    120_000,
  );
  expect(end.event).toBe('validation.done');
  return jobId;
}

async function runRebuild(jobId: string, outputPath: string): Promise<{ ended: Ended; progress: WireEvent[] }> {
  const { rebuildId } = await client.call<{ rebuildId: string }>('dqlite.rebuild.start', { jobId, outputPath });
  const mine = (e: WireEvent): boolean => (e.payload as { rebuildId?: string }).rebuildId === rebuildId;
  const end = await client.waitEvent((e) => (e.event === 'dqlite.rebuild.done' || e.event === 'dqlite.rebuild.failed') && mine(e), 120_000);
  const progress = client.events.filter((e) => e.event === 'dqlite.rebuild.progress' && mine(e));
  return { ended: { event: end.event, ...(end.payload as object) } as Ended, progress };
}

/** The report without what names where it was written. */
function comparable(r: DqliteRebuildReport): unknown {
  return { ...r, input: null, output: null, backend: r.backend ? { ...r.backend, dir: null, archive: { ...r.backend.archive, file: null } } : null };
}

beforeAll(async () => {
  if (!canRun) return;
  await ensureBuilt();
  tmp = await tempDir('rebuild-ui');
  copies = path.join(tmp, 'copies');
  process.env.LIFEBOAT_COPIES_DIR = copies;
  const samples = path.join(tmp, 'samples');
  await fs.mkdir(samples);
  await copyDir(path.join(SAMPLES, 'dqlite-field-report'), path.join(samples, 'field'));
  await copyDir(path.join(SAMPLES, 'dqlite-healthy'), path.join(samples, 'damaged'));
  await copyDir(path.join(SAMPLES, 'etcd-healthy'), path.join(samples, 'etcd'));
  // The healthy node's last closed segment with a byte of its last entry flipped: the rebuild must stop there.
  damageLastClosedSegment(path.join(samples, 'damaged'));
  const entry = (id: string, engine: string) => ({ id, dir: id, titleKey: 'sample.healthy.title', descriptionKey: 'sample.healthy.description', engine });
  await fs.writeFile(path.join(samples, 'index.json'), JSON.stringify([entry('field', 'dqlite'), entry('damaged', 'dqlite'), entry('etcd', 'etcd')]));
  const rendererDir = path.join(tmp, 'renderer');
  await fs.mkdir(rendererDir);
  await fs.writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>Lifeboat</title>');
  server = await startWebServer({ port: 0, rendererDir, quiet: true, samplesDir: samples });
  const c = await tryConnect(server.port, { token: server.token, origin: `http://127.0.0.1:${server.port}` });
  if (!('ws' in c)) throw new Error(`upgrade refused: ${c.status}`);
  client = new ApiClient(c.ws);
  for (const id of ['field', 'damaged', 'etcd']) {
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

describe.skipIf(!canRun)('the dqlite rebuild over the web transport', () => {
  it('plans: the input is the job source, the output a new folder inside the copies folder, no dialog in web mode', async () => {
    const plan = await client.call<DqliteRebuildPlan>('dqlite.rebuild.plan', { jobId: inputs.field!.jobId });
    expect(plan).toMatchObject({ input: inputs.field!.dir, outputRoot: copies, canChooseWithDialog: false, refusal: null });
    expect(path.dirname(path.dirname(plan.defaultOutput))).toBe(copies);
    expect(path.basename(path.dirname(plan.defaultOutput))).toMatch(/^salvage-field-\d{4}-\d{2}-\d{2}-\d{4}$/);
    expect(path.basename(plan.defaultOutput)).toBe('dqlite-rebuilt');
    expect((await refusal(client.call('dqlite.rebuild.choose', {}))).code).toBe('unsupported');
    // An etcd validation is not rebuilt here (it has its own salvage).
    expect((await refusal(client.call('dqlite.rebuild.plan', { jobId: inputs.etcd!.jobId }))).code).toBe('not-dqlite');
    expect((await refusal(client.call('dqlite.rebuild.start', { jobId: inputs.etcd!.jobId, outputPath: path.join(copies, 'e') }))).code).toBe('not-dqlite');
  });

  it('rebuilds the field report node with progress: the same files as the CLI writes, whole, and the fresh backend', async () => {
    const plan = await client.call<DqliteRebuildPlan>('dqlite.rebuild.plan', { jobId: inputs.field!.jobId });
    const { ended, progress } = await runRebuild(inputs.field!.jobId, plan.defaultOutput);
    expect(ended.event, JSON.stringify(ended)).toBe('dqlite.rebuild.done');
    const report = (ended as Extract<Ended, { event: 'dqlite.rebuild.done' }>).report;
    expect(progress.length).toBeGreaterThan(0);
    expect(report.input).toBe(inputs.field!.dir);
    expect(report.output).toBe(plan.defaultOutput);
    // The same run from the service the CLI uses, on the same input: the same report and the same bytes.
    const reference = path.join(tmp, 'reference-field');
    const expected = await rebuildDqliteDirectory(inputs.field!.dir, reference);
    expect(comparable(report)).toEqual(comparable(expected));
    await expectSameFiles(plan.defaultOutput, reference);
    // The field report's node: dqlite would not start on it, yet every entry on disk is in the rebuilt database.
    expect([report.engineWouldStart, report.stop, report.log?.to]).toEqual([false, null, report.lastIndexOnDisk]);
    const db = path.join(plan.defaultOutput, report.databases[0]!.file);
    expect(spawnSync('sqlite3', [db, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).stdout.trim()).toBe('ok');
    expect(report.backend?.dir).toBe(path.join(plan.defaultOutput, 'backend'));
    // A second run into the same folder is refused: nothing is ever written into a non-empty folder.
    const again = await refusal(client.call('dqlite.rebuild.start', { jobId: inputs.field!.jobId, outputPath: plan.defaultOutput }));
    expect(again.code).toBe('exists');
  });

  it('says where and why it stopped on a damaged segment, and what it did not apply', async () => {
    const out = path.join(copies, 'damaged-rebuild');
    const { ended } = await runRebuild(inputs.damaged!.jobId, out);
    expect(ended.event, JSON.stringify(ended)).toBe('dqlite.rebuild.done');
    const report = (ended as Extract<Ended, { event: 'dqlite.rebuild.done' }>).report;
    const expected = await rebuildDqliteDirectory(inputs.damaged!.dir, path.join(tmp, 'reference-damaged'));
    expect(comparable(report)).toEqual(comparable(expected));
    expect(report.stop).not.toBeNull();
    expect(report.stop!.index).toBe(report.lastIndexOnDisk);
    expect(report.log?.to).toBe(report.lastIndexOnDisk! - 1);
    // dqlite itself would start on that copy only by dropping the damaged entry: said, not hidden.
    expect([report.engineWouldStart, report.engineWouldDrop]).toEqual([true, true]);
    expect(spawnSync('sqlite3', [path.join(out, report.databases[0]!.file), 'PRAGMA integrity_check;'], { encoding: 'utf8' }).stdout.trim()).toBe('ok');
  });

  it('cancel ends a run as cancelled (what it wrote kept) or, when it won the race, complete', async () => {
    const out = path.join(copies, 'cancelled');
    const { rebuildId } = await client.call<{ rebuildId: string }>('dqlite.rebuild.start', { jobId: inputs.field!.jobId, outputPath: out });
    const asked = await client.call<{ cancelled: boolean }>('dqlite.rebuild.cancel', { rebuildId });
    const end = await client.waitEvent(
      (e) => (e.event === 'dqlite.rebuild.done' || e.event === 'dqlite.rebuild.failed') && (e.payload as { rebuildId: string }).rebuildId === rebuildId,
      60_000,
    );
    if (end.event === 'dqlite.rebuild.failed') {
      expect(asked.cancelled).toBe(true);
      expect(end.payload).toMatchObject({ cancelled: true, error: 'cancelled' });
      // Whatever it wrote is kept, and no file looks finished: databases stay `.part` until fsynced and renamed.
      const left = await fs.readdir(out).catch(() => [] as string[]);
      expect(left.filter((n) => n.endsWith('.db') && !left.includes(`${n}.part`)).every((n) => existsWhole(path.join(out, n)))).toBe(true);
    } else {
      expect((end.payload as { report: DqliteRebuildReport }).report.databases.length).toBeGreaterThan(0);
    }
    // Cancelling an unknown or finished run is a no-op.
    expect(await client.call('dqlite.rebuild.cancel', { rebuildId })).toEqual({ cancelled: false });
    expect(await client.call('dqlite.rebuild.cancel', { rebuildId: 'no-such-run' })).toEqual({ cancelled: false });
  });
});

/** A finished database file is one sqlite3 finds whole. */
function existsWhole(file: string): boolean {
  return spawnSync('sqlite3', [file, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).stdout.trim() === 'ok';
}

/**
 * The desktop side of the same rules (ValidationService and the service as main.ts composes them, with a stand-in
 * for Electron's folder dialog, whose binary cannot run here): any absolute path the user picks, never inside the
 * input; the dialog's folder gets the proposed name inside it, so a non-empty folder is never written into.
 */
describe.skipIf(!canRun)('the dqlite rebuild on the desktop (electron transport)', () => {
  it('offers the dialog, writes outside the copies folder where the user says, and still refuses the input itself', async () => {
    const events: { event: string; payload: unknown }[] = [];
    const ctx: CallContext = { transport: 'electron', emit: (event, payload) => void events.push({ event, payload }) };
    const validation = new ValidationService({ transport: 'electron', samples: createSampleCatalog(null) });
    const picked: string[] = [];
    const dialogDir = path.join(tmp, 'desktop-picked');
    await fs.mkdir(dialogDir);
    const rebuild = new DqliteRebuildService({
      validation,
      outputRoot: () => copies,
      chooseOutput: (kind, suggested) => {
        picked.push(`${kind}:${suggested}`);
        return Promise.resolve(dialogDir);
      },
    });
    const input = inputs.field!.dir;
    try {
      const { jobId } = await validation.start({ kind: 'local-path', path: input }, ctx);
      const deadline = Date.now() + 60_000;
      while (!events.some((e) => e.event === 'validation.done' || e.event === 'validation.failed') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      const plan = rebuild.plan(jobId, ctx);
      expect(plan).toMatchObject({ input, outputRoot: null, canChooseWithDialog: true, refusal: null });
      // The dialog starts from the proposal's parent; the proposal's own name is kept inside the folder picked.
      expect(await rebuild.chooseOutput(plan.defaultOutput, ctx)).toEqual({ path: path.join(dialogDir, 'dqlite-rebuilt') });
      expect(picked).toEqual([`dir:${path.dirname(plan.defaultOutput)}`]);
      // Inside the input: refused, nothing written there.
      await expect(rebuild.start(jobId, path.join(input, 'rebuilt-here'), ctx)).rejects.toMatchObject({ code: 'forbidden' });
      expect(existsSync(path.join(input, 'rebuilt-here'))).toBe(false);
      // A folder that cannot be made is said so at once: under /proc (where Node's own recursive mkdir spins for
      // good) and under a file.
      const cannot =
        'cannot be made: part of the path is missing, is a file or a link that leads nowhere, or cannot hold folders (such as /proc); choose another folder';
      if (process.platform === 'linux') {
        await expect(rebuild.start(jobId, '/proc/lifeboat-no-such/rebuilt', ctx)).rejects.toMatchObject({
          code: 'unwritable',
          message: `/proc/lifeboat-no-such ${cannot}`,
        });
      }
      await fs.writeFile(path.join(tmp, 'a-file'), 'x');
      await expect(rebuild.start(jobId, path.join(tmp, 'a-file', 'inside', 'rebuilt'), ctx)).rejects.toMatchObject({
        code: 'unwritable',
        message: `${path.join(tmp, 'a-file', 'inside')} ${cannot}`,
      });
      // Outside the copies folder is the user's own choice on the desktop.
      const out = path.join(dialogDir, 'dqlite-rebuilt');
      const { rebuildId } = await rebuild.start(jobId, out, ctx);
      const deadline2 = Date.now() + 60_000;
      const ended = () =>
        events.find(
          (e) => (e.event === 'dqlite.rebuild.done' || e.event === 'dqlite.rebuild.failed') && (e.payload as { rebuildId: string }).rebuildId === rebuildId,
        );
      while (!ended() && Date.now() < deadline2) await new Promise((r) => setTimeout(r, 20));
      expect(ended()?.event).toBe('dqlite.rebuild.done');
      expect(readdirSync(out).sort()).toEqual(['backend', 'backend.tar', 'demo.db']);
    } finally {
      rebuild.shutdown();
      await validation.shutdown();
    }
  });
});
