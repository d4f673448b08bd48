/**
 * `lifeboat detect` on realistic k3s and RKE2 servers with embedded etcd
 * (test/helpers/realistic-node.ts: real sshd in a private mount namespace).
 * Their etcd data dir and their own snapshots are real: a data dir written by
 * Debian's etcd 3.4 and snapshots taken from it with the real `etcdctl snapshot
 * save`, laid where k3s and RKE2 keep them and named as they name them. The
 * card must find the snapshots without any cron job, tell the good from the
 * damaged as real etcdctl does, read a zip (`--etcd-snapshot-compress`) through
 * unzip in place, and give k3s's own restore (its reset with the newest good
 * snapshot's path, the zip as it is), not etcdctl's. No k3s binary runs here:
 * the restore commands are k3s's and RKE2's documented ones, checked as text.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translateLocal } from '../../shared/i18n';
import { ensureBuilt, type RunResult } from '../cli/fixtures';
import { detectCli, detectedCard } from '../helpers/detect-cli';
import { hashTree, requireEtcd, tempDir } from '../helpers/etcd';
import { validateLocalPath } from '../helpers/validate-local';
import { startRealisticNode, realisticNodesAvailable, type RealisticNode } from '../helpers/realistic-node';
import { generateKey, sshdAvailable, type KeyPair } from '../helpers/sshd';
import { DAMAGED, etcdctl, GOOD, K3S_SNAPSHOTS, k3sNodeFixture, ZIPPED } from '../helpers/k3s-node';
import { K3S_INSTALL_UNIT } from '../helpers/k3s-unit';

const RUN = requireEtcd() && sshdAvailable() && realisticNodesAvailable();
/** RKE2 moved by its config.yaml: its data dir and its snapshot dir elsewhere. */
const RKE2_DATA = '/var/lib/rke2-data';
const RKE2_SNAPSHOTS = '/var/lib/rke2-snaps';
const RKE2_GOOD = `${RKE2_SNAPSHOTS}/etcd-snapshot-cp2-1765300000`;
/** k3s moved by its service environment (K3S_DATA_DIR in the install script's env file) and a config.yaml.d drop-in. */
const K3S_ENV_DATA = '/var/lib/k3s-data';
const K3S_DROPIN_SNAPSHOTS = '/var/lib/k3s-snaps';
const K3S_DROPIN_GOOD = `${K3S_DROPIN_SNAPSHOTS}/on-demand-cp3-1765400000`;

describe.runIf(RUN)('lifeboat detect on k3s and RKE2 servers (embedded etcd)', () => {
  let tmp: string;
  let key: KeyPair;
  let k3s: RealisticNode;
  let rke2: RealisticNode;
  let k3sMoved: RealisticNode;
  let good: Buffer;
  let damaged: Buffer;
  let snapshotsHash = '';

  const detect = (node: RealisticNode, extra: string[]): Promise<RunResult> => detectCli(node, key, tmp, extra);

  beforeAll(async () => {
    await ensureBuilt();
    tmp = await tempDir('detect-k3s');
    key = await generateKey(tmp, 'id_ed25519', { type: 'ed25519' });
    const fixture = await k3sNodeFixture(tmp);
    good = fixture.good;
    damaged = fixture.damaged;
    k3s = await startRealisticNode(fixture.spec);
    await k3s.sshd.authorize(key.publicLine);
    rke2 = await startRealisticNode({
      files: {
        '/etc/systemd/system/rke2-server.service':
          '[Unit]\nDescription=Rancher Kubernetes Engine v2 (server)\n\n[Service]\nType=notify\nExecStart=/usr/local/bin/rke2 server\n',
        '/etc/rancher/rke2/config.yaml': {
          content: `data-dir: ${RKE2_DATA}\netcd-snapshot-dir: ${RKE2_SNAPSHOTS}\nwrite-kubeconfig-mode: "0644"\n`,
          mode: 0o600,
        },
        [RKE2_GOOD]: { content: good, mode: 0o600 },
      },
      copies: { [`${RKE2_DATA}/server/db/etcd`]: fixture.etcdDir },
      setup: [`touch -d @1765300000 ${RKE2_GOOD}`],
    });
    await rke2.sshd.authorize(key.publicLine);
    k3sMoved = await startRealisticNode({
      files: {
        '/etc/systemd/system/k3s.service': K3S_INSTALL_UNIT.split('\n').slice(1).join('\n'),
        // The install script writes the variables it was given here, root's only.
        '/etc/systemd/system/k3s.service.env': { content: `K3S_TOKEN=secret-token\nK3S_DATA_DIR=${K3S_ENV_DATA}\n`, mode: 0o600 },
        '/etc/rancher/k3s/config.yaml': { content: 'write-kubeconfig-mode: "0644"\netcd-snapshot-dir: /var/lib/not-this-one\n', mode: 0o600 },
        // Read after config.yaml, in name order: the later file wins; a file that is not YAML by name is not read.
        '/etc/rancher/k3s/config.yaml.d/10-snapshots.yaml': { content: 'etcd-snapshot-dir: /srv/also-not-this-one\n', mode: 0o600 },
        '/etc/rancher/k3s/config.yaml.d/20-snapshots.yaml': { content: `etcd-snapshot-dir: ${K3S_DROPIN_SNAPSHOTS}\n`, mode: 0o600 },
        '/etc/rancher/k3s/config.yaml.d/99-old.yaml.bak': { content: 'etcd-snapshot-dir: /srv/backup-of-a-backup\n', mode: 0o600 },
        [K3S_DROPIN_GOOD]: { content: good, mode: 0o600 },
      },
      copies: { [`${K3S_ENV_DATA}/server/db/etcd`]: fixture.etcdDir },
      setup: [`touch -d @1765400000 ${K3S_DROPIN_GOOD}`],
    });
    await k3sMoved.sshd.authorize(key.publicLine);
    snapshotsHash = await hashTree(k3s.hostPath(K3S_SNAPSHOTS));
  }, 240_000);

  afterAll(async () => {
    await k3s?.stop();
    await rke2?.stop();
    await k3sMoved?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it("finds k3s's embedded etcd and its own snapshots, tells the good one as etcdctl does, and gives k3s's reset", async () => {
    const card = await detectedCard(k3s, key, tmp);
    expect(card.datastores).toHaveLength(1);
    const d = card.datastores[0]!;
    expect(d).toMatchObject({
      engine: 'etcd',
      managedBy: 'k3s',
      dataDir: '/var/lib/rancher/k3s/server/db/etcd',
      unit: 'k3s.service',
      running: false,
      backupJobs: [],
      newestGoodBackup: ZIPPED,
    });
    // Newest first: the zip (read through unzip), the damaged on-demand one, the scheduled good one; found in k3s's own dir.
    expect(d.backups.map((b) => [b.path, b.valid, b.mtime])).toEqual([
      [ZIPPED, true, new Date(1765200000 * 1000).toISOString()],
      [DAMAGED, false, new Date(1765100000 * 1000).toISOString()],
      [GOOD, true, new Date(1765000000 * 1000).toISOString()],
    ]);
    expect(d.backups.map((b) => b.bytes)).toEqual([(await fs.stat(k3s.hostPath(ZIPPED))).size, damaged.length, good.length]);
    expect(d.backups.every((b) => b.foundBy === `k3s snapshot dir ${K3S_SNAPSHOTS}`)).toBe(true);
    expect(d.backups[0]).toMatchObject({ compressed: 'zip', decompressedPath: `${K3S_SNAPSHOTS}/etcd-snapshot-cp1-1765200000.db` });
    expect(d.backups[0]!.problem).toBeUndefined();
    expect(d.backups[1]!.problem).toMatch(/SHA-256 mismatch/);
    // k3s restores its zip as it is: the newest good snapshot is the zip's, and its reset is given with the zip.
    expect(d.restore).toEqual({
      from: ZIPPED,
      commands: [
        'systemctl stop k3s',
        `/usr/local/bin/k3s server --cluster-init --cluster-reset --cluster-reset-restore-path=${ZIPPED}`,
        'systemctl start k3s',
      ],
      text: {
        key: 'guided.card.distributionRestore',
        params: { dbDir: '/var/lib/rancher/k3s/server/db', from: ZIPPED },
        texts: { tool: [{ key: 'guided.card.managedBy.k3s' }] },
      },
    });

    // The verdicts are etcd's own: etcdctl restores the good snapshot with its hash checked and refuses the damaged one.
    const restored = etcdctl(['snapshot', 'restore', k3s.hostPath(GOOD), '--data-dir', path.join(tmp, 'restored-good')]);
    expect(restored.code, restored.stderr).toBe(0);
    const refused = etcdctl(['snapshot', 'restore', k3s.hostPath(DAMAGED), '--data-dir', path.join(tmp, 'restored-damaged')]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr + refused.stdout).toMatch(/expected sha256/);
    // And what the zip holds restores with its hash checked (unpacked here, into the test's own folder).
    const unpacked = path.join(tmp, 'unpacked.db');
    await fs.writeFile(unpacked, execFileSync('unzip', ['-p', k3s.hostPath(ZIPPED)], { maxBuffer: 64 << 20 }));
    const fromZip = etcdctl(['snapshot', 'restore', unpacked, '--data-dir', path.join(tmp, 'restored-zip')]);
    expect(fromZip.code, fromZip.stderr).toBe(0);
    // Validated whole, the snapshot says whose it is: k3s's bootstrap key (not the key that only begins like it).
    const goodCopy = path.join(tmp, 'good-copy.db');
    await fs.writeFile(goodCopy, good);
    const report = await validateLocalPath(goodCopy);
    expect(report.etcd?.schema?.bootstrapKeys).toBe(1);
    const finding = report.findings.find((f) => f.code === 'etcd.k3s-bootstrap');
    expect(finding).toMatchObject({ severity: 'info', params: { keys: 1 } });
    expect(report.startable).toBe(true);
    expect(report.summary).toBe(
      "This snapshot.db is intact (revision 33, 32 live keys). It is a k3s or RKE2 server's snapshot (their bootstrap data is in it): restore it with the server's own reset, `k3s server --cluster-reset --cluster-reset-restore-path=FILE` (or `rke2 server …`), not etcdctl.",
    );
    // Detection read the snapshots in place and changed none of them.
    expect(await hashTree(k3s.hostPath(K3S_SNAPSHOTS))).toBe(snapshotsHash);
  }, 120_000);

  it('prints the restore in words with its commands', async () => {
    const r = await detect(k3s, ['--sudo']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/etcd managed by k3s, NOT running/);
    expect(r.stdout).toContain(`newest good backup: ${ZIPPED}`);
    expect(r.stdout).toContain(`restore from ${ZIPPED}:`);
    expect(r.stdout).toContain('k3s restores its own snapshots, not etcdctl: with k3s stopped, its reset moves the old etcd dir aside to etcd-old-<time>');
    expect(r.stdout).toContain('move their /var/lib/rancher/k3s/server/db aside before they join again');
    expect(r.stdout).toContain(`    /usr/local/bin/k3s server --cluster-init --cluster-reset --cluster-reset-restore-path=${ZIPPED}\n    systemctl start k3s`);
  }, 120_000);

  it("follows RKE2's config.yaml to a moved data dir and snapshot dir", async () => {
    const card = await detectedCard(rke2, key, tmp);
    expect(card.datastores).toHaveLength(1);
    const d = card.datastores[0]!;
    expect(d).toMatchObject({
      engine: 'etcd',
      managedBy: 'rke2',
      dataDir: `${RKE2_DATA}/server/db/etcd`,
      unit: 'rke2-server.service',
      newestGoodBackup: RKE2_GOOD,
    });
    expect(d.evidence).toEqual([
      `${RKE2_DATA}/server/db/etcd exists`,
      `data-dir: ${RKE2_DATA} in /etc/rancher/rke2/config.yaml`,
      `etcd-snapshot-dir: ${RKE2_SNAPSHOTS} in /etc/rancher/rke2/config.yaml`,
    ]);
    expect(d.backups.map((b) => [b.path, b.valid, b.foundBy])).toEqual([[RKE2_GOOD, true, `rke2 snapshot dir ${RKE2_SNAPSHOTS}`]]);
    expect(d.restore?.commands).toEqual([
      'systemctl stop rke2-server',
      `/usr/local/bin/rke2 server --cluster-reset --cluster-reset-restore-path=${RKE2_GOOD}`,
      'systemctl start rke2-server',
    ]);
    // The sentence names RKE2 and the db dir config.yaml moved, in both languages.
    expect(translateLocal('en', d.restore!.text!)).toContain(`stop RKE2 on the others first and move their ${RKE2_DATA}/server/db aside`);
    expect(translateLocal('zh-CN', d.restore!.text!)).toContain(`先在其他服务器上停止 RKE2，并把它们的 ${RKE2_DATA}/server/db 移开`);
    // config.yaml is root's: read through sudo, the command recorded as run.
    expect(card.probes.some((p) => p.command === 'head -c 65537 /etc/rancher/rke2/config.yaml' && p.sudo && p.code === 0)).toBe(true);
  }, 120_000);

  it('follows K3S_DATA_DIR in the service environment and the last config.yaml.d drop-in', async () => {
    const card = await detectedCard(k3sMoved, key, tmp);
    expect(card.datastores).toHaveLength(1);
    const d = card.datastores[0]!;
    expect(d).toMatchObject({ engine: 'etcd', managedBy: 'k3s', dataDir: `${K3S_ENV_DATA}/server/db/etcd`, newestGoodBackup: K3S_DROPIN_GOOD });
    expect(d.evidence).toEqual([
      `${K3S_ENV_DATA}/server/db/etcd exists`,
      `K3S_DATA_DIR=${K3S_ENV_DATA} in /etc/systemd/system/k3s.service.env`,
      `etcd-snapshot-dir: ${K3S_DROPIN_SNAPSHOTS} in /etc/rancher/k3s/config.yaml.d/20-snapshots.yaml`,
    ]);
    expect(d.backups.map((b) => [b.path, b.valid, b.foundBy])).toEqual([[K3S_DROPIN_GOOD, true, `k3s snapshot dir ${K3S_DROPIN_SNAPSHOTS}`]]);
    expect(d.restore?.commands).toEqual([
      'systemctl stop k3s',
      `/usr/local/bin/k3s server --cluster-init --cluster-reset --cluster-reset-restore-path=${K3S_DROPIN_GOOD}`,
      'systemctl start k3s',
    ]);
    expect(translateLocal('en', d.restore!.text!)).toContain(`move their ${K3S_ENV_DATA}/server/db aside`);
    // Root's files, read through sudo; the .bak was never opened.
    const ran = (command: string) => card.probes.some((p) => p.command === command && p.sudo && p.code === 0);
    const envProbe = card.probes.find((p) => p.id === 'env:/etc/systemd/system/k3s.service.env');
    expect(envProbe).toMatchObject({ sudo: true, code: 0, stdout: `K3S_DATA_DIR=${K3S_ENV_DATA}\n` });
    // The join token beside it never left the node.
    expect(JSON.stringify(card)).not.toContain('secret-token');
    expect(ran('head -c 65537 /etc/rancher/k3s/config.yaml.d/20-snapshots.yaml')).toBe(true);
    expect(card.probes.some((p) => p.command.includes('99-old.yaml.bak'))).toBe(false);
  }, 120_000);
});
