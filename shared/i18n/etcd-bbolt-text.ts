/**
 * Message templates of the bbolt and etcd-schema findings
 * (`finding.<code>.message`, variants by `messageKey`), in English and
 * Simplified Chinese. shared/formats/etcd/bbolt-text.ts writes the English
 * `message` from the same template, so report, CLI and UI agree. Titles
 * (`finding.<code>`) are in etcd-text.ts. bbolt's and etcd's own texts
 * (`{text}`, `{error}`) stay in English: they are what the user greps for.
 */
import { defineCatalog } from './types';

/** Tree-walk problems: bbolt's wording (or ours in bbolt's style) is the `{text}`. */
const WALK_CODES = [
  'out-of-bounds',
  'multiple-references',
  'invalid-type',
  'header-id',
  'overflow-beyond-file',
  'page-beyond-file',
  'element-count',
  'element-bounds',
  'element-beyond-file',
  'element-slice',
  'key-order',
  'bucket-value',
  'inline-bucket',
  'bucket-depth',
  'freelist-invalid',
  'freelist-bounds',
  'already-freed',
  'unreachable-unfreed',
] as const;

type WalkKey = `finding.bbolt.${(typeof WALK_CODES)[number]}.message`;

/**
 * Walk problems in our own words (bbolt has none for them: it reads on, or
 * faults), by code and case, in both languages. The walk writes the English
 * `text` from these; a finding about one uses `finding.bbolt.<code>.<case>.message`
 * (and, when it is where etcd crashes, `finding.bbolt.freepages-fault.<code>.<case>.message`),
 * so the Chinese report says the same thing with the same numbers.
 */
export const OWN_PROBLEMS = {
  'page-beyond-file': {
    meta: {
      en: 'page {page}: referenced by meta page {meta} but beyond the end of the file ({pages} pages); bbolt would read outside the file',
      zh: '页 {page}：meta 页 {meta} 引用了它，但它超出了文件末尾（文件共 {pages} 页）；bbolt 会读到文件之外',
    },
    page: {
      en: 'page {page}: referenced by page {parent} but beyond the end of the file ({pages} pages); bbolt would read outside the file',
      zh: '页 {page}：页 {parent} 引用了它，但它超出了文件末尾（文件共 {pages} 页）；bbolt 会读到文件之外',
    },
    freelist: {
      en: 'page {page}: the freelist page is beyond the end of the file ({pages} pages)',
      zh: '页 {page}：freelist 页超出了文件末尾（文件共 {pages} 页）',
    },
  },
  'overflow-beyond-file': {
    pages: {
      en: 'page {page}: overflow {overflow} runs past the end of the file ({pages} pages)',
      zh: '页 {page}：{overflow} 个溢出页超出了文件末尾（文件共 {pages} 页）',
    },
  },
  'element-beyond-file': {
    key: {
      en: "page {page}: element {index}'s key is at byte {at}, beyond the end of the file ({size} bytes); bbolt reads it when it iterates the bucket",
      zh: '页 {page}：元素 {index} 的键位于字节 {at}，超出了文件末尾（文件共 {size} 字节）；bbolt 遍历该桶时会读取它',
    },
    'branch-key': {
      en: "page {page}: branch element {index}'s key is at byte {at}, beyond the end of the file ({size} bytes); bbolt reads it when it seeks the bucket's keys",
      zh: '页 {page}：分支元素 {index} 的键位于字节 {at}，超出了文件末尾（文件共 {size} 字节）；bbolt 在该桶中查找键时会读取它',
    },
    elements: {
      en: 'page {page}: its {count} elements run past the end of the file ({size} bytes); bbolt reads them when it iterates the bucket',
      zh: '页 {page}：它的 {count} 个元素超出了文件末尾（文件共 {size} 字节）；bbolt 遍历该桶时会读取它们',
    },
  },
  'element-slice': {
    key: {
      en: "page {page}: element {index}'s key ends {end} bytes from the element, past the 2 GiB through which bbolt slices a page's bytes; bbolt's cursor makes that slice when it iterates the bucket, and Go stops etcd there with \"{panic}\"",
      zh: '页 {page}：元素 {index} 的键结束于距该元素 {end} 字节处，超出了 bbolt 切分页内字节所用的 2 GiB 范围；bbolt 的游标遍历该桶时会生成这个切片，运行时的边界检查会在此处以 “{panic}” 终止 etcd',
    },
    value: {
      en: "page {page}: element {index}'s value ends {end} bytes from the element, past the 2 GiB through which bbolt slices a page's bytes; bbolt's cursor makes that slice when it iterates the bucket, and Go stops etcd there with \"{panic}\"",
      zh: '页 {page}：元素 {index} 的值结束于距该元素 {end} 字节处，超出了 bbolt 切分页内字节所用的 2 GiB 范围；bbolt 的游标遍历该桶时会生成这个切片，运行时的边界检查会在此处以 “{panic}” 终止 etcd',
    },
    'branch-key': {
      en: "page {page}: branch element {index}'s key ends {end} bytes from the element, past the 2 GiB through which bbolt slices a page's bytes; bbolt makes that slice when it seeks the bucket's keys, and Go stops etcd there with \"{panic}\"",
      zh: '页 {page}：分支元素 {index} 的键结束于距该元素 {end} 字节处，超出了 bbolt 切分页内字节所用的 2 GiB 范围；bbolt 在该桶中查找键时会生成这个切片，运行时的边界检查会在此处以 “{panic}” 终止 etcd',
    },
  },
  'element-count': {
    fit: {
      en: 'page {page}: {count} elements do not fit in the page ({bytes} bytes)',
      zh: '页 {page}：{count} 个元素放不进该页（{bytes} 字节）',
    },
  },
  'element-bounds': {
    'branch-key': {
      en: 'page {page}: element {index}: key ({ksize} bytes at +{pos}) runs past the end of the page ({bytes} bytes)',
      zh: '页 {page}：元素 {index}：键（{ksize} 字节，位于 +{pos}）超出了该页末尾（{bytes} 字节）',
    },
    'leaf-kv': {
      en: 'page {page}: element {index}: key and value ({ksize} + {vsize} bytes at +{pos}) run past the end of the page ({bytes} bytes)',
      zh: '页 {page}：元素 {index}：键和值（{ksize} + {vsize} 字节，位于 +{pos}）超出了该页末尾（{bytes} 字节）',
    },
    'inline-kv': {
      en: 'page {page}: inline bucket {bucket}: element {index}: key and value ({ksize} + {vsize} bytes at +{pos}) run past the end of the page ({bytes} bytes)',
      zh: '页 {page}：内联桶 {bucket}：元素 {index}：键和值（{ksize} + {vsize} 字节，位于 +{pos}）超出了该页末尾（{bytes} 字节）',
    },
  },
  'bucket-value': {
    short: {
      en: 'page {page}: bucket {bucket} has a {size}-byte value (16 expected)',
      zh: '页 {page}：桶 {bucket} 的值只有 {size} 字节（应为 16 字节）',
    },
    empty: {
      en: 'page {page}: bucket {bucket} has an empty value; bbolt opens it when it checks the tree at start-up, reads its first byte, and Go stops etcd there with "{panic}"',
      zh: '页 {page}：桶 {bucket} 的值为空；etcd 启动时 bbolt 检查树会打开它并读取第一个字节，运行时的边界检查会在此处以 “{panic}” 终止 etcd',
    },
  },
  'inline-bucket': {
    cut: { en: 'page {page}: inline bucket {bucket} is cut short', zh: '页 {page}：内联桶 {bucket} 被截断' },
  },
  'bucket-depth': {
    deep: {
      en: 'bucket {bucket}: nested deeper than {max} buckets; not walked',
      zh: '桶 {bucket}：嵌套超过 {max} 层；未遍历',
    },
  },
  'already-freed': {
    twice: { en: 'page {page}: already freed', zh: '页 {page}：已被释放过' },
  },
  'freelist-bounds': {
    'count-word': {
      en: 'page {page}: freelist count word is past the end of the file',
      zh: '页 {page}：freelist 的计数字超出了文件末尾',
    },
    'claims-fit': {
      en: 'page {page}: freelist claims {count} ids but its pages hold {fit}',
      zh: '页 {page}：freelist 声称有 {count} 个页号，但它的页只能容纳 {fit} 个',
    },
    'claims-max': {
      en: 'page {page}: freelist claims {count} ids, more than the file has pages',
      zh: '页 {page}：freelist 声称有 {count} 个页号，比文件的页数还多',
    },
  },
} as const satisfies Record<string, Record<string, { en: string; zh: string }>>;

export type OwnProblemCode = keyof typeof OWN_PROBLEMS;
/** `code.case` of a walk problem in our own words. */
export type OwnProblemId = { [C in OwnProblemCode]: `${C}.${Extract<keyof (typeof OWN_PROBLEMS)[C], string>}` }[OwnProblemCode];
/** Codes of problems where bbolt reads outside the file (etcd dies with `fatal error: fault`). */
const FAULT_CODES: readonly OwnProblemCode[] = ['page-beyond-file', 'overflow-beyond-file', 'element-beyond-file'];

function ownTemplates(lang: 'en' | 'zh'): Record<string, string> {
  const out: Record<string, string> = {};
  const findingHead = lang === 'en' ? '{file}: ' : '{file} 的页面树有问题：';
  for (const [code, cases] of Object.entries(OWN_PROBLEMS)) {
    for (const [c, t] of Object.entries(cases as Record<string, { en: string; zh: string }>)) {
      out[`bbolt-problem.${code}.${c}`] = t[lang];
      out[`finding.bbolt.${code}.${c}.message`] = findingHead + t[lang];
      if ((FAULT_CODES as readonly string[]).includes(code))
        out[`finding.bbolt.freepages-fault.${code}.${c}.message`] =
          lang === 'en'
            ? `etcd would crash opening {file}: ${t.en}. The tree of meta {meta} points outside the file.`
            : `etcd 打开 {file} 时会崩溃：${t.zh}。meta {meta} 的页面树指向文件之外。`;
    }
  }
  return out;
}

function walk(template: string): Record<WalkKey, string> {
  return Object.fromEntries(WALK_CODES.map((c) => [`finding.bbolt.${c}.message`, template])) as Record<WalkKey, string>;
}

const en = {
  ...walk('{file}: {text}'),
  ...ownTemplates('en'),
  'finding.bbolt.empty-file.message':
    '{file} is empty (0 bytes): bbolt would create a new, empty database in it, so etcd would start without any keys and rebuild only from the WAL.',
  'finding.bbolt.open-error.message':
    'bbolt cannot open {file} ({size} bytes): {error}. etcd would stop at start-up; restore the db from a snapshot or salvage its leaf pages.',
  'finding.bbolt.meta-invalid.message': 'meta page {page} of {file} is invalid ({error}); bbolt uses the other meta page.',
  'finding.bbolt.meta-fallback.message':
    'bbolt falls back to meta page {page} (txid {txid}): the newer meta page is broken, so the last committed transaction is not visible.',
  'finding.bbolt.freepages-fault.message': 'etcd would crash opening {file}: {detail}. The tree of meta {meta} points outside the file.',
  'finding.bbolt.freepages-panic.message': 'etcd would panic opening {file}: {text}. The tree of meta {meta} is damaged.',
  'finding.bbolt.freepages-panic.revert.message':
    "etcd would panic opening {file}: {text}. The tree of meta {meta} is damaged; the older meta page's tree is intact (bbolt surgery revert-meta-page would bring it back).",
  'finding.bbolt.freepages-panic.race.message':
    'etcd would panic opening {file}: {text}. The tree of meta {meta} is damaged. On a busy machine etcd may die with `{fault}` instead: bbolt raises this panic on another `goroutine` while its walk goes on, and the walk next reads page {page} as a branch whose first child, page {child}, lies past the end of the file.',
  'finding.bbolt.freepages-panic.revert-race.message':
    "etcd would panic opening {file}: {text}. The tree of meta {meta} is damaged; the older meta page's tree is intact (bbolt surgery revert-meta-page would bring it back). On a busy machine etcd may die with `{fault}` instead: bbolt raises this panic on another `goroutine` while its walk goes on, and the walk next reads page {page} as a branch whose first child, page {child}, lies past the end of the file.",
  'finding.etcd.member-decode.message': 'member {id}: the value is not member JSON.',
  'finding.etcd.revision-key.message': 'key bucket: a {size}-byte key that is not a revision.',
  'finding.etcd.kv-decode.message': 'revision {revision}: {error}.',
  'finding.etcd.live-keys-lower-bound.message':
    'the db has more distinct keys than validation holds in memory ({budget} MiB): {distinct} keys were followed, {keys} of them live, so the db has at least {keys} live keys. {uncounted} of the {revisions} revisions belong to keys not followed; the revision, tombstone and bucket counts are exact. The key browser still lists every key.',
  'finding.etcd.k3s-bootstrap.message':
    "the db holds {keys} key(s) under /bootstrap/, where k3s and RKE2 keep their bootstrap data (the cluster's certificates, encrypted with the join token): it is a k3s or RKE2 server's. Restore a snapshot of it with the server's own reset (with the service stopped: `k3s server --cluster-reset --cluster-reset-restore-path=FILE`, or `rke2 server …`), not `etcdctl snapshot restore`: theirs also writes that data back to the server's own files, etcdctl's does not. The node card gives the commands for the node.",
  'finding.etcd.alarm-nospace.message':
    'alarm NOSPACE is raised for member {member}: etcd refuses writes (mvcc: database space exceeded) until it is compacted, defragmented and the alarm disarmed.',
  'finding.etcd.alarm-corrupt.message': 'alarm CORRUPT is raised for member {member}.',
  'finding.etcd.alarm-other.message': 'alarm {alarm} is raised for member {member}.',
  'finding.etcd.db-near-quota.message': "the db uses {used} bytes of etcd's default {quota}-byte quota ({percent}%).",
  'finding.etcd.mvcc-restore.message':
    "etcd would stop at start-up reading the key bucket of {file}: {text}. A revision in it is damaged (its value, or its revision key out of order with the key's other revisions); salvage the other revisions or restore from a snapshot.",
  'finding.etcd.read-older-state.message':
    "etcd starts on {file}, but {count} keys' newest revision lies above the revision it restores to ({current}, the last key's): the first is {key}, at revision {revision}, its revision key damaged upwards. etcd reads them as they were before that revision: a key rewritten serves its older value, a key written once is missing. Repair or salvage a copy: both write each key at the revision its value records.",
  'finding.etcd.read-older-state.deleted.message':
    "etcd starts on {file}, but {count} keys' newest revision lies above the revision it restores to ({current}, the last key's): the first is {key}, whose delete (revision {revision}) has its revision key damaged upwards. etcd reads them as they were before that revision: {key}, deleted, is served again with its last value. Repair or salvage a copy: both keep it deleted.",
  'finding.etcd.read-wrong-value.message':
    "etcd starts on {file} and reads on, but a read of {key} returns the value of {served}: the revision key of {key}'s newest revision ({revision}, leaf page {page}) reads the same as its neighbour's, and bbolt's seek lands on the neighbour ({count} live keys read another key's value). etcd logs nothing about it; a list shows {served} twice and {key} never. Repair or salvage a copy: both write each key at the revision its value records.",
  'finding.etcd.range-cannot-find.message':
    "etcd starts on {file}, but the first read of {key} kills it ({text}): the keys of leaf page {page} are out of order, so bbolt's binary search no longer finds that revision ({count} live keys cannot be read). The kube-apiserver lists every resource as it starts, so etcd will go down at once: do not start it on this db; repair or salvage a copy (both write the keys in order).",
  'finding.etcd.range-cannot-find.form.message':
    "etcd starts on {file}, but the first read of {key} kills it ({text}): that revision's key is stored with another byte where etcd writes '_', so bbolt never finds the key etcd asks for ({count} live keys cannot be read). The kube-apiserver lists every resource as it starts, so etcd will go down at once: do not start it on this db; repair or salvage a copy.",
  'finding.snapshot-db.hash-mismatch.message':
    'the SHA-256 at the end of {file} does not match its contents: etcdctl snapshot restore would refuse it ({error}). The file changed after it was saved.',
  'finding.snapshot-db.no-hash.message': '{file} has no SHA-256 trailer (size % 512 != 32): etcdctl snapshot restore needs --skip-hash-check for it.',
};

const zh: Record<keyof typeof en, string> = {
  ...walk('{file} 的页面树有问题，bbolt 检查报告：“{text}”'),
  ...ownTemplates('zh'),
  'finding.bbolt.empty-file.message': '{file} 是空文件（0 字节）：bbolt 会在其中新建一个空数据库，etcd 启动后没有任何键，只能从 WAL 重建。',
  'finding.bbolt.open-error.message': 'bbolt 无法打开 {file}（{size} 字节），报错：“{error}”。etcd 会在启动时停止；请从快照恢复数据库，或抢救其叶子页。',
  'finding.bbolt.meta-invalid.message': '{file} 的 meta 页 {page} 无效（报错：“{error}”）；bbolt 会使用另一个 meta 页。',
  'finding.bbolt.meta-fallback.message': 'bbolt 退回到 meta 页 {page}（txid {txid}）：较新的 meta 页已损坏，最后一次提交的事务不可见。',
  'finding.bbolt.freepages-fault.message': 'etcd 打开 {file} 时会崩溃：{detail}。meta {meta} 的页面树指向文件之外。',
  'finding.bbolt.freepages-panic.message': 'etcd 打开 {file} 时会 panic，报错：“{text}”。meta {meta} 的页面树已损坏。',
  'finding.bbolt.freepages-panic.revert.message':
    'etcd 打开 {file} 时会 panic，报错：“{text}”。meta {meta} 的页面树已损坏；较旧 meta 页的页面树完好（`bbolt surgery revert-meta-page` 可以恢复它）。',
  'finding.bbolt.freepages-panic.race.message':
    'etcd 打开 {file} 时会 panic，报错：“{text}”。meta {meta} 的页面树已损坏。在繁忙的机器上，etcd 也可能改为以 `{fault}` 退出：bbolt 在另一个 `goroutine` 中抛出这个 panic，而遍历仍在继续，下一步会把页 {page} 当作分支页读取，其第一个子页（页 {child}）位于文件末尾之外。',
  'finding.bbolt.freepages-panic.revert-race.message':
    'etcd 打开 {file} 时会 panic，报错：“{text}”。meta {meta} 的页面树已损坏；较旧 meta 页的页面树完好（`bbolt surgery revert-meta-page` 可以恢复它）。在繁忙的机器上，etcd 也可能改为以 `{fault}` 退出：bbolt 在另一个 `goroutine` 中抛出这个 panic，而遍历仍在继续，下一步会把页 {page} 当作分支页读取，其第一个子页（页 {child}）位于文件末尾之外。',
  'finding.etcd.member-decode.message': '成员 {id}：其值不是成员 JSON 数据。',
  'finding.etcd.revision-key.message': '`key` 桶中有一个 {size} 字节的键，不是修订版本号。',
  'finding.etcd.kv-decode.message': '修订版本 {revision} 无法解码，报错：“{error}”。',
  'finding.etcd.live-keys-lower-bound.message':
    'db 中不同键的数量超过了校验在内存中保留的上限（{budget} MiB）：跟踪了 {distinct} 个键，其中 {keys} 个有效，因此该 db 至少有 {keys} 个有效键。{revisions} 个修订版本中有 {uncounted} 个属于未跟踪的键；修订版本数、删除标记数和各桶的条目数都是精确的。键浏览器仍会列出所有键。',
  'finding.etcd.k3s-bootstrap.message':
    '该 db 在 /bootstrap/ 下有 {keys} 个键，k3s 和 RKE2 在那里保存引导数据（集群的证书，用加入令牌加密）：它属于 k3s 或 RKE2 服务器。恢复它的快照请用服务器自己的重置（先停止服务：`k3s server --cluster-reset --cluster-reset-restore-path=FILE`，或 `rke2 server …`），不要用 `etcdctl snapshot restore`：它们的恢复还会把这些数据写回服务器自己的文件，etcdctl 的恢复不会。节点卡片给出了该节点的命令。',
  'finding.etcd.alarm-nospace.message':
    '成员 {member} 触发了 NOSPACE 告警：在压缩、碎片整理并解除告警之前，etcd 拒绝写入（报错：“mvcc: database space exceeded”）。',
  'finding.etcd.alarm-corrupt.message': '成员 {member} 触发了 CORRUPT 告警。',
  'finding.etcd.alarm-other.message': '成员 {member} 触发了告警 {alarm}。',
  'finding.etcd.db-near-quota.message': '数据库已使用 {used} 字节，etcd 默认配额为 {quota} 字节（{percent}%）。',
  'finding.etcd.mvcc-restore.message':
    'etcd 启动时读取 {file} 的 `key` 桶会停止，报错：“{text}”。其中某个修订版本已损坏（其值，或其修订键与该键的其他修订版本顺序不符）；请抢救其他修订版本，或从快照恢复。',
  'finding.etcd.read-older-state.message':
    'etcd 能在 {file} 上启动，但有 {count} 个键的最新修订版本高于它恢复到的修订版本（{current}，即最后一个键的）：第一个是 {key}，修订版本 {revision}，其修订键被损坏得更大了。etcd 会按该修订版本之前的状态读取这些键：被重写过的键返回旧值，只写过一次的键则不存在。请修复或抢救一份副本：两者都会把每个键写在其值所记录的修订版本上。',
  'finding.etcd.read-older-state.deleted.message':
    'etcd 能在 {file} 上启动，但有 {count} 个键的最新修订版本高于它恢复到的修订版本（{current}，即最后一个键的）：第一个是 {key}，它的删除（修订版本 {revision}）的修订键被损坏得更大了。etcd 会按该修订版本之前的状态读取这些键：已删除的 {key} 会带着最后的值重新出现。请修复或抢救一份副本：两者都会让它保持删除。',
  'finding.etcd.read-wrong-value.message':
    'etcd 能在 {file} 上启动并正常读取，但读取 {key} 会返回 {served} 的值：{key} 最新修订版本（{revision}，叶子页 {page}）的修订键与相邻元素的相同，bbolt 的查找落在相邻元素上（有 {count} 个存活键读到的是别的键的值）。etcd 的日志里对此只字不提；列出全部键时 {served} 出现两次，{key} 一次也不出现。请修复或抢救一份副本：两者都会把每个键写在其值所记录的修订版本上。',
  'finding.etcd.range-cannot-find.message':
    'etcd 能在 {file} 上启动，但第一次读取 {key} 就会崩溃（{text}）：叶子页 {page} 中的键顺序错误，bbolt 的二分查找再也找不到该修订版本（有 {count} 个存活键无法读取）。kube-apiserver 启动时会列出所有资源，因此 etcd 会立即崩溃：不要在此 db 上启动它；请修复或抢救一份副本（两者都会按顺序写入键）。',
  'finding.etcd.range-cannot-find.form.message':
    'etcd 能在 {file} 上启动，但第一次读取 {key} 就会崩溃（{text}）：该修订版本的键在 etcd 写入 “_” 的位置存的是另一个字节，因此 bbolt 永远找不到 etcd 请求的键（有 {count} 个存活键无法读取）。kube-apiserver 启动时会列出所有资源，因此 etcd 会立即崩溃：不要在此 db 上启动它；请修复或抢救一份副本。',
  'finding.snapshot-db.hash-mismatch.message':
    '{file} 末尾的 SHA-256 与内容不符：`etcdctl snapshot restore` 会拒绝它（报错：“{error}”）。文件在保存之后被改动过。',
  'finding.snapshot-db.no-hash.message': '{file} 没有 SHA-256 尾部（文件大小除以 512 的余数不是 32）：`etcdctl snapshot restore` 需要加 --skip-hash-check。',
};

export type EtcdBboltTextKey = keyof typeof en;

export default defineCatalog(en, zh);
