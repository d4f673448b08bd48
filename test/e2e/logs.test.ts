/**
 * "Paste logs…" in a real browser against web mode: the three logs of field
 * report 2 (etcd bbolt panic, kube-apiserver, kubelet journal) pasted as
 * three sources become a story and markers on a timeline; clicking a marker
 * shows the explanation beside the highlighted record; Chinese works; a
 * large log file is read in the Web Worker.
 */
import { mkdtempSync, promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { chromiumAvailable, ensureRendererBuilt, launchChromium, openPage, RENDERER_DIR, screenshot, type WatchedPage } from './helpers';
import { FIELD_REPORTS } from '../helpers/field-reports';

const canRun = chromiumAvailable();
const DATA = FIELD_REPORTS;
const LOGS = {
  etcd: readFileSync(path.join(DATA, 'kubeadm-etcd-bbolt-panic.log'), 'utf8'),
  apiserver: readFileSync(path.join(DATA, 'kubeadm-apiserver.log'), 'utf8'),
  kubelet: readFileSync(path.join(DATA, 'kubeadm-kubelet-journal.log'), 'utf8'),
};

let server: WebServer;
let browser: Browser;
let tmp: string;
const pages: WatchedPage[] = [];

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-e2e-logs-'));
  server = await startWebServer({ rendererDir: RENDERER_DIR, host: '127.0.0.1', port: 0, quiet: true, samplesDir: null });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const p of pages) await p.context.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

async function open(): Promise<WatchedPage> {
  const p = await openPage(browser, server.url, { locale: 'en-US' });
  pages.push(p);
  return p;
}

/** Sets a textarea's value in one go (fill() types large text slowly). */
async function setText(p: Page, index: number, text: string): Promise<void> {
  await p
    .getByTestId('logs-source-text')
    .nth(index)
    .evaluate((el, value) => {
      (el as HTMLTextAreaElement).value = value;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, text);
}

describe.skipIf(!canRun)('Paste logs in Chromium', () => {
  it('turns the etcd, apiserver and kubelet logs into a story and a timeline, in English and Chinese', async () => {
    const { page: p, errors } = await open();
    await p.getByTestId('paste-logs').click();
    const dialog = p.getByTestId('logs-dialog');
    await dialog.waitFor();
    await p.getByTestId('logs-source-name').nth(0).fill('etcd container');
    await setText(p, 0, LOGS.etcd);
    await p.getByTestId('logs-add-source').click();
    await p.getByTestId('logs-source-name').nth(1).fill('kube-apiserver');
    await setText(p, 1, LOGS.apiserver);
    await p.getByTestId('logs-add-source').click();
    await p.getByTestId('logs-source-name').nth(2).fill('kubelet journal');
    await setText(p, 2, LOGS.kubelet);
    // The kubelet journal is in the node's local time (UTC+8); the container logs are UTC.
    await p.getByTestId('logs-source-zone').nth(2).selectOption({ label: 'UTC+08:00' });
    await screenshot(p, 'logs-dialog', false);
    await p.getByTestId('logs-analyze').click();

    const view = p.getByTestId('logs-view');
    await view.waitFor({ timeout: 30_000 });
    await dialog.waitFor({ state: 'hidden' });
    expect(await p.getByTestId('logs-summary').innerText()).toBe('Sources: 3 · Records: 21 · Recognised failure lines: 14');

    // The story, cause first.
    const steps = p.getByTestId('logs-story').locator('li.step');
    expect(await steps.evaluateAll((els) => els.map((e) => e.getAttribute('data-signature')))).toEqual([
      'etcd.bbolt-freepages',
      'kubernetes.etcd-unreachable',
      'kubernetes.crashloop',
    ]);
    expect(await steps.nth(2).innerText()).toContain('kube-apiserver, etcd');

    // Markers on the timeline, one lane per source.
    const timeline = p.getByTestId('log-timeline');
    for (const sig of [
      'etcd.bbolt-freepages',
      'kubernetes.etcd-unreachable',
      'kubernetes.apiserver-gave-up',
      'kubernetes.crashloop',
      'kubernetes.apiserver-refused',
    ]) {
      await timeline.locator(`g.marker[data-signature="${sig}"]`).first().waitFor();
    }
    const laneLabels = await timeline.locator('text.lane-label').evaluateAll((els) => els.map((e) => e.textContent?.trim().split('\n').pop()?.trim()));
    expect(laneLabels.map((l) => l?.replace(/^.*\n/, ''))).toHaveLength(3);
    // The two etcd-unreachable warnings within seconds are one burst marker.
    expect(await timeline.locator('g.marker[data-signature="kubernetes.etcd-unreachable"]').count()).toBe(1);
    expect(await timeline.locator('g.marker[data-signature="kubernetes.etcd-unreachable"] .count').textContent()).toBe('×3');

    // The cause is selected first: the explanation sits beside the highlighted record.
    const detail = p.getByTestId('log-detail');
    expect(await p.getByTestId('log-detail-title').getAttribute('data-signature')).toBe('etcd.bbolt-freepages');
    expect(await p.getByTestId('log-detail-explain').innerText()).toContain('page 0: invalid type: meta');
    expect(await p.getByTestId('log-detail-next').innerText()).toContain('/var/lib/etcd');
    expect(await p.getByTestId('log-detail-record').locator('mark').innerText()).toBe(
      'freepages: failed to get all reachable pages (page 0: invalid type: meta)',
    );
    await screenshot(p, 'logs-en');

    // Click the crash-loop marker: kubelet's line, the explanation and the next step.
    await timeline.locator('g.marker[data-signature="kubernetes.crashloop"]').first().click();
    expect(await p.getByTestId('log-detail-title').innerText()).toBe('kube-apiserver-k8s-master is crash-looping');
    expect(await detail.innerText()).toContain('Seen 2 times between 2024-03-13 04:33:27.000 and 2024-03-13 04:33:33.000.');
    expect(await p.getByTestId('log-detail-next').innerText()).toContain('crictl logs');
    const selectedRow = p.getByTestId('log-records').locator('button.rec.selected');
    await selectedRow.waitFor();
    expect(await selectedRow.locator('mark').innerText()).toMatch(
      /^CrashLoopBackOff: \\"back-off 1m20s restarting failed container=kube-apiserver pod=kube-apiserver-k8s-master_kube-system\($/,
    );
    // Next in this burst: the etcd container.
    await detail.getByRole('button', { name: /Next in this run/ }).click();
    expect(await p.getByTestId('log-detail-title').innerText()).toBe('etcd-k8s-master is crash-looping');
    await screenshot(p, 'logs-crashloop');

    // Clicking a record row selects its match; zooming with the keyboard keeps the markers reachable.
    await p.getByTestId('log-records').locator('button.rec', { hasText: 'command failed' }).click();
    expect(await p.getByTestId('log-detail-title').getAttribute('data-signature')).toBe('kubernetes.apiserver-gave-up');
    const ticksBefore = await timeline.locator('text.axis-label').allTextContents();
    await timeline.focus();
    for (let i = 0; i < 6; i++) await p.keyboard.press('+');
    const ticksAfter = await timeline.locator('text.axis-label').allTextContents();
    expect(ticksAfter).not.toEqual(ticksBefore);
    await p.keyboard.press('ArrowRight');
    await p.getByTestId('timeline-reset').click();
    expect(await timeline.locator('text.axis-label').allTextContents()).toEqual(ticksBefore);

    // Chinese.
    await p.getByTestId('language-button').click();
    await p.getByRole('heading', { name: '大概发生了什么' }).waitFor();
    await timeline.locator('g.marker[data-signature="etcd.bbolt-freepages"]').click();
    expect(await p.getByTestId('log-detail-title').innerText()).toBe('etcd 读取数据库（bbolt）时崩溃');
    expect(await p.getByTestId('log-detail-next').innerText()).toContain('不要重装集群');
    const body = await p.locator('main').innerText();
    expect(body).not.toMatch(/What probably happened|Explanation|Next step|Log records|Timeline/);
    // A Chinese list of names is joined with the enumeration comma, not ", ".
    expect(await steps.nth(2).innerText()).toContain('涉及 kube-apiserver、etcd');
    await screenshot(p, 'logs-zh');
    expect(errors).toEqual([]);
  });

  it('reads a 30 MB log file in the Web Worker and finds every failure in it', async () => {
    const file = path.join(tmp, 'kubelet-big.log');
    const ok =
      'Mar 13 12:33:32 k8s-master kubelet[3317]: I0313 12:33:32.011136    3317 reflector.go:533] nothing to see here, just a long and ordinary log line\n';
    const bad = LOGS.kubelet.split('\n')[6] + '\n';
    const handle = await fs.open(file, 'w');
    let blocks = 0;
    for (let written = 0; written < 30 * 1024 * 1024; blocks++) {
      const block = ok.repeat(499) + bad;
      await handle.write(block);
      written += block.length;
    }
    await handle.close();

    const { page: p, errors } = await open();
    await p.getByTestId('paste-logs').click();
    await p.getByTestId('logs-source-file').setInputFiles(file);
    await p.getByText(/^File: kubelet-big\.log/).waitFor();
    await p.getByTestId('logs-analyze').click();
    await p.getByTestId('logs-view').waitFor({ timeout: 90_000 });
    expect(await p.getByTestId('logs-summary').innerText()).toBe(`Sources: 1 · Records: ${blocks * 500} · Recognised failure lines: ${blocks}`);
    // Memory stays bounded: most unremarkable records were counted, not kept.
    await p.getByTestId('logs-notes').locator('li[data-note="records-elided"]').waitFor();
    await p.getByTestId('log-timeline').locator('g.marker[data-signature="kubernetes.crashloop"]').first().waitFor();
    await screenshot(p, 'logs-big-file');
    expect(errors).toEqual([]);
  }, 180_000);
});
