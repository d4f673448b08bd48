/**
 * Message templates of the WAL and .snap decoders' findings
 * (`finding.<code>.message`, variants by `messageKey`), in English and
 * Simplified Chinese. The decoders write the English text from the same
 * template (shared/formats/etcd/wal.ts `walFinding`), so report, CLI and UI
 * agree. Titles (`finding.<code>`) are in etcd-text.ts. etcd's own texts stay
 * in English inside the quotes: they are what the user greps for.
 */
import { defineCatalog } from './types';

const en = {
  'finding.wal.leftover-broken.message':
    "{file} is the copy etcd's WAL repair made before it truncated a torn tail ({size} bytes); etcd ignores it. Keep it: it holds the original bytes.",
  'finding.wal.leftover-tmp.message': '{file} is the next WAL file etcd preallocates before it needs it ({size} bytes); etcd ignores it at start-up.',
  'finding.wal.ignored-file.message': '{file} is not named like a WAL file (%016x-%016x.wal); etcd ignores it ("ignored file in WAL directory").',
  'finding.wal.none.message':
    '{dir} holds no WAL file: etcd would start this member as a new one (and a member that was part of a cluster cannot rejoin that way).',
  'finding.wal.data-after-end.message':
    '{file}: the log ends at byte {end} (a zero length word), but there is non-zero data again at byte {offset}. etcd never reads it.',
  'finding.wal.data-after-end.last.message':
    '{file}: the log ends at byte {end} (a zero length word), but there is non-zero data again at byte {offset}. etcd never reads it, and zero-fills it when it opens this last file for writing.',
  'finding.wal.file-not-found.message':
    'No WAL file starts at or before index {index} (the snapshot etcd loads); the oldest is {file}, which starts at index {first}. etcd stops: "open wal error: wal: file not found". The WAL files that held those entries were removed or lost.',
  'finding.wal.seq-gap.message':
    '{file} has sequence {seq} right after {prev} (sequence {prevSeq}): at least one WAL file between them is missing. etcd 3.4 stops: "open wal error: wal: file not found" (newer etcd: "wal: file sequence numbers (starting from {startSeq}) do not increase continuously").',
  'finding.wal.seq-gap.info.message': '{file} (sequence {seq}) follows {prev} (sequence {prevSeq}): WAL files in between are missing.',
  'finding.wal.record-crc.message':
    '{file}: the record at byte {offset} fails its checksum (stored {stored}, computed {computed}). This is damage inside the log, not a torn last write, so etcd cannot repair it and stops with "walpb: crc mismatch". Entries from here on cannot be trusted.',
  'finding.wal.chain-crc.message':
    '{file}: the CRC record at byte {offset} carries {stored}, but the records before it end at {computed}. etcd stops with "wal: crc mismatch".',
  'finding.wal.chain-crc.gap.message':
    '{file}: its first record carries the CRC the previous WAL file should end with ({stored}), but {prev} ends at {computed}: the WAL file between them is missing. etcd stops with "wal: crc mismatch".',
  'finding.wal.max-size.message':
    '{file}: the length word at byte {offset} is garbage (it says {length} bytes; the limit is 10 MiB). etcd stops with "wal: max entry size limit exceeded" and does not repair it.',
  'finding.wal.decode.message': '{file}: the record at byte {offset} is not a valid WAL record ({error}). etcd stops with "{error}".',
  'finding.wal.decode.entry.message': '{file}: the entry record at byte {offset} passes its checksum but does not decode ({error}); etcd panics.',
  'finding.wal.decode.snapshot.message': '{file}: the snapshot record at byte {offset} does not decode ({error}); etcd panics.',
  'finding.wal.torn-tail.message':
    '{file}: the record at byte {offset} in the last WAL file was only partly written (a torn write). etcd repairs this by itself at start-up: it copies the file to {base}.broken and truncates it at byte {offset}, dropping the records from there on.',
  'finding.wal.unexpected-eof.message':
    '{file}: the file ends inside the record at byte {offset}, but it is not the last WAL file. etcd only repairs the last file, so it stops with "read wal error (unexpected EOF) and cannot be repaired".',
  'finding.wal.index-gap.message':
    '{file}: entry {index} at byte {offset} follows entry {prev} with entries missing in between. etcd stops with "wal: slice bounds out of range".',
  'finding.wal.metadata-conflict.message':
    '{file}: the metadata record at byte {offset} names another member or cluster than the WAL files before it. etcd stops with "wal: conflicting metadata found": WAL files of two members are mixed in this directory.',
  'finding.wal.snapshot-mismatch.message':
    '{file}: the snapshot record at byte {offset} has index {index} but term {term}, while the loaded .snap has term {snapTerm}. etcd stops with "wal: snapshot mismatch".',
  'finding.wal.unknown-record-type.message':
    '{file}: the record at byte {offset} has type {type}, which etcd does not know (its checksum is right). etcd stops with "unexpected block type {type}".',
  'finding.wal.not-read.message':
    '{file} comes after the point where etcd stops reading the WAL: etcd never reaches its records (they are listed here all the same).',
  'finding.wal.snapshot-not-found.message':
    'The WAL from {file} on has no snapshot record for index {index} term {term} (the snapshot etcd loads). etcd stops with "wal: snapshot not found".',
  'finding.snap.too-large.message': '{file} is {size} bytes, more than the {max} bytes Lifeboat reads for a .snap; it was not checked.',
  'finding.snap.name-mismatch.message':
    '{file} is named term {nameTerm} index {nameIndex} but holds term {term} index {index}; etcd goes by the content (and sorts by the name).',
  'finding.snap.empty.message':
    '{file} has no snapshot data or a zero checksum. etcd skips it when it looks for a snapshot to load, and renames it to {base}.broken ("snap: empty snapshot").',
  'finding.snap.empty.zero.message':
    '{file} is empty (0 bytes). etcd skips it when it looks for a snapshot to load, and renames it to {base}.broken ("snap: empty snapshot").',
  'finding.snap.crc.message':
    '{file} fails its checksum (stored {stored}, computed {computed}). etcd skips it when it looks for a snapshot to load, and renames it to {base}.broken ("snap: crc mismatch").',
  'finding.snap.decode.message':
    '{file} does not decode ({error}). etcd skips it when it looks for a snapshot to load, and renames it to {base}.broken ("{error}").',
};

const zh: Record<keyof typeof en, string> = {
  'finding.wal.leftover-broken.message': '{file} 是 etcd 修复 WAL 时、在截断不完整的结尾之前保存的副本（{size} 字节）；etcd 会忽略它。请保留：其中有原始数据。',
  'finding.wal.leftover-tmp.message': '{file} 是 etcd 预先分配的下一个 WAL 文件（{size} 字节）；启动时 etcd 会忽略它。',
  'finding.wal.ignored-file.message': '{file} 的名称不符合 WAL 文件格式（%016x-%016x.wal）；etcd 会忽略它（日志：“ignored file in WAL directory”）。',
  'finding.wal.none.message': '{dir} 中没有 WAL 文件：etcd 会把此成员当作新成员启动（曾属于集群的成员无法这样重新加入）。',
  'finding.wal.data-after-end.message': '{file}：日志在第 {end} 字节处结束（长度字为零），但在第 {offset} 字节处又出现了非零数据。etcd 不会读取这些数据。',
  'finding.wal.data-after-end.last.message':
    '{file}：日志在第 {end} 字节处结束（长度字为零），但在第 {offset} 字节处又出现了非零数据。etcd 不会读取这些数据，并会在以写模式打开这个最后的文件时将其清零。',
  'finding.wal.file-not-found.message':
    '没有任何 WAL 文件从索引 {index}（etcd 加载的快照）或更早处开始；最旧的是 {file}，从索引 {first} 开始。etcd 会停止：“open wal error: wal: file not found”。包含这些条目的 WAL 文件已被删除或丢失。',
  'finding.wal.seq-gap.message':
    '{file} 的序号 {seq} 紧跟在 {prev}（序号 {prevSeq}）之后：两者之间至少缺少一个 WAL 文件。etcd 3.4 会停止：“open wal error: wal: file not found”（更新版本的 etcd：“wal: file sequence numbers (starting from {startSeq}) do not increase continuously”）。',
  'finding.wal.seq-gap.info.message': '{file}（序号 {seq}）跟在 {prev}（序号 {prevSeq}）之后：中间的 WAL 文件缺失。',
  'finding.wal.record-crc.message':
    '{file}：第 {offset} 字节处的记录校验和不匹配（存储值 {stored}，计算值 {computed}）。这是日志内部的损坏，而不是最后一次写入不完整，etcd 无法修复，会以 “walpb: crc mismatch” 停止。从这里开始的条目都不可信。',
  'finding.wal.chain-crc.message': '{file}：第 {offset} 字节处的 CRC 记录为 {stored}，但之前的记录结束于 {computed}。etcd 会以 “wal: crc mismatch” 停止。',
  'finding.wal.chain-crc.gap.message':
    '{file}：其第一条记录携带上一个 WAL 文件应有的结尾 CRC（{stored}），但 {prev} 结束于 {computed}：两者之间的 WAL 文件缺失。etcd 会以 “wal: crc mismatch” 停止。',
  'finding.wal.max-size.message':
    '{file}：第 {offset} 字节处的长度字是无效数据（声称 {length} 字节，上限为 10 MiB）。etcd 会以 “wal: max entry size limit exceeded” 停止，且不会修复。',
  'finding.wal.decode.message': '{file}：第 {offset} 字节处不是有效的 WAL 记录（解码错误：“{error}”）。etcd 会以 “{error}” 停止。',
  'finding.wal.decode.entry.message': '{file}：第 {offset} 字节处的条目记录校验和正确，但无法解码（报错：“{error}”）；etcd 会 panic。',
  'finding.wal.decode.snapshot.message': '{file}：第 {offset} 字节处的快照记录无法解码（报错：“{error}”）；etcd 会 panic。',
  'finding.wal.torn-tail.message':
    '{file}：最后一个 WAL 文件中第 {offset} 字节处的记录只写入了一部分（写入不完整）。etcd 启动时会自行修复：把该文件复制为 {base}.broken，并在第 {offset} 字节处截断，丢弃从这里开始的记录。',
  'finding.wal.unexpected-eof.message':
    '{file}：文件在第 {offset} 字节处的记录中途结束，但它不是最后一个 WAL 文件。etcd 只修复最后一个文件，因此会以 “read wal error (unexpected EOF) and cannot be repaired” 停止。',
  'finding.wal.index-gap.message':
    '{file}：第 {offset} 字节处的条目 {index} 跟在条目 {prev} 之后，中间缺少条目。etcd 会以 “wal: slice bounds out of range” 停止。',
  'finding.wal.metadata-conflict.message':
    '{file}：第 {offset} 字节处的元数据记录所指的成员或集群与之前的 WAL 文件不同。etcd 会以 “wal: conflicting metadata found” 停止：此目录中混入了两个成员的 WAL 文件。',
  'finding.wal.snapshot-mismatch.message':
    '{file}：第 {offset} 字节处的快照记录索引为 {index}、任期为 {term}，而加载的 .snap 任期为 {snapTerm}。etcd 会以 “wal: snapshot mismatch” 停止。',
  'finding.wal.unknown-record-type.message':
    '{file}：第 {offset} 字节处记录的类型为 {type}，etcd 不认识该类型（其校验和正确）。etcd 会以 “unexpected block type {type}” 停止。',
  'finding.wal.not-read.message': '{file} 位于 etcd 停止读取 WAL 的位置之后：etcd 不会读到其中的记录（此处仍会列出）。',
  'finding.wal.snapshot-not-found.message':
    '从 {file} 开始的 WAL 中没有索引 {index}、任期 {term} 的快照记录（etcd 加载的快照）。etcd 会以 “wal: snapshot not found” 停止。',
  'finding.snap.too-large.message': '{file} 有 {size} 字节，超过 Lifeboat 读取 .snap 的上限 {max} 字节；未检查。',
  'finding.snap.name-mismatch.message':
    '{file} 的文件名为任期 {nameTerm}、索引 {nameIndex}，但内容为任期 {term}、索引 {index}；etcd 以内容为准（但按文件名排序）。',
  'finding.snap.empty.message': '{file} 没有快照数据或校验和为零。etcd 查找要加载的快照时会跳过它，并将其重命名为 {base}.broken（“snap: empty snapshot”）。',
  'finding.snap.empty.zero.message': '{file} 为空（0 字节）。etcd 查找要加载的快照时会跳过它，并将其重命名为 {base}.broken（“snap: empty snapshot”）。',
  'finding.snap.crc.message':
    '{file} 校验和不匹配（存储值 {stored}，计算值 {computed}）。etcd 查找要加载的快照时会跳过它，并将其重命名为 {base}.broken（“snap: crc mismatch”）。',
  'finding.snap.decode.message': '{file} 无法解码（解码错误：“{error}”）。etcd 查找要加载的快照时会跳过它，并将其重命名为 {base}.broken（报错：“{error}”）。',
};

export type EtcdWalTextKey = keyof typeof en;

export default defineCatalog(en, zh);
