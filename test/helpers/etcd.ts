/**
 * Drives Debian's real etcd 3.4.23 (`etcd`, `etcdctl`) as the oracle for what
 * etcd does with a data directory. Every node binds a loopback address of its
 * own (127.0.0.x picked at random with free ports), so tests in parallel and
 * other test files never collide.
 *
 * Facts this relies on (checked by hand against the binary):
 * - etcd 3.4 logs with capnslog to stderr by default: fatal lines look like
 *   `... C | etcdmain: <text>` and Go panics print `panic: <text>` followed
 *   by a goroutine dump; exit status 1 (fatal) or 2 (panic).
 * - It answers the v3 JSON gateway (`POST /v3/kv/put`, `/v3/kv/range`, base64
 *   keys and values) on the client URL once it has a leader, and
 *   `GET /health` with `{"health":"true"}`.
 * - `--snapshot-count N` makes it write a `.snap` every N applied entries;
 *   etcd keeps the 5 newest .snap and .wal files by default (purge).
 *
 * Every directory started by `tryStartEtcd` should be a copy: etcd repairs a
 * torn WAL tail and rewrites the db in place.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const ETCD = 'etcd';
export const ETCDCTL = 'etcdctl';

export function etcdPath(): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${ETCD} && command -v ${ETCDCTL}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim().split('\n')[0]! : null;
}

/** Whether tests needing etcd can run; with CI=true a missing etcd fails the suite. */
export function requireEtcd(): boolean {
  if (etcdPath()) return true;
  if (process.env.CI === 'true') throw new Error('etcd/etcdctl are not installed (required when CI=true): apt-get install etcd-server etcd-client');
  return false;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** A random loopback address (127.0.x.y, never .0/.1/.255) with two free ports on it. */
export async function loopbackEndpoint(): Promise<{ host: string; clientPort: number; peerPort: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const host = `127.0.${randomInt(2, 250)}.${randomInt(2, 250)}`;
    const clientPort = randomInt(20000, 40000);
    const peerPort = clientPort + 1;
    if ((await portFree(host, clientPort)) && (await portFree(host, peerPort))) return { host, clientPort, peerPort };
  }
  throw new Error('no free loopback endpoint for etcd');
}

export interface EtcdOptions {
  dataDir: string;
  name?: string;
  /** Reuse the address a data dir was created with (etcd stores its peer URL in the db and WAL). */
  host?: string;
  clientPort?: number;
  peerPort?: number;
  snapshotCount?: number;
  /** Extra flags, e.g. ['--force-new-cluster'] or ['--wal-dir', dir]. */
  extraArgs?: string[];
  /** `new` (default) or `existing`. */
  clusterState?: 'new' | 'existing';
  /** Override the whole `--initial-cluster` value. */
  initialCluster?: string;
  initialClusterToken?: string;
  /** Run as this user and group (the test runs as root): etcd as its own user, as a systemd unit with User=etcd runs it. */
  as?: { uid: number; gid: number };
}

export interface EtcdEndpoint {
  name: string;
  host: string;
  clientPort: number;
  peerPort: number;
  clientUrl: string;
  peerUrl: string;
}

/** A running etcd process. `output()` is everything it printed so far (stdout + stderr). */
export class EtcdNode {
  private out = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<void>;
  constructor(
    readonly proc: ChildProcess,
    readonly endpoint: EtcdEndpoint,
    readonly dataDir: string,
  ) {
    proc.stdout?.on('data', (d: Buffer) => (this.out += d.toString('utf8')));
    proc.stderr?.on('data', (d: Buffer) => (this.out += d.toString('utf8')));
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
    });
  }
  output(): string {
    return this.out;
  }
  get exit(): { code: number | null; signal: NodeJS.Signals | null } | null {
    return this.exitInfo;
  }
  /** Resolves when the process exited or `ms` passed; true when it exited. */
  async waitExit(ms: number): Promise<boolean> {
    if (this.exitInfo) return true;
    await Promise.race([this.exited, sleep(ms)]);
    return this.exitInfo !== null;
  }
  async stop(): Promise<void> {
    if (this.exitInfo) return;
    this.proc.kill('SIGTERM');
    if (!(await this.waitExit(10_000))) {
      this.proc.kill('SIGKILL');
      await this.waitExit(5_000);
    }
  }
  /** SIGKILL: what a power cut looks like to etcd (no clean WAL close). */
  async kill(): Promise<void> {
    if (this.exitInfo) return;
    this.proc.kill('SIGKILL');
    await this.waitExit(5_000);
  }

  private async post(pathname: string, body: unknown, timeoutMs = 5000): Promise<unknown> {
    const res = await fetch(`${this.endpoint.clientUrl}${pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`etcd ${pathname}: HTTP ${res.status}: ${text}`);
    return JSON.parse(text) as unknown;
  }

  async put(key: string | Uint8Array, value: string | Uint8Array, lease?: string): Promise<{ revision: number }> {
    const r = (await this.post('/v3/kv/put', { key: b64(key), value: b64(value), ...(lease ? { lease } : {}) })) as {
      header?: { revision?: string };
    };
    return { revision: Number(r.header?.revision ?? 0) };
  }
  async del(key: string): Promise<void> {
    await this.post('/v3/kv/deleterange', { key: b64(key) });
  }
  async compact(revision: number): Promise<void> {
    await this.post('/v3/kv/compaction', { revision: String(revision), physical: true });
  }
  async leaseGrant(ttlSeconds: number): Promise<string> {
    const r = (await this.post('/v3/lease/grant', { TTL: String(ttlSeconds) })) as { ID: string };
    return r.ID;
  }
  /** Every key at the current revision, as key -> value (UTF-8 for display; use `rangeBytes` for exact bytes). */
  async range(prefix = ''): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const [k, v] of await this.rangeBytes(prefix)) out.set(k, Buffer.from(v).toString('utf8'));
    return out;
  }
  async rangeBytes(prefix = ''): Promise<Map<string, Uint8Array>> {
    const body = prefix
      ? { key: b64(prefix), range_end: b64(prefixEnd(Buffer.from(prefix))) }
      : { key: b64(new Uint8Array([0])), range_end: b64(new Uint8Array([0])) };
    // A member that has just started applies the WAL's committed entries before a linearizable read returns: on a
    // loaded 2-core machine that takes tens of seconds for the multi-file goldens.
    const r = (await this.post('/v3/kv/range', body, 120_000)) as { kvs?: { key: string; value?: string }[] };
    const out = new Map<string, Uint8Array>();
    for (const kv of r.kvs ?? []) out.set(Buffer.from(kv.key, 'base64').toString('utf8'), Buffer.from(kv.value ?? '', 'base64'));
    return out;
  }
  async status(): Promise<{ revision: number; raftIndex: number; raftTerm: number; dbSize: number; leader: string; memberId: string }> {
    const r = (await this.post('/v3/maintenance/status', {})) as {
      header: { revision: string; member_id: string; raft_term: string };
      raftIndex: string;
      raftTerm: string;
      dbSize: string;
      leader: string;
    };
    return {
      revision: Number(r.header.revision),
      raftIndex: Number(r.raftIndex),
      raftTerm: Number(r.raftTerm),
      dbSize: Number(r.dbSize),
      leader: r.leader,
      memberId: r.header.member_id,
    };
  }
  /** Runs etcdctl against this node; returns stdout (throws with stderr on failure). */
  etcdctl(args: string[], timeoutMs = 30_000): string {
    const r = spawnSync(ETCDCTL, [`--endpoints=${this.endpoint.clientUrl}`, ...args], {
      encoding: 'utf8',
      env: { ...process.env, ETCDCTL_API: '3' },
      timeout: timeoutMs,
    });
    if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
    return r.stdout;
  }
}

function b64(v: string | Uint8Array): string {
  return Buffer.from(typeof v === 'string' ? Buffer.from(v, 'utf8') : v).toString('base64');
}

function prefixEnd(p: Buffer): Uint8Array {
  const end = Buffer.from(p);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return new Uint8Array([0]);
}

/** Start etcd on `opts.dataDir` (created if missing). Does not wait for health: see `waitHealthy`. */
export async function spawnEtcd(opts: EtcdOptions): Promise<EtcdNode> {
  const ep =
    opts.host && opts.clientPort && opts.peerPort ? { host: opts.host, clientPort: opts.clientPort, peerPort: opts.peerPort } : await loopbackEndpoint();
  const name = opts.name ?? 'n1';
  const clientUrl = `http://${ep.host}:${ep.clientPort}`;
  const peerUrl = `http://${ep.host}:${ep.peerPort}`;
  const args = [
    '--name',
    name,
    '--data-dir',
    opts.dataDir,
    '--listen-client-urls',
    clientUrl,
    '--advertise-client-urls',
    clientUrl,
    '--listen-peer-urls',
    peerUrl,
    '--initial-advertise-peer-urls',
    peerUrl,
    '--initial-cluster',
    opts.initialCluster ?? `${name}=${peerUrl}`,
    '--initial-cluster-state',
    opts.clusterState ?? 'new',
    '--initial-cluster-token',
    opts.initialClusterToken ?? 'lifeboat-test',
    '--listen-metrics-urls',
    '',
    ...(opts.snapshotCount ? ['--snapshot-count', String(opts.snapshotCount)] : []),
    ...(opts.extraArgs ?? []),
  ];
  const proc = spawn(ETCD, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ETCD_UNSUPPORTED_ARCH: '' },
    ...(opts.as ? { uid: opts.as.uid, gid: opts.as.gid } : {}),
  });
  return new EtcdNode(proc, { name, host: ep.host, clientPort: ep.clientPort, peerPort: ep.peerPort, clientUrl, peerUrl }, opts.dataDir);
}

/** Polls /health until etcd answers healthy; false when it exits or `timeoutMs` passes first. */
export async function waitHealthy(node: EtcdNode, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (node.exit) return false;
    try {
      const res = await fetch(`${node.endpoint.clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: string };
      if (body.health === 'true') return true;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  return false;
}

export interface TryStartResult {
  /** etcd became healthy (answered /health with true). */
  started: boolean;
  /** Still running but never healthy within the time (e.g. no leader): not the same as a failure. */
  hung: boolean;
  exitCode: number | null;
  /** Everything etcd printed. */
  output: string;
  /** The fatal/panic line (`C | ...` text after the package, or the `panic: ...` text), when it failed. */
  fatal: string | null;
  /** All keys it served at the current revision (only when started and the range read succeeded). */
  keys: Map<string, string> | null;
  /** It started, but reading every key failed (etcd crashed or answered an error): the error. */
  readError?: string;
}

/** The fatal line etcd printed: capnslog `C | pkg: text`, zap `"level":"fatal"`, a Go `panic: text`, or the runtime's `fatal error: fault (SIGBUS)`. */
export function fatalLine(output: string): string | null {
  const panic = /^panic: (.+)$/m.exec(output);
  if (panic) return panic[1]!.trim();
  const crit = /\bC \| [\w.-]+: (.+)$/m.exec(output);
  if (crit) return crit[1]!.trim();
  const zap = /"level":"(?:fatal|panic)".*?"msg":"([^"]*)"(?:.*?"error":"([^"]*)")?/m.exec(output);
  if (zap) return zap[2] ? `${zap[1]}: ${zap[2]}` : zap[1]!;
  // The Go runtime's own crash (a bbolt read past the mapping: SIGBUS/SIGSEGV), not a panic.
  const runtime = /^fatal error: (.+)$/m.exec(output);
  if (runtime) {
    const signal = /^\[signal (SIG[A-Z]+)/m.exec(output);
    return `fatal error: ${runtime[1]!.trim()}${signal ? ` (${signal[1]})` : ''}`;
  }
  return null;
}

/** etcd prints absolute paths and the Go runtime adds the signal: compare the rest. */
export function normaliseFatal(text: string | null): string | null {
  if (text === null) return null;
  return text
    .replace(/at \S*?(member\/snap\/db)/g, 'at $1')
    .replace(/^(fatal error: fault) \(SIG[A-Z]+\)$/, '$1')
    .trim();
}

/**
 * Start etcd on a data dir (a copy!) the way it was created (same name and
 * peer address, read from the caller), wait until it is healthy or fails,
 * read every key, stop it.
 */
export async function tryStartEtcd(opts: EtcdOptions, timeoutMs = 20_000): Promise<TryStartResult> {
  const node = await spawnEtcd(opts);
  try {
    const healthy = await waitHealthy(node, timeoutMs);
    if (!healthy) {
      const exited = await node.waitExit(healthy ? 0 : 500);
      const output = node.output();
      return { started: false, hung: !exited, exitCode: node.exit?.code ?? null, output, fatal: fatalLine(output), keys: null };
    }
    let keys: Map<string, string>;
    try {
      keys = await node.range('');
    } catch (err) {
      // Healthy, then failed serving the keys (e.g. a panic on a damaged bbolt page reached only by a read).
      const exited = await node.waitExit(2000);
      const output = node.output();
      return {
        started: true,
        hung: false,
        exitCode: exited ? (node.exit?.code ?? null) : null,
        output,
        fatal: fatalLine(output),
        keys: null,
        readError: (err as Error).message,
      };
    }
    return { started: true, hung: false, exitCode: null, output: node.output(), fatal: null, keys };
  } finally {
    await node.stop();
  }
}

/**
 * Start etcd on `opts`, write one key and read it back, then stop: a member whose WAL ends before its db's
 * consistent index serves reads but applies no write (each times out) until its raft index passes the db's.
 */
export async function writeAfterStart(opts: EtcdOptions, key: string, value: string): Promise<{ written: boolean; error: string | null; output: string }> {
  const node = await spawnEtcd(opts);
  try {
    if (!(await waitHealthy(node, 30_000))) return { written: false, error: 'etcd did not become healthy', output: node.output() };
    const error = await node.put(key, value).then(
      () => null,
      (e: Error) => e.message,
    );
    const back = error === null ? await node.range(key) : new Map<string, string>();
    return { written: back.get(key) === value, error, output: node.output() };
  } finally {
    await node.stop();
  }
}

/** What a golden data dir was made with: the address to start copies on, and what it holds. */
export interface EtcdGolden {
  dir: string;
  /** The member dir is `${dir}/member`. */
  endpoint: EtcdEndpoint;
  /** Every key etcd served after writing, with its value. */
  keys: Map<string, string>;
  revision: number;
  /** Options to start a copy with (same name and address). */
  startOptions(copyDir: string): EtcdOptions;
}

export interface GoldenSpec {
  /** Number of keys to write (k8s-looking `/registry/...` keys). */
  keys: number;
  /** Value size in bytes (default 64). */
  valueSize?: number;
  /** Overwrite every key this many extra times (history). */
  rewrites?: number;
  /** Delete every n-th key afterwards (tombstones). */
  deleteEvery?: number;
  snapshotCount?: number;
  /** Stop with SIGKILL instead of SIGTERM. */
  kill?: boolean;
}

export function testValue(i: number, round: number, size: number): string {
  const head = `v${round}-${i}-`;
  return (head + 'x'.repeat(Math.max(0, size - head.length))).slice(0, Math.max(size, head.length));
}

export function testKey(i: number): string {
  const ns = ['default', 'kube-system', 'app'][i % 3];
  const res = ['configmaps', 'secrets', 'pods', 'services'][i % 4];
  return `/registry/${res}/${ns}/obj-${String(i).padStart(6, '0')}`;
}

/** Write keys through the JSON gateway, `concurrency` requests at a time. */
export async function writeKeys(node: EtcdNode, count: number, round: number, valueSize: number, concurrency = 16): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await node.put(testKey(i), testValue(i, round, valueSize));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Build a real etcd data dir in `dir` (must not exist) per `spec`, stopped afterwards. */
export async function makeGolden(dir: string, spec: GoldenSpec): Promise<EtcdGolden> {
  const size = spec.valueSize ?? 64;
  const rounds = 1 + (spec.rewrites ?? 0);
  return makeGoldenWith(dir, { snapshotCount: spec.snapshotCount, kill: spec.kill }, async (node) => {
    for (let round = 0; round < rounds; round++) await writeKeys(node, spec.keys, round, size);
    if (spec.deleteEvery) {
      for (let i = 0; i < spec.keys; i += spec.deleteEvery) await node.del(testKey(i));
    }
  });
}

/**
 * Like `makeGolden`, but the caller writes the data (`write` gets the running
 * node) and may name the member; for data that is not `testKey`/`testValue`.
 */
export async function makeGoldenWith(
  dir: string,
  opts: { snapshotCount?: number; name?: string; kill?: boolean },
  write: (node: EtcdNode) => Promise<void>,
): Promise<EtcdGolden> {
  await fs.mkdir(path.dirname(dir), { recursive: true });
  const node = await spawnEtcd({ dataDir: dir, snapshotCount: opts.snapshotCount, name: opts.name });
  if (!(await waitHealthy(node, 20_000))) {
    await node.stop();
    throw new Error(`etcd did not start for the golden dir:\n${node.output()}`);
  }
  try {
    await write(node);
  } catch (e) {
    await node.stop();
    throw e;
  }
  const keys = await node.range('');
  const { revision } = await node.status();
  if (opts.kill) await node.kill();
  else await node.stop();
  const endpoint = node.endpoint;
  return {
    dir,
    endpoint,
    keys,
    revision,
    startOptions(copyDir: string): EtcdOptions {
      return { dataDir: copyDir, name: endpoint.name, host: endpoint.host, clientPort: endpoint.clientPort, peerPort: endpoint.peerPort };
    },
  };
}

/** A fresh temp dir under the OS temp dir. */
export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `lifeboat-${prefix}-`));
}

/** Recursive copy preserving modes (cp -a). */
export async function copyDir(from: string, to: string): Promise<void> {
  const r = spawnSync('cp', ['-a', from, to]);
  if (r.status !== 0) throw new Error(`cp -a ${from} ${to}: ${r.stderr.toString()}`);
}

/** SHA-256 over every file's relative path and bytes (sorted), to prove an input was not changed. */
export async function hashTree(root: string): Promise<string> {
  const h = createHash('sha256');
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = path.join(dir, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(p, r);
      else if (e.isFile()) {
        h.update(`${r}\0`);
        h.update(await fs.readFile(p));
      }
    }
  };
  const st = await fs.stat(root);
  if (st.isFile()) h.update(await fs.readFile(root));
  else await walk(root, '');
  return h.digest('hex');
}
