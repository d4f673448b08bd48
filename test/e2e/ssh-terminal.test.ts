/**
 * The SSH workspace in Chromium against web mode and a real sshd on
 * 127.0.0.1: the unknown-key prompt shows the right SHA256 fingerprint, the
 * password is typed into a masked modal, a terminal runs a command whose
 * output appears in xterm's DOM, the PTY follows a viewport resize, the
 * transcript exports, a dropped link is shown and reconnected, and a changed
 * host key is refused with OpenSSH's warning until the explicit, logged
 * replace path is taken.
 *
 * Every path the back end writes (known_hosts, recordings, the audit log)
 * points into a temp dir through the LIFEBOAT_* environment variables.
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { generateKey, makeTempDir, sshdAvailable, startSshd, type SshdInstance } from '../helpers/sshd';
import { answerPassword, chromiumAvailable, ensureRendererBuilt, fillSshTarget, openSshWorkspace, screenshot, startWebApp, type WebApp } from './helpers';

const canRun = chromiumAvailable() && sshdAvailable();

let tmp: string;
let sshd: SshdInstance;
let app: WebApp;
let knownHosts: string;
let recordings: string;
let auditLog: string;

beforeAll(async () => {
  if (!canRun) return;
  await ensureRendererBuilt();
  tmp = await makeTempDir('lifeboat-e2e-ssh-');
  knownHosts = path.join(tmp, 'known_hosts');
  recordings = path.join(tmp, 'recordings');
  auditLog = path.join(tmp, 'host-key-changes.jsonl');
  const sshConfig = path.join(tmp, 'ssh_config');
  sshd = await startSshd();
  await fs.writeFile(sshConfig, `Host node1\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${sshd.user}\n`);
  app = await startWebApp({ knownHosts, recordings, sshConfig, auditLog });
}, 240_000);

afterAll(async () => {
  await app?.close();
  await sshd?.stop();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

/** Answer the password (PAM keyboard-interactive) prompt in the modal. */
function typePassword(page: Page): Promise<void> {
  return answerPassword(page, sshd.password, { masked: true });
}

/** Text of the visible xterm screen (DOM renderer rows). */
function screenText(page: Page): Promise<string> {
  return page.locator('[data-testid="terminal-pane"]:visible .xterm-rows').innerText();
}

async function runInTerminal(page: Page, command: string): Promise<void> {
  await page.locator('[data-testid="terminal-pane"]:visible [data-testid="terminal-screen"]').click();
  await page.keyboard.type(command);
  await page.keyboard.press('Enter');
}

/**
 * `ROWS COLS` printed by `stty size` (the last occurrence on screen). With
 * `previous`, asks again until the PTY reports another size: the resize
 * reaches the node only after the pane refits and the debounce fires.
 */
async function sttySize(page: Page, previous?: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const count = [...(await screenText(page)).matchAll(/size=(\d+ \d+)/g)].length;
    await runInTerminal(page, 'echo size=$(stty size)');
    let all: string[] = [];
    await expect
      .poll(async () => (all = [...(await screenText(page)).matchAll(/size=(\d+ \d+)/g)].map((m) => m[1])).length, { timeout: 10_000 })
      .toBeGreaterThan(count);
    const last = all.at(-1)!;
    if (previous === undefined || last !== previous) return last;
    if (Date.now() > deadline) throw new Error(`the PTY still reports ${last} after the resize`);
    await page.waitForTimeout(300);
  }
}

describe.skipIf(!canRun)('SSH workspace in Chromium (web mode, real sshd)', () => {
  it('asks about the unknown key, connects with a masked password, runs a command and follows resizes', async () => {
    const page = await openSshWorkspace(app);
    // Imported from the ssh config named by LIFEBOAT_SSH_CONFIG.
    await expect.poll(() => page.getByText('node1', { exact: true }).count()).toBeGreaterThan(0);
    // A server started without --this-machine offers no shell on itself, and says how to allow one.
    const local = page.getByTestId('ssh-local');
    expect(await local.getByTestId('ssh-connect-local').isDisabled()).toBe(true);
    expect(await local.locator('span.muted').innerText()).toBe(
      'This machine is off in web mode: it would give whoever has this page’s address a shell as the user running lifeboat serve. Start it again with lifeboat serve --this-machine to allow it, or use the desktop app.',
    );
    expect(await local.locator('code').allInnerTexts()).toEqual(['lifeboat serve', 'lifeboat serve --this-machine']);

    await fillSshTarget(page, sshd);
    await page.getByTestId('ssh-connect').click();

    const dialog = page.getByTestId('ssh-prompt');
    await dialog.getByTestId('hostkey-fingerprint').waitFor({ timeout: 20_000 });
    expect(await dialog.getByTestId('hostkey-fingerprint').innerText()).toBe(sshd.hostKeys.ed25519.fingerprint);
    expect(await dialog.getByTestId('hostkey-type').innerText()).toBe('ssh-ed25519');
    expect(await dialog.getByTestId('hostkey-host').innerText()).toBe(`[127.0.0.1]:${sshd.port}`);
    await screenshot(page, 'ssh-hostkey-unknown', false);
    await dialog.getByTestId('hostkey-accept-save').click();

    await typePassword(page);
    await page.locator('[data-testid="terminal-pane"][data-status="live"]').waitFor({ timeout: 20_000 });
    await expect.poll(() => page.getByTestId('ssh-node-state').first().innerText()).toBe('Connected');
    // Trust and save wrote the key to the known_hosts we pointed at, as OpenSSH would.
    expect(readFileSync(knownHosts, 'utf8')).toContain(sshd.knownHostsLine().split(' ')[2]);

    await runInTerminal(page, 'echo lifeboat-$((6*7))');
    await expect.poll(() => screenText(page), { timeout: 15_000 }).toContain('lifeboat-42');

    const before = await sttySize(page);
    await page.setViewportSize({ width: 1000, height: 700 });
    const after = await sttySize(page, before);
    const [r0, c0] = before.split(' ').map(Number);
    const [r1, c1] = after.split(' ').map(Number);
    expect(r1).toBeLessThan(r0);
    expect(c1).toBeLessThan(c0);
    await screenshot(page, 'ssh-terminal', false);

    // Export the transcript: rendered text, with the command's output.
    const download = page.waitForEvent('download');
    await page.locator('[data-testid="terminal-pane"]:visible [data-testid="terminal-export-txt"]').click();
    const file = await (await download).path();
    expect(readFileSync(file, 'utf8')).toContain('lifeboat-42');
    expect((await fs.readdir(recordings)).some((n) => n.endsWith('.cast'))).toBe(true);

    // A second tab on the same node is a separate shell.
    await page.getByTestId('ssh-new-terminal').click();
    await expect.poll(() => page.getByTestId('terminal-tab').count()).toBe(2);
    await page.locator('[data-testid="terminal-pane"][data-status="live"]:visible').waitFor({ timeout: 20_000 });
    await runInTerminal(page, 'echo second-$((40+2))');
    await expect.poll(() => screenText(page), { timeout: 15_000 }).toContain('second-42');
    expect(await screenText(page)).not.toContain('lifeboat-42');

    // The link drops: the terminal says so and keeps its output; reconnect continues in a new shell.
    await sshd.dropConnections();
    await page.locator('[data-testid="terminal-pane"]:visible [data-testid="terminal-cut"]').waitFor({ timeout: 30_000 });
    expect(await screenText(page)).toContain('second-42');
    await screenshot(page, 'ssh-terminal-cut', false);
    await page.locator('[data-testid="terminal-pane"]:visible [data-testid="terminal-reconnect"]').click();
    await typePassword(page);
    await page.locator('[data-testid="terminal-pane"][data-status="live"]:visible').waitFor({ timeout: 30_000 });
    await runInTerminal(page, 'echo again-$((6*7))');
    await expect.poll(() => screenText(page), { timeout: 15_000 }).toContain('again-42');
    // No script errors and no CSP violations (xterm's styles and the blob download included).
    expect(app.pages.at(-1)!.errors).toEqual([]);
  }, 180_000);

  it('refuses a changed host key with the OpenSSH warning, and replaces it only when the fingerprint is typed and a reason given', async () => {
    // known_hosts says this host:port has another ed25519 key: what a man in the middle (or a rebuilt node) looks like.
    const other = await generateKey(tmp, 'impostor');
    const [alg, blob] = other.publicLine.split(/\s+/);
    const staleLine = `[127.0.0.1]:${sshd.port} ${alg} ${blob}\n`;
    await fs.writeFile(knownHosts, staleLine);

    const page = await openSshWorkspace(app);
    await fillSshTarget(page, sshd);
    await page.getByTestId('ssh-connect').click();

    const warning = page.getByTestId('ssh-hostkey-refused');
    await warning.waitFor({ timeout: 20_000 });
    expect(await warning.innerText()).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
    expect(await warning.getByTestId('hostkey-old-fingerprint').innerText()).toContain(other.fingerprint);
    expect(await warning.getByTestId('hostkey-new-fingerprint').innerText()).toContain(sshd.hostKeys.ed25519.fingerprint);
    // No prompt to accept it and no connection.
    expect(await page.getByTestId('ssh-prompt').count()).toBe(0);
    expect(await page.getByTestId('ssh-node').count()).toBe(0);
    expect(readFileSync(knownHosts, 'utf8')).toBe(staleLine);
    await screenshot(page, 'ssh-hostkey-changed', false);

    // The replace path: a wrong fingerprint keeps the button disabled; the right one plus a reason enables it.
    await warning.getByTestId('hostkey-replace-start').click();
    const confirm = warning.getByTestId('hostkey-replace-confirm');
    await warning.getByTestId('hostkey-typed-fingerprint').fill(other.fingerprint);
    await warning.getByTestId('hostkey-reason').fill('node1 reinstalled from image on 2026-11-22');
    expect(await confirm.isDisabled()).toBe(true);
    await warning.getByTestId('hostkey-typed-fingerprint').fill(sshd.hostKeys.ed25519.fingerprint);
    await warning.getByTestId('hostkey-reason').fill('');
    expect(await confirm.isDisabled()).toBe(true);
    await warning.getByTestId('hostkey-reason').fill('node1 reinstalled from image on 2026-11-22');
    await screenshot(page, 'ssh-hostkey-replace', false);
    await confirm.click();

    await typePassword(page);
    await page.locator('[data-testid="terminal-pane"][data-status="live"]').waitFor({ timeout: 20_000 });
    const kh = readFileSync(knownHosts, 'utf8');
    expect(kh).not.toContain(blob);
    expect(kh).toContain(sshd.knownHostsLine().split(' ')[2]);
    const audit = readFileSync(auditLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.at(-1)).toMatchObject({
      newFingerprint: sshd.hostKeys.ed25519.fingerprint,
      oldFingerprints: [other.fingerprint],
      reason: 'node1 reinstalled from image on 2026-11-22',
    });
    expect(app.pages.at(-1)!.errors).toEqual([]);
  }, 120_000);
});
