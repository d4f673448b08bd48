/**
 * Going back to the older meta page (bbolt's `surgery revert-meta-page`, what repair does when the newest tree is
 * damaged and the older one intact) copies the older meta over the newer one. bbolt reads the page size from meta 0
 * when it opens a file (bbolt v1.3.6 `db.Open`; its `meta.validate` does not look at the size), so an older meta 1
 * whose page size field differs from the file's (its checksum still good: found by `npm run fuzz`, etcd-repair
 * target, seed 1575245364 input 2488) cannot be reverted to: the copy at page 0 would name that size and the file
 * would not open ("page size 25 in meta 0 is not a usable page size"). Validation must not advise going back, and
 * repair must rebuild instead; with the size right, both still go back.
 */
import { describe, expect, it } from 'vitest';
import { memorySource } from '../../shared/bytes/byte-source';
import { inspectBbolt } from '../../shared/formats/etcd/bbolt-db';
import { decodeMetaFields, encodeMetaPage } from '../../shared/formats/etcd/bbolt-meta';
import { memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';
import { chooseDbStrategy, revertMetaPage } from '../../shared/formats/etcd/repair-plan';

const te = new TextEncoder();
const PAGE = 4096;

/** A db whose meta 0 is the newest and names a leaf as its freelist (etcd panics); meta 1 (older) is intact, naming `olderPageSize`. */
async function dbWithDamagedNewest(olderPageSize: number): Promise<Uint8Array> {
  const items: RevisionItem[] = [];
  for (let i = 0; i < 300; i++) {
    const key = te.encode(`/registry/configmaps/default/cm-${String(i).padStart(4, '0')}`);
    items.push({
      key: revisionKey(i + 2, 0),
      value: encodeKeyValue({ key, createRevision: i + 2, modRevision: i + 2, version: 1, value: te.encode(`v${i}`), lease: 0n }),
    });
  }
  const sink = memorySink();
  await writeEtcdBackend(sink, { revisions: items, buckets: { meta: [[te.encode('consistent_index'), u64be(400)]] } });
  const db = sink.bytes().slice();
  const m0 = decodeMetaFields(db.subarray(0, PAGE)).fields;
  const m1 = decodeMetaFields(db.subarray(PAGE, 2 * PAGE)).fields;
  const older = m0.txid < m1.txid ? m0 : m1;
  // Meta 0: the newest transaction, its freelist at the root's leaf (bbolt panics: "invalid freelist page: N, page type is leaf").
  db.set(encodeMetaPage({ ...older, freelist: older.root, txid: older.txid + 1n }, PAGE, 0), 0);
  // Meta 1: the older transaction with its intact tree, its page size field as given, its checksum good.
  db.set(encodeMetaPage({ ...older, pageSize: olderPageSize }, PAGE, 1), PAGE);
  return db;
}

describe('going back to the older meta page only where the copy would open', () => {
  it('an older meta 1 naming the file’s page size: validation advises going back, repair goes back, and the copy opens', async () => {
    const db = await dbWithDamagedNewest(PAGE);
    const info = await inspectBbolt(memorySource('db', db), 'db');
    expect(info.info.freepagesPanic).toMatch(/^invalid freelist page: \d+, page type is leaf$/);
    expect(info.info.otherMetaTreeOk).toBe(true);
    expect(info.findings.map((f) => f.message).join('\n')).toMatch(/revert-meta-page/);
    const choice = await chooseDbStrategy(memorySource('db', db));
    expect(choice).toMatchObject({ strategy: 'revert-meta', revertTo: 1 });
    const write = await revertMetaPage(memorySource('db', db), 1);
    const reverted = db.slice();
    reverted.set(write.bytes, write.offset);
    const after = await inspectBbolt(memorySource('db', reverted), 'db');
    expect(after.info.openError).toBeNull();
    expect(after.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(after.schema?.liveKeys).toBe(300);
  });

  for (const size of [25, 8192]) {
    it(`an older meta 1 naming page size ${size}: no advice to go back, and repair rebuilds`, async () => {
      const db = await dbWithDamagedNewest(size);
      const info = await inspectBbolt(memorySource('db', db), 'db');
      // The file is still read at meta 0's 4096 (the older tree walks clean there), but a copy of meta 1 at page 0 would not be.
      expect(info.info.pageSize).toBe(PAGE);
      expect(info.info.otherMetaTreeOk).toBe(false);
      expect(info.info.freepagesPanic).toMatch(/^invalid freelist page: \d+, page type is leaf$/);
      expect(info.findings.map((f) => f.message).join('\n')).not.toMatch(/revert-meta-page/);
      const choice = await chooseDbStrategy(memorySource('db', db));
      expect(choice.strategy).toBe('rebuild');
      expect(choice.revertTo).toBeNull();
    });
  }
});
