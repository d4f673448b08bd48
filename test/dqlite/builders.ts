/** In-memory builders for libraft files (tests only). */
import { memoryDirectory, type DirectorySource } from '../../shared/bytes/byte-source';
import { ENTRY_CHANGE, ENTRY_COMMAND, encodeSegment, type EntryToEncode } from '../../shared/formats/dqlite/batch';
import { encodeConfiguration } from '../../shared/formats/dqlite/configuration';
import { encodeMetadata } from '../../shared/formats/dqlite/metadata';
import { closedSegmentName, snapshotDataName, snapshotMetaName } from '../../shared/formats/dqlite/segment-name';
import { encodeSnapshotMeta } from '../../shared/formats/dqlite/snapshot-meta';

export const NODE = { id: '3297041220608546238', address: '127.0.0.1:19001', role: 'voter' as const };

export function payload(len: number, seed: number): Uint8Array {
  const p = new Uint8Array(len);
  for (let i = 0; i < len; i++) p[i] = (seed * 31 + i * 7) & 255;
  return p;
}

/** Segment with `count` command entries starting at `first`, `perBatch` entries per batch. */
export function segmentBytes(first: number, count: number, perBatch = 1, term = 1, len = 64): Uint8Array {
  const batches: EntryToEncode[][] = [];
  for (let i = 0; i < count; i += perBatch) {
    const b: EntryToEncode[] = [];
    for (let k = i; k < Math.min(count, i + perBatch); k++) b.push({ term, type: ENTRY_COMMAND, payload: payload(len, first + k) });
    batches.push(b);
  }
  return encodeSegment(batches);
}

/** The bootstrap segment: one RAFT_CHANGE (80 bytes for one node, as libraft writes it). */
export function bootstrapSegment(): Uint8Array {
  return encodeSegment([[{ term: 1, type: ENTRY_CHANGE, payload: encodeConfiguration([NODE]) }]]);
}

export function withZeros(b: Uint8Array, zeros: number): Uint8Array {
  const out = new Uint8Array(b.length + zeros);
  out.set(b);
  return out;
}

export function closed(files: Record<string, Uint8Array>, first: number, count: number, perBatch = 1): void {
  files[closedSegmentName(first, first + count - 1)] = segmentBytes(first, count, perBatch);
}

export function snapshot(files: Record<string, Uint8Array>, index: number, ts = 1000, data?: Uint8Array): string {
  files[snapshotMetaName(1, index, ts)] = encodeSnapshotMeta(1, [NODE]);
  files[snapshotDataName(1, index, ts)] = data ?? payload(256, index);
  return snapshotDataName(1, index, ts);
}

export function baseFiles(): Record<string, Uint8Array> {
  return { metadata1: encodeMetadata(1, 1, 0) };
}

export function dir(files: Record<string, Uint8Array>): DirectorySource {
  return memoryDirectory('backend', files);
}
