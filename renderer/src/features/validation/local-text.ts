/**
 * Validator sentences in the UI language: the catalog template when the report
 * carries one (Finding.params / LoaderDecision.narrativeText), else the English
 * text as it is. Engine error texts are never translated (they match journalctl).
 */
import type { LoaderDecision } from '../../../../shared/contract/dqlite';
import type { Finding } from '../../../../shared/contract/findings';
import type { ListingAnalysis } from '../../../../shared/contract/listing';
import type { ValidationReport } from '../../../../shared/contract/report';
import type { LocalText } from '../../../../shared/contract/text';
import { hasMessage, translateLocal } from '../../../../shared/i18n/index';
import { i18n, t } from '../../lib/i18n.svelte';

/** The catalog key of a finding's message, or null when it was not written from a template. */
export function findingMessageKey(f: Finding): string | null {
  if (!f.params) return null;
  const key = f.messageKey ?? `finding.${f.code}.message`;
  return hasMessage(key) ? key : null;
}

export function findingMessage(f: Finding): string {
  // A message that nests other sentences carries them whole (Finding.messageText).
  if (f.messageText && allKeysKnown(f.messageText)) return translateLocal(i18n.locale, f.messageText);
  const key = findingMessageKey(f);
  return key ? t(key, f.params) : f.message;
}

/** Whether a sentence and every sentence nested in it have a catalog template. */
function allKeysKnown(l: LocalText): boolean {
  return hasMessage(l.key) && Object.values(l.texts ?? {}).every((list) => list.every(allKeysKnown));
}

/** Narrative lines; translated only when the keyed list lines up with the English one. */
export function narrativeLines(d: LoaderDecision): string[] {
  const local = d.narrativeText;
  if (!local || local.length !== d.narrative.length) return d.narrative;
  return local.map((l, i) => (hasMessage(l.key) ? t(l.key, l.params) : d.narrative[i]));
}

/** A listing's narrative in the UI language (its keyed lines when they line up with the English ones). */
export function listingNarrative(a: ListingAnalysis): string[] {
  const local = a.narrativeText;
  if (!local || local.length !== a.narrative.length) return a.narrative;
  return local.map((l, i) => (hasMessage(l.key) ? t(l.key, l.params) : a.narrative[i]));
}

/** Why a file is on the copy-out list, in the UI language. */
export function copyOutReason(c: ListingAnalysis['copyOut'][number]): string {
  return localSentence(c.whyText, c.why);
}

/** One sentence in the UI language: its template when the report carries a known one, else the English text. */
export function localSentence(local: LocalText | undefined, english: string): string {
  return local && hasMessage(local.key) ? translateLocal(i18n.locale, local) : english;
}

/** The verdict paragraph; its `{plan}` part is the repair plan's summary, carried as a nested sentence in `texts`. */
export function reportSummary(r: ValidationReport): string {
  return localSentence(r.summaryText, r.summary);
}
