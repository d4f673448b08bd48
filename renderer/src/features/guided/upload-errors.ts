/**
 * Why the back end refused an upload, by error code: the sentences the
 * Chinese UI says instead of the back end's English message
 * (shared/i18n/guided-upload.ts). Pure, unit-testable.
 */
export const UPLOAD_ERRORS: Readonly<Record<string, string>> = Object.fromEntries(
  [
    'busy',
    'not-upload',
    'bad-destination',
    'bad-params',
    'no-sftp',
    'local-file',
    'forbidden',
    'unknown-session',
    'not-current',
    'session-finished',
    'missing-variable',
  ].map((c) => [c, `guided.upload.error.${c}`]),
);
