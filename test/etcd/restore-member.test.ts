/**
 * The restore plan's member configuration from a validation report
 * (shared/formats/etcd/restore-member.ts), as the back end (a salvaged
 * snapshot.db) and the renderer (a snapshot.db validated in the browser) both
 * build it: a snapshot.db of one member names that member and its cluster;
 * one of three names nobody (no WAL says which member this is), so the name,
 * peer URL and data dir are placeholders. A data dir read on the node gives
 * its place there; `posixDirname` is Node's `path.posix.dirname`.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EtcdDetails, EtcdMember } from '../../shared/contract/etcd';
import { REPORT_DB_SOURCE, REPORT_SOURCE, memberConfigFromReport, posixDirname } from '../../shared/formats/etcd/restore-member';
import { planRestore } from '../../shared/formats/etcd/restore-plan';

const CP1: EtcdMember = { id: '8e9e05c52164694d', name: 'cp1', peerURLs: ['https://10.0.0.11:2380'], clientURLs: ['https://10.0.0.11:2379'] };
const CP2: EtcdMember = { id: '91bc3c398fb3c146', name: 'cp2', peerURLs: ['https://10.0.0.12:2380'], clientURLs: ['https://10.0.0.12:2379'] };
const CP3: EtcdMember = { id: 'fd422379fda50e48', name: 'cp3', peerURLs: ['https://10.0.0.13:2380'], clientURLs: ['https://10.0.0.13:2379'] };

/** The parts of an etcd report the member configuration reads (the rest of a real report does not matter to it). */
function report(input: EtcdDetails['layout']['input'], members: EtcdMember[], walNodeId: string | null = null): { etcd: EtcdDetails } {
  const etcd = {
    layout: { input, walDir: '', snapDir: '', dbFile: input === 'snapshot-db' ? 'snapshot.db' : 'member/snap/db', leftovers: [] },
    wal: walNodeId ? { nodeId: walNodeId, confChanges: [] } : null,
    snaps: [],
    schema: { members },
  };
  return { etcd: etcd as unknown as EtcdDetails };
}

const tokens = (ps: { token: string }[]) => ps.map((p) => p.token);

describe('memberConfigFromReport', () => {
  it('a snapshot.db of one member: its name, peer URL, client URL and a one-member initial cluster; the data dir is a placeholder', () => {
    const { member, placeholders } = memberConfigFromReport(report('snapshot-db', [CP1]), null);
    expect(member.name).toBe('cp1');
    expect(member.initialAdvertisePeerUrls).toBe('https://10.0.0.11:2380');
    expect(member.advertiseClientUrls).toBe('https://10.0.0.11:2379');
    expect(member.initialCluster).toBe('cp1=https://10.0.0.11:2380');
    expect(member.dataDir).toBe('<DATA_DIR>');
    expect(member.style).toBe('unknown');
    // No WAL names it: the identity is the db's members bucket's, and the plan says so.
    expect(member.sources).toEqual([REPORT_DB_SOURCE]);
    expect(member.sourceLabels).toEqual({ [REPORT_DB_SOURCE]: { key: 'etcd-plan.restore.sources.reportDb' } });
    expect(member.flags).toEqual({
      name: 'cp1',
      'data-dir': '<DATA_DIR>',
      'initial-cluster': 'cp1=https://10.0.0.11:2380',
      'initial-advertise-peer-urls': 'https://10.0.0.11:2380',
    });
    expect(placeholders).toEqual([
      { token: '<DATA_DIR>', about: { key: 'etcdRepairUi.placeholder.dataDir' } },
      { token: 'etcd.service', about: { key: 'etcdRepairUi.placeholder.runStyle' } },
      { token: '--cacert/--cert/--key', about: { key: 'etcdRepairUi.placeholder.tls' } },
    ]);
    const restore = planRestore({ snapshot: '/var/tmp/snapshot.db', member }).steps.find((s) => s.kind === 'restore')!;
    expect(restore.command).toBe(
      "ETCDCTL_API=3 etcdctl snapshot restore /var/tmp/snapshot.db \\\n  --data-dir '<DATA_DIR>' \\\n  --name cp1 \\\n  --initial-cluster cp1=https://10.0.0.11:2380 \\\n  --initial-advertise-peer-urls https://10.0.0.11:2380",
    );
  });

  it('a snapshot.db of three members: nothing says which one this is, so name, peer URL and data dir are placeholders', () => {
    const { member, placeholders } = memberConfigFromReport(report('snapshot-db', [CP1, CP2, CP3]), null);
    expect(member.name).toBe('<MEMBER_NAME>');
    expect(member.initialAdvertisePeerUrls).toBe('<PEER_URL>');
    expect(member.initialCluster).toBe('<MEMBER_NAME>=<PEER_URL>');
    expect(member.dataDir).toBe('<DATA_DIR>');
    expect(member.advertiseClientUrls).toBeNull();
    expect(member.sources).toEqual([REPORT_DB_SOURCE]);
    expect(tokens(placeholders)).toEqual(['<MEMBER_NAME>', '<PEER_URL>', '<DATA_DIR>', 'etcd.service', '--cacert/--cert/--key']);
    expect(placeholders.slice(0, 2)).toEqual([
      { token: '<MEMBER_NAME>', about: { key: 'etcdRepairUi.placeholder.name' } },
      { token: '<PEER_URL>', about: { key: 'etcdRepairUi.placeholder.peer' } },
    ]);
  });

  it('a data dir of three members read on the node: the WAL names the member, the cluster is all three, the data dir is where it was read', () => {
    const { member, placeholders } = memberConfigFromReport(report('data-dir', [CP1, CP2, CP3], CP2.id), '/var/lib/etcd/');
    expect(member.name).toBe('cp2');
    expect(member.initialAdvertisePeerUrls).toBe('https://10.0.0.12:2380');
    expect(member.initialCluster).toBe('cp1=https://10.0.0.11:2380,cp2=https://10.0.0.12:2380,cp3=https://10.0.0.13:2380');
    expect(member.dataDir).toBe('/var/lib/etcd');
    expect(member.sources).toEqual([REPORT_SOURCE]);
    expect(tokens(placeholders)).toEqual(['etcd.service', '--cacert/--cert/--key']);
    // A member dir read in place: the data dir is its parent.
    expect(memberConfigFromReport(report('member-dir', [CP1]), '/var/lib/etcd/member').member.dataDir).toBe('/var/lib/etcd');
    // A lone file says nothing of where a data dir is, even read on a node.
    expect(memberConfigFromReport(report('snapshot-db', [CP1]), '/backup/snapshot.db').member.dataDir).toBe('<DATA_DIR>');
  });

  it('no members at all (an empty members bucket): every identity value is a placeholder, never a crash', () => {
    const { member, placeholders } = memberConfigFromReport(report('snapshot-db', []), null);
    expect([member.name, member.initialAdvertisePeerUrls, member.initialCluster, member.dataDir]).toEqual([
      '<MEMBER_NAME>',
      '<PEER_URL>',
      '<MEMBER_NAME>=<PEER_URL>',
      '<DATA_DIR>',
    ]);
    expect(tokens(placeholders)).toEqual(['<MEMBER_NAME>', '<PEER_URL>', '<DATA_DIR>', 'etcd.service', '--cacert/--cert/--key']);
    expect(memberConfigFromReport({}, null).member.name).toBe('<MEMBER_NAME>');
  });
});

describe('posixDirname', () => {
  it("is Node's path.posix.dirname", () => {
    const cases = ['/var/lib/etcd/member', '/var/lib/etcd/member/', '/member', '/', '', 'member', 'a/b', 'a//b', '//a', '///a', '//', '/a/b///', '.', '..'];
    for (const p of cases) expect(posixDirname(p), p).toBe(path.posix.dirname(p));
  });
});
