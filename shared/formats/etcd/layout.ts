/**
 * Recognise what was handed to the etcd validator: a data dir (`member/wal`,
 * `member/snap`, `member/snap/db`), the `member/` dir itself, a `--wal-dir`
 * (only `*.wal` files), a lone bbolt `db` / `<index>.snap.db`, or a
 * `snapshot.db` from `etcdctl snapshot save` (bbolt + 32-byte SHA-256). Names
 * and sizes are used here, and for a lone file under another name (a db copied
 * off a node as `db.node1`) the magic of a bbolt meta page; contents are
 * checked by the decoders.
 */
import type { ByteSource, DirEntry, DirectorySource } from '../../bytes/byte-source';
import type { EtcdInputKind, EtcdLayout } from '../../contract/etcd';
import { isSqliteHead } from '../archive/archive-kind';

/** `%016x-%016x.wal` (seq-index). */
export const WAL_NAME = /^[0-9a-f]{16}-[0-9a-f]{16}\.wal$/;
/** `%016x-%016x.snap` (term-index). */
export const SNAP_NAME = /^[0-9a-f]{16}-[0-9a-f]{16}\.snap$/;
/** `%016x.snap.db`: a db received from the leader with a snapshot. */
export const SNAP_DB_NAME = /^[0-9a-f]{16}\.snap\.db$/;

/**
 * etcdctl's own rule (`snapshot restore`): a file whose size is 32 more than
 * a multiple of 512 carries the SHA-256 trailer. A bbolt file is a whole
 * number of pages, so a raw `db` never matches.
 */
export function hasShaTrailer(size: number): boolean {
  return size % 512 === 32;
}

/** Does this listing look like an etcd data dir or member dir (`repair`'s dispatch; a data dir one level down)? */
export function looksLikeEtcdDataDir(names: readonly string[]): boolean {
  return names.includes('member') || (names.includes('wal') && names.includes('snap'));
}

/** Names that mark an etcd input at its top level (for engine dispatch). */
export function looksLikeEtcd(names: string[]): boolean {
  return names.some(
    (n) =>
      n === 'member' ||
      n === 'wal' ||
      n === 'snap' ||
      n === 'db' ||
      WAL_NAME.test(n) ||
      SNAP_NAME.test(n) ||
      SNAP_DB_NAME.test(n) ||
      // a lone file handed over on its own: `snapshot.db`, `backup.db`
      (names.length === 1 && /\.db$/.test(n)),
  );
}

/** A single file handed over on its own that etcd tooling would read as bbolt: `db`, `*.db`, or a file with the snapshot trailer size. */
export function isLoneDbFile(e: Pick<DirEntry, 'name' | 'size'>): boolean {
  return e.name === 'db' || /\.db$/.test(e.name) || hasShaTrailer(e.size);
}

/**
 * Where a bbolt meta page's magic (0xED0CDAED, little-endian, after the 16-byte page header) lies: in page 0,
 * and in page 1 for the page sizes bbolt takes from the OS (4 KiB; 16 and 64 KiB on some arm64 and ppc64
 * kernels), in case page 0 is the damaged one.
 */
const META_MAGIC_AT = [16, 4096 + 16, 16384 + 16, 65536 + 16];

/** Whether the bytes of `src` say bbolt: a meta page's magic where page 0's or page 1's would be. */
export async function hasBboltMagic(src: ByteSource): Promise<boolean> {
  for (const at of META_MAGIC_AT) {
    if (at + 4 > src.size) break;
    const b = await src.read(at, 4);
    if (b.length === 4 && b[0] === 0xed && b[1] === 0xda && b[2] === 0x0c && b[3] === 0xed) return true;
  }
  return false;
}

/**
 * The lone file of `entries` (one file, no folder) when it is a db or snapshot.db: by its name or size
 * (`isLoneDbFile`), else by its bytes (a db copied off a node as `db.node1` or `etcd-db-2026-12-05`); null
 * otherwise, or when it cannot be read.
 */
export async function loneBboltEntry<E extends Pick<DirEntry, 'name' | 'size' | 'kind'>>(dir: DirectorySource, entries: E[]): Promise<E | null> {
  const only = entries.length === 1 ? entries[0]! : null;
  if (!only || only.kind !== 'file') return null;
  try {
    const src = await dir.open(only.name);
    // Named like etcd's (`state.db`) but a SQLite database: k3s's datastore, no bbolt (validation says so).
    if (isSqliteHead(await src.read(0, Math.min(src.size, 16)))) return null;
    return isLoneDbFile(only) || (await hasBboltMagic(src)) ? only : null;
  } catch {
    return isLoneDbFile(only) ? only : null; // unreadable: by its name, as before (the decoders say what fails)
  }
}

/** A data dir's names (`looksLikeEtcd`), or a lone file that is a db or snapshot.db (`loneBboltEntry`). */
export async function looksLikeEtcdInput(dir: DirectorySource, entries: Pick<DirEntry, 'name' | 'size' | 'kind'>[]): Promise<boolean> {
  const names = entries.map((e) => e.name);
  if (entries.length !== 1 || entries[0]!.kind !== 'file') return looksLikeEtcd(names);
  if (await loneBboltEntry(dir, entries)) return true;
  // No db: a lone WAL or .snap file is still etcd's by its name; a lone `*.db` that is no bbolt (SQLite) is not.
  return looksLikeEtcd(names) && names[0] !== 'db' && !names[0]!.endsWith('.db');
}

/** A resolved layout: the contract's names plus the directories to read. */
export interface ResolvedEtcdLayout {
  layout: EtcdLayout;
  /** The directory holding the WAL files (null when there is none). */
  wal: DirectorySource | null;
  walEntries: DirEntry[];
  snap: DirectorySource | null;
  snapEntries: DirEntry[];
  /** The directory holding the db file, and its name in there. */
  dbDir: DirectorySource | null;
  dbName: string | null;
  dbSize: number | null;
}

const join = (a: string, b: string) => (a ? `${a}/${b}` : b);

function leftoverKind(name: string): EtcdLayout['leftovers'][number]['kind'] | null {
  if (name.endsWith('.broken')) return 'broken';
  if (name.endsWith('.tmp')) return 'tmp';
  if (SNAP_DB_NAME.test(name)) return 'snap-db';
  return null;
}

/** `entries`' symbolic links among `names` (the parts etcd opens by name there), with where they point. */
function linksAmong(rel: string, entries: DirEntry[], names: readonly string[]): NonNullable<EtcdLayout['links']> {
  return entries
    .filter((e) => e.linkTarget !== undefined && names.includes(e.name))
    .map((e) => ({ path: join(rel, e.name), target: e.linkTarget!, leadsNowhere: e.kind === 'symlink' }));
}

async function sub(dir: DirectorySource, entries: DirEntry[], name: string): Promise<{ dir: DirectorySource; entries: DirEntry[] } | null> {
  if (!entries.some((e) => e.name === name && e.kind === 'dir') || !dir.subdir) return null;
  const d = await dir.subdir(name);
  return { dir: d, entries: await d.list() };
}

/**
 * Resolve the layout of `root`. Returns null when nothing etcd-like is there
 * (the caller reports "not a datastore directory").
 */
export async function resolveEtcdLayout(root: DirectorySource, rootEntries?: DirEntry[]): Promise<ResolvedEtcdLayout | null> {
  const entries = rootEntries ?? (await root.list());
  const leftovers: EtcdLayout['leftovers'] = [];
  const note = (rel: string, list: DirEntry[], known: (n: string) => boolean) => {
    for (const e of list) {
      if (e.kind !== 'file' || known(e.name)) continue;
      leftovers.push({ file: join(rel, e.name), size: e.size, kind: leftoverKind(e.name) ?? 'unknown' });
    }
  };

  // A lone file: db or snapshot.db (by its name, size or bytes).
  const files = entries.filter((e) => e.kind === 'file');
  const dirs = entries.filter((e) => e.kind === 'dir');
  if (dirs.length === 0 && files.length === 1 && (await loneBboltEntry(root, files))) {
    const f = files[0]!;
    // etcdctl's size rule finds the trailer; a file named like a saved snapshot (`snapshot.db`,
    // `backup-2024.db`) is judged as one even when the trailer is gone (restore then refuses it).
    const savedName = /\.db$/.test(f.name) && f.name !== 'db' && !SNAP_DB_NAME.test(f.name);
    const input: EtcdInputKind = hasShaTrailer(f.size) || savedName ? 'snapshot-db' : 'db-file';
    return {
      layout: { input, walDir: '', snapDir: '', dbFile: f.name, leftovers: [] },
      wal: null,
      walEntries: [],
      snap: null,
      snapEntries: [],
      dbDir: root,
      dbName: f.name,
      dbSize: f.size,
    };
  }

  let memberRel = '';
  let memberDir: DirectorySource = root;
  let memberEntries = entries;
  let input: EtcdInputKind;
  const m = await sub(root, entries, 'member');
  if (m) {
    input = 'data-dir';
    memberRel = 'member';
    memberDir = m.dir;
    memberEntries = m.entries;
    note('', files, () => true); // files beside member/ are none of etcd's business
  } else if (dirs.some((d) => d.name === 'wal' || d.name === 'snap')) {
    input = 'member-dir';
  } else if (files.some((f) => WAL_NAME.test(f.name))) {
    input = 'wal-dir';
    note('', files, (n) => WAL_NAME.test(n));
    return {
      layout: { input, walDir: '', snapDir: '', dbFile: '', leftovers },
      wal: root,
      walEntries: entries,
      snap: null,
      snapEntries: [],
      dbDir: null,
      dbName: null,
      dbSize: null,
    };
  } else if (files.some((f) => SNAP_NAME.test(f.name) || f.name === 'db')) {
    // A bare snap dir (`member/snap` handed over on its own).
    input = 'member-dir';
    const db = files.find((f) => f.name === 'db');
    note('', files, (n) => SNAP_NAME.test(n) || n === 'db');
    return {
      layout: { input, walDir: '', snapDir: '', dbFile: db ? 'db' : '', leftovers },
      wal: null,
      walEntries: [],
      snap: root,
      snapEntries: entries,
      dbDir: db ? root : null,
      dbName: db ? 'db' : null,
      dbSize: db?.size ?? null,
    };
  } else {
    return null;
  }

  const wal = await sub(memberDir, memberEntries, 'wal');
  const snap = await sub(memberDir, memberEntries, 'snap');
  const walRel = wal ? join(memberRel, 'wal') : '';
  const snapRel = snap ? join(memberRel, 'snap') : '';
  if (wal) note(walRel, wal.entries, (n) => WAL_NAME.test(n));
  const db = snap?.entries.find((e) => e.name === 'db' && e.kind === 'file');
  if (snap) note(snapRel, snap.entries, (n) => SNAP_NAME.test(n) || n === 'db');
  const links = [
    ...(input === 'data-dir' ? linksAmong('', entries, ['member']) : []),
    ...linksAmong(memberRel, memberEntries, ['wal', 'snap']),
    ...(snap ? linksAmong(snapRel, snap.entries, ['db']) : []),
  ];
  return {
    layout: { input, walDir: walRel, snapDir: snapRel, dbFile: db ? join(snapRel, 'db') : '', leftovers, ...(links.length ? { links } : {}) },
    wal: wal?.dir ?? null,
    walEntries: wal?.entries ?? [],
    snap: snap?.dir ?? null,
    snapEntries: snap?.entries ?? [],
    dbDir: db ? snap!.dir : null,
    dbName: db ? 'db' : null,
    dbSize: db?.size ?? null,
  };
}
