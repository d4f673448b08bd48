import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeListing } from '../../shared/formats/dqlite/listing';
import { FIELD_REPORTS } from '../helpers/field-reports';

const FIELD = readFileSync(`${FIELD_REPORTS}/microk8s-backend-listing.txt`, 'utf8');

describe('pasted listings', () => {
  it('reads the field report listing', () => {
    const a = analyzeListing(FIELD);
    expect(a.entries).toHaveLength(31);
    expect(a.segments.filter((s) => s.kind === 'closed')).toHaveLength(16);
    expect(a.segments.filter((s) => s.kind === 'open').map((s) => s.file)).toEqual(['open-28053', 'open-28054', 'open-28055']);
    expect(a.snapshots.map((s) => [s.index, s.chosen])).toEqual([
      [14232647, false],
      [14233671, true],
    ]);
    const codes = a.findings.map((f) => `${f.code}:${f.file ?? ''}`);
    expect(codes).toContain('listing.block-aligned-closed:0000000014232389-0000000014232597');
    expect(codes).toContain('listing.tiny-after-full:0000000014232598-0000000014232598');
    expect(codes).toContain('listing.snapshot-ahead:snapshot-1-14233671-3430050282.meta');
    expect(a.findings.some((f) => f.code === 'listing.gap' || f.code === 'listing.overlap')).toBe(false);
    // Closed segments end before the newest snapshot but open segments exist: libraft keeps all of them.
    expect(a.segments.every((s) => s.role === 'loaded')).toBe(true);
    expect(a.narrative.join(' ')).toContain('keeps every segment');
    expect(a.copyOut.map((c) => c.file)).toEqual(
      expect.arrayContaining(['0000000014232389-0000000014232597', 'open-28055', 'snapshot-1-14233671-3430050282.meta', 'metadata1']),
    );
  });
  it('uses the first line of a name listed twice (two listings pasted together), and says so once', () => {
    const once = analyzeListing(FIELD);
    const twice = analyzeListing(`${FIELD}\n${FIELD}`);
    const repeated = twice.findings.filter((f) => f.code === 'listing.repeated-names');
    expect(repeated).toHaveLength(1);
    expect(repeated[0]!.severity).toBe('warning');
    expect(repeated[0]!.params).toEqual({ count: 31, name: once.entries[0]!.name });
    // Apart from that, the same analysis as the listing pasted once: each segment once, with its own findings.
    expect(twice.entries).toEqual(once.entries);
    expect(twice.segments).toEqual(once.segments);
    expect(twice.findings.filter((f) => f.code !== 'listing.repeated-names')).toEqual(once.findings);
    expect(once.findings.some((f) => f.code === 'listing.repeated-names')).toBe(false);
  });
  it('handles CRLF, full-iso times, garbage and gaps', () => {
    const text = [
      'total 24',
      '-rw------- 1 root root 80 2024-01-28 00:40:12.123456789 +0000 0000000000000001-0000000000000001',
      'garbage line here',
      '-rw------- 1 root root 4096 2024-01-28 00:40:12.123456789 +0000 0000000000000005-0000000000000009',
      'drwxr-xr-x 2 root root 4096 Jan 28 00:41 .',
    ].join('\r\n');
    const a = analyzeListing(text);
    expect(a.entries.map((e) => e.name)).toEqual(['0000000000000001-0000000000000001', '0000000000000005-0000000000000009']);
    expect(a.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['listing.unparsed-lines', 'listing.gap']));
    expect(analyzeListing('').entries).toEqual([]);
  });
});

describe('large listings', () => {
  const pad = (n: number) => String(n).padStart(16, '0');
  /** n closed segments of 100 entries, a 5-entry gap after every 1000th, one open segment and a snapshot near the end. */
  function listing(n: number): { text: string; gaps: number; lastIndex: number } {
    const lines = ['total 409600'];
    let first = 1;
    let gaps = 0;
    for (let i = 0; i < n; i++) {
      const last = first + 99;
      lines.push(`-rw------- 1 root root 8388000 Jan 28 00:41 ${pad(first)}-${pad(last)}`);
      first = last + 1;
      if (i % 1000 === 999 && i < n - 1) {
        first += 5;
        gaps++;
      }
    }
    const snap = first - 50;
    lines.push('-rw------- 1 root root 8388608 Jan 28 00:41 open-1');
    lines.push(`-rw------- 1 root root 72 Jan 28 00:41 snapshot-1-${snap}-123.meta`);
    lines.push(`-rw------- 1 root root 10000 Jan 28 00:41 snapshot-1-${snap}-123`);
    return { text: lines.join('\n'), gaps, lastIndex: first - 1 };
  }

  // Hang guard, not a speed test: the quadratic version needed ~20 s for this on a quiet machine.
  it('analyses a 50,000-line listing (no quadratic passes)', { timeout: 10_000 }, () => {
    const { text, gaps, lastIndex } = listing(50_000);
    const a = analyzeListing(text);
    expect(a.entries).toHaveLength(50_003);
    expect(a.segments).toHaveLength(50_001);
    expect(a.findings.filter((f) => f.code === 'listing.gap')).toHaveLength(gaps);
    // Only the chain after the last gap is read; the copy-out list names each file once.
    const loaded = a.segments.filter((s) => s.role === 'loaded');
    expect(loaded[loaded.length - 2].lastIndex).toBe(lastIndex);
    expect(loaded).toHaveLength(1000 + 1);
    expect(a.segments.filter((s) => s.role === 'ignored')).toHaveLength(49_000);
    expect(new Set(a.copyOut.map((c) => c.file)).size).toBe(a.copyOut.length);
    expect(a.copyOut.map((c) => c.file)).toContain('open-1');
  });
});
