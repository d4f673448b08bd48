/**
 * The bundled samples behave as their descriptions say, with real dqlite-demo
 * as the judge, and the validator agrees with it.
 */
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { validateDqliteDirectory } from '../../shared/formats/dqlite/validate';
import { localDirectory } from '../../electron/services/fs-source';
import { requireDqliteDemo, tryStart } from '../helpers/dqlite-demo';

const samples = path.resolve(__dirname, '../../resources/samples');
const HAVE_DQLITE = requireDqliteDemo();

async function hashDir(dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const n of (await fs.readdir(dir)).sort()) h.update(n).update(await fs.readFile(path.join(dir, n)));
  return h.digest('hex');
}

async function validate(dir: string) {
  const src = localDirectory(dir);
  try {
    return await validateDqliteDirectory(src);
  } finally {
    await src.close();
  }
}

describe('bundled samples', () => {
  it('index.json lists both dqlite samples with i18n keys, and each is small', async () => {
    // The etcd samples (nested member/ dirs) are checked in test/oracle/etcd-samples.test.ts.
    const all = JSON.parse(readFileSync(path.join(samples, 'index.json'), 'utf8')) as { id: string; dir: string; engine: string; titleKey: string }[];
    const index = all.filter((e) => e.engine === 'dqlite');
    expect(index.map((e) => e.id).sort()).toEqual(['dqlite-field-report', 'dqlite-healthy']);
    for (const e of index) {
      expect(e.engine).toBe('dqlite');
      expect(e.titleKey).toMatch(/^sample\./);
      let total = 0;
      for (const f of await fs.readdir(path.join(samples, e.dir))) total += (await fs.stat(path.join(samples, e.dir, f))).size;
      expect(total).toBeLessThan(512 * 1024);
    }
  });

  it.skipIf(!HAVE_DQLITE)('the healthy sample starts in dqlite and the validator says so', async () => {
    const dir = path.join(samples, 'dqlite-healthy');
    const before = await hashDir(dir);
    const report = await validate(dir);
    const real = await tryStart(dir, 15000);
    expect(real.started).toBe(true);
    expect(report.startable).toBe(true);
    expect(report.dataLoss).toBe(false);
    expect(await hashDir(dir)).toBe(before);
  });

  it.skipIf(!HAVE_DQLITE)('the field-report sample fails exactly like the journal line, and starts without the broken segment', async () => {
    const dir = path.join(samples, 'dqlite-field-report');
    const before = await hashDir(dir);
    const report = await validate(dir);
    const real = await tryStart(dir, 15000);
    expect(real.started).toBe(false);
    const line = /load closed segment (\d{16}-0000000014232597): entries batch \d+ starting at byte \d+: entries count in preamble is zero/.exec(real.stderr);
    expect(line).not.toBeNull();
    expect(report.startable).toBe(false);
    expect(report.dqlite?.decision.fatalError).toBe(line![0]);
    expect(await hashDir(dir)).toBe(before);
  });
});
