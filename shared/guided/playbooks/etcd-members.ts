/**
 * The playbooks for clusters of several etcd members: a member that lost its
 * data (report 4), members registered at addresses they no longer have (kind
 * after a Docker restart, report 3), and quorum loss (with "database space
 * exceeded", playbook 6). Their change steps are generated from the
 * multi-member restore planner (shared/formats/etcd/restore-plan-cluster.ts)
 * run on a placeholder member (`{{dataDir}}`, `{{unit}}`, ...), so a session
 * runs exactly the commands `lifeboat` plans for a real member. A session runs
 * on one node: the survivor's steps here, the others rejoin with the
 * member-lost playbook on their own nodes.
 */
import type { EtcdMemberConfig } from '../../contract/etcd-repair';
import type { Playbook, PlaybookStep } from '../../contract/guided';
import { planForceNewCluster, planMemberReplace, type ClusterStep } from '../../formats/etcd/restore-plan-cluster';
import { dbMemberRecordsCommand } from '../../node/kind';
import {
  change,
  DATA_DIR_VAR,
  doneElsewhereStep,
  ETCDCTL_TLS_VAR,
  explain,
  MANIFEST_VARS,
  MEMBER_NAME_VAR,
  newestMemberDecision,
  styleDecision,
  UNIT_VARS,
} from './steps';

const ETCDCTL = 'ETCDCTL_API=3 etcdctl --endpoints={{endpoint}} {{raw:etcdctlTls}}';

const ETCD_VARS: Playbook['variables'] = [
  DATA_DIR_VAR,
  MEMBER_NAME_VAR,
  {
    name: 'initialCluster',
    description: { en: '--initial-cluster as configured now', 'zh-CN': '当前配置的 --initial-cluster' },
    from: 'settings.initial-cluster',
  },
  {
    name: 'initialAdvertisePeerUrls',
    description: { en: "this member's peer URL now (--initial-advertise-peer-urls)", 'zh-CN': '此成员当前的对等 URL（--initial-advertise-peer-urls）' },
    from: 'settings.initial-advertise-peer-urls',
  },
  { name: 'endpoint', description: { en: "this member's client URL", 'zh-CN': '此成员的客户端 URL' }, from: 'settings.advertise-client-urls' },
  ETCDCTL_TLS_VAR,
];

/** The member as the node card describes it, as placeholders the session fills. */
function placeholderMember(style: 'systemd' | 'static-pod'): EtcdMemberConfig {
  return {
    style,
    sources: ['the node card'],
    name: '{{memberName}}',
    dataDir: '{{dataDir}}',
    walDir: null,
    initialCluster: '{{initialCluster}}',
    initialClusterToken: null,
    initialAdvertisePeerUrls: '{{initialAdvertisePeerUrls}}',
    advertiseClientUrls: '{{endpoint}}',
    listenClientUrls: null,
    cacert: null,
    cert: null,
    key: null,
    manifestPath: style === 'static-pod' ? '{{manifest}}' : null,
    unitName: style === 'systemd' ? '{{unit}}' : null,
    environmentFile: style === 'systemd' ? '{{envFile}}' : null,
    flags: {},
    problems: [],
  };
}

const COMMON = { asideSuffix: 'lifeboat-{{stamp}}', etcdctlTls: '{{raw:etcdctlTls}}' } as const;

/** A planner step as a playbook step: read-only steps check (or wait), everything else is a change with its backup and risk. */
function asPlaybookStep(s: ClusterStep): PlaybookStep {
  const base = { id: s.id, title: s.title, body: s.why, command: s.command, sudo: true, ...(s.captures ? { captures: s.captures } : {}) };
  if (s.kind === 'check' || s.kind === 'verify') {
    const kind = s.poll ? 'wait' : s.kind === 'verify' ? 'verify' : s.expect ? 'check' : 'probe';
    return {
      ...base,
      kind,
      expect: s.expect ?? {},
      ...(s.poll ? { intervalSeconds: s.poll.intervalSeconds, timeoutSeconds: s.poll.timeoutSeconds } : {}),
      ...(s.onFail ? { onFail: s.onFail } : {}),
    };
  }
  return { ...base, kind: 'change', touches: s.filesTouched, backup: s.backup, risk: s.riskText };
}

/** Steps with their ids prefixed (two run styles side by side), the chain's last step going to `after`. */
function chain(steps: ClusterStep[], prefix: string, after: string): PlaybookStep[] {
  const ids = new Set(steps.map((s) => s.id));
  return steps.map((s, i) => {
    const p = asPlaybookStep({ ...s, id: `${prefix}${s.id}`, ...(s.onFail && ids.has(s.onFail) ? { onFail: `${prefix}${s.onFail}` } : {}) });
    return i === steps.length - 1 ? { ...p, next: after } : p;
  });
}

function memberReplaceSteps(style: 'systemd' | 'static-pod'): ClusterStep[] {
  return planMemberReplace({
    ...COMMON,
    member: placeholderMember(style),
    healthyEndpoint: '{{healthyEndpoint}}',
    initialClusterAfterAdd: '{{newInitialCluster}}',
  }).steps;
}

/** Report 4: a member lost its data while still registered ("tocommit(N) is out of range [lastIndex(0)]"); also how members rejoin after a rebuild. */
export const etcdMemberLost: Playbook = {
  id: 'etcd-member-lost',
  title: { en: 'An etcd member lost its data while still a member', 'zh-CN': 'etcd 成员在仍属集群时丢失了数据' },
  summary: {
    en: 'The member panics with "tocommit(N) is out of range [lastIndex(0)]": the cluster still counts it, its WAL is gone. Remove it from the cluster, move its data dir aside, add it back and let it rejoin with --initial-cluster-state=existing. The same steps bring the other members back after a cluster was rebuilt from one survivor.',
    'zh-CN':
      '成员崩溃并报“tocommit(N) is out of range [lastIndex(0)]”：集群仍把它算作成员，但其 WAL 已丢失。将其从集群中移除，把数据目录移到一旁，再重新加入，并以 --initial-cluster-state=existing 重新加入集群。集群从一个幸存成员重建后，其他成员也用同样的步骤加回。',
  },
  engine: 'etcd',
  signatures: ['etcd.tocommit-out-of-range', 'etcd.member-removed', 'etcd.cluster-id-mismatch', 'etcd.join-no-peers'],
  variables: [
    ...ETCD_VARS,
    ...UNIT_VARS,
    ...MANIFEST_VARS,
    { name: 'healthyEndpoint', description: { en: 'client URL of a healthy member', 'zh-CN': '健康成员的客户端 URL' } },
  ],
  steps: [
    {
      id: 'members',
      kind: 'probe',
      title: { en: 'List the members from a healthy one', 'zh-CN': '从健康成员列出成员' },
      body: {
        en: 'Read-only: who the cluster counts, and which member is {{memberName}}.',
        'zh-CN': '只读：集群计入了哪些成员，以及哪个是 {{memberName}}。',
      },
      command: 'ETCDCTL_API=3 etcdctl --endpoints={{healthyEndpoint}} {{raw:etcdctlTls}} member list -w table',
      sudo: true,
      expect: { exitCode: 0 },
    },
    styleDecision('style', 'sd-stop', 'sp-stop'),
    ...chain(memberReplaceSteps('systemd'), 'sd-', 'end'),
    ...chain(memberReplaceSteps('static-pod'), 'sp-', 'end'),
  ],
};

function survivorSteps(style: 'systemd' | 'static-pod', updatePeerUrl: boolean): ClusterStep[] {
  return planForceNewCluster({ ...COMMON, members: [{ config: placeholderMember(style) }], survivorOnly: true, updatePeerUrl }).steps;
}

const REJOIN_EN =
  'This member now runs alone and serves every key it had. Bring the others back one at a time: on each of their nodes start the "An etcd member lost its data" playbook with healthyEndpoint={{endpoint}} (the member is no longer registered, so the remove step is skipped; its data dir is moved aside, never deleted).';
const REJOIN_ZH =
  '此成员现在单独运行，并提供它已有的全部键。逐个加回其他成员：在它们各自的节点上启动“etcd 成员丢失数据”剧本，并设置 healthyEndpoint={{endpoint}}（该成员已不在注册表中，因此会跳过移除步骤；其数据目录会被移到一旁，不会删除）。';

/** The end of a rebuild: run once the others were re-added in their own sessions. */
const clusterHealthy: PlaybookStep = {
  id: 'cluster-healthy',
  kind: 'wait',
  title: { en: 'Wait until every member is back and healthy', 'zh-CN': '等待所有成员恢复并健康' },
  body: {
    en: 'After the others were re-added: every registered member answers healthy and none is left unstarted.',
    'zh-CN': '其他成员加回之后：每个已注册成员都健康，且没有未启动的成员。',
  },
  command: `${ETCDCTL} member list\n${ETCDCTL} endpoint health --cluster`,
  sudo: true,
  expect: { outputMatches: 'is healthy', outputNotMatches: 'unhealthy|unstarted' },
  intervalSeconds: 3,
  timeoutSeconds: 600,
  next: 'end',
};

/**
 * The member records etcd keeps in its db, read in place the way detection's
 * peer-address check reads them (shared/node/kind.ts). The path is built
 * with a marker and then given the placeholder outside any quotes, so the
 * session quotes the data dir once, as it does everywhere else.
 */
const DB_MEMBER_RECORDS = dbMemberRecordsCommand('/DATA_DIR').replace('/DATA_DIR/member/snap/db', '{{dataDir}}/member/snap/db');

/** Report 3: kind after Docker restarted the node containers with new addresses. */
export const kindAddresses: Playbook = {
  id: 'kind-addresses',
  title: { en: 'kind: etcd members registered at old addresses', 'zh-CN': 'kind：etcd 成员仍注册在旧地址上' },
  summary: {
    en: 'After a Docker restart the node containers have new IPs; etcd still calls its peers at the old ones and has no leader, so member update cannot be committed. Show the evidence (registered vs current peer URL), force a new cluster on the member with the newest data, register it at its new URL, then re-add the others.',
    'zh-CN':
      'Docker 重启后节点容器的 IP 变了；etcd 仍按旧地址联系对等节点，没有 leader，因此 member update 无法提交。先展示证据（注册的与当前的对等 URL），在数据最新的成员上强制新建集群，以新 URL 注册它，再加回其他成员。',
  },
  engine: 'etcd',
  signatures: ['etcd.publish-failed', 'etcd.pre-vote', 'etcd.peer-unreachable'],
  variables: [...ETCD_VARS, ...MANIFEST_VARS],
  steps: [
    {
      id: 'addresses',
      kind: 'probe',
      title: { en: "The node's addresses and etcd's peer URLs (configured and registered)", 'zh-CN': '节点地址与 etcd 的对等 URL（配置的与已注册的）' },
      body: {
        en: "Read-only, the node card's peer-address check step by step: the node's addresses now (ip -o addr), the peer URLs the manifest configures, and the ones etcd has registered (its member records, read in place from member/snap/db, since a member without a leader answers no etcdctl call). A registered or configured URL whose address the node no longer has is the Docker-restart problem.",
        'zh-CN':
          '只读，即节点卡片中对等地址检查的逐项展示：节点当前的地址（ip -o addr）、清单配置的对等 URL，以及 etcd 已注册的对等 URL（其成员记录，直接从 member/snap/db 原地读取，因为没有 leader 的成员不响应任何 etcdctl 调用）。若某个已注册或已配置的 URL 的地址已不在此节点上，就是 Docker 重启导致的问题。',
      },
      command: [
        'echo "== addresses on this node now"',
        'ip -o addr',
        'echo "== peer URLs in the manifest"',
        'grep -E -- "--(initial-advertise-peer-urls|listen-peer-urls|initial-cluster)=" {{manifest}}',
        'echo "== peer URLs etcd has registered (member records in member/snap/db)"',
        DB_MEMBER_RECORDS,
      ].join('; '),
      sudo: true,
      expect: {},
    },
    ...(() => {
      const steps = chain(survivorSteps('static-pod', true), '', 'rejoin');
      const evidence = { ...steps[0]!, onFail: 'not-kind' };
      const choose = newestMemberDecision(
        'choose',
        {
          en: "Copy every member's data dir off and validate them side by side (lifeboat validate A B C): the members table names the one to keep. Force a new cluster on that one only.",
          'zh-CN': '将每个成员的数据目录复制下来并并排校验（lifeboat validate A B C）：成员对比表会指出要保留的成员。只在该成员上强制新建集群。',
        },
        steps[1]!.id,
      );
      return [evidence, choose, ...steps.slice(1)];
    })(),
    explain('rejoin', ['Re-add the other members', REJOIN_EN], ['加回其他成员', REJOIN_ZH]),
    clusterHealthy,
    explain(
      'not-kind',
      [
        'The addresses match',
        'The member is registered at the peer URL it advertises: this is not the address problem. Look at the logs view for the signature that matches.',
      ],
      ['地址一致', '该成员注册的对等 URL 与其通告的一致：不是地址问题。请在日志视图中查看匹配的特征。'],
      { next: 'end' },
    ),
    doneElsewhereStep,
  ],
};

/** Quorum loss in an HA cluster, and "database space exceeded" (playbook 6). */
export const quorumAndSpace: Playbook = {
  id: 'etcd-quorum-space',
  title: { en: 'etcd lost quorum, or its database is full', 'zh-CN': 'etcd 失去法定人数，或数据库已满' },
  summary: {
    en: 'Quorum loss: rebuild from the member with the newest data with --force-new-cluster (on a copy-first basis), then re-add the others one by one. "database space exceeded": compact, defragment and disarm the NOSPACE alarm.',
    'zh-CN':
      '失去法定人数：先复制，再在数据最新的成员上以 --force-new-cluster 重建，然后逐个加回其他成员。“database space exceeded”：压缩、碎片整理并解除 NOSPACE 告警。',
  },
  engine: 'etcd',
  signatures: ['etcd.no-leader', 'etcd.no-space', 'etcd.join-no-peers'],
  variables: [...ETCD_VARS, ...UNIT_VARS, ...MANIFEST_VARS],
  steps: [
    {
      id: 'which',
      kind: 'decision',
      title: { en: 'Which one is it?', 'zh-CN': '是哪一种？' },
      body: { en: 'The logs view names the signature.', 'zh-CN': '日志视图会给出对应的特征。' },
      options: [
        { id: 'space', label: { en: 'database space exceeded', 'zh-CN': '数据库空间超限' }, goto: 'status' },
        { id: 'quorum', label: { en: 'quorum lost', 'zh-CN': '失去法定人数' }, goto: 'quorum' },
      ],
    },
    {
      id: 'status',
      kind: 'probe',
      title: { en: 'Read the revision and the db size', 'zh-CN': '读取修订号与数据库大小' },
      body: {
        en: "Read-only: the revision to compact up to (the response header's revision), the db size (dbSize) and, under errors, the NOSPACE alarm.",
        'zh-CN': '只读：要压缩到的修订号（响应头中的 revision）、数据库大小（dbSize），以及 errors 中的 NOSPACE 告警。',
      },
      command: `${ETCDCTL} endpoint status -w json`,
      sudo: true,
      expect: { exitCode: 0 },
      // etcd 3.4 prints {"Endpoint":...,"Status":{"header":{...,"revision":N,...},...}}: take the header's, not another field's.
      captures: { revision: '"header":\\{[^{}]{0,512}"revision":(\\d+)' },
    },
    change({
      id: 'compact',
      title: { en: 'Compact history up to the current revision', 'zh-CN': '将历史压缩到当前修订号' },
      body: { en: 'Old revisions are dropped; current values stay.', 'zh-CN': '删除旧修订，保留当前值。' },
      command: `${ETCDCTL} compact {{revision}}`,
      touches: ['{{dataDir}}'],
      backup: ['{{dataDir}}'],
      risk: {
        en: 'History before the revision is gone (watchers may need to relist).',
        'zh-CN': '该修订号之前的历史将丢失（watch 客户端可能需要重新 list）。',
      },
    }),
    change({
      id: 'defrag',
      title: { en: 'Defragment', 'zh-CN': '碎片整理' },
      body: {
        en: 'Returns the freed space to the file system; the member blocks while it runs. This defragments this member only: in a cluster, run it on every member, one at a time (each has its own db and quota).',
        'zh-CN': '将释放的空间还给文件系统；执行期间该成员会阻塞。这只整理此成员：在集群中请逐个对每个成员执行（每个成员有各自的数据库和配额）。',
      },
      // etcdctl gives up after its default 5 s command timeout ("context deadline exceeded") while etcd goes on
      // defragmenting: a db at a 2 GiB (or 8 GiB) quota on a slow disk takes longer, and the step would read as failed.
      command: `${ETCDCTL} --command-timeout=30m defrag`,
      touches: ['{{dataDir}}'],
      backup: ['{{dataDir}}'],
      risk: { en: 'The member does not answer while defragmenting.', 'zh-CN': '碎片整理期间该成员不响应。' },
    }),
    change({
      id: 'disarm',
      title: { en: 'Disarm the NOSPACE alarm', 'zh-CN': '解除 NOSPACE 告警' },
      body: { en: 'Writes are accepted again.', 'zh-CN': '重新接受写入。' },
      command: `${ETCDCTL} alarm disarm`,
      touches: ['alarms'],
      backup: ['{{dataDir}}'],
      risk: { en: 'If the quota is still too small, the alarm comes back.', 'zh-CN': '若配额仍太小，告警会再次出现。' },
    }),
    {
      id: 'alarms-clear',
      kind: 'verify',
      title: { en: 'No alarm left', 'zh-CN': '没有剩余告警' },
      body: {
        en: 'etcdctl alarm list prints nothing, and endpoint status shows the smaller db and no error.',
        'zh-CN': 'etcdctl alarm list 没有输出，endpoint status 显示数据库已变小且没有错误。',
      },
      command: `${ETCDCTL} alarm list\n${ETCDCTL} endpoint status -w table`,
      sudo: true,
      expect: { exitCode: 0, outputNotMatches: 'alarm:' },
      next: 'end',
    },
    newestMemberDecision(
      'quorum',
      {
        en: "Copy every member's data dir off and validate them side by side (lifeboat validate A B C): the members table names the one to keep (raft's most up-to-date log: last term, then last index, among members that can start). Rebuild from that one only.",
        'zh-CN':
          '将每个成员的数据目录复制下来并并排校验（lifeboat validate A B C）：成员对比表会指出要保留的成员（raft 的“日志最新”规则：先比最后任期，再比最后索引，只在能启动的成员中选）。只从该成员重建。',
      },
      'style',
    ),
    styleDecision('style', 'sd-stop', 'sp-stop'),
    ...chain(survivorSteps('systemd', false), 'sd-', 'rejoin'),
    ...chain(survivorSteps('static-pod', false), 'sp-', 'rejoin'),
    explain('rejoin', ['Re-add the other members', REJOIN_EN], ['加回其他成员', REJOIN_ZH]),
    clusterHealthy,
    doneElsewhereStep,
  ],
};
