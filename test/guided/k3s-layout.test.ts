/**
 * Where a k3s or RKE2 server keeps its embedded etcd and its own snapshots, read from its unit, its service
 * environment, config.yaml and its config.yaml.d drop-ins (merged in k3s's order: pkg/configfilearg), and
 * the restore commands the node card gives for it (k3s's own reset, not etcdctl).
 */
import { describe, expect, it } from 'vitest';
import { distributionConfigFile, distributionLayout, distributionRestoreCommands, isConfigDropIn, isZipSnapshot } from '../../shared/node/k3s';
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

  it('merges config.yaml.d after config.yaml, the last drop-in winning; the environment only where nothing else sets it', () => {
    const env = new Map([['K3S_DATA_DIR', { value: '/env/k3s', from: '/etc/systemd/system/k3s.service.env' }]]);
    // Only the environment: K3S_DATA_DIR moves the data dir.
    const onlyEnv = distributionLayout('k3s', K3S_INSTALL_UNIT, null, { environment: env });
    expect(onlyEnv.dbDir).toBe('/env/k3s/server/db');
    expect(onlyEnv.evidence).toEqual(['K3S_DATA_DIR=/env/k3s in /etc/systemd/system/k3s.service.env']);
    // RKE2 reads its own variable, not k3s's.
    expect(distributionLayout('rke2', null, null, { environment: env }).dbDir).toBe('/var/lib/rancher/rke2/server/db');
    const rke2Env = new Map([['RKE2_DATA_DIR', { value: '/env/rke2', from: 'Environment= of rke2-server.service' }]]);
    expect(distributionLayout('rke2', null, null, { environment: rke2Env }).dbDir).toBe('/env/rke2/server/db');

    const dropIns = [
      { path: '/etc/rancher/k3s/config.yaml.d/10-data.yaml', text: 'data-dir: /dropin/first\netcd-snapshot-dir: /snaps/first\n' },
      { path: '/etc/rancher/k3s/config.yaml.d/20-data.yml', text: 'data-dir: /dropin/second\n' },
    ];
    const merged = distributionLayout('k3s', K3S_INSTALL_UNIT, 'data-dir: /from/config\n', { dropIns, environment: env });
    expect(merged.dbDir).toBe('/dropin/second/server/db');
    expect(merged.snapshotDir).toBe('/snaps/first');
    expect(merged.evidence).toEqual([
      'data-dir: /dropin/second in /etc/rancher/k3s/config.yaml.d/20-data.yml',
      'etcd-snapshot-dir: /snaps/first in /etc/rancher/k3s/config.yaml.d/10-data.yaml',
    ]);
    // config.yaml over the environment; a flag on ExecStart over every file.
    expect(distributionLayout('k3s', null, 'data-dir: /from/config\n', { environment: env }).dbDir).toBe('/from/config/server/db');
    expect(distributionLayout('k3s', K3S_INSTALL_UNIT + "\t'--data-dir=/flag' \\\n", null, { dropIns, environment: env }).dbDir).toBe('/flag/server/db');
    // `d:` in a file is the short form, as `-d` is on the command line.
    expect(distributionLayout('k3s', null, 'd: /short\n').dbDir).toBe('/short/server/db');
    // A drop-in that cannot be read is said; the others still count.
    const broken = distributionLayout('k3s', null, null, {
      dropIns: [dropIns[0]!, { path: '/etc/rancher/k3s/config.yaml.d/30-bad.yaml', text: 'data-dir: [x\n' }],
    });
    expect(broken.dbDir).toBe('/dropin/first/server/db');
    expect(broken.evidence[0]).toMatch(/^\/etc\/rancher\/k3s\/config\.yaml\.d\/30-bad\.yaml not read: /);
    // What k3s takes from the drop-in dir: *.yaml and *.yml in any case, nothing else.
    expect(['a.yaml', 'b.YML', 'c.yml', 'd.yaml.bak', 'e.txt', 'f.yaml~'].filter(isConfigDropIn)).toEqual(['a.yaml', 'b.YML', 'c.yml']);
  });

  it('finds the config file as k3s does: K3S_CONFIG_FILE, then --config on ExecStart, then the default', () => {
    expect(distributionConfigFile('k3s', K3S_INSTALL_UNIT)).toEqual({ path: '/etc/rancher/k3s/config.yaml', from: null });
    const flagged = 'ExecStart=/usr/local/bin/k3s server --config /opt/k3s.yaml\n';
    expect(distributionConfigFile('k3s', flagged)).toEqual({ path: '/opt/k3s.yaml', from: '--config on ExecStart of k3s.service' });
    expect(distributionConfigFile('rke2', 'ExecStart=/usr/local/bin/rke2 server -c /opt/rke2.yaml\n').path).toBe('/opt/rke2.yaml');
    const env = new Map([['K3S_CONFIG_FILE', { value: '/etc/k3s-env.yaml', from: '/etc/default/k3s' }]]);
    expect(distributionConfigFile('k3s', flagged, env)).toEqual({ path: '/etc/k3s-env.yaml', from: 'K3S_CONFIG_FILE in /etc/default/k3s' });
    // Its settings are said as read from that file.
    expect(distributionLayout('k3s', flagged, 'data-dir: /x\n', { configFile: '/opt/k3s.yaml' }).evidence).toEqual(['data-dir: /x in /opt/k3s.yaml']);
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
