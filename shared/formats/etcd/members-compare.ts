/**
 * Several members' data dirs side by side: term, commit, last index,
 * consistent index and revision per member, and which one holds the newest
 * data, i.e. the one to keep when the cluster is rebuilt from one survivor.
 *
 * The rule is raft's own "most up-to-date log" (higher last term, then higher
 * last index), restricted to members that can start; what a member can serve
 * is the higher of its db's consistent index and its committed WAL entries,
 * which breaks ties (and orders members whose WAL is gone). A member that
 * cannot start is never chosen: its data has to be salvaged first; nor is one
 * that holds nothing (no log, nothing applied), which etcd would start empty.
 * When a majority of the registered members would start whole, the sentence
 * says so first: they elect a leader by themselves, no rebuild is needed.
 */
import type { EtcdMemberComparison, EtcdMemberRow } from '../../contract/etcd';
import type { ValidationReport } from '../../contract/report';
import { sayEtcd } from './say';
import type { EtcdTextKey } from '../../i18n/etcd-text';

/** Highest index whose data this member can serve after start-up. */
function servable(r: ValidationReport): number {
  const e = r.etcd;
  if (!e) return 0;
  const ci = e.schema?.consistentIndex ?? 0;
  const last = e.wal?.lastIndex ?? 0;
  const commit = e.wal?.hardState?.commit ?? 0;
  return Math.max(ci, Math.min(commit, last));
}

export function memberRow(r: ValidationReport): EtcdMemberRow {
  const e = r.etcd;
  const memberId = e?.wal?.nodeId ?? null;
  const members = e?.schema?.members ?? [];
  const name = members.find((m) => m.id === memberId)?.name ?? (members.length === 1 && !memberId ? (members[0]?.name ?? null) : null);
  return {
    root: r.root,
    memberId,
    name,
    term: e?.wal?.hardState?.term ?? e?.schema?.term ?? null,
    commit: e?.wal?.hardState?.commit ?? null,
    lastIndex: e?.wal?.lastIndex ?? null,
    consistentIndex: e?.schema?.consistentIndex ?? null,
    revision: e?.schema?.revision ?? null,
    startable: r.startable,
    newest: false,
  };
}

export function compareMembers(reports: ValidationReport[]): EtcdMemberComparison {
  const rows = reports.map(memberRow);
  if (reports.length < 2) {
    const s = sayEtcd('etcd-verdict.members.single');
    if (rows[0] && reports[0]!.startable) rows[0].newest = true;
    return { rows, keep: rows[0]?.newest ? rows[0].root : null, reason: s.text, reasonText: s.local };
  }
  const candidates = reports
    .map((r, i) => ({ r, i, lastTerm: r.etcd?.wal?.lastTerm ?? 0, last: r.etcd?.wal?.lastIndex ?? 0, serve: servable(r), rev: r.etcd?.schema?.revision ?? 0 }))
    // A member with no log and nothing applied would start, but empty: keeping it would throw every key away.
    .filter((c) => c.r.startable && c.r.engine === 'etcd' && (c.last > 0 || c.serve > 0));
  if (candidates.length === 0) {
    const s = sayEtcd('etcd-verdict.members.none');
    return { rows, keep: null, reason: s.text, reasonText: s.local };
  }
  candidates.sort((a, b) => b.lastTerm - a.lastTerm || b.last - a.last || b.serve - a.serve || b.rev - a.rev || a.i - b.i);
  const best = candidates[0]!;
  rows[best.i]!.newest = true;
  const second = candidates[1];
  let key: EtcdTextKey = 'etcd-verdict.members.keep.term';
  let value = best.lastTerm;
  if (!second || second.lastTerm === best.lastTerm) {
    key = 'etcd-verdict.members.keep.index';
    value = best.last;
    if (second && second.last === best.last) {
      key = 'etcd-verdict.members.keep.applied';
      value = best.serve;
      if (second.serve === best.serve) {
        key = 'etcd-verdict.members.keep.revision';
        value = best.rev;
      }
    }
  }
  // A quorum that starts needs no rebuild: telling the operator to --force-new-cluster a cluster that would
  // elect a leader by itself throws away its membership for nothing. Counted by member ID against the
  // members bucket, so two copies of one member, or dirs from another cluster, do not make a quorum.
  const registered = new Set((best.r.etcd?.schema?.members ?? []).map((m) => m.id));
  const whole = new Set(
    candidates
      .filter((c) => !c.r.dataLoss)
      .map((c) => rows[c.i]!.memberId)
      .filter((id): id is string => id !== null && registered.has(id)),
  );
  // Addresses checked and some peer URL is not at the node any more (kind after a reboot): no quorum forms by itself.
  const moved = reports.some((r) => (r.etcd?.crossCheck?.staleAddresses.length ?? 0) > 0);
  const s =
    !moved && registered.size > 1 && whole.size > registered.size / 2
      ? sayEtcd('etcd-verdict.members.quorum', { n: whole.size, total: registered.size, root: best.r.root })
      : sayEtcd(key, { root: best.r.root, value });
  return { rows, keep: best.r.root, reason: s.text, reasonText: s.local };
}
