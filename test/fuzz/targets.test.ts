/**
 * The bounded, fixed-seed subset of `npm run fuzz` in the suite: every
 * registered format (test/fuzz/targets/) runs a few hundred inputs in-process
 * with a fixed seed, and none may throw or break an invariant. The full run
 * (fresh seeds, 100,000 inputs per format, heap limit, hang watchdog) is
 * `npm run fuzz`; its figures are in the README. No timing here.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { inputOf, runRange } from './core';
import { TARGETS } from './targets/index';

/** Inputs per format in the suite; whole-directory validation costs more per input. */
const COUNT: Record<string, number> = {
  'dqlite-directory': 80,
  'dqlite-rebuild': 80,
  yaml: 200,
  'log-text': 200,
  'etcd-wal': 200,
  'etcd-bbolt': 150,
  'etcd-validate': 100,
  'etcd-salvage': 80,
};
const SEED = 20261202;

describe('fuzz targets (fixed seed, bounded)', () => {
  it('registers every format the issue names, each with a description', () => {
    const names = TARGETS.filter((t) => !t.hidden).map((t) => t.name);
    for (const n of [
      'dqlite-segment',
      'dqlite-snapshot-meta',
      'dqlite-snapshot-data',
      'dqlite-metadata',
      'lz4-frame',
      'dqlite-directory',
      'dqlite-rebuild',
      'dqlite-payloads',
      'sqlite',
      'ustar',
      'archive-head',
      'yaml',
      'json',
      'log-text',
      'known-hosts',
      'ssh-config',
      'node-facts',
      'node-probes',
      'node-listings',
      'session-journal',
      'protobuf',
      'etcd-wal',
      'etcd-snap',
      'etcd-raft',
      'etcd-bbolt',
      'etcd-kv',
      'etcd-validate',
      'etcd-salvage',
      'etcd-repair',
    ])
      expect(names).toContain(n);
    expect(new Set(names).size).toBe(names.length);
    for (const t of TARGETS) expect(t.what.length, t.name).toBeGreaterThan(20);
  });

  for (const target of TARGETS.filter((t) => !t.hidden)) {
    it(`${target.name}: ${COUNT[target.name] ?? 400} mutated inputs, no failure`, { timeout: 300_000 }, async () => {
      const corpus = await target.corpus();
      onTestFinished(() => target.dispose?.(corpus));
      const stats = await runRange(target, corpus, SEED, 0, COUNT[target.name] ?? 400);
      expect(stats.failures).toEqual([]);
      expect(stats.inputs).toBe(COUNT[target.name] ?? 400);
      // The inputs really vary: a replay of one index gives the same input, another index a different one.
      const a = JSON.stringify(target.files(inputOf(target, corpus, SEED, 5)), (_k, v: unknown) =>
        v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
      );
      const again = JSON.stringify(target.files(inputOf(target, corpus, SEED, 5)), (_k, v: unknown) =>
        v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
      );
      const other = JSON.stringify(target.files(inputOf(target, corpus, SEED, 6)), (_k, v: unknown) =>
        v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
      );
      expect(again).toBe(a);
      expect(other).not.toBe(a);
    });
  }

  it('the invariants catch a broken result: a target that throws is a failure with its index', async () => {
    const t = TARGETS.find((x) => x.name === 'selftest-throw')!;
    const stats = await runRange(t, await t.corpus(), SEED, 0, 5);
    expect(stats.failures.map((f) => f.index)).toEqual([2]);
    expect(stats.failures[0].message).toContain('boom from the self-test target');
  });
});
