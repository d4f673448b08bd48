/**
 * The playbooks: one per way a control plane's datastore breaks in our field
 * reports, each ending with the cluster verified healthy. Data, not code:
 * the runner (shared/guided/runner.ts) walks them and `playbookProblems`
 * checks them (test/guided/playbooks.test.ts).
 */
import type { Playbook } from '../../contract/guided';
import type { ManagedBy } from '../../contract/node';
import { backendArchiveSwapCommand } from '../../formats/dqlite/fresh-backend';
import { COMPRESSED_BACKUP_VARS, restoreTail } from './etcd-restore';
import { etcdMemberLost, kindAddresses, quorumAndSpace } from './etcd-members';
import { change, DATA_DIR_VAR, ETCDCTL_TLS_VAR, explain, MANIFEST_VARS, MEMBER_NAME_VAR, UNIT_VARS } from './steps';

export { etcdMemberLost, kindAddresses, quorumAndSpace };

const ETCD_VARS: Playbook['variables'] = [
  DATA_DIR_VAR,
  MEMBER_NAME_VAR,
  { name: 'initialCluster', description: { en: '--initial-cluster', 'zh-CN': '--initial-cluster' }, from: 'settings.initial-cluster' },
  { name: 'initialClusterToken', description: { en: '--initial-cluster-token', 'zh-CN': '--initial-cluster-token' }, from: 'settings.initial-cluster-token' },
  {
    name: 'initialAdvertisePeerUrls',
    description: { en: '--initial-advertise-peer-urls', 'zh-CN': '--initial-advertise-peer-urls' },
    from: 'settings.initial-advertise-peer-urls',
  },
  { name: 'endpoint', description: { en: 'client URL etcdctl talks to', 'zh-CN': 'etcdctl 连接的客户端 URL' }, from: 'settings.advertise-client-urls' },
  ETCDCTL_TLS_VAR,
];

/** Report 5: etcd as a systemd unit with an EnvironmentFile, restored from the newest good cron backup. */
export const systemdEtcdRestore: Playbook = {
  id: 'etcd-systemd-restore',
  title: { en: 'Restore a systemd-managed etcd from its cron backup', 'zh-CN': '从定时备份恢复由 systemd 管理的 etcd' },
  summary: {
    en: 'etcd runs as a systemd unit (KubeKey, kubespray). Its data directory is broken and a cron job has been taking snapshot.db backups. Restore the newest good one with the flags from the unit and its EnvironmentFile.',
    'zh-CN':
      'etcd 以 systemd 单元运行（KubeKey、kubespray）。其数据目录已损坏，而定时任务一直在做 snapshot.db 备份。使用单元及其 EnvironmentFile 中的参数恢复最新的有效备份。',
  },
  engine: 'etcd',
  signatures: [
    'etcd.bbolt-freepages',
    'etcd.bbolt-page-mismatch',
    'etcd.bbolt-open-failed',
    'etcd.wal-crc',
    'etcd.wal-undecodable',
    'etcd.wal-unrepairable',
    'etcd.snap-error',
    'etcd.db-snapshot-mismatch',
  ],
  variables: [
    ...ETCD_VARS,
    ...UNIT_VARS,
    {
      name: 'backup',
      description: { en: 'the snapshot.db to restore (newest good backup)', 'zh-CN': '要恢复的 snapshot.db（最新的有效备份）' },
      from: 'datastore.newestGoodBackup',
    },
    ...COMPRESSED_BACKUP_VARS,
  ],
  steps: [
    explain(
      'overview',
      [
        'What this does',
        'etcd runs as {{unit}} with its settings in {{envFile}}; its data lives in {{dataDir}}. Lifeboat checks the backup, stops etcd, keeps the old directory (moved aside and archived), restores the backup with the same member name and cluster flags, starts etcd and checks that it serves the keys.',
      ],
      [
        '步骤说明',
        'etcd 以 {{unit}} 运行，配置位于 {{envFile}}，数据位于 {{dataDir}}。Lifeboat 将检查备份、停止 etcd、保留旧目录（移到一旁并归档）、用相同的成员名与集群参数恢复备份、启动 etcd，并检查其是否提供数据。',
      ],
    ),
    {
      id: 'unit-state',
      kind: 'probe',
      title: { en: 'Look at the unit and its last log lines', 'zh-CN': '查看单元状态及最近日志' },
      body: { en: 'Read-only: what systemd says and what etcd printed last.', 'zh-CN': '只读：systemd 的状态与 etcd 最后的输出。' },
      command: 'systemctl is-active {{unit}}; journalctl -u {{unit}} -n 40 --no-pager',
      sudo: true,
      expect: {},
    },
    ...restoreTail('systemd', '{{envFile}}'),
  ],
};

/** Report 2: kubeadm's etcd static pod crash-loops on a corrupt bbolt db. */
export const kubeadmEtcdDb: Playbook = {
  id: 'kubeadm-etcd-db',
  title: { en: 'kubeadm etcd with a corrupt database', 'zh-CN': 'kubeadm etcd 数据库损坏' },
  summary: {
    en: 'etcd (a static pod) panics at start-up in bbolt, e.g. "freepages: failed to get all reachable pages". Restore from the newest good backup; without one, salvage the data directory with Lifeboat and restore from the salvaged snapshot.db.',
    'zh-CN':
      'etcd（静态 Pod）启动时在 bbolt 中崩溃，例如“freepages: failed to get all reachable pages”。若有备份，从最新的有效备份恢复；若没有，用 Lifeboat 抢救数据目录，再从抢救出的 snapshot.db 恢复。',
  },
  engine: 'etcd',
  signatures: ['etcd.bbolt-freepages', 'etcd.bbolt-page-mismatch', 'etcd.bbolt-open-failed', 'kubernetes.crashloop', 'kubernetes.etcd-unreachable'],
  variables: [
    ...ETCD_VARS,
    ...MANIFEST_VARS,
    { name: 'backup', description: { en: 'the snapshot.db to restore', 'zh-CN': '要恢复的 snapshot.db' }, from: 'datastore.newestGoodBackup' },
    ...COMPRESSED_BACKUP_VARS,
    // Set by the copy-validate step once the copy is verified: the salvage command names it.
    { name: 'copyPath', description: { en: 'the verified copy of the data directory on this machine', 'zh-CN': '数据目录经校验的副本在本机的位置' } },
  ],
  steps: [
    explain(
      'overview',
      [
        'What this does',
        'The kubelet runs etcd from {{manifest}} with its data in {{dataDir}}. Lifeboat copies the data directory off the node and validates it, then restores a good backup (or a snapshot.db salvaged from the copy) with the flags from the manifest.',
      ],
      [
        '步骤说明',
        'kubelet 依据 {{manifest}} 运行 etcd，数据位于 {{dataDir}}。Lifeboat 先将数据目录复制下来并校验，然后使用清单中的参数恢复有效备份（或从副本中抢救出的 snapshot.db）。',
      ],
    ),
    {
      id: 'pod-logs',
      kind: 'probe',
      title: { en: 'Read the etcd container log', 'zh-CN': '读取 etcd 容器日志' },
      body: { en: 'Read-only: the panic or fatal line that stops etcd.', 'zh-CN': '只读：使 etcd 停止的 panic 或 fatal 行。' },
      command: 'crictl ps -a --name etcd; id=$(crictl ps -a --name etcd -q | head -n 1); [ -n "$id" ] && crictl logs "$id" 2>&1 | tail -n 40',
      sudo: true,
      expect: {},
    },
    {
      id: 'copy-validate',
      kind: 'copy-validate',
      title: { en: 'Copy the data directory off and validate it', 'zh-CN': '复制数据目录并校验' },
      body: {
        en: 'A verified copy first (SHA-256 on both ends), then Lifeboat says what etcd would do and what can be saved.',
        'zh-CN': '先做经过校验的副本（两端 SHA-256），再由 Lifeboat 判断 etcd 会怎样以及哪些数据可以保住。',
      },
      path: '{{dataDir}}',
    },
    {
      id: 'have-backup',
      kind: 'decision',
      title: { en: 'Restore from what?', 'zh-CN': '从哪里恢复？' },
      body: {
        en: 'The newest good backup on the node card: {{backup}}. Where the card found a newer one that is compressed, the next step decompresses it and the restore uses that. Without any, salvage a snapshot.db from the verified copy with this command on this machine (not on the node); the next step uploads it to the node: `lifeboat salvage {{copyPath}} --snapshot {{copyPath}}.salvaged-snapshot.db`',
        'zh-CN':
          '节点卡片中最新的有效备份：{{backup}}。若卡片发现了更新的压缩备份，下一步会先解压，恢复将使用解压后的文件。若都没有，请在本机（而不是节点上）用下面的命令从经过校验的副本中抢救出 snapshot.db，下一步会将其上传到节点：`lifeboat salvage {{copyPath}} --snapshot {{copyPath}}.salvaged-snapshot.db`',
      },
      options: [
        // Through the decompress step: it passes itself by unless the card found a newer compressed backup.
        { id: 'backup', label: { en: 'The backup the node card names', 'zh-CN': '节点卡片指出的备份' }, goto: 'decompress-backup' },
        { id: 'salvaged', label: { en: 'A snapshot.db salvaged by Lifeboat', 'zh-CN': 'Lifeboat 抢救出的 snapshot.db' }, goto: 'upload-salvaged' },
        { id: 'abandon', label: { en: 'Neither: stop here', 'zh-CN': '都不用：到此为止' }, goto: 'backup-bad' },
      ],
    },
    {
      id: 'upload-salvaged',
      kind: 'upload',
      title: { en: 'Upload the salvaged snapshot.db to the node', 'zh-CN': '将抢救出的 snapshot.db 上传到节点' },
      body: {
        en: 'Written as a new file (an existing one is never overwritten) over SFTP, put in place as root with install -m 0600 (through sudo, or directly when you logged in as root), and its SHA-256 on the node checked against the local file. The restore steps then use it.',
        'zh-CN':
          '通过 SFTP 作为新文件写入（绝不覆盖已有文件），以 root 身份用 install -m 0600 放到位（通过 sudo；若以 root 登录则直接执行），并在节点上核对其 SHA-256 与本地文件一致。之后的恢复步骤使用该文件。',
      },
      path: '{{backupDir}}/{{sessionId}}-salvaged-snapshot.db',
      sudo: true,
      setsVariable: 'backup',
      next: 'check-backup',
    },
    ...restoreTail('static-pod', '{{manifest}}'),
  ],
};

/** Stopping MicroK8s before its backend's files move (both repairs of report 1). */
const STOP_MICROK8S = {
  title: { en: 'Stop MicroK8s', 'zh-CN': '停止 MicroK8s' },
  body: { en: 'dqlite must not run while its files are moved.', 'zh-CN': '移动文件时 dqlite 不能运行。' },
  command: 'snap stop microk8s',
  touches: ['{{dataDir}}'],
  backup: ['{{dataDir}}'],
  risk: { en: 'The whole cluster control plane on this node stops until it is started again.', 'zh-CN': '本节点的整个集群控制平面停止，直到重新启动。' },
};

/** Report 1: MicroK8s dqlite will not start after a power cut. */
export const microk8sDqlite: Playbook = {
  id: 'microk8s-dqlite',
  title: { en: 'MicroK8s dqlite with a corrupt segment or snapshot', 'zh-CN': 'MicroK8s dqlite 段或快照损坏' },
  summary: {
    en: 'k8s-dqlite will not start (or would start only by silently dropping entries). Copy the backend off, validate it, then either apply the smallest repair Lifeboat plans (quarantine, never delete) or put the fresh backend of the offline rebuild in place (every readable entry kept), start and verify.',
    'zh-CN':
      'k8s-dqlite 无法启动（或只能通过静默丢弃条目启动）。复制 backend、校验，然后执行 Lifeboat 规划的最小修复（隔离而非删除），或放入离线重建得到的全新 backend（保留每一个可读的条目），再启动并验证。',
  },
  engine: 'dqlite',
  signatures: [
    'dqlite.closed-segment-batch',
    'dqlite.closed-segment-count',
    'dqlite.closed-segment-file',
    'dqlite.open-segment',
    'dqlite.segment-sequence',
    'dqlite.snapshot-lz4',
    'dqlite.snapshot-meta',
    'dqlite.metadata',
    'kubernetes.kine-unreachable',
  ],
  variables: [
    { name: 'dataDir', description: { en: 'the dqlite backend directory', 'zh-CN': 'dqlite backend 目录' }, from: 'datastore.dataDir' },
    {
      name: 'repairCommands',
      description: { en: "the quarantine commands of the validator's repair plan", 'zh-CN': '校验器修复方案中的隔离命令' },
      from: 'report.dqlite.repair',
    },
    {
      name: 'repairLost',
      description: { en: 'the log entries the repair plan gives up (0: none)', 'zh-CN': '修复方案会放弃的日志条目（0 表示没有）' },
      from: 'report.dqlite.repair',
    },
  ],
  steps: [
    {
      id: 'copy-validate',
      kind: 'copy-validate',
      title: { en: 'Copy the backend off and validate it', 'zh-CN': '复制 backend 并校验' },
      body: {
        en: 'The validator names the bad file, what dqlite would do, and the smallest repair.',
        'zh-CN': '校验器会指出损坏的文件、dqlite 会怎样，以及最小的修复方案。',
      },
      path: '{{dataDir}}',
    },
    {
      id: 'choose-repair',
      kind: 'decision',
      title: { en: 'Which repair?', 'zh-CN': '选择哪种修复？' },
      body: {
        en: 'The smallest repair moves the files the report names to quarantine: dqlite then starts without the entries the report lists as lost (here: {{raw:repairLost}}). The offline rebuild of the copy ("Rebuild the databases" on its report, or `lifeboat salvage COPY --out DIR`) applies every readable entry and packs a fresh backend into backend.tar: choose it when the repair would lose entries you need, or when the report says the snapshot is damaged.',
        'zh-CN':
          '最小修复把报告列出的文件移入隔离区：之后 dqlite 启动时不含报告中列为丢失的条目（此处为：{{raw:repairLost}}）。对副本进行离线重建（在其报告中点“重建数据库”，或运行 `lifeboat salvage COPY --out DIR`）会应用每一个可读的条目，并把全新 backend 打包成 backend.tar：当修复会丢失你需要的条目，或报告指出快照损坏时，请选择它。',
      },
      options: [
        { id: 'quarantine', label: { en: 'The smallest repair: quarantine the files the plan names', 'zh-CN': '最小修复：隔离方案列出的文件' }, goto: 'stop' },
        {
          id: 'fresh-backend',
          label: { en: 'Put the fresh backend of the offline rebuild in place', 'zh-CN': '放入离线重建得到的全新 backend' },
          goto: 'upload-backend',
        },
      ],
    },
    change({ id: 'stop', ...STOP_MICROK8S }),
    change({
      id: 'quarantine',
      title: { en: 'Move the files the repair plan names to quarantine', 'zh-CN': '将修复方案列出的文件移入隔离区' },
      body: {
        en: "The commands of the validator's repair plan for this directory, run once as root (through sudo, or directly when you logged in as root): the sudo the plan writes before each command for a shell is left out.",
        'zh-CN':
          '校验器为此目录给出的修复方案中的命令，整体以 root 身份执行一次（通过 sudo；若以 root 登录则直接执行）：方案为手动在 shell 中执行而在每条命令前写的 sudo 已去掉。',
      },
      command: '{{raw:repairCommands}}',
      touches: ['{{dataDir}}'],
      backup: ['{{dataDir}}'],
      risk: {
        en: 'Entries only in the quarantined files are not loaded; the report lists which index ranges. To keep them, rebuild the copy offline instead (`lifeboat salvage COPY --out DIR`): it applies every readable entry and writes a fresh backend that starts with them, and the Kubernetes objects as files.',
        'zh-CN':
          '仅存在于被隔离文件中的条目不会被加载；报告列出了具体的索引范围。若要保留它们，可改为离线重建副本（`lifeboat salvage COPY --out DIR`）：它会应用每一个可读的条目，写出一个带着这些数据即可启动的全新 backend，并把 Kubernetes 对象写成文件。',
      },
    }),
    change({
      id: 'start',
      title: { en: 'Start MicroK8s', 'zh-CN': '启动 MicroK8s' },
      body: { en: 'dqlite loads the repaired directory.', 'zh-CN': 'dqlite 加载修复后的目录。' },
      command: 'snap start microk8s',
      touches: ['{{dataDir}}'],
      backup: ['{{dataDir}}'],
      risk: {
        en: 'If the repair missed a damaged file, start-up fails again; the quarantine folder holds everything.',
        'zh-CN': '若修复遗漏了损坏的文件，启动会再次失败；隔离目录保存着所有文件。',
      },
    }),
    {
      id: 'verify',
      kind: 'wait',
      title: { en: 'Wait until the API answers', 'zh-CN': '等待 API 响应' },
      body: { en: 'microk8s kubectl get nodes.', 'zh-CN': 'microk8s kubectl get nodes。' },
      command: 'microk8s kubectl --request-timeout=30s get nodes',
      sudo: true,
      expect: { exitCode: 0, outputMatches: '\\bReady\\b' },
      intervalSeconds: 3,
      timeoutSeconds: 180,
      next: 'end',
    },
    {
      id: 'upload-backend',
      kind: 'upload',
      title: { en: 'Upload the fresh backend to the node', 'zh-CN': '将全新 backend 上传到节点' },
      body: {
        en: 'The backend.tar the offline rebuild wrote beside its fresh backend: written as a new file (an existing one is never overwritten) over SFTP, put in place as root with install -m 0600, and its SHA-256 on the node checked against the local file. Nothing in the backend changes yet.',
        'zh-CN':
          '离线重建在全新 backend 旁边写出的 backend.tar：通过 SFTP 作为新文件写入（绝不覆盖已有文件），以 root 身份用 install -m 0600 放到位，并在节点上核对其 SHA-256 与本地文件一致。此时 backend 还没有任何改动。',
      },
      path: '{{backupDir}}/{{sessionId}}-fresh-backend.tar',
      sudo: true,
      accepts: 'dqlite-backend',
      setsVariable: 'freshBackend',
    },
    change({ id: 'stop-for-swap', ...STOP_MICROK8S }),
    {
      ...change({
        id: 'swap-backend',
        title: { en: 'Put the fresh backend in place', 'zh-CN': '放入全新 backend' },
        body: {
          en: 'Every file of the backend is moved into a new folder beside it (never deleted), then the uploaded archive is extracted into the backend, as root. The directory itself stays, with its owner and context.',
          'zh-CN':
            'backend 中的每个文件都会移到旁边一个新文件夹中（绝不删除），然后以 root 身份把上传的归档解压到 backend 中。目录本身保留，其属主和安全上下文不变。',
        },
        command: backendArchiveSwapCommand('{{dataDir}}', '{{freshBackend}}', '{{dataDir}}.before-lifeboat-{{stamp}}'),
        touches: ['{{dataDir}}'],
        backup: ['{{dataDir}}'],
        risk: {
          en: 'dqlite then starts from the rebuilt databases only: entries the rebuild did not apply (its report says which) are not on this node. If its membership has several voters, this node alone has no quorum: follow MicroK8s’ quorum restore first. The old files stay in {{dataDir}}.before-lifeboat-{{stamp}}.',
          'zh-CN':
            '之后 dqlite 只从重建的数据库启动：重建未应用的条目（其报告列出了哪些）不在此节点上。若其成员关系中有多个投票者，仅此一个节点没有法定人数：请先按 MicroK8s 的法定人数恢复步骤操作。旧文件保留在 {{dataDir}}.before-lifeboat-{{stamp}} 中。',
        },
      }),
      next: 'start',
    },
  ],
};

export const PLAYBOOKS: readonly Playbook[] = [microk8sDqlite, kubeadmEtcdDb, kindAddresses, etcdMemberLost, systemdEtcdRestore, quorumAndSpace];

/**
 * The playbooks written for one way of running the datastore (their commands
 * name a unit, a manifest, a snap or kind's containers). A playbook not named
 * here fits any management.
 */
const MANAGED_BY: Readonly<Record<string, readonly ManagedBy[]>> = {
  'etcd-systemd-restore': ['systemd'],
  'kubeadm-etcd-db': ['static-pod'],
  'kind-addresses': ['kind'],
  'microk8s-dqlite': ['snap'],
};

/**
 * The playbooks that fit what was seen: matched log signatures first (in
 * playbook order), else every playbook for the engine. Used by the logs
 * view's and the verdict's "Start guided recovery". With `managedBy` (what
 * the node card found), the playbooks written for that management come first
 * and those written for another one last: a systemd-run etcd must not be
 * offered the kubeadm static-pod playbook first. k3s and RKE2 are offered none.
 */
/**
 * Failures whose data is intact, fixed on the node without a playbook (ownership, a second etcd on the port): with
 * one of these and no playbook's own, none is suggested, rather than every playbook of the engine, which all
 * restore or rebuild.
 */
const DATA_INTACT_SIGNATURES = new Set(['etcd.data-dir-access', 'etcd.data-dir-unlisted', 'runtime.port-in-use']);

export function suggestPlaybooks(signatureIds: readonly string[], engine: 'etcd' | 'dqlite' | null, managedBy: ManagedBy | null = null): Playbook[] {
  const seen = new Set(signatureIds);
  const matched = PLAYBOOKS.filter((p) => p.signatures.some((s) => seen.has(s)));
  const intact = signatureIds.some((s) => DATA_INTACT_SIGNATURES.has(s));
  const found = matched.length ? matched : engine && !intact ? PLAYBOOKS.filter((p) => p.engine === engine) : [];
  if (!managedBy) return found;
  // k3s and RKE2 run etcd inside their own binary, with their own certificates and their own restore (the node
  // card's reset commands): no playbook here is written for them, and one written for a unit or a manifest would
  // plan etcdctl commands against a configuration they do not have. Offered under "other playbooks" only.
  if (managedBy === 'k3s' || managedBy === 'rke2') return found.filter((p) => MANAGED_BY[p.id]?.includes(managedBy));
  const rank = (p: Playbook): number => {
    const fits = MANAGED_BY[p.id];
    return !fits ? 1 : fits.includes(managedBy) ? 0 : 2;
  };
  // Array.prototype.sort is stable: playbook order holds within a rank.
  return [...found].sort((a, b) => rank(a) - rank(b));
}

export function playbookById(id: string): Playbook | null {
  return PLAYBOOKS.find((p) => p.id === id) ?? null;
}
