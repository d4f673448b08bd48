/**
 * Remembered secrets: Electron's `safeStorage` is replaced by a stand-in
 * (the Electron binary cannot run here) that really transforms the bytes,
 * and records which API was used. The store must refuse `basic_text` and an
 * unavailable keychain with a clear reason, prefer the async API, never put
 * plaintext on disk (the file is grepped), keep the file owner-only, and
 * round-trip. The built main process is loaded against a mocked `electron`
 * module to check it hands `safeStorage` to the store.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import Module, { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPC_CALL } from '../../shared/contract/api';
import { SecretStore, SecretStoreError, type SafeStorageLike } from '../../electron/services/secret-store';
import { checkedSafeStorage } from '../../electron/services/secret-store';
import { SshService, type SshCallContext } from '../../electron/services/ssh/ssh-service';
import { ensureBuilt, REPO } from '../cli/fixtures';

const SECRET = 'correct horse battery staple 42';

interface FakeOptions {
  backend?: string;
  available?: boolean;
  async?: boolean;
  /** A broken keychain that hands the plaintext back. */
  identity?: boolean;
}

/** AES-256-GCM with a key held in memory, like the OS keychain would. */
function fakeSafeStorage(o: FakeOptions = {}) {
  const key = randomBytes(32);
  const calls: string[] = [];
  const enc = (plain: string): Buffer => {
    if (o.identity) return Buffer.from(plain, 'utf8');
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return Buffer.concat([Buffer.from('v10'), iv, c.getAuthTag(), body]);
  };
  const dec = (b: Buffer): string => {
    if (o.identity) return b.toString('utf8');
    const iv = b.subarray(3, 15);
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAuthTag(b.subarray(15, 31));
    return Buffer.concat([d.update(b.subarray(31)), d.final()]).toString('utf8');
  };
  const safe: SafeStorageLike = {
    isEncryptionAvailable: () => (calls.push('isEncryptionAvailable'), o.available !== false),
    encryptString: (p) => (calls.push('encryptString'), enc(p)),
    decryptString: (b) => (calls.push('decryptString'), dec(b)),
    getSelectedStorageBackend: () => o.backend ?? 'gnome_libsecret',
  };
  if (o.async !== false) {
    safe.isAsyncEncryptionAvailable = async () => (calls.push('isAsyncEncryptionAvailable'), o.available !== false);
    safe.encryptStringAsync = async (p) => (calls.push('encryptStringAsync'), enc(p));
    safe.decryptStringAsync = async (b) => (calls.push('decryptStringAsync'), { shouldReEncrypt: false, result: dec(b) });
  }
  return { safe, calls };
}

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-secrets-'));
});
afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

/** Every way the secret could appear in the file: as is, base64, hex. */
function leaks(fileText: string, secret: string): string[] {
  const forms = [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')];
  return forms.filter((f) => fileText.includes(f));
}

describe('SecretStore with safeStorage', () => {
  it('refuses basic_text (a fixed key is plaintext in disguise) and writes nothing', async () => {
    const file = path.join(dir, 'basic', 'secrets.json');
    const { safe } = fakeSafeStorage({ backend: 'basic_text' });
    const store = new SecretStore(file, safe, 'electron');
    expect(await store.status()).toMatchObject({ available: false, reason: 'basic_text' });
    const err = await store.save('p1', 'password', 'u@h:22', SECRET).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretStoreError);
    expect((err as Error).message).toMatch(/basic_text/);
    expect(await exists(file)).toBe(false);
    expect(await store.get('p1', 'password', 'u@h:22')).toBeNull();
  });

  it('refuses when the keychain cannot encrypt, and in web mode, and without safeStorage', async () => {
    const file = path.join(dir, 'off', 'secrets.json');
    const off = new SecretStore(file, fakeSafeStorage({ available: false }).safe, 'electron');
    expect(await off.status()).toMatchObject({ available: false, reason: 'unavailable' });
    await expect(off.save('p1', 'sudo', 'u@h:22', SECRET)).rejects.toThrow(/cannot remember secrets/);
    const web = new SecretStore(file, fakeSafeStorage().safe, 'web');
    expect(await web.status()).toMatchObject({ available: false, reason: 'web' });
    await expect(web.save('p1', 'sudo', 'u@h:22', SECRET)).rejects.toThrow(/web mode/);
    expect(await new SecretStore(file, null, 'electron').status()).toMatchObject({ available: false, reason: 'unavailable' });
    expect(await exists(file)).toBe(false);
  });

  it('round-trips through the async API, stores only base64 ciphertext, owner-only', async () => {
    const file = path.join(dir, 'ok', 'secrets.json');
    const { safe, calls } = fakeSafeStorage();
    const store = new SecretStore(file, safe, 'electron');
    await store.save('p1', 'password', 'admin@10.0.0.5:22', SECRET);
    await store.save('p1', 'passphrase', '/home/me/.ssh/id_ed25519', 'key pass phrase');
    await store.save('p2', 'password', 'admin@10.0.0.5:22', 'other profile pw');

    const text = await fs.readFile(file, 'utf8');
    expect(leaks(text, SECRET)).toEqual([]);
    expect(leaks(text, 'key pass phrase')).toEqual([]);
    const parsed = JSON.parse(text) as { secrets: { ciphertext: string; kind: string }[] };
    expect(parsed.secrets).toHaveLength(3);
    for (const s of parsed.secrets) expect(Buffer.from(s.ciphertext, 'base64').subarray(0, 3).toString()).toBe('v10');
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.dirname(file))).mode & 0o777).toBe(0o700);

    expect(await store.get('p1', 'password', 'admin@10.0.0.5:22')).toBe(SECRET);
    expect(await store.get('p2', 'password', 'admin@10.0.0.5:22')).toBe('other profile pw');
    expect(await store.get('p1', 'password', 'admin@10.0.0.6:22')).toBeNull();
    expect(await store.get('p1', 'sudo', 'admin@10.0.0.5:22')).toBeNull();
    expect(calls).toContain('encryptStringAsync');
    expect(calls).toContain('decryptStringAsync');
    expect(calls).not.toContain('encryptString');

    // Replacing keeps one entry; forgetting one profile leaves the other.
    await store.save('p1', 'password', 'admin@10.0.0.5:22', 'changed pw');
    expect(await store.get('p1', 'password', 'admin@10.0.0.5:22')).toBe('changed pw');
    expect(await store.forget('p1')).toBe(2);
    expect(await store.get('p1', 'passphrase', '/home/me/.ssh/id_ed25519')).toBeNull();
    expect(await store.get('p2', 'password', 'admin@10.0.0.5:22')).toBe('other profile pw');
  });

  it('falls back to the sync API where the async one does not exist', async () => {
    const file = path.join(dir, 'sync', 'secrets.json');
    const { safe, calls } = fakeSafeStorage({ async: false });
    const store = new SecretStore(file, safe, 'electron');
    await store.save('p', 'sudo', 'u@h:2222', SECRET);
    expect(await store.get('p', 'sudo', 'u@h:2222')).toBe(SECRET);
    expect(calls).toEqual(expect.arrayContaining(['isEncryptionAvailable', 'encryptString', 'decryptString']));
    expect(leaks(await fs.readFile(file, 'utf8'), SECRET)).toEqual([]);
  });

  it('never writes plaintext even when the keychain hands it back unencrypted', async () => {
    const file = path.join(dir, 'identity', 'secrets.json');
    const store = new SecretStore(file, fakeSafeStorage({ identity: true }).safe, 'electron');
    await expect(store.save('p', 'password', 'u@h:22', SECRET)).rejects.toThrow(/unencrypted/);
    expect(await exists(file)).toBe(false);
  });

  it('concurrent saves all land (no lost update)', async () => {
    const file = path.join(dir, 'many', 'secrets.json');
    const store = new SecretStore(file, fakeSafeStorage().safe, 'electron');
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.save('p', 'password', `u@h${i}:22`, `pw-${i}-long-enough`)));
    for (let i = 0; i < 10; i++) expect(await store.get('p', 'password', `u@h${i}:22`)).toBe(`pw-${i}-long-enough`);
  });
});

describe('ssh.secrets.status through the handlers', () => {
  it('offers remembering only in Electron with a real keychain', async () => {
    const sessions = { secretsPath: path.join(dir, 'handlers', 'secrets.json') };
    const ctx = (transport: 'electron' | 'web'): SshCallContext => ({ transport, emit: () => undefined });
    // Each back end gets the safeStorage its composition root hands it (main.ts: Electron's; web mode and the CLI: none).
    const keychain = new SshService({ sessions, safeStorage: checkedSafeStorage(fakeSafeStorage().safe) });
    expect(await keychain.handlers['ssh.secrets.status']({}, ctx('electron'))).toEqual({ available: true });
    expect(await keychain.handlers['ssh.secrets.status']({}, ctx('web'))).toMatchObject({ available: false, reason: 'web' });
    const basicText = new SshService({ sessions, safeStorage: checkedSafeStorage(fakeSafeStorage({ backend: 'basic_text' }).safe) });
    expect(await basicText.handlers['ssh.secrets.status']({}, ctx('electron'))).toMatchObject({ available: false, reason: 'basic_text' });
    // An incomplete stand-in (no encryptString) counts as no safeStorage at all.
    const incomplete = new SshService({ sessions, safeStorage: checkedSafeStorage({ isEncryptionAvailable: () => true }) });
    expect(await incomplete.handlers['ssh.secrets.status']({}, ctx('electron'))).toMatchObject({ available: false, reason: 'unavailable' });
    expect(await new SshService({ sessions }).handlers['ssh.secrets.status']({}, ctx('electron'))).toMatchObject({ available: false, reason: 'unavailable' });
  });
});

describe('dist/main.cjs hands safeStorage to the secret store', () => {
  it('answers ssh.secrets.status from the mocked electron safeStorage (basic_text is refused)', async () => {
    await ensureBuilt();
    const home = path.join(dir, 'main-home');
    const savedHome = process.env.LIFEBOAT_HOME;
    process.env.LIFEBOAT_HOME = home;
    const ipc = new Map<string, (...a: unknown[]) => unknown>();
    const { safe } = fakeSafeStorage({ backend: 'basic_text' });
    const fakeElectron = {
      app: {
        enableSandbox: () => undefined,
        requestSingleInstanceLock: () => true,
        quit: () => undefined,
        on: () => undefined,
        whenReady: () => Promise.resolve(),
        isPackaged: false,
      },
      protocol: { registerSchemesAsPrivileged: () => undefined, handle: () => undefined },
      session: { defaultSession: { setPermissionRequestHandler: () => undefined, setPermissionCheckHandler: () => undefined } },
      ipcMain: { handle: (channel: string, fn: (...a: unknown[]) => unknown) => ipc.set(channel, fn) },
      safeStorage: safe,
      BrowserWindow: class {
        static getAllWindows = () => [];
        readonly webContents = { id: 501, send: () => undefined, isDestroyed: () => false };
        once() {}
        on() {}
        show() {}
        isDestroyed() {
          return false;
        }
        loadURL() {
          return Promise.resolve();
        }
      },
    };
    type Loader = (request: string, parent: unknown, isMain: boolean) => unknown;
    const mod = Module as unknown as { _load: Loader };
    const originalLoad = mod._load;
    mod._load = function (request: string, parent: unknown, isMain: boolean) {
      if (request === 'electron') return fakeElectron;
      return originalLoad.call(this, request, parent, isMain);
    };
    try {
      createRequire(__filename)(path.join(REPO, 'dist', 'main.cjs'));
      await new Promise((r) => setTimeout(r, 50));
      const listener = ipc.get(IPC_CALL);
      expect(listener).toBeDefined();
      const event = { senderFrame: { url: 'app://lifeboat/index.html' }, sender: { id: 501 } };
      const r = (await listener!(event, { type: 'call', id: 1, method: 'ssh.secrets.status', params: {} })) as { type: string; result: unknown };
      expect(r).toMatchObject({ type: 'result', result: { available: false, reason: 'basic_text' } });
      // The async API was asked (backend first, then availability only when not basic_text).
      const r2 = (await listener!(event, { type: 'call', id: 2, method: 'ssh.profiles.list', params: {} })) as { type: string; result: unknown };
      expect(r2).toEqual({ type: 'result', id: 2, result: [] });
    } finally {
      mod._load = originalLoad;
      if (savedHome === undefined) delete process.env.LIFEBOAT_HOME;
      else process.env.LIFEBOAT_HOME = savedHome;
    }
  }, 180_000);
});
