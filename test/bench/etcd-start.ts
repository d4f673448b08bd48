/**
 * etcd validation against real etcd on the same data dir (part of `npm run bench`;
 * `npm run bench -- --only-etcd [--etcd-gib 1] [--etcd-dir DIR] [--etcd-keys 200000] [--etcd-rounds 3]`).
 *
 * The data dir is built by REAL etcd 3.4 (Debian's binary on 127.0.x.y,
 * kubeadm's `--snapshot-count 10000`): Kubernetes-shaped keys (protobuf
 * `k8s\0` objects, a tenth JSON like custom resources, 0.5-3.5 KB with a
 * last-applied annotation) put one request each through the v3 JSON gateway,
 * every key written once, then again in order (history: at least a quarter
 * of the keys) until db + WAL reach the target size, every 50th key deleted
 * (tombstones), then a compaction half way through the rewrites (free pages,
 * as after the API server's periodic compaction). The dir is cached under
 * `--etcd-dir` (a `lifeboat-bench.json` manifest marks it complete) and reused.
 *
 * Each round works on a fresh `cp -a` copy (etcd writes to the dir it starts
 * on) and measures, warm cache, each in a child process of its own so the
 * peak RSS is that program's alone (`/usr/bin/time`, or VmHWM for etcd):
 * a raw read of every file (Node, into one reused 4 MiB buffer), Lifeboat's complete
 * validation (`validateDirectory`, what the worker and CLI run),
 * `etcdctl snapshot status` on the db (3.4 hashes every key of the db), and
 * real etcd starting on the copy until a linearizable get answers (then
 * `etcdctl endpoint health` and the revision are checked). Rounds alternate
 * so all see the same machine load; the table shows medians.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { validateDirectory } from '../../shared/validate';
import { localDirectory } from '../../electron/services/fs-source';
import { rawReadFiles } from './raw-read';
import { encodeK8sProtobuf } from '../etcd/k8s-encode';
import { copyDir, loopbackEndpoint, spawnEtcd, waitHealthy, type EtcdNode } from '../helpers/etcd';

const GIB = 1024 ** 3;
const MANIFEST = 'lifeboat-bench.json';
/** Bumped when the generated content changes: a cache of another format is built again. */
const MANIFEST_FORMAT = 1;
const SNAPSHOT_COUNT = 10_000;
/** Value sizes (protobuf or JSON, padded with a last-applied-configuration annotation): 0.5-3.5 KB, 2 KB on average, like configmaps to small pods. */
const VALUE_MIN_BYTES = 500;
const VALUE_SPREAD_BYTES = 3000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');

export interface EtcdStartBenchOptions {
  /** Cache directory for the generated data dir (kept between runs). */
  cacheDir: string;
  /** db + WAL size to reach, GiB. */
  gib: number;
  /** Distinct keys (each rewritten until the size is reached). */
  keys: number;
  rounds: number;
  /** This bundle (dist/bench.cjs): run again as the measured child. */
  benchScript: string;
  log: (line: string) => void;
}

interface Manifest {
  format: number;
  complete: true;
  etcdVersion: string;
  name: string;
  host: string;
  clientPort: number;
  peerPort: number;
  keys: number;
  puts: number;
  rewrites: number;
  deletes: number;
  revision: number;
  compactedAt: number;
  liveKeys: number;
  bytes: number;
  dbBytes: number;
  walBytes: number;
  walFiles: number;
  snapFiles: number;
  quotaBytes: number;
  generatedSeconds: number;
}

const RESOURCES = ['configmaps', 'secrets', 'pods', 'services', 'deployments', 'leases', 'events', 'endpointslices'];

function keyOf(i: number): string {
  const res = RESOURCES[i % RESOURCES.length]!;
  return `/registry/${res}/ns-${i % 50}/${res.slice(0, -1)}-${String(i).padStart(7, '0')}`;
}

/** A Kubernetes-shaped value for key i at round r (its size varies with both): protobuf, or JSON for one in ten (CRDs). */
function valueOf(i: number, round: number): Buffer {
  const bytes = VALUE_MIN_BYTES + (((Math.imul(i + 1, 2654435761) ^ Math.imul(round + 1, 40503)) >>> 0) % VALUE_SPREAD_BYTES);
  const res = RESOURCES[i % RESOURCES.length]!;
  const name = `${res.slice(0, -1)}-${String(i).padStart(7, '0')}`;
  const uid = `${((i * 2654435761) >>> 0).toString(16).padStart(8, '0')}-1b2c-4d5e-8f90-${String(i).padStart(12, '0')}`;
  const labels = { app: `app-${i % 97}`, 'pod-template-hash': `${(i * 40503) % 99991}`, round: String(round) };
  const pad = (used: number) => 'x'.repeat(Math.max(0, bytes - used));
  if (i % 10 === 9) {
    const head = JSON.stringify({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name, namespace: `ns-${i % 50}`, uid, labels },
      spec: { size: round, note: '' },
    });
    return Buffer.from(head.replace('"note":""', `"note":"${pad(head.length)}"`));
  }
  const object = {
    apiVersion: 'v1',
    kind: res[0]!.toUpperCase() + res.slice(1, -1),
    name,
    namespace: `ns-${i % 50}`,
    uid,
    creationSeconds: 1_700_000_000 + i,
    labels,
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '' },
    owners: i % 3 === 0 ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `rs-${i % 1000}`, uid: `rs-uid-${i % 1000}`, controller: true }] : [],
  };
  const bare = encodeK8sProtobuf(object).length;
  object.annotations['kubectl.kubernetes.io/last-applied-configuration'] = pad(bare + 4);
  return encodeK8sProtobuf(object);
}

async function filesUnder(dir: string): Promise<{ file: string; size: number }[]> {
  const out: { file: string; size: number }[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of (await fs.readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        // While the generator writes, etcd purges old .snap and WAL files between readdir and stat.
        const size = await fs.stat(p).then(
          (st) => st.size,
          (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(err)),
        );
        if (size !== null) out.push({ file: p, size });
      }
    }
  };
  await walk(dir);
  return out;
}

async function sizes(dataDir: string): Promise<{ bytes: number; dbBytes: number; walBytes: number; walFiles: number; snapFiles: number }> {
  // Not etcd's preallocated next WAL segment (`N.tmp`): it is gone when etcd stops.
  const files = (await filesUnder(dataDir)).filter((f) => !f.file.endsWith('.tmp'));
  const walFiles = files.filter((f) => f.file.includes(`${path.sep}wal${path.sep}`) && f.file.endsWith('.wal'));
  return {
    bytes: files.reduce((a, f) => a + f.size, 0),
    dbBytes: files.find((f) => f.file.endsWith(`${path.sep}snap${path.sep}db`))?.size ?? 0,
    walBytes: walFiles.reduce((a, f) => a + f.size, 0),
    walFiles: walFiles.length,
    snapFiles: files.filter((f) => f.file.endsWith('.snap')).length,
  };
}

async function post(node: EtcdNode, pathname: string, body: unknown, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const res = await fetch(`${node.endpoint.clientUrl}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`etcd ${pathname}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

const revisionOf = (r: Record<string, unknown>) => Number((r.header as { revision?: string } | undefined)?.revision ?? 0);

/** A keep-alive JSON client for the loader (lighter than fetch: the client must not compete with etcd for the CPU). */
function gatewayClient(url: string): { post(pathname: string, body: unknown): Promise<Record<string, unknown>>; close(): void } {
  const { hostname, port } = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  return {
    post: (pathname, body) =>
      new Promise((resolve, reject) => {
        const bytes = Buffer.from(JSON.stringify(body));
        const req = http.request(
          {
            host: hostname,
            port: Number(port),
            path: pathname,
            method: 'POST',
            agent,
            timeout: 120_000,
            headers: { 'content-type': 'application/json', 'content-length': bytes.length },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              if (res.statusCode === 200) resolve(JSON.parse(text) as Record<string, unknown>);
              else reject(new Error(`etcd ${pathname}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
            });
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`etcd ${pathname}: no answer in 120 s`)));
        req.on('error', reject);
        req.end(bytes);
      }),
    close: () => agent.destroy(),
  };
}

/** Build the data dir with real etcd into `dataDir` (must not exist); returns the manifest. */
async function generate(dataDir: string, o: EtcdStartBenchOptions): Promise<Manifest> {
  const target = o.gib * GIB;
  const quotaBytes = Math.max(2 * GIB, Math.ceil(target * 2));
  const node = await spawnEtcd({
    dataDir,
    name: 'bench',
    snapshotCount: SNAPSHOT_COUNT,
    extraArgs: ['--quota-backend-bytes', String(quotaBytes)],
  });
  const client = gatewayClient(node.endpoint.clientUrl);
  const t0 = performance.now();
  try {
    if (!(await waitHealthy(node, 60_000))) throw new Error(`etcd did not start for the bench dir:\n${node.output().slice(-2000)}`);
    o.log(
      `generating an etcd data dir of ${o.gib} GiB with real etcd at ${node.endpoint.clientUrl} (${o.keys} keys, rewritten until the size is reached) in ${dataDir}`,
    );
    let puts = 0;
    let round = 0;
    let rewrites = 0;
    let firstRewrite = 0;
    let lastRewrite = 0;
    let size = await sizes(dataDir);
    let lastLog = performance.now();
    let failure: unknown = null;
    let reached = false;
    // History: after the first round, at least a quarter of the keys are written again (then as long as the size needs).
    // Two WAL segments of slack: etcd purges down to 5 .wal files every 30 s, so the dir may shrink by one after the stop.
    const enough = () => rewrites >= o.keys / 4 && size.bytes >= target + 128 * 1024 * 1024;
    // One put per request (as the API server writes), 32 in flight: every key once, then again round after round.
    for (; !reached; round++) {
      let next = 0;
      const worker = async () => {
        while (failure === null && !reached && next < o.keys) {
          const i = next++;
          try {
            const r = await client.post('/v3/kv/put', { key: b64(keyOf(i)), value: b64(valueOf(i, round)) });
            if (round > 0) {
              rewrites++;
              const rev = revisionOf(r);
              firstRewrite = firstRewrite ? Math.min(firstRewrite, rev) : rev;
              lastRewrite = Math.max(lastRewrite, rev);
            }
          } catch (e) {
            failure = e;
          }
          puts++;
          if (puts % 5000 === 0) {
            size = await sizes(dataDir);
            if (round > 0 && enough()) reached = true;
            if (performance.now() - lastLog > 10_000) {
              lastLog = performance.now();
              const s = (performance.now() - t0) / 1000;
              o.log(
                `  ${puts} puts (round ${round + 1}), db ${(size.dbBytes / 1e6).toFixed(0)} MB + WAL ${(size.walBytes / 1e6).toFixed(0)} MB = ${Math.min(100, (100 * size.bytes) / target).toFixed(0)}% of the target, ${(puts / s).toFixed(0)} puts/s, ${s.toFixed(0)} s`,
              );
            }
          }
        }
      };
      await Promise.all(Array.from({ length: 32 }, worker));
      if (failure !== null) throw failure as Error;
      size = await sizes(dataDir);
      if (round > 0 && enough()) reached = true;
    }
    // Compact half way through the rewrites (as the API server compacts every few minutes): the older revisions
    // of the first half become free pages, the second half keeps its history.
    const compactAt = Math.floor((firstRewrite + lastRewrite) / 2);
    let deletes = 0;
    for (let i = 0; i < o.keys; i += 50, deletes++) await client.post('/v3/kv/deleterange', { key: b64(keyOf(i)) });
    o.log(
      `  ${puts} puts (${rewrites} of them rewrites), ${deletes} deletes in ${((performance.now() - t0) / 1000).toFixed(0)} s; compacting at revision ${compactAt}`,
    );
    await client.post('/v3/kv/compaction', { revision: String(compactAt), physical: true });
    const status = await client.post('/v3/maintenance/status', {});
    const count = await client.post('/v3/kv/range', { key: b64('/registry/'), range_end: b64('/registry0'), count_only: true });
    const version = spawnSync('etcd', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
    client.close();
    await node.stop();
    size = await sizes(dataDir);
    return {
      format: MANIFEST_FORMAT,
      complete: true,
      etcdVersion: version.replace('etcd Version: ', ''),
      name: node.endpoint.name,
      host: node.endpoint.host,
      clientPort: node.endpoint.clientPort,
      peerPort: node.endpoint.peerPort,
      keys: o.keys,
      puts,
      rewrites,
      deletes,
      revision: revisionOf(status),
      compactedAt: compactAt,
      liveKeys: Number(count.count ?? 0),
      ...size,
      quotaBytes,
      generatedSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    client.close();
    await node.stop();
  }
}

/** The cached dir when complete and big enough; otherwise generate it (replacing only a dir this bench made). */
async function ensureDataDir(o: EtcdStartBenchOptions): Promise<{ dataDir: string; manifest: Manifest }> {
  await fs.mkdir(o.cacheDir, { recursive: true });
  const dataDir = path.join(o.cacheDir, 'data');
  const manifestFile = path.join(o.cacheDir, MANIFEST);
  if (existsSync(manifestFile)) {
    const m = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    if (m.format === MANIFEST_FORMAT && m.complete && m.bytes >= o.gib * GIB && existsSync(path.join(dataDir, 'member', 'snap', 'db'))) {
      o.log(`reusing ${dataDir} (built by etcd ${m.etcdVersion} in ${m.generatedSeconds.toFixed(0)} s)`);
      return { dataDir, manifest: m };
    }
    o.log(`${dataDir} is smaller than ${o.gib} GiB or from another version of this bench: generating again`);
    await fs.rm(manifestFile);
    await fs.rm(dataDir, { recursive: true, force: true });
  } else if (existsSync(dataDir)) {
    // A partial generation of ours (no manifest yet) or something else: never delete what we did not make.
    if (!existsSync(path.join(o.cacheDir, '.lifeboat-bench-partial'))) throw new Error(`${dataDir} exists and is not a bench dir: choose another --etcd-dir`);
    await fs.rm(dataDir, { recursive: true, force: true });
  }
  await fs.writeFile(path.join(o.cacheDir, '.lifeboat-bench-partial'), '');
  const manifest = await generate(dataDir, o);
  await fs.writeFile(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
  await fs.rm(path.join(o.cacheDir, '.lifeboat-bench-partial'));
  return { dataDir, manifest };
}

interface Measured {
  seconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
  stdout: string;
}

/** Run a program under /usr/bin/time: wall, user + system CPU and the peak RSS of that process alone (a non-zero exit is kept, not thrown). */
async function timed(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Measured & { exitCode: number }> {
  const out = path.join(os.tmpdir(), `lifeboat-bench-time-${process.pid}-${Date.now()}`);
  const t0 = performance.now();
  try {
    const r = await new Promise<{ stdout: string; exitCode: number }>((resolve, reject) =>
      execFile(
        '/usr/bin/time',
        ['-f', '%U %S %M', '-o', out, cmd, ...args],
        { maxBuffer: 64 * 1024 * 1024, env: env ?? process.env },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          if (code < 0) reject(new Error(`${cmd} ${args.join(' ')}: ${err?.message ?? ''} ${stderr}`));
          else resolve({ stdout, exitCode: code });
        },
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    const [user, sys, maxKb] = (await fs.readFile(out, 'utf8')).trim().split('\n').pop()!.split(' ').map(Number);
    if (!Number.isFinite(maxKb)) throw new Error(`${cmd}: /usr/bin/time gave no figures (exit ${r.exitCode})`);
    return { seconds, cpuSeconds: user! + sys!, peakRssBytes: maxKb! * 1024, stdout: r.stdout, exitCode: r.exitCode };
  } finally {
    await fs.rm(out, { force: true });
  }
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds (user + system) and VmHWM of a running process, from /proc. */
function procUsage(pid: number): { cpuSeconds: number; peakRssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds, peakRssBytes: Number(hwm?.[1] ?? 0) * 1024 };
}

/** Real etcd on `dataDir` until a linearizable get of `key` answers; then health and revision are checked. */
async function etcdStart(dataDir: string, m: Manifest, key: string): Promise<Measured & { revision: number; health: string }> {
  const free = await loopbackEndpoint();
  const t0 = performance.now();
  const node = await spawnEtcd({
    dataDir,
    name: m.name,
    host: free.host,
    clientPort: free.clientPort,
    peerPort: free.peerPort,
    snapshotCount: SNAPSHOT_COUNT,
    extraArgs: ['--quota-backend-bytes', String(m.quotaBytes)],
  });
  try {
    for (;;) {
      if (node.exit) throw new Error(`etcd exited while starting on the copy:\n${node.output().slice(-2000)}`);
      if (performance.now() - t0 > 600_000) throw new Error('etcd did not serve within 10 minutes');
      try {
        const r = await post(node, '/v3/kv/range', { key: b64(key) }, 30_000);
        if ((r.kvs as unknown[] | undefined)?.length) break;
      } catch {
        await sleep(20); // not listening yet
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const usage = procUsage(node.proc.pid!);
    const health = spawnSync('etcdctl', [`--endpoints=${node.endpoint.clientUrl}`, 'endpoint', 'health'], {
      encoding: 'utf8',
      env: { ...process.env, ETCDCTL_API: '3' },
    });
    const status = await post(node, '/v3/maintenance/status', {});
    return { seconds, ...usage, stdout: '', revision: revisionOf(status), health: (health.stdout || health.stderr).trim() };
  } finally {
    await node.stop();
  }
}

/** What the validation child prints. */
interface ValidateSummary {
  engine: string;
  startable: boolean;
  dataLoss: boolean;
  findings: Record<string, number>;
  notable: string[];
  bytesRead: number;
  revision: number | null;
  revisions: number | null;
  liveKeys: number | null;
  walLastIndex: number | null;
}

/** `node dist/bench.cjs --etcd-child validate|raw DIR`: the measured child. */
export async function etcdChild(kind: string, dir: string): Promise<void> {
  if (kind === 'raw') {
    const total = await rawReadFiles((await filesUnder(dir)).map((f) => f.file));
    process.stdout.write(JSON.stringify({ bytes: total }) + '\n');
    return;
  }
  const src = localDirectory(dir);
  try {
    const report = await validateDirectory(src);
    const findings: Record<string, number> = {};
    for (const f of report.findings) findings[f.severity] = (findings[f.severity] ?? 0) + 1;
    const summary: ValidateSummary = {
      engine: report.engine,
      startable: report.startable,
      dataLoss: report.dataLoss,
      findings,
      notable: report.findings.filter((f) => f.severity !== 'info').map((f) => `${f.severity} ${f.code}: ${f.message}`),
      bytesRead: report.bytesRead,
      revision: report.etcd?.schema?.revision ?? null,
      revisions: report.etcd?.schema?.revisions ?? null,
      liveKeys: report.etcd?.schema?.liveKeys ?? null,
      walLastIndex: report.etcd?.wal?.lastIndex ?? null,
    };
    process.stdout.write(JSON.stringify(summary) + '\n');
  } finally {
    await src.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function benchEtcdStart(o: EtcdStartBenchOptions): Promise<string[]> {
  if (!existsSync('/usr/bin/time') || spawnSync('sh', ['-c', 'command -v etcd && command -v etcdctl']).status !== 0) {
    return ['etcd validation vs real etcd', '  skipped: needs /usr/bin/time, etcd and etcdctl'];
  }
  const { dataDir, manifest: m } = await ensureDataDir(o);
  const mb = (b: number) => (b / 1e6).toFixed(0);
  const lines = [
    `etcd data dir built by real etcd ${m.etcdVersion}: ${mb(m.bytes)} MB (db ${mb(m.dbBytes)} MB, WAL ${mb(m.walBytes)} MB in ${m.walFiles} files, ${m.snapFiles} .snap)`,
    `  ${m.keys} keys, ${m.puts} puts (${m.rewrites} rewrites) of ${VALUE_MIN_BYTES / 1000}-${(VALUE_MIN_BYTES + VALUE_SPREAD_BYTES) / 1000} KB + ${m.deletes} deletes, revision ${m.revision}, compacted at ${m.compactedAt}, ${m.liveKeys} live keys`,
  ];
  const key = keyOf(1);
  const work = await fs.mkdtemp(path.join(path.dirname(path.resolve(o.cacheDir)), 'lifeboat-bench-etcd-copy-'));
  const runs: Record<'raw' | 'validate' | 'cli' | 'cliDb' | 'status' | 'start', Measured[]> = {
    raw: [],
    validate: [],
    cli: [],
    cliDb: [],
    status: [],
    start: [],
  };
  // What `lifeboat` runs (bin/lifeboat.cjs starts the validation worker before it loads dist/cli.cjs).
  const cli = path.join(path.dirname(o.benchScript), '..', 'bin', 'lifeboat.cjs');
  let cliVerdict = '';
  let summary: ValidateSummary | null = null;
  let served = { revision: 0, health: '' };
  let statusText = '';
  try {
    for (let r = 0; r < o.rounds; r++) {
      const copy = path.join(work, `round-${r}`);
      o.log(`round ${r + 1}/${o.rounds}: copying the dir, then raw read, Lifeboat validation, etcdctl snapshot status, etcd start`);
      await copyDir(dataDir, copy);
      // The copy's 1 GB written back to disk first: writeback running under the timed reads took the second core.
      spawnSync('sync', [], { stdio: 'ignore' });
      const self = [o.benchScript, '--etcd-child'];
      const raw = await timed(process.execPath, [...self, 'raw', copy]);
      if (raw.exitCode !== 0) throw new Error(`the raw-read child failed (exit ${raw.exitCode})`);
      runs.raw.push(raw);
      const v = await timed(process.execPath, [...self, 'validate', copy]);
      if (v.exitCode !== 0) throw new Error(`the validation child failed (exit ${v.exitCode})`);
      runs.validate.push(v);
      summary = JSON.parse(v.stdout) as ValidateSummary;
      if (existsSync(cli)) {
        const c = await timed(process.execPath, [cli, 'validate', copy]);
        runs.cli.push(c);
        cliVerdict = `exit ${c.exitCode}, ${c.stdout.split('\n').find((l) => l.startsWith('Would start')) ?? c.stdout.slice(0, 200)}`;
        // The same input as snapshot status (the db alone, no WAL): the like-for-like row.
        runs.cliDb.push(await timed(process.execPath, [cli, 'validate', path.join(copy, 'member', 'snap', 'db')]));
      }
      const st = await timed('etcdctl', ['snapshot', 'status', path.join(copy, 'member', 'snap', 'db'), '-w', 'json'], { ...process.env, ETCDCTL_API: '3' });
      if (st.exitCode !== 0) throw new Error(`etcdctl snapshot status failed (exit ${st.exitCode})`);
      runs.status.push(st);
      statusText = st.stdout.trim();
      const started = await etcdStart(copy, m, key);
      runs.start.push(started);
      served = started;
      await fs.rm(copy, { recursive: true, force: true });
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  const startSeconds = median(runs.start.map((x) => x.seconds));
  const startCpu = median(runs.start.map((x) => x.cpuSeconds));
  const widths = [50, 7, 6, 12, 6, 10, 10];
  const cells = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join(' ');
  const row = (what: string, xs: Measured[], bytes: number) => {
    const s = median(xs.map((x) => x.seconds));
    const cpu = median(xs.map((x) => x.cpuSeconds));
    return cells([
      what,
      s.toFixed(2),
      cpu.toFixed(2),
      mb(Math.max(...xs.map((x) => x.peakRssBytes))),
      mb(bytes / s),
      `${(startSeconds / s).toFixed(2)}x`,
      `${(startCpu / cpu).toFixed(2)}x`,
    ]);
  };
  lines.push(
    `medians of ${o.rounds} round(s), warm cache, each a child process of its own (peak RSS: the largest of the rounds):`,
    cells(['', 'wall s', 'CPU s', 'peak RSS MB', 'MB/s', 'etcd wall/', 'etcd CPU/']),
    row('raw read of every file (Node, one 4 MiB buffer)', runs.raw, m.bytes),
    row('Lifeboat validation of the dir (validateDirectory)', runs.validate, m.bytes),
    ...(runs.cli.length ? [row('lifeboat validate DIR (the CLI, text report)', runs.cli, m.bytes)] : []),
    ...(runs.cliDb.length ? [row('lifeboat validate member/snap/db (the db alone)', runs.cliDb, m.dbBytes)] : []),
    row(`etcdctl snapshot status member/snap/db`, runs.status, m.dbBytes),
    row('etcd 3.4 start on a copy, until a get answers', runs.start, m.bytes),
  );
  if (summary) {
    const f = Object.entries(summary.findings)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
    lines.push(
      `  Lifeboat: startable=${summary.startable} dataLoss=${summary.dataLoss}, read ${mb(summary.bytesRead)} MB, revision ${summary.revision}, ${summary.revisions} revisions, ${summary.liveKeys} live keys, WAL last index ${summary.walLastIndex}; findings: ${f || 'none'}`,
    );
    for (const n of summary.notable.slice(0, 5)) lines.push(`    ${n}`);
  }
  if (cliVerdict) lines.push(`  CLI: ${cliVerdict}`);
  lines.push(`  etcd served revision ${served.revision} (built with ${m.revision}); ${served.health.split('\n')[0]}`);
  lines.push(`  etcdctl snapshot status: ${statusText}`);
  lines.push(
    '  etcd wall/ and etcd CPU/ = etcd start time / this time (> 1: done before etcd serves; CPU time is steadier on a loaded machine);',
    '  MB/s of the whole dir (snapshot status and the db alone: of the db)',
  );
  return lines;
}
