/**
 * Repair and salvage from the etcd report in a real browser against the real
 * web-mode back end: the field report's damage (a branch element pointing at
 * page 0, made on a real etcd 3.4 member) opened as a sample, then "Repair
 * or salvage" run from the page, in English with the mouse and in Chinese
 * with the keyboard only. The snapshot.db written is checked against what
 * the page shows (keys written, SHA-256), the objects exported are on disk,
 * and the input is unchanged. Screenshots land in test-artifacts/e2e/.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { ETCD_DAMAGE_CASES } from '../helpers/etcd-damage';
import type { EtcdRepairResult } from '../../shared/contract/etcd-repair';
import { translateLocal } from '../../shared/i18n';
import { repairEtcdCopy } from '../../electron/services/etcd-repair';
import { englishLeaks } from '../helpers/zh-english';
import { copyDir, hashTree, makeGolden, requireEtcd, tempDir, type EtcdGolden } from '../helpers/etcd';
import { ARTIFACTS, chromiumAvailable, ensureRendererBuilt, launchChromium, openPage, RENDERER_DIR, screenshot, type WatchedPage } from './helpers';

const canRun = chromiumAvailable() && requireEtcd();

let tmp: string;
let copies: string;
let input: string;
let inputHash: string;
/** A second sample whose repair loses keys (db missing, a WAL record in the middle zeroed), and the same repair run here. */
let lossyInput: string;
let lossyHash: string;
let lossyExpected: EtcdRepairResult;
let lossyExpectedOut: string;
const LOSSY_CASE = 'several: db missing and a WAL record in the middle zeroed (keys lost)';
let golden: EtcdGolden;
let server: WebServer;
let browser: Browser;
const pages: WatchedPage[] = [];
const savedCopies = process.env.LIFEBOAT_COPIES_DIR;

/** The panel alone, at full resolution (the full-page shots are tall). */
async function panelShot(w: WatchedPage, name: string): Promise<void> {
  await w.page.evaluate(() => document.fonts.ready);
  // The sticky app header would be painted over a panel taller than the window.
  await w.page.addStyleTag({ content: 'header.top { position: static !important; }' });
  await w.page.getByTestId('etcd-repair').screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

async function open(locale: string): Promise<WatchedPage> {
  const p = await openPage(browser, server.url, { locale });
  pages.push(p);
  return p;
}

/** The field-report sample opened and validated; the report's verdict is up. */
async function openFieldReport(w: WatchedPage): Promise<void> {
  await w.page.locator('button[data-sample-id="field"]').click();
  const verdict = w.page.getByTestId('verdict');
  await verdict.waitFor({ timeout: 90_000 });
  expect(await verdict.getAttribute('data-verdict')).toBe('fails');
}

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  tmp = await tempDir('e2e-repair');
  copies = path.join(tmp, 'copies');
  process.env.LIFEBOAT_COPIES_DIR = copies;
  golden = await makeGolden(path.join(tmp, 'golden'), { keys: 300, valueSize: 64 });
  const samples = path.join(tmp, 'samples');
  input = path.join(samples, 'field', 'etcd-data');
  await fs.mkdir(path.dirname(input), { recursive: true });
  await copyDir(golden.dir, input);
  await ETCD_DAMAGE_CASES.find((c) => c.name === 'bbolt: branch element points at page 0')!.damage(input);
  lossyInput = path.join(samples, 'lossy', 'etcd-data');
  await fs.mkdir(path.dirname(lossyInput), { recursive: true });
  await copyDir(golden.dir, lossyInput);
  await ETCD_DAMAGE_CASES.find((c) => c.name === LOSSY_CASE)!.damage(lossyInput);
  await fs.writeFile(
    path.join(samples, 'index.json'),
    JSON.stringify([
      { id: 'field', dir: 'field/etcd-data', titleKey: 'sample.etcdFieldReport.title', descriptionKey: 'sample.etcdFieldReport.description', engine: 'etcd' },
      { id: 'lossy', dir: 'lossy/etcd-data', titleKey: 'sample.etcdFieldReport.title', descriptionKey: 'sample.etcdFieldReport.description', engine: 'etcd' },
    ]),
  );
  inputHash = await hashTree(input);
  lossyHash = await hashTree(lossyInput);
  // What the page must show, computed here from the same input (its output paths differ: they are replaced below).
  lossyExpectedOut = path.join(tmp, 'expected-repair');
  lossyExpected = await repairEtcdCopy(lossyInput, lossyExpectedOut);
  expect(await hashTree(lossyInput)).toBe(lossyHash);
  server = await startWebServer({ rendererDir: RENDERER_DIR, host: '127.0.0.1', port: 0, quiet: true, samplesDir: samples });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  for (const p of pages) await p.context.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
  if (savedCopies === undefined) delete process.env.LIFEBOAT_COPIES_DIR;
  else process.env.LIFEBOAT_COPIES_DIR = savedCopies;
  if (canRun && input) expect(await hashTree(input)).toBe(inputHash);
  if (canRun && lossyInput) expect(await hashTree(lossyInput)).toBe(lossyHash);
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!canRun)('etcd repair and salvage in Chromium', () => {
  it('English: salvages a restorable snapshot.db from the report, shows keys, sources, SHA-256 and the restore plan', async () => {
    const w = await open('en-US');
    const p = w.page;
    await openFieldReport(w);
    const panel = p.getByTestId('etcd-repair');
    await panel.scrollIntoViewIfNeeded();
    await p.getByTestId('etcd-repair-open').click();
    // What is read, read-only; where it goes (confined to the copies folder in web mode); what will be written.
    await expect.poll(() => p.getByTestId('etcd-repair-input').innerText()).toBe(input);
    await expect.poll(() => p.getByTestId('etcd-repair-confined').innerText()).toContain(copies);
    const output = await p.getByTestId('etcd-repair-output').inputValue();
    expect(output.startsWith(`${copies}/`)).toBe(true);
    expect(path.basename(output)).toBe('snapshot.db');
    const writes = await p.getByTestId('etcd-repair-writes').innerText();
    expect(writes).toContain(`${output}.lifeboat-part`);
    expect(writes).toContain('Nothing is written to the input');
    await screenshot(p, 'etcd-repair-choose-en');

    // A path outside the copies folder is refused by the back end, and said so on the page.
    await p.getByTestId('etcd-repair-output').fill(path.join(tmp, 'elsewhere.db'));
    await p.getByTestId('etcd-repair-start').click();
    await expect.poll(() => p.getByTestId('etcd-repair-start-error').innerText()).toContain('copies folder');
    await expect(fs.stat(path.join(tmp, 'elsewhere.db'))).rejects.toThrow();

    await p.getByTestId('etcd-repair-output').fill(output);
    await p.getByTestId('etcd-repair-start').click();
    const result = p.getByTestId('etcd-repair-result');
    await result.waitFor({ timeout: 180_000 });
    expect(await result.getAttribute('data-mode')).toBe('snapshot');
    expect(await p.getByTestId('etcd-repair-keys-written').innerText()).toBe(String(golden.keys.size));
    await p.getByTestId('etcd-repair-nothing-lost').waitFor();
    // The revision range says the keys are all there at their newest revision; only the history before is gone.
    expect(await p.getByTestId('etcd-repair-revisions').innerText()).toMatch(
      /^\d+\.\.\d+, each key at its newest revision; no older history: the snapshot is marked compacted at \d+, so reads and watches from an earlier revision get "compacted"$/,
    );
    // The SHA-256 shown is the file's trailer and the hash of everything before it.
    const bytes = await fs.readFile(output);
    const sha = createHash('sha256')
      .update(bytes.subarray(0, bytes.length - 32))
      .digest('hex');
    expect(bytes.subarray(bytes.length - 32).toString('hex')).toBe(sha);
    expect(await p.getByTestId('etcd-repair-sha256').innerText()).toBe(sha);
    const sources = await p.getByTestId('etcd-repair-sources').innerText();
    expect(sources).toMatch(/tree\s*\d+/);
    expect(sources).toMatch(/orphaned leaf\s*\d+/);
    // The next step: the restore plan names this snapshot, and the unknown data dir is a named placeholder.
    const plan = p.getByTestId('etcd-restore-plan');
    await plan.scrollIntoViewIfNeeded();
    expect(await plan.innerText()).toContain(`snapshot restore ${output}`);
    expect(await p.getByTestId('etcd-restore-placeholders').innerText()).toContain('<DATA_DIR>');
    await screenshot(p, 'etcd-repair-snapshot-en');
    await panelShot(w, 'etcd-repair-snapshot-en-panel');
    expect(w.errors).toEqual([]);
  }, 300_000);

  it('Chinese, keyboard only: exports every object as JSON, then salvages a snapshot.db with the restore plan, with the Chinese labels', async () => {
    const w = await open('zh-CN');
    const p = w.page;
    await openFieldReport(w);
    const opener = p.getByTestId('etcd-repair-open');
    await opener.scrollIntoViewIfNeeded();
    await opener.focus();
    await p.keyboard.press('Enter');
    expect(await opener.getAttribute('aria-expanded')).toBe('true');
    await expect.poll(() => p.getByTestId('etcd-repair').innerText()).toContain('可恢复的 snapshot.db');
    // Tab to the radio group, arrow down twice: snapshot -> repair -> export.
    await p.keyboard.press('Tab');
    await expect.poll(() => p.evaluate(() => (document.activeElement as HTMLInputElement | null)?.value)).toBe('snapshot');
    await p.keyboard.press('ArrowDown');
    await p.keyboard.press('ArrowDown');
    await expect.poll(() => p.evaluate(() => (document.activeElement as HTMLInputElement | null)?.value)).toBe('export');
    await expect.poll(() => p.getByTestId('etcd-repair-output').inputValue()).toMatch(/\/objects$/);
    // The format select follows the radios: JSON by keyboard.
    await p.keyboard.press('Tab');
    await expect.poll(() => p.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('etcd-repair-format');
    await p.keyboard.press('ArrowDown');
    await expect.poll(() => p.getByTestId('etcd-repair-format').inputValue()).toBe('json');
    const output = await p.getByTestId('etcd-repair-output').inputValue();
    await expect.poll(() => p.getByTestId('etcd-repair-writes').innerText()).toContain('不会向输入写入任何内容');
    await screenshot(p, 'etcd-repair-choose-zh');
    await panelShot(w, 'etcd-repair-choose-zh-panel');
    const start = p.getByTestId('etcd-repair-start');
    expect(await start.innerText()).toBe('导出对象');
    await start.focus();
    await p.keyboard.press('Enter');
    const result = p.getByTestId('etcd-repair-result');
    await result.waitFor({ timeout: 180_000 });
    expect(await result.getAttribute('data-mode')).toBe('export');
    expect(await p.getByTestId('etcd-repair-objects').innerText()).toBe(String(golden.keys.size));
    expect(await result.innerText()).toContain('写出的对象');
    // On disk: one JSON file per object, by resource and namespace.
    const [key, value] = [...golden.keys].find(([k]) => k.startsWith('/registry/configmaps/default/'))!;
    const doc = JSON.parse(await fs.readFile(path.join(output, 'configmaps', 'default', `${path.posix.basename(key)}.json`), 'utf8')) as {
      lifeboat: { etcdKey: string; rawValueBase64: string };
    };
    expect(doc.lifeboat.etcdKey).toBe(key);
    expect(Buffer.from(doc.lifeboat.rawValueBase64, 'base64').toString('utf8')).toBe(value);
    await screenshot(p, 'etcd-repair-export-zh');
    await panelShot(w, 'etcd-repair-export-zh-panel');

    // Then a snapshot.db, still by keyboard: "start again", back to the first choice, write it.
    const again = p.getByRole('button', { name: '重新开始' });
    await again.focus();
    await p.keyboard.press('Enter');
    await result.waitFor({ state: 'detached' });
    await p.locator('input[name="etcd-repair-mode"][value="export"]').focus();
    await p.keyboard.press('ArrowUp');
    await p.keyboard.press('ArrowUp');
    await expect.poll(() => p.getByTestId('etcd-repair-output').inputValue()).toMatch(/\/snapshot\.db$/);
    const snapshot = await p.getByTestId('etcd-repair-output').inputValue();
    expect(snapshot.startsWith(`${copies}/`)).toBe(true);
    await p.getByTestId('etcd-repair-start').focus();
    expect(await p.getByTestId('etcd-repair-start').innerText()).toBe('写出 snapshot.db');
    await p.keyboard.press('Enter');
    await expect.poll(() => p.getByTestId('etcd-repair-result').getAttribute('data-mode'), { timeout: 180_000 }).toBe('snapshot');
    expect(await p.getByTestId('etcd-repair-keys-written').innerText()).toBe(String(golden.keys.size));
    await expect.poll(() => p.getByTestId('etcd-repair-sources').innerText()).toMatch(/树\s*\d+/);
    expect(await p.getByTestId('etcd-repair-nothing-lost').innerText()).toBe('没有丢失：写出的每个键都在输出中。');
    const plan = await p.getByTestId('etcd-restore-plan').innerText();
    expect(plan).toContain('下一步：在节点上恢复此快照');
    expect(plan).toContain('第 4 步：恢复快照');
    // The restore step says where the member's identity came from in Chinese (the validation report), not in English.
    const restoreStep = await p.locator('[data-testid="etcd-restore-plan"] li[data-kind="restore"]').innerText();
    expect(restoreStep).toContain('（来自 校验报告中的 WAL 成员 ID 和 db 成员桶）：名称 ');
    expect(restoreStep).not.toContain('validation report');
    expect(plan).toContain(`snapshot restore ${snapshot}`);
    const bytes = await fs.readFile(snapshot);
    expect(await p.getByTestId('etcd-repair-sha256').innerText()).toBe(bytes.subarray(bytes.length - 32).toString('hex'));
    await panelShot(w, 'etcd-repair-snapshot-zh-panel');
    expect(w.errors).toEqual([]);
  }, 300_000);

  it.each([
    ['zh-CN', 'zh-CN'],
    ['en-US', 'en'],
  ] as const)(
    '%s: a repair that loses keys says what it did and why each loss happened in the page language',
    async (browserLocale, locale) => {
      const w = await open(browserLocale);
      const p = w.page;
      await p.locator('button[data-sample-id="lossy"]').click();
      await p.getByTestId('verdict').waitFor({ timeout: 90_000 });
      const opener = p.getByTestId('etcd-repair-open');
      await opener.scrollIntoViewIfNeeded();
      await opener.click();
      await p.locator('input[name="etcd-repair-mode"][value="repair"]').check();
      await expect.poll(() => p.getByTestId('etcd-repair-input').innerText()).toBe(lossyInput);
      // The suggested output follows the mode once the radio's change has gone through (a snapshot.db file, then a dir).
      await expect.poll(() => p.getByTestId('etcd-repair-output').inputValue()).not.toMatch(/\.db$/);
      const output = await p.getByTestId('etcd-repair-output').inputValue();
      expect(output.startsWith(`${copies}/`)).toBe(true);
      await p.getByTestId('etcd-repair-start').click();
      await expect.poll(() => p.getByTestId('etcd-repair-result').getAttribute('data-mode'), { timeout: 180_000 }).toBe('repair');
      // The same repair as the one run here, its sentences in the page's language (the output folder is the page's).
      // Backticked commands are set as <code> on the page: its text is the sentence without the backticks.
      const say = (l: Parameters<typeof translateLocal>[1] | undefined) => translateLocal(locale, l!).split(lossyExpectedOut).join(output).replaceAll('`', '');
      const actions = await p.locator('[data-testid="etcd-repair-actions"] li').allInnerTexts();
      expect(actions.map((a) => a.replace(/\s+/g, ' ').trim())).toEqual(
        lossyExpected.actions.map((a) => `${translateLocal(locale, { key: `etcd-repair.kind.${a.kind}` })} ${say(a.textLocal)}`),
      );
      expect(lossyExpected.lost.length).toBeGreaterThan(0);
      const why = await p.locator('[data-testid="etcd-repair-lost"] tbody tr td:nth-child(3)').allInnerTexts();
      expect(why).toEqual(lossyExpected.lost.map((l) => say(l.reasonText)));
      if (locale === 'zh-CN') {
        expect(actions.join('\n')).toContain('没有 member/snap/db：用每个可读的叶子页');
        expect(why.join('\n')).toMatch(/已丢失/);
        expect(why.join('\n')).not.toMatch(/\b(?:lost|the|cannot|stepped)\b/);
      } else {
        // English: the very lines the CLI and the JSON carry.
        expect(why).toEqual(lossyExpected.lost.map((l) => l.reason));
        expect(actions.join('\n')).toContain('there is no member/snap/db: rebuilt the db from every readable leaf page');
      }
      await panelShot(w, `etcd-repair-lossy-${locale}-panel`);
      expect(w.errors).toEqual([]);
    },
    300_000,
  );

  it('zh-CN: a salvage with findings, losses and the restore plan reads in Chinese, "copy as script" included (commands as they are)', async () => {
    const w = await open('zh-CN');
    const p = w.page;
    await p.locator('button[data-sample-id="lossy"]').click();
    await p.getByTestId('verdict').waitFor({ timeout: 90_000 });
    const opener = p.getByTestId('etcd-repair-open');
    await opener.scrollIntoViewIfNeeded();
    await opener.click();
    await expect.poll(() => p.getByTestId('etcd-repair-output').inputValue()).toMatch(/\.db$/);
    await p.getByTestId('etcd-repair-start').click();
    await expect.poll(() => p.getByTestId('etcd-repair-result').getAttribute('data-mode'), { timeout: 180_000 }).toBe('snapshot');
    // The findings salvage made (their messages, not only their titles), the losses, the restore plan's words.
    const findings = await p.locator('[data-testid="etcd-repair-findings"] li').allInnerTexts();
    expect(findings.length).toBeGreaterThan(0);
    const lost = await p.locator('[data-testid="etcd-repair-lost"] tbody tr td:nth-child(3)').allInnerTexts();
    const plan = p.getByTestId('etcd-restore-plan');
    await plan.locator('summary').click();
    const script = await plan.locator('details').innerText();
    // Commands set as <code> are commands, not words: read back with their backticks so the check skips them as before.
    const steps = await plan.locator('ol.steps li > p').evaluateAll((ps) =>
      ps.map((el) => {
        const copy = el.cloneNode(true) as HTMLElement;
        copy.querySelectorAll('code').forEach((c) => c.replaceWith(`\`${c.textContent ?? ''}\``));
        return copy.textContent ?? '';
      }),
    );
    const leaks: string[] = [];
    const check = (where: string, text: string) => {
      // Data, not words: the back end's paths, etcd's own texts (quoted; unit tests check only those are), URLs, the
      // plan's <PLACEHOLDERS>, the unit, the member name; the rest must be Chinese.
      const data = text
        .split(copies)
        .join(' ')
        .split(lossyInput)
        .join(' ')
        .replace(/“[^”]*”/g, ' ')
        .replace(/\bhttps?:\/\/[^\s，。；）,]+/g, ' ')
        .replace(/<[A-Z_]+>[\w.-]*/g, ' ')
        .replace(/\S+\.service\b/g, ' ')
        .replace(/\bn1\b/g, ' ');
      const words = englishLeaks(data, new Set()).filter((x) => x !== 'root');
      if (words.length > 0) leaks.push(`${where}: [${words.join(', ')}] in "${text}"`);
    };
    findings.forEach((f, i) => check(`finding ${i}`, f));
    lost.forEach((l, i) => check(`loss ${i}`, l));
    steps.forEach((l, i) => check(`step ${i}`, l));
    // The script: its comments in Chinese, its commands unchanged.
    const comments = script.split('\n').filter((l) => l.startsWith('# '));
    expect(comments.length).toBeGreaterThan(3);
    comments.forEach((l, i) => check(`script comment ${i}`, l));
    expect(script).toContain('# Lifeboat 生成的恢复计划。请在该节点上以 root 身份运行。');
    // Each placeholder and what it stands for, with the full-width colon of the Chinese sentence.
    expect(await p.getByTestId('etcd-restore-placeholders').innerText()).toMatch(/^<DATA_DIR>：成员在节点上的数据目录/m);
    expect(leaks).toEqual([]);
    await panelShot(w, 'etcd-repair-salvage-findings-zh-panel');
    expect(w.errors).toEqual([]);
  }, 300_000);
});
