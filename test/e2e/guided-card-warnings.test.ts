/**
 * The node card's warnings in Chromium (web mode, realistic nodes over SSH), above the datastores, in English and
 * in Chinese (screenshots), before any playbook is started: etcd set up twice on the node (a systemd unit and a
 * kubeadm static pod over one data dir), and an etcd that runs as its own user over a data dir root partly owns
 * (with the command that gives it back, ready to copy).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { makeGolden, requireEtcd, tempDir } from '../helpers/etcd';
import { startRealisticNode, realisticNodesAvailable, type RealisticNode, type RealisticNodeSpec } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';
import { kubekeyEtcdFiles, SYSTEMD_ETCD_UNIT, twoEtcdFiles } from '../helpers/guided-node';
import { chromiumAvailable, ensureRendererBuilt, openAppOnSsh, screenshot, sshAppPaths, startWebApp, type WebApp } from './helpers';

const RUN = chromiumAvailable() && sshdAvailable() && realisticNodesAvailable();

/** What each test stood up, taken down after all of them. */
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A realistic node from `spec` (made in a temp dir of its own), prepared by `prepare`, the web app on it, and the node card's warning once detected. */
async function detectedWarning(
  name: string,
  spec: (tmp: string) => Promise<RealisticNodeSpec>,
  prepare?: (node: RealisticNode) => Promise<void>,
): Promise<{ page: Page; warning: Locator }> {
  await ensureRendererBuilt();
  const tmp = await tempDir(name);
  cleanups.push(() => fs.rm(tmp, { recursive: true, force: true }));
  await fs.chmod(tmp, 0o755);
  const node = await startRealisticNode(await spec(tmp));
  cleanups.push(() => node.stop());
  await prepare?.(node);
  const app: WebApp = await startWebApp(await sshAppPaths(tmp, node.sshd, { home: path.join(tmp, 'home') }));
  cleanups.push(() => app.close());
  const page = await openAppOnSsh(app, node.sshd);
  await page.getByTestId('pane-guided').click();
  await page.getByTestId('guided-detect').click();
  const warning = page.getByTestId('card-warning');
  await warning.waitFor({ timeout: 60_000 });
  return { page, warning };
}

describe.runIf(RUN)('the node card warns before any step (Chromium, realistic nodes)', () => {
  it('of etcd set up twice: above the datastores, in English and Chinese', async () => {
    const { page, warning } = await detectedWarning('e2e-two-etcd', async () => ({ files: twoEtcdFiles() }));
    expect(await page.getByTestId('node-card').count()).toBe(2);
    expect(await warning.innerText()).toMatch(
      /^etcd is set up twice on this node over one data dir, \/var\/lib\/etcd: the systemd unit etcd\.service and the static pod \/etc\/kubernetes\/manifests\/etcd\.yaml\./,
    );
    // Each card says what runs it in words, not the detector's token ("static-pod").
    expect(await page.getByTestId('node-card').nth(1).locator('h3').innerText()).toMatch(/^etcd managed by a kubeadm static pod/);
    // Above the first datastore's card.
    const [warnY, cardY] = await Promise.all([warning.boundingBox(), page.getByTestId('node-card').first().boundingBox()]);
    expect(warnY!.y).toBeLessThan(cardY!.y);
    await page.getByTestId('language-button').click();
    await warning.getByText('此节点上 etcd 在同一个数据目录 /var/lib/etcd 上被配置了两次').waitFor();
    expect(await page.getByTestId('node-card').nth(1).locator('h3').innerText()).toMatch(/^etcd，由 kubeadm 静态 Pod 管理/);
    await screenshot(page, 'guided-two-etcd-zh', false);
  }, 300_000);

  it.runIf(requireEtcd())(
    'of a data dir etcd’s user may not open: the paths, their owner and the chown to copy, in English and Chinese',
    async () => {
      const { page, warning } = await detectedWarning(
        'e2e-owner',
        async (tmp) => {
          const g = await makeGolden(path.join(tmp, 'etcd'), { keys: 5 });
          const files = kubekeyEtcdFiles(g.endpoint);
          files['/etc/systemd/system/etcd.service'] = SYSTEMD_ETCD_UNIT.replace('User=root', 'User=etcd');
          return { files, copies: { '/var/lib/etcd': g.dir } };
        },
        async (node) => {
          // What `etcdctl snapshot restore` run with sudo leaves: the member directory is root's.
          const r = await node.exec('chown -R etcd:etcd /var/lib/etcd && chown -R root:root /var/lib/etcd/member');
          expect(r.code, r.stderr).toBe(0);
        },
      );
      expect(await warning.innerText()).toMatch(
        /^etcd\.service runs etcd as etcd, but \d+ path\(s\) in its data directory belong to another user: \/var\/lib\/etcd\/member \(root\), /,
      );
      expect(await warning.locator('pre, code').first().innerText()).toBe('chown -R etcd: /var/lib/etcd');
      await screenshot(page, 'guided-owner-warning', false);
      await page.getByTestId('language-button').click();
      await warning.getByText('etcd.service 以 etcd 身份运行 etcd').waitFor();
      expect(await warning.innerText()).toContain('请在 etcd 启动之前用下面的命令把它们交还。');
      await screenshot(page, 'guided-owner-warning-zh', false);
    },
    300_000,
  );
});
