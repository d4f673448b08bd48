import { describe, expect, it } from 'vitest';
import { crc32, crc32Js, crc32Reference, crcUsesWebAssembly } from '../../shared/formats/dqlite/crc';
import { classifyName, closedSegmentName } from '../../shared/formats/dqlite/segment-name';
import { decodeBatchHeader, encodeBatch, ENTRY_COMMAND, headerChecksum } from '../../shared/formats/dqlite/batch';
import { decodeConfiguration, encodeConfiguration } from '../../shared/formats/dqlite/configuration';
import { checkMetadata, checkMetadataPair, encodeMetadata } from '../../shared/formats/dqlite/metadata';
import { checkSnapshotMeta, encodeSnapshotMeta } from '../../shared/formats/dqlite/snapshot-meta';
import { bootstrapSegment, NODE, payload } from './builders';

const reader = (b: Uint8Array) => async (o: number, l: number) => b.subarray(o, o + l);

describe('crc', () => {
  it('matches the libraft check value and chains', () => {
    const bytes = new TextEncoder().encode('123456789');
    expect(crc32(bytes)).toBe(0x89a1897f);
    const big = payload(100_003, 7);
    expect(crc32(big)).toBe(crc32Reference(big));
    expect(crc32(big.subarray(5000), crc32(big.subarray(0, 5000)))).toBe(crc32(big));
  });
  it('slice-by-16 fast paths agree with the bit-by-bit reference at every length and alignment', () => {
    // Speed is measured by `npm run bench`, not timed here; this pins the fast path's correctness.
    const b = payload(4096 + 17, 3);
    for (let start = 0; start < 9; start++) {
      for (const len of [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 127, 128, 129, 143, 144, 145, 1000, 4096]) {
        const part = b.subarray(start, start + len);
        expect(crc32(part)).toBe(crc32Reference(part));
      }
    }
  });
  it('the WebAssembly loop (runs of 4 KiB and more, in 1 MiB spans) gives the JavaScript loop’s values, chained too', () => {
    expect(crcUsesWebAssembly()).toBe(true);
    const b = payload(3 * 1024 * 1024 + 777, 11);
    for (const [start, end] of [
      [0, 4096],
      [3, 4099 + 13],
      [1, 1024 * 1024],
      [5, 1024 * 1024 + 5],
      [17, 1024 * 1024 + 4096 + 3],
      [0, b.length],
      [999, b.length - 1],
    ] as const) {
      expect(crc32(b, 0, start, end), `${start}..${end}`).toBe(crc32Js(b, 0, start, end));
      expect(crc32(b, 0x12345678, start, end), `${start}..${end} from a running CRC`).toBe(crc32Js(b, 0x12345678, start, end));
    }
    const small = b.subarray(0, 100_000);
    expect(crc32(small)).toBe(crc32Reference(small));
    // Chained across a span boundary in both loops: the same as one run.
    const mid = 1024 * 1024 + 12_345;
    expect(crc32(b, crc32(b, 0, 0, mid), mid, b.length)).toBe(crc32Js(b));
  });
});

describe('file names', () => {
  it('classifies like UvList', () => {
    expect(classifyName('0000000014232389-0000000014232597')).toEqual({ kind: 'closed', first: 14232389, last: 14232597 });
    expect(classifyName('open-28053')).toEqual({ kind: 'open', counter: 28053 });
    expect(classifyName('snapshot-1-14233671-3430050282.meta')).toMatchObject({
      kind: 'snapshot-meta',
      index: 14233671,
      dataName: 'snapshot-1-14233671-3430050282',
    });
    expect(classifyName('snapshot-1-14233671-3430050282')).toMatchObject({ kind: 'snapshot-data', term: 1 });
    expect(classifyName('metadata2')).toEqual({ kind: 'metadata', n: 2 });
    expect(classifyName('corrupt-1795000000-0000000000001025-0000000000001406').kind).toBe('corrupt');
    expect(classifyName('tmp-snapshot-1-2-3').kind).toBe('tmp');
    // Look-alikes that libraft does not take as segments.
    for (const n of ['0000000000000001-0000000000000002.bak', '00000000000000001-0000000000000002', 'open-3x', 'open-', 'x0000000000000001-0000000000000002'])
      expect(classifyName(n).kind, n).toBe('unknown');
    // sscanf accepts short numbers: libraft does see "1-2" as a closed segment.
    expect(classifyName('1-2')).toEqual({ kind: 'closed', first: 1, last: 2 });
    expect(closedSegmentName(1, 975)).toBe('0000000000000001-0000000000000975');
  });
});

describe('batch, configuration, metadata, snapshot meta', () => {
  it('round-trips a batch header', () => {
    const b = encodeBatch([
      { term: 5, type: ENTRY_COMMAND, payload: payload(16, 1) },
      { term: 6, type: 2, payload: payload(8, 2) },
    ]);
    const h = decodeBatchHeader(b, 0);
    expect(h.count).toBe(2);
    expect(h.entries).toEqual([
      { term: 5, type: 1, length: 16 },
      { term: 6, type: 2, length: 8 },
    ]);
    expect(h.crc1).toBe(headerChecksum(b, 0, 2));
    expect(() => encodeBatch([{ term: 1, type: 1, payload: payload(5, 1) }])).toThrow();
  });
  it('encodes the bootstrap segment as libraft does (80 bytes)', () => {
    expect(bootstrapSegment().length).toBe(80);
    const c = decodeConfiguration(encodeConfiguration([NODE]));
    expect(c).toEqual({ ok: true, servers: [NODE] });
    expect(decodeConfiguration(new Uint8Array([1, 255, 255, 255, 255, 0, 0, 0, 0, 0])).ok).toBe(false);
  });
  it('checks metadata', () => {
    expect(checkMetadata('metadata1', 32, encodeMetadata(3, 2, 0))).toMatchObject({ state: 'ok' });
    expect(checkMetadata('metadata1', 10, new Uint8Array(0))).toEqual({ state: 'torn', size: 10 });
    expect(checkMetadata('metadata1', 40, encodeMetadata(1, 1))).toMatchObject({ code: 'metadata.size', engineError: 'metadata1 has size 40 instead of 32' });
    const bad = encodeMetadata(1, 1);
    bad[0] = 2;
    expect(checkMetadata('metadata2', 32, bad)).toMatchObject({ code: 'metadata.format', engineError: 'decode content of metadata2: bad format version 2' });
    expect(checkMetadata('metadata1', 32, encodeMetadata(0, 1))).toMatchObject({ engineError: 'decode content of metadata1: version is set to zero' });
    expect(checkMetadataPair(checkMetadata('metadata1', 32, encodeMetadata(4, 1)), checkMetadata('metadata2', 32, encodeMetadata(4, 1)))).toBe(
      'metadata1 and metadata2 are both at version 4',
    );
  });
  it('checks snapshot .meta files', async () => {
    const m = encodeSnapshotMeta(1, [NODE]);
    expect(m.length).toBe(72);
    expect(await checkSnapshotMeta('s.meta', m.length, reader(m))).toEqual({ ok: true, configurationIndex: 1, servers: [NODE] });
    const flipped = m.slice();
    flipped[40] ^= 1;
    expect(await checkSnapshotMeta('s.meta', m.length, reader(flipped))).toMatchObject({
      code: 'snapshot.meta-checksum',
      engineError: 'read s.meta: checksum mismatch',
      kind: 'corrupt',
    });
    expect(await checkSnapshotMeta('s.meta', 20, reader(m))).toMatchObject({ code: 'snapshot.meta-short', engineError: 'short read: 20 bytes instead of 32' });
    const huge = m.slice();
    huge[30] = 1;
    expect(await checkSnapshotMeta('s.meta', m.length, reader(huge))).toMatchObject({ code: 'snapshot.meta-conf-length', kind: 'corrupt' });
  });
});
