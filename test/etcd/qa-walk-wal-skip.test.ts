/**
 * A WAL record zeroed in the middle, the db gone: salvage steps over the
 * record and says the keys it wrote are lost, naming the entry before it. The
 * WAL reader tells skips in a first pass before it hands out any entry (when
 * indexes do not only rise), and the loss said "after entry 0" (found walking
 * the UI: the WAL timeline showed entries 1..772 before the same byte).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { salvageToSnapshotDb } from '../../electron/services/etcd-repair';
import { translateLocal } from '../../shared/i18n';
import { copyDir, makeGolden, requireEtcd, tempDir, type EtcdGolden } from '../helpers/etcd';
import { ETCD_DAMAGE_CASES, walFiles, walFrames } from '../helpers/etcd-damage';

const canRun = requireEtcd();
const CASE = 'several: db missing and a WAL record in the middle zeroed (keys lost)';
let tmp: string;
let golden: EtcdGolden;

beforeAll(async () => {
  if (!canRun) return;
  tmp = await tempDir('qa-walk-wal-skip');
  golden = await makeGolden(path.join(tmp, 'golden'), { keys: 120, valueSize: 64 });
}, 120_000);

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!canRun)('a skipped WAL record names the entry before it', () => {
  it('salvage to snapshot.db: "after entry N" is the last entry before the zeroed record', async () => {
    const copy = path.join(tmp, 'lossy');
    await copyDir(golden.dir, copy);
    await ETCD_DAMAGE_CASES.find((c) => c.name === CASE)!.damage(copy);
    // The zeroed record, chosen as the damage chooses it (the middle entry with data); the entry before it in the file.
    const wal = (await walFiles(copy)).at(-1)!;
    const intact = await walFrames(path.join(golden.dir, path.relative(copy, wal)));
    const withData = intact.filter((f) => f.type === 2 && f.payloadLength > 0);
    const zeroed = withData[Math.floor(withData.length / 2)]!;
    const before = Math.max(...intact.filter((f) => f.type === 2 && f.offset < zeroed.offset).map((f) => f.index ?? 0));
    expect(before).toBeGreaterThan(1);

    const report = await salvageToSnapshotDb(copy, path.join(tmp, 'snapshot.db'));
    const skip = report.lost.find((l) => l.reasonText?.key === 'etcd-loss.wal-skip');
    expect(skip, JSON.stringify(report.lost)).toBeDefined();
    expect(skip!.reasonText!.params).toMatchObject({ after: before });
    expect(translateLocal('en', skip!.reasonText!)).toContain(`(after entry ${before})`);
  }, 120_000);
});
