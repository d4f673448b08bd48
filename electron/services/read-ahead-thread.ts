/**
 * A thread that reads a file's chunks into a ring of slots in shared memory,
 * in file order from the chunk after the last one the pass took, ahead of a
 * pass that takes them (`ChunkReadAhead`). The pass (the validation worker's
 * bbolt walk) then reads no bytes itself for most chunks: the copy out of the
 * page cache, a quarter of a 1 GiB db's validation, runs on the machine's
 * other core.
 *
 * At the end of the file the thread waits for the stream to move back (a db
 * whose branch pages lie after its leaves is walked end first, then from the
 * start), until it is stopped.
 *
 * The thread opens the file by path itself (its own descriptor, closed when it
 * stops; a descriptor shared with the pass could be closed under it) and reads
 * nothing when the path no longer names the same file (device and inode).
 * Its code is a few lines of node:fs, run with `eval` (no bundle of its own).
 *
 * Slot states, in the shared Int32Array: FREE -> FILLING (thread) -> READY
 * (thread) -> TAKEN (pass) -> FREE (pass), and READY -> FREE (pass) for a chunk
 * the pass did not take within `STALE_TAKES` takes (the walk went elsewhere,
 * or found it in its own cache). A walk goes mostly upwards but not strictly
 * (a branch page sits after the leaves it lists): a chunk is not let go just
 * because the pass took a later one. A slot's chunk number is written before it
 * leaves FREE and is not changed until it is FREE again, so a pass that reads
 * the state first and then the chunk number sees the right one.
 */
import { Worker } from 'node:worker_threads';
import type { ChunkReadAhead, ReadAheadLayout } from '../../shared/bytes/byte-source';

/** Header ints: where the thread goes on from, counters to wait on, flags, the pass's take count. */
const HINT = 0;
const FREED = 1;
const STOP = 2;
const DONE = 3;
const TAKES = 4;
/**
 * Set while the thread waits for free slots; it is woken once FREED reaches WAKE_AT (a wake is a system call, and
 * the thread, faster than the walk, waited for every slot: a wake per chunk was 4% of a walk).
 */
const WAITING = 5;
const WAKE_AT = 6;
/** Set while the thread, at the end of the file, waits for the walk's stream to move (a change of HINT wakes it). */
const IDLE = 7;
/** Slots freed before the waiting thread is woken (it stays that many fewer chunks ahead). */
const WAKE_BATCH = 16;
const HEADER_INTS = 8;
/** Per slot: chunk number, state, bytes from the file, the pass's take count when it was read. */
const SLOT_INTS = 4;

const FREE = 0;
const FILLING = 1;
const READY = 2;
const TAKEN = 3;

/**
 * Slots: the walk's cache holds 16 chunks (all can be taken at once) and the thread stays up to the rest ahead
 * (32 MiB of shared memory at 512 KiB chunks).
 */
const SLOTS = 64;
/** Chunks either side of the walk's stream that count as near it (4 MiB at 4 KiB pages). */
const NEAR = 8;
/** A chunk read ahead and not taken within this many takes is let go. */
const STALE_TAKES = 2 * SLOTS;

const THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { path, dev, ino, chunkBytes, end, paddedEnd, slots, control, data } = workerData;
const ctl = new Int32Array(control);
const HINT = ${HINT}, FREED = ${FREED}, STOP = ${STOP}, DONE = ${DONE}, TAKES = ${TAKES}, WAITING = ${WAITING}, WAKE_AT = ${WAKE_AT}, WAKE_BATCH = ${WAKE_BATCH}, IDLE = ${IDLE};
const H = ${HEADER_INTS}, S = ${SLOT_INTS}, FREE = ${FREE}, FILLING = ${FILLING}, READY = ${READY};
const chunks = Math.ceil(paddedEnd / chunkBytes);
const held = (c) => {
  for (let i = 0; i < slots; i++) if (Atomics.load(ctl, H + i * S + 1) !== FREE && Atomics.load(ctl, H + i * S) === c) return true;
  return false;
};
// The thread's whole run (its descriptor a local of it).
function readAhead() {
  let fd = -1;
  try {
    fd = fs.openSync(path, 'r');
    const st = fs.fstatSync(fd, { bigint: true });
    if (String(st.dev) !== dev || String(st.ino) !== ino) throw new Error('not the same file');
    let next = 0;
    let lastHint = 0;
    for (;;) {
      if (Atomics.load(ctl, STOP)) break;
      const hint = Atomics.load(ctl, HINT);
      if (hint > next || hint < lastHint) next = hint;
      lastHint = hint;
      if (next >= chunks) {
        // At the end of the file: wait for the walk to move back (its branch pages can sit at the end, its leaves
        // before them), or to stop.
        Atomics.store(ctl, IDLE, 1);
        Atomics.wait(ctl, HINT, hint);
        Atomics.store(ctl, IDLE, 0);
        continue;
      }
      if (held(next)) { next++; continue; }
      const freed = Atomics.load(ctl, FREED);
      let slot = -1;
      for (let i = 0; i < slots; i++) if (Atomics.load(ctl, H + i * S + 1) === FREE) { slot = i; break; }
      if (slot < 0) {
        Atomics.store(ctl, WAKE_AT, freed + WAKE_BATCH);
        Atomics.store(ctl, WAITING, 1);
        Atomics.wait(ctl, FREED, freed);
        Atomics.store(ctl, WAITING, 0);
        continue;
      }
      Atomics.store(ctl, H + slot * S, next);
      Atomics.store(ctl, H + slot * S + 3, Atomics.load(ctl, TAKES));
      Atomics.store(ctl, H + slot * S + 1, FILLING);
      const offset = next * chunkBytes;
      const want = Math.min(chunkBytes, paddedEnd - offset);
      const have = Math.max(0, Math.min(want, end - offset));
      const view = new Uint8Array(data, slot * chunkBytes, chunkBytes);
      let got = 0;
      try {
        while (got < have) { const n = fs.readSync(fd, view, got, have - got, offset + got); if (n === 0) break; got += n; }
      } catch (err) {
        // The pass reads this chunk itself and meets the error where it can report it.
        Atomics.store(ctl, H + slot * S + 1, FREE);
        Atomics.notify(ctl, H + slot * S + 1);
        break;
      }
      if (got < want) view.fill(0, got, want);
      Atomics.store(ctl, H + slot * S + 2, got);
      Atomics.store(ctl, H + slot * S + 1, READY);
      Atomics.notify(ctl, H + slot * S + 1);
      next++;
    }
  } catch (err) {
    // Nothing read ahead: every chunk is read by the pass.
  } finally {
    if (fd >= 0) try { fs.closeSync(fd); } catch {}
    Atomics.store(ctl, DONE, 1);
    for (let i = 0; i < slots; i++) Atomics.notify(ctl, H + i * S + 1);
  }
}
readAhead();
`;

/** Counts of a read-ahead's use (for tests: how many chunks the pass took from it). */
export interface ReadAheadStats {
  /** Chunks taken from a slot. */
  taken: number;
  /** Chunks asked for that no slot held (the pass read them). */
  missed: number;
  /** Chunks read ahead and let go untaken. */
  stale: number;
}

export function startReadAhead(
  filePath: string,
  file: { dev: bigint; ino: bigint },
  layout: ReadAheadLayout,
  stats: ReadAheadStats = { taken: 0, missed: 0, stale: 0 },
): ChunkReadAhead & { holds(n: number): boolean } {
  const control = new SharedArrayBuffer((HEADER_INTS + SLOTS * SLOT_INTS) * 4);
  const data = new SharedArrayBuffer(SLOTS * layout.chunkBytes);
  const ctl = new Int32Array(control);
  for (let i = 0; i < SLOTS; i++) ctl[HEADER_INTS + i * SLOT_INTS] = -1;
  const worker = new Worker(THREAD_SOURCE, {
    eval: true,
    workerData: {
      path: filePath,
      dev: String(file.dev),
      ino: String(file.ino),
      chunkBytes: layout.chunkBytes,
      end: layout.end,
      paddedEnd: layout.paddedEnd,
      slots: SLOTS,
      control,
      data,
    },
  });
  // The pass never waits for the thread to exit, and the process may end before it does.
  worker.unref();
  worker.on('error', () => {
    Atomics.store(ctl, DONE, 1);
    for (let i = 0; i < SLOTS; i++) Atomics.notify(ctl, state(i));
  });
  let stopped = false;
  /**
   * The chunk the walk is expected to want next: it moves up with takes near it, and moves to a place the walk
   * jumped to only on a second take there (a branch page far ahead of the leaves it lists is one take, after
   * which the walk comes back).
   */
  let stream = 0;
  let far = -1;
  const state = (slot: number) => HEADER_INTS + slot * SLOT_INTS + 1;
  const free = (slot: number, from: number): boolean => {
    if (Atomics.compareExchange(ctl, state(slot), from, FREE) !== from) return false;
    const freed = Atomics.add(ctl, FREED, 1) + 1;
    // The thread stores WAKE_AT and WAITING before it waits, and waits only while FREED is unchanged: either it
    // sees the new count, or this sees it waiting.
    if (Atomics.load(ctl, WAITING) && freed >= Atomics.load(ctl, WAKE_AT)) Atomics.notify(ctl, FREED);
    return true;
  };
  return {
    take(n) {
      if (stopped) return null;
      const takes = Atomics.add(ctl, TAKES, 1) + 1;
      let reseated = false;
      if (n >= stream - NEAR && n <= stream + NEAR) {
        stream = Math.max(stream, n + 1);
        far = -1;
      } else if (far >= 0 && Math.abs(n - far) <= NEAR) {
        // A second take away from the stream, near the first: the walk has moved there.
        stream = n + 1;
        far = -1;
        reseated = true;
      } else far = n;
      Atomics.store(ctl, HINT, stream);
      // The thread stores IDLE before it waits, and waits only while HINT is unchanged.
      if (Atomics.load(ctl, IDLE)) Atomics.notify(ctl, HINT);
      let found = -1;
      for (let i = 0; i < SLOTS; i++) {
        const s = Atomics.load(ctl, state(i));
        if (s !== READY && s !== FILLING) continue;
        const at = HEADER_INTS + i * SLOT_INTS;
        const c = Atomics.load(ctl, at);
        if (c === n) found = i;
        else if (s !== READY) continue;
        else if (reseated ? !(c >= n - NEAR && c <= n + SLOTS) : takes - Atomics.load(ctl, at + 3) > STALE_TAKES) {
          if (free(i, READY)) stats.stale++;
        }
      }
      if (found < 0) {
        stats.missed++;
        return null;
      }
      // The thread is reading it: wait (a stopped or failed thread sets DONE and wakes us).
      while (Atomics.load(ctl, state(found)) === FILLING && !Atomics.load(ctl, DONE)) Atomics.wait(ctl, state(found), FILLING, 1000);
      if (Atomics.compareExchange(ctl, state(found), READY, TAKEN) !== READY) {
        stats.missed++;
        return null;
      }
      stats.taken++;
      const offset = n * layout.chunkBytes;
      const want = Math.min(layout.chunkBytes, layout.paddedEnd - offset);
      return {
        bytes: new Uint8Array(data, found * layout.chunkBytes, want),
        got: Atomics.load(ctl, HEADER_INTS + found * SLOT_INTS + 2),
        slot: found,
      };
    },
    /** Whether chunk n is read ahead and waiting to be taken (a look that, unlike `take`, moves nothing). */
    holds(n) {
      for (let i = 0; i < SLOTS; i++) {
        if (Atomics.load(ctl, state(i)) === READY && Atomics.load(ctl, HEADER_INTS + i * SLOT_INTS) === n) return true;
      }
      return false;
    },
    release(slot) {
      free(slot, TAKEN);
    },
    breathe() {
      return new Promise((resolve) => setImmediate(resolve));
    },
    stop() {
      if (stopped) return;
      stopped = true;
      Atomics.store(ctl, STOP, 1);
      Atomics.add(ctl, HINT, 1);
      Atomics.notify(ctl, HINT);
      Atomics.add(ctl, FREED, 1);
      Atomics.notify(ctl, FREED);
    },
  };
}
