/**
 * A root login in Chromium (web mode, a real sshd that logs root in by key
 * and whose sessions have no sudo): once the back end learned the login is
 * root (the read-only `exec id -u`, asked when a node panel opens, once per
 * connection), the node panels stop offering sudo. The data directory, facts,
 * logs and guided checkboxes read "As root (logged in as root: no sudo
 * needed)" in English and Chinese; ticked, the command preview shows the one
 * form sent (`sh -c '…'`), no sudo forms; Look on a root-only directory
 * succeeds with no sudo in the session log, and the copy commands for the
 * operator's own shell start in their root form.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ROOT_PROBE } from '../../electron/services/ssh/connection';
import { en, zhCN } from '../../shared/i18n/ssh';
import { en as guidedEn, zhCN as guidedZh } from '../../shared/i18n/guided';
import { lookCommand, sudoCommandTexts } from '../../renderer/src/features/node/commands';
import { copyCommandFor } from '../../renderer/src/features/listing/copy-out';
import { hashTree } from '../cli/fixtures';
import { makeRootOnly, startCopyOutNode, type CopyOutNode } from '../helpers/copy-out-node';
import { sshdAvailable } from '../helpers/sshd';
import { chromiumAvailable, ensureRendererBuilt, expectConnected, fillSshTarget, screenshot, sshAppPaths, startWebApp, type WebApp } from './helpers';

const canRun = chromiumAvailable() && sshdAvailable();

let node: CopyOutNode;
let app: WebApp;
let backend: string;
let before: Record<string, string>;
let savedSshDir: string | undefined;

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  node = await startCopyOutNode('lifeboat-e2e-root-', { loginAs: 'root', hideCommands: ['sudo'] });
  await fs.chmod(node.dir, 0o755);
  backend = path.join(node.dir, 'node', 'backend');
  await fs.mkdir(backend, { recursive: true });
  await fs.writeFile(path.join(backend, 'metadata1'), Buffer.alloc(16, 1));
  await makeRootOnly(backend);
  before = await hashTree(backend);
  // Web mode reads key files only from its ~/.ssh: here, the directory that holds the test key.
  savedSshDir = process.env.LIFEBOAT_SSH_DIR;
  process.env.LIFEBOAT_SSH_DIR = node.dir;
  app = await startWebApp(await sshAppPaths(node.dir, node.sshd, { home: path.join(node.dir, 'home') }));
}, 300_000);

afterAll(async () => {
  await app?.close();
  if (savedSshDir === undefined) delete process.env.LIFEBOAT_SSH_DIR;
  else process.env.LIFEBOAT_SSH_DIR = savedSshDir;
  if (node) {
    if (before) expect(await hashTree(backend)).toEqual(before);
    await node.stop();
  }
});

async function setLanguage(page: Page, lang: 'en' | 'zh-CN'): Promise<void> {
  const now = await page.evaluate(() => document.documentElement.lang);
  if ((now === 'zh-CN') !== (lang === 'zh-CN')) await page.getByTestId('language-button').click();
  await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe(lang);
}

describe.skipIf(!canRun)('a root login in the node panels (Chromium, web mode, real sshd)', () => {
  it('the panels say "as root, no sudo needed" once the connection knows, in English and Chinese', async () => {
    const { page, errors } = await app.open();
    await page.getByTestId('nav-ssh').click();
    await page.getByTestId('ssh-workspace').waitFor();
    await fillSshTarget(page, node.sshd);
    await page.getByTestId('ssh-identity').fill(node.key.privatePath);
    await page.getByTestId('ssh-connect').click();
    await expectConnected(page);

    await page.getByTestId('ssh-open-datadir').first().click();
    await page.getByTestId('datadir-panel').waitFor();
    // Learned with the read-only probe, then the labels change (never guessed from the user name).
    await expect.poll(() => page.getByTestId('datadir-sudo-label').innerText(), { timeout: 20_000 }).toBe(en['ssh.node.sudoRoot']);
    expect(await page.getByTestId('node-facts-sudo-label').innerText()).toBe(en['ssh.facts.sudoRoot']);

    // Ticked: the preview shows the one form a root login sends, and no sudo at all.
    await page.getByTestId('datadir-path').fill(backend);
    await page.getByTestId('datadir-sudo').check();
    // Sent with the run tag the preview shows (a fresh one each run), so a Look that hangs is ended on the node.
    await expect.poll(() => page.getByTestId('datadir-sudo-commands').innerText()).toMatch(/LIFEBOAT_RUN=lb-[0-9a-f]{16} /);
    const shown = await page.getByTestId('datadir-sudo-commands').innerText();
    const sent = sudoCommandTexts(lookCommand(backend), /LIFEBOAT_RUN=(lb-[0-9a-f]{16}) /.exec(shown)![1]!);
    expect(shown).toBe(sent.asRoot);
    expect(await page.getByTestId('datadir-sudo-series').innerText()).not.toMatch(/\bsudo\b/);
    const panelText = await page.getByTestId('datadir-panel').innerText();
    expect(panelText).toContain(en['ssh.node.willRunRoot']);
    expect(panelText).not.toContain(en['ssh.node.sudo']);
    await page.getByTestId('datadir-look').click();
    await page.getByTestId('datadir-listing').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('datadir-listing').getAttribute('data-entries')).toBe('1');
    // The copy commands for the operator's own shell follow the login: the root form, no sudo.
    const copyList = page.getByTestId('datadir-copy-list');
    expect(await copyList.getByTestId('shell-choice-root').locator('input').isChecked()).toBe(true);
    expect(await page.getByTestId('datadir-copy-command').locator('pre code').innerText()).toBe(copyCommandFor(['metadata1'], backend, 'root'));
    await screenshot(page, 'ssh-root-login-datadir', false);

    await setLanguage(page, 'zh-CN');
    await expect.poll(() => page.getByTestId('datadir-sudo-label').innerText()).toBe(zhCN['ssh.node.sudoRoot']);
    expect(await page.getByTestId('node-facts-sudo-label').innerText()).toBe(zhCN['ssh.facts.sudoRoot']);
    await setLanguage(page, 'en');

    await page.getByTestId('pane-logs').click();
    await expect.poll(() => page.getByTestId('node-logs-sudo-label').innerText()).toBe(en['ssh.logs.sudoRoot']);
    await page.getByTestId('pane-guided').click();
    await expect.poll(() => page.getByTestId('guided-detect-sudo-label').innerText()).toBe(guidedEn['guided.detect.sudoRoot']);
    await setLanguage(page, 'zh-CN');
    await expect.poll(() => page.getByTestId('guided-detect-sudo-label').innerText()).toBe(guidedZh['guided.detect.sudoRoot']);
    await setLanguage(page, 'en');

    // The session log: the probe once (however many panels opened), the Look as `sh -c`, no sudo anywhere.
    await page.getByTestId('pane-log').click();
    const texts = await page.getByTestId('session-log-text').allInnerTexts();
    expect(texts.filter((x) => x === ROOT_PROBE)).toHaveLength(1);
    expect(texts).toContain(sent.asRoot);
    for (const x of texts) expect(x).not.toMatch(/\bsudo\b/);
    expect(errors).toEqual([]);
  }, 180_000);
});
