/**
 * The message catalogs and a tiny translator. No framework: the renderer
 * wraps `translate` in a reactive store, the CLI could call it directly.
 */
import { LOCALES, type Locale, type Messages } from './types';
import type { LocalText } from '../contract/text';
import core from './core';
import home from './home';
import validation from './validation';
import segmentMap from './segment-map';
import listing from './listing';
import findings from './findings';
import samples from './samples';
import ssh from './ssh';
import logs from './logs';
import dqliteText from './dqlite-text';
import etcdText from './etcd-text';
import etcdRepairText from './etcd-repair-text';
import etcdRepairUi from './etcd-repair-ui';
import dqliteRebuildUi from './dqlite-rebuild-ui';
import kineExportUi from './kine-export-ui';
import etcdUi from './etcd-ui';
import guided from './guided';
import guidedUpload from './guided-upload';
import etcdWalText from './etcd-wal-text';
import etcdBboltText from './etcd-bbolt-text';
import etcdRecordText from './etcd-record-text';
import etcdPlanText from './etcd-plan-text';
import etcdRepairResultText from './etcd-repair-result-text';
import etcdSalvageText from './etcd-salvage-text';
import etcdClusterPlanText from './etcd-cluster-plan-text';
import apiErrors from './api-errors';

export { LOCALES, type Locale } from './types';

/** Feature catalogs merged into one table per locale. Add new feature files here. */
export const FEATURE_CATALOGS = {
  core,
  home,
  validation,
  segmentMap,
  listing,
  findings,
  samples,
  ssh,
  logs,
  dqliteText,
  etcdUi,
  etcdText,
  etcdWalText,
  etcdRepairText,
  etcdRepairUi,
  dqliteRebuildUi,
  kineExportUi,
  etcdBboltText,
  etcdRecordText,
  etcdPlanText,
  etcdRepairResultText,
  etcdSalvageText,
  etcdClusterPlanText,
  guided,
  guidedUpload,
  apiErrors,
};

function merge(locale: Locale): Messages {
  const out: Record<string, string> = {};
  for (const catalog of Object.values(FEATURE_CATALOGS)) Object.assign(out, catalog[locale]);
  return out;
}

export const MESSAGES: Readonly<Record<Locale, Messages>> = {
  en: merge('en'),
  'zh-CN': merge('zh-CN'),
};

export type MessageParams = Record<string, string | number>;

/**
 * Replaces `{name}` with params.name; unknown placeholders stay visible so they get noticed.
 * `{name|one|other}` is an English plural: `one` when params.name is 1, else `other`
 * ("1 snapshot", "3 snapshots"); Chinese needs none.
 */
export function interpolate(template: string, params?: MessageParams): string {
  if (!params) return template;
  return template.replace(/\{([A-Za-z0-9_]+)(?:\|([^{}|]*)\|([^{}|]*))?\}/g, (whole, name: string, one: string | undefined, other: string | undefined) => {
    const value = params[name];
    if (value === undefined) return whole;
    if (one !== undefined && other !== undefined) return Number(value) === 1 ? one : other;
    return typeof value === 'number' ? formatNumber(value) : value;
  });
}

function formatNumber(n: number): string {
  // Indexes and byte offsets are read against journalctl lines: no grouping separators.
  return String(n);
}

export function hasMessage(key: string, locale: Locale = 'en'): boolean {
  return key in MESSAGES[locale];
}

/** Looks a key up in `locale`, then English, then shows the key itself (never a blank). */
export function translate(locale: Locale, key: string, params?: MessageParams): string {
  const template = MESSAGES[locale][key] ?? MESSAGES.en[key] ?? key;
  return interpolate(template, params);
}

/** How a list of sentences filled into one placeholder is joined, per language. */
export const LIST_SEPARATOR: Readonly<Record<Locale, string>> = { en: '; ', 'zh-CN': '；' };

/** A catalog sentence whose `texts` placeholders are catalog sentences too, all in `locale`. */
export function translateLocal(locale: Locale, local: LocalText): string {
  if (!local.texts) return translate(locale, local.key, local.params);
  const params: Record<string, string | number> = { ...local.params };
  for (const [name, list] of Object.entries(local.texts)) params[name] = list.map((l) => translateLocal(locale, l)).join(LIST_SEPARATOR[locale]);
  return translate(locale, local.key, params);
}

/** Chooses a supported locale from navigator.languages-style tags. */
export function pickLocale(preferred: readonly string[] | undefined | null): Locale {
  for (const tag of preferred ?? []) {
    const lower = tag.toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}
