/**
 * What repair, salvage and the restore plan say, in Simplified Chinese, has
 * no English of ours. Every damaged data dir the oracle builds
 * (test/helpers/etcd-damage.ts, real etcd 3.4) is copied, damaged, then
 * repaired (`repairEtcdCopy`) and salvaged to a snapshot.db
 * (`salvageToSnapshotDb`); the restore plan is the one the UI shows for
 * that snapshot (`restoreOutcome`, the member known from the validation
 * report). Each action, each loss reason, each restore step and problem is
 * rendered in zh-CN from its catalog sentence the way the result view does
 * it, and checked with the English detector (test/helpers/zh-english.ts):
 * etcd's own error texts stay verbatim in “…”, paths, file names, ids and
 * commands are allowed. The English of every sentence is the one its
 * template gives (the CLI and JSON did not change), and the input is
 * byte-identical after every run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Finding } from '../../shared/contract/findings';
import type { LocalText } from '../../shared/contract/text';
import type { EtcdRepairResult, SalvageLoss, SalvageReport } from '../../shared/contract/etcd-repair';
import { translate, translateLocal } from '../../shared/i18n';
import { EtcdInputError, repairEtcdCopy, salvageToSnapshotDb } from '../../electron/services/etcd-repair';
import { restoreOutcome } from '../../electron/services/etcd-repair-jobs';
import { copyDir, hashTree, requireEtcd, tempDir } from '../helpers/etcd';
import { ETCD_DAMAGE_CASES, buildEtcdGoldens, type EtcdGoldens } from '../helpers/etcd-damage';
import { allKeysKnown, englishLeaks, neutral, planLeaks } from '../helpers/zh-english';
import { validateLocally } from '../helpers/validate-local';

const HAVE_ETCD = requireEtcd();

/** etcd's and bbolt's own texts a sentence quotes: every `error` param, at any depth. */
function engineParams(l: LocalText, out: Set<string>): Set<string> {
  if (typeof l.params?.error === 'string') out.add(l.params.error);
  for (const list of Object.values(l.texts ?? {})) for (const t of list) engineParams(t, out);
  return out;
}

/** Every catalog key used by a sentence, nested ones included. */
function keysOf(l: LocalText, out: Set<string>): Set<string> {
  out.add(l.key);
  for (const list of Object.values(l.texts ?? {})) for (const t of list) keysOf(t, out);
  return out;
}

interface Checked {
  leaks: string[];
  keys: Set<string>;
}

/** One sentence of the result view: translatable, the same English as the report's, no English in zh-CN. */
function checkSentence(where: string, local: LocalText | undefined, english: string, c: Checked): void {
  if (!local || !allKeysKnown(local)) {
    c.leaks.push(`not translatable: ${where}: ${english}`);
    return;
  }
  keysOf(local, c.keys);
  if (translateLocal('en', local) !== english) c.leaks.push(`${where}: the English is not its template's: "${english}" vs "${translateLocal('en', local)}"`);
  const zh = translateLocal('zh-CN', neutral(local));
  const found = englishLeaks(zh, engineParams(local, new Set()));
  if (found.length > 0) c.leaks.push(`${where}: [${found.join(', ')}] in "${translateLocal('zh-CN', local)}"`);
}

/** A finding of repair or salvage: its message template (or nested sentence) in zh-CN, the English the one the report prints. */
function checkFinding(where: string, f: Finding, c: Checked): void {
  const local = f.messageText ?? (f.params ? { key: f.messageKey ?? `finding.${f.code}.message`, params: f.params } : undefined);
  checkSentence(`${where} finding ${f.code}`, local, f.message, c);
}

/** An input refused: its catalog text, the same English as the CLI's message, no English in zh-CN. */
function checkRefusal(where: string, e: unknown, c: Checked): void {
  const text = e instanceof EtcdInputError ? e.text : undefined;
  checkSentence(where, text ? { key: text.key, ...(text.params ? { params: text.params } : {}) } : undefined, (e as Error).message, c);
}

function checkLosses(where: string, lost: SalvageLoss[], c: Checked): void {
  lost.forEach((l, i) => checkSentence(`${where} lost ${i}`, l.reasonText, l.reason, c));
}

describe.skipIf(!HAVE_ETCD)('repair, salvage and the restore plan in zh-CN: no English of ours in any damaged case', () => {
  let work = '';
  let g: EtcdGoldens;

  beforeAll(async () => {
    work = await tempDir('etcd-repair-zh');
    g = await buildEtcdGoldens(work, ['small', 'snaps', 'multiwal']);
  }, 300_000);

  afterAll(async () => {
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('every damaged data dir: the actions, loss reasons and restore plan read in Chinese, the English unchanged', async () => {
    const c: Checked = { leaks: [], keys: new Set() };
    const kinds = new Set<string>();
    const refused: string[] = [];
    let losses = 0;
    let plans = 0;
    let hiddenLoss: SalvageLoss | null = null;
    for (const [k, dc] of ETCD_DAMAGE_CASES.entries()) {
      const copy = path.join(work, `case-${k}`);
      await copyDir(g.goldens[dc.golden]!.dir, copy);
      await dc.damage(copy);
      const before = await hashTree(copy);
      const name = dc.name;

      const repairOut = path.join(work, `repaired-${k}`);
      let repair: EtcdRepairResult | null = null;
      try {
        repair = await repairEtcdCopy(copy, repairOut);
      } catch (e) {
        // An input repair refuses (no member dir at all): said by the CLI and the UI's error line, not the result view.
        refused.push(`${name}: ${(e as Error).message}`);
        checkRefusal(`${name}: repair refused`, e, c);
      }
      if (repair) {
        repair.actions.forEach((a, i) => {
          kinds.add(a.kind);
          checkSentence(`${name}: action ${i} (${a.kind})`, a.textLocal, a.text, c);
          expect(translate('zh-CN', `etcd-repair.kind.${a.kind}`), a.kind).not.toBe(`etcd-repair.kind.${a.kind}`);
        });
        checkLosses(`${name}: repair`, repair.lost, c);
        for (const f of repair.findings) checkFinding(`${name}: repair`, f, c);
        losses += repair.lost.length;
        hiddenLoss ??= repair.lost.find((l) => l.reasonText?.key === 'etcd-loss.wal-hidden') ?? null;
      }

      const snapshot = path.join(work, `salvaged-${k}.db`);
      let salvage: SalvageReport | null = null;
      try {
        salvage = await salvageToSnapshotDb(copy, snapshot);
      } catch (e) {
        refused.push(`${name} (salvage): ${(e as Error).message}`);
        checkRefusal(`${name}: salvage refused`, e, c);
      }
      if (salvage) {
        checkLosses(`${name}: salvage`, salvage.lost, c);
        for (const f of salvage.findings) checkFinding(`${name}: salvage`, f, c);
        losses += salvage.lost.length;
        const report = await validateLocally(copy);
        const outcome = restoreOutcome(salvage, report, { kind: 'local', path: copy }, snapshot);
        plans++;
        for (const l of planLeaks(outcome.restore)) c.leaks.push(`${name}: restore plan: ${l}`);
        const restoreStep = outcome.restore.steps.find((s) => s.kind === 'restore')!;
        if (plans === 1) {
          // The salvaged snapshot.db itself has no WAL: only its members bucket could name the member, and the plan says so.
          // Validated as an operator would: a folder holding the one snapshot.db.
          const alone = path.join(work, 'snapshot-alone');
          await fs.mkdir(alone, { recursive: true });
          await fs.copyFile(snapshot, path.join(alone, 'snapshot.db'));
          const snapReport = await validateLocally(alone);
          expect(snapReport.etcd?.layout.input, name).toBe('snapshot-db');
          const fromSnap = restoreOutcome(salvage, snapReport, { kind: 'local', path: snapshot }, snapshot);
          const step = fromSnap.restore.steps.find((s) => s.kind === 'restore')!;
          expect(step.explanation, name).toContain("from the validation report (the db's members bucket): name ");
          expect(translateLocal('zh-CN', step.explanationText!), name).toContain('（来自 校验报告中的 db 成员桶）：名称 ');
        }
        if (outcome.restore.member.sources.length === 1 && outcome.restore.member.sourceLabels) {
          // The WAL names the member when the dir has one (its member found in the db or in its own conf changes).
          const byWal = !!report.etcd?.wal?.nodeId;
          expect(restoreStep.explanation, name).toContain(
            byWal ? 'from the validation report (WAL member ID, members bucket): name ' : "from the validation report (the db's members bucket): name ",
          );
          expect(translateLocal('zh-CN', restoreStep.explanationText!), name).toContain(
            byWal ? '（来自 校验报告中的 WAL 成员 ID 和 db 成员桶）：名称 ' : '（来自 校验报告中的 db 成员桶）：名称 ',
          );
        }
      }
      expect(await hashTree(copy), name).toBe(before);
      await fs.rm(copy, { recursive: true, force: true });
      await fs.rm(repairOut, { recursive: true, force: true });
      await fs.rm(snapshot, { force: true });
      await fs.rm(`${repairOut}.lifeboat-quarantine`, { recursive: true, force: true });
    }
    expect(c.leaks).toEqual([]);
    // The cases reach what this is about: a copied and a rebuilt db, a cut WAL tail, a fresh WAL, lost WAL records. (Whether a
    // case ends in revert-meta depends on where bbolt put this run's pages: its sentences are checked whenever one does.)
    for (const kind of ['copy', 'rebuild-db', 'quarantine', 'wal-truncate', 'rebuild-wal']) expect([...kinds], kind).toContain(kind);
    for (const key of [
      'etcd-repair.reason.damaged',
      'etcd-repair.reason.no-db',
      'etcd-repair.reason.cannot-open',
      'etcd-repair.reason.wal-unreadable',
      'etcd-repair.engine',
      'etcd-loss.wal-hidden',
    ])
      expect([...c.keys], key).toContain(key);
    expect(losses).toBeGreaterThan(0);
    expect(plans).toBeGreaterThan(ETCD_DAMAGE_CASES.length / 2);
    // A loss reason compared as a whole, in both languages: the same facts, the numbers in the same places.
    expect(hiddenLoss).not.toBeNull();
    const zh = translateLocal('zh-CN', hiddenLoss!.reasonText!);
    const numbers = (s: string) => (s.match(/\d+/g) ?? []).join(',');
    expect(numbers(zh)).toBe(numbers(hiddenLoss!.reason));
    expect(zh).toMatch(/^member\/wal\/[0-9a-f-]+\.wal：etcd 只读取 WAL 到第 \d+ 字节/);
    expect(hiddenLoss!.reason).toMatch(/^member\/wal\/[0-9a-f-]+\.wal: etcd reads the WAL only up to byte \d+/);
  }, 900_000);
});
