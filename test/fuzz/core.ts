/**
 * Runs a range of one target's inputs in this process and measures them.
 * Used by the fuzz child processes (run.ts) and, with fixed seeds and small
 * counts, by the vitest subset (targets.test.ts).
 */
import { inputRng } from './mutate';
import type { AnyTarget } from './targets/index';

export interface InputFailure {
  index: number;
  size: number;
  message: string;
}

export interface BatchStats {
  format: string;
  seed: number;
  inputs: number;
  failures: InputFailure[];
  slowest: { index: number; ms: number; size: number } | null;
  /** Largest V8 heap in use, sampled every 64 inputs and after the slowest ones (bytes). */
  peakHeapUsed: number;
  /** Peak resident set of the process that ran the batch (bytes; set by the fuzz child). */
  peakRss: number;
  totalMs: number;
}

export function emptyStats(format: string, seed: number): BatchStats {
  return { format, seed, inputs: 0, failures: [], slowest: null, peakHeapUsed: 0, peakRss: 0, totalMs: 0 };
}

export function inputOf(target: AnyTarget, corpus: unknown, seed: number, index: number): unknown {
  return target.generate(inputRng(seed, index), corpus);
}

export async function runRange(
  target: AnyTarget,
  corpus: unknown,
  seed: number,
  from: number,
  count: number,
  opts: { onStart?: (index: number) => void; maxFailures?: number; stats?: BatchStats } = {},
): Promise<BatchStats> {
  const stats = opts.stats ?? emptyStats(target.name, seed);
  const maxFailures = opts.maxFailures ?? 10;
  const t0 = performance.now();
  for (let i = from; i < from + count; i++) {
    opts.onStart?.(i);
    const input = inputOf(target, corpus, seed, i);
    const started = performance.now();
    try {
      await target.run(input, corpus);
    } catch (err) {
      const message = err instanceof Error ? `${err.name}: ${err.message}\n${(err.stack ?? '').split('\n').slice(1, 6).join('\n')}` : String(err);
      stats.failures.push({ index: i, size: target.size(input), message });
      if (stats.failures.length >= maxFailures) {
        stats.inputs++;
        break;
      }
    }
    const ms = performance.now() - started;
    stats.inputs++;
    if (!stats.slowest || ms > stats.slowest.ms) stats.slowest = { index: i, ms, size: target.size(input) };
    if ((i & 63) === 0 || ms > 50) stats.peakHeapUsed = Math.max(stats.peakHeapUsed, process.memoryUsage().heapUsed);
  }
  stats.totalMs += performance.now() - t0;
  return stats;
}
