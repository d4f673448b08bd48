/**
 * Every finding code the validators can emit has a short title in both
 * languages (the renderer shows `finding.<code>` above the English message;
 * without one a Chinese user sees only English). Codes are read from the
 * source, so a new code without titles fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MESSAGES } from '../../shared/i18n';

const root = path.resolve(__dirname, '../..');
const SOURCES = [
  ...['shared/formats/dqlite', 'shared/formats/etcd'].flatMap((dir) =>
    readdirSync(path.join(root, dir))
      .filter((n) => n.endsWith('.ts'))
      .map((n) => path.join(dir, n)),
  ),
  'shared/validate.ts',
];

/**
 * `code: '…'` literals, plus literals with the same `<area>.` prefix passed
 * positionally (segment.ts hands codes to a helper: `fail('corrupt', 'segment.count-zero', …)`)
 * or chosen by a ternary (`code: a ? 'x.y' : 'x.z'`).
 */
export function emittedCodes(sources: Record<string, string>): Map<string, string> {
  const where = new Map<string, string>();
  const prefixes = new Set<string>();
  for (const [file, src] of Object.entries(sources)) {
    // `code: 'x.y'` or `code: cond ? 'x.y' : …` (the other branch is found by the prefix pass below).
    for (const m of src.matchAll(/\bcode:\s*(?:[A-Za-z0-9_.!?() ]*\?\s*)?'([a-z0-9-]+)\.([a-z0-9.-]+)'/g)) {
      prefixes.add(m[1]);
      if (!where.has(`${m[1]}.${m[2]}`)) where.set(`${m[1]}.${m[2]}`, file);
    }
    // etcd's finding helper: `etcdFinding('warning', 'startup.no-wal', …)`.
    for (const m of src.matchAll(/\betcdFinding\(\s*'(?:error|warning|info)',\s*'([a-z0-9-]+)\.([a-z0-9.-]+)'/g)) {
      prefixes.add(m[1]);
      if (!where.has(`${m[1]}.${m[2]}`)) where.set(`${m[1]}.${m[2]}`, file);
    }
  }
  const prefixAlt = [...prefixes].join('|');
  if (!prefixAlt) return where;
  const literal = new RegExp(`'((?:${prefixAlt})\\.[a-z0-9][a-z0-9.-]*)'`, 'g');
  for (const [file, src] of Object.entries(sources)) {
    for (const m of src.matchAll(literal)) if (!where.has(m[1]) && !FILE_NAME.test(m[1])) where.set(m[1], file);
  }
  return where;
}

/** Literals like 'etcd.yaml' or 'etcd.service' are file and unit names, not finding codes. */
const FILE_NAME = /\.(yaml|yml|service|env|conf|json|db|snap)$/;

const sources = Object.fromEntries(SOURCES.map((f) => [f, readFileSync(path.join(root, f), 'utf8')]));

describe('finding titles', () => {
  it('the code scanner finds direct, positional and ternary codes', () => {
    const found = emittedCodes({
      'a.ts':
        "push({ code: 'segment.a' }); fail('corrupt', 'segment.b', 'x'); const c = { code: s ? 'segment.c' : 'loader.d' }; f({ code: 'loader.e' }); 'other.f'",
      'b.ts': "push({ code: etcdLike ? 'engine.x' : 'engine.y', file: null })",
    });
    expect([...found.keys()].sort()).toEqual(['engine.x', 'engine.y', 'loader.d', 'loader.e', 'segment.a', 'segment.b', 'segment.c']);
  });

  const codes = emittedCodes(sources);

  it('finds the codes of the dqlite core (sanity: the scan is not empty)', () => {
    for (const c of [
      'segment.count-zero',
      'segment.open-zeroed-live',
      'segment.open-after-missing-closed',
      'metadata.bootstrap-fails',
      'metadata.bootstrap-over-log',
      'metadata.missing',
      'engine.unknown',
    ]) {
      expect(codes.has(c), c).toBe(true);
    }
    expect(codes.size).toBeGreaterThan(50);
  });

  it('every emitted code has an English and a Chinese title', () => {
    const missing: string[] = [];
    for (const [code, file] of codes) {
      for (const locale of ['en', 'zh-CN'] as const) {
        const title = MESSAGES[locale][`finding.${code}`];
        if (!title || !title.trim()) missing.push(`${locale} finding.${code} (emitted in ${file})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('Chinese titles are Chinese, and no title is left over for a code nobody emits', () => {
    for (const code of codes.keys()) expect(MESSAGES['zh-CN'][`finding.${code}`], code).toMatch(/[\u4e00-\u9fff]/);
    // listing.* codes come from listing.ts (in the scanned folder); anything else is a stale title.
    const stale = Object.keys(MESSAGES.en)
      // `finding.<code>.message…` are message templates (shared/i18n/dqlite-text.ts), not titles.
      .filter((k) => k.startsWith('finding.') && !/\.message(\.|$)/.test(k))
      .map((k) => k.slice('finding.'.length))
      .filter((c) => !codes.has(c));
    expect(stale).toEqual([]);
  });
});

/** Test files that count as a unit or engine test of a finding code (not this catalog test). */
function testSources(): string {
  const out: string[] = [];
  for (const sub of ['dqlite', 'etcd', 'oracle', 'cli', 'lz4', 'web']) {
    const d = path.join(root, 'test', sub);
    for (const n of readdirSync(d)) if (n.endsWith('.test.ts')) out.push(readFileSync(path.join(d, n), 'utf8'));
  }
  return out.join('\n');
}

describe('finding tests', () => {
  it('every emitted code is asserted by name in a test outside the catalog tests', () => {
    const tests = testSources();
    const untested = [...emittedCodes(sources).entries()]
      .filter(([code]) => !new RegExp(`'${code.replace(/[.-]/g, '\\$&')}[':]`).test(tests))
      .map(([code, file]) => `${code} (emitted in ${file})`);
    expect(untested).toEqual([]);
  });
});
