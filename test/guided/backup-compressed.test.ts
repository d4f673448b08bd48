/**
 * A backup compressed after `etcdctl snapshot save` (`gzip snapshot.db`, as many cron scripts do) is checked on
 * the node through its own tool, read-only: the probe that detection runs on a node is run here as the node's
 * shell would, on a real snapshot compressed by the real tools. A good one "restores once decompressed", is never
 * the newest good backup (etcdctl restores a plain file only), and its command writes it beside itself, never
 * over a file, with the backup's time, so that detection then takes it. Damaged, truncated and tool-less cases
 * say so. Inputs are hashed before and after.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSnapshotDbProbe, newerCompressedBackup, snapshotDbProbeCommand } from '../../shared/node/backup-check';
import type { BackupFile } from '../../shared/contract/node';
import { translateLocal } from '../../shared/i18n';
import { buildEtcdGoldens } from '../helpers/etcd-damage';
import { requireEtcd, tempDir } from '../helpers/etcd';

const haveEtcd = requireEtcd();
const TOOLS = ['gzip', 'bzip2', 'xz', 'zstd'] as const;
const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
if (missing.length > 0 && process.env.CI === 'true') throw new Error(`CI=true but ${missing.join(', ')} missing: apt-get install gzip bzip2 xz-utils zstd`);

let root = '';
let snapshot = Buffer.alloc(0);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The probe as the node runs it (`sh -c`), here; `env` replaces the environment (a PATH without a tool). */
function probe(file: string, env?: NodeJS.ProcessEnv) {
  const r = spawnSync('sh', ['-c', snapshotDbProbeCommand(file)], { encoding: 'utf8', maxBuffer: 1 << 20, ...(env ? { env } : {}) });
  return checkSnapshotDbProbe(r.stdout, r.status, file);
}

beforeAll(async () => {
  if (!haveEtcd) return;
  root = await tempDir('backup-compressed');
  const g = await buildEtcdGoldens(root, [], true);
  snapshot = await fs.readFile(g.snapshotDb!.file);
}, 120_000);
afterAll(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
});

describe.skipIf(!haveEtcd || missing.length > 0)('a compressed etcd backup, probed on the node', () => {
  it.each(TOOLS)('%s: restores once decompressed, and its command writes the plain file beside it', async (kind) => {
    const dir = path.join(root, `ok-${kind}`);
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'snapshot.db'), snapshot);
    const ext = { gzip: 'gz', bzip2: 'bz2', xz: 'xz', zstd: 'zst' }[kind];
    execFileSync(kind, kind === 'zstd' ? ['-q', '--rm', 'snapshot.db'] : [kind === 'bzip2' ? '-z' : '-f', 'snapshot.db'], { cwd: dir });
    const file = path.join(dir, `snapshot.db.${ext}`);
    expect(existsSync(path.join(dir, 'snapshot.db'))).toBe(false);
    // An old time, as a backup taken yesterday has.
    const then = new Date('2026-12-01T03:30:00Z');
    await fs.utimes(file, then, then);
    const before = sha(await fs.readFile(file));

    const v = probe(file);
    expect(v).toMatchObject({ valid: true, compressed: kind, size: snapshot.length });
    const out = path.join(dir, 'snapshot.db');
    expect(v.decompressCommand).toBe(
      `if [ -e '${out}' ]; then ${kind} -dc -- '${file}' | cmp -s - '${out}' || { echo '${out} exists and is not this backup decompressed: move it away first' >&2; false; }; ` +
        `else (umask 077 && set -C && ${kind} -dc -- '${file}' > '${out}') && touch -r '${file}' '${out}'; fi`,
    );
    expect(sha(await fs.readFile(file))).toBe(before);

    // Run as given: the plain snapshot comes out beside it, byte for byte, with the backup's time; it checks good.
    execFileSync('sh', ['-c', v.decompressCommand!]);
    expect(sha(await fs.readFile(out))).toBe(sha(snapshot));
    expect(statSync(out).mtimeMs).toBe(then.getTime());
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(probe(out)).toEqual({ valid: true, size: snapshot.length });
    // Run again over its own output, it succeeds and writes nothing.
    const again = spawnSync('sh', ['-c', v.decompressCommand!], { encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    expect(statSync(out).mtimeMs).toBe(then.getTime());
    // Over another file, it fails, says so, and writes nothing.
    await fs.writeFile(out, 'keep me');
    const other = spawnSync('sh', ['-c', v.decompressCommand!], { encoding: 'utf8' });
    expect(other.status).not.toBe(0);
    expect(other.stderr.trim()).toBe(`${out} exists and is not this backup decompressed: move it away first`);
    expect(await fs.readFile(out, 'utf8')).toBe('keep me');
    expect(sha(await fs.readFile(file))).toBe(before);
  });

  it('renamed without a suffix, gzip’s stored name is used; always a name detection lists', async () => {
    const dir = path.join(root, 'renamed');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'etcd-2026-12-01.db'), snapshot);
    execFileSync('sh', ['-c', 'gzip -c etcd-2026-12-01.db > monday && rm etcd-2026-12-01.db'], { cwd: dir });
    const v = probe(path.join(dir, 'monday'));
    expect(v.valid).toBe(true);
    expect(v.decompressCommand).toContain(`> '${dir}/etcd-2026-12-01.db'`);
    // Its own name first: dated backups in one folder each keep their date (gzip stored snapshot.db for all).
    await fs.copyFile(path.join(dir, 'monday'), path.join(dir, 'etcd-tuesday.gz'));
    expect(probe(path.join(dir, 'etcd-tuesday.gz')).decompressCommand).toContain(`> '${dir}/etcd-tuesday.db'`);
    // No stored name (gzip -n) and no suffix to take off: the file's own name with .db after it.
    execFileSync('sh', ['-c', 'gzip -dc monday | gzip -nc > nameless'], { cwd: dir });
    expect(probe(path.join(dir, 'nameless')).decompressCommand).toContain(`> '${dir}/nameless.db'`);
  });

  it('a compressed snapshot whose hash does not match is refused as such, with no command', async () => {
    const dir = path.join(root, 'bad-hash');
    await fs.mkdir(dir);
    const damaged = Buffer.from(snapshot);
    damaged[5000] = damaged[5000]! ^ 0xff;
    await fs.writeFile(path.join(dir, 'snapshot.db'), damaged);
    execFileSync('gzip', ['snapshot.db'], { cwd: dir });
    const v = probe(path.join(dir, 'snapshot.db.gz'));
    expect(v).toMatchObject({ valid: false, compressed: 'gzip' });
    expect(v.problemText?.key).toBe('guided.upload.problem.hashMismatch');
    expect(v.decompressCommand).toBeUndefined();
  });

  it('a truncated gzip, and a tool the node lacks, are said, not taken for a bad snapshot', async () => {
    const dir = path.join(root, 'broken');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'snapshot.db'), snapshot);
    execFileSync('gzip', ['-k', 'snapshot.db'], { cwd: dir });
    const gz = await fs.readFile(path.join(dir, 'snapshot.db.gz'));
    await fs.writeFile(path.join(dir, 'cut.db.gz'), gz.subarray(0, gz.length >> 1));
    const cut = probe(path.join(dir, 'cut.db.gz'));
    expect(cut).toMatchObject({ valid: false, problemText: { key: 'guided.card.problem.compressedCorrupt', params: { kind: 'gzip' } } });
    expect(translateLocal('zh-CN', cut.problemText!)).toContain('gzip -t');

    // A node without zstd: the coreutils the probe needs, and no zstd.
    execFileSync('zstd', ['-q', '-k', 'snapshot.db'], { cwd: dir });
    const bin = path.join(dir, 'bin');
    await fs.mkdir(bin);
    for (const tool of ['sh', 'head', 'od', 'tr', 'stat', 'tail', 'sha256sum', 'cut', 'wc', 'cat']) {
      const where = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
      await fs.symlink(where, path.join(bin, tool));
    }
    const noTool = probe(path.join(dir, 'snapshot.db.zst'), { PATH: bin });
    expect(noTool).toMatchObject({ valid: false, problemText: { key: 'guided.card.problem.noTool', params: { kind: 'zstd' } } });
    expect(noTool.problem).toBe('compressed with zstd, which is not installed on the node: not checked');
  });
});

describe('which compressed backup the card offers', () => {
  const b = (p: string, valid: boolean | null, compressed?: BackupFile['compressed']): BackupFile => ({
    path: p,
    bytes: 1,
    mtime: '2026-12-01T00:00:00Z',
    valid,
    foundBy: 'search',
    ...(compressed ? { compressed, decompressCommand: `decompress ${p}` } : {}),
  });
  it('a good compressed one newer than the newest good plain one, or with none', () => {
    expect(newerCompressedBackup([b('/a.gz', true, 'gzip'), b('/b.db', true)], '/b.db')?.path).toBe('/a.gz');
    expect(newerCompressedBackup([b('/b.db', true), b('/a.gz', true, 'gzip')], '/b.db')).toBeNull();
    expect(newerCompressedBackup([b('/x.gz', false, 'gzip'), b('/a.xz', true, 'xz')], null)?.path).toBe('/a.xz');
    expect(newerCompressedBackup([b('/x.gz', false, 'gzip')], null)).toBeNull();
  });
});
