import { execFileSync } from 'node:child_process';
/**
 * One test per disagreement the oracle suite (test/oracle/dqlite.test.ts)
 * found between the model and real dqlite-demo, on small in-memory dirs
 * shaped like the oracle case, plus writeRepairedCopy on disk.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeRepairedCopy } from '../../electron/services/dqlite-repair';
import { decodeMetadata, encodeMetadata } from '../../shared/formats/dqlite/metadata';
import { BOOTSTRAP_ID } from '../../shared/formats/dqlite/metadata-startup';
import type { RepairOperation } from '../../shared/formats/dqlite/repair-plan';
import { closedSegmentName } from '../../shared/formats/dqlite/segment-name';
import { libraftSegmentOrder, uvSegmentInfoCompare } from '../../shared/formats/dqlite/segment-order';
import { inspectDqliteDirectory, validateDqliteDirectory } from '../../shared/formats/dqlite/validate';
import { baseFiles, bootstrapSegment, closed, dir, NODE, segmentBytes, snapshot, withZeros } from './builders';

const INFO_YAML = new TextEncoder().encode(`Address: ${NODE.address}\nID: ${NODE.id}\nRole: 0\n`);

function key(name: string) {
  const m = /^(\d{16})-(\d{16})$/.exec(name);
  return m ? { name, kind: 'closed' as const, first: Number(m[1]), last: Number(m[2]) } : { name, kind: 'open' as const, counter: Number(name.slice(5)) };
}

/** Apply repair operations to an in-memory directory (what writeRepairedCopy does on disk). */
function applyOps(files: Record<string, Uint8Array>, ops: RepairOperation[]): Record<string, Uint8Array> {
  const out = { ...files };
  for (const o of ops) {
    if (o.op === 'quarantine') delete out[o.file];
    else if (o.op === 'truncate-rename') {
      const b = out[o.file].subarray(0, o.bytes);
      delete out[o.file];
      out[o.newName] = b;
    } else out[o.file] = o.bytes;
  }
  return out;
}

/**
 * Shape of the crashed golden: bootstrap 1-1, closed 2-10, 11-20 (closed by
 * the snapshot at 20), 21-30 (full), open-4 holding 31..40, two zero spares.
 */
function crashedNode(): Record<string, Uint8Array> {
  const files = baseFiles();
  files['info.yaml'] = INFO_YAML;
  files[closedSegmentName(1, 1)] = bootstrapSegment();
  closed(files, 2, 9);
  closed(files, 11, 10);
  closed(files, 21, 10);
  snapshot(files, 10, 1000);
  snapshot(files, 20, 2000);
  files['open-4'] = withZeros(segmentBytes(31, 10), 4096);
  files['open-5'] = new Uint8Array(8192);
  files['open-6'] = new Uint8Array(8192);
  return files;
}

describe('segment order: glibc merge sort over libraft comparator', () => {
  it('puts an over-long name after the segment it overlaps, as libraft 0.15 does', () => {
    const names = [
      '0000000000001496-0000000000001978',
      '0000000000001979-0000000000002050',
      '0000000000002049-0000000000002529',
      'open-10',
      'open-8',
      'open-9',
    ];
    const order = libraftSegmentOrder(names.map(key)).map((s) => s.name);
    expect(order).toEqual([
      '0000000000001496-0000000000001978',
      '0000000000002049-0000000000002529',
      '0000000000001979-0000000000002050',
      'open-8',
      'open-9',
      'open-10',
    ]);
    // The comparator itself is inconsistent for overlapping ranges: both orders say "after".
    expect(uvSegmentInfoCompare(key(names[1]), key(names[2]))).toBe(1);
    expect(uvSegmentInfoCompare(key(names[2]), key(names[1]))).toBe(1);
  });

  it('a name claiming more entries than the file holds: dqlite renames it and the open segments, losing their entries', async () => {
    const files = crashedNode();
    // 11-20 renamed 11-22 (overlaps 21-30): libraft sorts it last and auto-recovery sets it aside.
    files[closedSegmentName(11, 22)] = files[closedSegmentName(11, 20)];
    delete files[closedSegmentName(11, 20)];
    const r = await validateDqliteDirectory(dir(files));
    expect(r).toMatchObject({ startable: true, dataLoss: true });
    expect(r.dqlite?.decision.renamedCorrupt).toEqual([closedSegmentName(11, 22), 'open-4', 'open-5', 'open-6']);
    expect(r.lost.filter((l) => !l.coveredBySnapshot).map((l) => [l.first, l.last])).toEqual([[31, 40]]);
    // The repair restores the true name instead of keeping the layout.
    const ins = await inspectDqliteDirectory(dir(files));
    expect(ins.operations).toEqual([
      { op: 'truncate-rename', file: closedSegmentName(11, 22), bytes: files[closedSegmentName(11, 22)].length, newName: closedSegmentName(11, 20) },
    ]);
    const after = await validateDqliteDirectory(dir(applyOps(files, ins.operations)));
    expect(after).toMatchObject({ startable: true, dataLoss: false });
    expect(after.dqlite?.decision.lastIndex).toBe(40);
  });
});

describe('open segment with a bad batch', () => {
  it('counts the bad batch itself when its header proves the count, else marks the count as a lower bound', async () => {
    const files = baseFiles();
    closed(files, 1, 10);
    const open = withZeros(segmentBytes(11, 20, 2), 4096); // 10 batches of 2 entries, 176 bytes each
    const flipped = new Uint8Array(open);
    flipped[8 + 3 * 176 + 100] ^= 1; // payload of batch 4 (entries 17, 18)
    files['open-3'] = flipped;
    const r = await validateDqliteDirectory(dir(files));
    expect(r.lost).toEqual([expect.objectContaining({ first: 17, last: 30, coveredBySnapshot: false })]);
    // The repair cuts the file itself (the original stays in quarantine) and says what it cannot keep.
    const ins = await inspectDqliteDirectory(dir(files));
    expect(ins.operations).toEqual([{ op: 'truncate-rename', file: 'open-3', bytes: 8 + 3 * 176, newName: 'open-3' }]);
    expect(ins.report.dqlite?.repair.lost.map((l) => [l.first, l.last])).toEqual([[17, 30]]);
    expect(await validateDqliteDirectory(dir(applyOps(files, ins.operations)))).toMatchObject({ startable: true, dataLoss: false });
    // Header of batch 4 damaged (a term byte): the count is unverified, but its layout ends where batch 5 starts.
    const header = new Uint8Array(open);
    header[8 + 3 * 176 + 16] ^= 1;
    files['open-3'] = header;
    const r2 = await validateDqliteDirectory(dir(files));
    expect(r2.lost[0]).toMatchObject({ first: 17, last: 30 });
    // Count field itself damaged: only a lower bound is known, and the report says so.
    const count = new Uint8Array(open);
    count[8 + 3 * 176 + 8] = 3;
    files['open-3'] = count;
    const r3 = await validateDqliteDirectory(dir(files));
    expect(r3.lost[0]).toMatchObject({ first: 17, last: 29 });
    expect(r3.lost[0].reason).toContain('at least');
  });
});

describe('metadata and bootstrap', () => {
  const torn = () => {
    const files = crashedNode();
    files.metadata1 = encodeMetadata(1, 1, 0).subarray(0, 16);
    return files;
  };

  it('no usable metadata + existing log: dqlite bootstraps and fails; the repair writes a fresh metadata1', async () => {
    const files = torn();
    const r = await validateDqliteDirectory(dir(files));
    expect(r.startable).toBe(false);
    expect(r.dqlite?.decision.fatalError).toBe('raft_bootstrap(): ');
    expect(r.findings.map((f) => f.code)).toContain('metadata.bootstrap-fails');
    const ins = await inspectDqliteDirectory(dir(files));
    const write = ins.operations.find((o) => o.op === 'write');
    expect(ins.operations[0]).toEqual({ op: 'quarantine', file: 'metadata1' });
    expect(write?.file).toBe('metadata1');
    const m = decodeMetadata(write && write.op === 'write' ? write.bytes : new Uint8Array(32));
    expect(m).toEqual({ format: 1n, version: 1n, term: 1n, votedFor: BOOTSTRAP_ID });
    expect(r.dqlite?.repair.startsAfter).toBe(true);
    expect(await validateDqliteDirectory(dir(applyOps(files, ins.operations)))).toMatchObject({ startable: true, dataLoss: false });
    // The plan shows it as a `write` step (after the original is moved aside), and its printf yields exactly those bytes.
    const steps = r.dqlite!.repair.steps;
    const writeAt = steps.findIndex((s) => s.kind === 'write');
    expect(steps[writeAt]).toMatchObject({ kind: 'write', file: 'metadata1' });
    expect(steps.findIndex((s) => s.kind === 'quarantine' && s.file === 'metadata1')).toBeLessThan(writeAt);
    expect(steps.filter((s) => s.kind === 'note').every((s) => s.command === '')).toBe(true);
    const printf = /^printf '[^']*'/.exec(steps[writeAt].command)?.[0];
    expect(printf).toBeDefined();
    const written = execFileSync('sh', ['-c', printf ?? 'false']);
    expect(new Uint8Array(written)).toEqual(write && write.op === 'write' ? write.bytes : null);
  });

  it('the fresh metadata carries the highest term in the log', async () => {
    const files = torn();
    files['open-4'] = withZeros(segmentBytes(31, 10, 1, 7), 4096);
    const ins = await inspectDqliteDirectory(dir(files));
    const write = ins.operations.find((o) => o.op === 'write');
    expect(write && write.op === 'write' ? decodeMetadata(write.bytes).term : 0n).toBe(7n);
  });

  it('does not claim a failure where dqlite does not bootstrap', async () => {
    const other = torn();
    other['info.yaml'] = new TextEncoder().encode('Address: 127.0.0.1:19002\nID: 1234567\nRole: 0\n');
    const r = await validateDqliteDirectory(dir(other));
    expect(r.startable).toBe(true);
    expect(r.findings.find((f) => f.code === 'metadata.missing')?.severity).toBe('warning');
    const noFirst = torn();
    delete noFirst[closedSegmentName(1, 1)];
    const r2 = await validateDqliteDirectory(dir(noFirst));
    expect(r2.startable).toBe(true);
    expect(r2.findings.map((f) => f.code)).toContain('metadata.bootstrap-over-log');
  });

  it('a bad metadata1 with nothing else left is replaced, not only moved aside', async () => {
    for (const damage of [(b: Uint8Array) => withZeros(b, 8), (b: Uint8Array) => Object.assign(new Uint8Array(b), { 0: 3 })]) {
      const files = crashedNode();
      files.metadata1 = damage(files.metadata1);
      const ins = await inspectDqliteDirectory(dir(files));
      expect(ins.report.startable).toBe(false);
      expect(ins.operations.slice(0, 2).map((o) => `${o.op}:${o.file}`)).toEqual(['quarantine:metadata1', 'write:metadata1']);
      expect(ins.report.dqlite?.repair.startsAfter).toBe(true);
      expect(await validateDqliteDirectory(dir(applyOps(files, ins.operations)))).toMatchObject({ startable: true });
    }
  });

  it('two files at the same version: the less recent one (lower term, else metadata2) is moved aside', async () => {
    const files = crashedNode();
    files.metadata2 = encodeMetadata(1, 1, 0);
    let ins = await inspectDqliteDirectory(dir(files));
    expect(ins.report.startable).toBe(false);
    expect(ins.operations).toEqual([{ op: 'quarantine', file: 'metadata2' }]);
    expect(await validateDqliteDirectory(dir(applyOps(files, ins.operations)))).toMatchObject({ startable: true, dataLoss: false });
    files.metadata2 = encodeMetadata(1, 2, 0);
    ins = await inspectDqliteDirectory(dir(files));
    expect(ins.operations).toEqual([{ op: 'quarantine', file: 'metadata1' }]);
    expect(ins.report.dqlite?.repair.startsAfter).toBe(true);
  });
});

describe('gap with no snapshot', () => {
  it('keeps the log up to the gap and lists every entry the plan drops', async () => {
    const files = crashedNode();
    for (const n of Object.keys(files)) if (n.startsWith('snapshot-')) delete files[n];
    delete files[closedSegmentName(11, 20)];
    const r = await validateDqliteDirectory(dir(files));
    expect(r.dqlite?.decision.fatalError).toBe(`unexpected closed segment ${closedSegmentName(21, 30)}: first index should have been 11`);
    const plan = r.dqlite!.repair;
    expect(plan.startsAfter).toBe(true);
    expect(plan.lost.map((l) => [l.first, l.last, l.coveredBySnapshot])).toEqual([
      [11, 20, false],
      [21, 30, false],
      [31, 40, false],
    ]);
    expect(plan.steps.filter((s) => s.kind === 'quarantine' && s.file).map((s) => s.file)).toEqual([closedSegmentName(21, 30), 'open-4', 'open-5', 'open-6']);
    expect(plan.steps.some((s) => s.kind === 'note' && /salvage/.test(s.explanation))).toBe(true);
    expect(plan.summary).toContain('entries up to 10');
  });
});

describe('damage that only circumstantial evidence shows', () => {
  const codes = async (files: Record<string, Uint8Array>) => (await validateDqliteDirectory(dir(files))).findings.map((f) => f.code);

  it('healthy crashed and stopped nodes raise neither warning', async () => {
    const healthy = await codes(crashedNode());
    const stopped = crashedNode();
    for (const n of ['open-4', 'open-5', 'open-6']) delete stopped[n];
    closed(stopped, 31, 10);
    for (const c of [...healthy, ...(await codes(stopped))]) expect(c).not.toMatch(/open-zeroed-live|open-after-missing-closed/);
  });

  it('a zeroed live open segment: more all-zero open segments than libraft keeps as spares', async () => {
    const files = crashedNode();
    files['open-4'] = new Uint8Array(files['open-4'].length);
    const r = await validateDqliteDirectory(dir(files));
    expect(r.startable).toBe(true);
    expect(r.findings.find((f) => f.code === 'segment.open-zeroed-live')).toMatchObject({ severity: 'warning', file: 'open-4' });
  });

  it('the last closed segment missing before the open segments', async () => {
    const files = crashedNode();
    delete files[closedSegmentName(21, 30)];
    const r = await validateDqliteDirectory(dir(files));
    expect(r.startable).toBe(true);
    const f = r.findings.find((x) => x.code === 'segment.open-after-missing-closed');
    expect(f).toMatchObject({ severity: 'warning', file: 'open-4' });
    expect(f?.message).toContain('from index 21');
  });
});

describe('writeRepairedCopy', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'lifeboat-agree-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const hashDir = (d: string) =>
    Object.fromEntries(
      readdirSync(d)
        .sort()
        .filter((n) => statSync(path.join(d, n)).isFile())
        .map((n) => [
          n,
          createHash('sha256')
            .update(readFileSync(path.join(d, n)))
            .digest('hex'),
        ]),
    );

  it('writes the fresh metadata into the copy and keeps the torn original in <out>.lifeboat-quarantine', async () => {
    const src = path.join(tmp, 'src');
    mkdirSync(src);
    const files = crashedNode();
    files.metadata1 = files.metadata1.subarray(0, 16);
    for (const [n, b] of Object.entries(files)) writeFileSync(path.join(src, n), b);
    const before = hashDir(src);
    const out = path.join(tmp, 'out', 'repaired');
    const res = await writeRepairedCopy(src, out);
    expect(hashDir(src)).toEqual(before);
    expect(res.report.startable).toBe(false);
    expect(res.after).toMatchObject({ startable: true, dataLoss: false });
    expect(decodeMetadata(readFileSync(path.join(out, 'metadata1')))).toMatchObject({ format: 1n, version: 1n, term: 1n });
    expect(statSync(path.join(out, 'metadata1')).mode & 0o777).toBe(0o600);
    const q = `${out}.lifeboat-quarantine`;
    expect(readFileSync(path.join(q, 'metadata1')).length).toBe(16);
    expect(existsSync(path.join(path.dirname(out), 'lifeboat-quarantine'))).toBe(false);
  });
});
