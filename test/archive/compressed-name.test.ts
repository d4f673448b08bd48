/**
 * What a compressed file holds, told from gzip's header and the file's name: real gzip headers (made here by
 * Node's zlib and by hand, RFC 1952) and hostile ones: a stored name that climbs folders, holds control bytes,
 * runs past the bytes read, or sits behind an extra field.
 */
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ARCHIVE_HEAD_BYTES, compressedFileInside, gzipStoredName } from '../../shared/formats/archive/archive-kind';

/** A gzip header with the given flags and optional fields, then a few bytes of body. */
function gzipHead(opts: { name?: Uint8Array; extra?: Uint8Array }): Uint8Array {
  const parts: number[] = [0x1f, 0x8b, 8, (opts.extra ? 4 : 0) | (opts.name ? 8 : 0), 0, 0, 0, 0, 0, 3];
  if (opts.extra) parts.push(opts.extra.length & 0xff, opts.extra.length >> 8, ...opts.extra);
  if (opts.name) parts.push(...opts.name, 0);
  parts.push(1, 2, 3);
  return Uint8Array.from(parts);
}
const bytes = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));

describe('the name gzip stored', () => {
  it('is read from a real gzip header, and absent where gzip stores none', () => {
    const named = execFileSync('sh', ['-c', 'd=$(mktemp -d) && cd "$d" && printf x > snapshot.db && gzip -c snapshot.db && rm -r "$d"']);
    expect(gzipStoredName(named.subarray(0, ARCHIVE_HEAD_BYTES))).toBe('snapshot.db');
    expect(gzipStoredName(gzipSync(Buffer.from('x')))).toBeNull();
  });

  it('is found behind an extra field, and read as ISO 8859-1', () => {
    expect(gzipStoredName(gzipHead({ name: bytes('d\u00e9j\u00e0.db'), extra: new Uint8Array(20) }))).toBe('d\u00e9j\u00e0.db');
  });

  it('keeps only the file name of a path, and refuses names no command should carry', () => {
    expect(gzipStoredName(gzipHead({ name: bytes('../../etc/passwd') }))).toBe('passwd');
    expect(gzipStoredName(gzipHead({ name: bytes('a\nb') }))).toBeNull();
    expect(gzipStoredName(gzipHead({ name: bytes('..') }))).toBeNull();
    expect(gzipStoredName(gzipHead({ name: bytes('dir/') }))).toBeNull();
    expect(gzipStoredName(gzipHead({ name: bytes('x'.repeat(300)) }))).toBeNull();
  });

  it('is null when the header is cut before the name ends, or its extra field runs past the bytes', () => {
    const head = gzipHead({ name: bytes('snapshot.db') });
    expect(gzipStoredName(head.subarray(0, 15))).toBeNull();
    expect(gzipStoredName(gzipHead({ name: bytes('a.db'), extra: new Uint8Array(300) }).subarray(0, ARCHIVE_HEAD_BYTES))).toBeNull();
    expect(gzipStoredName(Uint8Array.from([0x1f, 0x8b, 8, 0x0c, 0, 0, 0, 0, 0, 3, 0xff]))).toBeNull();
  });
});

describe('the one file a compressed file holds', () => {
  const none = new Uint8Array(0);
  it('is the name less its suffix, or a tar for .tgz and .tar.*', () => {
    expect(compressedFileInside('gzip', none, 'snapshot.db.gz')).toBe('snapshot.db');
    expect(compressedFileInside('zstd', none, 'db.ZST')).toBe('db');
    expect(compressedFileInside('xz', none, 'etcd.tar.xz')).toBeNull();
    expect(compressedFileInside('gzip', none, 'etcd.tgz')).toBeNull();
    expect(compressedFileInside('bzip2', none, 'etcd.tbz2')).toBeNull();
    // No suffix of its kind (a gzip named .zst, or no suffix at all): not told.
    expect(compressedFileInside('gzip', none, 'snapshot.db')).toBeNull();
    expect(compressedFileInside('gzip', none, '.gz')).toBeNull();
  });

  it('is the stored name first: a renamed snapshot, a gzipped tar under any name', () => {
    expect(compressedFileInside('gzip', gzipHead({ name: bytes('snapshot.db') }), 'monday.gz')).toBe('snapshot.db');
    expect(compressedFileInside('gzip', gzipHead({ name: bytes('backup.tar') }), 'monday.gz')).toBeNull();
    expect(compressedFileInside('gzip', gzipHead({ name: bytes('snapshot.db') }), 'no-suffix')).toBe('snapshot.db');
  });
});
