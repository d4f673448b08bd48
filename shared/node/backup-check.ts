/**
 * Is a backup on the node restorable, read in place? An `etcdctl snapshot
 * save` file is a bbolt db plus a 32-byte SHA-256 of it; `etcdctl snapshot
 * restore` assumes the trailer iff `size % 512 == 32` and refuses a mismatch
 * (`expected sha256 ...`) or a missing hash (`snapshot missing hash but
 * --skip-hash-check=false`). One read-only command per file prints its size,
 * the trailer, the SHA-256 of everything before it and the first two pages
 * (both bbolt meta pages at the usual 4 KiB page size); this module builds
 * that command and judges its output.
 */
import { decodeMeta } from '../formats/etcd/bbolt-meta';
import { ARCHIVE_HEAD_BYTES, storedNameIn, withoutCompressionSuffix, type OneFileKind } from '../formats/archive/archive-kind';
import { quoteAlways, quoteIfNeeded } from './shell';
import { translateLocal } from '../i18n';
import type { LocalText } from '../contract/text';
import type { BackupFile } from '../contract/node';

const HEAD_BYTES = 8192;

/** Bytes as one line of hex, as the probe prints them. */
const HEX = "od -An -tx1 -v | tr -d ' \\n'";

/** How a compressed backup is read on the node: its own tool, or for a zip `unzip` else Python's zipfile. */
export type BackupCompression = OneFileKind;

/**
 * Python one-liners for a zip on a node without `unzip` (Python 3 is on most servers): count its files, test it,
 * write its first file to stdout. No quote or `$` inside, so each goes between single quotes as it is.
 */
const PY_ZIP = {
  count: 'import sys,zipfile;print(len(zipfile.ZipFile(sys.argv[1]).infolist()))',
  test: 'import sys,zipfile;sys.exit(zipfile.ZipFile(sys.argv[1]).testzip() is not None)',
  read: 'import sys,zipfile,shutil;z=zipfile.ZipFile(sys.argv[1]);shutil.copyfileobj(z.open(z.infolist()[0]),sys.stdout.buffer)',
} as const;

/** The tool that reads a zip on the node, as the probe says it (`ztool unzip`). */
export type ZipTool = 'unzip' | 'python3';

/** The command that writes the first file of the zip `f` (quoted) to stdout with `tool`. */
function zipReadCommand(tool: ZipTool, f: string): string {
  return tool === 'unzip' ? `unzip -p ${f}` : `python3 -c '${PY_ZIP.read}' ${f}`;
}

/**
 * The read-only probe of one backup. A compressed backup (`gzip snapshot.db` after `etcdctl snapshot save`, or a
 * zip from k3s's `--etcd-snapshot-compress`, told by its first bytes) is read through its tool on the node, never
 * written out: tested whole (`-t`), then its decompressed size, trailer, hash and first pages, as for a plain one.
 * A zip must hold one file (k3s's do); it is read with `unzip`, else with Python's zipfile.
 */
export function snapshotDbProbeCommand(path: string): string {
  const f = quoteIfNeeded(path);
  const plain =
    `s=$(stat -c %s -- ${f}) || exit 1; echo "size $s"; ` +
    `[ "$s" -ge 32 ] && echo "trailer $(tail -c 32 -- ${f} | ${HEX})" && ` +
    `echo "body $(head -c $((s-32)) -- ${f} | sha256sum | cut -c1-64)"; ` +
    `echo "head $(head -c ${HEAD_BYTES} -- ${f} | ${HEX})"`;
  // zt tests the file whole, zr writes what it holds to stdout, zn counts a zip's files.
  const zipTools =
    `if command -v unzip >/dev/null; then echo "ztool unzip"; zt() { unzip -tqq ${f} >/dev/null; }; zn() { unzip -Z1 ${f} | wc -l | tr -d ' '; }; zr() { ${zipReadCommand('unzip', f)}; }; ` +
    `elif command -v python3 >/dev/null; then echo "ztool python3"; zt() { python3 -c '${PY_ZIP.test}' ${f}; }; zn() { python3 -c '${PY_ZIP.count}' ${f}; }; zr() { ${zipReadCommand('python3', f)}; }; ` +
    `else echo "no-tool zip"; exit 0; fi`;
  const streamTools = `command -v "$z" >/dev/null || { echo "no-tool $z"; exit 0; }; zt() { "$z" -t -- ${f}; }; zr() { "$z" -dc -- ${f}; }`;
  const packed =
    `echo "compressed $z"; echo "zhead $(head -c ${ARCHIVE_HEAD_BYTES} -- ${f} | ${HEX})"; ` +
    `if [ "$z" = zip ]; then ${zipTools}; else ${streamTools}; fi; ` +
    `zt 2>/dev/null || { echo "corrupt $z"; exit 0; }; ` +
    `if [ "$z" = zip ]; then n=$(zn 2>/dev/null); [ "$n" = 1 ] || { echo "members $n"; exit 0; }; fi; ` +
    `s=$(zr | wc -c); echo "size $s"; ` +
    `[ "$s" -ge 32 ] && echo "trailer $(zr | tail -c 32 | ${HEX})" && ` +
    `echo "body $(zr | head -c $((s-32)) | sha256sum | cut -c1-64)"; ` +
    `echo "head $(zr | head -c ${HEAD_BYTES} | ${HEX})"`;
  return (
    `m=$(head -c 6 -- ${f} | ${HEX}) || exit 1; ` +
    `case $m in 1f8b*) z=gzip;; 425a68*) z=bzip2;; fd377a585a00*) z=xz;; 28b52ffd*) z=zstd;; 504b0304*) z=zip;; *) z=;; esac; ` +
    `if [ -n "$z" ]; then ${packed}; else ${plain}; fi`
  );
}

function hexBytes(hex: string): Uint8Array {
  const n = Math.min(hex.length >> 1, HEAD_BYTES);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16) || 0;
  return b;
}

export interface SnapshotDbVerdict {
  valid: boolean;
  /** In English (the CLI's and the record's language); `problemText` is the same for the UI's language. */
  problem?: string;
  problemText?: LocalText;
  size: number | null;
  /** Compressed with this tool: checked through it; it must be decompressed before `etcdctl snapshot restore`. */
  compressed?: BackupCompression;
  /** For a compressed backup: the command that writes it decompressed beside itself (see `decompressBackupCommand`). */
  decompressCommand?: string;
  /** Where that command writes it. */
  decompressedPath?: string;
}

/** A refusal in English and as the catalog text the node card shows in the UI's language. */
function refused(size: number | null, problemText: LocalText): SnapshotDbVerdict {
  return { valid: false, problem: translateLocal('en', problemText), problemText, size };
}

const COMPRESSED_KINDS: readonly BackupCompression[] = ['gzip', 'bzip2', 'xz', 'zstd', 'zip'];

export function checkSnapshotDbProbe(stdout: string, code: number | null, path = ''): SnapshotDbVerdict {
  const field = (name: string) => new RegExp(`^${name} ([0-9a-f]*)$`, 'm').exec(stdout)?.[1] ?? null;
  const said = /^compressed (\w+)$/m.exec(stdout)?.[1];
  const compressed = COMPRESSED_KINDS.find((k) => k === said);
  if (compressed) {
    if (new RegExp(`^no-tool ${compressed}$`, 'm').test(stdout))
      return refused(
        null,
        compressed === 'zip' ? { key: 'guided.card.problem.noZipTool' } : { key: 'guided.card.problem.noTool', params: { kind: compressed } },
      );
    const tool: ZipTool = /^ztool python3$/m.test(stdout) ? 'python3' : 'unzip';
    if (new RegExp(`^corrupt ${compressed}$`, 'm').test(stdout))
      return refused(
        null,
        compressed === 'zip'
          ? { key: 'guided.card.problem.zipCorrupt', params: { tool } }
          : { key: 'guided.card.problem.compressedCorrupt', params: { kind: compressed } },
      );
    const members = /^members (\d*)$/m.exec(stdout);
    if (members) return { ...refused(null, { key: 'guided.card.problem.zipMembers', params: { count: members[1] || '?' } }), compressed };
    const verdict = checkSnapshotDb(stdout, code, field);
    if (!verdict.valid) return { ...verdict, compressed };
    const zhead = hexBytes(field('zhead') ?? '');
    return {
      ...verdict,
      compressed,
      decompressCommand: decompressBackupCommand(path, compressed, zhead, tool),
      decompressedPath: decompressedBackupPath(path, compressed, zhead),
    };
  }
  return checkSnapshotDb(stdout, code, field);
}

/** The checks on the (decompressed) size, meta pages, trailer and hash the probe printed. */
function checkSnapshotDb(stdout: string, code: number | null, field: (name: string) => string | null): SnapshotDbVerdict {
  const sizeText = /^size (\d+)$/m.exec(stdout)?.[1];
  if (code !== 0 && !sizeText) return refused(null, { key: 'guided.card.problem.unreadable' });
  const size = sizeText ? Number(sizeText) : null;
  if (size === null || size < 1024 + 32) return refused(size, { key: 'guided.upload.problem.tooSmall', params: { bytes: size ?? '?' } });
  const head = hexBytes(field('head') ?? '');
  const meta0 = decodeMeta(head.subarray(0, 4096), 0);
  const pageSize = meta0.ok ? meta0.pageSize : 4096;
  const meta1 = head.length >= pageSize + 80 ? decodeMeta(head.subarray(pageSize, pageSize * 2), 1) : null;
  if (!meta0.ok && !meta1?.ok) return refused(size, { key: 'guided.upload.problem.notBbolt', params: { error: meta0.error ?? 'unreadable' } });
  if (size % 512 !== 32) {
    return refused(size, { key: 'guided.upload.problem.noTrailer' });
  }
  const trailer = field('trailer');
  const body = field('body');
  if (!trailer || !body || trailer.length !== 64 || body.length !== 64) return refused(size, { key: 'guided.card.problem.trailerUnreadable' });
  if (trailer !== body) return refused(size, { key: 'guided.upload.problem.hashMismatch', params: { expected: trailer, got: body } });
  return { valid: true, size };
}

/**
 * Where a compressed backup is decompressed to, beside itself: its own name without the suffix (dated backups in
 * one folder keep their dates; gzip stores `snapshot.db` for each), else the name gzip stored, else its name with
 * `.db` after it; always a name detection lists (`*.db`, `snapshot*`).
 */
export function decompressedBackupPath(path: string, kind: BackupCompression, zhead: Uint8Array): string {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const base = path.slice(slash + 1);
  const inner = withoutCompressionSuffix(kind, base) ?? storedNameIn(kind, zhead) ?? base;
  const name = inner !== base && (inner.endsWith('.db') || inner.startsWith('snapshot')) ? inner : `${inner}.db`;
  return dir + name;
}

/**
 * Writes a compressed backup decompressed beside itself, never over a file (`set -C`: the shell refuses to
 * overwrite), readable by its owner only (`umask 077`: a snapshot holds every Secret of the cluster, whatever mode
 * the compressed file has), with the backup's own time (`touch -r`), so that detection orders it where the backup
 * was taken. Run twice it succeeds without writing: a file already there that is this backup decompressed (`cmp`;
 * the operator ran the card's command, then a session from a card detected before) is taken as it is; one that
 * differs is said and left alone. A zip is read with the tool the probe found on the node (`zipTool`).
 */
export function decompressBackupCommand(path: string, kind: BackupCompression, zhead: Uint8Array, zipTool: ZipTool = 'unzip'): string {
  const f = quoteAlways(path);
  const outPath = decompressedBackupPath(path, kind, zhead);
  const out = quoteAlways(outPath);
  const read = kind === 'zip' ? zipReadCommand(zipTool, f) : `${kind} -dc -- ${f}`;
  // `false`, not `exit`: the card's command is pasted into an interactive shell, which `exit` would close.
  return (
    `if [ -e ${out} ]; then ${read} | cmp -s - ${out} || { echo ${quoteAlways(`${outPath} exists and is not this backup decompressed: move it away first`)} >&2; false; }; ` +
    `else (umask 077 && set -C && ${read} > ${out}) && touch -r ${f} ${out}; fi`
  );
}

/**
 * A good compressed backup newer than the newest good plain one (or with none): what the card and the CLI offer
 * to decompress, since it holds later data than what a restore would use now. `backups` newest first.
 */
export function newerCompressedBackup(backups: readonly BackupFile[], newestGood: string | null): BackupFile | null {
  for (const b of backups) {
    if (b.path === newestGood) return null;
    if (b.valid === true && b.compressed && b.decompressCommand) return b;
  }
  return null;
}
