/**
 * What validation of an etcd data directory (or a lone bbolt `db`, or a
 * `snapshot.db`) reports. Produced by `shared/formats/etcd`, drawn by the
 * renderer's WAL timeline, page map and key browser, printed by the CLI.
 * Fields may be added (optional) but not renamed.
 *
 * Numbers: raft indexes, terms, revisions and page ids are JavaScript numbers
 * (far below 2^53 in any real cluster; decoders clamp larger values). Member
 * and cluster IDs are 64-bit and kept as lower-case hex strings, as etcd
 * prints them (`types.ID.String()`).
 */
import type { LocalText } from './text';

/** What was handed to the validator. */
export type EtcdInputKind =
  | 'data-dir' // contains member/
  | 'member-dir' // is member/ (contains wal/ and/or snap/)
  | 'wal-dir' // only *.wal files (a --wal-dir)
  | 'db-file' // a bbolt file without trailer (member/snap/db, *.snap.db)
  | 'snapshot-db'; // `etcdctl snapshot save` output: bbolt + 32-byte SHA-256

export interface EtcdLayout {
  input: EtcdInputKind;
  /** Paths relative to the validated root, '' when absent. */
  walDir: string;
  snapDir: string;
  dbFile: string;
  /** Files etcd set aside or left behind (`*.broken`, `*.tmp`, `<index>.snap.db`), and unknown files. */
  leftovers: { file: string; size: number; kind: 'broken' | 'tmp' | 'snap-db' | 'unknown' }[];
  /**
   * Parts of the layout that are symbolic links (`member/wal` linked to a WAL on another disk): read through as
   * etcd reads them; `leadsNowhere` when the link's target is not there (a copy that kept the link only).
   */
  links?: { path: string; target: string; leadsNowhere: boolean }[];
}

// ---------------------------------------------------------------- WAL

export type WalRecordType = 'metadata' | 'entry' | 'state' | 'crc' | 'snapshot' | 'unknown';

/** How etcd's start-up treats one WAL file. */
export type WalFileRole =
  | 'read' // its records are read
  | 'before-snapshot' // older than the WAL file etcd opens at (still read by ValidSnapshotEntries)
  | 'repaired' // torn tail: etcd copies it to .broken and truncates it at `validBytes`
  | 'fails' // reading it stops start-up
  | 'not-read'; // after a failure, or not a WAL file

export interface WalFileInfo {
  /** Relative to the validated root, e.g. `member/wal/0000000000000000-0000000000000000.wal`. */
  file: string;
  seq: number;
  /** The raft index in the name (first entry expected in the file). */
  nameIndex: number;
  size: number;
  records: number;
  entries: number;
  firstEntryIndex: number | null;
  lastEntryIndex: number | null;
  terms: [number, number] | null;
  /** Offset where the valid records end (start of the first bad record, or where the zero tail starts). */
  validBytes: number;
  /** Zero bytes after the last record (preallocation; 64,000,000-byte files are normal). */
  zeroTailBytes: number;
  status: 'ok' | 'torn' | 'bad' | 'warning';
  badOffset: number | null;
  findingCodes: string[];
  role: WalFileRole;
}

/** One WAL record, listed on demand (there can be millions). */
export interface WalRecordSummary {
  /** 0-based position of the record in its file. */
  number: number;
  offset: number;
  /** Record bytes (without the length word and padding). */
  length: number;
  padding: number;
  type: WalRecordType;
  rawType: number;
  /** Running CRC-32C after this record, and whether the stored CRC matched. */
  crc: number;
  crcOk: boolean | null;
  index?: number;
  term?: number;
  entryType?: 'normal' | 'conf-change' | 'conf-change-v2' | `unknown(${number})`;
  /** One line: `put /registry/pods/default/x (120 B)`, `HardState term 3 vote 8e9e05c52164694d commit 402`, ... */
  summary: string;
  /** `summary` as catalog key + params (shared/i18n/etcd-record-text.ts), for the UI's language. */
  summaryText?: LocalText;
  problem: string | null;
  /** `problem` as catalog key + params (etcd's error text stays quoted as it is). */
  problemText?: LocalText;
}

export interface WalSnapshotRecord {
  index: number;
  term: number;
  file: string;
  offset: number;
}

export interface WalConfChange {
  index: number;
  term: number;
  type: 'add' | 'remove' | 'update' | 'add-learner' | `unknown(${number})`;
  nodeId: string;
  /** From the member JSON in the context, when present. */
  name?: string;
  peerURLs?: string[];
}

export interface WalInfo {
  /** Relative to the root, e.g. `member/wal`. */
  dir: string;
  files: WalFileInfo[];
  nodeId: string | null;
  clusterId: string | null;
  hardState: { term: number; vote: string; commit: number } | null;
  snapshots: WalSnapshotRecord[];
  firstIndex: number | null;
  lastIndex: number | null;
  lastTerm: number | null;
  /** etcd would repair this torn tail itself at start-up (copy to .broken, truncate). */
  tornTail: { file: string; offset: number } | null;
  confChanges: WalConfChange[];
  /** Counts of decoded requests in Normal entries: put, delete-range, txn, compaction, lease-grant, ... */
  requestCounts: Record<string, number>;
}

// ---------------------------------------------------------------- .snap

export interface SnapFileInfo {
  /** Relative to the root, e.g. `member/snap/0000000000000002-0000000000000192.snap`. */
  file: string;
  term: number;
  index: number;
  size: number;
  ok: boolean;
  /** The error etcd's snapshotter would hit (`snap: crc mismatch`, `snap: empty snapshot`, ...). */
  error: string | null;
  voters: string[];
  learners: string[];
  /** The v2 store's member list (`/0/members/<id>/...`). */
  members: EtcdMember[];
  /** Does a WAL snapshot record name this (term, index) with index <= HardState.commit? */
  matchesWal: boolean;
  /** Is this the snap etcd would load? */
  chosen: boolean;
}

// ---------------------------------------------------------------- bbolt

export interface BboltMetaInfo {
  page: 0 | 1;
  ok: boolean;
  /** bbolt's Validate() error: `invalid database`, `version mismatch`, `checksum error`. */
  error: string | null;
  magic: number;
  version: number;
  pageSize: number;
  flags: number;
  rootPage: number;
  /** null when 0xFFFF_FFFF_FFFF_FFFF (etcd on Linux: the freelist is not synced). */
  freelistPage: number | null;
  /** High-water mark: pages in use. */
  highWaterMark: number;
  txid: number;
  checksum: string;
}

export interface BboltProblem {
  /** bbolt's own wording where it has one (`page 0: invalid type: meta`, `page 12: multiple references`). */
  text: string;
  page: number | null;
  /** Absolute byte offset in the file. */
  offset: number | null;
  code: string;
  /**
   * For a problem in Lifeboat's own words (not bbolt's): the case of the
   * template (`bbolt-problem.<code without "bbolt.">.<variant>`) and its params,
   * so the UI can say it in its language. Absent when `text` is bbolt's wording.
   */
  variant?: string;
  params?: Record<string, string | number>;
}

/** Pages by what the walk found them to be. */
export interface BboltPageCounts {
  meta: number;
  branch: number;
  leaf: number;
  freelist: number;
  overflow: number;
  /** Below the high-water mark, not reachable from the tree: free (etcd does not sync its freelist). */
  free: number;
  damaged: number;
  /** Beyond the high-water mark (file is larger than the db in use). */
  beyond: number;
}

export interface BboltInfo {
  /** Relative to the root. */
  file: string;
  size: number;
  pageSize: number | null;
  pageCount: number;
  metas: BboltMetaInfo[];
  /** The meta bbolt would use (higher txid among the valid ones). */
  chosenMeta: 0 | 1 | null;
  /** bbolt.Open's error, e.g. `invalid database`, `file size too small 12`. */
  openError: string | null;
  /** The panic etcd would print at start-up, `freepages: failed to get all reachable pages (page 0: invalid type: meta)`. */
  freepagesPanic: string | null;
  /**
   * After bbolt opens, etcd's mvcc restore unmarshals every revision in `key`:
   * the fatal text of the first that fails (`cannot unmarshal event: proto:
   * KeyValue: illegal tag 0 (wire type 0)`, printed as `C | mvcc: …`); null when
   * all decode or etcd stops earlier (open error, freepages panic).
   */
  mvccRestoreError?: string | null;
  /**
   * etcd starts, but a read kills it: keys out of order in `key` hide a revision its key index holds from
   * bbolt's binary search (`range cannot find rev (M,S)`, printed as `C | mvcc: …`). The first such revision
   * found, the key it is the newest revision of, and how many live keys cannot be read. Absent when none.
   */
  readFatal?: {
    text: string;
    key: string;
    page: number;
    unreadable: number;
    /** `order`: keys out of order hide it from the binary search; `form`: its key is stored with byte 8 not '_'. */
    cause: 'order' | 'form';
  } | null;
  /**
   * etcd starts and reads on, but a read of `key` serves `servedKey`'s value: its revision key was damaged into its
   * neighbour's (two equal keys in `key`; bbolt's seek lands on the first). The first such key in key order, its
   * revision, its leaf page, and how many live keys read another's value. Absent when none.
   */
  wrongRead?: {
    key: string;
    servedKey: string;
    main: number;
    sub: number;
    page: number;
    count: number;
  } | null;
  /**
   * etcd starts, but reads some keys as they were before their newest revision: that revision's key was flipped
   * above the revision etcd restores to (the last key's). A deleted key is served again (`tombstone`), a rewritten
   * one with its older value, a key written once not at all. The first such key in key order, that revision, and
   * how many keys. Absent when none.
   */
  olderRead?: {
    key: string;
    main: number;
    current: number;
    tombstone: boolean;
    count: number;
  } | null;
  /** Problems in the chosen meta's tree, in the order bbolt's check would report them (capped; see `problemCount`). */
  problems: BboltProblem[];
  problemCount: number;
  /** The other meta's tree: is it intact (the `revert-meta-page` fallback)? null when not walked. */
  otherMetaTreeOk: boolean | null;
  pages: BboltPageCounts;
  /**
   * No meta leads to a tree (both metas invalid, the file too small for bbolt, or every root past the end of a file cut
   * short), yet the file has pages: `pageSize`
   * is the one salvage reads with, and `pages` counts what each page's own header says (as the page map shows it).
   */
  pagesByHeaderScan?: boolean;
  /** snapshot.db only: the SHA-256 trailer. */
  sha256?: { present: boolean; ok: boolean | null; stored: string | null; computed: string | null };
}

/** One char per page: the page map (500k pages = 500k chars). */
export const PAGE_CODES = {
  meta: 'm',
  branch: 'b',
  leaf: 'l',
  freelist: 'f',
  overflow: 'o',
  free: '.',
  damaged: 'x',
  multiplyReferenced: 'd',
  beyond: ' ',
} as const;

export interface BboltPageMap {
  file: string;
  pageSize: number;
  /** `PAGE_CODES` per page id, index = page id. */
  codes: string;
  /** Page id -> bucket name, for the pages the walk reached (runs: [firstPage, lastPage, bucket]). */
  bucketRuns: [number, number, string][];
  /** The codes are what each page's own header says: no meta page leads to a tree (no bucket runs then). */
  byHeaderScan?: boolean;
}

export interface BboltElementSummary {
  index: number;
  /** UTF-8 when printable, else hex. */
  key: string;
  keyHex: string;
  /** Branch: the child page. */
  childPage?: number;
  /** Leaf: value size and flags (1 = sub-bucket). */
  valueSize?: number;
  bucket?: boolean;
  problem: string | null;
  /** `problem` as catalog key + params, for the UI's language. */
  problemText?: LocalText;
}

export interface BboltPageDetail {
  id: number;
  /** The id stored in the page header (differs from `id` on a misplaced or zeroed page). */
  headerId: number;
  offset: number;
  type: 'meta' | 'branch' | 'leaf' | 'freelist' | `unknown<${string}>`;
  flags: number;
  count: number;
  overflow: number;
  /** Who points here (parent page), when the walk reached it. */
  parent: number | null;
  bucket: string | null;
  elements: BboltElementSummary[];
  problems: string[];
  /** `problems`, one for one, as catalog key + params (bbolt's own wording is quoted, not translated). */
  problemTexts: LocalText[];
}

// ---------------------------------------------------------------- etcd schema

export interface EtcdMember {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner?: boolean;
}

export interface EtcdSchemaInfo {
  buckets: { name: string; keys: number; inline: boolean }[];
  consistentIndex: number | null;
  /** meta/term (3.5+). */
  term: number | null;
  /** Main revision of the newest key. */
  revision: number | null;
  compactedRevision: number | null;
  /** Live keys at the newest revision, all stored revisions, tombstones. */
  liveKeys: number;
  /**
   * Set when the db has more distinct keys than validation holds in memory:
   * `liveKeys` counts the live keys among those it held, so the db has at
   * least that many (revisions and tombstones stay exact).
   */
  liveKeysLowerBound?: true;
  revisions: number;
  tombstones: number;
  members: EtcdMember[];
  removedMembers: string[];
  alarms: { memberId: string; alarm: 'NOSPACE' | 'CORRUPT' | `unknown(${number})` }[];
  leases: number;
  clusterVersion: string | null;
  /** etcd's default backend quota (2 GiB) unless told otherwise. */
  quotaBytes: number;
  /**
   * Live keys under `/bootstrap/`: k3s's and RKE2's bootstrap data (certificates, encrypted with the join token).
   * Present only when there are some: the db is a k3s or RKE2 server's, restored with their own reset.
   */
  bootstrapKeys?: number;
}

// ---------------------------------------------------------------- Kubernetes values

export interface K8sValueSummary {
  encoding: 'protobuf' | 'json' | 'encrypted' | 'text' | 'binary';
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  /** `k8s:enc:aescbc:v1:key1:` -> provider `aescbc`, key `key1`. */
  encryption?: { provider: string; keyName: string };
}

export interface EtcdKeyItem {
  key: string;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: string | null;
  tombstone: boolean;
  valueSize: number;
  /** Stored revisions of this key (history still in the db). */
  history: number;
  k8s?: K8sValueSummary;
}

export interface EtcdKeyGroup {
  /** e.g. `pods`, `apps/deployments` (custom resources: `<group>/<plural>`). */
  resource: string;
  namespace: string | null;
  count: number;
}

export interface EtcdKeyPage {
  total: number;
  offset: number;
  items: EtcdKeyItem[];
  groups: EtcdKeyGroup[];
  /**
   * The db holds more keys (of this prefix or search) than the key browser
   * may hold at once: the answer is of the first `keysIndexed` keys read, so
   * `total` and the group counts are lower bounds. Absent: they are exact.
   */
  indexLimited?: { keysIndexed: number };
  /**
   * With `indexLimited` on the list of all keys: the number of distinct keys
   * in the db, counted without holding them; then the group counts are
   * exact too (only `total`, the keys that can be listed, is a part).
   */
  keysInDb?: number;
}

export interface EtcdValueDetail {
  key: string;
  modRevision: number;
  /** JSON values as parsed JSON text (pretty), protobuf as the decoded metadata, text as text. */
  display: string;
  k8s?: K8sValueSummary;
  /** First bytes as hex (bounded). */
  hexPreview: string;
  size: number;
}

// ---------------------------------------------------------------- start-up model and verdict

export interface EtcdStartup {
  /** The etcd version the model follows (3.4 and 3.5 agree on every case modelled). */
  model: '3.4';
  /** The snap etcd would load, or null (start from the WAL's beginning). */
  chosenSnap: string | null;
  /** WAL entries etcd would apply on top of the db: (consistentIndex, commit]. */
  replay: { from: number; to: number } | null;
  /** The fatal error or panic text etcd would print, when it would not start. */
  fatalError: string | null;
  /**
   * For a member removed from its cluster: etcd stops itself about a second after start while replaying its own
   * removal ('on-replay'), or runs until a peer answers that it was removed ('when-a-peer-answers'; alone, it waits
   * for a leader forever). Absent otherwise.
   */
  removedStop?: 'on-replay' | 'when-a-peer-answers';
  /** What etcd changes on disk by itself when it starts (WAL tail repair, freelist rebuild is in memory only). */
  selfRepairs: string[];
  /** `selfRepairs` as catalog sentences, for the UI language (same length and order). */
  selfRepairsText?: LocalText[];
  narrative: string[];
  narrativeText?: LocalText[];
}

/** Cross-checks between the WAL, the snap files, the db and the addresses the user gave. */
export interface EtcdCrossCheck {
  walLastIndex: number | null;
  commit: number | null;
  consistentIndex: number | null;
  newestSnapIndex: number | null;
  /** The WAL's node ID is (still) a member in the db/snaps. */
  nodeIsMember: boolean | null;
  /** Members whose peer URLs use an address not in the user's list (the kind-after-reboot case). */
  staleAddresses: { memberId: string; name: string; url: string }[];
  addressesGiven: string[];
}

export interface EtcdDetails {
  layout: EtcdLayout;
  wal: WalInfo | null;
  snaps: SnapFileInfo[];
  bbolt: BboltInfo | null;
  schema: EtcdSchemaInfo | null;
  startup: EtcdStartup;
  crossCheck: EtcdCrossCheck;
}

/** Several members' dirs side by side: which one holds the newest data. */
export interface EtcdMemberRow {
  root: string;
  memberId: string | null;
  name: string | null;
  term: number | null;
  commit: number | null;
  lastIndex: number | null;
  consistentIndex: number | null;
  revision: number | null;
  startable: boolean;
  /** Is this the member to keep when the cluster is rebuilt from one survivor? */
  newest: boolean;
}

export interface EtcdMemberComparison {
  rows: EtcdMemberRow[];
  /** Root of the member to keep, and why (one sentence). */
  keep: string | null;
  reason: string;
  reasonText?: LocalText;
}

// ---------------------------------------------------------------- on-demand queries over a finished job

export type EtcdQuery =
  | { kind: 'wal-records'; file: string; fromRecord: number; limit: number }
  | { kind: 'page-map' }
  | { kind: 'page'; page: number }
  | { kind: 'keys'; prefix?: string; search?: string; offset: number; limit: number }
  | { kind: 'value'; key: string; revision?: number }
  /**
   * Stop the job's keys query in flight when it is a walk of the whole db (a filter past the key index): the
   * key browser sends it when the search changes under such a walk, whose answer nobody waits for any more.
   * That query then fails with code `interrupted`. Only the back end's kept query worker can be interrupted.
   */
  | { kind: 'interrupt' };

export interface EtcdQueryResults {
  'wal-records': WalRecordSummary[];
  'page-map': BboltPageMap;
  page: BboltPageDetail;
  keys: EtcdKeyPage;
  value: EtcdValueDetail;
  /** Whether a keys query was in flight and was asked to stop. */
  interrupt: { interrupted: boolean };
}

export type EtcdQueryResult<Q extends EtcdQuery = EtcdQuery> = EtcdQueryResults[Q['kind']];
