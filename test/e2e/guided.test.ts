/**
 * Guided recovery in Chromium against web mode and a realistic node (report
 * 5): a KubeKey-like node whose etcd data directory broke, with cron backups
 * (the newest one damaged). The operator connects, detects (the card names
 * the unit, the env file, the cron job and the newest backup that restores),
 * starts the playbook, walks it in the checklist beside the terminals (a
 * change shows its backup's SHA-256 and runs only after the risk is
 * confirmed), reloads the page halfway and resumes where it was, and ends
 * with etcd serving every key of the backup. Screenshots in both languages.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { makeGolden, requireEtcd, tempDir } from '../helpers/etcd';
import { startRealisticNode, realisticNodesAvailable, type RealisticNode } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';
import { chromiumAvailable, ensureRendererBuilt, openAppOnSsh, screenshot, sshAppPaths, startWebApp, type WebApp } from './helpers';
import { BACKUP_SCRIPT, kubekeyEtcdFiles, servedKeys } from '../helpers/guided-node';

const RUN = chromiumAvailable() && sshdAvailable() && requireEtcd() && realisticNodesAvailable();

describe.runIf(RUN)('guided recovery in Chromium (web mode, realistic node, real etcd)', () => {
  let tmp: string;
  let node: RealisticNode;
  let app: WebApp;
  let clientUrl: string;
  let backupKeys: Map<string, string>;
  let goodBackup: string;

  const GZ_BACKUP = '/var/backups/etcd-gz/snapshot-2026-12-06.db.gz';

  beforeAll(async () => {
    await ensureRendererBuilt();
    tmp = await tempDir('e2e-guided');
    await fs.chmod(tmp, 0o755);
    const g = await makeGolden(path.join(tmp, 'etcd'), { keys: 30 });
    const ep = g.endpoint;
    clientUrl = ep.clientUrl;
    // KubeKey's layout, the same as the session test's (test/guided/session-systemd-restore.test.ts).
    node = await startRealisticNode({ files: kubekeyEtcdFiles(ep), copies: { '/var/lib/etcd': g.dir }, startUnits: ['etcd'] });
    for (let i = 0; i < 2; i++) {
      const r = await node.exec(`sleep 1.1; sh ${BACKUP_SCRIPT}`, 60_000);
      expect(r.code, r.stderr).toBe(0);
    }
    backupKeys = await servedKeys(ep.clientUrl);
    const dirs = (await fs.readdir(node.hostPath('/var/backups/kube_etcd'))).sort();
    goodBackup = `/var/backups/kube_etcd/${dirs[0]}/snapshot.db`;
    // The newest backup is damaged, then the power cut breaks the data dir.
    const newest = node.hostPath(`/var/backups/kube_etcd/${dirs[1]}/snapshot.db`);
    const buf = await fs.readFile(newest);
    buf[6000] ^= 0xff;
    await fs.writeFile(newest, buf);
    // And a custom script's gzipped copy of the good one, newest of all: checked good through gzip, offered to decompress.
    const gz = await node.exec(`mkdir -p /var/backups/etcd-gz && gzip -c ${goodBackup} > ${GZ_BACKUP}`);
    expect(gz.code, gz.stderr).toBe(0);
    await node.exec('systemctl stop etcd');
    await fs.truncate(node.hostPath('/var/lib/etcd/member/snap/db'), 4096);
    app = await startWebApp(await sshAppPaths(tmp, node.sshd, { home: path.join(tmp, 'home') }));
  }, 300_000);

  afterAll(async () => {
    await app?.close();
    await node?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  /** On how many lines `text` (within one text node under `selector`) is laid out. */
  function linesOf(page: Page, selector: string, text: string): Promise<number> {
    return page.evaluate(
      ([sel, needle]) => {
        const root = document.querySelector(sel);
        if (!root) return -1;
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const at = n.textContent?.indexOf(needle) ?? -1;
          if (at < 0) continue;
          const range = document.createRange();
          range.setStart(n, at);
          range.setEnd(n, at + needle.length);
          return new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size;
        }
        return -1;
      },
      [selector, text] as const,
    );
  }

  async function step(page: Page, id: string): Promise<void> {
    const li = page.getByTestId(`step-${id}`);
    await li.waitFor();
    const backup = li.getByTestId('take-backup');
    if (await backup.count()) {
      await backup.click();
      await li.getByTestId('backup-taken').waitFor({ timeout: 60_000 });
      expect(await li.getByTestId('backup-taken').innerText()).toMatch(/SHA-256 [0-9a-f]{64}/);
      // The keyboard goes on at the confirmation (the backup button it was on is gone).
      await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('confirm-risk');
      // Nothing runs while it waits, and the backup's output is not the change's.
      expect(await li.getByTestId('step-status').innerText()).toBe('backup taken: waiting for your confirmation');
      expect(await li.getByTestId('step-output-label').innerText()).toMatch(/^Output of the backup command \(exit 0\); the change has not run yet/);
      // The change cannot run before the risk is confirmed.
      expect(await li.getByTestId('run-change').isDisabled()).toBe(true);
      await li.getByTestId('confirm-risk').check();
      await li.getByTestId('run-change').click();
    } else {
      await li.getByTestId('run-step').click();
    }
    await expect.poll(() => li.getAttribute('data-status'), { timeout: 150_000 }).toMatch(/passed|skipped/);
  }

  it('detects, walks the playbook beside the terminals, survives a reload, and brings etcd back', async () => {
    let page = await openAppOnSsh(app, node.sshd);
    await page.getByTestId('pane-guided').click();
    await page.getByTestId('guided-detect').click();
    const card = page.getByTestId('node-card');
    await card.waitFor({ timeout: 60_000 });
    const text = await card.innerText();
    expect(text).toContain('etcd managed by systemd');
    expect(text).toContain('not running');
    expect(text).toContain('/etc/etcd.env');
    expect(text).toContain('*/30 * * * * sh /usr/local/bin/kube-scripts/etcd-backup.sh');
    expect(await page.getByTestId('backup-row').count()).toBe(3);
    expect(await page.getByTestId('newest-good').innerText()).toBe(`Newest good backup: ${goodBackup}`);
    const plain = GZ_BACKUP.replace(/\.gz$/, '');
    const decompress =
      `if [ -e '${plain}' ]; then gzip -dc -- '${GZ_BACKUP}' | cmp -s - '${plain}' || { echo '${plain} exists and is not this backup decompressed: move it away first' >&2; false; }; ` +
      `else (umask 077 && set -C && gzip -dc -- '${GZ_BACKUP}' > '${plain}') && touch -r '${GZ_BACKUP}' '${plain}'; fi`;
    const newer = page.getByTestId('newer-compressed');
    expect(await newer.innerText()).toContain(`A newer good backup is compressed with gzip: ${GZ_BACKUP}.`);
    expect(await newer.innerText()).toContain(decompress);
    expect(await page.getByTestId('backup-row').first().locator('td').first().innerText()).toBe('restores once decompressed (gzip)');
    // The playbook written for a systemd unit is suggested first (not kubeadm's static-pod one).
    const firstSuggested = page.getByTestId('guided-panel').locator('ul.playbooks').first().locator('button').first();
    expect(await firstSuggested.getAttribute('data-testid')).toBe('start-etcd-systemd-restore');
    await screenshot(page, 'guided-node-card', false);
    await page.getByTestId('language-button').click();
    await newer.getByText('有一个更新的有效备份是用 gzip 压缩的').waitFor();
    expect(await newer.innerText()).toContain(decompress);
    await screenshot(page, 'guided-node-card-zh', false);
    // At 1024 px in Chinese, a backup's verdict ("可恢复") and its time stay on one line each; the path gives way.
    const wide = page.viewportSize();
    await page.setViewportSize({ width: 1024, height: 700 });
    const rows = await page.getByTestId('backup-row').count();
    for (let r = 1; r <= rows; r++) {
      for (const column of [1, 2]) {
        const cell = `[data-testid="backup-row"]:nth-child(${r}) td:nth-child(${column})`;
        const text = (await page.locator(cell).textContent()) ?? '';
        expect(await linesOf(page, cell, text), text).toBe(1);
      }
    }
    if (wide) await page.setViewportSize(wide);
    await page.getByTestId('language-button').click();

    await page.getByTestId('start-etcd-systemd-restore').click();
    const checklist = page.getByTestId('checklist');
    await checklist.waitFor();
    // Beside the terminals: the terminals pane is what shows.
    expect(await page.getByTestId('pane-terminals').getAttribute('aria-selected')).toBe('true');
    // Before it is reached, the decompress step says it is for this node (the card found a newer compressed backup).
    expect(await page.getByTestId('step-decompress-backup').getByTestId('step-status').innerText()).toBe('to do');
    for (const id of ['overview', 'unit-state']) await step(page, id);
    // The newer backup is compressed: the session decompresses it first with the card's own command, then checks and
    // restores what it wrote.
    const decompressed = GZ_BACKUP.replace(/\.gz$/, '');
    expect(await page.getByTestId('step-decompress-backup').getByTestId('step-command').innerText()).toBe(
      `${decompress} && printf 'restore-from %s\\n' ${decompressed}`,
    );
    for (const id of ['decompress-backup', 'check-backup']) await step(page, id);
    expect(await page.getByTestId('step-check-backup').getAttribute('data-status')).toBe('passed');
    expect((await fs.stat(node.hostPath(decompressed))).mode & 0o777).toBe(0o600);
    // The exact command of the next change, with this node's values.
    expect(await page.getByTestId('step-stop-etcd').getByTestId('step-command').innerText()).toBe('systemctl stop etcd.service');
    await step(page, 'stop-etcd');
    await screenshot(page, 'guided-checklist', false);

    // The app goes away mid-session: a fresh page, a new connection, resume.
    await page.close();
    page = await openAppOnSsh(app, node.sshd);
    await page.getByTestId('pane-guided').click();
    await page.getByRole('button', { name: 'Resume here' }).first().click();
    await checklist.waitFor().catch(() => undefined);
    await page.getByTestId('checklist').waitFor();
    expect(await page.getByTestId('step-stop-etcd').getAttribute('data-status')).toBe('passed');
    await step(page, 'wait-stopped');
    await step(page, 'owner');
    // At 1024 px the current step's long node paths wrap inside the checklist instead of widening it past the window.
    await page.setViewportSize({ width: 1024, height: 700 });
    const overflow = await page.getByTestId('checklist').evaluate((el) => el.scrollWidth - el.clientWidth);
    expect(overflow).toBeLessThanOrEqual(1);
    // In Chinese at 1024 px, the change's label "会修改：" and its kind "修改节点" each stay on one line (Chinese may
    // break between any two characters, and "：" cannot start a line: with a long first path, as MicroK8s' backend,
    // the walk showed "会修\n改：/var/snap/…"). The path is lengthened on the page only: what runs is unchanged.
    await page.getByTestId('language-button').click();
    const touches = '[data-testid="step-move-aside"] [data-testid="step-touches"]';
    await page.locator(touches).waitFor();
    expect(await page.locator(touches).innerText()).toMatch(/^会修改：\/var\/lib\/etcd, \/var\/lib\/etcd\.lifeboat-\d{8}T\d{6}Z$/);
    await page.locator(touches).evaluate((el) => {
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode())
        n.textContent = (n.textContent ?? '').replace('/var/lib/etcd', '/var/snap/microk8s/current/var/kubernetes/backend');
    });
    expect(await linesOf(page, touches, '会修改：')).toBe(1);
    expect(await linesOf(page, '[data-testid="step-move-aside"] .kind', '修改节点')).toBe(1);
    await page.getByTestId('language-button').click();
    await step(page, 'move-aside');
    expect(await page.getByTestId('step-restore').getByTestId('step-command').innerText()).toContain(`snapshot restore ${decompressed}`);
    for (const id of ['restore', 'chown', 'start-etcd', 'wait-healthy', 'count-keys']) await step(page, id);

    // No kubectl on the test node: skipped with a reason, which the record keeps.
    const last = page.getByTestId('step-kubectl-nodes');
    await last.getByTestId('skip').click();
    await last.getByTestId('skip-reason').fill('no kubectl on this node; etcd checked directly');
    await last.getByTestId('skip-submit').click();
    await expect.poll(() => last.getAttribute('data-status')).toBe('skipped');
    await page.getByTestId('finish-healthy').click();
    await expect.poll(() => page.getByTestId('checklist').innerText()).toContain('Session finished: cluster verified healthy.');
    // The branch for a backup that does not restore was not taken: it does not read as work left to do.
    expect(await page.getByTestId('step-backup-bad').getByTestId('step-status').innerText()).toBe('not needed (another path was taken)');
    await page.getByTestId('language-button').click();
    await screenshot(page, 'guided-checklist-done-zh', false);
    // The Chinese post-mortem downloads (its font embedding once died on the page's CSP and nothing happened).
    const [report] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByTestId('export-html').click()]);
    const reportPath = path.join(tmp, 'report-zh.html');
    await report.saveAs(reportPath);
    const html = await fs.readFile(reportPath, 'utf8');
    expect(html).toContain('恢复会话');
    // It reads on a machine without CJK fonts: the Noto Sans SC slices it uses travel inside the file.
    expect(html).toMatch(/@font-face\{font-family:'Noto Sans SC';[^}]*src:url\(data:font\/woff2;base64,[A-Za-z0-9+/]{1000}/);

    expect(await servedKeys(clientUrl)).toEqual(backupKeys);
  }, 600_000);

  it("the logs view's matched signatures start guided recovery with the right playbook first (report 2's panic)", async () => {
    const page = await openAppOnSsh(app, node.sshd);
    await page.getByTestId('nav-ssh').click();
    await page.getByTestId('paste-logs').click();
    await page.getByTestId('logs-dialog').waitFor();
    await page.getByTestId('logs-source-name').nth(0).fill('etcd container');
    const panic = await fs.readFile(path.join(__dirname, '..', 'fixtures', 'field-reports', 'kubeadm-etcd-bbolt-panic.log'), 'utf8');
    await page
      .getByTestId('logs-source-text')
      .nth(0)
      .evaluate((el, value) => {
        (el as HTMLTextAreaElement).value = value;
        el.dispatchEvent(new Event('input', { bubbles: true }));
      }, panic);
    await page.getByTestId('logs-analyze').click();
    await page.getByTestId('logs-view').waitFor();
    await page.getByTestId('logs-start-guided').click();
    await page.getByTestId('guided-panel').waitFor();
    const first = page.getByTestId('guided-panel').locator('ul.playbooks').first().locator('button').first();
    expect(await first.getAttribute('data-testid')).toBe('start-kubeadm-etcd-db');
  }, 120_000);
});
