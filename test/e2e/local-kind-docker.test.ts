/**
 * Field report 3 as it most often happens: kind runs on the operator's own
 * laptop, which runs no sshd. Lifeboat (`lifeboat serve`, the CLI bundle)
 * runs ON the kind Docker host (a realistic node: its own /etc, /var and
 * /usr/local, a real Docker daemon with kind-shaped containers after
 * Docker's restart, test/helpers/kind-docker-host.ts), and the operator
 * picks "This machine": a terminal there, the node card of the Docker host
 * with the control plane's etcd at its old address, and the kind playbook's
 * first step run inside the container, with no SSH server involved, in
 * English and Chinese (screenshots).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireEtcd } from '../helpers/etcd';
import { dockerAvailable } from '../helpers/dockerd';
import { startKindDockerHost, type KindDockerHost } from '../helpers/kind-docker-host';
import { realisticNodesAvailable } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';
import { REPO } from '../cli/fixtures';
import { chromiumAvailable, detectKindDockerHost, ensureRendererBuilt, launchChromium, openPage, screenshot, type WatchedPage } from './helpers';

const RUN = chromiumAvailable() && requireEtcd() && sshdAvailable() && realisticNodesAvailable() && dockerAvailable();

/** `lifeboat serve` started inside the Docker host's mount namespace; resolves with the URL it prints. */
async function serveOnHost(kind: KindDockerHost, home: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    'nsenter',
    ['--target', String(kind.host.sshd.pid), '--mount', '--', process.execPath, path.join(REPO, 'bin', 'lifeboat.cjs'), 'serve', '--this-machine'],
    {
      env: { ...process.env, LIFEBOAT_HOME: home, HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lifeboat serve printed no URL: ${out}`)), 60_000);
    const take = (d: Buffer) => {
      out += d.toString();
      const m = /Lifeboat web UI: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.once('exit', (code) => reject(new Error(`lifeboat serve exited ${code}: ${out}`)));
  });
  return { child, url };
}

describe.runIf(RUN)('This machine: Lifeboat on the kind Docker host itself (Chromium, real dockerd, no sshd used)', () => {
  let kind: KindDockerHost;
  let server: ChildProcess | undefined;
  let url: string;
  let browser: Browser;
  let watched: WatchedPage | undefined;

  beforeAll(async () => {
    await ensureRendererBuilt();
    kind = await startKindDockerHost('172.27.0.0/16');
    const home = path.join(kind.tmp, 'home');
    await fs.mkdir(home, { recursive: true });
    ({ child: server, url } = await serveOnHost(kind, home));
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await watched?.context.close().catch(() => undefined);
    await browser?.close();
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server!.once('exit', r));
    }
    await kind?.stop();
  });

  it('opens a terminal there, reads the Docker host’s card and runs the kind playbook’s first step inside the container', async () => {
    watched = await openPage(browser, url, { colorScheme: 'dark' });
    const page: Page = watched.page;
    await page.getByTestId('nav-ssh').click();
    await page.getByTestId('ssh-workspace').waitFor();
    expect(await page.getByTestId('ssh-connect-local').locator('..').innerText()).toContain('a kind cluster’s Docker host is usually this machine');
    await page.getByTestId('language-button').click();
    expect(await page.getByTestId('ssh-local').innerText()).toBe(
      '本机\n在运行 Lifeboat 的这台机器上，以它的用户身份使用终端、检测和引导会话，无需 SSH：kind 集群的 Docker 主机通常就是本机。',
    );
    await screenshot(page, 'local-button-zh', false);
    await page.getByTestId('language-button').click();
    await page.getByTestId('ssh-connect-local').click();
    const node = page.getByTestId('ssh-node');
    await expect.poll(() => node.getAttribute('data-state'), { timeout: 20_000 }).toBe('ready');
    expect(await node.locator('.label').innerText()).toBe('This machine (root)');
    // Only one "This machine".
    expect(await page.getByTestId('ssh-connect-local').count()).toBe(0);

    // Its terminal opened by itself: a real shell here, which sees the Docker host's kind containers.
    await page.locator('[data-testid="terminal-pane"][data-status="live"]').waitFor({ timeout: 20_000 });
    const screen = page.locator('[data-testid="terminal-pane"]:visible .xterm-rows');
    await page.locator('[data-testid="terminal-pane"]:visible [data-testid="terminal-screen"]').click();
    await page.keyboard.type("docker ps --format 'ctr={{.Names}}' | sort; echo size=$(stty size)");
    await page.keyboard.press('Enter');
    await expect
      .poll(async () => (await screen.innerText()).replace(/\u00a0/g, ' '), { timeout: 20_000 })
      .toMatch(/ctr=kind-control-plane\s+ctr=kind-worker\s+size=\d+ \d+/);
    await screenshot(page, 'local-terminal', false);

    const section = await detectKindDockerHost(page, kind);
    const kindNode = section.getByTestId('kind-node');
    const check = kindNode.getByTestId('kind-peer-check');
    expect(await check.locator('li.bad').first().innerText()).toBe(`http://${kind.oldIp}:2380 · NOT the container’s (--initial-advertise-peer-urls)`);
    await section.scrollIntoViewIfNeeded();
    await screenshot(page, 'local-kind-docker-host', false);

    // Inside the control plane, and the kind playbook's first step run there.
    await kindNode.getByTestId('kind-detect').click();
    const inside = kindNode.getByTestId('kind-inside');
    await inside.waitFor({ timeout: 90_000 });
    expect(await inside.getByTestId('peer-verdict').innerText()).toMatch(/^kind after a Docker restart/);
    await inside.getByTestId('kind-start-kind-addresses').click();
    const checklist = page.getByTestId('checklist');
    await checklist.waitFor();
    expect(await checklist.locator('h2').first().innerText()).toContain('root@localhost › docker:kind-control-plane');
    const first = checklist.getByTestId('step-addresses');
    await first.getByTestId('run-step').click();
    await expect.poll(() => first.getByTestId('step-status').innerText(), { timeout: 60_000 }).toBe('passed');

    // Chinese: the button, the connection's name, and the checklist.
    await page.getByTestId('language-button').click();
    await checklist.getByTestId('step-evidence').getByText('将原样执行（在容器 kind-control-plane 内，通过 docker exec；在容器内以 root 身份）：').waitFor();
    await screenshot(page, 'local-kind-session-zh', false);
    expect(await node.locator('.label').innerText()).toBe('本机（root）');

    // The session log: the step as sent on this machine, through docker exec with no sudo (the app's user is root here).
    await page.getByTestId('pane-log').click();
    const sent = await page.getByTestId('session-log-text').allInnerTexts();
    const step = sent.filter((x) => x.includes('echo "== addresses on this node now"'));
    expect(step).toHaveLength(1);
    expect(step[0]).toMatch(
      /^docker exec kind-control-plane sh -c 'env LIFEBOAT_RUN=lb-[0-9a-f]{16} sh -c '\\''echo "== addresses on this node now"; ip -o addr;/,
    );
    // Interfaces changing in this network namespace (the kind bridge and veths made just before settle their addresses
    // seconds later; the Docker tests beside this one add and remove theirs) make Chromium cancel the loads in flight
    // with ERR_NETWORK_CHANGED. Everything else the page logs as an error is one.
    const errors = watched.errors.filter((e) => !e.includes('net::ERR_NETWORK_CHANGED'));
    expect(errors, errors.join('\n')).toEqual([]);
  }, 300_000);

  it('the CLI there: lifeboat detect --this-machine lists the node containers, and --container reads etcd inside one', async () => {
    const cli = (args: string[]) =>
      spawnSync(
        'nsenter',
        ['--target', String(kind.host.sshd.pid), '--mount', '--', process.execPath, path.join(REPO, 'bin', 'lifeboat.cjs'), 'detect', ...args],
        {
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
    const host = cli(['--this-machine']);
    expect(host.status, host.stderr).toBe(0);
    expect(host.stdout).toContain(`kind node kind-control-plane (cluster kind, control-plane, running): ${kind.newIp} on kind`);
    expect(host.stdout).toContain(`NOT HERE http://${kind.oldIp}:2380  (--initial-advertise-peer-urls)`);
    expect(host.stdout).toContain('detect inside one with --container kind-control-plane');
    // Each probe as run here: no ssh, no sudo for root.
    expect(host.stderr).toContain('$ docker ps -aq --filter label=io.x-k8s.kind.cluster\n');

    const inside = cli(['--this-machine', '--container', 'kind-control-plane']);
    expect(inside.status, inside.stderr).toBe(0);
    expect(inside.stdout).toContain('etcd managed by kind (kubeadm in a container)');
    expect(inside.stdout).toMatch(/^Node kind-control-plane \(root@localhost › docker:kind-control-plane\)/m);
    expect(inside.stderr).toContain(`$ docker exec kind-control-plane sh -c 'cat /etc/kubernetes/manifests/etcd.yaml'\n`);

    const both = cli(['--this-machine', 'root@node1']);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('--this-machine takes no host (got root@node1)');
  }, 300_000);
});
