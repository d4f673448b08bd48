/**
 * `lifeboat validate` on real etcd 3.4 data dirs, through the built CLI
 * (node bin/lifeboat.cjs): the verdict, the WAL/snap/db summary, the
 * cross-checks with --addresses, several members compared, a snapshot.db,
 * and "not a datastore" for anything else. Inputs are hashed before and after.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EtcdMemberComparison } from '../../shared/contract/etcd';
import type { ValidationReport } from '../../shared/contract/report';
import { ensureBuilt, runCli } from './fixtures';
import { copyDir, hashTree, makeGolden, requireEtcd, tempDir, type EtcdGolden } from '../helpers/etcd';
import { buildEtcdGoldens, ETCD_DAMAGE_CASES } from '../helpers/etcd-damage';

const HAVE_ETCD = requireEtcd();

describe.skipIf(!HAVE_ETCD)('lifeboat validate on etcd data dirs', () => {
  let work = '';
  let big: EtcdGolden;
  let little: EtcdGolden;
  let broken = '';
  let snapshotDb = '';

  beforeAll(async () => {
    await ensureBuilt();
    work = await tempDir('etcd-cli');
    const g = await buildEtcdGoldens(work, ['small'], true);
    big = g.goldens.small!;
    little = await makeGolden(path.join(work, 'little'), { keys: 40 });
    broken = path.join(work, 'zeroed-leaf');
    await copyDir(big.dir, broken);
    await ETCD_DAMAGE_CASES.find((c) => c.name === 'bbolt: a leaf page of the key bucket zeroed')!.damage(broken);
    const snapDir = path.join(work, 'backup');
    await fs.mkdir(snapDir);
    snapshotDb = path.join(snapDir, 'snapshot.db');
    await fs.copyFile(g.snapshotDb!.file, snapshotDb);
  }, 180_000);

  afterAll(async () => {
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('a healthy member: exit 0, "Would start: yes", the WAL/db summary, no findings', async () => {
    const before = await hashTree(big.dir);
    const r = await runCli(['validate', big.dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('engine: etcd');
    expect(r.stdout).toMatch(/Would start: yes\s+Data loss on start: no/);
    expect(r.stdout).toContain('Verdict: etcd would start on this data directory as it is, with no data loss.');
    expect(r.stdout).toMatch(/WAL member\/wal: 1 file\(s\), entries 1\.\.\d+/);
    expect(r.stdout).toMatch(new RegExp(`db member/snap/db: .*revision ${big.revision}, consistent index \\d+, ${big.keys.size} live keys`));
    expect(r.stdout).toContain(`peer ${big.endpoint.peerUrl}`);
    expect(r.stdout).toContain('node is a member: yes');
    expect(await hashTree(big.dir)).toBe(before);
  });

  it("a zeroed leaf page: exit 1 and etcd's own panic text, in text and JSON", async () => {
    const before = await hashTree(broken);
    const r = await runCli(['validate', broken]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Would start: no/);
    expect(r.stdout).toContain('etcd says: freepages: failed to get all reachable pages (page 0: invalid type: unknown<00>)');
    const j = await runCli(['validate', broken, '--json']);
    expect(j.code).toBe(1);
    const report = JSON.parse(j.stdout) as ValidationReport;
    expect(report).toMatchObject({ engine: 'etcd', startable: false, dataLoss: false });
    expect(report.etcd?.startup.fatalError).toBe('freepages: failed to get all reachable pages (page 0: invalid type: unknown<00>)');
    expect(report.findings.find((f) => f.code === 'bbolt.freepages-panic')?.engineError).toBe(report.etcd?.startup.fatalError);
    expect(await hashTree(broken)).toBe(before);
  });

  it('--addresses: a member registered at an address the node no longer has is named (cross.stale-address)', async () => {
    const r = await runCli(['validate', big.dir, '--addresses', '10.1.2.3,10.1.2.4']);
    expect(r.stdout).toContain(`Addresses given: 10.1.2.3, 10.1.2.4; members at other addresses: n1 ${big.endpoint.peerUrl}`);
    expect(r.stdout).toContain('cross.stale-address');
    const ok = await runCli(['validate', big.dir, '--addresses', `${big.endpoint.host},10.1.2.4`, '--json']);
    const report = JSON.parse(ok.stdout) as ValidationReport;
    expect(report.etcd?.crossCheck.addressesGiven).toEqual([big.endpoint.host, '10.1.2.4']);
    expect(report.etcd?.crossCheck.staleAddresses).toEqual([]);
    expect(report.findings.map((f) => f.code)).not.toContain('cross.stale-address');
  });

  it('--addresses is read like the UI field: spaces, semicolons, ports and URLs; an unreadable token is exit 2 naming it', async () => {
    const before = await hashTree(big.dir);
    const mixed = await runCli(['validate', big.dir, '--addresses', `http://${big.endpoint.host}:2380; 10.1.2.4:2379  10.1.2.5`, '--json']);
    const report = JSON.parse(mixed.stdout) as ValidationReport;
    expect(report.etcd?.crossCheck.addressesGiven).toEqual([big.endpoint.host, '10.1.2.4', '10.1.2.5']);
    expect(report.etcd?.crossCheck.staleAddresses).toEqual([]);
    const bad = await runCli(['validate', big.dir, '--addresses', '10.1.2.3,not_a host!,10.1.2.3/24']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--addresses: not an IP address, host name or URL: "not_a", "host!", "10.1.2.3/24"');
    expect(bad.stdout).not.toContain('Would start');
    const empty = await runCli(['validate', big.dir, '--addresses', ' , ']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--addresses needs a list of addresses');
    expect(await hashTree(big.dir)).toBe(before);
  });

  it('several members: a table per member and the one to keep (the longest log), in text and JSON', async () => {
    const r = await runCli(['validate', little.dir, big.dir, broken]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Members compared:');
    const table = r.stdout.slice(r.stdout.indexOf('Members compared:')).split('\n');
    const bigRow = table.find((l) => l.includes(` ${path.basename(big.dir)} `));
    expect(bigRow).toMatch(/^\s+\*\s/);
    expect(r.stdout).toMatch(new RegExp(`Keep: Keep ${path.basename(big.dir)}: it has the highest last log index`));
    const j = await runCli(['validate', little.dir, big.dir, broken, '--json']);
    const out = JSON.parse(j.stdout) as { reports: ValidationReport[]; members: EtcdMemberComparison };
    expect(out.reports.map((x) => x.startable)).toEqual([true, true, false]);
    expect(out.members.keep).toBe(path.basename(big.dir));
    const rows = out.members.rows;
    expect(rows.map((x) => x.newest)).toEqual([false, true, false]);
    expect(rows[1]!.revision).toBe(big.revision);
    expect(rows[0]!.revision).toBe(little.revision);
    expect(rows[1]!.lastIndex).toBeGreaterThan(rows[0]!.lastIndex!);
    expect(rows[2]!.startable).toBe(false);
  });

  it('a snapshot.db: restorable (exit 0); without its trailer etcdctl refuses it (exit 1)', async () => {
    const r = await runCli(['validate', snapshotDb]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('snapshot restore` accepts it');
    expect(r.stdout).toContain('SHA-256 trailer: matches');
    const cut = path.join(work, 'cut', 'snapshot.db');
    await fs.mkdir(path.dirname(cut));
    await fs.copyFile(snapshotDb, cut);
    await fs.truncate(cut, (await fs.stat(cut)).size - 32);
    const bad = await runCli(['validate', cut, '--json']);
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout) as ValidationReport;
    expect(report.etcd?.startup.fatalError).toBe('snapshot missing hash but --skip-hash-check=false');
    expect(report.etcd?.layout.input).toBe('snapshot-db');
  });

  it('a directory that is neither engine: "not a datastore directory", no start-up verdict, exit 1 (as before)', async () => {
    const other = path.join(work, 'photos');
    await fs.mkdir(other);
    await fs.writeFile(path.join(other, 'notes.txt'), 'hello');
    const r = await runCli(['validate', other]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Not a datastore directory');
    expect(r.stdout).not.toContain('Would start');
    const j = await runCli(['validate', other, '--json']);
    expect(JSON.parse(j.stdout)).toMatchObject({ engine: 'unknown', findings: [{ code: 'engine.unknown', severity: 'info' }] });
  });
});
