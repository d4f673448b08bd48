/**
 * `npm run bench` rows for the kine export (`lifeboat salvage STATE.db --out
 * DIR`, and the objects of the dqlite rebuild): a kine database made by the
 * real sqlite3 (configmap keys, several revisions each, ~1.6 KB JSON values),
 * then, each alone under /usr/bin/time: a raw read of the file, sqlite3
 * itself selecting every live key's newest value (the real engine's own
 * read of the same rows), Lifeboat's reader handing over the same rows, and
 * the whole export (one file per object).
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { openFileSource } from '../../electron/services/fs-source';
import { exportKineObjects } from '../../electron/services/kine-export';
import { MAX_READ } from '../../shared/bytes/byte-source';
import { kineLiveKeysCommand } from '../../shared/formats/dqlite/fresh-backend';
import { findKineTable, forEachLiveKineRow } from '../../shared/formats/sqlite/kine';
import { openSqliteDatabase } from '../../shared/formats/sqlite/table';
import { timedRun } from './etcd-salvage';

const KINE = `CREATE TABLE kine (id INTEGER PRIMARY KEY AUTOINCREMENT, name INTEGER, created INTEGER, deleted INTEGER,
  create_revision INTEGER, prev_revision INTEGER, lease INTEGER, value BLOB, old_value BLOB);
CREATE INDEX kine_name_index ON kine (name);`;

/** `rows` revisions of `rows / 4` keys, made by sqlite3 in one statement. */
async function makeKineDb(file: string, rows: number): Promise<void> {
  const keys = Math.max(1, Math.floor(rows / 4));
  const sql = `PRAGMA page_size=4096;\n${KINE}\nWITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
INSERT INTO kine (name, created, deleted, create_revision, prev_revision, lease, value, old_value)
SELECT '/registry/configmaps/ns-' || (i % ${keys} % 50) || '/cm-' || (i % ${keys}), i <= ${keys}, 0, 0, 0, 0,
  CAST('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-' || (i % ${keys}) || '"},"data":{"v":"' || hex(randomblob(800)) || '"}}' AS BLOB), NULL FROM n;`;
  await timedRun(['sqlite3', file, sql]);
}

/** The child side: `--kine-child read|export DB [OUT]`, prints one JSON line. */
export async function kineChild(kind: string, db: string, out: string): Promise<void> {
  if (kind === 'export') {
    const r = await exportKineObjects(db, out);
    console.log(JSON.stringify({ objects: r.objects, rows: r.rows }));
    return;
  }
  const src = await openFileSource(db);
  try {
    const opened = await openSqliteDatabase(src);
    if (!opened.ok) throw new Error(opened.why);
    const found = await findKineTable(opened.db);
    if (!found.ok) throw new Error(found.why);
    let bytes = 0;
    const walk = await forEachLiveKineRow(opened.db, found.table, (row) => void (bytes += row.value.length));
    console.log(JSON.stringify({ live: walk.live, rows: walk.rows, bytes }));
  } finally {
    await src.close();
  }
}

export async function benchKineExport(rows: number, script: string, work: string): Promise<string[]> {
  const db = path.join(work, 'state.db');
  if (!existsSync(db)) await makeKineDb(db, rows);
  const size = (await fs.stat(db)).size;
  const mbps = (s: number) => (size / 1e6 / s).toFixed(0).padStart(5);
  const line = (what: string, m: { seconds: number; cpuSeconds: number; peakRss: number }) =>
    `  ${what.padEnd(44)} ${mbps(m.seconds)} MB/s  ${m.seconds.toFixed(2).padStart(6)} s wall  ${m.cpuSeconds.toFixed(2).padStart(6)} s CPU  peak RSS ${(m.peakRss / 1e6).toFixed(0).padStart(4)} MB`;
  const lines = [`kine database: ${rows} rows, ${(size / 1e6).toFixed(0)} MB (sqlite3 made it; page size 4096)`];
  const raw = await timedRun([
    process.execPath,
    '-e',
    `const fs=require('fs');const b=Buffer.alloc(${MAX_READ});const fd=fs.openSync(${JSON.stringify(db)},'r');let n=0,r;while((r=fs.readSync(fd,b,0,b.length,null))>0)n+=r;console.log(n)`,
  ]);
  lines.push(line('raw read (node, 4 MiB reads)', raw));
  const query = kineLiveKeysCommand(db)
    .replace(/^sqlite3 \S+ "(.*)"$/, '$1')
    .replace('SELECT name FROM', 'SELECT name, length(value) FROM');
  const engine = await timedRun(['sqlite3', db, query]);
  lines.push(line(`sqlite3: the live keys' newest rows (${engine.stdout.trim().split('\n').length} keys)`, engine));
  const read = await timedRun([process.execPath, script, '--kine-child', 'read', db, '']);
  const got = JSON.parse(read.stdout.trim().split('\n').pop() ?? '{}') as { live: number };
  lines.push(line(`lifeboat: the same rows (${got.live} keys)`, read));
  const out = path.join(work, 'kine-objects');
  await fs.rm(out, { recursive: true, force: true });
  const exported = await timedRun([process.execPath, script, '--kine-child', 'export', db, out]);
  const ex = JSON.parse(exported.stdout.trim().split('\n').pop() ?? '{}') as { objects: number };
  lines.push(line(`lifeboat: export, one file per object (${ex.objects})`, exported));
  await fs.rm(out, { recursive: true, force: true });
  return lines;
}
