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
  'finding.segment.block-aligned-tail.message':
    'The file is exactly {blocks} blocks of 4096 bytes and ends in zero fill: it was not truncated when it was closed.',
  'finding.segment.open-crash.message': 'libraft 0.15 segfaults on this error in an open segment (double free) instead of printing it.',
  'finding.segment.open-truncated-data.message':
    'Batch {batch} at byte {offset} is bad ({detail}); {count} entries (its own and those of the valid batches after it) would be cut off.',
  'finding.segment.open-truncated-data.message.at-least':
    'Batch {batch} at byte {offset} is bad ({detail}); at least {count} entries (its own and those of the valid batches after it) would be cut off.',
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
  'finding.loader.open-index-shift.message':
    'After an earlier open segment loses entries, {files} would be loaded at lower indexes than the ones they were written at.',
  'finding.dir.corrupt-files.message':
    'corrupt-* files are segments that auto-recovery set aside on an earlier start; their entries were dropped then and may be salvageable offline.',

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

  'finding.metadata.bootstrap-fails.message':
    'No usable metadata1/metadata2 (term 0), so dqlite treats node {node} as brand new and calls raft_bootstrap(), which fails because {segment} already exists: the node exits with "raft_bootstrap(): " and an empty message.',
  'finding.metadata.bootstrap-fails.message.unknown-node':
    'No usable metadata1/metadata2 (term 0), so dqlite treats this node (no info.yaml: assumed to be the cluster\'s first node) as brand new and calls raft_bootstrap(), which fails because {segment} already exists: the node exits with "raft_bootstrap(): " and an empty message.',
  'finding.metadata.bootstrap-over-log.message':
    'No usable metadata1/metadata2 (term 0): dqlite would bootstrap node {node} again, writing term 1 and a new {segment} next to the existing log.',
  'finding.metadata.bootstrap-over-log.message.unknown-node':
    "No usable metadata1/metadata2 (term 0): dqlite would bootstrap this node (no info.yaml: assumed to be the cluster's first node) again, writing term 1 and a new {segment} next to the existing log.",
  'finding.metadata.missing.message': 'No usable metadata1/metadata2: node {node} would start with term 0 and no vote recorded, forgetting the term it was in.',
  'finding.metadata.missing.message.unknown-node':
    "No usable metadata1/metadata2: this node (no info.yaml: assumed to be the cluster's first node) would start with term 0 and no vote recorded, forgetting the term it was in.",
  'finding.membership.info-not-in-cluster.message': 'info.yaml names node {id} ({address}), which cluster.yaml does not list.',
  'finding.membership.cluster-yaml-differs.message.missing': 'cluster.yaml disagrees with the raft configuration in {source}: missing {missing}.',
  'finding.membership.cluster-yaml-differs.message.extra': 'cluster.yaml disagrees with the raft configuration in {source}: extra {extra}.',
  'finding.membership.cluster-yaml-differs.message.both': 'cluster.yaml disagrees with the raft configuration in {source}: missing {missing}; extra {extra}.',
  'finding.membership.cluster-yaml-differs.message.missing.log': 'cluster.yaml disagrees with the raft configuration in the log: missing {missing}.',
  'finding.membership.cluster-yaml-differs.message.extra.log': 'cluster.yaml disagrees with the raft configuration in the log: extra {extra}.',
  'finding.membership.cluster-yaml-differs.message.both.log':
    'cluster.yaml disagrees with the raft configuration in the log: missing {missing}; extra {extra}.',
  'finding.membership.node-not-in-configuration.message': 'This node ({id}, {address}) is not in the raft configuration from {source}.',
  'finding.membership.node-not-in-configuration.message.log': 'This node ({id}, {address}) is not in the raft configuration from the log.',
  'finding.membership.yaml-out-of-bounds.message.too-large':
    '{file} is {size} bytes, more than the {limit} a membership file can plausibly need (real ones are a few hundred); it was not parsed. Look at it by hand before trusting it.',
  'finding.membership.yaml-out-of-bounds.message.too-deep':
    '{file} nests collections more than {limit} deep (byte {offset}); go-dqlite writes a flat list, so it was not parsed. Look at it by hand before trusting it.',
  'finding.membership.yaml-out-of-bounds.message.too-many-items':
    '{file} has more than {limit} entries; it was not parsed. Look at it by hand before trusting it.',
  'finding.membership.yaml-out-of-bounds.message.aliases':
    '{file} uses YAML aliases (*name, first at byte {offset}), which go-dqlite never writes and which can expand without bound; it was not parsed. Look at it by hand before trusting it.',
  'finding.membership.yaml-invalid.message': '{file} is not valid YAML (byte {offset}): {error}',
  'finding.membership.yaml-invalid.message.no-offset': '{file} is not valid YAML: {error}',
  'finding.membership.yaml-invalid.message.shape': '{file}: {error}',
  'finding.segment.open-zeroed-live.message':
    "{count} open segments ({files}) are all zeros, but libraft keeps at most {pool} unused spares: {file} was probably the segment being written and has been zeroed. Entries written after index {index} would be gone without a trace; check the node's last known index before starting it.",
  'finding.segment.open-after-missing-closed.message':
    '{file} is open segment number {counter} of the current run, but the log from index 1 holds only {counted} closed {counted|segment|segments} besides configuration segments, so a closed segment written just before the open segments may be missing. libraft would load {file} from index {at}, possibly lower than where its entries were written, and apply them to the wrong state.',
  'finding.listing.unparsed-lines.message': '{count} {count|line is|lines are} not `ls -l` {count|a line|lines} and {count|was|were} skipped.',
  'finding.listing.repeated-names.message':
    "{count} {count|name is|names are} listed more than once (the first: {name}): listings of several directories or nodes pasted together? The first line of each name is used; paste one directory's listing.",
  'finding.listing.gap.message': 'Entries {first}..{last} are missing between {before} and {after}.',
  'finding.listing.overlap.message': '{file} overlaps {previous}.',
  'finding.listing.bad-range.message': '{file} ends before it starts.',
  'finding.listing.empty-segment.message': '{file} is empty: libraft fails with "file is empty".',
  'finding.listing.block-aligned-closed.message':
    '{file} is exactly {blocks} blocks of 4096 bytes. Closed segments are truncated to their exact length, so a block-aligned size suggests zero fill at the end (libraft: "entries count in preamble is zero").',
  'finding.listing.tiny-after-full.message':
    '{file} ({size} bytes) follows a full segment: a one-entry segment like this is written by bootstrap or `.reconfigure` (a single RAFT_CHANGE), not by normal appends.',
  'finding.listing.open-segments.message':
    '{count} open {count|segment|segments} ({files}) {count|holds|hold} the newest entries; {count|its|their} first index is not in the name and is inferred from the segment before {count|it|them}.',
  'finding.listing.log-start-fails.message': 'The pasted log says start-up fails on {file}; the engine text is below.',
  'finding.listing.log-file-missing.message':
    'The pasted log says start-up fails on {file}, which is not in this listing: is the listing from the same node, taken after that log line?',
  'dqlite.listing.narrative.snapshot': 'The loader takes the newest snapshot {file} (index {index}).',
  'dqlite.listing.narrative.ignored': '{count} closed {count|segment|segments} before the newest contiguous chain {count|is|are} ignored.',
  'dqlite.listing.narrative.chain':
    'It would read {count} closed {count|segment|segments} from {first} to {last}; a damaged file anywhere in that chain except the last closed one stops start-up.',
  'dqlite.listing.narrative.chain.open':
    'It would read {count} closed {count|segment|segments} from {first} to {last}, then {open} open {open|segment|segments}; a damaged file anywhere in that chain except the last closed one stops start-up.',
  'dqlite.listing.narrative.snapshot-only': 'It would start from the snapshot alone.',
  'dqlite.listing.narrative.snapshot-only.open': 'It would start from the snapshot and the {open} open {open|segment|segments}.',
  'dqlite.listing.narrative.covered':
    '{count} of those closed segments {count|holds|hold} only entries already inside the snapshot: if one of them is damaged, moving it aside creates a gap, the loader then ignores everything before the gap, and start-up works with nothing lost. This is why deleting such a file "works".',
  'dqlite.listing.narrative.fails': 'Start-up fails: {error}.',
  'dqlite.listing.narrative.no-snapshot': 'No snapshot: the loader reads every segment from index 1.',
  'dqlite.listing.narrative.log': 'The pasted log says where start-up really fails: {error}.',
  'dqlite.listing.why.log': 'the log says start-up fails on it',
  'dqlite.listing.why.loaded': 'read by the loader at start-up',
  'dqlite.listing.why.snapshot-meta': 'the snapshot the loader would take (metadata)',
  'dqlite.listing.why.snapshot-data': 'the snapshot the loader would take (data)',
  'dqlite.listing.why.metadata': 'raft term and vote',
  'dqlite.listing.why.membership': 'membership cache',
  'dqlite.listing.plan.summary.inside-snapshot':
    'Move {file} aside: it holds only entries {first}..{last}, all inside snapshot {snapshot}, so nothing is lost. By names and sizes the rest of the log then loads; copy the files out to confirm it before you run the plan.',
  'dqlite.listing.plan.needs-copy': 'Names and sizes cannot say how to repair {file}: copy the files below out and validate them for an exact plan.',
  'dqlite.listing.plan.needs-copy.truncate':
    '{file} holds entries {first}..{last}, not all inside a snapshot. Its batches before byte {offset} can probably be kept by truncating it there, but how many entries they hold (and so its new name) is only in the file: copy it out for the exact plan.',
  'dqlite.listing.plan.copy-out-adds':
    'What a copy-out adds: every batch checksum of the files the loader reads (the open segments too), the snapshot and its LZ4 data, the metadata term, and the exact entries each step keeps.',
  'finding.listing.snapshot-ahead.message':
    'The newest snapshot (index {index}) is ahead of the last closed segment (ends at {last}); the entries in between must be in the open segments.',
  'finding.loader.past-snapshot.message.listing': 'Entries between the snapshot and the first segment are missing.',
  'finding.loader.unexpected-segment.message.listing': 'Without a snapshot the first closed segment must start at index 1.',

  'dqlite.narrative.snapshot': 'Load the newest snapshot {file} (index {index}).',
  'dqlite.narrative.snapshot.retry': 'Retry: load the newest snapshot {file} (index {index}).',
  'dqlite.narrative.no-snapshot': 'No usable snapshot: the log must start at index 1.',
  'dqlite.narrative.no-snapshot.retry': 'Retry: no usable snapshot: the log must start at index 1.',
  'dqlite.narrative.all-ignored':
    'The newest closed segment {file} ends before the snapshot index {index} and there are no open segments: all closed segments are ignored.',
  'dqlite.narrative.keep-all':
    'The newest closed segment {file} ends before the snapshot index {index}, but open segments exist, so libraft keeps every segment.',
  'dqlite.narrative.ignored':
    '{count} older closed {count|segment|segments} ({files}) {count|is|are} not part of the newest contiguous chain and are ignored (not read, left on disk).',
  'dqlite.narrative.no-segments': 'No segments to load; start index {start}.',
  'dqlite.narrative.loading': 'Start index {start}; loading {count} {count|segment|segments} in order.',
  'dqlite.narrative.renames': 'Auto-recovery renames {count} {count|file|files} to corrupt-*: {files}.',
  'dqlite.narrative.open-deleted.empty': '{file}: empty file, deleted.',
  'dqlite.narrative.open-deleted.zeros': '{file}: never written (all zeros), deleted.',
  'dqlite.narrative.open-deleted.no-batch': '{file}: no valid batch, deleted.',
  'dqlite.narrative.open-truncated': '{file}: truncated at byte {offset} (first bad batch) and closed as {newName}; the non-zero bytes after it are destroyed.',
  'dqlite.narrative.open-closed': '{file}: {entries} entries, closed as {newName}.',
  'dqlite.narrative.not-last-closed': '{file} is not the last closed segment, so auto-recovery does not touch it.',
  'dqlite.narrative.retry': 'First attempt failed (RAFT_CORRUPT): {error}. libraft retries once (only what it does differently is listed below).',
  'dqlite.narrative.retry.same': 'Nothing differs: no file was renamed, so the retry fails at the same place.',
  'dqlite.narrative.succeeds': 'Start-up succeeds: entries {first}..{last}.',
  'dqlite.narrative.succeeds.snapshot': 'Start-up succeeds: entries {first}..{last} on top of snapshot {snapshot}.',
  'dqlite.narrative.succeeds.snapshot-only': 'Start-up succeeds from snapshot {snapshot} alone: no log entries follow it.',
  'dqlite.narrative.crashes': 'libraft crashes here ({error}).',
  'dqlite.narrative.fails': 'Start-up fails: {error}',
  'dqlite.repair.note.default-path':
    'Where this copy came from on the node is not known, so these commands assume the MicroK8s default {path}. If the node keeps its backend elsewhere, validate it in place over SSH (or pass --node-path PATH to the CLI) to get commands for that path.',
  'dqlite.repair.step.stop':
    'Stop the datastore (`microk8s stop` does the same): starting dqlite changes files (finalises open segments, renames corrupt ones).',
  'dqlite.repair.step.backup': 'Keep a full copy of {path} before changing anything.',
  'dqlite.repair.step.quarantine-dir': 'Files are moved to {path}, never deleted.',
  'dqlite.repair.step.move.range': "Move {file} (entries {first}..{last}) out of the loader's way.",
  'dqlite.repair.step.move': "Move {file} out of the loader's way.",
  'dqlite.repair.step.keep-bytes': 'Keep the first {bytes} bytes (all complete, checksummed batches) of {file}; the full original stays in quarantine.',
  'dqlite.repair.step.keep-bytes.rename':
    'Keep the first {bytes} bytes (all complete, checksummed batches) of {file} as {newName}; the full original stays in quarantine.',
  'dqlite.repair.step.write': 'Write a fresh {size}-byte {file} (the od output shows format, version, term, voted_for).',
  'dqlite.repair.step.start': 'Start again (`microk8s start` does the same).',
  'dqlite.repair.step.verify': 'Check that k8s-dqlite started and the API answers.',
  'dqlite.repair.note.snapshot-unusable': 'Snapshot {file} cannot be loaded; the previous snapshot is used instead.',
  'dqlite.repair.note.gap':
    'Entries {next}..{before} are missing: the log cannot continue past index {prev}. {file} and every later segment (entries {first}..{last}) are moved aside; they are unreachable for raft without the missing entries. Their data can only be salvaged offline (rebuild the database from a snapshot and the log, see the corrupt-*/quarantine salvage), and even then the changes in the missing range are gone.',
  'dqlite.repair.note.gap.no-snapshot':
    'Entries {next}..{before} are missing and no snapshot covers them: the log cannot continue past index {prev}. {file} and every later segment (entries {first}..{last}) are moved aside; they are unreachable for raft without the missing entries. Their data can only be salvaged offline (rebuild the database from a snapshot and the log, see the corrupt-*/quarantine salvage), and even then the changes in the missing range are gone.',
  'dqlite.repair.note.inside-snapshot': '{file} holds only entries {first}..{last}, all inside snapshot {snapshot}: moving it aside loses nothing.',
  'dqlite.repair.note.keep-closed': '{file}: keep its {entries} good entries ({first}..{last}) by truncating at byte {offset}.',
  'dqlite.repair.note.keep-closed.rename':
    '{file}: keep its {entries} good entries ({first}..{last}) by truncating at byte {offset} and renaming it {newName}.',
  'dqlite.repair.note.drop-rest': '{file} and the segments after it are moved aside.',
  'dqlite.repair.note.keep-open': '{file}: keep its {entries} good entries by truncating it at byte {offset}.',
  'dqlite.repair.note.open-unusable': '{file} has no usable batch; it is moved aside.',
  'dqlite.repair.note.shifted': 'Open segments after a damaged one would be loaded at wrong indexes; they are moved aside.',
  'dqlite.repair.note.cut-open':
    '{file}: keep its {entries} good entries by truncating it at byte {offset}; the bad batch and everything after it (entries {first}..{last}) cannot be applied, because raft cannot skip an entry.',
  'dqlite.repair.note.cut-open-unusable': '{file} has no valid first batch; it is moved aside (entries {first}..{last} in it cannot be applied).',
  'dqlite.repair.note.behind-snapshot': 'The segments end before the snapshot; they are moved aside and the node starts from the snapshot.',
  'dqlite.repair.note.past-snapshot':
    'Entries between the snapshot and the first segment are missing; no file move can restore them. Salvage offline (rebuild from the snapshot and the segments).',
  'dqlite.repair.note.metadata-torn': '{file} is a torn write ({size} bytes); it is moved aside (libraft would delete it).',
  'dqlite.repair.note.metadata-unusable': '{file} is unusable ({error}); it is moved aside.',
  'dqlite.repair.note.metadata-older': '{file} carries the same version as the other file and is the less recent one (lower term); it is moved aside.',
  'dqlite.repair.note.metadata-write':
    'Write a fresh {file}: format 1, version {version}, term {term} (the highest term in the log and snapshots), voted_for {votedFor} (this node). Without it dqlite would try to bootstrap over the existing log.',
  'dqlite.repair.note.metadata-write.unknown-id':
    "Write a fresh {file}: format 1, version {version}, term {term} (the highest term in the log and snapshots), voted_for 0 (this node's ID is unknown). Without it dqlite would try to bootstrap over the existing log.",
  'dqlite.repair.summary.not-needed': 'No repair needed: the engine starts and keeps every entry.',
  'dqlite.repair.summary.starts':
    'After {ops} file {ops|operation|operations} the node starts with entries up to {last}; every entry it drops is already in the snapshot.',
  'dqlite.repair.summary.starts.loses':
    'After {ops} file {ops|operation|operations} the node starts with entries up to {last}; entries {ranges} cannot be kept.',
  'dqlite.repair.summary.starts.empty': 'After {ops} file {ops|operation|operations} the node starts; every entry it drops is already in the snapshot.',
  'dqlite.repair.summary.starts.empty.loses': 'After {ops} file {ops|operation|operations} the node starts; entries {ranges} cannot be kept.',
  'dqlite.repair.summary.fails': 'No file-level repair makes the node start; an offline rebuild from the snapshot and segments is needed.',

  // `{plan}` is the repair plan's summary; the UI fills it with that sentence in its own language.
  'dqlite.summary.crash': 'dqlite will not start: libraft would crash while loading ({error}). {plan}',
  'dqlite.summary.bootstrap':
    'dqlite will not start: with no usable metadata1/metadata2 it calls raft_bootstrap() over the existing log, which fails ("start node: raft_bootstrap(): "). {plan}',
  'dqlite.summary.fails': 'dqlite will not start: start-up fails with "{error}". {plan}',
  'dqlite.summary.data-loss':
    'dqlite would start, but only by silently dropping entries {ranges} (renamed to corrupt-* or truncated). Do not start it as is: {plan}',
  'dqlite.summary.starts': 'dqlite would start: log {first}..{last}. No entry would be lost.',
  'dqlite.summary.starts.snapshot': 'dqlite would start: snapshot {snapshot}, log {first}..{last}. No entry would be lost.',
  'dqlite.summary.starts.set-aside':
    'dqlite would start: log {first}..{last}. Some damaged files would be set aside, but everything in them is covered by the snapshot.',
  'dqlite.summary.starts.snapshot.set-aside':
    'dqlite would start: snapshot {snapshot}, log {first}..{last}. Some damaged files would be set aside, but everything in them is covered by the snapshot.',
};

export type DqliteTextKey = keyof typeof en;

const zh: Record<DqliteTextKey, string> = {
  ...withIgnored(closedZh, '（libraft 会忽略这个 segment，所以它不会阻止启动）。', true),
  'finding.segment.too-short.message.open': '该 open segment 只有 {size} 字节，不足 8 字节的格式头。',
  'finding.segment.format.message.open': '该 open segment 开头的格式版本是 {format}，而不是 1。',
  'finding.segment.block-aligned-tail.message': '文件大小恰好是 {blocks} 个 4096 字节的块，末尾是补零区域：关闭时没有被截断到实际长度。',
  'finding.segment.open-crash.message': 'open segment 中出现这个错误时，libraft 0.15 不会打印错误，而是直接段错误崩溃（double free）。',
  'finding.segment.open-truncated-data.message':
    '第 {batch} 个 batch（字节 {offset}）已损坏（{detail}）；会截掉 {count} 个条目（它自己的，以及其后有效 batch 中的）。',
  'finding.segment.open-truncated-data.message.at-least':
    '第 {batch} 个 batch（字节 {offset}）已损坏（{detail}）；至少会截掉 {count} 个条目（它自己的，以及其后有效 batch 中的）。',
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

  'finding.metadata.bootstrap-fails.message':
    '没有可用的 metadata1/metadata2（term 为 0），所以 dqlite 把节点 {node} 当作全新节点并调用 raft_bootstrap()，而 {segment} 已存在，所以调用失败：节点以 "raft_bootstrap(): " 和一条空消息退出。',
  'finding.metadata.bootstrap-fails.message.unknown-node':
    '没有可用的 metadata1/metadata2（term 为 0），所以 dqlite 把本节点（没有 info.yaml：假定是集群的第一个节点）当作全新节点并调用 raft_bootstrap()，而 {segment} 已存在，所以调用失败：节点以 "raft_bootstrap(): " 和一条空消息退出。',
  'finding.metadata.bootstrap-over-log.message':
    '没有可用的 metadata1/metadata2（term 为 0）：dqlite 会重新 bootstrap 节点 {node}，写入 term 1，并在现有日志旁边新建 {segment}。',
  'finding.metadata.bootstrap-over-log.message.unknown-node':
    '没有可用的 metadata1/metadata2（term 为 0）：dqlite 会重新 bootstrap 本节点（没有 info.yaml：假定是集群的第一个节点），写入 term 1，并在现有日志旁边新建 {segment}。',
  'finding.metadata.missing.message': '没有可用的 metadata1/metadata2：节点 {node} 会以 term 0 启动且没有投票记录，忘记它原来所处的 term。',
  'finding.metadata.missing.message.unknown-node':
    '没有可用的 metadata1/metadata2：本节点（没有 info.yaml：假定是集群的第一个节点）会以 term 0 启动且没有投票记录，忘记它原来所处的 term。',
  'finding.membership.info-not-in-cluster.message': 'info.yaml 指明的节点 {id}（{address}）不在 cluster.yaml 的列表中。',
  'finding.membership.cluster-yaml-differs.message.missing': 'cluster.yaml 与 {source} 中的 raft 配置不一致：缺少 {missing}。',
  'finding.membership.cluster-yaml-differs.message.extra': 'cluster.yaml 与 {source} 中的 raft 配置不一致：多出 {extra}。',
  'finding.membership.cluster-yaml-differs.message.both': 'cluster.yaml 与 {source} 中的 raft 配置不一致：缺少 {missing}；多出 {extra}。',
  'finding.membership.cluster-yaml-differs.message.missing.log': 'cluster.yaml 与日志中的 raft 配置不一致：缺少 {missing}。',
  'finding.membership.cluster-yaml-differs.message.extra.log': 'cluster.yaml 与日志中的 raft 配置不一致：多出 {extra}。',
  'finding.membership.cluster-yaml-differs.message.both.log': 'cluster.yaml 与日志中的 raft 配置不一致：缺少 {missing}；多出 {extra}。',
  'finding.membership.node-not-in-configuration.message': '本节点（{id}，{address}）不在来自 {source} 的 raft 配置中。',
  'finding.membership.node-not-in-configuration.message.log': '本节点（{id}，{address}）不在来自日志的 raft 配置中。',
  'finding.membership.yaml-out-of-bounds.message.too-large':
    '{file} 有 {size} 字节，超过成员信息文件合理所需的 {limit} 字节（真实文件只有几百字节），未解析。请先人工检查再信任它。',
  'finding.membership.yaml-out-of-bounds.message.too-deep':
    '{file} 的嵌套深度超过 {limit} 层（字节 {offset}）；go-dqlite 只写扁平列表，因此未解析。请先人工检查再信任它。',
  'finding.membership.yaml-out-of-bounds.message.too-many-items': '{file} 的条目超过 {limit} 个，未解析。请先人工检查再信任它。',
  'finding.membership.yaml-out-of-bounds.message.aliases':
    '{file} 使用了 YAML 别名（*name，首个在字节 {offset}），go-dqlite 从不写别名，且别名可以无限展开，因此未解析。请先人工检查再信任它。',
  'finding.membership.yaml-invalid.message': '{file} 不是有效的 YAML（字节 {offset}）：{error}',
  'finding.membership.yaml-invalid.message.no-offset': '{file} 不是有效的 YAML：{error}',
  'finding.membership.yaml-invalid.message.shape': '{file}：{error}',
  'finding.segment.open-zeroed-live.message':
    '{count} 个 open segment（{files}）全为零，但 libraft 最多只保留 {pool} 个未使用的备用文件：{file} 很可能是正在写入的 segment，已被清零。index {index} 之后写入的条目会不留痕迹地消失；启动前请先确认该节点最后已知的 index。',
  'finding.segment.open-after-missing-closed.message':
    '{file} 是本次运行的第 {counter} 个 open segment，但从 index 1 开始的日志中除配置 segment 外只有 {counted} 个 closed segment，所以紧挨着 open segment 之前写入的某个 closed segment 可能缺失。libraft 会从 index {at} 加载 {file}，可能低于其条目写入时的 index，并把它们应用到错误的状态上。',
  'finding.listing.unparsed-lines.message': '有 {count} 行不是 `ls -l` 的输出行，已跳过。',
  'finding.listing.repeated-names.message':
    '有 {count} 个文件名出现了不止一次（第一个：{name}）：是否把几个目录或节点的列表粘贴在了一起？每个文件名只采用第一行；请只粘贴一个目录的列表。',
  'finding.listing.gap.message': '{before} 与 {after} 之间缺少条目 {first}..{last}。',
  'finding.listing.overlap.message': '{file} 与 {previous} 重叠。',
  'finding.listing.bad-range.message': '{file} 的结束位置在起始位置之前。',
  'finding.listing.empty-segment.message': '{file} 是空文件：libraft 会报错“file is empty”。',
  'finding.listing.block-aligned-closed.message':
    '{file} 的大小恰好是 {blocks} 个 4096 字节的块。closed segment 会被截断到实际长度，所以按块对齐的大小说明末尾可能是补零区域（libraft：“entries count in preamble is zero”）。',
  'finding.listing.tiny-after-full.message':
    '{file}（{size} 字节）跟在一个写满的 segment 之后：这种只有一个条目的 segment 由 bootstrap 或 `.reconfigure`（单个 RAFT_CHANGE）写入，而不是正常追加产生的。',
  'finding.listing.log-start-fails.message': '粘贴的日志表明启动在 {file} 上失败；引擎原文见下方。',
  'finding.listing.log-file-missing.message': '粘贴的日志表明启动在 {file} 上失败，但这个文件不在列表中：列表是否来自同一节点，且是在那条日志之后获取的？',
  'dqlite.listing.narrative.snapshot': '加载器会使用最新的 snapshot {file}（index {index}）。',
  'dqlite.listing.narrative.ignored': '最新连续链之前的 {count} 个 closed segment 会被忽略。',
  'dqlite.listing.narrative.chain':
    '它会读取从 {first} 到 {last} 的 {count} 个 closed segment；这条链上除了最后一个 closed segment 之外，任何一个文件损坏都会让启动失败。',
  'dqlite.listing.narrative.chain.open':
    '它会读取从 {first} 到 {last} 的 {count} 个 closed segment，然后是 {open} 个 open segment；这条链上除了最后一个 closed segment 之外，任何一个文件损坏都会让启动失败。',
  'dqlite.listing.narrative.snapshot-only': '它只会从 snapshot 启动。',
  'dqlite.listing.narrative.snapshot-only.open': '它会从 snapshot 和 {open} 个 open segment 启动。',
  'dqlite.listing.narrative.covered':
    '其中 {count} 个 closed segment 只包含 snapshot 中已有的条目：如果其中某个损坏，把它移开会形成一个缺口，加载器随后忽略缺口之前的一切，启动成功且不丢失任何数据。这就是为什么删掉这样的文件“管用”。',
  'dqlite.listing.narrative.fails': '启动失败：{error}。',
  'dqlite.listing.narrative.no-snapshot': '没有 snapshot：加载器从 index 1 开始读取所有 segment。',
  'dqlite.listing.narrative.log': '粘贴的日志表明启动实际失败的位置：{error}。',
  'dqlite.listing.why.log': '日志表明启动在它上面失败',
  'dqlite.listing.why.loaded': '启动时会被加载器读取',
  'dqlite.listing.why.snapshot-meta': '加载器会使用的 snapshot（元数据）',
  'dqlite.listing.why.snapshot-data': '加载器会使用的 snapshot（数据）',
  'dqlite.listing.why.metadata': 'raft 的 term 和投票',
  'dqlite.listing.why.membership': '成员信息缓存',
  'dqlite.listing.plan.summary.inside-snapshot':
    '把 {file} 移开：它只包含条目 {first}..{last}，全部在 snapshot {snapshot} 之内，因此不会丢失任何数据。按文件名和大小判断，其余日志随后可以加载；执行方案之前，请先把文件拷出来确认。',
  'dqlite.listing.plan.needs-copy': '仅凭文件名和大小无法确定如何修复 {file}：请把下面列出的文件拷出来校验，以得到精确的方案。',
  'dqlite.listing.plan.needs-copy.truncate':
    '{file} 包含条目 {first}..{last}，并非全部在 snapshot 之内。它在字节 {offset} 之前的 batch 很可能可以通过在那里截断来保留，但它们包含多少条目（也就决定了新文件名）只有文件本身知道：请把它拷出来，以得到精确的方案。',
  'dqlite.listing.plan.copy-out-adds':
    '拷出文件后还能确认：加载器读取的每个文件（包括 open segment）的每个 batch 校验和、snapshot 及其 LZ4 数据、metadata 中的 term，以及每一步确切保留的条目。',
  'finding.listing.open-segments.message': '{count} 个 open segment（{files}）存放最新的条目；它们的起始 index 不在文件名中，由前一个 segment 推算。',
  'finding.listing.snapshot-ahead.message':
    '最新的 snapshot（index {index}）领先于最后一个 closed segment（结束于 {last}）；中间的条目必定在 open segment 中。',
  'finding.loader.past-snapshot.message.listing': 'snapshot 与第一个 segment 之间的条目缺失。',
  'finding.loader.unexpected-segment.message.listing': '没有 snapshot 时，第一个 closed segment 必须从 index 1 开始。',

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
  'dqlite.narrative.retry': '第一次尝试失败（RAFT_CORRUPT）：{error}。libraft 会再重试一次（下面只列出与第一次不同的步骤）。',
  'dqlite.narrative.retry.same': '没有任何不同：没有文件被改名，所以重试会在同一个地方失败。',
  'dqlite.narrative.succeeds': '启动成功：条目 {first}..{last}。',
  'dqlite.narrative.succeeds.snapshot': '启动成功：条目 {first}..{last}，基于 snapshot {snapshot}。',
  'dqlite.narrative.succeeds.snapshot-only': '仅凭 snapshot {snapshot} 启动成功：其后没有日志条目。',
  'dqlite.narrative.crashes': 'libraft 在这里崩溃（{error}）。',
  'dqlite.narrative.fails': '启动失败：{error}',
  'dqlite.repair.note.default-path':
    '不知道这份拷贝来自节点上的哪个目录，所以这些命令假定使用 MicroK8s 的默认路径 {path}。如果节点的 backend 在别处，请通过 SSH 在原处校验（或在命令行加上 --node-path PATH），以得到针对该路径的命令。',
  'dqlite.repair.step.stop': '停止数据存储（`microk8s stop` 效果相同）：dqlite 启动时会修改文件（把 open segment 定稿、给损坏的文件改名）。',
  'dqlite.repair.step.backup': '在做任何改动之前，先完整备份 {path}。',
  'dqlite.repair.step.quarantine-dir': '文件会被移到 {path}，绝不删除。',
  'dqlite.repair.step.move.range': '把 {file}（条目 {first}..{last}）移出加载器的路径。',
  'dqlite.repair.step.move': '把 {file} 移出加载器的路径。',
  'dqlite.repair.step.keep-bytes': '保留 {file} 的前 {bytes} 字节（都是完整且校验和正确的 batch）；完整的原文件留在隔离目录中。',
  'dqlite.repair.step.keep-bytes.rename': '保留 {file} 的前 {bytes} 字节（都是完整且校验和正确的 batch），并改名为 {newName}；完整的原文件留在隔离目录中。',
  'dqlite.repair.step.write': '写入一个新的 {size} 字节的 {file}（od 的输出依次显示 format、version、term、voted_for）。',
  'dqlite.repair.step.start': '重新启动（`microk8s start` 效果相同）。',
  'dqlite.repair.step.verify': '检查 k8s-dqlite 是否已启动、API 是否有响应。',
  'dqlite.repair.note.snapshot-unusable': 'snapshot {file} 无法加载；改用上一个 snapshot。',
  'dqlite.repair.note.gap':
    '条目 {next}..{before} 缺失：日志无法越过 index {prev} 继续。{file} 及其后所有 segment（条目 {first}..{last}）会被移开；缺少这些条目，raft 无法使用它们。其中的数据只能离线抢救（从 snapshot 和日志重建数据库，参见 corrupt-*/隔离文件的抢救），即便如此，缺失范围内的改动也已丢失。',
  'dqlite.repair.note.gap.no-snapshot':
    '条目 {next}..{before} 缺失，且没有 snapshot 覆盖它们：日志无法越过 index {prev} 继续。{file} 及其后所有 segment（条目 {first}..{last}）会被移开；缺少这些条目，raft 无法使用它们。其中的数据只能离线抢救（从 snapshot 和日志重建数据库，参见 corrupt-*/隔离文件的抢救），即便如此，缺失范围内的改动也已丢失。',
  'dqlite.repair.note.inside-snapshot': '{file} 只包含条目 {first}..{last}，全部在 snapshot {snapshot} 之内：把它移开不会丢失任何数据。',
  'dqlite.repair.note.keep-closed': '{file}：在字节 {offset} 处截断，保留其中 {entries} 个完好的条目（{first}..{last}）。',
  'dqlite.repair.note.keep-closed.rename': '{file}：在字节 {offset} 处截断并改名为 {newName}，保留其中 {entries} 个完好的条目（{first}..{last}）。',
  'dqlite.repair.note.drop-rest': '{file} 及其后的 segment 会被移开。',
  'dqlite.repair.note.keep-open': '{file}：在字节 {offset} 处截断，保留其中 {entries} 个完好的条目。',
  'dqlite.repair.note.open-unusable': '{file} 没有可用的 batch；它会被移开。',
  'dqlite.repair.note.shifted': '损坏的 open segment 之后的 open segment 会被加载到错误的 index 上；它们会被移开。',
  'dqlite.repair.note.cut-open':
    '{file}：在字节 {offset} 处截断，保留其中 {entries} 个完好的条目；损坏的 batch 及其后的一切（条目 {first}..{last}）无法应用，因为 raft 不能跳过任何条目。',
  'dqlite.repair.note.cut-open-unusable': '{file} 的第一个 batch 无效；它会被移开（其中的条目 {first}..{last} 无法应用）。',
  'dqlite.repair.note.behind-snapshot': 'segment 在 snapshot 之前就结束了；它们会被移开，节点从 snapshot 启动。',
  'dqlite.repair.note.past-snapshot': 'snapshot 与第一个 segment 之间的条目缺失；移动文件无法恢复它们。请离线抢救（从 snapshot 和 segment 重建）。',
  'dqlite.repair.note.metadata-torn': '{file} 写入不完整（{size} 字节）；它会被移开（libraft 会删除它）。',
  'dqlite.repair.note.metadata-unusable': '{file} 不可用（{error}）；它会被移开。',
  'dqlite.repair.note.metadata-older': '{file} 与另一个文件版本号相同，且是较旧的那个（term 较小）；它会被移开。',
  'dqlite.repair.note.metadata-write':
    '写入新的 {file}：format 1，version {version}，term {term}（日志和 snapshot 中最高的 term），voted_for {votedFor}（本节点）。没有它，dqlite 会试图在现有日志之上重新 bootstrap。',
  'dqlite.repair.note.metadata-write.unknown-id':
    '写入新的 {file}：format 1，version {version}，term {term}（日志和 snapshot 中最高的 term），voted_for 0（本节点的 ID 未知）。没有它，dqlite 会试图在现有日志之上重新 bootstrap。',
  'dqlite.repair.summary.not-needed': '无需修复：引擎能启动，且保留所有条目。',
  'dqlite.repair.summary.starts': '经过 {ops} 个文件操作后，节点可以启动，条目直到 {last}；它舍弃的每个条目都已包含在 snapshot 中。',
  'dqlite.repair.summary.starts.loses': '经过 {ops} 个文件操作后，节点可以启动，条目直到 {last}；条目 {ranges} 无法保留。',
  'dqlite.repair.summary.starts.empty': '经过 {ops} 个文件操作后，节点可以启动；它舍弃的每个条目都已包含在 snapshot 中。',
  'dqlite.repair.summary.starts.empty.loses': '经过 {ops} 个文件操作后，节点可以启动；条目 {ranges} 无法保留。',
  'dqlite.repair.summary.fails': '任何文件级修复都无法让节点启动；需要从 snapshot 和 segment 离线重建。',

  'dqlite.summary.crash': 'dqlite 无法启动：libraft 加载时会崩溃（{error}）。{plan}',
  'dqlite.summary.bootstrap':
    'dqlite 无法启动：没有可用的 metadata1/metadata2，它会在现有日志之上调用 raft_bootstrap()，而这会失败（"start node: raft_bootstrap(): "）。{plan}',
  'dqlite.summary.fails': 'dqlite 无法启动：启动失败，错误为“{error}”。{plan}',
  'dqlite.summary.data-loss': 'dqlite 可以启动，但只能通过悄悄丢弃条目 {ranges}（改名为 corrupt-* 或被截断）。不要直接启动：{plan}',
  'dqlite.summary.starts': 'dqlite 可以启动：日志 {first}..{last}。不会丢失任何条目。',
  'dqlite.summary.starts.snapshot': 'dqlite 可以启动：snapshot {snapshot}，日志 {first}..{last}。不会丢失任何条目。',
  'dqlite.summary.starts.set-aside': 'dqlite 可以启动：日志 {first}..{last}。一些损坏的文件会被移开，但其中的内容都已包含在 snapshot 中。',
  'dqlite.summary.starts.snapshot.set-aside':
    'dqlite 可以启动：snapshot {snapshot}，日志 {first}..{last}。一些损坏的文件会被移开，但其中的内容都已包含在 snapshot 中。',
};

export const BATCH_PROBLEMS = { en: batchEn, 'zh-CN': batchZh };

export default defineCatalog<DqliteTextKey>(en, zh);
