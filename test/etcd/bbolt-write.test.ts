/**
 * The bbolt writer against the real tools: a written `snapshot.db` passes
 * `etcdctl snapshot status` (which runs bbolt's tx.Check), is restored by
 * `etcdctl snapshot restore` without `--skip-hash-check`, and etcd started on
 * the restored dir serves every key with its exact value.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memorySource } from '../../shared/bytes/byte-source';
import { decodeMetaFields, validateMeta } from '../../shared/formats/etcd/bbolt-meta';
import { decodePageHeader, isLeaf } from '../../shared/formats/etcd/bbolt-page';
import { MAX_LEAF_PAGES, memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, encodeLease, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';
import { snapshotTrailer } from '../../shared/formats/etcd/snapshot-db-write';
import { requireEtcd, tempDir } from '../helpers/etcd';
import { restoreAndRead, snapshotStatus } from '../helpers/etcd-restore';

const enc = new TextEncoder();
const hasEtcd = requireEtcd();

function content(n: number): { items: RevisionItem[]; expected: Map<string, Uint8Array>; lastRev: number } {
  const items: RevisionItem[] = [];
  const expected = new Map<string, Uint8Array>();
  let rev = 1;
  for (let i = 0; i < n; i++) {
    rev++;
    const key = `/registry/configmaps/ns-${i % 7}/cm-${String(i).padStart(5, '0')}-é`;
    // Every 500th value is large (several overflow pages); the rest vary in size.
    const size = i % 500 === 0 ? 20_000 + i : 10 + ((i * 37) % 900);
    const value = new Uint8Array(size);
    for (let j = 0; j < size; j++) value[j] = (i * 31 + j * 7) & 0xff;
    expected.set(key, value);
    items.push({
      key: revisionKey(rev, 0),
      value: encodeKeyValue({ key: enc.encode(key), createRevision: rev, modRevision: rev, version: 1, value, lease: i === 3 ? 0x1234n : 0n }),
    });
  }
  return { items, expected, lastRev: rev };
}

describe.skipIf(!hasEtcd)('bbolt writer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('bbolt-write');
  });
  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes two valid metas naming the same tree, and a page count that matches the size', async () => {
    const sink = memorySink();
    const { items } = content(50);
    const res = await writeEtcdBackend(sink, { revisions: items, buckets: { meta: [[enc.encode('consistent_index'), u64be(9)]] } });
    const bytes = sink.bytes();
    expect(bytes.length).toBe(res.size);
    expect(res.size % 4096).toBe(0);
    const m0 = decodeMetaFields(bytes.subarray(0, 4096));
    const m1 = decodeMetaFields(bytes.subarray(4096, 8192));
    expect(validateMeta(m0.fields, m0.computed)).toBeNull();
    expect(validateMeta(m1.fields, m1.computed)).toBeNull();
    expect(m0.fields.root).toBe(m1.fields.root);
    expect(Number(m0.fields.pgid)).toBe(res.pages);
    expect(res.buckets.find((b) => b.name === 'key')?.keys).toBe(50);
  });

  it('a written snapshot.db passes etcdctl snapshot status and restores; etcd serves every value', async () => {
    const n = 3000;
    const { items, expected, lastRev } = content(n);
    const sink = memorySink();
    await writeEtcdBackend(sink, {
      revisions: items,
      buckets: {
        meta: [[enc.encode('consistent_index'), u64be(4)]],
        lease: [[u64be(0x1234n), encodeLease(0x1234n, 3600)]],
        cluster: [[enc.encode('clusterVersion'), enc.encode('3.4.0')]],
      },
    });
    const db = sink.bytes();
    const trailer = await snapshotTrailer(memorySource('db', db));
    const file = path.join(dir, 'snapshot.db');
    await fs.writeFile(file, Buffer.concat([db, trailer]));
    const status = snapshotStatus(file);
    expect(status.output).not.toMatch(/panic|error/i);
    expect(status.ok).toBe(true);
    expect(status.revision).toBe(lastRev);
    const restored = await restoreAndRead(file, dir);
    expect(restored.restoreOutput).not.toMatch(/sha256|hash/i);
    expect(restored.restoreStatus).toBe(0);
    expect(restored.started, restored.etcdOutput.slice(-2000)).toBe(true);
    expect(restored.revision).toBe(lastRev);
    expect(restored.keys!.size).toBe(n);
    for (const [k, v] of expected) expect(Buffer.from(restored.keys!.get(k) ?? []).equals(Buffer.from(v)), k).toBe(true);
  }, 120_000);

  it('values of a few KiB share multi-page leaves: the file stays close to its data, and etcd reads and rewrites them', async () => {
    // Kubernetes objects of 2-5 KB: one per page left pages a quarter to half empty (4.2 KB ones took two pages each).
    const n = 1200;
    const items: RevisionItem[] = [];
    const expected = new Map<string, Uint8Array>();
    let dataBytes = 0;
    for (let i = 0; i < n; i++) {
      const key = `/registry/pods/ns-${i % 5}/pod-${String(i).padStart(5, '0')}`;
      const value = new Uint8Array(2000 + ((i * 977) % 3200));
      for (let j = 0; j < value.length; j++) value[j] = (i * 13 + j) & 0xff;
      expected.set(key, value);
      const kv = encodeKeyValue({ key: enc.encode(key), createRevision: i + 2, modRevision: i + 2, version: 1, value, lease: 0n });
      dataBytes += 16 + 17 + kv.length;
      items.push({ key: revisionKey(i + 2, 0), value: kv });
    }
    const sink = memorySink();
    await writeEtcdBackend(sink, { revisions: items, buckets: { meta: [[enc.encode('consistent_index'), u64be(4)]] } });
    const db = sink.bytes();
    // Leaves of several elements over several pages, none past the cap, and little empty space.
    let sharedSpans = 0;
    for (let p = 3; p * 4096 < db.length;) {
      const h = decodePageHeader(db.subarray(p * 4096, p * 4096 + 16))!;
      if (isLeaf(h.flags) && h.count > 1 && h.overflow > 0) sharedSpans++;
      if (isLeaf(h.flags)) expect(h.overflow).toBeLessThan(MAX_LEAF_PAGES);
      p += 1 + h.overflow;
    }
    expect(sharedSpans).toBeGreaterThan(n / 10);
    expect(db.length).toBeLessThan(dataBytes * 1.15);
    const file = path.join(dir, 'large-values.snapshot.db');
    await fs.writeFile(file, Buffer.concat([db, await snapshotTrailer(memorySource('db', db))]));
    expect(snapshotStatus(file).ok).toBe(true);
    const work = path.join(dir, 'large-values');
    await fs.mkdir(work);
    const rewritten = new Map(expected);
    const restored = await restoreAndRead(file, work, async (node) => {
      // Writes into, deletes from and a compaction over the shared leaves: bbolt loads and splits them.
      for (let i = 0; i < n; i += 7) {
        const key = `/registry/pods/ns-${i % 5}/pod-${String(i).padStart(5, '0')}`;
        if (i % 2 === 0) {
          await node.del(key);
          rewritten.delete(key);
        } else {
          const value = enc.encode(`rewritten ${i} `.repeat(300));
          await node.put(key, value);
          rewritten.set(key, value);
        }
      }
      await node.compact((await node.status()).revision);
    });
    expect(restored.restoreStatus, restored.restoreOutput).toBe(0);
    expect(restored.started, restored.etcdOutput.slice(-2000)).toBe(true);
    expect(restored.keys!.size).toBe(n);
    for (const [k, v] of expected) expect(Buffer.from(restored.keys!.get(k) ?? []).equals(Buffer.from(v)), k).toBe(true);
    expect(restored.keysAfter!.size).toBe(rewritten.size);
    for (const [k, v] of rewritten) expect(Buffer.from(restored.keysAfter!.get(k) ?? []).equals(Buffer.from(v)), k).toBe(true);
  }, 120_000);
});
