/**
 * The messages of the findings etcd salvage (shared/formats/etcd/salvage.ts)
 * and repair (shared/formats/etcd/repair-plan.ts) report, in English and
 * Simplified Chinese (`finding.<code>.message`, variants by `messageKey`).
 * The English `message` of the report is the interpolated English template
 * (the CLI and JSON read as before); the UI shows the template of its
 * language. Their titles are in etcd-repair-text.ts. bbolt's and etcd's own
 * error texts are params (`{error}`), quoted as they are in Chinese; file
 * names, paths and commands are never translated.
 */
import { defineCatalog } from './types';

const en = {
  // salvage.damaged-page: what is wrong with the page, then what salvage does about it.
  'finding.salvage.damaged-page.outside.message':
    'page {page}: {outside} of {count} elements lie outside the page; what it held is read from other pages or the WAL where possible',
  'finding.salvage.damaged-page.element-bounds.message':
    'page {page}: element {index}: key and value ({ksize} + {vsize} bytes at +{pos}) run past the end of the page ({bytes} bytes); what it held is read from other pages or the WAL where possible',
  'finding.salvage.damaged-page.no-value.message':
    'page {page} element {index}: revision {main}_{sub} holds no readable mvccpb.KeyValue; what it held is read from other pages or the WAL where possible',
  'finding.salvage.damaged-page.revision-key.message':
    "page {page} element {index}: revision key {main}_{sub} is out of order with its neighbours, and its value's mod_revision {mod} fits between them: a damaged key (etcd dies reading it); the put is written at revision {mod}",
  'finding.salvage.damaged-page.revision-key-end.message':
    "page {page} element {index}: revision key {main}_{sub}, at the end of its leaf, and its value's mod_revision {mod} differ in one bit, and {mod} lies nearer the leaf's other keys: a flipped bit in the key; the put is written at revision {mod}",
  'finding.salvage.damaged-page.revision-key-high.message':
    "page {page} element {index}: revision key {main}_{sub} is past any revision etcd counts (a flipped high bit), and its value's mod_revision {mod} fits beside its neighbour: the put is written at revision {mod}",
  'finding.salvage.damaged-page.not-a-page.message':
    'page {page} is reached by the tree but is not a valid page (header id {id}, flags 0x{flags}); what it held is read from other pages or the WAL where possible',
  'finding.salvage.shared-revision.message':
    "Keys claimed a revision another key already had ({count} in all; the first: {key} at {main}_{sub}, written at {main}_{to}): a damaged revision key that reads as another key's, or revisions past 2^53 where a number no longer tells n from n + 1. Each is written at the next free sub revision of that revision, so the keys in the snapshot still rise; check these keys against another backup",
  'finding.salvage.db-value-differs.message':
    "page {page}: key {key}: the db's newest readable value (revision {revision}) is not the one WAL entry {index} wrote last; the WAL's value is written (revision {written}). Either the page with the newer revision was lost, or the value's bytes changed in the file: bbolt has no checksum, and etcd would serve the db's bytes as they are",
  'finding.salvage.damaged-key-name.older.message':
    'page {page}: key {bad} at revision {revision} was never written: the WAL entry that made that revision put {good}, with the same value and a name that differs only in one run of bytes. It is an older revision of {good} (written again or deleted since) with its name damaged on disk; bbolt has no checksum, and etcd would serve it as a key of its own. Left out',
  'finding.salvage.damaged-key-name.newest.message':
    'page {page}: key {bad} at revision {revision} was never written: the WAL wrote {good} with the same value, the db holds {good} only at an older revision ({older}), and the names differ only in one run of bytes (the name of its newest revision damaged on disk; bbolt has no checksum and etcd would serve both, {good} with its older value). {good} is written from the WAL, {bad} is left out',
  'finding.salvage.damaged-key-name.message':
    'page {page}: key {bad} at revision {revision} was never written: the WAL wrote {good} with the same value, the db lacks {good}, and the names differ only in one run of bytes (the name damaged on disk; bbolt has no checksum and etcd would serve both). {good} is written from the WAL, {bad} is left out',
  'finding.salvage.db-empty.message':
    "{file} is empty (0 bytes): there are no pages to read keys from. Look for a snapshot.db backup or another member's data dir.",
  'finding.salvage.snapshot-hash-mismatch.message':
    'The SHA-256 trailer of {file} does not match its contents (stored {stored}, computed {computed}): some bytes changed after it was saved. Salvage reads every page it can, but a value whose bytes changed cannot be told apart; compare important objects with another backup.',
  'finding.salvage.meta-invalid.message': 'meta page {meta}: {error}; salvage does not depend on it (every page is scanned)',
  'finding.salvage.meta-invalid.root-outside.message':
    'meta page {meta}: root page {root} is outside the file; salvage does not depend on it (every page is scanned)',
  'finding.salvage.db-too-small.message':
    '{file} has {bytes} bytes ({pages} pages of {pageSize}): a bbolt file with data has at least 3 pages. Nothing to salvage from it.',
  'finding.salvage.revisions-from-wal.message':
    'revisions {from}..{to} are in no readable page; the WAL still held the writes of that span and they were replayed',
  'finding.salvage.revisions-from-wal.cut-pages.message':
    '{file} ends at page {cutFrom} but its meta page counts {cutTo} pages: pages {cutFrom}..{cutLast} were cut off; the WAL holds every write since the cluster began and was replayed',
  'finding.salvage.no-keys.message':
    'No etcd key revision could be read from {file} ({pages} pages scanned, {leaves} leaf pages). It is not an etcd backend or its leaf pages are gone; look for a snapshot.db backup or another member.',
  'finding.salvage.lost.message': '{count} damaged spots could not be read; see "lost" for the revisions and pages',
  'finding.salvage.lease-detached.message': '{count} keys named a lease that no page holds any more; they are written without a lease (they will not expire)',
  'finding.salvage.no-db.message':
    "{input} has no member/snap/db: only the WAL's entries are replayed (keys written before the WAL's first entry are not there).",
  // Where etcd stops reading the WAL: a file and byte (the message itself), a file only, a byte only, neither.
  'finding.salvage.wal-stopped.message':
    'etcd stops reading the WAL at {file} byte {offset} ({error}); salvage steps over the damaged record and replays the entries after it (see the skipped records in "lost" and the findings).',
  'finding.salvage.wal-stopped.file.message':
    'etcd stops reading the WAL at {file} ({error}); salvage steps over the damaged record and replays the entries after it (see the skipped records in "lost" and the findings).',
  'finding.salvage.wal-stopped.offset.message':
    'etcd stops reading the WAL at the WAL byte {offset} ({error}); salvage steps over the damaged record and replays the entries after it (see the skipped records in "lost" and the findings).',
  'finding.salvage.wal-stopped.nowhere.message':
    'etcd stops reading the WAL at the WAL ({error}); salvage steps over the damaged record and replays the entries after it (see the skipped records in "lost" and the findings).',
  'finding.salvage.wal-skipped.zero-word.message':
    "{file} byte {offset}: a zero length word where a record should be (etcd's decoder reads it as the end of the WAL), with records again from byte {resume}; salvage read on from there (after entry {after}); the db already holds entries up to {ci}, so nothing is lost by it",
  'finding.salvage.wal-skipped.message':
    '{file} byte {offset}: {error}; salvage stepped over this WAL record (after entry {after}) and read on; the db already holds entries up to {ci}, so nothing is lost by it',
  'finding.repair.wal-unreadable.message':
    'etcd stops reading the WAL at {file} byte {offset} ({error}) and this repair keeps the WAL as it is, so etcd will not start on the copy. Use `lifeboat salvage {input} --snapshot FILE` (it replays the WAL up to the damage) and restore that snapshot with the restore plan.',
  'finding.repair.wal-unreadable.file.message':
    'etcd stops reading the WAL at {file} ({error}) and this repair keeps the WAL as it is, so etcd will not start on the copy. Use `lifeboat salvage {input} --snapshot FILE` (it replays the WAL up to the damage) and restore that snapshot with the restore plan.',
  'finding.repair.wal-unreadable.offset.message':
    'etcd stops reading the WAL at the WAL byte {offset} ({error}) and this repair keeps the WAL as it is, so etcd will not start on the copy. Use `lifeboat salvage {input} --snapshot FILE` (it replays the WAL up to the damage) and restore that snapshot with the restore plan.',
  'finding.repair.wal-unreadable.nowhere.message':
    'etcd stops reading the WAL at the WAL ({error}) and this repair keeps the WAL as it is, so etcd will not start on the copy. Use `lifeboat salvage {input} --snapshot FILE` (it replays the WAL up to the damage) and restore that snapshot with the restore plan.',
  /** `where` is the sentence etcd-loss.wal-hidden.where (a nested sentence: Finding.messageText). */
  'finding.repair.wal-hidden-records.message': '{where}; the db already holds entries up to {ci}, anything written after that is lost',
};

const zh: Record<keyof typeof en, string> = {
  'finding.salvage.damaged-page.outside.message': '第 {page} 页：{count} 个元素中有 {outside} 个位于页外；其中的内容会尽量从其他页或 WAL 中读取',
  'finding.salvage.damaged-page.element-bounds.message':
    '第 {page} 页：元素 {index} 的键和值（{ksize} + {vsize} 字节，位于 +{pos}）超出了页尾（页长 {bytes} 字节）；其中的内容会尽量从其他页或 WAL 中读取',
  'finding.salvage.damaged-page.revision-key.message':
    '第 {page} 页元素 {index}：修订键 {main}_{sub} 与相邻的键顺序不符，而其值中记录的修改修订版本 {mod} 正好位于两者之间：这是一个损坏的键（etcd 读到它时会退出）；该写入按修订版本 {mod} 写出',
  'finding.salvage.damaged-page.revision-key-end.message':
    '第 {page} 页元素 {index}：位于叶页一端的修订键 {main}_{sub} 与其值中记录的修改修订版本 {mod} 只差一个二进制位，而 {mod} 更接近该叶页中的其他键：修订键中有一位被翻转；该写入按修订版本 {mod} 写出',
  'finding.salvage.damaged-page.revision-key-high.message':
    '第 {page} 页元素 {index}：修订键 {main}_{sub} 超出了 etcd 可能达到的任何修订版本（一个高位被翻转），而其值中记录的修改修订版本 {mod} 与相邻的键顺序相符：该写入按修订版本 {mod} 写出',
  'finding.salvage.damaged-page.no-value.message':
    '第 {page} 页元素 {index}：修订版本 {main}_{sub} 中没有可读的 `mvccpb.KeyValue`；其中的内容会尽量从其他页或 WAL 中读取',
  'finding.salvage.damaged-page.not-a-page.message':
    '第 {page} 页被树引用，但不是有效的页（页头 id {id}，标志 0x{flags}）；其中的内容会尽量从其他页或 WAL 中读取',
  'finding.salvage.shared-revision.message':
    '有 {count} 个键占用了已被其他键占用的修订版本（第一个：{key}，位于 {main}_{sub}，按 {main}_{to} 写出）：原因是修订键损坏后读成了另一个键的修订版本，或者修订版本超过 2^53，数字已无法区分相邻的两个值。每个这样的键都按该修订版本下一个空闲的子修订版本写出，使快照中的键仍然递增；请用另一份备份核对这些键',
  'finding.salvage.db-value-differs.message':
    '第 {page} 页：键 {key}：db 中最新的可读值（修订版本 {revision}）不是 WAL 条目 {index} 最后写入的值；已按 WAL 中的值写出（修订版本 {written}）。原因可能是含有更新修订版本的页已丢失，也可能是文件中该值的字节被改动：bbolt 没有校验和，etcd 会原样提供 db 中的字节',
  'finding.salvage.damaged-key-name.older.message':
    '第 {page} 页：修订版本 {revision} 处的键 {bad} 从未被写入过：产生该修订版本的 WAL 条目写入的是 {good}，值相同，键名只在一段连续的字节上不同。它是 {good} 的旧修订版本（之后又被重写或删除），键名在磁盘上被损坏；bbolt 没有校验和，etcd 会把它当作一个独立的键提供。已略去',
  'finding.salvage.damaged-key-name.newest.message':
    '第 {page} 页：修订版本 {revision} 处的键 {bad} 从未被写入过：WAL 写入的是值相同的 {good}，db 中只有 {good} 的较旧修订版本（{older}），两个键名只在一段连续的字节上不同（其最新修订版本的键名在磁盘上被损坏；bbolt 没有校验和，etcd 会同时提供这两个键，{good} 还是旧值）。{good} 按 WAL 写出，{bad} 被略去',
  'finding.salvage.damaged-key-name.message':
    '第 {page} 页：修订版本 {revision} 处的键 {bad} 从未被写入过：WAL 写入的是值相同的 {good}，db 中却没有 {good}，两个键名只在一段连续的字节上不同（键名在磁盘上被损坏；bbolt 没有校验和，etcd 会同时提供这两个键）。{good} 按 WAL 写出，{bad} 被略去',
  'finding.salvage.db-empty.message': '{file} 为空（0 字节）：没有可以读取键的页。请寻找 snapshot.db 备份或其他成员的数据目录。',
  'finding.salvage.snapshot-hash-mismatch.message':
    '{file} 末尾的 SHA-256 校验值与内容不符（记录的是 {stored}，算出的是 {computed}）：保存之后有字节被改动过。抢救会读取所有能读的页，但字节被改动的值无法分辨出来；请用另一份备份核对重要对象。',
  'finding.salvage.meta-invalid.message': 'meta 页 {meta}：“{error}”；抢救不依赖它（会扫描所有页）',
  'finding.salvage.meta-invalid.root-outside.message': 'meta 页 {meta}：根页 {root} 在文件之外；抢救不依赖它（会扫描所有页）',
  'finding.salvage.db-too-small.message':
    '{file} 只有 {bytes} 字节（{pages} 页，每页 {pageSize} 字节）：有数据的 bbolt 文件至少有 3 页。无法从中抢救任何内容。',
  'finding.salvage.revisions-from-wal.message': '修订版本 {from}..{to} 不在任何可读的页中；WAL 仍保存着这段时间的写入，已经重放',
  'finding.salvage.revisions-from-wal.cut-pages.message':
    '{file} 在第 {cutFrom} 页结束，但它的 meta 页记录了 {cutTo} 页：第 {cutFrom}..{cutLast} 页被截掉了；WAL 保存着集群建立以来的所有写入，已经重放',
  'finding.salvage.no-keys.message':
    '无法从 {file} 读到任何 etcd 键的修订版本（扫描了 {pages} 页，其中叶子页 {leaves} 个）。它不是 etcd 的后端文件，或者叶子页已经丢失；请寻找 snapshot.db 备份或其他成员。',
  'finding.salvage.lost.message': '{count} 处损坏无法读取；丢失的修订版本和页见下方的丢失列表',
  'finding.salvage.lease-detached.message': '{count} 个键所属的租约已不在任何页中；这些键按无租约写入（不会过期）',
  'finding.salvage.no-db.message': '{input} 中没有 member/snap/db：只重放 WAL 中的条目（WAL 第一个条目之前写入的键不在其中）。',
  'finding.salvage.wal-stopped.message':
    'etcd 读到 {file} 第 {offset} 字节就停止读取 WAL（“{error}”）；抢救会跳过损坏的记录，继续重放其后的条目（被跳过的记录见丢失列表和各项发现）。',
  'finding.salvage.wal-stopped.file.message':
    'etcd 读到 {file} 就停止读取 WAL（“{error}”）；抢救会跳过损坏的记录，继续重放其后的条目（被跳过的记录见丢失列表和各项发现）。',
  'finding.salvage.wal-stopped.offset.message':
    'etcd 读到 WAL 第 {offset} 字节就停止读取（“{error}”）；抢救会跳过损坏的记录，继续重放其后的条目（被跳过的记录见丢失列表和各项发现）。',
  'finding.salvage.wal-stopped.nowhere.message':
    'etcd 在 WAL 中停止读取（“{error}”）；抢救会跳过损坏的记录，继续重放其后的条目（被跳过的记录见丢失列表和各项发现）。',
  'finding.salvage.wal-skipped.zero-word.message':
    '{file} 第 {offset} 字节：本应是记录的地方是一个为零的长度字（etcd 的解码器会把它当作 WAL 的结尾），从第 {resume} 字节起又有记录；抢救从那里继续读取（条目 {after} 之后）；db 中已有到 {ci} 为止的条目，因此没有因此丢失任何内容',
  'finding.salvage.wal-skipped.message':
    '{file} 第 {offset} 字节：“{error}”；抢救跳过了这条 WAL 记录（条目 {after} 之后）并继续读取；db 中已有到 {ci} 为止的条目，因此没有因此丢失任何内容',
  'finding.repair.wal-unreadable.message':
    'etcd 读到 {file} 第 {offset} 字节就停止读取 WAL（“{error}”），而此次修复原样保留 WAL，所以 etcd 无法在这份副本上启动。请使用 `lifeboat salvage {input} --snapshot FILE`（它会把 WAL 重放到损坏处为止），再按恢复计划恢复该快照。',
  'finding.repair.wal-unreadable.file.message':
    'etcd 读到 {file} 就停止读取 WAL（“{error}”），而此次修复原样保留 WAL，所以 etcd 无法在这份副本上启动。请使用 `lifeboat salvage {input} --snapshot FILE`（它会把 WAL 重放到损坏处为止），再按恢复计划恢复该快照。',
  'finding.repair.wal-unreadable.offset.message':
    'etcd 读到 WAL 第 {offset} 字节就停止读取（“{error}”），而此次修复原样保留 WAL，所以 etcd 无法在这份副本上启动。请使用 `lifeboat salvage {input} --snapshot FILE`（它会把 WAL 重放到损坏处为止），再按恢复计划恢复该快照。',
  'finding.repair.wal-unreadable.nowhere.message':
    'etcd 在 WAL 中停止读取（“{error}”），而此次修复原样保留 WAL，所以 etcd 无法在这份副本上启动。请使用 `lifeboat salvage {input} --snapshot FILE`（它会把 WAL 重放到损坏处为止），再按恢复计划恢复该快照。',
  'finding.repair.wal-hidden-records.message': '{where}；db 中已有到 {ci} 为止的条目，之后写入的内容都已丢失',
};

export type EtcdSalvageTextKey = keyof typeof en;

export default defineCatalog(en, zh);
