/**
 * decision.startIndex is the index the loader really starts from in its last
 * attempt, also when start-up fails (the segment map draws its start line
 * from it), and 0 only when that attempt failed before it had one.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { localDirectory } from '../../electron/services/fs-source';
import { closedSegmentName, snapshotMetaName } from '../../shared/formats/dqlite/segment-name';
import { validateDqliteDirectory } from '../../shared/formats/dqlite/validate';
import { buildMapModel } from '../../renderer/src/features/segment-map/map-model';
import { baseFiles, closed, dir, segmentBytes, snapshot, withZeros } from './builders';

const FIELD = path.resolve(__dirname, '../../resources/samples/dqlite-field-report');

function hashDir(d: string): string {
  const h = createHash('sha256');
  for (const n of readdirSync(d).sort()) h.update(n).update(readFileSync(path.join(d, n)));
  return h.digest('hex');
}

/** The numbers in the narrative's "start index N" lines (one per attempt), in order. */
function narratedStarts(narrative: string[]): number[] {
  return narrative.flatMap((l) => {
    const m = /\b[Ss]tart index (\d+)/.exec(l);
    return m ? [Number(m[1])] : [];
  });
}

describe('loader start index', () => {
  it('field report: start-up fails, yet the start index is the one libraft loads from (not 1)', async () => {
    const before = hashDir(FIELD);
    const src = localDirectory(FIELD);
    const r = await validateDqliteDirectory(src).finally(() => src.close());
    expect(hashDir(FIELD)).toBe(before);
    expect(r.startable).toBe(false);
    const d = r.dqlite!.decision;
    // Both attempts (first pass and auto-recovery retry) start from the first kept closed segment; the
    // narrative says the retry once, as "nothing differs".
    expect(narratedStarts(d.narrative)).toEqual([14232589]);
    expect(d.narrativeText?.map((l) => l.key)).toContain('dqlite.narrative.retry.same');
    expect(d.startIndex).toBe(14232589);
    expect(d.lastIndex).toBeNull();
    // The map's start line sits at the start of the first segment the loader reads.
    const model = buildMapModel(r.dqlite!.segments, r.dqlite!.snapshots, d);
    expect(model.startIndex).toBe(14232589);
    expect(r.dqlite!.segments.find((s) => s.role === 'loaded')?.firstIndex).toBe(14232589);
  });

  it('after an auto-recovery rename the retry start index is reported, not the first attempt one', async () => {
    const files = baseFiles();
    snapshot(files, 50);
    closed(files, 31, 10); // 31..40
    // The last closed segment 41..60 ends in zero fill: pass 1 starts at 31 and fails; auto-recovery renames it.
    files[closedSegmentName(41, 60)] = withZeros(segmentBytes(41, 20).subarray(0, 8 + 10 * (32 + 64)), 4096);
    const r = await validateDqliteDirectory(dir(files));
    const d = r.dqlite!.decision;
    expect(d.renamedCorrupt).toEqual([closedSegmentName(41, 60)]);
    // The retry ignores 31..40 (it ends before the snapshot, no open segment) and starts right after the snapshot.
    expect(narratedStarts(d.narrative)).toEqual([31, 51]);
    expect(r.startable).toBe(true);
    expect(d.startIndex).toBe(51);
    expect(d.lastIndex).toBe(50);
  });

  it('a snapshot that cannot be loaded leaves no start index (0), shown as none on the map', async () => {
    const files = baseFiles();
    const s = snapshot(files, 40);
    closed(files, 41, 5);
    const meta = files[`${s}.meta`].slice();
    meta[meta.length - 1] ^= 0xff;
    files[snapshotMetaName(1, 40, 1000)] = meta;
    const r = await validateDqliteDirectory(dir(files));
    expect(r.startable).toBe(false);
    expect(r.dqlite!.decision.fatalError).toContain('.meta');
    expect(r.dqlite!.decision.startIndex).toBe(0);
    expect(buildMapModel(r.dqlite!.segments, r.dqlite!.snapshots, r.dqlite!.decision).startIndex).toBeNull();
  });
});
