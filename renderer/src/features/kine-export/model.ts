/**
 * Pure helpers of the kine export panel: the progress line in the UI
 * language and the error sentences by code. No DOM, no client: unit-testable.
 */
import type { Progress } from '../../../../shared/contract/progress';
import type { MessageParams } from '../../../../shared/i18n/index';

type Translate = (key: string, params?: MessageParams) => string;

/** Why the back end refused a plan or a start, by error code: the sentences the Chinese UI says. */
export const KINE_ERRORS: Readonly<Record<string, string>> = Object.fromEntries(
  ['not-sqlite', 'unknown-job', 'unsupported', 'bad-params', 'forbidden', 'exists', 'closed', 'busy', 'unwritable'].map((c) => [c, `kineExportUi.error.${c}`]),
);

/** The export's phases (kine-export.ts) in the UI language. */
export function kinePhaseKey(phase: string): string {
  return phase === 'export: writing objects' ? 'kineExportUi.phase.objects' : 'kineExportUi.phase.read';
}

/** A progress line: the phase, then the objects written of those counted. */
export function kineProgressText(p: Progress, tr: Translate): string {
  const key = kinePhaseKey(p.phase);
  return key === 'kineExportUi.phase.objects' ? `${tr(key)} · ${tr('kineExportUi.objectsWritten', { n: p.bytesDone, total: p.bytesTotal })}` : tr(key);
}

/** Percent done while objects are written (their number is known then), else null (an indeterminate bar). */
export function kinePercent(p: Progress | null): number | null {
  if (!p || p.bytesTotal <= 0) return null;
  return Math.min(100, (p.bytesDone / p.bytesTotal) * 100);
}
