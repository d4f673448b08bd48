/**
 * The restore planner's parsing and plan shape (the plans themselves are run
 * against real etcd in test/oracle/etcd-restore-plan.test.ts): TLS flags come
 * from the same configuration, env files and logs fill what the unit leaves
 * out, bad or huge input gives a problem, never a crash.
 */
import { describe, expect, it } from 'vitest';
import {
  addFlagsFromLogs,
  flagsFromArgs,
  parseEnvironmentFile,
  parseStaticPodManifest,
  parseSystemdUnit,
  planRestore,
  planAsScript,
  shq,
  splitCommandLine,
} from '../../shared/formats/etcd/restore-plan';
import { translateLocal } from '../../shared/i18n';
import { englishLeaks } from '../helpers/zh-english';

const KUBEADM = `apiVersion: v1
kind: Pod
metadata:
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --advertise-client-urls=https://10.0.0.11:2379
    - --cert-file=/etc/kubernetes/pki/etcd/server.crt
    - --client-cert-auth=true
    - --data-dir=/var/lib/etcd
    - --initial-advertise-peer-urls=https://10.0.0.11:2380
    - --initial-cluster=cp1=https://10.0.0.11:2380
    - --key-file=/etc/kubernetes/pki/etcd/server.key
    - --listen-client-urls=https://127.0.0.1:2379,https://10.0.0.11:2379
    - --name=cp1
    - --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt
    image: registry.k8s.io/etcd:3.5.7-0
    name: etcd
`;

describe('restore planner', () => {
  it('reads a kubeadm manifest: identity, data dir, TLS for etcdctl, etcdutl for a 3.5 image', () => {
    const m = parseStaticPodManifest(KUBEADM, '/etc/kubernetes/manifests/etcd.yaml');
    expect(m).toMatchObject({
      style: 'static-pod',
      name: 'cp1',
      dataDir: '/var/lib/etcd',
      initialCluster: 'cp1=https://10.0.0.11:2380',
      initialAdvertisePeerUrls: 'https://10.0.0.11:2380',
      cacert: '/etc/kubernetes/pki/etcd/ca.crt',
      cert: '/etc/kubernetes/pki/etcd/server.crt',
      key: '/etc/kubernetes/pki/etcd/server.key',
      problems: [],
    });
    const plan = planRestore({ snapshot: '/var/backups/snapshot.db', member: m, asideSuffix: 'lifeboat-20260101' });
    expect(plan.tool).toBe('etcdutl');
    expect(plan.asideDir).toBe('/var/lib/etcd.lifeboat-20260101');
    const restore = plan.steps.find((s) => s.kind === 'restore')!;
    expect(restore.command).toBe(
      'etcdutl snapshot restore /var/backups/snapshot.db \\\n  --data-dir /var/lib/etcd \\\n  --name cp1 \\\n  --initial-cluster cp1=https://10.0.0.11:2380 \\\n  --initial-advertise-peer-urls https://10.0.0.11:2380',
    );
    expect(restore.command).not.toContain('skip-hash-check');
    const verify = plan.steps.find((s) => s.kind === 'verify')!;
    expect(verify.command).toContain(
      '--endpoints=https://10.0.0.11:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key endpoint health',
    );
    const stop = plan.steps.find((s) => s.kind === 'stop')!;
    expect(stop.command).toContain('mv /etc/kubernetes/manifests/etcd.yaml /etc/kubernetes/manifests.lifeboat-stopped/etcd.yaml');
    expect(plan.steps.find((s) => s.kind === 'move-aside')!.command).toBe(
      'test ! -e /var/lib/etcd.lifeboat-20260101\nmv /var/lib/etcd /var/lib/etcd.lifeboat-20260101',
    );
    // Nothing in any step deletes.
    for (const s of plan.steps) expect(s.command).not.toMatch(/\brm\b/);
    expect(planAsScript(plan)).toMatch(/^#!\/bin\/sh\n/);
  });

  it('reads a systemd unit with EnvironmentFile (quotes, export, comments) and Environment=; flags on ExecStart win', () => {
    const unit = `[Unit]\nDescription=etcd\n[Service]\nEnvironmentFile=-/etc/etcd.env\nEnvironment="ETCD_SNAPSHOT_COUNT=5000" ETCD_NAME=fromenv\nExecStart=/usr/local/bin/etcd \\\n  --name node1 --wal-dir=/var/lib/etcd-wal\n`;
    const env = `# kubekey\nexport ETCD_DATA_DIR="/var/lib/etcd"\nETCD_INITIAL_CLUSTER='node1=https://192.168.0.2:2380,node2=https://192.168.0.3:2380'\nETCD_INITIAL_ADVERTISE_PEER_URLS=https://192.168.0.2:2380\nETCD_INITIAL_CLUSTER_TOKEN=k8s_etcd\nETCD_TRUSTED_CA_FILE=/etc/ssl/etcd/ssl/ca.pem\nETCD_CERT_FILE=/etc/ssl/etcd/ssl/member-node1.pem\nETCD_KEY_FILE=/etc/ssl/etcd/ssl/member-node1-key.pem\nETCD_ADVERTISE_CLIENT_URLS=https://192.168.0.2:2379\n`;
    expect(parseEnvironmentFile(env)['ETCD_DATA_DIR']).toBe('/var/lib/etcd');
    const m = parseSystemdUnit(unit, 'etcd.service', { '/etc/etcd.env': env });
    expect(m).toMatchObject({
      style: 'systemd',
      name: 'node1',
      dataDir: '/var/lib/etcd',
      walDir: '/var/lib/etcd-wal',
      initialClusterToken: 'k8s_etcd',
      environmentFile: '/etc/etcd.env',
      cert: '/etc/ssl/etcd/ssl/member-node1.pem',
    });
    expect(m.flags['snapshot-count']).toBe('5000');
    const plan = planRestore({ snapshot: '/var/backups/kube_etcd/etcd-2026-01-01/snapshot.db', member: m });
    expect(plan.tool).toBe('etcdctl');
    const restore = plan.steps.find((s) => s.kind === 'restore')!;
    expect(restore.command).toContain('--initial-cluster node1=https://192.168.0.2:2380,node2=https://192.168.0.3:2380 ');
    expect(restore.command).toContain('--wal-dir /var/lib/etcd-wal');
    expect(restore.command.startsWith('ETCDCTL_API=3 etcdctl snapshot restore')).toBe(true);
    expect(restore.explanation).toContain('2 members');
    expect(plan.steps.find((s) => s.kind === 'stop')!.command).toContain('systemctl stop etcd.service');
    expect(plan.steps.find((s) => s.kind === 'move-aside')!.filesTouched).toContain('/var/lib/etcd-wal');
  });

  it('a unit whose EnvironmentFile was not provided, and a manifest without containers, say so', () => {
    const m = parseSystemdUnit('[Service]\nEnvironmentFile=/etc/etcd.env\nExecStart=/usr/bin/etcd\n', 'etcd.service');
    expect(m.problems.join(' ')).toContain('/etc/etcd.env');
    expect(m.problems.join(' ')).toContain('--data-dir');
    const p = parseStaticPodManifest('apiVersion: v1\nkind: Pod\nspec: {}\n', '/m/etcd.yaml');
    expect(p.problems[0]).toContain('no containers');
    expect(planRestore({ snapshot: 's.db', member: p }).problems.length).toBeGreaterThan(0);
  });

  it('flags from etcd logs fill what the configuration leaves out (3.4 capnslog env lines, 3.5 zap JSON)', () => {
    const m = parseSystemdUnit('[Service]\nExecStart=/usr/bin/etcd\n', 'etcd.service');
    addFlagsFromLogs(
      m,
      '2026-01-01 10:00:00.000 I | pkg/flags: recognized and used environment variable ETCD_DATA_DIR=/data/etcd\n{"level":"info","msg":"starting an etcd server","name":"m1","initial-advertise-peer-urls":["https://10.1.1.1:2380"],"initial-cluster":"m1=https://10.1.1.1:2380"}\n',
      'etcd.log',
    );
    expect(m).toMatchObject({
      dataDir: '/data/etcd',
      name: 'm1',
      initialAdvertisePeerUrls: 'https://10.1.1.1:2380',
      initialCluster: 'm1=https://10.1.1.1:2380',
    });
    expect(m.sources).toContain('etcd.log');
  });

  it('bad input: a YAML alias bomb, a huge file and garbage give problems, never a crash or a hang', () => {
    const bomb = `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n`;
    expect(parseStaticPodManifest(bomb, 'bomb.yaml').problems.length).toBeGreaterThan(0);
    expect(parseStaticPodManifest('x'.repeat(2 << 20), 'huge.yaml').problems[0]).toContain('larger than');
    expect(parseStaticPodManifest('\u0000\u0001: [', 'bin.yaml').problems.length).toBeGreaterThan(0);
    expect(parseSystemdUnit('\u0000'.repeat(1000), 'x.service').dataDir).toBeNull();
    // Refused by its bounds before the yaml package parses it (which took 11 s on a fuzzed manifest like these).
    const deep = `apiVersion: v1\nspec:\n  containers: ${'['.repeat(200)}\n`;
    expect(parseStaticPodManifest(deep, 'deep.yaml').problems[0]).toBe('deep.yaml is not valid YAML: nests collections more than 32 deep (at offset 64)');
    const wide = `spec:\n  containers:\n  - command: [${Array.from({ length: 5000 }, (_, i) => `--f${i}=x`).join(', ')}]\n`;
    expect(parseStaticPodManifest(wide, 'wide.yaml').problems[0]).toBe('wide.yaml is not valid YAML: has more than 4096 collection entries');
  });

  it('command-line splitting and quoting', () => {
    expect(splitCommandLine(`/usr/bin/etcd --name "a b" --x='y z' c\\ d`)).toEqual(['/usr/bin/etcd', '--name', 'a b', '--x=y z', 'c d']);
    expect(flagsFromArgs(['--a=1', '--b', '2', '--c', '--d='])).toEqual({ a: '1', b: '2', c: 'true', d: '' });
    expect(shq("it's")).toBe(`'it'\\''s'`);
    expect(shq('/var/lib/etcd')).toBe('/var/lib/etcd');
  });
});

describe('"copy as script" in the UI language', () => {
  it('zh-CN: the comments are the steps in Chinese, every command is the same as in English', () => {
    const plan = planRestore({ snapshot: '/var/backups/snapshot.db', member: parseStaticPodManifest(KUBEADM, '/etc/kubernetes/manifests/etcd.yaml') });
    const en = planAsScript(plan).split('\n');
    const zh = planAsScript(plan, 'zh-CN').split('\n');
    expect(en[1]).toBe('# Restore plan written by Lifeboat. Run as root on the node.');
    expect(en).toContain(`# Step 1 (check): ${plan.steps[0]!.explanation}`);
    expect(zh.length).toBe(en.length);
    const found: string[] = [];
    zh.forEach((line, i) => {
      if (!line.startsWith('# ')) return expect(line).toBe(en[i]);
      const words = englishLeaks(line.replace(/\bhttps?:\/\/[^\s，。；）,]+/g, ' '), new Set()).filter((w) => w !== 'root' && !/^cp\d$/.test(w));
      if (words.length > 0) found.push(`line ${i}: [${words.join(', ')}] in "${line}"`);
    });
    expect(found).toEqual([]);
    expect(zh[1]).toBe('# Lifeboat 生成的恢复计划。请在该节点上以 root 身份运行。');
    expect(zh).toContain(`# 第 1 步（检查快照）：${translateLocal('zh-CN', plan.steps[0]!.explanationText!)}`);
  });
});
