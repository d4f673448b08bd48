/**
 * The pieces shared by every reader of a node's files (electron/services/ssh/remote-files.ts):
 * remote paths joined the POSIX way, SFTP callbacks as promises, and a close that does not hang on
 * a dead link.
 */
import type { SFTPWrapper } from 'ssh2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeQuietly, remoteJoin, sftpCall } from '../../electron/services/ssh/remote-files';

describe('remoteJoin', () => {
  it('joins with one slash, below the root too, whatever this machine uses', () => {
    expect(remoteJoin('/var/lib/etcd', 'member')).toBe('/var/lib/etcd/member');
    expect(remoteJoin('/var/lib/etcd/', 'member')).toBe('/var/lib/etcd/member');
    expect(remoteJoin('/', 'etc')).toBe('/etc');
    expect(remoteJoin('/data', "it's a \\ name")).toBe("/data/it's a \\ name");
  });
});

describe('sftpCall and closeQuietly', () => {
  afterEach(() => vi.useRealTimers());

  it('resolves with the value and rejects with the error of the callback', async () => {
    await expect(sftpCall<number>((cb) => cb(null, 7))).resolves.toBe(7);
    await expect(sftpCall<number>((cb) => cb(new Error('No such file'), 0))).rejects.toThrow('No such file');
  });

  it('gives up on a close whose reply never comes, and ignores a failed close', async () => {
    vi.useFakeTimers();
    const silent = { close: () => undefined } as unknown as SFTPWrapper;
    let done = false;
    const closing = closeQuietly(silent, Buffer.alloc(4)).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(1999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await closing;
    expect(done).toBe(true);
    const failing = { close: (_h: Buffer, cb: (err: Error) => void) => cb(new Error('connection lost')) } as unknown as SFTPWrapper;
    await expect(closeQuietly(failing, Buffer.alloc(4))).resolves.toBeUndefined();
  });
});
