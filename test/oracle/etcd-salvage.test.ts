/**
 * Salvage oracle: every damage case of the read side (test/helpers/etcd-damage.ts)
 * is salvaged into a snapshot.db, which the real `etcdctl snapshot restore`
 * (3.4, no --skip-hash-check) restores; etcd started on the restored dir must
 * serve every key the golden held, with the same value. The input is hashed
 * before and after. Where the damage really destroys data (named below), the
 * report must say what was lost, and every key served must still be right.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { salvageToSnapshotDb } from '../../electron/services/etcd-repair';
import { copyDir, hashTree, requireEtcd, tempDir } from '../helpers/etcd';
import { buildEtcdGoldens, dbPath, ETCD_DAMAGE_CASES, SNAPSHOT_DB_CASES, type EtcdGoldens } from '../helpers/etcd-damage';
import { restoreAndRead, snapshotStatus } from '../helpers/etcd-restore';
import { memorySink } from '../../shared/formats/etcd/bbolt-write';
import { encodeKeyValue, revisionKey, u64be, writeEtcdBackend } from '../../shared/formats/etcd/etcd-db-write';

const hasEtcd = requireEtcd();
const FIELD_REPORT = 'bbolt: branch element points at page 0';

/**
 * Cases where no copy of some key is left anywhere readable: salvage must
 * report a loss (or a clear error) instead of a complete result.
 */
const LOSSY = new Set<string>([]);

/** Cases with nothing at all to salvage: a clear error, never a crash. */
const NOTHING = new Set<string>([]);

const CASES = ETCD_DAMAGE_CASES.filter((c) => c.golden === 'small' || c.golden === 'snaps');

/** Findings a case must produce (salvage says what it met). */
const EXPECTED_CODES: Record<string, string> = {
  'bbolt: a leaf element offset points outside its page': 'salvage.damaged-page',
  'bbolt: a leaf page of the key bucket zeroed': 'salvage.revisions-from-wal',
  'bbolt: db missing, no .snap': 'salvage.no-db',
  'WAL: bit flip in the middle': 'salvage.wal-stopped',
  // The flipped record's entry is already in the db: stepped over, nothing lost.
  'WAL: bit flip in the head (first entry)': 'salvage.wal-skipped',
  'bbolt: both metas broken': 'salvage.meta-invalid',
};

describe.skipIf(!hasEtcd)('etcd salvage oracle (real etcdctl snapshot restore)', () => {
  let root: string;
  let g: EtcdGoldens;
  beforeAll(async () => {
    root = await tempDir('salvage');
    g = await buildEtcdGoldens(root, ['small', 'snaps'], true);
  }, 240_000);
  afterAll(async () => {
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(
      c.name,
      async () => {
        const golden = g.goldens[c.golden]!;
        const dir = path.join(root, `case-${CASES.indexOf(c)}`);
        await fs.mkdir(dir);
        const data = path.join(dir, 'data');
        await copyDir(golden.dir, data);
        await c.damage(data);
        const before = await hashTree(data);
        const out = path.join(dir, 'salvaged.db');
        let report;
        try {
          report = await salvageToSnapshotDb(data, out);
        } catch (err) {
          expect(NOTHING.has(c.name), `salvage threw: ${(err as Error).message}`).toBe(true);
          expect((err as Error).message).toMatch(/nothing to salvage|no member|neither/);
          return;
        } finally {
          expect(await hashTree(data)).toBe(before);
        }
        const status = snapshotStatus(out);
        expect(status.ok, status.output).toBe(true);
        const restored = await restoreAndRead(out, dir);
        expect(restored.restoreStatus, restored.restoreOutput).toBe(0);
        expect(restored.started, restored.etcdOutput.slice(-3000)).toBe(true);
        const served = restored.keys!;
        // Every served key has the golden's value (nothing invented, nothing stale).
        for (const [k, v] of served) expect(Buffer.from(v).toString('utf8'), k).toBe(golden.keys.get(k));
        const missing = [...golden.keys.keys()].filter((k) => !served.has(k));
        if (c.name.includes('(keys lost)')) {
          // etcd drops everything after the damaged record; salvage steps over a damaged record and
          // reads on (then only that record is gone), but not past a zero length word. Either way the report says so.
          if (c.name.includes('record in the middle zeroed')) expect(missing.length).toBeLessThanOrEqual(1);
          expect(report.lost.length, JSON.stringify(report.lost)).toBeGreaterThan(0);
        } else if (LOSSY.has(c.name)) {
          expect(missing.length === 0 || report.lost.length > 0 || report.findings.some((f) => f.severity !== 'info')).toBe(true);
        } else {
          expect(missing, `${missing.length} keys missing; report: ${JSON.stringify({ ...report, keys: undefined }).slice(0, 1500)}`).toEqual([]);
          // Revisions never go back: the restored member starts at the newest revision the cluster had handed out
          // (the goldens end with deletes, whose revisions no live key carries).
          expect(restored.revision).toBeGreaterThanOrEqual(golden.revision);
        }
        expect(report.keysWritten).toBe(served.size);
        expect(report.sha256).toMatch(/^[0-9a-f]{64}$/);
        const code = EXPECTED_CODES[c.name];
        // With every key served, revisions the WAL does not hold (which pages the damage hit varies with etcd's
        // layout) are old history: the report lists them as lost instead of replayed. Or an older copy of the zeroed
        // leaf among the freed pages still held them (bbolt copies a page on write): they came from that orphaned leaf.
        // Either way the report says where they came from.
        const codes = report.findings.map((f) => f.code);
        const fromOlderCopy = missing.length === 0 && report.sources['orphaned-leaf'] > 0;
        if (code)
          expect(
            codes.includes(code) || (missing.length === 0 && code === 'salvage.revisions-from-wal' && (codes.includes('salvage.lost') || fromOlderCopy)),
            JSON.stringify({ codes, sources: report.sources }),
          ).toBe(true);
        if (c.name === FIELD_REPORT) expect(served.size).toBe(golden.keys.size);
      },
      120_000,
    );
  }

  /**
   * The db alone (no WAL: a lone `db` handed over, as in the field report where
   * only the data dir's db mattered). Pointer damage loses nothing: every leaf
   * is still there. A destroyed leaf loses its keys, and the report says so.
   */
  const DB_ONLY_COMPLETE = new Set<string>([
    FIELD_REPORT,
    'bbolt: the branch page of the key bucket zeroed',
    'bbolt: a branch child past the high-water mark',
    'bbolt: a leaf page header names another reachable page',
    'bbolt: a leaf page flagged as freelist',
    'bbolt: newest meta checksum broken (older meta used)',
    'bbolt: both metas broken',
    'bbolt: both metas with a wrong magic',
  ]);
  const DB_ONLY_LOSSY = new Set<string>([
    'bbolt: a leaf page of the key bucket zeroed',
    'bbolt: db truncated to half',
    'bbolt: a leaf element offset points outside its page',
  ]);
  for (const c of ETCD_DAMAGE_CASES.filter((x) => DB_ONLY_COMPLETE.has(x.name) || DB_ONLY_LOSSY.has(x.name))) {
    it(`db file alone: ${c.name}`, async () => {
      const golden = g.goldens[c.golden]!;
      const dir = path.join(root, `dbonly-${ETCD_DAMAGE_CASES.indexOf(c)}`);
      await fs.mkdir(dir);
      const data = path.join(dir, 'data');
      await copyDir(golden.dir, data);
      await c.damage(data);
      const db = path.join(dir, 'db');
      await fs.copyFile(dbPath(data), db);
      const before = await hashTree(db);
      const out = path.join(dir, 'salvaged.db');
      const report = await salvageToSnapshotDb(db, out);
      expect(await hashTree(db)).toBe(before);
      expect(report.walReplay).toBeNull();
      const restored = await restoreAndRead(out, dir);
      expect(restored.started, restored.restoreOutput + restored.etcdOutput.slice(-2000)).toBe(true);
      const served = restored.keys!;
      for (const [k, v] of served) expect(Buffer.from(v).toString('utf8'), k).toBe(golden.keys.get(k));
      const missing = [...golden.keys.keys()].filter((k) => !served.has(k));
      if (DB_ONLY_COMPLETE.has(c.name)) {
        expect(missing).toEqual([]);
        expect(report.lost).toEqual([]);
      } else {
        // Truncation at half may cut only freed pages (where etcd put its pages varies). A zeroed leaf may still have
        // an older copy among the freed pages holding every revision it had (bbolt copies a page on write; a split or
        // rebalance can leave an identical copy behind): then every key comes back from it, with the golden's value.
        if (missing.length === 0) {
          if (c.name.includes('truncated')) return;
          expect(report.sources['orphaned-leaf'], JSON.stringify({ sources: report.sources, lost: report.lost })).toBeGreaterThan(0);
          return;
        }
        // The loss is reported as lost revisions or damaged elements.
        const codes = report.findings.map((f) => f.code);
        // With both meta pages unreadable (where the cut falls decides it) there is no page count to measure the cut
        // against: the report says the metas are invalid, which is all a reader of the file alone can know.
        const damageSaid = codes.includes('salvage.damaged-page') || codes.includes('salvage.meta-invalid');
        expect(report.lost.length > 0 || damageSaid, JSON.stringify({ lost: report.lost, codes })).toBe(true);
        expect(codes.includes('salvage.lost') || damageSaid, codes.join(', ')).toBe(true);
      }
      if (c.name === FIELD_REPORT) expect(report.sources.tree + report.sources['orphaned-leaf']).toBe(golden.keys.size);
    }, 120_000);
  }

  for (const c of SNAPSHOT_DB_CASES) {
    it(`damaged snapshot.db: ${c.name}`, async () => {
      const snap = g.snapshotDb!;
      const dir = path.join(root, `snapdb-${SNAPSHOT_DB_CASES.indexOf(c)}`);
      await fs.mkdir(dir);
      const file = path.join(dir, 'snapshot.db');
      await fs.copyFile(snap.file, file);
      await c.damage(file);
      const before = await hashTree(file);
      const out = path.join(dir, 'salvaged.db');
      const report = await salvageToSnapshotDb(file, out);
      expect(await hashTree(file)).toBe(before);
      const restored = await restoreAndRead(out, dir);
      expect(restored.started, restored.restoreOutput).toBe(true);
      const served = restored.keys!;
      const wrong = [...served].filter(([k, v]) => Buffer.from(v).toString('utf8') !== snap.keys.get(k)).map(([k]) => k);
      if (c.name.includes('a byte of the db changed')) {
        // One changed byte: bbolt has no checksum of its own, so the trailer is the only witness.
        // Salvage says so; at most one key's value can differ, none may go missing.
        expect(report.findings.map((f) => f.code)).toContain('salvage.snapshot-hash-mismatch');
        expect(wrong.length).toBeLessThanOrEqual(1);
      } else {
        expect(wrong).toEqual([]);
        // A changed stored hash is a mismatch too (the db is fine); a cut-off trailer is a plain db.
        const mismatch = report.findings.some((f) => f.code === 'salvage.snapshot-hash-mismatch');
        expect(mismatch).toBe(c.name.includes('stored hash changed'));
      }
      expect(served.size).toBe(snap.keys.size);
    }, 120_000);
  }

  it('garbage, an empty file and a 0-page db end with a clear finding, never a crash', async () => {
    const dir = path.join(root, 'garbage');
    await fs.mkdir(dir);
    const inputs: Record<string, Buffer> = {
      'empty.db': Buffer.alloc(0),
      'short.db': Buffer.from('not a db'),
      'zeros.db': Buffer.alloc(8192),
      'random.db': Buffer.from(Array.from({ length: 64 * 4096 }, (_, i) => (i * 2654435761) >>> 24)),
    };
    for (const [name, bytes] of Object.entries(inputs)) {
      const file = path.join(dir, name);
      await fs.writeFile(file, bytes);
      const out = path.join(dir, `${name}.salvaged`);
      const report = await salvageToSnapshotDb(file, out);
      expect(report.keysWritten, name).toBe(0);
      const expected = {
        'empty.db': 'salvage.db-empty',
        'short.db': 'salvage.db-too-small',
        'zeros.db': 'salvage.db-too-small',
        'random.db': 'salvage.no-keys',
      }[name]!;
      expect(
        report.findings.map((f) => f.code),
        name,
      ).toContain(expected);
      const codes = report.findings.filter((f) => f.severity === 'error').map((f) => f.code);
      expect(codes.length, `${name}: ${JSON.stringify(report.findings)}`).toBeGreaterThan(0);
      expect(report.findings.every((f) => f.message.length > 20)).toBe(true);
      expect(await hashTree(file)).toBe((await import('node:crypto')).createHash('sha256').update(bytes).digest('hex'));
    }
  });

  it('keys of a lease no page holds any more are written without it (they stay), and the report says so', async () => {
    const dir = path.join(root, 'lease');
    await fs.mkdir(dir);
    const enc = new TextEncoder();
    const sink = memorySink();
    await writeEtcdBackend(sink, {
      revisions: [
        {
          key: revisionKey(2, 0),
          value: encodeKeyValue({
            key: enc.encode('/registry/events/default/e1'),
            createRevision: 2,
            modRevision: 2,
            version: 1,
            value: enc.encode('leased'),
            lease: 0x7777n,
          }),
        },
        {
          key: revisionKey(3, 0),
          value: encodeKeyValue({
            key: enc.encode('/registry/pods/default/p1'),
            createRevision: 3,
            modRevision: 3,
            version: 1,
            value: enc.encode('plain'),
            lease: 0n,
          }),
        },
      ],
      buckets: { meta: [[enc.encode('consistent_index'), u64be(3)]] },
    });
    const db = path.join(dir, 'db');
    await fs.writeFile(db, sink.bytes());
    const out = path.join(dir, 'salvaged.db');
    const report = await salvageToSnapshotDb(db, out);
    expect(report.findings.map((f) => f.code)).toContain('salvage.lease-detached');
    expect(report.leases).toEqual({ written: 0, detachedKeys: 1 });
    const restored = await restoreAndRead(out, dir);
    expect(restored.started).toBe(true);
    expect(Buffer.from(restored.keys!.get('/registry/events/default/e1')!).toString()).toBe('leased');
    expect(Buffer.from(restored.keys!.get('/registry/pods/default/p1')!).toString()).toBe('plain');
  }, 60_000);
});
