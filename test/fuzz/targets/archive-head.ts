/**
 * What a file's first bytes say it is (shared/formats/archive/archive-kind.ts) on mutated heads of real
 * compressed files: gzip with and without a stored name (and with an extra field), bzip2, xz, zstd, zip (and the
 * name its first file is stored under), tar, SQLite. Invariants: nothing throws; a name told is a plain file name (no folder, no control byte), never a
 * tar's, and the commands built from it quote it whole.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  ARCHIVE_HEAD_BYTES,
  archiveKindOf,
  compressedFileInside,
  decompressCommand,
  isCompressedKind,
  isSqliteHead,
  tellArchive,
  zipStoredName,
} from '../../../shared/formats/archive/archive-kind';
import { mutateBytes } from '../mutate';
import { check, type FuzzTarget } from '../target';

interface Head {
  head: Uint8Array;
  name: string;
}

const NAMES = ['snapshot.db.gz', 'db.zst', 'etcd.tgz', 'backup.tar.xz', 'monday.gz', 'x.bz2', 'state.db', 'a'];

function realHeads(): Uint8Array[] {
  const work = mkdtempSync(path.join(tmpdir(), 'lifeboat-fuzz-archive-head-'));
  try {
    writeFileSync(path.join(work, 'snapshot.db'), 'bbolt bytes '.repeat(64));
    const out: Uint8Array[] = [];
    for (const cmd of [
      'gzip -c snapshot.db',
      'gzip -nc snapshot.db',
      'bzip2 -c snapshot.db',
      'xz -c snapshot.db',
      'zstd -qc snapshot.db',
      'tar -cf - snapshot.db',
      // k3s's --etcd-snapshot-compress: a zip of the one snapshot under its own name.
      'zip -q - snapshot.db',
    ]) {
      const r = spawnSync('sh', ['-c', cmd], { cwd: work, maxBuffer: 1 << 20 });
      if (r.status === 0) out.push(new Uint8Array(r.stdout).subarray(0, ARCHIVE_HEAD_BYTES));
    }
    // A gzip header with an extra field before its name (RFC 1952), as some tools write.
    out.push(Uint8Array.from([0x1f, 0x8b, 8, 0x0c, 0, 0, 0, 0, 0, 3, 4, 0, 1, 2, 3, 4, ...Buffer.from('snapshot.db'), 0, 9, 9]));
    if (spawnSync('sqlite3', [path.join(work, 's.db'), 'CREATE TABLE t (x)']).status === 0)
      out.push(new Uint8Array(readFileSync(path.join(work, 's.db'))).subarray(0, ARCHIVE_HEAD_BYTES));
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export const archiveHead: FuzzTarget<Head, Uint8Array[]> = {
  name: 'archive-head',
  what: "a file's head told as an archive, one compressed file (gzip's stored name) or SQLite, on mutated real heads: no throw, names told are plain file names",
  corpus: realHeads,
  generate: (r, corpus) => ({ head: mutateBytes(r, r.pick(corpus), 512).subarray(0, ARCHIVE_HEAD_BYTES), name: r.pick(NAMES) }),
  run: ({ head, name }) => {
    isSqliteHead(head);
    const zipName = zipStoredName(head);
    check(
      zipName === null || (zipName.length > 0 && !zipName.includes('/') && zipName !== '.' && zipName !== '..'),
      `zip name ${JSON.stringify(zipName)} is not a file name`,
    );
    // What validation and salvage call: one compressed file only of a compressed kind, with a name told.
    const told = tellArchive(head, name);
    check(told === null || told.kind === archiveKindOf(head), 'told kind is the head magic');
    if (told?.told !== 'compressed') return;
    const { kind, inner } = told;
    check(isCompressedKind(kind) && compressedFileInside(kind, head, name) === inner, 'a compressed file told as compressedFileInside tells it');
    check(inner.length > 0 && !inner.includes('/') && inner !== '.' && inner !== '..', `told name ${JSON.stringify(inner)} is not a file name`);
    check(
      ![...inner].some((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) < 0xa0)),
      `told name ${JSON.stringify(inner)} holds a control character`,
    );
    check(!inner.toLowerCase().endsWith('.tar'), 'a tar told as one file');
    const command = decompressCommand(kind, `/in/${name}`, inner);
    check(command.endsWith(`'${`${inner}-decompressed/${inner}`.replace(/'/g, `'\\''`)}'`), 'the output path is quoted whole');
  },
  files: ({ head, name }) => ({ [name]: head }),
  size: ({ head }) => head.length,
};
