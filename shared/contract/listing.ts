import type { Finding } from './findings';
import type { RepairPlan, SegmentInfo, SnapshotInfo } from './dqlite';
import type { LocalText } from './text';

/** One line of a pasted `ls -l` listing. */
export interface ListingEntry {
  name: string;
  size: number;
  /** The date text as shown (e.g. `Jan 28 00:41`), not interpreted. */
  dateText: string;
  mode: string | null;
}

/** The segment-map model built from names and sizes only (no file contents). */
export interface ListingAnalysis {
  entries: ListingEntry[];
  /** Segments placed on the index axis (batches/entries unknown: 0). */
  segments: SegmentInfo[];
  snapshots: SnapshotInfo[];
  findings: Finding[];
  /** Which files to copy out for a full validation, and why (`whyText`: the reason in the UI language). */
  copyOut: { file: string; why: string; whyText?: LocalText }[];
  /** What the loader would probably do, from names alone. */
  narrative: string[];
  /** `narrative` as catalog keys + params (same order). */
  narrativeText?: LocalText[];
  /**
   * The loader's fatal error as a pasted log states it (the k8s-dqlite journal
   * line `raft_start(): io: load closed segment …`), with the file it names
   * and the byte offset it gives; null when no such line was pasted.
   */
  engineError: { text: string; file: string | null; offset: number | null } | null;
  /**
   * Would dqlite start? `false` when a pasted log says start-up fails on a file
   * of this listing; null when names and sizes alone cannot tell.
   */
  startable: boolean | null;
  /**
   * The repair, as far as names and sizes allow (only with a log line naming
   * the failing file); its notes say what a copy-out would add.
   */
  plan: RepairPlan | null;
}
