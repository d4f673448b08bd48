/**
 * Titles of the findings etcd salvage and repair report (`finding.<code>`),
 * and the restore plan's step names, in English and Simplified Chinese.
 * The English messages are written by salvage.ts / etcd-repair.ts themselves.
 */
import { defineCatalog } from './types';

const en = {
  'finding.salvage.damaged-page': 'Damaged page or element (read around it)',
  'finding.salvage.damaged-key-name': 'A key name damaged on disk (left out)',
  'finding.salvage.db-value-differs': "A db value is not the WAL's last write (the WAL's is written)",
  'finding.salvage.shared-revision': 'Keys claimed the same revision (written at the next free sub revision)',
  'finding.salvage.db-empty': 'The db file is empty',
  'finding.salvage.db-too-small': 'The db file is too small to hold keys',
  'finding.salvage.meta-invalid': 'A bbolt meta page is invalid (not needed by salvage)',
  'finding.salvage.no-keys': 'No etcd key could be read',
  'finding.salvage.lost': 'Some revisions could not be recovered',
  'finding.salvage.lease-detached': 'Keys of a lost lease written without a lease',
  'finding.salvage.snapshot-hash-mismatch': 'The snapshot.db hash does not match its contents',
  'finding.salvage.revisions-from-wal': 'Revisions of lost pages replayed from the WAL',
  'finding.salvage.no-db': 'No db: only the WAL was replayed',
  'finding.salvage.wal-stopped': 'The WAL is unreadable past a point',
  'finding.salvage.wal-skipped': 'A damaged WAL record was stepped over',
  'finding.repair.wal-unreadable': 'The WAL cannot be read: repair in place is not possible',
  'finding.repair.wal-hidden-records': 'WAL records after the readable end',
  'restore.step.check': 'Check the snapshot',
  'restore.step.stop': 'Stop etcd',
  'restore.step.move-aside': 'Move the old data dir aside',
  'restore.step.restore': 'Restore the snapshot',
  'restore.step.ownership': 'Owner, mode and SELinux context',
  'restore.step.start': 'Start etcd',
  'restore.step.verify': 'Verify',
  'restore.step.member-remove': 'Remove the member',
  'restore.step.member-add': 'Add the member',
  'restore.step.force-new-cluster': 'Start one survivor as a new cluster',
};

const zh: Record<keyof typeof en, string> = {
  'finding.salvage.damaged-page': '页或元素已损坏（已绕过读取）',
  'finding.salvage.damaged-key-name': '磁盘上被损坏的键名（已略去）',
  'finding.salvage.db-value-differs': 'db 中的值不是 WAL 最后写入的值（按 WAL 写出）',
  'finding.salvage.shared-revision': '多个键占用了同一个修订版本（按下一个空闲的子修订版本写出）',
  'finding.salvage.db-empty': 'db 文件为空',
  'finding.salvage.db-too-small': 'db 文件太小，不可能包含键',
  'finding.salvage.meta-invalid': 'bbolt 元数据页无效（抢救不需要它）',
  'finding.salvage.no-keys': '未能读到任何 etcd 键',
  'finding.salvage.lost': '部分修订版本无法恢复',
  'finding.salvage.lease-detached': '租约已丢失的键按无租约写入',
  'finding.salvage.snapshot-hash-mismatch': 'snapshot.db 的哈希与内容不符',
  'finding.salvage.revisions-from-wal': '丢失页中的修订版本已从 WAL 重放',
  'finding.salvage.no-db': '没有 db：只重放了 WAL',
  'finding.salvage.wal-stopped': 'WAL 从某处起无法读取',
  'finding.salvage.wal-skipped': '已跳过一条损坏的 WAL 记录',
  'finding.repair.wal-unreadable': 'WAL 无法读取：无法就地修复',
  'finding.repair.wal-hidden-records': '可读末尾之后还有 WAL 记录',
  'restore.step.check': '检查快照',
  'restore.step.stop': '停止 etcd',
  'restore.step.move-aside': '移开旧数据目录',
  'restore.step.restore': '恢复快照',
  'restore.step.ownership': '属主、权限和 SELinux 上下文',
  'restore.step.start': '启动 etcd',
  'restore.step.verify': '验证',
  'restore.step.member-remove': '移除成员',
  'restore.step.member-add': '添加成员',
  'restore.step.force-new-cluster': '以单个幸存成员启动新集群',
};

export type EtcdRepairTextKey = keyof typeof en;

export default defineCatalog(en, zh);
