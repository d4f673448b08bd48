/**
 * The schema table (`sqlite_schema`, the table b-tree on page 1: type, name,
 * tbl_name, rootpage, sql) and the column list of a CREATE TABLE statement,
 * read as SQLite stores it: the column names in order, which one is the
 * rowid's alias (a column declared exactly `INTEGER PRIMARY KEY`, whose value
 * is the rowid and is stored as NULL in the record), and WITHOUT ROWID
 * tables (index b-trees, not read here). The statement is scanned once,
 * character by character, never with a backtracking pattern.
 */
import { decodeRecord } from './record';
import { walkTable, type SqliteDatabase, type SqliteProblem } from './table';

/** A CREATE statement longer than this is not parsed (a real one is a few hundred bytes). */
export const MAX_SCHEMA_SQL = 1024 * 1024;
const MAX_COLUMNS = 2000;

export interface SchemaEntry {
  type: string;
  name: string;
  tableName: string;
  rootPage: number;
  sql: string | null;
}

export async function readSchema(db: SqliteDatabase, signal?: AbortSignal): Promise<{ entries: SchemaEntry[]; problems: SqliteProblem[] }> {
  const entries: SchemaEntry[] = [];
  const problems: SqliteProblem[] = [];
  const walk = await walkTable(
    db,
    1,
    (rowid, payload) => {
      const r = decodeRecord(payload, db.header.encoding);
      if (!r.ok) {
        problems.push({ page: null, offset: r.offset, why: `schema row ${rowid}: ${r.why}` });
        return;
      }
      const [type, name, tableName, rootPage, sql] = r.values;
      if (typeof type !== 'string' || typeof name !== 'string' || typeof rootPage !== 'number') {
        problems.push({ page: null, offset: null, why: `schema row ${rowid} is not (type, name, tbl_name, rootpage, sql)` });
        return;
      }
      entries.push({ type, name, tableName: typeof tableName === 'string' ? tableName : name, rootPage, sql: typeof sql === 'string' ? sql : null });
    },
    signal ? { signal } : {},
  );
  return { entries, problems: [...walk.problems, ...problems] };
}

export interface TableColumns {
  columns: string[];
  /** The column that is the rowid (stored as NULL in each record), or null. */
  rowidAlias: number | null;
  withoutRowid: boolean;
}

/** The quoted identifier or bare word at `at`; null at the end. */
function token(sql: string, at: number): { text: string; end: number; quoted: boolean } | null {
  let i = at;
  while (i < sql.length && /\s/.test(sql[i]!)) i++;
  if (i >= sql.length) return null;
  const open = sql[i]!;
  const close = open === '"' ? '"' : open === '`' ? '`' : open === '[' ? ']' : open === "'" ? "'" : null;
  if (close) {
    let text = '';
    let j = i + 1;
    while (j < sql.length) {
      if (sql[j] === close) {
        // A doubled quote inside a quoted identifier is one quote.
        if (close !== ']' && sql[j + 1] === close) {
          text += close;
          j += 2;
          continue;
        }
        return { text, end: j + 1, quoted: true };
      }
      text += sql[j];
      j++;
    }
    return null;
  }
  let j = i;
  while (j < sql.length && !/[\s(),]/.test(sql[j]!)) j++;
  if (j === i) return { text: sql[i]!, end: i + 1, quoted: false };
  return { text: sql.slice(i, j), end: j, quoted: false };
}

/** The top-level comma-separated parts inside the statement's first parentheses, and what follows them. */
function definitionParts(sql: string): { parts: string[]; after: string } | null {
  const open = sql.indexOf('(');
  if (open < 0) return null;
  const parts: string[] = [];
  let depth = 0;
  let start = open + 1;
  let quote: string | null = null;
  for (let i = open + 1; i < sql.length; i++) {
    const c = sql[i]!;
    if (quote) {
      if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '[') quote = ']';
    else if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) {
        parts.push(sql.slice(start, i));
        return { parts, after: sql.slice(i + 1) };
      }
      depth--;
    } else if (c === ',' && depth === 0) {
      parts.push(sql.slice(start, i));
      start = i + 1;
      if (parts.length > MAX_COLUMNS) return null;
    }
  }
  return null;
}

const TABLE_CONSTRAINTS = new Set(['CONSTRAINT', 'PRIMARY', 'UNIQUE', 'CHECK', 'FOREIGN']);

/** The columns of `CREATE TABLE name (...)`; null when the statement cannot be read. */
export function tableColumns(sql: string): TableColumns | null {
  if (sql.length > MAX_SCHEMA_SQL) return null;
  const defs = definitionParts(sql);
  if (!defs) return null;
  const columns: string[] = [];
  const types: string[] = [];
  let rowidAlias: number | null = null;
  let tablePrimaryKey: string[] | null = null;
  for (const part of defs.parts) {
    const first = token(part, 0);
    if (!first) continue;
    if (!first.quoted && TABLE_CONSTRAINTS.has(first.text.toUpperCase())) {
      const upper = part.toUpperCase();
      const pk = upper.indexOf('PRIMARY');
      if (pk >= 0) {
        const inner = definitionParts(part.slice(pk));
        if (inner) tablePrimaryKey = inner.parts.map((p) => token(p, 0)?.text ?? '').filter((x) => x !== '');
      }
      continue;
    }
    const type = token(part, first.end);
    const declared = type && !type.quoted && /^[A-Za-z]+$/.test(type.text) ? type.text.toUpperCase() : '';
    columns.push(first.text);
    types.push(declared);
    const words = part.toUpperCase().split(/\s+/);
    const pkAt = words.indexOf('PRIMARY');
    if (declared === 'INTEGER' && pkAt >= 0 && words[pkAt + 1]?.startsWith('KEY') && words[pkAt + 2] !== 'DESC') rowidAlias = columns.length - 1;
  }
  if (rowidAlias === null && tablePrimaryKey?.length === 1) {
    const i = columns.findIndex((c) => c.toLowerCase() === tablePrimaryKey![0]!.toLowerCase());
    if (i >= 0 && types[i] === 'INTEGER') rowidAlias = i;
  }
  const withoutRowid = /\bWITHOUT\s+ROWID\b/i.test(defs.after.slice(0, 200));
  return { columns, rowidAlias: withoutRowid ? null : rowidAlias, withoutRowid };
}
