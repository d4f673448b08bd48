/**
 * The kine export from the report in a real browser against the real
 * web-mode back end, on a k3s-shaped `state.db` the real sqlite3 made (with
 * its WAL, copied while sqlite3 held it open): English with the mouse (the
 * plan, a refused path, JSON chosen, the result against the files on disk and
 * against sqlite3's own live keys), and Chinese with the keyboard only (the
 * result in Chinese, no English of ours in the panel). The input is
 * unchanged. Screenshots land in test-artifacts/e2e/.
 */
import { promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { KineExportResult } from '../../shared/contract/kine';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { exportKineObjects } from '../../electron/services/kine-export';
import { englishLeaks } from '../helpers/zh-english';
import { hashTree, tempDir } from '../helpers/etcd';
import { makeKineStateDb, sqliteLiveKeys } from '../helpers/kine-db';
import { ARTIFACTS, chromiumAvailable, ensureRendererBuilt, launchChromium, openPage, RENDERER_DIR, screenshot, type WatchedPage } from './helpers';

const canRun = chromiumAvailable();

let tmp: string;
let copies: string;
let server: WebServer;
let browser: Browser;
let input: { dir: string; file: string; hash: string; live: string[]; expected: KineExportResult };
const pages: WatchedPage[] = [];
const savedCopies = process.env.LIFEBOAT_COPIES_DIR;

async function open(locale: string): Promise<WatchedPage> {
  const p = await openPage(browser, server.url, { locale });
  pages.push(p);
  return p;
}

async function openSample(w: WatchedPage): Promise<void> {
  await w.page.locator('button[data-sample-id="k3s"]').click();
  await w.page.getByTestId('verdict').waitFor({ timeout: 90_000 });
}

/** The panel alone, at full resolution. */
async function panelShot(w: WatchedPage, name: string): Promise<void> {
  await w.page.evaluate(() => document.fonts.ready);
  await w.page.addStyleTag({ content: 'header.top { position: static !important; }' });
  await w.page.getByTestId('kine-export').screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/** Every file below `dir`, relative path -> mode. */
async function modesOf(dir: string, rel = ''): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) for (const [k, v] of await modesOf(dir, r)) out.set(k, v);
    else out.set(r, statSync(path.join(dir, r)).mode & 0o777);
  }
  return out;
}

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  tmp = await tempDir('e2e-kine');
  copies = path.join(tmp, 'copies');
  process.env.LIFEBOAT_COPIES_DIR = copies;
  const samples = path.join(tmp, 'samples');
  await fs.mkdir(samples);
  const db = makeKineStateDb(path.join(samples, 'k3s'));
  await fs.writeFile(
    path.join(samples, 'index.json'),
    JSON.stringify([{ id: 'k3s', dir: 'k3s', titleKey: 'sample.healthy.title', descriptionKey: 'sample.healthy.description', engine: 'etcd' }]),
  );
  input = {
    dir: db.dir,
    file: db.file,
    hash: await hashTree(db.dir),
    live: sqliteLiveKeys(db.file),
    // What the page must show, computed here from the same input.
    expected: await exportKineObjects(db.file, path.join(tmp, 'expected')),
  };
  server = await startWebServer({ rendererDir: RENDERER_DIR, host: '127.0.0.1', port: 0, quiet: true, samplesDir: samples });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  for (const p of pages) await p.context.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
  if (savedCopies === undefined) delete process.env.LIFEBOAT_COPIES_DIR;
  else process.env.LIFEBOAT_COPIES_DIR = savedCopies;
  try {
    if (canRun) expect(await hashTree(input.dir)).toBe(input.hash);
  } finally {
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  }
});

describe.skipIf(!canRun)('the kine export in Chromium', () => {
  it("English: a k3s state.db's objects written as JSON files, the result against the files and sqlite3", async () => {
    const w = await open('en-US');
    const p = w.page;
    await openSample(w);
    await p.getByTestId('unknown-sqlite').waitFor();
    const panel = p.getByTestId('kine-export');
    await panel.scrollIntoViewIfNeeded();
    await p.getByTestId('kine-export-open').click();
    await expect.poll(() => p.getByTestId('kine-export-input').innerText()).toBe(input.file);
    expect(await p.getByTestId('kine-export-wal-plan').innerText()).toBe(
      `${input.file}-wal: its committed transactions are laid over the database, as SQLite reads it`,
    );
    const output = await p.getByTestId('kine-export-output').inputValue();
    expect(output.startsWith(`${copies}/`)).toBe(true);
    await p.getByTestId('kine-export-format').selectOption('json');
    const writes = await p.getByTestId('kine-export-writes').innerText();
    expect(writes).toContain(`${output}/<resource>/<namespace>/<name>.json`);
    expect(writes).toContain('Nothing is written to the input');

    // A path outside the copies folder is refused by the back end, and said so on the page.
    await p.getByTestId('kine-export-output').fill(path.join(tmp, 'elsewhere'));
    await p.getByTestId('kine-export-start').click();
    await expect.poll(() => p.getByTestId('kine-export-start-error').innerText()).toContain('copies folder');
    await expect(fs.stat(path.join(tmp, 'elsewhere'))).rejects.toThrow();

    await p.getByTestId('kine-export-output').fill(output);
    await p.getByTestId('kine-export-start').click();
    const result = p.getByTestId('kine-export-result');
    await result.waitFor({ timeout: 120_000 });
    const e = input.expected;
    // The count on the page is the files on disk and the keys sqlite3 says are live.
    expect(Number(await result.getAttribute('data-objects'))).toBe(input.live.length);
    const modes = await modesOf(output);
    expect(modes.size).toBe(input.live.length);
    expect([...modes.keys()].map((f) => f.replace(/\.json$/, '')).sort()).toEqual(input.live.map((k) => k.split('/').slice(2).join('/')).sort());
    expect(await p.locator('#kine-export-result-title').innerText()).toBe(`✓ Objects written into ${output}: ${e.objects}`);
    expect(await p.getByTestId('kine-export-secrets').innerText()).toBe(String(e.secrets));
    expect(modes.get('secrets/kube-system/token.json')).toBe(0o600);
    for (const [resource, n] of Object.entries(e.resources)) {
      expect(await p.locator(`[data-testid="kine-export-resources"] [data-resource="${resource}"]`).getAttribute('data-n')).toBe(String(n));
    }
    expect(await p.getByTestId('kine-export-rows').innerText()).toBe(`${e.rows} (every revision of every key); newest revision ${e.revision}`);
    expect(await p.getByTestId('kine-export-deleted').innerText()).toBe(String(e.deletedKeys));
    expect(await p.getByTestId('kine-export-wal').innerText()).toBe(
      `${e.wal!.file}: ${e.wal!.commits} committed transactions laid over the database (${e.wal!.pages} pages)`,
    );
    await p.getByTestId('kine-export-complete').waitFor();
    await screenshot(p, 'kine-export-en');
    await panelShot(w, 'kine-export-en-panel');
    expect(w.errors).toEqual([]);
  }, 300_000);

  it('Chinese, keyboard only: exports, says the result in Chinese, with no English of ours', async () => {
    const w = await open('zh-CN');
    const p = w.page;
    await openSample(w);
    const opener = p.getByTestId('kine-export-open');
    await opener.scrollIntoViewIfNeeded();
    await opener.focus();
    await p.keyboard.press('Enter');
    expect(await opener.getAttribute('aria-expanded')).toBe('true');
    // Tab from the opener reaches the output field, the format, then the start button.
    await p.getByTestId('kine-export-output').waitFor();
    await p.keyboard.press('Tab');
    await expect.poll(() => p.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('kine-export-output');
    const output = await p.getByTestId('kine-export-output').inputValue();
    await p.keyboard.press('Tab');
    await expect.poll(() => p.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('kine-export-format');
    await p.keyboard.press('Tab');
    await expect.poll(() => p.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('kine-export-start');
    expect(await p.getByTestId('kine-export-start').innerText()).toBe('导出');
    await p.keyboard.press('Enter');
    const result = p.getByTestId('kine-export-result');
    await result.waitFor({ timeout: 120_000 });
    const e = input.expected;
    expect(await p.locator('#kine-export-result-title').innerText()).toBe(`✓ 已写入 ${output} 的对象：${e.objects}`);
    expect(await p.getByTestId('kine-export-complete').innerText()).toBe('表中的每一页都已读取：没有缺失任何键。');
    expect((await modesOf(output)).size).toBe(input.live.length);
    // No English of ours in the panel: what is left are paths, file names, kinds and field names.
    const text = await p.getByTestId('kine-export').evaluate((el) => {
      const clone = el.cloneNode(true) as HTMLElement;
      for (const n of clone.querySelectorAll('[lang="en"], pre, code, .mono, option')) n.remove();
      return clone.innerText;
    });
    const names = ['Secret', 'protobuf', 'kubectl', 'metadata', 'resourceVersion', 'rawValueBase64', 'lifeboat', 'configmaps', 'pods', 'secrets', 'state'];
    const words = englishLeaks(text.replace(/\S*\/\S*/g, ' '), new Set()).filter((x) => !names.includes(x));
    expect(words).toEqual([]);
    await screenshot(p, 'kine-export-zh');
    await panelShot(w, 'kine-export-zh-panel');
    expect(w.errors).toEqual([]);
  }, 300_000);
});
