/**
 * The member configuration a restore plan needs (name, peer URLs, the
 * initial cluster, the data dir on the node), when all there is to go on is
 * a validation report: the db's members bucket, the chosen .snap's members,
 * the WAL's member ID and conf changes. What the report cannot know is a
 * named placeholder (`<DATA_DIR>`) with a catalog sentence saying what to put
 * there. Pure: the back end (a salvaged snapshot.db, etcd-repair-jobs.ts) and
 * the renderer (a snapshot.db validated in the browser) build the same plan
 * from it.
 */
import type { EtcdMember, EtcdDetails } from '../../contract/etcd';
import type { EtcdMemberConfig, RestorePlaceholder } from '../../contract/etcd-repair';
import { emptyConfig } from './restore-plan';
import { stripTrailingSlashes } from '../../text/trailing-slashes';

/** The restore plan's source when the member's identity comes from the validation report: the WAL names the member (its words: etcd-plan.restore.sources.report). */
export const REPORT_SOURCE = 'the validation report (WAL member ID, members bucket)';
/** ... or nothing names it (a snapshot.db or a lone db has no WAL): the db's members bucket alone (etcd-plan.restore.sources.reportDb). */
export const REPORT_DB_SOURCE = "the validation report (the db's members bucket)";

/** The etcd part of a validation report is all this module reads (a whole `ValidationReport` fits). */
export interface EtcdReportPart {
  etcd?: EtcdDetails;
}

/**
 * `path.posix.dirname` without Node (shared/ runs in the browser too): the
 * part before the last `/` of a path whose trailing slashes are already cut.
 */
export function posixDirname(p: string): string {
  if (p === '') return '.';
  const trimmed = p.length > 1 ? stripTrailingSlashes(p) || '/' : p;
  const i = trimmed.lastIndexOf('/');
  if (i === -1) return '.';
  if (i === 0) return '/';
  // Node keeps a leading `//` (a POSIX implementation-defined root).
  if (i === 1 && trimmed.startsWith('//')) return '//';
  return trimmed.slice(0, i);
}

/**
 * The members the report knows: the db's members bucket, else the chosen
 * .snap's, else the WAL's conf changes. (cross-check.ts has its own list for
 * the members table: it does not replay the WAL's conf changes.)
 */
function knownMembers(report: EtcdReportPart): EtcdMember[] {
  const etcd = report.etcd;
  if (!etcd) return [];
  if (etcd.schema && etcd.schema.members.length > 0) return etcd.schema.members;
  const snap = etcd.snaps.find((s) => s.chosen && s.members.length > 0);
  if (snap) return snap.members;
  const byId = new Map<string, EtcdMember>();
  for (const cc of etcd.wal?.confChanges ?? []) {
    if (cc.type === 'remove') byId.delete(cc.nodeId);
    else if (cc.peerURLs) byId.set(cc.nodeId, { id: cc.nodeId, name: cc.name ?? '', peerURLs: cc.peerURLs, clientURLs: [] });
  }
  return [...byId.values()];
}

/**
 * Where the data dir is on the node, when known: `nodePath` is the directory
 * validated in place, or the one a copy came from (null for a file opened on
 * this machine or in the browser: nothing says where it lived).
 */
function nodeDataDir(nodePath: string | null, report: EtcdReportPart): string | null {
  if (!nodePath) return null;
  const kind = report.etcd?.layout.input;
  if (kind === 'data-dir') return stripTrailingSlashes(nodePath) || '/';
  if (kind === 'member-dir') return posixDirname(stripTrailingSlashes(nodePath));
  return null;
}

/**
 * The member configuration for the restore plan, from what the validation
 * read: this member's name and peer URLs (WAL node ID + members), the
 * cluster, and the data dir's place on the node (`nodePath`, see
 * `nodeDataDir`). What is not known is a named placeholder the operator
 * replaces before running.
 */
export function memberConfigFromReport(report: EtcdReportPart, nodePath: string | null): { member: EtcdMemberConfig; placeholders: RestorePlaceholder[] } {
  const placeholders: RestorePlaceholder[] = [];
  const members = knownMembers(report);
  const selfId = report.etcd?.wal?.nodeId ?? null;
  const self = members.find((m) => m.id === selfId) ?? (members.length === 1 ? members[0] : undefined);
  // Say where the identity came from as it did: a snapshot.db has no WAL, so only its members bucket can name the member.
  const namedByWal = selfId !== null && self?.id === selfId;
  const sourceLabel = namedByWal ? REPORT_SOURCE : REPORT_DB_SOURCE;
  let name = self?.name || null;
  if (!name) {
    name = '<MEMBER_NAME>';
    placeholders.push({ token: name, about: { key: 'etcdRepairUi.placeholder.name' } });
  }
  let peer = self && self.peerURLs.length > 0 ? self.peerURLs.join(',') : null;
  if (!peer) {
    peer = '<PEER_URL>';
    placeholders.push({ token: peer, about: { key: 'etcdRepairUi.placeholder.peer' } });
  }
  const named = members.filter((m) => m.name !== '' && m.peerURLs.length > 0);
  const initialCluster =
    named.length > 0 && named.some((m) => m.id === self?.id)
      ? named.flatMap((m) => m.peerURLs.map((u) => `${m.name}=${u}`)).join(',')
      : peer
          .split(',')
          .map((u) => `${name}=${u}`)
          .join(',');
  let dataDir = nodeDataDir(nodePath, report);
  if (!dataDir) {
    dataDir = '<DATA_DIR>';
    placeholders.push({ token: dataDir, about: { key: 'etcdRepairUi.placeholder.dataDir' } });
  }
  placeholders.push({ token: 'etcd.service', about: { key: 'etcdRepairUi.placeholder.runStyle' } });
  placeholders.push({ token: '--cacert/--cert/--key', about: { key: 'etcdRepairUi.placeholder.tls' } });
  const flags: Record<string, string> = { name, 'data-dir': dataDir, 'initial-cluster': initialCluster, 'initial-advertise-peer-urls': peer };
  return {
    member: {
      ...emptyConfig('unknown'),
      sources: [sourceLabel],
      sourceLabels: { [sourceLabel]: { key: namedByWal ? 'etcd-plan.restore.sources.report' : 'etcd-plan.restore.sources.reportDb' } },
      name,
      dataDir,
      initialCluster,
      initialAdvertisePeerUrls: peer,
      advertiseClientUrls: self && self.clientURLs.length > 0 ? self.clientURLs.join(',') : null,
      flags,
    },
    placeholders,
  };
}
