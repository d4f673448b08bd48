/**
 * A local directory keeps at most MAX_OPEN_FILES descriptors open: a backend
 * with more files than the process may open (ulimit -n) used to fail
 * validation with EMFILE halfway through. A file closed for the budget is
 * opened again when read, and only if it is still the same file.
 */
import { promises as fs, readdirSync, renameSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescriptorBudget, localDirectory, MAX_OPEN_FILES } from '../../electron/services/fs-source';
import { rangesText } from '../../shared/formats/dqlite/repair-plan';
import { validateLocally } from '../helpers/validate-local';

const FILES = MAX_OPEN_FILES * 3;
const openFds = (): number => readdirSync('/proc/self/fd').length;
const content = (i: number): string => `file ${i} `.repeat(1 + (i % 7));

let tmp: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-fd-budget-'));
  await fs.mkdir(path.join(tmp, 'files'));
  for (let i = 0; i < FILES; i++) writeFileSync(path.join(tmp, 'files', `f${i}`), content(i));
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe.runIf(process.platform === 'linux')('the descriptor budget of a local directory', () => {
  it('reads more files than the budget, in order and all at once, with at most the budget open, then closes them all', async () => {
    const before = openFds();
    const budget = new DescriptorBudget(MAX_OPEN_FILES);
    const dir = localDirectory(path.join(tmp, 'files'), budget);
    const sources = [];
    for (let i = 0; i < FILES; i++) {
      const src = await dir.open(`f${i}`);
      sources.push(src);
      expect(new TextDecoder().decode(await src.read(0, src.size))).toBe(content(i));
      expect(budget.openCount).toBeLessThanOrEqual(MAX_OPEN_FILES);
    }
    expect(openFds() - before).toBeLessThanOrEqual(MAX_OPEN_FILES + 2);
    // Every source is still usable, the early ones reopened; reads in flight on more files than the budget at once
    // hold a descriptor each while they run, and the budget is kept again as they end.
    const texts = await Promise.all(sources.map(async (s) => new TextDecoder().decode(await s.read(0, s.size))));
    expect(texts).toEqual(sources.map((_, i) => content(i)));
    expect(budget.openCount).toBeLessThanOrEqual(MAX_OPEN_FILES);
    expect(openFds() - before).toBeLessThanOrEqual(MAX_OPEN_FILES + 2);
    await dir.close();
    expect(openFds()).toBe(before);
  });

  it('a file replaced while its descriptor was closed is an error, never the other file’s bytes', async () => {
    const budget = new DescriptorBudget(2);
    const dir = localDirectory(path.join(tmp, 'files'), budget);
    try {
      const first = await dir.open('f0');
      expect(new TextDecoder().decode(await first.read(0, 6))).toBe('file 0');
      // Two more files push f0 out of the budget.
      await (await dir.open('f1')).read(0, 1);
      await (await dir.open('f2')).read(0, 1);
      writeFileSync(path.join(tmp, 'f0.new'), 'other bytes');
      renameSync(path.join(tmp, 'f0.new'), path.join(tmp, 'files', 'f0'));
      await expect(first.read(0, 6)).rejects.toThrow(/f0 was replaced by another file while it was being read/);
    } finally {
      await dir.close();
    }
  });

  it('validates a backend of 20,000 one-entry segments (none loads) in one pass: every file, bounded descriptors, a readable plan', async () => {
    const dir = path.join(tmp, 'backend');
    await fs.mkdir(dir);
    const n = 20_000;
    for (let i = 0; i < n; i++) writeFileSync(path.join(dir, `${String(i + 1).padStart(16, '0')}-${String(i + 1).padStart(16, '0')}`), '');
    const report = await validateLocally(dir);
    expect(report.engine).toBe('dqlite');
    expect(report.startable).toBe(false);
    const plan = report.dqlite!.repair;
    expect(plan.steps.filter((s) => s.kind === 'quarantine' && s.file !== undefined)).toHaveLength(n);
    // The summary names the lost ranges merged and cut short; the plan's list keeps every one.
    expect(plan.lost.length).toBeGreaterThanOrEqual(n);
    expect(plan.summary.length).toBeLessThan(600);
  }, 120_000);

  it('says lost ranges merged and cut short', () => {
    expect(rangesText([])).toBe('');
    expect(
      rangesText([
        { first: 5, last: 9 },
        { first: 1, last: 2 },
        { first: 2, last: 3 },
        { first: 10, last: 12 },
        { first: 20, last: 20 },
      ]),
    ).toBe('1..3, 5..12, 20..20');
    const many = Array.from({ length: 20 }, (_, i) => ({ first: i * 10, last: i * 10 + 1 }));
    expect(rangesText(many)).toBe('0..1, 10..11, 20..21, 30..31, 40..41, 50..51, 60..61, 70..71, …');
  });
});
