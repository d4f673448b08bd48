import type { LocalText } from './text';

/** One problem (or notable fact) found in a data directory. */
export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  severity: Severity;
  /** Stable code, e.g. `segment.header-checksum`; documented in the catalog. */
  code: string;
  /** File name relative to the validated root, or null for directory-level findings. */
  file: string | null;
  /** Byte offset in `file` where the problem starts, or null. */
  offset: number | null;
  /** Plain-language English message (the UI may translate by code). */
  message: string;
  /**
   * Values for the placeholders of the message template, so the UI can show the
   * message in the user's language: the template is `messageKey` when set,
   * else `finding.<code>.message` (shared/i18n/dqlite-text.ts). Absent when the
   * message was not written from a template (show `message` as it is).
   */
  params?: Record<string, string | number>;
  /** Catalog key of the message template when it is a variant, not `finding.<code>.message`. */
  messageKey?: string;
  /**
   * The message as a catalog sentence whose placeholders are other catalog
   * sentences (LocalText.texts), for a message that nests one; the UI prefers
   * it over `params`. Its English rendering is `message`.
   */
  messageText?: LocalText;
  /**
   * The real engine's own error text where it has one, so the user can match
   * it to the line in `journalctl` (e.g. `load closed segment …: entries batch
   * 394 starting at byte 8384000: entries count in preamble is zero`).
   */
  engineError?: string;
}
