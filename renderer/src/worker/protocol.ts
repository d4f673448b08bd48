/** Messages between the UI thread and the validation worker. */
import type { ValidationReport } from '../../../shared/contract/report';
import type { Progress } from '../../../shared/contract/progress';
import type { BatchSummary } from '../../../shared/contract/dqlite';
import type { PickedInput } from '../lib/file-source';

export type ToWorker =
  | { type: 'validate'; jobId: string; input: PickedInput }
  | { type: 'cancel'; jobId: string }
  | { type: 'batches'; requestId: number; jobId: string; file: string; detail?: number };

export type FromWorker =
  | { type: 'progress'; jobId: string; progress: Progress }
  | { type: 'done'; jobId: string; report: ValidationReport }
  | { type: 'failed'; jobId: string; error: string; cancelled: boolean }
  | { type: 'batches'; requestId: number; batches: BatchSummary[] }
  | { type: 'batches-failed'; requestId: number; error: string };

/** Progress messages are coalesced to at most one per this many ms. */
export const PROGRESS_INTERVAL_MS = 100;
