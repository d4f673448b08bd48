/**
 * One small directory (or listing) per finding code that had no test of its
 * own: each asserts the code appears, on the right file and offset, and what
 * the verdict is. test/i18n/finding-titles.test.ts fails when a code the
 * validators emit is named by no test at all.
 */
import { describe, expect, it } from 'vitest';
import type { ValidationReport } from '../../shared/contract/report';
import { analyzeListing } from '../../shared/formats/dqlite/listing';
import { encodeMetadata } from '../../shared/formats/dqlite/metadata';
import { checkSnapshotMeta, encodeSnapshotMeta } from '../../shared/formats/dqlite/snapshot-meta';
import { crc32 } from '../../shared/formats/dqlite/crc';
import { putU64 } from '../../shared/formats/dqlite/le';
import { closedSegmentName, snapshotDataName, snapshotMetaName } from '../../shared/formats/dqlite/segment-name';
import { validateDqliteDirectory } from '../../shared/formats/dqlite/validate';
import { simulateLoad, type SimSegment, type SimSnapshot } from '../../shared/formats/dqlite/loader';
import { scanSegment } from '../../shared/formats/dqlite/segment';
import { memoryDirectory, memorySource } from '../../shared/bytes/byte-source';
import { validateDirectory } from '../../shared/validate';
import { NODE, baseFiles, bootstrapSegment, closed, dir, segmentBytes, snapshot, withZeros } from './builders';

/** Bytes of one batch written by `segmentBytes(first, n, 1, 1, 64)`: two CRCs, count, one entry header, 64 bytes of data. */
const BATCH = 8 + 8 + 16 + 64;

async function run(files: Record<string, Uint8Array>): Promise<ValidationReport> {
  return validateDqliteDirectory(dir(files));
}

function find(r: ValidationReport, code: string) {
  return r.findings.filter((f) => f.code === code);
}

/** The loader model's input for closed segments and open-N files in `files`. */
async function sims(files: Record<string, Uint8Array>, names: string[]): Promise<SimSegment[]> {
  const out: SimSegment[] = [];
  for (const name of names) {
    const scan = await scanSegment(memorySource(name, files[name]));
    const open = /^open-(\d+)$/.exec(name);
    const closedName = /^(\d{16})-(\d{16})$/.exec(name);
    if (open) out.push({ name, kind: 'open', first: null, last: null, counter: Number(open[1]), scan });
    else if (closedName) out.push({ name, kind: 'closed', first: Number(closedName[1]), last: Number(closedName[2]), counter: null, scan });
  }
  return out;
}

function flipped(b: Uint8Array, at: number): Uint8Array {
  const c = b.slice();
  c[at] ^= 0xff;
  return c;
}

const enc = (s: string) => new TextEncoder().encode(s);
const NODE_YAML = `- Address: ${NODE.address}\n  ID: ${NODE.id}\n  Role: 0\n`;

/** A healthy log (bootstrap entry + 20 commands) that every membership case starts from. */
function healthyLog(): Record<string, Uint8Array> {
  const files = baseFiles();
  files[closedSegmentName(1, 1)] = bootstrapSegment();
  closed(files, 2, 20);
  return files;
}

describe('directory-level codes', () => {
  it('dir.tmp-file: an unfinished tmp-* file is reported and does not stop start-up', async () => {
    const files = healthyLog();
    files['tmp-0000000000000022-0000000000000030'] = segmentBytes(22, 9);
    const r = await run(files);
    expect(find(r, 'dir.tmp-file')).toEqual([expect.objectContaining({ severity: 'info', file: 'tmp-0000000000000022-0000000000000030' })]);
    expect(r).toMatchObject({ startable: true, dataLoss: false });
  });

  it('dir.corrupt-files: corrupt-* left by an earlier auto-recovery is pointed out, not loaded', async () => {
    const files = healthyLog();
    files['corrupt-1700000000000000000-0000000000000022-0000000000000030'] = segmentBytes(22, 9);
    const r = await run(files);
    expect(find(r, 'dir.corrupt-files')).toHaveLength(1);
    expect(find(r, 'dir.corrupt-files')[0].severity).toBe('warning');
    expect(r.dqlite?.decision.lastIndex).toBe(21);
    expect(r.startable).toBe(true);
  });
});

describe('metadata codes', () => {
  it('metadata.version-zero: version 0 names offset 8 and the engine text', async () => {
    const files = healthyLog();
    files.metadata1 = encodeMetadata(0, 1);
    const r = await run(files);
    expect(find(r, 'metadata.version-zero')).toEqual([
      expect.objectContaining({ severity: 'error', file: 'metadata1', offset: 8, engineError: 'decode content of metadata1: version is set to zero' }),
    ]);
    expect(r.startable).toBe(false);
  });

  it('metadata.torn: a short metadata2 next to a good metadata1 is a warning, start-up goes on', async () => {
    const files = healthyLog();
    files.metadata2 = encodeMetadata(2, 1).subarray(0, 10);
    const r = await run(files);
    expect(find(r, 'metadata.torn')).toEqual([expect.objectContaining({ severity: 'warning', file: 'metadata2', offset: 0 })]);
    expect(r.startable).toBe(true);
  });

  it('metadata.same-version: both files at one version stop start-up with libraft words', async () => {
    const files = healthyLog();
    files.metadata1 = encodeMetadata(3, 1);
    files.metadata2 = encodeMetadata(3, 1);
    const r = await run(files);
    expect(find(r, 'metadata.same-version')).toEqual([
      expect.objectContaining({ severity: 'error', file: 'metadata2', offset: 8, engineError: 'metadata1 and metadata2 are both at version 3' }),
    ]);
    expect(r.startable).toBe(false);
  });
});

describe('snapshot codes', () => {
  it('snapshot.orphan-data and snapshot.orphan-meta: half a snapshot is deleted at start-up, not chosen', async () => {
    const files = healthyLog();
    files[snapshotDataName(1, 15, 1000)] = new Uint8Array(64).fill(7);
    files[snapshotMetaName(1, 18, 2000)] = encodeSnapshotMeta(1, [NODE]);
    const r = await run(files);
    expect(find(r, 'snapshot.orphan-data')).toEqual([expect.objectContaining({ file: snapshotDataName(1, 15, 1000) })]);
    expect(find(r, 'snapshot.orphan-meta')).toEqual([expect.objectContaining({ file: snapshotMetaName(1, 18, 2000) })]);
    expect(r.dqlite?.snapshots.some((s) => s.chosen)).toBe(false);
    expect(r.startable).toBe(true);
  });

  it('snapshot.data-empty: an empty data file is named at offset 0', async () => {
    const files = healthyLog();
    const data = snapshot(files, 15, 1000, new Uint8Array(0));
    const r = await run(files);
    expect(find(r, 'snapshot.data-empty')).toEqual([expect.objectContaining({ severity: 'warning', file: data, offset: 0 })]);
  });

  it('snapshot.meta-format: a .meta with format 2 is malformed', async () => {
    const files = healthyLog();
    snapshot(files, 15);
    files[snapshotMetaName(1, 15, 1000)] = encodeSnapshotMeta(1, [NODE], 2);
    const r = await run(files);
    expect(find(r, 'snapshot.meta-format')).toEqual([expect.objectContaining({ severity: 'error', file: snapshotMetaName(1, 15, 1000), offset: 0 })]);
    expect(r.startable).toBe(false);
  });

  it('snapshot.meta-configuration: a checksummed .meta whose configuration cannot be decoded', async () => {
    const files = healthyLog();
    snapshot(files, 15);
    const conf = new Uint8Array(16);
    conf[0] = 2; // unknown configuration encoding version
    const head = new Uint8Array(32);
    putU64(head, 0, 1);
    putU64(head, 16, 1);
    putU64(head, 24, conf.length);
    putU64(head, 8, crc32(conf, crc32(head, 0, 16, 32)));
    const meta = new Uint8Array(48);
    meta.set(head);
    meta.set(conf, 32);
    files[snapshotMetaName(1, 15, 1000)] = meta;
    const r = await run(files);
    expect(find(r, 'snapshot.meta-configuration')).toEqual([expect.objectContaining({ severity: 'error', file: snapshotMetaName(1, 15, 1000), offset: 32 })]);
    expect(find(r, 'snapshot.meta-checksum')).toEqual([]);
    expect(r.startable).toBe(false);
  });
});

describe('loader codes', () => {
  it('loader.unexpected-segment: a gap between closed segments, with the engine text', async () => {
    const files = baseFiles();
    closed(files, 1, 10);
    closed(files, 12, 10);
    const r = await run(files);
    expect(find(r, 'loader.unexpected-segment')).toEqual([
      expect.objectContaining({
        severity: 'error',
        file: closedSegmentName(12, 21),
        engineError: `unexpected closed segment ${closedSegmentName(12, 21)}: first index should have been 11`,
      }),
    ]);
    expect(r.startable).toBe(false);
  });

  it('loader.past-snapshot: the first segment starts after the snapshot', async () => {
    const files = baseFiles();
    snapshot(files, 10);
    closed(files, 20, 10);
    const r = await run(files);
    const f = find(r, 'loader.past-snapshot');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'error', file: closedSegmentName(20, 29) });
    expect(f[0].engineError).toContain('is past last snapshot');
    expect(r.startable).toBe(false);
  });

  it('loader.behind-snapshot: the log ends before the snapshot; libraft retries and starts from the snapshot', async () => {
    const files = baseFiles();
    snapshot(files, 100);
    closed(files, 1, 50);
    files['open-1'] = withZeros(segmentBytes(51, 5), 4096);
    // Without the retry (the check the repair planner runs) this is the fatal error libraft logs first.
    const meta = await checkSnapshotMeta(snapshotMetaName(1, 100, 1000), files[snapshotMetaName(1, 100, 1000)].length, async (o, l) =>
      files[snapshotMetaName(1, 100, 1000)].slice(o, o + l),
    );
    const snap: SimSnapshot = {
      metaName: snapshotMetaName(1, 100, 1000),
      dataName: snapshotDataName(1, 100, 1000),
      term: 1,
      index: 100,
      timestamp: 1000,
      dataSize: 256,
      meta,
      data: null,
    };
    const once = simulateLoad(await sims(files, [closedSegmentName(1, 50), 'open-1']), [snap], false);
    expect(once.fatal).toMatchObject({ code: 'loader.behind-snapshot', text: "last entry on disk has index 55, which is behind last snapshot's index 100" });
    // The real start-up: the retry ignores the finalised segments and starts on the snapshot, losing nothing it does not cover.
    const r = await run(files);
    expect(r).toMatchObject({ startable: true, dataLoss: false, lost: [] });
    expect(r.dqlite?.decision).toMatchObject({ startIndex: 101 });
    expect(r.dqlite?.decision.narrative.join(' ')).toContain("behind last snapshot's index 100. libraft retries once (");
  });

  it('segment.name-range and loader.crash: a closed segment named last < first crashes libraft', async () => {
    const files = baseFiles();
    closed(files, 1, 10);
    files['0000000000000011-0000000000000005'] = segmentBytes(11, 3);
    const r = await run(files);
    expect(r.startable).toBe(false);
    const crash = find(r, 'loader.crash');
    expect(crash).toHaveLength(1);
    expect(crash[0].file).toBe('0000000000000011-0000000000000005');
    // The loader's fatal code is segment.name-range; what the user sees is the crash with libraft's assertion text.
    expect(r.dqlite?.decision.fatalError).toContain('first > last');
    const model = simulateLoad(await sims(files, [closedSegmentName(1, 10), '0000000000000011-0000000000000005']), []);
    expect(model.fatal).toMatchObject({ code: 'segment.name-range', crash: true, file: '0000000000000011-0000000000000005' });
    expect(crash[0].engineError).toBe('assertion failure: 0000000000000011-0000000000000005 has first > last');
  });

  it('loader.auto-recovery-rename: a damaged last closed segment is named as renamed to corrupt-*', async () => {
    const files = baseFiles();
    closed(files, 1, 10);
    files[closedSegmentName(11, 30)] = flipped(segmentBytes(11, 20), 8 + 5 * BATCH);
    const r = await run(files);
    expect(find(r, 'loader.auto-recovery-rename')).toEqual([expect.objectContaining({ severity: 'warning', file: closedSegmentName(11, 30) })]);
    expect(r).toMatchObject({ startable: true, dataLoss: true });
  });
});

describe('open segment codes', () => {
  it('segment.open-truncated-data: a bad batch in the middle cuts off the valid batches after it', async () => {
    const files = baseFiles();
    closed(files, 1, 10);
    files['open-1'] = withZeros(flipped(segmentBytes(11, 10), 8 + 3 * BATCH), 4096);
    const r = await run(files);
    expect(find(r, 'segment.open-truncated-data')).toEqual([expect.objectContaining({ severity: 'error', file: 'open-1', offset: 8 + 3 * BATCH })]);
    expect(r.dataLoss).toBe(true);
    expect(r.lost).toEqual([expect.objectContaining({ file: 'open-1', first: 14, last: 20 })]);
  });

  it('segment.open-torn-tail: a half-written last batch is cut without losing a complete entry', async () => {
    const files = baseFiles();
    closed(files, 1, 10);
    const good = segmentBytes(11, 5);
    const torn = segmentBytes(16, 1).subarray(8, 8 + 40); // the first 40 bytes of a batch, then zeros
    const open = new Uint8Array(good.length + torn.length + 4096);
    open.set(good);
    open.set(torn, good.length);
    files['open-1'] = open;
    const r = await run(files);
    expect(find(r, 'segment.open-torn-tail')).toEqual([expect.objectContaining({ file: 'open-1', offset: good.length })]);
    expect(find(r, 'segment.open-truncated-data')).toEqual([]);
    expect(r).toMatchObject({ startable: true, dataLoss: false });
    expect(r.dqlite?.decision.lastIndex).toBe(15);
  });

  it('segment.open-deleted-data and loader.open-index-shift: a bad first batch deletes the file and shifts the next one', async () => {
    const files = baseFiles();
    closed(files, 1, 10);
    files['open-1'] = withZeros(flipped(segmentBytes(11, 10), 8), 4096);
    files['open-2'] = withZeros(segmentBytes(21, 5), 4096);
    const r = await run(files);
    expect(find(r, 'segment.open-deleted-data')).toEqual([expect.objectContaining({ severity: 'error', file: 'open-1', offset: 8 })]);
    expect(find(r, 'loader.open-index-shift')).toEqual([expect.objectContaining({ severity: 'error', file: 'open-2' })]);
    // open-2 was written at 21..25 but would be loaded at 11..15.
    expect(r.dqlite?.segments.find((s) => s.file === 'open-2')).toMatchObject({ firstIndex: 11, lastIndex: 15 });
    expect(r.dataLoss).toBe(true);
  });
});

describe('membership codes', () => {
  it('a directory whose caches agree with the log has no membership finding', async () => {
    const files = healthyLog();
    files['cluster.yaml'] = enc(NODE_YAML);
    files['info.yaml'] = enc(`Address: ${NODE.address}\nID: ${NODE.id}\nRole: 0\n`);
    const r = await run(files);
    expect(r.findings.filter((f) => f.code.startsWith('membership.'))).toEqual([]);
  });

  it('membership.cluster-yaml-differs: cluster.yaml lists a node the raft configuration does not', async () => {
    const files = healthyLog();
    files['cluster.yaml'] = enc(`${NODE_YAML}- Address: 10.0.0.9:19001\n  ID: 42\n  Role: 0\n`);
    const r = await run(files);
    const f = find(r, 'membership.cluster-yaml-differs');
    expect(f).toHaveLength(1);
    expect(f[0].file).toBe('cluster.yaml');
    expect(f[0].message).toContain('extra 42@10.0.0.9:19001');
  });

  it('membership.info-not-in-cluster and membership.node-not-in-configuration: this node is unknown to both', async () => {
    const files = healthyLog();
    files['cluster.yaml'] = enc(NODE_YAML);
    files['info.yaml'] = enc('Address: 10.0.0.7:19001\nID: 77\nRole: 0\n');
    const r = await run(files);
    expect(find(r, 'membership.info-not-in-cluster')).toEqual([expect.objectContaining({ file: 'info.yaml' })]);
    expect(find(r, 'membership.node-not-in-configuration')).toEqual([expect.objectContaining({ file: 'info.yaml' })]);
    expect(find(r, 'membership.node-not-in-configuration')[0].message).toContain('77');
  });

  it('membership.yaml-invalid: unreadable YAML is a warning naming the file, never a crash', async () => {
    const files = healthyLog();
    files['cluster.yaml'] = enc('- Address: [unclosed\n  ID: : :\n');
    const r = await run(files);
    expect(find(r, 'membership.yaml-invalid')).toEqual([expect.objectContaining({ severity: 'warning', file: 'cluster.yaml' })]);
    expect(r.startable).toBe(true);
  });
});

describe('engine codes', () => {
  it('engine.unknown: a directory that is neither engine is "not a datastore", never a start-up verdict', async () => {
    const r = await validateDirectory(memoryDirectory('tmp', { 'notes.txt': enc('hello'), 'photo.png': new Uint8Array(10) }));
    expect(r).toMatchObject({ engine: 'unknown', dataLoss: false });
    expect(r.findings.map((f) => [f.code, f.severity])).toEqual([['engine.unknown', 'info']]);
    expect(r.summary).toContain('Not a datastore directory');
    expect(r.summary).toContain('*.wal');
  });

  it('an etcd input is validated as etcd (a lone 16-byte db: bbolt cannot open it)', async () => {
    const r = await validateDirectory(memoryDirectory('etcd', { db: new Uint8Array(16) }));
    expect(r).toMatchObject({ engine: 'etcd', startable: false });
    expect(r.etcd?.startup.fatalError).toContain('invalid database');
  });
});

describe('listing codes', () => {
  const line = (size: number, name: string) => `-rw------- 1 root root ${size} Jan 28 00:40 ${name}`;

  it('listing.empty-segment and listing.bad-range', () => {
    const a = analyzeListing(
      [line(4096, '0000000000000001-0000000000000010'), line(0, '0000000000000011-0000000000000020'), line(4096, '0000000000000030-0000000000000025')].join(
        '\n',
      ),
    );
    expect(a.findings.filter((f) => f.code === 'listing.empty-segment').map((f) => f.file)).toEqual(['0000000000000011-0000000000000020']);
    expect(a.findings.filter((f) => f.code === 'listing.bad-range').map((f) => f.file)).toEqual(['0000000000000030-0000000000000025']);
  });

  it('listing.open-segments: open-* files are named and their index is inferred', () => {
    const a = analyzeListing([line(4096, '0000000000000001-0000000000000010'), line(8388608, 'open-3'), line(8388608, 'open-4')].join('\n'));
    const f = a.findings.filter((x) => x.code === 'listing.open-segments');
    expect(f).toHaveLength(1);
    expect(f[0].file).toBe('open-3');
    expect(f[0].message).toContain('open-3, open-4');
    expect(a.copyOut.map((c) => c.file)).toEqual(expect.arrayContaining(['open-3', 'open-4']));
  });
});
