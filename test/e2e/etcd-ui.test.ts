/**
 * The etcd report in a real browser against the real back end: the bundled
 * field-report sample (validated by the server, queried through `etcd.query`),
 * a data dir written by the real etcd 3.4 and dropped into the page (validated
 * and queried in the Web Worker, subdirectories included), and a lone
 * `snapshot.db` opened as a file. WAL records, pages and keys are clicked;
 * English and Chinese screenshots land in test-artifacts/e2e/.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { REPO } from '../cli/fixtures';
import { hashTree, loopbackEndpoint, makeGoldenWith, requireEtcd, spawnEtcd, tempDir, waitHealthy, type EtcdGolden } from '../helpers/etcd';
import { sampleObjects } from '../../build/etcd-samples';
import { walFrames } from '../helpers/etcd-damage';
import { chromiumAvailable, dropOne, ensureRendererBuilt, launchChromium, openPage, RENDERER_DIR, screenshot, verdictOf, type WatchedPage } from './helpers';

const canRun = chromiumAvailable() && requireEtcd();
const SAMPLES = path.join(REPO, 'resources', 'samples');

let tmp: string;
let server: WebServer;
let browser: Browser;
const pages: WatchedPage[] = [];
let samplesHash: string;
/** A member dir written by etcd and killed (SIGKILL, like a power cut), to be dropped into the page. */
let dropped: EtcdGolden;
let droppedHash: string;
let snapshotDb: string;
/** A real three-member cluster's data dirs side by side (cluster/m1, m2, m3); m3 was stopped before the last writes. */
let clusterDir: string;

/** Three etcd members on their own loopback addresses; m3 stops early, so it is behind. */
async function makeCluster(root: string): Promise<void> {
  const eps = await Promise.all([1, 2, 3].map(() => loopbackEndpoint()));
  const initialCluster = eps.map((e, i) => `m${i + 1}=http://${e.host}:${e.peerPort}`).join(',');
  const nodes = await Promise.all(
    eps.map((e, i) =>
      spawnEtcd({
        dataDir: path.join(root, `m${i + 1}`),
        name: `m${i + 1}`,
        host: e.host,
        clientPort: e.clientPort,
        peerPort: e.peerPort,
        initialCluster,
        initialClusterToken: 'lifeboat-e2e-cluster',
      }),
    ),
  );
  try {
    for (const n of nodes) if (!(await waitHealthy(n, 30_000))) throw new Error(`cluster member did not start:\n${n.output()}`);
    for (const o of sampleObjects(30, 0)) await nodes[0].put(o.key, o.value);
    await nodes[2].stop();
    for (const o of sampleObjects(30, 1)) await nodes[0].put(o.key, o.value);
  } finally {
    for (const n of nodes) await n.stop();
  }
}

async function open(locale = 'en-US', colorScheme: 'light' | 'dark' = 'light'): Promise<WatchedPage> {
  const p = await openPage(browser, server.url, { locale, colorScheme });
  pages.push(p);
  return p;
}

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  tmp = await tempDir('e2e-etcd');
  samplesHash = await hashTree(SAMPLES);
  dropped = await makeGoldenWith(path.join(tmp, 'drop', 'etcd-data'), { snapshotCount: 50, name: 'cp-2', kill: true }, async (node) => {
    for (const o of sampleObjects(90, 0)) await node.put(o.key, o.value);
    for (const o of sampleObjects(30, 1)) await node.put(o.key, o.value);
    await node.del(sampleObjects(90, 0)[7].key);
    snapshotDb = path.join(tmp, 'backup', 'snapshot.db');
    await fs.mkdir(path.dirname(snapshotDb), { recursive: true });
    node.etcdctl(['snapshot', 'save', snapshotDb]);
  });
  droppedHash = await hashTree(dropped.dir);
  clusterDir = path.join(tmp, 'drop', 'cluster');
  await makeCluster(clusterDir);
  server = await startWebServer({ rendererDir: RENDERER_DIR, host: '127.0.0.1', port: 0, quiet: true, samplesDir: SAMPLES });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const p of pages) await p.context.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
  if (canRun) {
    // Validation and every query read the inputs only.
    expect(await hashTree(SAMPLES)).toBe(samplesHash);
    expect(await hashTree(dropped.dir)).toBe(droppedHash);
  }
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!canRun)('etcd report in Chromium', () => {
  it('opens the field-report sample: the bbolt panic, the branch element pointing at page 0, a WAL record, a key', async () => {
    const { page: p, errors } = await open();
    await p.getByRole('button', { name: /Open sample: etcd: bbolt panic at page 0/ }).click();
    expect(await verdictOf(p)).toBe('fails');
    await expect.poll(() => p.getByTestId('verdict').innerText()).toContain('freepages: failed to get all reachable pages (page 0: invalid type: meta)');
    expect(await p.getByTestId('report').getAttribute('data-engine')).toBe('etcd');
    // The sample has .snap files, but etcd dies opening the db before it would load one: not "none".
    expect(await p.getByTestId('etcd-startup-facts').innerText()).toMatch(/Snapshot it loads\s*not reached: etcd stops before it loads one/);

    // Page map: drawn on a canvas; the keyboard opens page 0 (a meta page).
    const map = p.getByTestId('page-map');
    await map.waitFor();
    expect(Number(await map.getAttribute('data-pages'))).toBeGreaterThan(10);
    await map.focus();
    await p.keyboard.press('Home');
    await p.keyboard.press('Enter');
    const detail = p.getByTestId('page-detail');
    await detail.waitFor();
    await expect.poll(() => detail.getByTestId('page-type').getAttribute('data-type')).toBe('meta');
    expect(await detail.getAttribute('data-page')).toBe('0');
    // bbolt's own problem text names page 0; its parent is the branch page whose element points there.
    await expect.poll(() => p.getByTestId('bbolt-problems').innerText()).toContain('page 0: invalid type: meta');
    // The other meta's state is its own sentence, not tacked after the colon that opens bbolt's list; sizes have units.
    expect(await p.getByTestId('bbolt-other-meta').innerText()).toBe('The other meta’s tree is damaged too.');
    expect(await p.getByTestId('page-map-panel').innerText()).toMatch(/Page size\s*4096 bytes/);
    await expect.poll(() => detail.innerText()).toContain('page 0: invalid type: meta');
    await detail.getByTestId('page-parent-link').click();
    await expect.poll(() => detail.getByTestId('page-type').getAttribute('data-type')).toBe('branch');
    const bad = detail.locator('tr.bad');
    await expect.poll(() => bad.count()).toBe(1);
    expect(await bad.getByTestId('page-child-link').innerText()).toBe('page 0');
    // Its key is a revision (the key bucket's keys), and bbolt's text stands beside it.
    expect(await bad.innerText()).toMatch(/revision \d+\.0[\s\S]*page 0: invalid type: meta/);
    // Following the bad pointer goes back to page 0; "next problem" finds it too.
    await p.getByTestId('page-next-problem').click();
    await expect.poll(() => detail.getAttribute('data-page')).toBe('0');
    await detail.getByTestId('page-parent-link').click();
    await expect.poll(() => detail.getByTestId('page-type').getAttribute('data-type')).toBe('branch');
    await screenshot(p, 'etcd-field-report-pages');

    // WAL timeline: the file, its records, one record's details.
    const wal = p.getByTestId('wal-timeline');
    await wal.getByTestId('wal-file-link').first().click();
    const rows = p.getByTestId('wal-record-rows');
    await rows.waitFor();
    expect(Number(await rows.getAttribute('data-total'))).toBeGreaterThan(100);
    await rows.locator('[data-record="3"]').click();
    const rec = p.getByTestId('wal-record-detail');
    await rec.waitFor();
    expect(await rec.getAttribute('data-record')).toBe('3');
    await screenshot(p, 'etcd-field-report-wal');

    // Keys: the db's tree is broken, yet the key browser lists what the intact part holds, or says why not.
    const keys = p.getByTestId('key-browser');
    await keys.scrollIntoViewIfNeeded();
    await screenshot(p, 'etcd-field-report');
    expect(errors).toEqual([]);
  });

  it('opens the healthy sample: starts, a key and its decoded JSON, search and groups', async () => {
    const { page: p, errors } = await open();
    await p.getByRole('button', { name: /Open sample: etcd: healthy member/ }).click();
    expect(await verdictOf(p)).toBe('healthy');
    expect(await p.getByTestId('fact-starts').innerText()).toBe('Yes');
    const total = p.getByTestId('keys-total');
    await total.waitFor({ timeout: 30_000 });
    // 180 objects written, 20 deleted: 160 live keys plus the 20 tombstones.
    expect(await total.getAttribute('data-total')).toBe('180');
    // The list's count says it holds the deleted keys too, so it does not contradict "Live keys 160" above it.
    expect(await total.innerText()).toBe('180 keys, deleted ones (tombstones) included');
    expect(await p.getByTestId('keys-live').innerText()).toContain('160');
    await p.getByTestId('key-search').fill('configmap-0006');
    await expect.poll(() => total.getAttribute('data-total')).toBe('1');
    const key = '/registry/configmaps/default/configmap-0006';
    await p.locator(`[data-key="${key}"]`).first().click();
    const detail = p.getByTestId('key-detail');
    await detail.waitFor();
    const written = JSON.parse(sampleObjects(180, 1)[6].value) as Record<string, unknown>;
    await expect.poll(async () => JSON.parse(await detail.getByTestId('key-value').innerText()) as unknown).toEqual(written);
    expect(await detail.getByTestId('key-k8s').innerText()).toContain('ConfigMap');
    // The keyboard: the list of 180 keys is one Tab stop, the arrows move between rows, Tab leaves the list.
    await p.getByTestId('key-search').fill('');
    await expect.poll(() => total.getAttribute('data-total')).toBe('180');
    const rows = p.getByTestId('key-rows');
    await rows.locator('.key-row').first().waitFor();
    await p.getByTestId('key-search').focus();
    await p.keyboard.press('Tab');
    const focusedKey = () => p.evaluate(() => document.activeElement?.getAttribute('data-key') ?? document.activeElement?.tagName ?? null);
    const first = await focusedKey();
    expect(first).toMatch(/^\/registry\//);
    await p.keyboard.press('ArrowDown');
    await p.keyboard.press('ArrowDown');
    const third = await rows.locator('.row[data-index="2"] .key-row').getAttribute('data-key');
    expect(await focusedKey()).toBe(third);
    await p.keyboard.press('End');
    await expect.poll(focusedKey).toBe(await rows.locator('.row[data-index="179"] .key-row').getAttribute('data-key'));
    await p.keyboard.press('Tab');
    expect(await p.evaluate(() => document.activeElement?.closest('[data-testid="key-rows"]') === null)).toBe(true);
    // A group: the pods of one namespace.
    await p.getByTestId('key-group').filter({ hasText: 'pods' }).filter({ hasText: 'shop' }).click();
    await expect
      .poll(() => total.getAttribute('data-total'))
      .toBe(String(sampleObjects(180, 0).filter((o) => o.key.startsWith('/registry/pods/shop/')).length));
    await screenshot(p, 'etcd-healthy');
    expect(errors).toEqual([]);
  });

  it('validates a dropped etcd data dir in the browser, member/wal and member/snap included, and queries it there', async () => {
    const { page: p, errors } = await open();
    await p.getByTestId('folder-input').setInputFiles(dropped.dir);
    const kind = await verdictOf(p);
    expect(['healthy', 'starts-with-warnings']).toContain(kind);
    expect(await p.getByTestId('report').getAttribute('data-engine')).toBe('etcd');
    // The WAL dir's 0.tmp is the file etcd preallocates, as the finding says, not debris of an interrupted write.
    const leftovers = await p.getByTestId('etcd-leftovers').innerText();
    expect(leftovers).toMatch(/member\/wal\/0\.tmp · [\d.]+ MiB · the next WAL file, preallocated by etcd/);
    expect(leftovers).not.toContain('interrupted');
    // A WAL file's size says how much is records and how much the preallocated zero tail.
    expect(await p.getByTestId('wal-file-size').first().innerText()).toMatch(/^[\d.]+ MiB · records [\d.]+ [KM]iB, then [\d.]+ MiB of preallocated zeros$/);
    // WAL: the killed member's file, one record.
    await p.getByTestId('wal-file-link').first().click();
    await p.getByTestId('wal-record-rows').locator('[data-record="10"]').click();
    await p.getByTestId('wal-record-detail').waitFor();
    // Page map: click the first square (meta page 0).
    await p.getByTestId('page-map').scrollIntoViewIfNeeded();
    // Coordinates are the viewport's: the map must be on screen before its first square is clicked.
    const box = await p.getByTestId('page-map').boundingBox();
    expect(box).not.toBeNull();
    await p.mouse.click(box!.x + 4, box!.y + 4);
    await expect.poll(() => p.getByTestId('page-detail').getAttribute('data-page')).toBe('0');
    // Keys: the deleted one is a tombstone, a rewritten one has history.
    const deleted = sampleObjects(90, 0)[7].key;
    await p.getByTestId('key-search').fill(deleted.split('/').pop()!);
    await p.locator(`[data-key="${deleted}"]`).first().click();
    await expect.poll(() => p.getByTestId('key-detail').innerText()).toContain('deleted (tombstone)');
    await screenshot(p, 'etcd-dropped');
    expect(errors).toEqual([]);
  });

  it('a WAL with a flipped byte: the bad file in red, its first bad record one click away', async () => {
    const damaged = path.join(tmp, 'drop-bad', 'etcd-data');
    await fs.mkdir(path.dirname(damaged), { recursive: true });
    await fs.cp(path.join(SAMPLES, 'etcd-healthy'), damaged, { recursive: true });
    const wal = path.join(damaged, 'member', 'wal', '0000000000000000-0000000000000000.wal');
    const bytes = await fs.readFile(wal);
    bytes[100_000] ^= 0xff;
    await fs.writeFile(wal, bytes);
    const { page: p, errors } = await open();
    await p.getByTestId('folder-input').setInputFiles(damaged);
    expect(await verdictOf(p)).toBe('fails');
    const bar = p.getByTestId('wal-timeline').locator('button.bar');
    expect(await bar.getAttribute('data-tone')).toBe('bad');
    await p.getByTestId('wal-jump-bad').click();
    const rows = p.getByTestId('wal-record-rows');
    const badRow = rows.locator('button.rec.bad').first();
    await badRow.waitFor();
    const number = Number(await badRow.getAttribute('data-record'));
    await badRow.click();
    const detail = p.getByTestId('wal-record-detail');
    await detail.waitFor();
    expect(Number(await detail.getAttribute('data-record'))).toBe(number);
    // The bad record starts where the report says reading stops.
    const report = await detail.innerText();
    const badAt = await p.getByTestId('wal-jump-bad').innerText();
    const offset = /byte (\d+)/.exec(badAt)![1];
    expect(report).toContain(offset);
    expect(report).toMatch(/Problem/);
    // What lies beyond it, on request.
    const before = Number(await rows.getAttribute('data-total'));
    await p.getByTestId('wal-records-beyond').click();
    await expect.poll(async () => Number(await rows.getAttribute('data-total'))).toBe(before + 200);
    await screenshot(p, 'etcd-wal-bad-record');
    expect(errors).toEqual([]);
  });

  it('a last WAL file cut mid-record: the verdict says it was cut, and data loss reads "unknown", in both languages', async () => {
    const cut = path.join(tmp, 'drop-cut', 'etcd-data');
    await fs.mkdir(path.dirname(cut), { recursive: true });
    await fs.cp(path.join(SAMPLES, 'etcd-healthy'), cut, { recursive: true });
    const wal = path.join(cut, 'member', 'wal', '0000000000000000-0000000000000000.wal');
    const entries = (await walFrames(wal)).filter((f) => f.type === 2);
    const last = entries[entries.length - 1]!;
    await fs.truncate(wal, last.dataOffset + Math.floor(last.length / 2));
    for (const [locale, unknown, says] of [
      ['en-US', 'unknown', 'was cut short after etcd wrote it'],
      ['zh-CN', '未知', '是在 etcd 写入之后被截短的'],
    ] as const) {
      const { page: p, errors } = await open(locale);
      await p.getByTestId('folder-input').setInputFiles(cut);
      expect(await verdictOf(p)).toBe('starts-loss-unknown');
      expect(await p.getByTestId('fact-loss').innerText()).toContain(unknown);
      await expect.poll(() => p.getByTestId('verdict').innerText()).toContain(says);
      await screenshot(p, `etcd-wal-cut-${locale}`);
      expect(errors).toEqual([]);
    }
  });

  it('from the etcd log line, "Check the copied data directory" leads to where the etcd dir is taken', async () => {
    const { page: p, errors } = await open();
    await p.getByTestId('paste-logs').click();
    await p.getByTestId('logs-dialog').waitFor();
    const log = await fs.readFile(path.join(REPO, 'test', 'fixtures', 'field-reports', 'kubeadm-etcd-bbolt-panic.log'), 'utf8');
    await p
      .getByTestId('logs-source-text')
      .nth(0)
      .evaluate((el, value) => {
        (el as HTMLTextAreaElement).value = value;
        el.dispatchEvent(new Event('input', { bubbles: true }));
      }, log);
    await p.getByTestId('logs-analyze').click();
    await p.getByTestId('logs-view').waitFor({ timeout: 30_000 });
    expect(await p.getByTestId('log-detail-title').getAttribute('data-signature')).toBe('etcd.bbolt-freepages');
    await p.getByTestId('log-action-validate').click();
    const notice = p.getByTestId('notice');
    await notice.waitFor();
    expect(await notice.innerText()).toContain('Drop the copied etcd data directory here');
    expect(await notice.innerText()).toContain('member/');
    // Guidance, not engine output: set in the text face, not as a monospaced block.
    expect(await notice.getByTestId('notice-detail').evaluate((el) => getComputedStyle(el).fontFamily)).not.toMatch(/mono/i);
    // The folder button has the focus, and the dir it takes is validated as etcd.
    await expect.poll(() => p.evaluate(() => document.activeElement?.closest('[data-testid="drop-zone"]') !== null)).toBe(true);
    await screenshot(p, 'etcd-from-logs', false);
    await p.getByTestId('folder-input').setInputFiles(path.join(SAMPLES, 'etcd-field-report'));
    expect(await verdictOf(p)).toBe('fails');
    expect(await p.getByTestId('report').getAttribute('data-engine')).toBe('etcd');
    expect(errors).toEqual([]);
  });

  it('compares several members dropped as one folder, and opens each member’s report', async () => {
    const { page: p, errors } = await open();
    await p.getByTestId('folder-input').setInputFiles(clusterDir);
    const table = p.getByTestId('member-comparison');
    await table.waitFor({ timeout: 60_000 });
    expect(await table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-member')))).toEqual(['m1', 'm2', 'm3']);
    const last = async (m: string) => Number(await table.locator(`tr[data-member="${m}"] td`).nth(6).innerText());
    // m3 stopped before the second round of 30 writes: its log ends earlier.
    expect(await last('m3')).toBeLessThan(await last('m1'));
    expect(await last('m1')).toBe(await last('m2'));
    // All three would start whole: at their registered addresses a quorum elects a leader by itself; a rebuild only if they moved.
    expect(await p.getByTestId('member-keep').innerText()).toMatch(
      /^3 of the 3 registered members would start .*start them all: .*no rebuild is needed\. If their addresses changed .*rebuild from m[12], /,
    );
    expect(await table.locator('tr.keep').getAttribute('data-member')).not.toBe('m3');
    // At 1024 px every member ID stays on one line and the table fits its panel.
    await p.setViewportSize({ width: 1024, height: 700 });
    const idLines = await table.getByTestId('member-id').evaluateAll((els) =>
      els.map((el) => {
        const range = document.createRange();
        range.selectNodeContents(el);
        return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
      }),
    );
    expect(idLines).toEqual([1, 1, 1]);
    expect(await table.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    await p.setViewportSize({ width: 1400, height: 1000 });
    await screenshot(p, 'etcd-members');
    // One member's full report; its keys come from its own subfolder.
    await table.locator('tr[data-member="m3"]').getByTestId('member-open').click();
    expect(await verdictOf(p)).toMatch(/healthy|starts-with-warnings/);
    expect(await p.getByTestId('verdict').innerText()).toContain('m3');
    await p.getByTestId('key-search').fill('configmap-0000');
    await p.locator('[data-key="/registry/configmaps/default/configmap-0000"]').click();
    const written = JSON.parse(sampleObjects(30, 0)[0].value) as Record<string, unknown>;
    await expect.poll(async () => JSON.parse(await p.getByTestId('key-value').innerText()) as unknown).toEqual(written);
    await p.getByTestId('back-to-members').click();
    await table.locator('tr[data-member="m1"]').getByTestId('member-open').click();
    await p.getByTestId('key-search').fill('configmap-0000');
    await p.locator('[data-key="/registry/configmaps/default/configmap-0000"]').click();
    const rewritten = JSON.parse(sampleObjects(30, 1)[0].value) as Record<string, unknown>;
    await expect.poll(async () => JSON.parse(await p.getByTestId('key-value').innerText()) as unknown).toEqual(rewritten);
    expect(errors).toEqual([]);
  });

  it('opens a lone snapshot.db as a file', async () => {
    const { page: p, errors } = await open();
    await p.getByTestId('file-input').setInputFiles(snapshotDb);
    await verdictOf(p);
    expect(await p.getByTestId('report').getAttribute('data-engine')).toBe('etcd');
    // A lone snapshot.db has no WAL, HardState or .snap: only the db's own index is cross-checked, no row of dashes.
    const cross = await p.getByTestId('etcd-crosscheck').innerText();
    expect(cross).toMatch(/db consistent index\s*\d+/);
    expect(cross).not.toMatch(/Last WAL index|Commit|Newest snap index|This node is a member/);
    await p.getByTestId('page-map').waitFor();
    await p.getByTestId('keys-total').waitFor({ timeout: 30_000 });
    expect(Number(await p.getByTestId('keys-total').getAttribute('data-total'))).toBeGreaterThanOrEqual(90);
    // Validated in the browser and restorable as it is: the restore plan, with the member its members bucket names.
    const plan = p.getByTestId('etcd-restore-plan');
    expect(await p.getByTestId('etcd-opened-restore').getAttribute('data-kind')).toBe('plan');
    const restoreStep = await plan.locator('li[data-kind="restore"]').innerText();
    expect(restoreStep).toContain('Step 4: Restore the snapshot');
    expect(restoreStep).toContain("etcdctl snapshot restore /var/tmp/snapshot.db \\\n  --data-dir '<DATA_DIR>' \\\n  --name cp-2");
    expect(await p.getByTestId('etcd-restore-placeholders').innerText()).toContain(
      '/var/tmp/snapshot.db: the snapshot.db checked here (snapshot.db); copy it to the node as /var/tmp/snapshot.db first (e.g. scp), or put its path on the node here if it is there already',
    );
    await screenshot(p, 'etcd-snapshot-db-restore-plan');
    expect(errors).toEqual([]);
  });

  it('zh-CN: the snapshot.db’s restore plan in Chinese; dropped with its SHA-256 trailer changed, no plan, etcdctl’s refusal', async () => {
    const { page: p, errors } = await open('zh-CN');
    await p.getByTestId('file-input').setInputFiles(snapshotDb);
    expect(await verdictOf(p)).toBe('healthy');
    await p.getByRole('heading', { name: '恢复此 snapshot.db' }).waitFor();
    const plan = p.getByTestId('etcd-restore-plan');
    expect(await plan.locator('li[data-kind="restore"] strong').first().innerText()).toBe('第 4 步：恢复快照');
    expect(await plan.locator('li[data-kind="restore"]').innerText()).toContain('--name cp-2');
    await screenshot(p, 'etcd-snapshot-db-restore-plan-zh');
    // The same file with one byte of its trailer changed, dropped on the page: etcdctl snapshot restore refuses it, so no plan.
    const bytes = await fs.readFile(snapshotDb);
    bytes[bytes.length - 1] ^= 0xff;
    const { page: b, errors: brokenErrors } = await open();
    await b.getByTestId('drop-zone').waitFor();
    await b.evaluate((base64) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], 'snapshot.db'));
      document.querySelector('[data-testid="drop-zone"]')?.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, bytes.toString('base64'));
    expect(await verdictOf(b)).toBe('fails');
    const none = b.getByTestId('etcd-opened-restore-none');
    await none.waitFor();
    expect(await none.innerText()).toMatch(/^No restore plan for this file as it is: etcdctl snapshot restore would refuse it \(“expected sha256 \[/);
    expect(await b.getByTestId('etcd-restore-plan').count()).toBe(0);
    await screenshot(b, 'etcd-snapshot-db-no-plan');
    expect([...errors, ...brokenErrors]).toEqual([]);
  });

  it('a dropped snapshot.db that is no bbolt file gets a clear verdict, not a crash', async () => {
    const { page: p, errors } = await open();
    // Garbage under etcd's name (a SQLite file would be told as SQLite: web-ui.test.ts).
    await dropOne(p, 'snapshot.db', [...new TextEncoder().encode('half-copied garbage, no bbolt meta page\n'.repeat(20))]);
    expect(await verdictOf(p)).toBe('fails');
    expect(await p.getByTestId('report').getAttribute('data-engine')).toBe('etcd');
    expect(await p.getByTestId('findings').locator('li.finding[data-severity="error"]').count()).toBeGreaterThan(0);
    expect(await p.getByTestId('findings').innerText()).toContain('snapshot.db');
    await screenshot(p, 'etcd-garbage-snapshot-db');
    expect(errors).toEqual([]);
  });

  it('shows the etcd report in Chinese', async () => {
    const { page: p, errors } = await open('zh-CN');
    await p.getByRole('button', { name: /打开示例：etcd：bbolt 在第 0 页崩溃/ }).click();
    expect(await verdictOf(p)).toBe('fails');
    await p.getByRole('heading', { name: 'etcd 启动时会做什么' }).waitFor();
    await p.getByRole('heading', { name: 'WAL 时间线' }).waitFor();
    await p.getByRole('heading', { name: 'bbolt 页面图' }).waitFor();
    await p.getByTestId('page-map').waitFor();
    await p.getByTestId('page-next-problem').click();
    const detail = p.getByTestId('page-detail');
    await detail.waitFor();
    // Page 0's problem: bbolt's own words quoted inside a Chinese sentence, none of ours in English.
    await expect.poll(() => detail.innerText()).toContain('bbolt 检查报告：“page 0: invalid type: meta”');
    await p.getByTestId('wal-file-link').first().click();
    const rows = p.getByTestId('wal-record-rows');
    await rows.locator('[data-record="2"]').click();
    await p.getByTestId('wal-record-detail').waitFor();
    // Record lines in Chinese: the metadata record, HardState and the puts of the log.
    const listed = await rows.innerText();
    expect(listed).toContain('元数据：节点');
    expect(listed).toContain('写入 /registry/');
    expect(listed).not.toMatch(/\bput \/registry|metadata node|empty entry/);
    await expect.poll(() => p.getByTestId('wal-record-summary').innerText()).toMatch(/[\u4e00-\u9fff]/);
    await screenshot(p, 'etcd-field-report-zh');
    await detail.scrollIntoViewIfNeeded();
    await screenshot(p, 'etcd-field-report-pages-zh', false);
    const { page: h } = await open('zh-CN');
    await h.getByRole('button', { name: /打开示例：etcd：健康的成员/ }).click();
    expect(await verdictOf(h)).toBe('healthy');
    await h.getByTestId('keys-total').waitFor({ timeout: 30_000 });
    await h.getByTestId('key-search').fill('service-0003');
    await h.locator('[data-key="/registry/services/default/service-0003"]').click();
    await h.getByTestId('key-value').waitFor();
    await screenshot(h, 'etcd-healthy-zh');
    expect(errors).toEqual([]);
  });

  it('the addresses field: typed addresses are validated, each peer URL is checked against them, the stale one says what to do (English)', async () => {
    const { page: p, errors } = await open();
    await p.getByRole('button', { name: /Open sample: etcd: healthy member/ }).click();
    expect(await verdictOf(p)).toBe('healthy');
    const panel = p.getByTestId('etcd-addresses');
    await panel.scrollIntoViewIfNeeded();
    // The field is found by its label, and the keyboard alone drives it: type, Enter.
    const input = p.getByLabel('Current addresses');
    await input.fill('300.1.1.1, node_a; 10.0.0.1');
    await input.press('Enter');
    await expect.poll(() => p.getByTestId('addr-error').innerText()).toContain('Not an IP address or host name: 300.1.1.1, node_a.');
    expect(await input.getAttribute('aria-invalid')).toBe('true');
    expect(await panel.getByTestId('addr-rows').count()).toBe(0);

    // An address the node does not have: the member's peer URL is flagged, with the finding text and the next step.
    await input.fill('172.18.0.7 ，kind-control-plane');
    await input.press('Enter');
    const summary = panel.getByTestId('addr-summary');
    await expect.poll(() => summary.getAttribute('data-stale')).toBe('1');
    expect(await summary.innerText()).toContain('Checked against 172.18.0.7, kind-control-plane.');
    const row = panel.getByTestId('addr-rows').locator('tbody tr');
    expect(await row.count()).toBe(1);
    expect(await row.getAttribute('data-at-node')).toBe('false');
    const url = (await row.getAttribute('data-url'))!;
    const host = new URL(url).hostname;
    expect(await row.innerText()).toContain('control-plane-1');
    const finding = panel.getByTestId('addr-findings').locator('li');
    expect(await finding.getAttribute('data-code')).toBe('cross.stale-address');
    expect(await finding.innerText()).toBe(
      `Member control-plane-1 (${await row.getAttribute('data-member')}) is registered with peer URL ${url}, but ${host} is not one of the addresses given (172.18.0.7, kind-control-plane). Peers dial the registered URL, so this member cannot be reached. While a quorum of the members still reach each other, etcdctl member update this member to its new URL; when none can (every address changed), start the member with the newest data with --force-new-cluster, etcdctl member update its own URL, then etcdctl member add the others back and start them with empty data dirs.`,
    );
    // The commands are set as code, not shown with the catalog's backticks.
    expect(await finding.locator('code').allInnerTexts()).toEqual(['etcdctl member update', 'etcdctl member update', 'etcdctl member add']);
    // The members table of the start-up panel marks the same URL, and lists the addresses given.
    await expect.poll(() => p.getByTestId('etcd-members').innerText()).toContain('address not on this node any more');
    expect(await p.getByTestId('etcd-crosscheck').innerText()).toContain('172.18.0.7, kind-control-plane');
    await screenshot(p, 'etcd-addresses-stale', false);

    // The node's real address (with a port, as copied from a URL): nothing is stale any more.
    await input.fill(`${host}:2380, 10.0.0.5`);
    await input.press('Enter');
    await expect.poll(() => summary.getAttribute('data-stale')).toBe('0');
    expect(await row.getAttribute('data-at-node')).toBe('true');
    expect(await summary.innerText()).toContain('Every peer URL uses an address the node has');
    expect(await panel.getByTestId('addr-findings').count()).toBe(0);
    expect(await p.getByTestId('etcd-members').innerText()).not.toContain('address not on this node any more');
    // Clear: back to the report as validated.
    await panel.getByTestId('addr-clear').click();
    expect(await panel.getByTestId('addr-rows').count()).toBe(0);
    expect(await input.inputValue()).toBe('');
    expect(errors).toEqual([]);
  });

  it('the addresses field in Chinese: labels, the error, the result and the finding text', async () => {
    const { page: p, errors } = await open('zh-CN');
    await p.getByRole('button', { name: /打开示例：etcd：健康的成员/ }).click();
    expect(await verdictOf(p)).toBe('healthy');
    const panel = p.getByTestId('etcd-addresses');
    await panel.getByRole('heading', { name: '节点当前的地址' }).waitFor();
    const input = p.getByLabel('当前地址');
    await input.fill('bad..name');
    await input.press('Enter');
    await expect.poll(() => p.getByTestId('addr-error').innerText()).toBe('以下内容不是 IP 地址或主机名：bad..name。请改正或删除后再核对。');
    await input.fill('172.18.0.7、172.18.0.8');
    await input.press('Enter');
    const summary = panel.getByTestId('addr-summary');
    await expect.poll(() => summary.getAttribute('data-stale')).toBe('1');
    expect(await summary.innerText()).toContain('已与 172.18.0.7, 172.18.0.8 核对。');
    expect(await summary.innerText()).toContain('1 个 peer URL 中有 1 个使用的地址不属于该节点。');
    const row = panel.getByTestId('addr-rows').locator('tbody tr');
    expect(await row.innerText()).toContain('否：不是该节点的地址');
    const url = (await row.getAttribute('data-url'))!;
    const text = await panel.getByTestId('addr-findings').locator('li').innerText();
    expect(text).toContain(`登记的 peer URL 是 ${url}`);
    expect(text).toContain('先用 --force-new-cluster 启动数据最新的成员');
    // The whole panel reads in Chinese: the only Latin letters are the member's name and id, the URL, the addresses and product words.
    const latin = (await panel.innerText())
      .replaceAll(url, '')
      .replace(/control-plane-1|[0-9a-f]{16}|etcdctl member (?:update|add)|--force-new-cluster|ip -brief addr|node-a/g, '')
      .match(/[A-Za-z]+/g);
    const allowed = new Set(['peer', 'Peer', 'URL', 'IP', 'kind']);
    expect((latin ?? []).filter((w) => !allowed.has(w))).toEqual([]);
    await panel.scrollIntoViewIfNeeded();
    await screenshot(p, 'etcd-addresses-zh', false);
    expect(errors).toEqual([]);
  });

  it('reads in the dark theme too (page map colours come from the theme)', async () => {
    const { page: p, errors } = await open('en-US', 'dark');
    await p.getByRole('button', { name: /Open sample: etcd: bbolt panic at page 0/ }).click();
    expect(await verdictOf(p)).toBe('fails');
    await p.getByTestId('page-map').waitFor();
    await p.getByTestId('page-next-problem').click();
    await p.getByTestId('page-detail').getByTestId('page-parent-link').click();
    await expect.poll(() => p.getByTestId('page-type').getAttribute('data-type')).toBe('branch');
    // The canvas is drawn with the dark surface, not a white box.
    const corner = await p
      .getByTestId('page-map')
      .locator('canvas')
      .evaluate((c) => {
        const ctx = (c as HTMLCanvasElement).getContext('2d')!;
        const d = ctx.getImageData((c as HTMLCanvasElement).width - 2, (c as HTMLCanvasElement).height - 2, 1, 1).data;
        return [d[0], d[1], d[2]];
      });
    expect(Math.max(...corner)).toBeLessThan(80);
    await screenshot(p, 'etcd-field-report-dark');
    expect(errors).toEqual([]);
  });
});
