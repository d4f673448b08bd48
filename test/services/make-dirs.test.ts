import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDirs } from '../../electron/services/make-dirs';

/** The error a promise rejects with, or null; failing the test if it has not settled within `ms` (the bug was a hang). */
async function rejection(p: Promise<unknown>, ms = 5_000): Promise<NodeJS.ErrnoException | null> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), ms)));
  try {
    const settled = await Promise.race([
      p.then(
        () => null,
        (err: NodeJS.ErrnoException) => err,
      ),
      hang,
    ]);
    if (settled === 'hang') throw new Error(`still pending after ${ms} ms`);
    return settled;
  } finally {
    clearTimeout(timer);
  }
}

describe('makeDirs: mkdir -p that always ends', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-make-dirs-'));
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('makes every missing directory with the mode, and is content with one that exists', async () => {
    const deep = path.join(tmp, 'a', 'b', 'c');
    await makeDirs(deep, 0o700);
    for (const d of [path.join(tmp, 'a'), path.join(tmp, 'a', 'b'), deep]) {
      const st = await fs.stat(d);
      expect(st.isDirectory()).toBe(true);
      expect(st.mode & 0o777).toBe(0o700);
    }
    await fs.writeFile(path.join(deep, 'kept'), 'x');
    await makeDirs(deep, 0o700);
    // Through a link to a directory too, as `mkdir -p` follows it.
    await fs.symlink(deep, path.join(tmp, 'link'));
    await makeDirs(path.join(tmp, 'link', 'd'));
    expect((await fs.readdir(deep)).sort()).toEqual(['d', 'kept']);
  });

  it('a relative path is made from the working directory', async () => {
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      await makeDirs(path.join('rel', 'x'));
    } finally {
      process.chdir(cwd);
    }
    expect((await fs.stat(path.join(tmp, 'rel', 'x'))).isDirectory()).toBe(true);
  });

  it('a file in the way is the error: EEXIST at the path itself, ENOTDIR above it', async () => {
    const file = path.join(tmp, 'file');
    await fs.writeFile(file, 'x');
    expect((await rejection(makeDirs(file)))?.code).toBe('EEXIST');
    const below = await rejection(makeDirs(path.join(file, 'x', 'y')));
    expect(below?.code).toBe('ENOTDIR');
    expect(await fs.readFile(file, 'utf8')).toBe('x');
  });

  it('a parent that is a dangling link ends in ENOENT naming the directory', async () => {
    await fs.symlink(path.join(tmp, 'unmounted'), path.join(tmp, 'usb'));
    const err = await rejection(makeDirs(path.join(tmp, 'usb', 'recovery', 'out')));
    expect(err?.code).toBe('ENOENT');
    expect(err?.path).toBe(path.join(tmp, 'usb', 'recovery'));
  });

  // Node's own recursive mkdir spins here forever (procfs answers ENOENT for a child of a directory that exists).
  it.runIf(process.platform === 'linux')('a path under /proc ends in ENOENT at once instead of spinning', async () => {
    const err = await rejection(makeDirs('/proc/lifeboat-no-such/out', 0o700));
    expect(err?.code).toBe('ENOENT');
    expect(err?.path).toBe('/proc/lifeboat-no-such');
    expect((await rejection(makeDirs('/proc/lifeboat-out')))?.code).toBe('ENOENT');
  });
});
