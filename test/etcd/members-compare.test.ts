/**
 * The several-members table never keeps a member that holds nothing: a data
 * dir whose WAL is gone and whose db is empty would start (etcd bootstraps an
 * empty member), but rebuilding the cluster from it throws every key away.
 * (The table's ordering rules are tested in validate.test.ts; the real case,
 * two destroyed members beside a survivor, in session-members-quorum.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { ValidationReport } from '../../shared/contract/report';
import { compareMembers } from '../../shared/formats/etcd/members-compare';
import { bareEtcdReport } from '../helpers/etcd-report';

function member(
  root: string,
  startable: boolean,
  data: { lastTerm: number; lastIndex: number; commit: number; consistentIndex: number } | null,
): ValidationReport {
  const etcd = data
    ? {
        wal: { nodeId: null, lastTerm: data.lastTerm, lastIndex: data.lastIndex, hardState: { term: data.lastTerm, commit: data.commit, vote: 0 } },
        schema: { consistentIndex: data.consistentIndex, revision: data.consistentIndex, members: [] },
      }
    : { wal: null, schema: null };
  return bareEtcdReport(root, etcd as unknown as ValidationReport['etcd'], startable);
}

describe('members table: an empty member is never the one to keep', () => {
  it('keeps the member with data over empty ones that could start', () => {
    const c = compareMembers([member('empty', true, null), member('data', true, { lastTerm: 2, lastIndex: 120, commit: 120, consistentIndex: 118 })]);
    expect(c.keep).toBe('data');
    expect(c.rows.map((r) => r.newest)).toEqual([false, true]);
  });

  it('keeps nothing when the only startable members are empty (the one with data cannot start: salvage it first)', () => {
    const c = compareMembers([
      member('empty-1', true, null),
      member('empty-2', true, { lastTerm: 0, lastIndex: 0, commit: 0, consistentIndex: 0 }),
      member('damaged', false, { lastTerm: 3, lastIndex: 500, commit: 500, consistentIndex: 490 }),
    ]);
    expect(c.keep).toBeNull();
    expect(c.reason).toBe('No member here can start: restore from a snapshot.db.');
  });

  it('a member whose WAL is gone but whose db was applied still counts', () => {
    const c = compareMembers([member('empty', true, null), member('db-only', true, { lastTerm: 0, lastIndex: 0, commit: 0, consistentIndex: 77 })]);
    expect(c.keep).toBe('db-only');
  });
});

describe('members table: a quorum that starts is not told to rebuild', () => {
  const THREE = [
    { id: 'aa', name: 'cp-1' },
    { id: 'bb', name: 'cp-2' },
    { id: 'cc', name: 'cp-3' },
  ];
  const of = (root: string, id: string, startable: boolean, lastIndex: number, registered = THREE): ValidationReport => {
    const r = member(root, startable, { lastTerm: 4, lastIndex, commit: lastIndex, consistentIndex: lastIndex - 1 });
    const e = r.etcd as unknown as { wal: { nodeId: string | null }; schema: { members: { id: string; name: string }[] } };
    e.wal.nodeId = id;
    e.schema.members = registered.map((m) => ({ ...m, peerUrls: [], clientUrls: [] }));
    return r;
  };

  it('two of three members start whole (the third behind): start them all, no --force-new-cluster; the newest is still named', () => {
    const c = compareMembers([of('m1', 'aa', true, 95), of('m2', 'bb', true, 95), of('m3', 'cc', true, 54)]);
    expect(c.keep).toBe('m1');
    expect(c.reasonText).toEqual({ key: 'etcd-verdict.members.quorum', params: { n: 3, total: 3, root: 'm1' } });
    expect(c.reason).toMatch(
      /^3 of the 3 registered members would start .* start them all: .* no rebuild is needed\. If their addresses changed .* rebuild from m1, /,
    );
    const two = compareMembers([of('m1', 'aa', true, 95), of('m2', 'bb', false, 95), of('m3', 'cc', true, 54)]);
    expect(two.reasonText?.key).toBe('etcd-verdict.members.quorum');
    expect(two.reason).toMatch(/^2 of the 3 /);
  });

  it('addresses checked and a peer URL no longer at the node (kind after a reboot): no quorum forms, rebuild from the newest', () => {
    const moved = of('m2', 'bb', true, 95);
    (moved.etcd as unknown as { crossCheck: { staleAddresses: unknown[] } }).crossCheck = {
      staleAddresses: [{ memberId: 'bb', name: 'cp-2', url: 'https://172.18.0.8:2380' }],
    };
    expect(compareMembers([of('m1', 'aa', true, 95), moved, of('m3', 'cc', true, 54)]).reasonText?.key).toBe('etcd-verdict.members.keep.revision');
  });

  it('one of three, or two copies of the same member, is no quorum: rebuild from the newest', () => {
    expect(compareMembers([of('m1', 'aa', true, 95), of('m2', 'bb', false, 95), of('m3', 'cc', false, 54)]).reasonText?.key).toBe(
      'etcd-verdict.members.keep.index',
    );
    expect(compareMembers([of('a', 'aa', true, 95), of('a-copy', 'aa', true, 90)]).reasonText?.key).toBe('etcd-verdict.members.keep.index');
  });
});
