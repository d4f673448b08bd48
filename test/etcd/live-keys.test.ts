/**
 * The schema's live-key count past the key set's growth steps: the set grows
 * its arrays at 1024, 2048, 4096… distinct keys, and a flag written while it
 * grew was once lost: one live key too few per growth step (the bench's
 * real-etcd dir of 10,000 keys counted 9,796 live keys where etcd served 9,800).
 */
import { describe, expect, it } from 'vitest';
import { memorySource } from '../../shared/bytes/byte-source';
import { inspectBbolt } from '../../shared/formats/etcd/bbolt-db';
import { memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend, type RevisionItem } from '../../shared/formats/etcd/etcd-db-write';
import { ByteKeySet } from '../../shared/formats/etcd/schema';

const te = new TextEncoder();

describe('live keys across the key set growth', () => {
  it('ByteKeySet keeps the flag of the key that made it grow', () => {
    const set = new ByteKeySet();
    const n = 5000;
    for (let i = 0; i < n; i++) set.set(te.encode(`/registry/pods/ns/p-${i}`), true);
    expect(set.size).toBe(n);
    expect(set.countSet()).toBe(n);
    // The keys added when the arrays grew (entries 1024, 2048, 4096) are live like the others.
    for (const e of [1023, 1024, 1025, 2048, 4096]) expect(new TextDecoder().decode(set.keyAt(e))).toBe(`/registry/pods/ns/p-${e}`);
    set.set(te.encode('/registry/pods/ns/p-1024'), false);
    expect(set.countSet()).toBe(n - 1);
  });

  it('inspectBbolt counts every live key of a db with 5,000 keys, one in seven deleted', async () => {
    const keys = 5000;
    const items: RevisionItem[] = [];
    let rev = 2;
    const deleted = new Set<number>();
    for (let i = 0; i < keys; i++) {
      const key = te.encode(`/registry/configmaps/ns-${i % 9}/cm-${String(i).padStart(5, '0')}`);
      items.push({
        key: revisionKey(rev, 0),
        value: encodeKeyValue({ key, createRevision: rev, modRevision: rev, version: 1, value: te.encode(`v${i}`), lease: 0n }),
      });
      rev++;
    }
    for (let i = 0; i < keys; i += 7) {
      const key = te.encode(`/registry/configmaps/ns-${i % 9}/cm-${String(i).padStart(5, '0')}`);
      items.push({
        key: revisionKey(rev, 0, true),
        value: encodeKeyValue({ key, createRevision: 0, modRevision: rev, version: 0, value: new Uint8Array(0), lease: 0n }),
      });
      deleted.add(i);
      rev++;
    }
    const sink = memorySink();
    await writeEtcdBackend(sink, { revisions: items, buckets: { meta: [[te.encode('consistent_index'), u64be(rev)]] } });
    const scan = await inspectBbolt(memorySource('db', sink.bytes()), 'db');
    expect(scan.info.problems).toEqual([]);
    expect(scan.schema!.revisions).toBe(keys + deleted.size);
    expect(scan.schema!.tombstones).toBe(deleted.size);
    expect(scan.schema!.liveKeys).toBe(keys - deleted.size);
  });
});
