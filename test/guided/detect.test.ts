/**
 * `lifeboat detect` against realistic nodes (test/helpers/realistic-node.ts):
 * real sshd in a private mount namespace with its own /etc, /var and
 * /usr/local, real etcd 3.4 started by the systemctl stand-in or the kubelet
 * stand-in, backups taken by the node's own backup script with the real
 * etcdctl. The card must name what runs, how, where the data is, the backup
 * job and the newest backup that really restores.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeCard } from '../../shared/contract/node';
import { translateLocal } from '../../shared/i18n';
import { ensureBuilt, type RunResult } from '../cli/fixtures';
import { detectCli, detectedCard } from '../helpers/detect-cli';
import { makeGolden, requireEtcd, tempDir } from '../helpers/etcd';
import { startRealisticNode, realisticNodesAvailable, type RealisticNode } from '../helpers/realistic-node';
import { generateKey, sshdAvailable, type KeyPair } from '../helpers/sshd';
import { kubekeyEtcdFiles, servedKeys, SYSTEMD_ETCD_UNIT, twoEtcdFiles } from '../helpers/guided-node';

const RUN = requireEtcd() && sshdAvailable() && realisticNodesAvailable();

/** KubeKey's backup script (etcd-backup.sh) as it ships, TLS flags left out (the test etcd is plain http). */
function kubekeyBackupScript(endpoint: string): string {
  return `#!/bin/bash
ETCDCTL_PATH='/usr/bin/etcdctl'
ENDPOINTS='${endpoint}'
ETCD_DATA_DIR="/var/lib/etcd"
BACKUP_DIR="/var/backups/kube_etcd/etcd-$(date +%Y-%m-%d-%H-%M-%S)"
KEEPBACKUPNUMBER='5'
ETCDBACKUPSCIPT='/usr/local/bin/kube-scripts'

[ ! -d $BACKUP_DIR ] && mkdir -p $BACKUP_DIR

{
export ETCDCTL_API=3;$ETCDCTL_PATH --endpoints="$ENDPOINTS" snapshot save $BACKUP_DIR/snapshot.db \\
                                   --command-timeout=30s
} > /dev/null
sleep 1
cd $BACKUP_DIR/../;ls -lt |awk '{if(NR > '$KEEPBACKUPNUMBER'){print "rm -rf "$9}}'|sh
`;
}

describe.runIf(RUN)('lifeboat detect on realistic nodes', () => {
  let tmp: string;
  let key: KeyPair;
  let kubekey: RealisticNode;
  let kubeadm: RealisticNode;
  let backups: string[] = [];
  let kubeadmPeerUrl = '';

  const detect = (node: RealisticNode, extra: string[]): Promise<RunResult> => detectCli(node, key, tmp, extra);

  beforeAll(async () => {
    await ensureBuilt();
    tmp = await tempDir('detect');
    key = await generateKey(tmp, 'id_ed25519', { type: 'ed25519' });

    // KubeKey-like: etcd as a systemd unit with EnvironmentFile=/etc/etcd.env, a cron backup script.
    const g = await makeGolden(path.join(tmp, 'kubekey-etcd'), { keys: 40 });
    const ep = g.endpoint;
    kubekey = await startRealisticNode({
      files: {
        '/etc/systemd/system/etcd.service':
          '[Unit]\nDescription=etcd\nAfter=network.target\n\n[Service]\nUser=root\nType=notify\nEnvironmentFile=/etc/etcd.env\nExecStart=/usr/bin/etcd\nNotifyAccess=all\nRestartSec=10s\nLimitNOFILE=40000\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n',
        '/etc/etcd.env':
          `# Environment file for etcd v3.4.23\nETCD_DATA_DIR=/var/lib/etcd\nETCD_ADVERTISE_CLIENT_URLS=${ep.clientUrl}\nETCD_INITIAL_ADVERTISE_PEER_URLS=${ep.peerUrl}\n` +
          `ETCD_INITIAL_CLUSTER_STATE=existing\nETCD_METRICS=basic\nETCD_LISTEN_CLIENT_URLS=${ep.clientUrl}\nETCD_ELECTION_TIMEOUT=5000\nETCD_HEARTBEAT_INTERVAL=250\n` +
          `ETCD_INITIAL_CLUSTER_TOKEN=lifeboat-test\nETCD_LISTEN_PEER_URLS=${ep.peerUrl}\nETCD_NAME=${ep.name}\nETCD_PROXY=off\nETCD_INITIAL_CLUSTER=${ep.name}=${ep.peerUrl}\nETCD_LISTEN_METRICS_URLS=\n`,
        '/var/spool/cron/crontabs/root': { content: '*/30 * * * * sh /usr/local/bin/kube-scripts/etcd-backup.sh\n', mode: 0o600 },
        '/usr/local/bin/kube-scripts/etcd-backup.sh': { content: kubekeyBackupScript(ep.clientUrl), mode: 0o755 },
      },
      copies: { '/var/lib/etcd': g.dir },
      startUnits: ['etcd'],
    });
    await kubekey.sshd.authorize(key.publicLine);
    // Three backups taken by the node's own script (the cron job's command), then the newest one damaged.
    for (let i = 0; i < 3; i++) {
      const r = await kubekey.exec('sh /usr/local/bin/kube-scripts/etcd-backup.sh', 60_000);
      expect(r.code, r.stderr).toBe(0);
      await new Promise((res) => setTimeout(res, 1100));
    }
    const root = kubekey.hostPath('/var/backups/kube_etcd');
    backups = (await fs.readdir(root)).sort().map((d) => `/var/backups/kube_etcd/${d}/snapshot.db`);
    expect(backups).toHaveLength(3);
    const newest = kubekey.hostPath(backups[2]!);
    const fh = await fs.open(newest, 'r+');
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, 5000);
    b[0] ^= 0xff;
    await fh.write(b, 0, 1, 5000);
    await fh.close();

    // kubeadm-like: a static pod manifest the kubelet stand-in runs.
    const k = await makeGolden(path.join(tmp, 'kubeadm-etcd'), { keys: 20 });
    const kp = k.endpoint;
    kubeadmPeerUrl = kp.peerUrl;
    kubeadm = await startRealisticNode({
      files: {
        '/etc/kubernetes/manifests/etcd.yaml':
          `apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - etcd\n` +
          `    - --advertise-client-urls=${kp.clientUrl}\n    - --data-dir=/var/lib/etcd\n    - --initial-advertise-peer-urls=${kp.peerUrl}\n` +
          `    - --initial-cluster=${kp.name}=${kp.peerUrl}\n    - --listen-client-urls=${kp.clientUrl}\n    - --listen-metrics-urls=\n` +
          `    - --listen-peer-urls=${kp.peerUrl}\n    - --name=${kp.name}\n    - --snapshot-count=10000\n    image: registry.k8s.io/etcd:3.5.7-0\n    name: etcd\n  hostNetwork: true\n`,
      },
      copies: { '/var/lib/etcd': k.dir },
      kubelet: true,
    });
    await kubeadm.sshd.authorize(key.publicLine);
  }, 240_000);

  afterAll(async () => {
    await kubekey?.stop();
    await kubeadm?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('finds the systemd etcd, its env file, the cron backup job and the newest backup that restores (KubeKey, report 5)', async () => {
    const card = await detectedCard(kubekey, key, tmp);
    expect(card.sudo).toBe(true);
    expect(card.datastores).toHaveLength(1);
    const d = card.datastores[0]!;
    expect(d).toMatchObject({
      engine: 'etcd',
      managedBy: 'systemd',
      dataDir: '/var/lib/etcd',
      unit: 'etcd.service',
      envFile: '/etc/etcd.env',
      memberName: 'n1',
      running: true,
    });
    expect(d.backupJobs).toHaveLength(1);
    expect(d.backupJobs[0]).toMatchObject({
      kind: 'cron',
      where: '/var/spool/cron/crontabs/root',
      schedule: '*/30 * * * *',
      command: 'sh /usr/local/bin/kube-scripts/etcd-backup.sh',
      scripts: ['/usr/local/bin/kube-scripts/etcd-backup.sh'],
      targetDirs: ['/var/backups/kube_etcd'],
    });
    expect(d.backupJobs[0]!.saveCommand).toContain('snapshot save /var/backups/kube_etcd/etcd-*/snapshot.db');
    // Newest first; the newest is damaged (hash mismatch), so the newest good one is the second.
    expect(d.backups.map((b) => b.path)).toEqual([...backups].reverse());
    expect(d.backups.map((b) => b.valid)).toEqual([false, true, true]);
    expect(d.backups[0]!.problem).toMatch(/SHA-256 mismatch/);
    // The card shows the same refusal in the UI's language (it was English in the Chinese card).
    expect(translateLocal('zh-CN', d.backups[0]!.problemText!)).toMatch(/^SHA-256 不一致：尾部记录为 [0-9a-f]{64}，正文实际为 [0-9a-f]{64}$/);
    expect(d.backups.every((b) => b.foundBy === 'cron /var/spool/cron/crontabs/root')).toBe(true);
    expect(d.newestGoodBackup).toBe(backups[1]);
    // Every command the card rests on is recorded exactly.
    expect(card.probes.some((p) => p.command === 'cat /etc/etcd.env' && p.code === 0)).toBe(true);
  }, 120_000);

  it('prints every command before it runs, and the card in words', async () => {
    const r = await detect(kubekey, ['--sudo']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('$ sudo cat /etc/etcd.env');
    expect(r.stdout).toMatch(/etcd managed by systemd, running/);
    expect(r.stdout).toMatch(/env file\s+\/etc\/etcd\.env/);
    expect(r.stdout).toContain(`newest good backup: ${backups[1]}`);
    expect(r.stdout).toMatch(/backup BAD .*SHA-256 mismatch/);
  }, 120_000);

  it('without sudo says the root-only crontab was not readable instead of claiming there is no backup job', async () => {
    const r = await detect(kubekey, ['--json']);
    expect(r.code, r.stderr).toBe(0);
    const card = JSON.parse(r.stdout) as NodeCard;
    expect(card.datastores[0]!.backupJobs).toEqual([]);
    expect(card.gaps.join('\n')).toMatch(/crontabs are root-only: detect with sudo/);
    // The card says it in Chinese too, one sentence for one gap.
    expect(card.gapTexts?.map((g) => translateLocal('zh-CN', g))).toContain('用户的 crontab 只有 root 可读：请通过 sudo 检测以查看');
  }, 120_000);

  // Last of the KubeKey node's tests: it adds a backup.
  it('takes a gzipped backup as good once decompressed, offers its command, and restores from it once run', async () => {
    // A custom cron script's habit: the good backup, gzipped into a folder of its own, newer than the rest.
    const gz = '/var/backups/etcd-gz/snapshot-2026-12-06.db.gz';
    const made = await kubekey.exec(`mkdir -p /var/backups/etcd-gz && gzip -c ${backups[1]} > ${gz}`);
    expect(made.code, made.stderr).toBe(0);
    let r = await detect(kubekey, ['--sudo', '--json']);
    expect(r.code, r.stderr).toBe(0);
    let d = (JSON.parse(r.stdout) as NodeCard).datastores[0]!;
    expect(d.backups[0]).toMatchObject({ path: gz, valid: true, compressed: 'gzip' });
    const plain = '/var/backups/etcd-gz/snapshot-2026-12-06.db';
    expect(d.backups[0]!.decompressCommand).toBe(
      `if [ -e '${plain}' ]; then gzip -dc -- '${gz}' | cmp -s - '${plain}' || { echo '${plain} exists and is not this backup decompressed: move it away first' >&2; false; }; ` +
        `else (umask 077 && set -C && gzip -dc -- '${gz}' > '${plain}') && touch -r '${gz}' '${plain}'; fi`,
    );
    // etcdctl cannot restore it as it is: the newest good backup is still the plain one.
    expect(d.newestGoodBackup).toBe(backups[1]);
    const text = await detect(kubekey, ['--sudo']);
    expect(text.stdout).toContain(`newer good backup, compressed with gzip: ${gz}`);
    expect(text.stdout).toContain(`    ${d.backups[0]!.decompressCommand}`);
    // The operator runs it on the node; detection then takes the plain copy, newest, checked good.
    const ran = await kubekey.exec(d.backups[0]!.decompressCommand!);
    expect(ran.code, ran.stderr).toBe(0);
    r = await detect(kubekey, ['--sudo', '--json']);
    d = (JSON.parse(r.stdout) as NodeCard).datastores[0]!;
    expect(d.newestGoodBackup).toBe(plain);
    expect(d.backups.slice(0, 2).map((b) => [b.path, b.valid, b.compressed ?? null])).toEqual(
      expect.arrayContaining([
        [plain, true, null],
        [gz, true, 'gzip'],
      ]),
    );
    expect(await fs.readFile(kubekey.hostPath(plain))).toEqual(await fs.readFile(kubekey.hostPath(backups[1]!)));
  }, 180_000);

  it('warns when etcd is set up twice, as a systemd unit and a static pod over one data dir, in words and on the card', async () => {
    const both = await startRealisticNode({ files: twoEtcdFiles() });
    try {
      await both.sshd.authorize(key.publicLine);
      const card = await detectedCard(both, key, tmp);
      expect(card.datastores.map((d) => [d.managedBy, d.dataDir])).toEqual([
        ['systemd', '/var/lib/etcd'],
        ['static-pod', '/var/lib/etcd'],
      ]);
      expect(card.warnings).toEqual([
        {
          key: 'guided.card.warn.twoEtcdSameDir',
          params: { unit: 'etcd.service', manifest: '/etc/kubernetes/manifests/etcd.yaml', unitDir: '/var/lib/etcd', podDir: '/var/lib/etcd' },
        },
      ]);
      expect(translateLocal('zh-CN', card.warnings![0]!)).toContain('同一个数据目录 /var/lib/etcd 上被配置了两次');
      const text = await detect(both, ['--sudo']);
      expect(text.stdout).toContain(
        'WARNING: etcd is set up twice on this node over one data dir, /var/lib/etcd: the systemd unit etcd.service and the static pod /etc/kubernetes/manifests/etcd.yaml.',
      );
      // Each datastore's manager in words, as the card says it (the JSON keeps the token).
      expect(text.stdout).toContain('\netcd managed by systemd, ');
      expect(text.stdout).toContain('\netcd managed by a kubeadm static pod, ');
    } finally {
      await both.stop();
    }
  }, 120_000);

  it('warns when etcd runs as its own user and root owns part of its data dir, with the chown that lets it start', async () => {
    // A restore or copy run with sudo for a unit with User=etcd: the db is root's, etcd (really run as etcd) stops.
    const g = await makeGolden(path.join(tmp, 'owned'), { keys: 20 });
    const files = kubekeyEtcdFiles(g.endpoint, { clusterState: 'existing' });
    files['/etc/systemd/system/etcd.service'] = SYSTEMD_ETCD_UNIT.replace('User=root', 'User=etcd');
    const owned = await startRealisticNode({ files, copies: { '/var/lib/etcd': g.dir } });
    try {
      await owned.sshd.authorize(key.publicLine);
      const setUp = await owned.exec(
        'chown -R etcd:etcd /var/lib/etcd && chown root:root /var/lib/etcd/member/snap/db && systemctl start etcd; sleep 2; systemctl is-active etcd',
      );
      expect(setUp.stdout).toMatch(/inactive/);
      const journal = await owned.exec('journalctl -u etcd --no-pager');
      expect(journal.stdout).toContain('/var/lib/etcd/member/snap/db: permission denied');

      let r = await detect(owned, ['--sudo', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const card = JSON.parse(r.stdout) as NodeCard;
      expect(card.warnings).toEqual([
        {
          key: 'guided.card.warn.foreignOwner',
          params: {
            unit: 'etcd.service',
            user: 'etcd',
            dataDir: '/var/lib/etcd',
            count: 1,
            paths: '/var/lib/etcd/member/snap/db (root)',
            command: 'chown -R etcd: /var/lib/etcd',
          },
        },
      ]);
      expect(translateLocal('zh-CN', card.warnings![0]!)).toContain('etcd.service 以 etcd 身份运行 etcd，但其数据目录中有 1 个路径属于其他用户');
      const text = await detect(owned, ['--sudo']);
      expect(text.stdout).toContain(
        'WARNING: etcd.service runs etcd as etcd, but 1 path(s) in its data directory belong to another user: /var/lib/etcd/member/snap/db (root).',
      );
      expect(text.stdout).toContain('\n  chown -R etcd: /var/lib/etcd\n');

      // The command as given, then etcd (as etcd) starts and serves every key; the card has nothing more to say.
      const fixed = await owned.exec(`${card.warnings![0]!.params!.command} && systemctl start etcd`);
      expect(fixed.code, fixed.stderr).toBe(0);
      await expect.poll(async () => (await owned.exec('systemctl is-active etcd')).stdout.trim(), { timeout: 20_000 }).toBe('active');
      await expect.poll(async () => (await servedKeys(g.endpoint.clientUrl)).size, { timeout: 20_000 }).toBe(20);
      r = await detect(owned, ['--sudo', '--json']);
      expect((JSON.parse(r.stdout) as NodeCard).warnings).toBeUndefined();
    } finally {
      await owned.stop();
    }
  }, 180_000);

  it('finds the kubeadm static pod, its data dir and member name, and that it runs (report 2)', async () => {
    // The kubelet stand-in starts etcd from the manifest within a second or two.
    let card: NodeCard | null = null;
    for (let i = 0; i < 10; i++) {
      card = await detectedCard(kubeadm, key, tmp);
      if (card.datastores[0]?.running) break;
      await new Promise((res) => setTimeout(res, 1000));
    }
    const d = card!.datastores[0]!;
    expect(d).toMatchObject({
      engine: 'etcd',
      managedBy: 'static-pod',
      dataDir: '/var/lib/etcd',
      manifest: '/etc/kubernetes/manifests/etcd.yaml',
      memberName: 'n1',
      running: true,
    });
    expect(d.settings?.['snapshot-count']).toBe('10000');
    // etcd runs at the addresses it was configured with: the member list (from the live etcd) and the manifest fit this node.
    expect(d.peerCheck).toMatchObject({ verdict: 'match', membersFrom: 'etcdctl member list' });
    expect(d.peerCheck!.members.map((m) => [m.name, m.peerUrls])).toEqual([['n1', [kubeadmPeerUrl]]]);
    expect(d.peerCheck!.members[0]!.id).toMatch(/^[0-9a-f]{1,16}$/);
    expect(d.peerCheck!.urls.every((u) => u.onNode && u.url === kubeadmPeerUrl)).toBe(true);
    expect(d.backups).toEqual([]);
    expect(d.newestGoodBackup).toBeNull();
  }, 120_000);
});
