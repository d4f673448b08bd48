/**
 * The node card's ownership probe (shared/node/ownership.ts): run by `sh` as the node runs it, on a real folder
 * with paths another user owns, and its parser on output a node should never print (garbage, no count, cut
 * off, huge lines): a clear "not read" (null) or only what is well formed, never a throw.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FOREIGN_OWNED_SHOWN, foreignOwnedProbeCommand, parseForeignOwnedProbe } from '../../shared/node/ownership';
import { tempDir } from '../helpers/etcd';

// chown needs root; CI runs as root, where a skip would hide a failure.
const AS_ROOT = process.getuid?.() === 0 || process.env.CI === 'true';

describe('ownership probe', () => {
  let root = '';
  beforeAll(async () => {
    root = await tempDir('owner-probe');
  });
  afterAll(async () => {
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  it.runIf(AS_ROOT)('run by sh: counts every path the user does not own and names the first few, with their owner', async () => {
    const dir = path.join(root, 'etcd');
    await fs.mkdir(path.join(dir, 'member', 'wal'), { recursive: true });
    for (const f of ['member/snap-db', 'member/wal/0.wal', 'member/wal/1.wal']) await fs.writeFile(path.join(dir, f), 'x');
    // Everything nobody's, then two files given back to root: what a copy run with sudo leaves.
    execFileSync('chown', ['-R', 'nobody', dir]);
    execFileSync('chown', ['root', path.join(dir, 'member/wal/0.wal'), path.join(dir, 'member/wal/1.wal')]);
    const out = execFileSync('sh', ['-c', foreignOwnedProbeCommand([dir], 'nobody')], { encoding: 'utf8' });
    const owned = parseForeignOwnedProbe(out)!;
    expect(owned.count).toBe(2);
    expect(owned.paths.map((p) => [p.owner, p.path]).sort()).toEqual([
      ['root', path.join(dir, 'member/wal/0.wal')],
      ['root', path.join(dir, 'member/wal/1.wal')],
    ]);
    // All of it someone else's: counted whole, named up to the few shown.
    const all = parseForeignOwnedProbe(execFileSync('sh', ['-c', foreignOwnedProbeCommand([dir], 'daemon')], { encoding: 'utf8' }))!;
    expect(all.count).toBe(6);
    expect(all.paths).toHaveLength(FOREIGN_OWNED_SHOWN);
    // A user the node does not know: find refuses, nothing is claimed.
    const unknown = parseForeignOwnedProbe(execFileSync('sh', ['-c', foreignOwnedProbeCommand([dir], 'no-such-user-here')], { encoding: 'utf8' }))!;
    expect(unknown).toEqual({ count: 0, paths: [] });
  });

  it('output a node should not print: null without the count line, only well-formed paths otherwise', () => {
    expect(parseForeignOwnedProbe('')).toBeNull();
    expect(parseForeignOwnedProbe('\u0000\u00ff garbage\n\t\t\n')).toBeNull();
    expect(parseForeignOwnedProbe('root\t/var/lib/etcd\n')).toBeNull();
    expect(parseForeignOwnedProbe('foreign-owned 12abc\n')).toBeNull();
    // Cut off mid-line, a relative path, an owner name past 64 characters, a path past 4 KiB: left out, the count kept.
    const odd = ['root\t/var/lib/et', 'root\trelative/path', `${'u'.repeat(65)}\t/x`, `root\t/${'p'.repeat(5000)}`, 'foreign-owned 7'].join('\n');
    expect(parseForeignOwnedProbe(odd)).toEqual({ count: 7, paths: [{ owner: 'root', path: '/var/lib/et' }] });
    // A huge output (the executor caps what it keeps; this is more than a node sends): the first few kept.
    const huge = `${Array.from({ length: 200_000 }, (_, i) => `root\t/d/${i}`).join('\n')}\nforeign-owned 200000\n`;
    const many = parseForeignOwnedProbe(huge)!;
    expect(many.count).toBe(200_000);
    expect(many.paths.map((p) => p.path)).toEqual(['/d/0', '/d/1', '/d/2']);
  });
});
