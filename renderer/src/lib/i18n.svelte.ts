/**
 * Reactive locale for the renderer. Components call `t(key, params)` in their
 * markup; because `t` reads `$state`, switching language re-renders them.
 */
import { translate, pickLocale, isLocale, hasMessage, type Locale, type MessageParams } from '../../../shared/i18n';
import type { Finding } from '../../../shared/contract/findings';

const STORAGE_KEY = 'lifeboat.locale';

function initialLocale(): Locale {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (isLocale(saved)) return saved;
  } catch {
    // storage can be disabled; fall through to the browser language
  }
  const langs = typeof navigator !== 'undefined' ? (navigator.languages?.length ? navigator.languages : [navigator.language]) : [];
  return pickLocale(langs);
}

export const i18n = $state<{ locale: Locale }>({ locale: initialLocale() });

export function setLocale(locale: Locale): void {
  i18n.locale = locale;
  try {
    localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    // not fatal: the choice just is not remembered
  }
  document.documentElement.lang = locale;
}

export function t(key: string, params?: MessageParams): string {
  return translate(i18n.locale, key, params);
}

/** A finding's title in the current language, or null when the code has no catalog entry. */
export function findingTitle(code: string): string | null {
  const key = `finding.${code}`;
  return hasMessage(key) ? t(key) : null;
}

/** The text to show for a finding: translated title when known, else the English message. */
export function findingText(f: Finding): { title: string | null; message: string } {
  return { title: findingTitle(f.code), message: f.message };
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '?';
  if (n < 1024) return t('core.bytes', { n });
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
