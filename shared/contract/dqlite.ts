import type { KineExportResult } from './kine';
import type { LocalText } from './text';
/**
 * What validation of a dqlite (libraft) backend directory reports. Produced by
 * `shared/formats/dqlite`, drawn by the renderer's segment map. Fields may be
 * added (optional) but not renamed: renderer, CLI JSON and tests depend on them.
 */

/** How the real loader (libraft uvLoad) treats one file. */
export type LoaderRole =
  | 'loaded' // its entries are loaded
  | 'ignored' // filtered out by uvFilterSegments (before a gap, or behind the snapshot) - kept on disk
  | 'fails' // loading it aborts start-up (fatal error)
  | 'renamed-corrupt' // auto-recovery renames it corrupt-<ns>-<name>: its entries are silently lost
  | 'truncated' // open segment: truncated at the first bad batch (later entries lost)
  | 'deleted' // removed at start-up (empty/zero open segment, tmp-*, orphan snapshot half, torn metadata)
  | 'not-read'; // not reached (start-up failed before it), or not a raft file

export type SegmentStatus = 'ok' | 'bad' | 'warning';

export interface SegmentInfo {
  file: string;
  kind: 'closed' | 'open';
  size: number;
  /** Closed: from the name. Open: inferred like uvSegmentLoadOpen (null when unknown). */
  firstIndex: number | null;
  /** Closed: from the name. Open: first + entries - 1 (null when empty/unknown). */
  lastIndex: number | null;
  /** Open segments only: the counter in `open-N`. */
  counter?: number;
  batches: number;
  entries: number;
  /** Byte offset where the valid data ends (start of first bad batch, or file size). */
  validBytes: number;
  /** Index of the last entry in a valid batch (null when none). */
  lastValidIndex: number | null;
  status: SegmentStatus;
  /** Offset of the first bad batch, when any. */
  badOffset: number | null;
  /** Codes of the findings on this file (details in report.findings). */
  findingCodes: string[];
  role: LoaderRole;
  /** Min/max term seen in valid batches. */
  terms: [number, number] | null;
}

export interface BatchSummary {
  /** 1-based, as libraft counts them in its error text. */
  number: number;
  offset: number;
  size: number;
  entries: number;
  firstIndex: number | null;
  firstTerm: number;
  lastTerm: number;
  /** Entry types present, e.g. { command: 3, barrier: 0, change: 0 }. */
  types: { command: number; barrier: number; change: number; other: number };
  headerCrc: 'ok' | 'bad';
  dataCrc: 'ok' | 'bad' | 'not-checked';
  problem: string | null;
  /**
   * Not a batch: the zero-filled rest of an open segment after its last batch
   * (open segments are preallocated; libraft stops at the first zero preamble).
   * `size` is the number of zero bytes; `problem` is null. Normal, not damage.
   */
  zeroFill?: true;
  /** Entry by entry, with both checksums: set for the one batch asked for (`validation.batches` `detail`). */
  detail?: BatchDetail;
}

/** One batch opened up: its stored and recomputed checksums, and each entry's header and payload offset. */
export interface BatchDetail {
  headerCrc: { stored: number; computed: number };
  /** `computed` is null when the payloads run past the end of the file. */
  dataCrc: { stored: number; computed: number | null };
  entries: { index: number | null; term: number; type: number; length: number; offset: number }[];
  /** Entries not listed (a batch can hold 262144; the list is capped). */
  more: number;
}

export interface RaftServer {
  id: string; // u64 as decimal string (exceeds 2^53)
  address: string;
  role: 'voter' | 'standby' | 'spare' | `unknown(${number})`;
}

export interface SnapshotInfo {
  file: string; // data file name, snapshot-TERM-INDEX-TS
  term: number;
  index: number;
  timestamp: number;
  dataSize: number;
  metaOk: boolean;
  dataOk: boolean | null; // null when not checked
  /** LZ4 frame, raw FSM, or unknown. */
  encoding: 'lz4' | 'raw' | 'unknown';
  configurationIndex: number | null;
  configuration: RaftServer[] | null;
  /** The LZ4 frame as read (when the data is an LZ4 frame and was checked). */
  lz4?: SnapshotFrameFacts | null;
  /** Is this the snapshot the loader would take? */
  chosen: boolean;
  findingCodes: string[];
}

/** What the snapshot's LZ4 frame header and blocks said. */
export interface SnapshotFrameFacts {
  /** Decompressed bytes produced (up to the error, if any). */
  contentSize: number;
  /** The size the header declares, when it declares one. */
  declaredContentSize: number | null;
  maxBlockSize: number;
  blockIndependence: boolean;
  blockChecksum: boolean;
  contentChecksum: boolean;
  blocks: number;
  /** Compressed bytes of the frame, when it ended properly. */
  frameSize: number | null;
  /** Bytes after the frame (liblz4 via libraft ignores them). */
  trailingBytes: number;
}

export interface MetadataInfo {
  file: 'metadata1' | 'metadata2';
  size: number;
  ok: boolean;
  version: number | null;
  term: number | null;
  votedFor: string | null;
}

export interface IndexRange {
  first: number;
  last: number;
}

export interface LostRange extends IndexRange {
  file: string;
  /** Does the chosen snapshot already contain these entries? Then nothing is really lost. */
  coveredBySnapshot: boolean;
  reason: string;
  /** `reason` as a catalog sentence, for the UI language (etcd). */
  reasonText?: LocalText;
}

export interface RepairStep {
  /**
   * Stable step kind. `write` creates a file with exact bytes (a fresh
   * metadata1/metadata2; any original was moved to quarantine by an earlier
   * step). `note` steps carry no command, only an explanation.
   */
  kind: 'stop' | 'backup' | 'quarantine' | 'truncate-rename' | 'write' | 'start' | 'verify' | 'note';
  /** Exact shell command(s) for the node. */
  command: string;
  /** What this step keeps / loses, in plain words. */
  explanation: string;
  /** `explanation` as catalog key + params, for the UI language. */
  explanationText?: LocalText;
  /** The file this step changes, if any. */
  file?: string;
}

/**
 * How the plan learned the backend directory its commands act on:
 * `in-place` the directory validated on the node itself (SSH, or a local path
 * on the node), `copied-from` the node path a copy-out came from, `given` a
 * path the user named for a local copy (`--node-path`), `microk8s-default`
 * nothing said where the copy came from, so the MicroK8s default is assumed
 * (and the plan says so).
 */
export type BackendPathOrigin = 'in-place' | 'copied-from' | 'given' | 'microk8s-default';

/** The node directory a repair plan's commands act on. */
export interface BackendLocation {
  path: string;
  origin: BackendPathOrigin;
}

/** What a file that is not a segment, snapshot or metadata is. */
export type OtherFileRole =
  'tmp' | 'orphan-snapshot-data' | 'orphan-snapshot-meta' | 'corrupt' | 'membership-cache' | 'tls' | 'k8s-dqlite-config' | 'kine-socket' | 'not-raft';

export interface OtherFile {
  file: string;
  size: number;
  /** English description (CLI, JSON). */
  kind: string;
  role?: OtherFileRole;
}

export interface RepairPlan {
  /** The node directory every command names (absolute). */
  backend: BackendLocation;
  /** True when no repair is needed. */
  needed: boolean;
  /** Engine would start after the plan. */
  startsAfter: boolean;
  steps: RepairStep[];
  /** Entries kept / lost by the plan (lost ranges not covered by a snapshot are real data loss). */
  lost: LostRange[];
  summary: string;
  /** `summary` as catalog key + params, for the UI language. */
  summaryText?: LocalText;
}

export interface LoaderDecision {
  chosenSnapshot: string | null;
  /**
   * The log index libraft's loader starts from (`start_index` in
   * uvLoadSnapshotAndEntries) in its LAST attempt, also when that attempt
   * fails: it is where the segment map draws the start line. After the
   * snapshot is loaded and the segments are filtered it is the first index
   * of the first kept closed segment, or snapshot index + 1 when no closed
   * segment is kept (open segments continue from there); without a snapshot
   * it is 1. When auto-recovery retries, this is the retry's value (the
   * retry sees the directory after the first pass's renames). 0 means the
   * last attempt failed before it had a start index (the chosen snapshot
   * could not be loaded, or the chain starts past the snapshot).
   */
  startIndex: number;
  /**
   * Index of the last entry the loader would hold when start-up succeeds
   * (the snapshot index when no entry follows the snapshot; may then be
   * startIndex - 1). Null when start-up fails - after metadata errors too,
   * even though `startIndex` still describes the log - or when there is
   * neither a snapshot nor any entry.
   */
  lastIndex: number | null;
  /**
   * When start-up fails: the highest index the loader held before it stopped
   * (the snapshot's, then each loaded segment's), so the UI can say how far it
   * got instead of a bare dash. Null when it held nothing.
   */
  reachedIndex?: number | null;
  /** The engine's fatal error text, when start-up fails (after auto-recovery). */
  fatalError: string | null;
  /** Files auto-recovery would rename to corrupt-*. */
  renamedCorrupt: string[];
  /** Short human account of the steps the loader takes. */
  narrative: string[];
  /** The same sentences as catalog keys + params, for translation (same length and order as `narrative`). */
  narrativeText?: LocalText[];
}

export interface Membership {
  /** From the newest valid source (RAFT_CHANGE entry or snapshot .meta). */
  servers: RaftServer[];
  /** English: `FILE (entry N)` or `SNAPSHOT.meta`. */
  source: string | null;
  /** The same as parts, for the UI language: the file, and the entry index when it is a RAFT_CHANGE entry. */
  sourceFile?: string | null;
  sourceEntry?: number | null;
  /** cluster.yaml / info.yaml as parsed (addresses and ids), when present. */
  clusterYaml: { id: string; address: string; role: string }[] | null;
  infoYaml: { id: string; address: string; role: string } | null;
}

export interface DqliteDetails {
  segments: SegmentInfo[];
  snapshots: SnapshotInfo[];
  metadata: MetadataInfo[];
  /** Other files: corrupt-*, tmp-*, yaml, certs, unknown. `kind` is English; `role` is stable (the UI translates it). */
  otherFiles: OtherFile[];
  decision: LoaderDecision;
  membership: Membership;
  repair: RepairPlan;
}

/**
 * An offline rebuild of a dqlite node's databases (`lifeboat salvage DQLITE_DIR --out DIR`): the newest
 * usable snapshot's files with its WAL checkpointed, then every log entry after it that can be read, in
 * order, each a SQLite database file the `sqlite3` shell (or kine) opens.
 */
export interface DqliteRebuildReport {
  input: string;
  /** The folder the databases were written to (set by the service). */
  output: string | null;
  /** The snapshot the rebuild starts from (null: from an empty database, the log from index 1). */
  base: { snapshot: string; term: number; index: number } | null;
  /** Newer snapshots not used, and why (damaged, or the log reaches further from an older one). */
  passedOver: { snapshot: string; why: string }[];
  /** Log entries applied after the base (null: none). */
  log: { from: number; to: number; entries: number; transactions: number; pages: number } | null;
  /** The highest entry index any segment names or holds (what a whole log would reach). */
  lastIndexOnDisk: number | null;
  /** Where and why the rebuild stopped reading the log before that index (null: it read it all). */
  stop: { file: string | null; offset: number | null; index: number | null; why: string } | null;
  databases: DqliteRebuiltDatabase[];
  /** Would dqlite itself start on the input as it is (the validator's loader model)? */
  engineWouldStart: boolean;
  /** It would, but only by dropping entries (auto-recovery's renames or truncation; `lifeboat validate` lists them). */
  engineWouldDrop: boolean;
  /** False when the base snapshot could not be read to its end: the databases are then incomplete (see `stop`). */
  snapshotWhole: boolean;
  /** The raft state the databases correspond to: the last entry applied (or the base) and the membership then. */
  state: { index: number; term: number; configurationIndex: number | null; servers: RaftServer[] | null };
  /** A fresh backend directory dqlite starts from with these databases (null: none written, and why not). */
  backend: DqliteFreshBackend | null;
  /** Why no fresh backend was written (null when one was). */
  backendNotWritten: string | null;
  /** The kine database's live keys as object files in `<output>/objects/` (null: no database holds a kine table). */
  objects: KineExportResult | null;
}

/**
 * A new backend directory holding one snapshot of the rebuilt databases at the state's index and term
 * (uncompressed, no WAL), its .meta with the membership, a metadata1 and the node's other files
 * (cluster.yaml, info.yaml, certificates) copied: dqlite loads the snapshot and starts from it.
 */
export interface DqliteFreshBackend {
  /** The folder, inside the output folder. */
  dir: string;
  snapshot: string;
  index: number;
  term: number;
  /** The node's other files copied in. */
  copied: string[];
  /**
   * The same files packed into one ustar archive beside the folder (`backend.tar`), for a guided session's upload
   * step: extracted with `tar -x` into the node's backend directory once the old files are moved aside.
   */
  archive: { file: string; bytes: number; sha256: string };
}

export interface DqliteRebuiltDatabase {
  /** The name dqlite knows it by (`k8s` on MicroK8s). */
  name: string;
  /** The file written, relative to the output folder. */
  file: string;
  pageSize: number;
  pages: number;
  bytes: number;
  /** Came from the base snapshot (false: created by the log). */
  fromSnapshot: boolean;
  /** The snapshot's WAL for this database: frames and transactions applied, and why it ended early (null: it did not). */
  snapshotWal: { frames: number; transactions: number; droppedFrames: number; stop: string | null } | null;
}
