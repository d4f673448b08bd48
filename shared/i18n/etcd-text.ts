/**
 * Sentences the etcd validator writes, in English and Simplified Chinese:
 * finding titles (`finding.<code>`) for every etcd code (the WAL/snap and
 * bbolt decoders' codes too), finding message templates
 * (`finding.<code>.message`), the start-up narrative (`etcd-verdict.narrative.*`),
 * the verdict summary (`etcd-verdict.summary.*`) and the member comparison
 * (`etcd-verdict.members.*`). The English table is also the source of the English
 * text in reports (shared/formats/etcd/say.ts), so CLI, JSON and UI agree.
 */
import { defineCatalog } from './types';

const titlesEn = {
  // input recognition
  'finding.layout.leftover': 'File left behind by etcd',
  'finding.layout.no-wal-dir': 'No WAL directory beside the snap directory',
  'finding.layout.link': 'A symbolic link, read through',
  'finding.layout.link-nowhere': 'A symbolic link to something that is not here',
  'finding.layout.db-only': 'Only the bbolt db was examined',
  'finding.layout.wal-only': 'Only the WAL was examined',
  // start-up model
  'finding.startup.db-created': 'No db: etcd creates an empty one and replays the WAL',
  'finding.startup.no-wal': 'No WAL: etcd starts this member afresh',
  'finding.startup.snap-db-missing': 'db is older than the snapshot and no .snap.db is there',
  'finding.startup.wal-repaired': 'Torn WAL tail: etcd truncates it at start-up',
  'finding.startup.wal-repair-loses': 'The WAL repair drops entries the db does not hold',
  'finding.startup.wal-cut-short': 'The last WAL file was cut short after etcd wrote it',
  'finding.startup.replay-gap': 'The WAL does not reach back to the db',
  'finding.startup.wal-ends-early': 'A zero length word ends the WAL early: later entries are dropped',
  // cross-checks
  'finding.cross.node-not-member': 'This node is not in the member list',
  'finding.cross.member-wal-empty': 'A member with an empty WAL (tocommit panic on rejoin)',
  'finding.cross.stale-address': 'Member registered at an address the node no longer has',
  'finding.cross.db-ahead-of-wal': 'The db is ahead of the WAL',
  'finding.cross.commit-behind-snap': 'HardState commit is behind the newest snap',
  // snapshot.db restore
  'finding.restore.db-broken': 'snapshot.db holds a damaged bbolt file',
  // WAL and .snap decoder codes (titles chosen by their author in wal.ts / snap.ts)
  'finding.wal.none': 'No WAL files',
  'finding.wal.ignored-file': 'File etcd ignores in the WAL directory',
  'finding.wal.leftover-broken': 'WAL file set aside by an earlier repair (.broken)',
  'finding.wal.leftover-tmp': 'Preallocated next WAL file (.tmp)',
  'finding.wal.seq-gap': 'WAL file sequence has a gap',
  'finding.wal.torn-tail': 'Torn last WAL record (etcd repairs it)',
  'finding.wal.unexpected-eof': 'WAL file ends inside a record before the last file',
  'finding.wal.record-crc': 'WAL record checksum mismatch',
  'finding.wal.chain-crc': 'WAL CRC chain broken at a file boundary',
  'finding.wal.max-size': 'WAL record length over the 10 MiB limit',
  'finding.wal.decode': 'WAL record does not decode',
  'finding.wal.file-not-found': 'No WAL file for the snapshot etcd loads',
  'finding.wal.snapshot-not-found': 'Snapshot record missing from the WAL',
  'finding.wal.snapshot-mismatch': 'WAL snapshot record has another term',
  'finding.wal.metadata-conflict': 'WAL metadata changes between files',
  'finding.wal.index-gap': 'Gap in WAL entry indexes',
  'finding.wal.unknown-record-type': 'Unknown WAL record type',
  'finding.wal.data-after-end': 'Data after the end of the WAL (etcd zeroes it)',
  'finding.wal.not-read': 'WAL file etcd does not reach',
  'finding.snap.empty': 'Empty .snap file',
  'finding.snap.crc': '.snap checksum mismatch',
  'finding.snap.decode': '.snap file does not decode',
  'finding.snap.too-large': '.snap file too large to check',
  'finding.snap.name-mismatch': '.snap name differs from its content',
  'finding.snap.orphan': '.snap without a WAL snapshot record',
  'finding.snap.unreadable-skipped': 'etcd renames this .snap to .broken',
  // db-level codes from bbolt-db.ts / schema.ts
  'finding.etcd.mvcc-restore': 'etcd stops restoring the key index',
  'finding.etcd.range-cannot-find': 'etcd starts, then dies on a read',
  'finding.etcd.read-wrong-value': "etcd serves one key's value for another",
  'finding.etcd.read-older-state': 'etcd serves keys as they were before their newest revision',
  'finding.etcd.db-near-quota': 'The db is near or over the 2 GiB quota',
  'finding.etcd.alarm-nospace': 'NOSPACE alarm raised',
  'finding.etcd.alarm-corrupt': 'CORRUPT alarm raised',
  'finding.etcd.alarm-other': 'Unknown alarm raised',
  'finding.etcd.member-decode': 'Member entry does not decode',
  'finding.etcd.revision-key': 'Key bucket entry is not a revision',
  'finding.etcd.kv-decode': 'Stored key-value does not decode',
  'finding.etcd.live-keys-lower-bound': 'Live keys counted in part (a lower bound)',
  'finding.etcd.k3s-bootstrap': "A k3s or RKE2 server's etcd (bootstrap data)",
  'finding.snapshot-db.hash-mismatch': 'snapshot.db SHA-256 does not match',
  'finding.snapshot-db.no-hash': 'snapshot.db has no SHA-256 trailer',
  'finding.bbolt.element-beyond-file': 'Element runs past the end of the file',
  'finding.bbolt.element-slice': 'etcd would panic slicing a damaged element',
  // bbolt decoder codes (shared/formats/etcd/bbolt-*.ts)
  'finding.bbolt.already-freed': 'Page freed twice in the freelist',
  'finding.bbolt.bucket-depth': 'Buckets nested too deep',
  'finding.bbolt.bucket-value': 'Bad bucket header value',
  'finding.bbolt.element-bounds': 'Element outside its page',
  'finding.bbolt.element-count': 'Page element count does not fit the page',
  'finding.bbolt.empty-file': 'The db file is empty',
  'finding.bbolt.freelist-bounds': 'Freelist page out of bounds',
  'finding.bbolt.freelist-invalid': 'Freelist page is invalid',
  'finding.bbolt.freepages-fault': 'etcd would crash reading outside the db file',
  'finding.bbolt.freepages-panic': 'etcd would panic in freepages',
  'finding.bbolt.header-id': 'Page header names another page',
  'finding.bbolt.inline-bucket': 'Bad inline bucket',
  'finding.bbolt.invalid-type': 'Page has the wrong type',
  'finding.bbolt.key-order': 'Keys out of order',
  'finding.bbolt.meta-fallback': 'Newest meta page invalid: the older one is used',
  'finding.bbolt.meta-invalid': 'Invalid meta page',
  'finding.bbolt.multiple-references': 'Page referenced more than once',
  'finding.bbolt.open-error': 'bbolt cannot open the db',
  'finding.bbolt.out-of-bounds': 'Page beyond the high-water mark',
  'finding.bbolt.overflow-beyond-file': 'Overflow pages run past the end of the file',
  'finding.bbolt.page-beyond-file': 'Page beyond the end of the file',
  'finding.bbolt.unreachable-unfreed': 'Page neither reachable nor free',
};

const titlesZh: Record<keyof typeof titlesEn, string> = {
  'finding.layout.leftover': 'etcd 遗留的文件',
  'finding.layout.no-wal-dir': 'snap 目录旁没有 WAL 目录',
  'finding.layout.link': '符号链接，已跟随读取',
  'finding.layout.link-nowhere': '符号链接指向的内容不在这里',
  'finding.layout.db-only': '只检查了 bbolt db 文件',
  'finding.layout.wal-only': '只检查了 WAL',
  'finding.startup.db-created': '没有 db：etcd 会新建空 db 并重放 WAL',
  'finding.startup.no-wal': '没有 WAL：etcd 会把该成员当作全新成员启动',
  'finding.startup.snap-db-missing': 'db 比快照旧，且没有 .snap.db 文件',
  'finding.startup.wal-repaired': 'WAL 尾部写坏：etcd 启动时会截断它',
  'finding.startup.wal-repair-loses': 'WAL 修复会丢掉 db 中没有的条目',
  'finding.startup.wal-cut-short': '最后一个 WAL 文件在 etcd 写入后被截短了',
  'finding.startup.replay-gap': 'WAL 接不上 db 的进度',
  'finding.startup.wal-ends-early': '零长度字提前结束了 WAL：之后的条目会被丢弃',
  'finding.cross.node-not-member': '本节点不在成员列表中',
  'finding.cross.member-wal-empty': '成员的 WAL 为空（重新加入时 raft 会 panic）',
  'finding.cross.stale-address': '成员登记的地址已不属于该节点',
  'finding.cross.db-ahead-of-wal': 'db 比 WAL 更新',
  'finding.cross.commit-behind-snap': 'HardState 的 commit 落后于最新快照',
  'finding.restore.db-broken': 'snapshot.db 中的 bbolt 文件已损坏',
  'finding.wal.none': '没有 WAL 文件',
  'finding.wal.ignored-file': 'WAL 目录中 etcd 忽略的文件',
  'finding.wal.leftover-broken': '先前修复留下的 WAL 文件 (.broken)',
  'finding.wal.leftover-tmp': '预分配的下一个 WAL 文件 (.tmp)',
  'finding.wal.seq-gap': 'WAL 文件序号不连续',
  'finding.wal.torn-tail': '最后一条 WAL 记录写入不完整（etcd 会自行修复）',
  'finding.wal.unexpected-eof': 'WAL 文件在非最后文件中于记录中途结束',
  'finding.wal.record-crc': 'WAL 记录校验和不匹配',
  'finding.wal.chain-crc': 'WAL 文件边界处 CRC 链断裂',
  'finding.wal.max-size': 'WAL 记录长度超过 10 MiB 上限',
  'finding.wal.decode': 'WAL 记录无法解码',
  'finding.wal.file-not-found': '找不到与 etcd 所加载快照对应的 WAL 文件',
  'finding.wal.snapshot-not-found': 'WAL 中缺少快照记录',
  'finding.wal.snapshot-mismatch': 'WAL 快照记录的任期不一致',
  'finding.wal.metadata-conflict': 'WAL 元数据在文件之间不一致',
  'finding.wal.index-gap': 'WAL 条目索引不连续',
  'finding.wal.unknown-record-type': '未知的 WAL 记录类型',
  'finding.wal.data-after-end': 'WAL 结尾之后仍有数据（etcd 会清零）',
  'finding.wal.not-read': 'etcd 读取不到的 WAL 文件',
  'finding.snap.empty': '.snap 文件为空',
  'finding.snap.crc': '.snap 校验和不匹配',
  'finding.snap.decode': '.snap 文件无法解码',
  'finding.snap.too-large': '.snap 文件过大，无法检查',
  'finding.snap.name-mismatch': '.snap 文件名与内容不符',
  'finding.snap.orphan': '没有对应 WAL 快照记录的 .snap',
  'finding.snap.unreadable-skipped': 'etcd 会将此 .snap 重命名为 .broken',
  'finding.etcd.mvcc-restore': 'etcd 恢复键索引时停止',
  'finding.etcd.range-cannot-find': 'etcd 能启动，但读取时会崩溃',
  'finding.etcd.read-wrong-value': 'etcd 会把一个键的值当作另一个键返回',
  'finding.etcd.read-older-state': 'etcd 会按最新修订版本之前的状态提供某些键',
  'finding.etcd.db-near-quota': 'db 接近或超过 2 GiB 配额',
  'finding.etcd.alarm-nospace': '已触发 NOSPACE 告警',
  'finding.etcd.alarm-corrupt': '已触发 CORRUPT 告警',
  'finding.etcd.alarm-other': '已触发未知告警',
  'finding.etcd.member-decode': '成员记录无法解码',
  'finding.etcd.revision-key': '`key` 桶中的条目不是修订版本号',
  'finding.etcd.kv-decode': '保存的键值无法解码',
  'finding.etcd.live-keys-lower-bound': '有效键只统计了一部分（下限）',
  'finding.etcd.k3s-bootstrap': 'k3s 或 RKE2 服务器的 etcd（含引导数据）',
  'finding.snapshot-db.hash-mismatch': 'snapshot.db 的 SHA-256 不匹配',
  'finding.snapshot-db.no-hash': 'snapshot.db 没有 SHA-256 尾部',
  'finding.bbolt.element-beyond-file': '元素超出文件末尾',
  'finding.bbolt.element-slice': 'etcd 会在切分损坏的元素时 panic',
  'finding.bbolt.already-freed': 'freelist 中同一页被释放两次',
  'finding.bbolt.bucket-depth': '桶嵌套过深',
  'finding.bbolt.bucket-value': '桶头部的值错误',
  'finding.bbolt.element-bounds': '元素超出所在页',
  'finding.bbolt.element-count': '页的元素个数放不进该页',
  'finding.bbolt.empty-file': 'db 文件为空',
  'finding.bbolt.freelist-bounds': 'freelist 页越界',
  'finding.bbolt.freelist-invalid': 'freelist 页无效',
  'finding.bbolt.freepages-fault': 'etcd 会因读到 db 文件之外而崩溃',
  'finding.bbolt.freepages-panic': 'etcd 会在 freepages 中 panic',
  'finding.bbolt.header-id': '页头记录的是另一个页号',
  'finding.bbolt.inline-bucket': '内联桶损坏',
  'finding.bbolt.invalid-type': '页类型错误',
  'finding.bbolt.key-order': '键顺序错误',
  'finding.bbolt.meta-fallback': '最新的 meta 页无效：改用较旧的 meta',
  'finding.bbolt.meta-invalid': 'meta 页无效',
  'finding.bbolt.multiple-references': '页被多次引用',
  'finding.bbolt.open-error': 'bbolt 无法打开 db',
  'finding.bbolt.out-of-bounds': '页号超过高水位线',
  'finding.bbolt.overflow-beyond-file': '溢出页超出文件末尾',
  'finding.bbolt.page-beyond-file': '页超出文件末尾',
  'finding.bbolt.unreachable-unfreed': '页既不可达也未释放',
};

const messagesEn = {
  'finding.engine.archive.message':
    '{file} is a {kind} archive, not a datastore: the data directory may be inside. Extract it into a new folder ({command}) and validate what it holds.',
  'finding.engine.compressed.message':
    '{file} is {inner} compressed with {kind}, not a datastore itself. Decompress it into a new folder, keeping the original ({command}), then validate the copy ({validate}).',
  'finding.engine.sqlite.message':
    "{file} is a SQLite database, not etcd's bbolt: k3s keeps its cluster state in one by default (kine). Back this file up, then check it with {command}; its Kubernetes objects can be written out as files with {salvage}.",
  'finding.engine.holds.message':
    'Not a datastore directory itself, but {folder} inside it is a data directory ({kind}): validate that folder instead ({command}).',
  'finding.engine.unknown.message':
    'Not a datastore directory: found no dqlite files (closed or open segments NNN-NNN / open-N, snapshot-*.meta, metadata1/2) and no etcd files (member/, wal/ or snap/, *.wal, *.snap, a bbolt db or snapshot.db).',
  'finding.layout.leftover.message': '{file} ({size} bytes) is a {kind} file etcd left here; etcd ignores it at start-up. Keep it until the member is healthy.',
  'finding.layout.link.message':
    '{path} is a symbolic link to {target}: etcd reads through it, and so does Lifeboat. A copy of this directory must follow it (`cp -aL`, `tar -h`, `rsync -L`, or Lifeboat’s copy-out, which does), or the copy leaves out what it points to.',
  'finding.layout.link-nowhere.message':
    '{path} is a symbolic link to {target}, which is not here: a copy that kept the link but not what it points to (`cp -a`, `tar` and `rsync -a` do that). Copy the directory again following links (`cp -aL`, `tar -h`, `rsync -L`, or Lifeboat’s copy-out), or validate it in place on the node.',
  'finding.layout.no-wal-dir.message':
    'There is a snap directory but no wal directory: the WAL may live elsewhere (--wal-dir). Validate the WAL directory too, or etcd will start this member without its log.',
  'finding.layout.db-only.message':
    'Only the bbolt file was examined. Whether etcd starts also depends on the WAL and the .snap files: validate the whole data directory (e.g. /var/lib/etcd).',
  'finding.layout.wal-only.message': 'Only the WAL was examined (a --wal-dir). Whether etcd starts also depends on member/snap/db and the .snap files.',
  'finding.startup.db-created.message':
    'There is no usable db ({why}). etcd creates an empty one and rebuilds the keys by replaying the WAL from index {from}.',
  'finding.startup.no-wal.message':
    'There is no WAL. etcd treats this as a new member: with --initial-cluster-state=new it bootstraps a one-member cluster over the existing db; as a member of a running cluster it is rejected or panics (see the cross-checks).',
  'finding.startup.snap-db-missing.message':
    'The db has consistent index {ci}, older than the snapshot etcd loads ({snap}, index {index}), and there is no {dbName} to replace it with: etcd panics.',
  'finding.snap.unreadable-skipped.message': '{file} cannot be read ({error}); etcd renames it to {file}.broken and loads an older snapshot.',
  'finding.startup.wal-repaired.message':
    '{file} ends in a torn record at byte {offset}. etcd copies the file to {file}.broken, truncates it at byte {offset} and starts.',
  'finding.startup.wal-cut-short.message':
    '{file} is {size} bytes, shorter than the {segment} bytes etcd preallocates for its last WAL file, and no {file}.broken shows that etcd truncated it: the file was cut short after etcd wrote it (a copy that stopped early, a filesystem repair), not torn by a crash. Its log ends at entry {last}, and whatever etcd wrote after that is gone; committed writes among it are lost unless the db (consistent index {ci}) or another member holds them. If this is a copy, copy the file again from the node; on the node, check the other members and backups before starting etcd.',
  'finding.startup.wal-repair-loses.message':
    'Truncating {file} at byte {offset} drops entries up to index {last}; the db only holds index {ci}, so entries {from}..{last} are lost.',
  'finding.startup.wal-ends-early.message':
    'etcd reads {file} only up to byte {offset} (a zero length word) and zero-fills the rest when it opens the file: entries {first}..{last} after it are dropped. The db holds index {ci}, so entries {from}..{last} are lost. Copy the file before starting etcd.',
  'finding.startup.replay-gap.message': 'The db holds index {ci} but the WAL starts at index {first}: entries {from}..{to} exist nowhere.',
  'finding.snap.orphan.message':
    '{file} reads fine, but no WAL snapshot record at or below the commit names it: etcd does not load it (a crash between writing the .snap and the WAL, or a .snap from another member).',
  'finding.cross.node-not-member.message':
    'The WAL belongs to member {node}, which is not in the member list ({members}). The member was removed: it must not be started with this data.',
  'finding.cross.member-wal-empty.unnamed.message':
    'The WAL is empty or missing, so nothing here names the member this dir belonged to; the db lists {node}. If that member is still registered (`etcdctl member list`), it panics as soon as it rejoins: the leader sends commit {commit} and raft stops with tocommit({commit}) is out of range [lastIndex(0)]. Remove that member (`etcdctl member remove <ID>`) and add it again with an empty data dir, or restore from a snapshot.',
  'finding.cross.member-wal-empty.message':
    'Member {node} is still in the cluster but its WAL is empty or missing. When it rejoins, the leader sends commit {commit} and raft panics: tocommit({commit}) is out of range [lastIndex(0)]. Remove and re-add the member with an empty data dir, or restore from a snapshot.',
  'finding.cross.stale-address.message':
    'Member {name} ({id}) is registered with peer URL {url}, but {host} is not one of the addresses given ({addresses}). Peers dial the registered URL, so this member cannot be reached. While a quorum of the members still reach each other, `etcdctl member update` this member to its new URL; when none can (every address changed), start the member with the newest data with --force-new-cluster, `etcdctl member update` its own URL, then `etcdctl member add` the others back and start them with empty data dirs.',
  'finding.cross.db-ahead-of-wal.message':
    "The db has applied index {ci} but the WAL ends at index {last}: the newest WAL entries are gone. In a cluster the leader resends them. A single member starts and serves the db, but applies no new write until its raft index passes {ci}: about the next {gap} writes time out and are lost (the kube-apiserver's among them). Repair a copy first (a fresh WAL, and the db rebuilt to match it).",
  'finding.cross.commit-behind-snap.message': 'HardState commit {commit} is behind the newest .snap (index {index}): etcd ignores that .snap.',
  'finding.restore.db-broken.message': 'The bbolt file inside the snapshot is damaged ({error}); restoring it would fail or carry the damage.',
};

const messagesZh: Record<keyof typeof messagesEn, string> = {
  'finding.engine.archive.message':
    '{file} 是 {kind} 归档文件，不是数据存储：数据目录可能在其中。请把它解压到一个新文件夹（{command}），再校验解压出来的内容。',
  'finding.engine.compressed.message':
    '{file} 是用 {kind} 压缩的 {inner}，本身不是数据存储。请把它解压到一个新文件夹，原文件保持不动（{command}），再校验解压出的副本（{validate}）。',
  'finding.engine.sqlite.message':
    '{file} 是 SQLite 数据库，不是 etcd 的 bbolt：k3s 默认把集群状态存放在这样的文件中（kine）。请先备份该文件，再用 {command} 检查它；其中的 Kubernetes 对象可以用 {salvage} 写成文件。',
  'finding.engine.holds.message': '这里本身不是数据存储目录，但其中的 {folder} 是数据目录（{kind}）：请改为校验该目录（{command}）。',
  'finding.engine.unknown.message':
    '这不是数据存储目录：没有找到 dqlite 文件（已关闭或打开中的段文件 `NNN-NNN` / `open-N`、`snapshot-*.meta`、`metadata1/2`），也没有找到 etcd 文件（member/、wal/ 或 snap/、*.wal、*.snap、bbolt db 或 snapshot.db）。',
  'finding.layout.leftover.message': '{file}（{size} 字节）是 etcd 留下的{kind}文件；etcd 启动时会忽略它。在成员恢复正常之前请保留。',
  'finding.layout.link.message':
    '{path} 是指向 {target} 的符号链接：etcd 会跟随它读取，Lifeboat 也一样。复制此目录时必须跟随链接（`cp -aL`、`tar -h`、`rsync -L`，或 Lifeboat 的复制功能，它会跟随），否则副本中会缺少链接指向的内容。',
  'finding.layout.link-nowhere.message':
    '{path} 是指向 {target} 的符号链接，但链接指向的内容不在这里：这是只保留了链接、没有保留其内容的副本（`cp -a`、`tar` 和 `rsync -a` 都会这样）。请跟随链接重新复制该目录（`cp -aL`、`tar -h`、`rsync -L`，或 Lifeboat 的复制功能），或者在节点上就地校验。',
  'finding.layout.no-wal-dir.message':
    '有 snap 目录但没有 wal 目录：WAL 可能在别处（--wal-dir）。请一并校验 WAL 目录，否则 etcd 会在没有日志的情况下启动该成员。',
  'finding.layout.db-only.message': '只检查了 bbolt 文件。etcd 能否启动还取决于 WAL 和 .snap 文件：请校验整个数据目录（例如 /var/lib/etcd）。',
  'finding.layout.wal-only.message': '只检查了 WAL（--wal-dir）。etcd 能否启动还取决于 member/snap/db 和 .snap 文件。',
  'finding.startup.db-created.message': '没有可用的 db（{why}）。etcd 会新建空 db，并从索引 {from} 开始重放 WAL 来重建键。',
  'finding.startup.no-wal.message':
    '没有 WAL。etcd 会把它当作新成员：使用 --initial-cluster-state=new 时会在现有 db 上引导一个单成员集群；作为运行中集群的成员则会被拒绝或 panic（见交叉检查）。',
  'finding.startup.snap-db-missing.message':
    'db 的 consistent index 为 {ci}，比 etcd 要加载的快照（{snap}，索引 {index}）旧，而且没有可替换的 {dbName}：etcd 会 panic。',
  'finding.snap.unreadable-skipped.message': '{file} 无法读取（etcd 报错：“{error}”）；etcd 会把它改名为 {file}.broken 并加载更旧的快照。',
  'finding.startup.wal-repaired.message': '{file} 在字节 {offset} 处以一条写坏的记录结尾。etcd 会把文件复制为 {file}.broken，在字节 {offset} 处截断后启动。',
  'finding.startup.wal-cut-short.message':
    '{file} 只有 {size} 字节，比 etcd 为最后一个 WAL 文件预分配的 {segment} 字节短，而且没有 {file}.broken 表明是 etcd 截断了它：该文件是在 etcd 写入之后被截短的（复制中途停止、文件系统修复），而不是崩溃造成的写坏。它的日志止于条目 {last}，etcd 在此之后写入的内容都已不在；其中已提交的写入会丢失，除非 db（consistent index {ci}）或其他成员还保存着它们。如果这是一份副本，请从节点重新复制该文件；如果是在节点上，请在启动 etcd 前先检查其他成员和备份。',
  'finding.startup.wal-repair-loses.message':
    '在字节 {offset} 处截断 {file} 会丢掉直到索引 {last} 的条目；db 只包含到索引 {ci}，因此条目 {from}..{last} 会丢失。',
  'finding.startup.wal-ends-early.message':
    'etcd 只读取 {file} 到字节 {offset}（一个零长度字），打开文件时会把其余部分清零：其后的条目 {first}..{last} 会被丢弃。db 只包含到索引 {ci}，因此条目 {from}..{last} 会丢失。启动 etcd 之前请先复制该文件。',
  'finding.startup.replay-gap.message': 'db 包含到索引 {ci}，但 WAL 从索引 {first} 开始：条目 {from}..{to} 已不存在。',
  'finding.snap.orphan.message':
    '{file} 可以读取，但没有 commit 以内的 WAL 快照记录指向它：etcd 不会加载它（写 .snap 与写 WAL 之间发生了崩溃，或是其他成员的 .snap）。',
  'finding.cross.node-not-member.message': 'WAL 属于成员 {node}，但它不在成员列表中（{members}）。该成员已被移除：不能用这份数据启动它。',
  'finding.cross.member-wal-empty.unnamed.message':
    'WAL 为空或缺失，因此这里没有记录该目录属于哪个成员；db 中登记的成员有 {node}。如果该成员仍在集群中（`etcdctl member list`），它一重新加入就会 panic：领导节点会发送 commit {commit}，raft 报错“tocommit({commit}) is out of range [lastIndex(0)]”后退出。请移除该成员（`etcdctl member remove <ID>`），再用空数据目录重新添加，或从快照恢复。',
  'finding.cross.member-wal-empty.message':
    '成员 {node} 仍在集群中，但它的 WAL 为空或缺失。重新加入时领导节点会发送 commit {commit}，raft 会 panic，报错：“tocommit({commit}) is out of range [lastIndex(0)]”。请用空数据目录移除并重新添加该成员，或从快照恢复。',
  'finding.cross.stale-address.message':
    '成员 {name}（{id}）登记的 peer URL 是 {url}，但 {host} 不在给出的地址中（{addresses}）。其他成员按登记的 URL 连接它，因此连不上这个成员。如果仍有过半数成员能互相连通，用 `etcdctl member update` 把这个成员改成新 URL 即可；如果都连不上（所有地址都变了），先用 --force-new-cluster 启动数据最新的成员，用 `etcdctl member update` 改它自己的 URL，再用 `etcdctl member add` 把其他成员加回来，并以空数据目录启动它们。',
  'finding.cross.db-ahead-of-wal.message':
    'db 已应用到索引 {ci}，但 WAL 只到索引 {last}：最新的 WAL 条目已丢失。在集群中领导节点会重新发送这些条目。单成员可以启动并提供 db 中的数据，但在其 raft 索引超过 {ci} 之前不会应用任何新的写入：接下来大约 {gap} 次写入会超时并丢失（包括 kube-apiserver 的写入）。请先修复一份副本（新写的 WAL，以及与之一致的重建 db）。',
  'finding.cross.commit-behind-snap.message': 'HardState 的 commit {commit} 落后于最新的 .snap（索引 {index}）：etcd 会忽略该 .snap。',
  'finding.restore.db-broken.message': '快照中的 bbolt 文件已损坏（报错：“{error}”）；恢复会失败或把损坏带过去。',
};

const narrativeEn = {
  'etcd-verdict.narrative.backend-open':
    'etcd opens the bbolt db {db} (meta {meta}, txid {txid}) and rebuilds its freelist by walking every page: the tree is intact.',
  'etcd-verdict.narrative.backend-older-meta':
    'The newest meta page of {db} is invalid; bbolt uses meta {meta} (txid {txid}), so the last write transaction is rolled back and the WAL replays it.',
  'etcd-verdict.narrative.backend-created': 'There is no usable db ({why}): etcd creates an empty one.',
  'etcd-verdict.narrative.backend-fails': 'etcd opens the bbolt db {db} and dies: {error}. Nothing after this runs.',
  'etcd-verdict.narrative.wal-check-fails': 'etcd reads every WAL file to find the valid snapshots and stops: {error} ({file} at byte {offset}).',
  'etcd-verdict.narrative.snap-chosen': 'It loads the newest usable snapshot {snap} (term {term}, index {index}).',
  'etcd-verdict.narrative.snap-none': 'No usable .snap file: it starts from the beginning of the WAL.',
  'etcd-verdict.narrative.snap-skipped': 'It sets {file} aside as {file}.broken ({error}).',
  'etcd-verdict.narrative.snap-db-fails': 'The db (consistent index {ci}) is older than snapshot index {index} and there is no {dbName}: etcd panics.',
  'etcd-verdict.narrative.mvcc-fails': 'The WAL reads, but restoring the key index from the db stops: {error}.',
  'etcd-verdict.narrative.wal-repair':
    'Reading the WAL ends in a torn record in {file} at byte {offset}: etcd copies the file to .broken, truncates it there and reads it again.',
  'etcd-verdict.narrative.wal-read-fails': 'Reading the WAL fails: {error}, and etcd cannot repair that.',
  'etcd-verdict.narrative.no-wal': 'There is no WAL: etcd starts the member as a new one.',
  'etcd-verdict.narrative.removed':
    'Member {node} was removed from the cluster at index {index}, which this WAL has committed: etcd starts, applies the removal again and stops about a second later.',
  'etcd-verdict.narrative.removed-peer':
    'Member {node} was removed from the cluster (its db or WAL records it, but etcd does not apply that again at start): etcd starts and stops as soon as a peer answers that the member is gone; with no peer reachable it waits for a leader forever.',
  'etcd-verdict.narrative.replay': 'It replays WAL entries {from}..{to} on top of the db (consistent index {ci}) and starts.',
  'etcd-verdict.narrative.up-to-date': 'The db already holds every committed entry (consistent index {ci}, commit {commit}): etcd starts.',
  'etcd-verdict.narrative.snapshot-db-ok': 'The SHA-256 trailer matches and the bbolt file opens: `etcdctl snapshot restore` accepts this file.',
  'etcd-verdict.narrative.snapshot-db-fails': '`etcdctl snapshot restore` refuses this file: {error}.',
  'etcd-verdict.narrative.db-only': 'This is a lone bbolt db: only whether etcd can open it is judged here.',
  'etcd-verdict.narrative.wal-only': 'This is a lone WAL directory: only whether etcd can read it is judged here.',
};

const narrativeZh: Record<keyof typeof narrativeEn, string> = {
  'etcd-verdict.narrative.backend-open': 'etcd 打开 bbolt db {db}（meta {meta}，txid {txid}），遍历所有页重建 freelist：树结构完好。',
  'etcd-verdict.narrative.backend-older-meta': '{db} 最新的 meta 页无效；bbolt 使用 meta {meta}（txid {txid}），最后一个写事务被回滚，由 WAL 重放。',
  'etcd-verdict.narrative.backend-created': '没有可用的 db（{why}）：etcd 会新建一个空 db。',
  'etcd-verdict.narrative.backend-fails': 'etcd 打开 bbolt db {db} 时退出，报错：“{error}”。之后的步骤都不会执行。',
  'etcd-verdict.narrative.wal-check-fails': 'etcd 读取所有 WAL 文件以查找有效快照时停止，报错：“{error}”（{file} 字节 {offset}）。',
  'etcd-verdict.narrative.snap-chosen': '它加载最新可用的快照 {snap}（任期 {term}，索引 {index}）。',
  'etcd-verdict.narrative.snap-none': '没有可用的 .snap 文件：从 WAL 的开头开始。',
  'etcd-verdict.narrative.snap-skipped': '它把 {file} 改名为 {file}.broken 放到一边（报错：“{error}”）。',
  'etcd-verdict.narrative.snap-db-fails': 'db（consistent index {ci}）比快照索引 {index} 旧，而且没有 {dbName}：etcd 会 panic。',
  'etcd-verdict.narrative.mvcc-fails': 'WAL 可以读取，但从 db 恢复键索引时停止，报错：“{error}”。',
  'etcd-verdict.narrative.wal-repair': '读取 WAL 时在 {file} 字节 {offset} 处遇到写坏的记录：etcd 把文件复制为 .broken，在该处截断后重新读取。',
  'etcd-verdict.narrative.wal-read-fails': '读取 WAL 失败，报错：“{error}”，etcd 无法修复。',
  'etcd-verdict.narrative.no-wal': '没有 WAL：etcd 会把该成员当作新成员启动。',
  'etcd-verdict.narrative.removed': '成员 {node} 已在索引 {index} 处从集群中移除，且该 WAL 已提交这一条目：etcd 启动后会再次应用这次移除，约一秒后退出。',
  'etcd-verdict.narrative.removed-peer':
    '成员 {node} 已从集群中移除（它的 db 或 WAL 记录了这次移除，但 etcd 启动时不会再次应用）：etcd 会启动，一旦有对等成员回应该成员已被移除就退出；如果连不上任何对等成员，它会一直等待选出领导者。',
  'etcd-verdict.narrative.replay': '它在 db（consistent index {ci}）之上重放 WAL 条目 {from}..{to}，然后启动。',
  'etcd-verdict.narrative.up-to-date': 'db 已包含所有已提交的条目（consistent index {ci}，commit {commit}）：etcd 会启动。',
  'etcd-verdict.narrative.snapshot-db-ok': 'SHA-256 尾部匹配，bbolt 文件可以打开：`etcdctl snapshot restore` 会接受该文件。',
  'etcd-verdict.narrative.snapshot-db-fails': '`etcdctl snapshot restore` 会拒绝该文件，报错：“{error}”。',
  'etcd-verdict.narrative.db-only': '这是单独的 bbolt db：这里只判断 etcd 能否打开它。',
  'etcd-verdict.narrative.wal-only': '这是单独的 WAL 目录：这里只判断 etcd 能否读取它。',
};

const summaryEn = {
  'etcd-verdict.summary.healthy': 'etcd would start on this data directory as it is, with no data loss.',
  'etcd-verdict.summary.warnings': 'etcd would start and no data is lost, but read this first: {first}',
  'etcd-verdict.summary.dies-on-read':
    'etcd would start, then die on the first read of {key} ("{error}"): bbolt no longer finds that revision where etcd looks for it, and the kube-apiserver reads everything as it starts. Do not start etcd on it: repair or salvage a copy, which writes every key in its place.',
  'etcd-verdict.summary.reads-wrong':
    "etcd would start, but a read of {key} returns {served}'s value instead of its own: that revision's key was damaged into its neighbour's, so bbolt finds the neighbour first. Nothing says so in etcd's log, and the kube-apiserver would act on the wrong object. Do not start etcd on it: repair or salvage a copy, which writes every key at its own revision.",
  'etcd-verdict.summary.reads-older':
    "etcd would start, but serves {key} as it was before its newest revision ({revision}), which lies above the revision etcd restores to ({current}): that revision's key was damaged upwards. Nothing in etcd's log says so. Do not start etcd on it: repair or salvage a copy.",
  'etcd-verdict.summary.self-repair':
    'etcd would start, and repairs this by itself on the way ({repairs}); no committed data is lost. Keep a copy of the directory first.',
  'etcd-verdict.summary.cut-short':
    'etcd would start, but {file} was cut short after etcd wrote it, not torn by a crash: what it held after entry {last} is gone, and whether committed writes were among it cannot be told from this directory (the db holds up to index {ci}). If this is a copy, copy the WAL again; otherwise compare with the other members or a backup before starting etcd.',
  'etcd-verdict.summary.data-loss':
    'etcd would start, but only by dropping data: {lost}. Copy the directory off before starting it, and compare with the other members first.',
  'etcd-verdict.summary.fails': 'etcd would not start: {error}. {next}',
  'etcd-verdict.summary.snapshot-ok': 'This snapshot.db is intact: `etcdctl snapshot restore` accepts it (revision {revision}, {keys} live keys).',
  'etcd-verdict.summary.snapshot-ok-at-least':
    'This snapshot.db is intact: `etcdctl snapshot restore` accepts it (revision {revision}, at least {keys} live keys).',
  'etcd-verdict.summary.snapshot-ok-k3s': 'This snapshot.db is intact (revision {revision}, {keys} live keys). {next}',
  'etcd-verdict.summary.snapshot-fails': 'This snapshot.db cannot be restored as it is: {error}. {next}',
  'etcd-verdict.summary.db-ok':
    'This bbolt db opens cleanly (revision {revision}, consistent index {ci}, {keys} live keys). Validate the whole data directory for a start-up verdict.',
  'etcd-verdict.summary.db-ok-at-least':
    'This bbolt db opens cleanly (revision {revision}, consistent index {ci}, at least {keys} live keys). Validate the whole data directory for a start-up verdict.',
  'etcd-verdict.summary.db-fails': 'etcd cannot use this bbolt db: {error}. {next}',
  'etcd-verdict.summary.wal-ok': 'This WAL reads cleanly up to index {last} (commit {commit}). Validate the whole data directory for a start-up verdict.',
  'etcd-verdict.summary.wal-fails': 'etcd cannot read this WAL: {error}. {next}',
  'etcd-verdict.next.backend':
    'The db tree is damaged: do not start etcd on it. Copy the directory, then revert to the older meta if its tree is intact, salvage the keys, or restore from a snapshot.db or a healthy member.',
  'etcd-verdict.next.backend-revert':
    "The newest transaction's tree is damaged and the older meta page's tree is intact: do not start etcd on it. Copy the directory, then repair the copy (Repair or salvage below, or `lifeboat repair`: it goes back to the older tree when etcd can start from it, and etcd re-applies the newer writes from the WAL; else it rebuilds the db from the leaves and the WAL), or restore from a snapshot.db or a healthy member.",
  'etcd-verdict.next.backend-rebuild':
    'The db tree is damaged and neither meta page leads to an intact tree: do not start etcd on it. Copy the directory, then repair the copy (Repair or salvage below, or `lifeboat repair`: it rebuilds the db from every readable leaf page plus the WAL) or salvage the keys into a snapshot.db (`lifeboat salvage`), or restore from a snapshot.db or a healthy member.',
  'etcd-verdict.next.wal':
    'The WAL is damaged where etcd cannot repair it. If the db is current (consistent index >= commit), the member can be rebuilt from it; otherwise take the data from a healthy member or a snapshot.',
  'etcd-verdict.next.snap': 'Put the matching <index>.snap.db back, or restore from a snapshot.db or a healthy member.',
  'etcd-verdict.next.snap-replay':
    'The WAL still holds every entry from index 1: moving the .snap files (and any .snap.db) to a quarantine folder makes etcd rebuild the db by replaying the whole WAL. Or put the matching <index>.snap.db back, or restore from a snapshot.db or a healthy member.',
  'etcd-verdict.next.removed':
    'This data belongs to a removed member. To bring the node back, add it again (`etcdctl member add`) and start it with an empty data dir and --initial-cluster-state=existing; keep this directory as evidence.',
  'etcd-verdict.next.k3s-reset':
    "It is a k3s or RKE2 server's snapshot (their bootstrap data is in it): restore it with the server's own reset, `k3s server --cluster-reset --cluster-reset-restore-path=FILE` (or `rke2 server …`), not etcdctl.",
  'etcd-verdict.next.restore':
    'Take a fresh `etcdctl snapshot save` from a healthy member, or restore with --skip-hash-check only if you know why the hash differs.',
  'etcd-verdict.next.other': 'Copy the directory off before changing anything.',
  'etcd-verdict.lost.wal': 'WAL entries {from}..{to} not in the db',
};

const summaryZh: Record<keyof typeof summaryEn, string> = {
  'etcd-verdict.summary.healthy': 'etcd 可以在该数据目录上原样启动，不会丢失数据。',
  'etcd-verdict.summary.warnings': 'etcd 可以启动且不会丢失数据，但请先阅读：{first}',
  'etcd-verdict.summary.dies-on-read':
    'etcd 可以启动，但第一次读取 {key} 时就会崩溃（“{error}”）：bbolt 在 etcd 查找的位置再也找不到该修订版本，而 kube-apiserver 启动时会读取全部数据。不要在此 db 上启动 etcd：请修复或抢救一份副本，它们会把每个键写到正确的位置。',
  'etcd-verdict.summary.reads-wrong':
    'etcd 可以启动，但读取 {key} 时返回的是 {served} 的值而不是它自己的：该修订版本的键被损坏成与相邻元素的键相同，bbolt 会先找到相邻的那个。etcd 的日志里不会有任何提示，kube-apiserver 会按错误的对象行事。不要在此 db 上启动 etcd：请修复或抢救一份副本，它们会把每个键写在它自己的修订版本上。',
  'etcd-verdict.summary.reads-older':
    'etcd 可以启动，但会按 {key} 最新修订版本（{revision}）之前的状态提供它：该修订版本高于 etcd 恢复到的修订版本（{current}），它的键被损坏得更大了。etcd 的日志里不会有任何提示。不要在此 db 上启动 etcd：请修复或抢救一份副本。',
  'etcd-verdict.summary.self-repair': 'etcd 可以启动，并会在启动过程中自行修复（{repairs}）；不会丢失已提交的数据。请先备份该目录。',
  'etcd-verdict.summary.cut-short':
    'etcd 可以启动，但 {file} 是在 etcd 写入之后被截短的，而不是崩溃造成的写坏：它在条目 {last} 之后的内容都已不在，而其中是否有已提交的写入，从这个目录无法判断（db 保存到索引 {ci}）。如果这是一份副本，请重新复制 WAL；否则请在启动 etcd 前先与其他成员或备份比较。',
  'etcd-verdict.summary.data-loss': 'etcd 可以启动，但会丢弃数据：{lost}。启动前请先把目录复制出来，并先与其他成员比较。',
  'etcd-verdict.summary.fails': 'etcd 无法启动，报错：“{error}”。{next}',
  'etcd-verdict.summary.snapshot-ok-k3s': '该 snapshot.db 完好（修订版本 {revision}，{keys} 个有效键）。{next}',
  'etcd-verdict.summary.snapshot-ok': '该 snapshot.db 完好：`etcdctl snapshot restore` 会接受它（修订版本 {revision}，{keys} 个有效键）。',
  'etcd-verdict.summary.snapshot-ok-at-least': '该 snapshot.db 完好：`etcdctl snapshot restore` 会接受它（修订版本 {revision}，至少 {keys} 个有效键）。',
  'etcd-verdict.summary.snapshot-fails': '该 snapshot.db 无法原样恢复，报错：“{error}”。{next}',
  'etcd-verdict.summary.db-ok': '该 bbolt db 可以正常打开（修订版本 {revision}，consistent index {ci}，{keys} 个有效键）。要判断能否启动，请校验整个数据目录。',
  'etcd-verdict.summary.db-ok-at-least':
    '该 bbolt db 可以正常打开（修订版本 {revision}，consistent index {ci}，至少 {keys} 个有效键）。要判断能否启动，请校验整个数据目录。',
  'etcd-verdict.summary.db-fails': 'etcd 无法使用该 bbolt db，报错：“{error}”。{next}',
  'etcd-verdict.summary.wal-ok': '该 WAL 可以完整读取到索引 {last}（commit {commit}）。要判断能否启动，请校验整个数据目录。',
  'etcd-verdict.summary.wal-fails': 'etcd 无法读取该 WAL，报错：“{error}”。{next}',
  'etcd-verdict.next.backend':
    'db 的树结构已损坏：不要在其上启动 etcd。先复制目录，然后在较旧 meta 的树完好时回退到它、抢救键，或从 snapshot.db 或健康成员恢复。',
  'etcd-verdict.next.backend-revert':
    '最新事务的树已损坏，而较旧 meta 页的树完好：不要在其上启动 etcd。先复制目录，再修复副本（下方的“修复或抢救”，或 `lifeboat repair`：etcd 能从较旧的树启动时回退到它，etcd 会从 WAL 重新应用较新的写入；否则用叶子页和 WAL 重建 db），或从 snapshot.db 或健康成员恢复。',
  'etcd-verdict.next.backend-rebuild':
    'db 的树已损坏，且两个 meta 页都通不到完好的树：不要在其上启动 etcd。先复制目录，再修复副本（下方的“修复或抢救”，或 `lifeboat repair`：它用每个可读的叶子页加上 WAL 重建 db），或把键抢救到 snapshot.db（`lifeboat salvage`），或从 snapshot.db 或健康成员恢复。',
  'etcd-verdict.next.wal':
    'WAL 在 etcd 无法修复的位置损坏。如果 db 是最新的（consistent index >= commit），可以用它重建该成员；否则请从健康成员或快照获取数据。',
  'etcd-verdict.next.snap': '放回对应的 <index>.snap.db，或从 snapshot.db 或健康成员恢复。',
  'etcd-verdict.next.snap-replay':
    'WAL 仍保留从索引 1 开始的所有条目：把 .snap 文件（以及 .snap.db）移到隔离目录后，etcd 会重放整个 WAL 重建 db。也可以放回对应的 <index>.snap.db，或从 snapshot.db 或健康成员恢复。',
  'etcd-verdict.next.removed':
    '这些数据属于已被移除的成员。要让该节点重新加入，请重新添加它（`etcdctl member add`），并用空数据目录和 --initial-cluster-state=existing 启动；把这个目录留作证据。',
  'etcd-verdict.next.k3s-reset':
    '这是 k3s 或 RKE2 服务器的快照（含它们的引导数据）：请用服务器自己的重置来恢复，即 `k3s server --cluster-reset --cluster-reset-restore-path=FILE`（或 `rke2 server …`），而不是 etcdctl。',
  'etcd-verdict.next.restore': '从健康成员重新执行 `etcdctl snapshot save`；只有确知哈希不同的原因时才使用 --skip-hash-check 恢复。',
  'etcd-verdict.next.other': '在做任何改动之前先把目录复制出来。',
  'etcd-verdict.lost.wal': 'db 中没有的 WAL 条目 {from}..{to}',
};

const membersEn = {
  'etcd-verdict.members.keep.term':
    'Keep {root}: it has the highest last log term ({value}). Rebuild the cluster from it (snapshot it, or start it with --force-new-cluster) and re-add the others empty.',
  'etcd-verdict.members.keep.index':
    'Keep {root}: it has the highest last log index ({value}). Rebuild the cluster from it (snapshot it, or start it with --force-new-cluster) and re-add the others empty.',
  'etcd-verdict.members.keep.applied':
    'Keep {root}: it has the highest applied index ({value}). Rebuild the cluster from it (snapshot it, or start it with --force-new-cluster) and re-add the others empty.',
  'etcd-verdict.members.keep.revision':
    'Keep {root}: it has the highest revision ({value}). Rebuild the cluster from it (snapshot it, or start it with --force-new-cluster) and re-add the others empty.',
  'etcd-verdict.members.quorum':
    '{n} of the {total} registered members would start as they are and keep every entry: a quorum. If they still have the addresses they are registered at, start them all: they elect a leader, the ones behind catch up, and no rebuild is needed. If their addresses changed (kind after a reboot), they cannot reach each other: rebuild from {root}, which holds the newest data, with --force-new-cluster.',
  'etcd-verdict.members.none': 'No member here can start: restore from a snapshot.db.',
  'etcd-verdict.members.single': 'Only one member was given.',
};
const membersZh: Record<keyof typeof membersEn, string> = {
  'etcd-verdict.members.keep.term':
    '保留 {root}：它最后一条日志的任期最高（{value}）。以它重建集群（对它做快照，或用 --force-new-cluster 启动），再以空目录重新添加其他成员。',
  'etcd-verdict.members.keep.index':
    '保留 {root}：它最后一条日志的索引最高（{value}）。以它重建集群（对它做快照，或用 --force-new-cluster 启动），再以空目录重新添加其他成员。',
  'etcd-verdict.members.keep.applied':
    '保留 {root}：它已应用的索引最高（{value}）。以它重建集群（对它做快照，或用 --force-new-cluster 启动），再以空目录重新添加其他成员。',
  'etcd-verdict.members.keep.revision':
    '保留 {root}：它的修订版本最高（{value}）。以它重建集群（对它做快照，或用 --force-new-cluster 启动），再以空目录重新添加其他成员。',
  'etcd-verdict.members.quorum':
    '已登记的 {total} 个成员中有 {n} 个按现状即可启动且不丢条目，已过半数。如果它们仍使用登记时的地址，把它们全部启动即可：它们会选出领导节点，落后的成员会追上，不需要重建。如果地址已经变了（例如 kind 重启后），成员之间无法互通：请以数据最新的 {root} 用 --force-new-cluster 重建集群。',
  'etcd-verdict.members.none': '这里没有能启动的成员：请从 snapshot.db 恢复。',
  'etcd-verdict.members.single': '只给出了一个成员。',
};

/** What etcd changes on disk by itself at start-up (EtcdStartup.selfRepairs; the self-repair summary lists them). */
const repairsEn = {
  'etcd-verdict.repair.create-db': 'creates an empty db',
  'etcd-verdict.repair.rename-snap': 'renames {file} to {file}.broken',
  'etcd-verdict.repair.truncate-wal': 'truncates {file} at byte {offset} (the original is kept as {file}.broken)',
  'etcd-verdict.repair.truncate-wal-only': 'truncates {file} at byte {offset}',
  'etcd-verdict.repair.zero-fill': 'zero-fills {file} from byte {offset} (entries {first}..{last} there are erased)',
  'etcd-verdict.lost.reason': 'etcd drops these WAL entries at start-up and the db does not hold them',
};
const repairsZh: Record<keyof typeof repairsEn, string> = {
  'etcd-verdict.repair.create-db': '新建一个空 db',
  'etcd-verdict.repair.rename-snap': '把 {file} 改名为 {file}.broken',
  'etcd-verdict.repair.truncate-wal': '在字节 {offset} 处截断 {file}（原文件保留为 {file}.broken）',
  'etcd-verdict.repair.truncate-wal-only': '在字节 {offset} 处截断 {file}',
  'etcd-verdict.repair.zero-fill': '从字节 {offset} 起把 {file} 清零（其中的条目 {first}..{last} 会被抹掉）',
  'etcd-verdict.lost.reason': 'etcd 启动时会丢弃这些 WAL 条目，而 db 中没有它们',
};

/**
 * Words that fill a placeholder, per case: each variant template below is the
 * base template with the word written in, so a translated sentence never
 * carries an English word (`{why}`, `{kind}`).
 */
const WHY = {
  empty: { en: '{db} is empty', zh: '{db} 是空文件' },
  missing: { en: 'member/snap/db is missing', zh: 'member/snap/db 不存在' },
} as const;
const LEFTOVER_KIND = {
  broken: { en: 'broken', zh: '已被放到一边的（.broken）' },
  tmp: { en: 'tmp', zh: '临时（.tmp）' },
  'snap-db': { en: 'snap-db', zh: '从领导节点收到的快照 db（.snap.db）' },
  unknown: { en: 'unknown', zh: '来历不明的' },
} as const;

type Variants<P extends string, W> = Record<`${P}.${Extract<keyof W, string>}${P extends `finding.${string}` ? '.message' : ''}`, string>;

function variants<P extends string, W extends Record<string, { en: string; zh: string }>>(
  prefix: P,
  base: string,
  placeholder: string,
  words: W,
  lang: 'en' | 'zh',
): Variants<P, W> {
  const suffix = prefix.startsWith('finding.') ? '.message' : '';
  return Object.fromEntries(Object.entries(words).map(([w, v]) => [`${prefix}.${w}${suffix}`, base.replace(`{${placeholder}}`, v[lang])])) as Variants<P, W>;
}

const composedEn = {
  ...variants('finding.startup.db-created', messagesEn['finding.startup.db-created.message'], 'why', WHY, 'en'),
  ...variants('etcd-verdict.narrative.backend-created', narrativeEn['etcd-verdict.narrative.backend-created'], 'why', WHY, 'en'),
  ...variants('finding.layout.leftover', messagesEn['finding.layout.leftover.message'], 'kind', LEFTOVER_KIND, 'en'),
};
const composedZh: Record<keyof typeof composedEn, string> = {
  ...variants('finding.startup.db-created', messagesZh['finding.startup.db-created.message'], 'why', WHY, 'zh'),
  ...variants('etcd-verdict.narrative.backend-created', narrativeZh['etcd-verdict.narrative.backend-created'], 'why', WHY, 'zh'),
  ...variants('finding.layout.leftover', messagesZh['finding.layout.leftover.message'], 'kind', LEFTOVER_KIND, 'zh'),
};

export type EtcdTextKey =
  | keyof typeof titlesEn
  | keyof typeof messagesEn
  | keyof typeof narrativeEn
  | keyof typeof summaryEn
  | keyof typeof membersEn
  | keyof typeof repairsEn
  | keyof typeof composedEn;

export default defineCatalog<EtcdTextKey>(
  { ...titlesEn, ...messagesEn, ...narrativeEn, ...summaryEn, ...membersEn, ...repairsEn, ...composedEn },
  { ...titlesZh, ...messagesZh, ...narrativeZh, ...summaryZh, ...membersZh, ...repairsZh, ...composedZh },
);
