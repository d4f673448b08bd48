/**
 * The rebuild panel's progress line follows the phases the back end really
 * emits (rebuild.ts, dqlite-rebuild.ts, the validator before them): a run
 * over a real sample is recorded and every phase it named is said in both
 * languages, the rebuild's own ones each with their own sentence.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Progress } from '../../shared/contract/progress';
import { hasMessage, translate } from '../../shared/i18n';
import { rebuildDqliteDirectory } from '../../electron/services/dqlite-rebuild';
import { entriesNotApplied, phaseKey, rebuildPercent, rebuildProgressText } from '../../renderer/src/features/dqlite-rebuild/model';
import { REPO } from '../cli/fixtures';
import { tempDir } from '../helpers/etcd';

describe('the rebuild panel model', () => {
  it('says every phase a real rebuild reports, in both languages', async () => {
    const tmp = await tempDir('rebuild-model');
    try {
      const seen: Progress[] = [];
      await rebuildDqliteDirectory(path.join(REPO, 'resources', 'samples', 'dqlite-healthy'), path.join(tmp, 'out'), { onProgress: (p) => seen.push(p) });
      const phases = [...new Set(seen.map((p) => p.phase))];
      const keys = new Set(phases.map(phaseKey));
      // The validator's phases, then the rebuild's three: snapshot, log, fresh backend.
      expect([...keys].sort()).toEqual([
        'dqliteRebuildUi.phase.backend',
        'dqliteRebuildUi.phase.log',
        'dqliteRebuildUi.phase.snapshot',
        'dqliteRebuildUi.phase.validate',
      ]);
      for (const k of keys) expect(hasMessage(k, 'en') && hasMessage(k, 'zh-CN'), k).toBe(true);
      // The log phase counts the segments' bytes: it ends below or at its total, and the bar has a size then.
      const log = seen.filter((p) => phaseKey(p.phase) === 'dqliteRebuildUi.phase.log');
      expect(log.every((p) => p.bytesDone <= p.bytesTotal && p.bytesTotal > 0)).toBe(true);
      const line = rebuildProgressText(
        log.at(-1)!,
        (k, params) => translate('zh-CN', k, params),
        (n) => `${n} B`,
      );
      expect(line).toBe(`正在应用日志 · ${log.at(-1)!.bytesDone} B / ${log.at(-1)!.bytesTotal} B · ${log.at(-1)!.currentFile}`);
      expect(rebuildPercent(log.at(-1)!)).toBe((log.at(-1)!.bytesDone / log.at(-1)!.bytesTotal) * 100);
      expect(rebuildPercent({ phase: 'listing', bytesDone: 0, bytesTotal: 0, currentFile: null })).toBeNull();
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });

  it('names the entries a stop leaves out only when the log on disk goes past it', () => {
    const base = { stop: { file: 'f', offset: 8, index: 40, why: 'x' }, lastIndexOnDisk: 45 } as const;
    expect(entriesNotApplied(base as never)).toEqual({ from: 40, to: 45 });
    expect(entriesNotApplied({ ...base, lastIndexOnDisk: 39 } as never)).toBeNull();
    expect(entriesNotApplied({ ...base, stop: null } as never)).toBeNull();
    expect(entriesNotApplied({ ...base, stop: { ...base.stop, index: null } } as never)).toBeNull();
  });
});
