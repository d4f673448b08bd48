/** Start screen: drop zone, folder picker, listing, samples. */
import { defineCatalog } from './types';

export default defineCatalog(
  {
    'home.title': 'What broke? Show me the data directory.',
    'home.lead':
      'Lifeboat reads a copy of a dqlite (MicroK8s) or etcd data directory, tells you whether the datastore would start, what it would silently drop, and the exact steps to recover — before you touch the node.',
    'home.drop.title': 'Drop a data directory or file here',
    'home.drop.examples': 'For MicroK8s: a copy of /var/snap/microk8s/current/var/kubernetes/backend/',
    'home.drop.readOnly': 'Files are only read, in this window. Nothing is uploaded or changed.',
    'home.drop.empty': 'Nothing readable was dropped. Drop the folder itself, or use “Open folder…”.',
    'home.drop.readFailed': 'Could not read what was dropped: {error}. Try “Open folder…” instead.',
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
      'Check that you picked the data directory itself (the folder holding metadata1 and the segment files). If it keeps failing, run `lifeboat validate <dir>` on the node and attach its output.',
    'home.safety':
      'Before any repair: stop the service and copy the whole directory. Starting dqlite changes files (open segments are closed or truncated, damaged ones renamed).',
  },
  {
    'home.title': '哪里坏了？把数据目录交给我看看。',
    'home.lead':
      'Lifeboat 读取 dqlite（MicroK8s）或 etcd 数据目录的副本，告诉你数据库能否启动、启动时会悄悄丢掉哪些数据，并给出精确的恢复步骤——在你动节点之前。',
    'home.drop.title': '把数据目录或文件拖到这里',
    'home.drop.examples': 'MicroK8s：拷贝 /var/snap/microk8s/current/var/kubernetes/backend/ 目录',
    'home.drop.readOnly': '文件只在本窗口内读取，不会上传，也不会被修改。',
    'home.drop.empty': '拖入的内容无法读取。请直接拖入目录本身，或点击“打开目录…”。',
    'home.drop.readFailed': '无法读取拖入的内容：{error}。请改用“打开目录…”。',
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
      '请确认选中的是数据目录本身（包含 metadata1 和各个 segment 文件的那个目录）。如果仍然失败，请在节点上运行 `lifeboat validate <目录>` 并附上输出。',
    'home.safety': '修复之前：先停掉服务，并完整备份整个目录。启动 dqlite 会改动文件（open segment 会被关闭或截断，损坏的文件会被改名）。',
  },
);
