/**
 * Input recognition: which etcd input a directory or file is, from names and
 * sizes (contents are the decoders' business), and for a lone file under
 * another name, the magic of a bbolt meta page.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryDirectory } from '../../shared/bytes/byte-source';
import { hasShaTrailer, loneBboltEntry, looksLikeEtcd, looksLikeEtcdInput, resolveEtcdLayout } from '../../shared/formats/etcd/layout';
import { memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend } from '../../shared/formats/etcd/etcd-db-write';
import { validateDirectory } from '../../shared/validate';
import { localDirectory } from '../../electron/services/fs-source';
import { openLocalTarget } from '../../electron/services/validation-service';
import { tempDir } from '../helpers/etcd';

const WAL = '0000000000000000-0000000000000000.wal';
const SNAP = '0000000000000002-0000000000000192.snap';

let root = '';
async function tree(name: string, files: Record<string, number>): Promise<string> {
  const dir = path.join(root, name);
  for (const [rel, size] of Object.entries(files)) {
    if (rel.endsWith('/')) {
      await fs.mkdir(path.join(dir, rel), { recursive: true });
      continue;
    }
    await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await fs.writeFile(path.join(dir, rel), Buffer.alloc(size));
  }
  return dir;
}

async function layoutOf(p: string) {
  const src = await openLocalTarget(p);
  try {
    return (await resolveEtcdLayout(src))?.layout ?? null;
  } finally {
    await src.close();
  }
}

beforeAll(async () => {
  root = await tempDir('etcd-layout');
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('etcd input recognition', () => {
  it('a data dir: member/wal, member/snap, member/snap/db, and what etcd left behind', async () => {
    const d = await tree('data', {
      [`member/wal/${WAL}`]: 64,
      'member/wal/0.tmp': 64,
      [`member/wal/${WAL}.broken`]: 64,
      [`member/snap/${SNAP}`]: 10,
      'member/snap/db': 8192,
      'member/snap/0000000000000192.snap.db': 8192,
      'member/snap/notes.txt': 3,
    });
    expect(await layoutOf(d)).toEqual({
      input: 'data-dir',
      walDir: 'member/wal',
      snapDir: 'member/snap',
      dbFile: 'member/snap/db',
      leftovers: expect.arrayContaining([
        { file: 'member/wal/0.tmp', size: 64, kind: 'tmp' },
        { file: `member/wal/${WAL}.broken`, size: 64, kind: 'broken' },
        { file: 'member/snap/0000000000000192.snap.db', size: 8192, kind: 'snap-db' },
        { file: 'member/snap/notes.txt', size: 3, kind: 'unknown' },
      ]) as unknown,
    });
  });

  it('the member dir itself, a --wal-dir, a bare snap dir', async () => {
    expect(await layoutOf(path.join(root, 'data', 'member'))).toMatchObject({ input: 'member-dir', walDir: 'wal', snapDir: 'snap', dbFile: 'snap/db' });
    expect(await layoutOf(path.join(root, 'data', 'member', 'wal'))).toMatchObject({ input: 'wal-dir', walDir: '', dbFile: '' });
    expect(await layoutOf(path.join(root, 'data', 'member', 'snap'))).toMatchObject({ input: 'member-dir', walDir: '', dbFile: 'db' });
  });

  it('a lone file: db / <index>.snap.db are bbolt files; snapshot.db (by name or by the +32 size) is a saved snapshot', async () => {
    const d = await tree('files', { 'a/db': 8192, 'b/0000000000000192.snap.db': 8192, 'c/snapshot.db': 8192 + 32, 'd/backup.db': 8192, 'e/noname': 8192 + 32 });
    expect(await layoutOf(path.join(d, 'a', 'db'))).toMatchObject({ input: 'db-file', dbFile: 'db' });
    expect(await layoutOf(path.join(d, 'b', '0000000000000192.snap.db'))).toMatchObject({ input: 'db-file' });
    expect(await layoutOf(path.join(d, 'c', 'snapshot.db'))).toMatchObject({ input: 'snapshot-db', dbFile: 'snapshot.db' });
    expect(await layoutOf(path.join(d, 'd', 'backup.db'))).toMatchObject({ input: 'snapshot-db' });
    expect(await layoutOf(path.join(d, 'e', 'noname'))).toMatchObject({ input: 'snapshot-db' });
    expect(hasShaTrailer(8192)).toBe(false);
    expect(hasShaTrailer(73760)).toBe(true);
  });

  it('names the dispatcher treats as etcd, and names it does not', async () => {
    expect(looksLikeEtcd(['member'])).toBe(true);
    expect(looksLikeEtcd([WAL, '0.tmp'])).toBe(true);
    expect(looksLikeEtcd(['wal', 'snap'])).toBe(true);
    expect(looksLikeEtcd(['snapshot.db'])).toBe(true);
    expect(looksLikeEtcd(['notes.txt', 'photo.png'])).toBe(false);
    expect(looksLikeEtcd(['app.db', 'app.db-wal', 'README'])).toBe(false);
    // A lone file: a snapshot.db by its size (the SHA-256 trailer) whatever its name; other files are not etcd's.
    const lone = async (name: string, size: number) => {
      const dir = memoryDirectory('copy', { [name]: new Uint8Array(size) });
      return looksLikeEtcdInput(dir, await dir.list());
    };
    expect(await lone('noname', 8192 + 32)).toBe(true);
    expect(await lone('notes.txt', 100)).toBe(false);
  });

  it('a db copied off a node under another name is recognised by its bytes (a meta page’s magic, page 0’s or page 1’s); other files are not', async () => {
    const te = new TextEncoder();
    const sink = memorySink();
    await writeEtcdBackend(sink, {
      revisions: [
        {
          key: revisionKey(2, 0),
          value: encodeKeyValue({ key: te.encode('/registry/pods/a'), createRevision: 2, modRevision: 2, version: 1, value: te.encode('v'), lease: 0n }),
        },
      ],
      buckets: { meta: [[te.encode('consistent_index'), u64be(3)]] },
    });
    const db = sink.bytes();
    const d = path.join(root, 'renamed');
    await fs.mkdir(d, { recursive: true });
    const named = async (name: string, bytes: Uint8Array) => {
      await fs.mkdir(path.join(d, name), { recursive: true });
      await fs.writeFile(path.join(d, name, name), bytes);
      return path.join(d, name, name);
    };
    const asDb = await named('db.node1', db);
    const page0Zeroed = db.slice();
    page0Zeroed.fill(0, 0, 4096);
    const asBroken = await named('etcd-db-2026-12-05', page0Zeroed);
    const notDb = await named(
      'notes',
      Uint8Array.from({ length: 8192 }, (_, i) => i % 251),
    );
    expect(await layoutOf(asDb)).toMatchObject({ input: 'db-file', dbFile: 'db.node1' });
    expect(await layoutOf(asBroken)).toMatchObject({ input: 'db-file', dbFile: 'etcd-db-2026-12-05' });
    expect(await layoutOf(notDb)).toBeNull();
    // The folder holding it, as validation, salvage and repair take it (a copy-out folder, a backup folder).
    for (const [file, expected] of [
      [asDb, true],
      [asBroken, true],
      [notDb, false],
    ] as const) {
      const folder = localDirectory(path.dirname(file));
      try {
        expect(await looksLikeEtcdInput(folder, await folder.list())).toBe(expected);
        expect((await loneBboltEntry(folder, await folder.list()))?.name ?? null).toBe(expected ? path.basename(file) : null);
      } finally {
        await folder.close();
      }
    }
    // The whole validation: the same verdict as for the file named db.
    const asNamedDb = await named('db', db);
    const reportOf = async (p: string) => {
      const src = await openLocalTarget(p);
      try {
        return await validateDirectory(src);
      } finally {
        await src.close();
      }
    };
    const renamed = await reportOf(asDb);
    const original = await reportOf(asNamedDb);
    expect(renamed.engine).toBe('etcd');
    expect(renamed.startable).toBe(original.startable);
    expect(renamed.findings.map((f) => f.code)).toEqual(original.findings.map((f) => f.code));
    expect(renamed.etcd!.schema!.liveKeys).toBe(1);
    expect((await reportOf(notDb)).engine).toBe('unknown');
  });

  it('a directory without anything etcd-like resolves to null (the dispatcher says "not a datastore")', async () => {
    const d = await tree('other', { 'notes.txt': 4, 'sub/': 0 });
    expect(await layoutOf(path.join(d, 'notes.txt'))).toBeNull();
    const src = localDirectory(d);
    try {
      expect(await resolveEtcdLayout(src)).toBeNull();
    } finally {
      await src.close();
    }
  });
});
