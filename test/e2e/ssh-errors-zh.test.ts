/**
 * SSH errors in the Chinese UI (Chromium, web mode): a refused connection (nothing listens on a
 * 127.0.0.x port) and a changed host key (a real sshd whose key is not the one in known_hosts)
 * are said in Chinese, from the error's catalog key and params, with no English sentence left;
 * so is a copy-out that fails on the node (the failed event's text, rendered by the node panel),
 * and a saved connection refused for too long a name (ssh.profiles.save's catalog text).
 */
import { promises as fs } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translate } from '../../shared/i18n';
import { freePort, generateKey, makeTempDir, sshdAvailable, startSshd, type SshdInstance } from '../helpers/sshd';
import { answerPassword, chromiumAvailable, ensureRendererBuilt, openPage, screenshot, sshAppPaths, startWebApp, type WebApp } from './helpers';

const canRun = chromiumAvailable() && sshdAvailable();

let tmp: string;
let sshd: SshdInstance;
let app: WebApp;
let knownHosts: string;

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  [sshd, tmp] = await Promise.all([startSshd(), makeTempDir('lifeboat-e2e-ssh-zh-')]);
  const paths = await sshAppPaths(tmp, sshd);
  knownHosts = paths.knownHosts;
  app = await startWebApp(paths);
}, 180_000);

afterAll(async () => {
  await app?.close();
  await sshd?.stop();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

async function chineseSshWorkspace(): Promise<Page> {
  const wp = await openPage(app.browser, app.server.url, { locale: 'zh-CN' });
  app.pages.push(wp);
  await wp.page.getByTestId('nav-ssh').click();
  await wp.page.getByTestId('ssh-workspace').waitFor();
  return wp.page;
}

async function fillTarget(page: Page, host: string, port: number, user: string): Promise<void> {
  await page.getByTestId('ssh-host').fill(host);
  await page.getByTestId('ssh-port').fill(String(port));
  await page.getByTestId('ssh-user').fill(user);
  await page.getByTestId('ssh-use-agent').setChecked(false);
}

/** English sentences the back end would have sent: none may reach the Chinese page. */
const ENGLISH = /Nothing accepted|connection was refused|Check that|ECONNREFUSED|Someone could be|Connection refused/;

describe.skipIf(!canRun)('SSH errors in the Chinese UI (Chromium, web mode)', () => {
  it('a refused connection is said in Chinese, with what to check', async () => {
    // 127.0.0.3: a free port there has nothing listening, so the kernel refuses the connection.
    const host = '127.0.0.3';
    const port = await freePort(host);
    const page = await chineseSshWorkspace();
    await fillTarget(page, host, port, 'operator');
    await page.getByTestId('ssh-connect').click();

    const box = page.getByTestId('ssh-connect-error');
    await box.waitFor({ timeout: 30_000 });
    const text = await box.innerText();
    expect(text).toContain(translate('zh-CN', 'ssh.error.refused', { host, port }));
    expect(text).toContain('连接被拒绝');
    expect(text).toContain('systemctl status ssh');
    expect(text).not.toMatch(ENGLISH);
    expect(await box.getByRole('button').innerText()).toBe(translate('zh-CN', 'ssh.dismiss'));
    await screenshot(page, 'ssh-refused-zh', false);
  }, 120_000);

  it('a changed host key is refused in Chinese, fingerprints shown', async () => {
    const other = await generateKey(tmp, 'impostor');
    const [alg, blob] = other.publicLine.split(/\s+/);
    await fs.writeFile(knownHosts, `[127.0.0.1]:${sshd.port} ${alg} ${blob}\n`);

    const page = await chineseSshWorkspace();
    await fillTarget(page, '127.0.0.1', sshd.port, sshd.user);
    await page.getByTestId('ssh-connect').click();

    const warning = page.getByTestId('ssh-hostkey-refused');
    await warning.waitFor({ timeout: 30_000 });
    const text = await warning.innerText();
    expect(text).toContain(translate('zh-CN', 'ssh.hostkey.changed.title'));
    expect(text).toContain('可能有人在拦截连接');
    expect(await warning.getByTestId('hostkey-old-fingerprint').innerText()).toContain(other.fingerprint);
    expect(await warning.getByTestId('hostkey-new-fingerprint').innerText()).toContain(sshd.hostKeys.ed25519.fingerprint);
    expect(text).not.toMatch(ENGLISH);
    // Nor an English error box beside it.
    expect(await page.getByTestId('ssh-connect-error').count()).toBe(0);
    expect(await fs.readFile(knownHosts, 'utf8')).toBe(`[127.0.0.1]:${sshd.port} ${alg} ${blob}\n`);
    await screenshot(page, 'ssh-hostkey-changed-zh', false);
  }, 120_000);

  it('a copy-out that fails on the node says why in Chinese in the node panel', async () => {
    await fs.writeFile(knownHosts, sshd.knownHostsLine() + '\n');
    const page = await chineseSshWorkspace();
    await fillTarget(page, '127.0.0.1', sshd.port, sshd.user);
    await page.getByTestId('ssh-connect').click();
    await answerPassword(page, sshd.password);
    await page.getByTestId('ssh-open-datadir').click({ timeout: 30_000 });
    await page.getByTestId('datadir-panel').waitFor();
    // A character device: the copy is refused on the node (over SFTP) as neither a directory nor a file.
    await page.getByTestId('datadir-path').fill('/dev/null');
    await page.getByTestId('datadir-copy').click();
    const copy = page.getByTestId('copyout-panel');
    await copy.waitFor();
    await copy.getByTestId('copyout-start').click();
    const failed = copy.getByTestId('copyout-failed');
    await failed.waitFor({ timeout: 30_000 });
    expect(await failed.getByTestId('copyout-error').innerText()).toBe(translate('zh-CN', 'ssh.copyout.error.notDirOrFile', { path: '/dev/null' }));
    expect(await failed.innerText()).not.toContain('is neither a directory nor a regular file');
    await screenshot(page, 'ssh-copyout-failed-zh', false);
  }, 120_000);

  it('saving a connection with too long a name is refused in Chinese', async () => {
    const page = await chineseSshWorkspace();
    await fillTarget(page, '127.0.0.1', sshd.port, sshd.user);
    await page.getByTestId('ssh-profile-label').fill('x'.repeat(300));
    await page.getByTestId('ssh-profile-save').click();
    const refused = page.getByTestId('ssh-profiles-error');
    await refused.waitFor({ timeout: 30_000 });
    expect(await refused.innerText()).toBe(translate('zh-CN', 'apiError.profile.label.tooLong', { max: 200 }));
    expect(await page.getByTestId('ssh-profile').count()).toBe(0);
  }, 60_000);
});
