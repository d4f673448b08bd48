/**
 * readAheadDirectory (salvage's WAL reads): the next window is read while the
 * caller decodes this one. What it hands back must be exactly the file's
 * bytes, whether the reader goes window after window, restarts a little
 * before where the last window ended (a WAL record cut by the window), jumps
 * back, or switches files; a failed read ahead is thrown to the read that
 * uses it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ByteSource, DirectorySource } from '../../shared/bytes/byte-source';
import { localDirectory, readAheadDirectory } from '../../electron/services/fs-source';

type Fill = ByteSource & { readInto(offset: number, target: Uint8Array): Promise<number> };

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-read-ahead-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, size: number, seed: number): Uint8Array {
  const r = rng(seed);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = Math.floor(r() * 256);
  writeFileSync(path.join(dir, name), bytes);
  return bytes;
}

describe('readAheadDirectory', () => {
  const a = file('a', 300_000 + 17, 1);
  const b = file('b', 120_000, 2);

  it('gives the file bytes for forward windows that restart before the last end, jumps back and file switches', async () => {
    const local = localDirectory(dir);
    try {
      const ahead = readAheadDirectory(local);
      const fa = (await ahead.open('a')) as Fill;
      const fb = (await ahead.open('b')) as Fill;
      const buf = new Uint8Array(16_384);
      const r = rng(3);
      let wrong = 0;
      const check = async (src: Fill, bytes: Uint8Array, offset: number) => {
        const got = await src.readInto(offset, buf);
        const want = bytes.subarray(offset, Math.min(bytes.length, offset + buf.length));
        if (got !== want.length || Buffer.compare(buf.subarray(0, got), want) !== 0) wrong++;
        return got;
      };
      for (let round = 0; round < 3; round++) {
        // As the WAL reader goes: each window starts at the record the previous one cut (up to 3000 bytes back).
        for (let at = 0; at < a.length;) {
          const got = await check(fa, a, at);
          if (at + got >= a.length) break;
          at += got - Math.floor(r() * 3000);
          // Now and then the other file in between, or a jump back.
          if (r() < 0.1) await check(fb, b, Math.floor(r() * b.length));
          if (r() < 0.05) await check(fa, a, Math.floor(r() * at));
        }
      }
      expect(wrong).toBe(0);
    } finally {
      await local.close();
    }
  });

  it('gives the file bytes for windows larger than a read piece (read ahead in parallel pieces)', async () => {
    const big = file('big', 7 * 1024 * 1024 + 99, 4);
    const local = localDirectory(dir);
    try {
      const src = (await readAheadDirectory(local).open('big')) as Fill;
      const buf = new Uint8Array(3 * 1024 * 1024);
      let wrong = 0;
      for (let at = 0; at < big.length;) {
        const got = await src.readInto(at, buf);
        if (Buffer.compare(buf.subarray(0, got), big.subarray(at, at + got)) !== 0 || got === 0) wrong++;
        if (at + got >= big.length) break;
        at += got - 1000;
      }
      expect(wrong).toBe(0);
    } finally {
      await local.close();
    }
  });

  it('throws a failed read ahead to the read that uses it', async () => {
    let calls = 0;
    const bytes = new Uint8Array(100_000).fill(7);
    const failing: Fill = {
      name: 'f',
      size: bytes.length,
      read: async (offset, length) => bytes.subarray(offset, offset + length),
      async readInto(offset, target) {
        calls++;
        if (offset >= 40_000) throw new Error('disk error');
        target.set(bytes.subarray(offset, offset + target.length));
        return Math.min(target.length, bytes.length - offset);
      },
    };
    const one: DirectorySource = { name: 'd', list: async () => [], open: async () => failing };
    const src = (await readAheadDirectory(one).open('f')) as Fill;
    const buf = new Uint8Array(15_000);
    await src.readInto(0, buf);
    // Forward: the window at 30,000 is read ahead (fine), then the one at 45,000 (fails).
    await src.readInto(15_000, buf);
    expect(await src.readInto(30_000, buf)).toBe(15_000);
    await expect(src.readInto(45_000, buf)).rejects.toThrow('disk error');
    expect(calls).toBeGreaterThan(3);
  });
});
