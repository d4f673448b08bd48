/**
 * The checklist in Chromium (web mode, a realistic node over SSH) when a step's command never answers: the node's
 * container runtime is wedged (its crictl never returns). While it runs, the step says so and offers "Stop the
 * command"; stopped, the command is ended on the node (root's, through sudo) and the step reads interrupted with
 * what was ended and what to look at, in English and Chinese, and can be run again or skipped.
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/etcd';
import { startRealisticNode, realisticNodesAvailable, type RealisticNode } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';
import { chromiumAvailable, ensureRendererBuilt, openAppOnSsh, screenshot, sshAppPaths, startWebApp, type WebApp } from './helpers';

const RUN = chromiumAvailable() && sshdAvailable() && realisticNodesAvailable();
/** How long the wedged crictl sleeps: a number of its own, so that this file ends only its own leftovers. */
const WEDGED_SECONDS = 3598;

describe.runIf(RUN)('a step whose command never answers can be stopped (Chromium, realistic node)', () => {
  let tmp: string;
  let node: RealisticNode;
  let app: WebApp;

  beforeAll(async () => {
    await ensureRendererBuilt();
    tmp = await tempDir('e2e-stop');
    await fs.chmod(tmp, 0o755);
    // Deaf to TERM too (SIG_IGN outlives exec), as a runtime client stuck in the kernel is: the stop needs its KILL.
    node = await startRealisticNode({
      files: { '/usr/local/bin/crictl': { content: `#!/bin/sh\ntrap '' TERM\nexec sleep ${WEDGED_SECONDS}\n`, mode: 0o755 } },
    });
    app = await startWebApp(await sshAppPaths(tmp, node.sshd, { home: path.join(tmp, 'home') }));
  }, 300_000);

  afterAll(async () => {
    await app?.close();
    await node?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
    // Only if the test failed before its stop ended them.
    spawnSync('pkill', ['-x', '-f', `sleep ${WEDGED_SECONDS}`]);
  });

  it('stops waiting at the operator’s word, says why in both languages, and goes on', async () => {
    const page = await openAppOnSsh(app, node.sshd);
    await page.getByTestId('pane-guided').click();
    await page.getByTestId('start-kubeadm-etcd-db').click();
    await page.getByTestId('checklist').waitFor();
    await page.getByTestId('step-overview').getByTestId('run-step').click();
    const step = page.getByTestId('step-pod-logs');
    await step.getByTestId('run-step').click();
    // It runs and does not end: the step says so, and Stop is there (and reachable by keyboard: a button).
    const stop = step.getByTestId('stop-command');
    await stop.waitFor({ timeout: 20_000 });
    expect(await stop.innerText()).toBe('Stop the command');
    expect(await step.getByTestId('step-status').innerText()).toBe('running');
    expect(await step.innerText()).toContain('Running on the node…');
    await screenshot(page, 'guided-running', false);
    await stop.focus();
    await page.keyboard.press('Enter');
    // While the node ends it (TERM, then KILL after 5 s for this one), the step says so instead of offering Stop again.
    await step.getByTestId('stopping').waitFor({ timeout: 5_000 });
    expect(await step.getByTestId('stopping').innerText()).toBe('Ending the command on the node (TERM, then KILL after 5 s)…');
    expect(await stop.count()).toBe(0);
    await expect.poll(() => step.getAttribute('data-status'), { timeout: 20_000 }).toBe('interrupted');
    expect(await step.getByTestId('step-reason').innerText()).toBe(
      'stopped by you: Lifeboat ended the command on the node (sh, sleep). It may have half-run: look at what it changed before you run it again or skip it',
    );
    // Ended on the node (one PID namespace: the node's processes are this machine's).
    expect(spawnSync('pgrep', ['-x', '-f', `sleep ${WEDGED_SECONDS}`]).status).toBe(1);
    expect(await step.getByRole('button', { name: 'Run it again' }).count()).toBe(1);
    expect(await step.getByTestId('step-output-label').innerText()).toBe('Output so far (no exit code: the command did not end while Lifeboat waited)');
    // It printed nothing before it was stopped: said so, not an empty block.
    expect(await step.getByTestId('step-no-output').innerText()).toBe('It printed nothing.');
    expect(await stop.count()).toBe(0);
    await page.getByTestId('language-button').click();
    await step.getByTestId('step-reason').getByText('已由你停止：Lifeboat 已在节点上结束该命令（sh, sleep）。', { exact: false }).waitFor();
    await screenshot(page, 'guided-stopped-zh', false);
    await page.getByTestId('language-button').click();
    // The session goes on: skipped with a reason, the next step is current.
    await step.getByTestId('skip').click();
    await step.getByTestId('skip-reason').fill('crictl hangs: containerd is wedged');
    await step.getByTestId('skip-submit').click();
    await expect.poll(() => step.getAttribute('data-status')).toBe('skipped');
    await expect.poll(() => page.getByTestId('step-copy-validate').getAttribute('class')).toContain('current');
  });
});
