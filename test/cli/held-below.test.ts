/**
 * The folder above a data directory picked or copied by mistake (`/var/lib`
 * for `/var/lib/etcd`, `.../var/kubernetes` for its `backend/`, k3s's
 * `server/` for `db/`): no verdict, but which folder to validate instead, with
 * the command, in both languages. Inputs hashed before and after.
 */
import { mkdtempSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ValidationReport } from '../../shared/contract/report';
import { translate } from '../../shared/i18n';
import { REPO, copyDir, ensureBuilt, hashTree, runCli } from './fixtures';

const SAMPLES = path.join(REPO, 'resources', 'samples');
let tmp: string;

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-held-below-'));
  // A copy of /var/lib: etcd's data dir among folders that are no datastore.
  await copyDir(path.join(SAMPLES, 'etcd-healthy'), path.join(tmp, 'varlib', 'etcd'));
  for (const other of ['apt', 'dpkg', 'containerd']) await fs.mkdir(path.join(tmp, 'varlib', other), { recursive: true });
  await fs.writeFile(path.join(tmp, 'varlib', 'dpkg', 'status'), 'Package: etcd-server\n');
  // MicroK8s's var/kubernetes with backend/ in it.
  await copyDir(path.join(SAMPLES, 'dqlite-healthy'), path.join(tmp, 'kubernetes', 'backend'));
  // k3s's server/ with db/state.db.
  await fs.mkdir(path.join(tmp, 'server', 'db'), { recursive: true });
  await fs.writeFile(path.join(tmp, 'server', 'db', 'state.db'), 'SQLite format 3\u0000');
  await fs.mkdir(path.join(tmp, 'server', 'tls'));
  await fs.mkdir(path.join(tmp, 'nothing', 'inside'), { recursive: true });
});

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

async function validateJson(dir: string): Promise<ValidationReport> {
  const r = await runCli(['validate', '--json', dir]);
  expect(r.code).toBe(1);
  return JSON.parse(r.stdout) as ValidationReport;
}

describe('a folder that holds a data directory one level down', () => {
  it.each([
    ['varlib', 'etcd/', 'etcd', 'etcd'],
    ['kubernetes', 'backend/', 'dqlite', 'backend'],
    ['server', 'db/', 'k3s', 'db'],
  ])('%s: says %s is a data directory (%s), with the command that validates it', async (parent, folder, kind, sub) => {
    const dir = path.join(tmp, parent);
    const before = await hashTree(dir);
    const report = await validateJson(dir);
    const command = `lifeboat validate '${path.join(dir, sub)}'`;
    expect(report.engine).toBe('unknown');
    expect(report.findings).toEqual([
      {
        severity: 'info',
        code: 'engine.holds',
        file: folder,
        offset: null,
        message: `Not a datastore directory itself, but ${folder} inside it is a data directory (${kind}): validate that folder instead (${command}).`,
        params: { folder, kind, command },
      },
    ]);
    expect(report.summary).toBe(report.findings[0]!.message);
    expect(translate('zh-CN', report.summaryText!.key, report.summaryText!.params)).toBe(
      `这里本身不是数据存储目录，但其中的 ${folder} 是数据目录（${kind}）：请改为校验该目录（${command}）。`,
    );
    // The text report says the same, and the named folder is what it says.
    const text = await runCli(['validate', dir]);
    expect(text.stdout).toContain(report.summary);
    if (kind !== 'k3s') {
      const inner = JSON.parse((await runCli(['validate', '--json', path.join(dir, sub)])).stdout) as ValidationReport;
      expect(inner.engine).toBe(kind);
      expect(inner.startable).toBe(true);
    }
    expect(await hashTree(dir)).toEqual(before);
  });

  it('a folder with no data directory below stays "not a datastore directory"', async () => {
    const report = await validateJson(path.join(tmp, 'nothing'));
    expect(report.findings.map((f) => f.code)).toEqual(['engine.unknown']);
  });
});
