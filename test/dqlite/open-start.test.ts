/**
 * Open segments' batch rows get their first index the way libraft numbers them, checked against
 * real dqlite: a crashed dqlite-demo node (SIGKILL) leaves an open segment; starting dqlite on a
 * copy finalises it into a closed `first-last` segment with the same bytes, whose name and batches
 * are the truth. The index must match both when start-up reaches the open segment (the loader
 * places it) and when start-up fails earlier (counted on from the newest closed segment), and be
 * "unknown" when a damaged open segment comes before it.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDirectory } from '../../electron/services/fs-source';
import { openSegmentStart, withFirstIndexes } from '../../renderer/src/features/segment-map/open-start';
import type { BatchSummary, SegmentInfo } from '../../shared/contract/dqlite';
import type { ValidationReport } from '../../shared/contract/report';
import { listSegmentBatches } from '../../shared/formats/dqlite/validate';
import { validateDirectory } from '../../shared/validate';
import { closedSegments, flipByte, hashTree } from '../cli/fixtures';
import { requireDqliteDemo, tryStart } from '../helpers/dqlite-demo';
import { goldenKilled } from '../helpers/dqlite-goldens';

const canRun = requireDqliteDemo();

let tmp: string;
let killed: string;
let startedCopy: string;
/** The open segment holding entries, and what dqlite finalised it as. */
let openFile: string;
let finalised: { name: string; first: number };

async function validate(dir: string): Promise<ValidationReport> {
  const d = localDirectory(dir);
  try {
    return await validateDirectory(d);
  } finally {
    await d.close();
  }
}

async function batches(dir: string, file: string): Promise<BatchSummary[]> {
  const d = localDirectory(dir);
  try {
    return await listSegmentBatches(d, file);
  } finally {
    await d.close();
  }
}

function startOf(r: ValidationReport, file: string) {
  const d = r.dqlite!;
  return openSegmentStart(file, d.segments, d.snapshots, r.findings);
}

const firstIndexes = (list: BatchSummary[]) => list.filter((b) => !b.zeroFill).map((b) => [b.number, b.entries, b.firstIndex]);

beforeAll(async () => {
  if (!canRun) return;
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-open-start-'));
  const golden = await goldenKilled();
  killed = path.join(tmp, 'killed');
  await fs.cp(golden.dataDir, killed, { recursive: true });
  const report = await validate(killed);
  const withEntries = report.dqlite!.segments.filter((s) => s.kind === 'open' && s.entries > 0);
  expect(withEntries.length).toBe(1);
  openFile = withEntries[0].file;

  // The oracle: dqlite starts on a copy and finalises the open segment; find it by its bytes.
  const before = await hashTree(killed);
  const run = await tryStart(killed, 20_000, { keepCopy: true });
  expect(run.started, run.stderr).toBe(true);
  startedCopy = run.copyDir!;
  expect(await hashTree(killed)).toEqual(before);
  const openBytes = await fs.readFile(path.join(killed, openFile));
  for (const name of await closedSegments(startedCopy)) {
    const bytes = await fs.readFile(path.join(startedCopy, name));
    if (bytes.length > 8 && bytes.length <= openBytes.length && openBytes.subarray(0, bytes.length).equals(bytes)) {
      finalised = { name, first: Number(name.slice(0, 16)) };
    }
  }
  expect(finalised, `dqlite finalised ${openFile} into a closed segment`).toBeDefined();
}, 300_000);

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  if (startedCopy) await fs.rm(path.dirname(startedCopy), { recursive: true, force: true });
});

describe.skipIf(!canRun)('open segment first indexes (real dqlite-demo backend)', () => {
  it('start-up reaches it: the loader places it, and every batch matches the segment dqlite finalised', async () => {
    const report = await validate(killed);
    const start = startOf(report, openFile);
    expect(start).toMatchObject({ known: true, how: 'loaded', first: finalised.first, shifted: false });
    const open = withFirstIndexes(await batches(killed, openFile), start);
    const truth = await batches(startedCopy, finalised.name);
    expect(firstIndexes(open)).toEqual(firstIndexes(truth));
    expect(open[0].firstIndex).toBe(finalised.first);
  }, 120_000);

  it('start-up fails earlier: counted on from the newest closed segment, the same indexes', async () => {
    const damaged = path.join(tmp, 'damaged');
    await fs.cp(killed, damaged, { recursive: true });
    // A payload byte in the second closed segment: libraft stops there, before the open segment.
    const second = (await closedSegments(damaged))[1];
    await flipByte(path.join(damaged, second), 200);
    const report = await validate(damaged);
    expect(report.startable).toBe(false);
    const seg = report.dqlite!.segments.find((s) => s.file === openFile) as SegmentInfo;
    expect([seg.role, seg.firstIndex]).toEqual(['not-read', null]);

    const start = startOf(report, openFile);
    const newestClosed = (await closedSegments(damaged)).at(-1)!;
    expect(start).toEqual({
      known: true,
      first: finalised.first,
      how: 'after-closed',
      after: { name: newestClosed, last: Number(newestClosed.slice(17)) },
      before: [],
      shifted: false,
    });
    const open = withFirstIndexes(await batches(damaged, openFile), start);
    expect(firstIndexes(open)).toEqual(firstIndexes(await batches(startedCopy, finalised.name)));

    // A damaged open segment before another one: how many entries come first is not known, so neither is the index.
    await flipByte(path.join(damaged, openFile), 8 + 100);
    const again = await validate(damaged);
    const later = again.dqlite!.segments.filter((s) => s.kind === 'open' && (s.counter ?? 0) > Number(openFile.slice(5)));
    expect(later.length).toBeGreaterThan(0);
    for (const s of later) expect(startOf(again, s.file)).toEqual({ known: false, why: 'damaged-before', file: openFile });
  }, 120_000);

  it('a closed segment is left alone (its index is in its name)', async () => {
    const report = await validate(killed);
    const closed = (await closedSegments(killed))[1];
    expect(startOf(report, closed)).toBeNull();
    const list = await batches(killed, closed);
    expect(withFirstIndexes(list, null)).toEqual(list);
    expect(list[0].firstIndex).toBe(Number(closed.slice(0, 16)));
  }, 60_000);
});
