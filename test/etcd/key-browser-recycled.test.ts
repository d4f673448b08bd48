/**
 * The key browser's index walks read a local db through a reader that reuses
 * its buffers (blocking reads, no garbage chunk per read): whatever a walk
 * hands on is valid only while it visits that leaf. On a db several times
 * the reader's 8 MiB cache, past a small budget (so that the whole db's walk,
 * the locators, a filter read back from its groups' leaves and a filter that
 * walks the whole db all run), every answer must be the one the same browser
 * gives over the same bytes in memory, where nothing is reused; the same with
 * the chunks read ahead by another thread (a db of 64 MiB or more), where a
 * chunk's slot is let go when the walk's cache drops it.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFileSource } from '../../electron/services/fs-source';
import { memorySource } from '../../shared/bytes/byte-source';
import type { EtcdQuery } from '../../shared/contract/etcd';
import { EtcdKeyBrowser } from '../../shared/formats/etcd/key-browser-index';
import { groupPrefix } from '../../renderer/src/features/etcd/key-groups';
import { keyBrowserDbFile } from './key-browser-db';

type KeysQuery = Extract<EtcdQuery, { kind: 'keys' }>;
const q = (over: Partial<KeysQuery> = {}): KeysQuery => ({ kind: 'keys', offset: 0, limit: 300, ...over });

let dir = '';
let bytes: Uint8Array;
let file = '';

beforeAll(async () => {
  ({ dir, file, bytes } = await keyBrowserDbFile('lifeboat-kb-recycled-', 80_000, true));
});
afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('the key browser’s walks with reused read buffers', () => {
  it.each([
    ['read by the walk itself', undefined],
    ['read ahead by another thread', 0],
  ])('answers every filter past its budget as over the same bytes in memory (%s)', async (_how, readAheadMinBytes) => {
    // Three times the walk's cache: its buffers are really read into again.
    expect(bytes.length).toBeGreaterThan(3 * 8 * 1024 * 1024);
    const hash = () => createHash('sha256').update(bytes).digest('hex');
    const before = hash();
    const src = await openFileSource(file);
    try {
      const budget = 512 * 1024;
      const fromFile = new EtcdKeyBrowser(src, { budgetBytes: budget, ...(readAheadMinBytes !== undefined ? { readAheadMinBytes } : {}) });
      const fromMemory = new EtcdKeyBrowser(memorySource('db', bytes), { budgetBytes: budget });
      const all = await fromMemory.listKeys(q());
      expect(all.indexLimited).toBeDefined();
      expect(all.keysInDb).toBeGreaterThan(70_000);
      expect(await fromFile.listKeys(q())).toEqual(all);
      const queries: KeysQuery[] = [
        q({ offset: 1000, limit: 50 }),
        // Groups as the UI asks for them: read back from their leaves, a page further in, a search in one.
        ...all.groups
          .filter((_, i) => i % 40 === 0)
          .flatMap((g) => {
            const prefix = groupPrefix(g);
            return prefix ? [q({ prefix }), q({ prefix, offset: 5, limit: 7 }), q({ prefix, search: 'A' })] : [];
          }),
        // Spanning most leaves, or no prefix at all: a walk of the whole db.
        q({ prefix: '/registry/' }),
        q({ search: 'a7' }),
        q({ search: 'ünï' }),
        q({ search: 'A', offset: 2000, limit: 20 }),
        q({ prefix: '/registry/secrets/ns-UPPER/', search: 'name-' }),
      ];
      let compared = 0;
      for (const query of queries) {
        const expected = await fromMemory.listKeys(query);
        const got = await fromFile.listKeys(query);
        expect(got, JSON.stringify(query)).toEqual(expected);
        compared += got.items.length;
      }
      // Values compared, not only counts: many rows, with their decoded metadata.
      expect(compared).toBeGreaterThan(2000);
      const one = (await fromFile.listKeys(q({ prefix: '/registry/configmaps/ns-1/', limit: 1 }))).items[0]!;
      expect(one.k8s).toMatchObject({ encoding: 'json', kind: 'ConfigMap', name: one.key.slice(one.key.lastIndexOf('/') + 1) });
    } finally {
      await src.close();
    }
    expect(hash()).toBe(before);
  });
});
