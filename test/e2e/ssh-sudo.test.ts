/**
 * A ROOT-ONLY data directory read through sudo, in Chromium against web mode,
 * a real sshd and real sudo (a sudoers drop-in for the test user requiring
 * the password, removed afterwards), with a real dqlite data directory
 * (dqlite-demo, SIGKILLed, one byte flipped) in a 0700 root directory:
 * tick "Use sudo"; the read-only commands are on screen before anything
 * runs; Validate in place asks for the sudo password once and gives local
 * validation's verdict; the session log shows the commands as sent; Copy out
 * through sudo reuses the password, matches every SHA-256 and opens the
 * copy's report. The password appears nowhere on the page or on disk.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sudoWrapped } from '../../electron/services/ssh/connection';
import { sudoCopyCommands } from '../../electron/services/ssh/sudo-copy';
import { sudoListCommand } from '../../electron/services/ssh/sudo-source';
import { verdictOf } from '../../renderer/src/features/validation/verdict';
import { lookCommand, sudoCommandTexts, sudoValidateCommands } from '../../renderer/src/features/node/commands';
import { en, zhCN } from '../../shared/i18n/ssh';
import { hashTree } from '../cli/fixtures';
import { requireDqliteDemo } from '../helpers/dqlite-demo';
import { goldenKilled } from '../helpers/dqlite-goldens';
import { makeTempDir, sshdAvailable, startSshd, toolAvailable, TEST_USER, type SshdInstance } from '../helpers/sshd';
import { copyDamaged, validateLocally } from '../helpers/ssh-node';
import { sudoersDropIn } from '../helpers/sudoers';
import { chromiumAvailable, ensureRendererBuilt, openAppOnSsh, screenshot, sshAppPaths, startWebApp, type WebApp } from './helpers';

const canRun = chromiumAvailable() && sshdAvailable() && toolAvailable('/usr/bin/sudo') && toolAvailable('/usr/sbin/visudo') && requireDqliteDemo();
const sudoers = sudoersDropIn('lifeboat-sudo-e2e');

let tmp: string;
let sshd: SshdInstance;
let app: WebApp;
let rootOnly: string;
let before: Record<string, string>;
let expectedVerdict: string;

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  const golden = await goldenKilled();
  [sshd, tmp] = await Promise.all([startSshd(), makeTempDir('lifeboat-e2e-sudo-')]);
  await sudoers.install(`${TEST_USER} ALL=(root) ALL`);
  rootOnly = path.join(tmp, 'node', 'backend');
  await copyDamaged(golden.dataDir, rootOnly);
  for (const n of await fs.readdir(rootOnly)) await fs.chmod(path.join(rootOnly, n), 0o600);
  await fs.chmod(rootOnly, 0o700);
  before = await hashTree(rootOnly);
  expectedVerdict = verdictOf(await validateLocally(rootOnly)).kind;

  const paths = await sshAppPaths(tmp, sshd);
  app = await startWebApp(paths);
}, 300_000);

afterAll(async () => {
  await app?.close();
  await sshd?.stop();
  await sudoers.remove();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!canRun)('root-only data directory through sudo in Chromium (web mode, real sshd, real sudo, real dqlite dir)', () => {
  it('Use sudo: commands shown first, one password prompt, Validate in place and Copy out give the original’s verdict', async () => {
    const page = await openAppOnSsh(app, sshd);
    await page.getByTestId('ssh-open-datadir').click();
    await page.getByTestId('datadir-panel').waitFor();
    await page.getByTestId('datadir-path').fill(rootOnly);

    // Without sudo: refused, and the hint says to tick "Use sudo".
    await page.getByTestId('datadir-validate').click();
    const refused = page.getByTestId('datadir-validate-error');
    await refused.waitFor({ timeout: 20_000 });
    expect(await refused.innerText()).toMatch(/permission denied[\s\S]*Use sudo/);

    // With sudo: the exact read-only commands are on screen before anything runs.
    await page.getByTestId('datadir-sudo').setChecked(true);
    const shown = await page.getByTestId('datadir-validate-commands').innerText();
    expect(shown.split('\n')).toEqual(sudoValidateCommands(rootOnly));
    expect(shown.split('\n')[0]).toBe(sudoListCommand(rootOnly));
    // Look's forms carry the run tag the next Look goes with, said in plain words in both languages (no raw markup).
    const forms = await page.getByTestId('datadir-sudo-commands').innerText();
    const runTag = /LIFEBOAT_RUN=(lb-[0-9a-f]{16}) /.exec(forms)?.[1] ?? '';
    const texts = sudoCommandTexts(lookCommand(rootOnly), runTag);
    expect(forms.split('\n')).toEqual([texts.rootProbe, texts.asRoot, texts.probe, texts.passwordless, texts.withPassword]);
    for (const [lang, catalog] of [
      ['en', en],
      ['zh-CN', zhCN],
    ] as const) {
      if (lang === 'zh-CN') {
        await page.getByTestId('language-button').click();
        await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
      }
      const panelText = await page.getByTestId('datadir-panel').innerText();
      expect(panelText).toContain(catalog['ssh.node.sudoDetail']);
      expect(panelText).not.toContain('`');
      await screenshot(page, lang === 'en' ? 'ssh-sudo-commands' : 'ssh-sudo-commands-zh', false);
    }
    await page.getByTestId('language-button').click();
    await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe('en');

    // Validate in place: the sudo password is asked once, then the report opens with local validation's verdict.
    await page.getByTestId('datadir-validate').click();
    const input = page.getByTestId('prompt-input-0');
    await input.waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('ssh-prompt').innerText()).toContain(`sudo password for ${sshd.user} on 127.0.0.1`);
    await input.fill(sshd.password);
    await page.getByTestId('prompt-ok').click();
    const verdict = page.getByTestId('verdict');
    await verdict.waitFor({ timeout: 90_000 });
    expect(await verdict.getAttribute('data-verdict')).toBe(expectedVerdict);
    expect(await page.getByTestId('report').getAttribute('data-engine')).toBe('dqlite');
    expect(await verdict.innerText()).toContain(`${sshd.user}@127.0.0.1:${rootOnly}`);
    await screenshot(page, 'ssh-sudo-validate-in-place');

    // The session log: the listing as sent, through sudo, ended with exit 0; never the password.
    await page.getByTestId('nav-ssh').click();
    await page.getByTestId('pane-log').click();
    const sentList = sudoWrapped(sudoListCommand(rootOnly), 'password');
    const entry = page.getByTestId('session-log-entry').filter({ hasText: sentList }).first();
    await entry.waitFor();
    expect(await entry.getByTestId('session-log-text').innerText()).toBe(sentList);
    await expect.poll(() => entry.getByTestId('session-log-code').innerText()).toBe('exit 0');
    expect(await page.getByTestId('session-log').innerText()).not.toContain(sshd.password);
    await page.getByTestId('pane-datadir').click();

    // Copy out through sudo: its commands shown first; no second prompt; every SHA-256 matches; the copy's report opens.
    await page.getByTestId('datadir-copy').click();
    const copy = page.getByTestId('copyout-panel');
    await copy.waitFor();
    expect((await copy.getByTestId('copyout-commands').innerText()).split('\n')).toEqual(sudoCopyCommands(rootOnly));
    await copy.getByTestId('copyout-as-root').waitFor();
    await copy.getByTestId('copyout-start').click();
    await copy.getByTestId('copyout-progress').waitFor({ timeout: 20_000 });
    await expect.poll(async () => (await page.getByTestId('ssh-workspace').isVisible()) === false, { timeout: 90_000 }).toBe(true);
    await verdict.waitFor({ timeout: 60_000 });
    expect(await verdict.getAttribute('data-verdict')).toBe(expectedVerdict);
    expect(await page.getByTestId('prompt-input-0').count()).toBe(0);
    await page.getByTestId('nav-ssh').click();
    const result = copy.getByTestId('copyout-result');
    await result.waitFor();
    expect(await result.getAttribute('data-all-match')).toBe('true');
    await screenshot(page, 'ssh-sudo-copy-done', false);

    // Nothing we wrote or showed holds the password; the node's files were only read.
    expect(await page.locator('body').innerText()).not.toContain(sshd.password);
    // Everything the back end wrote here: the copy, its manifest, recordings, logs, known_hosts.
    let scanned = 0;
    for (const e of await fs.readdir(tmp, { withFileTypes: true, recursive: true })) {
      const f = path.join(e.parentPath, e.name);
      if (!e.isFile() || f.startsWith(rootOnly + path.sep)) continue;
      expect((await fs.readFile(f)).includes(Buffer.from(sshd.password)), f).toBe(false);
      scanned++;
    }
    expect(scanned).toBeGreaterThan(Object.keys(before).length);
    expect(await hashTree(rootOnly)).toEqual(before);
    expect(app.pages.at(-1)!.errors).toEqual([]);
  }, 300_000);
});
