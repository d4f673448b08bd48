import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { SegmentInfo, SnapshotInfo } from '../../shared/contract/dqlite';
import {
  buildMapModel,
  clampViewport,
  fitViewport,
  focusViewport,
  hitTest,
  revealRange,
  tickStep,
  visibleItemIndexes,
  zoomViewport,
} from '../../renderer/src/features/segment-map/map-model';
import { FIELD_REPORTS } from '../helpers/field-reports';

function closed(first: number, last: number, extra: Partial<SegmentInfo> = {}): SegmentInfo {
  const file = `${String(first).padStart(16, '0')}-${String(last).padStart(16, '0')}`;
  return {
    file,
    kind: 'closed',
    size: 8_000_000,
    firstIndex: first,
    lastIndex: last,
    batches: 0,
    entries: 0,
    validBytes: 0,
    lastValidIndex: null,
    status: 'ok',
    badOffset: null,
    findingCodes: [],
    role: 'loaded',
    terms: null,
    ...extra,
  };
}
function open(counter: number, extra: Partial<SegmentInfo> = {}): SegmentInfo {
  return { ...closed(0, 0), file: `open-${counter}`, kind: 'open', firstIndex: null, lastIndex: null, counter, ...extra };
}
function snapshot(term: number, index: number, extra: Partial<SnapshotInfo> = {}): SnapshotInfo {
  return {
    file: `snapshot-${term}-${index}-1`,
    term,
    index,
    timestamp: 1,
    dataSize: 3_000_000,
    metaOk: true,
    dataOk: null,
    encoding: 'lz4',
    configurationIndex: null,
    configuration: null,
    chosen: false,
    findingCodes: [],
    ...extra,
  };
}

/** Segments and snapshots named in the MicroK8s field report's listing (names only). */
function fieldReport(): { segments: SegmentInfo[]; snapshots: SnapshotInfo[] } {
  const text = readFileSync(`${FIELD_REPORTS}/microk8s-backend-listing.txt`, 'utf8');
  const segments: SegmentInfo[] = [];
  const snapshots: SnapshotInfo[] = [];
  for (const line of text.split('\n')) {
    const name = line.trim().split(/\s+/).pop() ?? '';
    let m = /^(\d{16})-(\d{16})$/.exec(name);
    if (m) segments.push(closed(Number(m[1]), Number(m[2])));
    m = /^open-(\d+)$/.exec(name);
    if (m) segments.push(open(Number(m[1])));
    m = /^snapshot-(\d+)-(\d+)-(\d+)$/.exec(name);
    if (m) snapshots.push(snapshot(Number(m[1]), Number(m[2])));
  }
  return { segments, snapshots };
}

describe('segment map model', () => {
  it('places the field report: 16 closed, 3 open after everything known, 2 snapshots', () => {
    const { segments, snapshots } = fieldReport();
    const model = buildMapModel(segments, snapshots);
    expect(model.counts).toMatchObject({ closed: 16, open: 3, snapshots: 2 });
    expect(model.markers).toEqual([]);
    const opens = model.items.filter((i) => i.lane === 'open');
    expect(opens.map((o) => o.key)).toEqual(['open-28053', 'open-28054', 'open-28055']);
    // Open segments have no index in their name: like libraft, the first continues after the
    // newest closed segment; in counter order, marked approximate.
    expect(opens.every((o) => o.approx)).toBe(true);
    expect(opens[0].first).toBe(14232599);
    expect(opens[1].first).toBe(opens[0].last + 1);
    expect(model.min).toBe(14225187);
    const at = (index: number) => hitTest(model, 'closed', index, 0)?.key;
    expect(at(14232400)).toBe('0000000014232389-0000000014232597');
    expect(at(14232598)).toBe('0000000014232598-0000000014232598');
    expect(hitTest(model, 'snapshot', 14232647.5, 1)?.key).toBe('snapshot-1-14232647-1');
  });

  it('marks gaps and overlaps between closed segments', () => {
    const model = buildMapModel([closed(1, 100), closed(101, 200), closed(251, 300), closed(290, 400)], []);
    expect(model.markers).toEqual([
      { kind: 'gap', first: 201, last: 250, between: ['0000000000000101-0000000000000200', '0000000000000251-0000000000000300'] },
      { kind: 'overlap', first: 290, last: 300, between: ['0000000000000251-0000000000000300', '0000000000000290-0000000000000400'] },
    ]);
  });

  it('draws loader roles as the user must read them', () => {
    const model = buildMapModel(
      [
        closed(1, 10, { role: 'ignored' }),
        closed(11, 20, { role: 'fails', status: 'bad' }),
        closed(21, 30, { role: 'renamed-corrupt', status: 'bad' }),
        open(5, { role: 'truncated', status: 'bad', firstIndex: 31, lastIndex: 40 }),
      ],
      [snapshot(1, 25, { chosen: true }), snapshot(1, 5, { metaOk: false })],
      { startIndex: 11 },
    );
    const tone = Object.fromEntries(model.items.map((i) => [i.key, i.tone]));
    expect(tone).toMatchObject({
      '0000000000000001-0000000000000010': 'ignored',
      '0000000000000011-0000000000000020': 'bad',
      '0000000000000021-0000000000000030': 'renamed',
      'open-5': 'truncated',
      'snapshot-1-25-1': 'snapshot-chosen',
      'snapshot-1-5-1': 'snapshot-bad',
    });
    expect(model.items.find((i) => i.key === 'open-5')).toMatchObject({ first: 31, last: 40, approx: false });
    expect(model.startIndex).toBe(11);
    expect(model.counts.bad).toBe(2);
  });

  it('finds exactly the visible items among 20k segments, with overlaps', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const segs: SegmentInfo[] = [];
    let next = 1;
    for (let i = 0; i < 20_000; i++) {
      const len = 1 + Math.floor(rnd() * 500);
      const start = rnd() < 0.01 ? Math.max(1, next - Math.floor(rnd() * 3000)) : next; // some overlaps
      segs.push(closed(start, start + len - 1));
      next = Math.max(next, start + len) + (rnd() < 0.01 ? 50 : 0);
    }
    const model = buildMapModel(segs, []);
    for (let k = 0; k < 200; k++) {
      const from = rnd() * next;
      const to = from + rnd() * 20_000;
      const brute = model.items
        .map((it, i) => [it, i] as const)
        .filter(([it]) => it.last >= from && it.first <= to)
        .map(([, i]) => i);
      expect(visibleItemIndexes(model, from, to)).toEqual(brute);
    }
  });

  it('zooms around the pointer and never leaves the data', () => {
    const model = buildMapModel([closed(1000, 1999), closed(2000, 2999)], []);
    const fit = fitViewport(model);
    expect(fit.from).toBeLessThan(1000);
    expect(fit.to).toBeGreaterThan(3000);
    const z = zoomViewport(fit, 4, 1500, fit);
    expect(z.to - z.from).toBeCloseTo((fit.to - fit.from) / 4);
    // 1500 stays at the same relative position.
    expect((1500 - z.from) / (z.to - z.from)).toBeCloseTo((1500 - fit.from) / (fit.to - fit.from));
    expect(clampViewport({ from: -5000, to: -4000 }, fit).from).toBe(fit.from);
    const shown = revealRange(z, 2990, 2999, fit);
    expect(shown.from).toBeLessThanOrEqual(2990);
    expect(shown.to).toBeGreaterThanOrEqual(3000);
    expect(tickStep(1_000_000, 1000)).toBe(200_000);
  });
});

describe('copy-out command', () => {
  it('names the files for a few, the whole directory for many, and quotes odd names', async () => {
    const { copyCommandFor, shellQuote } = await import('../../renderer/src/features/listing/copy-out');
    expect(copyCommandFor(['0000000014232389-0000000014232597', 'metadata1'])).toBe(
      'sudo tar -C /var/snap/microk8s/current/var/kubernetes/backend -czf ~/lifeboat-backend-files.tar.gz -- 0000000014232389-0000000014232597 metadata1\n' +
        'sudo chown "$(id -u):$(id -g)" ~/lifeboat-backend-files.tar.gz\nsha256sum ~/lifeboat-backend-files.tar.gz',
    );
    expect(copyCommandFor(Array.from({ length: 41 }, (_, i) => `f${i}`))).toBe(
      'sudo tar -C /var/snap/microk8s/current/var/kubernetes -czf ~/lifeboat-backend.tar.gz -- backend\n' +
        'sudo chown "$(id -u):$(id -g)" ~/lifeboat-backend.tar.gz\nsha256sum ~/lifeboat-backend.tar.gz',
    );
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
  });

  it('opens focused on the log and the chosen snapshot, not on an old snapshot far behind', () => {
    const segments = [closed(14232589, 14232592), closed(14232593, 14232597), closed(14232598, 14232598)];
    const snaps = [snapshot(1, 14231581), snapshot(1, 14232605, { chosen: true })];
    const model = buildMapModel(segments, snaps, { startIndex: 14232589 });
    const focus = focusViewport(model);
    expect(focus.from).toBeGreaterThan(14231581);
    expect(focus.from).toBeLessThanOrEqual(14232589);
    expect(focus.to).toBeGreaterThan(14232605);
    // Everything is still reachable with Fit all.
    expect(fitViewport(model).from).toBeLessThan(14231581);
    // When nothing lies far away, the focus is simply the fitted view.
    const compact = buildMapModel([closed(1, 100), closed(101, 200)], [snapshot(1, 150, { chosen: true })]);
    expect(focusViewport(compact)).toEqual(fitViewport(compact));
  });
});
