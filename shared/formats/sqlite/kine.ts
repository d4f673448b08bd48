/**
 * kine's table (the etcd API over SQL that k3s and MicroK8s' k8s-dqlite
 * run): one row per revision of a key, `id` the revision (the rowid),
 * `name` the etcd key, `created`/`deleted` flags, `create_revision`,
 * `prev_revision`, `lease`, `value` and `old_value`. kine's own rows are not
 * keys: `compact_rev_key` (the compaction mark) and `gap-N` fills (written
 * deleted). A key is live when its newest row is not a deletion. Columns are
 * found by name in the table's CREATE statement, so either driver's
 * declaration reads the same.
 */
import { decodeRecord, type SqliteValue } from './record';
import { readSchema, tableColumns } from './schema';
import { walkTable, type SqliteDatabase, type SqliteProblem } from './table';

export const KINE_TABLE = 'kine';
export const KINE_COMPACT_KEY = 'compact_rev_key';
const COLUMNS = ['name', 'created', 'deleted', 'create_revision', 'prev_revision', 'lease', 'value'] as const;

export interface KineTable {
  rootPage: number;
  /** Record index of each column kine uses; `id` is the rowid. */
  index: Record<(typeof COLUMNS)[number], number>;
}

export interface KineRow {
  id: number | bigint;
  name: string;
  created: boolean;
  deleted: boolean;
  createRevision: number | bigint | null;
  prevRevision: number | bigint | null;
  lease: number | bigint | null;
  value: Uint8Array;
}

export type KineTableFind = { ok: true; table: KineTable; problems: SqliteProblem[] } | { ok: false; why: string; problems: SqliteProblem[] };

/** The kine table of `db`, from its schema. */
export async function findKineTable(db: SqliteDatabase, signal?: AbortSignal): Promise<KineTableFind> {
  const schema = await readSchema(db, signal);
  const entry = schema.entries.find((e) => e.type === 'table' && e.name === KINE_TABLE);
  if (!entry)
    return {
      ok: false,
      why: `no ${KINE_TABLE} table in the schema (${
        schema.entries
          .filter((e) => e.type === 'table')
          .map((e) => e.name)
          .join(', ') || 'no table'
      })`,
      problems: schema.problems,
    };
  const cols = entry.sql ? tableColumns(entry.sql) : null;
  if (!cols || cols.withoutRowid) return { ok: false, why: `the ${KINE_TABLE} table's CREATE statement cannot be read as kine's`, problems: schema.problems };
  const index = {} as KineTable['index'];
  for (const c of COLUMNS) {
    const i = cols.columns.findIndex((x) => x.toLowerCase() === c);
    if (i < 0) return { ok: false, why: `the ${KINE_TABLE} table has no ${c} column`, problems: schema.problems };
    index[c] = i;
  }
  return { ok: true, table: { rootPage: entry.rootPage, index }, problems: schema.problems };
}

const UTF8 = new TextDecoder();

function asText(v: SqliteValue | undefined): string | null {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return UTF8.decode(v);
  // The sqlite driver declares `name INTEGER`: a name that reads as a number is stored as one.
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return null;
}

function asInteger(v: SqliteValue | undefined): number | bigint | null {
  return typeof v === 'number' || typeof v === 'bigint' ? v : null;
}

function asBytes(v: SqliteValue | undefined): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return new TextEncoder().encode(v);
  return new Uint8Array(0);
}

/** One kine row from its record; null when it is not one (a problem is said by the caller). */
export function kineRow(table: KineTable, rowid: number | bigint, values: SqliteValue[]): KineRow | null {
  const name = asText(values[table.index.name]);
  if (name === null) return null;
  return {
    id: rowid,
    name,
    created: asInteger(values[table.index.created]) === 1,
    deleted: (asInteger(values[table.index.deleted]) ?? 0) !== 0,
    createRevision: asInteger(values[table.index.create_revision]),
    prevRevision: asInteger(values[table.index.prev_revision]),
    lease: asInteger(values[table.index.lease]),
    value: asBytes(values[table.index.value]),
  };
}

export interface KineLiveWalk {
  /** Rows read (every revision). */
  rows: number;
  /** Keys whose newest row is not a deletion. */
  live: number;
  /** Keys whose newest row is a deletion. */
  deleted: number;
  /** The highest revision (id) of any row read, kine's own included. */
  revision: number | bigint | null;
  problems: SqliteProblem[];
  moreProblems: number;
}

function isKineKey(name: string): boolean {
  return name !== KINE_COMPACT_KEY && !name.startsWith('gap-');
}

/**
 * Every live key's newest row, in revision order. Two walks of the table: the first keeps only each
 * name's newest id (what the second needs to know a row is the newest), the second hands over the rows.
 */
export async function forEachLiveKineRow(
  db: SqliteDatabase,
  table: KineTable,
  onRow: (row: KineRow) => void | Promise<void>,
  opts: { signal?: AbortSignal; onCounted?: (liveKeys: number) => void } = {},
): Promise<KineLiveWalk> {
  const newest = new Map<string, { id: number | bigint; deleted: boolean }>();
  let revision: number | bigint | null = null;
  const problems: SqliteProblem[] = [];
  const bad = (rowid: number | bigint, why: string): void => {
    if (problems.length < 200) problems.push({ page: null, offset: null, why: `kine row ${rowid}: ${why}` });
  };
  // The name and the deletion flag: the value is decoded only for the rows handed over.
  const upTo = Math.max(table.index.name, table.index.deleted) + 1;
  const first = await walkTable(
    db,
    table.rootPage,
    (rowid, payload) => {
      const r = decodeRecord(payload, db.header.encoding, 2000, upTo);
      if (!r.ok) return bad(rowid, r.why);
      const row = kineRow(table, rowid, r.values);
      if (!row) return bad(rowid, 'its name is not text');
      if (revision === null || row.id > revision) revision = row.id;
      if (!isKineKey(row.name)) return;
      const seen = newest.get(row.name);
      if (!seen || seen.id < row.id) newest.set(row.name, { id: row.id, deleted: row.deleted });
    },
    opts.signal ? { signal: opts.signal } : {},
  );
  const out: KineLiveWalk = { rows: first.rows, live: 0, deleted: 0, revision, problems: [...first.problems, ...problems], moreProblems: first.moreProblems };
  for (const v of newest.values()) {
    if (v.deleted) out.deleted++;
    else out.live++;
  }
  opts.onCounted?.(out.live);
  await walkTable(
    db,
    table.rootPage,
    async (rowid, payload) => {
      const head = decodeRecord(payload, db.header.encoding, 2000, upTo);
      if (!head.ok) return;
      const name = asText(head.values[table.index.name]);
      const top = name === null ? undefined : newest.get(name);
      if (!top || top.id !== rowid || top.deleted) return;
      const r = decodeRecord(payload, db.header.encoding);
      const row = r.ok ? kineRow(table, rowid, r.values) : null;
      if (row) await onRow(row);
    },
    opts.signal ? { signal: opts.signal } : {},
  );
  return out;
}
