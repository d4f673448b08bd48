/**
 * An etcd data dir whose db has both meta pages broken (no tree for bbolt to
 * open), written by the real etcd 3.4 and dropped into the page in Chromium:
 * the page map is drawn from the pages' own headers and says so, a leaf of the
 * `key` bucket opens with its revisions, and the key browser lists the keys of
 * the leaves found by scanning, in English and in Chinese, never "not
 * available here". The input is hashed before and after.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { REPO } from '../cli/fixtures';
import { hashTree, makeGoldenWith, requireEtcd, tempDir, type EtcdGolden } from '../helpers/etcd';
import { boltTree, dbPath, flipByte, type BoltTreePage } from '../helpers/etcd-damage';
import { sampleObjects } from '../../build/etcd-samples';
import { chromiumAvailable, ensureRendererBuilt, launchChromium, openPage, RENDERER_DIR, screenshot, verdictOf, type WatchedPage } from './helpers';

const canRun = chromiumAvailable() && requireEtcd();
const SAMPLES = path.join(REPO, 'resources', 'samples');
const OBJECTS = 120;

let tmp: string;
let server: WebServer;
let browser: Browser;
const pages: WatchedPage[] = [];
let golden: EtcdGolden;
let damagedDir: string;
let damagedHash: string;
/** A leaf of the `key` bucket (from the intact db's tree, read by the test's own parser) and its revisions' main numbers. */
let keyLeaf: BoltTreePage;
let keyLeafRevisions: string[];
/** Keys etcd served plus the one deleted (a tombstone): what the key browser lists. */
let listedKeys: number;

async function open(locale: string): Promise<WatchedPage> {
  const p = await openPage(browser, server.url, { locale });
  pages.push(p);
  return p;
}

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  tmp = await tempDir('e2e-etcd-no-meta');
  const deleted = sampleObjects(OBJECTS, 0)[5]!.key;
  golden = await makeGoldenWith(path.join(tmp, 'golden', 'etcd-data'), { name: 'cp-1' }, async (node) => {
    for (const o of sampleObjects(OBJECTS, 0)) await node.put(o.key, o.value);
    await node.del(deleted);
  });
  listedKeys = golden.keys.size + 1;
  const intact = await fs.readFile(dbPath(golden.dir));
  const tree = boltTree(intact);
  keyLeaf = tree.pages.find((pg) => pg.bucket === 'key' && pg.kind === 'leaf')!;
  keyLeafRevisions = [];
  for (let i = 0; i < keyLeaf.count; i++) {
    const e = keyLeaf.id * tree.meta.pageSize + 16 + i * 16;
    const at = e + intact.readUInt32LE(e + 4);
    keyLeafRevisions.push(String(intact.readBigUInt64BE(at)));
  }
  damagedDir = path.join(tmp, 'drop', 'etcd-data');
  await fs.mkdir(path.dirname(damagedDir), { recursive: true });
  await fs.cp(golden.dir, damagedDir, { recursive: true });
  // Both metas' checksums, as the oracle's "both metas broken" case: bbolt says `checksum error` and opens nothing.
  await flipByte(dbPath(damagedDir), 72);
  await flipByte(dbPath(damagedDir), tree.meta.pageSize + 72);
  damagedHash = await hashTree(damagedDir);
  server = await startWebServer({ rendererDir: RENDERER_DIR, host: '127.0.0.1', port: 0, quiet: true, samplesDir: SAMPLES });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const p of pages) await p.context.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
  // Validation, the page map, the pages and the keys read the input only.
  if (canRun) expect(await hashTree(damagedDir)).toBe(damagedHash);
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

const TEXTS = {
  en: {
    locale: 'en-US',
    scan: 'Found by scanning page headers: no meta page leads to a tree.',
    keys: 'No meta page leads to a tree: these keys come from the leaf pages found by scanning the file',
    unavailable: 'Not available here',
    revision: (main: string) => `revision ${main}.0`,
  },
  zh: {
    locale: 'zh-CN',
    scan: '通过扫描页头得出：没有任何 meta 页能通向一棵树。',
    keys: '没有任何 meta 页能通向一棵树：这些键来自扫描文件找到的叶子页',
    unavailable: '此处不可用',
    revision: (main: string) => main,
  },
} as const;

describe.skipIf(!canRun)('etcd db with both metas broken, in Chromium', () => {
  for (const lang of ['en', 'zh'] as const) {
    it(`${lang}: the page map from page headers, a leaf's revisions, the keys of the scanned leaves`, async () => {
      const text = TEXTS[lang];
      const { page: p, errors } = await open(text.locale);
      await p.getByTestId('folder-input').setInputFiles(damagedDir);
      expect(await verdictOf(p)).toBe('fails');
      expect(await p.getByTestId('bbolt-problems').innerText()).toContain('checksum error');

      // The page map: drawn, labelled as found by scanning, one page a square (the keyboard walks page by page).
      const map = p.getByTestId('page-map');
      await map.waitFor({ timeout: 30_000 });
      expect(await p.getByTestId('page-map-scan').innerText()).toBe(
        lang === 'en'
          ? 'Found by scanning page headers: no meta page leads to a tree. Each page is coloured by what its own header says (freed copies of old pages look like the live ones), and no page can be placed in a bucket.'
          : '通过扫描页头得出：没有任何 meta 页能通向一棵树。每一页按它自己的页头着色（已释放的旧页副本看起来与仍在使用的页一样），也无法判断一页属于哪个桶。',
      );
      expect(await p.getByTestId('page-map-scan').innerText()).toContain(text.scan);
      expect(Number(await map.getAttribute('data-pages'))).toBe((await fs.stat(dbPath(damagedDir))).size / 4096);
      expect(await map.getAttribute('data-pages-per-cell')).toBe('1');
      expect(Number(await p.getByTestId('page-kind-count-leaf').innerText())).toBeGreaterThan(0);
      expect(await p.locator('[data-testid="page-map-panel"] canvas').count()).toBe(1);

      // The key bucket's leaf, reached with the keyboard: its revisions, as the real leaf holds them.
      await map.scrollIntoViewIfNeeded();
      await map.focus();
      await p.keyboard.press('Home');
      for (let i = 0; i < keyLeaf.id; i++) await p.keyboard.press('ArrowRight');
      await p.keyboard.press('Enter');
      const detail = p.getByTestId('page-detail');
      await expect.poll(() => detail.getAttribute('data-page')).toBe(String(keyLeaf.id));
      await expect.poll(() => detail.getByTestId('page-type').getAttribute('data-type')).toBe('leaf');
      const shown = await detail.locator('[data-testid="page-elements"] tbody tr td.key').allInnerTexts();
      expect(shown.length).toBe(keyLeafRevisions.length);
      if (lang === 'en') expect(shown).toEqual(keyLeafRevisions.map(text.revision));
      else shown.forEach((s, i) => expect(s).toContain(keyLeafRevisions[i]));
      await detail.scrollIntoViewIfNeeded();
      await screenshot(p, `etcd-no-meta-page-${lang}`, false);

      // The key browser: the keys of the scanned leaves, with the note that says where they come from.
      const keys = p.getByTestId('key-browser');
      await keys.scrollIntoViewIfNeeded();
      expect(await p.getByTestId('keys-without-tree').innerText()).toContain(text.keys);
      const total = p.getByTestId('keys-total');
      await total.waitFor({ timeout: 30_000 });
      expect(await total.getAttribute('data-total')).toBe(String(listedKeys));
      const one = sampleObjects(OBJECTS, 0)[12]!;
      // A namespaced object's full key: no other key contains it.
      await p.getByTestId('key-search').fill(one.key);
      await expect.poll(() => total.getAttribute('data-total')).toBe('1');
      await p.locator(`[data-key="${one.key}"]`).first().click();
      const value = p.getByTestId('key-detail').getByTestId('key-value');
      await expect.poll(async () => JSON.parse(await value.innerText()) as unknown).toEqual(JSON.parse(one.value));
      await screenshot(p, `etcd-no-meta-keys-${lang}`, false);

      expect(await p.locator('body').innerText()).not.toContain(text.unavailable);
      expect(errors).toEqual([]);
    });
  }

  it('an empty db (0 bytes) says it is empty, not "not available"', async () => {
    const dir = path.join(tmp, 'drop-empty', 'etcd-data');
    await fs.mkdir(path.dirname(dir), { recursive: true });
    await fs.cp(golden.dir, dir, { recursive: true });
    await fs.truncate(dbPath(dir), 0);
    const before = await hashTree(dir);
    const { page: p, errors } = await open('en-US');
    await p.getByTestId('folder-input').setInputFiles(dir);
    await verdictOf(p);
    expect(await p.getByTestId('page-map-unavailable').innerText()).toBe('The db file is empty (0 bytes): it has no pages or keys to show.');
    expect(await p.getByTestId('keys-unavailable').innerText()).toBe('The db file is empty (0 bytes): it has no pages or keys to show.');
    expect(await p.locator('body').innerText()).not.toContain('Not available here');
    expect(await hashTree(dir)).toBe(before);
    expect(errors).toEqual([]);
  });
});
