/**
 * An OS-keychain stand-in for tests that really encrypts (AES-256-GCM, the key held in memory only),
 * shaped like Electron's safeStorage, so the secret store's on-disk files hold no plaintext.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SafeStorageLike } from '../../electron/services/secret-store';

export function memoryKeychain(): SafeStorageLike {
  const key = randomBytes(32);
  const encrypt = (plain: string): Buffer => {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]);
  };
  const decrypt = (sealed: Buffer): string => {
    const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
    d.setAuthTag(sealed.subarray(12, 28));
    return Buffer.concat([d.update(sealed.subarray(28)), d.final()]).toString('utf8');
  };
  return {
    isEncryptionAvailable: () => true,
    encryptString: encrypt,
    decryptString: decrypt,
    isAsyncEncryptionAvailable: async () => true,
    encryptStringAsync: async (p) => encrypt(p),
    decryptStringAsync: async (b) => ({ shouldReEncrypt: false, result: decrypt(b) }),
    getSelectedStorageBackend: () => 'gnome_libsecret',
  };
}
