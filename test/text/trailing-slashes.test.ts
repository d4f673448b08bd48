/**
 * stripTrailingSlashes gives what `p.replace(/\/+$/, '')` gives, without that regex's quadratic time on a long run of
 * slashes not at the end (a path read from a node's file), and no source trims a path with that regex any more.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stripTrailingSlashes } from '../../shared/text/trailing-slashes';

const REPO = path.resolve(__dirname, '..', '..');

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.(ts|svelte)$/.test(name)) out.push(p);
  }
  return out;
}

describe('stripTrailingSlashes', () => {
  it('matches the regex it replaces on paths of every shape', () => {
    const cases = ['', '/', '//', '/var/lib/etcd', '/var/lib/etcd/', '/var/lib/etcd///', 'rel/dir/', 'a//b//', '/ /', 'x'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 2000; i++) {
      let s = '';
      const n = next() % 12;
      for (let k = 0; k < n; k++) s += '/ab'[next() % 3];
      cases.push(s);
    }
    for (const c of cases) expect(stripTrailingSlashes(c), JSON.stringify(c)).toBe(c.replace(/\/+$/, ''));
  });

  it('keeps a long run of slashes before the end as it is', () => {
    const p = `/srv${'/'.repeat(200_000)}x${'/'.repeat(200_000)}`;
    expect(stripTrailingSlashes(p)).toBe(`/srv${'/'.repeat(200_000)}x`);
  });

  it('is what every source uses to trim a path', () => {
    const offenders = [...sources(path.join(REPO, 'shared')), ...sources(path.join(REPO, 'electron')), ...sources(path.join(REPO, 'renderer', 'src'))]
      .filter((f) => !f.endsWith(path.join('text', 'trailing-slashes.ts')) && readFileSync(f, 'utf8').includes('.replace(/\\/+$/'))
      .map((f) => path.relative(REPO, f));
    expect(offenders).toEqual([]);
  });
});
