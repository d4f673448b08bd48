/**
 * Repair and salvage through the contract, over the real web-mode transport
 * (WebSocket + token), on the field report's damage made with real etcd 3.4:
 * a branch element of the key bucket pointing at page 0, no backup. The
 * input is a sample (web mode never reads a path the client names); the
 * outputs go into the copies folder only. Oracles: the salvaged snapshot.db
 * is restored by the real `etcdctl snapshot restore` (no --skip-hash-check)
 * and the real etcd serves every key with its value; the repaired copy
 * starts in etcd and serves every key; the input's hash never changes.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireEvent } from '../../shared/contract/api';
import type { EtcdRepairOutcome, EtcdRepairPlan } from '../../shared/contract/etcd-repair';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { ensureBuilt } from '../cli/fixtures';
import { makeFieldReportSample } from '../helpers/etcd-field-sample';
import { ETCDCTL, hashTree, loopbackEndpoint, requireEtcd, spawnEtcd, tempDir, waitHealthy, type EtcdGolden } from '../helpers/etcd';
import { ApiClient, tryConnect } from '../web/ws-client';
import { refusal } from '../helpers/contract-calls';

const canRun = requireEtcd();

let tmp: string;
let copies: string;
let input: string;
let inputHash: string;
let golden: EtcdGolden;
let server: WebServer;
let client: ApiClient;
let jobId: string;
const savedCopies = process.env.LIFEBOAT_COPIES_DIR;

type Ended = { event: 'etcd.repair.done'; outcome: EtcdRepairOutcome } | { event: 'etcd.repair.failed'; error: string; cancelled: boolean; partial?: string };

async function runRepair(params: Record<string, unknown>): Promise<{ ended: Ended; progress: WireEvent[]; repairId: string }> {
  const { repairId } = await client.call<{ repairId: string }>('etcd.repair.start', { jobId, ...params });
  const mine = (e: WireEvent): boolean => (e.payload as { repairId?: string }).repairId === repairId;
  const end = await client.waitEvent((e) => (e.event === 'etcd.repair.done' || e.event === 'etcd.repair.failed') && mine(e), 240_000);
  const progress = client.events.filter((e) => e.event === 'etcd.repair.progress' && mine(e));
  return { ended: { event: end.event, ...(end.payload as object) } as Ended, progress, repairId };
}

/** Restore with the real etcdctl 3.4 (hash checked) on a free loopback address, start etcd on it, read every key. */
async function restoreAndServe(snapshot: string, dir: string): Promise<Map<string, string>> {
  const ep = await loopbackEndpoint();
  const peer = `http://${ep.host}:${ep.peerPort}`;
  const r = spawnSync(
    ETCDCTL,
    ['snapshot', 'restore', snapshot, '--data-dir', dir, '--name', 'restored', '--initial-cluster', `restored=${peer}`, '--initial-advertise-peer-urls', peer],
    { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' }, timeout: 120_000 },
  );
  expect(r.status, `etcdctl snapshot restore:\n${r.stdout}${r.stderr}`).toBe(0);
  const node = await spawnEtcd({ dataDir: dir, name: 'restored', host: ep.host, clientPort: ep.clientPort, peerPort: ep.peerPort });
  try {
    expect(await waitHealthy(node, 60_000), node.output()).toBe(true);
    return await node.range('');
  } finally {
    await node.stop();
  }
}

beforeAll(async () => {
  if (!canRun) return;
  await ensureBuilt();
  tmp = await tempDir('repair-ui');
  copies = path.join(tmp, 'copies');
  process.env.LIFEBOAT_COPIES_DIR = copies;
  // The field report: a real etcd member, then the branch element pointing at page 0 (etcd panics on it).
  const sample = await makeFieldReportSample(tmp);
  ({ golden, input, inputHash } = sample);
  const rendererDir = path.join(tmp, 'renderer');
  await fs.mkdir(rendererDir);
  await fs.writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>Lifeboat</title>');
  server = await startWebServer({ port: 0, rendererDir, quiet: true, samplesDir: sample.samplesDir });
  const c = await tryConnect(server.port, { token: server.token, origin: `http://127.0.0.1:${server.port}` });
  if (!('ws' in c)) throw new Error(`upgrade refused: ${c.status}`);
  client = new ApiClient(c.ws);
  const started = await client.call<{ jobId: string }>('validation.start', { source: { kind: 'sample', id: 'field' } });
  jobId = started.jobId;
  const end = await client.waitEvent(
    (e) => (e.event === 'validation.done' || e.event === 'validation.failed') && (e.payload as { jobId: string }).jobId === jobId,
    120_000,
  );
  expect(end.event).toBe('validation.done');
}, 300_000);

afterAll(async () => {
  client?.close();
  await server?.close();
  if (savedCopies === undefined) delete process.env.LIFEBOAT_COPIES_DIR;
  else process.env.LIFEBOAT_COPIES_DIR = savedCopies;
  if (canRun && input) {
    // Every plan, refusal and run read the input only.
    expect(await hashTree(input)).toBe(inputHash);
  }
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!canRun)('etcd repair and salvage over the web transport (field report: branch element -> page 0)', () => {
  it('plans each mode: the input is the job source, the output a proposal inside the copies folder, no dialog in web mode', async () => {
    for (const mode of ['snapshot', 'repair', 'export'] as const) {
      const plan = await client.call<EtcdRepairPlan>('etcd.repair.plan', { jobId, mode });
      expect(plan.mode).toBe(mode);
      expect(plan.input).toBe(input);
      expect(plan.remote).toBe(false);
      expect(plan.outputRoot).toBe(copies);
      expect(plan.canChooseWithDialog).toBe(false);
      expect(plan.refusal).toBeNull();
      expect(path.relative(copies, plan.defaultOutput).startsWith('..')).toBe(false);
      expect(path.basename(plan.defaultOutput)).toBe(mode === 'snapshot' ? 'snapshot.db' : mode === 'repair' ? 'etcd-data' : 'objects');
    }
    expect((await refusal(client.call('etcd.repair.plan', { jobId, mode: 'format-disk' }))).code).toBe('bad-params');
    expect((await refusal(client.call('etcd.repair.plan', { jobId: 'no-such-job', mode: 'snapshot' }))).code).toBe('unknown-job');
    expect((await refusal(client.call('etcd.repair.choose', { mode: 'snapshot' }))).code).toBe('unsupported');
  });

  it('path rules: outputs outside the copies folder, into the input, over a file or into a non-empty folder are refused; nothing is written', async () => {
    const outside = [
      path.join(tmp, 'outside.db'),
      path.join(input, 'member', 'snap', 'salvaged.db'),
      '/etc/lifeboat.db',
      copies,
      `${copies}/../x.db`,
      'relative.db',
    ];
    for (const outputPath of outside) {
      const r = await refusal(client.call('etcd.repair.start', { jobId, mode: 'snapshot', outputPath }));
      expect(['forbidden', 'bad-params'], `${outputPath}: ${r.message}`).toContain(r.code);
      // A refusal never repeats where things are on this machine.
      expect(r.message).not.toContain(tmp);
    }
    await fs.mkdir(path.join(copies, 'taken'), { recursive: true });
    await fs.writeFile(path.join(copies, 'taken', 'snapshot.db'), 'not mine');
    expect((await refusal(client.call('etcd.repair.start', { jobId, mode: 'snapshot', outputPath: path.join(copies, 'taken', 'snapshot.db') }))).code).toBe(
      'exists',
    );
    expect((await refusal(client.call('etcd.repair.start', { jobId, mode: 'export', outputPath: path.join(copies, 'taken') }))).code).toBe('exists');
    expect(await fs.readFile(path.join(copies, 'taken', 'snapshot.db'), 'utf8')).toBe('not mine');
    await expect(fs.stat(path.join(tmp, 'outside.db'))).rejects.toThrow();
  });

  it('salvages a snapshot.db with progress: every key, nothing lost, the SHA-256 trailer; etcdctl restores it and etcd serves every key', async () => {
    const plan = await client.call<EtcdRepairPlan>('etcd.repair.plan', { jobId, mode: 'snapshot' });
    const { ended, progress } = await runRepair({ mode: 'snapshot', outputPath: plan.defaultOutput });
    expect(ended.event, JSON.stringify(ended)).toBe('etcd.repair.done');
    if (ended.event !== 'etcd.repair.done' || ended.outcome.mode !== 'snapshot') throw new Error('not a snapshot outcome');
    const { report, restore, placeholders } = ended.outcome;
    expect(progress.length).toBeGreaterThan(0);
    expect(report.output).toBe(plan.defaultOutput);
    expect(report.keysWritten).toBe(golden.keys.size);
    expect(report.lost).toEqual([]);
    expect(report.sources.tree + report.sources['orphaned-leaf'] + report.sources.wal).toBe(golden.keys.size);
    expect(report.revisionRange).not.toBeNull();
    // Revisions stay monotonic: the newest written is at least the newest etcd had served.
    expect(report.revisionRange![0]).toBeGreaterThanOrEqual(1);
    expect(report.revisionRange![1]).toBeGreaterThanOrEqual(golden.revision);
    // The SHA-256 reported is the trailer, and the trailer is the hash of everything before it.
    const bytes = await fs.readFile(plan.defaultOutput);
    const body = bytes.subarray(0, bytes.length - 32);
    expect(bytes.subarray(bytes.length - 32).toString('hex')).toBe(report.sha256);
    expect(createHash('sha256').update(body).digest('hex')).toBe(report.sha256);
    // The next step: a restore plan whose restore command names this snapshot; unknown values are named placeholders.
    expect(restore.steps.map((s) => s.kind)).toEqual(['check', 'stop', 'move-aside', 'restore', 'ownership', 'start', 'verify']);
    expect(restore.steps.find((s) => s.kind === 'restore')!.command).toContain(`snapshot restore ${plan.defaultOutput}`);
    expect(restore.member.name).toBe(golden.endpoint.name);
    expect(restore.member.initialAdvertisePeerUrls).toBe(golden.endpoint.peerUrl);
    expect(placeholders.map((p) => p.token)).toContain('<DATA_DIR>');
    expect(restore.steps.find((s) => s.kind === 'restore')!.command).toContain("--data-dir '<DATA_DIR>'");
    // The oracle: etcdctl 3.4 restores it (hash checked) and etcd serves every key with its value.
    const served = await restoreAndServe(plan.defaultOutput, path.join(tmp, 'restored'));
    expect(served).toEqual(golden.keys);
  }, 300_000);

  it('writes a repaired data dir copy that etcd starts on and serves every key, whatever it had to set aside in the quarantine', async () => {
    const plan = await client.call<EtcdRepairPlan>('etcd.repair.plan', { jobId, mode: 'repair' });
    const { ended } = await runRepair({ mode: 'repair', outputPath: plan.defaultOutput });
    if (ended.event !== 'etcd.repair.done' || ended.outcome.mode !== 'repair') throw new Error(`not a repair outcome: ${JSON.stringify(ended)}`);
    const r = ended.outcome.result;
    expect(r.output).toBe(plan.defaultOutput);
    expect(r.lost).toEqual([]);
    expect(r.quarantine).toBe(`${plan.defaultOutput}.lifeboat-quarantine`);
    // Only the newer meta's tree holds the bad pointer: the older meta comes back (etcd re-applies the rest from the WAL);
    // when the db is rebuilt instead, the damaged one is kept byte for byte in the quarantine.
    expect(['revert-meta', 'rebuild']).toContain(r.dbStrategy);
    if (r.dbStrategy === 'rebuild') {
      expect(await fs.readFile(path.join(r.quarantine, 'db'))).toEqual(await fs.readFile(path.join(input, 'member', 'snap', 'db')));
    } else {
      expect(r.actions.map((a) => a.kind)).toContain('revert-meta');
    }
    const node = await spawnEtcd(golden.startOptions(plan.defaultOutput));
    try {
      expect(await waitHealthy(node, 60_000), node.output()).toBe(true);
      expect(await node.range('')).toEqual(golden.keys);
    } finally {
      await node.stop();
    }
  }, 300_000);

  it('exports every object as a JSON file per resource and namespace, secrets 0600', async () => {
    const plan = await client.call<EtcdRepairPlan>('etcd.repair.plan', { jobId, mode: 'export' });
    const { ended } = await runRepair({ mode: 'export', outputPath: plan.defaultOutput, format: 'json' });
    if (ended.event !== 'etcd.repair.done' || ended.outcome.mode !== 'export') throw new Error(`not an export outcome: ${JSON.stringify(ended)}`);
    const r = ended.outcome.result;
    expect(r.objects).toBe(golden.keys.size);
    expect(r.format).toBe('json');
    const [key, value] = [...golden.keys].find(([k]) => k.startsWith('/registry/secrets/kube-system/'))!;
    const file = path.join(plan.defaultOutput, 'secrets', 'kube-system', `${path.posix.basename(key)}.json`);
    const doc = JSON.parse(await fs.readFile(file, 'utf8')) as { lifeboat: { etcdKey: string; rawValueBase64: string; secret?: boolean } };
    expect(doc.lifeboat.etcdKey).toBe(key);
    expect(Buffer.from(doc.lifeboat.rawValueBase64, 'base64').toString('utf8')).toBe(value);
    expect(doc.lifeboat.secret).toBe(true);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  }, 300_000);

  it('cancel stops a run: it ends as cancelled (nothing at the output, the part file kept) or, when it won the race, complete', async () => {
    const outputPath = path.join(copies, 'cancelled', 'snapshot.db');
    const { repairId } = await client.call<{ repairId: string }>('etcd.repair.start', { jobId, mode: 'snapshot', outputPath });
    const c = await client.call<{ cancelled: boolean }>('etcd.repair.cancel', { repairId });
    const end = await client.waitEvent(
      (e) => (e.event === 'etcd.repair.done' || e.event === 'etcd.repair.failed') && (e.payload as { repairId: string }).repairId === repairId,
      60_000,
    );
    if (end.event === 'etcd.repair.failed') {
      const p = end.payload as { cancelled: boolean; partial?: string; error: string };
      expect(c.cancelled).toBe(true);
      expect(p.cancelled).toBe(true);
      expect(p.error).toBe('cancelled');
      await expect(fs.stat(outputPath)).rejects.toThrow();
    } else {
      expect((await fs.stat(outputPath)).size % 512).toBe(32);
    }
    // A second cancel of a finished run does nothing.
    expect(await client.call('etcd.repair.cancel', { repairId })).toEqual({ cancelled: false });
  }, 120_000);
});
