import { describe, expect, it } from 'vitest';
import { MAX_READ, memorySource } from '../../shared/bytes/byte-source';
import { ENTRY_COMMAND, encodeSegment, type EntryToEncode } from '../../shared/formats/dqlite/batch';
import { putU64 } from '../../shared/formats/dqlite/le';
import { interpretClosed, interpretOpen, scanSegment } from '../../shared/formats/dqlite/segment';
import { payload, segmentBytes, withZeros } from './builders';

async function closedLoad(bytes: Uint8Array, first: number, last: number) {
  const scan = await scanSegment(memorySource('seg', bytes), { targetEntries: last - first + 1 });
  return { scan, r: interpretClosed(first, last, scan) };
}

// 10 entries, one per batch, 64-byte payloads: each batch is 8+8+16+64 = 96 bytes.
const SEG = segmentBytes(1, 10);
const BATCH = 96;

describe('closed segment rules', () => {
  it('accepts a clean segment', async () => {
    const { scan, r } = await closedLoad(SEG, 1, 10);
    expect(r).toEqual({ ok: true, entries: 10 });
    expect(scan.batches).toBe(10);
    expect(scan.validBytes).toBe(SEG.length);
  });
  it('zero fill: count zero at the original size', async () => {
    const { r } = await closedLoad(withZeros(SEG, 4096), 1, 10);
    expect(r).toMatchObject({
      ok: false,
      kind: 'corrupt',
      code: 'segment.count-zero',
      offset: SEG.length,
      text: `entries batch 11 starting at byte ${SEG.length}: entries count in preamble is zero`,
    });
  });
  it('truncated: short reads name the failing batch start', async () => {
    const cut = SEG.subarray(0, 8 + 4 * BATCH + 40);
    expect((await closedLoad(cut, 1, 10)).r).toMatchObject({
      code: 'segment.short-data',
      offset: 8 + 4 * BATCH,
      text: `entries batch 5 starting at byte ${8 + 4 * BATCH}: read data: short read: 8 bytes instead of 64`,
    });
    const cut2 = SEG.subarray(0, 8 + 4 * BATCH + 20);
    expect((await closedLoad(cut2, 1, 10)).r).toMatchObject({
      code: 'segment.short-header',
      text: `entries batch 5 starting at byte ${8 + 4 * BATCH}: read header: short read: 4 bytes instead of 16`,
    });
    const cut3 = SEG.subarray(0, 8 + 4 * BATCH + 4);
    expect((await closedLoad(cut3, 1, 10)).r).toMatchObject({
      code: 'segment.short-preamble',
      text: `entries batch 5 starting at byte ${8 + 4 * BATCH}: read preamble: short read: 4 bytes instead of 8`,
    });
    // libraft quirk: when only the count is missing it reports the offset after the checksums.
    const cut4 = SEG.subarray(0, 8 + 4 * BATCH + 12);
    expect((await closedLoad(cut4, 1, 10)).r).toMatchObject({
      code: 'segment.short-preamble',
      offset: 8 + 4 * BATCH,
      text: `entries batch 5 starting at byte ${8 + 4 * BATCH + 8}: read preamble: short read: 4 bytes instead of 8`,
    });
  });
  it('checksums, counts and types', async () => {
    const data = SEG.slice();
    data[8 + 2 * BATCH + 40] ^= 0x10;
    expect((await closedLoad(data, 1, 10)).r).toMatchObject({
      code: 'segment.data-checksum',
      offset: 8 + 2 * BATCH,
      text: `entries batch 3 starting at byte ${8 + 2 * BATCH}: data checksum mismatch`,
    });
    const head = SEG.slice();
    head[8 + 2 * BATCH + 16] ^= 0x01; // term of the entry
    expect((await closedLoad(head, 1, 10)).r).toMatchObject({
      code: 'segment.header-checksum',
      text: `entries batch 3 starting at byte ${8 + 2 * BATCH}: header checksum mismatch`,
    });
    const high = SEG.slice();
    putU64(high, 8 + BATCH + 8, 7237124267461211499n);
    expect((await closedLoad(high, 1, 10)).r).toMatchObject({
      code: 'segment.count-too-high',
      text: `entries batch 2 starting at byte ${8 + BATCH}: entries count 7237124267461211499 in preamble is too high`,
    });
    // Unknown entry type with a valid header checksum: RAFT_MALFORMED, no text of its own.
    const { encodeSegment } = await import('../../shared/formats/dqlite/batch');
    const mal = encodeSegment([[{ term: 1, type: 1, payload: new Uint8Array(8) }], [{ term: 1, type: 9, payload: new Uint8Array(8) }]]);
    expect((await closedLoad(mal, 1, 2)).r).toMatchObject({ kind: 'malformed', code: 'segment.entry-type', text: 'entries batch 2 starting at byte 48' });
  });
  it('empty, tiny, wrong format, wrong count', async () => {
    expect((await closedLoad(new Uint8Array(0), 1, 1)).r).toMatchObject({ code: 'segment.empty', text: 'file is empty', kind: 'corrupt' });
    expect((await closedLoad(new Uint8Array(3), 1, 1)).r).toMatchObject({ code: 'segment.too-short', text: 'file has only 3 bytes', kind: 'ioerr' });
    const f = SEG.slice();
    f[0] = 2;
    expect((await closedLoad(f, 1, 10)).r).toMatchObject({ code: 'segment.format', text: 'unexpected format version 2' });
    expect((await closedLoad(SEG, 1, 11)).r).toMatchObject({ code: 'segment.entries-mismatch', text: 'found 10 entries (expected 11)' });
    const { scan } = await closedLoad(SEG, 1, 7);
    expect(scan.boundaryAtTarget).toEqual({ entries: 7, offset: 8 + 7 * BATCH });
  });
});

describe('open segment rules', () => {
  it('deletes never-written and empty files', async () => {
    expect(interpretOpen(await scanSegment(memorySource('open-1', new Uint8Array(1 << 20))))).toMatchObject({ outcome: 'deleted' });
    expect(interpretOpen(await scanSegment(memorySource('open-1', new Uint8Array(0))))).toMatchObject({ outcome: 'deleted' });
  });
  it('stops at zero fill and truncates at a bad batch', async () => {
    const s = await scanSegment(memorySource('open-1', withZeros(SEG, 8192)));
    expect(interpretOpen(s)).toEqual({ outcome: 'finalised', entries: 10, validBytes: SEG.length, truncated: true });
    expect(s.nonZeroTail).toBe(false);
    const flipped = withZeros(SEG, 8192);
    flipped[8 + 3 * BATCH + 50] ^= 1;
    const f = await scanSegment(memorySource('open-1', flipped));
    expect(interpretOpen(f)).toMatchObject({ outcome: 'finalised', entries: 3, truncated: true });
    expect(f.later).toEqual({ offset: 8 + 4 * BATCH, batches: 6, entries: 6 });
  });
  it('mid-batch short read after good batches crashes libraft 0.15', async () => {
    const r = interpretOpen(await scanSegment(memorySource('open-1', SEG.subarray(0, 8 + 3 * BATCH + 50))));
    expect(r).toMatchObject({ outcome: 'fatal', kind: 'ioerr', crash: true });
    const g = new Uint8Array(4096).fill(0x41);
    expect(interpretOpen(await scanSegment(memorySource('open-1', g)))).toMatchObject({ outcome: 'fatal', kind: 'corrupt', code: 'segment.format' });
  });
  it('never allocates from a huge length field', async () => {
    const s = SEG.slice();
    // Entry length 0xFFFFFFFF in batch 1 with a recomputed header checksum.
    const { headerChecksum } = await import('../../shared/formats/dqlite/batch');
    const { putU32 } = await import('../../shared/formats/dqlite/le');
    putU32(s, 8 + 28, 0xffffffff);
    putU32(s, 8, headerChecksum(s, 8, 1));
    const r = interpretClosed(1, 10, await scanSegment(memorySource('x', s)));
    expect(r).toMatchObject({
      code: 'segment.short-data',
      text: `entries batch 1 starting at byte 8: read data: short read: ${s.length - 40} bytes instead of 4294967295`,
    });
  });
});

describe('reading large segments in chunks', () => {
  /** Batches whose headers and payloads straddle the 1 MiB read chunks, including a header bigger than a chunk. */
  function bigSegment(): { bytes: Uint8Array; entries: number } {
    const batches: EntryToEncode[][] = [];
    let entries = 0;
    const add = (count: number, len: number) => {
      batches.push(Array.from({ length: count }, (_, k) => ({ term: 3, type: ENTRY_COMMAND, payload: payload(len, entries + k) })));
      entries += count;
    };
    add(1, 1_000_000); // ends just before the first 1 MiB edge
    add(3, 40_000); // straddles it
    add(70_000, 8); // header of 1.12 MB: larger than a chunk on its own
    add(1, 2_500_000); // payload spanning several chunks
    add(2, 8);
    return { bytes: encodeSegment(batches), entries };
  }

  it('checksums every batch across chunk edges and reads each byte once', async () => {
    const { bytes, entries } = bigSegment();
    const requests: [number, number][] = [];
    const src = memorySource('big', bytes);
    const counted = { ...src, read: (o: number, l: number) => (requests.push([o, l]), src.read(o, l)) };
    const scan = await scanSegment(counted, { targetEntries: entries });
    expect(scan.failure).toBeNull();
    expect(scan.entries).toBe(entries);
    expect(scan.batches).toBe(5);
    expect(scan.validBytes).toBe(bytes.length);
    expect(interpretClosed(1, entries, scan)).toEqual({ ok: true, entries });
    // Sequential, non-overlapping reads (read-ahead included), none bigger than the largest read the format allows.
    expect(scan.bytesRead).toBe(bytes.length);
    expect(requests.reduce((n, [, l]) => n + l, 0)).toBe(bytes.length);
    expect(Math.max(...requests.map(([, l]) => l))).toBeLessThanOrEqual(MAX_READ);
  });

  it('finds damage behind a chunk edge at the right batch', async () => {
    const { bytes } = bigSegment();
    const bad = bytes.slice();
    bad[bytes.length - 1000] ^= 0x10; // near the end of the 2.5 MB payload of batch 4 (batch 5 is 64 bytes)
    const scan = await scanSegment(memorySource('big', bad));
    expect(scan.failure).toMatchObject({ batch: 4, code: 'segment.data-checksum' });
    expect(scan.entries).toBe(70_004);
    const header = bytes.slice();
    header[1_000_100 + 16 + 3 * 16 + 8 + 16 * 35_000] ^= 1; // inside the 1.12 MB header (term of entry 35001)
    const scan2 = await scanSegment(memorySource('big', header));
    expect(scan2.failure).toMatchObject({ batch: 3, code: 'segment.header-checksum' });
  });
});
