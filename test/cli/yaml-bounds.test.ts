/**
 * Issue 11's reproducer as the user met it: `lifeboat validate` on a backend
 * whose info.yaml is the 15 KB alias file (over 100 s before) answers with a
 * finding on info.yaml, the same verdict as without it, and leaves the
 * directory byte for byte as it was.
 */
import { mkdtempSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ValidationReport } from '../../shared/contract/report';
import { REPO, copyDir, ensureBuilt, hashTree, runCli } from './fixtures';

let tmp = '';

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-yaml-'));
}, 300_000);

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('lifeboat validate with hostile membership YAML', () => {
  it('the 15 KB alias info.yaml is a finding, not a hang; the verdict and the files are unchanged', { timeout: 120_000 }, async () => {
    const healthy = path.join(tmp, 'healthy');
    const bomb = path.join(tmp, 'bomb');
    await copyDir(path.join(REPO, 'resources/samples/dqlite-healthy'), healthy);
    await copyDir(healthy, bomb);
    await fs.writeFile(path.join(bomb, 'info.yaml'), `a: &a [${'*a,'.repeat(5000)}]`);
    const before = await hashTree(bomb);

    const base = JSON.parse((await runCli(['validate', healthy, '--json'])).stdout) as ValidationReport;
    const r = await runCli(['validate', bomb, '--json']);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as ValidationReport;
    expect(report.findings.filter((f) => f.code === 'membership.yaml-out-of-bounds')).toEqual([
      expect.objectContaining({ severity: 'warning', file: 'info.yaml', offset: 7 }),
    ]);
    expect(report.startable).toBe(base.startable);
    expect(report.dataLoss).toBe(base.dataLoss);
    expect(await hashTree(bomb)).toEqual(before);
  });
});
