/**
 * Fuzz the whole validator with REAL files: the segments, snapshot .meta and
 * data, metadata and yaml of the two bundled samples (written by real
 * dqlite-demo), mutated thousands of times with a seeded PRNG. Every run must
 * give a report (no throw; a hang times the test out, and `npm run fuzz`
 * watches for hangs with fresh seeds), every finding must point inside its
 * file, and no single read may ask for more than 16 MiB (a read sized from an
 * unchecked length field would).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryDirectory, type ByteSource, type DirectorySource } from '../../shared/bytes/byte-source';
import type { ValidationReport } from '../../shared/contract/report';
import { MAX_BATCH_ENTRIES } from '../../shared/formats/dqlite/batch';
import { putU32, putU64, u32At } from '../../shared/formats/dqlite/le';
import { classifyName } from '../../shared/formats/dqlite/segment-name';
import { inspectDqliteDirectory } from '../../shared/formats/dqlite/validate';
import { uniform as prng } from '../fuzz/mutate';

const SAMPLES = path.resolve(__dirname, '../../resources/samples');
const MAX_SINGLE_READ = 16 * 1024 * 1024;

function loadSample(name: string): Record<string, Uint8Array> {
  const dir = path.join(SAMPLES, name);
  const files: Record<string, Uint8Array> = {};
  for (const n of readdirSync(dir).sort()) files[n] = new Uint8Array(readFileSync(path.join(dir, n)));
  return files;
}

function hashSample(name: string): string {
  const dir = path.join(SAMPLES, name);
  const h = createHash('sha256');
  for (const n of readdirSync(dir).sort()) h.update(n).update(readFileSync(path.join(dir, n)));
  return h.digest('hex');
}

/** Offsets of the batches of a segment as written (walks the real bytes; stops at the first implausible count). */
function batchOffsets(seg: Uint8Array): number[] {
  const out: number[] = [];
  let at = 8;
  while (at + 16 <= seg.length) {
    const n = u32At(seg, at + 8);
    if (n === 0 || u32At(seg, at + 12) !== 0 || n > MAX_BATCH_ENTRIES) break;
    const headerEnd = at + 16 + 16 * n;
    if (headerEnd > seg.length) break;
    let data = 0;
    for (let i = 0; i < n; i++) data += u32At(seg, at + 16 + 16 * i + 12);
    out.push(at);
    at = headerEnd + data + ((8 - (data % 8)) % 8);
  }
  return out;
}

/** Counts and lengths that have tripped parsers: 0, the libraft limit and one past it, 2^32-1, 2^63, 2^64-1. */
const HUGE: bigint[] = [0n, BigInt(MAX_BATCH_ENTRIES), BigInt(MAX_BATCH_ENTRIES + 1), 0xffffffffn, 1n << 32n, 1n << 53n, 1n << 63n, (1n << 64n) - 1n];

type Mutation = { what: string; apply: (b: Uint8Array) => Uint8Array };

function mutations(rnd: () => number, name: string, original: Uint8Array): Mutation {
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: T[]): T => xs[int(xs.length)];
  const kind = classifyName(name).kind;
  const structural: Mutation[] = [];
  if (kind === 'closed' || kind === 'open') {
    const batches = batchOffsets(original);
    if (batches.length) {
      structural.push({
        what: 'batch count',
        apply: (b) => {
          const at = pick(batches);
          if (at + 16 <= b.length) putU64(b, at + 8, pick(HUGE));
          return b;
        },
      });
      structural.push({
        what: 'entry length',
        apply: (b) => {
          const at = pick(batches);
          const n = Math.min(u32At(original, at + 8), 4);
          const p = at + 16 + 16 * int(n) + 12;
          if (p + 4 <= b.length) putU32(b, p, pick([0xffffffff, 0x80000000, 0x7ffffff8, 8 * 1024 * 1024, int(1 << 20)]));
          return b;
        },
      });
    }
  } else if (kind === 'snapshot-meta') {
    structural.push({
      what: 'meta conf_len',
      apply: (b) => {
        if (b.length >= 32) putU64(b, 24, pick([...HUGE, 1n << 20n, (1n << 20n) + 1n, BigInt(b.length - 32 + 1)]));
        return b;
      },
    });
    structural.push({
      what: 'meta format',
      apply: (b) => {
        if (b.length >= 8) putU64(b, 0, pick(HUGE));
        return b;
      },
    });
  } else if (kind === 'metadata') {
    structural.push({
      what: 'metadata field',
      apply: (b) => {
        const off = 8 * int(4);
        if (off + 8 <= b.length) putU64(b, off, pick(HUGE));
        return b;
      },
    });
  }
  const generic: Mutation[] = [
    {
      what: 'bit flips',
      apply: (b) => {
        for (let k = 1 + int(8); k > 0 && b.length; k--) b[int(b.length)] ^= 1 << int(8);
        return b;
      },
    },
    {
      what: 'byte sets',
      apply: (b) => {
        for (let k = 1 + int(8); k > 0 && b.length; k--) b[int(b.length)] = pick([0, 0xff, int(256)]);
        return b;
      },
    },
    { what: 'truncate', apply: (b) => b.slice(0, int(b.length + 1)) },
    {
      what: 'extend with garbage',
      apply: (b) => {
        const extra = Uint8Array.from({ length: 1 + int(9000) }, () => (rnd() < 0.5 ? 0 : int(256)));
        const out = new Uint8Array(b.length + extra.length);
        out.set(b);
        out.set(extra, b.length);
        return out;
      },
    },
    {
      // Rare and large: pushes the file past the 1 MiB read chunks, so batches straddle chunk edges.
      what: 'extend by megabytes',
      apply: (b) => {
        const extra = new Uint8Array((1 + int(2)) * 1024 * 1024 + int(4096));
        for (let k = 0; k < 64; k++) extra[int(extra.length)] = int(256);
        const out = new Uint8Array(b.length + extra.length);
        out.set(b);
        out.set(extra, b.length);
        return out;
      },
    },
    {
      what: 'zero a block',
      apply: (b) => {
        const from = int(b.length + 1);
        b.fill(0, from, from + 1 + int(8192));
        return b;
      },
    },
  ];
  if (rnd() < 0.02) return generic.find((m) => m.what === 'extend by megabytes') as Mutation;
  return structural.length && rnd() < 0.5 ? pick(structural) : pick(generic.filter((m) => m.what !== 'extend by megabytes'));
}

interface ReadStats {
  largest: number;
  total: number;
}

/** A memory directory whose sources check every read: in range, and never more than MAX_SINGLE_READ at once. */
function guardedDirectory(files: Record<string, Uint8Array>, stats: ReadStats): DirectorySource {
  const inner = memoryDirectory('backend', files);
  return {
    name: inner.name,
    list: () => inner.list(),
    async open(name: string): Promise<ByteSource> {
      const src = await inner.open(name);
      return {
        name: src.name,
        size: src.size,
        read(offset: number, length: number) {
          if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
            throw new Error(`${name}: bad read request ${offset}+${length}`);
          }
          if (length > MAX_SINGLE_READ) throw new Error(`${name}: read of ${length} bytes at ${offset} (limit ${MAX_SINGLE_READ})`);
          stats.largest = Math.max(stats.largest, length);
          stats.total += Math.min(length, Math.max(0, src.size - offset));
          return src.read(offset, length);
        },
      };
    },
  };
}

/** What every report must satisfy, whatever the input. */
function checkReport(r: ValidationReport, files: Record<string, Uint8Array>, label: string): void {
  expect(typeof r.startable, label).toBe('boolean');
  expect(r.summary.length, label).toBeGreaterThan(10);
  for (const f of r.findings) {
    if (f.file === null) {
      expect(f.offset, `${label}: ${f.code} has an offset but no file`).toBeNull();
      continue;
    }
    const bytes = files[f.file];
    expect(bytes, `${label}: ${f.code} names ${f.file}, not in the directory`).toBeDefined();
    if (f.offset !== null) {
      expect(
        Number.isSafeInteger(f.offset) && f.offset >= 0 && f.offset <= bytes.length,
        `${label}: ${f.code} at ${f.offset} outside ${f.file} (${bytes.length} bytes)`,
      ).toBe(true);
    }
  }
  for (const s of r.dqlite?.segments ?? []) {
    expect(s.validBytes, `${label}: ${s.file}`).toBeLessThanOrEqual(s.size);
    if (s.badOffset !== null) expect(s.badOffset, `${label}: ${s.file}`).toBeLessThanOrEqual(s.size);
  }
  for (const l of r.lost) expect(l.first, `${label}: lost range of ${l.file}`).toBeLessThanOrEqual(l.last);
  // The report is plain data (the web transport and CLI send it as JSON).
  expect(() => JSON.stringify(r), label).not.toThrow();
}

async function fuzzSample(sample: string, seed: number, rounds: number): Promise<{ outcomes: Set<string>; whats: Set<string>; largest: number }> {
  const before = hashSample(sample);
  const original = loadSample(sample);
  const targets = Object.keys(original).filter((n) => classifyName(n).kind !== 'unknown' || n.endsWith('.yaml'));
  const outcomes = new Set<string>();
  const whats = new Set<string>();
  let largest = 0;
  const rnd = prng(seed);
  for (let i = 0; i < rounds; i++) {
    const files: Record<string, Uint8Array> = { ...original };
    const touched: string[] = [];
    // Mostly one file, sometimes several at once.
    for (let k = rnd() < 0.8 ? 1 : 2 + Math.floor(rnd() * 3); k > 0; k--) {
      const name = targets[Math.floor(rnd() * targets.length)];
      const m = mutations(rnd, name, original[name]);
      files[name] = m.apply(files[name].slice());
      touched.push(`${name}:${m.what}`);
      whats.add(m.what);
    }
    const label = `${sample} seed ${seed} round ${i} (${touched.join(', ')})`;
    const stats: ReadStats = { largest: 0, total: 0 };
    let report: ValidationReport;
    try {
      report = (await inspectDqliteDirectory(guardedDirectory(files, stats))).report;
    } catch (err) {
      throw new Error(`${label}: validation threw: ${err instanceof Error ? err.stack : String(err)}`, { cause: err });
    }
    checkReport(report, files, label);
    largest = Math.max(largest, stats.largest);
    outcomes.add(report.startable ? (report.dataLoss ? 'starts-with-loss' : 'starts') : 'fails');
    for (const f of report.findings) outcomes.add(f.code);
  }
  // Evidence: the sample directory on disk is untouched (mutations work on copies in memory).
  expect(hashSample(sample)).toBe(before);
  return { outcomes, whats, largest };
}

describe('fuzz with real dqlite-demo files', () => {
  it('the read guard trips on an oversized or out-of-range request', async () => {
    const stats: ReadStats = { largest: 0, total: 0 };
    const src = await guardedDirectory({ x: new Uint8Array(10) }, stats).open('x');
    expect(() => src.read(0, MAX_SINGLE_READ + 1)).toThrow('limit');
    expect(() => src.read(-1, 4)).toThrow('bad read');
    expect(await src.read(2, 4)).toHaveLength(4);
  });

  it('healthy sample: thousands of mutations, always a sound report', { timeout: 120_000 }, async () => {
    const r = await fuzzSample('dqlite-healthy', 20260128, 2500);
    // The mutations really reached the parser: damage of many kinds was recognised.
    for (const c of [
      'starts',
      'fails',
      'segment.header-checksum',
      'segment.data-checksum',
      'segment.count-too-high',
      'segment.short-data',
      'snapshot.meta-conf-length',
      'snapshot.meta-checksum',
    ]) {
      expect(r.outcomes, c).toContain(c);
    }
    expect([...r.whats].sort()).toEqual([
      'batch count',
      'bit flips',
      'byte sets',
      'entry length',
      'extend by megabytes',
      'extend with garbage',
      'meta conf_len',
      'meta format',
      'metadata field',
      'truncate',
      'zero a block',
    ]);
    expect(r.largest).toBeLessThanOrEqual(MAX_SINGLE_READ);
  });

  it('field-report sample: thousands of mutations, always a sound report', { timeout: 120_000 }, async () => {
    const r = await fuzzSample('dqlite-field-report', 14232589, 2000);
    for (const c of ['fails', 'segment.count-zero', 'segment.header-checksum', 'snapshot.data-lz4', 'metadata.format']) {
      expect(r.outcomes, c).toContain(c);
    }
    expect(r.largest).toBeLessThanOrEqual(MAX_SINGLE_READ);
  });
});
