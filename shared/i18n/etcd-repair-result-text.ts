/**
 * What `lifeboat repair` did and why a key or revision was lost, in English
 * and Simplified Chinese: the repair actions (`EtcdRepairAction.textLocal`),
 * the reason behind the db strategy they start with, and the loss reasons
 * (`SalvageLoss.reasonText`). The English `text` / `reason` of the report is
 * written from these templates (shared/formats/etcd/repair-say.ts), so the
 * CLI and JSON read as before. etcd's and bbolt's own error texts are params
 * quoted as they are (`etcd-repair.engine`); paths, file names and commands
 * are never translated.
 */
import { defineCatalog } from './types';

const en = {
  // Words filled into other sentences.
  'etcd-repair.value': '{value}',
  'etcd-repair.unknown': 'unknown',
  /** etcd's or bbolt's own text: bare in English, quoted in Chinese. */
  'etcd-repair.engine': '{error}',
  // Why the db is kept, reverted or rebuilt (repair-plan.ts chooseDbStrategy).
  'etcd-repair.reason.empty': 'the db is empty (0 bytes)',
  'etcd-repair.reason.cannot-open': 'bbolt cannot open the db ({error})',
  'etcd-repair.reason.no-valid-meta': 'no valid meta page',
  'etcd-repair.reason.intact': 'the db tree is intact',
  'etcd-repair.reason.intact-ci-below': 'the db tree is intact but its consistent index {ci} is below the snapshot etcd loads ({min})',
  'etcd-repair.reason.revert': "the newest transaction's tree is damaged ({crash}) but the older meta page's tree is intact",
  'etcd-repair.reason.older-ci-below':
    "the newest tree is damaged ({crash}); the older meta's tree is intact but its consistent index {ci} is below the snapshot etcd loads ({min})",
  'etcd-repair.reason.damaged': 'the db tree is damaged ({crash}) and no older intact tree exists',
  'etcd-repair.reason.damaged-tree': 'damaged tree',
  'etcd-repair.reason.reads-older': "etcd would serve {key} as it was before its newest revision ({revision}): that revision's key was damaged upwards",
  'etcd-repair.reason.reads-wrong': "a read of {key} would serve {served}'s value: its revision key reads the same as its neighbour's",
  'etcd-repair.reason.no-db': 'there is no member/snap/db',
  'etcd-repair.reason.wal-unreadable': 'the WAL cannot be read ({error}), so the db is rebuilt to match a fresh WAL',
  'etcd-repair.reason.wal-behind-db':
    "the WAL etcd reads ends at entry {last}, before the db's consistent index {ci}: etcd would serve the db but apply no new write until its raft index passed {ci} (each would time out and be lost), so the db is rebuilt to match a fresh WAL",
  'etcd-repair.reason.wal-missing':
    'there is no WAL beside a db that has applied entries up to {ci}: etcd would start a new log at index 1 and apply no write until it passed {ci} (each would time out and be lost), so the db is rebuilt to match a fresh WAL',
  'etcd-repair.reason.wal-past-end':
    'the WAL etcd reads ends at entry {last} (a zero length word), but records follow it up to entry {past}: etcd would drop them, so the db is rebuilt with them to match a fresh WAL',
  'etcd-repair.reason.wal-differs':
    "the db tree is intact, but {count} writes the WAL holds are not in it as written (a value or key changed on disk, which bbolt cannot notice: it keeps no checksum), so the db is rebuilt with the WAL's writes",
  // What repair did (EtcdRepairAction).
  'etcd-repair.action.copy': 'copied {count} files of {dir} unchanged',
  'etcd-repair.action.wal-truncate': "cut {file} at byte {offset} (its torn tail), as etcd's wal.Repair would; the whole original is {kept}",
  'etcd-repair.action.write-wal':
    "wrote a WAL for the db's one member {member} (cluster {cluster}, as etcd derives it from the member IDs; {count} membership entries), and rebuilt the db to match it; any .snap files are in {dir}",
  'etcd-repair.action.rebuild-wal-early':
    'the WAL etcd reads ends early (at entry {last}): wrote a fresh WAL with the same member {member} and cluster {cluster} ({count} membership entries); every entry the salvage reader found, past that end too, is in the rebuilt db; the old WAL and .snap files are in {dir}',
  'etcd-repair.action.rebuild-wal':
    'the WAL cannot be read past {where} ({error}): wrote a fresh WAL with the same member {member} and cluster {cluster} ({count} membership entries); its entries up to the damage are in the rebuilt db; the old WAL and .snap files are in {dir}',
  'etcd-repair.where.file': '{file} byte {offset}',
  'etcd-repair.where.start': 'its start byte {offset}',
  'etcd-repair.action.db-intact': 'the db is intact: copied unchanged',
  'etcd-repair.action.revert-meta':
    '{reason}: meta page {meta} (the older transaction) copied over the newer one; etcd re-applies the newer writes from the WAL',
  'etcd-repair.action.quarantine-db': 'the damaged db is kept as {path}',
  'etcd-repair.action.rebuild-db':
    '{reason}: rebuilt the db from every readable leaf page{wal}: {keys} keys ({tree} from the tree, {orphaned} from cut-off leaves, {walKeys} from the WAL)',
  'etcd-repair.action.rebuild-db.wal': ' and WAL entries {from}..{to}',
  // Why keys or revisions were lost (SalvageLoss).
  'etcd-loss.wal-skip': '{file} byte {offset}: {error}; the WAL record there (after entry {after}) was stepped over{rest}, and what it wrote is lost ({held})',
  'etcd-loss.wal-skip.rest': ' with the rest of that file',
  'etcd-loss.wal-skip.zero-word':
    "{file} byte {offset}: a zero length word where a record should be (etcd's decoder reads it as the end of the WAL); salvage read on from byte {resume}, and what the records between wrote (after entry {after}) is lost ({held})",
  'etcd-loss.wal-hidden': '{hidden}; the keys they wrote are lost ({held})',
  'etcd-loss.held': 'the db holds nothing newer than index {ci}',
  'etcd-loss.held.none': 'there is no readable db to fall back on',
  'etcd-loss.wal-hidden.where':
    '{file}: etcd reads the WAL only up to byte {offset}{stop}, but more records follow{at}{later}: the entries after index {last} cannot be read',
  'etcd-loss.wal-unread.where':
    '{file}: the WAL cannot be read past byte {offset}{stop}, and no record can be found after it: the entries after index {last} cannot be read, nor told',
  'etcd-loss.wal-unreached.where':
    '{file}: stepping over damage, salvage reads the WAL only up to entry {last} (byte {offset}), but more records follow{at}{later}: they cannot be read',
  'etcd-loss.wal-hidden.stop': ' ({error})',
  'etcd-loss.wal-hidden.zero-length': ' (a zero length word ends it)',
  'etcd-loss.wal-hidden.at': ' at byte {offset}',
  'etcd-loss.wal-hidden.later': ' and in {count} later WAL files',
  'etcd-loss.cut-pages':
    '{file} ends at page {from} but its meta page counts {to} pages: pages {from}..{last} were cut off; the revisions they held are lost unless the WAL holds them (keys last written there keep an older value or are missing)',
  'etcd-loss.revisions.wal':
    'revisions {from}..{to} are in no readable page and not in the readable WAL; keys the WAL wrote again are back (source "wal"), any other key last written in these revisions keeps an older value or is missing',
  'etcd-loss.revisions.no-wal':
    'revisions {from}..{to} are in no readable page and no WAL entry brings them back: a key last written in these revisions keeps an older value or is missing',
  // The result view: the kind of each action (the English is the kind as the JSON names it), the plan's problems.
  'etcd-repair.kind.copy': 'copy',
  'etcd-repair.kind.revert-meta': 'revert-meta',
  'etcd-repair.kind.rebuild-db': 'rebuild-db',
  'etcd-repair.kind.rebuild-wal': 'rebuild-wal',
  'etcd-repair.kind.wal-truncate': 'wal-truncate',
  'etcd-repair.kind.quarantine': 'quarantine',
  'etcd-repair.kind.keep': 'keep',
  'etcd-repair.plan.problems': 'The plan is not complete:',
};

const zh: Record<keyof typeof en, string> = {
  'etcd-repair.value': '{value}',
  'etcd-repair.unknown': '未知',
  'etcd-repair.engine': '“{error}”',
  'etcd-repair.reason.empty': 'db 为空（0 字节）',
  'etcd-repair.reason.cannot-open': 'bbolt 无法打开该 db（{error}）',
  'etcd-repair.reason.no-valid-meta': '没有有效的 meta 页',
  'etcd-repair.reason.intact': 'db 的树完好',
  'etcd-repair.reason.intact-ci-below': 'db 的树完好，但它的 consistent index {ci} 低于 etcd 要加载的快照（{min}）',
  'etcd-repair.reason.revert': '最新事务的树已损坏（{crash}），但较旧的 meta 页所指的树完好',
  'etcd-repair.reason.older-ci-below': '最新的树已损坏（{crash}）；较旧 meta 页的树完好，但它的 consistent index {ci} 低于 etcd 要加载的快照（{min}）',
  'etcd-repair.reason.damaged': 'db 的树已损坏（{crash}），也没有较旧的完好的树',
  'etcd-repair.reason.damaged-tree': '树已损坏',
  'etcd-repair.reason.reads-older': 'etcd 会按 {key} 最新修订版本（{revision}）之前的状态提供它：该修订版本的键被损坏得更大了',
  'etcd-repair.reason.reads-wrong': '读取 {key} 会得到 {served} 的值：它的修订键与相邻元素的修订键相同',
  'etcd-repair.reason.no-db': '没有 member/snap/db',
  'etcd-repair.reason.wal-unreadable': 'WAL 无法读取（{error}），因此重建 db，使之与新写的 WAL 一致',
  'etcd-repair.reason.wal-behind-db':
    'etcd 读取的 WAL 止于条目 {last}，早于 db 的 consistent index {ci}：etcd 会提供 db 中的数据，但在其 raft 索引超过 {ci} 之前不会应用任何新的写入（每次写入都会超时并丢失），因此重建 db，使之与新写的 WAL 一致',
  'etcd-repair.reason.wal-missing':
    '没有 WAL，而 db 已应用到条目 {ci}：etcd 会从索引 1 开始新的日志，在超过 {ci} 之前不会应用任何写入（每次写入都会超时并丢失），因此重建 db，使之与新写的 WAL 一致',
  'etcd-repair.reason.wal-past-end':
    'etcd 读取的 WAL 止于条目 {last}（一个为零的长度字），但其后还有直到条目 {past} 的记录：etcd 会丢弃它们，因此用它们重建 db，使之与新写的 WAL 一致',
  'etcd-repair.reason.wal-differs':
    'db 的树完好，但 WAL 中有 {count} 笔写入没有按原样保存在其中（磁盘上的值或键被改动了，bbolt 不保存校验和，无法察觉），因此用 WAL 中的写入重建 db',
  'etcd-repair.action.copy': '原样复制了 {dir} 中的 {count} 个文件',
  'etcd-repair.action.wal-truncate': '在第 {offset} 字节处截断 {file}（去掉撕裂的尾部），与 etcd 的 `wal.Repair` 做法相同；完整的原文件保存在 {kept}',
  'etcd-repair.action.write-wal':
    '为 db 中唯一的成员 {member} 写入了 WAL（集群 {cluster}，按 etcd 由成员 ID 推算的方式得出；{count} 条成员变更条目），并重建 db 与之一致；原有的 .snap 文件在 {dir}',
  'etcd-repair.action.rebuild-wal-early':
    'etcd 读取的 WAL 提前结束（止于条目 {last}）：已写入新的 WAL，成员 {member} 和集群 {cluster} 不变（{count} 条成员变更条目）；抢救读取器找到的每个条目（包括那个结尾之后的）都已写入重建的 db；旧的 WAL 和 .snap 文件在 {dir}',
  'etcd-repair.action.rebuild-wal':
    'WAL 在 {where}之后无法读取（{error}）：写了一个新的 WAL，成员 {member} 和集群 {cluster} 保持不变（{count} 条成员条目）；损坏处之前的条目已在重建的 db 中；旧的 WAL 和 .snap 文件在 {dir}',
  'etcd-repair.where.file': '{file} 第 {offset} 字节',
  'etcd-repair.where.start': '开头第 {offset} 字节',
  'etcd-repair.action.db-intact': 'db 完好：原样复制',
  'etcd-repair.action.revert-meta': '{reason}：把 meta 页 {meta}（较旧的事务）复制到较新的那一页上；etcd 会从 WAL 重新应用较新的写入',
  'etcd-repair.action.quarantine-db': '损坏的 db 保留为 {path}',
  'etcd-repair.action.rebuild-db':
    '{reason}：用每个可读的叶子页{wal}重建了 db：{keys} 个键（{tree} 个来自树，{orphaned} 个来自被切断的叶子页，{walKeys} 个来自 WAL）',
  'etcd-repair.action.rebuild-db.wal': '以及 WAL 条目 {from}..{to} ',
  'etcd-loss.wal-skip': '{file} 第 {offset} 字节：{error}；那里的 WAL 记录（条目 {after} 之后）被跳过{rest}，它写入的内容已丢失（{held}）',
  'etcd-loss.wal-skip.rest': '，连同该文件余下的部分',
  'etcd-loss.wal-skip.zero-word':
    '{file} 第 {offset} 字节：本应是记录的地方是一个为零的长度字（etcd 的解码器会把它当作 WAL 的结尾）；抢救从第 {resume} 字节起继续读取，其间的记录（条目 {after} 之后）写入的内容已丢失（{held}）',
  'etcd-loss.wal-hidden': '{hidden}；它们写入的键已丢失（{held}）',
  'etcd-loss.held': 'db 中没有比索引 {ci} 更新的内容',
  'etcd-loss.held.none': '没有可读的 db 可作后备',
  'etcd-loss.wal-hidden.where': '{file}：etcd 只读取 WAL 到第 {offset} 字节{stop}，但后面还有记录{at}{later}：索引 {last} 之后的条目无法读取',
  'etcd-loss.wal-unread.where': '{file}：WAL 在第 {offset} 字节之后无法读取{stop}，其后也找不到任何记录：索引 {last} 之后的条目既无法读取，也无从得知',
  'etcd-loss.wal-unreached.where': '{file}：跳过损坏之后，抢救也只能读取 WAL 到条目 {last}（第 {offset} 字节），但后面还有记录{at}{later}：它们无法读取',
  'etcd-loss.wal-hidden.stop': '（{error}）',
  'etcd-loss.wal-hidden.zero-length': '（一个长度为零的字在此结束了读取）',
  'etcd-loss.wal-hidden.at': '（从第 {offset} 字节起）',
  'etcd-loss.wal-hidden.later': '，之后的 {count} 个 WAL 文件中也有',
  'etcd-loss.cut-pages':
    '{file} 在第 {from} 页结束，但它的 meta 页记录了 {to} 页：第 {from}..{last} 页被截掉了；除非 WAL 中还有，否则这些页中的修订版本已丢失（最后在那里写入的键保留较旧的值或缺失）',
  'etcd-loss.revisions.wal':
    '修订版本 {from}..{to} 不在任何可读的页中，也不在可读的 WAL 中；WAL 再次写入过的键已找回（来源为 WAL），其他最后在这些修订版本中写入的键保留较旧的值或缺失',
  'etcd-loss.revisions.no-wal': '修订版本 {from}..{to} 不在任何可读的页中，也没有 WAL 条目能找回它们：最后在这些修订版本中写入的键保留较旧的值或缺失',
  'etcd-repair.kind.copy': '复制',
  'etcd-repair.kind.revert-meta': '回退 meta',
  'etcd-repair.kind.rebuild-db': '重建 db',
  'etcd-repair.kind.rebuild-wal': '重建 WAL',
  'etcd-repair.kind.wal-truncate': '截断 WAL',
  'etcd-repair.kind.quarantine': '隔离',
  'etcd-repair.kind.keep': '保留',
  'etcd-repair.plan.problems': '计划还不完整：',
};

export type EtcdRepairResultKey = keyof typeof en;

export default defineCatalog(en, zh);
