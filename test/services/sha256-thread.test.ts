import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inlineSha256, sharedBytes, startSha256Thread } from '../../electron/services/sha256-thread';

describe.each([
  ['on a thread of its own (a large snapshot)', startSha256Thread],
  ['on this thread (a small snapshot)', inlineSha256],
])('the SHA-256 of a salvaged snapshot.db, %s', (_name, start) => {
  it('hashes runs in call order, shared runs where they lie and others copied, as one hash of the whole', async () => {
    const thread = start();
    const whole = createHash('sha256');
    try {
      const shared = sharedBytes(1 << 20);
      for (let i = 0; i < 6; i++) {
        // The writer's way: fill the shared run, hand it over, reuse it only once the update settled.
        shared.set(randomBytes(shared.length));
        const run = shared.subarray(0, (i + 1) * 100_000);
        whole.update(run);
        await thread.update(run);
        // A run outside the shared buffers (a page bigger than a run), changed right after: the thread hashed a copy.
        const own = new Uint8Array(randomBytes(5_000 + i));
        whole.update(own);
        const pending = thread.update(own);
        own.fill(0);
        await pending;
      }
      expect(Buffer.from(await thread.digest()).toString('hex')).toBe(whole.digest('hex'));
    } finally {
      await thread.close();
    }
  });

  it('once closed (a salvage that failed), an update or the digest fails at once instead of waiting forever', async () => {
    const thread = start();
    await thread.update(new Uint8Array([1, 2, 3]));
    await thread.close();
    const hung = new Promise((resolve) => setTimeout(() => resolve('hung'), 2000));
    await expect(Promise.race([thread.update(new Uint8Array([4])), hung])).rejects.toThrow('closed');
    await expect(Promise.race([thread.digest(), hung])).rejects.toThrow('closed');
  });
});
