/** Messages between the UI thread and the log-analysis worker. */
import type { LogAnalysis } from '../../../../shared/logs/types';

export interface LogSourceInput {
  name: string;
  /** Pasted text, or… */
  text?: string;
  /** …a picked file, read in slices inside the worker (any size). */
  file?: File;
  zoneMinutes: number;
}

export type ToLogWorker = { type: 'analyze'; jobId: number; sources: LogSourceInput[] };

export type FromLogWorker =
  | { type: 'progress'; jobId: number; done: number; total: number }
  | { type: 'done'; jobId: number; analysis: LogAnalysis }
  | { type: 'failed'; jobId: number; error: string };
