/** Values filled into `{name}` placeholders of a catalog template. */
export type TextParams = Record<string, string | number>;

/**
 * A sentence the UI can translate: catalog key plus the values for its placeholders.
 * `texts` fills placeholders with other sentences (e.g. the verdict's `{plan}` is the repair
 * plan's summary), so no placeholder ever carries an English sentence: each is said in the
 * reader's language. Params hold numbers, names, paths and quoted engine output only.
 */
export interface LocalText {
  key: string;
  params?: TextParams;
  texts?: Record<string, LocalText>;
}
