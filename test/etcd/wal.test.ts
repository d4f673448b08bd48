/**
 * The WAL and .snap decoders against a real etcd 3.4 data dir: every value
 * is compared with what etcd itself served (keys and values after replaying
 * the decoded WAL entries, member and cluster IDs from `etcdctl member list`,
 * the raft index from the status endpoint), and the inputs are hashed before
 * and after.
 */
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDirectory, openFileSource } from '../../electron/services/fs-source';
import { hashTree, requireEtcd, spawnEtcd, tempDir, testKey, waitHealthy, writeKeys, type EtcdNode } from '../helpers/etcd';
import { listWalRecords, readWalEntries, scanWal, type WalEntry, type WalScan } from '../../shared/formats/etcd/wal';
import { readSnapFile } from '../../shared/formats/etcd/snap';
import { chooseSnap } from '../../shared/formats/etcd/snap-choice';
import type { InternalRequest } from '../../shared/formats/etcd/internal-request';
import type { SnapFileInfo } from '../../shared/contract/etcd';

const haveEtcd = requireEtcd();

interface Served {
  dir: string;
  keys: Map<string, Uint8Array>;
  memberId: string;
  clusterId: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  raftIndex: number;
  raftTerm: number;
  puts: number;
  deletes: number;
  compactedAt: number;
}

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');

async function post(node: EtcdNode, p: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${node.endpoint.clientUrl}${p}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** uint64 fields of etcdctl's JSON as hex (JSON.parse would round them). */
function jsonIds(text: string, field: string): string[] {
  return [...text.matchAll(new RegExp(`"${field}":(\\d+)`, 'g'))].map((m) => BigInt(m[1]!).toString(16));
}

let root = '';
let served: Served;
let hashBefore = '';
let scan: WalScan;

describe.skipIf(!haveEtcd)('WAL and .snap of a real etcd 3.4 data dir', () => {
  beforeAll(async () => {
    root = await tempDir('wal');
    const dir = path.join(root, 'data');
    const node = await spawnEtcd({ dataDir: dir, snapshotCount: 150 });
    try {
      if (!(await waitHealthy(node, 20_000))) throw new Error(node.output());
      await writeKeys(node, 300, 0, 64);
      await writeKeys(node, 300, 1, 100);
      let deletes = 0;
      for (let i = 0; i < 300; i += 7) {
        await node.del(testKey(i));
        deletes++;
      }
      const lease = await node.leaseGrant(600);
      await node.put('/lease/held', 'leased value', lease);
      // A txn: value compare that holds, a put on success, a delete on failure.
      await post(node, '/v3/kv/txn', {
        compare: [{ key: b64('/lease/held'), result: 'EQUAL', target: 'VALUE', value: b64('leased value') }],
        success: [{ requestPut: { key: b64('/txn/ok'), value: b64('from txn') } }],
        failure: [{ requestDeleteRange: { key: b64('/lease/held') } }],
      });
      const { revision } = await node.status();
      await node.compact(revision - 5);
      const list = node.etcdctl(['member', 'list', '-w', 'json']);
      const members = JSON.parse(list) as { members: { name: string; peerURLs: string[]; clientURLs: string[] }[] };
      const st = await node.status();
      served = {
        dir,
        keys: await node.rangeBytes(''),
        memberId: jsonIds(list, 'ID')[0]!,
        clusterId: jsonIds(list, 'cluster_id')[0]!,
        name: members.members[0]!.name,
        peerURLs: members.members[0]!.peerURLs,
        clientURLs: members.members[0]!.clientURLs,
        raftIndex: st.raftIndex,
        raftTerm: st.raftTerm,
        puts: 601,
        deletes,
        compactedAt: revision - 5,
      };
    } finally {
      await node.stop();
    }
    hashBefore = await hashTree(dir);
    const wal = localDirectory(path.join(dir, 'member/wal'));
    try {
      scan = await scanWal(wal, 'member/wal');
    } finally {
      await wal.close();
    }
  }, 120_000);

  afterAll(async () => {
    if (root) {
      expect(await hashTree(served.dir)).toBe(hashBefore);
      await fs.rm(root, { recursive: true, force: true });
    }
  });

  it('reads the WAL as etcd does: member, cluster, HardState, no error', () => {
    expect(scan.readError).toBeNull();
    expect(scan.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(scan.info.nodeId).toBe(served.memberId);
    expect(scan.info.clusterId).toBe(served.clusterId);
    const hs = scan.info.hardState!;
    expect(hs.vote).toBe(served.memberId);
    expect(hs.term).toBe(served.raftTerm);
    expect(hs.commit).toBeGreaterThanOrEqual(served.raftIndex);
    expect(scan.info.lastIndex).toBe(hs.commit);
    expect(scan.info.firstIndex).toBe(1);
    const file = scan.info.files[0]!;
    expect(file.file).toBe('member/wal/0000000000000000-0000000000000000.wal');
    expect(file.size).toBe(64_000_000);
    expect(file.status).toBe('ok');
    expect(file.validBytes + file.zeroTailBytes).toBe(file.size);
    expect(file.entries).toBe(hs.commit);
  });

  it('decodes the conf change with the member JSON etcd lists', () => {
    expect(scan.info.confChanges).toEqual([{ index: 1, term: 1, type: 'add', nodeId: served.memberId, name: served.name, peerURLs: served.peerURLs }]);
  });

  it('counts every kind of request that was made', () => {
    const c = scan.info.requestCounts;
    expect(c.put).toBe(served.puts);
    expect(c['delete-range']).toBe(served.deletes);
    expect(c.txn).toBe(1);
    expect(c.compaction).toBe(1);
    expect(c['lease-grant']).toBe(1);
    expect(c['conf-change']).toBe(1);
  });

  it('replaying the decoded entries gives exactly the keys and values etcd served', async () => {
    const kv = new Map<string, Uint8Array>();
    const apply = (r: InternalRequest) => {
      const k = Buffer.from((r as { key?: Uint8Array }).key ?? []).toString('utf8');
      if (r.kind === 'put') kv.set(k, r.value);
      else if (r.kind === 'delete-range') kv.delete(k);
      else if (r.kind === 'txn') {
        const holds = r.compare.every(
          (c) =>
            c.target === 'value' &&
            c.result === 'equal' &&
            Buffer.compare(Buffer.from(kv.get(Buffer.from(c.key).toString('utf8')) ?? []), Buffer.from(c.value ?? [])) === 0,
        );
        for (const op of holds ? r.success : r.failure) apply(op);
      }
    };
    const entries: WalEntry[] = [];
    const wal = localDirectory(path.join(served.dir, 'member/wal'));
    try {
      await readWalEntries(wal, 'member/wal', 1, (e) => {
        entries.push(e);
        if (e.request) apply(e.request);
      });
    } finally {
      await wal.close();
    }
    expect(entries.map((e) => e.index)).toEqual(Array.from({ length: entries.length }, (_, i) => i + 1));
    expect(entries.at(-1)!.index).toBe(scan.info.lastIndex);
    expect([...kv.keys()].sort()).toEqual([...served.keys.keys()].sort());
    for (const [k, v] of served.keys) expect(Buffer.from(kv.get(k)!).equals(Buffer.from(v)), k).toBe(true);
    const leased = entries.find((e) => e.request?.kind === 'put' && Buffer.from(e.request.key).toString() === '/lease/held')!;
    const grant = entries.find((e) => e.request?.kind === 'lease-grant')!;
    expect(leased.request!.kind === 'put' && leased.request.lease).toBe(grant.request!.kind === 'lease-grant' && grant.request.leaseId);
  });

  it('lists records with offsets, CRCs and one-line summaries, page by page', async () => {
    const name = '0000000000000000-0000000000000000.wal';
    const src = await openFileSource(path.join(served.dir, 'member/wal', name));
    try {
      const head = await listWalRecords(src, `member/wal/${name}`, 0, 5);
      expect(head.map((r) => r.type)).toEqual(['crc', 'metadata', 'snapshot', 'entry', 'state']);
      expect(head.map((r) => r.offset)).toEqual([0, 16, 56, 80, head[4]!.offset]);
      expect(head[1]!.summary).toBe(`metadata node ${served.memberId} cluster ${served.clusterId}`);
      expect(head[2]!.summary).toBe('snapshot index 0 term 0');
      expect(head[3]!.summary).toBe(`conf change add ${served.memberId} ${served.name} ${served.peerURLs.join(',')}`);
      expect(head[4]!.summary).toBe(`HardState term 1 vote 0 commit 1`);
      const all = await listWalRecords(src, `member/wal/${name}`, 0, 5000);
      expect(all.length).toBe(scan.info.files[0]!.records);
      expect(all.every((r) => r.crcOk !== false && r.problem === null)).toBe(true);
      expect(all.map((r) => r.number)).toEqual(all.map((_, i) => i));
      const page = await listWalRecords(src, `member/wal/${name}`, 100, 10);
      expect(page).toEqual(all.slice(100, 110));
      const firstPut = all.find((r) => r.summary.startsWith('put /registry/'))!;
      expect(firstPut.summary).toMatch(/^put \/registry\/(configmaps|secrets|pods|services)\/(default|kube-system|app)\/obj-\d{6} \(64 B\)$/);
      expect(firstPut.entryType).toBe('normal');
      const leasePut = all.find((r) => r.summary.startsWith('put /lease/held'))!;
      expect(leasePut.summary).toMatch(/^put \/lease\/held \(12 B, lease [0-9a-f]+\)$/);
      expect(all.some((r) => r.summary.startsWith('txn 1 compare, success [put /txn/ok]'))).toBe(true);
      expect(all.filter((r) => r.summary.startsWith('compact')).map((r) => r.summary)).toEqual([`compact revision ${served.compactedAt} (physical)`]);
      expect(all.some((r) => r.summary.startsWith(`v2 PUT /0/members/${served.memberId}/attributes`))).toBe(true);
      const last = all.at(-1)!;
      expect(last.offset + 8 + last.length + last.padding).toBe(scan.info.files[0]!.validBytes);
    } finally {
      await src.close();
    }
  });

  it('reads every .snap (CRC, metadata, conf state, v2 members) and chooses the one etcd loads', async () => {
    const snapDir = path.join(served.dir, 'member/snap');
    const names = (await fs.readdir(snapDir)).filter((n) => n.endsWith('.snap')).sort();
    expect(names.length).toBeGreaterThanOrEqual(3);
    const infos: SnapFileInfo[] = [];
    for (const n of names) {
      const src = await openFileSource(path.join(snapDir, n));
      try {
        const { info, findings } = await readSnapFile(src, `member/snap/${n}`);
        expect(findings).toEqual([]);
        expect(info.ok).toBe(true);
        expect(info.error).toBeNull();
        expect(`${info.term.toString(16).padStart(16, '0')}-${info.index.toString(16).padStart(16, '0')}.snap`).toBe(n);
        expect(info.voters).toEqual([served.memberId]);
        expect(info.learners).toEqual([]);
        expect(info.members).toEqual([{ id: served.memberId, name: served.name, peerURLs: served.peerURLs, clientURLs: served.clientURLs }]);
        infos.push(info);
      } finally {
        await src.close();
      }
    }
    // Every .snap has its WAL record (etcd writes the .snap first, then the record).
    for (const s of infos) expect(scan.info.snapshots.some((w) => w.index === s.index && w.term === s.term)).toBe(true);
    const choice = chooseSnap(infos, scan.info.snapshots, scan.info.hardState!.commit);
    expect(choice.chosen!.file).toBe(`member/snap/${names.at(-1)}`);
    expect(choice.snaps.filter((s) => s.chosen).length).toBe(1);
    expect(choice.renamedBroken).toEqual([]);
    expect(scan.openedAt).toEqual({ index: choice.chosen!.index, term: choice.chosen!.term });
  });
});

describe.skipIf(!haveEtcd)('a --wal-dir outside the data dir', () => {
  it('is scanned the same way: names relative to the WAL dir, the member and keys of the node', async () => {
    const base = await tempDir('waldir');
    try {
      const walDir = path.join(base, 'separate-wal');
      const node = await spawnEtcd({ dataDir: path.join(base, 'data'), extraArgs: ['--wal-dir', walDir] });
      let memberId = '';
      try {
        if (!(await waitHealthy(node, 20_000))) throw new Error(node.output());
        await writeKeys(node, 40, 0, 32);
        memberId = (await node.status()).memberId;
      } finally {
        await node.stop();
      }
      expect(await fs.readdir(path.join(base, 'data', 'member'))).not.toContain('wal');
      const before = await hashTree(walDir);
      const dir = localDirectory(walDir);
      try {
        const s = await scanWal(dir, '');
        expect(s.readError).toBeNull();
        expect(s.info.files.map((f) => f.file)).toEqual(['0000000000000000-0000000000000000.wal']);
        expect(s.info.nodeId).toBe(BigInt(memberId).toString(16));
        expect(s.info.requestCounts.put).toBe(40);
      } finally {
        await dir.close();
      }
      expect(await hashTree(walDir)).toBe(before);
    } finally {
      await fs.rm(base, { recursive: true, force: true });
    }
  }, 60_000);
});

describe.skipIf(!haveEtcd)('a WAL that real etcd cut into several files', () => {
  it('chains the CRC across the cuts, names each file by its first entry, and replays to the served keys', async () => {
    const base = await tempDir('walcut');
    try {
      const dir = path.join(base, 'data');
      const node = await spawnEtcd({ dataDir: dir });
      let keys: Map<string, Uint8Array>;
      try {
        if (!(await waitHealthy(node, 20_000))) throw new Error(node.output());
        // ~150 MB of puts: etcd cuts at 64,000,000 bytes.
        await writeKeys(node, 250, 0, 600_000, 4);
        keys = await node.rangeBytes('');
      } finally {
        await node.stop();
      }
      const walDir = path.join(dir, 'member/wal');
      const before = await hashTree(walDir);
      const wal = localDirectory(walDir);
      try {
        const s = await scanWal(wal, 'member/wal');
        expect(s.readError).toBeNull();
        expect(s.findings.filter((f) => f.severity !== 'info')).toEqual([]);
        const walFilesInfo = s.info.files;
        expect(walFilesInfo.length).toBeGreaterThanOrEqual(3);
        walFilesInfo.forEach((f, k) => {
          expect(f.seq).toBe(k);
          expect(f.status).toBe('ok');
          // etcd names a new file (seq+1, last entry index+1): its first entry has that index.
          if (k > 0) expect(f.firstEntryIndex).toBe(f.nameIndex);
          if (k > 0) expect(f.nameIndex).toBe(walFilesInfo[k - 1]!.lastEntryIndex! + 1);
          // Closed files were truncated at the cut; only the last one is preallocated.
          if (k < walFilesInfo.length - 1) expect(f.zeroTailBytes).toBe(0);
        });
        expect(walFilesInfo.at(-1)!.validBytes + walFilesInfo.at(-1)!.zeroTailBytes).toBe(walFilesInfo.at(-1)!.size);
        const kv = new Map<string, Uint8Array>();
        await readWalEntries(wal, 'member/wal', 1, (e) => {
          if (e.request?.kind === 'put') kv.set(Buffer.from(e.request.key).toString('utf8'), e.request.value);
        });
        expect([...kv.keys()].sort()).toEqual([...keys.keys()].sort());
        for (const [k, v] of keys) expect(Buffer.from(kv.get(k)!).equals(Buffer.from(v)), k).toBe(true);
      } finally {
        await wal.close();
      }
      expect(await hashTree(walDir)).toBe(before);
    } finally {
      await fs.rm(base, { recursive: true, force: true });
    }
  }, 240_000);
});
