/**
 * The node card of a k3s server with embedded etcd in Chromium (web mode, a realistic node over SSH,
 * test/helpers/k3s-node.ts): k3s's own snapshots found with no backup job, the good ones (a zip among them, read
 * through unzip) told from the damaged one, and k3s's reset to restore the newest good one with, ready to copy, in
 * English and in Chinese (screenshots); then from the card to its data dir and to a backup, each validated in place
 * through sudo.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireEtcd, tempDir } from '../helpers/etcd';
import { DAMAGED, GOOD, k3sNodeFixture, ZIPPED } from '../helpers/k3s-node';
import { startRealisticNode, realisticNodesAvailable } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';
import { chromiumAvailable, ensureRendererBuilt, openAppOnSsh, screenshot, sshAppPaths, startWebApp } from './helpers';

const RUN = chromiumAvailable() && sshdAvailable() && realisticNodesAvailable() && requireEtcd();

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe.runIf(RUN)('the node card of a k3s server (Chromium, realistic node)', () => {
  it("shows k3s's own snapshots and its reset, in English and Chinese", async () => {
    await ensureRendererBuilt();
    const tmp = await tempDir('e2e-k3s');
    cleanups.push(() => fs.rm(tmp, { recursive: true, force: true }));
    await fs.chmod(tmp, 0o755);
    const node = await startRealisticNode((await k3sNodeFixture(tmp)).spec);
    cleanups.push(() => node.stop());
    const app = await startWebApp(await sshAppPaths(tmp, node.sshd, { home: path.join(tmp, 'home') }));
    cleanups.push(() => app.close());
    const page = await openAppOnSsh(app, node.sshd);
    await page.getByTestId('pane-guided').click();
    await page.getByTestId('guided-detect').click();
    const card = page.getByTestId('node-card');
    await card.waitFor({ timeout: 60_000 });
    expect(await card.locator('h3').innerText()).toMatch(/^etcd managed by k3s · not running$/);
    // Newest first: the zip (read through unzip: good, and k3s takes it as it is), the damaged one, the good one.
    const rows = card.getByTestId('backup-row');
    expect(await rows.getByTestId('backup-path').allInnerTexts()).toEqual([ZIPPED, DAMAGED, GOOD]);
    expect(await rows.locator('td.state').allInnerTexts()).toEqual(['restores as it is (k3s unpacks its zip itself)', 'does not restore', 'restores']);
    expect(await rows.nth(0).getByTestId('backup-problem').count()).toBe(0);
    expect(await rows.nth(1).getByTestId('backup-problem').innerText()).toMatch(/^SHA-256 mismatch/);
    expect(await card.getByTestId('newest-good').innerText()).toContain(ZIPPED);
    // Nothing to unpack first: k3s restores the zip itself.
    expect(await card.getByTestId('newer-compressed').count()).toBe(0);
    const restore = card.getByTestId('distribution-restore');
    expect(await restore.locator('p').innerText()).toBe(
      'k3s restores its own snapshots, not etcdctl: with k3s stopped, its reset moves the old etcd dir aside to etcd-old-<time>, starts a one-member cluster from the snapshot and exits; then k3s is started as usual. ' +
        `With several servers, stop k3s on the others first and move their /var/lib/rancher/k3s/server/db aside before they join again. The commands for this node, from ${ZIPPED}:`,
    );
    expect(await restore.locator('pre').innerText()).toBe(
      `systemctl stop k3s\n/usr/local/bin/k3s server --cluster-init --cluster-reset --cluster-reset-restore-path=${ZIPPED}\nsystemctl start k3s`,
    );
    // No playbook is written for k3s: none is suggested (they stay under the other playbooks).
    expect(await page.getByRole('heading', { name: 'Suggested for what was found' }).count()).toBe(0);
    await restore.scrollIntoViewIfNeeded();
    await screenshot(page, 'guided-k3s-card', false);

    await page.getByTestId('language-button').click();
    await restore.getByText('k3s 用自己的方式恢复自己的快照，而不是用 etcdctl').waitFor();
    expect(await card.locator('h3').innerText()).toMatch(/^etcd，由 k3s 管理/);
    expect(await rows.locator('td.state').allInnerTexts()).toEqual(['可直接恢复（k3s 会自行解压该 zip）', '无法恢复', '可恢复']);
    // The commands are the same in every language.
    expect(await restore.locator('pre').innerText()).toContain(`--cluster-reset-restore-path=${ZIPPED}`);
    await screenshot(page, 'guided-k3s-card-zh', false);

    // From the card to the data dir: the Data directory panel opens at the dir detection found, through sudo as the
    // card was read, and validates it in place (k3s's etcd dir is root's).
    await page.getByTestId('language-button').click();
    await card.getByTestId('card-open-datadir').click();
    await page.getByTestId('datadir-panel').waitFor();
    expect(await page.getByTestId('datadir-path').inputValue()).toBe('/var/lib/rancher/k3s/server/db/etcd');
    expect(await page.getByTestId('datadir-sudo').isChecked()).toBe(true);
    await page.getByTestId('datadir-validate').click();
    const verdict = page.getByTestId('verdict');
    await verdict.waitFor({ timeout: 90_000 });
    expect(await page.getByTestId('report').getAttribute('data-engine')).toBe('etcd');
    expect(await verdict.getAttribute('data-verdict')).toBe('healthy');
    expect(await verdict.innerText()).toContain('/var/lib/rancher/k3s/server/db/etcd');

    // A backup checked whole where it lies (the card checked its trailer and hash): the scheduled good one is a
    // sound snapshot.db; a compressed one has no such button (it is no db until unpacked).
    await page.getByTestId('nav-ssh').click();
    await page.getByTestId('pane-guided').click();
    expect(await rows.nth(0).getByTestId('backup-check').count()).toBe(0);
    await rows.nth(2).getByTestId('backup-check').click();
    await page.getByTestId('datadir-panel').waitFor();
    expect(await page.getByTestId('datadir-path').inputValue()).toBe(GOOD);
    await page.getByTestId('datadir-validate').click();
    await expect.poll(async () => (await page.getByTestId('verdict').innerText()).includes(GOOD), { timeout: 90_000 }).toBe(true);
    expect(await page.getByTestId('report').getAttribute('data-engine')).toBe('etcd');
    expect(await page.getByTestId('verdict').getAttribute('data-verdict')).toBe('healthy');
    // k3s's bootstrap data is in it: restored with k3s's reset from where it lies, not with an etcdctl plan.
    const restoreHere = page.getByTestId('etcd-opened-restore');
    expect(await restoreHere.getAttribute('data-kind')).toBe('distribution');
    expect(await restoreHere.innerText()).toContain(`k3s server --cluster-reset --cluster-reset-restore-path=${GOOD}`);
    expect(await restoreHere.locator('pre').count()).toBe(0);
    await screenshot(page, 'guided-k3s-backup-in-place', false);
    await page.getByTestId('language-button').click();
    await restoreHere.getByText('它是 k3s 或 RKE2 服务器的快照').waitFor();
    expect(await restoreHere.innerText()).toContain(`k3s server --cluster-reset --cluster-reset-restore-path=${GOOD}`);
    await screenshot(page, 'guided-k3s-backup-in-place-zh', false);
    await page.getByTestId('language-button').click();

    // Salvaged to a snapshot.db here, the next step is k3s's reset too, not the etcdctl steps.
    await page.getByTestId('etcd-repair-open').click();
    await page.getByTestId('etcd-repair-start').click();
    await page.getByTestId('etcd-repair-result').waitFor({ timeout: 90_000 });
    const next = page.getByTestId('etcd-repair-next-distribution');
    expect(await next.innerText()).toContain('k3s server --cluster-reset --cluster-reset-restore-path=/var/tmp/');
    expect(await page.getByTestId('etcd-repair-result').locator('pre').count()).toBe(0);
    await page.getByTestId('language-button').click();
    await next.getByText('该 db 属于 k3s 或 RKE2 服务器').waitFor();
    await next.scrollIntoViewIfNeeded();
    await screenshot(page, 'guided-k3s-salvage-next-zh', false);
  }, 300_000);
});
