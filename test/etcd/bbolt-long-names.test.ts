/**
 * Bucket names longer than any etcd writes (garbage, on a damaged page) are
 * named by their first bytes and size: decoding thousands of them whole, each
 * overlapping the page's span, made the walk quadratic in the span (a fuzzed
 * 182 KB db took 0.6 s, 1.4 MB 4.5 s). The buckets are still walked and
 * counted as before.
 */
import { describe, expect, it } from 'vitest';
import { memorySource } from '../../shared/bytes/byte-source';
import { bucketNameOf, MAX_BUCKET_NAME_BYTES } from '../../shared/formats/etcd/bbolt-element';
import { inspectBbolt } from '../../shared/formats/etcd/bbolt-db';
import { BboltWriter, memorySink } from '../../shared/formats/etcd/bbolt-write';

const te = new TextEncoder();

describe('long bucket names', () => {
  it('a name up to MAX_BUCKET_NAME_BYTES is its text; a longer one its first 32 bytes and its size', () => {
    const short = te.encode('k'.repeat(MAX_BUCKET_NAME_BYTES));
    expect(bucketNameOf(short)).toBe('k'.repeat(MAX_BUCKET_NAME_BYTES));
    expect(bucketNameOf(te.encode('members_removed'))).toBe('members_removed');
    const long = te.encode(`${'x'.repeat(32)}${'y'.repeat(2000)}`);
    expect(bucketNameOf(long)).toBe(`${'x'.repeat(32)}… (2032 bytes)`);
  });

  it('a db of 300 buckets with 1,000-byte names: each walked, named by its start and size, its key counted', async () => {
    const sink = memorySink();
    const w = new BboltWriter(sink);
    const names: string[] = [];
    for (let i = 0; i < 300; i++) {
      const name = `bucket-${String(i).padStart(4, '0')}-`.padEnd(1000, 'z');
      names.push(name);
      await w.bucket(name);
      await w.put(te.encode(`key-${i}`), te.encode(`value-${i}`));
    }
    await w.finish();
    const report = await inspectBbolt(memorySource('db', sink.bytes()), 'db');
    expect(report.info.problems).toEqual([]);
    const buckets = report.schema!.buckets;
    expect(buckets.map((b) => b.name)).toEqual(names.map((n) => `${n.slice(0, 32)}… (1000 bytes)`));
    expect(buckets.every((b) => b.keys === 1)).toBe(true);
  });
});
