/**
 * Cross-checks between the WAL, the .snap files, the db and the addresses the
 * user says the node(s) have now:
 * - WAL last index / HardState commit vs the db's consistent index vs the
 *   newest usable .snap;
 * - the WAL's node ID vs the members bucket (a removed member must not start);
 * - a member whose WAL is empty or missing while the db still lists it among
 *   several members: raft panics `tocommit(N) is out of range [lastIndex(0)]`
 *   when the leader sends it commit N (etcd-io/etcd#16220);
 * - peer URLs in the db, the .snap member lists and WAL conf changes against
 *   `addresses` (the kind-after-reboot case: etcd keeps its old peer URL).
 * Pure: `applyAddressCheck` re-runs the address part on a finished report
 * (the CLI does that with `--addresses`).
 */
import type { EtcdCrossCheck, EtcdDetails, EtcdMember, EtcdSchemaInfo, SnapFileInfo, WalInfo } from '../../contract/etcd';
import type { Finding } from '../../contract/findings';
import type { ValidationReport } from '../../contract/report';
import { etcdFinding } from './say';

export interface CrossCheckInput {
  wal: WalInfo | null;
  snaps: SnapFileInfo[];
  schema: EtcdSchemaInfo | null;
  /** The db exists and opened (so its member list and consistent index mean something). */
  dbUsable: boolean;
  addresses: string[];
  /** Compare the WAL with the db (false for a lone db or snapshot.db: there is no WAL to compare). */
  walChecks?: boolean;
  /** etcd cannot read the WAL (an error it does not repair): its last index is only where reading stopped. */
  walUnreadable?: boolean;
}

/** Members known from the db, else from the newest readable .snap. */
export function knownMembers(schema: EtcdSchemaInfo | null, snaps: SnapFileInfo[]): EtcdMember[] {
  if (schema && schema.members.length > 0) return schema.members;
  const newest = snaps.filter((s) => s.ok && s.members.length > 0).sort((a, b) => b.index - a.index)[0];
  return newest?.members ?? [];
}

/** Host part of a URL (`http://[fe80::1]:2380` -> `fe80::1`), lower-case; null when it is not a URL. */
export function urlHost(url: string): string | null {
  const m = /^[a-z][a-z0-9+.-]{0,20}:\/\/(\[[0-9a-f:.%a-z]{1,64}\]|[^/:?#\s]{1,253})(?::\d{1,5})?(?:[/?#].*)?$/i.exec(url.trim());
  if (!m) return null;
  return m[1]!.replace(/^\[|\]$/g, '').toLowerCase();
}

/** Normalise the user's `--addresses` list: trimmed, lower-case, brackets and ports dropped, no empties. */
export function normaliseAddresses(addresses: string[]): string[] {
  const out: string[] = [];
  for (const raw of addresses) {
    for (const part of raw.split(',')) {
      let a = part.trim().toLowerCase();
      if (!a) continue;
      const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
      if (bracket) a = bracket[1]!;
      else if (/^[^:]+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
      if (!out.includes(a)) out.push(a);
    }
  }
  return out;
}

/** Peer URLs per member, from the members list and from WAL conf changes (both are what etcd will dial). */
function peerUrls(members: EtcdMember[], wal: WalInfo | null, removedIds: ReadonlySet<string>): { memberId: string; name: string; url: string }[] {
  const out: { memberId: string; name: string; url: string }[] = [];
  const seen = new Set<string>();
  const push = (memberId: string, name: string, url: string) => {
    const k = `${memberId} ${url}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push({ memberId, name, url });
  };
  for (const m of members) for (const u of m.peerURLs) push(m.id, m.name, u);
  const removed = new Set<string>();
  for (const c of wal?.confChanges ?? []) if (c.type === 'remove') removed.add(c.nodeId);
  for (const c of wal?.confChanges ?? []) {
    // A member added in the WAL and never removed there: the db may simply not have applied it yet.
    if (c.type === 'remove' || removed.has(c.nodeId) || removedIds.has(c.nodeId)) continue;
    for (const u of c.peerURLs ?? []) push(c.nodeId, c.name ?? members.find((m) => m.id === c.nodeId)?.name ?? '', u);
  }
  return out;
}

export function staleAddresses(
  members: EtcdMember[],
  wal: WalInfo | null,
  addresses: string[],
  removedIds: readonly string[] = [],
): EtcdCrossCheck['staleAddresses'] {
  const given = normaliseAddresses(addresses);
  if (given.length === 0) return [];
  return peerUrls(members, wal, new Set(removedIds)).filter((p) => {
    const host = urlHost(p.url);
    return host !== null && !given.includes(host);
  });
}

function staleFindings(stale: EtcdCrossCheck['staleAddresses'], addresses: string[]): Finding[] {
  const given = normaliseAddresses(addresses).join(', ');
  return stale.map((s) =>
    etcdFinding('warning', 'cross.stale-address', null, null, {
      name: s.name || s.memberId,
      id: s.memberId,
      url: s.url,
      host: urlHost(s.url) ?? s.url,
      addresses: given,
    }),
  );
}

export function crossCheck(input: CrossCheckInput): { crossCheck: EtcdCrossCheck; findings: Finding[] } {
  const { wal, snaps, schema } = input;
  const findings: Finding[] = [];
  const members = knownMembers(input.dbUsable ? schema : null, snaps);
  const ci = input.dbUsable ? (schema?.consistentIndex ?? null) : null;
  const commit = wal?.hardState?.commit ?? null;
  const walLast = wal?.lastIndex ?? null;
  const usableSnaps = snaps.filter((s) => s.ok);
  const newestSnapIndex = usableSnaps.length ? Math.max(...usableSnaps.map((s) => s.index)) : null;
  const nodeId = wal?.nodeId ?? null;

  let nodeIsMember: boolean | null = null;
  if (nodeId && members.length > 0) {
    nodeIsMember = members.some((m) => m.id === nodeId);
    // Removed in the db, or only in the WAL: a member that exits right after applying its own removal may not have
    // committed it to bbolt yet (the backend commits every 100 ms); etcd reads the WAL's conf change all the same.
    const removed = (schema?.removedMembers.includes(nodeId) ?? false) || (wal?.confChanges.some((c) => c.type === 'remove' && c.nodeId === nodeId) ?? false);
    if (!nodeIsMember || removed) {
      nodeIsMember = false;
      findings.push(
        etcdFinding('error', 'cross.node-not-member', wal?.dir ?? null, null, {
          node: nodeId,
          members: members.map((m) => `${m.name || '?'} ${m.id}`).join(', '),
        }),
      );
    }
  }

  const walChecks = input.walChecks ?? true;
  const walEmpty = !wal || wal.files.length === 0 || (wal.lastIndex ?? 0) === 0;
  if (walChecks && walEmpty && members.length > 1) {
    const who = nodeId ?? members.map((m) => m.id).join(' / ');
    const n = Math.max(ci ?? 0, newestSnapIndex ?? 0);
    findings.push(
      etcdFinding(
        'warning',
        'cross.member-wal-empty',
        wal?.dir ?? null,
        null,
        { node: who, commit: n },
        `tocommit(${n}) is out of range [lastIndex(0)]. Was the raft log corrupted, truncated, or lost?`,
      ),
    );
  }

  if (walChecks && !input.walUnreadable && !walEmpty && ci !== null && walLast !== null && ci > walLast) {
    findings.push(etcdFinding('warning', 'cross.db-ahead-of-wal', wal?.dir ?? null, null, { ci, last: walLast }));
  }
  if (commit !== null && newestSnapIndex !== null && newestSnapIndex > commit) {
    findings.push(etcdFinding('warning', 'cross.commit-behind-snap', null, null, { commit, index: newestSnapIndex }));
  }

  const stale = staleAddresses(members, wal, input.addresses, schema?.removedMembers ?? []);
  findings.push(...staleFindings(stale, input.addresses));
  return {
    crossCheck: {
      walLastIndex: walLast,
      commit,
      consistentIndex: ci,
      newestSnapIndex,
      nodeIsMember,
      staleAddresses: stale,
      addressesGiven: normaliseAddresses(input.addresses),
    },
    findings,
  };
}

/** Re-run the address check of a finished etcd report with the user's addresses (returns a new report). */
export function applyAddressCheck(report: ValidationReport, addresses: string[]): ValidationReport {
  const etcd: EtcdDetails | undefined = report.etcd;
  if (!etcd) return report;
  const members = knownMembers(etcd.bbolt && !etcd.bbolt.openError ? etcd.schema : null, etcd.snaps);
  const stale = staleAddresses(members, etcd.wal, addresses, etcd.schema?.removedMembers ?? []);
  const findings = report.findings.filter((f) => f.code !== 'cross.stale-address').concat(staleFindings(stale, addresses));
  return {
    ...report,
    findings,
    etcd: { ...etcd, crossCheck: { ...etcd.crossCheck, staleAddresses: stale, addressesGiven: normaliseAddresses(addresses) } },
  };
}
