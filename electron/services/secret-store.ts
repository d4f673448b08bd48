/**
 * Secrets the user explicitly asked to remember ("Remember" ticked on a
 * password, passphrase or sudo prompt of a saved profile), encrypted by
 * Electron's `safeStorage` (the OS keychain) and kept as base64 ciphertext
 * in `~/.lifeboat/secrets.json`, keyed by profile + kind + subject.
 *
 * Refuses, with a reason the UI shows, whenever encryption would not really
 * protect anything: no `safeStorage` (web mode, CLI), encryption unavailable,
 * or Linux's `basic_text` backend (a hard-coded key: plaintext in disguise).
 * Plaintext never reaches the disk; a test greps the file to prove it.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { RememberableKind, SecretStoreStatus } from '../../shared/contract/ssh';
import { makeDirs } from './make-dirs';

/**
 * The part of Electron's `safeStorage` used here. The async API (Electron
 * 39+) is preferred where present; the sync one is the fallback.
 */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  isAsyncEncryptionAvailable?(): Promise<boolean>;
  encryptStringAsync?(plainText: string): Promise<Buffer>;
  decryptStringAsync?(encrypted: Buffer): Promise<{ shouldReEncrypt: boolean; result: string }>;
  /** Linux only. */
  getSelectedStorageBackend?(): string;
}

export class SecretStoreError extends Error {
  constructor(
    readonly status: SecretStoreStatus,
    message: string,
  ) {
    super(message);
    this.name = 'SecretStoreError';
  }
}

export interface StoredSecret {
  profileId: string;
  kind: RememberableKind;
  /** What the secret opens: `user@host:port` (password), the key file (passphrase), `user@host` (sudo). */
  subject: string;
  /** base64 of safeStorage's ciphertext. */
  ciphertext: string;
  savedAt: number;
}

interface SecretsFile {
  version: 1;
  secrets: StoredSecret[];
}

/** A secrets file is small; anything bigger is not ours. */
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_SECRETS = 1000;
const MAX_SECRET_CHARS = 4096;
const KINDS: readonly RememberableKind[] = ['password', 'passphrase', 'sudo'];

/**
 * Write `text` to `file` readable by the owner only: a private temp file in
 * the same directory (0600), then rename, so a crash never leaves half a
 * file and the content is never world-readable, even for a moment.
 */
export async function writeOwnerOnlyFile(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  await makeDirs(dir, 0o700);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await fs.open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.chmod(tmp, 0o600);
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** Read a small JSON file; null when it does not exist. */
export async function readSmallJson(file: string, what: string): Promise<unknown> {
  let fh;
  try {
    fh = await fs.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const { size } = await fh.stat();
    if (size > MAX_FILE_BYTES) throw new Error(`${what} ${file} is ${size} bytes; over ${MAX_FILE_BYTES}, refusing to read it`);
    const text = await fh.readFile('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new Error(`${what} ${file} is not valid JSON (${(e as Error).message}); fix or remove it`, { cause: e });
    }
  } finally {
    await fh.close();
  }
}

function isStoredSecret(x: unknown): x is StoredSecret {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Record<string, unknown>;
  return (
    typeof s.profileId === 'string' &&
    typeof s.subject === 'string' &&
    typeof s.ciphertext === 'string' &&
    typeof s.savedAt === 'number' &&
    KINDS.includes(s.kind as RememberableKind)
  );
}

export class SecretStore {
  /** Writes one after another (two prompts answered at once must not lose one). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly safe: SafeStorageLike | null,
    private readonly transport: 'electron' | 'web',
  ) {}

  /** Whether "Remember" can be offered, and why not. */
  async status(): Promise<SecretStoreStatus> {
    if (this.transport === 'web') {
      return { available: false, reason: 'web', detail: 'web mode has no OS keychain to encrypt with; secrets stay in memory for the connection only' };
    }
    const safe = this.safe;
    if (!safe) return { available: false, reason: 'unavailable', detail: 'Electron safeStorage is not available in this process' };
    let backend: string | null;
    try {
      backend = safe.getSelectedStorageBackend ? safe.getSelectedStorageBackend() : null;
    } catch {
      backend = null;
    }
    if (backend === 'basic_text') {
      return {
        available: false,
        reason: 'basic_text',
        detail: 'no OS keychain (gnome-libsecret or kwallet) was found: safeStorage would use basic_text, a fixed key, which is as good as plaintext',
      };
    }
    let available: boolean;
    try {
      available = safe.isAsyncEncryptionAvailable ? await safe.isAsyncEncryptionAvailable() : safe.isEncryptionAvailable();
    } catch {
      available = false;
    }
    if (!available) return { available: false, reason: 'unavailable', detail: 'the OS keychain cannot encrypt right now (locked, or not running)' };
    return { available: true };
  }

  private async requireAvailable(): Promise<SafeStorageLike> {
    const st = await this.status();
    if (!st.available || !this.safe) throw new SecretStoreError(st, `cannot remember secrets: ${st.detail ?? st.reason ?? 'unavailable'}`);
    return this.safe;
  }

  private async encrypt(safe: SafeStorageLike, plain: string): Promise<Buffer> {
    return safe.encryptStringAsync ? safe.encryptStringAsync(plain) : safe.encryptString(plain);
  }

  private async decrypt(safe: SafeStorageLike, data: Buffer): Promise<string> {
    if (safe.decryptStringAsync) return (await safe.decryptStringAsync(data)).result;
    return safe.decryptString(data);
  }

  private async load(): Promise<SecretsFile> {
    const raw = await readSmallJson(this.file, 'the secrets file');
    if (raw === null) return { version: 1, secrets: [] };
    const list = (raw as { secrets?: unknown }).secrets;
    if (!Array.isArray(list)) throw new Error(`the secrets file ${this.file} has no "secrets" list; fix or remove it`);
    return { version: 1, secrets: list.filter(isStoredSecret) };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Encrypt and keep one secret (replaces the previous one for the same profile, kind and subject). */
  save(profileId: string, kind: RememberableKind, subject: string, secret: string): Promise<void> {
    return this.serial(async () => {
      if (!profileId || !subject) throw new Error('a remembered secret needs a profile and a subject');
      if (!KINDS.includes(kind)) throw new Error(`cannot remember a ${String(kind)}`);
      if (secret.length > MAX_SECRET_CHARS) throw new Error('the secret is too long to remember');
      const safe = await this.requireAvailable();
      const encrypted = await this.encrypt(safe, secret);
      // Belt and braces: a broken safeStorage must not put the secret on disk as is
      // (short secrets could appear in random bytes by chance, so only longer ones are searched for).
      const plain = Buffer.from(secret, 'utf8');
      if (plain.length > 0 && (encrypted.equals(plain) || (plain.length >= 6 && encrypted.includes(plain)))) {
        throw new SecretStoreError({ available: false, reason: 'unavailable' }, 'safeStorage returned the secret unencrypted; not saved');
      }
      const ciphertext = encrypted.toString('base64');
      const data = await this.load();
      const rest = data.secrets.filter((s) => !(s.profileId === profileId && s.kind === kind && s.subject === subject));
      if (rest.length >= MAX_SECRETS) throw new Error(`too many remembered secrets (${MAX_SECRETS})`);
      rest.push({ profileId, kind, subject, ciphertext, savedAt: Date.now() });
      await writeOwnerOnlyFile(this.file, JSON.stringify({ version: 1, secrets: rest } satisfies SecretsFile, null, 2) + '\n');
    });
  }

  /** The remembered secret, or null (none, store unavailable, or it no longer decrypts). */
  async get(profileId: string, kind: RememberableKind, subject: string): Promise<string | null> {
    const safe = this.safe;
    if (!safe || !(await this.status()).available) return null;
    const data = await this.load().catch(() => null);
    const hit = data?.secrets.find((s) => s.profileId === profileId && s.kind === kind && s.subject === subject);
    if (!hit) return null;
    try {
      return await this.decrypt(safe, Buffer.from(hit.ciphertext, 'base64'));
    } catch {
      return null;
    }
  }

  /** Whether anything is remembered for this profile (without decrypting). */
  async has(profileId: string): Promise<boolean> {
    const data = await this.load().catch(() => null);
    return !!data?.secrets.some((s) => s.profileId === profileId);
  }

  /** Forget a profile's secrets (all kinds, or one kind + subject, e.g. after it proved wrong). */
  forget(profileId: string, only?: { kind: RememberableKind; subject: string }): Promise<number> {
    return this.serial(async () => {
      const data = await this.load();
      const keep = data.secrets.filter((s) => s.profileId !== profileId || (only !== undefined && (s.kind !== only.kind || s.subject !== only.subject)));
      const removed = data.secrets.length - keep.length;
      if (removed > 0) await writeOwnerOnlyFile(this.file, JSON.stringify({ version: 1, secrets: keep } satisfies SecretsFile, null, 2) + '\n');
      return removed;
    });
  }
}

/**
 * Electron's safeStorage as main.ts hands it to the back end it creates; a
 * missing or incomplete module (web mode, the CLI, tests' stand-ins) means
 * "not available" (null).
 */
export function checkedSafeStorage(safe: unknown): SafeStorageLike | null {
  const s = safe as Partial<SafeStorageLike> | null | undefined;
  return s && typeof s.encryptString === 'function' && typeof s.decryptString === 'function' && typeof s.isEncryptionAvailable === 'function'
    ? (s as SafeStorageLike)
    : null;
}
