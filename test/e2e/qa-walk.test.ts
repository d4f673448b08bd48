/**
 * What a walk through the UI at 3 a.m. found, in both languages, kept fixed:
 * the key browser of a db whose tree is damaged says its counts are only
 * what the readable part reaches (salvage's "keys written" is higher), and
 * English punctuation is drawn by a Latin font, not full width by the
 * bundled Chinese font. Inputs: the bundled samples, read only.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { REPO } from '../cli/fixtures';
import { FIELD_REPORTS } from '../helpers/field-reports';
import { chromiumAvailable, ensureRendererBuilt, launchChromium, openPage, RENDERER_DIR, screenshot, type WatchedPage } from './helpers';

const canRun = chromiumAvailable();
const SAMPLES = path.join(REPO, 'resources', 'samples');

let server: WebServer;
let browser: Browser;
const pages: WatchedPage[] = [];

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  server = await startWebServer({ rendererDir: RENDERER_DIR, host: '127.0.0.1', port: 0, quiet: true, samplesDir: SAMPLES });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const p of pages) await p.context.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
});

async function openSample(locale: string, sample: string, viewport: { width: number; height: number }): Promise<WatchedPage> {
  const w = await openPage(browser, server.url, { locale, colorScheme: 'dark' });
  pages.push(w);
  await w.page.setViewportSize(viewport);
  await w.page.locator(`button[data-sample-id="${sample}"]`).click();
  await w.page.getByTestId('verdict').waitFor({ timeout: 60_000 });
  await w.page.getByTestId('keys-total').waitFor({ timeout: 30_000 });
  return w;
}

/** The width of `ch` drawn inside `selector`, in ems of that element's font size. */
async function glyphEms(p: Page, selector: string, ch: string): Promise<number> {
  await p.evaluate(() => document.fonts.ready);
  return p.locator(selector).evaluate((el, c) => {
    const span = document.createElement('span');
    span.textContent = c;
    el.append(span);
    const ems = span.getBoundingClientRect().width / parseFloat(getComputedStyle(el).fontSize);
    span.remove();
    return ems;
  }, ch);
}

describe.skipIf(!canRun)('walk-through findings', () => {
  it('a damaged tree: the key browser says its counts are partial; English quotes are Latin, Chinese keep theirs', async () => {
    const en = await openSample('en-US', 'etcd-field-report', { width: 1280, height: 800 });
    const note = en.page.getByTestId('keys-tree-damaged');
    expect(await note.innerText()).toMatch(/^The db’s tree is damaged: these counts and this list hold only the keys its readable part reaches\./);
    expect(await glyphEms(en.page, '[data-testid="keys-tree-damaged"]', '’')).toBeLessThan(0.5);
    expect(await glyphEms(en.page, '[data-testid="keys-tree-damaged"]', '“')).toBeLessThan(0.6);
    await note.scrollIntoViewIfNeeded();
    await screenshot(en.page, 'qa-walk-keys-damaged-en', false);
    // Every kind in the page map's legend has its count, pages reached twice too (it was blank).
    await expect.poll(() => en.page.getByTestId('page-kind-count-multiplyReferenced').innerText()).toMatch(/^\d+$/);

    const zh = await openSample('zh-CN', 'etcd-field-report', { width: 1024, height: 700 });
    const zhNote = zh.page.getByTestId('keys-tree-damaged');
    expect(await zhNote.innerText()).toMatch(/^db 的树结构已损坏：这里的计数和列表只包含其可读部分能到达的键。下方的“修复或抢救”/);
    expect(await glyphEms(zh.page, '[data-testid="keys-tree-damaged"]', '“')).toBeGreaterThan(0.8);
    await zhNote.scrollIntoViewIfNeeded();
    await screenshot(zh.page, 'qa-walk-keys-damaged-zh', false);
    // "Start guided recovery" with no connection opens Nodes (SSH), whose hint points at the form on screen.
    await zh.page.getByTestId('report-start-guided').click();
    expect(await zh.page.getByTestId('guided-connect-first').innerText()).toBe(
      '请先连接节点（“连接到节点”；若就是运行 Lifeboat 的这台机器，例如运行 kind 的笔记本，则点“本机”），引导式恢复随后会在这里打开。',
    );

    // A healthy db says nothing of the kind.
    const healthy = await openSample('en-US', 'etcd-healthy', { width: 1280, height: 800 });
    expect(await healthy.page.getByTestId('keys-tree-damaged').count()).toBe(0);
    for (const w of [en, zh, healthy]) expect(w.errors).toEqual([]);
  }, 120_000);

  it("the field report's pasted listing: the file list counts the same 31 files as the line above it", async () => {
    const w = await openPage(browser, server.url, { locale: 'zh-CN', colorScheme: 'dark' });
    pages.push(w);
    await w.page.setViewportSize({ width: 1024, height: 700 });
    await w.page.getByRole('button', { name: /粘贴文件列表/ }).click();
    await w.page.getByTestId('listing-text').fill(readFileSync(path.join(FIELD_REPORTS, 'microk8s-backend-listing.txt'), 'utf8'));
    await w.page.locator('dialog button.primary').first().click();
    await w.page.getByTestId('listing-view').waitFor();
    expect(await w.page.getByTestId('listing-view').innerText()).toContain('共 31 个文件');
    expect(await w.page.getByTestId('file-list-title').innerText()).toBe('文件（31）');
    expect(w.errors).toEqual([]);
  }, 60_000);
});
