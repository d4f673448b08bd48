/**
 * On a desktop without CJK fonts (this machine, like Debian's default), the
 * Chinese UI is drawn with the bundled Noto Sans SC slices, served by the app
 * itself under `font-src 'self'`. And the field report's listing pasted with
 * its journal line gets a verdict, the failing file in red and the plan, in
 * both languages.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { chromiumAvailable, ensureRendererBuilt, launchChromium, openPage, RENDERER_DIR, screenshot, type WatchedPage } from './helpers';
import { FIELD_REPORTS } from '../helpers/field-reports';

const canRun = chromiumAvailable();
const LISTING = readFileSync(`${FIELD_REPORTS}/microk8s-backend-listing.txt`, 'utf8');
const JOURNAL = readFileSync(`${FIELD_REPORTS}/microk8s-k8s-dqlite-journal.log`, 'utf8');
const BAD = '0000000014232389-0000000014232597';

let server: WebServer;
let browser: Browser;
const pages: WatchedPage[] = [];

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  server = await startWebServer({ rendererDir: RENDERER_DIR, host: '127.0.0.1', port: 0, quiet: true });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const p of pages) await p.context.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
});

async function page(locale: string): Promise<WatchedPage> {
  const p = await openPage(browser, server.url, { locale });
  pages.push(p);
  return p;
}

describe.skipIf(!canRun)('bundled Chinese font and the listing verdict', () => {
  it('draws Chinese with the bundled font, loaded from the app itself (no system CJK font here)', async () => {
    // The point of the bundle: this machine has no font for Chinese at all.
    const system = spawnSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' });
    if (system.status === 0) expect(system.stdout.trim()).toBe('');
    const { page: p, errors } = await page('zh-CN');
    const fontRequests: string[] = [];
    p.on('requestfinished', (r) => {
      if (r.url().endsWith('.woff2')) fontRequests.push(r.url());
    });
    await p.reload();
    await p.getByRole('heading', { name: '哪里坏了？把数据目录交给我看看。' }).waitFor();
    await p.evaluate(() => document.fonts.ready);
    const faces = await p.evaluate(() => [...document.fonts].filter((f) => f.family.replace(/"/g, '') === 'Noto Sans SC' && f.status === 'loaded').length);
    expect(faces).toBeGreaterThan(0);
    expect(await p.evaluate(() => document.fonts.check("16px 'Noto Sans SC'", '哪里坏了'))).toBe(true);
    expect(fontRequests.length).toBeGreaterThan(0);
    for (const u of fontRequests) expect(new URL(u).origin).toBe(new URL(server.url).origin);
    await screenshot(p, 'cjk-home-zh');
    expect(errors).toEqual([]);
  });

  it('listing + journal line: verdict, the bad file drawn red, and the plan; then the same in Chinese', async () => {
    const { page: p, errors } = await page('en-US');
    await p.getByTestId('paste-listing').click();
    await p.getByTestId('listing-text').fill(LISTING);
    await p.getByTestId('listing-log').fill(JOURNAL);
    await p.getByTestId('listing-analyze').click();
    const verdict = p.getByTestId('listing-verdict');
    await verdict.waitFor();
    expect(await verdict.innerText()).toContain(`The log says start-up fails on ${BAD}`);
    expect(await verdict.locator('pre code').innerText()).toBe(
      `load closed segment ${BAD}: entries batch 394 starting at byte 8384000: entries count in preamble is zero`,
    );
    const plan = p.getByTestId('repair-plan');
    const commands = await plan.locator('pre code').allInnerTexts();
    expect(commands).toContain(
      `sudo mv /var/snap/microk8s/current/var/kubernetes/backend/${BAD} /var/snap/microk8s/current/var/kubernetes/lifeboat-quarantine/`,
    );
    expect(await plan.locator('li[data-kind="note"]').first().innerText()).toContain('these commands assume the MicroK8s default');
    // The copy-out list names the failing file once per line.
    const first = await p.getByTestId('copy-out').locator('li').first().innerText();
    expect(first).toBe(`${BAD} · the log says start-up fails on it`);
    await screenshot(p, 'listing-journal-en');

    await p.getByTestId('language-button').click();
    await p.getByRole('heading', { name: 'dqlite 无法启动' }).waitFor();
    expect(await verdict.innerText()).toContain(`日志表明启动在 ${BAD} 上失败`);
    const narrative = await p.getByTestId('listing-view').locator('ol.narrative li').allInnerTexts();
    expect(narrative.length).toBeGreaterThan(2);
    for (const line of narrative) expect(line).toMatch(/[\u4e00-\u9fff]/);
    expect(await p.getByTestId('copy-out').locator('li').first().innerText()).toBe(`${BAD} · 日志表明启动在它上面失败`);
    await screenshot(p, 'listing-journal-zh');
    expect(errors).toEqual([]);
  });

  it('the segment map opens a snapshot (meta, configuration, LZ4 frame) and an open segment ends in a normal "unused" row', async () => {
    const { page: p, errors } = await page('en-US');
    await p.getByRole('button', { name: /Open sample: Power cut/ }).click();
    await p.getByTestId('verdict').waitFor({ timeout: 30_000 });
    const files = p.getByTestId('file-list');
    const snap = files.locator('button[data-tone="snapshot-chosen"]').first();
    const snapFile = await snap.getAttribute('data-file');
    await snap.click();
    const detail = p.locator(`[data-testid="snapshot-detail"][data-file="${snapFile}"]`);
    await detail.waitFor();
    expect(await detail.getByTestId('snap-meta-ok').innerText()).toBe('ok');
    expect(await detail.getByTestId('snap-configuration').locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await detail.getByTestId('snap-configuration').innerText()).toMatch(/127\.0\.0\.1:\d+\s+voter/);
    const frame = await detail.getByTestId('snap-frame').innerText();
    expect(frame).toMatch(/Blocks:\s*\d+/);
    expect(frame).toMatch(/Content checksum:\s*(yes|no)/);
    await screenshot(p, 'snapshot-detail');
    // The English UI's one Chinese label (the language button) is drawn with the bundled font, not as boxes:
    // its glyphs are as wide as the same text in 'Noto Sans SC' itself.
    const widths = await p.getByTestId('language-button').evaluate((b) => {
      const probe = (family: string) => {
        const s = document.createElement('span');
        s.textContent = b.textContent?.trim() ?? '';
        s.style.fontFamily = family;
        s.style.fontSize = getComputedStyle(b).fontSize;
        document.body.append(s);
        const w = s.getBoundingClientRect().width;
        s.remove();
        return w;
      };
      return { ui: probe(getComputedStyle(b).fontFamily), bundled: probe("'Noto Sans SC'") };
    });
    expect(widths.ui).toBeCloseTo(widths.bundled, 0);
    // A healthy open segment: its batches, then one muted "unused" row for the preallocated zeros.
    const open = files.locator('button[data-file^="open-"]').first();
    await open.click();
    const table = p.getByTestId('batch-table');
    await table.getByText(/\d+ batch(es)?, 0 with problems/).waitFor({ timeout: 30_000 });
    expect(await table.locator('.row.bad').count()).toBe(0);
    await table.locator('[data-zero-fill="true"]').waitFor();
    expect(await table.locator('[data-zero-fill="true"]').innerText()).toMatch(/unused: \d+ zero bytes/);
    // A batch row opens its entries and both checksums.
    await table.locator('[data-batch="1"]').click();
    const batch = table.getByTestId('batch-detail');
    await batch.waitFor({ timeout: 30_000 });
    expect(await batch.getByTestId('batch-crcs').innerText()).toMatch(
      /header CRC stored (0x[0-9a-f]{8}), computed \1 ✓ · data CRC stored (0x[0-9a-f]{8}), computed \2 ✓/,
    );
    expect(await batch.getByTestId('batch-entry').count()).toBeGreaterThan(0);
    await screenshot(p, 'batch-detail');
    expect(errors).toEqual([]);
  });
});
