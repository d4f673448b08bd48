/**
 * The ustar reader and writer (shared/formats/archive/ustar.ts) against GNU
 * tar: archives GNU tar writes (its own gnu format with a long name, POSIX
 * pax, a directory, an empty file, a symlink) list with the names, types and
 * sizes `tar -tv` shows; the files we write GNU tar lists and extracts byte
 * for byte; a header with a wrong checksum, a cut archive and a bound on
 * members are said with where, not thrown.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memorySource } from '../../shared/bytes/byte-source';
import { encodeUstarFileHeader, listUstar, ustarEnd, ustarPadding } from '../../shared/formats/archive/ustar';

const tmp = mkdtempSync(path.join(tmpdir(), 'lifeboat-ustar-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const canRun = spawnSync('tar', ['--version']).status === 0 || process.env.CI === 'true';

function tar(args: string[]): string {
  const r = spawnSync('tar', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const LONG = `${'very-long-directory-name-'.repeat(3)}/${'and-a-long-file-name-'.repeat(4)}.yaml`;

describe.skipIf(!canRun)('ustar against GNU tar', () => {
  const src = path.join(tmp, 'src');
  mkdirSync(path.join(src, 'sub', path.dirname(LONG)), { recursive: true });
  writeFileSync(path.join(src, 'metadata1'), Buffer.alloc(32, 1));
  writeFileSync(path.join(src, 'empty'), '');
  writeFileSync(path.join(src, 'sub', LONG), 'x'.repeat(1500));
  symlinkSync('metadata1', path.join(src, 'link'));

  it.each(['gnu', 'pax', 'ustar'])('lists what GNU tar wrote in its %s format, as tar -tv does', async (format) => {
    const file = path.join(tmp, `${format}.tar`);
    // ustar cannot hold the 175-byte name: that format gets the short ones only.
    const members = format === 'ustar' ? ['./metadata1', './empty', './link'] : ['.'];
    tar(['-cf', file, `--format=${format}`, '-C', src, ...members]);
    const bytes = new Uint8Array(readFileSync(file));
    const listed = await listUstar(memorySource('a.tar', bytes), 100);
    expect([listed.ended, listed.problem]).toEqual([true, null]);
    // What tar says, type by type: regular files with their sizes, directories and links with none.
    const theirs = tar(['-tvf', file])
      .trim()
      .split('\n')
      .map((l) => {
        const f = l.split(/\s+/);
        const name = f
          .slice(5)
          .join(' ')
          .replace(/ -> .*$/, '');
        return { kind: l[0]!, size: Number(f[2]), name: name.replace(/\/$/, '') };
      });
    // Our listing, without the extension headers (pax 'x', GNU 'L') whose data tar folds into the next member.
    const ours = listed.members
      .filter((m) => m.type !== 'other')
      .map((m) => ({ kind: m.type === 'file' ? '-' : m.type === 'dir' ? 'd' : 'l', size: m.size, name: m.name.replace(/\/$/, '') }));
    expect(ours.map((m) => [m.kind, m.kind === '-' ? m.size : 0])).toEqual(theirs.map((m) => [m.kind, m.kind === '-' ? m.size : 0]));
    // Names match except where an extension header holds the long one (then ours is the header's truncated field).
    for (const [i, m] of ours.entries()) if (m.name.length < 99) expect(m.name).toBe(theirs[i]!.name);
    // Each file's data is where the listing says.
    for (const m of listed.members.filter((x) => x.type === 'file' && x.name.endsWith('metadata1'))) {
      expect(Buffer.from(bytes.subarray(m.dataOffset, m.dataOffset + m.size)).equals(Buffer.alloc(32, 1))).toBe(true);
    }
  });

  it('writes what GNU tar extracts byte for byte, 0600 and owned by root', () => {
    const data = Buffer.alloc(5000, 7);
    const out = Buffer.concat([
      encodeUstarFileHeader({ name: 'snapshot-2-7-1', size: data.length, mode: 0o600, mtime: 0 }),
      data,
      ustarPadding(data.length),
      encodeUstarFileHeader({ name: 'empty', size: 0, mode: 0o600, mtime: 0 }),
      ustarEnd(),
    ]);
    const file = path.join(tmp, 'ours.tar');
    writeFileSync(file, out);
    expect(
      tar(['-tvf', file, '--numeric-owner'])
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/).slice(0, 3)),
    ).toEqual([
      ['-rw-------', '0/0', '5000'],
      ['-rw-------', '0/0', '0'],
    ]);
    const into = path.join(tmp, 'ours-x');
    mkdirSync(into);
    tar(['-xf', file, '-C', into]);
    expect(readFileSync(path.join(into, 'snapshot-2-7-1')).equals(data)).toBe(true);
    expect(() => encodeUstarFileHeader({ name: 'x'.repeat(101), size: 1, mode: 0o600, mtime: 0 })).toThrow(RangeError);
  });

  it('says where an archive is cut, a header is bad, or the bound is reached, never throwing', async () => {
    const file = path.join(tmp, 'pax.tar');
    const bytes = new Uint8Array(readFileSync(file));
    const cut = await listUstar(memorySource('cut.tar', bytes.subarray(0, 700)), 100);
    expect(cut.ended).toBe(false);
    expect(cut.problem?.why).toMatch(/runs past the end of the archive|ends before its end blocks/);
    const flipped = Uint8Array.from(bytes);
    flipped[10]! ^= 0x01;
    expect((await listUstar(memorySource('bad.tar', flipped), 100)).problem).toEqual({ offset: 0, why: 'the header checksum does not match' });
    const bounded = await listUstar(memorySource('a.tar', bytes), 1);
    expect([bounded.members.length, bounded.ended, bounded.problem?.why]).toEqual([1, false, 'more than 1 members']);
    expect(await listUstar(memorySource('empty.tar', new Uint8Array(0)), 10)).toEqual({
      members: [],
      problem: { offset: 0, why: 'the archive ends before its end blocks' },
      ended: false,
    });
  });
});
