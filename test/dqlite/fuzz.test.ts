import { describe, expect, it } from 'vitest';
import { memoryDirectory, memorySource } from '../../shared/bytes/byte-source';
import { interpretClosed, interpretOpen, scanSegment } from '../../shared/formats/dqlite/segment';
import { validateDqliteDirectory } from '../../shared/formats/dqlite/validate';
import { bootstrapSegment, segmentBytes, snapshot, withZeros } from './builders';
import { uniform as prng } from '../fuzz/mutate';

describe('fuzz', () => {
  // No timing here: a hang times the test out; speed is in `npm run fuzz` and `npm run bench`.
  it('mutated segments always give a result, never a throw or hang', async () => {
    const rnd = prng(20240128);
    const base = withZeros(segmentBytes(1, 40, 3), 512);
    let failures = 0;
    for (let i = 0; i < 3000; i++) {
      let b = base.slice();
      const kind = Math.floor(rnd() * 4);
      const flips = 1 + Math.floor(rnd() * 8);
      if (kind === 0) for (let k = 0; k < flips; k++) b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8);
      else if (kind === 1) b = b.subarray(0, Math.floor(rnd() * b.length));
      else if (kind === 2) for (let k = 0; k < flips; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      else for (let k = 8; k < b.length; k++) if (rnd() < 0.01) b[k] = 0xff;
      const scan = await scanSegment(memorySource('s', b), { targetEntries: 40 });
      const c = interpretClosed(1, 40, scan);
      const o = interpretOpen(scan);
      if (!c.ok) failures++;
      expect(scan.validBytes).toBeLessThanOrEqual(b.length);
      expect(o.outcome).toMatch(/deleted|finalised|fatal/);
      if (!c.ok && c.offset !== null) expect(c.offset).toBeLessThanOrEqual(b.length);
    }
    expect(failures).toBeGreaterThan(2000);
  });
  it('random directories validate without throwing', async () => {
    const rnd = prng(7);
    for (let i = 0; i < 150; i++) {
      const files: Record<string, Uint8Array> = {};
      const junk = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
      files['0000000000000001-0000000000000001'] = rnd() < 0.5 ? bootstrapSegment() : junk(80);
      files['0000000000000002-0000000000000020'] = rnd() < 0.5 ? segmentBytes(2, 19) : junk(Math.floor(rnd() * 3000));
      files['open-1'] = junk(Math.floor(rnd() * 600));
      files['metadata1'] = junk(Math.floor(rnd() * 40));
      if (rnd() < 0.5) snapshot(files, 10 + Math.floor(rnd() * 20));
      if (rnd() < 0.3) files['snapshot-1-5-1.meta'] = junk(Math.floor(rnd() * 100));
      if (rnd() < 0.3) files['snapshot-1-5-1'] = junk(Math.floor(rnd() * 100));
      const r = await validateDqliteDirectory(memoryDirectory('d', files));
      expect(typeof r.startable).toBe('boolean');
      expect(r.summary.length).toBeGreaterThan(10);
    }
  });
});
