/** Start screen: drop zone, folder picker, listing, samples. */
import { defineCatalog } from './types';

export default defineCatalog(
  {
    'home.title': 'What broke? Show me the data directory.',
    'home.lead':
      'Lifeboat reads a copy of a dqlite (MicroK8s) or etcd data directory, tells you whether the datastore would start, what it would silently drop, and the exact steps to recover — before you touch the node.',
    'home.drop.title': 'Drop a data directory or file here',
    'home.drop.examples': 'A copy of etcd’s data directory (the folder holding member/), a snapshot.db backup, or MicroK8s’s backend folder.',
    'home.drop.readOnly': 'Files are only read, in this window. Nothing is uploaded or changed.',
    'home.drop.empty': 'Nothing readable was dropped. Drop the folder itself, or use “Open folder…”.',
    'home.drop.readFailed': 'Could not read what was dropped: {error}. Try “Open folder…” instead.',
    'home.where.title': 'Where is the data directory?',
    'home.where.kubeadm': 'kubeadm (etcd as a static pod)',
    'home.where.kubeadm.note': 'The folder that holds `member/`; `--data-dir` in `/etc/kubernetes/manifests/etcd.yaml` says if it was moved.',
    'home.where.systemd': 'etcd under systemd (KubeKey, hand-made)',
    'home.where.systemd.note':
      '`ETCD_DATA_DIR` in the unit’s EnvironmentFile (often `/etc/etcd.env`) or `--data-dir` in the unit: `systemctl cat etcd` shows both.',
    'home.where.kind': 'kind (Kubernetes in Docker)',
    'home.where.kind.note': 'Inside each control-plane container: `docker cp kind-control-plane:/var/lib/etcd ./etcd-copy`.',
    'home.where.backups': 'etcd backups',
    'home.where.backups.note':
      '`snapshot.db` files written by `etcdctl snapshot save` (KubeKey: `/var/backups/kube_etcd/etcd-DATE/snapshot.db`): open the file itself.',
    'home.where.microk8s': 'MicroK8s (dqlite)',
    'home.where.microk8s.note': 'The folder that holds `metadata1`, the segment files and the snapshots.',
    'home.where.k3s': 'k3s, RKE2',
    'home.where.k3s.note':
      "`state.db` (SQLite, k3s's default) or `etcd/` (embedded etcd, holds `member/`); RKE2 under `/var/lib/rancher/rke2/server/db/`. Their own etcd snapshots are in `snapshots/` beside it: open one as a file.",
    'home.where.copy':
      'Copy it with the service stopped, or let Lifeboat read it in place or copy it off over SSH (Nodes (SSH)): the copy is checked with SHA-256 on both ends, and a directory still being written is refused.',
    'home.connect': 'Recover on the node…',
    'home.connect.hint':
      'The node still answers SSH, or it is this machine (kind on this laptop)? Lifeboat finds what runs there (etcd unit or static pod, MicroK8s, k3s, kind’s node containers), its data directory and backups, and walks the recovery beside a terminal.',
    'home.openFolder': 'Open folder…',
    'home.openFile': 'Open a single file…',
    'home.pasteListing': 'Paste a listing…',
    'home.pasteListing.hint': 'No copy of the files yet? Paste the output of ls -l to see what the loader would do and which files to copy out.',
    'home.samples.title': 'Open a sample',
    'home.samples.lead': 'Real directories written by the engines themselves (dqlite, etcd 3.4), some damaged the way field reports describe.',
    'home.samples.open': 'Open sample: {title}',
    'home.samples.none': 'No samples are installed.',
    'home.samples.unavailable': 'Samples need the Lifeboat back end (desktop app or `lifeboat serve`).',
    'home.running.title': 'Validating {name}',
    'home.notice.cancelled': 'Validation cancelled. Nothing was changed.',
    'home.notice.failed': 'Validation stopped with an error.',
    'home.notice.sampleFailed': 'Could not open the sample.',
    'home.notice.next':
      'Check that you picked the data directory itself (etcd: the folder holding member/; MicroK8s: the one holding metadata1 and the segment files). If it keeps failing, run `lifeboat validate <dir>` on the node and attach its output.',
    'home.safety':
      'Before any repair: stop the service and copy the whole directory. Starting the engine changes files: dqlite closes or truncates open segments and renames damaged ones; etcd cuts a torn WAL tail (keeping a .broken copy), renames an unreadable .snap to .broken, writes to its db and purges .snap and .wal files beyond its keep limits.',
  },
  {
    'home.title': '哪里坏了？把数据目录交给我看看。',
    'home.lead':
      'Lifeboat 读取 dqlite（MicroK8s）或 etcd 数据目录的副本，告诉你数据库能否启动、启动时会悄悄丢掉哪些数据，并给出精确的恢复步骤——在你动节点之前。',
    'home.drop.title': '把数据目录或文件拖到这里',
    'home.drop.examples': 'etcd 数据目录的副本（包含 member/ 的那个目录）、snapshot.db 备份，或 MicroK8s 的 backend 目录。',
    'home.drop.readOnly': '文件只在本窗口内读取，不会上传，也不会被修改。',
    'home.drop.empty': '拖入的内容无法读取。请直接拖入目录本身，或点击“打开目录…”。',
    'home.drop.readFailed': '无法读取拖入的内容：{error}。请改用“打开目录…”。',
    'home.where.title': '数据目录在哪里？',
    'home.where.kubeadm': 'kubeadm（etcd 以静态 Pod 运行）',
    'home.where.kubeadm.note': '包含 `member/` 的那个目录；如果挪过位置，看 `/etc/kubernetes/manifests/etcd.yaml` 里的 `--data-dir`。',
    'home.where.systemd': 'systemd 管理的 etcd（KubeKey、手工部署）',
    'home.where.systemd.note':
      '单元 EnvironmentFile（常见为 `/etc/etcd.env`）里的 `ETCD_DATA_DIR`，或单元里的 `--data-dir`：`systemctl cat etcd` 两者都能看到。',
    'home.where.kind': 'kind（在 Docker 里运行的 Kubernetes）',
    'home.where.kind.note': '在每个控制面容器里：`docker cp kind-control-plane:/var/lib/etcd ./etcd-copy`。',
    'home.where.backups': 'etcd 备份',
    'home.where.backups.note':
      '`etcdctl snapshot save` 写出的 `snapshot.db` 文件（KubeKey：`/var/backups/kube_etcd/etcd-日期/snapshot.db`）：直接打开这个文件。',
    'home.where.microk8s': 'MicroK8s（dqlite）',
    'home.where.microk8s.note': '包含 `metadata1`、各个 segment 文件和 snapshot 的那个目录。',
    'home.where.k3s': 'k3s、RKE2',
    'home.where.k3s.note':
      '`state.db`（SQLite，k3s 的默认）或 `etcd/`（内嵌 etcd，其中有 `member/`）；RKE2 在 `/var/lib/rancher/rke2/server/db/` 下。它们自己的 etcd 快照在旁边的 `snapshots/` 里：把快照当作文件打开。',
    'home.where.copy': '拷贝前先停掉服务；或者让 Lifeboat 通过 SSH（“节点 (SSH)”）原地读取或拷出：拷贝两端都用 SHA-256 校验，仍在写入的目录会被拒绝。',
    'home.connect': '在节点上恢复…',
    'home.connect.hint':
      '节点还能 SSH 登录，或者就是本机（这台笔记本上的 kind）？Lifeboat 会找出上面运行的是什么（etcd 单元或静态 Pod、MicroK8s、k3s、kind 的节点容器）、数据目录和备份在哪里，并在终端旁一步步带你恢复。',
    'home.openFolder': '打开目录…',
    'home.openFile': '打开单个文件…',
    'home.pasteListing': '粘贴文件列表…',
    'home.pasteListing.hint': '还没拷出文件？先粘贴 ls -l 的输出，看看加载器会怎么处理、需要拷出哪些文件。',
    'home.samples.title': '打开示例',
    'home.samples.lead': '由引擎本身（dqlite、etcd 3.4）真实写出的目录，其中一些按故障报告中的方式做了损坏。',
    'home.samples.open': '打开示例：{title}',
    'home.samples.none': '没有安装示例。',
    'home.samples.unavailable': '示例需要 Lifeboat 后端（桌面应用或 `lifeboat serve`）。',
    'home.running.title': '正在校验 {name}',
    'home.notice.cancelled': '已取消校验，没有修改任何文件。',
    'home.notice.failed': '校验因错误而中止。',
    'home.notice.sampleFailed': '无法打开示例。',
    'home.notice.next':
      '请确认选中的是数据目录本身（etcd：包含 member/ 的那个目录；MicroK8s：包含 metadata1 和各个 segment 文件的那个目录）。如果仍然失败，请在节点上运行 `lifeboat validate <目录>` 并附上输出。',
    'home.safety':
      '修复之前：先停掉服务，并完整备份整个目录。启动引擎会改动文件：dqlite 会关闭或截断 open segment，并给损坏的文件改名；etcd 会截掉 WAL 末尾写了一半的记录（留一份 .broken 副本）、把读不了的 .snap 改名为 .broken、写入 db，并清理超出保留数量的 .snap 和 .wal 文件。',
  },
);
