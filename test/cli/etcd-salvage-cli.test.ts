/**
 * `lifeboat salvage` and the etcd path of `lifeboat repair` through the built
 * CLI (node bin/lifeboat.cjs) on the field report's damage: exit codes, the
 * --json report, the exported object files (secrets 0600), refusals that
 * protect the evidence. Inputs are hashed before and after.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EtcdRepairResult, SalvageReport } from '../../shared/contract/etcd-repair';
import { CLI, ensureBuilt, runCli, runCommand } from './fixtures';
import { copyDir, hashTree, makeGolden, requireEtcd, tempDir, tryStartEtcd, type EtcdGolden } from '../helpers/etcd';
import { ETCD_DAMAGE_CASES } from '../helpers/etcd-damage';
import { restoreAndRead } from '../helpers/etcd-restore';

const HAVE_ETCD = requireEtcd();

describe.skipIf(!HAVE_ETCD)('lifeboat salvage / repair on etcd', () => {
  let work = '';
  let golden: EtcdGolden;
  let broken = '';
  beforeAll(async () => {
    await ensureBuilt();
    work = await tempDir('etcd-salvage-cli');
    golden = await makeGolden(path.join(work, 'golden'), { keys: 120, valueSize: 80 });
    broken = path.join(work, 'broken');
    await copyDir(golden.dir, broken);
    await ETCD_DAMAGE_CASES.find((c) => c.name === 'bbolt: branch element points at page 0')!.damage(broken);
  }, 120_000);
  afterAll(async () => {
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('salvage --snapshot --json: exit 0, every key written, restorable; the input unchanged', async () => {
    const before = await hashTree(broken);
    const out = path.join(work, 'salvaged.db');
    const r = await runCli(['salvage', broken, '--snapshot', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as SalvageReport;
    expect(report.keysWritten).toBe(golden.keys.size);
    expect(report.lost).toEqual([]);
    expect(report.keys.map((k) => k.key).sort()).toEqual([...golden.keys.keys()].sort());
    expect(report.keys.every((k) => k.source === 'tree' || k.source === 'orphaned-leaf' || k.source === 'wal')).toBe(true);
    expect(await hashTree(broken)).toBe(before);
    const restored = await restoreAndRead(out, work);
    expect(restored.started).toBe(true);
    for (const [k, v] of golden.keys) expect(Buffer.from(restored.keys!.get(k) ?? []).toString(), k).toBe(v);
    // Never overwrite: a second run into the same file is refused.
    const again = await runCli(['salvage', broken, '--snapshot', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists');
  }, 120_000);

  it('salvage --out: one file per object by resource and namespace, secrets 0600 and marked', async () => {
    const before = await hashTree(broken);
    const out = path.join(work, 'objects');
    const r = await runCli(['salvage', broken, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Exported 120 objects/);
    // Not a terminal: no progress line in a pipe or a log.
    expect(r.stderr).toBe('');
    const [key, value] = [...golden.keys].find(([k]) => k.startsWith('/registry/secrets/kube-system/'))!;
    const file = path.join(out, 'secrets', 'kube-system', `${key.split('/').pop()}.yaml`);
    const st = await fs.stat(file);
    expect(st.mode & 0o777).toBe(0o600);
    const doc = parse(await fs.readFile(file, 'utf8')) as { lifeboat: { etcdKey: string; secret: boolean; rawValueBase64: string } };
    expect(doc.lifeboat.etcdKey).toBe(key);
    expect(doc.lifeboat.secret).toBe(true);
    expect(Buffer.from(doc.lifeboat.rawValueBase64, 'base64').toString()).toBe(value);
    // The same --out again, now holding the objects: refused, nothing written over.
    const again = await runCli(['salvage', broken, '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`lifeboat: refusing: --out ${out} exists and is not empty\n`);
    expect((await fs.stat(file)).mtimeMs).toBe(st.mtimeMs);
    const [cmKey] = [...golden.keys].find(([k]) => k.startsWith('/registry/configmaps/default/'))!;
    const cm = await fs.stat(path.join(out, 'configmaps', 'default', `${cmKey.split('/').pop()}.yaml`));
    expect(cm.mode & 0o777).toBe(0o644);
    expect(await hashTree(broken)).toBe(before);
  }, 120_000);

  it('in a terminal, salvage --out and --snapshot show what they are doing on one progress line, cleared before the result', async () => {
    const before = await hashTree(broken);
    const q = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
    for (const [args, phase] of [
      [['--out', path.join(work, 'objects-tty')], 'export: writing objects'],
      [['--snapshot', path.join(work, 'tty.db')], 'salvage: '],
    ] as const) {
      // script(1) gives the CLI a pseudo-terminal for stdout and stderr, as an operator's shell does.
      const cmd = [process.execPath, CLI, 'salvage', broken, ...args].map(q).join(' ');
      const r = await runCommand('script', ['-qec', cmd, '/dev/null']);
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).toContain(`\r\x1b[2K${phase}`);
      // The line is erased before the result is printed.
      const erase = '\r\x1b[2K';
      expect(r.stdout).toContain(`${erase}${args[0] === '--out' ? 'Exported 120 objects' : 'Salvaged '}`);
    }
    expect(await hashTree(broken)).toBe(before);
  }, 120_000);

  it('repair --out --json on the field report: etcd starts on the copy and serves every key', async () => {
    const before = await hashTree(broken);
    const out = path.join(work, 'repaired');
    const r = await runCli(['repair', broken, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as EtcdRepairResult;
    expect(result.dbStrategy === 'rebuild' || result.dbStrategy === 'revert-meta').toBe(true);
    expect(result.lost).toEqual([]);
    expect(await hashTree(broken)).toBe(before);
    expect(existsSync(path.join(out, 'member', 'snap', 'db'))).toBe(true);
    const started = await tryStartEtcd(golden.startOptions(out), 30_000);
    expect(started.started, started.output.slice(-2000)).toBe(true);
    expect(started.keys).toEqual(golden.keys);
    // --out inside the input is refused.
    const inside = await runCli(['repair', broken, '--out', path.join(broken, 'x')]);
    expect(inside.code).toBe(2);
  }, 120_000);

  it('usage errors exit 2', async () => {
    expect((await runCli(['salvage', broken])).code).toBe(2);
    expect((await runCli(['salvage', broken, '--snapshot', 'a', '--out', 'b'])).code).toBe(2);
    expect((await runCli(['salvage', path.join(work, 'nope'), '--snapshot', path.join(work, 'n.db')])).code).toBe(2);
    // A --snapshot in a folder that does not exist: said at once, with the folder and how to make it; nothing made.
    const missing = path.join(work, 'no-such-folder', 'deeper');
    const r = await runCli(['salvage', broken, '--snapshot', path.join(missing, 'snapshot.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`the folder for --snapshot ${path.join(missing, 'snapshot.db')} does not exist (${missing}): create it (mkdir -p ${missing})`);
    expect(existsSync(path.join(work, 'no-such-folder'))).toBe(false);
  });
});
