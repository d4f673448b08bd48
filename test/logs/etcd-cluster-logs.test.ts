/**
 * What a three-member etcd 3.4 cluster prints when an operator's recovery goes wrong, read by the log view, each
 * case made here with real etcd on loopback addresses:
 * - a second etcd started on a port the first still holds ("bind: address already in use": a systemd unit and a
 *   static pod both running etcd);
 * - a member removed with `etcdctl member remove` while it runs, then started again on its old data ("the member
 *   has been permanently removed from the cluster");
 * - a member restored from a snapshot with another --initial-cluster-token, so a cluster of its own, talking to
 *   the others at their addresses ("request cluster ID mismatch").
 * Each is told by its own signature with the fields from etcd's line, and the last two lead to the playbook that
 * brings a member back (remove if still listed, data dir aside, add, start as existing).
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeLogText } from '../../shared/logs';
import { suggestPlaybooks } from '../../shared/guided/playbooks';
import { ETCDCTL, loopbackEndpoint, requireEtcd, spawnEtcd, tempDir, tryStartEtcd, waitHealthy, type EtcdNode } from '../helpers/etcd';
import { pollUntil } from '../helpers/etcd-cluster-nodes';

const haveEtcd = requireEtcd();
let root = '';
const nodes: EtcdNode[] = [];
const names = ['a', 'b', 'c'] as const;
let initialCluster = '';
let endpoints: Awaited<ReturnType<typeof loopbackEndpoint>>[] = [];

/** Signatures seen (count > 0) in `output`. */
function seen(output: string): string[] {
  const counts = analyzeLogText('etcd', output).counts;
  return Object.keys(counts).filter((id) => counts[id]! > 0);
}

beforeAll(async () => {
  if (!haveEtcd) return;
  root = await tempDir('etcd-cluster-logs');
  endpoints = [];
  for (let i = 0; i < 3; i++) endpoints.push(await loopbackEndpoint());
  initialCluster = names.map((n, i) => `${n}=http://${endpoints[i]!.host}:${endpoints[i]!.peerPort}`).join(',');
  for (const [i, name] of names.entries()) {
    nodes.push(await spawnEtcd({ name, dataDir: `${root}/${name}`, ...endpoints[i]!, initialCluster, initialClusterToken: 't1' }));
  }
  for (const n of nodes) expect(await waitHealthy(n, 30_000), n.output()).toBe(true);
  nodes[0]!.etcdctl(['put', '/registry/pods/default/a', 'v']);
}, 120_000);

afterAll(async () => {
  for (const n of nodes) await n.stop();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

describe.skipIf(!haveEtcd)('a three-member etcd 3.4 cluster, recovery gone wrong', () => {
  it('a second etcd on a port the first still holds: "another process already listens", with the address', async () => {
    // Not tryStartEtcd: the first one answers /health on that address.
    const second = await spawnEtcd({ name: 'a', dataDir: `${root}/a-again`, ...endpoints[0]!, initialCluster, initialClusterToken: 't1' });
    expect(await second.waitExit(15_000)).toBe(true);
    const analysis = analyzeLogText('etcd', second.output());
    expect(analysis.counts['runtime.port-in-use'], second.output()).toBe(1);
    const m = analysis.matches.find((x) => x.signatureId === 'runtime.port-in-use')!;
    // etcd opens its peer port before its client port: the first it cannot take is named.
    expect(m.fields).toEqual({ address: `${endpoints[0]!.host}:${endpoints[0]!.peerPort}`, port: String(endpoints[0]!.peerPort) });
    // More specific than "etcd stopped: …".
    expect(analysis.counts['etcd.fatal'] ?? 0).toBe(0);
    // The data is intact: no restore or rebuild playbook is suggested for it.
    expect(suggestPlaybooks(seen(second.output()), 'etcd')).toEqual([]);
  });

  it('a removed member started again on its old data: told on it and on its peers, and the rejoin playbook comes first', async () => {
    const b = nodes[1]!;
    const id = b
      .etcdctl(['member', 'list'])
      .split('\n')
      .find((l) => l.includes(', b, '))!
      .split(',')[0]!;
    // etcd refuses a removal until every member has been up a few seconds ("unhealthy cluster").
    expect(await pollUntil(async () => (nodes[0]!.etcdctl(['member', 'remove', id]), true), 30_000, 1000)).toBe(true);
    expect(await b.waitExit(15_000), b.output()).toBe(true);
    const again = await tryStartEtcd({ name: 'b', dataDir: `${root}/b`, ...endpoints[1]!, initialCluster, initialClusterToken: 't1' }, 10_000);
    expect(again.started).toBe(false);
    for (const output of [b.output(), again.output]) {
      expect(output).toContain('the member has been permanently removed from the cluster');
      expect(seen(output)).toContain('etcd.member-removed');
      expect(suggestPlaybooks(seen(output), 'etcd')[0]?.id).toBe('etcd-member-lost');
    }
    // The peers: they reject the removed member's streams, by its ID.
    const peer = analyzeLogText('etcd', nodes[0]!.output() + nodes[2]!.output());
    expect(peer.matches.filter((m) => m.signatureId === 'etcd.member-removed').map((m) => m.fields.memberId)).toContain(id);
  }, 90_000);

  it('a member restored with another cluster token: "two different clusters", with both cluster IDs', async () => {
    const c = nodes[2]!;
    await c.stop();
    const snapshot = `${root}/s.db`;
    nodes[0]!.etcdctl(['snapshot', 'save', snapshot]);
    const restored = spawnSync(
      ETCDCTL,
      [
        'snapshot',
        'restore',
        snapshot,
        '--data-dir',
        `${root}/c-restored`,
        '--name',
        'c',
        '--initial-cluster',
        initialCluster,
        '--initial-cluster-token',
        't2',
        '--initial-advertise-peer-urls',
        `http://${endpoints[2]!.host}:${endpoints[2]!.peerPort}`,
      ],
      { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } },
    );
    expect(restored.status, restored.stderr).toBe(0);
    const odd = await spawnEtcd({ name: 'c', dataDir: `${root}/c-restored`, ...endpoints[2]!, initialCluster, initialClusterToken: 't2' });
    nodes.push(odd);
    expect(await pollUntil(async () => nodes[0]!.output().includes('cluster ID mismatch'), 20_000)).toBe(true);
    for (const output of [nodes[0]!.output(), odd.output()]) {
      const analysis = analyzeLogText('etcd', output);
      const m = analysis.matches.find((x) => x.signatureId === 'etcd.cluster-id-mismatch')!;
      expect(m, output.slice(-2000)).toBeDefined();
      expect(m.fields.localCluster).toMatch(/^[0-9a-f]{1,16}$/);
      expect(m.fields.remoteCluster).toMatch(/^[0-9a-f]{1,16}$/);
      expect(m.fields.localCluster).not.toBe(m.fields.remoteCluster);
      expect(suggestPlaybooks(seen(output), 'etcd')[0]?.id).toBe('etcd-member-lost');
    }
  }, 90_000);
});
