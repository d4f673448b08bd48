import { describe, expect, it } from 'vitest';
import { sortByTwoKeys, sortStable } from '../../shared/formats/etcd/salvage';

/** The counting sort must give exactly the comparator sort's order, whatever the keys' spread and ties. */
describe('sortByTwoKeys', () => {
  let seed = 7;
  const rnd = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
  const check = (primary: number[], secondary: number[]) => {
    const n = primary.length;
    const ids = Uint32Array.from({ length: n }, (_, i) => (i * 7919) % Math.max(1, n));
    if (new Set(ids).size !== n) for (let i = 0; i < n; i++) ids[i] = i;
    const p = (id: number) => primary[id]!;
    const s = (id: number) => secondary[id]!;
    const want = [...sortStable(ids.slice(), (a, b) => p(a) - p(b) || s(a) - s(b))];
    expect([...sortByTwoKeys(ids.slice(), p, s)]).toEqual(want);
  };
  it('orders as the comparator sort does: dense, sparse, ties, long tie runs', () => {
    for (const n of [0, 1, 2, 3, 33, 1000, 20_000]) {
      // Dense (a counting sort), with ties of both keys.
      check(
        Array.from({ length: n }, () => 1000 + rnd(Math.max(1, n))),
        Array.from({ length: n }, () => rnd(4)),
      );
      // Sparse (the comparator fallback).
      check(
        Array.from({ length: n }, () => rnd(1e9)),
        Array.from({ length: n }, () => rnd(3)),
      );
      // One primary value: a tie run longer than insertion handles.
      check(
        Array.from({ length: n }, () => 5),
        Array.from({ length: n }, () => rnd(50)),
      );
    }
    // Not integers: the fallback.
    check([0.5, 0.25, 3, 1], [0, 1, 0, 0]);
  });
});
