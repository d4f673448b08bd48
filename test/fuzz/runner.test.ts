/**
 * The `npm run fuzz` runner itself, bundled as the build bundles it and run
 * as a user runs it: the watchdog kills a child whose input hangs
 * synchronously and names that input, a child past its heap limit is a crash
 * with its input, a throwing input is a failure; each is saved with a replay
 * command, the run goes on after it, and the exit code is 1. A replay of one
 * index rebuilds exactly the same input.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
let dir = '';
let bundle = '';

async function fuzz(args: string[]): Promise<{ code: number; out: string }> {
  try {
    // The bundle lies outside the checkout, as the build leaves ssh2 to node_modules (some targets reach code that
    // imports it): NODE_PATH lets it, and the children it forks, find the checkout's packages as dist/fuzz.cjs does.
    const env = { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') };
    const r = await run(process.execPath, [bundle, ...args], { cwd: ROOT, env, timeout: 120_000, maxBuffer: 8 << 20 });
    return { code: 0, out: r.stdout };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-fuzz-'));
  bundle = path.join(dir, 'fuzz.cjs');
  await build({
    entryPoints: [path.join(ROOT, 'test/fuzz/run.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: bundle,
    external: ['ssh2', 'cpu-features'],
    logLevel: 'silent',
  });
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm run fuzz', () => {
  it('the watchdog kills a synchronous hang, names the input, saves it and goes on', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'hang');
    const r = await fuzz(['--format', 'selftest-hang', '--inputs', '6', '--hang-ms', '1000', '--seed', '7', '--out', out]);
    expect(r.code).toBe(1);
    // A new child starts after each hang, and every third input of a child hangs: inputs 2 and 5.
    expect(r.out).toContain('selftest-hang: HANG at input 2 (no heartbeat for 1000 ms');
    expect(r.out).toContain('selftest-hang: HANG at input 5 (no heartbeat for 1000 ms');
    expect(r.out, r.out).toMatch(/selftest-hang\s+\d+ inputs .* 0 failures, 2 hangs, 0 crashes/);
    expect(readdirSync(out).sort()).toEqual(['selftest-hang-seed7-input2', 'selftest-hang-seed7-input5']);
    expect(readFileSync(path.join(out, 'selftest-hang-seed7-input2', 'REPLAY.txt'), 'utf8')).toContain(
      'npm run fuzz -- --format selftest-hang --seed 7 --index 2',
    );
  });

  it('a child past its heap limit is a crash at its input; a throw is a failure', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'crash');
    const r = await fuzz(['--format', 'selftest-oom,selftest-throw', '--inputs', '3', '--heap-mb', '48', '--seed', '8', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/selftest-oom: CRASH at input 2 \(child died \(exit [^)]*\): FATAL ERROR: .*heap/);
    expect(r.out).toContain('selftest-throw: FAILURE at input 2 (1 bytes): TypeError: boom from the self-test target');
    expect(readdirSync(out).sort()).toEqual(['selftest-oom-seed8-input2', 'selftest-throw-seed8-input2']);
  });

  it('prints a fresh seed each run and replays one input byte for byte', { timeout: 120_000 }, async () => {
    const a = await fuzz(['--format', 'protobuf', '--inputs', '50', '--out', path.join(dir, 'a')]);
    const b = await fuzz(['--format', 'protobuf', '--inputs', '50', '--out', path.join(dir, 'b')]);
    expect(a.code).toBe(0);
    const seedOf = (s: string) => /seed (\d+)/.exec(s)?.[1];
    expect(seedOf(a.out)).toBeDefined();
    expect(seedOf(a.out)).not.toBe(seedOf(b.out));
    expect(a.out).toMatch(/protobuf\s+50 inputs .* ok/);
    const one = await fuzz(['--format', 'yaml', '--seed', '99', '--index', '17', '--out', path.join(dir, 'r1')]);
    await fuzz(['--format', 'yaml', '--seed', '99', '--index', '17', '--out', path.join(dir, 'r2')]);
    expect(one.out).toMatch(/yaml\s+1 inputs/);
    const file = (d: string) => readFileSync(path.join(dir, d, 'yaml-seed99-input17', 'cluster.yaml'));
    expect(file('r1').equals(file('r2'))).toBe(true);
  });

  it('refuses an unknown format or option with the list of formats', async () => {
    const r = await fuzz(['--format', 'nope']);
    expect(r.code).toBe(2);
    expect(r.out).toContain('unknown format nope');
    expect(r.out).toContain('dqlite-segment');
  });
});
