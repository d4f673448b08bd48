/**
 * Deterministic input generation for the fuzzer: a seeded PRNG and byte/text
 * mutators. Input `i` of a run is built from `inputRng(seed, i)` alone, so any
 * single input can be rebuilt from (format, seed, index) without the ones
 * before it: that is what makes a hang or crash replayable.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(xs: readonly T[]): T;
}

/** mulberry32: small, fast, good enough to drive mutations. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, chance: (p) => next() < p, pick: (xs) => xs[int(xs.length)] };
}

/** `rng(seed)`'s `next` alone: uniform numbers in [0, 1) from a seed, for tests that need nothing more. */
export function uniform(seed: number): () => number {
  const r = rng(seed);
  return () => r.next();
}

/** The PRNG for input `index` of a run with `seed` (splitmix-style mixing, so neighbouring indexes are unrelated). */
export function inputRng(seed: number, index: number): Rng {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index >>> 0, 0x85ebca6b) ^ Math.floor(index / 0x100000000)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  return rng((z ^ (z >>> 16)) >>> 0);
}

/** Integers that have tripped length and count checks: 0, ±1 around powers of two, 2^32-1, 2^53, 2^63, 2^64-1. */
export const INTERESTING_U64: readonly bigint[] = [
  0n,
  1n,
  0x7fn,
  0x80n,
  0xffn,
  0x100n,
  0xffffn,
  0x10000n,
  1n << 20n,
  (1n << 20n) + 1n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  1n << 32n,
  1n << 53n,
  1n << 63n,
  (1n << 64n) - 1n,
];

function putLE(b: Uint8Array, at: number, v: bigint, width: number): void {
  for (let k = 0; k < width && at + k < b.length; k++) b[at + k] = Number((v >> BigInt(8 * k)) & 0xffn);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * One to a few random mutations of a byte string (never modifies `original`):
 * bit flips, byte sets, interesting integers at aligned and unaligned offsets,
 * truncation, garbage or zeros appended, a block zeroed, a chunk duplicated
 * or moved. `maxGrowth` bounds how much an input may grow.
 */
export function mutateBytes(r: Rng, original: Uint8Array, maxGrowth = 16 * 1024): Uint8Array {
  let b: Uint8Array = original.slice();
  for (let round = 1 + (r.chance(0.3) ? r.int(4) : 0); round > 0; round--) {
    const kind = r.int(9);
    if (b.length === 0 && kind !== 5) {
      b = Uint8Array.from({ length: 1 + r.int(64) }, () => r.int(256));
      continue;
    }
    switch (kind) {
      case 0:
        for (let k = 1 + r.int(8); k > 0; k--) b[r.int(b.length)] ^= 1 << r.int(8);
        break;
      case 1:
        for (let k = 1 + r.int(8); k > 0; k--) b[r.int(b.length)] = r.pick([0, 0xff, 0x7f, 0x80, r.int(256)]);
        break;
      case 2: {
        const width = r.pick([1, 2, 4, 8]);
        const at = r.chance(0.5) ? r.int(Math.ceil(b.length / 8)) * 8 : r.int(b.length);
        putLE(b, at, r.pick(INTERESTING_U64), width);
        break;
      }
      case 3:
        b = b.slice(0, r.int(b.length + 1));
        break;
      case 4: {
        const extra = Uint8Array.from({ length: 1 + r.int(maxGrowth) }, () => (r.chance(0.5) ? 0 : r.int(256)));
        b = concat(b, extra);
        break;
      }
      case 5:
        b = concat(b, new Uint8Array(1 + r.int(maxGrowth)));
        break;
      case 6: {
        const from = r.int(b.length);
        b.fill(r.chance(0.8) ? 0 : 0xff, from, from + 1 + r.int(4096));
        break;
      }
      case 7: {
        // Duplicate a chunk in place (repeated structures: batches, entries).
        const from = r.int(b.length);
        const chunk = b.slice(from, from + 1 + r.int(Math.min(4096, b.length - from)));
        const at = r.int(b.length + 1);
        b = concat(b.subarray(0, at), chunk, b.subarray(at)).slice(0, original.length + maxGrowth);
        break;
      }
      default: {
        // Overwrite with a chunk from elsewhere in the same input.
        const from = r.int(b.length);
        const chunk = b.slice(from, from + 1 + r.int(Math.min(512, b.length - from)));
        b.set(chunk.subarray(0, Math.max(0, b.length - r.int(b.length))), r.int(Math.max(1, b.length - chunk.length)));
        break;
      }
    }
  }
  return b;
}

/** Runs of characters that regexes loop over, for text mutations. */
const RUN_CLASSES = [
  'a',
  '0',
  'f',
  '_',
  '.',
  '-',
  '@',
  'a.',
  ' ',
  '\t',
  '\n',
  '\r',
  '"',
  "'",
  '\\',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ':',
  ',',
  '/',
  '=',
  '#',
  '*',
  '&',
  '|',
  '%',
  'é',
  '\u0000',
  '\u2028',
];

/**
 * One to a few text mutations: bytes (as characters) flipped, a dictionary
 * token inserted or repeated many times, a long run of one character class
 * inserted (the shape that exposes backtracking regexes), a line duplicated
 * many times, truncation. `maxLength` bounds the result.
 */
export function mutateText(r: Rng, original: string, dictionary: readonly string[], maxLength = 64 * 1024): string {
  let t = original;
  const at = () => r.int(t.length + 1);
  for (let round = 1 + (r.chance(0.4) ? r.int(4) : 0); round > 0; round--) {
    switch (r.int(9)) {
      case 0: {
        const chars = [...t];
        for (let k = 1 + r.int(6); k > 0 && chars.length; k--) chars[r.int(chars.length)] = String.fromCharCode(r.chance(0.8) ? 32 + r.int(95) : r.int(0x3000));
        t = chars.join('');
        break;
      }
      case 1: {
        const p = at();
        t = t.slice(0, p) + r.pick(dictionary) + t.slice(p);
        break;
      }
      case 2: {
        // A token repeated hundreds or thousands of times (alias, bracket and indicator bombs).
        const p = at();
        const token = r.pick(dictionary);
        const most = r.chance(0.1) ? Math.floor(maxLength / Math.max(1, token.length)) : 256;
        t = t.slice(0, p) + token.repeat(1 + r.int(Math.max(1, most))) + t.slice(p);
        break;
      }
      case 3: {
        const p = at();
        const cls = r.pick(RUN_CLASSES);
        t = t.slice(0, p) + cls.repeat(1 + r.int(r.chance(0.1) ? maxLength : 256)) + t.slice(p);
        break;
      }
      case 4: {
        const lines = t.split('\n');
        const line = r.pick(lines);
        const copies = 1 + r.int(r.chance(0.05) ? 2000 : 20);
        lines.splice(r.int(lines.length + 1), 0, ...Array.from({ length: copies }, () => line));
        t = lines.join('\n');
        break;
      }
      case 5:
        t = t.slice(0, at());
        break;
      case 6: {
        const p = at();
        t = t.slice(0, p) + t.slice(p + 1 + r.int(64));
        break;
      }
      case 7: {
        // A dictionary token followed by a long run: an unanchored pattern's trigger and its loop.
        const p = at();
        t = t.slice(0, p) + r.pick(dictionary) + r.pick(RUN_CLASSES).repeat(1 + r.int(r.chance(0.2) ? maxLength / 2 : 512)) + r.pick(dictionary) + t.slice(p);
        break;
      }
      default: {
        const p = at();
        const lines = t.split('\n');
        t = t.slice(0, p) + '\n' + r.pick(lines) + t.slice(p);
        break;
      }
    }
    if (t.length > maxLength) t = t.slice(0, maxLength);
  }
  return t;
}
