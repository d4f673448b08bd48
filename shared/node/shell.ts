/**
 * POSIX shell quoting for commands Lifeboat shows and runs on a node. Pure,
 * shared by the renderer (commands shown before they run), the node detector
 * and the playbooks, so the text on screen is the text that runs.
 */

/** POSIX single quotes, always (the form `runSudo` uses around `sh -c`). */
export function quoteAlways(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Quotes only when needed, so ordinary paths stay readable. */
export function quoteIfNeeded(s: string): string {
  return /^[A-Za-z0-9._+:@%/=-]+$/.test(s) ? s : quoteAlways(s);
}
