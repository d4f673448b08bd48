/**
 * Pure helpers of the repair/salvage panel: what each mode writes (shown
 * before anything runs), progress phases in the UI language, and the
 * translated key sources. No DOM, no client: unit-testable.
 */
import type { EtcdExportFormat, EtcdRepairMode, SalvageKeySource } from '../../../../shared/contract/etcd-repair';
import type { Progress } from '../../../../shared/contract/progress';
import type { MessageParams } from '../../../../shared/i18n/index';
import { stripTrailingSlashes } from '../../../../shared/text/trailing-slashes';

export const MODES: readonly EtcdRepairMode[] = ['snapshot', 'repair', 'export'];
export const FORMATS: readonly EtcdExportFormat[] = ['yaml', 'json'];
export const KEY_SOURCES: readonly SalvageKeySource[] = ['tree', 'orphaned-leaf', 'wal'];

/** Why the back end refused a plan or a start, by error code: the sentences the Chinese UI says (etcd-repair-ui.ts). */
export const REPAIR_ERRORS: Readonly<Record<string, string>> = Object.fromEntries(
  ['not-etcd', 'unknown-job', 'unsupported', 'bad-params', 'forbidden', 'exists', 'closed', 'busy', 'unwritable'].map((c) => [c, `etcdRepairUi.error.${c}`]),
);

type Translate = (key: string, params?: MessageParams) => string;

/** The lines of "what will be written" for a mode and an output path. */
export function plannedWrites(mode: EtcdRepairMode, out: string, format: EtcdExportFormat, tr: Translate): string[] {
  const o = stripTrailingSlashes(out) || out;
  if (mode === 'snapshot') return [tr('etcdRepairUi.writes.snapshot', { out: o })];
  if (mode === 'repair') return [tr('etcdRepairUi.writes.repair', { out: o }), tr('etcdRepairUi.writes.quarantine', { out: o })];
  return [tr('etcdRepairUi.writes.export', { out: o, ext: format })];
}

/** A progress line: the phase in the UI language, then bytes (pages) or entries (WAL). */
export function progressText(p: Progress, tr: Translate, bytes: (n: number) => string): string {
  if (isWalReplay(p.phase)) return `${tr('etcdRepairUi.phase.wal')} · ${tr('etcdRepairUi.walEntries', { n: p.bytesDone })}`;
  // The export's last phase counts objects (files written), not bytes.
  if (p.phase.includes('objects')) return `${tr('etcdRepairUi.phase.objects')} · ${tr('etcdRepairUi.objectsWritten', { n: p.bytesDone, total: p.bytesTotal })}`;
  const phase = p.phase.includes('pages') || p.phase === 'bbolt' ? pagesPhase(p.phase, tr) : tr(otherPhaseKey(p.phase));
  return p.bytesTotal > 0 ? `${phase} · ${bytes(p.bytesDone)} / ${bytes(p.bytesTotal)}` : phase;
}

/** The WAL's replay counts entries, not bytes (salvage.ts). Not a page pass named after the WAL's keys. */
function isWalReplay(phase: string): boolean {
  return phase.endsWith('replaying the WAL');
}

/**
 * A page pass. Past its key-state budget a salvage reads the db again once a part of the keys (salvage.ts
 * `scanKeys`: "reading pages again (part 2 of 5)"): the bar starts over each time, so the line says which part.
 */
function pagesPhase(phase: string, tr: Translate): string {
  if (!phase.includes('reading pages again')) return tr('etcdRepairUi.phase.pages');
  const part = /\(part (\d+) of (\d+)/.exec(phase);
  return part ? tr('etcdRepairUi.phase.pagesPart', { part: Number(part[1]), parts: Number(part[2]) }) : tr('etcdRepairUi.phase.pagesAgain');
}

/**
 * The back end's other phases by name (etcd-repair.ts, salvage.ts): opening the input can take a while on a big
 * db, and writing the new db has a size; a bare "Working" beside a moving bar told the operator nothing.
 */
function otherPhaseKey(phase: string): string {
  if (phase.endsWith('opening the input')) return 'etcdRepairUi.phase.opening';
  if (phase.includes('writing the new db')) return 'etcdRepairUi.phase.writeDb';
  return 'etcdRepairUi.phase.other';
}

/** Percent done when the phase has a known size, else null (an indeterminate bar). */
export function progressPercent(p: Progress | null): number | null {
  if (!p || p.bytesTotal <= 0 || isWalReplay(p.phase)) return null;
  return Math.min(100, (p.bytesDone / p.bytesTotal) * 100);
}
