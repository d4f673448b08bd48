/**
 * Writing one local file to a node over SFTP for an upload step: the file is
 * created exclusively (SFTP open with `wx`, mode 0600), so an existing file is
 * never overwritten, and streamed in bounded chunks. The local file is hashed
 * as it is read: the SHA-256 the node must then report is the SHA-256 of the
 * bytes that were sent.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SFTPWrapper } from 'ssh2';

export interface LocalFileFacts {
  bytes: number;
  sha256: string;
}

/** Size and SHA-256 of a local regular file (read once, streamed). */
export async function hashLocalFile(localPath: string): Promise<LocalFileFacts> {
  const st = await fs.stat(localPath);
  if (!st.isFile()) throw new Error(`${localPath} is not a regular file`);
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(localPath, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    h.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: h.digest('hex') };
}

/**
 * Stream `localPath` to `remotePath`, creating it (never replacing it) with
 * mode 0600. Returns what was sent. `onProgress` is told the bytes sent so
 * far, at most every 256 KiB. An aborted `signal` stops the transfer (the
 * promise rejects with an AbortError); what was written of `remotePath` is
 * then the caller's to remove.
 */
export async function sftpPutExclusive(
  sftp: SFTPWrapper,
  localPath: string,
  remotePath: string,
  onProgress?: (sent: number) => void,
  signal?: AbortSignal,
): Promise<LocalFileFacts> {
  const h = createHash('sha256');
  let sent = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      h.update(chunk);
      sent += chunk.length;
      onProgress?.(sent);
      done(null, chunk);
    },
  });
  await pipeline(
    createReadStream(localPath, { highWaterMark: 256 * 1024 }),
    tap,
    sftp.createWriteStream(remotePath, { flags: 'wx', mode: 0o600 }),
    signal ? { signal } : {},
  );
  return { bytes: sent, sha256: h.digest('hex') };
}

/** Bytes sent, rate and time left, at most every `intervalMs` (and always for the last byte), for the progress events. */
export function uploadRate(
  total: number,
  onTick: (t: { bytesSent: number; bytesPerSecond: number; etaSeconds: number | null }) => void,
  intervalMs = 250,
  now: () => number = Date.now,
): (sent: number) => void {
  let started: number | null = null;
  let last = -Infinity;
  return (sent) => {
    const t = now();
    started ??= t;
    if (t - last < intervalMs && sent < total) return;
    last = t;
    const seconds = (t - started) / 1000;
    const bytesPerSecond = seconds > 0 ? Math.round(sent / seconds) : 0;
    onTick({ bytesSent: sent, bytesPerSecond, etaSeconds: sent >= total ? 0 : bytesPerSecond > 0 ? Math.ceil((total - sent) / bytesPerSecond) : null });
  };
}
