/**
 * Restoring an etcd member from a snapshot.db: the shared tail of the
 * systemd (report 5) and kubeadm static-pod (report 2) playbooks. Steps are
 * data: the exact commands, what each touches, the backup taken first and
 * what could get worse. Placeholders come from the node card
 * (shared/guided/variables.ts) or from earlier steps' captures.
 */
import type { PlaybookStep } from '../../contract/guided';

const ETCDCTL = 'ETCDCTL_API=3 etcdctl --endpoints={{endpoint}} {{raw:etcdctlTls}}';

/** Check that the chosen backup restores: SHA-256 trailer present and matching (what `etcdctl snapshot restore` checks). */
export const checkBackupStep: PlaybookStep = {
  id: 'check-backup',
  kind: 'check',
  title: { en: 'Check the backup restores', 'zh-CN': '检查备份能否恢复' },
  body: {
    en: 'etcdctl snapshot restore refuses a file whose SHA-256 trailer is missing or does not match. Read the backup in place (read-only) and compare the trailer with the hash of the rest.',
    'zh-CN': '如果 SHA-256 尾部缺失或不匹配，etcdctl snapshot restore 会拒绝该文件。就地只读读取备份，比较尾部与其余内容的哈希。',
  },
  command:
    's=$(stat -c %s {{backup}}) && [ $((s % 512)) -eq 32 ] && t=$(tail -c 32 {{backup}} | od -An -tx1 -v | tr -d " \\n") && h=$(head -c $((s - 32)) {{backup}} | sha256sum | cut -c1-64) && echo "trailer $t" && echo "computed $h" && [ "$t" = "$h" ] && echo hash-ok',
  sudo: true,
  expect: { exitCode: 0, outputMatches: '^hash-ok$' },
  onFail: 'backup-bad',
};

export const backupBadStep: PlaybookStep = {
  id: 'backup-bad',
  kind: 'explain',
  title: { en: 'This backup does not restore', 'zh-CN': '此备份无法恢复' },
  body: {
    en: 'Its hash does not match, so etcdctl would refuse it. Pick the next newest good backup from the node card (run detection again), or salvage the data directory with Lifeboat (lifeboat salvage) and restore from that.',
    'zh-CN':
      '其哈希不匹配，etcdctl 会拒绝它。请从节点卡片中选择次新的有效备份（重新运行检测），或用 Lifeboat 抢救数据目录（lifeboat salvage）后从抢救结果恢复。',
  },
  next: 'end',
};

/** Stop etcd through `stopCommand`, wait until it is down, then move the data dir aside and restore. */
export function restoreSteps(
  stop: { command: string; touches: string[]; backup: string[]; waitCommand: string; waitPattern: string },
  start: { command: string; touches: string[]; backup: string[] },
): PlaybookStep[] {
  return [
    {
      id: 'stop-etcd',
      kind: 'change',
      title: { en: 'Stop etcd', 'zh-CN': '停止 etcd' },
      body: {
        en: 'etcd must not run while its data directory is replaced.',
        'zh-CN': '替换数据目录时 etcd 不能运行。',
      },
      command: stop.command,
      sudo: true,
      touches: stop.touches,
      backup: stop.backup,
      risk: {
        en: 'The API server loses its datastore until the restore is done; the cluster is read-only or down meanwhile.',
        'zh-CN': '恢复完成前 API 服务器失去数据存储；期间集群只读或不可用。',
      },
    },
    {
      id: 'wait-stopped',
      kind: 'wait',
      title: { en: 'Wait until etcd has stopped', 'zh-CN': '等待 etcd 停止' },
      body: { en: 'Polls until no etcd serves this data directory.', 'zh-CN': '轮询直到没有 etcd 使用此数据目录。' },
      command: stop.waitCommand,
      sudo: true,
      expect: { outputMatches: stop.waitPattern },
      intervalSeconds: 1,
      timeoutSeconds: 60,
    },
    {
      id: 'owner',
      kind: 'probe',
      title: { en: 'Note who owns the data directory', 'zh-CN': '记录数据目录的属主' },
      body: {
        en: 'The restored directory must belong to the same user as the old one, or etcd cannot open it.',
        'zh-CN': '恢复后的目录必须与旧目录属于同一用户，否则 etcd 无法打开。',
      },
      command: 'stat -c %U:%G {{dataDir}}',
      sudo: true,
      expect: { exitCode: 0 },
      captures: { owner: '^(\\S+:\\S+)$' },
    },
    {
      id: 'move-aside',
      kind: 'change',
      title: { en: 'Move the old data directory aside', 'zh-CN': '将旧数据目录移到一旁' },
      body: {
        en: 'Nothing is deleted: the old directory stays next to the new one, named with this session, and a tar of it is kept in the backup directory first.',
        'zh-CN': '不删除任何内容：旧目录以本次会话命名保留在新目录旁，且事先在备份目录中保存其 tar 包。',
      },
      command: 'mv {{dataDir}} {{dataDir}}.lifeboat-{{stamp}}',
      sudo: true,
      touches: ['{{dataDir}}'],
      backup: ['{{dataDir}}'],
      risk: {
        en: 'None to the data (it is moved, not deleted). If the disk is nearly full, the tar backup may not fit: check free space first.',
        'zh-CN': '对数据无风险（移动而非删除）。若磁盘将满，tar 备份可能放不下：请先检查剩余空间。',
      },
    },
    {
      id: 'restore',
      kind: 'change',
      title: { en: 'Restore the snapshot into a fresh data directory', 'zh-CN': '将快照恢复到新的数据目录' },
      body: {
        en: 'etcdctl checks the SHA-256 trailer again, writes a new member directory with this member name and the cluster flags from the unit or manifest.',
        'zh-CN': 'etcdctl 会再次检查 SHA-256 尾部，并使用单元或清单中的成员名与集群参数写出新的成员目录。',
      },
      command:
        'ETCDCTL_API=3 etcdctl snapshot restore {{backup}} --data-dir {{dataDir}} --name {{memberName}} --initial-cluster {{initialCluster}} --initial-cluster-token {{initialClusterToken}} --initial-advertise-peer-urls {{initialAdvertisePeerUrls}}',
      sudo: true,
      touches: ['{{dataDir}}'],
      backup: ['{{backup}}'],
      risk: {
        en: 'Everything written after the backup was taken is not in it: those changes are lost unless the old directory is salvaged too.',
        'zh-CN': '备份之后写入的内容不在备份中：除非同时抢救旧目录，否则这些更改会丢失。',
      },
    },
    {
      id: 'chown',
      kind: 'change',
      title: { en: 'Give the new directory to the same owner', 'zh-CN': '将新目录交给原属主' },
      body: { en: 'Same owner as the old directory had.', 'zh-CN': '与旧目录的属主相同。' },
      command: 'chown -R {{owner}} {{dataDir}} && chmod 700 {{dataDir}}',
      sudo: true,
      touches: ['{{dataDir}}'],
      backup: ['{{dataDir}}'],
      risk: { en: 'None beyond ownership of the new directory.', 'zh-CN': '仅影响新目录的属主。' },
    },
    {
      id: 'start-etcd',
      kind: 'change',
      title: { en: 'Start etcd', 'zh-CN': '启动 etcd' },
      body: { en: 'etcd starts on the restored directory.', 'zh-CN': 'etcd 在恢复后的目录上启动。' },
      command: start.command,
      sudo: true,
      touches: start.touches,
      backup: start.backup,
      risk: {
        en: 'If the flags do not match the restored membership, etcd refuses to start; the old directory is still there to go back to.',
        'zh-CN': '若参数与恢复后的成员关系不符，etcd 将拒绝启动；旧目录仍在，可随时退回。',
      },
    },
    {
      id: 'wait-healthy',
      kind: 'wait',
      title: { en: 'Wait until etcd is healthy', 'zh-CN': '等待 etcd 健康' },
      body: { en: 'etcdctl endpoint health, with the TLS flags from the configuration.', 'zh-CN': '使用配置中的 TLS 参数运行 etcdctl endpoint health。' },
      command: `${ETCDCTL} endpoint health`,
      sudo: true,
      expect: { outputMatches: 'is healthy' },
      intervalSeconds: 2,
      timeoutSeconds: 120,
    },
    {
      id: 'count-keys',
      kind: 'verify',
      title: { en: 'Count the keys etcd serves', 'zh-CN': '统计 etcd 提供的键数量' },
      body: { en: 'The restored member serves the keys of the backup.', 'zh-CN': '恢复后的成员提供备份中的键。' },
      command: `${ETCDCTL} get / --prefix --keys-only | grep -c . ; true`,
      sudo: true,
      expect: { outputMatches: '^[1-9]\\d*$' },
      captures: { keyCount: '^(\\d+)$' },
    },
    {
      id: 'kubectl-nodes',
      kind: 'verify',
      title: { en: 'Check the cluster answers', 'zh-CN': '检查集群是否响应' },
      body: {
        en: 'kubectl get nodes through the API server. Skip with a reason where kubectl is not on this node.',
        'zh-CN': '通过 API 服务器运行 kubectl get nodes。若本节点没有 kubectl，请注明原因后跳过。',
      },
      command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes',
      sudo: true,
      expect: { exitCode: 0 },
      next: 'end',
    },
  ];
}
