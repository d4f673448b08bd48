/**
 * Bad input for the WAL, .snap and request decoders: truncated, garbage,
 * huge lengths, every gogoproto error path, and a fixed-seed mutation fuzz
 * (2,000 mutated WAL files, 500 .snap files, 2,000 entries): nothing throws,
 * hangs or reads more than MAX_READ at once, and the same input always gives
 * the same output.
 */
import { describe, expect, it } from 'vitest';
import { MAX_READ, memoryDirectory, memorySource, type ByteSource, type DirectorySource } from '../../shared/bytes/byte-source';
import { crc32c } from '../../shared/formats/etcd/crc32c';
import { decodeWalFileBytes, readWalFile } from '../../shared/formats/etcd/wal-file';
import { encodeFrame, encodeWalRecord, marshalRecord, unmarshalRecord, MAX_WAL_ENTRY_SIZE } from '../../shared/formats/etcd/wal-record';
import { walName } from '../../shared/formats/etcd/wal-name';
import {
  decodeEntry,
  encodeConfChange,
  encodeEntry,
  encodeHardState,
  encodeMetadata,
  encodeWalSnapshot,
  decodeHardState,
} from '../../shared/formats/etcd/raft-entry';
import { decodeInternalRequest, encodePutRequest, encodeDeleteRangeRequest, summarizeRequest } from '../../shared/formats/etcd/internal-request';
import { listWalRecords, readWalEntries, scanWal, type SkippedRecord } from '../../shared/formats/etcd/wal';
import { decodeSnapBytes, encodeSnapFile } from '../../shared/formats/etcd/snap';
import { uniform as rng } from '../fuzz/mutate';

const te = new TextEncoder();

/** A WAL file as etcd writes the first one: CRC, metadata, snapshot {0,0}, conf change, HardStates and puts. */
function syntheticWal(puts = 60, pad = 4096): { bytes: Uint8Array; crc: number } {
  const frames: Uint8Array[] = [];
  let crc = 0;
  const add = (type: number, data: Uint8Array | null) => {
    const e = encodeWalRecord(type, data, crc);
    crc = e.crc;
    frames.push(e.frame);
  };
  add(4, null);
  add(1, encodeMetadata({ nodeId: 0x8e9e05c52164694dn, clusterId: 0xcdf818194e3a8c32n }));
  add(5, encodeWalSnapshot({ index: 0, term: 0 }));
  const member = te.encode('{"id":10276657743932975437,"peerURLs":["http://10.0.0.1:2380"],"name":"infra1","clientURLs":[]}');
  add(2, encodeEntry({ type: 1, term: 1, index: 1, data: encodeConfChange({ id: 0n, type: 0, nodeId: 0x8e9e05c52164694dn, context: member }) }));
  add(3, encodeHardState({ term: 1, vote: 0n, commit: 1 }));
  for (let i = 0; i < puts; i++) {
    const idx = i + 2;
    const data =
      i % 10 === 9
        ? encodeDeleteRangeRequest(BigInt(idx), te.encode(`/registry/pods/default/p${i - 1}`))
        : encodePutRequest(BigInt(idx), te.encode(`/registry/pods/default/p${i}`), te.encode(`value-${i}-${'x'.repeat(i * 7)}`));
    add(2, encodeEntry({ type: 0, term: 2, index: idx, data }));
    add(3, encodeHardState({ term: 2, vote: 0x8e9e05c52164694dn, commit: idx }));
  }
  const body = concat(frames);
  const out = new Uint8Array(body.length + pad);
  out.set(body, 0);
  return { bytes: out, crc };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A source that fails the test on a read above MAX_READ and counts what was read. */
function guarded(name: string, bytes: Uint8Array): ByteSource & { reads: number; bytesRead: number } {
  const inner = memorySource(name, bytes);
  const s = {
    name,
    size: bytes.length,
    reads: 0,
    bytesRead: 0,
    async read(offset: number, length: number) {
      if (length > MAX_READ) throw new Error(`read of ${length} bytes at ${offset} (above MAX_READ)`);
      if (offset < 0 || !Number.isSafeInteger(offset)) throw new Error(`bad offset ${offset}`);
      s.reads++;
      const b = await inner.read(offset, length);
      s.bytesRead += b.length;
      return b;
    },
  };
  return s;
}

function guardedDir(files: Record<string, Uint8Array>): DirectorySource {
  const base = memoryDirectory('wal', files);
  return { name: 'wal', list: () => base.list(), open: async (n) => guarded(n, files[n]!) };
}

function mutate(base: Uint8Array, r: () => number): Uint8Array {
  const b = base.slice();
  const kind = Math.floor(r() * 7);
  const at = () => Math.floor(r() * b.length);
  switch (kind) {
    case 0: // bit flips
      for (let k = 1 + Math.floor(r() * 8); k > 0; k--) b[at()]! ^= 1 << Math.floor(r() * 8);
      return b;
    case 1: // random bytes
      for (let k = 1 + Math.floor(r() * 4); k > 0; k--) b[at()] = Math.floor(r() * 256);
      return b;
    case 2: // truncation
      return b.subarray(0, at());
    case 3: {
      // a huge or odd length word on an 8-aligned offset
      const o = at() & ~7;
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      if (o + 8 <= b.length) {
        dv.setUint32(o, Math.floor(r() * 2 ** 32), true);
        dv.setUint32(o + 4, [0, 0x80000000, 0xff000000, 0x00ffffff, Math.floor(r() * 2 ** 32)][Math.floor(r() * 5)]!, true);
      }
      return b;
    }
    case 4: {
      // a zeroed range (a lost sector)
      const o = at();
      b.fill(0, o, Math.min(b.length, o + 1 + Math.floor(r() * 1024)));
      return b;
    }
    case 5: {
      // a chunk copied elsewhere
      const from = at();
      const len = Math.floor(r() * 200);
      const to = at();
      b.copyWithin(to, from, from + len);
      return b;
    }
    default: {
      // garbage
      const g = new Uint8Array(1 + Math.floor(r() * 2048));
      for (let i = 0; i < g.length; i++) g[i] = Math.floor(r() * 256);
      return g;
    }
  }
}

describe('CRC-32C', () => {
  it('matches the Castagnoli check value and chains like Go crc32.Update', () => {
    expect(crc32c(te.encode('123456789'))).toBe(0xe3069283);
    const a = te.encode('hello '.repeat(50));
    const b = te.encode('world '.repeat(70));
    expect(crc32c(b, crc32c(a))).toBe(crc32c(concat([a, b])));
    expect(crc32c(new Uint8Array(0), 0x1234)).toBe(0x1234);
  });
});

describe('walpb.Record.Unmarshal (gogoproto of etcd 3.4), error for error', () => {
  const cases: [string, number[], string][] = [
    ['tag varint overflow', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 'proto: integer overflow'],
    ['tag cut short', [0x80], 'unexpected EOF'],
    ['end group', [0x0c], 'proto: Record: wiretype end group for non-group'],
    ['field 0', [0x00], 'proto: Record: illegal tag 0 (wire type 0)'],
    ['type as bytes', [0x0a, 0x00], 'proto: wrong wireType = 2 for field Type'],
    ['crc as fixed64', [0x11, 0, 0, 0, 0, 0, 0, 0, 0], 'proto: wrong wireType = 1 for field Crc'],
    ['data as varint', [0x18, 0x01], 'proto: wrong wireType = 0 for field Data'],
    ['data longer than the record', [0x1a, 0x05, 0x01], 'unexpected EOF'],
    ['negative data length', [0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 'proto: negative length found during unmarshaling'],
    ['unknown field, fixed64 cut', [0x21, 0x00], 'unexpected EOF'],
    ['unknown field, illegal wire type 6', [0x26], 'proto: illegal wireType 6'],
    ['unknown group never closed', [0x23, 0x08, 0x01], 'unexpected EOF'],
  ];
  for (const [name, bytes, text] of cases) {
    it(name, () => {
      const r = unmarshalRecord(Uint8Array.from(bytes));
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error).toBe(text);
      expect(!r.ok && r.unexpectedEof).toBe(text === 'unexpected EOF');
    });
  }
  it('skips unknown fields and groups (10 MiB of nested groups without recursion)', () => {
    const nested = new Uint8Array(2 * 1024 * 1024);
    nested.fill(0x23, 0, nested.length / 2);
    nested.fill(0x24, nested.length / 2);
    const rec = concat([marshalRecord({ type: 2, crc: 7, data: Uint8Array.from([1, 2]) }), Uint8Array.from([0x28, 0x05]), nested]);
    const r = unmarshalRecord(rec);
    expect(r.ok && r.record).toEqual({ type: 2, crc: 7, data: Uint8Array.from([1, 2]) });
  });
  it('round-trips with the marshaller', () => {
    const rec = { type: 5, crc: 0xdeadbeef, data: Uint8Array.from([8, 1, 16, 2]) };
    expect(unmarshalRecord(marshalRecord(rec))).toEqual({ ok: true, record: rec });
    expect(unmarshalRecord(marshalRecord({ type: 4, crc: 1, data: null }))).toEqual({ ok: true, record: { type: 4, crc: 1, data: null } });
  });
});

describe('decoder rules of wal/decoder.go', () => {
  const { bytes, crc } = syntheticWal();

  it('decodes a clean file to its zero word and chains the CRC', () => {
    const r = decodeWalFileBytes(bytes);
    expect(r.end).toEqual({ kind: 'eof', offset: bytes.length - 4096, zeroWord: true });
    expect(r.crc).toBe(crc);
    expect(r.records.map((x) => x.type).slice(0, 5)).toEqual(['4', '1', '5', '2', '3']);
    expect(r.records.length).toBe(5 + 120);
  });

  it('7 bytes after the last record: unexpected EOF; 8 zero bytes: end', () => {
    const end = bytes.length - 4096;
    const short = concat([bytes.subarray(0, end), Uint8Array.from([1, 0, 0, 0, 0, 0, 0])]);
    expect(decodeWalFileBytes(short).end).toMatchObject({ kind: 'error', error: { failure: 'short-length-word', offset: end, engineError: 'unexpected EOF' } });
    expect(decodeWalFileBytes(bytes.subarray(0, end)).end).toEqual({ kind: 'eof', offset: end, zeroWord: false });
  });

  it('a huge length word is "max entry size limit exceeded" without reading or allocating it', async () => {
    const end = bytes.length - 4096;
    const b = bytes.slice();
    new DataView(b.buffer).setUint32(end, 0xffffffff, true);
    new DataView(b.buffer).setUint32(end + 4, 0x00ffffff, true);
    expect(decodeWalFileBytes(b).end).toMatchObject({
      kind: 'error',
      error: { failure: 'max-size', offset: end, engineError: 'wal: max entry size limit exceeded', unexpectedEof: false },
    });
    // Just below the limit but beyond the file: a short read (torn), read no further than the file.
    new DataView(b.buffer).setUint32(end, MAX_WAL_ENTRY_SIZE - 9, true);
    new DataView(b.buffer).setUint32(end + 4, 0, true);
    const src = guarded('x.wal', b);
    const r = await readWalFile(src, { isLast: true, crc: 0 });
    expect(r.end).toMatchObject({ kind: 'error', error: { failure: 'short-record', offset: end, engineError: 'unexpected EOF' } });
    expect(src.bytesRead).toBeLessThanOrEqual(b.length);
  });

  it('torn only in the last file: a zero 512-byte sector chunk turns a CRC error into unexpected EOF', () => {
    // The last put's record spans sectors; zero its second half.
    const r0 = decodeWalFileBytes(bytes);
    const spans = (x: { offset: number; length: number }) => Math.floor((x.offset + 8) / 512) !== Math.floor((x.offset + 8 + x.length - 1) / 512);
    const big = r0.records.filter((x) => x.type === '2' && spans(x)).at(-1)!;
    const b = bytes.slice();
    const secondSector = (Math.floor((big.offset + 8) / 512) + 1) * 512;
    b.fill(0, secondSector, Math.min(secondSector + 512, big.offset + 8 + big.length));
    const last = decodeWalFileBytes(b);
    expect(last.end).toMatchObject({ kind: 'error', error: { failure: 'torn', offset: big.offset, engineError: 'unexpected EOF' } });
    // The same bytes as a middle file: walpb: crc mismatch.
    return readWalFile(memorySource('x', b), { isLast: false, crc: 0 }).then((r) => {
      expect(r.end).toMatchObject({ kind: 'error', error: { failure: 'record-crc', offset: big.offset, engineError: 'walpb: crc mismatch' } });
    });
  });

  it('a CRC record that breaks a non-zero chain is "wal: crc mismatch"; from a zero chain it is trusted', async () => {
    const wrongStart = encodeWalRecord(4, null, 0x1234).frame;
    const rest = bytes.subarray(16); // after the file's own CRC record
    const b = concat([wrongStart, rest]);
    // Chained from 0 (a fresh decoder): trusted, then the next record fails against 0x1234.
    expect(decodeWalFileBytes(b).end).toMatchObject({ kind: 'error', error: { failure: 'record-crc', offset: 16 } });
    const chained = await readWalFile(memorySource('x', b), { isLast: false, crc: 0x9999 });
    expect(chained.end).toMatchObject({ kind: 'error', error: { failure: 'chain-crc', offset: 0, engineError: 'wal: crc mismatch' } });
  });

  it('skips a 64 MB preallocated zero tail in MAX_READ chunks, and sees data after the end', async () => {
    const big = new Uint8Array(64_000_000);
    big.set(bytes.subarray(0, bytes.length - 4096), 0);
    const src = guarded('x.wal', big);
    const r = await readWalFile(src, { isLast: true, crc: 0 });
    expect(r.end).toMatchObject({ kind: 'eof', zeroWord: true });
    expect(r.zeroTailBytes).toBe(64_000_000 - r.validBytes);
    expect(r.dataAfterEnd).toBeNull();
    expect(src.reads).toBeLessThanOrEqual(Math.ceil(64_000_000 / MAX_READ) + 2);
    big[50_000_001] = 7;
    const r2 = await readWalFile(guarded('x.wal', big), { isLast: true, crc: 0 });
    expect(r2.dataAfterEnd).toBe(50_000_001);
    expect(r2.zeroTailBytes).toBe(50_000_001 - r2.validBytes);
  });

  it('a zero-length negative word is an empty record of type 0: accepted only while the chain is 0', async () => {
    const word = new Uint8Array(8);
    new DataView(word.buffer).setUint32(4, 0x80000000, true);
    // At the very start (running CRC 0) the empty record passes its check; ReadAll then rejects type 0.
    expect(decodeWalFileBytes(concat([word, new Uint8Array(8)])).records).toEqual([{ offset: 0, length: 0, type: '0', crcField: 0, crcAfter: 0 }]);
    const s0 = await scanWal(memoryDirectory('wal', { [walName(0, 0)]: concat([word, new Uint8Array(8)]) }), 'member/wal');
    expect(s0.readError).toMatchObject({
      kind: 'other',
      engineError: 'unexpected block type 0',
      fatalText: 'read wal error (unexpected block type 0) and cannot be repaired',
    });
    // After other records its stored crc 0 differs from the chain: walpb: crc mismatch (no data, so never torn).
    const end = bytes.length - 4096;
    const b = concat([bytes.subarray(0, end), word, new Uint8Array(8)]);
    const s = await scanWal(memoryDirectory('wal', { [walName(0, 0)]: b }), 'member/wal');
    expect(s.readError).toMatchObject({
      kind: 'crc-mismatch',
      offset: end,
      engineError: 'walpb: crc mismatch',
      fatalText: 'walpb: crc mismatch',
      stage: 'valid-snapshot-entries',
    });
  });
});

describe('inspection listing continues past a damaged record', () => {
  it('lists the bad record with its problem and the records after it', async () => {
    const { bytes } = syntheticWal(20);
    const clean = await listWalRecords(memorySource('x', bytes), 'x.wal', 0, 1000);
    const target = clean[20]!;
    const b = bytes.slice();
    b[target.offset + 8 + target.length - 1]! ^= 0x40;
    const listed = await listWalRecords(memorySource('x', b), 'x.wal', 0, 1000);
    expect(listed.length).toBe(clean.length);
    expect(listed[20]!.crcOk).toBe(false);
    expect(listed[20]!.problem).toMatch(/^walpb: crc mismatch: stored CRC 0x[0-9a-f]{8} but the data gives 0x[0-9a-f]{8}$/);
    expect(listed.filter((r) => r.problem !== null).length).toBe(1);
    expect(listed.slice(21)).toEqual(clean.slice(21));
    expect(listed[25]!.summary).toBe(clean[25]!.summary);
  });
});

describe('fixed-seed mutation fuzz', () => {
  const { bytes } = syntheticWal(40, 2048);

  it('2,000 mutated WAL files: no throw, bounded, deterministic', async () => {
    const r = rng(0x5eed);
    for (let i = 0; i < 2000; i++) {
      const m = mutate(bytes, r);
      const a = decodeWalFileBytes(m);
      const b = decodeWalFileBytes(m);
      expect(b).toEqual(a);
      const end = a.end.kind === 'eof' ? a.end.offset : a.end.error.offset;
      expect(end).toBeGreaterThanOrEqual(0);
      expect(end).toBeLessThanOrEqual(m.length);
      if (i % 10 === 0) {
        // The whole scan and the listing over a two-file WAL whose second file is the mutant.
        const files = { [walName(0, 0)]: bytes.subarray(0, bytes.length - 2048), [walName(1, 40)]: m };
        const s1 = await scanWal(guardedDir(files), 'member/wal');
        const s2 = await scanWal(guardedDir(files), 'member/wal');
        expect(s2).toEqual(s1);
        // ReadAll from pass 1's facts gives what a real second pass over the files gives.
        const exact = await scanWal(guardedDir(files), 'member/wal', { exactReadAll: true });
        expect({ ...exact, bytesRead: 0 }).toEqual({ ...s1, bytesRead: 0 });
        if (s1.validSnapshots?.length) {
          const at = s1.validSnapshots.at(-1)!;
          for (const openAt of [at, { index: at.index + 3, term: at.term }, { index: 5, term: 2 }]) {
            const a = await scanWal(guardedDir(files), 'member/wal', { openAt });
            const b = await scanWal(guardedDir(files), 'member/wal', { openAt, exactReadAll: true });
            expect({ ...b, bytesRead: 0 }).toEqual({ ...a, bytesRead: 0 });
          }
        }
        const l1 = await listWalRecords(guarded('m', m), 'm', 0, 500);
        expect(await listWalRecords(guarded('m', m), 'm', 0, 500)).toEqual(l1);
      }
    }
  }, 120_000);

  it('500 mutated .snap files and 2,000 mutated entries/requests: no throw, deterministic', () => {
    const r = rng(42);
    const snap = encodeSnapFile({
      data: te.encode('{"Root":{"Children":{"0":{"Children":{"members":{"Children":{"1":{"Children":{}}}}}}}}}'),
      index: 9,
      term: 2,
      confState: { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false },
    });
    for (let i = 0; i < 500; i++) {
      const m = mutate(snap, r);
      expect(decodeSnapBytes(m)).toEqual(decodeSnapBytes(m));
    }
    const entry = encodeEntry({ type: 0, term: 3, index: 77, data: encodePutRequest(5n, te.encode('/registry/a'), te.encode('value'), 0x1234n) });
    for (let i = 0; i < 2000; i++) {
      const m = mutate(entry, r);
      const d = decodeEntry(m);
      expect(decodeEntry(m)).toEqual(d);
      decodeHardState(m);
      const req = decodeInternalRequest(m);
      expect(decodeInternalRequest(m)).toEqual(req);
      if (req) expect(typeof summarizeRequest(req)).toBe('string');
    }
  });
});

describe('bad WAL directories', () => {
  it('no files, only leftovers, empty file, garbage file: findings, never a throw', async () => {
    const none = await scanWal(
      memoryDirectory('wal', { '0.tmp': new Uint8Array(10), 'x.wal.broken': new Uint8Array(10), 'notes.txt': new Uint8Array(1) }),
      'member/wal',
    );
    expect(none.readError).toMatchObject({ kind: 'no-wal', engineError: 'wal: file not found' });
    expect(none.findings.map((f) => f.code).sort()).toEqual(['wal.ignored-file', 'wal.leftover-broken', 'wal.leftover-tmp', 'wal.none']);
    const empty = await scanWal(memoryDirectory('wal', { [walName(0, 0)]: new Uint8Array(0) }), 'member/wal');
    expect(empty.readError).toMatchObject({ kind: 'snapshot-not-found', engineError: 'wal: snapshot not found' });
    expect(empty.findings.map((f) => f.code)).toEqual(['wal.snapshot-not-found']);
    const g = new Uint8Array(4096);
    const r = rng(7);
    for (let i = 0; i < g.length; i++) g[i] = Math.floor(r() * 256);
    const garbage = await scanWal(memoryDirectory('wal', { [walName(0, 0)]: g }), 'member/wal');
    expect(garbage.readError?.stage).toBe('valid-snapshot-entries');
    expect(garbage.findings.some((f) => f.severity === 'error' && f.file === `member/wal/${walName(0, 0)}` && typeof f.offset === 'number')).toBe(true);
  });

  it('a record that is not a walpb.Record, before the last file: wal.decode with the gogoproto text', async () => {
    const { bytes } = syntheticWal(5);
    const end = bytes.length - 4096;
    const bad = encodeFrame(Uint8Array.from([0x0c, 0x01, 0x02, 0x03]));
    const first = concat([bytes.subarray(0, end), bad]);
    const s = await scanWal(memoryDirectory('wal', { [walName(0, 0)]: first, [walName(1, 7)]: encodeWalRecord(4, null, 0).frame }), 'member/wal');
    expect(s.readError).toMatchObject({
      kind: 'decode',
      offset: end,
      engineError: 'proto: Record: wiretype end group for non-group',
      fatalText: 'proto: Record: wiretype end group for non-group',
      stage: 'valid-snapshot-entries',
    });
    const f = s.findings.find((x) => x.code === 'wal.decode')!;
    expect(f).toMatchObject({ file: `member/wal/${walName(0, 0)}`, offset: end, severity: 'error' });
    // The same bytes in the last file with a zero sector would be torn; here the chunk is not zero: still an error.
    expect(decodeWalFileBytes(first).end).toMatchObject({ kind: 'error', error: { failure: 'proto' } });
  });

  it('a snapshot index below every file: "wal: file not found" at open', async () => {
    const { bytes } = syntheticWal(5);
    const s = await scanWal(memoryDirectory('wal', { [walName(3, 500)]: bytes }), 'member/wal', { openAt: { index: 100, term: 2 } });
    expect(s.readError).toMatchObject({
      kind: 'snapshot-not-found',
      engineError: 'wal: file not found',
      stage: 'open',
      fatalText: 'open wal error: wal: file not found',
    });
    expect(s.findings.map((f) => [f.code, f.params])).toEqual([['wal.file-not-found', { index: 100, file: `member/wal/${walName(3, 500)}`, first: 500 }]]);
  });

  it('frames built here decode back to the same records', () => {
    const data = encodeHardState({ term: 7, vote: 0xffffffffffffffffn, commit: 2 ** 40 });
    const rec = marshalRecord({ type: 3, crc: crc32c(data), data });
    const f = encodeFrame(rec);
    expect(f.length).toBe(8 + Math.ceil(rec.length / 8) * 8);
    const r = decodeWalFileBytes(f);
    expect(r.records).toEqual([{ offset: 0, length: rec.length, type: '3', crcField: crc32c(data), crcAfter: crc32c(data) }]);
    expect(decodeHardState(data)).toEqual({ ok: true, value: { term: 7, vote: 0xffffffffffffffffn, commit: 2 ** 40 } });
  });
});

describe('ReadAll rules (from the first pass and from a real second pass alike)', () => {
  type Rec = [number, Uint8Array | null];
  const md = (node: bigint) => encodeMetadata({ nodeId: node, clusterId: 7n });
  const ent = (index: number, term = 2) =>
    encodeEntry({ type: 0, term, index, data: encodePutRequest(BigInt(index), te.encode(`/k/${index}`), te.encode('v')) });
  /** Files as etcd writes them: each starts with a CRC record chaining from the previous file. */
  function wal(files: Rec[][]): Record<string, Uint8Array> {
    let crc = 0;
    let lastIndex = 0;
    const out: Record<string, Uint8Array> = {};
    files.forEach((recs, seq) => {
      const frames: Uint8Array[] = [];
      const name = walName(seq, seq === 0 ? 0 : lastIndex + 1);
      for (const [type, data] of [[4, null] as Rec, ...recs]) {
        const e = encodeWalRecord(type, data, crc);
        crc = e.crc;
        frames.push(e.frame);
        if (type === 2 && data) lastIndex = (decodeEntry(data) as { value: { index: number } }).value.index;
      }
      out[name] = concat(frames);
    });
    return out;
  }
  async function both(files: Record<string, Uint8Array>, openAt?: { index: number; term: number }) {
    const a = await scanWal(memoryDirectory('wal', files), 'member/wal', { openAt });
    const b = await scanWal(memoryDirectory('wal', files), 'member/wal', { openAt, exactReadAll: true });
    expect({ ...b, bytesRead: 0 }).toEqual({ ...a, bytesRead: 0 });
    return a;
  }
  const head: Rec[] = [
    [1, md(1n)],
    [5, encodeWalSnapshot({ index: 0, term: 0 })],
  ];
  const hs = (commit: number) => [3, encodeHardState({ term: 2, vote: 1n, commit })] as Rec;

  it('a clean two-file WAL opened at a snapshot in the second file', async () => {
    const files = wal([
      [...head, [2, ent(1)], [2, ent(2)], hs(2)],
      [[1, md(1n)], hs(2), [2, ent(3)], [5, encodeWalSnapshot({ index: 3, term: 2 })], [2, ent(4)], hs(4)],
    ]);
    const s = await both(files);
    expect(s.readError).toBeNull();
    expect(s.openedAt).toEqual({ index: 3, term: 2 });
    expect(s.info.files.map((f) => f.role)).toEqual(['before-snapshot', 'read']);
    expect(s.info.lastIndex).toBe(4);
  });

  it('entries missing in the middle: "wal: slice bounds out of range" at the entry after the gap', async () => {
    const files = wal([[...head, [2, ent(1)], [2, ent(2)], [2, ent(5)], [2, ent(6)], hs(6)]]);
    const s = await both(files);
    expect(s.readError).toMatchObject({
      kind: 'other',
      engineError: 'wal: slice bounds out of range',
      fatalText: 'read wal error (wal: slice bounds out of range) and cannot be repaired',
    });
    expect(s.findings.find((f) => f.code === 'wal.index-gap')!.params).toMatchObject({ index: 5, prev: 2 });
    // Opened at a snapshot after the gap, the gap does not matter.
    const files2 = wal([[...head, [2, ent(1)], [2, ent(2)], [2, ent(5)], [5, encodeWalSnapshot({ index: 5, term: 2 })], [2, ent(6)], hs(6)]]);
    expect((await both(files2)).readError).toBeNull();
  });

  it('a file cut mid-record before the last: etcd stops there and never reads the files after it', async () => {
    const files = wal([
      [...head, [2, ent(1)], [2, ent(2)], hs(2)],
      [[1, md(1n)], hs(2), [2, ent(3)], hs(3)],
      [[1, md(1n)], hs(3), [2, ent(4)], hs(4)],
    ]);
    const names = Object.keys(files).sort();
    files[names[0]!] = files[names[0]!]!.subarray(0, files[names[0]!]!.length - 5);
    const s = await both(files);
    expect(s.readError).toMatchObject({ kind: 'torn-tail', repairable: false, fatalText: 'read wal error (unexpected EOF) and cannot be repaired' });
    expect(s.info.files.map((f) => f.role)).toEqual(['fails', 'not-read', 'not-read']);
    expect(s.findings.filter((f) => f.code === 'wal.not-read').map((f) => f.file)).toEqual([`member/wal/${names[1]}`, `member/wal/${names[2]}`]);
    // They are still summarised for the user.
    expect(s.info.files[2]!.entries).toBe(1);
  });

  it('a raft overwrite (lower index again) is kept, as raft does', async () => {
    const files = wal([[...head, [2, ent(1)], [2, ent(2)], [2, ent(3)], [2, ent(2, 3)], [2, ent(3, 3)], hs(3)]]);
    const s = await both(files);
    expect(s.readError).toBeNull();
    expect(s.info.lastIndex).toBe(3);
    expect(s.info.lastTerm).toBe(3);
  });

  it('metadata of another member in a later file: "wal: conflicting metadata found"', async () => {
    const files = wal([
      [...head, [2, ent(1)], hs(1)],
      [[1, md(2n)], hs(1), [2, ent(2)], hs(2)],
    ]);
    const s = await both(files);
    expect(s.readError).toMatchObject({ kind: 'other', engineError: 'wal: conflicting metadata found', file: `member/wal/${walName(1, 2)}`, offset: 16 });
    expect(s.findings.filter((f) => f.severity === 'error').map((f) => [f.code, f.file, f.offset])).toEqual([
      ['wal.metadata-conflict', `member/wal/${walName(1, 2)}`, 16],
    ]);
  });

  it('the snapshot record with another term: "wal: snapshot mismatch"; none: "wal: snapshot not found"', async () => {
    const files = wal([[...head, [2, ent(1)], [2, ent(2)], [5, encodeWalSnapshot({ index: 2, term: 1 })], hs(2)]]);
    const mismatch = await both(files, { index: 2, term: 2 });
    expect(mismatch.readError).toMatchObject({ engineError: 'wal: snapshot mismatch' });
    expect(mismatch.findings.find((f) => f.code === 'wal.snapshot-mismatch')!.params).toMatchObject({ index: 2, term: 1, snapTerm: 2 });
    expect((await both(files, { index: 1, term: 2 })).readError).toMatchObject({ kind: 'snapshot-not-found', engineError: 'wal: snapshot not found' });
  });

  it('a record type etcd does not know, with a valid CRC: "unexpected block type 9"', async () => {
    const files = wal([[...head, [2, ent(1)], [9, te.encode('x')], hs(1)]]);
    const s = await both(files);
    expect(s.readError).toMatchObject({ engineError: 'unexpected block type 9' });
    expect(s.findings.find((f) => f.code === 'wal.unknown-record-type')!.message).toContain('has type 9');
  });
});

describe('readWalEntries salvage mode (skipDamaged)', () => {
  const md = encodeMetadata({ nodeId: 1n, clusterId: 7n });
  const ent = (index: number) =>
    encodeEntry({ type: 0, term: 2, index, data: encodePutRequest(BigInt(index), te.encode(`/k/${index}`), te.encode(`v${index}`)) });
  /** One file: CRC, metadata, snapshot, entries 1..n each followed by a HardState; returns frame offsets of the entries. */
  function file(first: number, n: number, crc0: number): { bytes: Uint8Array; entryAt: number[]; crc: number } {
    let crc = crc0;
    const frames: Uint8Array[] = [];
    const entryAt: number[] = [];
    let at = 0;
    const add = (t: number, d: Uint8Array | null) => {
      const e = encodeWalRecord(t, d, crc);
      crc = e.crc;
      if (t === 2) entryAt.push(at);
      frames.push(e.frame);
      at += e.frame.length;
    };
    add(4, null);
    add(1, md);
    if (first === 1) add(5, encodeWalSnapshot({ index: 0, term: 0 }));
    for (let i = first; i < first + n; i++) {
      add(2, ent(i));
      add(3, encodeHardState({ term: 2, vote: 1n, commit: i }));
    }
    return { bytes: concat(frames), entryAt, crc };
  }
  async function entries(files: Record<string, Uint8Array>, skipDamaged: boolean) {
    const got: number[] = [];
    const skipped: { file: string; offset: number; engineError: string; restOfFile: boolean }[] = [];
    await readWalEntries(memoryDirectory('wal', files), 'member/wal', 1, (e) => void got.push(e.index), {
      skipDamaged,
      onSkip: (s) => skipped.push({ file: s.file, offset: s.offset, engineError: s.engineError, restOfFile: s.restOfFile }),
    });
    return { got, skipped };
  }

  it('a record with a flipped byte: etcd stops (entries 1-2); salvage steps over it (1-2, 4-6)', async () => {
    const f = file(1, 6, 0);
    const b = f.bytes.slice();
    b[f.entryAt[2]! + 20]! ^= 0x01;
    const name = walName(0, 0);
    expect(await entries({ [name]: b }, false)).toEqual({ got: [1, 2], skipped: [] });
    const s = await entries({ [name]: b }, true);
    expect(s.got).toEqual([1, 2, 4, 5, 6]);
    expect(s.skipped).toEqual([{ file: `member/wal/${name}`, offset: f.entryAt[2], engineError: 'walpb: crc mismatch', restOfFile: false }]);
  });

  it('a record that does not unmarshal: salvage resynchronises on the next record', async () => {
    const f = file(1, 6, 0);
    const b = f.bytes.slice();
    b[f.entryAt[2]! + 8] = 0x0c; // wiretype end group: Record.Unmarshal fails
    const s = await entries({ [walName(0, 0)]: b }, true);
    expect(s.got).toEqual([1, 2, 4, 5, 6]);
    expect(s.skipped.map((x) => x.engineError)).toEqual(['proto: Record: wiretype end group for non-group']);
  });

  it('a garbage length word: salvage reads on from the next frame whose CRC chains, and the next file', async () => {
    const f1 = file(1, 4, 0);
    const f2 = file(5, 3, f1.crc);
    const b = f1.bytes.slice();
    new DataView(b.buffer).setUint32(f1.entryAt[2]! + 4, 0x00ffffff, true);
    const files = { [walName(0, 0)]: b, [walName(1, 5)]: f2.bytes };
    expect((await entries(files, false)).got).toEqual([1, 2]);
    const s = await entries(files, true);
    // Entry 3's frame cannot be told apart; its HardState is read on trust, and entry 4 chains from it.
    expect(s.got).toEqual([1, 2, 4, 5, 6, 7]);
    expect(s.skipped).toEqual([
      { file: `member/wal/${walName(0, 0)}`, offset: f1.entryAt[2], engineError: 'wal: max entry size limit exceeded', restOfFile: false },
    ]);
  });

  it('a length word that leads into the zero tail (torn, to etcd): salvage reads on from the next frame, not from where it leads', async () => {
    // Found by the random salvage campaign: bit 3 of a length word's third byte (+512 KiB) made the record reach into
    // the preallocated zeros; followed there, every record after it was skipped, and no loss was said.
    const f = file(1, 6, 0);
    const b = new Uint8Array(f.bytes.length + (1 << 20));
    b.set(f.bytes);
    b[f.entryAt[2]! + 2]! ^= 0x08;
    const s = await entries({ [walName(0, 0)]: b }, true);
    expect(s.got).toEqual([1, 2, 4, 5, 6]);
    expect(s.skipped.map((x) => [x.offset, x.restOfFile])).toEqual([[f.entryAt[2], false]]);
  });

  it('a garbage length word and nothing that chains after it: the rest of that file is lost, the next file is read', async () => {
    const f1 = file(1, 4, 0);
    const f2 = file(5, 3, f1.crc);
    const b = f1.bytes.slice(0, f1.entryAt[3]);
    new DataView(b.buffer).setUint32(f1.entryAt[2]! + 4, 0x00ffffff, true);
    // What followed entry 3 (its HardState) is cut away with entry 4: no frame after the damage has one after it.
    const cut = b.slice(0, f1.entryAt[2]! + 24);
    const s = await entries({ [walName(0, 0)]: cut, [walName(1, 5)]: f2.bytes }, true);
    expect(s.got).toEqual([1, 2, 5, 6, 7]);
    expect(s.skipped.map((x) => x.restOfFile)).toEqual([true]);
  });

  it('a zeroed run over whole records (a zero length word, records after it): etcd ends its log there; salvage reads on', async () => {
    const f = file(1, 6, 0);
    const b = f.bytes.slice();
    b.fill(0, f.entryAt[2]!, f.entryAt[4]!);
    const name = walName(0, 0);
    expect(await entries({ [name]: b }, false)).toEqual({ got: [1, 2], skipped: [] });
    const got: number[] = [];
    const skipped: SkippedRecord[] = [];
    await readWalEntries(memoryDirectory('wal', { [name]: b }), 'member/wal', 1, (e) => void got.push(e.index), {
      skipDamaged: true,
      onSkip: (x) => skipped.push(x),
    });
    expect(got).toEqual([1, 2, 5, 6]);
    expect(skipped.map((x) => [x.offset, x.resumeAt, x.zeroWord, x.restOfFile])).toEqual([[f.entryAt[2], f.entryAt[4], true, false]]);
  });
});
