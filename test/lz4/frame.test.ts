/**
 * The LZ4 frame verifier against real frames written by the `lz4` CLI (liblz4
 * 1.9.4, the same library libraft uses), with `lz4 -t` as the oracle for
 * damaged frames.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { memorySource } from '../../shared/bytes/byte-source';
import { CancelledError } from '../../shared/contract/progress';
import { verifyLz4Frame } from '../../shared/formats/lz4/frame';
import { Xxh32, xxh32 } from '../../shared/formats/lz4/xxhash32';
import { openFileSource } from '../../electron/services/fs-source';

let dir: string;

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
function prng(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Text-like data that compresses well and produces long and overlapping matches. */
function compressible(n: number): Uint8Array {
  const words = ['kine', 'etcd', 'pod', 'deployment', 'namespace/default', '{"apiVersion":"v1"}', 'aaaaaaaaaaaaaaaa', '\n'];
  const r = prng(7, n);
  const parts: string[] = [];
  let len = 0;
  for (let i = 0; len < n; i++) {
    const w = words[r[i % n] % words.length] + (r[(i * 7) % n] < 20 ? String(i) : '');
    parts.push(w);
    len += w.length;
  }
  return new TextEncoder().encode(parts.join(' ')).subarray(0, n);
}

function lz4(input: Uint8Array, args: string[], name: string): Uint8Array {
  const src = path.join(dir, `${name}.bin`);
  const dst = path.join(dir, `${name}.lz4`);
  writeFileSync(src, input);
  execFileSync('lz4', ['-q', '-f', ...args, src, dst]);
  return new Uint8Array(readFileSync(dst));
}

/** liblz4's own verdict on a frame (`lz4 -t`). */
function lz4Accepts(frame: Uint8Array, name: string): boolean {
  const f = path.join(dir, `${name}.check.lz4`);
  writeFileSync(f, frame);
  return spawnSync('lz4', ['-t', '-q', f], { stdio: 'ignore' }).status === 0;
}

async function verify(frame: Uint8Array) {
  const chunks = createHash('sha256');
  let seen = 0;
  const r = await verifyLz4Frame(memorySource('frame.lz4', frame), {
    onData: (c) => {
      chunks.update(c);
      seen += c.length;
    },
  });
  return { ...r, dataHash: chunks.digest('hex'), seen };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-lz4-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('xxh32', () => {
  it('matches the published test vectors', () => {
    const te = new TextEncoder();
    expect(xxh32(new Uint8Array(0))).toBe(0x02cc5d05);
    expect(xxh32(te.encode('a'))).toBe(0x550d7456);
    expect(xxh32(te.encode('abc'))).toBe(0x32d153ff);
    expect(xxh32(te.encode('Nobody inspects the spammish repetition'))).toBe(0xe2293b2f);
  });

  it('gives the same digest however the input is split', () => {
    const data = prng(3, 10_007);
    const whole = xxh32(data);
    for (const step of [1, 3, 15, 16, 17, 4096]) {
      const h = new Xxh32();
      for (let i = 0; i < data.length; i += step) h.update(data, i, Math.min(data.length, i + step));
      expect(h.digest()).toBe(whole);
    }
  });
});

describe('verifyLz4Frame on frames made by the lz4 CLI', () => {
  const inputs: Record<string, () => Uint8Array> = {
    random: () => prng(11, 700_000),
    compressible: () => compressible(3_000_000),
    tiny: () => new TextEncoder().encode('hello dqlite'),
    empty: () => new Uint8Array(0),
  };
  const options: Record<string, string[]> = {
    default: [],
    'B4 content-size': ['-B4', '--content-size'],
    'B5 linked': ['-B5', '-BD'],
    'B6 block-checksum': ['-B6', '-BX'],
    'B7 linked block-checksum content-size': ['-B7', '-BD', '-BX', '--content-size'],
    'B4 linked no-frame-crc': ['-B4', '-BD', '--no-frame-crc'],
    'level 9 linked': ['-9', '-BD', '-B4'],
  };
  for (const [inputName, make] of Object.entries(inputs)) {
    for (const [optName, args] of Object.entries(options)) {
      it(`${inputName} data, ${optName}`, async () => {
        const data = make();
        const frame = lz4(data, args, `${inputName}-${optName.replace(/\W+/g, '_')}`);
        const r = await verify(frame);
        expect(r.error).toBeNull();
        expect(r.ok).toBe(true);
        expect(r.contentSize).toBe(data.length);
        expect(r.seen).toBe(data.length);
        expect(r.dataHash).toBe(sha256(data));
        expect(r.frameSize).toBe(frame.length);
        // The CLI adapts block size and linking to small inputs, so compare with the header bits it wrote.
        const flg = frame[4];
        expect(r.descriptor?.blockIndependence).toBe((flg & 0x20) !== 0);
        expect(r.descriptor?.blockChecksum).toBe(args.includes('-BX'));
        expect(r.descriptor?.contentChecksum).toBe(!args.includes('--no-frame-crc'));
        expect(r.descriptor?.contentSize).toBe((flg & 0x08) !== 0 ? data.length : null);
        if (args.includes('--content-size') && data.length > 0) expect(r.descriptor?.contentSize).toBe(data.length);
        if (args.includes('-BD') && data.length > (r.descriptor?.maxBlockSize ?? 0)) expect(r.descriptor?.blockIndependence).toBe(false);
        expect(r.descriptor?.maxBlockSize).toBe(1 << (8 + 2 * ((frame[5] >>> 4) & 7)));
      });
    }
  }

  it('reads a real file through the read-only file source and leaves it unchanged', async () => {
    const data = compressible(1_500_000);
    lz4(data, ['-BD', '--content-size'], 'file');
    const file = path.join(dir, 'file.lz4');
    const before = sha256(readFileSync(file));
    const src = await openFileSource(file);
    try {
      const r = await verifyLz4Frame(src);
      expect(r.ok).toBe(true);
      expect(r.contentSize).toBe(data.length);
    } finally {
      await src.close();
    }
    expect(sha256(readFileSync(file))).toBe(before);
  });

  it('accepts trailing bytes after the frame like libraft does, and counts them', async () => {
    const frame = lz4(compressible(50_000), [], 'trail');
    const withTail = new Uint8Array(frame.length + 100);
    withTail.set(frame);
    const r = await verify(withTail);
    expect(r.ok).toBe(true);
    expect(r.trailingBytes).toBe(100);
  });
});

describe('verifyLz4Frame on damaged frames', () => {
  it('flags every flipped byte the way lz4 -t does, naming the liblz4 error', async () => {
    const data = compressible(400_000);
    const frame = lz4(data, ['-B4', '-BD', '--content-size'], 'flip');
    const positions = new Set<number>([0, 3, 4, 5, 6, 13, 14, 15, 18, 19, 20, frame.length - 5, frame.length - 4, frame.length - 1]);
    const r = prng(99, 80);
    for (let i = 0; i < 40; i++) positions.add(((r[2 * i] << 8) | r[2 * i + 1]) % frame.length);
    for (const pos of positions) {
      const bad = frame.slice();
      bad[pos] ^= 0x5a;
      const ours = await verify(bad);
      const theirs = lz4Accepts(bad, 'flip');
      expect({ pos, ok: ours.ok }).toEqual({ pos, ok: theirs });
      // A content checksum is present, so every flip must be caught.
      expect(ours.ok).toBe(false);
      expect(ours.error).toMatch(/^ERROR_/);
      expect(ours.errorOffset).not.toBeNull();
    }
  });

  it('names the header, block, size and content checksum errors with their offsets', async () => {
    const data = compressible(300_000);
    const frame = lz4(data, ['-B4', '-BX', '--content-size'], 'named');
    // Header: FLG(4) BD(5) content size (6..13) HC (14).
    const hdr = frame.slice();
    hdr[14] ^= 1;
    expect(await verify(hdr)).toMatchObject({ ok: false, error: 'ERROR_headerChecksum_invalid', errorOffset: 14 });

    const version = frame.slice();
    version[4] = (version[4] & 0x3f) | 0x80;
    expect(await verify(version)).toMatchObject({ ok: false, error: 'ERROR_headerVersion_wrong', errorOffset: 4 });

    // First block starts right after the 15-byte header; flip inside its data.
    const blk = frame.slice();
    blk[15 + 4 + 100] ^= 0xff;
    expect(await verify(blk)).toMatchObject({ ok: false, error: 'ERROR_blockChecksum_invalid', errorOffset: 15 });

    const sum = frame.slice();
    sum[sum.length - 1] ^= 0x80;
    expect(await verify(sum)).toMatchObject({
      ok: false,
      error: 'ERROR_contentChecksum_invalid',
      errorOffset: frame.length - 4,
      contentSize: data.length,
    });

    // A content size that disagrees with the blocks, with a correct header checksum.
    const size = frame.slice();
    size[6] ^= 1;
    size[14] = (xxh32(size, 0, 4, 14) >>> 8) & 0xff;
    expect(lz4Accepts(size, 'size')).toBe(false);
    expect(await verify(size)).toMatchObject({ ok: false, error: 'ERROR_frameSize_wrong' });
  });

  it('refuses a block size field above the maximum instead of allocating it', async () => {
    const frame = lz4(compressible(200_000), ['-B4'], 'huge');
    const bad = frame.slice();
    // Header is 7 bytes (no content size); the first block size field follows.
    new DataView(bad.buffer).setUint32(7, 0x7fff_fff0, true);
    const r = await verify(bad);
    expect(r).toMatchObject({ ok: false, error: 'ERROR_maxBlockSize_invalid', errorOffset: 7 });
    expect(lz4Accepts(bad, 'huge')).toBe(false);
  });

  it('reports truncation anywhere as an error, agreeing with lz4 -t', async () => {
    const frame = lz4(prng(5, 300_000), ['-B4', '-BX'], 'trunc');
    const cuts = [0, 1, 3, 4, 5, 6, 7, 8, 10, 100, 65_000, 150_000, frame.length - 5, frame.length - 4, frame.length - 1];
    for (const cut of cuts) {
      const part = frame.subarray(0, cut);
      const r = await verify(part);
      expect({ cut, ok: r.ok }).toEqual({ cut, ok: false });
      // lz4 -t treats an empty file as zero frames; libraft would not.
      if (cut > 0) expect(lz4Accepts(part, 'trunc')).toBe(false);
      expect(['ERROR_srcSize_wrong', 'ERROR_frameHeader_incomplete']).toContain(r.error);
    }
    const r = await verify(frame.subarray(0, frame.length - 1));
    expect(r.error).toBe('ERROR_srcSize_wrong');
    expect(r.errorOffset).toBe(frame.length - 4);
  });

  it('rejects garbage without throwing or hanging', async () => {
    expect(await verify(prng(1, 5000))).toMatchObject({ ok: false, error: 'ERROR_frameType_unknown', errorOffset: 0 });
    expect(await verify(new Uint8Array(4096))).toMatchObject({ ok: false, error: 'ERROR_frameType_unknown' });
    // A valid header followed by noise: every seed must end in a named error.
    const header = lz4(new Uint8Array(0), ['-BD'], 'hdr').subarray(0, 7);
    for (let seed = 1; seed <= 200; seed++) {
      const noise = prng(seed, 3000 + seed * 37);
      const f = new Uint8Array(header.length + noise.length);
      f.set(header);
      f.set(noise, header.length);
      const r = await verify(f);
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/^ERROR_/);
    }
  });

  it('rejects corrupt compressed data inside a block with ERROR_decompressionFailed or a checksum error', async () => {
    const frame = lz4(compressible(500_000), ['-B4', '-BD', '--no-frame-crc'], 'nocrc');
    let failures = 0;
    const r = prng(17, 400);
    for (let i = 0; i < 200; i++) {
      const bad = frame.slice();
      const pos = 7 + (((r[2 * i] << 8) | r[2 * i + 1]) % (frame.length - 11));
      bad[pos] ^= 0x80;
      const ours = await verify(bad);
      // Without checksums some flips only change literals; liblz4 decides the same.
      expect({ pos, ok: ours.ok }).toEqual({ pos, ok: lz4Accepts(bad, 'nocrc') });
      if (!ours.ok) failures++;
    }
    expect(failures).toBeGreaterThan(0);
  });
});

describe('verifyLz4Frame operation', () => {
  it('stops with CancelledError when the signal is aborted', async () => {
    const frame = lz4(compressible(2_000_000), ['-B4'], 'cancel');
    const ac = new AbortController();
    ac.abort();
    await expect(verifyLz4Frame(memorySource('x', frame), { signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
  });

  // Throughput is measured by `npm run bench` (LZ4 frame verification), never timed here.
  it('verifies a large linked-block frame (48 MiB) end to end', async () => {
    const data = compressible(48 * 1024 * 1024);
    const frame = lz4(data, ['-BD'], 'large');
    const r = await verifyLz4Frame(memorySource('large', frame));
    expect(r.ok).toBe(true);
    expect(r.contentSize).toBe(data.length);
  });
});

// Keep a random-data sanity check independent of the prng.
it('handles crypto-random incompressible data stored as uncompressed blocks', async () => {
  const data = new Uint8Array(randomBytes(200_000));
  const frame = lz4(data, ['-B4', '-BX'], 'crypto');
  const r = await verify(frame);
  expect(r.ok).toBe(true);
  expect(r.dataHash).toBe(sha256(data));
});
