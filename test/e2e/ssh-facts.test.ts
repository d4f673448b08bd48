/**
 * "Node facts" in Chromium against web mode and a real sshd: the panel lists
 * the exact read-only commands before "Collect", runs them, shows the facts'
 * plain-language headlines (disk, a root-only data dir, missing static pods
 * and units said "not present"), and the session log has every command as
 * sent. The node's data dir is hashed before and after.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_PROBE } from '../../electron/services/ssh/connection';
import { factCommands } from '../../renderer/src/features/node/facts-probe';
import { en } from '../../shared/i18n/ssh';
import { hashTree } from '../cli/fixtures';
import { makeTempDir, sshdAvailable, startSshd, type SshdInstance } from '../helpers/sshd';
import { chromiumAvailable, ensureRendererBuilt, openAppOnSsh, screenshot, sshAppPaths, startWebApp, type WebApp } from './helpers';

const canRun = chromiumAvailable() && sshdAvailable();

let tmp: string;
let backend: string;
let sshd: SshdInstance;
let app: WebApp;
let before: Record<string, string>;

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  [sshd, tmp] = await Promise.all([startSshd(), makeTempDir('lifeboat-e2e-facts-')]);
  await fs.chmod(tmp, 0o755);
  backend = path.join(tmp, 'backend');
  await fs.mkdir(backend, { mode: 0o700 });
  await fs.writeFile(path.join(backend, 'metadata1'), Buffer.alloc(16, 1), { mode: 0o600 });
  await fs.chmod(backend, 0o700);
  before = await hashTree(backend);
  app = await startWebApp(await sshAppPaths(tmp, sshd, { home: path.join(tmp, 'home') }));
}, 300_000);

afterAll(async () => {
  await app?.close();
  await sshd?.stop();
  if (tmp) {
    if (before) expect(await hashTree(backend)).toEqual(before);
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

describe.skipIf(!canRun)('Node facts in Chromium (web mode, real sshd)', () => {
  it('shows the commands, runs them, and shows facts with plain headlines; the session log has each command', async () => {
    const page = await openAppOnSsh(app, sshd);
    await page.getByTestId('ssh-open-datadir').first().click();
    const panel = page.getByTestId('node-facts-panel');
    await panel.waitFor();
    await page.getByTestId('node-facts-dir').fill(backend);
    const commands = factCommands(backend).map((c) => c.command);
    await expect.poll(() => page.getByTestId('node-facts-commands').locator('pre').innerText()).toBe(commands.join('\n'));

    await page.getByTestId('node-facts-run').click();
    const list = page.getByTestId('node-facts-list');
    await list.waitFor({ timeout: 30_000 });
    const text = await list.innerText();
    expect(text).toMatch(/disk \d+% full \(.+ free of .+\)/);
    expect(text).toContain(`data dir ${backend}: directory, owner root:root, mode 0700`);
    expect(text).toContain('static pods: /etc/kubernetes/manifests not present');
    expect(text).toContain('etcd static pod: not present');
    expect(text).toMatch(/memory available/);
    expect(text).toMatch(/addresses: /);
    expect(await list.locator('[data-fact="datadir"]').getAttribute('data-level')).toBe('ok');
    await list.scrollIntoViewIfNeeded();
    await screenshot(page, 'ssh-node-facts', false);

    // Session log: every command exactly as shown.
    await page.getByTestId('pane-log').click();
    for (const c of commands) {
      const entry = page.getByTestId('session-log-entry').filter({ hasText: c }).first();
      await entry.waitFor();
      expect(await entry.getByTestId('session-log-text').innerText()).toBe(c);
    }

    // The panels asked whether the login is root (read-only, once): a normal user keeps "Use sudo".
    const probe = page.getByTestId('session-log-entry').filter({ hasText: ROOT_PROBE });
    await expect.poll(() => probe.count()).toBe(1);
    await page.getByTestId('pane-datadir').click();
    expect(await page.getByTestId('node-facts-sudo-label').innerText()).toBe(en['ssh.facts.sudo']);
    expect(await page.getByTestId('datadir-sudo-label').innerText()).toBe(en['ssh.node.sudo']);
  }, 120_000);
});
