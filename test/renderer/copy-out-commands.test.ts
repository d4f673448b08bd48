/**
 * The copy-out and journal commands the listing view and the node panel
 * suggest for the operator's own shell, in both forms ("a user with sudo",
 * "root (no sudo)"): their exact texts, and that each pastes and runs as it
 * is in a real `sh` against a real directory (odd names included): the
 * tarball holds exactly the named files (or the whole directory) byte for
 * byte, belongs to the user who ran it, `sha256sum` prints its real hash, and
 * the directory is unchanged. The sudo form runs with the machine's sudo when
 * it lets this user in without a password; otherwise with a pass-through
 * `sudo` on PATH (the text and quoting are what is tested then).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  copyAllCommand,
  copyCommandFor,
  copyOutCommand,
  journalCommand,
  JOURNAL_COMMAND,
  MAX_NAMED_FILES,
  type ShellPrivilege,
} from '../../renderer/src/features/listing/copy-out';
import { hashTree } from '../cli/fixtures';

const FILES: Record<string, Buffer> = {
  '0000000014232389-0000000014232597': Buffer.alloc(70_000, 7),
  metadata1: Buffer.from('metadata one'),
  "it's here": Buffer.from('a name with a quote and a space'),
  '-starts-with-dash': Buffer.from('a name that looks like an option'),
  'snapshot-1-2-3.meta': Buffer.from('kept out of the named copy'),
};
const NAMED = ['0000000014232389-0000000014232597', 'metadata1', "it's here", '-starts-with-dash'];

let tmp: string;
let backend: string;
let shim: string;
const realSudo = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-copy-cmd-'));
  backend = path.join(tmp, 'var', 'backend');
  await fs.mkdir(backend, { recursive: true });
  for (const [name, bytes] of Object.entries(FILES)) await fs.writeFile(path.join(backend, name), bytes);
  shim = path.join(tmp, 'shim');
  await fs.mkdir(shim);
  await fs.writeFile(path.join(shim, 'sudo'), '#!/bin/sh\nexec "$@"\n', { mode: 0o755 });
});

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

/** Run `command` as pasted into `sh`, with a fresh home; returns the home and what sh printed. */
async function runPasted(command: string, as: ShellPrivilege): Promise<{ home: string; stdout: string }> {
  const home = await fs.mkdtemp(path.join(tmp, `home-${as}-`));
  const PATH = as === 'sudo' && !realSudo ? `${shim}:${process.env.PATH ?? ''}` : (process.env.PATH ?? '');
  const r = spawnSync('sh', ['-eu'], { input: command + '\n', encoding: 'utf8', env: { HOME: home, PATH } });
  expect(r.status, r.stderr).toBe(0);
  return { home, stdout: r.stdout };
}

/** The tarball's members and their bytes (extracted by the system tar into a scratch dir). */
async function unpack(tarball: string): Promise<Record<string, Buffer>> {
  const out = await fs.mkdtemp(path.join(tmp, 'unpacked-'));
  const r = spawnSync('tar', ['-xzf', tarball, '-C', out], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const found: Record<string, Buffer> = {};
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p, `${rel}${e.name}/`);
      else found[`${rel}${e.name}`] = await fs.readFile(p);
    }
  };
  await walk(out, '');
  return found;
}

/** The tarball is in the home sh was given, printed with its real SHA-256, and owned by the user who ran the lines. */
async function checkTarball(home: string, stdout: string, name: string): Promise<void> {
  const tarball = path.join(home, name);
  const bytes = await fs.readFile(tarball);
  expect(stdout).toBe(`${createHash('sha256').update(bytes).digest('hex')}  ${tarball}\n`);
  const st = await fs.stat(tarball);
  expect(st.uid).toBe(process.getuid?.());
}

describe('suggested copy-out commands for the operator’s shell', () => {
  it('say sudo through sudo, nothing of sudo as root, and hand the tarball to the user', () => {
    expect(copyOutCommand(['metadata1', "it's here"], '/data/backend', 'sudo')).toBe(
      "sudo tar -C /data/backend -czf ~/lifeboat-backend-files.tar.gz -- metadata1 'it'\\''s here'\n" +
        'sudo chown "$(id -u):$(id -g)" ~/lifeboat-backend-files.tar.gz\n' +
        'sha256sum ~/lifeboat-backend-files.tar.gz',
    );
    expect(copyOutCommand(['metadata1', "it's here"], '/data/backend', 'root')).toBe(
      "tar -C /data/backend -czf ~/lifeboat-backend-files.tar.gz -- metadata1 'it'\\''s here'\nsha256sum ~/lifeboat-backend-files.tar.gz",
    );
    expect(copyAllCommand('/data/my backend/', 'root')).toBe(
      "tar -C /data -czf ~/lifeboat-backend.tar.gz -- 'my backend'\nsha256sum ~/lifeboat-backend.tar.gz",
    );
    expect(copyAllCommand('/data/backend', 'sudo')).toBe(
      'sudo tar -C /data -czf ~/lifeboat-backend.tar.gz -- backend\nsudo chown "$(id -u):$(id -g)" ~/lifeboat-backend.tar.gz\nsha256sum ~/lifeboat-backend.tar.gz',
    );
    // Nothing in particular to name: the whole directory (tar refuses to write an empty archive).
    expect(copyCommandFor([], '/d/b', 'root')).toBe(copyAllCommand('/d/b', 'root'));
    // The default (before the user picks) is the sudo form, as before.
    expect(copyCommandFor(['a'])).toBe(copyOutCommand(['a'], undefined, 'sudo'));
    expect(
      copyCommandFor(
        Array.from({ length: MAX_NAMED_FILES + 1 }, (_, i) => `f${i}`),
        '/d/b',
        'root',
      ),
    ).toBe(copyAllCommand('/d/b', 'root'));
    for (const files of [['a'], Array.from({ length: MAX_NAMED_FILES + 1 }, (_, i) => `f${i}`)])
      expect(copyCommandFor(files, '/d/b', 'root')).not.toMatch(/\bsudo\b/);
    expect(journalCommand('sudo')).toBe('sudo journalctl -u snap.microk8s.daemon-k8s-dqlite -n 50 --no-pager');
    expect(journalCommand('root')).toBe('journalctl -u snap.microk8s.daemon-k8s-dqlite -n 50 --no-pager');
    expect(JOURNAL_COMMAND).toBe(journalCommand('sudo'));
  });

  for (const as of ['sudo', 'root'] as const) {
    it(`the named files, ${as} form, run as pasted in sh: exactly those files, their bytes, the real hash`, async () => {
      const before = await hashTree(backend);
      const { home, stdout } = await runPasted(copyOutCommand(NAMED, backend, as), as);
      await checkTarball(home, stdout, 'lifeboat-backend-files.tar.gz');
      const got = await unpack(path.join(home, 'lifeboat-backend-files.tar.gz'));
      expect(Object.keys(got).sort()).toEqual([...NAMED].sort());
      for (const n of NAMED) expect(got[n].equals(FILES[n]), n).toBe(true);
      expect(await hashTree(backend)).toEqual(before);
    });

    it(`the whole directory, ${as} form, run as pasted in sh: every file under the directory's own name`, async () => {
      const before = await hashTree(backend);
      const { home, stdout } = await runPasted(copyAllCommand(backend, as), as);
      await checkTarball(home, stdout, 'lifeboat-backend.tar.gz');
      const got = await unpack(path.join(home, 'lifeboat-backend.tar.gz'));
      expect(Object.keys(got).sort()).toEqual(
        Object.keys(FILES)
          .map((n) => `backend/${n}`)
          .sort(),
      );
      for (const [n, bytes] of Object.entries(FILES)) expect(got[`backend/${n}`].equals(bytes), n).toBe(true);
      expect(await hashTree(backend)).toEqual(before);
    });
  }
});
