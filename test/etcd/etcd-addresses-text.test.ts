/**
 * The addresses field's parsing and the per-member check it runs on a report
 * already held (shared/formats/etcd/cross-check.ts): what an operator types
 * (IPs, host names, ports, URLs, Chinese separators) and what is refused.
 */
import { describe, expect, it } from 'vitest';
import type { EtcdDetails } from '../../shared/contract/etcd';
import { MAX_ADDRESS_INPUT, checkAddresses, parseAddressInput, reportPeerUrls } from '../../shared/formats/etcd/cross-check';
import { translate } from '../../shared/i18n';

describe('parseAddressInput', () => {
  it('takes IPv4, IPv6, host names, ports and URLs, separated by commas, spaces, semicolons and Chinese commas', () => {
    expect(
      parseAddressInput(' 172.18.0.7,172.18.0.8 ; Node-A\n[fe80::1]:2380，10.0.0.1:2379、http://etcd-0.etcd:2380 https://[2001:db8::5]:2380 ::1 '),
    ).toEqual({
      addresses: ['172.18.0.7', '172.18.0.8', 'node-a', 'fe80::1', '10.0.0.1', 'etcd-0.etcd', '2001:db8::5', '::1'],
      invalid: [],
      truncated: false,
    });
  });

  it('names every token that is neither an IP address nor a host name, as typed', () => {
    expect(parseAddressInput('300.1.1.1 node_a 10.0.0 bad..name -lead.x 1:2:3:4:5:6:7:8:9 01.2.3.4 10.0.0.1').invalid).toEqual([
      '300.1.1.1',
      'node_a',
      '10.0.0',
      'bad..name',
      '-lead.x',
      '1:2:3:4:5:6:7:8:9',
      '01.2.3.4',
    ]);
    expect(parseAddressInput('   ,, ').addresses).toEqual([]);
  });

  it('reads a bounded amount: 64 tokens, MAX_ADDRESS_INPUT characters', () => {
    const many = Array.from({ length: 100 }, (_, i) => `10.0.${Math.floor(i / 250)}.${i % 250}`).join(' ');
    const r = parseAddressInput(many);
    expect(r.addresses.length).toBe(64);
    expect(r.truncated).toBe(true);
    expect(parseAddressInput('a'.repeat(MAX_ADDRESS_INPUT * 10)).truncated).toBe(true);
  });
});

/** A report whose db opened (its member list counts), with one member added only in the WAL. */
function details(): EtcdDetails {
  const member = (id: string, name: string, url: string) => ({ id, name, peerURLs: [url], clientURLs: [] });
  return {
    layout: { input: 'data-dir', walDir: 'member/wal', snapDir: 'member/snap', dbFile: 'member/snap/db', leftovers: [] },
    wal: {
      dir: 'member/wal',
      files: [],
      nodeId: 'aa',
      clusterId: 'cc',
      hardState: null,
      snapshots: [],
      firstIndex: 1,
      lastIndex: 10,
      lastTerm: 2,
      tornTail: null,
      // Member dd was added in the WAL and not yet applied to the db: its URL is dialled all the same.
      confChanges: [{ index: 9, term: 2, type: 'add', nodeId: 'dd', name: 'cp3', peerURLs: ['https://172.18.0.9:2380'] }],
      requestCounts: {},
    },
    snaps: [],
    bbolt: { openError: null } as EtcdDetails['bbolt'],
    schema: {
      buckets: [],
      consistentIndex: 10,
      term: 2,
      revision: 5,
      compactedRevision: null,
      liveKeys: 0,
      revisions: 0,
      tombstones: 0,
      members: [member('aa', 'cp1', 'https://172.18.0.7:2380'), member('bb', 'cp2', 'https://172.18.0.8:2380'), member('ee', 'cp4', 'not a url')],
      removedMembers: [],
      alarms: [],
      leases: 0,
      clusterVersion: '3.4.0',
      quotaBytes: 2 ** 31,
    },
    startup: { model: '3.4', chosenSnap: null, replay: null, fatalError: null, selfRepairs: [], narrative: [] },
    crossCheck: { walLastIndex: 10, commit: 10, consistentIndex: 10, newestSnapIndex: null, nodeIsMember: true, staleAddresses: [], addressesGiven: [] },
  };
}

describe('checkAddresses on a report held in the page', () => {
  it('marks each peer URL (members list and WAL conf change) as at the node, not at the node, or not a URL', () => {
    const etcd = details();
    expect(reportPeerUrls(etcd).map((p) => `${p.name} ${p.source}`)).toEqual(['cp1 members', 'cp2 members', 'cp4 members', 'cp3 wal']);
    const r = checkAddresses(etcd, ['172.18.0.7', '172.18.0.9']);
    expect(r.rows.map((x) => [x.name, x.host, x.atNode])).toEqual([
      ['cp1', '172.18.0.7', true],
      ['cp2', '172.18.0.8', false],
      ['cp4', null, null],
      ['cp3', '172.18.0.9', true],
    ]);
    expect(r.crossCheck.staleAddresses).toEqual([{ memberId: 'bb', name: 'cp2', url: 'https://172.18.0.8:2380' }]);
    expect(r.crossCheck.addressesGiven).toEqual(['172.18.0.7', '172.18.0.9']);
    // The finding says what happened and what to do, in both languages from the same params.
    expect(r.findings.map((f) => f.code)).toEqual(['cross.stale-address']);
    const f = r.findings[0]!;
    expect(f.message).toBe(
      'Member cp2 (bb) is registered with peer URL https://172.18.0.8:2380, but 172.18.0.8 is not one of the addresses given (172.18.0.7, 172.18.0.9). Peers dial the registered URL, so this member cannot be reached. While a quorum of the members still reach each other, `etcdctl member update` this member to its new URL; when none can (every address changed), start the member with the newest data with --force-new-cluster, `etcdctl member update` its own URL, then `etcdctl member add` the others back and start them with empty data dirs.',
    );
    expect(translate('zh-CN', 'finding.cross.stale-address.message', f.params)).toBe(
      '成员 cp2（bb）登记的 peer URL 是 https://172.18.0.8:2380，但 172.18.0.8 不在给出的地址中（172.18.0.7, 172.18.0.9）。其他成员按登记的 URL 连接它，因此连不上这个成员。如果仍有过半数成员能互相连通，用 `etcdctl member update` 把这个成员改成新 URL 即可；如果都连不上（所有地址都变了），先用 --force-new-cluster 启动数据最新的成员，用 `etcdctl member update` 改它自己的 URL，再用 `etcdctl member add` 把其他成员加回来，并以空数据目录启动它们。',
    );
  });

  it('with every address given, nothing is stale; a db that does not open lends no member list', () => {
    const r = checkAddresses(details(), ['172.18.0.7', '172.18.0.8', '172.18.0.9']);
    expect(r.findings).toEqual([]);
    expect(r.rows.map((x) => x.atNode)).toEqual([true, true, null, true]);
    const broken = { ...details(), bbolt: { openError: 'invalid database' } as EtcdDetails['bbolt'] };
    expect(checkAddresses(broken, ['10.0.0.1']).rows.map((x) => x.name)).toEqual(['cp3']);
  });
});
