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
import { makeFieldReportSample } from '../helpers/etcd-field-sample';
import { hashTree, requireEtcd, tempDir, type EtcdGolden } from '../helpers/etcd';
import { ARTIFACTS, chromiumAvailable, ensureRendererBuilt, launchChromium, openPage, RENDERER_DIR, screenshot, type WatchedPage } from './helpers';

const canRun = chromiumAvailable() && requireEtcd();

let tmp: string;
let copies: string;
let input: string;
let inputHash: string;
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
  const sample = await makeFieldReportSample(tmp);
  ({ golden, input, inputHash } = sample);
  server = await startWebServer({ rendererDir: RENDERER_DIR, host: '127.0.0.1', port: 0, quiet: true, samplesDir: sample.samplesDir });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  for (const p of pages) await p.context.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
  if (savedCopies === undefined) delete process.env.LIFEBOAT_COPIES_DIR;
  else process.env.LIFEBOAT_COPIES_DIR = savedCopies;
  if (canRun && input) expect(await hashTree(input)).toBe(inputHash);
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
    expect(plan).toContain(`snapshot restore ${snapshot}`);
    const bytes = await fs.readFile(snapshot);
    expect(await p.getByTestId('etcd-repair-sha256').innerText()).toBe(bytes.subarray(bytes.length - 32).toString('hex'));
    await panelShot(w, 'etcd-repair-snapshot-zh-panel');
    expect(w.errors).toEqual([]);
  }, 300_000);
});
