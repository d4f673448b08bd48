/**
 * Logs → failure signatures on a timeline. The API other parts reuse (the
 * SSH side for fetched journals, the CLI): `analyzeLogText(source, text)`,
 * or `LogAnalyzer` to stream chunks of several sources.
 */
export { analyzeLogText, analyzeLogSources, LogAnalyzer, type LogSourceStream, type LogSourceText } from './analyze';
export { SIGNATURES, SIGNATURE_BY_ID, signatureKey, type Signature, type LogAction } from './signatures';
export type * from './types';
