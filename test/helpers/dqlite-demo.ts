/**
 * Drives the real Debian `dqlite-demo` (go-dqlite 1.11.5, libdqlite 1.11.1,
 * libraft 0.15.0) as the oracle for what dqlite does with a data directory.
 *
 * Facts this relies on (checked by hand against the binary):
 * - `dqlite-demo --api A --db D --dir P` keeps its data in `P/D` and refuses to
 *   start when `info.yaml` names another address, so a copy must be started
 *   under its own address: `tryStart` reads it from info.yaml and serialises
 *   nodes on one address with a lock.
 * - It serves `PUT /key` (body = value, answers "done") and `GET /key` (value
 *   plus a newline) only after raft started and the schema was created; on a
 *   start-up failure it prints `Error: ... raft_start(): io: ...` and exits 1.
 * - Snapshot threshold is 1024 entries (libdqlite default), and no segment is
 *   deleted at small sizes (trailing 8192). A snapshot closes the open segment.
 *   A PUT of a ~3000-byte value is one FRAMES entry of about 16 KiB, so ~500
 *   entries fill an 8 MiB segment.
 *
 * Nodes bind 127.0.0.1 only. Every directory started by `tryStart` is a copy.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, existsSync, readFileSync, statSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const DQLITE_DEMO = 'dqlite-demo';
const HOST = '127.0.0.1';

/** Is dqlite-demo installed? */
export function dqliteDemoPath(): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${DQLITE_DEMO}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : null;
}

/**
 * Whether tests needing dqlite-demo can run. With CI=true a missing binary is
 * an error (the suite must fail, not skip).
 */
export function requireDqliteDemo(): boolean {
  if (dqliteDemoPath()) return true;
  if (process.env.CI === 'true') throw new Error(`${DQLITE_DEMO} is not installed (required when CI=true)`);
  return false;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A cross-process lock (mkdir is atomic); stale locks of dead processes are broken. */
export async function withLock<T>(name: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(os.tmpdir(), `lifeboat-lock-${name.replace(/[^\w.-]/g, '_')}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fs.mkdir(lock);
      await fs.writeFile(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(readFileSync(path.join(lock, 'pid'), 'utf8'));
      } catch {
        // being created or removed right now
      }
      let alive = true;
      if (Number.isFinite(owner) && owner > 0) {
        try {
          process.kill(owner, 0);
        } catch {
          alive = false;
        }
      }
      if (!alive) {
        await fs.rm(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${lock}`, { cause: e });
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lock, { recursive: true, force: true });
  }
}

/** A running dqlite-demo. */
export class DemoNode {
  readonly api: string;
  readonly dbAddress: string;
  /** The raft data directory (`<parent>/<dbAddress>`). */
  readonly dataDir: string;
  private readonly proc: ChildProcess;
  private output = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(parent: string, api: string, dbAddress: string) {
    this.api = api;
    this.dbAddress = dbAddress;
    this.dataDir = path.join(parent, dbAddress);
    this.proc = spawn(DQLITE_DEMO, ['--api', api, '--db', dbAddress, '--dir', parent], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (d: Buffer) => {
      if (this.output.length < 65536) this.output += d.toString('utf8');
    };
    this.proc.stdout?.on('data', collect);
    this.proc.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      this.proc.on('error', (err) => {
        this.output += String(err);
        this.exitInfo = { code: -1, signal: null };
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** stdout + stderr so far (dqlite-demo prints its fatal error there). */
  get stderr(): string {
    return this.output;
  }

  get exit(): { code: number | null; signal: NodeJS.Signals | null } | null {
    return this.exitInfo;
  }

  /**
   * Wait until the HTTP API answers (node started), the process exits, or the
   * deadline passes. Returns 'started' | 'exited' | 'timeout'.
   */
  async waitReady(timeoutMs: number): Promise<'started' | 'exited' | 'timeout'> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exitInfo) return 'exited';
      try {
        const r = await fetch(`http://${this.api}/__lifeboat_probe__`, { signal: AbortSignal.timeout(1000) });
        await r.text();
        return 'started';
      } catch {
        // not listening yet
      }
      const winner = await Promise.race([this.exited.then(() => 'exited' as const), sleep(100).then(() => null)]);
      if (winner) return winner;
    }
    return this.exitInfo ? 'exited' : 'timeout';
  }

  async put(key: string, value: string): Promise<void> {
    const r = await fetch(`http://${this.api}/${key}`, { method: 'PUT', body: value, signal: AbortSignal.timeout(20000) });
    const text = await r.text();
    if (!/^done/i.test(text)) throw new Error(`PUT ${key} failed: ${text.trim()}`);
  }

  /** The value, or null when the key is missing (or the read fails). */
  async get(key: string): Promise<string | null> {
    const r = await fetch(`http://${this.api}/${key}`, { signal: AbortSignal.timeout(20000) });
    const text = await r.text();
    if (text.startsWith('Error: ')) return null;
    return text.endsWith('\n') ? text.slice(0, -1) : text;
  }

  /** Keys (of `expected`) served with exactly the expected value. */
  async keysServed(expected: Map<string, string>, parallel = 16): Promise<string[]> {
    const keys = [...expected.keys()];
    const ok: string[] = [];
    for (let i = 0; i < keys.length; i += parallel) {
      const slice = keys.slice(i, i + parallel);
      const got = await Promise.all(slice.map((k) => this.get(k).catch(() => null)));
      slice.forEach((k, j) => {
        if (got[j] === expected.get(k)) ok.push(k);
      });
    }
    return ok;
  }

  /** Clean stop (SIGTERM: open segments are closed); SIGKILL after `graceMs`. */
  async stop(graceMs = 10000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.exitInfo) return this.exitInfo;
    this.proc.kill('SIGTERM');
    const done = await Promise.race([this.exited, sleep(graceMs).then(() => null)]);
    if (done) return done;
    this.proc.kill('SIGKILL');
    return this.exited;
  }

  /** Crash (SIGKILL): open segments stay as they are on disk. */
  async kill(): Promise<void> {
    if (this.exitInfo) return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}

/** Start a node whose data lives in `<parent>/<dbAddress>` (created when missing). */
export async function startNode(parent: string, dbAddress: string, timeoutMs = 20000): Promise<DemoNode> {
  await fs.mkdir(parent, { recursive: true });
  const api = `${HOST}:${await freePort()}`;
  const node = new DemoNode(parent, api, dbAddress);
  const state = await node.waitReady(timeoutMs);
  if (state !== 'started') {
    await node.kill();
    throw new Error(`dqlite-demo did not start (${state}): ${node.stderr.trim()}`);
  }
  return node;
}

/** The raft address recorded in a data dir's info.yaml, if any. */
export function addressOf(dataDir: string): string | null {
  const info = path.join(dataDir, 'info.yaml');
  if (!existsSync(info)) return null;
  const m = /Address:\s*(\S+)/.exec(readFileSync(info, 'utf8'));
  return m ? m[1] : null;
}

export interface TryStartResult {
  /** The HTTP API answered: dqlite started on the copy (also after a slow start). */
  started: boolean;
  /**
   * It answered only after the first deadline (still running, so it was given
   * the longer one): a slow start, which is a start, not a failure.
   */
  slowStart: boolean;
  /** Neither started nor exited even by the longer deadline (it was killed): no verdict at all. */
  hung: boolean;
  /** What dqlite-demo printed (its fatal error when it failed). */
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Keys of `opts.keys` served with their exact value (when started and keys were given). */
  keysServed?: string[];
  /** Files in the copy after the run (start-up renames, truncates, deletes). */
  filesAfter: string[];
  /** The started copy, when `keepCopy` was asked for (caller removes it). */
  copyDir?: string;
}

/**
 * Copy `dataDir` and start dqlite-demo on the copy: does dqlite start, and
 * which keys does it serve? The node is stopped (SIGTERM) afterwards.
 */
export async function tryStart(
  dataDir: string,
  timeoutMs = 15000,
  opts: { keys?: Map<string, string>; keepCopy?: boolean; slowTimeoutMs?: number } = {},
): Promise<TryStartResult> {
  const address = addressOf(dataDir) ?? `${HOST}:${await freePort()}`;
  const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-dqstart-'));
  const copy = path.join(parent, address);
  await fs.cp(dataDir, copy, { recursive: true });
  return withLock(`dqlite-${address}`, 120000, async () => {
    let node = new DemoNode(parent, `${HOST}:${await freePort()}`, address);
    let state = await node.waitReady(timeoutMs);
    // The node's address is the data's own (cluster.yaml), and the API port was free a moment ago: a test beside this
    // one may hold either for a while (every server in the suite binds 127.0.0.x). dqlite-demo then says `failed to
    // set bind address` (raft's port) or `bind: address already in use` (the API's). That is no verdict: try again.
    for (let attempt = 1; attempt < 5 && state === 'exited' && /address already in use|failed to set bind address/i.test(node.stderr); attempt++) {
      await new Promise((r) => setTimeout(r, 1000 * attempt));
      await fs.rm(copy, { recursive: true, force: true });
      await fs.cp(dataDir, copy, { recursive: true });
      node = new DemoNode(parent, `${HOST}:${await freePort()}`, address);
      state = await node.waitReady(timeoutMs);
    }
    // Still running but not answering: a loaded machine (or a big log) starts slowly. Give it the
    // longer deadline before calling it anything; only a process that neither answers nor exits
    // by then is "hung", and that is no verdict.
    let slowStart = false;
    if (state === 'timeout') {
      state = await node.waitReady(opts.slowTimeoutMs ?? 60000);
      slowStart = state === 'started';
    }
    let keysServed: string[] | undefined;
    if (state === 'started' && opts.keys) keysServed = await node.keysServed(opts.keys);
    if (state === 'timeout') await node.kill();
    else await node.stop();
    const filesAfter = (await fs.readdir(copy)).sort();
    const result: TryStartResult = {
      started: state === 'started',
      slowStart,
      hung: state === 'timeout',
      stderr: node.stderr.trim(),
      exitCode: node.exit?.code ?? null,
      signal: node.exit?.signal ?? null,
      keysServed,
      filesAfter,
    };
    if (opts.keepCopy) result.copyDir = copy;
    else await fs.rm(parent, { recursive: true, force: true });
    return result;
  });
}

/** The value dqlite-demo stores for key number `i`: a findable marker, then filler. */
export function valueFor(i: number, size: number): string {
  const head = `<k${i}>`;
  const fill = `value-${i}-`;
  return (head + fill.repeat(Math.ceil(size / fill.length))).slice(0, Math.max(size, head.length));
}

export function keyMap(from: number, to: number, size: number): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = from; i < to; i++) m.set(`k${i}`, valueFor(i, size));
  return m;
}

/** Write keys k[from..to) with `valueFor` values. */
export async function writeKeys(node: DemoNode, from: number, to: number, size: number): Promise<void> {
  for (let i = from; i < to; i++) await node.put(`k${i}`, valueFor(i, size));
}

/** A recipe builds a data dir once; the result is cached for later runs. */
export interface Golden {
  /** The raft data directory (never start it: use tryStart, which copies). */
  dataDir: string;
  dbAddress: string;
  /** Every key written and acknowledged, with its value. */
  keys: Map<string, string>;
}

interface GoldenMarker {
  dbAddress: string;
  keys: [string, string][];
  /** What built it: a cached dir from another dqlite-demo or another recipe is rebuilt. */
  builtWith?: string;
}

// 4: the marker records what built it (buildIdentity); a separate directory, so runs of older code never see it.
const GOLDEN_VERSION = 4;

/**
 * The dqlite-demo binary and libraries (Debian package versions, or the binary's
 * size and mtime) plus the recipe's source: any change means the cache is stale.
 */
function buildIdentity(recipe: string): string {
  const pkgs = spawnSync('dpkg-query', ['-W', '-f', '${Package}=${Version};', 'go-dqlite', 'libdqlite0', 'libdqlite1.17-0', 'libraft0', 'libraft2'], {
    encoding: 'utf8',
  });
  const bin = dqliteDemoPath();
  let binFacts = '';
  if (bin) {
    const st = statSync(bin);
    binFacts = `${bin}:${st.size}:${Math.round(st.mtimeMs)}`;
  }
  return createHash('sha256').update(`${pkgs.stdout}|${binFacts}|${recipe}`).digest('hex');
}

/**
 * Build (or reuse) a golden data dir. `build(node control)` writes into a node
 * under a fresh address and returns the keys written. Cached in the temp dir
 * by recipe name, so parallel test files and later runs share it; set
 * LIFEBOAT_GOLDEN_FRESH=1 to rebuild.
 */
export async function golden(
  name: string,
  build: (ctx: { parent: string; dbAddress: string; start: () => Promise<DemoNode> }) => Promise<Map<string, string>>,
): Promise<Golden> {
  const root = path.join(os.tmpdir(), `lifeboat-dqlite-golden-v${GOLDEN_VERSION}`);
  await fs.mkdir(root, { recursive: true });
  const home = path.join(root, name);
  const markerFile = path.join(home, 'golden.json');
  const builtWith = buildIdentity(build.toString());
  return withLock(`golden-${name}`, 300000, async () => {
    if (process.env.LIFEBOAT_GOLDEN_FRESH === '1') await fs.rm(home, { recursive: true, force: true });
    if (existsSync(markerFile)) {
      // A cache built by another dqlite-demo (an upgrade) or another recipe is not this golden.
      const old = JSON.parse(await fs.readFile(markerFile, 'utf8')) as GoldenMarker;
      if (old.builtWith !== builtWith) await fs.rm(home, { recursive: true, force: true });
    }
    if (!existsSync(markerFile)) {
      await fs.rm(home, { recursive: true, force: true });
      const tmp = `${home}.tmp-${process.pid}`;
      await fs.rm(tmp, { recursive: true, force: true });
      const dbAddress = `${HOST}:${await freePort()}`;
      const parent = path.join(tmp, 'data');
      const keys = await withLock(`dqlite-${dbAddress}`, 120000, () => build({ parent, dbAddress, start: () => startNode(parent, dbAddress) }));
      const marker: GoldenMarker = { dbAddress, keys: [...keys], builtWith };
      await fs.writeFile(path.join(tmp, 'golden.json'), JSON.stringify(marker));
      await fs.rename(tmp, home);
    }
    const marker = JSON.parse(await fs.readFile(markerFile, 'utf8')) as GoldenMarker;
    return { dataDir: path.join(home, 'data', marker.dbAddress), dbAddress: marker.dbAddress, keys: new Map(marker.keys) };
  });
}
