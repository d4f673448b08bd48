/**
 * The security posture of the Electron shell, kept free of runtime `electron`
 * imports so it can be unit-tested without the Electron binary. main.ts wires
 * these into the real objects; tests feed them small fakes.
 *
 * Baseline: the renderer is untrusted content with no Node, sandboxed, context
 * isolated, served from our own `app://lifeboat/` origin (never file://), and
 * can reach the back end only through the two allow-listed IPC channels, each
 * call checked against the sender frame's origin.
 */
import type { WebPreferences } from 'electron';

export const APP_SCHEME = 'app';
export const APP_HOST = 'lifeboat';
/** The only origin allowed to call the back end and to be navigated to. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * webPreferences for every BrowserWindow. A factory (not a shared object) so
 * nobody can mutate a common instance, and so tests can assert every flag.
 */
export function createWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    spellcheck: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    autoplayPolicy: 'user-gesture-required',
    disableBlinkFeatures: 'Auxclick',
    devTools: true,
  };
}

export interface CspOptions {
  /**
   * Sources the renderer may connect to. Electron: none (everything goes
   * through IPC). Web mode: exactly the server's own WebSocket URL.
   */
  connectSrc: string[];
}

/**
 * The Content-Security-Policy. xterm needs inline styles (xterm.js #4445), so
 * style-src allows 'unsafe-inline'; scripts come only from our own origin.
 * Workers: the renderer validates dropped files in a Web Worker built by Vite
 * as a separate same-origin file.
 */
export function buildCsp(opts: CspOptions): string {
  const connect = opts.connectSrc.length > 0 ? opts.connectSrc.join(' ') : "'none'";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "worker-src 'self'",
    `connect-src ${connect}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Where the renderer's bundled files are (font slices among them). The one connection the page makes besides web
 * mode's WebSocket is a read of its own font slices there, to inline the ones a Chinese report export uses (a report
 * must read on a machine without CJK fonts); the policy allows that path of its own origin, nothing else.
 */
export const ASSETS_PATH = '/assets/';

/** The CSP for the Electron renderer: no network, only its own bundled assets. */
export const ELECTRON_CSP = buildCsp({ connectSrc: [`${APP_ORIGIN}${ASSETS_PATH}`] });

/**
 * `scheme://host[:port]` of a URL, or null when it does not parse or carries
 * credentials. We compute it from the parsed parts instead of `URL.origin`
 * because Node's WHATWG URL reports the origin of non-special schemes such as
 * `app:` as the string "null" (Chromium knows `app` is a standard scheme,
 * Node does not). Never compare URLs with startsWith: `app://lifeboat.evil/`
 * and `app://lifeboat@evil/` both start with `app://lifeboat`.
 */
export function originOf(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.username !== '' || u.password !== '') return null;
  if (u.host === '') return null;
  return `${u.protocol}//${u.host}`;
}

/** May a frame at this URL call the back end (or be navigated to)? */
export function isAllowedSender(frameUrl: string | null | undefined): boolean {
  if (typeof frameUrl !== 'string' || frameUrl === '') return false;
  return originOf(frameUrl) === APP_ORIGIN;
}

// ---- Structural views of the Electron objects we configure (fakes in tests) ----

export interface PreventableEvent {
  preventDefault(): void;
}

export interface GuardableContents {
  on(event: 'will-navigate', listener: (event: PreventableEvent, url: string) => void): unknown;
  on(event: 'will-redirect', listener: (event: PreventableEvent, url: string) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

/**
 * Navigation guard: the window may only ever show our own origin. Popups are
 * denied outright (we never open external links from the renderer: that
 * would be `shell.openExternal` on untrusted input).
 */
export function guardNavigation(contents: GuardableContents): void {
  const block = (event: PreventableEvent, url: string): void => {
    if (!isAllowedSender(url)) event.preventDefault();
  };
  contents.on('will-navigate', block);
  contents.on('will-redirect', block);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

export interface PermissionSession {
  setPermissionRequestHandler(handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (contents: unknown, permission: string) => boolean): void;
}

/** Lifeboat needs no browser permission (camera, notifications, clipboard-read...). */
export function denyAllPermissions(session: PermissionSession): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

// ---- IPC: the one place allowed to register ipcMain handlers ----

export interface IpcInvokeEvent {
  senderFrame: { url: string } | null;
}

export interface IpcMainLike<E extends IpcInvokeEvent> {
  handle(channel: string, listener: (event: E, ...args: unknown[]) => unknown): void;
}

export class ForbiddenSenderError extends Error {
  constructor(url: string | null | undefined) {
    super(`IPC from a foreign frame refused (${url ? (originOf(url) ?? 'unparsable url') : 'no frame'})`);
    this.name = 'ForbiddenSenderError';
  }
}

/**
 * Registers an `ipcMain.handle` listener that first checks the sender frame's
 * origin. The repo-wide security test forbids `ipcMain.handle/on` anywhere
 * else, so every IPC entry point goes through this check.
 */
export function handleFromApp<E extends IpcInvokeEvent>(ipcMain: IpcMainLike<E>, channel: string, listener: (event: E, ...args: unknown[]) => unknown): void {
  ipcMain.handle(channel, (event: E, ...args: unknown[]) => {
    const url = event.senderFrame?.url;
    if (!isAllowedSender(url)) throw new ForbiddenSenderError(url);
    return listener(event, ...args);
  });
}
