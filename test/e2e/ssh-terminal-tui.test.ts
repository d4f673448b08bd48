/**
 * What an operator does in the SSH workspace's terminals beyond typing a
 * command, in Chromium against web mode and real sshd instances on 127.0.0.1:
 * full-screen programs (vim, less) switch xterm to the alternate screen and
 * give the shell's screen back on exit; `tail -f` streams lines appended while
 * it runs; the search box finds a word in the scrollback and selects it; a
 * selection copied to the clipboard pastes back into the shell; and two nodes
 * (two sshd, two host keys) each get a terminal talking to its own node.
 *
 * The programs are the machine's own (`vim`, `less`, `tail`: Debian's vim,
 * less and coreutils), run by the test user through a real PTY.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { makeTempDir, sshdAvailable, startSshd, toolAvailable, type SshdInstance } from '../helpers/sshd';
import {
  answerPassword,
  chromiumAvailable,
  ensureRendererBuilt,
  fillSshTarget,
  openAppOnSsh,
  screenshot,
  sshAppPaths,
  startWebApp,
  type WebApp,
} from './helpers';

const VIM = '/usr/bin/vim';
const LESS = '/usr/bin/less';
const canRun = chromiumAvailable() && sshdAvailable() && toolAvailable(VIM) && toolAvailable(LESS);

let tmp: string;
let nodeA: SshdInstance;
let nodeB: SshdInstance;
let app: WebApp;
/** A file the test user can read and the test appends to (the dir is 0755, the file 0644). */
let followed: string;
let viewed: string;

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  tmp = await makeTempDir('lifeboat-e2e-tui-');
  [nodeA, nodeB] = await Promise.all([startSshd(), startSshd()]);
  const paths = await sshAppPaths(tmp, nodeA);
  // Both nodes' keys are known: neither connection stops at an unknown-key prompt.
  await fs.appendFile(paths.knownHosts, nodeB.knownHostsLine() + '\n');
  viewed = path.join(tmp, 'viewed.txt');
  await fs.writeFile(viewed, 'alpha-line\nbravo-line\ncharlie-line\n', { mode: 0o644 });
  followed = path.join(tmp, 'followed.log');
  await fs.writeFile(followed, 'first-entry\n', { mode: 0o644 });
  app = await startWebApp(paths);
}, 240_000);

afterAll(async () => {
  await app?.close();
  await nodeA?.stop();
  await nodeB?.stop();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

const VISIBLE_PANE = '[data-testid="terminal-pane"]:visible';

/** Text of the visible xterm screen (DOM renderer rows). */
function screenText(page: Page): Promise<string> {
  return page.locator(`${VISIBLE_PANE} .xterm-rows`).innerText();
}

/** Rows of the visible screen, trailing blanks trimmed (xterm pads with no-break spaces). */
async function screenRows(page: Page): Promise<string[]> {
  return (await page.locator(`${VISIBLE_PANE} .xterm-rows > div`).allInnerTexts()).map((r) => r.replace(/[\s\u00a0]+$/, ''));
}

function bufferType(page: Page): Promise<string | null> {
  return page.locator(VISIBLE_PANE).getAttribute('data-buffer');
}

async function focusTerminal(page: Page): Promise<void> {
  await page.locator(`${VISIBLE_PANE} [data-testid="terminal-screen"]`).click();
}

async function runInTerminal(page: Page, command: string): Promise<void> {
  await focusTerminal(page);
  await page.keyboard.type(command);
  await page.keyboard.press('Enter');
}

/** Wait until some screen row is exactly `row` (an output line, not the echoed command). */
async function expectRow(page: Page, row: string, timeout = 15_000): Promise<void> {
  await expect.poll(async () => (await screenRows(page)).includes(row), { timeout }).toBe(true);
}

describe.skipIf(!canRun)('SSH terminal: full-screen programs, follow, search, clipboard, two nodes (Chromium, real sshd)', () => {
  it('vim and less take the alternate screen and give the shell screen back; tail -f streams appended lines', async () => {
    const page = await openAppOnSsh(app, nodeA);
    await page.locator(`${VISIBLE_PANE}[data-status="live"]`).waitFor({ timeout: 20_000 });
    expect(await bufferType(page)).toBe('normal');
    await runInTerminal(page, 'echo before-vim-$((1+1))');
    await expectRow(page, 'before-vim-2');

    // vim: the file and its `~` filler rows replace the shell screen.
    await page.keyboard.type(`vim -R ${viewed}`);
    await page.keyboard.press('Enter');
    await expect.poll(() => bufferType(page), { timeout: 15_000 }).toBe('alternate');
    await expectRow(page, 'charlie-line');
    let rows = await screenRows(page);
    expect(rows.filter((r) => r === '~').length).toBeGreaterThan(3);
    expect(rows.some((r) => r.includes('before-vim-2'))).toBe(false);
    await screenshot(page, 'ssh-tui-vim', false);
    await page.keyboard.type(':q');
    await page.keyboard.press('Enter');
    await expect.poll(() => bufferType(page), { timeout: 15_000 }).toBe('normal');
    // The shell's screen is back as it was, vim's rows are gone.
    await expectRow(page, 'before-vim-2');
    rows = await screenRows(page);
    expect(rows).not.toContain('charlie-line');
    expect(rows).not.toContain('~');

    // less: same switch, and `q` restores.
    await runInTerminal(page, `less ${viewed}`);
    await expect.poll(() => bufferType(page), { timeout: 15_000 }).toBe('alternate');
    await expectRow(page, 'bravo-line');
    expect((await screenRows(page)).some((r) => r.includes('before-vim-2'))).toBe(false);
    await screenshot(page, 'ssh-tui-less', false);
    await page.keyboard.press('q');
    await expect.poll(() => bufferType(page), { timeout: 15_000 }).toBe('normal');
    await expectRow(page, 'before-vim-2');
    expect(await screenRows(page)).not.toContain('bravo-line');

    // tail -f: lines appended on the node appear while it runs, in order.
    await runInTerminal(page, `tail -f ${followed}`);
    await expectRow(page, 'first-entry');
    await fs.appendFile(followed, 'follow-entry-1\n');
    await expectRow(page, 'follow-entry-1');
    await fs.appendFile(followed, 'follow-entry-2\nfollow-entry-3\n');
    await expectRow(page, 'follow-entry-3');
    rows = await screenRows(page);
    expect(rows.indexOf('follow-entry-1')).toBeLessThan(rows.indexOf('follow-entry-2'));
    expect(rows.indexOf('follow-entry-2')).toBeLessThan(rows.indexOf('follow-entry-3'));
    await screenshot(page, 'ssh-tui-follow', false);
    // Ctrl+C reaches the remote tail through the PTY and the prompt comes back.
    await page.keyboard.press('Control+c');
    await runInTerminal(page, 'echo after-follow-$((2+3))');
    await expectRow(page, 'after-follow-5');
    expect(app.pages.at(-1)!.errors).toEqual([]);
  }, 150_000);

  it('finds a word in the scrollback and selects it; copies a selection and pastes it back into the shell', async () => {
    const page = await openAppOnSsh(app, nodeA);
    await page.locator(`${VISIBLE_PANE}[data-status="live"]`).waitFor({ timeout: 20_000 });
    // The needle scrolls far out of view: 300 lines follow it.
    await runInTerminal(page, 'echo needle-$((40+2)); seq 1000 1299');
    await expectRow(page, '1299');
    expect(await screenText(page)).not.toContain('needle-42');

    await page.keyboard.press('Control+Shift+F');
    const input = page.locator(`${VISIBLE_PANE} [data-testid="terminal-search-input"]`);
    await input.waitFor();
    await expect.poll(() => input.evaluate((el) => el === document.activeElement)).toBe(true);
    await input.fill('needle-42');
    await input.press('Enter');
    // The viewport scrolled back to the match and xterm drew a selection over it.
    await expectRow(page, 'needle-42');
    // xterm draws the selection layer on its next animation frame: give a loaded machine time.
    await expect.poll(() => page.locator(`${VISIBLE_PANE} .xterm-selection div`).count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await screenshot(page, 'ssh-tui-search', false);
    // The selection is exactly the match: the Copy button puts it on the clipboard.
    await page.locator(`${VISIBLE_PANE} button[title="Ctrl+Shift+C"]`).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe('needle-42');

    // A word not in the buffer is reported as not found.
    await input.fill('haystack-without-needle');
    await input.press('Enter');
    await expect.poll(() => page.locator(`${VISIBLE_PANE} .search .miss`).count()).toBe(1);
    await input.press('Escape');
    await expect.poll(() => input.count()).toBe(0);

    // Paste button: the clipboard text completes a command line.
    await focusTerminal(page);
    await page.keyboard.type('echo got-');
    await page.locator(`${VISIBLE_PANE} button[title="Ctrl+Shift+V"]`).click();
    // The clipboard is read asynchronously: Enter only once the pasted text is on the command line.
    await expect.poll(() => screenText(page)).toContain('echo got-needle-42');
    await page.keyboard.press('Enter');
    await expectRow(page, 'got-needle-42');

    // A mouse selection (double-click a word), Ctrl+Shift+C, then Ctrl+Shift+V into the shell.
    await runInTerminal(page, 'echo copyme-$((6*7))');
    await expectRow(page, 'copyme-42');
    const row = page
      .locator(`${VISIBLE_PANE} .xterm-rows > div`)
      .filter({ hasText: /^copyme-42[\s\u00a0]*$/ })
      .last();
    const box = (await row.boundingBox())!;
    await page.mouse.dblclick(box.x + 6, box.y + box.height / 2);
    await expect.poll(() => page.locator(`${VISIBLE_PANE} .xterm-selection div`).count()).toBeGreaterThan(0);
    await page.keyboard.press('Control+Shift+C');
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe('copyme-42');
    await page.keyboard.type('echo pasted-');
    await page.keyboard.press('Control+Shift+V');
    await expect.poll(() => screenText(page)).toContain('echo pasted-copyme-42');
    await page.keyboard.press('Enter');
    await expectRow(page, 'pasted-copyme-42');
    // Pasted once, not twice (the browser's own paste is suppressed).
    expect(await screenRows(page)).not.toContain('pasted-copyme-42copyme-42');
    await screenshot(page, 'ssh-tui-paste', false);
    expect(app.pages.at(-1)!.errors).toEqual([]);
  }, 150_000);

  it('two nodes at once: each terminal talks to its own sshd', async () => {
    const page = await openAppOnSsh(app, nodeA);
    await page.locator(`${VISIBLE_PANE}[data-status="live"]`).waitFor({ timeout: 20_000 });
    await fillSshTarget(page, nodeB);
    await page.getByTestId('ssh-connect').click();
    await answerPassword(page, nodeB.password);
    await expect.poll(() => page.getByTestId('ssh-node-state').allInnerTexts(), { timeout: 20_000 }).toEqual(['Connected', 'Connected']);
    // Both host keys were already known, so no unknown-key question was asked.
    expect(await page.getByTestId('hostkey-fingerprint').count()).toBe(0);
    await expect.poll(() => page.getByTestId('terminal-tab').count()).toBe(2);
    await page.locator(`${VISIBLE_PANE}[data-status="live"]`).waitFor({ timeout: 20_000 });
    // Same host, different ports: the tab titles must still tell the nodes apart.
    const titles = await page.getByTestId('terminal-tab').allInnerTexts();
    expect(titles[0]).toContain(`:${nodeA.port}`);
    expect(titles[1]).toContain(`:${nodeB.port}`);

    // The new tab (node B) is active: the shell's server port is B's.
    const whereAmI = 'echo node-port=${SSH_CONNECTION##* }';
    await runInTerminal(page, whereAmI);
    await expectRow(page, `node-port=${nodeB.port}`);
    expect(await screenText(page)).not.toContain(`node-port=${nodeA.port}`);

    await page.getByTestId('terminal-tab').first().click();
    await page.locator(`${VISIBLE_PANE}[data-status="live"]`).waitFor({ timeout: 20_000 });
    await runInTerminal(page, whereAmI);
    await expectRow(page, `node-port=${nodeA.port}`);
    expect(await screenText(page)).not.toContain(`node-port=${nodeB.port}`);
    await screenshot(page, 'ssh-tui-two-nodes', false);

    // Back on B, its own output is still there and A's never arrived in it.
    await page.getByTestId('terminal-tab').nth(1).click();
    await expectRow(page, `node-port=${nodeB.port}`);
    expect(await screenText(page)).not.toContain(`node-port=${nodeA.port}`);
    expect(app.pages.at(-1)!.errors).toEqual([]);
  }, 120_000);
});
