/**
 * The node card's warnings in Chromium (web mode, realistic nodes over SSH), above the datastores, in English and
 * in Chinese (screenshots), before any playbook is started: etcd set up twice on the node (a systemd unit and a
 * kubeadm static pod over one data dir), and an etcd that runs as its own user over a data dir root partly owns
 * (with the command that gives it back, ready to copy).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGolden, requireEtcd, tempDir } from '../helpers/etcd';
import { startRealisticNode, realisticNodesAvailable, type RealisticNode } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';
import { kubekeyEtcdFiles, SYSTEMD_ETCD_UNIT, twoEtcdFiles } from '../helpers/guided-node';
import { chromiumAvailable, ensureRendererBuilt, openAppOnSsh, screenshot, sshAppPaths, startWebApp, type WebApp } from './helpers';

const RUN = chromiumAvailable() && sshdAvailable() && realisticNodesAvailable();

describe.runIf(RUN)('the node card warns of etcd set up twice (Chromium, realistic node)', () => {
  let tmp: string;
  let node: RealisticNode;
  let app: WebApp;

  beforeAll(async () => {
    await ensureRendererBuilt();
    tmp = await tempDir('e2e-two-etcd');
    await fs.chmod(tmp, 0o755);
    node = await startRealisticNode({ files: twoEtcdFiles() });
    app = await startWebApp(await sshAppPaths(tmp, node.sshd, { home: path.join(tmp, 'home') }));
  }, 300_000);

  afterAll(async () => {
    await app?.close();
    await node?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('says it above the datastores, in English and Chinese', async () => {
    const page = await openAppOnSsh(app, node.sshd);
    await page.getByTestId('pane-guided').click();
    await page.getByTestId('guided-detect').click();
    const warning = page.getByTestId('card-warning');
    await warning.waitFor({ timeout: 60_000 });
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
  });
});

describe.runIf(RUN && requireEtcd())('the node card warns of a data dir etcd’s user may not open (Chromium, realistic node)', () => {
  let tmp: string;
  let node: RealisticNode;
  let app: WebApp;

  beforeAll(async () => {
    await ensureRendererBuilt();
    tmp = await tempDir('e2e-owner');
    await fs.chmod(tmp, 0o755);
    const g = await makeGolden(path.join(tmp, 'etcd'), { keys: 5 });
    const files = kubekeyEtcdFiles(g.endpoint);
    files['/etc/systemd/system/etcd.service'] = SYSTEMD_ETCD_UNIT.replace('User=root', 'User=etcd');
    node = await startRealisticNode({ files, copies: { '/var/lib/etcd': g.dir } });
    // What `etcdctl snapshot restore` run with sudo leaves: the member directory is root's.
    const r = await node.exec('chown -R etcd:etcd /var/lib/etcd && chown -R root:root /var/lib/etcd/member');
    expect(r.code, r.stderr).toBe(0);
    app = await startWebApp(await sshAppPaths(tmp, node.sshd, { home: path.join(tmp, 'home') }));
  }, 300_000);

  afterAll(async () => {
    await app?.close();
    await node?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('names the paths and their owner, and gives the chown to copy, in English and Chinese', async () => {
    const page = await openAppOnSsh(app, node.sshd);
    await page.getByTestId('pane-guided').click();
    await page.getByTestId('guided-detect').click();
    const warning = page.getByTestId('card-warning');
    await warning.waitFor({ timeout: 60_000 });
    const text = await warning.innerText();
    expect(text).toMatch(
      /^etcd\.service runs etcd as etcd, but \d+ path\(s\) in its data directory belong to another user: \/var\/lib\/etcd\/member \(root\), /,
    );
    expect(await warning.locator('pre, code').first().innerText()).toBe('chown -R etcd: /var/lib/etcd');
    await screenshot(page, 'guided-owner-warning', false);
    await page.getByTestId('language-button').click();
    await warning.getByText('etcd.service 以 etcd 身份运行 etcd').waitFor();
    expect(await warning.innerText()).toContain('请在 etcd 启动之前用下面的命令把它们交还。');
    await screenshot(page, 'guided-owner-warning-zh', false);
  });
});
