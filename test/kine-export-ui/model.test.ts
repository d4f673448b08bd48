/**
 * The kine export panel's progress line follows the phases the back end
 * really emits (kine-export.ts): a real export of a sqlite3-made kine database
 * is recorded and every phase it named is said in both languages; the Chinese
 * line and every sentence of the panel's catalog hold no English of ours.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Progress } from '../../shared/contract/progress';
import { hasMessage, MESSAGES, translate } from '../../shared/i18n';
import { exportKineObjects } from '../../electron/services/kine-export';
import { kinePercent, kinePhaseKey, kineProgressText } from '../../renderer/src/features/kine-export/model';
import { tempDir } from '../helpers/etcd';
import { makeKineStateDb } from '../helpers/kine-db';
import { englishLeaks } from '../helpers/zh-english';

describe('the kine export panel model', () => {
  it('says every phase a real export reports, in both languages', async () => {
    const tmp = await tempDir('kine-model');
    try {
      const db = makeKineStateDb(path.join(tmp, 'db'), { configmaps: 400, pods: 700 });
      const seen: Progress[] = [];
      const result = await exportKineObjects(db.file, path.join(tmp, 'out'), { onProgress: (p) => seen.push(p) });
      const keys = [...new Set(seen.map((p) => kinePhaseKey(p.phase)))];
      expect(keys).toEqual(['kineExportUi.phase.read', 'kineExportUi.phase.objects']);
      for (const k of keys) expect(hasMessage(k, 'en') && hasMessage(k, 'zh-CN'), k).toBe(true);
      // The objects phase counts files written against the live keys counted first: a bar with a size.
      const writing = seen.filter((p) => kinePhaseKey(p.phase) === 'kineExportUi.phase.objects');
      expect(writing.length).toBeGreaterThan(1);
      expect(writing.every((p) => p.bytesTotal === result.objects && p.bytesDone < p.bytesTotal)).toBe(true);
      const last = writing.at(-1)!;
      expect(kineProgressText(last, (k, params) => translate('zh-CN', k, params))).toBe(
        `正在为每个对象写一个文件 · ${result.objects} 个对象中的 ${last.bytesDone} 个`,
      );
      expect(kineProgressText(last, (k, params) => translate('en', k, params))).toBe(
        `Writing one file per object · ${last.bytesDone} of ${result.objects} objects`,
      );
      expect(kinePercent(last)).toBe((last.bytesDone / result.objects) * 100);
      // Reading: no size yet, an indeterminate bar.
      expect(kinePercent(seen[0]!)).toBeNull();
      expect(kineProgressText(seen[0]!, (k, params) => translate('zh-CN', k, params))).toBe('正在读取数据库');
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });

  it('has every sentence in Chinese, with no English of ours', () => {
    const keys = Object.keys(MESSAGES.en).filter((k) => k.startsWith('kineExportUi.'));
    expect(keys.length).toBeGreaterThan(40);
    // Kubernetes' and the files' own names stay as they are written: kinds, fields, tools, the encoding.
    const names = new Set([
      'Secret',
      'protobuf',
      'kubectl',
      'metadata',
      'resourceVersion',
      'rawValueBase64',
      'lifeboat',
      'resource',
      'namespace',
      'name',
      'ext',
    ]);
    const leaks = keys.flatMap((k) =>
      englishLeaks((MESSAGES['zh-CN'] as Record<string, string>)[k]!.replace(/\{\w+\}/g, ' '), new Set())
        .filter((w) => !names.has(w))
        .map((w) => `${k}: ${w}`),
    );
    expect(leaks).toEqual([]);
  });
});
