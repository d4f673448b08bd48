/**
 * An archive or compressed file handed over instead of a data directory (a
 * `tar czf etcd-backup.tgz /var/lib/etcd` taken before a rebuild, a copy-out
 * zipped for a ticket), or a SQLite database named like etcd's files (k3s's
 * `state.db`): told by its first bytes, so that validation can say what it is
 * and what to do rather than "not a datastore" or a bbolt verdict. Magic numbers: gzip (RFC
 * 1952), bzip2, xz, zstd (RFC 8878), zip's local file header, and POSIX tar's
 * `ustar` at byte 257 (an uncompressed tar).
 */
import { quoteAlways } from '../../node/shell';

export type ArchiveKind = 'gzip' | 'bzip2' | 'xz' | 'zstd' | 'zip' | 'tar';

/** Bytes of a file's start that `archiveKindOf` and `isSqliteHead` look at. */
export const ARCHIVE_HEAD_BYTES = 263;

/** SQLite's file header ("SQLite format 3" and a NUL): k3s's default datastore (kine) is such a file, `state.db`. */
const SQLITE_MAGIC = [0x53, 0x51, 0x4c, 0x69, 0x74, 0x65, 0x20, 0x66, 0x6f, 0x72, 0x6d, 0x61, 0x74, 0x20, 0x33, 0x00];

/** Whether a file starting with `head` is a SQLite database (named `*.db` like etcd's files, but no bbolt). */
export function isSqliteHead(head: Uint8Array): boolean {
  return head.length >= SQLITE_MAGIC.length && SQLITE_MAGIC.every((b, i) => head[i] === b);
}

/** The archive kind of a file starting with `head` (its first `ARCHIVE_HEAD_BYTES` or fewer), or null. */
export function archiveKindOf(head: Uint8Array): ArchiveKind | null {
  const at = (i: number, ...bytes: number[]) => bytes.every((b, k) => head[i + k] === b);
  if (at(0, 0x1f, 0x8b)) return 'gzip';
  if (at(0, 0x42, 0x5a, 0x68)) return 'bzip2';
  if (at(0, 0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (at(0, 0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (at(0, 0x50, 0x4b, 0x03, 0x04)) return 'zip';
  if (at(257, 0x75, 0x73, 0x74, 0x61, 0x72)) return 'tar';
  return null;
}

/** The command that extracts it into the current folder (tar reads the compressed kinds itself). */
export function extractCommand(kind: ArchiveKind, file: string): string {
  const q = quoteAlways(file);
  switch (kind) {
    case 'zip':
      return `unzip ${q}`;
    case 'gzip':
      return `tar -xzf ${q}`;
    case 'bzip2':
      return `tar -xjf ${q}`;
    case 'xz':
      return `tar -xJf ${q}`;
    case 'zstd':
      return `tar --zstd -xf ${q}`;
    case 'tar':
      return `tar -xf ${q}`;
  }
}
