/**
 * The words of a restore plan as a script and the multi-member plan's
 * problems, in English and Simplified Chinese: the comments of "copy as
 * script" (planAsScript, clusterPlanAsText: the commands are never
 * translated) and what keeps a cluster plan (restore-plan-cluster.ts) from
 * being complete. The English is what the CLI printed before these templates;
 * names, flags, URLs and commands are params or stay in backticks.
 */
import { defineCatalog } from './types';

const en = {
  // planAsScript: one member. `{kind}` names the step (or the plan): the kind as the JSON names it in English, its title in Chinese.
  'etcd-script.header': 'Restore plan written by Lifeboat. Run as root on the node.',
  'etcd-script.step': 'Step {n} ({kind}): {explanation}',
  // clusterPlanAsText: several members, each step names the member it runs on.
  'etcd-script.cluster.header': '{kind} plan written by Lifeboat. Run each step as root on the member it names, in order.',
  'etcd-script.cluster.step': 'Step {n} ({kind}) on {node}: {explanation}',
  'etcd-script.cluster.poll': 'repeat until the output matches /{pattern}/ (up to {seconds} s)',
  'etcd-script.cluster.backup': 'back up first: {paths}',
  'etcd-script.cluster.risk': 'could get worse: {risk}',
  'etcd-script.cluster.problem': 'PROBLEM: {problem}',
  // The kind of a cluster plan, filled into the Chinese header (the English names the kind as the JSON does).
  'etcd-cluster.kind.member-replace': 'member-replace',
  'etcd-cluster.kind.force-new-cluster': 'force-new-cluster',
  'etcd-cluster.kind.cluster-restore': 'cluster-restore',
  // What keeps a cluster plan from being complete.
  'etcd-cluster.problem.no-peer-url': 'no peer URL for {name} (--initial-advertise-peer-urls): member add needs it',
  'etcd-cluster.problem.no-initial-cluster': 'no --initial-cluster for {name}: use the one `member add` prints',
  'etcd-cluster.problem.keep-not-planned': 'the members table keeps {keep}, which is none of the planned members',
  'etcd-cluster.problem.keep-none': 'the members table keeps no member ({reason}): salvage a data dir first',
  'etcd-cluster.problem.no-survivor': 'no survivor chosen: compare the members (lifeboat validate A B C) or name one',
  'etcd-cluster.problem.names-repeat': 'member names repeat ({names}): every member needs its own --name',
  'etcd-cluster.problem.tokens-differ': 'the members name different --initial-cluster-token values ({tokens}): the restore uses {token}',
  /** A member's own problem (a nested sentence), prefixed with its name. */
  'etcd-cluster.problem.of-member': '{member}: {problem}',
  /** A problem only known in English (no catalog sentence): shown as it is. */
  'etcd-cluster.problem.as-is': '{text}',
};

const zh: Record<keyof typeof en, string> = {
  'etcd-script.header': 'Lifeboat 生成的恢复计划。请在该节点上以 root 身份运行。',
  'etcd-script.step': '第 {n} 步（{kind}）：{explanation}',
  'etcd-script.cluster.header': 'Lifeboat 生成的{kind}计划。请按顺序，在每一步指明的成员上以 root 身份运行。',
  'etcd-script.cluster.step': '第 {n} 步（{kind}），在 {node} 上运行：{explanation}',
  'etcd-script.cluster.poll': '重复运行，直到输出匹配 /{pattern}/（最多 {seconds} 秒）',
  'etcd-script.cluster.backup': '先备份：{paths}',
  'etcd-script.cluster.risk': '可能变糟的情况：{risk}',
  'etcd-script.cluster.problem': '问题：{problem}',
  'etcd-cluster.kind.member-replace': '替换成员',
  'etcd-cluster.kind.force-new-cluster': '强制新建集群',
  'etcd-cluster.kind.cluster-restore': '整个集群恢复',
  'etcd-cluster.problem.no-peer-url': '没有 {name} 的 peer URL（--initial-advertise-peer-urls）：`member add` 需要它',
  'etcd-cluster.problem.no-initial-cluster': '没有 {name} 的 --initial-cluster：请使用 `member add` 打印的那一个',
  'etcd-cluster.problem.keep-not-planned': '成员对比表保留的是 {keep}，但它不在计划的成员之中',
  'etcd-cluster.problem.keep-none': '成员对比表没有保留任何成员（{reason}）：请先抢救一个数据目录',
  'etcd-cluster.problem.no-survivor': '没有选定幸存成员：请对比各成员（`lifeboat validate A B C`）或指定一个',
  'etcd-cluster.problem.names-repeat': '成员名称重复（{names}）：每个成员都需要自己的 --name',
  'etcd-cluster.problem.tokens-differ': '各成员的 --initial-cluster-token 不同（{tokens}）：恢复时使用 {token}',
  'etcd-cluster.problem.of-member': '{member}：{problem}',
  'etcd-cluster.problem.as-is': '{text}',
};

export type EtcdClusterPlanTextKey = keyof typeof en;

export default defineCatalog(en, zh);
