/**
 * The key browser at scale: generate many-key etcd dbs, and time one query or
 * five successive ones (page 1, page 50, a prefix, a substring, a group) over
 * one, by the old whole-db walk per query or by the index built once per db.
 * One measurement per process, so the caller's /usr/bin/time gives its peak RSS.
 * The bench (bench.ts) runs `keyBrowserChild` the same way on the real etcd dir.
 *
 *   npx esbuild test/bench/key-browser.ts --bundle --platform=node --format=cjs --outfile=/tmp/kb.cjs
 *   node /tmp/kb.cjs kb-gen KEYS FILE
 *   node /tmp/kb.cjs kb-measure FILE old|index 1|5
 */
import { execFileSync } from 'node:child_process';
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

/** The five queries on any db: the prefix is its biggest resource, the group its biggest namespace (known after the first). */
async function timeOnAnyDb(src: ByteSource): Promise<{ ms: number[]; keys: number; limited: boolean }> {
  const browser = new EtcdKeyBrowser(src);
  const ms: number[] = [];
  const timed = async (q: KeysQuery): Promise<EtcdKeyPage> => {
    const t0 = performance.now();
    const page = await browser.listKeys(q);
    ms.push(performance.now() - t0);
    return page;
  };
  const first = await timed(KEY_BROWSER_QUERIES[0]!);
  const byCount = [...first.groups].sort((a, b) => b.count - a.count);
  const resource = byCount[0]?.resource ?? 'pods';
  const ns = byCount.find((g) => g.namespace !== null);
  await timed(KEY_BROWSER_QUERIES[1]!);
  await timed({ kind: 'keys', offset: 0, limit: 200, prefix: `/registry/${resource}/` });
  await timed(KEY_BROWSER_QUERIES[3]!);
  await timed({ kind: 'keys', offset: 0, limit: 200, prefix: ns ? `/registry/${ns.resource}/${ns.namespace}/` : '/registry/' });
  return { ms, keys: first.total, limited: first.indexLimited !== undefined };
}

/** Child process of the bench: the five queries on `dbPath`, as JSON with the peak RSS. */
export async function keyBrowserChild(dbPath: string): Promise<void> {
  const src = await openFileSource(dbPath);
  try {
    const r = await timeOnAnyDb(src);
    const usage = process.resourceUsage();
    console.log(JSON.stringify({ ...r, maxRssKb: usage.maxRSS, cpuS: (usage.userCPUTime + usage.systemCPUTime) / 1e6 }));
  } finally {
    await src.close();
  }
}

/** Bench lines: the key browser on the db of a real etcd data dir (first query builds the index, the next four use it). */
export function benchKeyBrowser(dataDir: string, benchScript: string): string[] {
  const db = `${dataDir}/member/snap/db`;
  const out = execFileSync(process.execPath, [benchScript, '--key-browser-child', db], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { ms: number[]; keys: number; limited: boolean; maxRssKb: number; cpuS: number };
  const next = r.ms.slice(1).map((m) => `${Math.round(m)} ms`);
  return [
    `  key browser on ${db} (${r.limited ? '≥ ' : ''}${r.keys} keys): first query (builds the index) ${(r.ms[0]! / 1000).toFixed(2)} s;` +
      ` next queries (page 50, a prefix, a substring, a namespace) ${next.join(', ')}; peak RSS ${Math.round(r.maxRssKb / 1024)} MB, CPU ${r.cpuS.toFixed(2)} s in all`,
  ];
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
