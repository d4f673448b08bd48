/**
 * Catalog types. Each feature file exports `{ en, 'zh-CN' }`; the Chinese
 * table is typed against the English keys so a missing translation is a
 * compile error, not a blank label at 3 a.m.
 */
export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

export type Messages = Readonly<Record<string, string>>;

export interface FeatureCatalog<K extends string = string> {
  en: Readonly<Record<K, string>>;
  'zh-CN': Readonly<Record<K, string>>;
}

/** Builds a feature catalog whose zh-CN table must have exactly the English keys. */
export function defineCatalog<K extends string>(en: Record<K, string>, zh: Record<K, string>): FeatureCatalog<K> {
  return { en, 'zh-CN': zh };
}
