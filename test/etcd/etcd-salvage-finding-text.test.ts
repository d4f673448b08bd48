/**
 * The findings salvage and repair make have a message template in English and
 * Simplified Chinese: every code written in salvage.ts / repair-plan.ts (read
 * from the source, so a new code without a zh template fails here), every
 * variant, the English exactly as the CLI printed it before the templates,
 * and no English of ours in the Chinese (test/helpers/zh-english.ts). The
 * damaged cases of real etcd are in etcd-repair-zh-text.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Finding } from '../../shared/contract/findings';
import type { LocalText } from '../../shared/contract/text';
import { hasMessage, MESSAGES, translateLocal } from '../../shared/i18n';
import salvageText from '../../shared/i18n/etcd-salvage-text';
import { noDbFinding, walSkippedFinding, walStoppedFinding } from '../../shared/formats/etcd/salvage';
import { walHiddenRecordsFinding, walUnreadableFinding } from '../../shared/formats/etcd/repair-plan';
import { sayRepair, repairText, engineText } from '../../shared/formats/etcd/repair-say';
import { englishLeaks, neutral } from '../helpers/zh-english';

const ROOT = path.resolve(__dirname, '../..');

/** The finding codes a source file writes (`code: 'salvage.x'` or `'salvage.x'` passed as a code). */
function codesIn(file: string): string[] {
  const src = readFileSync(path.join(ROOT, file), 'utf8');
  return [...new Set([...src.matchAll(/'((?:salvage|repair)\.[a-z][a-z-]*)'/g)].map((m) => m[1]!))];
}

/** A finding's message as the UI renders it: messageText, else its template and params. */
function localOf(f: Finding): LocalText {
  if (f.messageText) return f.messageText;
  return { key: f.messageKey ?? `finding.${f.code}.message`, ...(f.params ? { params: f.params } : {}) };
}

function zhLeaks(f: Finding): string[] {
  const local = localOf(f);
  const engine = new Set<string>();
  if (typeof f.params?.error === 'string') engine.add(f.params.error);
  if (f.engineError) engine.add(f.engineError);
  for (const list of Object.values(local.texts ?? {})) for (const t of list) if (typeof t.params?.error === 'string') engine.add(t.params.error);
  return englishLeaks(translateLocal('zh-CN', neutral(local)), engine);
}

describe('salvage and repair findings in both languages', () => {
  it('every code salvage.ts and repair-plan.ts write has a title and a message template in zh-CN', () => {
    const codes = [...codesIn('shared/formats/etcd/salvage.ts'), ...codesIn('shared/formats/etcd/repair-plan.ts')];
    expect(codes.length).toBeGreaterThanOrEqual(14);
    const missing: string[] = [];
    for (const code of codes) {
      if (!hasMessage(`finding.${code}`, 'zh-CN')) missing.push(`finding.${code}`);
      const messages = Object.keys(MESSAGES['zh-CN']).filter((k) => k.startsWith(`finding.${code}.`) && k.endsWith('.message'));
      if (messages.length === 0) missing.push(`finding.${code}.message`);
    }
    expect(missing).toEqual([]);
  });

  it('no template in zh-CN holds English of ours', () => {
    const leaks: string[] = [];
    for (const key of Object.keys(salvageText.en)) {
      const params: Record<string, string | number> = { where: '0' };
      for (const m of salvageText.en[key as keyof typeof salvageText.en].matchAll(/\{([A-Za-z]+)\}/g)) params[m[1]!] = m[1] === 'error' ? 'checksum error' : 7;
      const zh = translateLocal('zh-CN', { key, params });
      const found = englishLeaks(zh, new Set(['checksum error']));
      if (found.length > 0) leaks.push(`${key}: [${found.join(', ')}] in "${zh}"`);
      // The same placeholders in both languages.
      const names = (t: string) => [...new Set([...t.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1]))].sort();
      const k = key as keyof typeof salvageText.en;
      expect(names(salvageText['zh-CN'][k]), key).toEqual(names(salvageText.en[k]));
    }
    expect(leaks).toEqual([]);
  });

  it('the builders write the English the CLI printed before, and the UI can say it in Chinese', () => {
    const error = 'walpb: crc mismatch';
    const cases: [Finding, string][] = [
      [
        noDbFinding('/copies/etcd'),
        "/copies/etcd has no member/snap/db: only the WAL's entries are replayed (keys written before the WAL's first entry are not there).",
      ],
      [
        walStoppedFinding({ file: 'member/wal/0.wal', offset: 4096, engineError: error }),
        `etcd stops reading the WAL at member/wal/0.wal byte 4096 (${error}); salvage steps over the damaged record and replays the entries after it (see the skipped records in "lost" and the findings).`,
      ],
      [
        walStoppedFinding({ file: 'member/wal/0.wal', offset: null, engineError: error }),
        `etcd stops reading the WAL at member/wal/0.wal (${error}); salvage steps over the damaged record and replays the entries after it (see the skipped records in "lost" and the findings).`,
      ],
      [
        walStoppedFinding({ file: null, offset: 12, engineError: error }),
        `etcd stops reading the WAL at the WAL byte 12 (${error}); salvage steps over the damaged record and replays the entries after it (see the skipped records in "lost" and the findings).`,
      ],
      [
        walStoppedFinding({ file: null, offset: null, engineError: error }),
        `etcd stops reading the WAL at the WAL (${error}); salvage steps over the damaged record and replays the entries after it (see the skipped records in "lost" and the findings).`,
      ],
      [
        walSkippedFinding({ file: 'member/wal/0.wal', offset: 80, engineError: error }, 41, 50),
        `member/wal/0.wal byte 80: ${error}; salvage stepped over this WAL record (after entry 41) and read on; the db already holds entries up to 50, so nothing is lost by it`,
      ],
      [
        walUnreadableFinding({ file: 'member/wal/0.wal', offset: 80, engineError: error, fatalText: 'panic: x' }, '/copies/etcd'),
        `etcd stops reading the WAL at member/wal/0.wal byte 80 (${error}) and this repair keeps the WAL as it is, so etcd will not start on the copy. Use \`lifeboat salvage /copies/etcd --snapshot FILE\` (it replays the WAL up to the damage) and restore that snapshot with the restore plan.`,
      ],
      [
        walUnreadableFinding({ file: null, offset: null, engineError: error }, '/copies/etcd'),
        `etcd stops reading the WAL at the WAL (${error}) and this repair keeps the WAL as it is, so etcd will not start on the copy. Use \`lifeboat salvage /copies/etcd --snapshot FILE\` (it replays the WAL up to the damage) and restore that snapshot with the restore plan.`,
      ],
    ];
    const hidden = sayRepair(
      'etcd-loss.wal-hidden.where',
      { file: 'member/wal/0.wal', offset: 80, last: 41 },
      {
        stop: [repairText('etcd-loss.wal-hidden.stop', undefined, { error: [engineText(error)] })],
        at: [repairText('etcd-loss.wal-hidden.at', { offset: 96 })],
        later: [],
      },
    );
    cases.push([
      walHiddenRecordsFinding('member/wal/0.wal', 80, hidden, 50),
      `${hidden.text}; the db already holds entries up to 50, anything written after that is lost`,
    ]);
    for (const [f, english] of cases) {
      expect(f.message).toBe(english);
      expect(translateLocal('en', localOf(f))).toBe(english);
      expect(hasMessage(localOf(f).key, 'zh-CN'), f.code).toBe(true);
      expect(zhLeaks(f), translateLocal('zh-CN', localOf(f))).toEqual([]);
    }
    expect(walUnreadableFinding({ file: 'a.wal', offset: 1, engineError: error, fatalText: 'panic: x' }, '/d').engineError).toBe('panic: x');
    expect(translateLocal('zh-CN', localOf(cases.at(-1)![0]))).toMatch(
      /^member\/wal\/0\.wal：etcd 只读取 WAL 到第 80 字节（“walpb: crc mismatch”）.*db 中已有到 50 为止的条目/,
    );
  });
});
