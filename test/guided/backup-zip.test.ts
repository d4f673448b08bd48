/**
 * A zip snapshot, as k3s and RKE2 write with `--etcd-snapshot-compress` (one file, the snapshot under its own
 * name), checked on the node read-only: the probe that detection runs is run here as the node's shell would, on a
 * real `etcdctl snapshot save` file zipped by the real `zip`. Read through `unzip`, or through Python's zipfile on
 * a node without it (a PATH without unzip); a node with neither, a damaged zip, a zip of several files and a
 * zipped snapshot whose hash is wrong are each said as what they are. The command that unpacks it beside itself
 * writes the exact snapshot. Inputs are hashed before and after.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSnapshotDbProbe, snapshotDbProbeCommand } from '../../shared/node/backup-check';
import { translateLocal } from '../../shared/i18n';
import { buildEtcdGoldens } from '../helpers/etcd-damage';
import { requireEtcd, tempDir } from '../helpers/etcd';

const haveEtcd = requireEtcd();
const TOOLS = ['zip', 'unzip', 'python3'] as const;
const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
if (missing.length > 0 && process.env.CI === 'true') throw new Error(`CI=true but ${missing.join(', ')} missing: apt-get install zip unzip python3`);

/** What the probe and the unpack command use besides unzip and python3. */
const BASE_TOOLS = ['sh', 'head', 'od', 'tr', 'stat', 'tail', 'sha256sum', 'cut', 'wc', 'cat', 'cmp', 'touch'];

let root = '';
let snapshot = Buffer.alloc(0);
let damaged = Buffer.alloc(0);
/** A PATH without unzip (Python's zipfile reads the zip), and one with neither. */
let pythonOnly = '';
let neither = '';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function probe(file: string, PATH?: string) {
  const r = spawnSync('sh', ['-c', snapshotDbProbeCommand(file)], { encoding: 'utf8', maxBuffer: 1 << 20, ...(PATH ? { env: { PATH } } : {}) });
  return checkSnapshotDbProbe(r.stdout, r.status, file);
}

/** A bin dir of symlinks to this machine's tools. */
async function binDir(name: string, tools: string[]): Promise<string> {
  const bin = path.join(root, name);
  await fs.mkdir(bin);
  for (const tool of tools) {
    // The interpreter itself, not a version manager's shim that needs its own environment.
    const where =
      tool === 'python3'
        ? execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim()
        : execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
    await fs.symlink(where, path.join(bin, tool));
  }
  return bin;
}

/** `name`.zip in `dir` holding `content` as `name` (k3s's layout), with an old time, and the zip's hash. */
async function k3sZip(dir: string, name: string, content: Buffer): Promise<{ file: string; hash: string; then: Date }> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, name), content);
  execFileSync('zip', ['-q', '-m', `${name}.zip`, name], { cwd: dir });
  const file = path.join(dir, `${name}.zip`);
  const then = new Date('2026-12-01T00:00:00Z');
  await fs.utimes(file, then, then);
  return { file, hash: sha(await fs.readFile(file)), then };
}

beforeAll(async () => {
  if (!haveEtcd || missing.length > 0) return;
  root = await tempDir('backup-zip');
  const g = await buildEtcdGoldens(root, [], true);
  snapshot = await fs.readFile(g.snapshotDb!.file);
  damaged = Buffer.from(snapshot);
  damaged[5000] = damaged[5000]! ^ 0xff;
  pythonOnly = await binDir('bin-python', [...BASE_TOOLS, 'python3']);
  neither = await binDir('bin-neither', BASE_TOOLS);
}, 120_000);
afterAll(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
});

describe.skipIf(!haveEtcd || missing.length > 0)('a k3s zip snapshot, probed on the node', () => {
  it.each([
    ['unzip', undefined],
    ['python3', 'python-only'],
  ] as const)('read with %s: it restores, and its unpack command writes the exact snapshot beside it', async (tool, which) => {
    const PATH = which ? pythonOnly : undefined;
    const { file, hash, then } = await k3sZip(path.join(root, `ok-${tool}`), 'etcd-snapshot-cp1-1765200000', snapshot);
    const v = probe(file, PATH);
    expect(v).toMatchObject({ valid: true, compressed: 'zip', size: snapshot.length });
    const out = `${file.slice(0, -'.zip'.length)}.db`;
    expect(v.decompressedPath).toBe(out);
    expect(v.decompressCommand).toContain(tool === 'unzip' ? `unzip -p '${file}'` : `python3 -c 'import sys,zipfile,shutil;`);
    expect(sha(await fs.readFile(file))).toBe(hash);

    // Run as given, with the same tools: the snapshot byte for byte, owner-only, with the zip's time; it checks good.
    const run = spawnSync('sh', ['-c', v.decompressCommand!], { encoding: 'utf8', ...(PATH ? { env: { PATH } } : {}) });
    expect(run.status, run.stderr).toBe(0);
    expect(sha(await fs.readFile(out))).toBe(sha(snapshot));
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(statSync(out).mtimeMs).toBe(then.getTime());
    expect(probe(out)).toEqual({ valid: true, size: snapshot.length });
    expect(sha(await fs.readFile(file))).toBe(hash);
  });

  it('a zipped snapshot whose hash does not match is refused as such, with no command', async () => {
    const { file, hash } = await k3sZip(path.join(root, 'bad-hash'), 'on-demand-cp1-1765100000', damaged);
    for (const PATH of [undefined, pythonOnly]) {
      const v = probe(file, PATH);
      expect(v).toMatchObject({ valid: false, compressed: 'zip', problemText: { key: 'guided.upload.problem.hashMismatch' } });
      expect(v.decompressCommand).toBeUndefined();
    }
    expect(sha(await fs.readFile(file))).toBe(hash);
  });

  it('a cut zip, a zip of two files, and a node with neither unzip nor python3 are said as what they are', async () => {
    const dir = path.join(root, 'odd');
    const { file } = await k3sZip(dir, 'etcd-snapshot-cp1-1765000000', snapshot);
    const zipBytes = await fs.readFile(file);
    const cut = path.join(dir, 'cut.zip');
    await fs.writeFile(cut, zipBytes.subarray(0, zipBytes.length >> 1));
    const viaUnzip = probe(cut);
    expect(viaUnzip).toMatchObject({ valid: false, problemText: { key: 'guided.card.problem.zipCorrupt', params: { tool: 'unzip' } } });
    expect(viaUnzip.problem).toBe('compressed with zip, and the zip file is damaged (unzip finds errors in it)');
    expect(probe(cut, pythonOnly)).toMatchObject({ valid: false, problemText: { key: 'guided.card.problem.zipCorrupt', params: { tool: 'python3' } } });

    // A zip someone made of a folder: which of its files would be the snapshot is not guessed.
    await fs.writeFile(path.join(dir, 'notes.txt'), 'taken before the upgrade\n');
    await fs.copyFile(file, path.join(dir, 'two.zip'));
    execFileSync('zip', ['-q', 'two.zip', 'notes.txt'], { cwd: dir });
    for (const PATH of [undefined, pythonOnly]) {
      const two = probe(path.join(dir, 'two.zip'), PATH);
      expect(two).toMatchObject({ valid: false, compressed: 'zip', problemText: { key: 'guided.card.problem.zipMembers', params: { count: '2' } } });
      expect(translateLocal('zh-CN', two.problemText!)).toBe('该 zip 含有 2 个文件，而快照 zip 只含一个：未检查');
    }

    const none = probe(file, neither);
    expect(none).toMatchObject({ valid: false, problemText: { key: 'guided.card.problem.noZipTool' } });
    expect(none.problem).toBe('compressed with zip, and the node has neither unzip nor python3 to read it: not checked');
  });
});
