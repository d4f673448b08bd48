import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, openAsBlob, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileByteSource, pickedDirectory, pickedFromFileList, totalBytes } from '../../renderer/src/lib/file-source';

function withRelativePath(file: File, rel: string): File {
  Object.defineProperty(file, 'webkitRelativePath', { value: rel });
  return file;
}

describe('browser file sources', () => {
  it('reads slices of a disk-backed file without changing it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lb-fs-'));
    try {
      const p = path.join(dir, '0000000000000001-0000000000000010');
      const bytes = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
      writeFileSync(p, bytes);
      const before = createHash('sha256').update(readFileSync(p)).digest('hex');
      const blob = await openAsBlob(p);
      const src = fileByteSource(new File([blob], path.basename(p)));
      expect(src.size).toBe(100_000);
      expect(Array.from(await src.read(8, 4))).toEqual([56, 63, 70, 77]);
      expect((await src.read(99_990, 100)).length).toBe(10);
      expect((await src.read(200_000, 10)).length).toBe(0);
      await expect(src.read(-1, 4)).rejects.toThrow(RangeError);
      expect(createHash('sha256').update(readFileSync(p)).digest('hex')).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns a webkitdirectory selection into a directory with subdirectories', async () => {
    const files = [
      withRelativePath(new File([new Uint8Array(32)], 'metadata1'), 'backend/metadata1'),
      withRelativePath(new File([new Uint8Array(80)], '0000000000000001-0000000000000001'), 'backend/0000000000000001-0000000000000001'),
      withRelativePath(new File([new Uint8Array(5)], 'x'), 'backend/member/wal/x'),
    ];
    const picked = pickedFromFileList(files);
    expect(picked).toMatchObject({ rootName: 'backend', kind: 'directory' });
    expect(totalBytes(picked!)).toBe(117);
    const dir = pickedDirectory(picked!);
    expect(dir.name).toBe('backend');
    expect(await dir.list()).toEqual([
      { name: '0000000000000001-0000000000000001', size: 80, kind: 'file', mtimeMs: expect.any(Number) },
      { name: 'member', size: 0, kind: 'dir' },
      { name: 'metadata1', size: 32, kind: 'file', mtimeMs: expect.any(Number) },
    ]);
    const wal = await (await dir.subdir!('member')).subdir!('wal');
    expect((await (await wal.open('x')).read(0, 100)).length).toBe(5);
    await expect(dir.open('missing')).rejects.toThrow(/no such file/);
    await expect(dir.open('member')).rejects.toThrow(/no such file/);
  });

  it('treats one loose file as a file, and ignores path tricks', async () => {
    const one = pickedFromFileList([new File([new Uint8Array(3)], 'snapshot.db')]);
    expect(one).toMatchObject({ kind: 'file', rootName: 'snapshot.db' });
    expect(pickedFromFileList([])).toBeNull();
    const dir = pickedDirectory({ rootName: 'r', kind: 'directory', files: [{ path: '../etc/passwd', file: new File(['x'], 'passwd') }] });
    expect(await dir.list()).toEqual([]);
  });
});
