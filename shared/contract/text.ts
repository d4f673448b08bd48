/** Values filled into `{name}` placeholders of a catalog template. */
export type TextParams = Record<string, string | number>;

/** A sentence the UI can translate: catalog key plus the values for its placeholders. */
export interface LocalText {
  key: string;
  params?: TextParams;
  /**
   * Placeholders filled with other catalog sentences or words, translated in
   * the same language (a list is joined with that language's separator), so
   * no English is spliced into a translated sentence.
   */
  texts?: Record<string, LocalText[]>;
}
