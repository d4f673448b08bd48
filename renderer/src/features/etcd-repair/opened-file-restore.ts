/**
 * The restore plan for a snapshot.db validated in the browser (a file
 * dropped or opened in the page, web mode or desktop) or read in place on a
 * node (a backup the node card found: restored from where it lies), built here with the
 * back end's own pieces: the member configuration from the report
 * (shared/formats/etcd/restore-member.ts) and the planner
 * (shared/formats/etcd/restore-plan.ts).
 *
 * The back end plans only a snapshot.db it has just written (a salvage, with
 * a fresh SHA-256 trailer); never the input itself. A file validated here
 * gets a plan only when `etcdctl snapshot restore` would take it as it is:
 * trailer present and matching, bbolt opens it, mvcc's restore reads every
 * revision. Anything else gets no plan, only the reason and the way to one
 * (salvage first), as the back-end path does. No DOM, no client.
 */
import type { EtcdDetails } from '../../../../shared/contract/etcd';
import type { RestorePlaceholder, RestorePlan } from '../../../../shared/contract/etcd-repair';
import { memberConfigFromReport } from '../../../../shared/formats/etcd/restore-member';
import { planRestore } from '../../../../shared/formats/etcd/restore-plan';
import { stripTrailingSlashes } from '../../../../shared/text/trailing-slashes';

/** Where the plan expects the file on the node: copied there first, as the back end's plan does for a node's salvage. */
export const NODE_COPY_DIR = '/var/tmp';

export type OpenedFileRestore =
  /** Not a lone file (a data dir, a member dir, a WAL dir): this is not the place for a restore plan. */
  | { kind: 'not-a-file' }
  /** `etcdctl snapshot restore` would take the file as it is. */
  | { kind: 'plan'; plan: RestorePlan; placeholders: RestorePlaceholder[] }
  /** It would refuse it or fail on it: etcd's, etcdctl's or bbolt's own words, verbatim. */
  | { kind: 'refused'; error: string }
  /** A bbolt db without the SHA-256 trailer (a member's db): refused without --skip-hash-check. */
  | { kind: 'no-trailer' }
  /**
   * A good snapshot.db of a k3s or RKE2 server (their bootstrap data under /bootstrap/): restored with the server's
   * own reset, not etcdctl (`file`: its path on the node when read there, else its name).
   */
  | { kind: 'distribution'; file: string; bootstrapKeys: number };

/** The file's last path component, reduced to characters a command line takes unquoted (the placeholder is found as typed). */
function safeFileName(file: string): string {
  const base = file.slice(file.lastIndexOf('/') + 1);
  return base.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80) || 'snapshot.db';
}

/**
 * The file's path on the node when it was read in place there (`nodePath`: the file itself, or the folder that
 * holds only it): a restore takes it where it lies, nothing to copy.
 */
function snapshotOnNode(nodePath: string, file: string): string {
  const base = file.slice(file.lastIndexOf('/') + 1);
  return nodePath.endsWith(`/${base}`) ? nodePath : `${stripTrailingSlashes(nodePath)}/${file}`;
}

export function openedFileRestore(etcd: EtcdDetails, nodePath: string | null = null): OpenedFileRestore {
  const input = etcd.layout.input;
  if (input !== 'snapshot-db' && input !== 'db-file') return { kind: 'not-a-file' };
  const bbolt = etcd.bbolt;
  // The start-up model's fatal text covers the trailer (missing, mismatched) and bbolt's open and freepages failures;
  // etcdctl's restore also replays mvcc over every revision (mvcc.NewStore), so an undecodable one fails it as well.
  const error = etcd.startup.fatalError ?? bbolt?.mvccRestoreError ?? (bbolt ? null : 'no bbolt file');
  if (error) return { kind: 'refused', error };
  if (input === 'db-file') return { kind: 'no-trailer' };
  // Belt and braces: the model above already refuses these, and a plan must never go with a trailer not proven good.
  if (bbolt?.sha256?.present !== true || bbolt.sha256.ok !== true) return { kind: 'refused', error: 'snapshot missing hash but --skip-hash-check=false' };
  const file = etcd.layout.dbFile || 'snapshot.db';
  const inPlace = nodePath ? snapshotOnNode(nodePath, file) : null;
  const bootstrapKeys = etcd.schema?.bootstrapKeys ?? 0;
  if (bootstrapKeys > 0) return { kind: 'distribution', file: inPlace ?? file, bootstrapKeys };
  const onNode = inPlace ?? `${NODE_COPY_DIR}/${safeFileName(file)}`;
  const { member, placeholders } = memberConfigFromReport({ etcd }, null);
  if (!inPlace) placeholders.unshift({ token: onNode, about: { key: 'etcdRepairUi.placeholder.openedOnNode', params: { file, node: onNode } } });
  const plan = planRestore({ snapshot: onNode, member, ...(etcd.schema ? { expectedKeys: etcd.schema.liveKeys } : {}) });
  return { kind: 'plan', plan, placeholders };
}
