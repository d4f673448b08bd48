/**
 * The key browser past its index budget, one filter after another as an
 * operator clicks them: the first query (builds the whole db's index), a
 * namespace, a resource, a substring, a substring inside another namespace,
 * the same inside the namespace held. CPU of each query (this process's
 * user+sys), RSS after it and the peak RSS at the end.
 *
 * A db past the budget (more than ~1.7M keys) is made by key-browser.ts:
 *
 *   npx esbuild test/bench/key-browser.ts --bundle --platform=node --format=cjs --outfile=/tmp/kb.cjs
 *   node /tmp/kb.cjs kb-gen 4000000 /tmp/db4m
 *   npx esbuild test/bench/key-browser-filters.ts --bundle --platform=node --format=cjs --outfile=/tmp/kbf.cjs
 *   node /tmp/kbf.cjs kb-filters /tmp/db4m      (or bench.ts --only-key-browser-filters --db /tmp/db4m)
 */
import type { EtcdQuery } from '../../shared/contract/etcd';
import { EtcdKeyBrowser } from '../../shared/formats/etcd/key-browser-index';
import { openFileSource } from '../../electron/services/fs-source';

type KeysQuery = Extract<EtcdQuery, { kind: 'keys' }>;

const STEPS: { what: string; query: KeysQuery }[] = [
  { what: 'first query', query: { kind: 'keys', offset: 0, limit: 200 } },
  { what: 'namespace (configmaps/ns-3)', query: { kind: 'keys', offset: 0, limit: 200, prefix: '/registry/configmaps/ns-3/' } },
  { what: 'resource (secrets)', query: { kind: 'keys', offset: 0, limit: 200, prefix: '/registry/secrets/' } },
  { what: 'substring a7', query: { kind: 'keys', offset: 0, limit: 200, search: 'a7' } },
  { what: 'substring a7 in pods/ns-7', query: { kind: 'keys', offset: 0, limit: 200, prefix: '/registry/pods/ns-7/', search: 'a7' } },
  { what: 'substring b3 in pods/ns-7 (held)', query: { kind: 'keys', offset: 0, limit: 200, prefix: '/registry/pods/ns-7/', search: 'b3' } },
];

/** The steps on `dbPath`, one line each, then the peak RSS (run it in a process of its own). */
export async function printKeyBrowserFilters(dbPath: string): Promise<void> {
  const src = await openFileSource(dbPath);
  try {
    const browser = new EtcdKeyBrowser(src);
    for (const { what, query } of STEPS) {
      const c0 = process.cpuUsage();
      const page = await browser.listKeys(query);
      const c = process.cpuUsage(c0);
      const exact = page.indexLimited ? `limited ${page.indexLimited.keysIndexed}` : 'exact';
      const inDb = (page as { keysInDb?: number }).keysInDb;
      console.log(
        `${what}: ${((c.user + c.system) / 1e6).toFixed(2)} s CPU; total ${page.total} (${exact}${inDb !== undefined ? `, ${inDb} in the db` : ''}), ` +
          `${page.groups.length} groups; RSS ${Math.round(process.memoryUsage().rss / 1048576)} MB`,
      );
    }
    console.log(`peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
  } finally {
    await src.close();
  }
}

if (process.argv[2] === 'kb-filters') void printKeyBrowserFilters(process.argv[3] ?? '');
