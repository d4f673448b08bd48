/**
 * The signature catalog against real engine texts: every libraft loader
 * error of the format doc and the user reports, etcd/bbolt texts from the
 * etcd doc, and each signature's own examples; every signature has a title,
 * explanation and next step in both languages that only use fields it
 * always captures. That no pattern is slow on hostile input is
 * test/logs/linear-signatures.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { SIGNATURES, signatureKey } from '../../shared/logs/signatures';
import { SignatureMatcher } from '../../shared/logs/match';
import { MESSAGES } from '../../shared/i18n';

const matcher = new SignatureMatcher();

/** Real lines (format-dqlite-raft.md §1-§5, format-etcd.md, field reports) → the signature and fields expected. */
const REAL_LINES: [string, string, Record<string, string>][] = [
  [
    'load closed segment 0000000000000976-0000000000001024: entries batch 50 starting at byte 413936: entries count in preamble is zero',
    'dqlite.closed-segment-batch',
    { segment: '0000000000000976-0000000000001024', batch: '50', offset: '413936', problem: 'zero-count' },
  ],
  [
    'load closed segment 0000000000000976-0000000000001024: entries batch 49 starting at byte 405656: read data: short read: 8212 bytes instead of 8248',
    'dqlite.closed-segment-batch',
    { batch: '49', offset: '405656', reason: 'read data: short read: 8212 bytes instead of 8248', problem: 'short-read' },
  ],
  [
    'load closed segment 0000000000000976-0000000000001024: entries batch 24 starting at byte 198656: data checksum mismatch',
    'dqlite.closed-segment-batch',
    { problem: 'data-checksum' },
  ],
  [
    'load closed segment 0000000000000976-0000000000001024: entries batch 3 starting at byte 40: header checksum mismatch',
    'dqlite.closed-segment-batch',
    { problem: 'header-checksum' },
  ],
  [
    'Error: start node: raft_start(): io: load closed segment 0000000131229862-0000000131230502: entries batch 594 starting at byte 7573496: entries count 7237124267461211499 in preamble is too high',
    'dqlite.closed-segment-batch',
    { batch: '594', offset: '7573496', problem: 'count-too-high' },
  ],
  [
    'raft_start(): io: load closed segment 0000000000000185-0000000000000370: found 185 entries (expected 186)',
    'dqlite.closed-segment-count',
    { found: '185', expected: '186' },
  ],
  ['load closed segment 0000000000000001-0000000000000001: file has only 4 bytes', 'dqlite.closed-segment-file', { reason: 'file has only 4 bytes' }],
  [
    'load closed segment 0000000000000001-0000000000000001: unexpected format version 7',
    'dqlite.closed-segment-file',
    { reason: 'unexpected format version 7' },
  ],
  ['load open segment open-4: unexpected format version 1234', 'dqlite.open-segment', { segment: 'open-4', reason: 'unexpected format version 1234' }],
  [
    'unexpected closed segment 0000000000001025-0000000000001406: first index should have been 976',
    'dqlite.segment-sequence',
    { segment: '0000000000001025-0000000000001406', expectedIndex: '976' },
  ],
  [
    'closed segment 0000000187010159-0000000187010530 is past last snapshot snapshot-1-187009805-84737',
    'dqlite.past-snapshot',
    { segment: '0000000187010159-0000000187010530', snapshot: 'snapshot-1-187009805-84737' },
  ],
  ["last entry on disk has index 900, which is behind last snapshot's index 1024", 'dqlite.behind-snapshot', { lastIndex: '900', snapshotIndex: '1024' }],
  ['raft_start(): io: LZ4F_decompress ERROR_contentChecksum_invalid', 'dqlite.snapshot-lz4', { lz4Error: 'ERROR_contentChecksum_invalid' }],
  ['raft_start(): io: LZ4F_decompress ERROR_frameSize_wrong', 'dqlite.snapshot-lz4', { lz4Error: 'ERROR_frameSize_wrong' }],
  ['read snapshot-1-1024-1243943.meta: checksum mismatch', 'dqlite.snapshot-meta', { meta: 'snapshot-1-1024-1243943.meta' }],
  ['metadata2 has size 64 instead of 32', 'dqlite.metadata', { file: 'metadata2', reason: '64' }],
  ['decode content of metadata1: bad format version 9', 'dqlite.metadata', { file: 'metadata1', reason: 'bad format version 9' }],
  ['metadata1 and metadata2 are both at version 12', 'dqlite.metadata-same-version', { version: '12' }],
  ['Error: start node: raft_start():', 'dqlite.raft-start', {}],
  ['raft_bootstrap(): bootstrap only works on new clusters', 'dqlite.raft-bootstrap', { detail: 'bootstrap only works on new clusters' }],
  [
    'panic: freepages: failed to get all reachable pages (page 0: invalid type: unknown<00>)',
    'etcd.bbolt-freepages',
    { page: '0', problem: 'invalid type: unknown<00>' },
  ],
  [
    'panic: freepages: failed to get all reachable pages (page 4213: out of bounds: 1203)',
    'etcd.bbolt-freepages',
    { page: '4213', problem: 'out of bounds: 1203' },
  ],
  [
    'panic: tocommit(3730) is out of range [lastIndex(0)]. Was the raft log corrupted, truncated, or lost?',
    'etcd.tocommit-out-of-range',
    { tocommit: '3730', lastIndex: '0' },
  ],
  ['C | etcdmain: member 3e8fa6e3e4e6a5c1 has already been bootstrapped', 'etcd.already-bootstrapped', { memberId: '3e8fa6e3e4e6a5c1' }],
  ['read wal error (walpb: crc mismatch) and cannot be repaired', 'etcd.wal-crc', { what: 'walpb: crc mismatch' }],
  ['failed to publish local member to cluster through raft', 'etcd.publish-failed', {}],
  ['{"health":"false","reason":"RAFT NO LEADER"}', 'etcd.no-leader', {}],
  [
    'rafthttp: health check for peer 8e9e05c52164694d could not connect: dial tcp 172.17.0.3:2380: connect: connection refused',
    'etcd.peer-unreachable',
    { peer: '172.17.0.3:2380', peerId: '8e9e05c52164694d' },
  ],
  ['Error: data-dir "/var/lib/etcd" exists', 'etcd.data-dir-exists', { dataDir: '/var/lib/etcd' }],
  ['etcdserver: mvcc: database space exceeded', 'etcd.no-space', {}],
  ["snap: snapshot file doesn't exist", 'etcd.snap-error', { what: "snapshot file doesn't exist" }],
  ['Unable to connect to the server: dial tcp 10.0.0.1:16443: connect: connection refused', 'kubernetes.apiserver-refused', { endpoint: '10.0.0.1:16443' }],
  [
    'Failed to start server: start node: raft_start(): io: load closed segment 0000000000000001-0000000000000002: file is empty',
    'dqlite.closed-segment-file',
    { reason: 'file is empty' },
  ],
];

describe('signature catalog', () => {
  it('has unique ids and recognises each of its own examples, one per pattern at least', () => {
    const ids = SIGNATURES.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const sig of SIGNATURES) {
      const only = new SignatureMatcher([sig]);
      expect(sig.examples.length, sig.id).toBeGreaterThanOrEqual(sig.patterns.length);
      const hitPatterns = new Set<number>();
      for (const ex of sig.examples) {
        expect(
          only.match(ex).map((m) => m.signature.id),
          `${sig.id}: ${ex}`,
        ).toEqual([sig.id]);
        const p = sig.patterns.findIndex((re) => re.test(ex));
        hitPatterns.add(p);
      }
      expect(hitPatterns.size, `${sig.id}: every pattern has an example`).toBe(sig.patterns.length);
    }
  });

  it.each(REAL_LINES)('recognises %s', (line, id, fields) => {
    const found = matcher.match(line);
    expect(found.map((m) => m.signature.id)).toContain(id);
    expect(found.find((m) => m.signature.id === id)?.fields).toMatchObject(fields);
  });

  it('has a title, explanation and next step in English and Chinese for every signature', () => {
    for (const sig of SIGNATURES) {
      for (const part of ['title', 'explain', 'next'] as const) {
        const key = signatureKey(sig.id, part);
        expect(MESSAGES.en[key], key).toBeTruthy();
        expect(MESSAGES['zh-CN'][key], key).toMatch(/[\u4e00-\u9fff]/);
      }
    }
  });

  it('only fills placeholders with fields the signature always captures', () => {
    for (const sig of SIGNATURES) {
      const placeholders = new Set<string>();
      for (const part of ['title', 'explain', 'next'] as const) {
        for (const m of MESSAGES.en[signatureKey(sig.id, part)].matchAll(/\{([A-Za-z0-9_]+)\}/g)) placeholders.add(m[1]);
      }
      for (const ex of sig.examples) {
        const fields = new SignatureMatcher([sig]).match(ex)[0].fields;
        for (const p of placeholders) expect(fields[p], `${sig.id} {${p}} with ${ex}`).toBeDefined();
      }
    }
  });

  it('hostile 64 KiB records full of near-matches give no false match (their cost: linear-signatures.test.ts)', () => {
    const needles = [...new Set(SIGNATURES.flatMap((s) => s.needles))];
    const hostile = [
      'dial tcp ' + '1.'.repeat(32_000),
      'load closed segment 0000000000000001-0000000000000002: entries batch '.repeat(900),
      'CrashLoopBackOff: "back-off 1m restarting failed container=' + 'a'.repeat(60_000),
      'a.'.repeat(32_000) + 'Main process exited',
    ];
    for (const text of hostile)
      expect(
        matcher.match(text).map((m) => m.signature.id),
        text.slice(0, 40),
      ).toEqual([]);
    // Every needle at once, no real line: only signatures whose needle alone is the whole pattern match.
    const ids = matcher.match(needles.join(' ').repeat(200).slice(0, 65_536)).map((m) => m.signature.id);
    expect(ids).toContain('etcd.corrupt-cluster');
    expect(ids).not.toContain('runtime.unit-failed');
  });
});
