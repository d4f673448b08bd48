/**
 * Pure helpers of the dqlite rebuild panel: the progress line in the UI
 * language, what the result says about the entries not applied, and the
 * error sentences by code. No DOM, no client: unit-testable.
 */
import type { DqliteRebuildReport } from '../../../../shared/contract/dqlite';
import type { Progress } from '../../../../shared/contract/progress';
import type { MessageParams } from '../../../../shared/i18n/index';

type Translate = (key: string, params?: MessageParams) => string;

/** Why the back end refused a plan or a start, by error code: the sentences the Chinese UI says. */
export const REBUILD_ERRORS: Readonly<Record<string, string>> = Object.fromEntries(
  ['not-dqlite', 'unknown-job', 'unsupported', 'bad-params', 'forbidden', 'exists', 'closed', 'busy', 'unwritable'].map((c) => [
    c,
    `dqliteRebuildUi.error.${c}`,
  ]),
);

/** The back end's phases (rebuild.ts, dqlite-rebuild.ts; before them the validator's own) in the UI language. */
export function phaseKey(phase: string): string {
  if (phase === 'rebuild: reading the snapshot') return 'dqliteRebuildUi.phase.snapshot';
  if (phase === 'rebuild: applying the log') return 'dqliteRebuildUi.phase.log';
  if (phase === 'rebuild: writing the fresh backend') return 'dqliteRebuildUi.phase.backend';
  if (phase === 'export: reading the database') return 'dqliteRebuildUi.phase.objectsRead';
  if (phase === 'export: writing objects') return 'dqliteRebuildUi.phase.objects';
  return 'dqliteRebuildUi.phase.validate';
}

/** A progress line: the phase, then bytes when the phase has a size, then the file. */
export function rebuildProgressText(p: Progress, tr: Translate, bytes: (n: number) => string): string {
  const key = phaseKey(p.phase);
  const parts = [tr(key)];
  // The export's phase counts objects (files written), not bytes.
  if (key === 'dqliteRebuildUi.phase.objects') parts.push(tr('dqliteRebuildUi.objectsWritten', { n: p.bytesDone, total: p.bytesTotal }));
  else if (p.bytesTotal > 0) parts.push(`${bytes(p.bytesDone)} / ${bytes(p.bytesTotal)}`);
  if (p.currentFile) parts.push(p.currentFile);
  return parts.join(' · ');
}

/** Percent done when the phase has a known size, else null (an indeterminate bar). */
export function rebuildPercent(p: Progress | null): number | null {
  if (!p || p.bytesTotal <= 0) return null;
  return Math.min(100, (p.bytesDone / p.bytesTotal) * 100);
}

/** The entries on disk the rebuilt databases do not hold (null: none, or none known). */
export function entriesNotApplied(r: DqliteRebuildReport): { from: number; to: number } | null {
  if (!r.stop || r.stop.index === null || r.lastIndexOnDisk === null || r.lastIndexOnDisk < r.stop.index) return null;
  return { from: r.stop.index, to: r.lastIndexOnDisk };
}

/** Voters in the membership the databases correspond to (a fresh backend with more than one needs a quorum restore). */
export function voters(r: DqliteRebuildReport): number {
  return r.state.servers?.filter((s) => s.role === 'voter').length ?? 0;
}
