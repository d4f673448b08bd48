/**
 * Where a k3s or RKE2 server keeps its embedded etcd and its own snapshots, read from its unit and config.yaml, and
 * the restore commands the node card gives for it (k3s's own reset, not etcdctl).
 */
import { describe, expect, it } from 'vitest';
import { distributionLayout, distributionRestoreCommands, isZipSnapshot } from '../../shared/node/k3s';
import { K3S_INSTALL_UNIT } from '../helpers/k3s-unit';

describe('k3s and RKE2 layout', () => {
  it('takes the defaults when there is neither unit nor config', () => {
    const k3s = distributionLayout('k3s', null, null);
    expect(k3s).toEqual({
      distribution: 'k3s',
      dbDir: '/var/lib/rancher/k3s/server/db',
      snapshotDir: '/var/lib/rancher/k3s/server/db/snapshots',
      serverCommand: ['k3s', 'server'],
      evidence: [],
    });
    expect(distributionLayout('rke2', null, null).snapshotDir).toBe('/var/lib/rancher/rke2/server/db/snapshots');
  });

  it("reads the install script's unit: continuation lines, quoted arguments, the binary's path", () => {
    const l = distributionLayout('k3s', K3S_INSTALL_UNIT, null);
    expect(l.serverCommand).toEqual(['/usr/local/bin/k3s', 'server', '--cluster-init']);
    expect(l.dbDir).toBe('/var/lib/rancher/k3s/server/db');
    expect(distributionRestoreCommands(l, 'k3s.service', '/var/lib/rancher/k3s/server/db/snapshots/etcd-snapshot-cp1-1765000000')).toEqual([
      'systemctl stop k3s',
      '/usr/local/bin/k3s server --cluster-init --cluster-reset --cluster-reset-restore-path=/var/lib/rancher/k3s/server/db/snapshots/etcd-snapshot-cp1-1765000000',
      'systemctl start k3s',
    ]);
  });

  it('moves the data and snapshot dirs as config.yaml says, and a flag on ExecStart wins over the file', () => {
    const config = 'write-kubeconfig-mode: "0644"\ndata-dir: /srv/k3s/\netcd-snapshot-dir: /backup/k3s snapshots\ntls-san:\n  - cp.example\n';
    const fromFile = distributionLayout('k3s', null, config);
    expect(fromFile.dbDir).toBe('/srv/k3s/server/db');
    expect(fromFile.snapshotDir).toBe('/backup/k3s snapshots');
    expect(fromFile.evidence).toEqual([
      'data-dir: /srv/k3s/ in /etc/rancher/k3s/config.yaml',
      'etcd-snapshot-dir: /backup/k3s snapshots in /etc/rancher/k3s/config.yaml',
    ]);
    const unit = K3S_INSTALL_UNIT + "\t'--data-dir=/data/k3s' \\\n";
    const both = distributionLayout('k3s', unit, config);
    expect(both.dbDir).toBe('/data/k3s/server/db');
    expect(both.snapshotDir).toBe('/backup/k3s snapshots');
    expect(both.evidence[0]).toBe('--data-dir=/data/k3s on ExecStart of k3s.service');
    // A path with a space is quoted in the command as the shell needs it.
    expect(distributionRestoreCommands(both, 'k3s.service', '/backup/k3s snapshots/on-demand-cp1-1765000000')[1]).toBe(
      "/usr/local/bin/k3s server --cluster-init --data-dir=/data/k3s --cluster-reset '--cluster-reset-restore-path=/backup/k3s snapshots/on-demand-cp1-1765000000'",
    );
    // Trailing slashes go, in linear time however many there are (a regex for it took seconds on 60 KB of them, fuzzed).
    const slashes = distributionLayout('k3s', null, `data-dir: /srv${'/'.repeat(30_000)}x${'/'.repeat(30_000)}\n`);
    expect(slashes.dbDir).toBe(`/srv${'/'.repeat(30_000)}x/server/db`);
    expect(distributionLayout('k3s', null, 'data-dir: /\n').dbDir).toBe('/server/db');
    // -d is --data-dir's short form.
    expect(distributionLayout('k3s', 'ExecStart=/usr/local/bin/k3s server -d /opt/k3s\n', null).dbDir).toBe('/opt/k3s/server/db');
  });

  it('keeps the defaults and says why when config.yaml cannot be read, and ignores settings that are not text', () => {
    const bad = distributionLayout('rke2', null, 'data-dir: [unclosed\n');
    expect(bad.dbDir).toBe('/var/lib/rancher/rke2/server/db');
    expect(bad.evidence).toHaveLength(1);
    expect(bad.evidence[0]).toMatch(/^\/etc\/rancher\/rke2\/config\.yaml not read: /);
    expect(distributionLayout('rke2', null, 'data-dir:\n  - /a\n').dbDir).toBe('/var/lib/rancher/rke2/server/db');
    expect(distributionLayout('rke2', null, '- just\n- a list\n').dbDir).toBe('/var/lib/rancher/rke2/server/db');
    // An alias bomb is refused before it is expanded.
    const bomb = 'a: &a [x, x]\nb: &b [*a, *a]\ndata-dir: *b\n';
    expect(distributionLayout('k3s', null, bomb).evidence[0]).toMatch(/not read/);
  });

  it("stops and starts RKE2's own unit and runs its binary", () => {
    const l = distributionLayout('rke2', '[Service]\nExecStart=/usr/local/bin/rke2 server\n', null);
    expect(distributionRestoreCommands(l, 'rke2-server.service', '/var/lib/rancher/rke2/server/db/snapshots/etcd-snapshot-a-1')).toEqual([
      'systemctl stop rke2-server',
      '/usr/local/bin/rke2 server --cluster-reset --cluster-reset-restore-path=/var/lib/rancher/rke2/server/db/snapshots/etcd-snapshot-a-1',
      'systemctl start rke2-server',
    ]);
  });

  it("tells k3s's zip snapshots", () => {
    expect(isZipSnapshot('/x/etcd-snapshot-cp1-1765000000.zip')).toBe(true);
    expect(isZipSnapshot('/x/etcd-snapshot-cp1-1765000000')).toBe(false);
  });
});
