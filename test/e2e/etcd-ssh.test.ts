/**
 * An etcd data dir on a node, in Chromium against web mode, a real sshd and
 * real sudo: the field-report sample (made by etcd 3.4) as a root-only
 * /var/lib/etcd (0700 dirs, 0600 files). Validate in place through sudo
 * gives local validation's verdict and etcd's own fatal text; the page map,
 * a page, a WAL record and a key are then read over the same connection
 * (member/wal and member/snap included). Its WAL lives on another disk,
 * linked back as member/wal, as operators set it up: the report says so, in
 * English and Chinese, and reads the records through the link. Copy out
 * through sudo follows it and opens the copy's etcd report, with plain
 * folders. The node's files are only read.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verdictOf } from '../../renderer/src/features/validation/verdict';
import { hashTree, REPO } from '../cli/fixtures';
import { makeTempDir, sshdAvailable, startSshd, toolAvailable, TEST_USER, type SshdInstance } from '../helpers/sshd';
import { validateLocally } from '../helpers/ssh-node';
import { sudoersDropIn } from '../helpers/sudoers';
import { chromiumAvailable, ensureRendererBuilt, openAppOnSsh, screenshot, sshAppPaths, startWebApp, type WebApp } from './helpers';

const canRun = chromiumAvailable() && sshdAvailable() && toolAvailable('/usr/bin/sudo') && toolAvailable('/usr/sbin/visudo');
const sudoers = sudoersDropIn('lifeboat-etcd-ssh-e2e');
const SAMPLE = path.join(REPO, 'resources', 'samples', 'etcd-field-report');

let tmp: string;
let sshd: SshdInstance;
let app: WebApp;
let rootOnly: string;
let walDisk: string;
let before: Record<string, string>;
let expectedVerdict: string;

async function rootOnlyCopy(from: string, to: string): Promise<void> {
  await fs.mkdir(path.dirname(to), { recursive: true, mode: 0o755 });
  await fs.cp(from, to, { recursive: true });
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        await walk(p);
        await fs.chmod(p, 0o700);
      } else await fs.chmod(p, 0o600);
    }
  };
  await walk(to);
  await fs.chmod(to, 0o700);
}

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  [sshd, tmp] = await Promise.all([startSshd(), makeTempDir('lifeboat-e2e-etcd-ssh-')]);
  await sudoers.install(`${TEST_USER} ALL=(root) ALL`);
  rootOnly = path.join(tmp, 'node', 'var', 'lib', 'etcd');
  await rootOnlyCopy(SAMPLE, rootOnly);
  // The WAL on a disk of its own, linked back where etcd looks for it.
  walDisk = path.join(tmp, 'node', 'mnt', 'wal-disk', 'wal');
  await fs.mkdir(path.dirname(walDisk), { recursive: true, mode: 0o700 });
  await fs.rename(path.join(rootOnly, 'member', 'wal'), walDisk);
  await fs.symlink(walDisk, path.join(rootOnly, 'member', 'wal'));
  before = { ...(await hashTree(rootOnly)), ...(await hashTree(walDisk)) };
  expectedVerdict = verdictOf(await validateLocally(rootOnly)).kind;
  app = await startWebApp(await sshAppPaths(tmp, sshd));
}, 300_000);

afterAll(async () => {
  await app?.close();
  await sshd?.stop();
  await sudoers.remove();
  if (tmp) {
    expect({ ...(await hashTree(rootOnly)), ...(await hashTree(walDisk)) }).toEqual(before);
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

describe.skipIf(!canRun)('etcd data dir on a node through sudo in Chromium (web mode, real sshd, real sudo)', () => {
  it('validates in place, reads pages, WAL records and keys over the connection, and copies out', async () => {
    const page = await openAppOnSsh(app, sshd);
    await page.getByTestId('ssh-open-datadir').click();
    await page.getByTestId('datadir-panel').waitFor();
    await page.getByTestId('datadir-path').fill(rootOnly);
    await page.getByTestId('datadir-sudo').setChecked(true);
    await page.getByTestId('datadir-validate').click();
    const input = page.getByTestId('prompt-input-0');
    await input.waitFor({ timeout: 20_000 });
    await input.fill(sshd.password);
    await page.getByTestId('prompt-ok').click();
    const verdict = page.getByTestId('verdict');
    await verdict.waitFor({ timeout: 90_000 });
    expect(expectedVerdict).toBe('fails');
    expect(await verdict.getAttribute('data-verdict')).toBe(expectedVerdict);
    expect(await page.getByTestId('report').getAttribute('data-engine')).toBe('etcd');
    expect(await verdict.innerText()).toContain('freepages: failed to get all reachable pages (page 0: invalid type: meta)');
    expect(await verdict.innerText()).toContain(`${sshd.user}@127.0.0.1:${rootOnly}`);
    // The WAL's link is said, in both languages, and read through (the records below come from it).
    const link = page.getByTestId('findings').locator('[data-code="layout.link"]');
    expect(await link.innerText()).toContain(`member/wal is a symbolic link to ${walDisk}: etcd reads through it, and so does Lifeboat.`);
    await page.getByTestId('language-button').click();
    await link.getByText(`member/wal 是指向 ${walDisk} 的符号链接`).waitFor();
    await link.scrollIntoViewIfNeeded();
    await screenshot(page, 'etcd-ssh-wal-link-zh', false);
    await page.getByTestId('language-button').click();

    // Read on demand over the same connection: page 0 and its parent, a WAL record, a key.
    await page.getByTestId('page-next-problem').click();
    const detail = page.getByTestId('page-detail');
    await expect.poll(() => detail.getAttribute('data-page'), { timeout: 30_000 }).toBe('0');
    await detail.getByTestId('page-parent-link').click();
    await expect.poll(() => detail.locator('tr.bad').count(), { timeout: 30_000 }).toBe(1);
    await page.getByTestId('wal-file-link').first().click();
    await page.getByTestId('wal-record-rows').locator('[data-record="12"]').click({ timeout: 30_000 });
    await page.getByTestId('wal-record-detail').waitFor();
    await page.getByTestId('key-search').fill('deployment-0010');
    await page.locator('[data-key="/registry/deployments/kube-system/deployment-0010"]').click({ timeout: 30_000 });
    await expect
      .poll(async () => JSON.parse(await page.getByTestId('key-value').innerText()) as unknown, { timeout: 30_000 })
      .toMatchObject({
        kind: 'Deployment',
        metadata: { name: 'deployment-0010', namespace: 'kube-system' },
      });
    await screenshot(page, 'etcd-ssh-in-place');

    // Copy out through sudo (no second prompt): the copy opens as an etcd report with the same verdict.
    await page.getByTestId('nav-ssh').click();
    await page.getByTestId('pane-datadir').click();
    await page.getByTestId('datadir-copy').click();
    const copy = page.getByTestId('copyout-panel');
    await copy.waitFor();
    await copy.getByTestId('copyout-start').click();
    await expect.poll(async () => (await page.getByTestId('ssh-workspace').isVisible()) === false, { timeout: 90_000 }).toBe(true);
    await verdict.waitFor({ timeout: 60_000 });
    expect(await verdict.getAttribute('data-verdict')).toBe(expectedVerdict);
    expect(await page.getByTestId('report').getAttribute('data-engine')).toBe('etcd');
    expect(await page.getByTestId('prompt-input-0').count()).toBe(0);
    await page.getByTestId('page-map').waitFor({ timeout: 30_000 });
    // The copy followed the link: its WAL is a plain folder, so there is no link to tell of.
    expect(await page.getByTestId('findings').locator('[data-code="layout.link"]').count()).toBe(0);
    expect(await page.locator('body').innerText()).not.toContain(sshd.password);
  });
});
