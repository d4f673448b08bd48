/**
 * The SQLite reader (shared/formats/sqlite/) against the real sqlite3: the
 * files are written by sqlite3 itself from values generated here, and the
 * reader must return exactly those values (integers of every width, floats,
 * text in UTF-8 and UTF-16, blobs spilling over one or many overflow pages,
 * NULLs), in rowid order, for page sizes from 512 to 65536 bytes and tables
 * deep enough for several interior levels; a WAL's committed transactions
 * are laid over the main file as sqlite3 itself reads them; damaged pages
 * are problems with their page number, never a throw. Then kine's table:
 * the live keys the reader hands over are the ones sqlite3 selects, with
 * the same values.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memorySource } from '../../shared/bytes/byte-source';
import { decodeRecord, encodeRecord, encodeVarint, readVarint, type SqliteValue } from '../../shared/formats/sqlite/record';
import { openSqliteDatabase, walkTable, type SqliteDatabase } from '../../shared/formats/sqlite/table';
import { readSchema, tableColumns } from '../../shared/formats/sqlite/schema';
import { findKineTable, forEachLiveKineRow, type KineRow } from '../../shared/formats/sqlite/kine';
import { kineLiveKeysCommand } from '../../shared/formats/dqlite/fresh-backend';
import { uniform } from '../fuzz/mutate';

const enabled = spawnSync('sqlite3', ['-version']).status === 0 || process.env.CI === 'true';
const tmp = mkdtempSync(path.join(tmpdir(), 'lifeboat-sqlite-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sqlite(db: string, sql: string, ...flags: string[]): string {
  const r = spawnSync('sqlite3', [...flags, db], { input: sql, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`sqlite3: ${r.stderr}`);
  return r.stdout;
}

const INT_EDGES: (number | bigint)[] = [
  0,
  1,
  -1,
  127,
  -128,
  128,
  32767,
  -32768,
  8388607,
  -8388608,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 47 - 1,
  -(2 ** 47),
  2 ** 53,
  -(2 ** 53),
];
const BIG_EDGES: bigint[] = [9223372036854775807n, -9223372036854775808n, 9007199254740993n, -9007199254740993n];

function value(r: () => number, i: number): SqliteValue {
  switch (i % 7) {
    case 0:
      return null;
    case 1:
      return INT_EDGES[Math.floor(r() * INT_EDGES.length)]!;
    case 2:
      return BIG_EDGES[Math.floor(r() * BIG_EDGES.length)]!;
    case 3:
      // Floats whose shortest decimal form round-trips through sqlite3's parser exactly.
      return Number((r() * 2e6 - 1e6).toPrecision(12)) + 0.5;
    case 4: {
      const words = ['kine', '键值', 'etcd', 'Ünïcödé', '🙂', 'registry', ''];
      return Array.from({ length: Math.floor(r() * 8) }, () => words[Math.floor(r() * words.length)]).join('/');
    }
    default: {
      // Blobs from empty to several overflow pages (up to ~70 KB; one in 50 is 300 KB).
      const n = r() < 0.02 ? 300_000 : Math.floor(r() * r() * 70_000);
      const b = new Uint8Array(n);
      for (let k = 0; k < n; k++) b[k] = Math.floor(r() * 256);
      return b;
    }
  }
}

function literal(v: SqliteValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(17);
  if (typeof v === 'string') return `'${v.replace(/'/g, "''")}'`;
  return `X'${Buffer.from(v).toString('hex')}'`;
}

async function open(file: string, withWal = false): Promise<SqliteDatabase> {
  const main = memorySource(path.basename(file), new Uint8Array(readFileSync(file)));
  let wal = null;
  if (withWal) {
    try {
      wal = memorySource(`${path.basename(file)}-wal`, new Uint8Array(readFileSync(`${file}-wal`)));
    } catch {
      wal = null;
    }
  }
  const o = await openSqliteDatabase(main, wal);
  if (!o.ok) throw new Error(o.why);
  return o.db;
}

async function rowsOf(db: SqliteDatabase, table: string): Promise<{ rows: [number | bigint, SqliteValue[]][]; problems: number }> {
  const schema = await readSchema(db);
  const entry = schema.entries.find((e) => e.name === table)!;
  const rows: [number | bigint, SqliteValue[]][] = [];
  const walk = await walkTable(db, entry.rootPage, (rowid, payload) => {
    const r = decodeRecord(payload, db.header.encoding);
    if (!r.ok) throw new Error(r.why);
    rows.push([rowid, r.values]);
  });
  return { rows, problems: walk.problems.length };
}

describe('varints and records, encode beside decode', () => {
  it('round-trips every varint width and the records sqlite3 would write', () => {
    const values: (number | bigint)[] = [
      0,
      1,
      127,
      128,
      16383,
      16384,
      2 ** 21,
      2 ** 28,
      2 ** 35,
      2 ** 42,
      2 ** 49 - 1,
      2 ** 49,
      2n ** 56n - 1n,
      2n ** 56n,
      2n ** 63n,
      2n ** 64n - 1n,
    ];
    for (const v of values) {
      const b = encodeVarint(v);
      const r = readVarint(b, 0)!;
      expect(BigInt(r.value), String(v)).toBe(BigInt(v));
      expect(r.next).toBe(b.length);
      expect(b.length).toBeLessThanOrEqual(9);
      // Cut anywhere: null, never a wrong value.
      for (let cut = 0; cut < b.length; cut++) expect(readVarint(b.subarray(0, cut), 0)).toBeNull();
    }
    const r = uniform(7);
    for (let i = 0; i < 500; i++) {
      const row = Array.from({ length: 1 + (i % 9) }, (_, k) => value(r, i + k));
      const decoded = decodeRecord(encodeRecord(row));
      expect(decoded.ok && show([i, decoded.values])).toBe(show([i, row]));
    }
  });
});

describe.skipIf(!enabled)('reading what sqlite3 wrote', () => {
  it.each([512, 4096, 65536])('returns exactly the values sqlite3 stored, in rowid order (page size %i)', async (pageSize) => {
    const seed = 1000 + pageSize;
    const r = uniform(seed);
    const file = path.join(tmp, `values-${pageSize}.db`);
    const rows: SqliteValue[][] = [];
    const statements = [`PRAGMA page_size=${pageSize};`, 'CREATE TABLE t (a, b, c, d);', 'BEGIN;'];
    const count = pageSize === 512 ? 6000 : 3000;
    for (let i = 0; i < count; i++) {
      const row = [value(r, i), value(r, i + 1), value(r, i + 3), value(r, i + 5)];
      rows.push(row);
      statements.push(`INSERT INTO t VALUES (${row.map(literal).join(', ')});`);
    }
    // Deletions and an update that rewrites spilled payloads: freeblocks, freelist pages and moved chains.
    statements.push('DELETE FROM t WHERE rowid % 11 = 0;', 'UPDATE t SET a = zeroblob(5000) WHERE rowid % 13 = 0;', 'COMMIT;');
    sqlite(file, statements.join('\n'));
    expect(sqlite(file, 'PRAGMA integrity_check;').trim()).toBe('ok');
    const db = await open(file);
    expect(db.header.pageSize).toBe(pageSize);
    const { rows: got, problems } = await rowsOf(db, 't');
    expect(problems).toBe(0);
    const expected = rows
      .map((row, i) => [i + 1, (i + 1) % 13 === 0 ? [new Uint8Array(5000), ...row.slice(1)] : row] as [number, SqliteValue[]])
      .filter(([id]) => id % 11 !== 0);
    expect(got.length, `seed ${seed}`).toBe(expected.length);
    // Compared as text, blobs by length and SHA-256 (a deep compare of thousands of blobs takes minutes).
    expect(got.map(show), `seed ${seed}`).toEqual(expected.map(show));
    // Several interior levels on the smallest pages.
    if (pageSize === 512)
      expect(Number(sqlite(file, "SELECT count(*) FROM dbstat WHERE name='t' AND pagetype='internal';", '-batch').trim() || '2')).toBeGreaterThan(1);
  });

  it('reads a UTF-16 database as sqlite3 does', async () => {
    const file = path.join(tmp, 'utf16.db');
    sqlite(file, "PRAGMA encoding='UTF-16le'; CREATE TABLE t (s TEXT); INSERT INTO t VALUES ('键值 kine'), ('Ünïcödé'), ('🙂');");
    const db = await open(file);
    expect(db.header.encoding).toBe('utf-16le');
    expect((await rowsOf(db, 't')).rows.map(([, v]) => v[0])).toEqual(['键值 kine', 'Ünïcödé', '🙂']);
  });

  it("lays the WAL's committed transactions over the main file, as sqlite3 reads the same two files", async () => {
    const dir = path.join(tmp, 'wal');
    const copy = path.join(tmp, 'wal-copy');
    spawnSync('mkdir', ['-p', dir, copy]);
    const file = path.join(dir, 'state.db');
    // The copy is taken while sqlite3 still holds the database open, so the WAL is not yet checkpointed away.
    sqlite(
      file,
      [
        'PRAGMA journal_mode=WAL;',
        'PRAGMA wal_autocheckpoint=0;',
        'CREATE TABLE t (k TEXT, v BLOB);',
        ...Array.from({ length: 400 }, (_, i) => `INSERT INTO t VALUES ('key-${i}', zeroblob(${(i * 37) % 9000}));`),
        "UPDATE t SET k = k || '-updated' WHERE rowid % 7 = 0;",
        'DELETE FROM t WHERE rowid % 9 = 0;',
        `.shell cp ${file} ${file}-wal ${copy}/`,
      ].join('\n'),
    );
    const copied = path.join(copy, 'state.db');
    expect(readFileSync(`${copied}-wal`).length).toBeGreaterThan(32);
    const withWal = await open(copied, true);
    expect(withWal.wal?.commits).toBeGreaterThan(0);
    const ours = (await rowsOf(withWal, 't')).rows.map(([id, v]) => `${id}|${String(v[0])}|${(v[1] as Uint8Array).length}`);
    // sqlite3 on a copy of the same two files (it recovers the WAL the same way).
    const theirs = sqlite(path.join(copy, 'state.db'), 'SELECT rowid, k, length(v) FROM t ORDER BY rowid;').trim().split('\n');
    expect(ours).toEqual(theirs);
    expect(ours.length).toBe(400 - Math.floor(400 / 9));
  });

  it('reads past damaged pages: each is a problem with its page number, the other rows still come', async () => {
    const file = path.join(tmp, 'damaged.db');
    sqlite(
      file,
      [
        'PRAGMA page_size=1024;',
        'CREATE TABLE t (k TEXT, v TEXT);',
        'BEGIN;',
        ...Array.from({ length: 3000 }, (_, i) => `INSERT INTO t VALUES ('k${i}', '${'x'.repeat(i % 300)}');`),
        'COMMIT;',
      ].join('\n'),
    );
    const whole = await rowsOf(await open(file), 't');
    const bytes = readFileSync(file);
    // A leaf in the middle of the table's tree: find one by walking, then zero it.
    const db = await open(file);
    const leaves: number[] = [];
    const root = (await readSchema(db)).entries.find((e) => e.name === 't')!.rootPage;
    for (let pgno = 2; pgno <= db.pageCount; pgno++) if ((await db.page(pgno))[0] === 13) leaves.push(pgno);
    const victim = leaves[Math.floor(leaves.length / 2)]!;
    const damaged = Buffer.from(bytes);
    damaged.fill(0, (victim - 1) * 1024, victim * 1024);
    const damagedFile = path.join(tmp, 'damaged-zeroed.db');
    writeFileSync(damagedFile, damaged);
    // sqlite3 agrees the file is damaged (it says so, or refuses it as malformed).
    const check = spawnSync('sqlite3', [damagedFile, 'PRAGMA integrity_check;'], { encoding: 'utf8' });
    expect(`${check.stdout}${check.stderr}`.trim()).not.toBe('ok');
    const ddb = await open(damagedFile);
    const rows: (number | bigint)[] = [];
    const walk = await walkTable(ddb, root, (rowid) => void rows.push(rowid));
    expect(walk.problems).toEqual([{ page: victim, offset: 0, why: 'page type 0 is not a b-tree page (2, 5, 10 or 13)' }]);
    // Every row of the other leaves, none of the zeroed one's.
    const lost = new Set(whole.rows.map(([id]) => id).filter((id) => !rows.includes(id)));
    expect(rows.length).toBe(whole.rows.length - lost.size);
    expect(lost.size).toBeGreaterThan(0);
    // A loop: an interior page pointing back at the root. Said, not followed.
    const looped = Buffer.from(bytes);
    const interior = [];
    for (let pgno = 2; pgno <= db.pageCount; pgno++) if ((await db.page(pgno))[0] === 5) interior.push(pgno);
    const at = (interior[0]! - 1) * 1024;
    looped.writeUInt32BE(root, at + 8);
    const ldb = await open(writeTemp('looped.db', looped));
    const lwalk = await walkTable(ldb, root, () => undefined);
    expect(lwalk.problems.some((p) => p.why.includes('reached a second time'))).toBe(true);
  });
});

function show([id, values]: [number | bigint, SqliteValue[]]): string {
  const one = (v: SqliteValue): string =>
    v instanceof Uint8Array
      ? `blob(${v.length}:${createHash('sha256').update(v).digest('hex').slice(0, 16)})`
      : typeof v === 'bigint'
        ? `${v}n`
        : JSON.stringify(v);
  return `${id}: ${values.map(one).join(', ')}`;
}

function writeTemp(name: string, bytes: Uint8Array): string {
  const f = path.join(tmp, name);
  writeFileSync(f, bytes);
  return f;
}

describe('CREATE TABLE columns', () => {
  it("reads kine's declarations and SQLite's quoting, finds the rowid alias, and WITHOUT ROWID", () => {
    const kine = `CREATE TABLE kine
      (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name INTEGER,
        created INTEGER,
        deleted INTEGER,
        create_revision INTEGER,
        prev_revision INTEGER,
        lease INTEGER,
        value BLOB,
        old_value BLOB
      )`;
    expect(tableColumns(kine)).toEqual({
      columns: ['id', 'name', 'created', 'deleted', 'create_revision', 'prev_revision', 'lease', 'value', 'old_value'],
      rowidAlias: 0,
      withoutRowid: false,
    });
    expect(tableColumns('CREATE TABLE "a b" ("x""y" TEXT, [z w] INT DEFAULT (1, 2), `q` BLOB CHECK (q <> \'),\'), PRIMARY KEY ("x""y"))')).toEqual({
      columns: ['x"y', 'z w', 'q'],
      rowidAlias: null,
      withoutRowid: false,
    });
    expect(tableColumns('CREATE TABLE t (a INTEGER, b TEXT, PRIMARY KEY (a))')?.rowidAlias).toBe(0);
    expect(tableColumns('CREATE TABLE t (a INT PRIMARY KEY, b)')?.rowidAlias).toBeNull();
    expect(tableColumns('CREATE TABLE t (a TEXT PRIMARY KEY, b) WITHOUT ROWID')).toMatchObject({ withoutRowid: true, rowidAlias: null });
    expect(tableColumns('CREATE TABLE t')).toBeNull();
    expect(tableColumns(`CREATE TABLE t (${'('.repeat(100_000)}`)).toBeNull();
  });
});

describe.skipIf(!enabled)("kine's table", () => {
  it('hands over the live keys sqlite3 selects, each with its newest value; kine rows and deletions left out', async () => {
    const file = path.join(tmp, 'kine.db');
    const r = uniform(42);
    const statements = [
      'CREATE TABLE kine (id INTEGER PRIMARY KEY AUTOINCREMENT, name INTEGER, created INTEGER, deleted INTEGER, create_revision INTEGER, prev_revision INTEGER, lease INTEGER, value BLOB, old_value BLOB);',
      'CREATE INDEX kine_name_index ON kine (name);',
      "INSERT INTO kine (name, created, deleted, create_revision, prev_revision, lease, value, old_value) VALUES ('compact_rev_key', 0, 0, 0, 0, 0, '', NULL);",
      'BEGIN;',
    ];
    const latest = new Map<string, { value: Buffer; deleted: boolean }>();
    for (let i = 0; i < 4000; i++) {
      const name = `/registry/configmaps/ns-${Math.floor(r() * 20)}/cm-${Math.floor(r() * 300)}`;
      const deleting = latest.has(name) && r() < 0.15;
      const value = Buffer.from(JSON.stringify({ kind: 'ConfigMap', i, data: 'v'.repeat(Math.floor(r() * r() * 20000)) }));
      statements.push(
        `INSERT INTO kine (name, created, deleted, create_revision, prev_revision, lease, value, old_value) VALUES ('${name}', ${latest.has(name) ? 0 : 1}, ${deleting ? 1 : 0}, 1, 0, 0, X'${value.toString('hex')}', NULL);`,
      );
      latest.set(name, { value, deleted: deleting });
      if (i % 500 === 0)
        statements.push(
          `INSERT INTO kine (name, created, deleted, create_revision, prev_revision, lease, value, old_value) VALUES ('gap-${i}', 0, 1, 0, 0, 0, NULL, NULL);`,
        );
    }
    statements.push('COMMIT;');
    sqlite(file, statements.join('\n'));
    const db = await open(file);
    const found = await findKineTable(db);
    expect(found.ok).toBe(true);
    if (!found.ok) return;
    const rows: KineRow[] = [];
    const walk = await forEachLiveKineRow(db, found.table, (row) => void rows.push(row));
    expect(walk.problems).toEqual([]);
    // sqlite3's answer, by the query the app prints for the rebuilt kine database.
    const query = kineLiveKeysCommand(file).replace(/^sqlite3 \S+ "(.*)"$/, '$1');
    const theirs = sqlite(file, `${query};`).trim().split('\n');
    expect(rows.map((x) => x.name).sort()).toEqual([...theirs].sort());
    expect(walk.live).toBe(theirs.length);
    expect(walk.deleted).toBe([...latest.values()].filter((x) => x.deleted).length);
    for (const row of rows) expect(Buffer.from(row.value).equals(latest.get(row.name)!.value), row.name).toBe(true);
    // In revision order.
    expect(rows.map((x) => Number(x.id))).toEqual(rows.map((x) => Number(x.id)).sort((a, b) => a - b));
  });
});

describe.skipIf(!enabled)('bad input: truncated, garbage, huge lengths', () => {
  it('says what is wrong and never throws: a cut file, a garbage header, a payload size past the bound', async () => {
    const file = path.join(tmp, 'bad-base.db');
    sqlite(
      file,
      ['CREATE TABLE t (v BLOB);', 'BEGIN;', ...Array.from({ length: 300 }, (_, i) => `INSERT INTO t VALUES (zeroblob(${i * 50}));`), 'COMMIT;'].join('\n'),
    );
    const whole = new Uint8Array(readFileSync(file));
    // Shorter than the header, and garbage: refused with the reason, nothing read further.
    expect(await openSqliteDatabase(memorySource('x', whole.subarray(0, 60)))).toMatchObject({ ok: false, offset: 0 });
    const garbage = whole.slice();
    garbage.fill(0x5a, 0, 16);
    expect(await openSqliteDatabase(memorySource('x', garbage))).toEqual({ ok: false, why: 'no "SQLite format 3" magic: not a SQLite database', offset: 0 });
    const badPage = whole.slice();
    new DataView(badPage.buffer).setUint16(16, 3000);
    expect(await openSqliteDatabase(memorySource('x', badPage))).toMatchObject({ ok: false, offset: 16 });
    // Cut in the middle: the header still states every page; the missing ones read as zeros and are problems.
    const cut = await openSqliteDatabase(memorySource('cut', whole.subarray(0, Math.floor(whole.length / 2))));
    expect(cut.ok).toBe(true);
    if (!cut.ok) return;
    const root = (await readSchema(cut.db)).entries.find((e) => e.name === 't')!.rootPage;
    const rows: (number | bigint)[] = [];
    const walk = await walkTable(cut.db, root, (rowid) => void rows.push(rowid));
    expect(walk.problems.length).toBeGreaterThan(0);
    expect(walk.problems.every((p) => p.page !== null && p.page > Math.floor(whole.length / 2 / cut.db.header.pageSize))).toBe(true);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(300);
    // A payload size of 2^40 in a leaf cell: refused before anything is allocated, the other rows still come.
    const huge = whole.slice();
    const db = await open(file);
    let leaf = 0;
    for (let pgno = 2; pgno <= db.pageCount && leaf === 0; pgno++) if ((await db.page(pgno))[0] === 13) leaf = pgno;
    const base = (leaf - 1) * db.header.pageSize;
    // The leaf's last cell (its largest payload: the first ones are only a few bytes, shorter than the varint).
    const view = new DataView(huge.buffer);
    const cell = view.getUint16(base + 8 + 2 * (view.getUint16(base + 3) - 1));
    huge.set(encodeVarint(2 ** 40).subarray(0, 6), base + cell);
    const h = await openSqliteDatabase(memorySource('huge', huge));
    if (!h.ok) throw new Error(h.why);
    const hw = await walkTable(h.db, root, () => undefined);
    expect(hw.problems.filter((p) => p.page === leaf).map((p) => p.why)).toEqual([`a payload of ${2 ** 40} bytes, past the ${64 * 1024 * 1024}-byte bound`]);
    expect(hw.rows).toBeGreaterThan(0);
  });
});
