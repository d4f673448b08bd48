import { describe, expect, it } from 'vitest';
import {
  APP_ENTRY_URL,
  APP_ORIGIN,
  ELECTRON_CSP,
  buildCsp,
  createWebPreferences,
  denyAllPermissions,
  guardNavigation,
  handleFromApp,
  isAllowedSender,
  originOf,
  type GuardableContents,
  type IpcInvokeEvent,
  type PermissionSession,
  type PreventableEvent,
} from '../../electron/security';

function cspDirectives(csp: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) m.set(name, values);
  }
  return m;
}

describe('webPreferences factory', () => {
  const prefs = createWebPreferences('/app/dist/preload.cjs');

  it('isolates and sandboxes the renderer with no Node access', () => {
    expect(prefs.preload).toBe('/app/dist/preload.cjs');
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.sandbox).toBe(true);
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.nodeIntegrationInWorker).toBe(false);
    expect(prefs.nodeIntegrationInSubFrames).toBe(false);
  });

  it('keeps web security on and risky features off', () => {
    expect(prefs.webSecurity).toBe(true);
    expect(prefs.allowRunningInsecureContent).toBe(false);
    expect(prefs.webviewTag).toBe(false);
    expect(prefs.experimentalFeatures).toBe(false);
    expect(prefs.spellcheck).toBe(false);
    expect(prefs.navigateOnDragDrop).toBe(false);
    expect(prefs).not.toHaveProperty('enableBlinkFeatures');
  });

  it('returns a fresh object each time (no shared mutable preferences)', () => {
    const a = createWebPreferences('/p');
    const b = createWebPreferences('/p');
    expect(a).not.toBe(b);
    a.sandbox = false;
    expect(createWebPreferences('/p').sandbox).toBe(true);
  });
});

describe('Content-Security-Policy', () => {
  it('Electron policy: own scripts only, no network, no plugins, no framing', () => {
    const d = cspDirectives(ELECTRON_CSP);
    expect(d.get('default-src')).toEqual(["'none'"]);
    expect(d.get('script-src')).toEqual(["'self'"]);
    // No network: only its own bundled assets (the font slices a Chinese report export inlines).
    expect(d.get('connect-src')).toEqual(['app://lifeboat/assets/']);
    expect(d.get('object-src')).toEqual(["'none'"]);
    expect(d.get('base-uri')).toEqual(["'none'"]);
    expect(d.get('frame-ancestors')).toEqual(["'none'"]);
    // xterm needs inline styles; scripts must never be inline or eval'd.
    expect(d.get('style-src')).toContain("'unsafe-inline'");
    expect(ELECTRON_CSP).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
    expect(ELECTRON_CSP).not.toContain('*');
  });

  it('web policy allows exactly the given WebSocket endpoint', () => {
    const d = cspDirectives(buildCsp({ connectSrc: ['ws://127.0.0.1:4567'] }));
    expect(d.get('connect-src')).toEqual(['ws://127.0.0.1:4567']);
    expect(d.get('script-src')).toEqual(["'self'"]);
  });
});

describe('sender / navigation origin check', () => {
  it('accepts the app origin', () => {
    expect(originOf(APP_ENTRY_URL)).toBe(APP_ORIGIN);
    expect(isAllowedSender('app://lifeboat/index.html')).toBe(true);
    expect(isAllowedSender('app://lifeboat/assets/x.js?y=1#z')).toBe(true);
  });

  it.each([
    ['look-alike host', 'app://lifeboat.evil.example/index.html'],
    ['credentials trick', 'app://lifeboat@evil.example/'],
    ['credentials on our host', 'app://user:pw@lifeboat/'],
    ['other scheme, same host', 'https://lifeboat/index.html'],
    ['file URL', 'file:///app/dist/renderer/index.html'],
    ['web page', 'https://example.com/'],
    ['local web server', 'http://127.0.0.1:8080/'],
    ['port added', 'app://lifeboat:81/'],
    ['data URL', 'data:text/html,<script>1</script>'],
    ['about:blank', 'about:blank'],
    ['garbage', 'not a url'],
    ['empty', ''],
  ])('rejects %s (%s)', (_label, url) => {
    expect(isAllowedSender(url)).toBe(false);
  });

  it('rejects a missing frame', () => {
    expect(isAllowedSender(null)).toBe(false);
    expect(isAllowedSender(undefined)).toBe(false);
  });
});

describe('IPC wrapper checks the sender frame on every call', () => {
  type Listener = (event: IpcInvokeEvent, ...args: unknown[]) => unknown;
  function fakeIpcMain() {
    const registered = new Map<string, Listener>();
    return {
      registered,
      handle(channel: string, listener: Listener) {
        registered.set(channel, listener);
      },
    };
  }

  it('runs the handler for the app origin and refuses foreign frames', async () => {
    const ipc = fakeIpcMain();
    const calls: unknown[][] = [];
    handleFromApp(ipc, 'lifeboat:call', (_e, ...args) => {
      calls.push(args);
      return 'ok';
    });
    const listener = ipc.registered.get('lifeboat:call');
    expect(listener).toBeDefined();
    if (!listener) return;

    expect(await listener({ senderFrame: { url: 'app://lifeboat/index.html' } }, { method: 'app.info' })).toBe('ok');
    expect(calls).toEqual([[{ method: 'app.info' }]]);

    for (const url of ['https://evil.example/', 'app://lifeboat.evil/', 'file:///etc/passwd', 'app://x@lifeboat/']) {
      expect(() => listener({ senderFrame: { url } }, {})).toThrow(/foreign frame/);
    }
    expect(() => listener({ senderFrame: null }, {})).toThrow(/no frame/);
    expect(calls).toHaveLength(1);
  });
});

describe('navigation guard and permissions', () => {
  function fakeContents() {
    const listeners = new Map<string, (event: PreventableEvent, url: string) => void>();
    let openHandler: ((d: { url: string }) => { action: 'deny' }) | null = null;
    const contents: GuardableContents = {
      on(event: string, listener: (event: PreventableEvent, url: string) => void) {
        listeners.set(event, listener);
        return contents;
      },
      setWindowOpenHandler(h) {
        openHandler = h;
      },
    } as GuardableContents;
    return { contents, listeners, open: () => openHandler };
  }

  function fire(listener: ((event: PreventableEvent, url: string) => void) | undefined, url: string): boolean {
    let prevented = false;
    listener?.({ preventDefault: () => (prevented = true) }, url);
    return prevented;
  }

  it('blocks navigation and redirects away from the app origin', () => {
    const f = fakeContents();
    guardNavigation(f.contents);
    const nav = f.listeners.get('will-navigate');
    const redirect = f.listeners.get('will-redirect');
    expect(nav).toBeDefined();
    expect(redirect).toBeDefined();
    expect(fire(nav, 'app://lifeboat/index.html')).toBe(false);
    expect(fire(nav, 'https://evil.example/')).toBe(true);
    expect(fire(nav, 'app://lifeboat.evil/')).toBe(true);
    expect(fire(redirect, 'http://127.0.0.1:1/')).toBe(true);
    expect(fire(f.listeners.get('will-attach-webview'), 'app://lifeboat/')).toBe(true);
  });

  it('denies every window.open', () => {
    const f = fakeContents();
    guardNavigation(f.contents);
    const handler = f.open();
    expect(handler).not.toBeNull();
    expect(handler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    expect(handler?.({ url: 'app://lifeboat/index.html' })).toEqual({ action: 'deny' });
  });

  it('denies every permission request and check', () => {
    let request: Parameters<PermissionSession['setPermissionRequestHandler']>[0] | null = null;
    let check: Parameters<PermissionSession['setPermissionCheckHandler']>[0] | null = null;
    denyAllPermissions({
      setPermissionRequestHandler: (h) => (request = h),
      setPermissionCheckHandler: (h) => (check = h),
    });
    for (const permission of ['media', 'notifications', 'clipboard-read', 'geolocation', 'openExternal']) {
      const answers: boolean[] = [];
      request!({}, permission, (granted) => answers.push(granted));
      expect(answers).toEqual([false]);
      expect(check!({}, permission)).toBe(false);
    }
  });
});
