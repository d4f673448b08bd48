/**
 * The field report's open segments in the segment map (Chromium, web mode, the bundled sample):
 * start-up fails before it reaches them, yet each batch row shows its first index, counted on
 * from the newest closed segment as libraft does, and the table says where that comes from,
 * in English and in Chinese.
 */
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { translate } from '../../shared/i18n';
import { hashTree, REPO } from '../cli/fixtures';
import { chromiumAvailable, ensureRendererBuilt, launchChromium, openPage, RENDERER_DIR, screenshot, type WatchedPage } from './helpers';

const SAMPLES = path.join(REPO, 'resources', 'samples');
const canRun = chromiumAvailable();

let server: WebServer;
let browser: Browser;
const pages: WatchedPage[] = [];
let before: Record<string, string>;

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  before = await hashTree(SAMPLES);
  server = await startWebServer({ rendererDir: RENDERER_DIR, host: '127.0.0.1', port: 0, quiet: true, samplesDir: SAMPLES });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  for (const p of pages) await p.context.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
});

describe.skipIf(!canRun)('open segments: batch rows with their first index', () => {
  it.each([
    ['en-US', 'en'],
    ['zh-CN', 'zh-CN'],
  ] as const)(
    '%s: open-28053 starts at 14232599, after 0000000014232598-0000000014232598',
    async (browserLocale, locale) => {
      const wp = await openPage(browser, server.url, { locale: browserLocale });
      pages.push(wp);
      const p = wp.page;
      const name = translate(locale, 'home.samples.open', { title: translate(locale, 'sample.fieldReport.title') });
      await p.getByRole('button', { name, exact: true }).click({ timeout: 30_000 });
      await p.getByTestId('verdict').waitFor({ timeout: 30_000 });
      await p.locator('[data-testid="file-list"] button[data-file="open-28053"]').click();
      const table = p.getByTestId('batch-table');
      await table.locator('[data-batch="1"]').waitFor({ timeout: 30_000 });

      const note = table.getByTestId('open-start');
      expect(await note.getAttribute('data-first')).toBe('14232599');
      expect((await note.innerText()).trim()).toBe(
        translate(locale, 'segmentMap.open.afterClosed', {
          file: 'open-28053',
          after: '0000000014232598-0000000014232598',
          last: 14232598,
          before: '',
          first: 14232599,
        }),
      );
      // Every batch continues where the one before stopped.
      const rows = await table.locator('[data-batch]').evaluateAll((els) =>
        els.map((e) => {
          const cells = [...e.querySelectorAll('span')].map((s) => s.textContent?.trim() ?? '');
          return { entries: Number(cells[2]), first: Number(e.querySelector('[data-first-index]')?.getAttribute('data-first-index')) };
        }),
      );
      expect(rows.length).toBeGreaterThan(0);
      let next = 14232599;
      for (const r of rows) {
        expect(r.first).toBe(next);
        next += r.entries;
      }
      expect(wp.errors).toEqual([]);
      // The map (its start label drawn on a canvas in the UI language) and the table, in view.
      await table.scrollIntoViewIfNeeded();
      await screenshot(p, `open-segment-index-${locale}`, false);
    },
    120_000,
  );

  it('the sample is unchanged', async () => {
    expect(await hashTree(SAMPLES)).toEqual(before);
  });
});
