/**
 * Splitting text into records: the formats operators paste, continuation
 * lines, chunk boundaries, and hostile input (random bytes, a 50 MB line,
 * no newlines, 100 MB streamed) that must never crash, hang or hold the
 * whole input in memory.
 */
import { describe, expect, it } from 'vitest';
import { parseLogText, RecordAssembler, MAX_RECORD_CHARS, type ParsedRecord } from '../../shared/logs/parse';
import { LogAnalyzer, analyzeLogText, analyzeLogSources } from '../../shared/logs/analyze';

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

describe('record formats', () => {
  it('reads journald short, short-precise, short-iso and short-full lines', () => {
    const recs = parseLogText(
      [
        'Mar 13 12:33:27 k8s-master kubelet[3317]: E0313 12:33:27.819329    3317 pod_workers.go:1281] boom',
        'Mar  3 02:03:04.250000 node1 systemd[1]: Started etcd.',
        '2024-03-13T12:33:27+0800 k8s-master etcd[812]: {"level":"warn","ts":"2024-03-13T04:33:27.000Z","msg":"slow fdatasync"}',
        'Wed 2024-03-13 12:33:27 UTC k8s-master kernel: EXT4-fs error (device sda1): ext4_find_entry',
      ].join('\n'),
    );
    expect(recs.map((r) => [r.format, r.unit, r.level])).toEqual([
      ['journald', 'kubelet', 'error'],
      ['journald', 'systemd', null],
      ['journald', 'etcd', 'warning'],
      ['journald', 'kernel', null],
    ]);
    expect(recs[0].stamp).toMatchObject({ year: null, month: 3, day: 13, msOfDay: (12 * 3600 + 33 * 60 + 27) * 1000 });
    expect(recs[1].stamp?.msOfDay).toBe((2 * 3600 + 3 * 60 + 4) * 1000 + 250);
    expect(recs[2].stamp).toMatchObject({ year: 2024, zoneMinutes: 480 });
    expect(recs[3].stamp).toMatchObject({ year: 2024, zoneMinutes: 0 });
  });

  it('reads klog, zap JSON (ISO and float ts), logrus, capnslog, docker --timestamps, CRI files and Go log lines', () => {
    const a = analyzeLogText(
      'mixed',
      [
        'E0313 04:37:54.265467       1 run.go:74] "command failed" err="context deadline exceeded"',
        '{"level":"warn","ts":1710304541.934,"caller":"x.go:1","msg":"slow fdatasync"}',
        'time="2024-02-03T08:18:08Z" level=fatal msg="Failed to start server: start node: raft_start(): io: LZ4F_decompress ERROR_contentChecksum_invalid\\n"',
        '2017-08-09 10:32:11.123456 C | etcdmain: member 8e9e05c52164694d has already been bootstrapped',
        '2024-03-13T04:35:41.934123456Z panic: tocommit(37) is out of range [lastIndex(0)]. Was the raft log corrupted, truncated, or lost?',
        '2024-03-13T04:35:42.000000000Z stderr F {"level":"fatal","ts":"2024-03-13T04:35:42.000Z","msg":"failed to read WAL, cannot be repaired"}',
        '2024/03/13 04:35:43 dial tcp 10.0.0.2:2379: connect: connection refused',
      ].join('\n'),
    );
    expect(a.records.map((r) => [r.format, r.level])).toEqual([
      ['klog', 'error'],
      ['json', 'warning'],
      ['logrus', 'fatal'],
      ['capnslog', 'fatal'],
      ['iso', 'fatal'],
      ['iso', 'fatal'],
      ['golog', null],
    ]);
    expect(iso(a.records[1].time)).toBe('2024-03-13T04:35:41.934Z');
    expect(iso(a.records[2].time)).toBe('2024-02-03T08:18:08.000Z');
    expect(a.matches.map((m) => m.signatureId)).toEqual([
      'kubernetes.apiserver-gave-up',
      'etcd.slow-disk',
      'dqlite.snapshot-lz4',
      'etcd.already-bootstrapped',
      'etcd.tocommit-out-of-range',
      'etcd.wal-unrepairable',
      'kubernetes.etcd-unreachable',
    ]);
  });

  it('handles CRLF, ANSI colours and journald boot separators', () => {
    const text =
      '\u001b[31mE0313 04:37:54.265467       1 run.go:74] "command failed" err="context deadline exceeded"\u001b[0m\r\n-- Boot 3f2a9c --\r\nI0313 04:37:55.000000       1 x.go:1] ok\r\n';
    const recs = parseLogText(text);
    expect(recs).toHaveLength(2);
    expect(recs[0].text).toBe('E0313 04:37:54.265467       1 run.go:74] "command failed" err="context deadline exceeded"');
    expect(recs[1].line).toBe(3);
  });

  it('counts a new year when a yearless journal crosses from December to January', () => {
    const a = analyzeLogSources(
      [
        { name: 'etcd', text: '{"level":"info","ts":"2023-12-31T23:00:00Z","msg":"x"}' },
        {
          name: 'journal',
          text: [
            'Dec 31 23:59:59 n kubelet[1]: E1231 23:59:59.000000 1 x.go:1] dial tcp 10.0.0.1:6443: connect: connection refused',
            'Jan  1 00:00:09 n kubelet[1]: E0101 00:00:09.000000 1 x.go:1] dial tcp 10.0.0.1:6443: connect: connection refused',
          ].join('\n'),
        },
      ],
      { now: Date.parse('2030-01-01T00:00:00Z') },
    );
    const times = a.matches.map((m) => iso(m.time));
    expect(times).toEqual(['2023-12-31T23:59:59.000Z', '2024-01-01T00:00:09.000Z']);
    // Ten seconds apart: one burst across the new year.
    expect(a.events).toHaveLength(1);
    expect(a.events[0].count).toBe(2);
  });

  it('assumes last year for a yearless December journal read in January', () => {
    const a = analyzeLogText('j', 'Dec 30 10:00:00 n kubelet[1]: dial tcp 1.2.3.4:6443: connect: connection refused', {
      now: Date.parse('2025-01-02T00:00:00Z'),
    });
    expect(iso(a.matches[0].time)).toBe('2024-12-30T10:00:00.000Z');
  });

  it('groups a Go panic printed through journald, one header per line', () => {
    const recs = parseLogText(
      [
        'Mar 13 04:35:41 m etcd[9]: {"level":"info","ts":"2024-03-13T04:35:41.934Z","msg":"starting an etcd server"}',
        'Mar 13 04:35:41 m etcd[9]: panic: freepages: failed to get all reachable pages (page 0: invalid type: meta)',
        'Mar 13 04:35:41 m etcd[9]: ',
        'Mar 13 04:35:41 m etcd[9]: goroutine 123 [running]:',
        'Mar 13 04:35:41 m etcd[9]: go.etcd.io/bbolt.(*DB).freepages.func2()',
        'Mar 13 04:35:41 m etcd[9]:         go.etcd.io/bbolt@v1.3.6/db.go:1056 +0x99',
        'Mar 13 04:35:41 m etcd[9]: created by go.etcd.io/bbolt.(*DB).freepages',
        'Mar 13 04:35:42 m systemd[1]: etcd.service: Main process exited, code=exited, status=2/INVALIDARGUMENT',
      ].join('\n'),
    );
    expect(recs.map((r) => [r.lineCount, r.panic, r.unit])).toEqual([
      [1, false, 'etcd'],
      [6, true, 'etcd'],
      [1, false, 'systemd'],
    ]);
  });

  it('keeps lines of a clock-less log as separate records, but indented ones with the line before', () => {
    const recs = parseLogText('first problem\nsecond problem\n  detail of second\n} closing brace\nthird');
    expect(recs.map((r) => r.text)).toEqual(['first problem', 'second problem\n  detail of second\n} closing brace', 'third']);
  });

  it('gives the same records whatever the chunk boundaries', () => {
    const text = [
      '\r\nMar 13 12:33:27 k8s-master kubelet[3317]: E0313 12:33:27.819329 1 x.go:1] CrashLoopBackOff',
      'panic: boom\r\n\r\ngoroutine 1 [running]:\r\nmain.main()\r\n\t/x.go:1 +0x1',
      '{"level":"info","ts":"2024-03-13T04:35:41.934Z","msg":"x"}',
    ].join('\r\n');
    const whole = parseLogText(text);
    for (const size of [1, 2, 3, 7, 64]) {
      const out: ParsedRecord[] = [];
      const asm = new RecordAssembler((r) => out.push(r));
      for (let i = 0; i < text.length; i += size) asm.push(text.slice(i, i + size));
      asm.end();
      expect(out, `chunk ${size}`).toEqual(whole);
    }
  });
});

/** Deterministic bytes: a tiny LCG, so a failure reproduces. */
function randomText(n: number, seed: number): string {
  let x = seed >>> 0;
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    bytes[i] = x >>> 24;
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

describe('hostile input', () => {
  it('reads 4 MB of random bytes without crashing, every record capped', () => {
    const a = analyzeLogText('random', randomText(4 << 20, 7));
    expect(a.sources[0].records).toBeGreaterThan(0);
    for (const r of a.records) expect(r.text.length).toBeLessThanOrEqual(MAX_RECORD_CHARS);
  });

  it('cuts a 50 MB line without a newline and still finds the failure at its start', () => {
    const line = 'panic: freepages: failed to get all reachable pages (page 0: invalid type: meta) ' + 'x'.repeat(50 * 1024 * 1024);
    const a = analyzeLogText('one line', line);
    expect(a.records).toHaveLength(1);
    expect(a.records[0].truncated).toBe(true);
    expect(a.records[0].text.length).toBeLessThanOrEqual(MAX_RECORD_CHARS);
    expect(a.matches.map((m) => m.signatureId)).toEqual(['etcd.bbolt-freepages']);
    expect(a.notes.map((n) => n.code)).toContain('records-truncated');
  });

  it('caps a goroutine dump of 100000 lines at one bounded record', () => {
    const dump = ['panic: boom', '', ...Array.from({ length: 50_000 }, (_, i) => `goroutine ${i} [select]:\n\t/src/x.go:${i} +0x1`)].join('\n');
    const recs = parseLogText(dump);
    expect(recs).toHaveLength(1);
    expect(recs[0].lineCount).toBe(100_002);
    expect(recs[0].truncated).toBe(true);
    expect(recs[0].text.length).toBeLessThanOrEqual(MAX_RECORD_CHARS);
  });

  it('streams 100 MB in chunks: counts are exact, kept text stays within the budget', { timeout: 120_000 }, () => {
    const analyzer = new LogAnalyzer({ maxKeptChars: 2_000_000, maxMatches: 500 });
    const stream = analyzer.beginSource('big journal');
    const ok = 'Mar 13 12:33:32 k8s-master kubelet[3317]: I0313 12:33:32.011136    3317 reflector.go:533] watching things, nothing to see here at all\n';
    const bad =
      'Mar 13 12:33:33 k8s-master kubelet[3317]: E0313 12:33:33.821994    3317 pod_workers.go:1281] "Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"etcd\\" with CrashLoopBackOff: \\"back-off 2m40s restarting failed container=etcd pod=etcd-k8s-master_kube-system(2ff9)\\""\n';
    const block = ok.repeat(999) + bad;
    const target = 100 * 1024 * 1024;
    let pushed = 0;
    let blocks = 0;
    while (pushed < target) {
      stream.push(block);
      pushed += block.length;
      blocks++;
    }
    stream.end();
    const a = analyzer.finish();
    expect(a.counts['kubernetes.crashloop']).toBe(blocks);
    expect(a.sources[0].lines).toBe(blocks * 1000);
    const kept = a.records.reduce((n, r) => n + r.text.length, 0);
    expect(kept).toBeLessThanOrEqual(2 * 2_000_000);
    expect(a.matches.length).toBeLessThanOrEqual(500);
    expect(a.elidedRecords).toBeGreaterThan(0);
    expect(a.notes.map((n) => n.code)).toEqual(expect.arrayContaining(['records-elided', 'matches-elided']));
  });
});
