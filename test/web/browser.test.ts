/**
 * Web mode in a real browser (Debian Chromium via playwright-core): the built
 * renderer loads under the server's CSP header without violations and talks
 * to the API over the WebSocket; a page from another origin cannot open that
 * WebSocket even when it knows the token (the browser sends its Origin).
 */
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { ensureBuilt, REPO } from '../cli/fixtures';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI === 'true') throw new Error(`CI=true but ${CHROMIUM} is missing`);

let server: WebServer;
let browser: Browser;
let foreign: http.Server;
let foreignPort: number;

beforeAll(async () => {
  if (!hasChromium) return;
  await ensureBuilt();
  const rendererDir = path.join(REPO, 'dist', 'renderer');
  if (!existsSync(path.join(rendererDir, 'index.html'))) throw new Error('dist/renderer is not built');
  server = await startWebServer({ port: 0, rendererDir, quiet: true });
  // Another local origin (think: a malicious page the user visits) on a second loopback address.
  foreign = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>elsewhere</title>');
  });
  await new Promise<void>((r) => foreign.listen(0, '127.0.0.2', () => r()));
  const a = foreign.address();
  foreignPort = typeof a === 'object' && a ? a.port : 0;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await new Promise<void>((r) => (foreign ? foreign.close(() => r()) : r()));
});

describe.skipIf(!hasChromium)('web mode in Chromium', () => {
  it('loads the real renderer with no CSP violation or page error and calls the API over /ws', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    const frames: string[] = [];
    const wsOpened = new Promise<string>((resolve) => {
      page.on('websocket', (ws) => {
        ws.on('framereceived', (f) => frames.push(String(f.payload)));
        resolve(ws.url());
      });
    });
    const res = await page.goto(server.url);
    expect(res?.status()).toBe(200);
    expect(await wsOpened).toBe(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    await expect.poll(() => frames.some((f) => f.includes('"type":"result"')), { timeout: 15_000 }).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('the page without the token gets 401 and no WebSocket', async () => {
    const page = await browser.newPage();
    let sockets = 0;
    page.on('websocket', () => sockets++);
    const res = await page.goto(`http://127.0.0.1:${server.port}/`);
    expect(res?.status()).toBe(401);
    await page.waitForTimeout(300);
    expect(sockets).toBe(0);
    await page.close();
  });

  it('a page from another origin cannot open the WebSocket, even with the token', async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.2:${foreignPort}/`);
    const outcome = await page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(url);
          ws.onopen = () => resolve('open');
          ws.onerror = () => resolve('error');
          setTimeout(() => resolve('timeout'), 5000);
        }),
      `ws://127.0.0.1:${server.port}/ws?token=${server.token}`,
    );
    expect(outcome).toBe('error');
    await page.close();
  });
});
