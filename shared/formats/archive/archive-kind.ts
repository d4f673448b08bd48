/**
 * An archive or compressed file handed over instead of a data directory (a
 * `tar czf etcd-backup.tgz /var/lib/etcd` taken before a rebuild, a copy-out
 * zipped for a ticket), or a SQLite database named like etcd's files (k3s's
 * `state.db`): told by its first bytes, so that validation can say what it is
 * and what to do rather than "not a datastore" or a bbolt verdict. Magic numbers: gzip (RFC
 * 1952), bzip2, xz, zstd (RFC 8878), zip's local file header, and POSIX tar's
 * `ustar` at byte 257 (an uncompressed tar). A compressed file is either a
 * compressed tar or one file compressed on its own (`gzip snapshot.db` after
 * `etcdctl snapshot save`): told apart by the name gzip stores in its header,
 * else by the file's own name, since the two need different commands.
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

/** The kinds that compress one stream: a tar archive, or a single file. */
export type CompressedKind = Exclude<ArchiveKind, 'zip' | 'tar'>;

export function isCompressedKind(kind: ArchiveKind): kind is CompressedKind {
  return kind !== 'zip' && kind !== 'tar';
}

/** A file that holds one file: compressed, or a zip of one (k3s's `--etcd-snapshot-compress`). */
export type OneFileKind = CompressedKind | 'zip';

/** Each kind's file-name suffixes, and what the name becomes without them (`.tgz` is a `.tar`). */
const SUFFIXES: Record<OneFileKind, readonly (readonly [string, string])[]> = {
  gzip: [
    ['.tgz', '.tar'],
    ['.taz', '.tar'],
    ['.gz', ''],
    ['.gzip', ''],
    ['.z', ''],
  ],
  bzip2: [
    ['.tbz2', '.tar'],
    ['.tbz', '.tar'],
    ['.tb2', '.tar'],
    ['.bz2', ''],
    ['.bz', ''],
  ],
  xz: [
    ['.txz', '.tar'],
    ['.xz', ''],
  ],
  zstd: [
    ['.tzst', '.tar'],
    ['.zst', ''],
    ['.zstd', ''],
  ],
  zip: [['.zip', '']],
};

/** gzip's header flags (RFC 1952 2.3.1): an extra field, then the original file name, come after the 10 fixed bytes. */
const GZIP_FEXTRA = 0x04;
const GZIP_FNAME = 0x08;

/**
 * A name usable as a file name in a command: no folder part, no control character, not `.` or `..`, not
 * absurdly long. What a header says is the writer's word, not a path to trust.
 */
function plainFileName(name: string): string | null {
  const base = name.slice(name.lastIndexOf('/') + 1);
  if (base === '' || base === '.' || base === '..' || base.length > 255) return null;
  for (let i = 0; i < base.length; i++) {
    const c = base.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c < 0xa0)) return null;
  }
  return base;
}

/** A name a header stores as ISO 8859-1 bytes `head[start, end)`, when it is a plain file name (`plainFileName`). */
function storedName(head: Uint8Array, start: number, end: number): string | null {
  let name = '';
  for (let i = start; i < end; i++) name += String.fromCharCode(head[i]!);
  return plainFileName(name);
}

/**
 * The name gzip recorded for the file it compressed (`gzip snapshot.db` stores `snapshot.db`; `tar -czf` stores
 * none), when `head` holds it whole; ISO 8859-1 as RFC 1952 says. Null when absent, cut off or not a plain name.
 */
export function gzipStoredName(head: Uint8Array): string | null {
  if (head.length < 10 || head[0] !== 0x1f || head[1] !== 0x8b) return null;
  const flags = head[3]!;
  if ((flags & GZIP_FNAME) === 0) return null;
  let at = 10;
  if (flags & GZIP_FEXTRA) {
    if (head.length < 12) return null;
    at = 12 + (head[10]! | (head[11]! << 8));
  }
  const end = head.indexOf(0, at);
  return end < 0 ? null : storedName(head, at, end);
}

/**
 * The name of the first file in a zip, from its local file header (APPNOTE 4.3.7: the name's length at byte 26,
 * the name from byte 30), when `head` holds it whole; a plain file name or null. k3s's
 * `--etcd-snapshot-compress` stores the snapshot under its own name (`etcd-snapshot-cp1-1765200000`).
 */
export function zipStoredName(head: Uint8Array): string | null {
  if (head.length < 30 || head[0] !== 0x50 || head[1] !== 0x4b || head[2] !== 0x03 || head[3] !== 0x04) return null;
  const length = head[26]! | (head[27]! << 8);
  return length === 0 || 30 + length > head.length ? null : storedName(head, 30, 30 + length);
}

/**
 * The one file a compressed file holds when it is not a tar archive (`snapshot.db.gz` holds `snapshot.db`), by the
 * name gzip stored or else by the file's own name less its suffix; null when that name is a tar's (`x.tar`, `.tgz`)
 * or there is no suffix to take off. A tar compressed under a name that does not say so (`tar -czf backup.gz`)
 * is told as one file (`backup`) too: decompressing it is right either way, and the copy is then told as the tar
 * archive it is, where tar's command would fail on a compressed file that holds no tar.
 */
export function compressedFileInside(kind: CompressedKind, head: Uint8Array, fileName: string): string | null {
  const inner = storedNameIn(kind, head) ?? withoutCompressionSuffix(kind, fileName);
  return inner === null || inner.toLowerCase().endsWith('.tar') ? null : inner;
}

/** The name the file's header stored for what it holds (gzip's and zip's headers have one), or null. */
export function storedNameIn(kind: OneFileKind, head: Uint8Array): string | null {
  return kind === 'gzip' ? gzipStoredName(head) : kind === 'zip' ? zipStoredName(head) : null;
}

/** `fileName` without its suffix of `kind` (`snapshot.db.gz` -> `snapshot.db`, `x.tgz` -> `x.tar`); null without one. */
export function withoutCompressionSuffix(kind: OneFileKind, fileName: string): string | null {
  const lower = fileName.toLowerCase();
  const suffix = SUFFIXES[kind].find(([s]) => lower.endsWith(s) && lower.length > s.length);
  return suffix ? plainFileName(fileName.slice(0, fileName.length - suffix[0].length) + suffix[1]) : null;
}

/** What a file's head and name say it is: one compressed file (and its name inside), or an archive to extract. */
export type ArchiveTold = { told: 'compressed'; kind: CompressedKind; inner: string } | { told: 'archive'; kind: ArchiveKind };

/** A file told by its first bytes and its name (validation's report and salvage's refusal say the same); null: neither. */
export function tellArchive(head: Uint8Array, fileName: string): ArchiveTold | null {
  const kind = archiveKindOf(head);
  if (!kind) return null;
  if (isCompressedKind(kind)) {
    const inner = compressedFileInside(kind, head, fileName);
    if (inner !== null) return { told: 'compressed', kind, inner };
  }
  return { told: 'archive', kind };
}

/** The folder `decompressCommand` makes for the decompressed copy, in the folder it is run from. */
export function decompressedFolder(inner: string): string {
  return `${inner}-decompressed`;
}

/**
 * The command that decompresses `file` into a new folder of the current one, keeping `file` as it is: `mkdir`
 * fails when that folder exists, so nothing already there is overwritten.
 */
export function decompressCommand(kind: CompressedKind, file: string, inner: string): string {
  const folder = decompressedFolder(inner);
  // Each kind's name is its tool's name.
  return `mkdir ${quoteAlways(folder)} && ${kind} -dc ${quoteAlways(file)} > ${quoteAlways(`${folder}/${inner}`)}`;
}
