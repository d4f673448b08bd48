/**
 * The ustar reader (shared/formats/archive/ustar.ts) on mutated archives: one
 * GNU tar wrote (its own header flavour, a directory member) and one our
 * encoder wrote (the fresh dqlite backend's layout). Invariants: nothing
 * throws; every member's data lies inside the archive; the listing stops at
 * its bound; a listing that ended cleanly has no problem.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { memorySource } from '../../../shared/bytes/byte-source';
import { encodeUstarFileHeader, listUstar, ustarEnd, ustarPadding } from '../../../shared/formats/archive/ustar';
import { mutateBytes } from '../mutate';
import { check, type FuzzTarget } from '../target';

const MAX_MEMBERS = 64;

function ours(): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [name, size] of [
    ['metadata1', 32],
    ['snapshot-2-7-1.meta', 80],
    ['snapshot-2-7-1', 5000],
    ['cluster.yaml', 61],
  ] as const) {
    parts.push(encodeUstarFileHeader({ name, size, mode: 0o600, mtime: 0 }), new Uint8Array(size).fill(7), ustarPadding(size));
  }
  parts.push(ustarEnd());
  return new Uint8Array(Buffer.concat(parts));
}

export const ustarArchive: FuzzTarget<Uint8Array, Uint8Array[]> = {
  name: 'ustar',
  what: 'ustar archive listing (header checksum, octal fields, member bounds, end blocks) on mutated GNU tar and Lifeboat archives: no throw, members inside the archive',
  corpus: () => {
    const work = mkdtempSync(path.join(tmpdir(), 'lifeboat-fuzz-ustar-'));
    try {
      mkdirSync(path.join(work, 'in', 'sub'), { recursive: true });
      writeFileSync(path.join(work, 'in', 'a.txt'), 'hello\n');
      writeFileSync(path.join(work, 'in', 'sub', 'b.bin'), Buffer.alloc(1500, 3));
      const tar = path.join(work, 'gnu.tar');
      const r = spawnSync('tar', ['-cf', tar, '-C', path.join(work, 'in'), '.'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`tar is needed for the ustar fuzz corpus: ${r.stderr || r.error?.message}`);
      return [new Uint8Array(readFileSync(tar)), ours()];
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
  generate: (r, corpus) => mutateBytes(r, r.pick(corpus), 4096),
  run: async (input) => {
    const listed = await listUstar(memorySource('input.tar', input), MAX_MEMBERS);
    check(listed.members.length <= MAX_MEMBERS, `${listed.members.length} members`);
    for (const m of listed.members) check(m.dataOffset + m.size <= input.length && m.size >= 0, `${m.name}: data ${m.dataOffset}+${m.size} of ${input.length}`);
    check(!(listed.ended && listed.problem), 'an ended listing with a problem');
    if (listed.problem) check(listed.problem.offset >= 0 && listed.problem.offset <= input.length, `problem at ${listed.problem.offset}`);
  },
  files: (input) => ({ 'input.tar': input }),
  size: (input) => input.length,
};
