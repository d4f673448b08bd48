/**
 * metadata1 / metadata2 (`raft:uv_metadata.c`), 32 bytes:
 *   u64 format = 1, u64 version, u64 term, u64 voted_for.
 * Odd versions are written to metadata1, even to metadata2; the loader takes
 * the higher version. A file shorter than 32 bytes is a torn write and is
 * deleted at start-up; these checks run in raft_init, before any segment.
 */
import { putU64, u64At } from './le';
import { findingText } from './say';
import type { TextParams } from '../../contract/text';

export const METADATA_SIZE = 32;

export interface MetadataDecoded {
  format: bigint;
  version: bigint;
  term: bigint;
  votedFor: bigint;
}

export type MetadataCheck =
  | { state: 'absent' }
  | { state: 'torn'; size: number } // deleted by libraft, treated as absent
  | { state: 'ok'; value: MetadataDecoded }
  | { state: 'error'; code: string; engineError: string; message: string; params: TextParams; messageKey?: string; offset: number | null };

export function decodeMetadata(b: Uint8Array): MetadataDecoded {
  return { format: u64At(b, 0), version: u64At(b, 8), term: u64At(b, 16), votedFor: u64At(b, 24) };
}

export function encodeMetadata(version: number | bigint, term: number | bigint, votedFor: number | bigint = 0): Uint8Array {
  const out = new Uint8Array(METADATA_SIZE);
  putU64(out, 0, 1);
  putU64(out, 8, version);
  putU64(out, 16, term);
  putU64(out, 24, votedFor);
  return out;
}

/** Check one metadata file the way uvMetadataLoadN does (`bytes` = first 32 bytes when size >= 32). */
export function checkMetadata(name: 'metadata1' | 'metadata2', size: number, bytes: Uint8Array | null): MetadataCheck {
  if (bytes === null) return { state: 'absent' };
  if (size < METADATA_SIZE) return { state: 'torn', size };
  if (size > METADATA_SIZE) {
    return {
      state: 'error',
      code: 'metadata.size',
      offset: METADATA_SIZE,
      engineError: `${name} has size ${size} instead of ${METADATA_SIZE}`,
      ...findingText('finding.metadata.size.message', { file: name, size }),
    };
  }
  const v = decodeMetadata(bytes);
  if (v.format !== 1n) {
    return {
      state: 'error',
      code: 'metadata.format',
      offset: 0,
      engineError: `decode content of ${name}: bad format version ${v.format}`,
      ...findingText('finding.metadata.format.message', { file: name, format: String(v.format) }),
    };
  }
  if (v.version === 0n) {
    return {
      state: 'error',
      code: 'metadata.version-zero',
      offset: 8,
      engineError: `decode content of ${name}: version is set to zero`,
      ...findingText('finding.metadata.version-zero.message', { file: name }),
    };
  }
  return { state: 'ok', value: v };
}

/** The pair check of uvMetadataLoad; returns the engine error, or null when the pair is usable. */
export function checkMetadataPair(m1: MetadataCheck, m2: MetadataCheck): string | null {
  const v1 = m1.state === 'ok' ? m1.value.version : 0n;
  const v2 = m2.state === 'ok' ? m2.value.version : 0n;
  if (v1 === 0n && v2 === 0n) return null;
  if (v1 === v2) return `metadata1 and metadata2 are both at version ${v1}`;
  return null;
}
