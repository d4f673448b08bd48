/**
 * The single-member restore plan's words (shared/formats/etcd/restore-plan.ts):
 * step titles, explanations and risks in English and Simplified Chinese. The
 * planner writes its English `explanation` / `risk` from these templates, and
 * carries `titleText`, `explanationText` and `riskLocal` so a UI or guided
 * session shows the step in its language. Paths, unit names, URLs and tokens
 * are params; commands and flags stay in backticks. The member configuration's
 * problems (`problemTexts`) and a source that is a description rather than a
 * path (`sourceLabels`) are here too.
 */
import { defineCatalog } from './types';

const en = {
  'etcd-plan.title.check': 'Check the snapshot',
  'etcd-plan.title.stop': 'Stop etcd',
  'etcd-plan.title.move-aside': 'Move the old data dir aside',
  'etcd-plan.title.restore': 'Restore the snapshot',
  'etcd-plan.title.ownership': 'Set owner, mode and SELinux context',
  'etcd-plan.title.start': 'Start etcd',
  'etcd-plan.title.verify': 'Prove it worked',
  'etcd-plan.check':
    'Check the snapshot before anything is stopped: {tool} reads it and prints its hash, revision and key count (a snapshot it cannot read stops the plan here, with nothing changed).',
  'etcd-plan.stop.static-pod':
    'Stop etcd: the kubelet runs it from the static pod manifest {manifest}; moving the manifest out of {manifests} makes the kubelet stop the pod (the kube-apiserver loses its datastore until the restore is done). The manifest is parked in {parked}, not deleted. The loop waits until no etcd container runs.',
  'etcd-plan.stop.systemd': 'Stop etcd: it runs as the systemd unit {unit}.',
  'etcd-plan.risk.control-plane-down': 'The control plane is down from here until etcd starts again.',
  'etcd-plan.move-aside':
    'Move the old data dir aside to {aside} (never deleted: it is evidence, and the way back). `snapshot restore` refuses to write into an existing data dir.',
  'etcd-plan.risk.move-aside': 'If the move fails half-way, {dataDir} may be partly in both places; nothing is deleted.',
  'etcd-plan.restore':
    "Restore the snapshot into a new data dir with this member's identity from {sources}: name {name}, peer URL {peer}{token}. The hash in the snapshot is checked (no --skip-hash-check).{members}",
  'etcd-plan.restore.sources': '{src}',
  'etcd-plan.restore.sources.given': 'the given configuration',
  'etcd-plan.restore.sources.report': 'the validation report (WAL member ID, members bucket)',
  'etcd-plan.restore.sources.reportDb': "the validation report (the db's members bucket)",
  'etcd-plan.restore.peer': '{url}',
  'etcd-plan.restore.peer.default': '(default)',
  'etcd-plan.restore.token': ', cluster token {clusterToken}',
  'etcd-plan.restore.members':
    ' The cluster has {count} members: run the same restore on every member (with its own --name and --initial-advertise-peer-urls, the same --initial-cluster and token) before starting any of them.',
  'etcd-plan.risk.restore': 'None to the old data (it is aside); a failed restore leaves a partial new data dir to move away before retrying.',
  'etcd-plan.ownership':
    'Give the new data dir the owner and mode etcd expects (the same owner as the old one, mode 700) and the SELinux context of its location, so etcd can open it.',
  'etcd-plan.ownership.unit-user':
    'Give the new data dir to {user}, the user {unit} runs etcd as (User=), with mode 700 and the SELinux context of its location, so etcd can open it (etcdctl wrote it as root).',
  'etcd-plan.start.static-pod': 'Start etcd again: put the manifest back; the kubelet starts the pod on the restored data dir.',
  'etcd-plan.risk.start.static-pod': 'If etcd does not come up, move the manifest out again and look at `crictl logs` of the etcd container.',
  'etcd-plan.start.systemd': 'Start etcd again (unit {unit}).',
  'etcd-plan.risk.start.systemd': 'If etcd does not come up, `journalctl -u {unit}` says why; the old data dir is still aside.',
  'etcd-plan.verify':
    'Prove it worked: etcd answers healthy on {endpoint} (TLS flags from the same configuration), serves the keys{atLeast}, and Kubernetes sees its nodes.',
  'etcd-plan.verify.at-least': ' (at least {count})',
  'etcd-plan.problem.no-data-dir': 'no --data-dir / ETCD_DATA_DIR found: etcd would use "<name>.etcd" in its working directory; name the data dir explicitly',
  'etcd-plan.problem.no-peer-urls': 'no --initial-advertise-peer-urls found: the restored member would advertise http://localhost:2380',
  'etcd-plan.problem.manifest-too-large': '{file} is larger than {max} bytes; not a static pod manifest',
  'etcd-plan.problem.manifest-yaml': '{file} is not valid YAML: {error}',
  'etcd-plan.problem.manifest-no-containers': '{file} has no containers; not an etcd static pod manifest',
  'etcd-plan.problem.unit-too-large': '{unit} is larger than {max} bytes; not a unit file',
  'etcd-plan.problem.env-file-missing': 'the unit reads {file}, which was not provided: flags set there are unknown',
};

const zh: Record<keyof typeof en, string> = {
  'etcd-plan.title.check': '检查快照',
  'etcd-plan.title.stop': '停止 etcd',
  'etcd-plan.title.move-aside': '把旧数据目录移到一边',
  'etcd-plan.title.restore': '恢复快照',
  'etcd-plan.title.ownership': '设置属主、权限和 SELinux 上下文',
  'etcd-plan.title.start': '启动 etcd',
  'etcd-plan.title.verify': '确认恢复成功',
  'etcd-plan.check': '在停止任何服务之前先检查快照：{tool} 读取它并打印其哈希、修订版本和键数（如果无法读取快照，计划就停在这里，什么都不会改变）。',
  'etcd-plan.stop.static-pod':
    '停止 etcd：kubelet 根据静态 Pod 清单 {manifest} 运行它；把清单移出 {manifests} 后 kubelet 会停止该 Pod（在恢复完成之前，kube-apiserver 没有可用的数据存储）。清单被暂存到 {parked}，不会被删除。循环会一直等到没有 etcd 容器在运行。',
  'etcd-plan.stop.systemd': '停止 etcd：它作为 systemd 单元 {unit} 运行。',
  'etcd-plan.risk.control-plane-down': '从这里开始，控制平面将不可用，直到 etcd 再次启动。',
  'etcd-plan.move-aside': '把旧数据目录移到 {aside}（绝不删除：它是证据，也是回退的途径）。`snapshot restore` 拒绝写入已存在的数据目录。',
  'etcd-plan.risk.move-aside': '如果移动中途失败，{dataDir} 可能一部分在原处、一部分在新位置；不会删除任何内容。',
  'etcd-plan.restore':
    '把快照恢复到新的数据目录，使用本成员的身份（来自 {sources}）：名称 {name}，peer URL {peer}{token}。会校验快照中的哈希（不加 --skip-hash-check）。{members}',
  'etcd-plan.restore.sources': '{src}',
  'etcd-plan.restore.sources.given': '给定的配置',
  'etcd-plan.restore.sources.report': '校验报告中的 WAL 成员 ID 和 db 成员桶',
  'etcd-plan.restore.sources.reportDb': '校验报告中的 db 成员桶',
  'etcd-plan.restore.peer': '{url}',
  'etcd-plan.restore.peer.default': '（默认值）',
  'etcd-plan.restore.token': '，集群令牌 {clusterToken}',
  'etcd-plan.restore.members':
    '集群有 {count} 个成员：在启动任何成员之前，对每个成员执行同样的恢复（各自使用自己的 --name 和 --initial-advertise-peer-urls，使用相同的 --initial-cluster 和令牌）。',
  'etcd-plan.risk.restore': '对旧数据没有风险（它已被移开）；恢复失败会留下不完整的新数据目录，重试前需要先把它移开。',
  'etcd-plan.ownership': '给新数据目录设置 etcd 需要的属主和权限（与旧目录相同的属主，权限 700），以及所在位置的 SELinux 上下文，使 etcd 能打开它。',
  'etcd-plan.ownership.unit-user':
    '把新数据目录交给 {user}（{unit} 中指定的运行 etcd 的用户），权限 700，并设置所在位置的 SELinux 上下文，使 etcd 能打开它（etcdctl 以超级用户身份写入了它）。',
  'etcd-plan.start.static-pod': '重新启动 etcd：把清单放回原处；kubelet 会在恢复后的数据目录上启动该 Pod。',
  'etcd-plan.risk.start.static-pod': '如果 etcd 没有起来，请再次把清单移出，并查看 etcd 容器的 `crictl logs`。',
  'etcd-plan.start.systemd': '重新启动 etcd（单元 {unit}）。',
  'etcd-plan.risk.start.systemd': '如果 etcd 没有起来，`journalctl -u {unit}` 会说明原因；旧数据目录仍在一边保留着。',
  'etcd-plan.verify': '确认恢复成功：etcd 在 {endpoint} 上报告健康（TLS 参数取自同一配置），能提供这些键{atLeast}，并且 Kubernetes 能看到它的节点。',
  'etcd-plan.verify.at-least': '（至少 {count} 个）',
  'etcd-plan.problem.no-data-dir': '未找到 --data-dir 或 `ETCD_DATA_DIR`：etcd 会使用其工作目录中的 `<name>.etcd`；请明确指定数据目录',
  'etcd-plan.problem.no-peer-urls': '未找到 --initial-advertise-peer-urls：恢复后的成员会通告 `http://localhost:2380`',
  'etcd-plan.problem.manifest-too-large': '{file} 大于 {max} 字节，不是静态 Pod 清单',
  'etcd-plan.problem.manifest-yaml': '{file} 不是有效的 YAML：“{error}”',
  'etcd-plan.problem.manifest-no-containers': '{file} 中没有容器，不是 etcd 的静态 Pod 清单',
  'etcd-plan.problem.unit-too-large': '{unit} 大于 {max} 字节，不是单元文件',
  'etcd-plan.problem.env-file-missing': '该单元读取 {file}，但没有提供这个文件：其中设置的参数未知',
};

export type EtcdPlanTextKey = keyof typeof en;

export default defineCatalog(en, zh);
