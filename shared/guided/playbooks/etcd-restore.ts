/**
 * Restoring an etcd member from a snapshot.db: the shared tail of the
 * systemd (report 5) and kubeadm static-pod (report 2) playbooks. Steps are
 * data: the exact commands, what each touches, the backup taken first and
 * what could get worse. Placeholders come from the node card
 * (shared/guided/variables.ts) or from earlier steps' captures.
 */
import type { BiText, Playbook, PlaybookStep } from '../../contract/guided';
import type { EtcdMemberConfig, RestorePlan, RestoreStep } from '../../contract/etcd-repair';
import { planRestore } from '../../formats/etcd/restore-plan';
import { change } from './steps';

/** The node card's newer compressed backup, for `decompressBackupStep` (unset on nodes without one). */
export const COMPRESSED_BACKUP_VARS: Playbook['variables'] = [
  {
    name: 'compressedBackup',
    description: { en: 'a good compressed backup newer than any plain one', 'zh-CN': '比所有未压缩备份都新的有效压缩备份' },
    from: 'datastore.backups',
  },
  { name: 'decompressedBackup', description: { en: 'where it is decompressed to', 'zh-CN': '解压后的位置' }, from: 'datastore.backups' },
  { name: 'decompressBackupCommand', description: { en: 'the command that decompresses it', 'zh-CN': '解压它的命令' }, from: 'datastore.backups' },
];

/**
 * Decompress a good backup the node card found compressed and newer than any plain one (a cron script's
 * `etcdctl snapshot save … && gzip`): etcdctl restores only a plain file. The card's own command (beside itself,
 * never over a file, root-only, the backup's time kept), then the session restores from what it wrote. Nodes
 * without such a backup pass it by (`onlyWhen`).
 */
export const decompressBackupStep: PlaybookStep = {
  ...change({
    id: 'decompress-backup',
    title: { en: 'Decompress the newer backup', 'zh-CN': '解压较新的备份' },
    body: {
      en: "The node card found a good backup newer than any plain one, but compressed: {{compressedBackup}}. etcdctl snapshot restore takes only a plain file, so this writes it decompressed beside itself as {{decompressedBackup}}: never over an existing file, readable by root only, with the backup's own time. The steps after this restore from it.",
      'zh-CN':
        '节点卡片找到了一个比所有未压缩备份都新的有效备份，但它是压缩的：{{compressedBackup}}。etcdctl snapshot restore 只接受未压缩的文件，因此此步骤将其解压到旁边，写为 {{decompressedBackup}}：绝不覆盖已有文件，仅 root 可读，并保留备份自身的时间。之后的步骤从它恢复。',
    },
    command: "{{raw:decompressBackupCommand}} && printf 'restore-from %s\\n' {{decompressedBackup}}",
    touches: ['{{decompressedBackup}}'],
    backup: ['{{decompressedBackup}}'],
    risk: {
      en: 'Needs free space for the decompressed copy (the size of the database, often several times the compressed file). If the disk fills, the command fails and leaves a partial file that the next check refuses; move it away before trying again.',
      'zh-CN':
        '需要有足够空间存放解压后的副本（与数据库同样大，常为压缩文件的数倍）。若磁盘写满，命令失败并留下不完整的文件，下一步检查会拒绝它；再次尝试前请先将其移走。',
    },
  }),
  captures: { backup: '^restore-from (/.+)$' },
  onlyWhen: { variable: 'compressedBackup', otherwise: { key: 'guided.reason.noNewerCompressed' } },
};

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

/**
 * The restore planner's plan (shared/formats/etcd/restore-plan.ts) with the
 * session's placeholders in place of this member's values: the planner is
 * given `@@name@@` tokens (which its quoting leaves alone) and they become
 * `{{name}}` placeholders, quoted by the runner when the session fills them.
 * So the commands a playbook runs are the planner's, written once.
 */
function templatePlan(style: 'systemd' | 'static-pod', manifestPath: string): RestorePlan {
  const token = (name: string) => `@@${name}@@`;
  const member: EtcdMemberConfig = {
    style,
    sources: [style === 'systemd' ? token('unit') : token('manifest')],
    name: token('memberName'),
    dataDir: token('dataDir'),
    walDir: null,
    initialCluster: token('initialCluster'),
    initialClusterToken: token('initialClusterToken'),
    initialAdvertisePeerUrls: token('initialAdvertisePeerUrls'),
    advertiseClientUrls: token('endpoint'),
    listenClientUrls: null,
    // TLS flags come in as one raw fragment, `{{raw:etcdctlTls}}` (see asTemplate).
    cacert: null,
    cert: null,
    key: null,
    manifestPath: style === 'static-pod' ? manifestPath : null,
    unitName: style === 'systemd' ? token('unit') : null,
    // Who gets the restored dir: what the session's owner probe found (the unit's User=, else the old dir's owner).
    runsAs: { user: token('ownerUser'), group: token('ownerGroup') },
    environmentFile: null,
    flags: {},
    problems: [],
  };
  return planRestore({ snapshot: token('backup'), member, tool: 'etcdctl', asideSuffix: `lifeboat-${token('stamp')}` });
}

/**
 * Who must own a systemd member's data dir: the unit's User= (and Group=, else that user's group) as `systemctl cat`
 * shows it with its drop-ins, unless it is root or absent; then the data dir's owner. One `user:group` line.
 */
const UNIT_OWNER_PROBE = [
  `u=$(systemctl cat {{unit}} 2>/dev/null | sed -n 's/^[[:space:]]*User=[[:space:]]*//p' | tail -n 1)`,
  `g=$(systemctl cat {{unit}} 2>/dev/null | sed -n 's/^[[:space:]]*Group=[[:space:]]*//p' | tail -n 1)`,
  `if [ -n "$u" ] && [ "$u" != root ] && [ "$u" != 0 ]; then echo "$u:\${g:-$(id -gn -- "$u")}"; else stat -c %U:%G {{dataDir}}; fi`,
].join('\n');

/** The owner probe's answer, as the chown step's two values. */
const OWNER_CAPTURES = { ownerUser: '^([^\\s:]+):[^\\s:]+$', ownerGroup: '^[^\\s:]+:([^\\s:]+)$' };

/** A planner command as a playbook template: tokens become placeholders, the manifest path becomes `{{manifest}}`, etcdctl gets the TLS fragment. */
function asTemplate(command: string, manifestPath: string | null): string {
  let t = command.replace(/--endpoints=@@endpoint@@/g, '--endpoints={{endpoint}} {{raw:etcdctlTls}}').replace(/@@([A-Za-z][A-Za-z0-9_]*)@@/g, '{{$1}}');
  if (manifestPath) t = t.split(manifestPath).join('{{manifest}}');
  return t;
}

/**
 * The plan's lines for one step, as one command a step runs: lines joined by
 * `&&` (the plan is written for `set -e`; a step's command is not), line
 * continuations kept.
 */
function joinLines(lines: readonly string[]): string {
  return lines.join(' && ');
}

function planLines(step: RestoreStep): string[] {
  return step.command.split(/(?<!\\)\n/);
}

function planStep(plan: RestorePlan, kind: RestoreStep['kind']): RestoreStep {
  const s = plan.steps.find((x) => x.kind === kind);
  // A planner that stops writing one of these is a programming error, caught by the playbook tests at load.
  if (!s) throw new Error(`the restore planner has no ${kind} step`);
  return s;
}

/**
 * Stop etcd, wait until it is down, move the data dir aside, restore,
 * ownership, start, and prove it: the restore planner's commands for a
 * systemd unit (`{{unit}}`) or a kubeadm static pod (`{{manifest}}`), split
 * into the steps a session walks. `backupBeforeStop`/`backupBeforeStart`
 * name what the stop and start steps archive first (the unit's
 * EnvironmentFile, the manifest).
 */
export function restoreSteps(
  style: 'systemd' | 'static-pod',
  opts: { backupBeforeStop: string[]; backupBeforeStart: string[]; manifestPath?: string },
): PlaybookStep[] {
  const manifestPath = opts.manifestPath ?? '/etc/kubernetes/manifests/etcd.yaml';
  const plan = templatePlan(style, manifestPath);
  const tpl = (c: string) => asTemplate(c, style === 'static-pod' ? manifestPath : null);
  const stop = planStep(plan, 'stop');
  const stopLines = planLines(stop);
  // The stop's last line checks that etcd is down; a loop before it waits. The session has its own wait step for both.
  const stopCheck = stopLines[stopLines.length - 1]!;
  const stopActions = stopLines.slice(0, -1).filter((l) => !l.startsWith('for '));
  const start = planStep(plan, 'start');
  const verifyLines = planLines(planStep(plan, 'verify'));
  const health = verifyLines.find((l) => / endpoint health$/.test(l));
  const keys = verifyLines.find((l) => l.startsWith('echo "keys: '));
  if (!health || !keys) throw new Error("the restore planner's verify step has no health or key count line");
  const touchesOrUnit = (files: string[]) => (files.length ? files.map(tpl) : style === 'systemd' ? ['{{unit}}'] : ['{{manifest}}']);
  const ETCD_HEALTH = tpl(health);
  const KEY_COUNT = tpl(keys);
  /** A change that runs the plan's lines for `kind` and touches what the planner says they touch. */
  const planChange = (id: string, kind: RestoreStep['kind'], text: { title: BiText; body: BiText; risk: BiText }, backup: string[]): PlaybookStep => {
    const step = planStep(plan, kind);
    return change({ id, ...text, command: tpl(joinLines(planLines(step))), touches: step.filesTouched.map(tpl), backup });
  };
  return [
    change({
      id: 'stop-etcd',
      title: { en: 'Stop etcd', 'zh-CN': '停止 etcd' },
      body: {
        en: 'etcd must not run while its data directory is replaced.',
        'zh-CN': '替换数据目录时 etcd 不能运行。',
      },
      command: tpl(joinLines(stopActions)),
      touches: touchesOrUnit(stop.filesTouched),
      backup: opts.backupBeforeStop,
      risk: {
        en: 'The API server loses its datastore until the restore is done; the cluster is read-only or down meanwhile.',
        'zh-CN': '恢复完成前 API 服务器失去数据存储；期间集群只读或不可用。',
      },
    }),
    {
      id: 'wait-stopped',
      kind: 'wait',
      title: { en: 'Wait until etcd has stopped', 'zh-CN': '等待 etcd 停止' },
      body: { en: 'Polls until no etcd serves this data directory.', 'zh-CN': '轮询直到没有 etcd 使用此数据目录。' },
      command: tpl(stopCheck),
      sudo: true,
      expect: { exitCode: 0 },
      intervalSeconds: 1,
      timeoutSeconds: 120,
    },
    style === 'systemd'
      ? {
          id: 'owner',
          kind: 'probe',
          title: { en: 'Note who must own the data directory', 'zh-CN': '记录数据目录应有的属主' },
          body: {
            en: "The user the unit runs etcd as (its User= and Group=), else the old directory's owner: the restored directory must be theirs, or etcd cannot open it. A directory root owns under a unit with User=etcd (a restore by hand run with sudo) is given back to etcd.",
            'zh-CN':
              '单元运行 etcd 所用的用户（其 User= 与 Group=），没有时取旧目录的属主：恢复后的目录必须归其所有，否则 etcd 无法打开。若单元设有 User=etcd 而目录属于 root（用 sudo 手工恢复所致），则交还给 etcd。',
          },
          command: UNIT_OWNER_PROBE,
          sudo: true,
          expect: { exitCode: 0 },
          captures: OWNER_CAPTURES,
        }
      : {
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
          captures: OWNER_CAPTURES,
        },
    planChange(
      'move-aside',
      'move-aside',
      {
        title: { en: 'Move the old data directory aside', 'zh-CN': '将旧数据目录移到一旁' },
        body: {
          en: 'Nothing is deleted: the old directory stays next to the new one, named with this session, and a tar of it is kept in the backup directory first.',
          'zh-CN': '不删除任何内容：旧目录以本次会话命名保留在新目录旁，且事先在备份目录中保存其 tar 包。',
        },
        risk: {
          en: 'None to the data (it is moved, not deleted). If the disk is nearly full, the tar backup may not fit: check free space first.',
          'zh-CN': '对数据无风险（移动而非删除）。若磁盘将满，tar 备份可能放不下：请先检查剩余空间。',
        },
      },
      ['{{dataDir}}'],
    ),
    planChange(
      'restore',
      'restore',
      {
        title: { en: 'Restore the snapshot into a fresh data directory', 'zh-CN': '将快照恢复到新的数据目录' },
        body: {
          en: 'etcdctl checks the SHA-256 trailer again, writes a new member directory with this member name and the cluster flags from the unit or manifest.',
          'zh-CN': 'etcdctl 会再次检查 SHA-256 尾部，并使用单元或清单中的成员名与集群参数写出新的成员目录。',
        },
        risk: {
          en: 'Everything written after the backup was taken is not in it: those changes are lost unless the old directory is salvaged too.',
          'zh-CN': '备份之后写入的内容不在备份中：除非同时抢救旧目录，否则这些更改会丢失。',
        },
      },
      ['{{backup}}'],
    ),
    planChange(
      'chown',
      'ownership',
      {
        title: { en: 'Give the new directory to its owner', 'zh-CN': '将新目录交给其属主' },
        body: {
          en: 'The owner noted before the move ({{ownerUser}}:{{ownerGroup}}), mode 700, and the SELinux context of its place where SELinux is on.',
          'zh-CN': '移动前记录的属主（{{ownerUser}}:{{ownerGroup}}）、700 权限，以及启用 SELinux 时该位置的 SELinux 上下文。',
        },
        risk: { en: 'None beyond ownership of the new directory.', 'zh-CN': '仅影响新目录的属主。' },
      },
      ['{{dataDir}}'],
    ),
    change({
      id: 'start-etcd',
      title: { en: 'Start etcd', 'zh-CN': '启动 etcd' },
      body: { en: 'etcd starts on the restored directory.', 'zh-CN': 'etcd 在恢复后的目录上启动。' },
      command: tpl(joinLines(planLines(start))),
      touches: touchesOrUnit(start.filesTouched),
      backup: opts.backupBeforeStart,
      risk: {
        en: 'If the flags do not match the restored membership, etcd refuses to start; the old directory is still there to go back to.',
        'zh-CN': '若参数与恢复后的成员关系不符，etcd 将拒绝启动；旧目录仍在，可随时退回。',
      },
    }),
    {
      id: 'wait-healthy',
      kind: 'wait',
      title: { en: 'Wait until etcd is healthy', 'zh-CN': '等待 etcd 健康' },
      body: { en: 'etcdctl endpoint health, with the TLS flags from the configuration.', 'zh-CN': '使用配置中的 TLS 参数运行 etcdctl endpoint health。' },
      command: ETCD_HEALTH,
      sudo: true,
      expect: { outputMatches: 'is healthy' },
      intervalSeconds: 2,
      timeoutSeconds: 120,
    },
    {
      id: 'count-keys',
      kind: 'verify',
      title: { en: 'Count the keys etcd serves', 'zh-CN': '统计 etcd 提供的键数量' },
      body: {
        en: 'Counts the keys the restored member serves: it passes when there is at least one. Whether that is every key of the backup is not checked here; compare the count with what the cluster had.',
        'zh-CN': '统计恢复后的成员提供的键数量：至少有一个即通过。此处不核对是否为备份中的全部键；请将数量与集群原有的数量比较。',
      },
      command: KEY_COUNT,
      sudo: true,
      expect: { outputMatches: '^keys: [1-9]\\d*$' },
      captures: { keyCount: '^keys: (\\d+)$' },
    },
    {
      id: 'kubectl-nodes',
      kind: 'verify',
      title: { en: 'Check the cluster answers', 'zh-CN': '检查集群是否响应' },
      body: {
        en: 'kubectl get nodes through the API server. Skip with a reason where kubectl is not on this node.',
        'zh-CN': '通过 API 服务器运行 kubectl get nodes。若本节点没有 kubectl，请注明原因后跳过。',
      },
      // kubectl waits for ever on an API server that accepts and never answers (no default request timeout).
      command: 'kubectl --kubeconfig /etc/kubernetes/admin.conf --request-timeout=30s get nodes',
      sudo: true,
      expect: { exitCode: 0 },
      next: 'end',
    },
  ];
}

/**
 * The end every restore playbook shares: decompress a newer compressed backup where the node card found one, check the backup, the restore steps
 * for `style` (the stop and start steps archive `configFile` first: the
 * unit's EnvironmentFile or the manifest), and where a bad backup leads.
 */
export function restoreTail(style: 'systemd' | 'static-pod', configFile: string): PlaybookStep[] {
  return [decompressBackupStep, checkBackupStep, ...restoreSteps(style, { backupBeforeStop: [configFile], backupBeforeStart: [configFile] }), backupBadStep];
}
