/**
 * Snapshot data file `snapshot-TERM-INDEX-TS`: the FSM bytes verbatim, or an
 * LZ4 frame when compression is on (`raft:compress.c` IsCompressed checks
 * the magic 04 22 4D 18). libraft keeps no checksum of its own here; a bad
 * frame surfaces as `LZ4F_getFrameInfo …` / `LZ4F_decompress …` (RAFT_IOERR).
 */
import type { ByteSource } from '../../bytes/byte-source';
import type { RunOptions } from '../../contract/progress';
import { verifyLz4Frame } from '../lz4/frame';
import { u32At } from './le';
import { findingText } from './say';
import type { TextParams } from '../../contract/text';
import type { SnapshotFrameFacts } from '../../contract/dqlite';
import type { Lz4VerifyResult } from '../lz4/frame';

function frameFacts(r: Lz4VerifyResult): SnapshotFrameFacts | null {
  const d = r.descriptor;
  if (!d) return null;
  return {
    contentSize: r.contentSize,
    declaredContentSize: d.contentSize,
    maxBlockSize: d.maxBlockSize,
    blockIndependence: d.blockIndependence,
    blockChecksum: d.blockChecksum,
    contentChecksum: d.contentChecksum,
    blocks: r.blocks ?? 0,
    frameSize: r.frameSize ?? null,
    trailingBytes: r.trailingBytes ?? 0,
  };
}

export const LZ4_MAGIC = 0x184d2204;

export interface SnapshotDataCheck {
  encoding: 'lz4' | 'raw' | 'unknown';
  ok: boolean;
  /** libraft's text when it would fail to load the data. */
  engineError: string | null;
  errorOffset: number | null;
  contentSize: number | null;
  /** Frame facts (LZ4 only). */
  frame?: SnapshotFrameFacts | null;
  message: string | null;
  /** Template params (and variant key) of `message`, see shared/i18n/dqlite-text.ts. */
  params?: TextParams;
  messageKey?: string;
}

/** LZ4 errors that LZ4F_getFrameInfo reports (frame header), others come from LZ4F_decompress. */
const HEADER_ERRORS = new Set([
  'ERROR_frameHeader_incomplete',
  'ERROR_frameType_unknown',
  'ERROR_headerVersion_wrong',
  'ERROR_headerChecksum_invalid',
  'ERROR_reservedFlag_set',
  'ERROR_maxBlockSize_invalid',
  'ERROR_frameSize_wrong',
]);

export function lz4EngineError(error: string): string {
  if (error.startsWith('LZ4F_')) return error;
  const name = error.split(/[\s:]/)[0];
  return `${HEADER_ERRORS.has(name) && name !== 'ERROR_frameSize_wrong' ? 'LZ4F_getFrameInfo' : 'LZ4F_decompress'} ${name}`;
}

export async function checkSnapshotData(src: ByteSource, opts: RunOptions = {}): Promise<SnapshotDataCheck> {
  if (src.size < 4) {
    return { encoding: 'raw', ok: true, engineError: null, errorOffset: null, contentSize: src.size, message: null };
  }
  const head = await src.read(0, 4);
  if (u32At(head, 0) !== LZ4_MAGIC) {
    // Uncompressed FSM data: libraft hands it to dqlite unchecked.
    return { encoding: 'raw', ok: true, engineError: null, errorOffset: null, contentSize: src.size, message: null };
  }
  const r = await verifyLz4Frame(src, opts);
  if (r.ok) return { encoding: 'lz4', ok: true, engineError: null, errorOffset: null, contentSize: r.contentSize, frame: frameFacts(r), message: null };
  const error = r.error ?? 'ERROR_GENERIC';
  return {
    encoding: 'lz4',
    ok: false,
    engineError: lz4EngineError(error),
    errorOffset: r.errorOffset,
    contentSize: r.contentSize,
    frame: frameFacts(r),
    ...(r.errorOffset !== null
      ? findingText('finding.snapshot.data-lz4.message.at', { error, offset: r.errorOffset })
      : findingText('finding.snapshot.data-lz4.message', { error })),
  };
}
