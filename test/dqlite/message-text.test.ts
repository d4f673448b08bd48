/**
 * Validator sentences come from one catalog template each: the English text in
 * reports (CLI, --json) must be exactly the English template filled with the
 * finding's params, and the same params must fill every placeholder of the
 * Chinese template, so the UI never shows a raw `{name}` or a different number.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ValidationReport } from '../../shared/contract/report';
import { MESSAGES, interpolate } from '../../shared/i18n/index';
import { encodeMetadata } from '../../shared/formats/dqlite/metadata';
import { validateDqliteDirectory } from '../../shared/formats/dqlite/validate';
import { closedSegmentName } from '../../shared/formats/dqlite/segment-name';
import { localDirectory } from '../../electron/services/fs-source';
import { baseFiles, bootstrapSegment, closed, dir, segmentBytes, snapshot, withZeros } from './builders';

const SAMPLES = path.join(__dirname, '..', '..', 'resources', 'samples');
/** One batch of `segmentBytes(first, n, 1, 1, 64)`: preamble, one entry header, 64 bytes of data. */
const BATCH = 8 + 8 + 16 + 64;

function flipped(b: Uint8Array, at: number): Uint8Array {
  const out = b.slice();
  out[at] ^= 0xff;
  return out;
}

/** Damaged directories like the ones the unit tests in this folder build (each hits different templates). */
function damagedDirs(): Record<string, Record<string, Uint8Array>> {
  const out: Record<string, Record<string, Uint8Array>> = {};
  let f = baseFiles();
  closed(f, 1, 10);
  f[closedSegmentName(11, 20)] = withZeros(segmentBytes(11, 5), 4096 * 2 - segmentBytes(11, 5).length);
  out['zero-fill-last-closed'] = f;

  f = baseFiles();
  closed(f, 1, 10);
  f[closedSegmentName(11, 20)] = flipped(segmentBytes(11, 10), 8 + 2 * BATCH + 8 + 8);
  closed(f, 21, 5);
  out['header-checksum-middle'] = f;

  f = baseFiles();
  closed(f, 1, 10);
  f[closedSegmentName(11, 20)] = flipped(segmentBytes(11, 10), 8 + 3 * BATCH + 40);
  out['data-checksum-last-closed'] = f;

  f = baseFiles();
  closed(f, 1, 10);
  f[closedSegmentName(11, 20)] = segmentBytes(11, 10).slice(0, 8 + 4 * BATCH + 20);
  f[closedSegmentName(21, 21)] = new Uint8Array(0);
  out['short-and-empty'] = f;

  f = baseFiles();
  closed(f, 1, 10);
  f[closedSegmentName(11, 20)] = segmentBytes(11, 9);
  f['tmp-0000000000000022-0000000000000030'] = segmentBytes(22, 9);
  out['entries-mismatch-and-tmp'] = f;

  f = baseFiles();
  closed(f, 1, 10);
  f['open-1'] = withZeros(flipped(segmentBytes(11, 10), 8 + 3 * BATCH), 4096);
  f['open-2'] = withZeros(segmentBytes(21, 5), 4096);
  out['open-truncated'] = f;

  f = baseFiles();
  closed(f, 1, 10);
  f['open-1'] = withZeros(flipped(segmentBytes(11, 10), 8), 4096);
  f['open-2'] = withZeros(segmentBytes(21, 5), 4096);
  out['open-deleted'] = f;

  f = baseFiles();
  closed(f, 1, 5);
  closed(f, 8, 5);
  out['gap'] = f;

  f = baseFiles();
  f[closedSegmentName(1, 1)] = bootstrapSegment();
  closed(f, 2, 20);
  closed(f, 40, 10);
  snapshot(f, 30);
  f['snapshot-1-99-1000'] = new Uint8Array(16);
  out['ignored-and-orphan'] = f;

  f = baseFiles();
  f.metadata1 = withZeros(f.metadata1, 8);
  closed(f, 1, 10);
  out['metadata-too-long'] = f;

  f = baseFiles();
  closed(f, 1, 10);
  snapshot(f, 8);
  const metaName = Object.keys(f).find((n) => n.endsWith('.meta')) ?? '';
  f[metaName] = flipped(f[metaName], 40);
  out['snapshot-meta-checksum'] = f;

  f = baseFiles();
  closed(f, 1, 10);
  snapshot(f, 8);
  const meta2 = Object.keys(f).find((n) => n.endsWith('.meta')) ?? '';
  f[meta2] = f[meta2].slice(0, 20);
  out['snapshot-meta-short'] = f;

  f = { metadata1: encodeMetadata(1, 1, 0), metadata2: encodeMetadata(1, 1, 0) };
  closed(f, 1, 10);
  out['same-metadata-version'] = f;
  return out;
}

const PLACEHOLDER = /\{([A-Za-z0-9_]+)\}/g;

function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/** Codes whose messages the dqlite validator writes from templates (the rest are passed through from other checks). */
const TEMPLATED = /^(segment\.(?!open-zeroed-live|open-after-missing-closed)|loader\.|dir\.|snapshot\.|metadata\.(torn|same-version|size|format|version-zero))/;

function checkReport(name: string, r: ValidationReport): { templated: number; narrative: number } {
  let templated = 0;
  for (const f of r.findings) {
    if (!f.params) {
      expect(f.code, `${name}: ${f.code} should carry params`).not.toMatch(TEMPLATED);
      continue;
    }
    templated++;
    const key = f.messageKey ?? `finding.${f.code}.message`;
    const en = MESSAGES.en[key];
    const zh = MESSAGES['zh-CN'][key];
    expect(en, `${name}: template ${key}`).toBeTypeOf('string');
    expect(zh, `${name}: zh template ${key}`).toBeTypeOf('string');
    for (const p of [...placeholders(en), ...placeholders(zh)]) expect(f.params, `${name}: ${key} needs {${p}}`).toHaveProperty(p);
    // The CLI prints `message`; it must be the English template, filled.
    expect(interpolate(en, f.params)).toBe(f.message);
    expect(interpolate(zh, f.params)).not.toMatch(PLACEHOLDER);
  }
  const d = r.dqlite?.decision;
  let narrative = 0;
  if (d?.narrativeText) {
    expect(d.narrativeText).toHaveLength(d.narrative.length);
    d.narrativeText.forEach((l, i) => {
      const en = MESSAGES.en[l.key];
      const zh = MESSAGES['zh-CN'][l.key];
      expect(en, `${name}: narrative template ${l.key}`).toBeTypeOf('string');
      expect(interpolate(en, l.params)).toBe(d.narrative[i]);
      expect(interpolate(zh, l.params)).not.toMatch(PLACEHOLDER);
      expect(zh).toMatch(/[\u4e00-\u9fff]/);
      narrative++;
    });
  }
  return { templated, narrative };
}

function hashTree(root: string): string {
  const h = createHash('sha256');
  for (const name of readdirSync(root).sort()) {
    const p = path.join(root, name);
    h.update(name);
    h.update(statSync(p).isDirectory() ? hashTree(p) : readFileSync(p));
  }
  return h.digest('hex');
}

describe('validator sentences come from the catalog templates', () => {
  for (const sample of ['dqlite-field-report', 'dqlite-healthy']) {
    it(`bundled sample ${sample}: every message and narrative line is its template filled`, async () => {
      const root = path.join(SAMPLES, sample);
      const before = hashTree(root);
      const src = localDirectory(root);
      try {
        const r = await validateDqliteDirectory(src);
        const c = checkReport(sample, r);
        expect(c.narrative).toBeGreaterThan(1);
        if (sample === 'dqlite-field-report') {
          expect(c.templated).toBeGreaterThan(0);
          expect(r.findings.find((f) => f.code === 'segment.count-zero')?.params).toMatchObject({ batch: expect.any(Number), batchStart: expect.any(Number) });
        }
      } finally {
        await src.close();
      }
      expect(hashTree(root)).toBe(before);
    });
  }

  it('damaged directories: findings and narrative fill every placeholder in English and Chinese', async () => {
    const codes = new Set<string>();
    let templated = 0;
    for (const [name, files] of Object.entries(damagedDirs())) {
      const r = await validateDqliteDirectory(dir(files));
      templated += checkReport(name, r).templated;
      for (const f of r.findings) if (f.params) codes.add(f.messageKey ?? f.code);
    }
    // The set above must really exercise the templates, not pass on clean inputs.
    expect(templated).toBeGreaterThan(12);
    expect(codes.size).toBeGreaterThan(10);
    for (const c of ['segment.count-zero', 'segment.header-checksum', 'segment.open-truncated-data', 'metadata.size', 'snapshot.meta-checksum', 'snapshot.meta-short', 'loader.unexpected-segment']) {
      expect(codes, c).toContain(c);
    }
  });

  it('an ignored damaged segment says so in both languages', async () => {
    const f = baseFiles();
    f[closedSegmentName(1, 10)] = flipped(segmentBytes(1, 10), 8 + 8 + 8);
    closed(f, 20, 10);
    snapshot(f, 25);
    const r = await validateDqliteDirectory(dir(f));
    const ignored = r.findings.find((x) => x.file === closedSegmentName(1, 10));
    expect(ignored?.messageKey).toMatch(/\.ignored$/);
    expect(ignored?.message).toMatch(/libraft ignores this segment/);
    expect(interpolate(MESSAGES['zh-CN'][ignored?.messageKey ?? ''], ignored?.params)).toMatch(/忽略/);
  });
});
