/**
 * Open segments carry no index: libraft numbers their entries from the end of
 * whatever precedes them. Two kinds of damage therefore leave a directory that
 * loads "cleanly" while entries are gone or misplaced, and no checksum can
 * show it. We can only point at circumstantial evidence, from how libraft
 * 0.15 creates open segments (`raft:uv_prepare.c`):
 *
 * - the counter in `open-N` starts at 1 on every start of the process and
 *   grows by one per prepared segment;
 * - at most UV__TARGET_POOL_SIZE (2) prepared, never written segments wait
 *   as spares, so more all-zero open segments than that after the last one
 *   with data means a segment that was being written is now all zeros;
 * - every open segment of the current run that filled up or was cut by a
 *   snapshot became a closed segment, so when the whole log from index 1 is
 *   on disk there are at least N-1 closed segments (not counting the
 *   single-entry configuration segments bootstrap and `.reconfigure` write)
 *   before `open-N`. Fewer means a closed segment went missing, and the open
 *   segments would be loaded at lower indexes than they were written at.
 *
 * These are warnings: a crash between preparing a segment and its first
 * write also leaves an extra zero segment.
 */
import type { Finding } from '../../contract/findings';
import type { LoaderResult, SimSegment } from './loader';
import { findingText } from './say';

const TARGET_POOL_SIZE = 2;

function isConfigurationSegment(s: SimSegment): boolean {
  return s.kind === 'closed' && s.first === s.last && s.scan.entries === 1 && s.scan.types.change === 1;
}

export function suspiciousOpenSegments(segments: SimSegment[], loader: LoaderResult): Finding[] {
  const out: Finding[] = [];
  const open = segments.filter((s) => s.kind === 'open').sort((a, b) => (a.counter ?? 0) - (b.counter ?? 0));
  const withData = open.filter((s) => s.scan.format === 1n && s.scan.entries > 0);
  const lastDataCounter = withData.length ? (withData[withData.length - 1].counter ?? 0) : -1;
  const zeroAfter = open.filter((s) => (s.counter ?? 0) > lastDataCounter && (s.scan.size === 0 || s.scan.zeroFormatAllZero));
  if (zeroAfter.length > TARGET_POOL_SIZE) {
    const live = zeroAfter[0];
    const closed = segments.filter((s) => s.kind === 'closed' && s.last !== null);
    const lastClosed = closed.reduce((m, s) => Math.max(m, s.last ?? 0), 0);
    out.push({
      severity: 'warning',
      code: 'segment.open-zeroed-live',
      file: live.name,
      offset: 0,
      ...findingText('finding.segment.open-zeroed-live.message', {
        count: zeroAfter.length,
        files: zeroAfter.map((s) => s.name).join(', '),
        pool: TARGET_POOL_SIZE,
        file: live.name,
        index: lastClosed,
      }),
    });
  }

  const first = withData[0];
  if (first) {
    const closed = segments.filter((s) => s.kind === 'closed' && s.first !== null && s.last !== null).sort((a, b) => (a.first ?? 0) - (b.first ?? 0));
    let contiguousFromOne = closed.length > 0 && closed[0].first === 1;
    for (let i = 1; contiguousFromOne && i < closed.length; i++) if (closed[i].first !== (closed[i - 1].last ?? 0) + 1) contiguousFromOne = false;
    const counted = closed.filter((s) => !isConfigurationSegment(s)).length;
    const counter = first.counter ?? 0;
    if (contiguousFromOne && counter - 1 > counted) {
      const at = loader.ranges.get(first.name)?.first ?? (closed[closed.length - 1].last ?? 0) + 1;
      out.push({
        severity: 'warning',
        code: 'segment.open-after-missing-closed',
        file: first.name,
        offset: null,
        ...findingText('finding.segment.open-after-missing-closed.message', { file: first.name, counter, counted, at }),
      });
    }
  }
  return out;
}
