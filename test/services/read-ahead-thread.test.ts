/**
 * The read-ahead thread (electron/services/read-ahead-thread.ts): chunks it
 * hands out hold the file's bytes (zeros past its end up to the padded end),
 * it follows a walk that goes mostly upwards with a jump now and then, it
 * reads nothing of a file replaced at its path, and it stops when told.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReadAhead, type ReadAheadStats } from '../../electron/services/read-ahead-thread';

const CHUNK = 16 * 1024;
/** More chunks than the thread's ring holds (64), so what it reads next depends on where the walk is. */
const CHUNKS = 200;
let dir = '';
let file = '';
let bytes: Buffer;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-read-ahead-'));
  file = path.join(dir, 'db');
  // 200 chunks and a part (the part padded with zeros up to a 4 KiB boundary).
  bytes = randomBytes(CHUNKS * CHUNK + 1000);
  await fs.writeFile(file, bytes);
});
afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

const ids = () => {
  const st = statSync(file, { bigint: true });
  return { dev: st.dev, ino: st.ino };
};
const paddedEnd = () => Math.ceil(bytes.length / 4096) * 4096;

/** Chunk n as the pass sees it: from the thread when it has it, else read here. Returns whether it was taken. */
function takeOrRead(ahead: ReadAhead, n: number): { chunk: Uint8Array; taken: boolean } {
  const t = ahead.take(n);
  if (t) {
    const copy = t.bytes.slice();
    expect(t.got).toBe(Math.max(0, Math.min(CHUNK, bytes.length - n * CHUNK)));
    ahead.release(t.slot);
    return { chunk: copy, taken: true };
  }
  return { chunk: expected(n), taken: false };
}

function expected(n: number): Uint8Array {
  const want = Math.min(CHUNK, paddedEnd() - n * CHUNK);
  const out = new Uint8Array(want);
  out.set(bytes.subarray(n * CHUNK, Math.min(bytes.length, n * CHUNK + want)));
  return out;
}

type ReadAhead = ReturnType<typeof startReadAhead>;

/** Takes chunk n once the thread has read it (checking its bytes); false when it has not within 5 s. */
async function settle(ahead: ReadAhead, n: number): Promise<boolean> {
  for (let i = 0; i < 500 && !ahead.holds(n); i++) await new Promise((r) => setTimeout(r, 10));
  const t = ahead.take(n);
  if (!t) return false;
  expect(Buffer.from(t.bytes).equals(Buffer.from(expected(n)))).toBe(true);
  ahead.release(t.slot);
  return true;
}

describe('read-ahead thread', () => {
  it('hands out the bytes of every chunk in order, the last one padded with zeros, all from the thread', async () => {
    const stats: ReadAheadStats = { taken: 0, missed: 0, stale: 0 };
    const ahead = startReadAhead(file, ids(), { chunkBytes: CHUNK, end: bytes.length, paddedEnd: paddedEnd() }, stats);
    try {
      // Each chunk taken once the thread holds it (a pass faster than the thread reads what it overtook itself).
      const chunks = Math.ceil(paddedEnd() / CHUNK);
      // settle compares each with the file's bytes; the last chunk's, zeros past the file's end up to 4 KiB.
      for (let n = 0; n < chunks; n++) expect(await settle(ahead, n), `chunk ${n}`).toBe(true);
      expect(paddedEnd()).toBeGreaterThan(bytes.length);
      expect(stats).toEqual({ taken: chunks, missed: 0, stale: 0 });
    } finally {
      ahead.stop();
    }
  });

  it('a walk that jumps far once and comes back keeps its stream; two takes at a new place move it there', async () => {
    const stats: ReadAheadStats = { taken: 0, missed: 0, stale: 0 };
    const ahead = startReadAhead(file, ids(), { chunkBytes: CHUNK, end: bytes.length, paddedEnd: paddedEnd() }, stats);
    try {
      expect(await settle(ahead, 0)).toBe(true);
      // A branch page far ahead (one take), then the leaves again: the thread goes on from where it was.
      takeOrRead(ahead, 150);
      for (let n = 1; n <= 40; n++) expect(Buffer.from(takeOrRead(ahead, n).chunk).equals(Buffer.from(expected(n)))).toBe(true);
      // Chunk 70 is past the ring's first fill (0-63): read only if the thread stayed on the walk's stream.
      expect(await settle(ahead, 70)).toBe(true);
      // Two takes near 120: the walk went there, and the thread follows it (what it read ahead near 70 is let go).
      expect(await settle(ahead, 75)).toBe(true);
      for (let i = 0; i < 500 && !ahead.holds(76); i++) await new Promise((r) => setTimeout(r, 10));
      takeOrRead(ahead, 120);
      takeOrRead(ahead, 121);
      expect(await settle(ahead, 125)).toBe(true);
      expect(stats.stale).toBeGreaterThan(0);
    } finally {
      ahead.stop();
    }
  });

  it('at the end of the file it waits, and follows the walk back (branch pages at the end, leaves before them)', async () => {
    const ahead = startReadAhead(file, ids(), { chunkBytes: CHUNK, end: bytes.length, paddedEnd: paddedEnd() });
    try {
      expect(await settle(ahead, 0)).toBe(true);
      // The walk goes to the last chunks (two takes: the stream moves there) and reads them...
      takeOrRead(ahead, CHUNKS - 1);
      takeOrRead(ahead, CHUNKS - 2);
      expect(await settle(ahead, CHUNKS)).toBe(true);
      // ...then comes back to the start: the thread, idle at the end, follows it there.
      takeOrRead(ahead, 5);
      takeOrRead(ahead, 6);
      expect(await settle(ahead, 8)).toBe(true);
      expect(await settle(ahead, 9)).toBe(true);
    } finally {
      ahead.stop();
    }
  });

  it('reads nothing of another file at the path (device and inode differ), and the pass reads every chunk itself', async () => {
    const other = path.join(dir, 'other');
    await fs.writeFile(other, bytes);
    const stats: ReadAheadStats = { taken: 0, missed: 0, stale: 0 };
    const st = statSync(file, { bigint: true });
    const ahead = startReadAhead(other, { dev: st.dev, ino: st.ino }, { chunkBytes: CHUNK, end: bytes.length, paddedEnd: paddedEnd() }, stats);
    try {
      await new Promise((r) => setTimeout(r, 300));
      for (let n = 0; n < 10; n++) expect(ahead.take(n)).toBeNull();
      expect(stats.taken).toBe(0);
    } finally {
      ahead.stop();
    }
  });

  it('stops when told: its descriptor is closed and later takes read nothing from it', async () => {
    const fds = async () => (await fs.readdir('/proc/self/fd')).length;
    const before = await fds();
    const ahead = startReadAhead(file, ids(), { chunkBytes: CHUNK, end: bytes.length, paddedEnd: paddedEnd() });
    await settle(ahead, 0);
    // With its ring full it waits for a free slot; stop wakes it, it closes its file and ends.
    ahead.stop();
    expect(ahead.take(1)).toBeNull();
    let after = await fds();
    for (let i = 0; i < 100 && after > before; i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = await fds();
    }
    expect(after).toBeLessThanOrEqual(before);
  });
});
