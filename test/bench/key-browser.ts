/**
 * The key browser at scale: generate many-key etcd dbs, and time one query or
 * five successive ones (page 1, page 50, a prefix, a substring, a group) over
 * one, by the old whole-db walk per query or by the index built once per db.
 * One measurement per process, so the caller's /usr/bin/time gives its peak RSS.
 *
 *   npx esbuild test/bench/key-browser.ts --bundle --platform=node --format=cjs --outfile=/tmp/kb.cjs
 *   node /tmp/kb.cjs kb-gen KEYS FILE
 *   node /tmp/kb.cjs kb-measure FILE old|index 1|5
 */
import { promises as fs } from 'node:fs';
import type { ByteSource } from '../../shared/bytes/byte-source';
import type { EtcdKeyPage, EtcdQuery } from '../../shared/contract/etcd';
import { EtcdKeyBrowser } from '../../shared/formats/etcd/key-browser-index';
import { openFileSource } from '../../electron/services/fs-source';
import { writeKeyBrowserDb } from '../etcd/key-browser-db';
import { listKeysByWalk } from '../etcd/key-browser-oracle';

type KeysQuery = Extract<EtcdQuery, { kind: 'keys' }>;

/** The five queries of an operator paging, then narrowing (the group is the third namespace of configmaps). */
export const KEY_BROWSER_QUERIES: KeysQuery[] = [
  { kind: 'keys', offset: 0, limit: 200 },
  { kind: 'keys', offset: 49 * 200, limit: 200 },
  { kind: 'keys', offset: 0, limit: 200, prefix: '/registry/secrets/' },
  { kind: 'keys', offset: 0, limit: 200, search: 'a7' },
  { kind: 'keys', offset: 0, limit: 200, prefix: '/registry/configmaps/ns-3/' },
];

/** Milliseconds of each query, in order, by `how`; the first query's answer for a check. */
export async function timeKeyQueries(src: ByteSource, how: 'old' | 'index', queries: KeysQuery[]): Promise<{ ms: number[]; first: EtcdKeyPage }> {
  const browser = new EtcdKeyBrowser(src);
  const ms: number[] = [];
  let first: EtcdKeyPage | null = null;
  for (const q of queries) {
    const t0 = performance.now();
    const page = how === 'old' ? await listKeysByWalk(src, q) : await browser.listKeys(q);
    ms.push(performance.now() - t0);
    first ??= page;
  }
  return { ms, first: first! };
}

async function main(): Promise<void> {
  const [cmd, a, b, c] = process.argv.slice(2);
  if (cmd === 'kb-gen') {
    const fh = await fs.open(b!, 'w');
    try {
      await writeKeyBrowserDb({ write: async (offset, bytes) => void (await fh.write(bytes, 0, bytes.length, offset)) }, Number(a));
    } finally {
      await fh.close();
    }
    return;
  }
  if (cmd === 'kb-measure') {
    const src = await openFileSource(a!);
    try {
      const n = Number(c ?? '1');
      const { ms, first } = await timeKeyQueries(src, b === 'old' ? 'old' : 'index', KEY_BROWSER_QUERIES.slice(0, n));
      const limited = first.indexLimited ? ` indexLimited ${first.indexLimited.keysIndexed}` : '';
      console.log(`${b} ${n} queries: ${ms.map((m) => (m / 1000).toFixed(3)).join(' ')} s; total ${first.total} groups ${first.groups.length}${limited}`);
    } finally {
      await src.close();
    }
    return;
  }
  }

if (process.argv[2] === 'kb-gen' || process.argv[2] === 'kb-measure') void main();
