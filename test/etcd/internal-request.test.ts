/**
 * InternalRaftRequest (and the v2 Request fallback of etcd 3.4): requests
 * sent to a real etcd 3.4 (a txn with a nested txn and a range delete, lease
 * grant and revoke, a put with a lease, a compaction) are found in its WAL
 * decoded field for field; hand-built bytes cover the kinds a single node
 * does not write (alarm, lease checkpoint, auth) and bad bytes.
 */
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDirectory } from '../../electron/services/fs-source';
import { requireEtcd, spawnEtcd, tempDir, waitHealthy, type EtcdNode } from '../helpers/etcd';
import { bf, vf } from '../helpers/protobuf-writer';
import { readWalEntries, type WalEntry } from '../../shared/formats/etcd/wal';
import {
  decodeInternalRequest,
  encodeCompactionRequest,
  encodeDeleteRangeRequest,
  encodePutRequest,
  summarizeRequest,
  keyText,
  type InternalRequest,
} from '../../shared/formats/etcd/internal-request';

const haveEtcd = requireEtcd();
const te = new TextEncoder();
const b64 = (s: string) => Buffer.from(s).toString('base64');
const txt = (b: Uint8Array) => Buffer.from(b).toString('utf8');

const u8 = (a: number[]) => Uint8Array.from(a);

describe('InternalRaftRequest decoding (hand-built)', () => {
  it('put, delete, compaction from the encoders', () => {
    expect(decodeInternalRequest(encodePutRequest(7n, te.encode('/a'), te.encode('xyz'), 0x694d7a0n))).toEqual({
      kind: 'put',
      id: 7n,
      key: te.encode('/a'),
      value: te.encode('xyz'),
      lease: 0x694d7a0n,
      prevKv: false,
      ignoreValue: false,
      ignoreLease: false,
    });
    expect(decodeInternalRequest(encodeDeleteRangeRequest(8n, te.encode('/a/'), te.encode('/a0')))).toMatchObject({
      kind: 'delete-range',
      id: 8n,
      key: te.encode('/a/'),
      rangeEnd: te.encode('/a0'),
    });
    expect(decodeInternalRequest(encodeCompactionRequest(9n, 1234, true))).toEqual({ kind: 'compaction', id: 9n, revision: 1234, physical: true });
  });

  it('alarm, lease checkpoint, lease revoke, auth', () => {
    const alarm = u8([...bf(100, vf(1, 5)), ...bf(10, [...vf(1, 1), ...vf(2, 0x8e9e05c52164694dn), ...vf(3, 1)])]);
    expect(decodeInternalRequest(alarm)).toEqual({ kind: 'alarm', id: 5n, action: 'activate', memberId: '8e9e05c52164694d', alarm: 'nospace' });
    expect(summarizeRequest(decodeInternalRequest(alarm)!)).toBe('alarm activate nospace member 8e9e05c52164694d');
    const cp = u8([...bf(100, vf(1, 6)), ...bf(11, [...bf(1, [...vf(1, 77), ...vf(2, 30)]), ...bf(1, [...vf(1, 78), ...vf(2, 31)])])]);
    expect(decodeInternalRequest(cp)).toEqual({
      kind: 'lease-checkpoint',
      id: 6n,
      checkpoints: [
        { leaseId: 77n, remainingTtl: 30 },
        { leaseId: 78n, remainingTtl: 31 },
      ],
    });
    expect(decodeInternalRequest(u8([...bf(100, vf(1, 2)), ...bf(9, vf(1, -5))]))).toEqual({ kind: 'lease-revoke', id: 2n, leaseId: -5n });
    expect(decodeInternalRequest(u8([...bf(100, vf(1, 3)), ...bf(1000, [])]))).toEqual({ kind: 'auth', id: 3n, field: 1000 });
  });

  it('a txn with compares, a nested txn and both branches', () => {
    const put = bf(2, [...bf(1, te.encode('/k')), ...bf(2, te.encode('v'))]);
    const nested = bf(4, [...bf(2, bf(3, [...bf(1, te.encode('/d')), ...bf(2, te.encode('/e'))]))]);
    const cmp = bf(1, [...vf(1, 1), ...vf(2, 2), ...bf(3, te.encode('/k')), ...vf(6, 42)]);
    const txn = u8([...bf(100, vf(1, 11)), ...bf(6, [...cmp, ...bf(2, put), ...bf(2, nested), ...bf(3, bf(1, bf(1, te.encode('/r'))))])]);
    const r = decodeInternalRequest(txn) as Extract<InternalRequest, { kind: 'txn' }>;
    expect(r.kind).toBe('txn');
    expect(r.compare).toEqual([{ result: 'greater', target: 'mod', key: te.encode('/k'), rangeEnd: new Uint8Array(0), number: 42n }]);
    expect(r.success.map((o) => o.kind)).toEqual(['put', 'txn']);
    const inner = r.success[1] as Extract<InternalRequest, { kind: 'txn' }>;
    expect(inner.success).toEqual([{ kind: 'delete-range', id: 0n, key: te.encode('/d'), rangeEnd: te.encode('/e'), prevKv: false }]);
    expect(r.failure).toEqual([{ kind: 'range', id: 0n, key: te.encode('/r'), rangeEnd: new Uint8Array(0) }]);
    expect(summarizeRequest(r)).toBe('txn 1 compare, success [put /k, txn], failure [range]');
  });

  it('falls back to a v2 Request like etcd 3.4 (the QGET etcd writes at start)', () => {
    const qget = Buffer.from('0885fcd4b5d5c6a8bfa2011204514745541a0022002800320038004800500058006000680070007800800100', 'hex');
    // Field 1 (ID) is the varint 85 fc d4 b5 d5 c6 a8 bf a2 01.
    const id = [0x85, 0xfc, 0xd4, 0xb5, 0xd5, 0xc6, 0xa8, 0xbf, 0xa2, 0x01].reduceRight((acc, b) => (acc << 7n) | BigInt(b & 0x7f), 0n);
    expect(decodeInternalRequest(qget)).toEqual({ kind: 'v2', id, method: 'QGET', path: '', val: '', expiration: 0n });
    const put = u8([
      ...vf(1, 9),
      ...bf(2, te.encode('PUT')),
      ...bf(3, te.encode('/0/members/8e9e05c52164694d/attributes')),
      ...bf(4, te.encode('{"name":"n1"}')),
    ]);
    expect(summarizeRequest(decodeInternalRequest(put)!)).toBe('v2 PUT /0/members/8e9e05c52164694d/attributes (13 B)');
  });

  it("empty data is the new leader's no-op; garbage is null; keys print safely", () => {
    expect(decodeInternalRequest(null)).toBeNull();
    expect(decodeInternalRequest(new Uint8Array(0))).toBeNull();
    expect(decodeInternalRequest(u8([0xff, 0xff, 0xff]))).toBeNull();
    expect(keyText(u8([0x2f, 0x00, 0x01]))).toBe('0x2f0001');
    expect(keyText(te.encode('x'.repeat(300)))).toBe(`${'x'.repeat(200)}…`);
  });
});

let root = '';
const entries: WalEntry[] = [];
let leaseId = '';
let compactAt = 0;

async function post(node: EtcdNode, p: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${node.endpoint.clientUrl}${p}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${p}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

describe.skipIf(!haveEtcd)('requests sent to real etcd 3.4, read back from its WAL', () => {
  beforeAll(async () => {
    root = await tempDir('irr');
    const dir = path.join(root, 'data');
    const node = await spawnEtcd({ dataDir: dir });
    try {
      if (!(await waitHealthy(node, 20_000))) throw new Error(node.output());
      await node.put('/a/1', 'one');
      await node.put('/a/2', 'two');
      leaseId = await node.leaseGrant(300);
      await node.put('/leased', 'v', leaseId);
      await post(node, '/v3/kv/txn', {
        compare: [{ key: b64('/a/1'), result: 'GREATER', target: 'MOD', mod_revision: '1' }],
        success: [
          { request_put: { key: b64('/t/put'), value: b64('tv') } },
          { request_delete_range: { key: b64('/a/'), range_end: b64('/a0') } },
          { request_txn: { success: [{ request_put: { key: b64('/t/nested'), value: b64('nv') } }] } },
        ],
        failure: [{ request_range: { key: b64('/a/1') } }],
      });
      await post(node, '/v3/lease/revoke', { ID: leaseId });
      const st = await node.status();
      compactAt = st.revision;
      await node.compact(compactAt);
    } finally {
      await node.stop();
    }
    const wal = localDirectory(path.join(dir, 'member/wal'));
    try {
      await readWalEntries(wal, 'member/wal', 1, (e) => {
        entries.push(e);
      });
    } finally {
      await wal.close();
    }
  }, 60_000);
  afterAll(async () => {
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  const reqs = () => entries.map((e) => e.request).filter((r): r is InternalRequest => r !== null && r.kind !== 'v2');

  it('puts, with the lease id etcd granted', () => {
    const puts = reqs().filter((r): r is Extract<InternalRequest, { kind: 'put' }> => r.kind === 'put');
    expect(puts.map((p) => [txt(p.key), txt(p.value)])).toEqual([
      ['/a/1', 'one'],
      ['/a/2', 'two'],
      ['/leased', 'v'],
    ]);
    expect(BigInt.asUintN(64, puts[2]!.lease)).toBe(BigInt(leaseId));
    expect(puts.every((p) => p.id !== 0n)).toBe(true);
  });

  it('the txn: compare, success with a range delete and a nested txn, failure with a range', () => {
    const t = reqs().find((r): r is Extract<InternalRequest, { kind: 'txn' }> => r.kind === 'txn')!;
    expect(t.compare).toEqual([{ result: 'greater', target: 'mod', key: te.encode('/a/1'), rangeEnd: new Uint8Array(0), number: 1n }]);
    expect(t.success.map((o) => o.kind)).toEqual(['put', 'delete-range', 'txn']);
    const [p, d, n] = t.success as [
      Extract<InternalRequest, { kind: 'put' }>,
      Extract<InternalRequest, { kind: 'delete-range' }>,
      Extract<InternalRequest, { kind: 'txn' }>,
    ];
    expect([txt(p.key), txt(p.value)]).toEqual(['/t/put', 'tv']);
    expect([txt(d.key), txt(d.rangeEnd)]).toEqual(['/a/', '/a0']);
    expect(n.success.map((o) => (o.kind === 'put' ? [txt(o.key), txt(o.value)] : o.kind))).toEqual([['/t/nested', 'nv']]);
    expect(t.failure.map((o) => (o.kind === 'range' ? txt(o.key) : o.kind))).toEqual(['/a/1']);
  });

  it('lease grant and revoke name the same lease; the compaction its revision', () => {
    const grant = reqs().find((r): r is Extract<InternalRequest, { kind: 'lease-grant' }> => r.kind === 'lease-grant')!;
    const revoke = reqs().find((r): r is Extract<InternalRequest, { kind: 'lease-revoke' }> => r.kind === 'lease-revoke')!;
    expect(grant.leaseId).toBe(BigInt(leaseId));
    expect(grant.ttl).toBe(300);
    expect(revoke.leaseId).toBe(BigInt(leaseId));
    const compaction = reqs().find((r) => r.kind === 'compaction');
    expect(compaction).toMatchObject({ kind: 'compaction', revision: compactAt, physical: true });
  });

  it('the first entries: the member add conf change and the v2 member attributes', () => {
    expect(entries[0]!.type).toBe('conf-change');
    expect(entries[0]!.confChanges![0]!.type).toBe('add');
    const v2 = entries.map((e) => e.request).filter((r): r is Extract<InternalRequest, { kind: 'v2' }> => r?.kind === 'v2');
    expect(v2[0]!.method).toBe('PUT');
    expect(v2[0]!.path).toBe(`/0/members/${entries[0]!.confChanges![0]!.nodeId}/attributes`);
    expect(JSON.parse(v2[0]!.val)).toMatchObject({ name: 'n1' });
  });
});
