/**
 * Electron main process: a thin shell. It serves the built renderer from the
 * privileged `app://lifeboat/` scheme (never file://), opens one locked-down
 * window, and forwards `window.lifeboat.call` over one sender-checked IPC
 * channel to the same handler map web mode uses. All behaviour lives in
 * electron/services.
 */
import { app, BrowserWindow, dialog, ipcMain, protocol, safeStorage, session } from 'electron';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { IPC_CALL, IPC_EVENT } from '../shared/contract/api';
import type { ApiEvents, EventName, WireEvent, WireResponse } from '../shared/contract/api';
import { APP_ENTRY_URL, APP_HOST, APP_SCHEME, ELECTRON_CSP, createWebPreferences, denyAllPermissions, guardNavigation, handleFromApp } from './security';
import { createAllHandlers, dispatch } from './services/core-handlers';
import { checkedSafeStorage } from './services/secret-store';
import type { CallContext } from './services/registry';
import { mimeTypeFor, resolveStaticFile } from './web/static';

// dist/main.cjs sits next to dist/preload.cjs and dist/renderer/.
const distDir = __dirname;
const rendererDir = path.join(distDir, 'renderer');
const preloadPath = path.join(distDir, 'preload.cjs');

protocol.registerSchemesAsPrivileged([
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
  },
]);
app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  app.quit();
}

// "Remember" on a prompt encrypts with the OS keychain (safeStorage, used only after the app is ready); refused when there is none (basic_text).
let mainWindow: BrowserWindow | null = null;

/** Where etcd repair and salvage, the dqlite rebuild and the kine export write: the native save dialog (a new snapshot.db) or folder dialog (its parent folder). */
async function chooseOutput(kind: 'file' | 'dir', suggested: string): Promise<string | null> {
  const win = BrowserWindow.getFocusedWindow() ?? mainWindow;
  const defaultPath = suggested || app.getPath('home');
  if (kind === 'file') {
    const options = { defaultPath, properties: ['createDirectory' as const, 'showOverwriteConfirmation' as const] };
    const r = win ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options);
    return r.canceled || !r.filePath ? null : r.filePath;
  }
  const options = { defaultPath, properties: ['openDirectory' as const, 'createDirectory' as const, 'promptToCreate' as const] };
  const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  return r.canceled ? null : (r.filePaths[0] ?? null);
}

/** The file a guided upload step sends to the node (only read): the native open dialog. */
async function chooseUploadFile(): Promise<string | null> {
  const win = BrowserWindow.getFocusedWindow() ?? mainWindow;
  const options = {
    defaultPath: app.getPath('home'),
    properties: ['openFile' as const],
    filters: [
      { name: 'snapshot.db', extensions: ['db'] },
      { name: '*', extensions: ['*'] },
    ],
  };
  const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  return r.canceled ? null : (r.filePaths[0] ?? null);
}

const backend = createAllHandlers({ transport: 'electron', safeStorage: checkedSafeStorage(safeStorage), chooseOutput, chooseUploadFile });

/** One call context per window's webContents id (events go back to the caller). */
const contexts = new Map<number, CallContext>();

function responseHeaders(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Content-Security-Policy': ELECTRON_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
}

async function serveAppRequest(request: Request): Promise<Response> {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return new Response('bad request', { status: 400, headers: responseHeaders('text/plain') });
  }
  if (url.host !== APP_HOST || (request.method !== 'GET' && request.method !== 'HEAD')) {
    return new Response('not found', { status: 404, headers: responseHeaders('text/plain') });
  }
  const file = await resolveStaticFile(rendererDir, url.pathname, { resolveSymlinks: !app.isPackaged });
  if (!file) return new Response('not found', { status: 404, headers: responseHeaders('text/plain') });
  const body = await fs.readFile(file);
  return new Response(new Uint8Array(body), { status: 200, headers: responseHeaders(mimeTypeFor(file)) });
}

function emitTo(win: BrowserWindow): CallContext['emit'] {
  return <E extends EventName>(event: E, payload: ApiEvents[E]): void => {
    if (win.isDestroyed() || win.webContents.isDestroyed()) return;
    const msg: WireEvent = { type: 'event', event, payload };
    win.webContents.send(IPC_EVENT, msg);
  };
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    minWidth: 900,
    minHeight: 600,
    title: 'Lifeboat',
    show: false,
    backgroundColor: '#101418',
    webPreferences: createWebPreferences(preloadPath),
  });
  const ctx: CallContext = { transport: 'electron', emit: emitTo(win) };
  const contentsId = win.webContents.id;
  contexts.set(contentsId, ctx);
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    void backend.release(ctx);
    contexts.delete(contentsId);
    if (mainWindow === win) mainWindow = null;
  });
  void win.loadURL(APP_ENTRY_URL);
  return win;
}

app.on('web-contents-created', (_event, contents) => {
  guardNavigation(contents);
});

app.on('second-instance', () => {
  if (mainWindow) {
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  }
});

app.on('window-all-closed', () => {
  app.quit();
});

app.on('will-quit', () => {
  void backend.shutdown();
});

void app.whenReady().then(() => {
  denyAllPermissions(session.defaultSession);
  protocol.handle(APP_SCHEME, serveAppRequest);

  handleFromApp(ipcMain, IPC_CALL, async (event, request): Promise<WireResponse> => {
    const ctx = contexts.get(event.sender.id);
    if (!ctx) return { type: 'error', id: -1, error: { message: 'unknown window', code: 'forbidden' } };
    if (typeof request !== 'object' || request === null) {
      return { type: 'error', id: -1, error: { message: 'malformed request', code: 'bad-request' } };
    }
    const r = request as Record<string, unknown>;
    const id = typeof r.id === 'number' && Number.isSafeInteger(r.id) ? r.id : -1;
    return dispatch(backend.handlers, id, r.method, r.params, ctx);
  });

  mainWindow = createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
  });
});
