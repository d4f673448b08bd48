/**
 * Small builders for the pieces several playbooks share, so that each is
 * written once: explain steps, the "how does etcd run here" and "is this the
 * member with the newest data" decisions, sudo change steps (what they touch,
 * what is archived first, what could get worse), and the node-card variables
 * the etcd playbooks have in common. Playbooks stay data: every builder
 * returns a plain step or variable list.
 */
import type { BiText, Playbook, PlaybookStep } from '../../contract/guided';

export const explain = (id: string, en: [string, string], zh: [string, string], extra: Partial<PlaybookStep> = {}): PlaybookStep => ({
  id,
  kind: 'explain',
  title: { en: en[0], 'zh-CN': zh[0] },
  body: { en: en[1], 'zh-CN': zh[1] },
  ...extra,
});

/** A change run through sudo, with the node paths it touches, those archived before it runs, and its risk. */
export const change = (s: { id: string; title: BiText; body: BiText; command: string; touches: string[]; backup: string[]; risk: BiText }): PlaybookStep => ({
  id: s.id,
  kind: 'change',
  title: s.title,
  body: s.body,
  command: s.command,
  sudo: true,
  touches: s.touches,
  backup: s.backup,
  risk: s.risk,
});

/** The systemd unit or static pod choice: `systemd` and `staticPod` are the first steps of each chain. */
export const styleDecision = (id: string, systemd: string, staticPod: string): PlaybookStep => ({
  id,
  kind: 'decision',
  title: { en: 'How does etcd run on this node?', 'zh-CN': '此节点上的 etcd 如何运行？' },
  body: {
    en: 'The node card says: a systemd unit ({{unit}}) or a static pod manifest ({{manifest}}).',
    'zh-CN': '见节点卡片：systemd 单元（{{unit}}）或静态 Pod 清单（{{manifest}}）。',
  },
  options: [
    { id: 'systemd', label: { en: 'systemd unit with an EnvironmentFile', 'zh-CN': '带 EnvironmentFile 的 systemd 单元' }, goto: systemd },
    { id: 'static-pod', label: { en: 'kubelet static pod (kubeadm, kind)', 'zh-CN': 'kubelet 静态 Pod（kubeadm、kind）' }, goto: staticPod },
  ],
});

/** Where a rebuild goes when this node is not the member with the newest data. */
export const DONE_ELSEWHERE = 'done-elsewhere';

/** Rebuild from this member (`rebuild`, the first step of the rebuild) or go to the member with the newest data. */
export const newestMemberDecision = (id: string, body: BiText, rebuild: string): PlaybookStep => ({
  id,
  kind: 'decision',
  title: { en: 'Is this the member with the newest data?', 'zh-CN': '这是数据最新的成员吗？' },
  body,
  options: [
    { id: 'yes', label: { en: 'Yes, rebuild from this member', 'zh-CN': '是，从此成员重建' }, goto: rebuild },
    { id: 'no', label: { en: 'No, it is another member', 'zh-CN': '否，是另一个成员' }, goto: DONE_ELSEWHERE },
  ],
});

/** The end of a rebuild started on the wrong node. */
export const doneElsewhereStep: PlaybookStep = explain(
  DONE_ELSEWHERE,
  ['Run this on the member with the newest data', 'Open a session on that node instead.'],
  ['请在数据最新的成员上执行', '请改为在该节点上打开会话。'],
  { next: 'end' },
);

type Variable = Playbook['variables'][number];

export const DATA_DIR_VAR: Variable = {
  name: 'dataDir',
  description: { en: 'etcd data directory on the node', 'zh-CN': '节点上的 etcd 数据目录' },
  from: 'datastore.dataDir',
};
export const MEMBER_NAME_VAR: Variable = {
  name: 'memberName',
  description: { en: 'etcd member name (--name)', 'zh-CN': 'etcd 成员名（--name）' },
  from: 'settings.name',
};
export const ETCDCTL_TLS_VAR: Variable = {
  name: 'etcdctlTls',
  description: { en: 'etcdctl TLS flags (--cacert/--cert/--key) from the configuration', 'zh-CN': '来自配置的 etcdctl TLS 参数（--cacert/--cert/--key）' },
  from: 'settings',
};
/** A systemd member's unit and its EnvironmentFile. */
export const UNIT_VARS: Playbook['variables'] = [
  { name: 'unit', description: { en: 'the etcd systemd unit', 'zh-CN': 'etcd 的 systemd 单元' }, from: 'datastore.unit' },
  { name: 'envFile', description: { en: 'its EnvironmentFile', 'zh-CN': '其 EnvironmentFile' }, from: 'datastore.envFile' },
];
/** A static pod member's manifest. */
export const MANIFEST_VARS: Playbook['variables'] = [
  { name: 'manifest', description: { en: 'the etcd static pod manifest', 'zh-CN': 'etcd 静态 Pod 清单' }, from: 'datastore.manifest' },
];
