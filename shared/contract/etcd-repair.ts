/**
 * etcd repair, salvage and restore planning (issue 7): what `lifeboat repair`
 * and `lifeboat salvage` report, and the restore planner's output. Produced by
 * `shared/formats/etcd/{salvage,repair-plan,restore-plan}.ts` and
 * `electron/services/etcd-repair.ts`; printed by the CLI and shown by the UI.
 * Fields may be added (optional) but not renamed.
 */
import type { Finding } from './findings';
import type { ErrorText } from './error-text';
import type { LocalText } from './text';
import type { Progress } from './progress';

/** Where a salvaged key's value came from. */
export type SalvageKeySource =
  /** A leaf page reachable from a meta page's tree (either of the two). */
  | 'tree'
  /** A leaf page no meta reaches (cut off by a bad branch pointer, a zeroed branch, a wrong page header). */
  | 'orphaned-leaf'
  /** Replayed from a WAL entry the db did not hold (newer than the db, or in a lost page). */
  | 'wal';

export interface SalvagedKey {
  key: string;
  /** Revision in the written output. */
  modRevision: number;
  /** Revision it had in the source db (null for WAL-only keys). */
  sourceRevision: number | null;
  valueSize: number;
  source: SalvageKeySource;
  /** Page position of the leaf the value was read from (db sources only). */
  page?: number;
  /** WAL index of the entry that wrote it (WAL source only). */
  walIndex?: number;
}

export interface SalvageLoss {
  /** The key, when known (printable UTF-8, else hex). */
  key: string | null;
  /** Main revisions lost, as a range. */
  revisions: [number, number] | null;
  /** Page position where the damage is. */
  page: number | null;
  reason: string;
  /** `reason` as catalog key + params, for the UI's language (absent in older reports). */
  reasonText?: LocalText;
}

export interface SalvageReport {
  /** What was read (display path) and what was written. */
  input: string;
  output: string;
  /** `snapshot.db` (with trailer) or a member's `db` (repair). */
  outputKind: 'snapshot-db' | 'member-db';
  pageSize: number;
  pagesScanned: number;
  leafPages: number;
  orphanedLeafPages: number;
  /** Pages that looked like neither a known page type nor free space. */
  unreadablePages: number;
  keysWritten: number;
  /** Keys by source. */
  sources: Record<SalvageKeySource, number>;
  /** Every written key with its origin; capped at `keysListedMax` entries (`keysListedTruncated` then true). */
  keys: SalvagedKey[];
  keysListedTruncated: boolean;
  /** Deleted keys (latest revision a tombstone) are not written. */
  deletedKeys: number;
  /** Revisions of the written keys, and the compaction revision written to `meta/finishedCompactRev`. */
  revisionRange: [number, number] | null;
  compactRevision: number | null;
  /** `meta/consistent_index` found in the source db, and the one written. */
  sourceConsistentIndex: number | null;
  consistentIndex: number | null;
  /** WAL entries applied on top of the leaves. */
  walReplay: { from: number; to: number; entries: number; applied: number; gapFilled: number } | null;
  leases: { written: number; detachedKeys: number };
  members: number;
  lost: SalvageLoss[];
  findings: Finding[];
  /** SHA-256 of the written file (hex), for snapshot.db the trailer's value. */
  sha256: string | null;
  bytesWritten: number;
  bytesRead: number;
  elapsedMs: number;
}

// ---------------------------------------------------------------- repair

export interface EtcdRepairAction {
  kind: 'copy' | 'revert-meta' | 'rebuild-db' | 'rebuild-wal' | 'wal-truncate' | 'quarantine' | 'keep';
  file: string;
  /** One line for the operator. */
  text: string;
  /** `text` as catalog key + params, for the UI's language (absent in older reports). */
  textLocal?: LocalText;
}

export interface EtcdRepairResult {
  input: string;
  output: string;
  quarantine: string;
  /** How the db was brought back. */
  dbStrategy: 'unchanged' | 'revert-meta' | 'rebuild' | 'none';
  /** The WAL: kept (copied, a torn tail cut) or rebuilt (unreadable WAL: fresh WAL with the same member and cluster IDs). */
  walStrategy?: 'kept' | 'rebuilt';
  actions: EtcdRepairAction[];
  /** Present when the db was rebuilt from leaves (and WAL). */
  salvage: SalvageReport | null;
  /** Keys the repaired copy serves that the input would not (or that etcd would have dropped). */
  lost: SalvageLoss[];
  findings: Finding[];
}

// ---------------------------------------------------------------- restore planner

/** How etcd runs on the node. */
export type EtcdRunStyle = 'static-pod' | 'systemd' | 'unknown';

/** What the planner learned about the member: the configuration etcd starts with. */
export interface EtcdMemberConfig {
  style: EtcdRunStyle;
  /** Where this came from: the manifest, the unit, the env file, log lines. */
  sources: string[];
  /** Sources that are not paths or names (the validation report), as catalog sentences by their entry in `sources`. */
  sourceLabels?: Record<string, LocalText>;
  name: string | null;
  dataDir: string | null;
  walDir: string | null;
  initialCluster: string | null;
  initialClusterToken: string | null;
  initialAdvertisePeerUrls: string | null;
  advertiseClientUrls: string | null;
  listenClientUrls: string | null;
  /** Client TLS for etcdctl: from --trusted-ca-file / --cert-file / --key-file. */
  cacert: string | null;
  cert: string | null;
  key: string | null;
  /** Static pod manifest path, or the systemd unit name. */
  manifestPath: string | null;
  unitName: string | null;
  environmentFile: string | null;
  /** The user (and group) a systemd unit runs etcd as (`User=`/`Group=`), when not root: who must own the data. */
  runsAs?: { user: string; group: string | null };
  /** Every flag seen, name without dashes -> value. */
  flags: Record<string, string>;
  problems: string[];
  /** `problems` as catalog sentences, one per entry (absent, or of another length, when not every problem has one). */
  problemTexts?: LocalText[];
}

export type RestoreStepKind =
  'check' | 'stop' | 'move-aside' | 'restore' | 'ownership' | 'start' | 'verify' | 'member-remove' | 'member-add' | 'force-new-cluster';

export interface RestoreStep {
  kind: RestoreStepKind;
  /** Why this step, what it does (English). */
  explanation: string;
  explanationText?: LocalText;
  /** Shell commands (POSIX sh), one per line; run as root on the node. */
  command: string;
  /** Paths the step creates, moves or changes. */
  filesTouched: string[];
  /** What could get worse if this step goes wrong, or '' when nothing. */
  risk: string;
  /** A short title of the step, for the UI's language (single-member plans). */
  titleText?: LocalText;
  /** `risk` as catalog key + params; absent when the step risks nothing. */
  riskLocal?: LocalText;
  /** Steps that run on another member (multi-member plans). */
  node?: string;
}

export interface RestorePlan {
  snapshot: string;
  member: EtcdMemberConfig;
  /** `etcdctl` (3.4) or `etcdutl` (3.5+). */
  tool: 'etcdctl' | 'etcdutl';
  /** Where the old data dir goes (never deleted). */
  asideDir: string;
  steps: RestoreStep[];
  /** Problems that stop the plan from being complete (missing name, data dir, ...). */
  problems: string[];
  /** `problems` as catalog sentences, one per entry; absent when not every problem has one. */
  problemTexts?: LocalText[];
}

// ---------------------------------------------------------------- repair and salvage from the UI

/** What the operator asked for: a repaired data dir copy, a restorable snapshot.db, or every object as a file. */
export type EtcdRepairMode = 'repair' | 'snapshot' | 'export';
export type EtcdExportFormat = 'yaml' | 'json';

/** `lifeboat salvage PATH --out DIR`: every readable object as one file per resource and namespace. */
export interface EtcdExportResult {
  input: string;
  output: string;
  format: EtcdExportFormat;
  objects: number;
  /** Secrets and encrypted values (written with mode 0600). */
  secrets: number;
  /** Files by resource. */
  resources: Record<string, number>;
  lost: SalvageLoss[];
}

/** What a repair/salvage of a finished validation job's source would read and write (nothing runs yet). */
export interface EtcdRepairPlan {
  mode: EtcdRepairMode;
  /** What is read: a local path, or `user@host:/path` read in place over SFTP (or sudo). */
  input: string;
  /** The source is on a node (read in place); the output is then always on this machine. */
  remote: boolean;
  sudo: boolean;
  /** A proposed output: a new file (snapshot) or a new directory (repair, export). */
  defaultOutput: string;
  /** Web mode: the output must be inside this folder (the copies folder); null when any path may be chosen. */
  outputRoot: string | null;
  /** A native save/open dialog is available (`etcd.repair.choose`): desktop only. */
  canChooseWithDialog: boolean;
  /** Why this mode cannot run on this source (e.g. repair of a lone snapshot.db), null when it can. */
  refusal: string | null;
  refusalText?: LocalText;
}

/** A value the restore plan could not know (`<DATA_DIR>`), and what to put there. */
export interface RestorePlaceholder {
  token: string;
  about: LocalText;
}

/** The result of one run, by mode. For a snapshot, the restore plan that puts it back on the node. */
export type EtcdRepairOutcome =
  | {
      mode: 'snapshot';
      report: SalvageReport;
      restore: RestorePlan;
      /** The plan's member configuration is partly unknown: these placeholders must be replaced before running it. */
      placeholders: RestorePlaceholder[];
      remote: boolean;
    }
  | { mode: 'repair'; result: EtcdRepairResult; remote: boolean }
  | { mode: 'export'; result: EtcdExportResult; remote: boolean };

export interface EtcdRepairStartParams {
  /** A finished validation job of an etcd source: its source (local, sample, copy, or remote in place) is read again. */
  jobId: string;
  mode: EtcdRepairMode;
  /** A new file (snapshot) or a new or empty directory (repair, export) on this machine (path rules: web mode only inside the copies folder). */
  outputPath: string;
  format?: EtcdExportFormat;
}

export interface EtcdRepairMethods {
  'etcd.repair.plan': { params: { jobId: string; mode: EtcdRepairMode }; result: EtcdRepairPlan };
  /** Desktop only: the native save (snapshot) or folder (repair, export) dialog; null when the user cancelled. */
  'etcd.repair.choose': { params: { mode: EtcdRepairMode; suggestedPath?: string }; result: { path: string | null } };
  /** Runs in a worker thread; progress/done/failed arrive as `etcd.repair.*` events. */
  'etcd.repair.start': {
    params: { jobId: string; mode: EtcdRepairMode; outputPath: string; format?: EtcdExportFormat };
    result: { repairId: string };
  };
  'etcd.repair.cancel': { params: { repairId: string }; result: { cancelled: boolean } };
}

export interface EtcdRepairEvents {
  'etcd.repair.progress': { repairId: string; progress: Progress };
  'etcd.repair.done': { repairId: string; outcome: EtcdRepairOutcome };
  /** `partial`: what was left behind (a `.lifeboat-part.failed` file, a half-written directory), never deleted. */
  /** `errorText`: the error as a catalog text when it has one (an input refused), for the UI's language; `error` is its English. */
  'etcd.repair.failed': { repairId: string; error: string; errorText?: ErrorText; cancelled: boolean; partial?: string };
}
