import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { BackendPathOrigin, OtherFileRole, RepairStep } from '../../shared/contract/dqlite';
import { FEATURE_CATALOGS, MESSAGES, interpolate, pickLocale, translate } from '../../shared/i18n';

const root = path.resolve(__dirname, '../..');

/** Every RepairStep kind: the type checker rejects this object when the contract gains or loses one. */
const REPAIR_STEP_KINDS: Record<RepairStep['kind'], true> = {
  stop: true,
  backup: true,
  quarantine: true,
  'truncate-rename': true,
  write: true,
  start: true,
  verify: true,
  note: true,
};

/** Every BackendPathOrigin: the type checker rejects this object when the contract gains or loses one. */
const BACKEND_ORIGINS: Record<BackendPathOrigin, true> = { 'in-place': true, 'copied-from': true, given: true, 'microk8s-default': true };

/** Every OtherFileRole (compile error when the contract changes). */
const OTHER_ROLES: Record<OtherFileRole, true> = {
  tmp: true,
  'orphan-snapshot-data': true,
  'orphan-snapshot-meta': true,
  corrupt: true,
  'membership-cache': true,
  tls: true,
  'k8s-dqlite-config': true,
  'kine-socket': true,
  'not-raft': true,
};

function filesEndingWith(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesEndingWith(p, ext));
    else if (name.endsWith(ext)) out.push(p);
  }
  return out;
}
const svelteFiles = (dir: string): string[] => filesEndingWith(dir, '.svelte');

/** Removes script/style blocks, comments and `{...}` expressions (balanced), leaving markup text. */
function markupOnly(src: string): string {
  let s = src
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ');
  let out = '';
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (depth > 0) {
      if (quote) {
        if (c === '\\') i++;
        else if (c === quote) quote = null;
      } else if (c === "'" || c === '"' || c === '`') quote = c;
      else if (c === '{') depth++;
      else if (c === '}') depth--;
      if (depth === 0) out += ' ';
      continue;
    }
    if (c === '{') {
      depth = 1;
      continue;
    }
    out += c;
  }
  s = out;
  return s;
}

/** English words in text nodes, and in attributes users see (aria-label, title, placeholder, alt). */
export function hardCodedEnglish(src: string): string[] {
  const markup = markupOnly(src);
  const problems: string[] = [];
  for (const m of markup.matchAll(/\b(aria-label|aria-roledescription|title|placeholder|alt)\s*=\s*"([^"]*)"/g)) {
    if (/[A-Za-z]{2,}/.test(m[2])) problems.push(`${m[1]}="${m[2]}"`);
  }
  const text = markup.replace(/<[^>]*>/g, '\n');
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (/[A-Za-z]{2,}/.test(trimmed)) problems.push(trimmed);
  }
  return problems;
}

describe('message catalogs', () => {
  it('English and Chinese have exactly the same keys in every feature catalog', () => {
    for (const [feature, catalog] of Object.entries(FEATURE_CATALOGS)) {
      const en = Object.keys(catalog.en).sort();
      const zh = Object.keys(catalog['zh-CN']).sort();
      expect(zh, `feature ${feature}`).toEqual(en);
    }
  });

  it('has no empty values and no key defined by two features', () => {
    const seen = new Map<string, string>();
    for (const [feature, catalog] of Object.entries(FEATURE_CATALOGS)) {
      for (const locale of ['en', 'zh-CN'] as const) {
        for (const [key, value] of Object.entries(catalog[locale])) {
          expect(value.trim(), `${locale} ${key}`).not.toBe('');
        }
      }
      for (const key of Object.keys(catalog.en)) {
        expect(seen.get(key), `${key} in ${feature}`).toBeUndefined();
        seen.set(key, feature);
      }
    }
  });

  it('keeps the same {placeholders} in both languages', () => {
    const names = (s: string): string[] => [...s.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(MESSAGES.en)) {
      expect(names(MESSAGES['zh-CN'][key]), key).toEqual(names(MESSAGES.en[key]));
    }
  });

  it('Chinese strings are actually Chinese (not copied English)', () => {
    // Names and sample terminal output are the same in every language.
    const sameEverywhere = new Set(['core.appName', 'listing.dialog.placeholder', 'guided.card.managedBy.systemd']);
    const untranslated = Object.keys(MESSAGES.en).filter((key) => {
      const zh = MESSAGES['zh-CN'][key];
      // A template that is nothing but placeholders (a value passed through) holds no English of ours.
      return !sameEverywhere.has(key) && zh === MESSAGES.en[key] && /[a-z]{4,}/.test(zh.replace(/\{[A-Za-z0-9_]+\}/g, ''));
    });
    expect(untranslated).toEqual([]);
    const withHan = Object.values(MESSAGES['zh-CN']).filter((v) => /[\u4e00-\u9fff]/.test(v)).length;
    expect(withHan / Object.keys(MESSAGES['zh-CN']).length).toBeGreaterThan(0.8);
  });

  it('interpolates {name} and falls back to English, then the key', () => {
    expect(interpolate('batch {n} at byte {offset}', { n: 394, offset: 8384000 })).toBe('batch 394 at byte 8384000');
    expect(interpolate('keep {missing}', {})).toBe('keep {missing}');
    expect(interpolate('{n} {n|snapshot|snapshots}', { n: 1 })).toBe('1 snapshot');
    expect(interpolate('{n} {n|snapshot|snapshots}', { n: 3 })).toBe('3 snapshots');
    expect(interpolate('{n} {n|snapshot|snapshots}', { n: 0 })).toBe('0 snapshots');
    expect(translate('zh-CN', 'core.cancel')).toBe('取消');
    expect(translate('zh-CN', 'no.such.key')).toBe('no.such.key');
  });

  it('picks the language from navigator.languages', () => {
    expect(pickLocale(['zh-TW', 'en'])).toBe('zh-CN');
    expect(pickLocale(['de-DE', 'en-GB'])).toBe('en');
    expect(pickLocale(['fr'])).toBe('en');
    expect(pickLocale(undefined)).toBe('en');
  });
});

describe('renderer markup', () => {
  const files = svelteFiles(path.join(root, 'renderer/src'));

  it('finds the renderer components', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it('the checker catches hard-coded English', () => {
    expect(hardCodedEnglish('<p>Drop a folder</p>')).toEqual(['Drop a folder']);
    expect(hardCodedEnglish('<button aria-label="Close">x</button>')).toEqual(['aria-label="Close"']);
    expect(hardCodedEnglish('<p>{t("home.title")}</p><span class="mono">{file}</span>')).toEqual([]);
    expect(hardCodedEnglish('<script>const a = "English";</script><p>{a ? `x ${"y"}` : "Nope"}</p>')).toEqual([]);
  });

  it('no .svelte file contains hard-coded English text', () => {
    const problems: string[] = [];
    for (const f of files) {
      for (const p of hardCodedEnglish(readFileSync(f, 'utf8'))) problems.push(`${path.relative(root, f)}: ${p}`);
    }
    expect(problems).toEqual([]);
  });

  it('every literal t() key used by the renderer exists in the catalog', () => {
    const missing: string[] = [];
    for (const f of [...files, ...filesEndingWith(path.join(root, 'renderer/src'), '.ts')]) {
      const src = readFileSync(f, 'utf8');
      for (const m of src.matchAll(/\bt\('([a-zA-Z0-9_.-]+)'/g)) if (!(m[1] in MESSAGES.en)) missing.push(`${path.basename(f)}: ${m[1]}`);
    }
    expect(missing).toEqual([]);
  });

  it('has a message for every value of the keys the renderer builds at run time', () => {
    const families: Record<string, string[]> = {
      'validation.verdict': [
        'healthy',
        'starts-with-warnings',
        'starts-then-panics',
        'starts-unsafe',
        'starts-loss-unknown',
        'starts-loss-covered',
        'starts-with-loss',
        'fails',
        'unknown',
      ],
      'validation.severity': ['all', 'error', 'warning', 'info'],
      'validation.repair.kind': Object.keys(REPAIR_STEP_KINDS),
      'validation.repair.backend': Object.keys(BACKEND_ORIGINS),
      'segmentMap.tone': [
        'ok',
        'warning',
        'bad',
        'ignored',
        'renamed',
        'truncated',
        'deleted',
        'not-read',
        'snapshot',
        'snapshot-chosen',
        'snapshot-bad',
        'other',
      ],
      'segmentMap.marker': ['gap', 'overlap'],
      'segmentMap.legend': ['ok', 'warning', 'bad', 'renamed', 'truncated', 'ignored', 'approx', 'snapshot', 'gap', 'start'],
      'segmentMap.crc': ['ok', 'bad', 'not-checked'],
      'segmentMap.role': Object.keys(OTHER_ROLES),
    };
    const missing: string[] = [];
    for (const [prefix, values] of Object.entries(families)) {
      for (const v of values) if (!(`${prefix}.${v}` in MESSAGES.en)) missing.push(`${prefix}.${v}`);
    }
    expect(missing).toEqual([]);
  });
});
