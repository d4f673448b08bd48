/**
 * The dqlite rebuild from the report in a real browser against the real
 * web-mode back end, on real dqlite-demo data dirs: the field report's node
 * (dqlite will not start on it) in English with the mouse, and a copy of the
 * healthy node with its last segment damaged in Chinese with the keyboard
 * only. What the page shows is checked against the files on disk (sizes,
 * `sqlite3` integrity, the fresh backend) and against the same rebuild run
 * here; the Chinese panel holds no English of ours; the inputs are
 * unchanged. Screenshots land in test-artifacts/e2e/.
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { DqliteRebuildReport } from '../../shared/contract/dqlite';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { rebuildDqliteDirectory } from '../../electron/services/dqlite-rebuild';
import { MICROK8S_BACKEND } from '../../shared/formats/dqlite/repair-plan';
import { englishLeaks } from '../helpers/zh-english';
import { copyDir, hashTree, tempDir } from '../helpers/etcd';
import { damageLastClosedSegment } from '../helpers/dqlite-files';
import { REPO } from '../cli/fixtures';
import { freePort, requireDqliteDemo, startNode } from '../helpers/dqlite-demo';
import { ARTIFACTS, chromiumAvailable, ensureRendererBuilt, launchChromium, openPage, RENDERER_DIR, screenshot, type WatchedPage } from './helpers';

const canRun = chromiumAvailable();
const SAMPLES = path.join(REPO, 'resources', 'samples');

let tmp: string;
let copies: string;
let server: WebServer;
let browser: Browser;
const inputs: Record<'field' | 'damaged' | 'kine', { dir: string; hash: string; expected: DqliteRebuildReport }> = {} as never;
const canKine = requireDqliteDemo() && (spawnSync('dqlite', ['--help']).status === 0 || process.env.CI === 'true');

/** A MicroK8s-shaped node: dqlite-demo with a `k8s` database holding kine's table (configmaps, a secret, a deletion). */
async function kineNode(parent: string): Promise<string> {
  const server = `127.0.0.1:${await freePort()}`;
  const node = await startNode(parent, server);
  try {
    const row = (name: string, deleted: number, json: string) =>
      `INSERT INTO kine (name, created, deleted, create_revision, prev_revision, lease, value, old_value) VALUES ('${name}', 1, ${deleted}, 0, 0, 0, x'${Buffer.from(json).toString('hex')}', NULL);`;
    const statements = [
      'CREATE TABLE kine (id INTEGER PRIMARY KEY AUTOINCREMENT, name INTEGER, created INTEGER, deleted INTEGER, create_revision INTEGER, prev_revision INTEGER, lease INTEGER, value BLOB, old_value BLOB);',
      ...Array.from({ length: 12 }, (_, i) =>
        row(`/registry/configmaps/default/cm-${i}`, 0, JSON.stringify({ kind: 'ConfigMap', metadata: { name: `cm-${i}` } })),
      ),
      row('/registry/configmaps/default/cm-0', 1, '{}'),
      row('/registry/secrets/kube-system/token', 0, JSON.stringify({ kind: 'Secret', metadata: { name: 'token' } })),
    ];
    const r = spawnSync('dqlite', ['-s', server, 'k8s', statements.join(' ')], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0 || /Error/i.test(r.stdout + r.stderr)) throw new Error(`dqlite shell: ${r.stdout} ${r.stderr}`);
  } finally {
    await node.kill();
  }
  return node.dataDir;
}
const pages: WatchedPage[] = [];
const savedCopies = process.env.LIFEBOAT_COPIES_DIR;

async function open(locale: string): Promise<WatchedPage> {
  const p = await openPage(browser, server.url, { locale });
  pages.push(p);
  return p;
}

async function openSample(w: WatchedPage, id: string): Promise<void> {
  await w.page.locator(`button[data-sample-id="${id}"]`).click();
  await w.page.getByTestId('verdict').waitFor({ timeout: 90_000 });
}

/** The panel alone, at full resolution. */
async function panelShot(w: WatchedPage, name: string): Promise<void> {
  await w.page.evaluate(() => document.fonts.ready);
  await w.page.addStyleTag({ content: 'header.top { position: static !important; }' });
  await w.page.getByTestId('dqlite-rebuild').screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

function integrity(db: string): string {
  return spawnSync('sqlite3', [db, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).stdout.trim();
}

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  tmp = await tempDir('e2e-rebuild');
  copies = path.join(tmp, 'copies');
  process.env.LIFEBOAT_COPIES_DIR = copies;
  const samples = path.join(tmp, 'samples');
  await fs.mkdir(samples);
  await copyDir(path.join(SAMPLES, 'dqlite-field-report'), path.join(samples, 'field'));
  await copyDir(path.join(SAMPLES, 'dqlite-healthy'), path.join(samples, 'damaged'));
  damageLastClosedSegment(path.join(samples, 'damaged'));
  const entry = (id: string) => ({ id, dir: id, titleKey: 'sample.fieldReport.title', descriptionKey: 'sample.fieldReport.description', engine: 'dqlite' });
  const ids: ('field' | 'damaged' | 'kine')[] = ['field', 'damaged'];
  if (canKine) {
    const dataDir = await kineNode(path.join(tmp, 'kine-node'));
    await copyDir(dataDir, path.join(samples, 'kine'));
    ids.push('kine');
  }
  await fs.writeFile(path.join(samples, 'index.json'), JSON.stringify(ids.map(entry)));
  for (const id of ids) {
    const dir = path.join(samples, id);
    const hash = await hashTree(dir);
    // What the page must show, computed here from the same input.
    inputs[id] = { dir, hash, expected: await rebuildDqliteDirectory(dir, path.join(tmp, `expected-${id}`)) };
  }
  server = await startWebServer({ rendererDir: RENDERER_DIR, host: '127.0.0.1', port: 0, quiet: true, samplesDir: samples });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  for (const p of pages) await p.context.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
  if (savedCopies === undefined) delete process.env.LIFEBOAT_COPIES_DIR;
  else process.env.LIFEBOAT_COPIES_DIR = savedCopies;
  try {
    if (canRun) for (const i of Object.values(inputs)) expect(await hashTree(i.dir)).toBe(i.hash);
  } finally {
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  }
});

describe.skipIf(!canRun)('the dqlite rebuild in Chromium', () => {
  it('English: rebuilds the field report node from its report, shows the databases, the base, the log and the fresh backend', async () => {
    const w = await open('en-US');
    const p = w.page;
    await openSample(w, 'field');
    expect(await p.getByTestId('verdict').getAttribute('data-verdict')).toBe('fails');
    const panel = p.getByTestId('dqlite-rebuild');
    await panel.scrollIntoViewIfNeeded();
    await p.getByTestId('dqlite-rebuild-open').click();
    await expect.poll(() => p.getByTestId('dqlite-rebuild-input').innerText()).toBe(inputs.field.dir);
    const output = await p.getByTestId('dqlite-rebuild-output').inputValue();
    expect(output.startsWith(`${copies}/`)).toBe(true);
    const writes = await p.getByTestId('dqlite-rebuild-writes').innerText();
    expect(writes).toContain(`${output}/NAME.db`);
    expect(writes).toContain(`${output}/backend/`);
    expect(writes).toContain('Nothing is written to the input');

    // A path outside the copies folder is refused by the back end, and said so on the page.
    await p.getByTestId('dqlite-rebuild-output').fill(path.join(tmp, 'elsewhere'));
    await p.getByTestId('dqlite-rebuild-start').click();
    await expect.poll(() => p.getByTestId('dqlite-rebuild-start-error').innerText()).toContain('copies folder');
    await expect(fs.stat(path.join(tmp, 'elsewhere'))).rejects.toThrow();

    await p.getByTestId('dqlite-rebuild-output').fill(output);
    await p.getByTestId('dqlite-rebuild-start').click();
    const result = p.getByTestId('dqlite-rebuild-result');
    await result.waitFor({ timeout: 120_000 });
    const expected = inputs.field.expected;
    expect(await result.getAttribute('data-complete')).toBe('true');
    await p.getByTestId('dqlite-rebuild-complete').waitFor();
    // Each database row is the file on disk; sqlite3 finds it whole.
    for (const d of expected.databases) {
      const row = p.locator(`[data-testid="dqlite-rebuild-databases"] tr[data-database="${d.name}"]`);
      expect(await row.locator('td').nth(1).innerText()).toBe(d.file);
      const file = path.join(output, d.file);
      expect(Number(await row.locator('[data-bytes]').getAttribute('data-bytes'))).toBe((await fs.stat(file)).size);
      expect(integrity(file)).toBe('ok');
    }
    expect(await p.getByTestId('dqlite-rebuild-base').innerText()).toContain(
      `${expected.base!.snapshot}: entries up to ${expected.base!.index}, term ${expected.base!.term}`,
    );
    expect(await p.getByTestId('dqlite-rebuild-log').innerText()).toBe(
      `entries ${expected.log!.from}..${expected.log!.to} applied (${expected.log!.transactions} transactions, ${expected.log!.pages} page images)`,
    );
    expect(await p.getByTestId('dqlite-rebuild-engine').innerText()).toContain('would NOT start');
    // The fresh backend, and the steps that put it in place with the old one moved aside.
    const b = expected.backend!;
    const backend = await p.getByTestId('dqlite-rebuild-backend').innerText();
    expect(backend).toContain(`${path.join(output, 'backend')}: snapshot ${b.snapshot} of these databases at entry ${b.index}, term ${b.term}.`);
    expect((await fs.readdir(path.join(output, 'backend'))).sort()).toEqual((await fs.readdir(b.dir)).sort());
    // The same files in one archive for the guided upload, byte for byte the service's (the same input gives the same bytes).
    const tar = path.join(output, 'backend.tar');
    expect(await p.getByTestId('dqlite-rebuild-archive').innerText()).toContain(`${tar} (${b.archive.bytes} bytes, SHA-256 ${b.archive.sha256})`);
    expect((await fs.readFile(tar)).equals(await fs.readFile(b.archive.file))).toBe(true);
    const steps = await p.getByTestId('dqlite-rebuild-steps').innerText();
    expect(steps).toContain('sudo snap stop microk8s');
    expect(steps).toContain(`sudo mv ${MICROK8S_BACKEND} ${MICROK8S_BACKEND}.before-lifeboat`);
    expect(steps).toContain('sudo snap start microk8s');
    await screenshot(p, 'dqlite-rebuild-en');
    await panelShot(w, 'dqlite-rebuild-en-panel');
    expect(w.errors).toEqual([]);
  }, 300_000);

  it.skipIf(!canKine)(
    "a MicroK8s-shaped node: the kine database's live keys are written as object files, and the page says how many",
    async () => {
      const w = await open('en-US');
      const p = w.page;
      await openSample(w, 'kine');
      await p.getByTestId('dqlite-rebuild').scrollIntoViewIfNeeded();
      await p.getByTestId('dqlite-rebuild-open').click();
      const output = await p.getByTestId('dqlite-rebuild-output').inputValue();
      expect(await p.getByTestId('dqlite-rebuild-writes').innerText()).toContain(`${output}/objects/<resource>/<namespace>/<name>.yaml`);
      await p.getByTestId('dqlite-rebuild-start').click();
      const objects = p.getByTestId('dqlite-rebuild-objects');
      await objects.waitFor({ timeout: 120_000 });
      // 12 configmaps, one deleted, and a secret: 12 files, the secret 0600.
      expect(await objects.getAttribute('data-objects')).toBe('12');
      expect(await objects.innerText()).toBe(
        `Live keys written as files into ${output}/objects by resource and namespace: 12 (Secrets or encrypted values among them, mode 0600: 1; deleted keys, not written: 1)`,
      );
      expect((await fs.readdir(path.join(output, 'objects', 'configmaps', 'default'))).sort()).toEqual(
        Array.from({ length: 11 }, (_, i) => `cm-${i + 1}.yaml`).sort(),
      );
      expect((await fs.stat(path.join(output, 'objects', 'secrets', 'kube-system', 'token.yaml'))).mode & 0o777).toBe(0o600);
      expect(await p.getByTestId('dqlite-rebuild-databases').innerText()).toContain('k8s');
      await panelShot(w, 'dqlite-rebuild-kine-en-panel');
      expect(w.errors).toEqual([]);
    },
    300_000,
  );

  it('Chinese, keyboard only: rebuilds the damaged copy, says where and why it stopped, with no English of ours', async () => {
    const w = await open('zh-CN');
    const p = w.page;
    await openSample(w, 'damaged');
    const opener = p.getByTestId('dqlite-rebuild-open');
    await opener.scrollIntoViewIfNeeded();
    await opener.focus();
    await p.keyboard.press('Enter');
    expect(await opener.getAttribute('aria-expanded')).toBe('true');
    // Tab from the opener reaches the output field, then the start button.
    await p.getByTestId('dqlite-rebuild-output').waitFor();
    await p.keyboard.press('Tab');
    await expect.poll(() => p.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('dqlite-rebuild-output');
    const output = await p.getByTestId('dqlite-rebuild-output').inputValue();
    await p.keyboard.press('Tab');
    await expect.poll(() => p.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('dqlite-rebuild-start');
    expect(await p.getByTestId('dqlite-rebuild-start').innerText()).toBe('重建');
    await p.keyboard.press('Enter');
    const result = p.getByTestId('dqlite-rebuild-result');
    await result.waitFor({ timeout: 120_000 });
    const expected = inputs.damaged.expected;
    expect(await result.getAttribute('data-complete')).toBe('false');
    const stop = await p.getByTestId('dqlite-rebuild-stop').innerText();
    expect(stop).toContain(`重建在条目 ${expected.stop!.index} 处停止。`);
    expect(stop).toContain(`位置：${expected.stop!.file} 的第 ${expected.stop!.offset} 字节`);
    // The reason is the back end's own English, said as such.
    expect(stop).toContain(`原因（后端的原文）： ${expected.stop!.why}`);
    expect(await p.getByTestId('dqlite-rebuild-engine').innerText()).toBe('在当前输入上能启动，但只能靠静默丢弃条目（已在上面列出）。');
    const db = path.join(output, expected.databases[0]!.file);
    expect(integrity(db)).toBe('ok');
    // The same rows as the rebuild run here: the page rebuilt what the service rebuilds.
    const rows = (f: string) => spawnSync('sqlite3', [f, 'SELECT key, value FROM model ORDER BY key;'], { encoding: 'utf8' }).stdout;
    expect(rows(db)).toBe(rows(path.join(tmp, 'expected-damaged', expected.databases[0]!.file)));
    // No English of ours in the panel: what is left are paths, file names, commands, product names and the
    // back end's own reason (marked lang="en").
    const text = await p.getByTestId('dqlite-rebuild').evaluate((el) => {
      const clone = el.cloneNode(true) as HTMLElement;
      for (const n of clone.querySelectorAll('[lang="en"], pre, code, .mono')) n.remove();
      return clone.innerText;
    });
    // The input's own names (snapshot files, the node's files copied, database names) are data, not words.
    const names = [
      expected.base?.snapshot,
      ...expected.passedOver.map((x) => x.snapshot),
      ...(expected.backend ? [expected.backend.snapshot, ...expected.backend.copied] : []),
      ...expected.databases.flatMap((d) => [d.name, d.file]),
    ].filter((x): x is string => !!x);
    const neutral = names.reduce((t, n) => t.split(n).join(' '), text);
    const words = englishLeaks(neutral.replace(/\S+\.(?:yaml|part|db)\b/g, ' '), new Set()).filter(
      (x) => !['backend', 'MicroK8s', 'Secret', 'root', 'reconfigure', 'NAME'].includes(x),
    );
    expect(words).toEqual([]);
    await screenshot(p, 'dqlite-rebuild-zh');
    await panelShot(w, 'dqlite-rebuild-zh-panel');
    expect(w.errors).toEqual([]);
  }, 300_000);
});
