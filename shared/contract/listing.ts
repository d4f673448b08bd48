import type { Finding } from './findings';
import type { SegmentInfo, SnapshotInfo } from './dqlite';

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
  /** Which files to copy out for a full validation, and why. */
  copyOut: { file: string; why: string }[];
  /** What the loader would probably do, from names alone. */
  narrative: string[];
}
