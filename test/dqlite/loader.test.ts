import { describe, expect, it } from 'vitest';
import { validateDqliteDirectory, listSegmentBatches, inspectDqliteDirectory } from '../../shared/formats/dqlite/validate';
import { validateDirectory } from '../../shared/validate';
import { closedSegmentName } from '../../shared/formats/dqlite/segment-name';
import { encodeMetadata } from '../../shared/formats/dqlite/metadata';
import { baseFiles, bootstrapSegment, closed, dir, segmentBytes, snapshot, withZeros } from './builders';

function errors(r: Awaited<ReturnType<typeof validateDqliteDirectory>>) {
  return r.findings.filter((f) => f.severity === 'error').map((f) => f.code);
}

describe('loader model', () => {
  it('a clean directory starts and keeps everything', async () => {
    const files = baseFiles();
    files['0000000000000001-0000000000000001'] = bootstrapSegment();
    closed(files, 2, 50, 5);
    files['open-1'] = withZeros(segmentBytes(52, 10), 4096);
    files['open-2'] = new Uint8Array(8192);
    const r = await validateDqliteDirectory(dir(files));
    expect(r).toMatchObject({ engine: 'dqlite', startable: true, dataLoss: false, lost: [] });
    expect(r.dqlite?.decision).toMatchObject({ startIndex: 1, lastIndex: 61, fatalError: null });
    const roles = Object.fromEntries(r.dqlite!.segments.map((s) => [s.file, s.role]));
    expect(roles).toMatchObject({ 'open-1': 'loaded', 'open-2': 'deleted' });
    expect(r.dqlite?.segments.find((s) => s.file === 'open-1')).toMatchObject({ firstIndex: 52, lastIndex: 61 });
    expect(r.dqlite?.membership.servers[0].id).toBe('3297041220608546238');
    expect(r.dqlite?.repair.needed).toBe(false);
  });

  it('zero fill in a middle closed segment is fatal; libraft does not auto-recover it', async () => {
    const files = baseFiles();
    closed(files, 1, 10);
    const mid = segmentBytes(11, 20);
    files[closedSegmentName(11, 30)] = withZeros(mid, 4096);
    closed(files, 31, 10);
    const r = await validateDqliteDirectory(dir(files));
    expect(r.startable).toBe(false);
    expect(r.dqlite?.decision.fatalError).toBe(
      `load closed segment 0000000000000011-0000000000000030: entries batch 21 starting at byte ${mid.length}: entries count in preamble is zero`,
    );
    const f = r.findings.find((x) => x.code === 'segment.count-zero');
    expect(f).toMatchObject({ file: '0000000000000011-0000000000000030', offset: mid.length });
  });

  it('the same damage on the last closed segment: starts, silently losing it', async () => {
    const files = baseFiles();
    closed(files, 1, 10);
    files[closedSegmentName(11, 30)] = withZeros(segmentBytes(11, 20), 4096);
    files['open-5'] = new Uint8Array(4096);
    const r = await validateDqliteDirectory(dir(files));
    expect(r).toMatchObject({ startable: true, dataLoss: true });
    expect(r.lost).toEqual([expect.objectContaining({ file: '0000000000000011-0000000000000030', first: 11, last: 30, coveredBySnapshot: false })]);
    expect(r.dqlite?.decision.renamedCorrupt).toEqual(['0000000000000011-0000000000000030', 'open-5']);
    // The plan keeps the 20 good entries instead: truncate to the last good batch.
    const plan = r.dqlite!.repair;
    expect(plan.startsAfter).toBe(true);
    expect(plan.steps.find((s) => s.kind === 'truncate-rename')?.command).toContain(`truncate -s ${segmentBytes(11, 20).length}`);
    expect(plan.lost.filter((l) => !l.coveredBySnapshot)).toEqual([]);
  });

  it('an open segment with a bad batch in the middle is truncated with data loss', async () => {
    const files = baseFiles();
    closed(files, 1, 10);
    const open = withZeros(segmentBytes(11, 10), 4096);
    open[8 + 3 * 96 + 50] ^= 1;
    files['open-3'] = open;
    const r = await validateDqliteDirectory(dir(files));
    expect(r).toMatchObject({ startable: true, dataLoss: true });
    // Batch 4 (index 14) is bad: its own entry and the 6 valid ones after it are lost (real dqlite agrees, see the oracle suite).
    expect(r.lost[0]).toMatchObject({ first: 14, last: 20, coveredBySnapshot: false });
    expect(r.dqlite?.segments.find((s) => s.file === 'open-3')?.role).toBe('truncated');
  });

  it('a mid-batch short read in an open segment is not startable (libraft 0.15 segfaults)', async () => {
    const files = baseFiles();
    closed(files, 1, 10);
    files['open-3'] = segmentBytes(11, 10).subarray(0, 8 + 3 * 96 + 50);
    const r = await validateDqliteDirectory(dir(files));
    expect(r.startable).toBe(false);
    expect(errors(r)).toContain('segment.open-crash');
    expect(r.dqlite?.repair.startsAfter).toBe(true);
  });

  it('reproduces the field report and explains why deleting the file worked', async () => {
    const files = baseFiles();
    closed(files, 1, 40, 4);
    closed(files, 41, 60, 4);
    // Named 101-120 (20 entries) but holding 40 batches then zero fill to a 4096 boundary.
    const body = segmentBytes(101, 40);
    const padded = withZeros(body, 4096 * Math.ceil((body.length + 1) / 4096) - body.length);
    files[closedSegmentName(101, 120)] = padded;
    files[closedSegmentName(121, 121)] = bootstrapSegment();
    files['open-7'] = withZeros(segmentBytes(122, 60, 3), 8192);
    files['open-8'] = new Uint8Array(8192);
    files['open-9'] = new Uint8Array(8192);
    snapshot(files, 150, 1000);
    snapshot(files, 170, 2000);
    files['cluster.yaml'] = new TextEncoder().encode('- Address: 127.0.0.1:19001\n  ID: 3297041220608546238\n  Role: 0\n');
    const r = await validateDqliteDirectory(dir(files));
    expect(r.startable).toBe(false);
    expect(r.dqlite?.decision.fatalError).toBe(
      `load closed segment 0000000000000101-0000000000000120: entries batch 41 starting at byte ${body.length}: entries count in preamble is zero`,
    );
    expect(r.dqlite?.decision.chosenSnapshot).toBe('snapshot-1-170-2000');
    expect(r.findings.map((f) => f.code)).toContain('segment.block-aligned-tail');
    const plan = r.dqlite!.repair;
    expect(plan.steps.filter((s) => s.kind === 'quarantine' && s.file).map((s) => s.file)).toEqual(['0000000000000101-0000000000000120']);
    expect(plan.startsAfter).toBe(true);
    expect(plan.lost.every((l) => l.coveredBySnapshot)).toBe(true);
    const ins = await inspectDqliteDirectory(dir(files));
    expect(ins.operations).toEqual([{ op: 'quarantine', file: '0000000000000101-0000000000000120' }]);
    // After moving it: older segments are ignored (before the gap), the rest loads.
    delete files[closedSegmentName(101, 120)];
    const after = await validateDqliteDirectory(dir(files));
    expect(after).toMatchObject({ startable: true, dataLoss: false });
    expect(after.dqlite?.decision).toMatchObject({ startIndex: 121, lastIndex: 181 });
    expect(after.dqlite?.segments.find((s) => s.file === closedSegmentName(1, 40))?.role).toBe('ignored');
  });

  it('snapshot problems, gaps and metadata errors', async () => {
    const files = baseFiles();
    closed(files, 1, 10);
    closed(files, 21, 10);
    expect((await validateDqliteDirectory(dir(files))).dqlite?.decision.fatalError).toBe(
      'unexpected closed segment 0000000000000021-0000000000000030: first index should have been 11',
    );
    const s = snapshot(files, 40);
    const r = await validateDqliteDirectory(dir(files));
    // Newest closed ends before the snapshot and there is no open segment: everything is discarded.
    expect(r).toMatchObject({ startable: true });
    expect(r.dqlite?.decision.startIndex).toBe(41);
    files[`${s}.meta`][40] ^= 1;
    expect((await validateDqliteDirectory(dir(files))).dqlite?.decision.fatalError).toBe(`read ${s}.meta: checksum mismatch`);
    const m = baseFiles();
    m.metadata2 = encodeMetadata(1, 1);
    closed(m, 1, 3);
    const r2 = await validateDqliteDirectory(dir(m));
    expect(r2.startable).toBe(false);
    expect(r2.dqlite?.decision.fatalError).toBe('metadata1 and metadata2 are both at version 1');
  });

  it('lists batches on demand and dispatches by engine', async () => {
    const files = baseFiles();
    closed(files, 1, 12, 4);
    const b = await listSegmentBatches(dir(files), closedSegmentName(1, 12));
    expect(b.map((x) => [x.number, x.firstIndex, x.entries])).toEqual([
      [1, 1, 4],
      [2, 5, 4],
      [3, 9, 4],
    ]);
    const u = await validateDirectory(dir({ 'notes.txt': new Uint8Array(3) }));
    expect(u).toMatchObject({ engine: 'unknown', startable: false });
    expect(u.findings[0].code).toBe('engine.unknown');
  });

  it('reports progress and honours cancel', async () => {
    const files = baseFiles();
    closed(files, 1, 300, 2);
    const seen: number[] = [];
    await validateDqliteDirectory(dir(files), { onProgress: (p) => seen.push(p.bytesDone) });
    expect(seen.length).toBeGreaterThan(1);
    const ac = new AbortController();
    ac.abort();
    await expect(validateDqliteDirectory(dir(files), { signal: ac.signal })).rejects.toThrow('cancelled');
  });
});
