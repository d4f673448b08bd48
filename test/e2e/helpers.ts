/**
 * Browser e2e plumbing: the built renderer served by the real web-mode server
 * on 127.0.0.1, driven by Debian's Chromium through playwright-core.
 */
import { existsSync, mkdirSync, promises as fs } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { ensureBuilt, REPO } from '../cli/fixtures';
import type { SshdInstance } from '../helpers/sshd';

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
  // Font slices load when a glyph first needs them (font-display: swap): wait, or a shot shows boxes.
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage });
}

/** The report is up and says what kind of verdict it is (`data-verdict` of the verdict banner). */
/** Drop one file (its bytes as numbers, built in page context) on the start page's drop zone, as a user drags it there. */
export async function dropOne(p: Page, name: string, bytes: number[]): Promise<void> {
  await p.getByTestId('drop-zone').waitFor();
  await p.evaluate(
    ([fileName, content]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(content)], fileName));
      document.querySelector('[data-testid="drop-zone"]')?.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    [name, bytes] as const,
  );
}

export async function verdictOf(p: Page): Promise<string> {
  const v = p.getByTestId('verdict');
  await v.waitFor({ timeout: 60_000 });
  return (await v.getAttribute('data-verdict')) ?? '';
}

/** Where the web-mode back end reads and writes, set through the LIFEBOAT_* environment. */
export interface AppPaths {
  knownHosts: string;
  recordings: string;
  sshConfig: string;
  auditLog: string;
  copies?: string;
  home?: string;
}

const APP_ENV: ReadonlyArray<[keyof AppPaths, string]> = [
  ['knownHosts', 'LIFEBOAT_SSH_KNOWN_HOSTS'],
  ['recordings', 'LIFEBOAT_RECORDINGS_DIR'],
  ['sshConfig', 'LIFEBOAT_SSH_CONFIG'],
  ['auditLog', 'LIFEBOAT_SSH_AUDIT_LOG'],
  ['copies', 'LIFEBOAT_COPIES_DIR'],
  ['home', 'LIFEBOAT_HOME'],
];

/**
 * Point the back end at `paths` and hide any ssh-agent (authentication must go
 * through the password modal). Returns the function that puts the
 * environment back as it was.
 */
export function pointAppAt(paths: AppPaths): () => void {
  const keys = [...APP_ENV.filter(([field]) => paths[field] !== undefined).map(([, key]) => key), 'SSH_AUTH_SOCK'];
  const saved = new Map(keys.map((k) => [k, process.env[k]]));
  for (const [field, key] of APP_ENV) {
    const value = paths[field];
    if (value !== undefined) process.env[key] = value;
  }
  delete process.env.SSH_AUTH_SOCK;
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * Web mode on 127.0.0.1 plus Chromium, the back end pointed at `paths`;
 * closing it closes every page opened and puts the environment back.
 */
export interface WebApp {
  readonly server: WebServer;
  readonly browser: Browser;
  readonly pages: WatchedPage[];
  /** A fresh dark page on the app, watched for errors. */
  open(): Promise<WatchedPage>;
  close(): Promise<void>;
}

export async function startWebApp(paths: AppPaths): Promise<WebApp> {
  const restoreEnv = pointAppAt(paths);
  let server: WebServer | undefined;
  let browser: Browser;
  try {
    server = await startWebServer({ rendererDir: RENDERER_DIR, host: '127.0.0.1', port: 0, quiet: true, samplesDir: null });
    browser = await launchChromium();
  } catch (e) {
    await server?.close();
    restoreEnv();
    throw e;
  }
  const pages: WatchedPage[] = [];
  return {
    server,
    browser,
    pages,
    async open() {
      const wp = await openPage(browser, server.url, { colorScheme: 'dark' });
      pages.push(wp);
      return wp;
    },
    async close() {
      for (const p of pages) await p.context.close().catch(() => undefined);
      await browser.close();
      await server.close();
      restoreEnv();
    },
  };
}

/**
 * The test sshd's known_hosts line and an empty ssh_config in `tmp`, with
 * recordings, audit log and copies under it: the paths most SSH suites use.
 */
export async function sshAppPaths(tmp: string, sshd: SshdInstance, extra: { home?: string } = {}): Promise<AppPaths & { copies: string }> {
  const knownHosts = path.join(tmp, 'known_hosts');
  await fs.writeFile(knownHosts, sshd.knownHostsLine() + '\n');
  const sshConfig = path.join(tmp, 'ssh_config');
  await fs.writeFile(sshConfig, '');
  return {
    knownHosts,
    recordings: path.join(tmp, 'recordings'),
    sshConfig,
    auditLog: path.join(tmp, 'audit.jsonl'),
    copies: path.join(tmp, 'copies'),
    ...extra,
  };
}

/** Open the SSH workspace on a fresh page. */
export async function openSshWorkspace(app: WebApp): Promise<Page> {
  const { page } = await app.open();
  await page.getByTestId('nav-ssh').click();
  await page.getByTestId('ssh-workspace').waitFor();
  return page;
}

/** Fill the connection form for the test sshd, agent off. */
export async function fillSshTarget(page: Page, sshd: SshdInstance): Promise<void> {
  await page.getByTestId('ssh-host').fill('127.0.0.1');
  await page.getByTestId('ssh-port').fill(String(sshd.port));
  await page.getByTestId('ssh-user').fill(sshd.user);
  await page.getByTestId('ssh-use-agent').setChecked(false);
}

/**
 * Answer the password prompt at the head of the queue (keyboard-interactive
 * through PAM); with `masked`, first check the field hides what is typed.
 */
export async function answerPassword(page: Page, password: string, opts: { masked?: boolean } = {}): Promise<void> {
  const input = page.getByTestId('prompt-input-0');
  await input.waitFor({ timeout: 20_000 });
  if (opts.masked) expect(await input.getAttribute('type')).toBe('password');
  await input.fill(password);
  await page.getByTestId('prompt-ok').click();
}

export async function expectConnected(page: Page): Promise<void> {
  await expect.poll(() => page.getByTestId('ssh-node-state').first().innerText(), { timeout: 20_000 }).toBe('Connected');
}

/** A fresh page connected to the test sshd by password. */
export async function openAppOnSsh(app: WebApp, sshd: SshdInstance): Promise<Page> {
  const page = await openSshWorkspace(app);
  await fillSshTarget(page, sshd);
  await page.getByTestId('ssh-connect').click();
  await answerPassword(page, sshd.password);
  await expectConnected(page);
  return page;
}

/**
 * Guided recovery's detection on a kind Docker host (test/helpers/kind-docker-host.ts) after Docker's restart:
 * the card says the machine runs no datastore itself and lists both node containers at their new addresses.
 * Returns the kind section of the card.
 */
export async function detectKindDockerHost(page: Page, kind: { newIp: string; workerIp: string }): Promise<Locator> {
  await page.getByTestId('pane-guided').click();
  await page.getByTestId('guided-detect').click();
  const section = page.getByTestId('kind-containers');
  await section.waitFor({ timeout: 90_000 });
  expect(await page.getByText('Nothing on this machine itself runs etcd or dqlite').innerText()).toBe(
    'Nothing on this machine itself runs etcd or dqlite: it is the Docker host of kind cluster kind, whose etcd runs inside the control-plane containers below.',
  );
  const rows = await page.getByTestId('kind-container').allInnerTexts();
  expect(rows.map((r) => r.split('\t').map((c) => c.trim())).sort()).toEqual(
    [
      ['kind-control-plane', 'control-plane', 'running', `${kind.newIp} (kind)`],
      ['kind-worker', 'worker', 'running', `${kind.workerIp} (kind)`],
    ].sort(),
  );
  return section;
}
