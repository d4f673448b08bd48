/**
 * Shared by test/cli and test/web: build dist/ once, make real dqlite data
 * directories with the real engine (dqlite-demo), hash trees, run the CLI.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, promises as fs, readdirSync, rmdirSync, statSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
export const CLI = path.join(REPO, 'bin', 'lifeboat.cjs');
export const DQLITE_DEMO = '/usr/bin/dqlite-demo';

/** True when dqlite-demo can run; with CI=true a missing tool fails the test instead. */
export function dqliteDemoAvailable(): boolean {
  const ok = existsSync(DQLITE_DEMO);
  if (!ok && process.env.CI === 'true') throw new Error(`CI=true but ${DQLITE_DEMO} is missing`);
  return ok;
}

// ---------------------------------------------------------------- build once

const BUILD_OUTPUTS = ['main.cjs', 'preload.cjs', 'cli.cjs', 'validation-worker.cjs', 'wal-scan-worker.cjs'].map((f) => path.join(REPO, 'dist', f));
const SOURCE_DIRS = ['electron', 'shared', 'renderer', 'build'].map((d) => path.join(REPO, d));

function newestMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = path.join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

function buildIsFresh(): boolean {
  if (!BUILD_OUTPUTS.every((f) => existsSync(f))) return false;
  const oldestOutput = Math.min(...BUILD_OUTPUTS.map((f) => statSync(f).mtimeMs));
  return SOURCE_DIRS.every((d) => newestMtime(d) <= oldestOutput);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run `npm run build` once when dist/ is missing or older than the sources.
 * Test files run in parallel workers: a lock directory makes the others wait.
 */
export async function ensureBuilt(): Promise<void> {
  // For quick iteration on tests when dist/ is known to be current.
  if (process.env.LIFEBOAT_TEST_NO_BUILD === '1') return;
  if (buildIsFresh()) return;
  const lock = path.join(REPO, 'test-artifacts', '.build-lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 170_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Someone else is building; a lock older than 3 minutes is stale.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 180_000) rmdirSync(lock);
      } catch {
        /* raced with its owner */
      }
      if (Date.now() > deadline) throw new Error('timed out waiting for another build');
      await sleep(500);
      if (buildIsFresh()) return;
    }
  }
  try {
    if (buildIsFresh()) return;
    const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: REPO, encoding: 'utf8', timeout: 170_000 });
    if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
  } finally {
    rmdirSync(lock);
  }
}

// ---------------------------------------------------------------- CLI

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { cwd?: string; script?: string } = {}): Promise<RunResult> {
  return runNode([opts.script ?? CLI, ...args], opts.cwd);
}

export function runNode(args: string[], cwd: string = REPO): Promise<RunResult> {
  return runCommand(process.execPath, args, cwd);
}

/** Any program with output captured (killed after 60 s). */
export function runCommand(command: string, args: string[], cwd: string = REPO): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------- hashing

/** sha256 of every file (and the name list) under a directory, to prove nothing was modified. */
export async function hashTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of (await fs.readdir(dir)).sort()) {
      const p = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await fs.lstat(p);
      if (st.isDirectory()) await walk(p, r);
      else if (st.isFile())
        out[r] =
          createHash('sha256')
            .update(await fs.readFile(p))
            .digest('hex') + `:${st.mode.toString(8)}:${st.mtimeMs}`;
      else out[r] = `special:${st.mode.toString(8)}`;
    }
  };
  await walk(root, '');
  return out;
}

// ---------------------------------------------------------------- dqlite-demo

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function putKey(api: string, key: string, value: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${api}/${key}`, { method: 'PUT', body: value, signal: AbortSignal.timeout(3000) });
    await res.text();
    return res.ok;
  } catch {
    return false;
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/**
 * Run the real engine (dqlite-demo: go-dqlite on libraft 0.15) on 127.0.0.1,
 * write `keys` rows, stop it cleanly (SIGINT: open segments get closed), and
 * return the raft data directory (`<parent>/<db address>`).
 */
export async function makeDqliteDir(parent: string, keys: number): Promise<string> {
  await fs.mkdir(parent, { recursive: true });
  const host = '127.0.0.1';
  const api = `${host}:${await freePort(host)}`;
  const db = `${host}:${await freePort(host)}`;
  const child = spawn(DQLITE_DEMO, ['-a', api, '-d', db, '-D', parent], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  try {
    const deadline = Date.now() + 20_000;
    while (!(await putKey(api, 'ready', 'yes'))) {
      if (child.exitCode !== null) throw new Error(`dqlite-demo exited (${child.exitCode}): ${log}`);
      if (Date.now() > deadline) throw new Error(`dqlite-demo did not come up: ${log}`);
      await sleep(200);
    }
    for (let i = 0; i < keys; i++) {
      if (!(await putKey(api, `key${i}`, `value-${i}-${'x'.repeat(i % 50)}`))) throw new Error(`PUT key${i} failed: ${log}`);
    }
  } finally {
    child.kill('SIGINT');
    if (!(await waitExit(child, 15_000))) {
      child.kill('SIGKILL');
      await waitExit(child, 5_000);
    }
  }
  const dir = path.join(parent, db);
  if (!existsSync(path.join(dir, 'metadata1')) && !existsSync(path.join(dir, 'metadata2'))) {
    throw new Error(`dqlite-demo left no raft metadata in ${dir}: ${log}`);
  }
  return dir;
}

/** Recursive copy keeping file contents (a working copy we may damage). */
export async function copyDir(src: string, dest: string): Promise<void> {
  await fs.cp(src, dest, { recursive: true });
}

/** Closed segment files (`first-last`), oldest first. */
export async function closedSegments(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((n) => /^\d{16}-\d{16}$/.test(n)).sort();
}

/** Flip one byte (XOR 0xff) in a file: a payload byte gives a data checksum mismatch. */
export async function flipByte(file: string, offset: number): Promise<void> {
  const fh = await fs.open(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, offset);
    b[0] ^= 0xff;
    await fh.write(b, 0, 1, offset);
  } finally {
    await fh.close();
  }
}
