/**
 * "Reading the node" in Chromium against web mode and a real sshd serving a
 * real dqlite data directory (dqlite-demo, SIGKILLed, one byte flipped):
 * connect; Look shows the exact `ls` first, runs it and draws the segments on
 * the map; the session log has the command as sent; Validate in place gives
 * the verdict local validation gives; a root-only directory is refused with a
 * clear message; Copy out shows its commands, its progress, and the copy's
 * report opens by itself, every SHA-256 matching.
 *
 * Every path the back end writes points into a temp dir (LIFEBOAT_*).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verdictOf } from '../../renderer/src/features/validation/verdict';
import { lookCommand } from '../../renderer/src/features/node/commands';
import { hashTree } from '../cli/fixtures';
import { requireDqliteDemo } from '../helpers/dqlite-demo';
import { goldenKilled } from '../helpers/dqlite-goldens';
import { makeTempDir, sshdAvailable, startSshd, type SshdInstance } from '../helpers/sshd';
import { copyDamaged, validateLocally } from '../helpers/ssh-node';
import { chromiumAvailable, ensureRendererBuilt, openAppOnSsh, screenshot, sshAppPaths, startWebApp, type WebApp } from './helpers';

const canRun = chromiumAvailable() && sshdAvailable() && requireDqliteDemo();

let tmp: string;
let sshd: SshdInstance;
let app: WebApp;
let served: string;
let rootOnly: string;
let copies: string;
let servedBefore: Record<string, string>;
let expectedVerdict: string;
let segmentFiles: string[];

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  const golden = await goldenKilled();
  [sshd, tmp] = await Promise.all([startSshd(), makeTempDir('lifeboat-e2e-node-')]);
  served = path.join(tmp, 'node', 'k8s-dqlite');
  await copyDamaged(golden.dataDir, served);
  for (const d of [tmp, path.dirname(served), served]) await fs.chmod(d, 0o755);
  for (const n of await fs.readdir(served)) await fs.chmod(path.join(served, n), 0o644);
  segmentFiles = (await fs.readdir(served)).filter((n) => /^(\d{16}-\d{16}|open-\d+)$/.test(n));
  servedBefore = await hashTree(served);
  // Root-only, as MicroK8s's backend usually is for a login user.
  rootOnly = path.join(tmp, 'node', 'root-only');
  await fs.cp(served, rootOnly, { recursive: true });
  await fs.chmod(rootOnly, 0o700);

  expectedVerdict = verdictOf(await validateLocally(served)).kind;

  const paths = await sshAppPaths(tmp, sshd);
  copies = paths.copies;
  app = await startWebApp(paths);
}, 300_000);

afterAll(async () => {
  await app?.close();
  await sshd?.stop();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!canRun)('reading the node in Chromium (web mode, real sshd, real dqlite dir)', () => {
  it('Look draws the map, Validate in place gives the verdict, Copy out opens the copy’s report by itself', async () => {
    const page = await openAppOnSsh(app, sshd);
    await page.getByTestId('ssh-open-datadir').click();
    const panel = page.getByTestId('datadir-panel');
    await panel.waitFor();

    // Browse: the node's tree over SFTP, opened one level up, leads into the data directory.
    await page.getByTestId('datadir-path').fill(path.dirname(served));
    await page.getByTestId('datadir-browse').click();
    const picker = page.getByTestId('remote-picker');
    await picker.waitFor({ timeout: 20_000 });
    expect(await picker.getAttribute('data-dir')).toBe(path.dirname(served));
    await picker.locator('[data-testid="remote-picker-entry"][data-name="k8s-dqlite"]').click();
    await expect.poll(() => picker.getAttribute('data-dir')).toBe(served);
    // Every file of the directory is listed (all are plain files here), segments among them.
    expect(await picker.getByTestId('remote-picker-file').count()).toBe(Object.keys(servedBefore).length);
    expect(await picker.locator(`[data-testid="remote-picker-file"][data-name="${segmentFiles[0]}"]`).count()).toBe(1);
    await picker.getByTestId('remote-picker-use').click();
    await picker.waitFor({ state: 'detached' });
    expect(await page.getByTestId('datadir-path').inputValue()).toBe(served);

    // The exact command is on screen before anything runs.
    await page.getByTestId('datadir-path').fill(served);
    const shown = await page.getByTestId('datadir-command').locator('pre').innerText();
    expect(shown).toBe(lookCommand(served));
    await page.getByTestId('datadir-look').click();
    const listing = page.getByTestId('datadir-listing');
    await listing.waitFor({ timeout: 20_000 });
    expect(Number(await listing.getAttribute('data-segments'))).toBe(segmentFiles.length);
    await page.getByTestId('segment-map').waitFor();
    expect(await page.getByTestId('map-summary').innerText()).toMatch(/\d/);
    await screenshot(page, 'ssh-node-look', false);

    // The session log has it as sent, and its exit code.
    await page.getByTestId('pane-log').click();
    const entry = page.getByTestId('session-log-entry').filter({ hasText: shown }).first();
    await entry.waitFor();
    expect(await entry.getByTestId('session-log-text').innerText()).toBe(shown);
    await expect.poll(() => entry.getByTestId('session-log-code').innerText()).toBe('exit 0');
    await page.getByTestId('pane-datadir').click();

    // A root-only directory: refused with the reason and what to do.
    await page.getByTestId('datadir-path').fill(rootOnly);
    await page.getByTestId('datadir-validate').click();
    const refused = page.getByTestId('datadir-validate-error');
    await refused.waitFor({ timeout: 20_000 });
    expect(await refused.innerText()).toContain(`permission denied: ${sshd.user} cannot read ${rootOnly}`);
    expect(await refused.innerText()).toMatch(/SFTP runs as the login user/);
    await screenshot(page, 'ssh-node-permission', false);

    // Validate in place: the report replaces the workspace, with local validation's verdict.
    await page.getByTestId('datadir-path').fill(served);
    await page.getByTestId('datadir-validate').click();
    const verdict = page.getByTestId('verdict');
    await verdict.waitFor({ timeout: 90_000 });
    expect(await verdict.getAttribute('data-verdict')).toBe(expectedVerdict);
    expect(await page.getByTestId('report').getAttribute('data-engine')).toBe('dqlite');
    expect(await verdict.innerText()).toContain(`${sshd.user}@127.0.0.1:${served}`);
    // The plan's commands name the directory that was validated, not the MicroK8s default.
    // (copyDamaged damages the copy, so there is a plan.)
    const plan = page.getByTestId('repair-plan');
    expect(await plan.locator('pre code').count()).toBeGreaterThan(0);
    expect(await plan.getByTestId('repair-backend').innerText()).toContain(served);
    const commands = (await plan.locator('pre code').allInnerTexts()).join('\n');
    expect(commands).toContain(`sudo tar -C ${path.dirname(served)} `);
    expect(commands).not.toContain('/var/snap/microk8s');
    await screenshot(page, 'ssh-node-validate-in-place');

    // Copy out: destination under the copies root (web mode), the node-side command shown first.
    await page.getByTestId('nav-ssh').click();
    await page.getByTestId('datadir-copy').click();
    const copy = page.getByTestId('copyout-panel');
    await copy.waitFor();
    expect(await copy.getByTestId('copyout-commands').innerText()).toBe(
      `cd '${served}' && if command -v openssl >/dev/null 2>&1; then xargs -0 openssl dgst -sha256 -r --; else xargs -0 sha256sum -z --; fi\n` +
        `date +%s.%N && find -L '${served}' -printf '%y\\0%s\\0%T@\\0%C@\\0%P\\0'\n` +
        `echo lifeboat-exec-ok\ncat -- '${served}/<file>' …\ntail -c +<N> -- '${served}/<file>'`,
    );
    const dest = await copy.getByTestId('copyout-dest').innerText();
    expect(path.dirname(dest)).toBe(copies);
    expect(await copy.getByTestId('copyout-dest-input').count()).toBe(0);
    await copy.getByTestId('copyout-start').click();
    // The progress bar is there from the click on; its text says how far (a small directory that has
    // been still for 1.5 s is copied without waiting: the report may open before a poll reads it).
    await copy.getByTestId('copyout-progress').waitFor({ timeout: 10_000 });
    await screenshot(page, 'ssh-node-copy-progress', false);
    const progressText = copy.getByTestId('copyout-progress-text');
    await expect
      .poll(
        async () =>
          (await page.getByTestId('ssh-workspace').isVisible()) === false || / of /.test(await progressText.innerText({ timeout: 500 }).catch(() => '')),
      )
      .toBe(true);

    // Done: the copy's report opens by itself.
    await expect.poll(async () => (await page.getByTestId('ssh-workspace').isVisible()) === false, { timeout: 90_000 }).toBe(true);
    await verdict.waitFor({ timeout: 60_000 });
    expect(await verdict.getAttribute('data-verdict')).toBe(expectedVerdict);
    expect(await verdict.innerText()).toContain('k8s-dqlite');
    // A copy's plan names the node directory it came from.
    expect(await plan.getByTestId('repair-backend').innerText()).toContain(`${served}, the node directory this copy came from`);
    expect((await plan.locator('pre code').allInnerTexts()).join('\n')).not.toContain('/var/snap/microk8s');
    await screenshot(page, 'ssh-node-copy-report');
    expect(await hashTree(path.join(dest, 'k8s-dqlite')).then((t) => Object.keys(t).sort())).toEqual(Object.keys(servedBefore).sort());

    // Back in the workspace: the manifest comparison, file by file.
    await page.getByTestId('nav-ssh').click();
    const result = copy.getByTestId('copyout-result');
    await result.waitFor();
    expect(await result.getAttribute('data-all-match')).toBe('true');
    expect(await copy.getByTestId('copyout-manifest').locator('tbody tr').count()).toBeGreaterThan(0);
    await screenshot(page, 'ssh-node-copy-done', false);

    // The node's files were only read.
    expect(await hashTree(served)).toEqual(servedBefore);
    expect(app.pages.at(-1)!.errors).toEqual([]);
  }, 300_000);
});
