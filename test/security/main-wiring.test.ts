/**
 * The built Electron main process (dist/main.cjs) loaded against a recording
 * stand-in for the `electron` module: the Electron binary cannot be
 * downloaded here, so this checks the wiring main.ts does with it (scheme
 * privileges, sandbox, window preferences, CSP on app:// responses,
 * sender-checked IPC dispatching to the real handlers, navigation guard).
 */
import Module, { createRequire } from 'node:module';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPC_CALL } from '../../shared/contract/api';
import { ELECTRON_CSP, createWebPreferences, type PreventableEvent } from '../../electron/security';
import { ensureBuilt, REPO } from '../cli/fixtures';

type Fn = (...args: unknown[]) => unknown;

const rec = {
  sandboxEnabled: false,
  schemes: [] as { scheme: string; privileges: Record<string, boolean> }[],
  protocolHandlers: new Map<string, (req: Request) => Promise<Response>>(),
  ipc: new Map<string, Fn>(),
  appHandlers: new Map<string, Fn>(),
  windows: [] as { opts: { webPreferences: Record<string, unknown> }; url: string | null; sent: unknown[][] }[],
  permissionRequest: null as Fn | null,
  permissionCheck: null as Fn | null,
};

const fakeElectron = {
  app: {
    enableSandbox: () => (rec.sandboxEnabled = true),
    requestSingleInstanceLock: () => true,
    quit: () => undefined,
    on: (event: string, fn: Fn) => rec.appHandlers.set(event, fn),
    whenReady: () => Promise.resolve(),
  },
  protocol: {
    registerSchemesAsPrivileged: (list: { scheme: string; privileges: Record<string, boolean> }[]) => rec.schemes.push(...list),
    handle: (scheme: string, fn: (req: Request) => Promise<Response>) => rec.protocolHandlers.set(scheme, fn),
  },
  session: {
    defaultSession: {
      setPermissionRequestHandler: (fn: Fn) => (rec.permissionRequest = fn),
      setPermissionCheckHandler: (fn: Fn) => (rec.permissionCheck = fn),
    },
  },
  ipcMain: {
    handle: (channel: string, fn: Fn) => rec.ipc.set(channel, fn),
  },
  BrowserWindow: class {
    static all: unknown[] = [];
    static getAllWindows = () => fakeElectron.BrowserWindow.all;
    readonly record: { opts: { webPreferences: Record<string, unknown> }; url: string | null; sent: unknown[][] };
    readonly webContents: { id: number; send: (...a: unknown[]) => void; isDestroyed: () => boolean };
    constructor(opts: { webPreferences: Record<string, unknown> }) {
      this.record = { opts, url: null, sent: [] };
      rec.windows.push(this.record);
      fakeElectron.BrowserWindow.all.push(this);
      this.webContents = { id: 100 + rec.windows.length, send: (...a) => this.record.sent.push(a), isDestroyed: () => false };
    }
    once() {}
    on() {}
    show() {}
    isDestroyed() {
      return false;
    }
    loadURL(url: string) {
      this.record.url = url;
      return Promise.resolve();
    }
  },
};

type Loader = (request: string, parent: unknown, isMain: boolean) => unknown;
const mod = Module as unknown as { _load: Loader };
const originalLoad = mod._load;

beforeAll(async () => {
  await ensureBuilt();
  mod._load = function (request: string, parent: unknown, isMain: boolean) {
    if (request === 'electron') return fakeElectron;
    return originalLoad.call(this, request, parent, isMain);
  };
  createRequire(__filename)(path.join(REPO, 'dist', 'main.cjs'));
  // whenReady().then(...) runs on the next ticks.
  await new Promise((r) => setTimeout(r, 50));
});

afterAll(() => {
  mod._load = originalLoad;
});

describe('dist/main.cjs wiring', () => {
  it('registers app:// as a standard, secure scheme and enables the sandbox for all renderers', () => {
    expect(rec.schemes).toHaveLength(1);
    expect(rec.schemes[0].scheme).toBe('app');
    expect(rec.schemes[0].privileges).toMatchObject({ standard: true, secure: true });
    expect(rec.schemes[0].privileges.bypassCSP).toBeFalsy();
    expect(rec.sandboxEnabled).toBe(true);
  });

  it('opens one window with the locked-down preferences on app://lifeboat/', () => {
    expect(rec.windows).toHaveLength(1);
    const w = rec.windows[0];
    expect(w.opts.webPreferences).toEqual(createWebPreferences(path.join(REPO, 'dist', 'preload.cjs')));
    expect(w.url).toBe('app://lifeboat/index.html');
  });

  it('denies every permission', () => {
    const answers: boolean[] = [];
    rec.permissionRequest?.({}, 'media', (g: boolean) => answers.push(g));
    expect(answers).toEqual([false]);
    expect(rec.permissionCheck?.({}, 'notifications')).toBe(false);
  });

  it('serves the renderer over app:// with the CSP, and nothing outside it', async () => {
    const handler = rec.protocolHandlers.get('app');
    expect(handler).toBeDefined();
    const ok = await handler!(new Request('app://lifeboat/index.html'));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toBe(ELECTRON_CSP);
    expect(ok.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await ok.text()).toMatch(/<html/i);
    for (const url of ['app://lifeboat/../../package.json', 'app://lifeboat/%2e%2e/main.cjs', 'app://other/index.html', 'app://lifeboat/nope.js']) {
      const r = await handler!(new Request(url));
      expect(r.status).toBe(404);
    }
    expect((await handler!(new Request('app://lifeboat/index.html', { method: 'POST', body: 'x' }))).status).toBe(404);
  });

  it('dispatches IPC calls from the app frame to the real handlers and refuses others', async () => {
    const listener = rec.ipc.get(IPC_CALL);
    expect([...rec.ipc.keys()]).toEqual([IPC_CALL]);
    const sender = { id: 101 };
    const good = { senderFrame: { url: 'app://lifeboat/index.html' }, sender };
    const info = await listener!(good, { type: 'call', id: 9, method: 'app.info', params: {} });
    expect(info).toMatchObject({ type: 'result', id: 9, result: { transport: 'electron', platform: process.platform } });
    expect(await listener!(good, { type: 'call', id: 10, method: 'nope', params: {} })).toMatchObject({
      type: 'error',
      id: 10,
      error: { code: 'unknown-method' },
    });
    expect(await listener!(good, 'garbage')).toMatchObject({ type: 'error', error: { code: 'bad-request' } });
    expect(() => listener!({ senderFrame: { url: 'https://evil.example/' }, sender }, { type: 'call', id: 1, method: 'app.info' })).toThrow(/foreign frame/);
    expect(() => listener!({ senderFrame: null, sender }, { type: 'call', id: 1, method: 'app.info' })).toThrow();
  });

  it('guards navigation of every web contents created', () => {
    const created = rec.appHandlers.get('web-contents-created');
    expect(created).toBeDefined();
    const listeners = new Map<string, Fn>();
    let openHandler: Fn | null = null;
    created!({}, { on: (e: string, fn: Fn) => listeners.set(e, fn), setWindowOpenHandler: (fn: Fn) => (openHandler = fn) });
    let prevented = false;
    const ev: PreventableEvent = { preventDefault: () => (prevented = true) };
    listeners.get('will-navigate')?.(ev, 'https://evil.example/');
    expect(prevented).toBe(true);
    expect(openHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
  });
});
