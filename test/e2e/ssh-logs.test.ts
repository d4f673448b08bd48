/**
 * The SSH workspace's remaining pieces in Chromium against web mode and a
 * real sshd:
 * - "Remember" is not offered in web mode, and the prompt says why;
 * - a saved connection lands in the list and in profiles.json, without the
 *   password just typed;
 * - Logs: the exact command is on screen before it runs, two field-report
 *   logs copied to the node are fetched (plus the real, empty, journalctl
 *   preset, left out of the analysis), they open together in the log view
 *   (timeline, story) and the session log has every command as sent;
 * - the link drops: the terminal says it was cut, the node reconnects by
 *   itself, the keyboard-interactive prompt of the retry says the retries
 *   wait for it, and after answering the node is connected again.
 *
 * Every path the back end writes points into a temp dir (LIFEBOAT_*).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logCommand, logSourceName } from '../../renderer/src/features/node/logs-commands';
import { hasLogLines } from '../../renderer/src/features/node/logs-fetch';
import { FIELD_REPORTS } from '../helpers/field-reports';
import { makeTempDir, sshdAvailable, startSshd, toolAvailable, type SshdInstance } from '../helpers/sshd';
import {
  answerPassword,
  chromiumAvailable,
  ensureRendererBuilt,
  expectConnected,
  fillSshTarget,
  openSshWorkspace,
  screenshot,
  sshAppPaths,
  startWebApp,
  type WebApp,
} from './helpers';

const canRun = chromiumAvailable() && sshdAvailable() && toolAvailable('/usr/bin/journalctl');
const LOGS = ['microk8s-k8s-dqlite-journal.log', 'kubeadm-etcd-bbolt-panic.log'];

let tmp: string;
let nodeDir: string;
let sshd: SshdInstance;
let app: WebApp;
let before: Record<string, string>;

async function hashes(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of await fs.readdir(nodeDir))
    out[n] = createHash('sha256')
      .update(await fs.readFile(path.join(nodeDir, n)))
      .digest('hex');
  return out;
}

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  [sshd, tmp] = await Promise.all([startSshd(), makeTempDir('lifeboat-e2e-logs-')]);
  nodeDir = path.join(tmp, 'node');
  await fs.mkdir(nodeDir, { mode: 0o755 });
  await fs.chmod(nodeDir, 0o755);
  for (const f of LOGS) {
    await fs.copyFile(path.join(FIELD_REPORTS, f), path.join(nodeDir, f));
    await fs.chmod(path.join(nodeDir, f), 0o644);
  }
  before = await hashes();

  app = await startWebApp(await sshAppPaths(tmp, sshd, { home: path.join(tmp, 'home') }));
}, 300_000);

afterAll(async () => {
  await app?.close();
  await sshd?.stop();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!canRun)('SSH logs, saved connections and automatic reconnect in Chromium (web mode, real sshd)', () => {
  it('fetches node logs onto one timeline, saves a connection without secrets, and reconnects by itself', async () => {
    const page = await openSshWorkspace(app);
    await fillSshTarget(page, sshd);
    expect(await page.getByTestId('ssh-auto-reconnect').isChecked()).toBe(true);

    // Saved connection: in the list and in profiles.json.
    await page.getByTestId('ssh-profile-label').fill('lab node');
    await page.getByTestId('ssh-profile-save').click();
    await expect.poll(() => page.getByTestId('ssh-profile-name').allInnerTexts()).toEqual(['lab node']);

    // Connect from the saved connection. Web mode: "Remember" is not offered, and the prompt says why.
    await page.getByTestId('ssh-profile-connect').click();
    await page.getByTestId('prompt-input-0').waitFor({ timeout: 20_000 });
    const off = page.getByTestId('prompt-remember-off');
    expect(await off.getAttribute('title')).toMatch(/web mode/i);
    expect(await off.locator('input').isDisabled()).toBe(true);
    expect(await page.getByTestId('prompt-remember').count()).toBe(0);
    await answerPassword(page, sshd.password);
    await expectConnected(page);
    const profilesText = await fs.readFile(path.join(tmp, 'home', 'profiles.json'), 'utf8');
    expect(profilesText).toContain('lab node');
    expect(profilesText).not.toContain(sshd.password);

    // Logs: the exact command first, then fetched.
    await page.getByTestId('ssh-open-logs').click();
    await page.getByTestId('node-logs-panel').waitFor();
    await page.getByTestId('node-logs-preset-file').click();
    const label = await page.getByTestId('ssh-node').locator('.label').innerText();
    const commands: string[] = [];
    for (const f of LOGS) {
      const file = path.join(nodeDir, f);
      await page.getByTestId('node-logs-input').fill(file);
      const command = logCommand('file', file)!;
      expect(await page.getByTestId('node-logs-command').locator('pre').innerText()).toBe(command);
      await page.getByTestId('node-logs-fetch').click();
      await page.getByTestId('node-logs-source').filter({ hasText: command }).waitFor({ timeout: 20_000 });
      commands.push(command);
    }
    // The real journalctl preset: runs; a journal without log lines (the usual case here) is kept but left out.
    await page.getByTestId('node-logs-preset-microk8s-dqlite').click();
    const journal = logCommand('microk8s-dqlite')!;
    expect(await page.getByTestId('node-logs-command').locator('pre').innerText()).toBe(journal);
    await page.getByTestId('node-logs-fetch').click();
    const journalRow = page.getByTestId('node-logs-source').filter({ hasText: journal });
    await journalRow.waitFor({ timeout: 20_000 });
    const localJournal = spawnSync('journalctl', journal.split(' ').slice(1), { encoding: 'utf8' }).stdout;
    expect(await journalRow.getByTestId('node-logs-source-include').isChecked()).toBe(hasLogLines(localJournal));
    await screenshot(page, 'ssh-logs-fetched', false);

    // Session log: every command as sent.
    await page.getByTestId('pane-log').click();
    for (const c of [...commands, journal]) {
      const entry = page.getByTestId('session-log-entry').filter({ hasText: c }).first();
      await entry.waitFor();
      expect(await entry.getByTestId('session-log-text').innerText()).toBe(c);
    }
    await page.getByTestId('pane-logs').click();

    // Open: one timeline with both sources, named after their commands.
    await page.getByTestId('node-logs-open').click();
    await page.getByTestId('logs-view').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('ssh-workspace').isVisible()).toBe(false);
    const view = await page.getByTestId('logs-view').innerText();
    for (const c of commands) expect(view).toContain(logSourceName(label, c));
    expect(await page.getByTestId('logs-summary').innerText()).toMatch(/Sources: 2\b/);
    await page.getByTestId('log-timeline').waitFor();
    expect(await page.getByTestId('logs-story').innerText()).toMatch(/\S/);
    await screenshot(page, 'ssh-logs-view');

    // The link drops: the terminal is cut, the node reconnects by itself and asks again (PAM keyboard-interactive).
    await page.getByTestId('nav-ssh').click();
    await page.getByTestId('pane-terminals').click();
    await expect.poll(() => page.getByTestId('terminal-pane').first().getAttribute('data-status'), { timeout: 20_000 }).toBe('live');
    await sshd.dropConnections();
    await page.getByTestId('terminal-cut').waitFor({ timeout: 30_000 });
    await page.getByTestId('prompt-during-reconnect').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('ssh-node').getAttribute('data-state')).toBe('reconnecting');
    expect(await page.getByTestId('ssh-auto-reconnect-status').innerText()).toMatch(/waits for your answer/);
    await screenshot(page, 'ssh-auto-reconnect-prompt', false);
    await answerPassword(page, sshd.password);
    await expect.poll(() => page.getByTestId('ssh-node-state').first().innerText(), { timeout: 30_000 }).toBe('Connected');
    await expect.poll(() => page.getByTestId('terminal-pane').first().getAttribute('data-status'), { timeout: 20_000 }).toBe('live');

    expect(await hashes()).toEqual(before);
    expect(app.pages.at(-1)!.errors).toEqual([]);
  }, 300_000);
});
