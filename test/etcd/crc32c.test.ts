import { describe, expect, it } from 'vitest';
import { crc32c, crcBuffer } from '../../shared/formats/etcd/crc32c';

/** One bit at a time, straight from the polynomial: the reference the table code must match. */
function bitwise(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32c', () => {
  it('gives the published CRC-32C values (check value, RFC 3720 B.4 vectors)', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('matches the bitwise reference at every alignment, length and range, and chains like Go crc32.Update', () => {
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const buf = Uint8Array.from({ length: 4096 }, () => rnd() & 255);
    for (let trial = 0; trial < 400; trial++) {
      const off = rnd() % 64;
      const len = trial < 200 ? trial : rnd() % 3000;
      const view = buf.subarray(off, off + len);
      const prev = rnd();
      expect(crc32c(view, prev)).toBe(bitwise(view, prev));
      const start = len > 0 ? rnd() % len : 0;
      const end = start + (len > start ? rnd() % (len - start + 1) : 0);
      expect(crc32c(view, prev, start, end)).toBe(bitwise(view.subarray(start, end), prev));
      const cut = len > 0 ? rnd() % len : 0;
      expect(crc32c(view.subarray(cut), crc32c(view.subarray(0, cut)))).toBe(crc32c(view));
    }
  });

  it('gives the same values in a crcBuffer (its WebAssembly loop) at every alignment, length and range', () => {
    const size = 70_000; // more than a WebAssembly page
    const buf = crcBuffer(size);
    // Node has WebAssembly: the buffer is in a WebAssembly memory (the tables in the page before it).
    expect(buf.byteOffset).toBe(64 * 1024);
    expect(buf.every((b) => b === 0)).toBe(true);
    let seed = 11;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < size; i++) buf[i] = rnd() & 255;
    const copy = buf.slice();
    expect(crc32c(buf)).toBe(bitwise(copy));
    for (let trial = 0; trial < 400; trial++) {
      const start = rnd() % size;
      const end = Math.min(size, start + (trial < 200 ? trial : rnd() % 5000));
      const prev = rnd();
      expect(crc32c(buf, prev, start, end)).toBe(bitwise(copy.subarray(start, end), prev));
      expect(crc32c(buf.subarray(start, end), prev)).toBe(crc32c(copy, prev, start, end));
    }
    buf.set(new TextEncoder().encode('123456789'.repeat(8)), 3);
    expect(crc32c(buf, 0, 3 + 63, 3 + 72)).toBe(0xe3069283);
  });
});
