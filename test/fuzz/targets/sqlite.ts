/**
 * The SQLite reader (shared/formats/sqlite/) on mutated databases sqlite3
 * wrote: a kine table with values spilling to overflow pages, 512-byte pages
 * (deep trees), and a database with its WAL. Invariants: nothing throws; every
 * problem names a page inside the database (or none); every row's payload is
 * inside the payload bound; kine's live rows are among the rows read.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { memorySource } from '../../../shared/bytes/byte-source';
import { findKineTable, forEachLiveKineRow } from '../../../shared/formats/sqlite/kine';
import { decodeRecord } from '../../../shared/formats/sqlite/record';
import { readSchema } from '../../../shared/formats/sqlite/schema';
import { MAX_PAYLOAD_BYTES, openSqliteDatabase, walkTable, type SqliteProblem } from '../../../shared/formats/sqlite/table';
import { mutateBytes } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';

interface SqliteInput {
  db: Uint8Array;
  wal: Uint8Array | null;
}

function sqlite3(file: string, sql: string): void {
  const r = spawnSync('sqlite3', [file], { input: sql, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3 is needed for the sqlite fuzz corpus: ${r.stderr || r.error?.message}`);
}

const KINE = `CREATE TABLE kine (id INTEGER PRIMARY KEY AUTOINCREMENT, name INTEGER, created INTEGER, deleted INTEGER,
  create_revision INTEGER, prev_revision INTEGER, lease INTEGER, value BLOB, old_value BLOB);
CREATE INDEX kine_name_index ON kine (name);`;

function kineRows(n: number, big: number): string {
  const rows: string[] = ['BEGIN;'];
  for (let i = 0; i < n; i++) {
    const name = `/registry/configmaps/default/cm-${i % 37}`;
    rows.push(
      `INSERT INTO kine (name, created, deleted, create_revision, prev_revision, lease, value, old_value) VALUES ('${name}', ${i < 37 ? 1 : 0}, ${i % 11 === 0 ? 1 : 0}, 1, 0, 0, zeroblob(${(i * 131) % big}), NULL);`,
    );
  }
  rows.push('COMMIT;');
  return rows.join('\n');
}

export const sqliteDatabase: FuzzTarget<SqliteInput, SqliteInput[]> = {
  name: 'sqlite',
  what: 'SQLite reader (header, b-tree pages, records, overflow, WAL overlay, schema, kine rows) on mutated sqlite3 files: no throw, problems inside the database, payloads inside the bound',
  corpus: () => {
    const work = mkdtempSync(path.join(tmpdir(), 'lifeboat-fuzz-sqlite-'));
    try {
      const kine = path.join(work, 'kine.db');
      sqlite3(kine, `PRAGMA page_size=1024;\n${KINE}\n${kineRows(300, 6000)}`);
      const small = path.join(work, 'small.db');
      sqlite3(
        small,
        `PRAGMA page_size=512;\nCREATE TABLE t (a, b);\nBEGIN;\n${Array.from({ length: 400 }, (_, i) => `INSERT INTO t VALUES (${i * 7919}, 'row ${i}');`).join('\n')}\nCOMMIT;`,
      );
      const walDir = path.join(work, 'wal');
      const copy = path.join(work, 'copy');
      spawnSync('mkdir', ['-p', walDir, copy]);
      const walDb = path.join(walDir, 'state.db');
      sqlite3(
        walDb,
        `PRAGMA page_size=1024;\nPRAGMA journal_mode=WAL;\nPRAGMA wal_autocheckpoint=0;\n${KINE}\n${kineRows(120, 3000)}\n.shell cp ${walDb} ${walDb}-wal ${copy}/`,
      );
      const read = (f: string) => new Uint8Array(readFileSync(f));
      return [
        { db: read(kine), wal: null },
        { db: read(small), wal: null },
        { db: read(path.join(copy, 'state.db')), wal: read(path.join(copy, 'state.db-wal')) },
      ];
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
  generate: (r, corpus) => {
    const base = r.pick(corpus);
    const mutateWal = base.wal !== null && r.chance(0.4);
    return {
      db: mutateWal && r.chance(0.7) ? base.db : mutateBytes(r, base.db, 16 * 1024),
      wal: base.wal === null ? null : mutateWal ? mutateBytes(r, base.wal, 16 * 1024) : base.wal,
    };
  },
  run: async (input) => {
    const opened = await openSqliteDatabase(memorySource('db', input.db), input.wal ? memorySource('db-wal', input.wal) : null);
    if (!opened.ok) return;
    const db = opened.db;
    const inside = (p: SqliteProblem, what: string): void =>
      check(p.page === null || (p.page >= 0 && Number.isSafeInteger(p.page)), `${what}: problem page ${p.page}`);
    const schema = await readSchema(db);
    for (const p of schema.problems) inside(p, 'schema');
    for (const e of schema.entries.slice(0, 8)) {
      if (e.rootPage < 1) continue;
      const walk = await walkTable(db, e.rootPage, (_rowid, payload) => {
        check(payload.length <= MAX_PAYLOAD_BYTES, `a ${payload.length}-byte payload`);
        decodeRecord(payload, db.header.encoding);
      });
      check(walk.pages <= db.pageCount, `${walk.pages} pages walked of ${db.pageCount}`);
      for (const p of walk.problems) inside(p, e.name);
    }
    const kine = await findKineTable(db);
    if (kine.ok) {
      const live = await forEachLiveKineRow(db, kine.table, (row) => {
        check(typeof row.name === 'string' && row.name !== 'compact_rev_key' && !row.deleted, `live row ${row.name}`);
      });
      check(live.live + live.deleted <= live.rows, `${live.live} live + ${live.deleted} deleted keys of ${live.rows} rows`);
      checkPlain(live, 'kine walk');
    }
  },
  files: (input) => ({ 'input.db': input.db, ...(input.wal ? { 'input.db-wal': input.wal } : {}) }),
  size: (input) => input.db.length + (input.wal?.length ?? 0),
};
