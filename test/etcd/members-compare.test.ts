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

function member(
  root: string,
  startable: boolean,
  data: { lastTerm: number; lastIndex: number; commit: number; consistentIndex: number } | null,
): ValidationReport {
  return {
    engine: 'etcd',
    root,
    startable,
    dataLoss: false,
    lost: [],
    findings: [],
    summary: '',
    bytesRead: 0,
    elapsedMs: 0,
    etcd: (data
      ? {
          wal: { nodeId: null, lastTerm: data.lastTerm, lastIndex: data.lastIndex, hardState: { term: data.lastTerm, commit: data.commit, vote: 0 } },
          schema: { consistentIndex: data.consistentIndex, revision: data.consistentIndex, members: [] },
        }
      : { wal: null, schema: null }) as unknown as ValidationReport['etcd'],
  };
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
