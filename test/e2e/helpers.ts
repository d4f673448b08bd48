/**
 * Browser e2e plumbing: the built renderer served by the real web-mode server
 * on 127.0.0.1, driven by Debian's Chromium through playwright-core.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ensureBuilt, REPO } from '../cli/fixtures';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.join(REPO, 'test-artifacts', 'e2e');
export const RENDERER_DIR = path.join(REPO, 'dist', 'renderer');

/** True when Chromium can run; with CI=true a missing browser fails the suite instead of skipping it. */
export function chromiumAvailable(): boolean {
  const ok = existsSync(CHROMIUM);
  if (!ok && process.env.CI === 'true') throw new Error(`CI=true but ${CHROMIUM} is missing`);
  return ok;
}

/** dist/ (server worker + renderer) built and current. */
export async function ensureRendererBuilt(): Promise<void> {
  await ensureBuilt();
  if (!existsSync(path.join(RENDERER_DIR, 'index.html'))) {
    const r = spawnSync('npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'error'], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 170_000,
      env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
    });
    if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}\n${r.stderr}`);
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, page errors and CSP violations seen so far. */
  errors: string[];
}

export async function openPage(browser: Browser, url: string, opts: { locale?: string; colorScheme?: 'dark' | 'light' } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({
    locale: opts.locale ?? 'en-US',
    colorScheme: opts.colorScheme ?? 'light',
    viewport: { width: 1400, height: 1000 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(url);
  return { page, context, errors };
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  // From the top: the sticky header would otherwise be painted mid-page in a full-page shot.
  if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage });
}
