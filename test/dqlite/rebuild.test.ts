/**
 * The offline rebuild's formats against the real engines: dqlite's FRAMES
 * commands in real segments (re-encoded byte for byte), SQLite WALs written by
 * the real sqlite3 (applied here, then compared byte for byte with SQLite's
 * own checkpoint, whole and cut), the FSM snapshot payload in chunks of any
 * size, and `lifeboat salvage DQLITE_DIR --out DIR` on the bundled samples
 * (read back with sqlite3; the inputs hashed before and after). The damage
 * matrix against dqlite-demo is in test/oracle/dqlite.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryDirectory, memorySource } from '../../shared/bytes/byte-source';
import type { DqliteRebuildReport } from '../../shared/contract/dqlite';
import { ENTRY_CHANGE, ENTRY_COMMAND, encodeSegment, readBatchEntries } from '../../shared/formats/dqlite/batch';
import { encodeConfiguration } from '../../shared/formats/dqlite/configuration';
import { closedSegmentName } from '../../shared/formats/dqlite/segment-name';
import { NODE } from './builders';
import { decodeCommand, encodeFramesCommand } from '../../shared/formats/dqlite/command';
import { encodeFsmDatabaseHeader, encodeFsmSnapshotHeader, FsmSnapshotReader } from '../../shared/formats/dqlite/fsm-snapshot';
import { MAX_REBUILT_BYTES, rebuildDqlite } from '../../shared/formats/dqlite/rebuild';
import { inspectDqliteDirectory } from '../../shared/formats/dqlite/validate';
import { freshBackendLayout } from '../../shared/formats/dqlite/fresh-backend';
import { decodeMetadata, encodeMetadata } from '../../shared/formats/dqlite/metadata';
import { checkSnapshotMeta, encodeSnapshotMeta } from '../../shared/formats/dqlite/snapshot-meta';
import { damageLastClosedSegment, decodeMeta } from '../helpers/dqlite-files';
import { SqliteWalReader, type WalCommit } from '../../shared/formats/dqlite/sqlite-wal';
import { verifyLz4Frame } from '../../shared/formats/lz4/frame';
import { listUstar } from '../../shared/formats/archive/ustar';
import { ensureBuilt, runCli } from '../cli/fixtures';

const HAVE_SQLITE = spawnSync('sh', ['-c', 'command -v sqlite3']).status === 0;
if (!HAVE_SQLITE && process.env.CI === 'true') throw new Error('sqlite3 is required when CI=true');

const SAMPLES = path.resolve(__dirname, '..', '..', 'resources', 'samples');
const tmp = mkdtempSync(path.join(tmpdir(), 'lifeboat-dqlite-rebuild-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sqlite(db: string, ...sql: string[]): string {
  const r = spawnSync('sqlite3', [db, ...sql], { encoding: 'utf8', cwd: path.dirname(db), maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`sqlite3 ${sql.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).sort())
    out[n] = createHash('sha256')
      .update(readFileSync(path.join(dir, n)))
      .digest('hex');
  return out;
}

/** Every RAFT_COMMAND payload of a segment file, read with the rebuild's batch reader. */
async function commandPayloads(file: string): Promise<Uint8Array[]> {
  const bytes = new Uint8Array(readFileSync(file));
  const src = memorySource(path.basename(file), bytes);
  const out: Uint8Array[] = [];
  for (let at = 8; at < bytes.length;) {
    const b = await readBatchEntries(src, at, bytes.length);
    if (!b.ok) break;
    for (const e of b.entries) if (e.type === ENTRY_COMMAND) out.push(e.payload);
    at += b.size;
  }
  return out;
}

/** Random chunk sizes (deterministic): a streaming reader must not care where the bytes are cut. */
function* chunks(bytes: Uint8Array, seed: number, max: number): Generator<Uint8Array> {
  let x = seed;
  for (let at = 0; at < bytes.length;) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const n = 1 + (x % max);
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

/** Apply a WAL the rebuild's way onto a copy of the main file: whole transactions, the size of the last commit. */
async function applyWal(main: Uint8Array, wal: Uint8Array, seed: number): Promise<{ db: Uint8Array; commits: number; reader: SqliteWalReader }> {
  let db = main.slice();
  let pageSize = 0;
  const reader = new SqliteWalReader((c: WalCommit) => {
    pageSize = reader.summary.pageSize!;
    const size = Math.max(c.dbPages, ...c.pages.map((p) => p.pgno)) * pageSize;
    if (size > db.length) {
      const grown = new Uint8Array(size);
      grown.set(db);
      db = grown;
    }
    for (const p of c.pages) db.set(p.data, (p.pgno - 1) * pageSize);
    db = db.subarray(0, c.dbPages * pageSize);
  });
  for (const c of chunks(wal, seed, 5000)) await reader.push(c);
  const s = reader.finish();
  return { db, commits: s.commits, reader };
}

describe('dqlite FRAMES commands in real segments', () => {
  it('decodes every command of the bundled samples and re-encodes it byte for byte', async () => {
    let frames = 0;
    for (const sample of ['dqlite-healthy', 'dqlite-field-report']) {
      const dir = path.join(SAMPLES, sample);
      for (const name of readdirSync(dir).filter((n) => /^(\d{16}-\d{16}|open-\d+)$/.test(n))) {
        for (const payload of await commandPayloads(path.join(dir, name))) {
          const c = decodeCommand(payload);
          expect(c.kind, `${sample}/${name}`).toBe('frames');
          if (c.kind !== 'frames') continue;
          frames++;
          expect(c.database).toBe('demo');
          expect(c.pageSize).toBe(4096);
          expect(c.isCommit).toBe(true);
          const pages = c.pageNumbers.map((pgno, i) => ({ pgno, data: payload.subarray(c.pagesAt + i * 4096, c.pagesAt + (i + 1) * 4096) }));
          // dqlite leaves the unused bytes after is_commit and after page_size as they were in memory (not
          // zeroed: 127 is common); the encoder writes zeros there, the rest is byte for byte.
          const expected = payload.slice();
          const at = c.pagesAt - 8 * c.pageNumbers.length - 24;
          expected.fill(0, at + 13, at + 16);
          expected.fill(0, at + 22, at + 24);
          expect(encodeFramesCommand(c.database, pages, c.pageSize, c.isCommit)).toEqual(expected);
        }
      }
    }
    expect(frames).toBeGreaterThan(20);
  });

  it('says what is wrong with a damaged command instead of throwing, at every cut and on odd fields', async () => {
    const dir = path.join(SAMPLES, 'dqlite-healthy');
    const seg = readdirSync(dir).find((n) => /^\d{16}-\d{16}$/.test(n))!;
    const payload = (await commandPayloads(path.join(dir, seg)))[0]!;
    for (let cut = 0; cut < payload.length; cut += cut < 128 ? 1 : 997) {
      const c = decodeCommand(payload.subarray(0, cut));
      expect(c.kind, `cut at ${cut}`).toBe('bad');
    }
    const odd = (at: number, v: number) => {
      const b = payload.slice();
      b[at] = v;
      return decodeCommand(b);
    };
    expect(odd(0, 2)).toMatchObject({ kind: 'bad', offset: 0, why: 'command format 2 (dqlite writes 1)' });
    expect(odd(1, 9)).toMatchObject({ kind: 'bad', offset: 1, why: 'unknown command type 9' });
    // Fields after "demo\0" + padding (16 bytes): the page count (+16) and page size (+20).
    expect(odd(16 + 16 + 3, 0x7f)).toMatchObject({ kind: 'bad', offset: 32 });
    expect(odd(16 + 20, 0x01)).toMatchObject({ kind: 'bad', why: 'page size 4097 is not a SQLite page size' });
    const noNul = payload.slice();
    noNul.fill(0x41, 8, noNul.length);
    expect(decodeCommand(noNul)).toMatchObject({ kind: 'bad', offset: 8 });
  });
});

/**
 * A database in WAL mode written by the real sqlite3 (`statements` after the WAL pragmas), with its main file
 * and WAL copied before SQLite checkpoints them; `dir` is where `sqliteCheckpoint` may work.
 */
function walPair(name: string, statements: string[]): { main: Uint8Array; wal: Uint8Array; dir: string } {
  const dir = path.join(tmp, name);
  spawnSync('mkdir', ['-p', dir]);
  sqlite(path.join(dir, 'w.db'), 'PRAGMA journal_mode=WAL;', 'PRAGMA wal_autocheckpoint=0;', ...statements, '.shell cp w.db keep.db; cp w.db-wal keep.db-wal');
  return {
    main: new Uint8Array(readFileSync(path.join(dir, 'keep.db'))),
    wal: new Uint8Array(readFileSync(path.join(dir, 'keep.db-wal'))),
    dir,
  };
}

/** What SQLite makes of a main file and a WAL: the pair checkpointed by sqlite3 itself (as `dir`/c.db). */
function sqliteCheckpoint(dir: string, main: Uint8Array, wal: Uint8Array): Uint8Array {
  writeFileSync(path.join(dir, 'c.db'), main);
  writeFileSync(path.join(dir, 'c.db-wal'), wal);
  sqlite(path.join(dir, 'c.db'), 'PRAGMA wal_checkpoint(TRUNCATE);');
  return new Uint8Array(readFileSync(path.join(dir, 'c.db')));
}

/** The table the WAL tests write: inserts, updates that grow rows, deletes. */
const TABLE_T = [
  'CREATE TABLE t(k TEXT PRIMARY KEY, v BLOB);',
  "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<400) INSERT INTO t SELECT 'k'||i, randomblob(700) FROM c;",
  "UPDATE t SET v=randomblob(1500) WHERE k<'k2';",
  "DELETE FROM t WHERE k>'k8';",
];

describe.skipIf(!HAVE_SQLITE)('SQLite WAL against the real sqlite3', () => {
  it('applies a whole WAL to the byte SQLite checkpoints it to, in chunks of any size', async () => {
    const { main, wal, dir: checkpointed } = walPair('whole', TABLE_T);
    const theirs = sqliteCheckpoint(checkpointed, main, wal);
    for (const seed of [1, 2, 3]) {
      const ours = await applyWal(main, wal, seed);
      expect(ours.reader.summary.stop).toBeNull();
      expect(ours.commits).toBeGreaterThanOrEqual(4);
      expect(Buffer.from(ours.db).equals(Buffer.from(theirs)), `seed ${seed}`).toBe(true);
    }
    writeFileSync(path.join(checkpointed, 'ours.db'), (await applyWal(main, wal, 9)).db);
    expect(sqlite(path.join(checkpointed, 'ours.db'), 'PRAGMA integrity_check;')).toBe('ok');
    expect(sqlite(path.join(checkpointed, 'ours.db'), 'SELECT count(*) FROM t;')).toBe(sqlite(path.join(checkpointed, 'c.db'), 'SELECT count(*) FROM t;'));
  });

  it('ends where SQLite ends: a damaged frame, a stale salt, a cut tail drop that transaction and all after it', async () => {
    const { main, wal, dir: checkpointed } = walPair('damaged', TABLE_T);
    const pageSize = (wal[8]! << 24) | (wal[9]! << 16) | (wal[10]! << 8) | wal[11]!;
    const frame = 24 + pageSize;
    const frames = (wal.length - 32) / frame;
    const damages: [string, (w: Uint8Array) => Uint8Array][] = [
      ['a flipped page byte in the last frame', (w) => ((w[32 + (frames - 1) * frame + 100] ^= 0x40), w)],
      ['a flipped byte in a middle frame', (w) => ((w[32 + Math.floor(frames / 2) * frame + 24 + 7] ^= 1), w)],
      ['a stale salt in the third frame', (w) => ((w[32 + 2 * frame + 8] ^= 1), w)],
      ['the tail cut mid-frame', (w) => w.subarray(0, w.length - frame / 2)],
      ['a damaged header checksum', (w) => ((w[24] ^= 1), w)],
    ];
    for (const [what, damage] of damages) {
      const bad = damage(wal.slice());
      const theirs = sqliteCheckpoint(checkpointed, main, bad);
      const ours = await applyWal(main, bad, 7);
      // With no transaction whole, SQLite leaves the main file as it was.
      const expected = ours.commits === 0 ? main : ours.db;
      expect(Buffer.from(expected).equals(Buffer.from(theirs)), what).toBe(true);
      expect(ours.reader.summary.stop, what).not.toBeNull();
    }
  });
});

describe.skipIf(!HAVE_SQLITE)('a snapshot as dqlite may write it, rebuilt', () => {
  it('an uncompressed snapshot whose database was never checkpointed (main file empty, its pages in the WAL) comes out as SQLite checkpoints it', async () => {
    const { main, wal, dir } = walPair('never-checkpointed', [
      'CREATE TABLE kine(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, value BLOB);',
      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<200) INSERT INTO kine(name, value) SELECT '/registry/k'||i, randomblob(900) FROM c;",
    ]);
    // SQLite's own checkpoint of that WAL over the main file it had (page 1 only, which the WAL writes
    // again): the WAL alone holds the whole database. (sqlite3 cannot open a 0-byte main file with a WAL;
    // dqlite's VFS can, and its snapshots then carry exactly this: main_size 0 and the WAL.)
    const theirs = Buffer.from(sqliteCheckpoint(dir, main, wal));
    expect(main.length).toBe(4096);
    expect(theirs.length).toBeGreaterThan(40 * 4096);

    const servers = [{ id: '1', address: '127.0.0.1:9001', role: 'voter' as const }];
    const payload = Buffer.concat([encodeFsmSnapshotHeader(1), encodeFsmDatabaseHeader('k8s', 0, wal.length), wal]);
    const files: Record<string, Uint8Array> = {
      'snapshot-1-5-100': payload,
      'snapshot-1-5-100.meta': encodeSnapshotMeta(1, servers),
      metadata1: encodeMetadata(1, 1, 0),
    };
    const backend = memoryDirectory('backend', files);
    const { report: validated } = await inspectDqliteDirectory(backend);
    expect(validated.dqlite!.snapshots[0]).toMatchObject({ encoding: 'raw', dataOk: true, metaOk: true });
    let out = new Uint8Array(0);
    const r = await rebuildDqlite(
      backend,
      { dqlite: validated.dqlite!, startable: validated.startable, dataLoss: validated.dataLoss, findings: validated.findings },
      {
        create: (name) =>
          Promise.resolve({
            fileName: `${name}.db`,
            file: {
              write: (offset, bytes) => {
                if (offset + bytes.length > out.length) {
                  const grown = new Uint8Array(offset + bytes.length);
                  grown.set(out);
                  out = grown;
                }
                out.set(bytes, offset);
                return Promise.resolve();
              },
              setSize: (bytes) => {
                const sized = new Uint8Array(bytes);
                sized.set(out.subarray(0, bytes));
                out = sized;
                return Promise.resolve();
              },
            },
          }),
      },
    );
    expect(r.stop).toBeNull();
    expect(r.base).toEqual({ snapshot: 'snapshot-1-5-100', term: 1, index: 5 });
    expect(r.databases[0]).toMatchObject({ name: 'k8s', pageSize: 4096, fromSnapshot: true, snapshotWal: { droppedFrames: 0, stop: null } });
    expect(Buffer.from(out).equals(theirs)).toBe(true);
  });
});

describe('a log from entry 1, hand-built', () => {
  /** Rebuild a backend of `files` into memory: the report and each database's bytes as written. */
  async function rebuildInMemory(files: Record<string, Uint8Array>) {
    const backend = memoryDirectory('backend', files);
    const { report: v } = await inspectDqliteDirectory(backend);
    const written = new Map<string, { extent: number; size: number | null; pages: Map<number, Uint8Array> }>();
    const r = await rebuildDqlite(
      backend,
      { dqlite: v.dqlite!, startable: v.startable, dataLoss: v.dataLoss, findings: v.findings },
      {
        create: (name) => {
          const db = { extent: 0, size: null as number | null, pages: new Map<number, Uint8Array>() };
          written.set(name, db);
          return Promise.resolve({
            fileName: `${name}.db`,
            file: {
              write: (offset, bytes) => {
                db.extent = Math.max(db.extent, offset + bytes.length);
                for (let at = 0; at < bytes.length; at += 4096) db.pages.set((offset + at) / 4096 + 1, bytes.slice(at, at + 4096));
                return Promise.resolve();
              },
              setSize: (bytes) => {
                db.size = bytes;
                return Promise.resolve();
              },
            },
          });
        },
      },
    );
    return { r, written };
  }
  const page = (fill: number) => new Uint8Array(4096).fill(fill);
  const frames = (pages: { pgno: number; data: Uint8Array }[]) => ({ term: 1, type: ENTRY_COMMAND, payload: encodeFramesCommand('k8s', pages, 4096) });

  it('applies FRAMES in order from an empty start: the newest image of each page, the database as long as its highest page', async () => {
    const files: Record<string, Uint8Array> = { metadata1: encodeMetadata(1, 1, 0) };
    files[closedSegmentName(1, 4)] = encodeSegment([
      [{ term: 1, type: ENTRY_CHANGE, payload: encodeConfiguration([NODE]) }],
      [
        frames([
          { pgno: 1, data: page(1) },
          { pgno: 3, data: page(3) },
        ]),
      ],
      [frames([{ pgno: 1, data: page(11) }]), frames([{ pgno: 2, data: page(2) }])],
    ]);
    const { r, written } = await rebuildInMemory(files);
    expect(r.stop).toBeNull();
    expect(r.base).toBeNull();
    expect(r.log).toEqual({ from: 1, to: 4, entries: 4, transactions: 3, pages: 4 });
    expect(r.state).toEqual({ index: 4, term: 1, configurationIndex: 1, servers: [NODE] });
    const db = written.get('k8s')!;
    expect(db.size).toBe(3 * 4096);
    expect([...db.pages.entries()].map(([n, b]) => [n, b[0]]).sort()).toEqual([
      [1, 11],
      [2, 2],
      [3, 3],
    ]);
  });

  it('stops, writing nothing past the bound, at a page number that would make the database larger than 64 GiB', async () => {
    const files: Record<string, Uint8Array> = { metadata1: encodeMetadata(1, 1, 0) };
    const far = MAX_REBUILT_BYTES / 4096 + 1;
    files[closedSegmentName(1, 3)] = encodeSegment([
      [{ term: 1, type: ENTRY_CHANGE, payload: encodeConfiguration([NODE]) }],
      [frames([{ pgno: 1, data: page(1) }])],
      [frames([{ pgno: far, data: page(9) }])],
    ]);
    const { r, written } = await rebuildInMemory(files);
    expect(r.stop).toMatchObject({
      index: 3,
      why: `entry 3 would make the database ${far} pages of 4096 bytes, past the 64 GiB this rebuild writes (damage)`,
    });
    expect(r.log?.to).toBe(2);
    expect(written.get('k8s')!.extent).toBe(4096);
    expect(written.get('k8s')!.size).toBe(4096);
  });
});

describe('FSM snapshot payload', () => {
  it('reads the same databases from a real snapshot however its bytes are cut', async () => {
    const dir = path.join(SAMPLES, 'dqlite-field-report');
    const snap = readdirSync(dir).find((n) => /^snapshot-\d+-\d+-\d+$/.test(n))!;
    const parts: Uint8Array[] = [];
    const r = await verifyLz4Frame(memorySource(snap, new Uint8Array(readFileSync(path.join(dir, snap)))), { onData: (c) => void parts.push(c.slice()) });
    expect(r.ok).toBe(true);
    const payload = Buffer.concat(parts);
    const read = async (pieces: Iterable<Uint8Array>) => {
      const got: { name: string; main: number[]; wal: number[] }[] = [];
      const fsm = new FsmSnapshotReader((name) => {
        const db = { name, main: [] as number[], wal: [] as number[] };
        got.push(db);
        const hash = createHash('sha256');
        const walHash = createHash('sha256');
        return {
          main: (offset, bytes) => {
            db.main.push(offset);
            hash.update(bytes);
          },
          wal: (bytes) => void walHash.update(bytes),
          end: () => void db.wal.push(...hash.digest(), ...walHash.digest()),
        };
      });
      for (const p of pieces) await fsm.push(p);
      return { summary: fsm.finish(), digests: got.map((g) => ({ name: g.name, digest: g.wal })) };
    };
    const whole = await read([payload]);
    expect(whole.summary.stop).toBeNull();
    expect(whole.summary.databases.map((d) => d.name)).toEqual(['demo']);
    const d = whole.summary.databases[0]!;
    expect(d.mainSize % 4096).toBe(0);
    expect(d.walSize).toBeGreaterThan(32);
    expect(16 + 8 + 16 + d.mainSize + d.walSize).toBe(payload.length);
    for (const seed of [1, 2]) expect(await read(chunks(payload, seed, 97))).toEqual(whole);
    // Cut anywhere: a stop that says where, never a throw.
    for (const cut of [3, 20, 30, 45, payload.length - 1]) {
      const r2 = await read([payload.subarray(0, cut)]);
      expect(r2.summary.stop, `cut at ${cut}`).not.toBeNull();
    }
  });
});

describe.skipIf(!HAVE_SQLITE)('lifeboat salvage DQLITE_DIR --out DIR', () => {
  const run = async (...args: string[]) => {
    await ensureBuilt();
    const r = await runCli(['salvage', ...args]);
    return { code: r.code, stdout: r.stdout.trim(), stderr: r.stderr };
  };

  it('rebuilds the samples into SQLite files sqlite3 reads, without touching the input', async () => {
    for (const sample of ['dqlite-healthy', 'dqlite-field-report']) {
      const input = path.join(SAMPLES, sample);
      const before = hashTree(input);
      const out = path.join(tmp, `out-${sample}`);
      const r = await run(input, '--out', out, '--json');
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as DqliteRebuildReport;
      expect(hashTree(input)).toEqual(before);
      expect(report.stop).toBeNull();
      // The healthy sample starts as it is; the field report's does not (its broken segment).
      expect([report.engineWouldStart, report.engineWouldDrop]).toEqual(sample === 'dqlite-healthy' ? [true, false] : [false, false]);
      expect(report.databases.map((d) => d.file)).toEqual(['demo.db']);
      expect(report.base?.snapshot).toMatch(/^snapshot-1-/);
      expect(readdirSync(out)).toEqual(['backend', 'backend.tar', 'demo.db']);
      const db = path.join(out, 'demo.db');
      expect(statSync(db).mode & 0o777).toBe(0o600);
      expect(statSync(db).size).toBe(report.databases[0]!.bytes);
      expect(sqlite(db, 'PRAGMA integrity_check;')).toBe('ok');
      // dqlite-demo's table: the keys the sample's writer put, each with its value.
      const rows = JSON.parse(sqlite(db, '-json', 'SELECT key, value FROM model ORDER BY key;') || '[]') as { key: string; value: string }[];
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row.value.startsWith(`<${row.key}>`), row.key).toBe(true);
      expect(report.log?.to).toBe(report.lastIndexOnDisk);

      // The fresh backend: one uncompressed snapshot of the rebuilt database at the last entry, its .meta
      // with the membership the log left, metadata1, and the node's own files; all 0600.
      const b = report.backend!;
      expect(b.dir).toBe(path.join(out, 'backend'));
      expect(b.index).toBe(report.lastIndexOnDisk);
      expect(b.snapshot).toBe(`snapshot-${b.term}-${b.index}-1`);
      expect(readdirSync(b.dir).sort()).toEqual([...b.copied, 'metadata1', b.snapshot, `${b.snapshot}.meta`].sort());
      expect(b.copied).toEqual(expect.arrayContaining(['cluster.yaml', 'info.yaml']));
      for (const f of readdirSync(b.dir)) expect(statSync(path.join(b.dir, f)).mode & 0o777, f).toBe(0o600);
      for (const f of b.copied) expect(readFileSync(path.join(b.dir, f))).toEqual(readFileSync(path.join(input, f)));
      const metaBytes = new Uint8Array(readFileSync(path.join(b.dir, `${b.snapshot}.meta`)));
      const meta = await checkSnapshotMeta(`${b.snapshot}.meta`, metaBytes.length, (o, l) => Promise.resolve(metaBytes.slice(o, o + l)));
      expect(meta.ok && meta.servers).toEqual(report.state.servers);
      const md = decodeMetadata(new Uint8Array(readFileSync(path.join(b.dir, 'metadata1'))));
      expect([md.format, md.version, md.term, md.votedFor]).toEqual([1n, 1n, BigInt(b.term), 0n]);
      // Its payload is the rebuilt file, whole, with no WAL.
      let main = Buffer.alloc(0);
      const fsm = new FsmSnapshotReader(() => ({
        main: (_o, bytes) => void (main = Buffer.concat([main, bytes])),
        wal: () => undefined,
        end: () => undefined,
      }));
      await fsm.push(new Uint8Array(readFileSync(path.join(b.dir, b.snapshot))));
      expect(fsm.finish()).toEqual({ databases: [{ name: 'demo', mainSize: statSync(db).size, walSize: 0 }], stop: null, trailingBytes: 0 });
      expect(main.equals(readFileSync(db))).toBe(true);

      // The same files in one archive for the guided upload: GNU tar lists them as root's 0600 files at its
      // top level and extracts them byte for byte; its SHA-256 is the report's; our reader lists the same members.
      const tar = path.join(out, 'backend.tar');
      expect(b.archive).toEqual({ file: tar, bytes: statSync(tar).size, sha256: createHash('sha256').update(readFileSync(tar)).digest('hex') });
      const names = ['metadata1', `${b.snapshot}.meta`, b.snapshot, ...[...b.copied].sort()];
      const listing = spawnSync('tar', ['-tvf', tar, '--numeric-owner'], { encoding: 'utf8' });
      expect(listing.status, listing.stderr).toBe(0);
      expect(
        listing.stdout
          .trim()
          .split('\n')
          .map((l) => l.split(/\s+/)),
      ).toEqual(names.map((n) => ['-rw-------', '0/0', String(statSync(path.join(b.dir, n)).size), '1970-01-01', '00:00', n]));
      const unpacked = path.join(tmp, `unpacked-${sample}`);
      mkdirSync(unpacked);
      expect(spawnSync('tar', ['-xf', tar, '-C', unpacked]).status).toBe(0);
      for (const n of names) expect(readFileSync(path.join(unpacked, n)).equals(readFileSync(path.join(b.dir, n))), n).toBe(true);
      const tarBytes = new Uint8Array(readFileSync(tar));
      const ours = await listUstar({ name: 'backend.tar', size: tarBytes.length, read: (o, l) => Promise.resolve(tarBytes.subarray(o, o + l)) }, 100);
      expect([ours.ended, ours.problem]).toEqual([true, null]);
      expect(ours.members.map((m) => [m.name, m.type, m.size, m.mode])).toEqual(names.map((n) => [n, 'file', statSync(path.join(b.dir, n)).size, 0o600]));
    }
  });

  it('writes no fresh backend without a state or a membership to start from', () => {
    const servers = [{ id: '1', address: '127.0.0.1:9000', role: 'voter' as const }];
    expect(freshBackendLayout({ index: 0, term: 0, configurationIndex: null, servers }, null)).toEqual({
      refused: 'no entry and no snapshot was applied: there is no state to start from',
    });
    expect(freshBackendLayout({ index: 7, term: 2, configurationIndex: 1, servers: null }, 3)).toEqual({
      refused: 'no membership (RAFT_CHANGE entry or snapshot .meta) was read: dqlite would not know its voters',
    });
    const ok = freshBackendLayout({ index: 7, term: 2, configurationIndex: 9, servers }, 5);
    // The node never goes back in term; the configuration index is never past the snapshot.
    expect(ok).toMatchObject({ snapshotName: 'snapshot-2-7-1', index: 7, term: 2 });
    if ('refused' in ok) return;
    expect(decodeMetadata(ok.metadata1).term).toBe(5n);
    expect(decodeMeta(ok.meta)).toMatchObject({ configurationIndex: 7, crcOk: true });
  });

  it('says what it applied and where it stopped, and refuses what it must not do', async () => {
    const input = path.join(SAMPLES, 'dqlite-healthy');
    const text = await run(input, '--out', path.join(tmp, 'text'));
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Rebuilt 1 database of .* into .*text \(the input was only read\):/);
    expect(text.stdout).toMatch(/Log: entries 1025\.\.1046 applied/);
    const nonEmpty = await run(input, '--out', path.join(tmp, 'text'));
    expect(nonEmpty.code).toBe(2);
    expect(nonEmpty.stderr).toMatch(/exists and is not empty/);
    const snapshot = await run(input, '--snapshot', path.join(tmp, 'x.db'));
    expect(snapshot.code).toBe(2);
    expect(snapshot.stderr).toMatch(/a dqlite directory is rebuilt with --out DIR/);
    expect(existsSync(path.join(tmp, 'x.db'))).toBe(false);
    // A damaged segment after the snapshot: the rebuild stops there, says so, and exits 1.
    const damaged = path.join(tmp, 'damaged-in');
    spawnSync('cp', ['-a', input, damaged]);
    const last = damageLastClosedSegment(damaged);
    const stopped = await run(damaged, '--out', path.join(tmp, 'damaged-out'), '--json');
    expect(stopped.code).toBe(1);
    const rep = JSON.parse(stopped.stdout) as DqliteRebuildReport;
    // dqlite itself would start on that copy, by renaming the damaged segment away: said, not hidden.
    expect([rep.engineWouldStart, rep.engineWouldDrop]).toEqual([true, true]);
    const said = await run(damaged, '--out', path.join(tmp, 'damaged-text'));
    expect(said.stdout).toMatch(/dqlite itself would start on the input as it is, but only by silently dropping entries/);
    expect(rep.stop?.file).toBe(last);
    expect(rep.stop?.why).toBe(`entries ${rep.lastIndexOnDisk}..${rep.lastIndexOnDisk} of ${last} are damaged`);
    expect(rep.log?.to).toBe(rep.lastIndexOnDisk! - 1);
    expect(sqlite(path.join(tmp, 'damaged-out', 'demo.db'), 'PRAGMA integrity_check;')).toBe('ok');

    // A segment renamed over another's range: the rebuild stops before it rather than apply page images twice, out of order.
    const overlap = path.join(tmp, 'overlap-in');
    spawnSync('cp', ['-a', input, overlap]);
    const closed = readdirSync(overlap)
      .filter((n) => /^\d{16}-\d{16}$/.test(n))
      .sort();
    const [a, b] = closed[1]!.split('-').map(Number) as [number, number];
    const renamed = `${String(a - 5).padStart(16, '0')}-${String(b - 5).padStart(16, '0')}`;
    spawnSync('mv', [path.join(overlap, closed[1]!), path.join(overlap, renamed)]);
    const o = await run(overlap, '--out', path.join(tmp, 'overlap-out'), '--json');
    expect(o.code).toBe(1);
    const ro = JSON.parse(o.stdout) as DqliteRebuildReport;
    expect(ro.stop).toMatchObject({ file: renamed, why: `${renamed} overlaps ${closed[0]} (entries ${a - 5}..${a - 1} in both)` });
    expect(ro.log?.to).toBe(a - 1);
    expect(sqlite(path.join(tmp, 'overlap-out', 'demo.db'), 'PRAGMA integrity_check;')).toBe('ok');
  });
});
