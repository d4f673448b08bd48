/**
 * Real bytes from the real engine (light: the full oracle suite lives in
 * test/oracle). A dqlite-demo node writes a few keys; we validate its
 * directory read-only, damage a copy, repair the copy and start dqlite-demo
 * on the repaired copy.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localDirectory } from '../../electron/services/fs-source';
import { writeRepairedCopy } from '../../electron/services/dqlite-repair';
import { validateDqliteDirectory } from '../../shared/formats/dqlite/validate';

const HAVE = spawnSync('sh', ['-c', 'command -v dqlite-demo']).status === 0;
if (!HAVE && process.env.CI === 'true') throw new Error('dqlite-demo is required when CI=true');
const HOST = '127.0.0.9';
const base = 20000 + Math.floor(Math.random() * 20000);
const tmp = mkdtempSync(path.join(tmpdir(), 'lifeboat-dqlite-fmt-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

function hashDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).sort()) {
    const p = path.join(dir, n);
    if (statSync(p).isFile()) out[n] = createHash('sha256').update(readFileSync(p)).digest('hex');
  }
  return out;
}

async function http(url: string, init?: RequestInit): Promise<string> {
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(url, init);
      return await r.text();
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`no answer from ${url}`);
}

async function runDemo(dir: string, api: number, db: number): Promise<ChildProcess> {
  const c = spawn('dqlite-demo', ['--api', `${HOST}:${api}`, '--db', `${HOST}:${db}`, '--dir', dir], { stdio: 'ignore' });
  children.push(c);
  await http(`http://${HOST}:${api}/ping`).catch(() => undefined);
  return c;
}

async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null) return;
  const done = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  await done;
}

describe.skipIf(!HAVE)('real dqlite-demo data', () => {
  it('validates read-only, and a repaired copy of damaged data starts and keeps the data', async () => {
    const root = path.join(tmp, 'node');
    const api = base;
    const db = base + 1;
    const c = await runDemo(root, api, db);
    for (let i = 0; i < 30; i++) await http(`http://${HOST}:${api}/k${i}`, { method: 'PUT', body: `value-${i}` });
    expect(await http(`http://${HOST}:${api}/k7`)).toContain('value-7');
    await stop(c);
    const backend = path.join(root, `${HOST}:${db}`);
    expect(existsSync(backend)).toBe(true);

    const before = hashDir(backend);
    const src = localDirectory(backend);
    const report = await validateDqliteDirectory(src);
    await src.close();
    expect(hashDir(backend)).toEqual(before);
    expect(report).toMatchObject({ engine: 'dqlite', startable: true, dataLoss: false });
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);

    // Damage a copy the way a power cut does: zero fill after the last closed segment.
    const damagedRoot = path.join(tmp, 'damaged');
    const damaged = path.join(damagedRoot, `${HOST}:${db}`);
    cpSync(backend, damaged, { recursive: true });
    const closedNames = readdirSync(damaged)
      .filter((n) => /^\d{16}-\d{16}$/.test(n))
      .sort();
    const last = closedNames[closedNames.length - 1];
    appendFileSync(path.join(damaged, last), Buffer.alloc(4096));
    const dBefore = hashDir(damaged);

    const repairedRoot = path.join(tmp, 'repaired');
    const out = path.join(repairedRoot, `${HOST}:${db}`);
    const res = await writeRepairedCopy(damaged, out);
    expect(hashDir(damaged)).toEqual(dBefore);
    expect(res.report).toMatchObject({ startable: true, dataLoss: true });
    expect(res.plan.startsAfter).toBe(true);
    expect(res.after).toMatchObject({ startable: true, dataLoss: false });
    expect(existsSync(path.join(`${out}.lifeboat-quarantine`, `${last}.orig`))).toBe(true);
    // A second repair into the same parent must not collide with the first one's quarantine.
    const res2 = await writeRepairedCopy(damaged, path.join(repairedRoot, 'second-copy'));
    expect(res2.after).toMatchObject({ startable: true, dataLoss: false });

    const c2 = await runDemo(repairedRoot, api + 2, db);
    const v = await http(`http://${HOST}:${api + 2}/k29`);
    await stop(c2);
    expect(v).toContain('value-29');
  });
});
