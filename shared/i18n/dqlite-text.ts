/**
 * Sentences the dqlite validator writes: finding messages (`finding.<code>.message`,
 * with `.variant` suffixes where one code has several sentences) and the loader
 * narrative (`dqlite.narrative.*`). The English table is also the source of the
 * English strings in reports (shared/formats/dqlite/say.ts interpolates it), so
 * CLI / JSON text and the UI cannot drift apart.
 */
import { defineCatalog } from './types';

/** Problems inside one batch; the finding message puts the batch number and offset in front. */
const batchEn = {
  'short-preamble': 'The file ends inside a batch preamble (checksums).',
  'short-preamble-count': 'The file ends inside a batch preamble (entry count).',
  'count-zero': 'A batch has an entry count of zero (usually zero fill: the file ends in unused space).',
  'count-too-high': "A batch claims {count} entries, more than libraft's limit of {limit}: the bytes are not a batch.",
  'short-header': 'The file ends inside the header of a {n}-entry batch.',
  'header-checksum': 'The batch header checksum does not match.',
  'entry-type': 'Entry {entry} of the batch has unknown type {type} (libraft: RAFT_MALFORMED).',
  'short-data': 'The file ends inside the payloads of a batch ({needed} bytes needed, {left} left).',
  'data-checksum': 'The batch payload checksum does not match.',
};
export type BatchProblemKey = keyof typeof batchEn;

const batchZh: Record<BatchProblemKey, string> = {
  'short-preamble': '文件在 batch 前导部分（校验和）中途结束。',
  'short-preamble-count': '文件在 batch 前导部分（条目数）中途结束。',
  'count-zero': 'batch 的条目数为零（通常是补零区域：文件末尾是未使用的空间）。',
  'count-too-high': 'batch 声称有 {count} 个条目，超过 libraft 的上限 {limit}：这段字节不是 batch。',
  'short-header': '文件在一个 {n} 条目 batch 的头部中途结束。',
  'header-checksum': 'batch 头部校验和不匹配。',
  'entry-type': 'batch 中第 {entry} 个条目的类型 {type} 未知（libraft：RAFT_MALFORMED）。',
  'short-data': '文件在 batch 的数据部分中途结束（需要 {needed} 字节，只剩 {left} 字节）。',
  'data-checksum': 'batch 数据校验和不匹配。',
};

/** Closed-load problems (whole-file or per batch) that also have an "ignored segment" variant. */
const closedEn = {
  'finding.segment.empty.message': 'The closed segment is empty (0 bytes).',
  'finding.segment.too-short.message': 'The closed segment has only {size} bytes, less than its 8-byte format header.',
  'finding.segment.format.message': 'The segment starts with format version {format}, not 1.',
  'finding.segment.format.message.zero': 'The segment starts with format version {format}, not 1 (unwritten, zero-filled space).',
  'finding.segment.entries-mismatch.message': 'The file holds {entries} entries but its name promises {expected} ({first}..{last}).',
  ...prefixBatches(batchEn, 'Batch {batch} at byte {batchStart}: '),
};
const closedZh: Record<keyof typeof closedEn, string> = {
  'finding.segment.empty.message': '该 closed segment 是空文件（0 字节）。',
  'finding.segment.too-short.message': '该 closed segment 只有 {size} 字节，不足 8 字节的格式头。',
  'finding.segment.format.message': 'segment 开头的格式版本是 {format}，而不是 1。',
  'finding.segment.format.message.zero': 'segment 开头的格式版本是 {format}，而不是 1（未写入过的补零空间）。',
  'finding.segment.entries-mismatch.message': '文件中有 {entries} 个条目，但文件名表示应有 {expected} 个（{first}..{last}）。',
  ...prefixBatches(batchZh, '第 {batch} 个 batch（字节 {batchStart}）：'),
};

function prefixBatches(table: Record<BatchProblemKey, string>, prefix: string): Record<DqliteBatchFindingKey, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries<string>(table)) out[findingKeyOfBatch(k as BatchProblemKey)] = prefix + v;
  return out as Record<DqliteBatchFindingKey, string>;
}

/** `count-zero` -> `finding.segment.count-zero.message`; `short-preamble-count` -> `finding.segment.short-preamble.message.count`. */
export function findingKeyOfBatch(k: BatchProblemKey): DqliteBatchFindingKey {
  return (k === 'short-preamble-count' ? 'finding.segment.short-preamble.message.count' : `finding.segment.${k}.message`) as DqliteBatchFindingKey;
}
type DqliteBatchFindingKey = `finding.segment.${Exclude<BatchProblemKey, 'short-preamble-count'>}.message` | 'finding.segment.short-preamble.message.count';

/** Adds `<key>.ignored`: the same sentence plus why it does not stop start-up (`stripEnd` drops a final 。 first). */
function withIgnored<K extends string>(table: Record<K, string>, suffix: string, stripEnd = false): Record<K | `${K}.ignored`, string> {
  const out: Record<string, string> = { ...table };
  for (const [k, v] of Object.entries<string>(table)) out[`${k}.ignored`] = (stripEnd ? v.replace(/。$/, '') : v) + suffix;
  return out as Record<K | `${K}.ignored`, string>;
}

const en = {
  ...withIgnored(closedEn, ' (libraft ignores this segment, so it does not stop start-up)'),
  'finding.segment.too-short.message.open': 'The open segment has only {size} bytes, less than its 8-byte format header.',
  'finding.segment.format.message.open': 'The open segment starts with format version {format}, not 1.',
  'finding.segment.block-aligned-tail.message': 'The file is exactly {blocks} blocks of 4096 bytes and ends in zero fill: it was not truncated when it was closed.',
  'finding.segment.open-crash.message': 'libraft 0.15 segfaults on this error in an open segment (double free) instead of printing it.',
  'finding.segment.open-truncated-data.message': 'Batch {batch} at byte {offset} is bad ({detail}); {count} entries (its own and those of the valid batches after it) would be cut off.',
  'finding.segment.open-truncated-data.message.at-least': 'Batch {batch} at byte {offset} is bad ({detail}); at least {count} entries (its own and those of the valid batches after it) would be cut off.',
  'finding.segment.open-torn-tail.message': 'The last write was torn at byte {offset} ({detail}); libraft truncates it there.',
  'finding.segment.open-deleted-data.message': 'The first batch is bad, so libraft deletes the whole file, though {entries} entries in valid batches follow.',
  'finding.dir.tmp-file.message': '{file} is an unfinished temporary file; libraft deletes it at start-up.',
  'finding.snapshot.orphan-data.message': '{file} has no .meta file; libraft deletes it at start-up.',
  'finding.snapshot.orphan-meta.message': '{file} has no data file; libraft deletes it at start-up.',
  'finding.metadata.torn.message': '{file} has only {size} bytes (torn write); libraft deletes it at start-up.',
  'finding.metadata.same-version.message': 'metadata1 and metadata2 carry the same version; libraft cannot tell which is current.',
  'finding.snapshot.data-empty.message': '{file} is empty; libraft skips this snapshot.',
  'finding.loader.unexpected-segment.message': 'A closed segment does not start where the previous one ended (gap or overlap).',
  'finding.loader.past-snapshot.message': 'The first segment of the chain starts after the snapshot: entries in between are missing.',
  'finding.loader.behind-snapshot.message': 'The segments end before the snapshot index.',
  'finding.loader.crash.message': 'libraft 0.15 crashes (segfault/assertion) on this file instead of reporting an error.',
  'finding.loader.auto-recovery-rename.message': 'At start-up libraft would rename {file} to corrupt-<ns>-{file} and carry on without its entries.',
  'finding.loader.open-index-shift.message': 'After an earlier open segment loses entries, {files} would be loaded at lower indexes than the ones they were written at.',
  'finding.dir.corrupt-files.message': 'corrupt-* files are segments that auto-recovery set aside on an earlier start; their entries were dropped then and may be salvageable offline.',

  'finding.metadata.size.message': '{file} is {size} bytes; libraft requires exactly 32 and refuses to start.',
  'finding.metadata.format.message': '{file} has format version {format} (expected 1).',
  'finding.metadata.version-zero.message': '{file} has version 0, which libraft never writes.',
  'finding.snapshot.meta-short.message': '{file} has {size} bytes; the 32-byte header is incomplete.',
  'finding.snapshot.meta-short.message.configuration': '{file} ends after {size} bytes but its configuration needs {needed}.',
  'finding.snapshot.meta-format.message': '{file} has format version {format} (expected 1); libraft rejects it as malformed.',
  'finding.snapshot.meta-conf-length.message': '{file} holds no configuration (length 0).',
  'finding.snapshot.meta-conf-length.message.too-long': "{file} claims a {length}-byte configuration, more than libraft's 1 MiB limit.",
  'finding.snapshot.meta-checksum.message': '{file}: the checksum does not match its contents.',
  'finding.snapshot.meta-configuration.message': '{file}: the configuration cannot be decoded ({error}).',
  'finding.snapshot.data-lz4.message': 'The LZ4 frame is damaged ({error}).',
  'finding.snapshot.data-lz4.message.at': 'The LZ4 frame is damaged ({error} at byte {offset}).',
  'finding.snapshot.data-lz4.message.unknown': 'The snapshot data is damaged.',

  'dqlite.narrative.snapshot': 'Load the newest snapshot {file} (index {index}).',
  'dqlite.narrative.snapshot.retry': 'Retry: load the newest snapshot {file} (index {index}).',
  'dqlite.narrative.no-snapshot': 'No usable snapshot: the log must start at index 1.',
  'dqlite.narrative.no-snapshot.retry': 'Retry: no usable snapshot: the log must start at index 1.',
  'dqlite.narrative.all-ignored': 'The newest closed segment {file} ends before the snapshot index {index} and there are no open segments: all closed segments are ignored.',
  'dqlite.narrative.keep-all': 'The newest closed segment {file} ends before the snapshot index {index}, but open segments exist, so libraft keeps every segment.',
  'dqlite.narrative.ignored': '{count} older closed segment(s) ({files}) are not part of the newest contiguous chain and are ignored (not read, left on disk).',
  'dqlite.narrative.no-segments': 'No segments to load; start index {start}.',
  'dqlite.narrative.loading': 'Start index {start}; loading {count} segment(s) in order.',
  'dqlite.narrative.renames': 'Auto-recovery renames {count} file(s) to corrupt-*: {files}.',
  'dqlite.narrative.open-deleted.empty': '{file}: empty file, deleted.',
  'dqlite.narrative.open-deleted.zeros': '{file}: never written (all zeros), deleted.',
  'dqlite.narrative.open-deleted.no-batch': '{file}: no valid batch, deleted.',
  'dqlite.narrative.open-truncated': '{file}: truncated at byte {offset} (first bad batch) and closed as {newName}; the non-zero bytes after it are destroyed.',
  'dqlite.narrative.open-closed': '{file}: {entries} entries, closed as {newName}.',
  'dqlite.narrative.not-last-closed': '{file} is not the last closed segment, so auto-recovery does not touch it.',
  'dqlite.narrative.retry': 'First attempt failed (RAFT_CORRUPT): {error}. libraft retries once.',
  'dqlite.narrative.succeeds': 'Start-up succeeds: entries {first}..{last}.',
  'dqlite.narrative.succeeds.snapshot': 'Start-up succeeds: entries {first}..{last} on top of snapshot {snapshot}.',
  'dqlite.narrative.crashes': 'libraft crashes here ({error}).',
  'dqlite.narrative.fails': 'Start-up fails: {error}',
};

export type DqliteTextKey = keyof typeof en;

const zh: Record<DqliteTextKey, string> = {
  ...withIgnored(closedZh, '（libraft 会忽略这个 segment，所以它不会阻止启动）。', true),
  'finding.segment.too-short.message.open': '该 open segment 只有 {size} 字节，不足 8 字节的格式头。',
  'finding.segment.format.message.open': '该 open segment 开头的格式版本是 {format}，而不是 1。',
  'finding.segment.block-aligned-tail.message': '文件大小恰好是 {blocks} 个 4096 字节的块，末尾是补零区域：关闭时没有被截断到实际长度。',
  'finding.segment.open-crash.message': 'open segment 中出现这个错误时，libraft 0.15 不会打印错误，而是直接段错误崩溃（double free）。',
  'finding.segment.open-truncated-data.message': '第 {batch} 个 batch（字节 {offset}）已损坏（{detail}）；会截掉 {count} 个条目（它自己的，以及其后有效 batch 中的）。',
  'finding.segment.open-truncated-data.message.at-least': '第 {batch} 个 batch（字节 {offset}）已损坏（{detail}）；至少会截掉 {count} 个条目（它自己的，以及其后有效 batch 中的）。',
  'finding.segment.open-torn-tail.message': '最后一次写入在字节 {offset} 处不完整（{detail}）；libraft 会在这里截断。',
  'finding.segment.open-deleted-data.message': '第一个 batch 已损坏，所以 libraft 会删除整个文件，尽管后面的有效 batch 里还有 {entries} 个条目。',
  'finding.dir.tmp-file.message': '{file} 是未写完的临时文件；libraft 启动时会删除它。',
  'finding.snapshot.orphan-data.message': '{file} 没有对应的 .meta 文件；libraft 启动时会删除它。',
  'finding.snapshot.orphan-meta.message': '{file} 没有对应的数据文件；libraft 启动时会删除它。',
  'finding.metadata.torn.message': '{file} 只有 {size} 字节（写入不完整）；libraft 启动时会删除它。',
  'finding.metadata.same-version.message': 'metadata1 和 metadata2 的版本号相同；libraft 无法判断哪个是当前的。',
  'finding.snapshot.data-empty.message': '{file} 是空文件；libraft 会跳过这个 snapshot。',
  'finding.loader.unexpected-segment.message': '某个 closed segment 的起点没有紧接上一个 segment 的终点（断档或重叠）。',
  'finding.loader.past-snapshot.message': 'segment 链的第一个 segment 起点在 snapshot 之后：中间的条目缺失。',
  'finding.loader.behind-snapshot.message': 'segment 在 snapshot 的 index 之前就结束了。',
  'finding.loader.crash.message': 'libraft 0.15 处理该文件时会直接崩溃（段错误/断言失败），而不是报告错误。',
  'finding.loader.auto-recovery-rename.message': '启动时 libraft 会把 {file} 改名为 corrupt-<ns>-{file}，并丢弃其中的条目继续运行。',
  'finding.loader.open-index-shift.message': '前面的 open segment 丢失条目后，{files} 会被加载到比写入时更小的 index 上。',
  'finding.dir.corrupt-files.message': 'corrupt-* 文件是之前某次启动时被自动恢复挪开的 segment；其中的条目当时已被丢弃，可能可以离线抢救。',

  'finding.metadata.size.message': '{file} 有 {size} 字节；libraft 要求正好 32 字节，否则拒绝启动。',
  'finding.metadata.format.message': '{file} 的格式版本是 {format}（应为 1）。',
  'finding.metadata.version-zero.message': '{file} 的版本号为 0，libraft 从不会写入这个值。',
  'finding.snapshot.meta-short.message': '{file} 只有 {size} 字节；32 字节的头部不完整。',
  'finding.snapshot.meta-short.message.configuration': '{file} 在 {size} 字节处结束，但其中的集群配置需要 {needed} 字节。',
  'finding.snapshot.meta-format.message': '{file} 的格式版本是 {format}（应为 1）；libraft 会把它当作格式错误（malformed）拒绝。',
  'finding.snapshot.meta-conf-length.message': '{file} 中没有集群配置（长度为 0）。',
  'finding.snapshot.meta-conf-length.message.too-long': '{file} 声称集群配置有 {length} 字节，超过 libraft 的 1 MiB 上限。',
  'finding.snapshot.meta-checksum.message': '{file}：校验和与内容不符。',
  'finding.snapshot.meta-configuration.message': '{file}：集群配置无法解析（{error}）。',
  'finding.snapshot.data-lz4.message': 'LZ4 帧已损坏（{error}）。',
  'finding.snapshot.data-lz4.message.at': 'LZ4 帧已损坏（{error}，位于字节 {offset}）。',
  'finding.snapshot.data-lz4.message.unknown': 'snapshot 数据已损坏。',

  'dqlite.narrative.snapshot': '加载最新的 snapshot {file}（index {index}）。',
  'dqlite.narrative.snapshot.retry': '重试：加载最新的 snapshot {file}（index {index}）。',
  'dqlite.narrative.no-snapshot': '没有可用的 snapshot：日志必须从 index 1 开始。',
  'dqlite.narrative.no-snapshot.retry': '重试：没有可用的 snapshot：日志必须从 index 1 开始。',
  'dqlite.narrative.all-ignored': '最新的 closed segment {file} 在 snapshot index {index} 之前就结束了，且没有 open segment：所有 closed segment 都被忽略。',
  'dqlite.narrative.keep-all': '最新的 closed segment {file} 在 snapshot index {index} 之前就结束了，但存在 open segment，所以 libraft 保留全部 segment。',
  'dqlite.narrative.ignored': '{count} 个较早的 closed segment（{files}）不属于最新的连续链，会被忽略（不读取，留在磁盘上）。',
  'dqlite.narrative.no-segments': '没有要加载的 segment；起始 index 为 {start}。',
  'dqlite.narrative.loading': '起始 index 为 {start}；按顺序加载 {count} 个 segment。',
  'dqlite.narrative.renames': '自动恢复把 {count} 个文件改名为 corrupt-*：{files}。',
  'dqlite.narrative.open-deleted.empty': '{file}：空文件，已删除。',
  'dqlite.narrative.open-deleted.zeros': '{file}：从未写入（全为零），已删除。',
  'dqlite.narrative.open-deleted.no-batch': '{file}：没有有效的 batch，已删除。',
  'dqlite.narrative.open-truncated': '{file}：在字节 {offset}（第一个损坏的 batch）处截断，并关闭为 {newName}；其后的非零字节被销毁。',
  'dqlite.narrative.open-closed': '{file}：{entries} 个条目，关闭为 {newName}。',
  'dqlite.narrative.not-last-closed': '{file} 不是最后一个 closed segment，所以自动恢复不会处理它。',
  'dqlite.narrative.retry': '第一次尝试失败（RAFT_CORRUPT）：{error}。libraft 会再重试一次。',
  'dqlite.narrative.succeeds': '启动成功：条目 {first}..{last}。',
  'dqlite.narrative.succeeds.snapshot': '启动成功：条目 {first}..{last}，基于 snapshot {snapshot}。',
  'dqlite.narrative.crashes': 'libraft 在这里崩溃（{error}）。',
  'dqlite.narrative.fails': '启动失败：{error}',
};

export const BATCH_PROBLEMS = { en: batchEn, 'zh-CN': batchZh };

export default defineCatalog<DqliteTextKey>(en, zh);
