/**
 * The repair/salvage panel and the guided upload step say a refusal from the
 * back end in Chinese: every error code the services behind them throw
 * (read from their source, so a new code without a sentence fails here) has
 * a sentence in the code map of the screen, in both languages, and the
 * Chinese holds no English of ours (test/helpers/zh-english.ts).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { hasMessage, translate } from '../../shared/i18n';
import { REPAIR_ERRORS } from '../../renderer/src/features/etcd-repair/model';
import { UPLOAD_ERRORS } from '../../renderer/src/features/guided/upload-errors';
import { englishLeaks } from '../helpers/zh-english';

const ROOT = path.resolve(__dirname, '../..');

/** Codes of `new ApiError('code', ...)` in a source file (a localized one carries its own text). */
function thrownCodes(file: string): string[] {
  const src = readFileSync(path.join(ROOT, file), 'utf8');
  return [...new Set([...src.matchAll(/new ApiError\(\s*'([a-z-]+)'/g)].map((m) => m[1]!))];
}

function check(map: Readonly<Record<string, string>>, codes: string[]): string[] {
  const problems: string[] = [];
  for (const code of codes) {
    const key = map[code];
    if (!key) {
      problems.push(`no sentence for code ${code}`);
      continue;
    }
    if (!hasMessage(key, 'en') || !hasMessage(key, 'zh-CN')) problems.push(`${key} is not in both catalogs`);
    const leaks = englishLeaks(translate('zh-CN', key), new Set());
    if (leaks.length > 0) problems.push(`${key}: [${leaks.join(', ')}]`);
  }
  return problems;
}

describe('refusals of the back end in Chinese, by code', () => {
  it('the repair/salvage panel: every code etcd.repair.* throws', () => {
    const codes = [...thrownCodes('electron/services/etcd-repair-jobs.ts'), 'unknown-job'];
    expect(codes.length).toBeGreaterThanOrEqual(6);
    expect(check(REPAIR_ERRORS, codes)).toEqual([]);
  });

  it('the guided upload step: every code guided.upload throws', () => {
    const src = readFileSync(path.join(ROOT, 'electron/services/sessions/session-service.ts'), 'utf8');
    const upload = src.slice(src.indexOf('async upload('), src.indexOf('async upload(') + 4000);
    const codes = [
      ...new Set([...upload.matchAll(/new ApiError\(\s*'([a-z-]+)'/g)].map((m) => m[1]!)),
      'busy', // guided-handlers: the step is already uploading
      'forbidden', // web mode: outside the copies folder
      'unknown-session',
      'not-current',
      'session-finished',
      'missing-variable',
    ];
    expect(check(UPLOAD_ERRORS, codes)).toEqual([]);
  });
});
