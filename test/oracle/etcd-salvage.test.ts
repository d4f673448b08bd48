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
import { buildEtcdGoldens, ETCD_DAMAGE_CASES, type EtcdGoldens } from '../helpers/etcd-damage';
import { restoreAndRead, snapshotStatus } from '../helpers/etcd-restore';

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

describe.skipIf(!hasEtcd)('etcd salvage oracle (real etcdctl snapshot restore)', () => {
  let root: string;
  let g: EtcdGoldens;
  beforeAll(async () => {
    root = await tempDir('salvage');
    g = await buildEtcdGoldens(root, ['small', 'snaps']);
  }, 240_000);
  afterAll(async () => {
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(c.name, async () => {
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
      if (LOSSY.has(c.name)) {
        expect(missing.length === 0 || report.lost.length > 0 || report.findings.some((f) => f.severity !== 'info')).toBe(true);
      } else {
        expect(missing, `${missing.length} keys missing; report: ${JSON.stringify({ ...report, keys: undefined }).slice(0, 1500)}`).toEqual([]);
      }
      expect(report.keysWritten).toBe(served.size);
      expect(report.sha256).toMatch(/^[0-9a-f]{64}$/);
      if (c.name === FIELD_REPORT) {
        // The field report: the keys cut off by the page-0 pointer come from orphaned leaves.
        expect(report.sources['orphaned-leaf']).toBeGreaterThan(0);
        expect(served.size).toBe(golden.keys.size);
      }
    }, 120_000);
  }
});
