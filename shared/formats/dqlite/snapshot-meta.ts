/**
 * Snapshot metadata file `snapshot-TERM-INDEX-TS.meta` (`raft:uv_snapshot.c`
 * uvSnapshotLoadMeta):
 *   +0  u64 format = 1
 *   +8  u64 crc (low 32 bits) = CRC(bytes[16..32) ++ configuration)
 *   +16 u64 configuration index
 *   +24 u64 configuration length (1 .. 1 MiB)
 *   +32 configuration bytes
 * Bytes after the configuration are not read by libraft.
 */
import type { RaftServer } from '../../contract/dqlite';
import { crc32 } from './crc';
import { decodeConfiguration, encodeConfiguration } from './configuration';
import { concatBytes, putU64, u32At, u64At } from './le';
import { findingText } from './say';
import type { TextParams } from '../../contract/text';

export const SNAPSHOT_META_HEADER = 32;
export const MAX_META_CONFIGURATION = 1024 * 1024;

/** libraft error class: decides auto-retry (CORRUPT) vs plain failure. */
export type EngineErrorKind = 'corrupt' | 'ioerr' | 'malformed';

export type SnapshotMetaCheck =
  | { ok: true; configurationIndex: number; servers: RaftServer[] }
  | {
      ok: false;
      code: string;
      kind: EngineErrorKind;
      offset: number;
      message: string;
      /** Template params (and variant key) of `message`, see shared/i18n/dqlite-text.ts. */
      params: TextParams;
      messageKey?: string;
      /** libraft's text; null where libraft only traces and reports no message. */
      engineError: string | null;
      configurationIndex: number | null;
    };

export function encodeSnapshotMeta(configurationIndex: number, servers: RaftServer[], format = 1): Uint8Array {
  const conf = encodeConfiguration(servers);
  const head = new Uint8Array(SNAPSHOT_META_HEADER);
  putU64(head, 0, format);
  putU64(head, 16, configurationIndex);
  putU64(head, 24, conf.length);
  const crc = crc32(conf, crc32(head, 0, 16, 32));
  putU64(head, 8, crc);
  return concatBytes([head, conf]);
}

/**
 * Check a .meta file. `read` is bounded by the caller's ByteSource; we only
 * ask for 32 bytes and then at most 1 MiB (the libraft limit) of configuration.
 */
export async function checkSnapshotMeta(name: string, size: number, read: (offset: number, length: number) => Promise<Uint8Array>): Promise<SnapshotMetaCheck> {
  if (size < SNAPSHOT_META_HEADER) {
    return {
      ok: false,
      code: 'snapshot.meta-short',
      kind: 'ioerr',
      offset: size,
      ...findingText('finding.snapshot.meta-short.message', { file: name, size }),
      engineError: `short read: ${size} bytes instead of ${SNAPSHOT_META_HEADER}`,
      configurationIndex: null,
    };
  }
  const head = await read(0, SNAPSHOT_META_HEADER);
  const format = u64At(head, 0);
  if (format !== 1n) {
    return {
      ok: false,
      code: 'snapshot.meta-format',
      kind: 'malformed',
      offset: 0,
      ...findingText('finding.snapshot.meta-format.message', { file: name, format: String(format) }),
      engineError: null,
      configurationIndex: null,
    };
  }
  const confIndexBig = u64At(head, 16);
  const configurationIndex = Number(confIndexBig);
  const confLen = u64At(head, 24);
  if (confLen === 0n || confLen > BigInt(MAX_META_CONFIGURATION)) {
    return {
      ok: false,
      code: 'snapshot.meta-conf-length',
      kind: 'corrupt',
      offset: 24,
      ...(confLen === 0n
        ? findingText('finding.snapshot.meta-conf-length.message', { file: name })
        : findingText('finding.snapshot.meta-conf-length.message.too-long', { file: name, length: String(confLen) })),
      engineError: null,
      configurationIndex,
    };
  }
  const want = Number(confLen);
  if (size < SNAPSHOT_META_HEADER + want) {
    return {
      ok: false,
      code: 'snapshot.meta-short',
      kind: 'ioerr',
      offset: size,
      ...findingText('finding.snapshot.meta-short.message.configuration', { file: name, size, needed: SNAPSHOT_META_HEADER + want }),
      engineError: `short read: ${size - SNAPSHOT_META_HEADER} bytes instead of ${want}`,
      configurationIndex,
    };
  }
  const conf = await read(SNAPSHOT_META_HEADER, want);
  const stored = u32At(head, 8);
  const actual = crc32(conf, crc32(head, 0, 16, 32));
  if (stored !== actual) {
    return {
      ok: false,
      code: 'snapshot.meta-checksum',
      kind: 'corrupt',
      offset: 8,
      ...findingText('finding.snapshot.meta-checksum.message', { file: name }),
      engineError: `read ${name}: checksum mismatch`,
      configurationIndex,
    };
  }
  const decoded = decodeConfiguration(conf);
  if (!decoded.ok) {
    return {
      ok: false,
      code: 'snapshot.meta-configuration',
      kind: 'malformed',
      offset: SNAPSHOT_META_HEADER + decoded.offset,
      ...findingText('finding.snapshot.meta-configuration.message', { file: name, error: decoded.error }),
      engineError: null,
      configurationIndex,
    };
  }
  return { ok: true, configurationIndex, servers: decoded.servers };
}
