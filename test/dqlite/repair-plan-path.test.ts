import { describe, expect, it } from 'vitest';
import { listSegmentBatches, validateDqliteDirectory } from '../../shared/formats/dqlite/validate';
import { closedSegmentName } from '../../shared/formats/dqlite/segment-name';
import { MICROK8S_BACKEND, shellWord } from '../../shared/formats/dqlite/repair-plan';
import { baseFiles, bootstrapSegment, closed, dir, segmentBytes, snapshot, withZeros } from './builders';

/** The field report's shape: a zero-filled closed segment inside the snapshot, then a bootstrap segment and open segments. */
function fieldReportFiles(): Record<string, Uint8Array> {
  const files = baseFiles();
  closed(files, 1, 40, 4);
  closed(files, 41, 60, 4);
  const body = segmentBytes(101, 40);
  files[closedSegmentName(101, 120)] = withZeros(body, 4096 * Math.ceil((body.length + 1) / 4096) - body.length);
  files[closedSegmentName(121, 121)] = bootstrapSegment();
  files['open-7'] = withZeros(segmentBytes(122, 60, 3), 8192);
  snapshot(files, 170, 2000);
  return files;
}

const BAD = closedSegmentName(101, 120);
const REACHED = 170;

describe('repair plan names the directory that was validated', () => {
  it('in place: every command names that path, the quarantine sits beside it, no MicroK8s default anywhere', async () => {
    const node = '/data/k8s-dqlite/backend';
    const r = await validateDqliteDirectory(dir(fieldReportFiles()), { nodePath: { path: `${node}/`, origin: 'in-place' } });
    const plan = r.dqlite!.repair;
    expect(plan.backend).toEqual({ path: node, origin: 'in-place' });
    const commands = plan.steps.map((s) => s.command).filter(Boolean);
    expect(commands).toContain(`sudo mv ${node}/${BAD} /data/k8s-dqlite/lifeboat-quarantine/`);
    expect(commands).toContain('sudo tar -C /data/k8s-dqlite -czf /root/lifeboat-backup-$(date +%Y%m%d-%H%M%S).tar.gz backend');
    expect(commands).toContain('sudo mkdir -p /data/k8s-dqlite/lifeboat-quarantine');
    expect(commands.join('\n')).not.toContain('/var/snap/microk8s');
    // No step says "default path" when the path is known.
    expect(plan.steps.some((s) => s.explanationText?.key === 'dqlite.repair.note.default-path')).toBe(false);
  });

  it('a path with spaces and quotes is quoted as one shell word', async () => {
    const node = "/srv/node 1/it's/backend";
    const r = await validateDqliteDirectory(dir(fieldReportFiles()), { nodePath: { path: node, origin: 'copied-from' } });
    const mv = r.dqlite!.repair.steps.find((s) => s.kind === 'quarantine' && s.file === BAD)!.command;
    expect(mv).toBe(`sudo mv '/srv/node 1/it'\\''s/backend/${BAD}' '/srv/node 1/it'\\''s/lifeboat-quarantine'/`);
    expect(shellWord('/plain/path-1.2')).toBe('/plain/path-1.2');
  });

  it('a copy of unknown origin falls back to the MicroK8s default and says so first', async () => {
    const plan = (await validateDqliteDirectory(dir(fieldReportFiles()))).dqlite!.repair;
    expect(plan.backend).toEqual({ path: MICROK8S_BACKEND, origin: 'microk8s-default' });
    expect(plan.steps[0]).toMatchObject({ kind: 'note', explanationText: { key: 'dqlite.repair.note.default-path', params: { path: MICROK8S_BACKEND } } });
    expect(plan.steps.find((s) => s.file === BAD)?.command).toBe(
      `sudo mv ${MICROK8S_BACKEND}/${BAD} /var/snap/microk8s/current/var/kubernetes/lifeboat-quarantine/`,
    );
    // Commands carry no English comments (the UI shows them in Chinese too).
    for (const s of plan.steps) expect(s.command).not.toContain('#');
  });

  it('the loader narrative tells libraft retry once and counts in plain English', async () => {
    const r = await validateDqliteDirectory(dir(fieldReportFiles()));
    const narrative = r.dqlite!.decision.narrative;
    expect(narrative).toEqual([
      'Load the newest snapshot snapshot-1-170-2000 (index 170).',
      `The newest closed segment ${closedSegmentName(121, 121)} ends before the snapshot index 170, but open segments exist, so libraft keeps every segment.`,
      'Start index 1; loading 5 segments in order.',
      `${BAD} is not the last closed segment, so auto-recovery does not touch it.`,
      `First attempt failed (RAFT_CORRUPT): ${r.dqlite!.decision.fatalError}. libraft retries once (only what it does differently is listed below).`,
      'Nothing differs: no file was renamed, so the retry fails at the same place.',
      `Start-up fails: ${r.dqlite!.decision.fatalError}`,
    ]);
    expect(r.dqlite!.decision.narrativeText?.length).toBe(narrative.length);
    expect(r.dqlite!.repair.summary).toBe('After 1 file operation the node starts with entries up to 181; every entry it drops is already in the snapshot.');
  });
});

describe('how far the loader got', () => {
  it('a failing start still says the highest index it held (the snapshot here), not a bare dash', async () => {
    const r = await validateDqliteDirectory(dir(fieldReportFiles()));
    expect(r.startable).toBe(false);
    expect(r.dqlite!.decision.lastIndex).toBeNull();
    expect(r.dqlite!.decision.reachedIndex).toBe(REACHED);
  });
});

describe('batch list of an open segment', () => {
  it("a healthy open segment's preallocated zeros are one normal 'unused' row, not a bad batch", async () => {
    const files = baseFiles();
    const body = segmentBytes(1, 8, 1);
    files['open-1'] = withZeros(body, 8192);
    const rows = await listSegmentBatches(dir(files), 'open-1');
    const fill = rows[rows.length - 1];
    expect(rows.slice(0, -1).every((b) => b.problem === null && b.headerCrc === 'ok' && b.dataCrc === 'ok')).toBe(true);
    expect(rows.slice(0, -1).reduce((n, b) => n + b.entries, 0)).toBe(8);
    expect(fill).toMatchObject({ zeroFill: true, offset: body.length, size: 8192, problem: null, entries: 0 });
  });

  it('the same zeros in a closed segment stay a bad batch (libraft fails on them)', async () => {
    const files = baseFiles();
    const body = segmentBytes(1, 8, 1);
    files[closedSegmentName(1, 8)] = withZeros(body, 8192);
    const rows = await listSegmentBatches(dir(files), closedSegmentName(1, 8));
    const last = rows[rows.length - 1];
    expect(last.zeroFill).toBeUndefined();
    expect(last.problem).toBe('entries count in preamble is zero');
    expect(last.offset).toBe(body.length);
  });

  it('non-zero bytes after the last batch of an open segment are still a problem', async () => {
    const files = baseFiles();
    const body = segmentBytes(1, 8, 1);
    const tail = new Uint8Array(8192);
    tail[4000] = 7;
    files['open-1'] = new Uint8Array([...body, ...tail]);
    const rows = await listSegmentBatches(dir(files), 'open-1');
    expect(rows[rows.length - 1].zeroFill).toBeUndefined();
    expect(rows[rows.length - 1].problem).not.toBeNull();
  });
});

describe('one batch opened up', () => {
  it('lists entries with their indexes, payload offsets and both checksums (stored = computed for a good batch)', async () => {
    const files = baseFiles();
    closed(files, 1, 12, 4);
    const rows = await listSegmentBatches(dir(files), closedSegmentName(1, 12), { detail: 2 });
    const b = rows.find((r) => r.number === 2)!;
    expect(rows.filter((r) => r.detail)).toHaveLength(1);
    const d = b.detail!;
    expect(d.headerCrc.computed).toBe(d.headerCrc.stored);
    expect(d.dataCrc.computed).toBe(d.dataCrc.stored);
    expect(d.entries.map((e) => e.index)).toEqual([5, 6, 7, 8]);
    // Payloads follow the 16-byte preamble and 4 entry records, each padded to 8 bytes.
    expect(d.entries[0].offset).toBe(b.offset + 16 + 16 * 4);
    expect(d.entries[1].offset - d.entries[0].offset).toBe(Math.ceil(d.entries[0].length / 8) * 8);
    expect(d.more).toBe(0);
  });

  it('a flipped payload byte: the data CRC differs, the header CRC still matches', async () => {
    const files = baseFiles();
    closed(files, 1, 12, 4);
    const name = closedSegmentName(1, 12);
    const rows0 = await listSegmentBatches(dir(files), name, { detail: 3 });
    const third = rows0.find((r) => r.number === 3)!;
    const bytes = files[name].slice();
    bytes[third.detail!.entries[0].offset] ^= 0xff;
    files[name] = bytes;
    const d = (await listSegmentBatches(dir(files), name, { detail: 3 })).find((r) => r.number === 3)!.detail!;
    expect(d.headerCrc.computed).toBe(d.headerCrc.stored);
    expect(d.dataCrc.computed).not.toBe(d.dataCrc.stored);
  });
});

describe('the smallest plan', () => {
  it('a segment whose name claims two entries too many: renamed to its true range, and nothing after it is moved aside', async () => {
    const files = baseFiles();
    closed(files, 1, 20, 4);
    closed(files, 21, 20, 4);
    closed(files, 41, 20, 4);
    closed(files, 61, 20, 4);
    // The open segment libraft was writing: its entries 81..90 follow the newest closed segment.
    files['open-7'] = withZeros(segmentBytes(81, 10, 2), 8192);
    snapshot(files, 30);
    // 21-40 renamed 21-42: the chain breaks (41 follows 42), so libraft says a later segment is past the snapshot.
    files[closedSegmentName(21, 42)] = files[closedSegmentName(21, 40)];
    delete files[closedSegmentName(21, 40)];
    const r = await validateDqliteDirectory(dir(files));
    expect(r.dqlite!.decision.fatalError).toMatch(/^closed segment \d{16}-\d{16} is past last snapshot snapshot-1-30-1000$/);
    const plan = r.dqlite!.repair;
    expect(plan.startsAfter).toBe(true);
    expect(plan.steps.filter((s) => s.kind === 'quarantine' && s.file).map((s) => s.file)).toEqual([]);
    expect(plan.steps.filter((s) => s.kind === 'truncate-rename').map((s) => s.command)).toEqual([
      expect.stringContaining(`&& sudo mv ${MICROK8S_BACKEND}/${closedSegmentName(21, 42)} ${MICROK8S_BACKEND}/${closedSegmentName(21, 40)}`),
    ]);
    expect(plan.lost.filter((l) => !l.coveredBySnapshot)).toEqual([]);
    expect(plan.summary).toContain('entries up to 90');
  });

  it('an open segment after a real gap stays aside (its first index would be guessed wrong)', async () => {
    const files = baseFiles();
    closed(files, 1, 10, 2);
    closed(files, 21, 10, 2);
    files['open-4'] = withZeros(segmentBytes(31, 6, 2), 8192);
    const plan = (await validateDqliteDirectory(dir(files))).dqlite!.repair;
    expect(plan.steps.filter((s) => s.kind === 'quarantine' && s.file).map((s) => s.file)).toEqual([closedSegmentName(21, 30), 'open-4']);
    expect(plan.lost.map((l) => [l.first, l.last])).toEqual([
      [11, 20],
      [21, 30],
      [31, 36],
    ]);
  });
});
