/**
 * Repair and salvage from an etcd report (renderer/src/features/etcd-repair/):
 * the choice, where the output goes, what will be written, progress, and the
 * result with the restore plan's next step. English and Simplified Chinese.
 */
import { defineCatalog } from './types';

const en = {
  'etcdRepairUi.title': 'Repair or salvage',
  'etcdRepairUi.open': 'Repair or salvage…',
  'etcdRepairUi.close': 'Close',
  'etcdRepairUi.lead':
    'Bring the data back from this input: a restorable snapshot.db, a repaired copy of the data dir, or every object as a file. The input is only read, never changed.',
  'etcdRepairUi.needsBackend':
    'Files opened in the page are read by the browser only; repair and salvage need the back end to read them. Open the folder through “Nodes (SSH)” (validate in place, or copy out first), or run `lifeboat salvage PATH --snapshot FILE` on this machine.',
  'etcdRepairUi.mode.legend': 'What to write',
  'etcdRepairUi.mode.snapshot': 'Restorable snapshot.db',
  'etcdRepairUi.mode.snapshotHint':
    'Every readable key at its latest revision (WAL entries newer than the db replayed on top), with the SHA-256 trailer: `etcdctl snapshot restore` accepts it without --skip-hash-check.',
  'etcdRepairUi.mode.repair': 'Repaired data dir copy',
  'etcdRepairUi.mode.repairHint':
    'A new data dir etcd starts on: the older meta page when its tree is intact, else the db rebuilt from every readable leaf plus the WAL.',
  'etcdRepairUi.mode.export': 'Every object as a file',
  'etcdRepairUi.mode.exportHint': 'One file per object, by resource and namespace (JSON values as stored, protobuf with decoded metadata and the raw value).',
  'etcdRepairUi.format': 'Format',
  'etcdRepairUi.reads': 'Reads',
  'etcdRepairUi.readOnly': 'read-only: the input is never changed',
  'etcdRepairUi.remote': 'Read in place on the node ({how}); the output is written on this machine, not on the node.',
  'etcdRepairUi.remote.sftp': 'over SFTP',
  'etcdRepairUi.remote.sudo': 'as root through sudo',
  'etcdRepairUi.output': 'Output',
  'etcdRepairUi.output.file': 'New file (snapshot.db)',
  'etcdRepairUi.output.dir': 'New folder (must not exist, or be empty)',
  'etcdRepairUi.output.choose': 'Choose…',
  'etcdRepairUi.output.confined': 'Web mode writes only inside the copies folder: {root}',
  'etcdRepairUi.output.reset': 'Use the proposed path',
  'etcdRepairUi.writes.title': 'What will be written',
  'etcdRepairUi.writes.snapshot':
    '{out}: a new snapshot.db, written as {out}.lifeboat-part and renamed only when complete (an existing file is never overwritten)',
  'etcdRepairUi.writes.repair': '{out}/member/: a new data dir (wal/, snap/db)',
  'etcdRepairUi.writes.quarantine': '{out}.lifeboat-quarantine/: what is set aside (a damaged db, a torn WAL file as .broken)',
  'etcdRepairUi.writes.export': '{out}/<resource>/<namespace>/<name>.{ext}: one file per object; secrets and encrypted values with mode 0600',
  'etcdRepairUi.writes.never': 'Nothing is written to the input: it is opened read-only.',
  'etcdRepairUi.start.snapshot': 'Write snapshot.db',
  'etcdRepairUi.start.repair': 'Write repaired copy',
  'etcdRepairUi.start.export': 'Export objects',
  'etcdRepairUi.cancel': 'Cancel',
  'etcdRepairUi.running': 'Running…',
  'etcdRepairUi.phase.pages': 'Reading pages',
  'etcdRepairUi.phase.wal': 'Replaying the WAL',
  'etcdRepairUi.phase.other': 'Working',
  'etcdRepairUi.phase.opening': 'Reading the input',
  'etcdRepairUi.phase.writeDb': 'Writing the new db',
  'etcdRepairUi.walEntries': '{n} WAL entries',
  'etcdRepairUi.phase.objects': 'Writing one file per object',
  'etcdRepairUi.objectsWritten': '{n} of {total} objects',
  'etcdRepairUi.failed': 'It did not finish: {error}',
  'etcdRepairUi.cancelled': 'Cancelled. Nothing was deleted.',
  // Why the back end refused a plan or a start, by error code (the English message, with its paths, is shown in English).
  'etcdRepairUi.error.not-etcd': 'This validation is not of an etcd data directory or snapshot.db.',
  'etcdRepairUi.error.unknown-job': 'The back end no longer has this validation: open the input again.',
  'etcdRepairUi.error.unsupported':
    'Not possible here: in web mode there is no file dialog (type a path inside the copies folder), and repair needs a local data dir.',
  'etcdRepairUi.error.bad-params': 'The request was not understood: choose the mode and the output again.',
  'etcdRepairUi.error.forbidden':
    'This output is not allowed: in web mode the output goes only inside the copies folder, and never inside the input (the evidence is never written to).',
  'etcdRepairUi.error.exists':
    'The output already exists (or an earlier run left its part file or quarantine there): nothing is overwritten, choose a new name.',
  'etcdRepairUi.error.closed': 'The back end is shutting down.',
  'etcdRepairUi.error.busy': 'Too many repairs are running: wait for one to finish or cancel it.',
  'etcdRepairUi.error.unwritable':
    'The output folder cannot be made there (a missing or read-only path, a full disk, or a place such as /proc): choose another folder.',
  'etcdRepairUi.error.worker': 'The repair stopped with an error (the details below are the back end’s own text).',
  // An input repair or salvage refuses (EtcdInputError): the English is the CLI's message.
  'etcdRepairUi.input.notDataDir':
    '{input} is not an etcd data dir: it has no member/ directory (and no wal/ or snap/). Name the data dir (e.g. /var/lib/etcd), its member/ dir, a db file or a snapshot.db.',
  'etcdRepairUi.input.outputExists': '{output} exists; salvage never overwrites a file. Name a new file.',
  'etcdRepairUi.input.nothingToSalvage': '{input} holds neither a db (member/snap/db) nor WAL files: nothing to salvage.',
  'etcdRepairUi.input.loneSnapshot':
    '{input} is a lone snapshot.db; repair works on a data dir. Use `lifeboat salvage {input} --snapshot FILE` to turn it into a restorable snapshot.db.',
  'etcdRepairUi.input.loneDb':
    '{input} is a lone db file; repair works on a data dir. Use `lifeboat salvage {input} --snapshot FILE` to turn it into a restorable snapshot.db.',
  'etcdRepairUi.input.nothingToExport': '{input} holds neither a db nor WAL files: nothing to export.',
  'etcdRepairUi.input.archive':
    '{input} is a {kind} archive, not a db: the data directory may be inside. Extract it into a new folder ({command}) and salvage what it holds.',
  'etcdRepairUi.input.compressed':
    '{input} is {inner} compressed with {kind}, not a db itself. Decompress it into a new folder, keeping the original ({command}), and salvage the copy, {inner}.',
  'etcdRepairUi.input.sqlite':
    "{input} is a SQLite database (k3s keeps its state in one, via kine), not etcd's bbolt: there is no etcd snapshot.db to make from it. Back it up, check it with sqlite3, and write its objects out as files with `lifeboat salvage FILE --out DIR`.",
  'etcdRepairUi.input.readInPlace':
    '{input} is read in place on the node: a repaired data dir copy needs the whole directory here. Copy it out first (Nodes → Copy out), or salvage a snapshot.db from it in place.',
  'etcdRepairUi.partial': 'Left as it was when it stopped (not deleted): {path}',
  'etcdRepairUi.again': 'Start again',
  'etcdRepairUi.result.title': 'Result',
  'etcdRepairUi.result.written': 'Written: {path}',
  'etcdRepairUi.result.remote': 'The input was read in place on the node; this output is on this machine.',
  'etcdRepairUi.result.keys': 'Keys written',
  'etcdRepairUi.result.sources': 'Where they came from',
  'etcdRepairUi.source.tree': 'tree',
  'etcdRepairUi.source.orphaned-leaf': 'orphaned leaf',
  'etcdRepairUi.source.wal': 'WAL',
  'etcdRepairUi.result.revisions': 'Revisions',
  // "202..601 (older history marked compacted at 602)" read as if the keys themselves were compacted away.
  'etcdRepairUi.result.revisionRange':
    '{from}..{to}, each key at its newest revision; no older history: the snapshot is marked compacted at {compact}, so reads and watches from an earlier revision get "compacted"',
  'etcdRepairUi.result.walReplay': 'WAL replay',
  'etcdRepairUi.result.walReplayText': 'entries {from}..{to}: {applied} applied, {gap} filled what lost pages held',
  'etcdRepairUi.result.deleted': 'Deleted keys (not written)',
  'etcdRepairUi.result.leases': 'Leases',
  'etcdRepairUi.result.leasesText': '{written} written, {detached} keys detached from a lost lease',
  'etcdRepairUi.result.sha': 'SHA-256 (the trailer)',
  'etcdRepairUi.result.pages': 'Pages scanned',
  'etcdRepairUi.result.pagesText': '{scanned} ({leaf} leaf, {orphaned} not reached by the tree, {unreadable} unreadable)',
  'etcdRepairUi.result.nothingLost': 'Nothing lost: every key that was written is in the output.',
  'etcdRepairUi.result.lost': 'Lost ({n})',
  'etcdRepairUi.result.lostKey': 'key',
  'etcdRepairUi.result.lostRevisions': 'revisions',
  'etcdRepairUi.result.lostWhy': 'why',
  'etcdRepairUi.result.unknownKey': '(unknown key)',
  'etcdRepairUi.result.keyList': 'Keys and where each came from',
  'etcdRepairUi.result.keyListTruncated': 'The first {n} keys are listed (the rest are in the output).',
  'etcdRepairUi.result.key': 'Key',
  'etcdRepairUi.result.revision': 'Revision',
  'etcdRepairUi.result.source': 'From',
  'etcdRepairUi.result.size': 'Size',
  'etcdRepairUi.result.findings': 'What was found on the way',
  'etcdRepairUi.result.quarantine': 'Set aside (quarantine)',
  'etcdRepairUi.result.quarantineNone': 'Nothing set aside',
  'etcdRepairUi.result.dbStrategy': 'How the db came back',
  'etcdRepairUi.db.unchanged': 'intact: copied unchanged',
  'etcdRepairUi.db.revert-meta': 'the older meta page (its tree is intact); etcd re-applies newer writes from the WAL',
  'etcdRepairUi.db.rebuild': 'rebuilt from every readable leaf page and the WAL',
  'etcdRepairUi.db.none': 'no db',
  'etcdRepairUi.result.actions': 'What was done',
  'etcdRepairUi.result.objects': 'Objects written',
  'etcdRepairUi.result.secrets': 'Secrets and encrypted values (mode 0600)',
  'etcdRepairUi.result.resources': 'By resource',
  'etcdRepairUi.next.title': 'Next step: restore this snapshot on the node',
  'etcdRepairUi.next.lead':
    'Run these as root on the node, one step at a time; each says what it touches and what could get worse. The old data dir is moved aside, never deleted.',
  'etcdRepairUi.next.placeholders': 'Not known from this report: replace these before running',
  /** Between a placeholder and what it stands for. */
  'etcdRepairUi.next.placeholderSep': ': ',
  'etcdRepairUi.next.copyScript': 'Copy the whole plan as a script',
  'etcdRepairUi.next.step': 'Step {n}: {title}',
  'etcdRepairUi.next.files': 'Touches: {files}',
  'etcdRepairUi.next.risk': 'Could get worse: {risk}',
  'etcdRepairUi.next.repair':
    'Next step: stop etcd, move its data dir aside (never delete it), put this copy in its place with the same owner and mode, and start etcd.',
  'etcdRepairUi.placeholder.name': 'this member\'s name (--name; etcd\'s default is "default")',
  'etcdRepairUi.placeholder.peer': "this member's peer URL (--initial-advertise-peer-urls, e.g. https://10.0.0.5:2380)",
  'etcdRepairUi.placeholder.dataDir': "the member's data dir on the node (--data-dir; kubeadm: /var/lib/etcd)",
  'etcdRepairUi.placeholder.runStyle':
    'how etcd runs is not known: the stop and start steps use the systemd unit etcd.service; for a kubeadm static pod move /etc/kubernetes/manifests/etcd.yaml out and back instead',
  'etcdRepairUi.placeholder.tls':
    'client TLS is not known: add --cacert, --cert and --key to the checks when etcd serves https (kubeadm: /etc/kubernetes/pki/etcd/ca.crt, healthcheck-client.crt, healthcheck-client.key)',
  'etcdRepairUi.placeholder.snapshotOnNode': 'the snapshot was written here ({local}); copy it to the node as {node} first (e.g. scp)',
  'etcdRepairUi.refuse.repairRemote':
    'A repaired data dir copy needs the whole directory on this machine, and this one is read in place on the node: copy it out first (Nodes → Copy out), or salvage a snapshot.db or the objects from it in place.',
  'etcdRepairUi.refuse.repairFile':
    'A repaired data dir needs a data dir (with member/); this is a lone db or snapshot.db: salvage a snapshot.db from it instead.',
  'etcdRepairUi.placeholder.openedOnNode':
    'the snapshot.db checked here ({file}); copy it to the node as {node} first (e.g. scp), or put its path on the node here if it is there already',
  'etcdRepairUi.opened.title': 'Restore this snapshot.db',
  'etcdRepairUi.opened.lead':
    'Checked: its SHA-256 trailer matches and bbolt opens it, so `etcdctl snapshot restore` takes it as it is, with no salvage first. This is the plan a salvaged snapshot.db gets.',
  'etcdRepairUi.opened.refused':
    'No restore plan for this file as it is: `etcdctl snapshot restore` would refuse it (“{error}”). Salvage a restorable snapshot.db from it first (the Repair or salvage panel below, when the back end read the file, or `lifeboat salvage PATH --snapshot FILE`): the salvaged file comes with its restore plan.',
  'etcdRepairUi.next.distribution':
    "Next step: this db is a k3s or RKE2 server's ({keys} key(s) of their bootstrap data under /bootstrap/, kept in the snapshot), so restore the snapshot.db with the server's own reset, not `etcdctl snapshot restore`: copy it to the node (here `{file}`), stop the service (on the other servers too, their db dir moved aside), run `k3s server --cluster-reset --cluster-reset-restore-path={file}` (RKE2: `rke2 server …`) with the flags of the server's unit, then start the service. The node card (Guided recovery, Detect) gives the exact command line for the node.",
  'etcdRepairUi.opened.distribution':
    "Checked: its SHA-256 trailer matches and bbolt opens it. It is a k3s or RKE2 server's snapshot ({keys} key(s) of their bootstrap data under /bootstrap/), so it is restored with the server's own reset, not `etcdctl snapshot restore`: with the service stopped (and on the other servers too, their db dir moved aside), run `k3s server --cluster-reset --cluster-reset-restore-path={file}` (RKE2: `rke2 server --cluster-reset --cluster-reset-restore-path={file}`) with the flags of the server's unit, then start the service. The node card (Guided recovery, Detect) gives the exact command line for the node.",
  'etcdRepairUi.opened.noTrailer':
    'No restore plan for this file as it is: it is a bbolt db without the SHA-256 trailer `etcdctl snapshot save` adds, and `etcdctl snapshot restore` refuses that without --skip-hash-check. Salvage a snapshot.db from it first (the Repair or salvage panel below, when the back end read the file, or `lifeboat salvage PATH --snapshot FILE`): the salvaged file comes with its restore plan.',
};

const zh: Record<keyof typeof en, string> = {
  'etcdRepairUi.title': '修复或抢救',
  'etcdRepairUi.open': '修复或抢救…',
  'etcdRepairUi.close': '关闭',
  'etcdRepairUi.lead': '从这份输入把数据找回来：可恢复的 snapshot.db、数据目录的修复副本，或把每个对象导出为文件。输入只读，绝不修改。',
  'etcdRepairUi.needsBackend':
    '在页面中打开的文件只由浏览器读取；修复和抢救需要后端读取它们。请通过“节点（SSH）”打开该目录（原地校验，或先复制出来），或在本机运行 `lifeboat salvage PATH --snapshot FILE`。',
  'etcdRepairUi.mode.legend': '要写出什么',
  'etcdRepairUi.mode.snapshot': '可恢复的 snapshot.db',
  'etcdRepairUi.mode.snapshotHint':
    '每个可读的键取其最新修订版本（比 db 更新的 WAL 条目会重放在上面），并带 SHA-256 尾部：`etcdctl snapshot restore` 无需 --skip-hash-check 即可接受。',
  'etcdRepairUi.mode.repair': '修复后的数据目录副本',
  'etcdRepairUi.mode.repairHint': '一个 etcd 能启动的新数据目录：旧元数据页的树完好时使用它，否则用所有可读叶子页加 WAL 重建 db。',
  'etcdRepairUi.mode.export': '每个对象导出为文件',
  'etcdRepairUi.mode.exportHint': '每个对象一个文件，按资源和命名空间存放（JSON 值原样保存，protobuf 值附带解码后的元数据和原始值）。',
  'etcdRepairUi.format': '格式',
  'etcdRepairUi.reads': '读取',
  'etcdRepairUi.readOnly': '只读：输入绝不会被修改',
  'etcdRepairUi.remote': '在节点上原地读取（{how}）；输出写在本机，而不是节点上。',
  'etcdRepairUi.remote.sftp': '通过 SFTP',
  'etcdRepairUi.remote.sudo': '通过 sudo 以 root 身份',
  'etcdRepairUi.output': '输出',
  'etcdRepairUi.output.file': '新文件（snapshot.db）',
  'etcdRepairUi.output.dir': '新目录（必须不存在或为空）',
  'etcdRepairUi.output.choose': '选择…',
  'etcdRepairUi.output.confined': '网页模式只能写入副本目录之内：{root}',
  'etcdRepairUi.output.reset': '使用建议的路径',
  'etcdRepairUi.writes.title': '将写出的内容',
  'etcdRepairUi.writes.snapshot': '{out}：新的 snapshot.db，先写为 {out}.lifeboat-part，完成后才重命名（绝不覆盖已有文件）',
  'etcdRepairUi.writes.repair': '{out}/member/：新的数据目录（wal/、snap/db）',
  'etcdRepairUi.writes.quarantine': '{out}.lifeboat-quarantine/：被隔离的内容（损坏的 db、撕裂的 WAL 文件保存为 .broken）',
  'etcdRepairUi.writes.export': '{out}/<资源>/<命名空间>/<名称>.{ext}：每个对象一个文件；Secret 和加密值的权限为 0600',
  'etcdRepairUi.writes.never': '不会向输入写入任何内容：它以只读方式打开。',
  'etcdRepairUi.start.snapshot': '写出 snapshot.db',
  'etcdRepairUi.start.repair': '写出修复副本',
  'etcdRepairUi.start.export': '导出对象',
  'etcdRepairUi.cancel': '取消',
  'etcdRepairUi.running': '正在运行…',
  'etcdRepairUi.phase.pages': '正在读取页',
  'etcdRepairUi.phase.wal': '正在重放 WAL',
  'etcdRepairUi.phase.other': '处理中',
  'etcdRepairUi.phase.opening': '正在读取输入',
  'etcdRepairUi.phase.writeDb': '正在写新的 db',
  'etcdRepairUi.walEntries': '{n} 条 WAL 条目',
  'etcdRepairUi.phase.objects': '正在为每个对象写一个文件',
  'etcdRepairUi.objectsWritten': '已写 {n} / {total} 个对象',
  'etcdRepairUi.failed': '未能完成：{error}',
  'etcdRepairUi.cancelled': '已取消。没有删除任何内容。',
  'etcdRepairUi.error.not-etcd': '这次校验的不是 etcd 数据目录或 snapshot.db。',
  'etcdRepairUi.error.unknown-job': '后端已不再保留这次校验：请重新打开输入。',
  'etcdRepairUi.error.unsupported': '此处无法这样做：网页模式下没有文件对话框（请在副本文件夹内输入路径），修复需要本机上的数据目录。',
  'etcdRepairUi.error.bad-params': '无法理解该请求：请重新选择模式和输出位置。',
  'etcdRepairUi.error.forbidden': '不允许使用这个输出位置：网页模式下输出只能放在副本文件夹内，并且绝不能放在输入之内（证据永远不会被写入）。',
  'etcdRepairUi.error.exists': '输出位置已存在（或者之前的运行在那里留下了未完成文件或隔离目录）：不会覆盖任何内容，请换一个新名称。',
  'etcdRepairUi.error.closed': '后端正在关闭。',
  'etcdRepairUi.error.busy': '正在运行的修复太多：请等待其中一个完成或取消它。',
  'etcdRepairUi.error.unwritable': '输出文件夹无法在那里创建（路径不存在或只读、磁盘已满，或是 /proc 这样的位置）：请选择其他文件夹。',
  'etcdRepairUi.error.worker': '修复因错误而停止（下面的详细信息是后端的原文）。',
  'etcdRepairUi.input.notDataDir':
    '{input} 不是 etcd 数据目录：其中没有 member/ 目录（也没有 wal/ 或 snap/）。请指定数据目录（例如 /var/lib/etcd）、它的 member/ 目录、一个 db 文件或一个 snapshot.db。',
  'etcdRepairUi.input.outputExists': '{output} 已存在；抢救从不覆盖文件。请换一个新文件名。',
  'etcdRepairUi.input.nothingToSalvage': '{input} 中既没有 db（member/snap/db）也没有 WAL 文件：没有可抢救的内容。',
  'etcdRepairUi.input.loneSnapshot':
    '{input} 是单独的 snapshot.db；修复需要数据目录。请用 `lifeboat salvage {input} --snapshot FILE` 把它变成可恢复的 snapshot.db。',
  'etcdRepairUi.input.loneDb': '{input} 是单独的 db 文件；修复需要数据目录。请用 `lifeboat salvage {input} --snapshot FILE` 把它变成可恢复的 snapshot.db。',
  'etcdRepairUi.input.nothingToExport': '{input} 中既没有 db 也没有 WAL 文件：没有可导出的内容。',
  'etcdRepairUi.input.archive': '{input} 是 {kind} 归档文件，不是 db：数据目录可能在其中。请把它解压到一个新文件夹（{command}），再抢救解压出来的内容。',
  'etcdRepairUi.input.compressed':
    '{input} 是用 {kind} 压缩的 {inner}，本身不是 db。请把它解压到一个新文件夹，原文件保持不动（{command}），再抢救解压出的副本 {inner}。',
  'etcdRepairUi.input.sqlite':
    '{input} 是 SQLite 数据库（k3s 通过 kine 把状态存放在这样的文件中），不是 etcd 的 bbolt：无法从中生成 etcd 的 snapshot.db。请先备份它，用 sqlite3 检查，再用 `lifeboat salvage FILE --out DIR` 把其中的对象写成文件。',
  'etcdRepairUi.input.readInPlace':
    '{input} 是在节点上就地读取的：修复后的数据目录副本需要整个目录在本机上。请先把它复制出来（节点 → 复制出来），或就地从中抢救出一个 snapshot.db。',
  'etcdRepairUi.partial': '保留停止时的状态（未删除）：{path}',
  'etcdRepairUi.again': '重新开始',
  'etcdRepairUi.result.title': '结果',
  'etcdRepairUi.result.written': '已写出：{path}',
  'etcdRepairUi.result.remote': '输入是在节点上原地读取的；此输出位于本机。',
  'etcdRepairUi.result.keys': '写出的键',
  'etcdRepairUi.result.sources': '来源',
  'etcdRepairUi.source.tree': '树',
  'etcdRepairUi.source.orphaned-leaf': '孤立叶子页',
  'etcdRepairUi.source.wal': 'WAL',
  'etcdRepairUi.result.revisions': '修订版本',
  'etcdRepairUi.result.revisionRange':
    '{from}..{to}，每个键只保留最新修订，不含更早的历史：快照标记为在 {compact} 处已压缩，从更早修订开始的读取和监听会得到“已压缩”',
  'etcdRepairUi.result.walReplay': 'WAL 重放',
  'etcdRepairUi.result.walReplayText': '条目 {from}..{to}：应用 {applied} 条，补回丢失页中的 {gap} 条',
  'etcdRepairUi.result.deleted': '已删除的键（不写出）',
  'etcdRepairUi.result.leases': '租约',
  'etcdRepairUi.result.leasesText': '写出 {written} 个，{detached} 个键因租约丢失而解除关联',
  'etcdRepairUi.result.sha': 'SHA-256（尾部）',
  'etcdRepairUi.result.pages': '扫描的页',
  'etcdRepairUi.result.pagesText': '{scanned}（叶子页 {leaf}，树未到达 {orphaned}，不可读 {unreadable}）',
  'etcdRepairUi.result.nothingLost': '没有丢失：写出的每个键都在输出中。',
  'etcdRepairUi.result.lost': '丢失（{n}）',
  'etcdRepairUi.result.lostKey': '键',
  'etcdRepairUi.result.lostRevisions': '修订版本',
  'etcdRepairUi.result.lostWhy': '原因',
  'etcdRepairUi.result.unknownKey': '（未知键）',
  'etcdRepairUi.result.keyList': '键及其来源',
  'etcdRepairUi.result.keyListTruncated': '只列出前 {n} 个键（其余都在输出中）。',
  'etcdRepairUi.result.key': '键',
  'etcdRepairUi.result.revision': '修订版本',
  'etcdRepairUi.result.source': '来源',
  'etcdRepairUi.result.size': '大小',
  'etcdRepairUi.result.findings': '过程中的发现',
  'etcdRepairUi.result.quarantine': '隔离区',
  'etcdRepairUi.result.quarantineNone': '没有隔离任何内容',
  'etcdRepairUi.result.dbStrategy': 'db 的恢复方式',
  'etcdRepairUi.db.unchanged': '完好：原样复制',
  'etcdRepairUi.db.revert-meta': '使用旧元数据页（其树完好）；etcd 会从 WAL 重新应用较新的写入',
  'etcdRepairUi.db.rebuild': '用所有可读叶子页和 WAL 重建',
  'etcdRepairUi.db.none': '没有 db',
  'etcdRepairUi.result.actions': '已执行的操作',
  'etcdRepairUi.result.objects': '写出的对象',
  'etcdRepairUi.result.secrets': 'Secret 和加密值（权限 0600）',
  'etcdRepairUi.result.resources': '按资源',
  'etcdRepairUi.next.title': '下一步：在节点上恢复此快照',
  'etcdRepairUi.next.lead': '在节点上以 root 身份逐步运行；每一步都说明它涉及的文件以及可能变糟的情况。旧数据目录会被移到一旁，绝不删除。',
  'etcdRepairUi.next.placeholders': '这份报告无法得知以下内容：运行前请替换',
  'etcdRepairUi.next.placeholderSep': '：',
  'etcdRepairUi.next.copyScript': '将整个计划复制为脚本',
  'etcdRepairUi.next.step': '第 {n} 步：{title}',
  'etcdRepairUi.next.files': '涉及：{files}',
  'etcdRepairUi.next.risk': '可能变糟：{risk}',
  'etcdRepairUi.next.repair': '下一步：停止 etcd，把它的数据目录移到一旁（绝不删除），把这个副本放到原位置并保持相同的属主和权限，然后启动 etcd。',
  'etcdRepairUi.placeholder.name': '此成员的名称（--name；etcd 默认为 "default"）',
  'etcdRepairUi.placeholder.peer': '此成员的对等 URL（--initial-advertise-peer-urls，例如 https://10.0.0.5:2380）',
  'etcdRepairUi.placeholder.dataDir': '成员在节点上的数据目录（--data-dir；kubeadm：/var/lib/etcd）',
  'etcdRepairUi.placeholder.runStyle':
    '不知道 etcd 的运行方式：停止和启动步骤使用 systemd 单元 etcd.service；若是 kubeadm 静态 Pod，请改为把 /etc/kubernetes/manifests/etcd.yaml 移出再移回',
  'etcdRepairUi.placeholder.tls':
    '不知道客户端 TLS 配置：若 etcd 使用 https，请在检查命令中加上 --cacert、--cert 和 --key（kubeadm：/etc/kubernetes/pki/etcd/ca.crt、healthcheck-client.crt、healthcheck-client.key）',
  'etcdRepairUi.placeholder.snapshotOnNode': '快照写在本机（{local}）；请先把它复制到节点上的 {node}（例如用 scp）',
  'etcdRepairUi.refuse.repairRemote':
    '修复后的数据目录副本需要整个目录位于本机，而此目录是在节点上原地读取的：请先把它复制出来（节点 → 复制出来），或在原地从中抢救 snapshot.db 或对象。',
  'etcdRepairUi.refuse.repairFile': '修复数据目录需要一个数据目录（含 member/）；这是单独的 db 或 snapshot.db：请改为从中抢救 snapshot.db。',
  'etcdRepairUi.placeholder.openedOnNode':
    '此处检查的 snapshot.db（{file}）；请先把它复制到节点上的 {node}（例如用 scp），如果它已在节点上，则换成它在节点上的路径',
  'etcdRepairUi.opened.title': '恢复此 snapshot.db',
  'etcdRepairUi.opened.lead':
    '已检查：它的 SHA-256 尾部校验一致，bbolt 也能打开它，因此 `etcdctl snapshot restore` 可以直接接受它，无需先抢救。下面的计划与抢救出的 snapshot.db 所得到的计划相同。',
  'etcdRepairUi.opened.refused':
    '此文件按原样没有恢复计划：`etcdctl snapshot restore` 会拒绝它（“{error}”）。请先从中抢救出可恢复的 snapshot.db（由后端读取的文件可用下方的“修复或抢救”面板，或运行 `lifeboat salvage PATH --snapshot FILE`）：抢救出的文件会附带它的恢复计划。',
  'etcdRepairUi.next.distribution':
    '下一步：该 db 属于 k3s 或 RKE2 服务器（/bootstrap/ 下有 {keys} 个引导数据键，已保留在快照中），因此请用服务器自己的重置来恢复这个 snapshot.db，而不是 `etcdctl snapshot restore`：把它复制到节点上（此处为 `{file}`），停止服务（其他服务器也要停止，并把它们的 db 目录移开），带上该服务器单元的参数运行 `k3s server --cluster-reset --cluster-reset-restore-path={file}`（RKE2：`rke2 server …`），然后启动服务。节点卡片（引导式恢复中的“检测”）给出了该节点的确切命令行。',
  'etcdRepairUi.opened.distribution':
    '已检查：它的 SHA-256 尾部校验一致，bbolt 也能打开它。它是 k3s 或 RKE2 服务器的快照（/bootstrap/ 下有 {keys} 个引导数据键），因此要用服务器自己的重置来恢复，而不是 `etcdctl snapshot restore`：先停止服务（其他服务器也要停止，并把它们的 db 目录移开），运行 `k3s server --cluster-reset --cluster-reset-restore-path={file}`（RKE2：`rke2 server --cluster-reset --cluster-reset-restore-path={file}`），带上该服务器单元的参数，然后启动服务。节点卡片（引导式恢复中的“检测”）给出了该节点的确切命令行。',
  'etcdRepairUi.opened.noTrailer':
    '此文件按原样没有恢复计划：它是一个没有 `etcdctl snapshot save` 所加 SHA-256 尾部的 bbolt db，不加 --skip-hash-check 时 `etcdctl snapshot restore` 会拒绝它。请先从中抢救出 snapshot.db（由后端读取的文件可用下方的“修复或抢救”面板，或运行 `lifeboat salvage PATH --snapshot FILE`）：抢救出的文件会附带它的恢复计划。',
};

export type EtcdRepairUiKey = keyof typeof en;

export default defineCatalog(en, zh);
