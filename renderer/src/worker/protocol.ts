/** Messages between the UI thread and the validation worker. */
import type { ValidationReport } from '../../../shared/contract/report';
import type { Progress } from '../../../shared/contract/progress';
import type { BatchSummary } from '../../../shared/contract/dqlite';
import type { EtcdQuery } from '../../../shared/contract/etcd';
import type { MemberDirsResult } from '../../../shared/formats/etcd/member-dirs';
import type { PickedInput } from '../lib/file-source';

export type ToWorker =
  | { type: 'validate'; jobId: string; input: PickedInput }
  | { type: 'cancel'; jobId: string }
  | { type: 'batches'; requestId: number; jobId: string; file: string; detail?: number }
  /** An etcd query over the last finished job's files (WAL records, page map, page, keys, value). */
  | { type: 'etcd-query'; requestId: number; jobId: string; query: EtcdQuery; member?: string };

export type FromWorker =
  | { type: 'progress'; jobId: string; progress: Progress }
  | { type: 'done'; jobId: string; report: ValidationReport }
  /** The dropped folder held several etcd members (one subfolder each): their reports and the comparison. */
  | { type: 'done-members'; jobId: string; result: MemberDirsResult }
  | { type: 'failed'; jobId: string; error: string; cancelled: boolean }
  | { type: 'batches'; requestId: number; batches: BatchSummary[] }
  | { type: 'batches-failed'; requestId: number; error: string }
  | { type: 'etcd-query-result'; requestId: number; result: unknown }
  | { type: 'etcd-query-failed'; requestId: number; error: string };

/** Progress messages are coalesced to at most one per this many ms. */
export const PROGRESS_INTERVAL_MS = 100;
