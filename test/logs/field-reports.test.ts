/**
 * The verbatim logs from the field reports (test/fixtures/field-reports, copied from the project's shared/data) must come out
 * as the failures the operators actually had, with the details they needed:
 * the segment, batch and byte offset; the bbolt panic; the API server unable
 * to reach etcd; the kubelet restarting etcd and kube-apiserver.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeLogSources, analyzeLogText } from '../../shared/logs/analyze';
import { SIGNATURE_BY_ID } from '../../shared/logs/signatures';
import { laneLabel } from '../../shared/logs/timeline';
import type { LogAnalysis, SignatureMatch } from '../../shared/logs/types';
import { FIELD_REPORTS } from '../helpers/field-reports';

const DATA = FIELD_REPORTS;
const FILES = {
  dqlite: `${DATA}/microk8s-k8s-dqlite-journal.log`,
  etcd: `${DATA}/kubeadm-etcd-bbolt-panic.log`,
  apiserver: `${DATA}/kubeadm-apiserver.log`,
  kubelet: `${DATA}/kubeadm-kubelet-journal.log`,
};
const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
const read = (f: string): string => readFileSync(f, 'utf8');
const of = (a: LogAnalysis, id: string): SignatureMatch[] => a.matches.filter((m) => m.signatureId === id);
const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

let hashesBefore: Record<string, string>;
beforeAll(() => {
  hashesBefore = Object.fromEntries(Object.values(FILES).map((f) => [f, sha(f)]));
});
afterAll(() => {
  // Evidence is only ever read.
  for (const f of Object.values(FILES)) expect(sha(f), f).toBe(hashesBefore[f]);
});

describe('MicroK8s k8s-dqlite journal (field report 1)', () => {
  const a = analyzeLogText('k8s-dqlite journal', read(FILES.dqlite));

  it('names the broken segment, the batch, its byte offset and the zero entry count', () => {
    const [m, ...rest] = of(a, 'dqlite.closed-segment-batch');
    expect(rest).toEqual([]);
    expect(m.fields).toMatchObject({
      segment: '0000000014232389-0000000014232597',
      batch: '394',
      offset: '8384000',
      reason: 'entries count in preamble is zero',
      problem: 'zero-count',
    });
    expect(m.severity).toBe('critical');
    const sig = SIGNATURE_BY_ID.get(m.signatureId);
    expect(sig?.action).toBe('validate-directory');
    expect(m.fields[sig?.fileField ?? '']).toBe('0000000014232389-0000000014232597');
    // The highlighted span is the libraft message itself, not the whole line.
    const rec = a.records[m.recordId];
    expect(rec.text.slice(m.span.start, m.span.end)).toMatch(
      /^load closed segment 0000000014232389-0000000014232597: entries batch 394 starting at byte 8384000: entries count in preamble is zero$/,
    );
  });

  it('reports the specific loader error, not the generic raft_start / start node lines around it', () => {
    const ids = a.matches.map((m) => m.signatureId).sort();
    expect(ids).toEqual(['dqlite.closed-segment-batch', 'runtime.unit-failed']);
  });

  it('places the untimed fatal line at the time of the systemd line after it', () => {
    const m = of(a, 'dqlite.closed-segment-batch')[0];
    expect(m.timeApprox).toBe(true);
    expect(iso(m.time)?.slice(5)).toBe('02-03T08:18:08.000Z');
    const exit = of(a, 'runtime.unit-failed')[0];
    expect(exit.fields).toMatchObject({ unit: 'snap.microk8s.daemon-k8s-dqlite.service', status: '1/FAILURE', component: 'k8s-dqlite' });
    expect(exit.stage).toBe('datastore');
    expect(a.notes.map((n) => n.code)).toContain('year-assumed');
  });

  it('tells the story from the segment', () => {
    expect(a.story.map((s) => s.signatureId)).toEqual(['dqlite.closed-segment-batch']);
  });
});

describe('kubeadm etcd 3.5.7 bbolt panic (field report 2)', () => {
  const a = analyzeLogText('etcd', read(FILES.etcd));

  it('recognises the freepages panic with the page and problem', () => {
    const [m, ...rest] = of(a, 'etcd.bbolt-freepages');
    expect(rest).toEqual([]);
    expect(m.fields).toMatchObject({ page: '0', problem: 'invalid type: meta' });
    expect(m.severity).toBe('critical');
    // The generic "a Go program panicked" gives way to the specific signature.
    expect(of(a, 'runtime.go-panic')).toEqual([]);
  });

  it('groups the panic and its goroutine trace into one record timed by the last JSON line', () => {
    const rec = a.records[of(a, 'etcd.bbolt-freepages')[0].recordId];
    expect(rec.format).toBe('panic');
    expect(rec.lineCount).toBe(7);
    expect(rec.text).toContain('goroutine 123 [running]:');
    expect(rec.text).toContain('created by go.etcd.io/bbolt.(*DB).freepages');
    expect(rec.text.split('\n').at(-1)).toMatch(/db\.go:1054 \+0x1f6$/);
    expect(iso(rec.time)).toBe('2024-03-13T04:35:41.934Z');
    expect(rec.timeApprox).toBe(true);
    expect(a.records).toHaveLength(7);
  });

  it('picks up the data directory and version from the start-up line', () => {
    expect(of(a, 'etcd.server-starting')[0].fields).toMatchObject({ version: '3.5.7', dataDir: '/var/lib/etcd' });
    // An informational line does not make the story.
    expect(a.story.map((s) => s.signatureId)).toEqual(['etcd.bbolt-freepages']);
  });
});

describe('kube-apiserver log (field report 2)', () => {
  const a = analyzeLogText('kube-apiserver', read(FILES.apiserver));

  it('sees that etcd at 127.0.0.1:2379 refuses connections, three times, as one burst', () => {
    const ms = of(a, 'kubernetes.etcd-unreachable');
    expect(ms).toHaveLength(3);
    for (const m of ms) expect(m.fields).toEqual({ endpoint: '127.0.0.1:2379', error: 'connection refused' });
    const ev = a.events.filter((e) => e.signatureId === 'kubernetes.etcd-unreachable');
    expect(ev).toHaveLength(1);
    expect(ev[0].count).toBe(3);
    expect(iso(ev[0].first)).toMatch(/-03-13T04:37:50\.064Z$/);
    expect(iso(ev[0].last)).toMatch(/-03-13T04:37:51\.531Z$/);
  });

  it('keeps the multi-line gRPC dumps with their klog line', () => {
    // 20 lines: a dangling tail of a dump, two full warnings of 8 lines, one error line.
    expect(a.records.map((r) => r.lineCount)).toEqual([3, 8, 8, 1]);
    expect(a.records.map((r) => r.format)).toEqual(['plain', 'klog', 'klog', 'klog']);
  });

  it('sees the API server give up with context deadline exceeded', () => {
    expect(of(a, 'kubernetes.apiserver-gave-up')).toHaveLength(1);
    expect(of(a, 'kubernetes.context-deadline')).toEqual([]);
    expect(a.story.map((s) => s.signatureId)).toEqual(['kubernetes.etcd-unreachable']);
  });
});

describe('kubelet journal (field report 2)', () => {
  const a = analyzeLogText('kubelet journal', read(FILES.kubelet));

  it('finds etcd and kube-apiserver in CrashLoopBackOff', () => {
    const loops = of(a, 'kubernetes.crashloop').map((m) => m.fields);
    expect(loops).toEqual([
      { backoff: '1m20s', container: 'kube-apiserver', pod: 'kube-apiserver-k8s-master', namespace: 'kube-system', component: 'kube-apiserver' },
      { backoff: '2m40s', container: 'etcd', pod: 'etcd-k8s-master', namespace: 'kube-system', component: 'etcd' },
    ]);
    expect(a.story[0].signatureId).toBe('kubernetes.crashloop');
    expect(a.story[0].subjects).toEqual(['kube-apiserver', 'etcd']);
  });

  it('sees the kubelet refused by the API server on 6443', () => {
    const refused = of(a, 'kubernetes.apiserver-refused');
    expect(refused).toHaveLength(5);
    expect(new Set(refused.map((m) => m.fields.endpoint))).toEqual(new Set(['192.168.31.2:6443']));
  });

  it('reads journald lines: unit, klog level inside, and time without a year', () => {
    expect(a.records).toHaveLength(10);
    expect(new Set(a.records.map((r) => r.unit))).toEqual(new Set(['kubelet']));
    expect(a.records.map((r) => r.level)).toEqual(['error', 'warning', 'error', 'error', 'error', 'info', 'error', 'info', 'error', 'error']);
    expect(a.sources[0].yearInferred).not.toBeNull();
    expect(a.notes.find((n) => n.code === 'year-assumed')?.source).toBe('kubelet journal');
  });
});

describe('etcd + apiserver + kubelet on one timeline', () => {
  const sources = [
    { name: 'etcd', text: read(FILES.etcd) },
    { name: 'kube-apiserver', text: read(FILES.apiserver) },
    { name: 'kubelet journal', text: read(FILES.kubelet) },
  ];

  it('tells the story from cause to effect: bbolt panic → etcd unreachable → CrashLoopBackOff', () => {
    const a = analyzeLogSources(sources);
    expect(a.story.map((s) => [s.stage, s.signatureId])).toEqual([
      ['datastore', 'etcd.bbolt-freepages'],
      ['apiserver', 'kubernetes.etcd-unreachable'],
      ['node', 'kubernetes.crashloop'],
    ]);
    expect(a.story[1].count).toBe(3);
    expect(a.story[2].subjects).toEqual(['kube-apiserver', 'etcd']);
  });

  it('takes the year for journald and klog lines from the etcd JSON lines', () => {
    const a = analyzeLogSources(sources);
    expect(a.sources.map((s) => s.yearInferred)).toEqual([null, 2024, 2024]);
    expect(a.notes.filter((n) => n.code === 'year-inferred').map((n) => n.source)).toEqual(['kube-apiserver', 'kubelet journal']);
  });

  it('flags the kubelet clock as hours away, and lines up once its zone is set', () => {
    const asUtc = analyzeLogSources(sources);
    const skew = asUtc.notes.find((n) => n.code === 'clock-skew');
    expect(skew?.source).toBe('kubelet journal');
    expect(skew?.params.hours).toBe(8);

    const zoned = analyzeLogSources(sources.map((s) => (s.name === 'kubelet journal' ? { ...s, zoneMinutes: 8 * 60 } : s)));
    expect(zoned.notes.find((n) => n.code === 'clock-skew')).toBeUndefined();
    const loop = zoned.events.find((e) => e.signatureId === 'kubernetes.crashloop');
    expect(iso(loop?.first ?? null)).toBe('2024-03-13T04:33:27.000Z');
    // Timeline order is by time across sources.
    const firsts = zoned.events.map((e) => e.first ?? -Infinity);
    expect([...firsts].sort((x, y) => x - y)).toEqual(firsts);
    expect(zoned.range).toEqual({ start: Date.parse('2024-03-13T04:33:27.000Z'), end: Date.parse('2024-03-13T04:37:54.265Z') });
  });

  it('gives every source its lane, named by source and unit', () => {
    const a = analyzeLogSources(sources);
    expect(a.lanes.map((l) => [l.source, l.unit, l.matches])).toEqual([
      ['etcd', null, 2],
      ['kube-apiserver', null, 4],
      ['kubelet journal', 'kubelet', 8],
    ]);
    expect(a.lanes.map(laneLabel)).toEqual(['etcd', 'kube-apiserver', 'kubelet journal · kubelet']);
    // A source named after its unit is not "kubelet · kubelet".
    expect(laneLabel({ source: 'kubelet', unit: 'kubelet' })).toBe('kubelet');
    expect(laneLabel({ source: 'kubelet', unit: 'kubelet.service' })).toBe('kubelet');
    expect(laneLabel({ source: 'node-1', unit: 'kubelet' })).toBe('node-1 · kubelet');
  });

  it('the story never runs backwards silently: the kubelet excerpt (04:33) predates the etcd panic (04:35) and says so', () => {
    const zoned = analyzeLogSources(sources.map((s) => (s.name === 'kubelet journal' ? { ...s, zoneMinutes: 8 * 60 } : s)));
    expect(zoned.story.map((s) => [s.signatureId, iso(s.time), s.earlierThanCause])).toEqual([
      ['etcd.bbolt-freepages', '2024-03-13T04:35:41.934Z', false],
      ['kubernetes.etcd-unreachable', '2024-03-13T04:37:50.064Z', false],
      ['kubernetes.crashloop', '2024-03-13T04:33:27.000Z', true],
    ]);
    // Steps not flagged run forwards in time.
    const times = zoned.story.filter((s) => !s.earlierThanCause).map((s) => s.time ?? 0);
    expect([...times].sort((x, y) => x - y)).toEqual(times);
  });
});
