/**
 * Timeline model: bursts collapse with exact counts and split on long gaps,
 * untimed sources still get markers, events are in time order, and the story
 * runs from cause to effect whatever order the sources were pasted in.
 */
import { describe, expect, it } from 'vitest';
import { analyzeLogSources, analyzeLogText } from '../../shared/logs/analyze';

const refused = (hh: string, mm: string, ss: string): string =>
  `Mar 13 ${hh}:${mm}:${ss} n kubelet[1]: E0313 ${hh}:${mm}:${ss}.000000 1 x.go:1] dial tcp 10.0.0.1:6443: connect: connection refused`;

describe('timeline', () => {
  it('collapses a run of the same failure into one burst and splits it after a long quiet gap', () => {
    const lines = [refused('10', '00', '00'), refused('10', '01', '00'), refused('10', '04', '59'), refused('10', '30', '00'), refused('10', '31', '00')];
    const a = analyzeLogText('kubelet', lines.join('\n'), { now: Date.parse('2024-06-01T00:00:00Z') });
    expect(a.events.map((e) => [e.count, new Date(e.first ?? 0).toISOString().slice(11, 19), new Date(e.last ?? 0).toISOString().slice(11, 19)])).toEqual([
      [3, '10:00:00', '10:04:59'],
      [2, '10:30:00', '10:31:00'],
    ]);
  });

  it('keeps markers for a source without any time, in a single untimed burst per failure', () => {
    const a = analyzeLogText(
      'pasted',
      'dial tcp 10.0.0.1:6443: connect: connection refused\nsomething else\ndial tcp 10.0.0.1:6443: connect: connection refused',
    );
    expect(a.events).toHaveLength(1);
    expect(a.events[0]).toMatchObject({ first: null, last: null, count: 2 });
    expect(a.range).toBeNull();
    expect(a.notes.map((n) => n.code)).toContain('no-times');
  });

  it('orders the story by stage, not by paste order, and skips informational lines', () => {
    const kubelet = String.raw`Mar 13 04:36:00 m kubelet[1]: E0313 04:36:00.000000 1 pod_workers.go:1281] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"etcd\" with CrashLoopBackOff: \"back-off 5m0s restarting failed container=etcd pod=etcd-m_kube-system(abc)\""`;
    const apiserver =
      'W0313 04:35:50.000000       1 logging.go:59] grpc: addrConn.createTransport failed: dial tcp 127.0.0.1:2379: connect: connection refused';
    const etcd = [
      '{"level":"info","ts":"2024-03-13T04:35:41.000Z","msg":"starting an etcd server","etcd-version":"3.5.7","data-dir":"/var/lib/etcd"}',
      '{"level":"panic","ts":"2024-03-13T04:35:41.500Z","msg":"tocommit(37) is out of range [lastIndex(0)]. Was the raft log corrupted, truncated, or lost?"}',
    ].join('\n');
    const a = analyzeLogSources([
      { name: 'kubelet', text: kubelet },
      { name: 'apiserver', text: apiserver },
      { name: 'etcd', text: etcd },
    ]);
    expect(a.story.map((s) => s.signatureId)).toEqual(['etcd.tocommit-out-of-range', 'kubernetes.etcd-unreachable', 'kubernetes.crashloop']);
    expect(a.story[0].fields).toMatchObject({ tocommit: '37', lastIndex: '0' });
    // Events are drawn in time order across sources.
    expect(a.events.map((e) => e.signatureId)).toEqual([
      'etcd.server-starting',
      'etcd.tocommit-out-of-range',
      'kubernetes.etcd-unreachable',
      'kubernetes.crashloop',
    ]);
  });

  it('names sources uniquely and gives a source with nothing recognised an empty lane', () => {
    const a = analyzeLogSources([
      { name: 'node', text: 'all quiet' },
      { name: 'node', text: refused('10', '00', '00') },
    ]);
    expect(a.sources.map((s) => s.name)).toEqual(['node', 'node (2)']);
    expect(a.lanes.map((l) => [l.source, l.unit, l.matches])).toEqual([
      ['node', null, 0],
      ['node (2)', 'kubelet', 1],
    ]);
  });
});
