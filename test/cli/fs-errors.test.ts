/**
 * File-system trouble on the command line ends in one sentence and exit 2:
 * a symlink loop as the input, an output where no folder can be made (procfs,
 * where Node's own recursive mkdir spins forever), a file system that refuses
 * even root. Never a stack, never a hang, and the input is left as it was.
 */
import { mkdtempSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fsErrorText } from '../../electron/cli-fs-errors';
import { REPO, copyDir, ensureBuilt, hashTree, runCli } from './fixtures';

const SAMPLES = path.join(REPO, 'resources', 'samples');
const isRoot = process.getuid?.() === 0;

let tmp: string;
let etcdDir: string;
let dqliteDir: string;

function oneLine(stderr: string): string {
  // Progress lines go to stderr only on a terminal; here the message is the whole of it.
  expect(stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(stderr).not.toMatch(/node:internal|ErrnoException/);
  return stderr.trim();
}

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-cli-fs-'));
  etcdDir = path.join(tmp, 'etcd');
  dqliteDir = path.join(tmp, 'dqlite');
  await copyDir(path.join(SAMPLES, 'etcd-healthy'), etcdDir);
  await copyDir(path.join(SAMPLES, 'dqlite-healthy'), dqliteDir);
  await fs.symlink(path.join(tmp, 'loop-b'), path.join(tmp, 'loop-a'));
  await fs.symlink(path.join(tmp, 'loop-a'), path.join(tmp, 'loop-b'));
}, 120_000);

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('file-system errors on the command line', () => {
  it.each([
    ['validate', []],
    ['salvage', ['--snapshot', 'OUT/x.db']],
    ['repair', ['--out', 'OUT/r']],
  ])('%s of a symlink loop says it is one', async (command, rest) => {
    const loop = path.join(tmp, 'loop-a');
    const r = await runCli([command, loop, ...rest.map((a) => a.replace('OUT', tmp))]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(`lifeboat: cannot read ${loop}: too many levels of symbolic links (links that point at each other: check them with ls -l)`);
  });

  it.runIf(process.platform === 'linux').each([
    ['etcd repair', () => ['repair', etcdDir, '--out', '/proc/lifeboat-no-such/out'], 'repair failed: no such file or directory: /proc/lifeboat-no-such'],
    ['etcd salvage --out', () => ['salvage', etcdDir, '--out', '/proc/lifeboat-objects'], 'salvage failed: no such file or directory: /proc/lifeboat-objects'],
    ['dqlite repair', () => ['repair', dqliteDir, '--out', '/proc/lifeboat-no-such/out'], 'repair failed: no such file or directory: /proc/lifeboat-no-such'],
    [
      'dqlite salvage',
      () => ['salvage', dqliteDir, '--out', '/proc/lifeboat-no-such/out'],
      'salvage failed: no such file or directory: /proc/lifeboat-no-such',
    ],
  ])('%s into a folder procfs cannot hold ends at once with the path (it used to spin forever)', async (_what, args, said) => {
    const before = { etcd: await hashTree(etcdDir), dqlite: await hashTree(dqliteDir) };
    const started = Date.now();
    const r = await runCli(args());
    // runCli kills after 60 s (code null): a hang fails here.
    expect(r.code).toBe(2);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(oneLine(r.stderr)).toBe(`lifeboat: ${said}`);
    expect({ etcd: await hashTree(etcdDir), dqlite: await hashTree(dqliteDir) }).toEqual(before);
  });

  it.runIf(isRoot && process.platform === 'linux')('a file system that refuses even root says so, not "use sudo"', async () => {
    const r = await runCli(['salvage', etcdDir, '--out', '/sys/kernel/lifeboat-objects']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(
      'lifeboat: salvage failed: operation not permitted: /sys/kernel/lifeboat-objects (refused even to root: a special or read-only file system, or an immutable file; use another path)',
    );
  });

  it('names what happened for each error a file system gives, and passes any other error through', () => {
    const err = (code: string, p = '/var/lib/etcd/member'): NodeJS.ErrnoException => Object.assign(new Error(`${code}: raw`), { code, path: p });
    expect(fsErrorText(err('ENOENT'))).toBe('no such file or directory: /var/lib/etcd/member');
    expect(fsErrorText(err('ENOTDIR'))).toBe('not a directory: /var/lib/etcd/member (a part of the path is a file)');
    expect(fsErrorText(err('ENOSPC', '/mnt/out'))).toBe('no space left on the device: /mnt/out (free some space, or write the output somewhere else)');
    expect(fsErrorText(err('EROFS', '/mnt/out'))).toBe('read-only file system: /mnt/out (write the output somewhere else)');
    expect(fsErrorText(err('EIO'))).toBe(
      'input/output error: /var/lib/etcd/member (the disk may be failing: copy off what can still be read before anything else)',
    );
    expect(fsErrorText(err('EMFILE'))).toBe('too many open files (raise the limit, e.g. ulimit -n 4096, and run it again)');
    expect(fsErrorText(err('EACCES'))).toBe(
      isRoot
        ? 'permission denied: /var/lib/etcd/member (refused even to root: a special or read-only file system, or an immutable file; use another path)'
        : 'permission denied: /var/lib/etcd/member (run as a user that may read or write it, e.g. with sudo)',
    );
    expect(fsErrorText(Object.assign(new Error('ENOENT: no path'), { code: 'ENOENT' }))).toBe('no such file or directory');
    expect(fsErrorText(new Error('the WAL ends mid-record'))).toBe('the WAL ends mid-record');
    expect(fsErrorText('plain')).toBe('plain');
  });
});
