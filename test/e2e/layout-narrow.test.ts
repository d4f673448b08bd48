/**
 * Every screen at the two small window sizes people really have on a
 * laptop or a jump host's VNC (1024x700 and 1280x800), in English and in
 * Simplified Chinese: nothing scrolls the page sideways, nothing spills out
 * of its box, no button's label and no field's hint is cut or wrapped, no
 * Chinese is drawn as boxes, no sentence shows a command's backticks. The
 * guided checklist beside the terminals gets a readable share of the width,
 * the terminal keeps a usable one and its PTY follows the splitter. Screens:
 * the start screen, the pasted listing, the dqlite and etcd reports (segment
 * map, WAL timeline, page map, key browser, repair and salvage), the logs
 * dialog and view, the SSH workspace (connection form, host-key and password
 * prompts, terminals, data directory and logs panes, session log), the node
 * card, a guided session's checklist, its exported report and the list of
 * recorded sessions. One screenshot per screen, at 1024x700 in Chinese (the
 * language whose labels are the hardest to fit), lands in test-artifacts/e2e/.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { REPO } from '../cli/fixtures';
import { makeGolden, requireEtcd, tempDir } from '../helpers/etcd';
import { BACKUP_SCRIPT, kubekeyEtcdFiles } from '../helpers/guided-node';
import { startRealisticNode, realisticNodesAvailable, type RealisticNode } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';
import { FIELD_REPORTS } from '../helpers/field-reports';
import {
  answerPassword,
  chromiumAvailable,
  ensureRendererBuilt,
  expectConnected,
  fillSshTarget,
  launchChromium,
  openPage,
  pointAppAt,
  RENDERER_DIR,
  screenshot,
  sshAppPaths,
  type WatchedPage,
} from './helpers';

const SAMPLES = path.join(REPO, 'resources', 'samples');
const SIZES = [
  { width: 1024, height: 700 },
  { width: 1280, height: 800 },
] as const;
const RUN_OFFLINE = chromiumAvailable() && requireEtcd();
const RUN_SSH = RUN_OFFLINE && sshdAvailable() && realisticNodesAvailable();

/** What is wrong with the layout of the page as it is drawn now (empty lists when nothing is). */
interface LayoutProblems {
  /** How many pixels the page scrolls sideways. */
  pageOverflow: number;
  /** Boxes whose content spills out of them sideways (overflow visible) or that scroll sideways themselves. */
  spills: string[];
  /** Buttons whose label is laid out on more than one line. */
  wrappedButtons: string[];
  /** Chinese text drawn as empty boxes (not with the bundled font). */
  boxes: string[];
  /** Sentences that show a command's backticks instead of setting it as code. */
  backticks: string[];
}

/** Measured in the page: see LayoutProblems. Sideways scrollers that are meant to scroll (code, terminals, tables in a scroll box) are allowed by `allow`. */
function layoutProblems(page: Page, allow: string[] = []): Promise<LayoutProblems> {
  return page.evaluate((allowed) => {
    const name = (el: Element): string => {
      const id = el.getAttribute('data-testid');
      const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).slice(0, 2).join('.')}` : '';
      return `${el.tagName.toLowerCase()}${id ? `[${id}]` : ''}${cls} "${(el.textContent ?? '').trim().slice(0, 40)}"`;
    };
    const shown = (el: Element): boolean => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
    };
    const spills: string[] = [];
    for (const el of document.querySelectorAll('body *')) {
      if (!(el instanceof HTMLElement) || !shown(el)) continue;
      if (el.closest('.xterm') || allowed.some((sel) => el.closest(sel))) continue;
      const style = getComputedStyle(el);
      if (style.display === 'inline' || style.display === 'contents') continue;
      const over = el.scrollWidth - el.clientWidth;
      if (over <= 1) continue;
      // A canvas view scrolls on purpose; text boxes scroll sideways only when something in them cannot wrap.
      if (style.overflowX === 'hidden' || style.overflowX === 'clip') continue;
      spills.push(`${name(el)} by ${over}px (overflow-x ${style.overflowX})`);
    }
    // A label is one text node: laid out on two lines, it broke mid-label (a button that holds a paragraph is allowed by `allow`).
    const wrappedButtons: string[] = [];
    for (const b of document.querySelectorAll('button, .button, [role="tab"]')) {
      if (!shown(b) || b.closest('.xterm') || allowed.some((sel) => b.closest(sel))) continue;
      const walker = document.createTreeWalker(b, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (!n.textContent?.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(n);
        const lines = new Set([...range.getClientRects()].filter((r) => r.width > 1).map((r) => Math.round(r.top + r.height / 2)));
        if (lines.size > 1) {
          wrappedButtons.push(`${name(b)}: "${n.textContent.trim()}" on ${lines.size} lines`);
          break;
        }
      }
    }
    // A Chinese character drawn with the bundled Noto Sans SC is 1em wide; an empty box (the fallback's .notdef) is not.
    const boxes: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const at = n.textContent?.search(/[\u4e00-\u9fff]/) ?? -1;
      const parent = n.parentElement;
      if (at < 0 || !parent || !shown(parent) || parent.closest('.xterm')) continue;
      const range = document.createRange();
      range.setStart(n, at);
      range.setEnd(n, at + 1);
      const width = range.getBoundingClientRect().width;
      const style = getComputedStyle(parent);
      const em = parseFloat(style.fontSize) + (parseFloat(style.letterSpacing) || 0);
      if (width > 0 && Math.abs(width - em) > em * 0.1) boxes.push(`${name(parent)}: "${n.textContent!.slice(at, at + 8)}" ${width.toFixed(1)}px at ${em}px`);
    }
    // A field's hint must be read whole: a placeholder wider than its field is cut off.
    const measure = document.createElement('canvas').getContext('2d')!;
    for (const input of document.querySelectorAll<HTMLInputElement>('input[placeholder], textarea[placeholder]')) {
      if (!shown(input) || input.value || allowed.some((sel) => input.closest(sel))) continue;
      const style = getComputedStyle(input);
      measure.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      const need = measure.measureText(input.placeholder).width;
      if (input instanceof HTMLInputElement && need > room + 1)
        spills.push(`${name(input)} placeholder "${input.placeholder}" needs ${need.toFixed(0)}px, has ${room}px`);
    }
    // A catalog sentence marks commands with backticks; the page sets them as code, never shows the backticks.
    const backticks: string[] = [];
    const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = texts.nextNode(); n; n = texts.nextNode()) {
      const parent = n.parentElement;
      if (!parent || !/`[^`\s][^`]*`/.test(n.textContent ?? '') || !shown(parent)) continue;
      if (parent.closest('pre, code, textarea, .xterm, .mono, [data-testid="logs-records"]')) continue;
      backticks.push(`${name(parent)}: "${n.textContent!.trim().slice(0, 60)}"`);
    }
    const root = document.scrollingElement ?? document.documentElement;
    return { pageOverflow: root.scrollWidth - window.innerWidth, spills, wrappedButtons, boxes, backticks };
  }, allow);
}

async function setLanguage(page: Page, lang: 'en' | 'zh-CN'): Promise<void> {
  const now = await page.evaluate(() => document.documentElement.lang);
  // A modal dialog makes the header inert for the pointer: click the button the way the keyboard would reach it before.
  if ((now === 'zh-CN') !== (lang === 'zh-CN')) await page.evaluate(() => document.querySelector<HTMLElement>('[data-testid="language-button"]')?.click());
  await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe(lang);
  await page.evaluate(() => document.fonts.ready);
}

/**
 * At each size and in each language, the page has no layout problem; `name`'s
 * screenshot is taken in Chinese at each size.
 */
async function sweep(
  page: Page,
  name: string,
  found: string[],
  opts: { allow?: string[]; fullPage?: boolean; check?: (page: Page, width: number) => Promise<void> } = {},
): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize(size);
    for (const lang of ['en', 'zh-CN'] as const) {
      await setLanguage(page, lang);
      await page.waitForTimeout(150);
      const problems = await layoutProblems(page, opts.allow);
      const where = `${name} at ${size.width}x${size.height} in ${lang}`;
      if (problems.pageOverflow > 0) found.push(`${where}: the page scrolls sideways by ${problems.pageOverflow}px`);
      for (const p of problems.spills) found.push(`${where}: spills: ${p}`);
      for (const p of problems.wrappedButtons) found.push(`${where}: wrapped: ${p}`);
      for (const p of problems.boxes) found.push(`${where}: boxes: ${p}`);
      for (const p of problems.backticks) found.push(`${where}: backticks: ${p}`);
      await opts.check?.(page, size.width);
      // One picture per screen: the narrowest size, in the language whose labels are the hardest to fit.
      if (lang === 'zh-CN' && size === SIZES[0]) await screenshot(page, `narrow-${name}-zh`, opts.fullPage ?? true);
    }
  }
  await setLanguage(page, 'en');
}

describe.runIf(RUN_OFFLINE)('every screen at 1024x700 and 1280x800 (web mode, samples)', () => {
  let server: WebServer;
  let browser: Browser;
  let tmp: string;
  let restoreEnv: () => void;
  const pages: WatchedPage[] = [];

  beforeAll(async () => {
    await ensureRendererBuilt();
    tmp = await tempDir('e2e-layout');
    restoreEnv = pointAppAt({
      knownHosts: path.join(tmp, 'known_hosts'),
      recordings: path.join(tmp, 'recordings'),
      sshConfig: path.join(tmp, 'ssh_config'),
      auditLog: path.join(tmp, 'audit.jsonl'),
      home: path.join(tmp, 'home'),
      copies: path.join(tmp, 'copies'),
    });
    server = await startWebServer({ rendererDir: RENDERER_DIR, host: '127.0.0.1', port: 0, quiet: true, samplesDir: SAMPLES });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    for (const p of pages) await p.context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    restoreEnv?.();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  async function fresh(): Promise<Page> {
    const wp = await openPage(browser, server.url);
    pages.push(wp);
    return wp.page;
  }

  it('start screen', async () => {
    const found: string[] = [];
    const page = await fresh();
    await page.getByTestId('drop-zone').waitFor();
    // Every slice of the bundled Chinese font is there before anything is drawn, even in English (see font-preload.ts).
    const slices = await page.evaluate(() => [...document.fonts].filter((f) => f.family.replace(/['"]/g, '') === 'Noto Sans SC').map((f) => f.status));
    expect(slices.length).toBeGreaterThan(10);
    expect(slices.filter((status) => status !== 'loaded')).toEqual([]);
    // "Where is the data directory?" open: its paths and commands are the widest things on the screen.
    await page.getByTestId('where-data-dir').locator('summary').click();
    await page.getByTestId('data-dir-locations').waitFor();
    await sweep(page, 'home', found, { allow: ['.sample'] });
    expect(found).toEqual([]);
  }, 120_000);

  it('dqlite field report: verdict, segment map, repair plan', async () => {
    const found: string[] = [];
    const page = await fresh();
    await page
      .getByRole('button', { name: /Open sample: .*field report/i })
      .first()
      .click();
    await page.getByTestId('verdict').waitFor({ timeout: 60_000 });
    await sweep(page, 'dqlite-report', found);
    expect(found).toEqual([]);
  }, 180_000);

  it('etcd field report: WAL timeline, page map, key browser, repair and salvage', async () => {
    const found: string[] = [];
    const page = await fresh();
    await page.getByRole('button', { name: /Open sample: etcd: bbolt panic at page 0/ }).click();
    await page.getByTestId('verdict').waitFor({ timeout: 60_000 });
    // A page opened on the map and a key opened in the browser: their details are part of the report.
    const map = page.getByTestId('page-map');
    await map.focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('Enter');
    await page.getByTestId('page-detail').waitFor();
    await page.locator('[data-testid="key-browser"] .key-row').first().click();
    await page.getByTestId('key-detail').waitFor();
    await sweep(page, 'etcd-report', found);

    // Repair and salvage: the choice, then the salvaged snapshot.db with its restore plan.
    await page.getByTestId('etcd-repair-open').click();
    await page.getByTestId('etcd-repair-start').waitFor({ timeout: 30_000 });
    await sweep(page, 'etcd-repair-choose', found);
    await page.getByTestId('etcd-repair-start').click();
    await page.getByTestId('etcd-repair-result').waitFor({ timeout: 120_000 });
    await sweep(page, 'etcd-repair-result', found);
    expect(found).toEqual([]);
  }, 180_000);

  it('pasted listing: the dialog, then the verdict, map and plan', async () => {
    const found: string[] = [];
    const page = await fresh();
    await page.getByTestId('paste-listing').click();
    await page.getByTestId('listing-text').fill(await fs.readFile(path.join(FIELD_REPORTS, 'microk8s-backend-listing.txt'), 'utf8'));
    await page.getByTestId('listing-log').fill(await fs.readFile(path.join(FIELD_REPORTS, 'microk8s-k8s-dqlite-journal.log'), 'utf8'));
    await sweep(page, 'listing-dialog', found, { fullPage: false, allow: ['.sample'] });
    await page.getByTestId('listing-analyze').click();
    await page.getByTestId('listing-verdict').waitFor();
    await sweep(page, 'listing-view', found);
    expect(found).toEqual([]);
  }, 180_000);

  it('logs dialog and logs view', async () => {
    const found: string[] = [];
    const page = await fresh();
    await page.getByTestId('paste-logs').click();
    await page.getByTestId('logs-dialog').waitFor();
    const sources = ['kubeadm-etcd-bbolt-panic.log', 'kubeadm-apiserver.log', 'kubeadm-kubelet-journal.log'];
    for (const [i, file] of sources.entries()) {
      if (i) await page.getByTestId('logs-add-source').click();
      await page.getByTestId('logs-source-name').nth(i).fill(file);
      const text = await fs.readFile(path.join(FIELD_REPORTS, file), 'utf8');
      await page
        .getByTestId('logs-source-text')
        .nth(i)
        .evaluate((el, value) => {
          (el as HTMLTextAreaElement).value = value;
          el.dispatchEvent(new Event('input', { bubbles: true }));
        }, text);
    }
    await sweep(page, 'logs-dialog', found, { fullPage: false, allow: ['.sample'] });
    await page.getByTestId('logs-analyze').click();
    await page.getByTestId('logs-view').waitFor({ timeout: 30_000 });
    // A story step is a paragraph in a button (its title may wrap), but its time stays on one line.
    await sweep(page, 'logs-view', found, {
      allow: ['.step-btn'],
      check: async (p, width) => {
        const times = await p.locator('[data-testid="logs-story"] .when').evaluateAll((els) => els.map((e) => e.getClientRects().length));
        expect(times.length, `story times at ${width}`).toBeGreaterThan(0);
        expect(
          times.every((n) => n === 1),
          `story times at ${width}: ${times.join(',')}`,
        ).toBe(true);
      },
    });
    expect(found).toEqual([]);
  }, 180_000);
});

describe.runIf(RUN_SSH)('SSH workspace and guided session at 1024x700 and 1280x800 (web mode, realistic node)', () => {
  let tmp: string;
  let node: RealisticNode;
  let server: WebServer;
  let browser: Browser;
  let restoreEnv: () => void;
  const pages: WatchedPage[] = [];

  beforeAll(async () => {
    await ensureRendererBuilt();
    tmp = await tempDir('e2e-layout-ssh');
    await fs.chmod(tmp, 0o755);
    // KubeKey's layout (as in guided.test.ts): the node card has a unit, an env file, a cron job and backups with long paths.
    const g = await makeGolden(path.join(tmp, 'etcd'), { keys: 10 });
    node = await startRealisticNode({ files: kubekeyEtcdFiles(g.endpoint), copies: { '/var/lib/etcd': g.dir }, startUnits: ['etcd'] });
    const backup = await node.exec(`sh ${BACKUP_SCRIPT}`, 60_000);
    expect(backup.code, backup.stderr).toBe(0);
    await node.exec('systemctl stop etcd');
    await fs.truncate(node.hostPath('/var/lib/etcd/member/snap/db'), 4096);
    const paths = await sshAppPaths(tmp, node.sshd, { home: path.join(tmp, 'home') });
    // Nothing known: the first connection asks about the host key.
    await fs.writeFile(paths.knownHosts, '');
    restoreEnv = pointAppAt(paths);
    server = await startWebServer({ rendererDir: RENDERER_DIR, host: '127.0.0.1', port: 0, quiet: true, samplesDir: null });
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    for (const p of pages) await p.context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    restoreEnv?.();
    await node?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  async function skipStep(page: Page, id: string): Promise<void> {
    const li = page.getByTestId(`step-${id}`);
    await li.getByTestId('skip').click();
    await li.getByTestId('skip-reason').fill('layout walk');
    await li.getByTestId('skip-submit').click();
    await expect.poll(() => li.getAttribute('data-status')).toBe('skipped');
  }

  const terminalWidth = (page: Page): Promise<number> =>
    page.locator('[data-testid="terminal-pane"]:visible [data-testid="terminal-screen"]').evaluate((el) => el.getBoundingClientRect().width);

  /**
   * Beside the terminal at `width` (0: the connections column is shown): the
   * checklist has a readable width, the terminal a usable one, the toolbar is
   * one row, and no word of a step (a path, a command's word) leaves its box.
   */
  async function checkBeside(page: Page, width: number): Promise<void> {
    const checklist = await page.getByTestId('checklist').evaluate((el) => el.getBoundingClientRect().width);
    expect(checklist, `checklist width at ${width}`).toBeGreaterThanOrEqual(width === SIZES[0].width ? 400 : 270);
    expect(await terminalWidth(page), `terminal width at ${width}`).toBeGreaterThanOrEqual(299);
    const toolbarRows = await page
      .locator('[data-testid="terminal-pane"]:visible .toolbar > button')
      .evaluateAll((buttons) => new Set(buttons.map((b) => Math.round(b.getBoundingClientRect().top))).size);
    if (width) expect(toolbarRows, `terminal toolbar rows at ${width}`).toBe(1);
    const outside = await page.getByTestId('checklist').evaluate((list) => {
      const right = list.getBoundingClientRect().right;
      return [...list.querySelectorAll('.word, pre, code, strong')].filter((w) => w.getBoundingClientRect().right > right + 0.5).map((w) => w.textContent);
    });
    expect(outside).toEqual([]);
  }

  /**
   * The node card's paths (data dir, env file, backups, the newest good one)
   * break only after a `/`: no name between two slashes is laid out on two
   * lines or cut, and every path still reads (and copies) as itself. Checked
   * as drawn, then with the card squeezed until a backup path must wrap, and
   * does (at a slash).
   */
  async function checkCardPaths(page: Page): Promise<void> {
    const measure = (squeeze: boolean) =>
      page
        .getByTestId('node-card')
        .first()
        .evaluate((card, squeezed) => {
          if (squeezed) {
            // Narrow the card until the backup path column is just wider than the path's longest name (plus 24 px):
            // narrower than the whole path, so it must wrap, and wide enough that no name needs cutting.
            const cell = card.querySelector<HTMLElement>('td.path')!;
            const longest = Math.max(...[...cell.querySelectorAll<HTMLElement>('.path-text .seg')].map((x) => x.scrollWidth));
            const { width } = card.getBoundingClientRect();
            (card as HTMLElement).style.width = `${width - (cell.getBoundingClientRect().width - (longest + 24))}px`;
          }
          const problems: string[] = [];
          let wrapped = 0;
          const paths = [...card.querySelectorAll<HTMLElement>('.path-text')];
          for (const p of paths) {
            const segs = [...p.querySelectorAll<HTMLElement>('.seg')];
            if (segs.map((s) => s.textContent).join('') !== p.title) problems.push(`"${p.textContent}" does not read as "${p.title}"`);
            for (const s of segs) {
              if (s.getClientRects().length !== 1) problems.push(`"${s.textContent}" of ${p.title} is split`);
              if (s.scrollWidth > s.clientWidth + 1) problems.push(`"${s.textContent}" of ${p.title} is cut`);
            }
            const lines = new Set(segs.map((s) => Math.round(s.getBoundingClientRect().top))).size;
            if (lines > 1) wrapped++;
            // A break falls after a slash: each line but the last ends with one.
            for (let i = 1; i < segs.length; i++) {
              const broke = Math.round(segs[i].getBoundingClientRect().top) > Math.round(segs[i - 1].getBoundingClientRect().top);
              if (broke && !segs[i - 1].textContent!.endsWith('/')) problems.push(`${p.title} breaks after "${segs[i - 1].textContent}"`);
            }
            const style = getComputedStyle(p);
            if (style.overflowWrap === 'anywhere' || style.wordBreak === 'break-all') problems.push(`${p.title} may break anywhere`);
          }
          if (squeezed) (card as HTMLElement).style.width = '';
          return { problems, wrapped, paths: paths.length };
        }, squeeze);
    const drawn = await measure(false);
    expect(drawn.problems).toEqual([]);
    expect(drawn.paths).toBeGreaterThanOrEqual(3);
    const squeezed = await measure(true);
    expect(squeezed.problems).toEqual([]);
    expect(squeezed.wrapped).toBeGreaterThan(0);
  }

  /** `ROWS COLS` of the visible terminal's PTY; with `previous`, waits until it reports another size. */
  async function sttySize(page: Page, previous?: string): Promise<string> {
    const screen = page.locator('[data-testid="terminal-pane"]:visible .xterm-rows');
    let last = '';
    await expect
      .poll(
        async () => {
          await page.locator('[data-testid="terminal-pane"]:visible [data-testid="terminal-screen"]').click();
          await page.keyboard.type('clear; echo size=$(stty size)');
          await page.keyboard.press('Enter');
          await page.waitForTimeout(300);
          last = [...(await screen.innerText()).matchAll(/size=(\d+ \d+)/g)].at(-1)?.[1] ?? '';
          return last !== '' && last !== previous;
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    return last;
  }

  it('connect form, host-key prompt, password prompt, node card, terminals, checklist', async () => {
    const found: string[] = [];
    const wp = await openPage(browser, server.url);
    pages.push(wp);
    const { page } = wp;
    await page.getByTestId('nav-ssh').click();
    await page.getByTestId('ssh-workspace').waitFor();
    await fillSshTarget(page, node.sshd);
    await sweep(page, 'ssh-connect', found, { fullPage: false });
    await page.getByTestId('ssh-connect').click();
    const dialog = page.getByTestId('ssh-prompt');
    await dialog.getByTestId('hostkey-fingerprint').waitFor({ timeout: 20_000 });
    await sweep(page, 'ssh-hostkey', found, { fullPage: false });
    await dialog.getByTestId('hostkey-accept-save').click();
    await page.getByTestId('prompt-input-0').waitFor({ timeout: 20_000 });
    await sweep(page, 'ssh-password', found, { fullPage: false });
    await answerPassword(page, node.sshd.password);
    await expectConnected(page);

    // Connecting opens the node's first terminal.
    await page.locator('[data-testid="terminal-pane"][data-status="live"]').waitFor({ timeout: 20_000 });
    await sweep(page, 'ssh-terminal', found, { fullPage: false });

    await page.getByTestId('pane-guided').click();
    await page.getByTestId('guided-detect').click();
    await page.getByTestId('node-card').waitFor({ timeout: 90_000 });
    await sweep(page, 'guided-node-card', found, { fullPage: false, check: checkCardPaths });

    // The session starts in a 1024 px window: the connections column folds so that checklist and terminal have room.
    await page.setViewportSize(SIZES[0]);
    await page.getByTestId('start-etcd-systemd-restore').click();
    await page.getByTestId('checklist').waitFor();
    expect(await page.getByTestId('ssh-side-toggle').getAttribute('aria-expanded')).toBe('false');
    // Walked (by skipping) to the step that moves the data directory aside: a long command and long paths.
    for (const id of ['overview', 'unit-state', 'check-backup', 'stop-etcd', 'wait-stopped', 'owner']) await skipStep(page, id);
    const command = page.getByTestId('step-move-aside').getByTestId('step-command');
    await command.waitFor();
    // Laid out word by word, it still reads (and copies) as the one command it is.
    expect(await command.innerText()).toMatch(/^test ! -e \/var\/lib\/etcd\.lifeboat-\S+ && mv \/var\/lib\/etcd \/var\/lib\/etcd\.lifeboat-\S+$/);
    await sweep(page, 'guided-checklist', found, { fullPage: false, check: checkBeside });
    await page.setViewportSize(SIZES[0]);

    // The splitter, with the keyboard: the checklist widens, the terminal narrows and the PTY follows.
    const checklistWidth = () => page.getByTestId('checklist').evaluate((el) => el.getBoundingClientRect().width);
    const before = await checklistWidth();
    const sizeBefore = await sttySize(page);
    const splitter = page.getByTestId('checklist-splitter');
    await splitter.focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowLeft');
    await expect.poll(checklistWidth).toBeGreaterThan(before + 60);
    expect(Number(await splitter.getAttribute('aria-valuenow'))).toBe(Math.round(await checklistWidth()));
    const sizeAfter = await sttySize(page, sizeBefore);
    expect(Number(sizeAfter.split(' ')[1])).toBeLessThan(Number(sizeBefore.split(' ')[1]));
    // End: the widest checklist still leaves the terminal 20rem (300 px at 15 px to the rem).
    await splitter.focus();
    await page.keyboard.press('End');
    await expect.poll(() => terminalWidth(page)).toBeLessThan(320);
    expect(await terminalWidth(page)).toBeGreaterThanOrEqual(299);
    // With the mouse: dragged back to the right.
    const box = (await splitter.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + 200, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => terminalWidth(page)).toBeGreaterThan(480);
    await checkBeside(page, SIZES[0].width);

    // The connections column comes back on demand; the checklist keeps a readable width beside it.
    await page.getByTestId('ssh-side-toggle').click();
    expect(await page.getByTestId('ssh-side-toggle').getAttribute('aria-expanded')).toBe('true');
    await sweep(page, 'guided-checklist-side', found, { fullPage: false, check: (p) => checkBeside(p, 0) });

    // The exported post-mortem, opened in a 1024 px window in each language.
    for (const lang of ['en', 'zh-CN'] as const) {
      await setLanguage(page, lang);
      const [report] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByTestId('export-html').click()]);
      const file = path.join(tmp, `report-${lang}.html`);
      await report.saveAs(file);
      const exported = await wp.context.newPage();
      await exported.setViewportSize(SIZES[0]);
      await exported.goto(`file://${file}`);
      await exported.evaluate(() => document.fonts.ready);
      const problems = await layoutProblems(exported);
      for (const [kind, list] of Object.entries(problems)) {
        if (Array.isArray(list)) for (const p of list) found.push(`exported report in ${lang}: ${kind}: ${p}`);
        else if (list > 0) found.push(`exported report in ${lang}: the page scrolls sideways by ${list}px`);
      }
      if (lang === 'zh-CN') await screenshot(exported, 'narrow-guided-report-zh');
      await exported.close();
    }
    await setLanguage(page, 'en');

    // The node's data directory and logs panes.
    await page.getByTestId('pane-datadir').click();
    await page.getByTestId('datadir-panel').waitFor();
    await sweep(page, 'ssh-datadir', found, { fullPage: false });
    await page.getByTestId('pane-logs').click();
    await sweep(page, 'ssh-node-logs', found, { fullPage: false });

    // The session log (the journal of every command run): a path breaks only where it must, never at its hyphens.
    await page.getByTestId('pane-log').click();
    await sweep(page, 'session-log', found, {
      check: async (p, width) => {
        const words = await p.locator('[data-testid="session-log-text"] .word').evaluateAll((els) =>
          // Two lines of text are more than twice the font size high; one line is less.
          els.map((e) => ({ text: e.textContent ?? '', wrapped: e.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(e).fontSize) })),
        );
        expect(words.length).toBeGreaterThan(0);
        expect(
          words.filter((w) => w.text.length < 60 && w.wrapped),
          `session log words at ${width}`,
        ).toEqual([]);
      },
    });

    // Closed, the session is in the guided pane's list of recorded sessions, to resume.
    await page.getByTestId('pane-terminals').click();
    await page.getByTestId('checklist').getByRole('button', { name: 'Close', exact: true }).click();
    await page.getByTestId('pane-guided').click();
    await expect.poll(() => page.getByTestId('guided-panel').getByRole('button', { name: 'Resume here' }).count()).toBeGreaterThan(0);
    await sweep(page, 'guided-sessions', found, { fullPage: false });
    expect(found).toEqual([]);
  }, 600_000);
});
