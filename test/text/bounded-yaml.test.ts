/**
 * Issue 11 part 1: YAML from a node is bounded before the parser sees it.
 * The files are refused at the bound they break (the validator's
 * findings for them: test/dqlite/membership-bounds.test.ts), and the healthy
 * sample's real cluster.yaml/info.yaml still parse to the same ids and
 * addresses. No timing here: a hang times the test out, and the fuzz figures
 * live in the README.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClusterYaml, parseInfoYaml } from '../../shared/formats/dqlite/cluster-yaml';
import { DEFAULT_YAML_BOUNDS, parseBoundedYaml, scanYaml } from '../../shared/text/bounded-yaml';

const SAMPLE = path.resolve(__dirname, '../../resources/samples/dqlite-healthy');

/** The 15 KB file: one anchor, 5,000 aliases to itself. */
const ALIAS_BOMB = `a: &a [${'*a,'.repeat(5000)}]`;

describe('bounded YAML (shared/text/bounded-yaml)', () => {
  it('parses the real membership files of a dqlite-demo backend to the same values', () => {
    const cluster = parseClusterYaml(readFileSync(path.join(SAMPLE, 'cluster.yaml'), 'utf8'));
    expect(cluster).toEqual({ ok: true, value: [{ id: '3297041220608546238', address: '127.0.0.1:19001', role: 'voter' }] });
    const info = parseInfoYaml(readFileSync(path.join(SAMPLE, 'info.yaml'), 'utf8'));
    expect(info).toEqual({ ok: true, value: { id: '3297041220608546238', address: '127.0.0.1:19001', role: 'voter' } });
  });

  it('reads quoting, flow collections and block scalars as the parser does', () => {
    const text = 'a:\n  b:\n    c: |\n      x [[[[ *not-an-alias\n    d: [1, {e: "f]]"}]\n';
    expect(parseBoundedYaml(text)).toEqual({ ok: true, value: { a: { b: { c: 'x [[[[ *not-an-alias\n', d: [1, { e: 'f]]' }] } } } });
    const shape = scanYaml(text, DEFAULT_YAML_BOUNDS);
    expect(shape.ok && shape.value.aliases).toBe(0);
  });

  it("refuses the issue's alias file (15 KB, 5,000 self-references) at the first alias", () => {
    expect(ALIAS_BOMB.length).toBe(15_008);
    const r = parseBoundedYaml(ALIAS_BOMB);
    expect(r).toMatchObject({ ok: false, problem: 'aliases', limit: 0, offset: 7 });
    // Allowing a few aliases still stops at the limit, before any expansion.
    expect(parseBoundedYaml(ALIAS_BOMB, { bounds: { maxAliases: 16 } })).toMatchObject({ ok: false, problem: 'aliases', limit: 16, offset: 7 + 16 * 3 });
    // Within the limit, aliases resolve.
    expect(parseBoundedYaml('a: &x 1\nb: *x\n', { bounds: { maxAliases: 1 } })).toEqual({ ok: true, value: { a: 1, b: 1 } });
  });

  it('refuses 100,000 `[` and 20,000 `- ` by depth (the second crashed the process with pretty errors on)', () => {
    expect(parseBoundedYaml('['.repeat(100_000), { bounds: { maxBytes: 200_000 } })).toMatchObject({
      ok: false,
      problem: 'too-deep',
      limit: DEFAULT_YAML_BOUNDS.maxDepth,
    });
    expect(parseBoundedYaml('- '.repeat(20_000))).toMatchObject({ ok: false, problem: 'too-deep', limit: DEFAULT_YAML_BOUNDS.maxDepth });
    // Indentation nesting counts too.
    const deep = Array.from({ length: 40 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
    expect(parseBoundedYaml(deep)).toMatchObject({ ok: false, problem: 'too-deep' });
    expect(parseBoundedYaml(deep, { bounds: { maxDepth: 100 } }).ok).toBe(true);
  });

  it('refuses what the parser reports once per character, slowly: unmatched closers, more than one document', () => {
    // Both shapes were found by `npm run fuzz` (seconds each at 20-40 KB).
    expect(parseBoundedYaml(`a: [1, {c: ${'}'.repeat(20_000)}`)).toMatchObject({
      ok: false,
      problem: 'syntax',
      offset: 13,
      detail: 'has an unmatched } at offset 13',
    });
    expect(parseBoundedYaml(`ID: 1\n${'...\n'.repeat(10_000)}`)).toMatchObject({ ok: false, problem: 'syntax', offset: 10 });
    expect(parseBoundedYaml('---\na: 1\n---\nb: 2\n')).toMatchObject({ ok: false, problem: 'syntax', offset: 9 });
    // One document with its markers is fine.
    expect(parseBoundedYaml('---\na: 1\n...\n')).toEqual({ ok: true, value: { a: 1 } });
  });

  it('refuses size and entry counts over the bounds, and reports syntax errors with their offset', () => {
    expect(parseBoundedYaml('a: 1\n'.repeat(20_000))).toMatchObject({ ok: false, problem: 'too-large', limit: 64 * 1024 });
    expect(parseBoundedYaml(Array.from({ length: 5000 }, (_, i) => `k${i}: 1`).join('\n'))).toMatchObject({
      ok: false,
      problem: 'too-many-items',
      limit: 4096,
    });
    expect(parseBoundedYaml('a: [1, 2\nb: 3\n')).toMatchObject({ ok: false, problem: 'syntax' });
    const bad = parseBoundedYaml('a: b\n  c: d: e\n');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.offset).toBeGreaterThan(0);
  });
});
