/**
 * The repair/salvage panel, the dqlite rebuild and kine export panels and the guided upload step say a refusal from the
 * back end in Chinese: every error code the services behind them throw
 * (read from their source, so a new code without a sentence fails here) has
 * a sentence in the code map of the screen, in both languages, and the
 * Chinese holds no English of ours (test/helpers/zh-english.ts).
 */
import { describe, expect, it } from 'vitest';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hasMessage, MESSAGES, translate } from '../../shared/i18n';
import { EtcdInputError, repairEtcdCopy } from '../../electron/services/etcd-repair';
import { REPAIR_ERRORS } from '../../renderer/src/features/etcd-repair/model';
import { REBUILD_ERRORS } from '../../renderer/src/features/dqlite-rebuild/model';
import { KINE_ERRORS } from '../../renderer/src/features/kine-export/model';
import { UPLOAD_ERRORS } from '../../renderer/src/features/guided/upload-errors';
import { englishLeaks } from '../helpers/zh-english';

const ROOT = path.resolve(__dirname, '../..');

/** Codes thrown in source text: `new ApiError('code', ...)` and `ApiError.localized('code', ...)` (its code map is the fallback when a client drops the text). */
const THROWN_CODE = /(?:new ApiError|ApiError\.localized)\(\s*'([a-z-]+)'/g;

function thrownCodes(file: string): string[] {
  const src = readFileSync(path.join(ROOT, file), 'utf8');
  return [...new Set([...src.matchAll(THROWN_CODE)].map((m) => m[1]!))];
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
  it('the repair/salvage panel: every code etcd.repair.* throws (its own and the shared output rules)', () => {
    const codes = [...new Set([...thrownCodes('electron/services/etcd-repair-jobs.ts'), ...thrownCodes('electron/services/output-runs.ts'), 'unknown-job'])];
    expect(codes).toEqual(expect.arrayContaining(['forbidden', 'busy', 'exists', 'not-etcd']));
    expect(check(REPAIR_ERRORS, codes)).toEqual([]);
  });

  it('the dqlite rebuild panel: every code dqlite.rebuild.* throws (its own and the shared output rules)', () => {
    const codes = [...new Set([...thrownCodes('electron/services/dqlite-rebuild-jobs.ts'), ...thrownCodes('electron/services/output-runs.ts'), 'unknown-job'])];
    expect(codes).toEqual(expect.arrayContaining(['forbidden', 'busy', 'exists', 'not-dqlite', 'unsupported']));
    expect(check(REBUILD_ERRORS, codes)).toEqual([]);
  });

  it('the kine export panel: every code kine.export.* throws (its own and the shared output rules)', () => {
    const codes = [...new Set([...thrownCodes('electron/services/kine-export-jobs.ts'), ...thrownCodes('electron/services/output-runs.ts'), 'unknown-job'])];
    expect(codes).toEqual(expect.arrayContaining(['forbidden', 'busy', 'exists', 'not-sqlite', 'unsupported', 'bad-params']));
    expect(check(KINE_ERRORS, codes)).toEqual([]);
  });

  it('the guided upload step: every code guided.upload throws', () => {
    const src = readFileSync(path.join(ROOT, 'electron/services/sessions/session-service.ts'), 'utf8');
    const upload = src.slice(src.indexOf('async upload('), src.indexOf('async upload(') + 4000);
    const codes = [
      ...new Set([...upload.matchAll(THROWN_CODE)].map((m) => m[1]!)),
      'busy', // guided-handlers: the step is already uploading
      'forbidden', // web mode: outside the copies folder
      'unknown-session',
      'not-current',
      'session-finished',
      'missing-variable',
    ];
    expect(check(UPLOAD_ERRORS, codes)).toEqual([]);
  });

  it('an input repair or salvage refuses is said in Chinese from its catalog text, the English the CLI printed before', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-refused-'));
    try {
      const lone = path.join(dir, 'snapshot.db');
      await fs.writeFile(lone, new Uint8Array(512 + 32));
      // Not a lone snapshot.db's folder either (that one is read as the file it holds): a second file beside it.
      await fs.writeFile(path.join(dir, 'etcd-backup.sh'), '#!/bin/sh\n');
      // Thunks, each run when its turn comes: a rejection made before its
      // await would be an unhandled rejection in the meantime.
      const cases: [() => Promise<unknown>, string][] = [
        [
          () => repairEtcdCopy(dir, path.join(dir, 'out')),
          `${dir} is not an etcd data dir: it has no member/ directory (and no wal/ or snap/). Name the data dir (e.g. /var/lib/etcd), its member/ dir, a db file or a snapshot.db.`,
        ],
        [
          () => repairEtcdCopy(lone, path.join(dir, 'out')),
          `${lone} is a lone snapshot.db; repair works on a data dir. Use \`lifeboat salvage ${lone} --snapshot FILE\` to turn it into a restorable snapshot.db.`,
        ],
      ];
      for (const [run, english] of cases) {
        const e = await run().then(
          () => null,
          (x: unknown) => x,
        );
        expect(e).toBeInstanceOf(EtcdInputError);
        const refused = e as EtcdInputError;
        expect(refused.message).toBe(english);
        expect(translate('en', refused.text.key, refused.text.params)).toBe(english);
        const zh = translate('zh-CN', refused.text.key, refused.text.params);
        expect(englishLeaks(zh, new Set()), zh).toEqual([]);
      }
      // Every refusal sentence, whatever input it names (its other placeholders filled with paths, which may stay).
      for (const key of Object.keys(MESSAGES['zh-CN']).filter((k) => k.startsWith('etcdRepairUi.input.'))) {
        const template = String(MESSAGES['zh-CN'][key as keyof (typeof MESSAGES)['zh-CN']]);
        const params: Record<string, string> = { input: '/var/lib/etcd', output: '/copies/snapshot.db' };
        for (const [, name] of template.matchAll(/\{(\w+)\}/g)) params[name!] ??= `/tmp/${name}`;
        const zh = translate('zh-CN', key, params);
        expect(englishLeaks(zh, new Set()), `${key}: ${zh}`).toEqual([]);
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
