/**
 * `lifeboat` as a user runs it (node bin/lifeboat.cjs after `npm run build`),
 * on data directories written by the real engine (dqlite-demo).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ValidationReport } from '../../shared/contract/report';
import {
  CLI,
  REPO,
  closedSegments,
  copyDir,
  dqliteDemoAvailable,
  ensureBuilt,
  flipByte,
  hashTree,
  makeDqliteDir,
  runCli,
  runCommand,
  runNode,
} from './fixtures';

const hasDemo = dqliteDemoAvailable();
const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };

let tmp: string;
let healthy: string;
let broken: string;
let brokenSegment: string;

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-cli-'));
  if (hasDemo) {
    const made = await makeDqliteDir(path.join(tmp, 'engine'), 80);
    healthy = path.join(tmp, 'healthy');
    broken = path.join(tmp, 'broken');
    await copyDir(made, healthy);
    await copyDir(made, broken);
    const segs = await closedSegments(broken);
    brokenSegment = segs[segs.length - 1];
    const size = (await fs.stat(path.join(broken, brokenSegment))).size;
    await flipByte(path.join(broken, brokenSegment), Math.floor(size / 2));
  }
});

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

function assertNoStack(text: string): void {
  expect(text).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
  expect(text).not.toMatch(/node:internal/);
}

describe('usage', () => {
  it('--help prints usage and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('lifeboat validate PATH');
    expect(r.stdout).toContain('lifeboat repair PATH --out DIR');
    expect(r.stdout).toContain('lifeboat serve');
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it.each([
    [['frobnicate'], /unknown command: frobnicate/],
    [[], /Usage:/],
    [['validate'], /needs a PATH/],
    [['validate', '/tmp', '--addresses', ''], /--addresses needs a list of addresses/],
    [['validate', '/tmp', '--bogus'], /bogus/],
    [['repair', '/tmp'], /--out DIR/],
    [['serve', '--port', 'abc'], /--port/],
    // Commands whose modules load when they run: their usage errors are still told as such.
    [['logs'], /Usage:/],
    [['session', 'frobnicate'], /Usage:/],
    [['salvage', '/tmp'], /--snapshot FILE|--out DIR/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    assertNoStack(r.stderr);
  });

  it('validate loads neither the SSH stack nor the web server: each command loads its own modules when it runs', async () => {
    // What `lifeboat validate` runs on its path (the CLI bundle's validate and print code); ssh2 alone cost it 50 ms of start-up.
    const probe = `require(${JSON.stringify(path.join(REPO, 'dist', 'cli.cjs'))}); process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
    const before = await runNode(['-e', probe]);
    expect(before.code).toBe(0);
    const loaded = JSON.parse(before.stdout) as string[];
    expect(loaded.some((m) => m.endsWith(path.join('dist', 'cli.cjs')))).toBe(true);
    expect(loaded.filter((m) => m.includes(`${path.sep}node_modules${path.sep}`))).toEqual([]);
  });

  it('the CLI, the validation worker and the WAL scan thread compile from the code cache made at build time', async () => {
    const sample = path.join(REPO, 'resources', 'samples', 'etcd-healthy');
    const r = await runCommand('/usr/bin/env', ['LIFEBOAT_CODE_CACHE_REPORT=1', process.execPath, CLI, 'validate', sample]);
    expect(r.code).toBe(0);
    const told = r.stderr.split('\n').filter((l) => l.startsWith('lifeboat: code cache'));
    expect(told.sort()).toEqual([
      'lifeboat: code cache accepted (cli.bundle.cjs)',
      'lifeboat: code cache accepted (validation-worker.bundle.cjs)',
      'lifeboat: code cache accepted (wal-scan-worker.bundle.cjs)',
    ]);
    expect(r.stdout).toContain('Would start: yes');
  });

  it('a missing path is an I/O error (exit 2), with a clear message', async () => {
    const missing = path.join(os.tmpdir(), 'lifeboat-definitely-missing', 'backend');
    const r = await runCli(['validate', missing]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(missing);
    expect(r.stderr).toMatch(/no such file or directory/);
    assertNoStack(r.stderr);
    const j = await runCli(['validate', missing, '--json']);
    expect(j.code).toBe(2);
    expect(j.stdout).toBe('');
  });

  it('repair refuses a directory that is not a dqlite data directory', async () => {
    const notDqlite = path.join(tmp, 'photos');
    await fs.mkdir(notDqlite);
    await fs.writeFile(path.join(notDqlite, 'cat.jpg'), 'meow');
    const out = path.join(tmp, 'photos-fixed');
    const r = await runCli(['repair', notDqlite, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a dqlite data directory/);
    expect(existsSync(out)).toBe(false);
    assertNoStack(r.stderr);
  });

  it('output into a pipe the reader closed (`| head`): stops quietly with the broken-pipe status, no stack trace', async () => {
    const sample = path.join(REPO, 'resources', 'samples', 'etcd-healthy');
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'validate', sample], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
      // The reader goes away before the report is printed, as `head -1` does after its line.
      child.stdout.destroy();
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stderr: err }));
    });
    expect(stderr).toBe('');
    expect(code).toBe(141);
  });

  it('bin/lifeboat.cjs without dist/ says to build first', async () => {
    const fake = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-nodist-'));
    await fs.mkdir(path.join(fake, 'bin'));
    await fs.copyFile(CLI, path.join(fake, 'bin', 'lifeboat.cjs'));
    const r = await runNode([path.join(fake, 'bin', 'lifeboat.cjs'), '--help'], fake);
    await fs.rm(fake, { recursive: true, force: true });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['lifeboat: run `npm run build` first']);
  });
});

describe.skipIf(!hasDemo)('validate real dqlite-demo directories', () => {
  it('a healthy directory exits 0 and says it would start', async () => {
    const before = await hashTree(healthy);
    const r = await runCli(['validate', healthy]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('engine: dqlite');
    expect(r.stdout).toMatch(/Would start: yes\s+Data loss on start: no/);
    expect(await hashTree(healthy)).toEqual(before);
  });

  it('--json prints exactly one ValidationReport object', async () => {
    const r = await runCli(['validate', healthy, '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const report = JSON.parse(r.stdout) as ValidationReport;
    expect(report).toMatchObject({ engine: 'dqlite', startable: true, dataLoss: false });
    expect(Array.isArray(report.lost)).toBe(true);
    expect(Array.isArray(report.findings)).toBe(true);
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(report.dqlite?.segments.length).toBeGreaterThan(0);
  });

  it('a flipped byte exits 1 and names the segment and offset', async () => {
    const before = await hashTree(broken);
    const r = await runCli(['validate', broken, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as ValidationReport;
    expect(report.engine).toBe('dqlite');
    // A bad batch in the last closed segment of a cleanly stopped node: libraft's auto-recovery renames
    // it and starts without its entries (no snapshot covers them at 60 keys). The exact verdict:
    expect(report).toMatchObject({ startable: true, dataLoss: true });
    expect(report.dqlite?.decision.renamedCorrupt).toEqual([brokenSegment]);
    const [first, last] = brokenSegment.split('-').map(Number);
    expect(report.lost).toEqual([expect.objectContaining({ file: brokenSegment, first, last, coveredBySnapshot: false })]);
    const onSegment = report.findings.filter((f) => f.file === brokenSegment);
    expect(onSegment.length).toBeGreaterThan(0);
    for (const f of report.findings) {
      expect(['error', 'warning', 'info']).toContain(f.severity);
      expect(typeof f.code).toBe('string');
      expect(typeof f.message).toBe('string');
      expect(f.offset === null || Number.isInteger(f.offset)).toBe(true);
    }
    expect(onSegment.some((f) => typeof f.offset === 'number' && f.offset >= 8)).toBe(true);

    const human = await runCli(['validate', broken]);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(brokenSegment);
    expect(human.stdout).toMatch(/Findings \(\d+\):/);
    expect(await hashTree(broken)).toEqual(before);
  });

  it('a single file is validated as what it is, never as healthy', async () => {
    const r = await runCli(['validate', path.join(healthy, 'cluster.yaml'), '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as ValidationReport;
    // One YAML file is no datastore: never "would start", and it says only this file was examined.
    expect(report.startable).toBe(false);
    expect(report.findings.map((f) => f.code)).toContain('input.single-file');
  });
});

describe.skipIf(!hasDemo)('repair', () => {
  it('refuses an output directory inside the input, and a non-empty one', async () => {
    const before = await hashTree(broken);
    const inside = await runCli(['repair', broken, '--out', path.join(broken, 'fixed')]);
    expect(inside.code).toBe(2);
    expect(inside.stderr).toMatch(/inside/);
    expect(existsSync(path.join(broken, 'fixed'))).toBe(false);

    const same = await runCli(['repair', broken, '--out', broken]);
    expect(same.code).toBe(2);

    const full = path.join(tmp, 'not-empty');
    await fs.mkdir(full);
    await fs.writeFile(path.join(full, 'keep.txt'), 'mine');
    const nonEmpty = await runCli(['repair', broken, '--out', full]);
    expect(nonEmpty.code).toBe(2);
    expect(nonEmpty.stderr).toMatch(/not an empty directory/);
    expect(await fs.readdir(full)).toEqual(['keep.txt']);
    expect(await hashTree(broken)).toEqual(before);
  });

  it('writes a repaired copy that validates, and never touches the input', async () => {
    const before = await hashTree(broken);
    // Each repair gets its own parent: the quarantine directory is created next to --out.
    const out = path.join(tmp, 'r1', 'repaired');
    const r = await runCli(['repair', broken, '--out', out, '--json']);
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout) as {
      report: ValidationReport;
      plan: { needed: boolean; steps: unknown[] };
      actions: string[];
      after: ValidationReport;
    };
    expect(result.report).toMatchObject({ startable: true, dataLoss: true });
    expect(result.plan.needed).toBe(true);
    expect(result.actions.length).toBeGreaterThan(0);
    expect(result.after.startable).toBe(true);
    expect(result.after.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(r.code).toBe(0);
    expect((await fs.readdir(out)).length).toBeGreaterThan(0);
    expect(await hashTree(broken)).toEqual(before);

    // The copy passes a fresh validation too.
    const check = await runCli(['validate', out, '--json']);
    const after = JSON.parse(check.stdout) as ValidationReport;
    expect(after.startable).toBe(true);
  });

  it('human output says what it did and what was lost', async () => {
    const out = path.join(tmp, 'r2', 'repaired');
    const r = await runCli(['repair', broken, '--out', out]);
    expect(r.stdout).toContain(`Wrote a repaired copy to ${out}`);
    expect(r.stdout).toMatch(/No entries lost by this repair\.|Entries lost by this repair:/);
    expect(r.stdout).toContain('After (validation of the copy)');
  });
});

describe('serve', () => {
  it('prints one line, serves the UI, and stops cleanly on Ctrl-C', async () => {
    const rendererBuilt = existsSync(path.join(REPO, 'dist', 'renderer', 'index.html'));
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    if (!rendererBuilt) {
      expect(await exited).toBe(2);
      expect(stderr).toMatch(/renderer is not built/);
      return;
    }
    const line = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no start line; stderr: ${stderr}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('\n')) {
          clearTimeout(t);
          resolve(stdout);
        }
      });
    });
    const m = /^Lifeboat web UI: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=[A-Za-z0-9_-]{43})\n$/.exec(line);
    expect(m).not.toBeNull();
    const page = await fetch(m![1]);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const noToken = await fetch(`http://127.0.0.1:${m![2]}/`);
    expect(noToken.status).toBe(401);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toBe(line);
    expect(stderr).toBe('');
  });
});

describe('npm start without the Electron binary', () => {
  const electronDir = path.join(REPO, 'node_modules', 'electron');
  const installed = (() => {
    try {
      return existsSync(path.join(electronDir, 'dist', readFileSync(path.join(electronDir, 'path.txt'), 'utf8').trim()));
    } catch {
      return false;
    }
  })();

  it.skipIf(installed)('prints one clear line and exits 1, without a stack trace or a download', async () => {
    const r = await runNode([path.join(REPO, 'build', 'start-electron.mjs')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Electron binary is not installed/);
    expect(lines[0]).toMatch(/npx install-electron/);
    expect(lines[0]).toMatch(/npm run start:web/);
    assertNoStack(r.stderr);
    expect(r.stderr).not.toMatch(/Downloading/);
    expect(existsSync(path.join(electronDir, 'path.txt'))).toBe(false);
  });
});
