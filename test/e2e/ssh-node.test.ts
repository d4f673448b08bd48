/**
 * "Reading the node" in Chromium against web mode and a real sshd serving a
 * real dqlite data directory (dqlite-demo, SIGKILLed, one byte flipped):
 * connect; Look shows the exact `ls` first, runs it and draws the segments on
 * the map; the session log has the command as sent; Validate in place gives
 * the verdict local validation gives; a root-only directory is refused with a
 * clear message; Copy out shows its commands, its progress, and the copy's
 * report opens by itself, every SHA-256 matching.
 *
 * Every path the back end writes points into a temp dir (LIFEBOAT_*).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { localDirectory } from '../../electron/services/fs-source';
import { validateDirectory } from '../../shared/validate';
import { verdictOf } from '../../renderer/src/features/validation/verdict';
import { lookCommand } from '../../renderer/src/features/node/commands';
import { closedSegments, flipByte, hashTree } from '../cli/fixtures';
import { requireDqliteDemo } from '../helpers/dqlite-demo';
import { goldenKilled } from '../helpers/dqlite-goldens';
import { makeTempDir, sshdAvailable, startSshd, type SshdInstance } from '../helpers/sshd';
import { chromiumAvailable, ensureRendererBuilt, launchChromium, openPage, screenshot, RENDERER_DIR, type WatchedPage } from './helpers';

const canRun = chromiumAvailable() && sshdAvailable() && requireDqliteDemo();
const ENV_KEYS = ['LIFEBOAT_SSH_KNOWN_HOSTS', 'LIFEBOAT_RECORDINGS_DIR', 'LIFEBOAT_SSH_CONFIG', 'LIFEBOAT_SSH_AUDIT_LOG', 'LIFEBOAT_COPIES_DIR', 'SSH_AUTH_SOCK'] as const;

let tmp: string;
let sshd: SshdInstance;
let server: WebServer;
let browser: Browser;
let served: string;
let rootOnly: string;
let copies: string;
let servedBefore: Record<string, string>;
let expectedVerdict: string;
let segmentFiles: string[];
const savedEnv: Partial<Record<(typeof ENV_KEYS)[number], string | undefined>> = {};
const pages: WatchedPage[] = [];

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  const golden = await goldenKilled();
  [sshd, tmp] = await Promise.all([startSshd(), makeTempDir('lifeboat-e2e-node-')]);
  served = path.join(tmp, 'node', 'k8s-dqlite');
  await fs.mkdir(path.dirname(served), { recursive: true, mode: 0o755 });
  await fs.cp(golden.dataDir, served, { recursive: true });
  const segs = await closedSegments(served);
  const damaged = segs[Math.floor(segs.length / 2)];
  await flipByte(path.join(served, damaged), Math.floor((await fs.stat(path.join(served, damaged))).size / 2));
  for (const d of [tmp, path.dirname(served), served]) await fs.chmod(d, 0o755);
  for (const n of await fs.readdir(served)) await fs.chmod(path.join(served, n), 0o644);
  segmentFiles = (await fs.readdir(served)).filter((n) => /^(\d{16}-\d{16}|open-\d+)$/.test(n));
  servedBefore = await hashTree(served);
  // Root-only, as MicroK8s's backend usually is for a login user.
  rootOnly = path.join(tmp, 'node', 'root-only');
  await fs.cp(served, rootOnly, { recursive: true });
  await fs.chmod(rootOnly, 0o700);

  const local = localDirectory(served);
  try {
    expectedVerdict = verdictOf(await validateDirectory(local)).kind;
  } finally {
    await local.close();
  }

  for (const k of ENV_KEYS) savedEnv[k] = process.env[k];
  const knownHosts = path.join(tmp, 'known_hosts');
  await fs.writeFile(knownHosts, sshd.knownHostsLine() + '\n');
  const sshConfig = path.join(tmp, 'ssh_config');
  await fs.writeFile(sshConfig, '');
  copies = path.join(tmp, 'copies');
  process.env.LIFEBOAT_SSH_KNOWN_HOSTS = knownHosts;
  process.env.LIFEBOAT_RECORDINGS_DIR = path.join(tmp, 'recordings');
  process.env.LIFEBOAT_SSH_CONFIG = sshConfig;
  process.env.LIFEBOAT_SSH_AUDIT_LOG = path.join(tmp, 'audit.jsonl');
  process.env.LIFEBOAT_COPIES_DIR = copies;
  delete process.env.SSH_AUTH_SOCK;
  server = await startWebServer({ rendererDir: RENDERER_DIR, host: '127.0.0.1', port: 0, quiet: true, samplesDir: null });
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  for (const p of pages) await p.context.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
  await sshd?.stop();
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

async function connect(): Promise<Page> {
  const wp = await openPage(browser, server.url, { colorScheme: 'dark' });
  pages.push(wp);
  const page = wp.page;
  await page.getByTestId('nav-ssh').click();
  await page.getByTestId('ssh-workspace').waitFor();
  await page.getByTestId('ssh-host').fill('127.0.0.1');
  await page.getByTestId('ssh-port').fill(String(sshd.port));
  await page.getByTestId('ssh-user').fill(sshd.user);
  await page.getByTestId('ssh-use-agent').setChecked(false);
  await page.getByTestId('ssh-connect').click();
  const input = page.getByTestId('prompt-input-0');
  await input.waitFor({ timeout: 20_000 });
  await input.fill(sshd.password);
  await page.getByTestId('prompt-ok').click();
  await expect.poll(() => page.getByTestId('ssh-node-state').first().innerText(), { timeout: 20_000 }).toBe('Connected');
  return page;
}

describe.skipIf(!canRun)('reading the node in Chromium (web mode, real sshd, real dqlite dir)', () => {
  it('Look draws the map, Validate in place gives the verdict, Copy out opens the copy’s report by itself', async () => {
    const page = await connect();
    await page.getByTestId('ssh-open-datadir').click();
    const panel = page.getByTestId('datadir-panel');
    await panel.waitFor();

    // The exact command is on screen before anything runs.
    await page.getByTestId('datadir-path').fill(served);
    const shown = await page.getByTestId('datadir-command').locator('pre').innerText();
    expect(shown).toBe(lookCommand(served));
    await page.getByTestId('datadir-look').click();
    const listing = page.getByTestId('datadir-listing');
    await listing.waitFor({ timeout: 20_000 });
    expect(Number(await listing.getAttribute('data-segments'))).toBe(segmentFiles.length);
    await page.getByTestId('segment-map').waitFor();
    expect(await page.getByTestId('map-summary').innerText()).toMatch(/\d/);
    await screenshot(page, 'ssh-node-look', false);

    // The session log has it as sent, and its exit code.
    await page.getByTestId('pane-log').click();
    const entry = page.getByTestId('session-log-entry').filter({ hasText: shown }).first();
    await entry.waitFor();
    expect(await entry.getByTestId('session-log-text').innerText()).toBe(shown);
    await expect.poll(() => entry.getByTestId('session-log-code').innerText()).toBe('exit 0');
    await page.getByTestId('pane-datadir').click();

    // A root-only directory: refused with the reason and what to do.
    await page.getByTestId('datadir-path').fill(rootOnly);
    await page.getByTestId('datadir-validate').click();
    const refused = page.getByTestId('datadir-validate-error');
    await refused.waitFor({ timeout: 20_000 });
    expect(await refused.innerText()).toContain(`permission denied: ${sshd.user} cannot read ${rootOnly}`);
    expect(await refused.innerText()).toMatch(/SFTP runs as the login user/);
    await screenshot(page, 'ssh-node-permission', false);

    // Validate in place: the report replaces the workspace, with local validation's verdict.
    await page.getByTestId('datadir-path').fill(served);
    await page.getByTestId('datadir-validate').click();
    const verdict = page.getByTestId('verdict');
    await verdict.waitFor({ timeout: 90_000 });
    expect(await verdict.getAttribute('data-verdict')).toBe(expectedVerdict);
    expect(await page.getByTestId('report').getAttribute('data-engine')).toBe('dqlite');
    expect(await verdict.innerText()).toContain(`${sshd.user}@127.0.0.1:${served}`);
    await screenshot(page, 'ssh-node-validate-in-place');

    // Copy out: destination under the copies root (web mode), the node-side command shown first.
    await page.getByTestId('nav-ssh').click();
    await page.getByTestId('datadir-copy').click();
    const copy = page.getByTestId('copyout-panel');
    await copy.waitFor();
    expect(await copy.getByTestId('copyout-commands').innerText()).toBe(`cd '${served}' && xargs -0 sha256sum -z --`);
    const dest = await copy.getByTestId('copyout-dest').innerText();
    expect(path.dirname(dest)).toBe(copies);
    expect(await copy.getByTestId('copyout-dest-input').count()).toBe(0);
    await copy.getByTestId('copyout-start').click();
    // Two listings 1.5 s apart come first: the progress bar is there meanwhile.
    await copy.getByTestId('copyout-progress').waitFor({ timeout: 10_000 });
    await expect.poll(() => copy.getByTestId('copyout-progress-text').innerText()).toMatch(/of/);
    await screenshot(page, 'ssh-node-copy-progress', false);

    // Done: the copy's report opens by itself.
    await expect.poll(async () => (await page.getByTestId('ssh-workspace').isVisible()) === false, { timeout: 90_000 }).toBe(true);
    await verdict.waitFor({ timeout: 60_000 });
    expect(await verdict.getAttribute('data-verdict')).toBe(expectedVerdict);
    expect(await verdict.innerText()).toContain('k8s-dqlite');
    await screenshot(page, 'ssh-node-copy-report');
    expect(await hashTree(path.join(dest, 'k8s-dqlite')).then((t) => Object.keys(t).sort())).toEqual(Object.keys(servedBefore).sort());

    // Back in the workspace: the manifest comparison, file by file.
    await page.getByTestId('nav-ssh').click();
    const result = copy.getByTestId('copyout-result');
    await result.waitFor();
    expect(await result.getAttribute('data-all-match')).toBe('true');
    expect(await copy.getByTestId('copyout-manifest').locator('tbody tr').count()).toBeGreaterThan(0);
    await screenshot(page, 'ssh-node-copy-done', false);

    // The node's files were only read.
    expect(await hashTree(served)).toEqual(servedBefore);
    expect(pages.at(-1)!.errors).toEqual([]);
  }, 300_000);
});
