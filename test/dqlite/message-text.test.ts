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
import type { LocalText } from '../../shared/contract/text';
import { LIST_SEPARATOR, MESSAGES, interpolate } from '../../shared/i18n/index';
import { encodeMetadata } from '../../shared/formats/dqlite/metadata';
import { validateDqliteDirectory } from '../../shared/formats/dqlite/validate';
import { closedSegmentName } from '../../shared/formats/dqlite/segment-name';
import { localDirectory } from '../../electron/services/fs-source';
import { baseFiles, bootstrapSegment, closed, dir, segmentBytes, snapshot, withZeros } from './builders';
import { analyzeListing } from '../../shared/formats/dqlite/listing';

const SAMPLES = path.join(__dirname, '..', '..', 'resources', 'samples');
/** One batch of `segmentBytes(first, n, 1, 1, 64)`: preamble, one entry header, 64 bytes of data. */
const BATCH = 8 + 8 + 16 + 64;

const enc = (s: string) => new TextEncoder().encode(s);

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

  // Metadata lost: the first node cannot bootstrap over its own first segment; another node forgets its term.
  f = {};
  f[closedSegmentName(1, 1)] = bootstrapSegment();
  closed(f, 2, 10);
  out['no-metadata-first-node'] = f;
  f = {};
  closed(f, 1, 10);
  out['no-metadata-bootstrap-over-log'] = f;
  f = { 'info.yaml': enc('Address: 10.0.0.7:19001\nID: 77\nRole: 0\n') };
  closed(f, 1, 10);
  out['no-metadata-other-node'] = f;

  // Membership caches that disagree with the log (missing and extra at once), and a node the configuration lacks.
  f = baseFiles();
  f[closedSegmentName(1, 1)] = bootstrapSegment();
  closed(f, 2, 20);
  f['cluster.yaml'] = enc('- Address: 10.0.0.9:19001\n  ID: 42\n  Role: 0\n');
  f['info.yaml'] = enc('Address: 10.0.0.7:19001\nID: 77\nRole: 0\n');
  out['membership'] = f;

  // More all-zero open segments than libraft keeps as spares: the live one was zeroed.
  f = baseFiles();
  closed(f, 1, 10);
  for (let i = 1; i <= 4; i++) f[`open-${i}`] = new Uint8Array(4096);
  out['open-zeroed-live'] = f;

  // Open segment number 3 after a single closed segment: one closed segment may be missing.
  f = baseFiles();
  closed(f, 1, 10);
  f['open-3'] = withZeros(segmentBytes(11, 5), 4096);
  out['open-after-missing-closed'] = f;
  return out;
}

const PLACEHOLDER = /\{([A-Za-z0-9_]+)\}/g;

function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/** Codes whose messages the dqlite validator writes from templates (the rest are passed through from other checks). */
const TEMPLATED =
  /^(segment\.|loader\.|dir\.|snapshot\.|listing\.|membership\.|metadata\.(torn|same-version|size|format|version-zero|bootstrap-fails|bootstrap-over-log|missing))/;

/** A template filled in one language, its nested sentences (`texts`) filled in that language too. */
function fill(local: LocalText, lang: 'en' | 'zh-CN'): string {
  const nested = Object.entries(local.texts ?? {}).map(([name, list]): [string, string] => [
    name,
    list.map((inner) => fill(inner, lang)).join(LIST_SEPARATOR[lang]),
  ]);
  return interpolate(MESSAGES[lang][local.key] ?? '', { ...local.params, ...Object.fromEntries(nested) });
}

/** Params are values (numbers, names, ranges) or dqlite's own quoted output (`error`), never an English sentence. */
function expectNoEnglishParams(where: string, local: LocalText): void {
  for (const [name, value] of Object.entries(local.params ?? {})) {
    if (name === 'error' || typeof value === 'number') continue;
    expect(value, `${where}: param {${name}} is a sentence`).not.toMatch(/[A-Za-z]{2,} [A-Za-z]{2,}/);
  }
  for (const [name, list] of Object.entries(local.texts ?? {})) for (const inner of list) expectNoEnglishParams(`${where} {${name}}`, inner);
}

/** A sentence with its template: English filled === the English text, Chinese filled completely and Chinese. */
function checkSentence(where: string, english: string, local: LocalText | undefined): string {
  expect(local, `${where}: carries its template`).toBeDefined();
  const key = local?.key ?? '';
  const en = MESSAGES.en[key];
  const zh = MESSAGES['zh-CN'][key];
  expect(en, `${where}: template ${key}`).toBeTypeOf('string');
  expect(zh, `${where}: zh template ${key}`).toBeTypeOf('string');
  const filled = { ...local?.params, ...local?.texts };
  for (const p of [...placeholders(en), ...placeholders(zh)]) expect(filled, `${where}: ${key} needs {${p}}`).toHaveProperty(p);
  expect(fill(local!, 'en')).toBe(english);
  expect(fill(local!, 'zh-CN')).not.toMatch(PLACEHOLDER);
  expect(zh).toMatch(/[\u4e00-\u9fff]/);
  expectNoEnglishParams(where, local!);
  return key;
}

/** The repair plan's summary and every step explanation; returns the template keys used. */
function checkRepair(name: string, r: ValidationReport): string[] {
  const plan = r.dqlite?.repair;
  if (!plan) return [];
  const keys = [checkSentence(`${name} repair summary`, plan.summary, plan.summaryText)];
  // The verdict paragraph; its {plan} part is the plan's own summary as a nested sentence, not its English text.
  keys.push(checkSentence(`${name} report summary`, r.summary, r.summaryText));
  expect(r.summaryText?.params ?? {}, `${name}: plan travels as a sentence, not a param`).not.toHaveProperty('plan');
  if (r.summaryText?.texts && 'plan' in r.summaryText.texts) expect(r.summaryText.texts.plan).toEqual([plan.summaryText]);
  plan.steps.forEach((s, i) => keys.push(checkSentence(`${name} step ${i} (${s.kind})`, s.explanation, s.explanationText)));
  return keys;
}

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
        const repairKeys = checkRepair(sample, r);
        expect(repairKeys.length).toBeGreaterThan(0);
        if (sample === 'dqlite-field-report') expect(repairKeys).toContain('dqlite.repair.note.inside-snapshot');
        else expect(repairKeys).toEqual(['dqlite.repair.summary.not-needed', 'dqlite.summary.starts.snapshot']);
        expect(c.narrative).toBeGreaterThan(1);
        if (sample === 'dqlite-field-report') {
          expect(c.templated).toBeGreaterThan(0);
          const params = r.findings.find((f) => f.code === 'segment.count-zero')?.params;
          expect(typeof params?.batch).toBe('number');
          expect(typeof params?.batchStart).toBe('number');
        }
      } finally {
        await src.close();
      }
      expect(hashTree(root)).toBe(before);
    });
  }

  it('damaged directories: findings and narrative fill every placeholder in English and Chinese', async () => {
    const codes = new Set<string>();
    const repairKeys = new Set<string>();
    let templated = 0;
    for (const [name, files] of Object.entries(damagedDirs())) {
      const r = await validateDqliteDirectory(dir(files));
      templated += checkReport(name, r).templated;
      for (const k of checkRepair(name, r)) repairKeys.add(k);
      for (const f of r.findings) if (f.params) for (const c of [f.code, f.messageKey ?? f.code]) codes.add(c);
    }
    // The set above must really exercise the templates, not pass on clean inputs.
    expect(templated).toBeGreaterThan(12);
    expect(codes.size).toBeGreaterThan(10);
    for (const c of [
      'metadata.bootstrap-fails',
      'metadata.bootstrap-over-log',
      'metadata.missing',
      'membership.info-not-in-cluster',
      'membership.node-not-in-configuration',
      'segment.open-zeroed-live',
      'segment.open-after-missing-closed',
    ]) {
      expect(codes, c).toContain(c);
    }
    expect([...codes].filter((c) => c.startsWith('finding.membership.cluster-yaml-differs.message.both'))).toHaveLength(1);
    for (const c of [
      'segment.count-zero',
      'segment.header-checksum',
      'segment.open-truncated-data',
      'metadata.size',
      'snapshot.meta-checksum',
      'snapshot.meta-short',
      'loader.unexpected-segment',
    ]) {
      expect(codes, c).toContain(c);
    }
    // The plans above must really use step, note and summary templates, including metadata repair.
    expect(repairKeys.size).toBeGreaterThan(15);
    for (const k of [
      'dqlite.summary.fails',
      'dqlite.summary.data-loss',
      'dqlite.repair.step.keep-bytes.rename',
      'dqlite.repair.note.gap.no-snapshot',
      'dqlite.repair.note.cut-open',
      'dqlite.repair.note.metadata-write.unknown-id',
      'dqlite.repair.summary.starts.loses',
    ]) {
      expect(repairKeys, k).toContain(k);
    }
  });

  it('every repair-plan and summary template has the same placeholders in English and Chinese', () => {
    const keys = Object.keys(MESSAGES.en).filter((k) => k.startsWith('dqlite.repair.') || k.startsWith('dqlite.summary.'));
    expect(keys.length).toBeGreaterThan(38);
    for (const k of keys) {
      const zh = MESSAGES['zh-CN'][k];
      expect(zh, k).toMatch(/[\u4e00-\u9fff]/);
      expect(placeholders(zh).sort(), k).toEqual(placeholders(MESSAGES.en[k]).sort());
    }
  });

  it('listing findings (the field report and a listing with every problem) are their templates filled', () => {
    const line = (size: number, name: string) => `-rw------- 1 root root ${size} Jan 28 00:40 ${name}`;
    const listings = [
      readFileSync(path.join(__dirname, '..', 'fixtures', 'field-reports', 'microk8s-backend-listing.txt'), 'utf8'),
      [
        'total 12',
        'not an ls line',
        line(4096, '0000000000000002-0000000000000010'),
        line(0, '0000000000000011-0000000000000020'),
        line(4096, '0000000000000015-0000000000000025'),
        line(4096, '0000000000000040-0000000000000035'),
        line(8388608, '0000000000000050-0000000000000060'),
        line(80, '0000000000000061-0000000000000061'),
        line(4096, '0000000000000062-0000000000000070'),
        line(8388608, 'open-1'),
        line(64, 'snapshot-1-5-100.meta'),
        line(200, 'snapshot-1-6-100'),
      ].join('\n'),
      [line(4096, '0000000000000010-0000000000000020'), line(64, 'snapshot-1-5-100.meta'), line(200, 'snapshot-1-5-100')].join('\n'),
      [line(4096, '0000000000000010-0000000000000020'), line(4096, '0000000000000010-0000000000000020')].join('\n'),
    ];
    const codes = new Set<string>();
    for (const [i, text] of listings.entries()) {
      for (const f of analyzeListing(text).findings) {
        expect(f.code, `listing ${i}: ${f.code} should carry params`).toMatch(TEMPLATED);
        checkSentence(`listing ${i} ${f.code}`, f.message, f.params ? { key: f.messageKey ?? `finding.${f.code}.message`, params: f.params } : undefined);
        for (const c of [f.code, f.messageKey ?? f.code]) codes.add(c);
      }
    }
    for (const c of [
      'listing.repeated-names',
      'listing.unparsed-lines',
      'listing.gap',
      'listing.overlap',
      'listing.bad-range',
      'listing.empty-segment',
      'listing.block-aligned-closed',
      'listing.tiny-after-full',
      'listing.open-segments',
      'listing.snapshot-ahead',
      'snapshot.orphan-meta',
      'snapshot.orphan-data',
      'finding.loader.unexpected-segment.message.listing',
      'finding.loader.past-snapshot.message.listing',
    ]) {
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
