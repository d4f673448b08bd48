/**
 * The renderer in a real browser against the real back end: home screen in
 * both languages, samples validated by the server, a damaged directory
 * dropped into the page and validated in the Web Worker, a pasted listing,
 * and cancelling a long validation. Data directories are written by the real
 * engine (dqlite-demo) and damaged the way field reports describe.
 */
import { existsSync, promises as fs, mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { closedSegments, copyDir, dqliteDemoAvailable, hashTree, REPO } from '../cli/fixtures';
import { goldenField, goldenKilled, goldenStopped } from '../helpers/dqlite-goldens';
import { chromiumAvailable, dropOne, ensureRendererBuilt, launchChromium, openPage, RENDERER_DIR, screenshot, type WatchedPage } from './helpers';
import { FIELD_REPORTS } from '../helpers/field-reports';

const canRun = chromiumAvailable() && dqliteDemoAvailable();
const LISTING = `${FIELD_REPORTS}/microk8s-backend-listing.txt`;

let tmp: string;
let server: WebServer;
let browser: Browser;
/** A copy of a crashed node with a middle closed segment ending in 4096 zero bytes. */
let damagedDir: string;
let damagedSegment: string;
let damagedHashes: Record<string, string>;
const pages: WatchedPage[] = [];
let samplesRoot: string;
let sampleHashesBefore: Record<string, string>;

/** The bundled samples, if the two this suite opens are listed. */
function bundledSamplesUsable(dir: string): boolean {
  const index = path.join(dir, 'index.json');
  if (!existsSync(index)) return false;
  try {
    const ids = (JSON.parse(readFileSync(index, 'utf8')) as { id?: unknown }[]).map((e) => e.id);
    return ids.includes('dqlite-healthy') && ids.includes('dqlite-field-report');
  } catch {
    return false;
  }
}

/** Appends `n` zero bytes: what a power cut does to a segment whose zero-filled tail block was never truncated. */
async function appendZeros(file: string, n: number): Promise<void> {
  await fs.appendFile(file, Buffer.alloc(n));
}

async function page(opts: { locale?: string; colorScheme?: 'dark' | 'light' } = {}): Promise<WatchedPage> {
  const p = await openPage(browser, server.url, opts);
  pages.push(p);
  return p;
}

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-e2e-'));

  // Samples served by the back end: the bundled ones (resources/samples) when present,
  // else the same two shapes made here with the real engine.
  const bundled = path.join(REPO, 'resources', 'samples');
  let samplesDir: string | undefined;
  if (bundledSamplesUsable(bundled)) samplesDir = bundled;
  else {
    samplesDir = path.join(tmp, 'samples');
    const stopped = await goldenStopped();
    await copyDir(stopped.dataDir, path.join(samplesDir, 'dqlite-healthy'));
    const field = await goldenField();
    const fieldDir = path.join(samplesDir, 'dqlite-field-report');
    await copyDir(field.dataDir, fieldDir);
    // The field report: the closed segment just before the 80-byte .reconfigure segment ends in zero fill.
    const fieldSegs = await closedSegments(fieldDir);
    const tinyAt = fieldSegs.findIndex((s, i) => i > 0 && readFileSync(path.join(fieldDir, s)).length === 80);
    await appendZeros(path.join(fieldDir, fieldSegs[tinyAt - 1]), 512);
    await fs.writeFile(
      path.join(samplesDir, 'index.json'),
      JSON.stringify([
        { id: 'dqlite-healthy', dir: 'dqlite-healthy', titleKey: 'sample.healthy.title', descriptionKey: 'sample.healthy.description', engine: 'dqlite' },
        {
          id: 'dqlite-field-report',
          dir: 'dqlite-field-report',
          titleKey: 'sample.fieldReport.title',
          descriptionKey: 'sample.fieldReport.description',
          engine: 'dqlite',
        },
      ]),
    );
  }
  sampleHashesBefore = await hashTree(samplesDir);
  samplesRoot = samplesDir;

  // A directory the user drops: a crashed node, a middle closed segment damaged.
  const killed = await goldenKilled();
  damagedDir = path.join(tmp, 'drop', 'backend');
  await copyDir(killed.dataDir, damagedDir);
  const segs = await closedSegments(damagedDir);
  damagedSegment = segs[4];
  await appendZeros(path.join(damagedDir, damagedSegment), 4096);
  damagedHashes = await hashTree(damagedDir);

  server = await startWebServer({ rendererDir: RENDERER_DIR, host: '127.0.0.1', port: 0, quiet: true, samplesDir });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const p of pages) await p.context.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!canRun)('Lifeboat web UI in Chromium', () => {
  it('shows the home screen in English and Chinese, and remembers the choice', async () => {
    const { page: p, errors } = await page({ locale: 'en-US' });
    await p.getByRole('heading', { name: 'Drop a data directory or file here' }).waitFor();
    await p.getByRole('button', { name: 'Open folder…' }).waitFor();
    await p.getByRole('button', { name: 'Paste a listing…' }).waitFor();
    await p.getByRole('button', { name: /Open sample: Healthy single node/ }).waitFor();
    expect(await p.getAttribute('html', 'lang')).toBe('en');
    // The samples are etcd's as well as dqlite's: the lead must not say they are all dqlite's.
    expect(await p.locator('#samples-title + p').innerText()).toBe(
      'Real directories written by the engines themselves (dqlite, etcd 3.4), some damaged the way field reports describe.',
    );
    await screenshot(p, 'home-en');

    await p.getByTestId('language-button').click();
    await p.getByRole('heading', { name: '把数据目录或文件拖到这里' }).waitFor();
    await p.getByRole('button', { name: '打开目录…' }).waitFor();
    await p.getByRole('button', { name: /打开示例：健康的单节点/ }).waitFor();
    expect(await p.getAttribute('html', 'lang')).toBe('zh-CN');
    await screenshot(p, 'home-zh');
    // No English left on the Chinese screen except names, paths and code.
    const body = await p.locator('main').innerText();
    expect(body).not.toMatch(/Drop a data|Open folder|Paste a listing|Open a sample/);

    await p.reload();
    await p.getByRole('heading', { name: '把数据目录或文件拖到这里' }).waitFor();
    expect(errors).toEqual([]);

    // A Chinese browser starts in Chinese; dark mode renders too.
    const zh = await page({ locale: 'zh-CN', colorScheme: 'dark' });
    await zh.page.getByRole('heading', { name: '哪里坏了？把数据目录交给我看看。' }).waitFor();
    await screenshot(zh.page, 'home-zh-dark');
    expect(zh.errors).toEqual([]);
  });

  it('tells an etcd operator where the data directory is, and opens guided recovery from the start screen', async () => {
    const { page: p, errors } = await page({ locale: 'en-US' });
    await p.getByRole('heading', { name: 'Drop a data directory or file here' }).waitFor();
    // The drop zone names etcd's directory first: four of the five field reports are etcd clusters.
    expect(await p.locator('#drop-title + p').innerText()).toBe(
      'A copy of etcd’s data directory (the folder holding member/), a snapshot.db backup, or MicroK8s’s backend folder.',
    );
    expect(await p.locator('.safety').innerText()).toContain('etcd cuts a torn WAL tail (keeping a .broken copy)');
    // Folded until asked for, then every kind of cluster with its path; opened from the keyboard.
    const where = p.getByTestId('where-data-dir');
    expect(await where.getByTestId('data-dir-locations').isVisible()).toBe(false);
    await where.locator('summary').focus();
    await p.keyboard.press('Enter');
    const places = where.getByTestId('data-dir-locations');
    await places.waitFor();
    const terms = await places.locator('dt').allInnerTexts();
    expect(terms).toEqual([
      'kubeadm (etcd as a static pod)',
      'etcd under systemd (KubeKey, hand-made)',
      'kind (Kubernetes in Docker)',
      'etcd backups',
      'MicroK8s (dqlite)',
      'k3s, RKE2',
    ]);
    // k3s's and RKE2's own snapshots are named where they lie, to be opened as files.
    expect(await places.locator('dd').nth(5).innerText()).toContain('/var/lib/rancher/rke2/server/db/');
    expect(await places.locator('dd').nth(5).innerText()).toContain('snapshots/');
    const kubeadm = await places.locator('dd').first().innerText();
    expect(kubeadm).toContain('/var/lib/etcd');
    expect(kubeadm).toContain('/etc/kubernetes/manifests/etcd.yaml');
    expect(await places.locator('dd').nth(4).innerText()).toContain('/var/snap/microk8s/current/var/kubernetes/backend/');
    await screenshot(p, 'home-where-en');

    // "Recover on the node…" opens the SSH workspace on its guided pane, which asks for a connection first.
    await p.getByTestId('home-connect').click();
    expect(await p.getByTestId('nav-ssh').getAttribute('aria-pressed')).toBe('true');
    expect(await p.getByTestId('guided-connect-first').innerText()).toBe(
      'Connect to the node first (“Connect to a node”, or “This machine” when it is the one Lifeboat runs on, such as the laptop that runs kind); Guided recovery then opens here.',
    );
    expect(errors).toEqual([]);

    const zh = await page({ locale: 'zh-CN' });
    await zh.page.getByRole('heading', { name: '把数据目录或文件拖到这里' }).waitFor();
    await zh.page.getByTestId('where-data-dir').locator('summary').click();
    await zh.page.getByTestId('data-dir-locations').waitFor();
    expect(await zh.page.getByTestId('data-dir-locations').locator('dt').first().innerText()).toBe('kubeadm（etcd 以静态 Pod 运行）');
    await screenshot(zh.page, 'home-where-zh');
    // Only names, paths and commands stay in Latin letters on the Chinese screen.
    const main = await zh.page.locator('main').innerText();
    expect(main).not.toMatch(/Where is the|The folder that|Copy it with|Recover on the node|still answers SSH|Before any repair/);
    await zh.page.getByTestId('home-connect').click();
    expect(await zh.page.getByTestId('guided-connect-first').innerText()).toBe(
      '请先连接节点（“连接到节点”；若就是运行 Lifeboat 的这台机器，例如运行 kind 的笔记本，则点“本机”），引导式恢复随后会在这里打开。',
    );
    expect(zh.errors).toEqual([]);
  });

  it('says what to do when the page was opened without the token', async () => {
    const { page: p } = await page();
    await p.goto(server.url.replace(/\?token=.*/, '') + '?token=wrong');
    // The server refuses the page itself (401) with the next step.
    expect(await p.locator('body').innerText()).toMatch(/lifeboat serve/);
  });

  it('opens the healthy sample: would start, nothing lost, map and repair plan', async () => {
    const { page: p, errors } = await page();
    await p.getByRole('button', { name: /Open sample: Healthy single node/ }).click();
    const verdict = p.getByTestId('verdict');
    await verdict.waitFor({ timeout: 30_000 });
    expect(await verdict.getAttribute('data-verdict')).toMatch(/^(healthy|starts-with-warnings)$/);
    expect(await p.getByTestId('fact-starts').innerText()).toBe('Yes');
    expect(await p.getByTestId('fact-loss').innerText()).toBe('No');
    const summary = await p.getByTestId('map-summary').innerText();
    expect(summary).toMatch(/\d+ closed segments/);
    expect(summary).not.toMatch(/bad/);
    // Said once (not "No repair is needed." and then the same again).
    await p.getByTestId('repair-plan').getByText('No repair needed: the engine starts and keeps every entry.').waitFor();
    expect(await p.getByTestId('repair-plan').innerText()).not.toMatch(/No repair is needed/);
    // Hovering a closed segment shows its range, size and batch counts.
    const box = (await p.getByTestId('segment-map').locator('canvas').boundingBox())!;
    await p.mouse.move(box.x + box.width / 2, box.y + 58);
    const tip = p.getByTestId('map-tooltip');
    await tip.waitFor();
    expect(await tip.innerText()).toMatch(/\d{16}-\d{16}[\s\S]*entries \d+–\d+[\s\S]*size [\d.]+ (KiB|MiB)[\s\S]*\d+ batches, \d+ entries/);
    await screenshot(p, 'sample-healthy-hover', false);
    await p.mouse.move(0, 0);
    await screenshot(p, 'sample-healthy');
    expect(errors).toEqual([]);
  });

  it('opens the field-report sample: would not start, names the segment and the engine error', async () => {
    const { page: p, errors } = await page();
    await p.getByRole('button', { name: /Open sample: Power cut/ }).click();
    const verdict = p.getByTestId('verdict');
    await verdict.waitFor({ timeout: 30_000 });
    expect(await verdict.getAttribute('data-verdict')).toBe('fails');
    expect(await verdict.innerText()).toMatch(/load closed segment \d{16}-\d{16}: entries batch \d+ starting at byte \d+: entries count in preamble is zero/);
    const bad = p.getByTestId('map-problems').locator('li[data-tone="bad"]');
    expect(await bad.count()).toBe(1);
    // Batches of a back-end job load on demand (validation.batches): the zero-count batch is the problem.
    await bad.getByRole('button').click();
    const table = p.getByTestId('batch-table');
    await table.getByText(/\d+ batches, 1 with problems/).waitFor({ timeout: 30_000 });
    await table.getByLabel('Only batches with problems').check();
    expect(await table.locator('.row.bad').count()).toBe(1);
    // The repair plan has exact commands in copyable blocks.
    const plan = p.getByTestId('repair-plan');
    expect(await plan.locator('pre code').count()).toBeGreaterThan(0);
    await plan.getByRole('button', { name: 'Copy this command' }).first().click();
    await plan.getByText('Copied').first().waitFor();
    await screenshot(p, 'sample-field-report');
    // Validating a sample never changes it.
    expect(await hashTree(samplesRoot)).toEqual(sampleHashesBefore);
    expect(errors).toEqual([]);
  });

  it('the field-report sample in Chinese: the loader narrative and finding messages are Chinese, engine text verbatim', async () => {
    const { page: p, errors } = await page({ locale: 'zh-CN' });
    await p.getByRole('button', { name: /打开示例：断电/ }).click();
    const verdict = p.getByTestId('verdict');
    await verdict.waitFor({ timeout: 30_000 });
    expect(await verdict.getAttribute('data-verdict')).toBe('fails');
    const narrative = await p.getByTestId('loader-narrative').locator('li').allInnerTexts();
    expect(narrative.length).toBeGreaterThan(2);
    expect(narrative[0]).toMatch(/^加载最新的 snapshot snapshot-\d+-\d+-\d+（index \d+）。$/);
    expect(narrative.join('\n')).not.toMatch(/Start index|Start-up fails|Load the newest/);
    // The engine's own text stays as journalctl prints it, inside the Chinese sentence.
    expect(narrative[narrative.length - 1]).toMatch(
      /^启动失败：load closed segment \d{16}-\d{16}: entries batch \d+ starting at byte \d+: entries count in preamble is zero$/,
    );
    const zero = p.locator('li.finding[data-code="segment.count-zero"] .message');
    expect(await zero.innerText()).toMatch(/^第 \d+ 个 batch（字节 \d+）：batch 的条目数为零/);
    const tail = p.locator('li.finding[data-code="segment.block-aligned-tail"] .message');
    expect(await tail.innerText()).toMatch(/^文件大小恰好是 \d+ 个 4096 字节的块/);
    // The verdict paragraph is Chinese around the engine's verbatim error, and ends with the plan's Chinese summary.
    const summary = await verdict.locator('p.summary').innerText();
    expect(summary).toMatch(
      /^dqlite 无法启动：启动失败，错误为“load closed segment \d{16}-\d{16}: entries batch \d+ starting at byte \d+: entries count in preamble is zero”。经过 1 个文件操作后，节点可以启动/,
    );
    expect(summary).not.toMatch(/will not start|After 1 file operation/);
    // The repair plan explains itself in Chinese; the commands stay verbatim shell.
    const plan = p.getByTestId('repair-plan');
    expect(await plan.locator('p.summary').innerText()).toMatch(/^经过 1 个文件操作后，节点可以启动，条目直到 \d+；/);
    const steps = await plan.locator('ol.steps > li > p').allInnerTexts();
    expect(steps.length).toBeGreaterThan(4);
    // A sample is a copy of unknown origin: the plan first says it assumes the MicroK8s default path.
    expect(steps[0]).toMatch(
      /^不知道这份拷贝来自节点上的哪个目录，所以这些命令假定使用 MicroK8s 的默认路径 \/var\/snap\/microk8s\/current\/var\/kubernetes\/backend。/,
    );
    expect(steps[1]).toMatch(/^停止数据存储/);
    expect(steps.join('\n')).toMatch(/\d{16}-\d{16} 只包含条目 \d+\.\.\d+，全部在 snapshot \d+ 之内/);
    expect(steps.join('\n')).not.toMatch(/Stop the datastore|Move |moving it aside|Start again/);
    expect(await plan.innerText()).toContain('sudo snap stop microk8s');
    await screenshot(p, 'sample-field-report-zh');
    expect(errors).toEqual([]);
  });

  it('validates a folder picked with "Open folder…" in the worker: findings, the bad segment on the map, its batches', async () => {
    const { page: p, errors } = await page();
    // Through the visible button, as a user does: it opens a folder chooser.
    const chooser = p.waitForEvent('filechooser');
    await p.getByRole('button', { name: 'Open folder…' }).click();
    await (await chooser).setFiles(damagedDir);
    const verdict = p.getByTestId('verdict');
    await verdict.waitFor({ timeout: 60_000 });
    expect(await verdict.getAttribute('data-verdict')).toBe('fails');
    expect(await p.getByTestId('fact-starts').innerText()).toBe('No');
    expect(await verdict.innerText()).toContain(`load closed segment ${damagedSegment}: entries batch`);

    // Findings: the zero-count batch in that file, with its offset (the original file size).
    const finding = p.getByTestId('findings').locator(`li[data-code="segment.count-zero"]`);
    await finding.first().waitFor();
    expect(await finding.first().innerText()).toContain(damagedSegment);
    expect(await finding.first().innerText()).toContain('Batch with zero entries');

    // The map marks that segment bad; so does the file list.
    await p.getByTestId('map-problems').locator(`li[data-file="${damagedSegment}"][data-tone="bad"]`).waitFor();
    await p.getByTestId('file-list').locator(`button[data-file="${damagedSegment}"][data-tone="bad"]`).waitFor();
    expect(Number(await p.getByTestId('segment-map').getAttribute('data-items'))).toBeGreaterThan(5);
    await screenshot(p, 'drop-damaged');

    // Keyboard: focus the map, step to a file, Enter opens its batch table.
    await p.getByTestId('segment-map').focus();
    await p.keyboard.press('ArrowDown');
    expect(await p.getByTestId('map-focus').innerText()).not.toBe('');
    await p.keyboard.press('Enter');
    await p.getByTestId('batch-table').waitFor();

    // Clicking the bad segment in the list opens its batches; the bad batch is flagged.
    await p.getByTestId('map-problems').getByRole('button', { name: damagedSegment }).click();
    const table = p.getByTestId('batch-table');
    await p.locator(`[data-testid="batch-table"][data-file="${damagedSegment}"]`).waitFor();
    await table.getByText(/\d+ batches, 1 with problems/).waitFor({ timeout: 30_000 });
    await table.getByLabel('Only batches with problems').check();
    const rows = table.locator('.row.bad');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(1);
    await screenshot(p, 'drop-batches');

    // With a file selected, the map still pans away from it (and stays there).
    const range = p.getByText(/^index \d+ … \d+$/);
    await p.getByTestId('segment-map').focus();
    const before = await range.innerText();
    // Far enough that the selected segment leaves the view.
    for (let i = 0; i < 3; i++) await p.keyboard.press('Shift+ArrowLeft');
    await p.waitForTimeout(100);
    const after = await range.innerText();
    expect(after).not.toBe(before);
    await p.waitForTimeout(200);
    expect(await range.innerText()).toBe(after);

    // Evidence untouched.
    expect(await hashTree(damagedDir)).toEqual(damagedHashes);
    expect(errors).toEqual([]);
  });

  it('maps a pasted listing from the field report', async () => {
    const { page: p, errors } = await page();
    await p.getByTestId('paste-listing').click();
    const dialog = p.getByTestId('listing-dialog');
    await dialog.waitFor();
    // Esc closes the dialog, the button opens it again.
    await p.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await p.getByTestId('paste-listing').click();
    await p.getByTestId('listing-text').fill(readFileSync(LISTING, 'utf8'));
    await p.getByTestId('listing-analyze').click();
    const view = p.getByTestId('listing-view');
    await view.waitFor();
    const summary = await p.getByTestId('map-summary').innerText();
    expect(summary).toContain('16 closed segments');
    expect(summary).toContain('3 open segments');
    expect(summary).toContain('2 snapshots');
    // The suspicious block-aligned segment is flagged, and must be copied out first.
    const findings = p.getByTestId('findings');
    await findings.locator('li[data-code="listing.block-aligned-closed"]').waitFor();
    expect(await findings.innerText()).toContain('0000000014232389-0000000014232597');
    const copyOut = p.getByTestId('copy-out');
    expect(await copyOut.innerText()).toContain('0000000014232389-0000000014232597');
    expect(await copyOut.locator('pre code').innerText()).toMatch(
      /^sudo tar -C \/var\/snap\/microk8s\/current\/var\/kubernetes\/backend .*0000000014232389-0000000014232597/,
    );
    // "You run these as": the keyboard picks root, and the same files are copied with no sudo (and back).
    const sudoRadio = copyOut.getByTestId('shell-choice-sudo').locator('input');
    expect(await sudoRadio.isChecked()).toBe(true);
    await sudoRadio.focus();
    await p.keyboard.press('ArrowRight');
    expect(await copyOut.getByTestId('shell-choice-root').locator('input').isChecked()).toBe(true);
    const asRoot = await copyOut.locator('pre code').innerText();
    expect(asRoot).toMatch(/^tar -C \/var\/snap\/microk8s\/current\/var\/kubernetes\/backend .*0000000014232389-0000000014232597/);
    expect(asRoot).not.toMatch(/\bsudo\b/);
    await p.keyboard.press('ArrowLeft');
    expect(await copyOut.locator('pre code').innerText()).toMatch(/^sudo tar /);
    // The file list holds every file, including the three open segments.
    await p.getByTestId('file-list').locator('button[data-file="open-28053"]').waitFor();
    await screenshot(p, 'listing-field-report');

    await p.getByTestId('language-button').click();
    await p.getByRole('heading', { name: '需要拷出的文件' }).waitFor();
    expect(await p.getByTestId('map-summary').innerText()).toContain('16 个 closed segment');
    await screenshot(p, 'listing-field-report-zh');
    expect(errors).toEqual([]);
  });

  it('reports a dropped loose file as an unknown engine, calmly', async () => {
    const { page: p, errors } = await page();
    // One file that is no datastore (a *.db is taken for etcd: see etcd-ui.test.ts).
    await dropOne(p, 'notes.txt', [...new TextEncoder().encode('cluster notes, nothing else\n')]);
    const verdict = p.getByTestId('verdict');
    await verdict.waitFor({ timeout: 30_000 });
    expect(await verdict.getAttribute('data-verdict')).toBe('unknown');
    expect(await verdict.innerText()).toContain('notes.txt');
    await p.getByRole('heading', { name: 'Nothing to check here' }).waitFor();
    // Where to look instead, rather than the banner's sentence again.
    const unknown = p.getByTestId('unknown-input');
    expect(await unknown.locator('p').first().innerText()).toBe(
      'Pick the data directory itself (or a backup file), not a folder above or below it. Where each kind of cluster keeps it:',
    );
    expect(await unknown.getByTestId('data-dir-locations').locator('dt').count()).toBe(6);
    expect(await unknown.getByTestId('data-dir-locations').innerText()).toContain('/var/lib/rancher/k3s/server/db/');
    await screenshot(p, 'drop-unknown-file');
    expect(errors).toEqual([]);
  });

  it('says which folder to open when the folder above the data directory was picked, in English and Chinese', async () => {
    const { page: p, errors } = await page();
    const chooser = p.waitForEvent('filechooser');
    await p.getByRole('button', { name: 'Open folder…' }).click();
    // The folder holding the damaged backend/, as an operator copies .../var/kubernetes rather than its backend.
    await (await chooser).setFiles(path.dirname(damagedDir));
    const verdict = p.getByTestId('verdict');
    await verdict.waitFor({ timeout: 60_000 });
    expect(await verdict.getAttribute('data-verdict')).toBe('unknown');
    expect(await p.locator('#verdict-title').innerText()).toBe('The data directory is one level down');
    expect(await verdict.innerText()).toContain(
      'Not a datastore directory itself, but backend/ inside it is a data directory (dqlite): validate that folder instead',
    );
    await screenshot(p, 'drop-parent-folder');
    await p.getByTestId('language-button').click();
    await p.locator('#verdict-title', { hasText: '数据目录在下一级文件夹中' }).waitFor();
    expect(await verdict.innerText()).toContain('这里本身不是数据存储目录，但其中的 backend/ 是数据目录（dqlite）');
    await screenshot(p, 'drop-parent-folder-zh');
    expect(errors).toEqual([]);
  });

  /** SQLite's header and a page of zeros. */
  const sqliteHead = [...new TextEncoder().encode('SQLite format 3\u0000'), ...new Array<number>(4096 - 16).fill(0)];
  for (const told of [
    {
      what: 'archive (a tar.gz of the data dir) as one, with the command that extracts it',
      // The first bytes of a gzip stream (what `tar czf` writes), under the name an operator gives a backup.
      file: 'etcd-backup.tgz',
      bytes: [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03, 1, 2, 3, 4],
      panel: 'unknown-archive',
      headings: { 'en-US': 'An archive, not a datastore: extract it first', 'zh-CN': '这是归档文件，不是数据存储：请先解压' },
      command: "tar -xzf 'etcd-backup.tgz'",
      shot: 'drop-archive',
    },
    {
      what: 'gzipped snapshot.db as one compressed file, with the commands that decompress and validate it',
      // `gzip snapshot.db` after `etcdctl snapshot save`: gzip's header stores the name (FNAME), then the stream.
      file: 'monday-backup.gz',
      bytes: [0x1f, 0x8b, 0x08, 0x08, 0, 0, 0, 0, 0, 0x03, ...new TextEncoder().encode('snapshot.db'), 0, 1, 2, 3, 4],
      panel: 'unknown-compressed',
      headings: { 'en-US': 'One compressed file: decompress it first', 'zh-CN': '这是单个压缩文件：请先解压' },
      command: "mkdir 'snapshot.db-decompressed' && gzip -dc 'monday-backup.gz' > 'snapshot.db-decompressed/snapshot.db'",
      shot: 'drop-compressed',
    },
    {
      what: "k3s state.db as SQLite, not etcd's bbolt",
      file: 'state.db',
      bytes: sqliteHead,
      panel: 'unknown-sqlite',
      headings: { 'en-US': 'A SQLite database (k3s), not etcd or dqlite', 'zh-CN': '这是 SQLite 数据库（k3s），不是 etcd 或 dqlite' },
      command: "sqlite3 -readonly 'state.db' 'PRAGMA integrity_check'",
      shot: 'drop-sqlite',
    },
  ]) {
    it(`tells a dropped ${told.what}, in English and Chinese`, async () => {
      const { file, bytes, panel: testId, headings, command, shot } = told;
      for (const locale of ['en-US', 'zh-CN'] as const) {
        const { page: p, errors } = await page({ locale });
        await dropOne(p, file, bytes);
        const verdict = p.getByTestId('verdict');
        await verdict.waitFor({ timeout: 30_000 });
        expect(await verdict.getAttribute('data-verdict')).toBe('unknown');
        // The banner says what the file is (not "not a recognised directory"); the panel under it, what to do.
        expect(await verdict.getByRole('heading', { level: 2 }).innerText()).toBe(headings[locale]);
        const panel = p.getByTestId(testId);
        await panel.getByRole('heading', { name: locale === 'en-US' ? 'What to do with it' : '如何处理' }).waitFor();
        expect(await panel.innerText()).toContain(command);
        await screenshot(p, `${shot}-${locale}`);
        expect(errors).toEqual([]);
      }
    });
  }

  it('stays responsive with 20000 segments on the map', async () => {
    const lines = ['total 1'];
    for (let i = 0; i < 20_000; i++) {
      const first = 1 + i * 500;
      lines.push(`-rw-rw---- 1 root microk8s 8381624 Jan 28 00:11 ${String(first).padStart(16, '0')}-${String(first + 499).padStart(16, '0')}`);
    }
    lines.push('-rw-rw---- 1 root microk8s 8388608 Jan 28 00:41 open-1');
    const { page: p, errors } = await page();
    await p.getByTestId('paste-listing').click();
    // 1.4 MB: set in one go (typing it through fill() takes minutes).
    await p.getByTestId('listing-text').evaluate((el, text) => {
      (el as HTMLTextAreaElement).value = text;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, lines.join('\n'));
    await p.getByTestId('listing-analyze').click();
    await p
      .getByTestId('map-summary')
      .getByText(/20000 closed segments/)
      .waitFor({ timeout: 30_000 });
    const map = p.getByTestId('segment-map');
    await map.focus();
    const range = p.getByText(/^index \d+ … \d+$/);
    const before = await range.innerText();
    for (let i = 0; i < 10; i++) await p.keyboard.press('+');
    for (let i = 0; i < 20; i++) await p.keyboard.press('ArrowRight');
    for (let i = 0; i < 10; i++) await p.keyboard.press('-');
    // Each key redraws the canvas (40 redraws of 20000 segments); how fast is not this test's business.
    await p.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    expect(await range.innerText()).not.toBe(before);
    await p.mouse.move(0, 0);
    await screenshot(p, 'map-20000-segments', false);
    expect(errors).toEqual([]);
  });

  it('cancels a long validation and says nothing was changed', async () => {
    // About 1.7 GB of valid segments as hard links to one real segment: long enough to cancel.
    const killed = await goldenKilled();
    const source = path.join(killed.dataDir, (await closedSegments(killed.dataDir))[4]);
    const m = /^(\d{16})-(\d{16})$/.exec(path.basename(source));
    const perFile = Number(m![2]) - Number(m![1]) + 1;
    const bigDir = path.join(tmp, 'big', 'backend');
    await fs.mkdir(bigDir, { recursive: true });
    for (let i = 0; i < 200; i++) {
      const first = 1 + i * perFile;
      const name = `${String(first).padStart(16, '0')}-${String(first + perFile - 1).padStart(16, '0')}`;
      await fs.link(source, path.join(bigDir, name));
    }
    await fs.copyFile(path.join(killed.dataDir, 'metadata1'), path.join(bigDir, 'metadata1'));

    const { page: p, errors } = await page();
    await p.getByTestId('folder-input').setInputFiles(bigDir);
    const progress = p.getByTestId('progress');
    await progress.waitFor();
    await p.waitForFunction(() => Number(document.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow') ?? '0') > 0, null, {
      timeout: 30_000,
    });
    await screenshot(p, 'cancel-progress');
    await progress.getByRole('button', { name: 'Cancel' }).click();
    await p.getByTestId('notice').getByText('Validation cancelled. Nothing was changed.').waitFor({ timeout: 5_000 });
    expect(await p.getByTestId('report').count()).toBe(0);
    // The app is usable again right away.
    await p.getByRole('heading', { name: 'Drop a data directory or file here' }).waitFor();
    expect(errors).toEqual([]);
  });
});
