/**
 * The repair writers' file primitives: `writeFully` (every byte of a buffer at
 * an offset: a write may be short), and `copyFilePrefix`, the first `bytes` of
 * `src` (all of it when null) into a new file `dst` (never overwritten:
 * O_EXCL, mode 0600), in bounded chunks, synced before it counts as written.
 * The source opens read-only.
 */
import { constants, promises as fs } from 'node:fs';

const COPY_CHUNK = 4 * 1024 * 1024;

/** Write all of `bytes` at `offset`, however many writes it takes. */
export async function writeFully(fh: fs.FileHandle, bytes: Uint8Array, offset: number): Promise<void> {
  for (let done = 0; done < bytes.length;) done += (await fh.write(bytes, done, bytes.length - done, offset + done)).bytesWritten;
}

export async function copyFilePrefix(src: string, dst: string, bytes: number | null = null): Promise<void> {
  const input = await fs.open(src, constants.O_RDONLY);
  try {
    const output = await fs.open(dst, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      const size = (await input.stat()).size;
      const end = bytes === null ? size : Math.min(bytes, size);
      const buf = new Uint8Array(Math.min(COPY_CHUNK, Math.max(end, 1)));
      let at = 0;
      while (at < end) {
        const { bytesRead } = await input.read(buf, 0, Math.min(buf.length, end - at), at);
        if (bytesRead === 0) break;
        await writeFully(output, buf.subarray(0, bytesRead), at);
        at += bytesRead;
      }
      await output.sync();
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}
