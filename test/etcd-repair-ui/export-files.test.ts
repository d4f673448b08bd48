/**
 * The export's file writer: the names a clash gets (`name`, `name~2`, ...) follow the order the objects were handed
 * in, an existing file is never overwritten, modes are exact, and a failed write is told (real files in a temp dir).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeObjectFile } from '../../electron/services/object-files';

describe('writeObjectFile', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-export-files-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('names clashing objects in the order they came, between many other writes, and never overwrites', async () => {
    await fs.writeFile(path.join(dir, 'taken.yaml'), 'was here\n');
    const expected = new Map<string, string>([['taken.yaml', 'was here\n']]);
    const clashes: Record<string, number> = {};
    for (let i = 0; i < 400; i++) {
      // Every 7th object is one of three clashing names; the others are distinct; 'taken' already exists.
      const name = i % 7 === 0 ? ['a', 'b', 'taken'][i % 3]! : `obj-${i}`;
      const text = `object ${i}\n`.repeat(1 + (i % 50) * 100);
      writeObjectFile(dir, name, 'yaml', text, i % 2 === 0 ? 0o600 : 0o644);
      const n = (clashes[name] = (clashes[name] ?? (name === 'taken' ? 1 : 0)) + 1);
      expected.set(n === 1 ? `${name}.yaml` : `${name}~${n}.yaml`, text);
    }

    const names = (await fs.readdir(dir)).sort();
    expect(names).toEqual([...expected.keys()].sort());
    for (const [name, text] of expected) expect(await fs.readFile(path.join(dir, name), 'utf8'), name).toBe(text);
    expect((await fs.stat(path.join(dir, 'obj-1.yaml'))).mode & 0o777).toBe(0o644);
    expect((await fs.stat(path.join(dir, 'obj-2.yaml'))).mode & 0o777).toBe(0o600);
  });

  it('modes are exact whatever the umask', async () => {
    const old = process.umask(0o077);
    try {
      writeObjectFile(dir, 'public', 'yaml', 'x', 0o644);
    } finally {
      process.umask(old);
    }
    expect((await fs.stat(path.join(dir, 'public.yaml'))).mode & 0o777).toBe(0o644);
  });

  it('a write that fails is told at once, and what was there is untouched', async () => {
    expect(() => writeObjectFile(path.join(dir, 'no-such-dir'), 'x', 'yaml', 'x', 0o644)).toThrow(/ENOENT/);
    await fs.writeFile(path.join(dir, 'ro'), 'kept\n');
    await fs.chmod(dir, 0o500);
    try {
      // Root writes into a 0500 dir anyway; a normal user gets EACCES. Either way nothing existing is overwritten.
      let made = 'written';
      try {
        writeObjectFile(dir, 'ro', 'yaml', 'y', 0o644);
      } catch (err) {
        made = (err as Error).message;
      }
      if (process.getuid?.() !== 0) expect(made).toMatch(/EACCES/);
    } finally {
      await fs.chmod(dir, 0o700);
    }
    expect(await fs.readFile(path.join(dir, 'ro'), 'utf8')).toBe('kept\n');
  });
});
