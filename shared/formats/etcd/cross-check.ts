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
import { etcdFinding, saidOfFinding, sayEtcd } from './say';

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

/** One peer URL etcd will dial, and where it was recorded. */
export interface PeerUrl {
  memberId: string;
  name: string;
  url: string;
  /** The member list (db bucket or .snap), or only a WAL conf change not yet applied to the db. */
  source: 'members' | 'wal';
}

/** Peer URLs per member, from the members list and from WAL conf changes (both are what etcd will dial). */
function peerUrls(members: EtcdMember[], wal: WalInfo | null, removedIds: ReadonlySet<string>): PeerUrl[] {
  const out: PeerUrl[] = [];
  const seen = new Set<string>();
  const push = (memberId: string, name: string, url: string, source: PeerUrl['source']) => {
    const k = `${memberId} ${url}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push({ memberId, name, url, source });
  };
  for (const m of members) for (const u of m.peerURLs) push(m.id, m.name, u, 'members');
  const removed = new Set<string>();
  for (const c of wal?.confChanges ?? []) if (c.type === 'remove') removed.add(c.nodeId);
  for (const c of wal?.confChanges ?? []) {
    // A member added in the WAL and never removed there: the db may simply not have applied it yet.
    if (c.type === 'remove' || removed.has(c.nodeId) || removedIds.has(c.nodeId)) continue;
    for (const u of c.peerURLs ?? []) push(c.nodeId, c.name ?? members.find((m) => m.id === c.nodeId)?.name ?? '', u, 'wal');
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
  return peerUrls(members, wal, new Set(removedIds))
    .filter((p) => {
      const host = urlHost(p.url);
      return host !== null && !given.includes(host);
    })
    .map(({ memberId, name, url }) => ({ memberId, name, url }));
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
    // Without a WAL nothing names this dir's member: the sentence says so and lists the db's members by name,
    // instead of "Member A / B / C is still in the cluster".
    const who = nodeId ?? members.map((m) => `${m.name || '?'} (${m.id})`).join(', ');
    const n = Math.max(ci ?? 0, newestSnapIndex ?? 0);
    findings.push(
      etcdFinding(
        'warning',
        'cross.member-wal-empty',
        wal?.dir ?? null,
        null,
        { node: who, commit: n },
        `tocommit(${n}) is out of range [lastIndex(0)]. Was the raft log corrupted, truncated, or lost?`,
        nodeId ? undefined : 'unnamed',
      ),
    );
  }

  if (walChecks && !input.walUnreadable && !walEmpty && ci !== null && walLast !== null && ci > walLast) {
    findings.push(etcdFinding('warning', 'cross.db-ahead-of-wal', wal?.dir ?? null, null, { ci, last: walLast, gap: ci - walLast }));
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

/** One peer URL of the report against the addresses given: is its host one the node has? */
export interface PeerAddressRow extends PeerUrl {
  /** Host part of the URL, null when the URL does not parse. */
  host: string | null;
  /** true: the node has this address; false: it does not (the kind-after-reboot case); null: not a URL. */
  atNode: boolean | null;
}

export interface AddressCheck {
  crossCheck: EtcdCrossCheck;
  /** `cross.stale-address` findings, one per peer URL at an address the node does not have. */
  findings: Finding[];
  rows: PeerAddressRow[];
}

/** Members whose peer URLs matter for this report: from the db when it opens, else from the newest .snap. */
function reportMembers(etcd: EtcdDetails): EtcdMember[] {
  return knownMembers(etcd.bbolt && !etcd.bbolt.openError ? etcd.schema : null, etcd.snaps);
}

/** Every peer URL the report knows (members list and WAL conf changes), for the address field before anything is typed. */
export function reportPeerUrls(etcd: EtcdDetails): PeerUrl[] {
  return peerUrls(reportMembers(etcd), etcd.wal, new Set(etcd.schema?.removedMembers ?? []));
}

/** The address check of a finished etcd report against the user's addresses: pure, so the UI runs it on the report it holds. */
export function checkAddresses(etcd: EtcdDetails, addresses: string[]): AddressCheck {
  const given = normaliseAddresses(addresses);
  const stale = staleAddresses(reportMembers(etcd), etcd.wal, addresses, etcd.schema?.removedMembers ?? []);
  const rows = reportPeerUrls(etcd).map((p): PeerAddressRow => {
    const host = urlHost(p.url);
    return { ...p, host, atNode: host === null || given.length === 0 ? null : given.includes(host) };
  });
  return {
    crossCheck: { ...etcd.crossCheck, staleAddresses: stale, addressesGiven: given },
    findings: staleFindings(stale, addresses),
    rows,
  };
}

/** Re-run the address check of a finished etcd report with the user's addresses (returns a new report). */
export function applyAddressCheck(report: ValidationReport, addresses: string[]): ValidationReport {
  const etcd: EtcdDetails | undefined = report.etcd;
  if (!etcd) return report;
  const checked = checkAddresses(etcd, addresses);
  const findings = report.findings.filter((f) => f.code !== 'cross.stale-address').concat(checked.findings);
  return { ...report, ...summaryWithAddresses(report, checked.findings), findings, etcd: { ...etcd, crossCheck: checked.crossCheck } };
}

const STALE_MESSAGE_KEY = 'finding.cross.stale-address.message';

/**
 * The summary once the addresses are checked. A report that said "would start, no data loss" (or led with a stale
 * address of an earlier check) now leads with the first stale address, so the CLI's verdict line does not call a
 * member healthy above a warning that its peers cannot reach it. Any other summary already leads with something
 * worse, and stays.
 */
function summaryWithAddresses(report: ValidationReport, stale: Finding[]): Pick<ValidationReport, 'summary' | 'summaryText'> {
  const key = report.summaryText?.key;
  const ledByStale = key === 'etcd-verdict.summary.warnings' && report.summaryText?.texts?.first?.[0]?.key === STALE_MESSAGE_KEY;
  if (key !== 'etcd-verdict.summary.healthy' && !ledByStale) return { summary: report.summary, summaryText: report.summaryText };
  const first = stale[0];
  const said = first ? saidOfFinding(first) : null;
  const summary = said ? sayEtcd('etcd-verdict.summary.warnings', undefined, { first: [said] }) : sayEtcd('etcd-verdict.summary.healthy');
  return { summary: summary.text, summaryText: summary.local };
}

// ---------------------------------------------------------------- what the user types

/** Longest address list the field takes (characters): a node has a handful of addresses, not thousands. */
export const MAX_ADDRESS_INPUT = 4096;
export const MAX_ADDRESSES = 64;

export interface ParsedAddresses {
  /** Normalised hosts (lower-case, no brackets or port), in the order typed, no duplicates. */
  addresses: string[];
  /** Tokens that are neither an IP address nor a host name, as typed. */
  invalid: string[];
  /** More than `MAX_ADDRESSES` tokens or `MAX_ADDRESS_INPUT` characters: the rest was not read. */
  truncated: boolean;
}

function isIpv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && (p === '0' || !p.startsWith('0')));
}

function isIpv6(s: string): boolean {
  const zone = s.indexOf('%');
  const addr = zone >= 0 ? s.slice(0, zone) : s;
  if (zone >= 0 && !/^[a-z0-9_.-]{1,32}$/i.test(s.slice(zone + 1))) return false;
  if (!/^[0-9a-f:.]{2,45}$/i.test(addr) || !addr.includes(':')) return false;
  const halves = addr.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((h) => (h === '' ? [] : h.split(':')));
  let count = 0;
  for (const [i, g] of groups.entries()) {
    if (i === groups.length - 1 && g.includes('.')) {
      if (!isIpv4(g)) return false;
      count += 2;
    } else if (/^[0-9a-f]{1,4}$/i.test(g)) count += 1;
    else return false;
  }
  return halves.length === 2 ? count <= 7 : count === 8;
}

function isHostName(s: string): boolean {
  if (s.length > 253 || /^[0-9.]+$/.test(s)) return false;
  return s.split('.').every((label) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(label));
}

/** One typed token to a bare host: `10.0.0.1:2380`, `[fe80::1]:2380`, `http://node-a:2380` and `node-a` all work. */
function tokenHost(token: string): string | null {
  let t = token.trim();
  if (/^[a-z][a-z0-9+.-]{0,20}:\/\//i.test(t)) {
    const h = urlHost(t);
    if (h === null) return null;
    t = h;
  } else {
    const bracket = /^\[([^\]]{1,64})\](?::\d{1,5})?$/.exec(t);
    if (bracket) t = bracket[1]!;
    else if (/^[^:]+:\d{1,5}$/.test(t)) t = t.slice(0, t.lastIndexOf(':'));
  }
  t = t.toLowerCase();
  return isIpv4(t) || isIpv6(t) || isHostName(t) ? t : null;
}

/**
 * What the operator typed into the addresses field (or `--addresses`): IPs or
 * host names separated by commas, spaces, semicolons or new lines (the
 * Chinese comma and enumeration comma too), each optionally with a port or as
 * a URL. Bounded: at most `MAX_ADDRESS_INPUT` characters and `MAX_ADDRESSES` tokens.
 */
export function parseAddressInput(text: string): ParsedAddresses {
  const truncatedText = text.length > MAX_ADDRESS_INPUT;
  const tokens = text
    .slice(0, MAX_ADDRESS_INPUT)
    .split(/[\s,;，、；]+/)
    .filter((t) => t.length > 0);
  const out: ParsedAddresses = { addresses: [], invalid: [], truncated: truncatedText || tokens.length > MAX_ADDRESSES };
  for (const token of tokens.slice(0, MAX_ADDRESSES)) {
    const host = tokenHost(token);
    if (host === null) out.invalid.push(token);
    else if (!out.addresses.includes(host)) out.addresses.push(host);
  }
  return out;
}
