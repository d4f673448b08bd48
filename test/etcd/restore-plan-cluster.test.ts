/**
 * The multi-member restore planner's plans as data (the commands are run
 * against real 3-member clusters in test/guided/session-members-*.test.ts):
 * which member each step runs on, that TLS comes from the configuration,
 * that flags are edited where the configuration keeps them, that the
 * survivor is the one the members table keeps, that nothing is deleted, and
 * that a snapshot restored to every member gets the full --initial-cluster.
 * Plan (c) is also executed: its restore commands on real etcd 3.4, and the
 * three members it restores start together and serve every key.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EtcdMemberComparison } from '../../shared/contract/etcd';
import type { LocalText } from '../../shared/contract/text';
import { parseStaticPodManifest, parseSystemdUnit, planRestore, shq } from '../../shared/formats/etcd/restore-plan';
import { clusterPlanAsText, planClusterRestore, planForceNewCluster, planMemberReplace } from '../../shared/formats/etcd/restore-plan-cluster';
import { loopbackEndpoint, makeGolden, requireEtcd, spawnEtcd, tempDir, waitHealthy, type EtcdNode } from '../helpers/etcd';
import { promises as fs } from 'node:fs';
import { translateLocal } from '../../shared/i18n';
import { englishLeaks } from '../helpers/zh-english';

const manifestOf = (name: string, ip: string, tls = true) => `apiVersion: v1
kind: Pod
metadata:
  name: etcd
spec:
  containers:
  - command:
    - etcd
    - --advertise-client-urls=https://${ip}:2379
    - --data-dir=/var/lib/etcd
    - --initial-advertise-peer-urls=https://${ip}:2380
    - --initial-cluster=cp1=https://10.0.0.11:2380,cp2=https://10.0.0.12:2380,cp3=https://10.0.0.13:2380
    - --initial-cluster-state=new
    - --name=${name}
${tls ? '    - --cert-file=/etc/kubernetes/pki/etcd/server.crt\n    - --key-file=/etc/kubernetes/pki/etcd/server.key\n    - --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt\n' : ''}    image: registry.k8s.io/etcd:3.4.23-0
    name: etcd
`;
const cp = (n: number) => parseStaticPodManifest(manifestOf(`cp${n}`, `10.0.0.1${n}`), '/etc/kubernetes/manifests/etcd.yaml');
const TLS = '--cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key';

const systemdMember = (name: string, ip: string) =>
  parseSystemdUnit('[Service]\nEnvironmentFile=/etc/etcd.env\nExecStart=/usr/local/bin/etcd\n', 'etcd.service', {
    '/etc/etcd.env': `ETCD_NAME=${name}\nETCD_DATA_DIR=/var/lib/etcd\nETCD_INITIAL_ADVERTISE_PEER_URLS=http://${ip}:2380\nETCD_ADVERTISE_CLIENT_URLS=http://${ip}:2379\nETCD_INITIAL_CLUSTER=a=http://10.1.0.1:2380,b=http://10.1.0.2:2380\nETCD_INITIAL_CLUSTER_TOKEN=tok\n`,
  });

describe('(a) a member that lost its data', () => {
  it('stops it, finds and removes it on a healthy member, moves its dir aside, adds it back and starts it as existing', () => {
    const plan = planMemberReplace({ member: cp(3), healthyEndpoint: 'https://10.0.0.11:2379', asideSuffix: 'lifeboat-x' });
    expect(plan.problems).toEqual([]);
    expect(plan.steps.map((s) => s.id)).toEqual(['stop', 'stop-wait', 'find-member', 'remove', 'move-aside', 'add', 'configure', 'start', 'healthy']);
    const by = (id: string) => plan.steps.find((s) => s.id === id)!;
    // TLS from the manifest on every etcdctl call, against the healthy member.
    for (const id of ['find-member', 'remove', 'add', 'healthy']) expect(by(id).command).toContain(`--endpoints=https://10.0.0.11:2379 ${TLS}`);
    expect(by('find-member').captures).toEqual({ memberId: '^([0-9a-f]{1,16})$' });
    expect(by('find-member').onFail).toBe('move-aside');
    expect(by('remove').command).toMatch(/member remove \{\{memberId\}\}$/);
    expect(by('add').command).toContain('member add cp3 --peer-urls=https://10.0.0.13:2380 2>&1');
    // Moved, never deleted; the kubelet stops the pod because the manifest is parked, not removed.
    expect(plan.steps.map((s) => s.command).join('\n')).not.toMatch(/\brm\b/);
    expect(by('move-aside').command).toBe(
      'set -e\ntest ! -e /var/lib/etcd.lifeboat-x\nif [ -e /var/lib/etcd ]; then mv /var/lib/etcd /var/lib/etcd.lifeboat-x; fi',
    );
    expect(by('stop').command).toBe(
      'mkdir -p /etc/kubernetes/manifests.lifeboat-stopped && mv /etc/kubernetes/manifests/etcd.yaml /etc/kubernetes/manifests.lifeboat-stopped/etcd.yaml',
    );
    // Flags are set in the parked manifest while etcd is stopped.
    expect(by('configure').command).toContain('v=cp1=https://10.0.0.11:2380,cp2=https://10.0.0.12:2380,cp3=https://10.0.0.13:2380; sed -i');
    expect(by('configure').command).toContain('- --initial-cluster-state=$v|" /etc/kubernetes/manifests.lifeboat-stopped/etcd.yaml');
    expect(by('configure').backup).toEqual(['/etc/kubernetes/manifests.lifeboat-stopped/etcd.yaml']);
    // Every change backs something up first and says what could get worse, in both languages.
    for (const s of plan.steps.filter((x) => x.kind !== 'check' && x.kind !== 'verify')) {
      expect(s.backup.length, s.id).toBeGreaterThan(0);
      expect(s.riskText.en && s.riskText['zh-CN'], s.id).toBeTruthy();
      expect(s.risk).toBe(s.riskText.en);
    }
  });

  it('edits the EnvironmentFile of a systemd member, or the ExecStart line when there is none', () => {
    const env = planMemberReplace({ member: systemdMember('b', '10.1.0.2'), healthyEndpoint: 'http://10.1.0.1:2379', memberId: '8e9e05c52164694d' });
    expect(env.steps.map((s) => s.id)).not.toContain('find-member');
    const configure = env.steps.find((s) => s.id === 'configure')!;
    expect(configure.command).toContain(`sed -i '/^[[:space:]]*\\(export[[:space:]]\\+\\)\\?ETCD_INITIAL_CLUSTER=/d' /etc/etcd.env`);
    expect(configure.command).toContain(`printf '%s\\n' "ETCD_INITIAL_CLUSTER_STATE=$v" >> /etc/etcd.env`);
    expect(env.steps.find((s) => s.id === 'remove')!.command).toMatch(/member remove 8e9e05c52164694d$/);
    const flagsOnly = parseSystemdUnit(
      '[Service]\nExecStart=/usr/bin/etcd --name b --data-dir /d --initial-advertise-peer-urls http://10.1.0.2:2380 --initial-cluster a=http://10.1.0.1:2380,b=http://10.1.0.2:2380\n',
      'etcd',
    );
    const unit = planMemberReplace({ member: flagsOnly, healthyEndpoint: 'http://10.1.0.1:2379' }).steps.find((s) => s.id === 'configure')!;
    expect(unit.command).toContain("sed -i -E 's# --initial-cluster(=| )[^ ]*##' /etc/systemd/system/etcd.service");
    expect(unit.command).toMatch(/systemctl daemon-reload$/);
  });

  it('says what is missing instead of guessing', () => {
    const bare = parseSystemdUnit('[Service]\nExecStart=/usr/bin/etcd\n', 'etcd.service');
    const plan = planMemberReplace({ member: bare, healthyEndpoint: 'http://h:2379' });
    expect(plan.problems).toEqual(expect.arrayContaining([expect.stringMatching(/no peer URL for default/)]));
  });
});

describe('(b) quorum lost: one survivor', () => {
  const comparison = (keep: string | null): EtcdMemberComparison => ({
    rows: [],
    keep,
    reason: keep ? `${keep} has the highest last index (812)` : 'no member can start',
    reasonText: { key: 'x' },
  });

  it('keeps the member the table names, copies its dir first, forces, drops the flag, then adds the others one by one', () => {
    const members = [1, 2, 3].map((n) => ({ config: cp(n), root: `copies/cp${n}` }));
    const plan = planForceNewCluster({ members, comparison: comparison('copies/cp2'), asideSuffix: 'lifeboat-x' });
    expect(plan.problems).toEqual([]);
    expect(plan.member).toBe('cp2');
    const own = plan.steps.filter((s) => !s.node);
    expect(own.map((s) => s.id)).toEqual(['stop', 'stop-wait', 'copy', 'force', 'alone', 'unforce', 'alone-again', 'keys']);
    expect(own.find((s) => s.id === 'copy')!.command).toBe('set -e\ntest ! -e /var/lib/etcd.lifeboat-x\ncp -a /var/lib/etcd /var/lib/etcd.lifeboat-x');
    expect(own.find((s) => s.id === 'copy')!.explanation).toContain('cp2 has the highest last index (812)');
    const force = own.find((s) => s.id === 'force')!.command;
    expect(force).toContain('- --force-new-cluster=$v|" /etc/kubernetes/manifests.lifeboat-stopped/etcd.yaml');
    expect(force).toMatch(/mv \/etc\/kubernetes\/manifests.lifeboat-stopped\/etcd.yaml \/etc\/kubernetes\/manifests\/etcd.yaml$/);
    expect(own.find((s) => s.id === 'unforce')!.command).toContain("sed -i '/^[[:space:]]*- --force-new-cluster=/d");
    expect(own.find((s) => s.id === 'alone')!.command).toContain(`--endpoints=https://10.0.0.12:2379 ${TLS} endpoint health`);
    // The others: cp1 first (cluster of two), then cp3 (all three); each added just before it starts.
    const others = plan.steps.filter((s) => s.node);
    expect(others.map((s) => `${s.node}:${s.id}`)).toEqual([
      'cp1:cp1-stop',
      'cp1:cp1-stop-wait',
      'cp1:cp1-move-aside',
      'cp1:cp1-add',
      'cp1:cp1-configure',
      'cp1:cp1-start',
      'cp1:cp1-healthy',
      'cp3:cp3-stop',
      'cp3:cp3-stop-wait',
      'cp3:cp3-move-aside',
      'cp3:cp3-add',
      'cp3:cp3-configure',
      'cp3:cp3-start',
      'cp3:cp3-healthy',
    ]);
    expect(plan.steps.find((s) => s.id === 'cp1-add')!.command).toContain(`--endpoints=https://10.0.0.12:2379 ${TLS} member add cp1`);
    expect(plan.steps.find((s) => s.id === 'cp1-configure')!.command).toContain('v=cp2=https://10.0.0.12:2380,cp1=https://10.0.0.11:2380;');
    expect(plan.steps.find((s) => s.id === 'cp3-configure')!.command).toContain(
      'v=cp2=https://10.0.0.12:2380,cp1=https://10.0.0.11:2380,cp3=https://10.0.0.13:2380;',
    );
    expect(plan.steps.map((s) => s.command).join('\n')).not.toMatch(/\brm\b/);
    const text = clusterPlanAsText(plan);
    expect(text).toContain('# Step 3 (move-aside) on cp2:');
    expect(text).toContain('# Step 9 (stop) on cp1:');
  });

  it('refuses to pick a survivor the table does not keep', () => {
    const members = [1, 2].map((n) => ({ config: cp(n), root: `copies/cp${n}` }));
    expect(planForceNewCluster({ members, comparison: comparison(null) })).toMatchObject({ steps: [], problems: [expect.stringMatching(/keeps no member/)] });
    expect(planForceNewCluster({ members, comparison: comparison('elsewhere') }).problems[0]).toMatch(/keeps elsewhere, which is none of the planned members/);
    expect(planForceNewCluster({ members }).problems[0]).toMatch(/no survivor chosen/);
    expect(planForceNewCluster({ members, survivor: 'cp1' }).member).toBe('cp1');
  });

  it('kind: evidence from the log first, and member update to the URL the flags give after forcing', () => {
    const plan = planForceNewCluster({ members: [{ config: cp(1) }], survivor: 'cp1', updatePeerUrl: true, survivorOnly: true });
    expect(plan.steps[0]!.id).toBe('evidence');
    expect(plan.steps[0]!.command).toMatch(/^logs=\$\(crictl logs "\$\(crictl ps -a --name etcd -q \| head -n 1\)"/);
    expect(plan.steps[0]!.expect).toEqual({ outputMatches: '^address-changed: ' });
    const update = plan.steps.find((s) => s.id === 'update-peer')!;
    expect(update.command).toContain('--peer-urls=https://10.0.0.11:2380');
    expect(plan.steps.findIndex((s) => s.id === 'update-peer')).toBeGreaterThan(plan.steps.findIndex((s) => s.id === 'unforce'));
  });
});

describe('(c) one snapshot to every member', () => {
  it('stops all, moves all aside, restores each with its name and the full --initial-cluster, then starts all', () => {
    const members = [systemdMember('a', '10.1.0.1'), systemdMember('b', '10.1.0.2')];
    const plan = planClusterRestore({ snapshot: '/var/backups/snapshot.db', members, asideSuffix: 'lifeboat-x' });
    expect(plan.problems).toEqual([]);
    expect(plan.steps.map((s) => s.id)).toEqual([
      'a-check',
      'b-check',
      'a-stop',
      'b-stop',
      'a-move-aside',
      'b-move-aside',
      'a-restore',
      'b-restore',
      'a-ownership',
      'b-ownership',
      'a-start',
      'b-start',
      'healthy',
      'keys',
    ]);
    const restore = plan.steps.find((s) => s.id === 'b-restore')!.command;
    expect(restore).toContain('--name b');
    expect(restore).toContain('--initial-cluster a=http://10.1.0.1:2380,b=http://10.1.0.2:2380');
    expect(restore).toContain('--initial-cluster-token tok');
    expect(restore).toContain('--initial-advertise-peer-urls http://10.1.0.2:2380');
    expect(plan.steps.find((s) => s.id === 'a-check')!.command).toMatch(/^sha256sum \/var\/backups\/snapshot.db\n/);
    // The single-member planner's own output is unchanged by the cluster plan (same restore line for a lone member).
    const lone = planRestore({ snapshot: '/var/backups/snapshot.db', member: members[0]!, asideSuffix: 'lifeboat-x' });
    expect(lone.steps.find((s) => s.kind === 'move-aside')!.command).toBe(plan.steps.find((s) => s.id === 'a-move-aside')!.command);
  });

  it('names repeated member names and different tokens', () => {
    const plan = planClusterRestore({
      snapshot: 's.db',
      members: [systemdMember('a', '10.1.0.1'), { ...systemdMember('a', '10.1.0.2'), initialClusterToken: 'other' }],
    });
    expect(plan.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/member names repeat/), expect.stringMatching(/different --initial-cluster-token/)]),
    );
  });
});

describe('shell quoting of templates', () => {
  it('keeps playbook placeholders bare (the session quotes their values) and quotes everything else', () => {
    expect(shq('{{dataDir}}')).toBe('{{dataDir}}');
    expect(shq('{{dataDir}}.lifeboat-{{stamp}}')).toBe('{{dataDir}}.lifeboat-{{stamp}}');
    expect(shq('{{raw:etcdctlTls}}')).toBe('{{raw:etcdctlTls}}');
    expect(shq('{{a}} b')).toBe("'{{a}} b'");
    expect(shq("it's")).toBe("'it'\\''s'");
    expect(shq('/var/lib/etcd')).toBe('/var/lib/etcd');
  });
});

describe.runIf(requireEtcd())('(c) executed on real etcd 3.4', () => {
  let tmp: string;
  const nodes: EtcdNode[] = [];
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it("every member restored from one snapshot by the plan's commands starts, and the cluster serves every key", async () => {
    tmp = await tempDir('plan-cluster');
    const golden = await makeGolden(path.join(tmp, 'golden'), { keys: 40 });
    const seed = await spawnEtcd({ ...golden.startOptions(path.join(tmp, 'golden')) });
    expect(await waitHealthy(seed, 20_000)).toBe(true);
    const snapshot = path.join(tmp, 'snapshot.db');
    seed.etcdctl(['snapshot', 'save', snapshot]);
    await seed.stop();
    const ports = await Promise.all([0, 1, 2].map(() => loopbackEndpoint()));
    const configs = ports.map((p, i) =>
      parseSystemdUnit(
        `[Service]\nExecStart=/usr/bin/etcd --name m${i} --data-dir ${path.join(tmp, `m${i}`)} --initial-advertise-peer-urls http://${p.host}:${p.peerPort} --advertise-client-urls http://${p.host}:${p.clientPort} --initial-cluster-token plan-test\n`,
        'etcd.service',
      ),
    );
    const plan = planClusterRestore({ snapshot, members: configs });
    expect(plan.problems).toEqual([]);
    for (const s of plan.steps.filter((x) => x.kind === 'restore')) {
      const r = spawnSync('sh', ['-c', s.command], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    const cluster = ports.map((p, i) => `m${i}=http://${p.host}:${p.peerPort}`).join(',');
    for (const [i, p] of ports.entries()) {
      nodes.push(
        await spawnEtcd({
          dataDir: path.join(tmp, `m${i}`),
          name: `m${i}`,
          host: p.host,
          clientPort: p.clientPort,
          peerPort: p.peerPort,
          initialCluster: cluster,
          initialClusterToken: 'plan-test',
        }),
      );
    }
    for (const n of nodes) expect(await waitHealthy(n, 60_000), n.output().slice(-1500)).toBe(true);
    for (const n of nodes) expect(await n.range('')).toEqual(golden.keys);
    const members = JSON.parse(nodes[0]!.etcdctl(['member', 'list', '-w', 'json'])) as { members: { name: string }[] };
    expect(members.members.map((m) => m.name).sort()).toEqual(['m0', 'm1', 'm2']);
  }, 180_000);
});

describe('the cluster plans in Simplified Chinese', () => {
  /**
   * English of ours in a zh-CN text (test/helpers/zh-english.ts): URLs, the member names a..c and cp1..cp3, the
   * `root` account and etcd's own answers in “…” are not.
   */
  const leaks = (zh: string) =>
    englishLeaks(zh.replace(/\bhttps?:\/\/[^\s，。；）,]+/g, ' ').replace(/\bcp\d\b/g, ' '), new Set(['unhealthy cluster'])).filter(
      (w) => !/^(?:[abc]|root)$/.test(w),
    );
  /** Every string param is the user's data here (names, tokens, roots); `text` is an English problem without a sentence. */
  const dataless = (l: LocalText): LocalText => ({
    key: l.key,
    ...(l.params ? { params: Object.fromEntries(Object.entries(l.params).map(([k, v]) => [k, typeof v === 'string' && k !== 'text' ? '0' : v])) } : {}),
    ...(l.texts ? { texts: Object.fromEntries(Object.entries(l.texts).map(([k, list]) => [k, list.map(dataless)])) } : {}),
  });

  it('every problem has its sentence, the English is its template, and the Chinese has no English of ours', () => {
    const bare = parseSystemdUnit('[Service]\nExecStart=/usr/bin/etcd\n', 'etcd.service');
    const members = [1, 2].map((n) => ({ config: cp(n), root: `copies/cp${n}` }));
    const none: EtcdMemberComparison = { rows: [], keep: null, reason: 'no member can start', reasonText: { key: 'x' } };
    const plans = [
      planMemberReplace({ member: bare, healthyEndpoint: 'http://h:2379' }),
      planForceNewCluster({ members, comparison: none }),
      planForceNewCluster({ members, comparison: { ...none, keep: 'elsewhere' } }),
      planForceNewCluster({ members }),
      planForceNewCluster({ members: [{ config: bare, root: 'copies/x' }, ...members], survivor: 'cp1' }),
      planClusterRestore({
        snapshot: 's.db',
        members: [systemdMember('a', '10.1.0.1'), { ...systemdMember('a', '10.1.0.2'), initialClusterToken: 'other' }, bare],
      }),
    ];
    const found: string[] = [];
    let count = 0;
    for (const plan of plans) {
      expect(plan.problemTexts?.length, plan.kind).toBe(plan.problems.length);
      plan.problemTexts!.forEach((l, i) => {
        count++;
        expect(translateLocal('en', l)).toBe(plan.problems[i]);
        const zh = translateLocal('zh-CN', dataless(l));
        // The comparison's reason of this test has no sentence: the one English text that may stay.
        const words = leaks(zh.replace('no member can start', ' '));
        if (words.length > 0) found.push(`${plan.kind} problem ${i}: [${words.join(', ')}] in "${zh}"`);
      });
    }
    expect(count).toBeGreaterThanOrEqual(8);
    expect(found).toEqual([]);
  });

  it('"copy as script" in zh-CN: the comments in Chinese, the commands the same as in English', () => {
    const members = [1, 2, 3].map((n) => ({ config: cp(n), root: `copies/cp${n}` }));
    const plans = [
      planForceNewCluster({ members, survivor: 'cp2' }),
      planMemberReplace({ member: cp(3), healthyEndpoint: 'https://10.0.0.11:2379' }),
      planClusterRestore({ snapshot: 's.db', members: [cp(1), cp(2), cp(3)] }),
      planClusterRestore({ snapshot: 's.db', members: [systemdMember('a', '10.1.0.1'), systemdMember('a', '10.1.0.2')] }),
    ];
    const found: string[] = [];
    for (const plan of plans) {
      const en = clusterPlanAsText(plan).split('\n');
      const zh = clusterPlanAsText(plan, 'zh-CN').split('\n');
      expect(zh.length).toBe(en.length);
      zh.forEach((line, i) => {
        if (!line.startsWith('# ')) return expect(line).toBe(en[i]);
        const words = leaks(line.replace(/匹配 \/.*\/（/, ' ').replace(/\{\{[^}]*\}\}/g, ' '));
        if (words.length > 0) found.push(`${plan.kind} line ${i}: [${words.join(', ')}] in "${line}"`);
      });
      expect(zh[0]).toMatch(/^# Lifeboat 生成的.+计划/);
    }
    expect(found).toEqual([]);
  });
});
