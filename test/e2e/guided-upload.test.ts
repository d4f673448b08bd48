/**
 * The guided upload step in Chromium against web mode and a realistic node
 * (real sshd, real sudo): the kubeadm playbook's "salvaged" branch, walked at
 * the upload step with the keyboard. The picker lists the snapshot.db the
 * real CLI salvaged into the copies folder first (it restores; the damaged
 * files after it, saying why not). A large file shows the progress bar with
 * bytes, rate and time left, and its cancel leaves the destination untouched.
 * An existing destination is refused, in English then in Chinese; moved
 * away, the salvaged file goes up in Chinese, the recorded SHA-256 shows,
 * and the file on the node is byte-identical. The copies folder is hashed
 * before and after. Screenshots in both languages. The MicroK8s playbook's
 * fresh-backend branch on a node with the field report's backend: the copy
 * validated from the checklist is rebuilt from the upload step, its
 * backend.tar offered first (in Chinese too) and uploaded.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CLI, REPO } from '../cli/fixtures';
import { MICROK8S_BACKEND } from '../../shared/formats/dqlite/repair-plan';
import { dqliteRepairLost } from '../../shared/guided/variables';
import { validateDirectory } from '../../shared/validate';
import { localDirectory } from '../../electron/services/fs-source';
import { copyDir, hashTree, makeGolden, requireEtcd, tempDir } from '../helpers/etcd';
import { startRealisticNode, realisticNodesAvailable, type RealisticNode } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';
import { translate } from '../../shared/i18n';
import { chromiumAvailable, ensureRendererBuilt, openAppOnSsh, screenshot, sshAppPaths, startWebApp, type WebApp } from './helpers';

const RUN = chromiumAvailable() && sshdAvailable() && requireEtcd() && realisticNodesAvailable();
const BIG = 160 * 1024 * 1024;

/** The temp dirs the uploads recorded in the session journals under `dir` made on the node (`mktemp -d` output). */
async function uploadTempsOf(dir: string): Promise<string[]> {
  const temps: string[] = [];
  for (const name of await fs.readdir(dir)) {
    if (!name.endsWith('.jsonl')) continue;
    for (const line of (await fs.readFile(path.join(dir, name), 'utf8')).split('\n')) {
      if (!line.includes('mktemp -d /tmp/lifeboat-upload.')) continue;
      const e = JSON.parse(line) as { type: string; command?: string; stdout?: string };
      if (e.type === 'command-finished' && e.command?.startsWith('mktemp -d /tmp/lifeboat-upload.')) temps.push((e.stdout ?? '').trim());
    }
  }
  return temps;
}

describe.runIf(RUN)('guided upload step in Chromium (web mode, realistic node, keyboard, English and Chinese)', () => {
  let tmp: string;
  let node: RealisticNode;
  let app: WebApp;
  let copies: string;
  let salvaged: string;
  let big: string;
  let copiesBefore: string;
  let knownHosts: string;

  beforeAll(async () => {
    await ensureRendererBuilt();
    tmp = await tempDir('e2e-guided-upload');
    await fs.chmod(tmp, 0o755);
    const g = await makeGolden(path.join(tmp, 'etcd'), { keys: 100 });
    node = await startRealisticNode({});
    const paths = await sshAppPaths(tmp, node.sshd, { home: path.join(tmp, 'home') });
    knownHosts = paths.knownHosts;
    copies = paths.copies;
    await fs.mkdir(copies, { recursive: true });
    const copy = path.join(copies, 'etcd-copy');
    await copyDir(g.dir, copy);
    salvaged = path.join(copies, 'salvaged-snapshot.db');
    const cli = spawnSync(process.execPath, [CLI, 'salvage', copy, '--snapshot', salvaged, '--json'], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    await fs.copyFile(path.join(copy, 'member', 'snap', 'db'), path.join(copies, 'copied-member.db'));
    big = path.join(copies, 'large.db');
    await fs.writeFile(big, randomBytes(BIG));
    const t = Date.now() / 1000;
    await fs.utimes(salvaged, t - 600, t - 600);
    copies = await fs.realpath(copies);
    salvaged = path.join(copies, 'salvaged-snapshot.db');
    big = path.join(copies, 'large.db');
    copiesBefore = await hashTree(copies);
    app = await startWebApp(paths);
  }, 300_000);

  afterAll(async () => {
    await app?.close();
    await node?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  async function skipStep(page: Page, id: string): Promise<void> {
    const li = page.getByTestId(`step-${id}`);
    await li.getByTestId('skip').click();
    await li.getByTestId('skip-reason').fill('not part of the upload walk');
    await li.getByTestId('skip-submit').click();
    await expect.poll(() => li.getAttribute('data-status')).toBe('skipped');
  }

  const activeTestId = (page: Page): Promise<string | null> => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null);
  const checkedValue = (page: Page): Promise<string | null> =>
    page.evaluate(() => (document.querySelector('input[data-testid="upload-candidate"]:checked') as HTMLInputElement | null)?.value ?? null);

  /** Move the radio selection with the arrow keys until `file` is checked (the group wraps around). */
  async function pickWithArrows(page: Page, file: string): Promise<void> {
    await page.locator('input[data-testid="upload-candidate"]:checked').focus();
    for (let i = 0; i < 6 && (await checkedValue(page)) !== file; i++) await page.keyboard.press('ArrowDown');
    expect(await checkedValue(page)).toBe(file);
  }

  /** Tab from the picker to the upload button and press Enter. */
  async function tabToUploadAndEnter(page: Page): Promise<void> {
    for (let i = 0; i < 8 && (await activeTestId(page)) !== 'upload-run'; i++) await page.keyboard.press('Tab');
    expect(await activeTestId(page)).toBe('upload-run');
    await page.keyboard.press('Enter');
  }

  it('picks the salvaged file from the list, shows progress, cancels cleanly, refuses an existing file, and uploads byte-identical', async () => {
    const page = await openAppOnSsh(app, node.sshd);
    await page.getByTestId('pane-guided').click();
    await page.getByTestId('start-kubeadm-etcd-db').click();
    await page.getByTestId('checklist').waitFor();
    for (const id of ['overview', 'pod-logs', 'copy-validate']) await skipStep(page, id);
    // No backup was detected and the copy was skipped: the text says so, never a raw {{placeholder}}.
    expect(await page.getByTestId('step-have-backup').innerText()).toContain('The newest good backup on the node card: (none known).');
    expect(await page.getByTestId('step-have-backup').innerText()).not.toContain('{{');
    await page.getByTestId('step-have-backup').getByRole('button', { name: 'A snapshot.db salvaged by Lifeboat' }).click();
    // The card found no compressed backup here: the step that would decompress one says it is not for this node.
    expect(await page.getByTestId('step-decompress-backup').getByTestId('step-status').innerText()).toBe('not needed on this node');
    const step = page.getByTestId('step-upload-salvaged');
    await step.getByTestId('upload-candidates').waitFor({ timeout: 60_000 });
    const sessionId = (await page.getByTestId('upload-destination').innerText()).match(/lifeboat\/([0-9a-f-]+)-salvaged-snapshot\.db/)![1]!;
    const dest = `/var/backups/lifeboat/${sessionId}-salvaged-snapshot.db`;

    // The list: the salvaged file first and preselected (it restores), the others after with why not.
    const rows = step.getByTestId('upload-candidate');
    expect(await rows.first().getAttribute('value')).toBe(salvaged);
    expect(await checkedValue(page)).toBe(salvaged);
    const verdicts = await step.getByTestId('upload-candidate-verdict').allInnerTexts();
    expect(verdicts[0]).toBe('restores: SHA-256 trailer matches');
    expect(verdicts.slice(1).every((v) => v.startsWith('does not restore: '))).toBe(true);
    expect(verdicts).toContain(
      'does not restore: no SHA-256 trailer: etcdctl snapshot restore refuses it without --skip-hash-check (a copied member/snap/db, or a cut file)',
    );
    const localSha = createHash('sha256')
      .update(await fs.readFile(salvaged))
      .digest('hex');
    expect(await step.getByTestId('upload-selected').innerText()).toContain(`SHA-256 ${localSha}`);
    await step.getByTestId('upload-run').scrollIntoViewIfNeeded();
    await screenshot(page, 'guided-upload-picker', false);

    // The large file, with the keyboard: progress while it goes, then cancel.
    await pickWithArrows(page, big);
    await tabToUploadAndEnter(page);
    const progress = step.getByTestId('upload-progress');
    await expect.poll(() => progress.getAttribute('data-phase'), { timeout: 60_000 }).toBe('sending');
    await expect
      .poll(() => step.getByTestId('upload-progress-text').innerText(), { timeout: 60_000 })
      .toMatch(/^Sending [\d.]+ [KMG]?i?B of 160(\.0)? MiB · [\d.]+ [KMG]?i?B\/s · .+ left$/);
    await screenshot(page, 'guided-upload-progress', false);
    await step.getByTestId('upload-cancel').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => progress.getAttribute('data-phase'), { timeout: 60_000 }).toBe('cancelled');
    expect(await step.getByTestId('upload-progress-text').innerText()).toMatch(
      new RegExp(`^Upload cancelled after \\d+ of ${BIG} bytes: the temp copy on the node was removed and ${dest} was not touched\\.`),
    );
    expect((await node.exec(`test -e ${dest}; echo $?`)).stdout.trim()).toBe('1');
    // No temp left: the ones this app's uploads made, from the session journals (other test files upload into the
    // same /tmp meanwhile, so a count of every lifeboat-upload.* there races with them).
    const temps = await uploadTempsOf(path.join(tmp, 'home', 'guided'));
    expect(temps.length).toBeGreaterThan(0);
    for (const t of temps) expect((await node.exec(`test -e ${t}; echo $?`)).stdout.trim(), t).toBe('1');

    // Someone left a file at the destination: refused, said in English, then in Chinese.
    expect((await node.exec(`mkdir -p /var/backups/lifeboat && printf 'not yours' > ${dest}`)).code).toBe(0);
    await pickWithArrows(page, salvaged);
    await tabToUploadAndEnter(page);
    await expect.poll(() => progress.getAttribute('data-phase'), { timeout: 60_000 }).toBe('failed');
    expect(await step.getByTestId('upload-progress-text').innerText()).toBe(
      `${dest} already exists on the node: nothing was written. Choose another destination or move the file away first.`,
    );
    await screenshot(page, 'guided-upload-exists', false);
    await page.getByTestId('language-button').click();
    await expect
      .poll(() => step.getByTestId('upload-progress-text').innerText())
      .toBe(`节点上已存在 ${dest}：未写入任何内容。请换一个目标路径，或先把该文件移走。`);
    expect(await step.getByTestId('upload-candidate-verdict').first().innerText()).toBe('可以恢复：SHA-256 尾部校验一致');
    await screenshot(page, 'guided-upload-exists-zh', false);
    expect(await fs.readFile(node.hostPath(dest), 'utf8')).toBe('not yours');

    // A refusal by the back end (web mode: a file outside the copies folder) is said in Chinese too, not its English message.
    const typed = step.getByTestId('upload-local');
    await typed.fill('/etc/hostname');
    await step.getByTestId('upload-run').click();
    const refused = page.getByTestId('guided-error');
    await expect.poll(() => refused.innerText(), { timeout: 30_000 }).toBe(translate('zh-CN', 'guided.upload.error.forbidden'));
    await screenshot(page, 'guided-upload-refused-zh', false);
    await typed.fill('');

    // Moved away: in Chinese, the salvaged file goes up; the recorded SHA-256 is the local file's.
    expect((await node.exec(`mv ${dest} ${dest}.theirs`)).code).toBe(0);
    expect(await checkedValue(page)).toBe(salvaged);
    await step.getByTestId('upload-run').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => step.getAttribute('data-status'), { timeout: 120_000 }).toBe('passed');
    const recorded = step.getByTestId('uploaded');
    expect(await recorded.innerText()).toMatch(new RegExp(`^已上传 [\\d.]+ [KM]?i?B 到 ${dest}，已在节点上核对 SHA-256 ${localSha}。$`));
    // The record of the earlier attempts is in the UI's language too.
    const findings = await step.locator('p.finding').allInnerTexts();
    expect(findings.some((f) => new RegExp(`^已在发送 \\d+ / ${BIG} 字节后取消上传：节点上的临时副本已删除，${dest} 未被改动。`).test(f))).toBe(true);
    expect(findings).toContain(`节点上已存在 ${dest}：未写入任何内容。请换一个目标路径，或先把该文件移走。`);
    await screenshot(page, 'guided-upload-done-zh', false);
    await page.getByTestId('language-button').click();
    expect(await recorded.innerText()).toMatch(new RegExp(`^Uploaded [\\d.]+ [KM]?i?B to ${dest}, SHA-256 ${localSha} checked on the node\\.$`));

    const onNode = await fs.readFile(node.hostPath(dest));
    expect(onNode.equals(await fs.readFile(salvaged))).toBe(true);
    expect(await hashTree(copies)).toBe(copiesBefore);
  }, 600_000);

  it('MicroK8s (report 1): copies and validates the backend, rebuilds the copy from the upload step, offers its backend.tar first, in Chinese too, and uploads it', async () => {
    // A MicroK8s node whose backend is the field report's (dqlite will not start on it).
    const mk8s = await startRealisticNode({ copies: { [MICROK8S_BACKEND]: path.join(REPO, 'resources', 'samples', 'dqlite-field-report') } });
    try {
      await fs.appendFile(knownHosts, mk8s.sshd.knownHostsLine() + '\n');
      const page = await openAppOnSsh(app, mk8s.sshd);
      await page.getByTestId('pane-guided').click();
      await page.getByTestId('guided-detect').click();
      await expect.poll(() => page.getByTestId('node-card').innerText(), { timeout: 60_000 }).toContain(MICROK8S_BACKEND);
      await page.getByTestId('start-microk8s-dqlite').click();
      await page.getByTestId('checklist').waitFor();
      // The copy, verified on both ends, and its validation: dqlite would not start.
      await page.getByTestId('step-copy-validate').getByTestId('copy-validate').click();
      await expect.poll(() => page.getByTestId('step-copy-validate').getAttribute('data-status'), { timeout: 120_000 }).toBe('passed');
      // The choice names the entries the quarantine would give up, from this copy's report.
      const report = await validateDirectory(localDirectory(path.join(REPO, 'resources', 'samples', 'dqlite-field-report')));
      expect(await page.getByTestId('step-choose-repair').innerText()).toContain(`(here: ${dqliteRepairLost(report.dqlite!.repair)})`);
      await page.getByTestId('step-choose-repair').getByRole('button', { name: 'Put the fresh backend of the offline rebuild in place' }).click();
      const step = page.getByTestId('step-upload-backend');
      await step.getByTestId('upload-candidates').or(step.getByTestId('upload-none')).waitFor({ timeout: 60_000 });
      const sessionId = (await page.getByTestId('upload-destination').innerText()).match(/lifeboat\/([0-9a-f-]+)-fresh-backend\.tar/)![1]!;
      const dest = `/var/backups/lifeboat/${sessionId}-fresh-backend.tar`;

      // Rebuilt from here, in Chinese: the new backend.tar comes first, preselected, and holds a fresh backend.
      await page.getByTestId('language-button').click();
      await step.getByTestId('upload-rebuild-run').click();
      const done = step.getByTestId('upload-rebuild-done');
      await done.waitFor({ timeout: 120_000 });
      const tar = (await done.innerText()).match(/已打包为 (\S+backend\.tar)。$/)![1]!;
      expect(path.dirname(path.dirname(path.dirname(tar)))).toBe(copies);
      await expect.poll(() => checkedValue(page)).toBe(tar);
      expect(await step.getByTestId('upload-candidate-verdict').first().innerText()).toBe('包含全新 backend：metadata1、一个快照及其 .meta');
      expect(await step.locator('legend').innerText()).toBe('离线重建打包的全新 dqlite backend（backend.tar），最新且完好的在前');
      await screenshot(page, 'guided-upload-backend-zh', false);
      await page.getByTestId('language-button').click();
      expect(await done.innerText()).toMatch(new RegExp(`^Rebuilt: a fresh backend at entry \\d+, term \\d+, packed as ${tar}\\.$`));
      await screenshot(page, 'guided-upload-backend', false);
      await step.getByTestId('upload-run').focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => step.getAttribute('data-status'), { timeout: 120_000 }).toBe('passed');
      const localSha = createHash('sha256')
        .update(await fs.readFile(tar))
        .digest('hex');
      expect(await step.getByTestId('uploaded').innerText()).toMatch(
        new RegExp(`^Uploaded [\\d.]+ [KM]?i?B to ${dest}, SHA-256 ${localSha} checked on the node\\.$`),
      );
      expect((await fs.readFile(mk8s.hostPath(dest))).equals(await fs.readFile(tar))).toBe(true);
      // The next step is the stop before the swap, its command shown.
      await expect.poll(() => page.getByTestId('step-stop-for-swap').innerText()).toContain('snap stop microk8s');
    } finally {
      await mk8s.stop();
    }
  }, 300_000);
});
