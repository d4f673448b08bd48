/**
 * Field report 3 in Chromium (web mode), from the kind cluster's Docker host
 * over SSH after Docker restarted the node containers (a real Docker daemon,
 * test/helpers/kind-docker-host.ts): the node card says the machine itself
 * runs no etcd, lists the node containers at the addresses Docker gave them
 * now, shows the control plane's etcd registered at its old address (read
 * inside the container) and gives the shell command for the terminal beside,
 * in English and in Chinese (screenshots); looking inside the control plane
 * shows its etcd card, and the kind playbook started there runs its first
 * step inside the container (docker exec).
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireEtcd } from '../helpers/etcd';
import { dockerAvailable } from '../helpers/dockerd';
import { startKindDockerHost, type KindDockerHost } from '../helpers/kind-docker-host';
import { realisticNodesAvailable } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';
import { chromiumAvailable, detectKindDockerHost, ensureRendererBuilt, openAppOnSsh, screenshot, sshAppPaths, startWebApp, type WebApp } from './helpers';

const RUN = chromiumAvailable() && requireEtcd() && sshdAvailable() && realisticNodesAvailable() && dockerAvailable();

describe.runIf(RUN)('the node card of a kind Docker host after a Docker restart (Chromium, real dockerd)', () => {
  let kind: KindDockerHost;
  let app: WebApp;

  beforeAll(async () => {
    await ensureRendererBuilt();
    kind = await startKindDockerHost('172.30.0.0/16');
    app = await startWebApp(await sshAppPaths(kind.tmp, kind.host.sshd, { home: path.join(kind.tmp, 'home') }));
  }, 300_000);

  afterAll(async () => {
    await app?.close();
    await kind?.stop();
  });

  it('lists the node containers, the control plane’s etcd at its old address, and the shell to open, in English and Chinese', async () => {
    const page = await openAppOnSsh(app, kind.host.sshd);
    const section = await detectKindDockerHost(page, kind);
    const kindNode = section.getByTestId('kind-node');
    expect(await kindNode.count()).toBe(1);
    expect(await kindNode.locator('h4').first().innerText()).toBe('kind-control-plane');
    const check = kindNode.getByTestId('kind-peer-check');
    expect(await check.locator('h4').first().innerText()).toBe('Peer URLs against the container’s addresses');
    expect(await check.getByTestId('peer-verdict').innerText()).toBe(
      'kind after a Docker restart: etcd in this container is configured or registered at an address the container no longer has, so it cannot bind its peer URL or reach its peers, and has no leader.',
    );
    expect(await check.innerText()).toContain(`The container’s addresses now: ${kind.newIp}`);
    expect(await check.locator('li.bad').first().innerText()).toBe(`http://${kind.oldIp}:2380 · NOT the container’s (--initial-advertise-peer-urls)`);
    expect(await kindNode.locator('pre, code').last().innerText()).toBe('docker exec -it kind-control-plane bash');
    await section.scrollIntoViewIfNeeded();
    await screenshot(page, 'guided-kind-docker-host', false);

    await page.getByTestId('language-button').click();
    await section.getByText('此 Docker 主机上的 kind 节点容器').waitFor();
    expect(await page.getByText('本机本身没有运行 etcd 或 dqlite').innerText()).toBe(
      '本机本身没有运行 etcd 或 dqlite：它是 kind 集群 kind 的 Docker 主机，etcd 运行在下方的控制平面容器中。',
    );
    expect(await check.innerText()).toContain(`容器当前的地址：${kind.newIp}`);
    expect(await check.locator('li.bad').first().innerText()).toBe(`http://${kind.oldIp}:2380 · 不是容器的地址 (--initial-advertise-peer-urls)`);
    expect(await section.innerText()).toContain('kind 的节点容器不运行 SSH 服务');
    await section.scrollIntoViewIfNeeded();
    await screenshot(page, 'guided-kind-docker-host-zh', false);

    // Inside the control plane (docker exec): kind's etcd, and the kind playbook started there; its first step runs inside.
    await kindNode.getByTestId('kind-detect').click();
    const inside = kindNode.getByTestId('kind-inside');
    await inside.waitFor({ timeout: 90_000 });
    expect(await inside.getByTestId('node-card').locator('h3').innerText()).toMatch(/^etcd，由 kind/);
    expect(await inside.getByTestId('peer-verdict').innerText()).toMatch(/^Docker 重启后的 kind/);
    expect(await inside.innerText()).toContain(`节点当前地址：127.0.0.1, ${kind.newIp}`);
    await page.getByTestId('language-button').click();
    await inside.getByText('Runs inside kind-control-plane (docker exec)').first().waitFor();
    await inside.scrollIntoViewIfNeeded();
    await screenshot(page, 'guided-kind-inside', false);
    await inside.getByTestId('kind-start-kind-addresses').click();
    const checklist = page.getByTestId('checklist');
    await checklist.waitFor();
    expect(await checklist.locator('h2').first().innerText()).toContain(`› docker:kind-control-plane`);
    const first = checklist.getByTestId('step-addresses');
    expect(await first.locator('p.muted').filter({ hasText: 'Runs exactly this' }).innerText()).toBe(
      'Runs exactly this inside container kind-control-plane (docker exec; as root there):',
    );
    await first.getByTestId('run-step').click();
    await expect.poll(() => first.getByTestId('step-status').innerText(), { timeout: 60_000 }).toBe('passed');
    // The next step is current; the connection's session log shows the step as sent: through docker exec, tagged.
    expect(await checklist.getByTestId('step-evidence').getAttribute('class')).toContain('current');
    await screenshot(page, 'guided-kind-inside-session', false);
    // The same in Chinese: where the next step's command runs, and the inside card's playbooks.
    await page.getByTestId('language-button').click();
    const next = checklist.getByTestId('step-evidence');
    await next.getByText('将原样执行（在容器 kind-control-plane 内，通过 docker exec；在容器内以 root 身份）：').waitFor();
    await screenshot(page, 'guided-kind-inside-session-zh', false);
    await page.getByTestId('pane-guided').click();
    await inside.getByText('在 kind-control-plane 内运行（docker exec）').first().waitFor();
    await inside.scrollIntoViewIfNeeded();
    await screenshot(page, 'guided-kind-inside-zh', false);
    await page.getByTestId('pane-log').click();
    const sent = await page.getByTestId('session-log-text').allInnerTexts();
    const step = sent.filter((x) => x.includes('echo "== addresses on this node now"'));
    expect(step).toHaveLength(1);
    expect(step[0]).toMatch(/^sudo -n sh -c 'docker exec kind-control-plane sh -c '\\''env LIFEBOAT_RUN=lb-[0-9a-f]{16} sh -c /);
  }, 300_000);
});
