/**
 * A report with what `answerEtcdQuery` needs of a data dir (the WAL files, the db), from the real scanners,
 * and the read-only directory it was made from (closed by the caller).
 */
import * as path from 'node:path';
import type { DirectorySource } from '../../shared/bytes/byte-source';
import type { EtcdDetails } from '../../shared/contract/etcd';
import type { ValidationReport } from '../../shared/contract/report';
import { localDirectory } from '../../electron/services/fs-source';
import { openRelative } from '../../shared/formats/etcd/query';
import { scanWal } from '../../shared/formats/etcd/wal';
import { inspectBbolt } from '../../shared/formats/etcd/bbolt-db';
import { bareEtcdReport } from './etcd-report';

export async function etcdQueryReport(root: string): Promise<{ dir: DirectorySource & { close(): Promise<void> }; report: ValidationReport }> {
  const dir = localDirectory(root);
  const wal = await scanWal(await (await dir.subdir!('member')).subdir!('wal'), 'member/wal');
  const db = await inspectBbolt(await openRelative(dir, 'member/snap/db'), 'member/snap/db');
  const etcd = {
    layout: { input: 'data-dir', walDir: 'member/wal', snapDir: 'member/snap', dbFile: 'member/snap/db', leftovers: [] },
    wal: wal.info,
    snaps: [],
    bbolt: db.info,
    schema: db.schema,
  } as unknown as EtcdDetails;
  return { dir, report: bareEtcdReport(path.basename(root), etcd) };
}
