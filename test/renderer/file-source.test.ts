import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, openAsBlob, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileByteSource, pickedDirectory, pickedFromDataTransfer, pickedFromFileList, totalBytes } from '../../renderer/src/lib/file-source';
import { validateDirectory } from '../../shared/validate';
import { localDirectory } from '../../electron/services/fs-source';

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
      { name: '0000000000000001-0000000000000001', size: 80, kind: 'file', mtimeMs: expect.any(Number) as unknown },
      { name: 'member', size: 0, kind: 'dir' },
      { name: 'metadata1', size: 32, kind: 'file', mtimeMs: expect.any(Number) as unknown },
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

/**
 * A drop is the first thing the home screen offers, and it cannot be driven
 * from Playwright (no real OS drag of a folder). These stand-ins implement the
 * Entries API the way Chromium does: readEntries hands out at most 100 entries
 * per call and then an empty batch; files come from disk (openAsBlob).
 */
async function directoryEntry(dir: string, name = path.basename(dir)): Promise<FileSystemDirectoryEntry> {
  const children: FileSystemEntry[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) children.push(await directoryEntry(p, n));
    else {
      const file = new File([await openAsBlob(p)], n);
      children.push({ name: n, isFile: true, isDirectory: false, file: (ok: (f: File) => void) => ok(file) } as unknown as FileSystemFileEntry);
    }
  }
  return {
    name,
    isFile: false,
    isDirectory: true,
    createReader() {
      let at = 0;
      return {
        readEntries(ok: (batch: FileSystemEntry[]) => void) {
          const batch = children.slice(at, at + 100);
          at += batch.length;
          queueMicrotask(() => ok(batch));
        },
      };
    },
  } as unknown as FileSystemDirectoryEntry;
}

function dropOf(items: { entry: FileSystemEntry | null; file: File | null }[]): DataTransfer {
  return {
    items: items.map((i) => ({ kind: 'file', webkitGetAsEntry: () => i.entry, getAsFile: () => i.file })),
    files: items.map((i) => i.file).filter((f): f is File => f !== null),
  } as unknown as DataTransfer;
}

describe('dropping a directory on the home screen', () => {
  const sample = path.resolve(__dirname, '../../resources/samples/dqlite-field-report');

  it('walks the dropped folder and validates it exactly as the same folder on disk', async () => {
    const before = readdirSync(sample).map((n) =>
      createHash('sha256')
        .update(readFileSync(path.join(sample, n)))
        .digest('hex'),
    );
    const picked = await pickedFromDataTransfer(dropOf([{ entry: await directoryEntry(sample, 'backend'), file: null }]));
    expect(picked).toMatchObject({ rootName: 'backend', kind: 'directory' });
    expect(picked!.files.map((f) => f.path).sort()).toEqual(readdirSync(sample).sort());
    const dropped = await validateDirectory(pickedDirectory(picked!));
    const disk = localDirectory(sample);
    const onDisk = await validateDirectory(disk).finally(() => disk.close());
    expect(dropped.engine).toBe('dqlite');
    expect({ ...dropped, root: '', elapsedMs: 0 }).toEqual({ ...onDisk, root: '', elapsedMs: 0 });
    expect(
      readdirSync(sample).map((n) =>
        createHash('sha256')
          .update(readFileSync(path.join(sample, n)))
          .digest('hex'),
      ),
    ).toEqual(before);
  });

  it('reads folders of more than 100 files (readEntries comes in batches)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lb-drop-'));
    try {
      for (let i = 0; i < 250; i++) writeFileSync(path.join(dir, `f${i}`), 'x');
      const picked = await pickedFromDataTransfer(dropOf([{ entry: await directoryEntry(dir), file: null }]));
      expect(picked!.files).toHaveLength(250);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a dropped loose file is a file; a drop of nothing is nothing', async () => {
    const f = new File([new Uint8Array(4)], 'metadata1');
    expect(await pickedFromDataTransfer(dropOf([{ entry: null, file: f }]))).toMatchObject({ kind: 'file', rootName: 'metadata1' });
    expect(await pickedFromDataTransfer(dropOf([]))).toBeNull();
  });
});
