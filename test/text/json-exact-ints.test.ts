/**
 * JSON with exact integers (for the export's YAML of JSON values): the same value as JSON.parse for every valid text,
 * integers past ±2^53 as bigints, null exactly where JSON.parse throws, and no stack overflow however deep.
 */
import { describe, expect, it } from 'vitest';
import { holdsUnsafeInteger, parseJsonExactIntegers } from '../../shared/text/json-exact-ints';
import { emitYamlDocument } from '../../shared/text/yaml-emit';
import { parse } from 'yaml';
import { uniform as rng } from '../fuzz/mutate';

const WS = ['', ' ', '\n', '\t', '\r\n  '];
/** A random JSON text with random whitespace between tokens. */
function randomJson(r: () => number, depth: number): string {
  const w = () => WS[Math.floor(r() * WS.length)]!;
  const p = r();
  if (depth > 5 || p < 0.4) {
    const s = r();
    if (s < 0.3) return JSON.stringify(['a', 'é', 'x"y', '\\', '\u0001', '\ud83d\ude00', '__proto__', ''][Math.floor(r() * 8)]);
    if (s < 0.5) return String(Math.floor((r() - 0.5) * 1e6));
    if (s < 0.6) return ['1.5', '-0', '0', '1e3', '-2.5E-3', '9007199254740993', '-12345678901234567890', '1.0e21'][Math.floor(r() * 8)]!;
    return ['true', 'false', 'null'][Math.floor(r() * 3)]!;
  }
  const n = Math.floor(r() * 4);
  if (p < 0.7) return `[${w()}${Array.from({ length: n }, () => w() + randomJson(r, depth + 1) + w()).join(',')}${w()}]`;
  const keys = ['a', 'b', '__proto__', 'a', 'é'];
  return `{${w()}${Array.from({ length: n }, () => `${w()}${JSON.stringify(keys[Math.floor(r() * keys.length)])}${w()}:${w()}${randomJson(r, depth + 1)}${w()}`).join(',')}}`;
}

/** JSON.parse's value with every number that was an unsafe integer literal replaced: compare via a tagged form. */
function tagged(v: unknown): unknown {
  if (typeof v === 'bigint') return { big: v.toString() };
  if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) return { big: null };
  if (Array.isArray(v)) return v.map(tagged);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, tagged(x)]));
  return v;
}

describe('parseJsonExactIntegers', () => {
  it('gives what JSON.parse gives for random valid texts, and null exactly where JSON.parse throws on mutated ones', () => {
    const fresh = Math.floor(Math.random() * 2 ** 31);
    for (const seed of [7, 99, fresh]) {
      const r = rng(seed);
      for (let i = 0; i < 1500; i++) {
        const text = randomJson(r, 0);
        const want: unknown = JSON.parse(text);
        const got = parseJsonExactIntegers(text);
        const wantTagged = JSON.stringify(tagged(want));
        // Same structure and keys; where JSON.parse rounded, ours is the literal's exact integer.
        const gotTagged = JSON.stringify(tagged(got), (_k, v: unknown) => (v && typeof v === 'object' && 'big' in v ? { big: null } : v));
        expect(gotTagged, `seed ${seed} #${i}: ${text}`).toBe(wantTagged);
        // Mutated: a character dropped, doubled or replaced.
        const at = Math.floor(r() * text.length);
        const bad = [text.slice(0, at) + text.slice(at + 1), text.slice(0, at) + text[at]! + text.slice(at), `${text.slice(0, at)}x${text.slice(at + 1)}`][
          Math.floor(r() * 3)
        ]!;
        let ok = true;
        try {
          JSON.parse(bad);
        } catch {
          ok = false;
        }
        expect(parseJsonExactIntegers(bad) === null, `seed ${seed} #${i}: ${bad}`).toBe(!ok);
      }
    }
  });

  it('keeps integers past 2^53 exact, makes __proto__ an own key, and survives deep nesting', () => {
    const v = parseJsonExactIntegers('{"id": 12345678901234567891, "small": 9007199254740991, "__proto__": {"x": 1}, "f": 1.5}') as Record<string, unknown>;
    expect(v.id).toBe(12345678901234567891n);
    expect(v.small).toBe(9007199254740991);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['id', 'small', '__proto__', 'f']);
    expect(holdsUnsafeInteger(JSON.parse('{"a":[1,{"b":12345678901234567891}]}'))).toBe(true);
    expect(holdsUnsafeInteger(JSON.parse('{"a":[1,{"b":-1.5e-3}],"c":9007199254740991}'))).toBe(false);
    // A large double is an integer too: it is parsed again, and stays the same double (written in float notation).
    expect(holdsUnsafeInteger(JSON.parse('[1.5e300]'))).toBe(true);
    expect(parseJsonExactIntegers('[1.5e300]')).toEqual([1.5e300]);
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(parseJsonExactIntegers(deep)).not.toBeNull();
    expect(parseJsonExactIntegers('['.repeat(200_000))).toBeNull();
    // And the export's YAML of it reads back with the exact integer.
    const yaml = emitYamlDocument(v)!;
    expect(yaml).toContain('id: 12345678901234567891\n');
    expect((parse(yaml, { intAsBigInt: true }) as { id: unknown }).id).toBe(12345678901234567891n);
  });
});
