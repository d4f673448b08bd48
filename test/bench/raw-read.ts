/**
 * The benches' "raw read" row: the floor for reading a file's bytes into this
 * process, against which validation is compared. Every file is read front to
 * back into ONE reused 4 MiB buffer, as the validation walk reads its chunks
 * (`readIntoSync`). A fresh buffer per chunk (`ByteSource.read`) measured the
 * allocator instead: on the 1.2 GB bench dir 0.67 s wall, 0.37 s of it system
 * time faulting in new memory, against ~0.2 s for the same bytes read here.
 */
import { MAX_READ } from '../../shared/bytes/byte-source';
import { openFileSource } from '../../electron/services/fs-source';

/** Bytes read from `files`, in order. */
export async function rawReadFiles(files: readonly string[]): Promise<number> {
  const buffer = new Uint8Array(MAX_READ);
  let total = 0;
  for (const file of files) {
    const src = await openFileSource(file);
    try {
      for (let off = 0; off < src.size;) {
        const n = src.readIntoSync(off, buffer);
        if (n === 0) break;
        off += n;
        total += n;
      }
    } finally {
      await src.close();
    }
  }
  return total;
}
