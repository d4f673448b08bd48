/**
 * The payload of a RAFT_COMMAND entry as dqlite writes it (`dqlite:src/command.h`,
 * `command.c`, `lib/serialize.h`; the same from v1.11.1 to HEAD):
 *
 *   +0  u8 format (1), u8 type (1 OPEN, 2 FRAMES, 3 UNDO, 4 CHECKPOINT), u8, u8, u32 unused
 *   +8  text filename: NUL-terminated, zero-padded to a multiple of 8
 *   FRAMES then: u64 tx_id, u32 truncate, u8 is_commit, u8, u16   (16 bytes)
 *                u32 n_pages, u16 page_size, u16 unused             (8 bytes)
 *                n_pages x u64 page number, then n_pages x page_size bytes (full page images)
 *   OPEN / CHECKPOINT: the filename only; UNDO: u64 tx_id instead of a filename.
 *
 * Every length is checked against the payload before it is used: a damaged
 * command is a `bad` result naming the byte, never a throw or an allocation
 * sized by the damage. Decoding makes no copy: pages are offsets into the payload.
 */
import { pad8, putU32, putU64, u32At, u64RoundedAt } from './le';
import { isSqlitePageSize } from './sqlite-wal';

export const COMMAND_FORMAT = 1;
export const COMMAND_OPEN = 1;
export const COMMAND_FRAMES = 2;
export const COMMAND_UNDO = 3;
export const COMMAND_CHECKPOINT = 4;

/** Longest database file name read (dqlite names are short: `k8s`, `demo`). */
export const MAX_COMMAND_FILENAME = 1024;

export type DqliteCommand =
  | {
      kind: 'frames';
      database: string;
      txId: number;
      truncate: number;
      isCommit: boolean;
      pageSize: number;
      /** Page numbers (1-based), in the order of the page images. */
      pageNumbers: number[];
      /** Offset of the first page image in the payload; image i is at pagesAt + i * pageSize. */
      pagesAt: number;
    }
  | { kind: 'open' | 'checkpoint'; database: string }
  | { kind: 'undo'; txId: number }
  | { kind: 'bad'; offset: number; why: string };

function bad(offset: number, why: string): DqliteCommand {
  return { kind: 'bad', offset, why };
}

/** A NUL-terminated text padded to 8 bytes at `at`: the string and where the next field starts. */
function readText(b: Uint8Array, at: number): { text: string; next: number } | null {
  const limit = Math.min(b.length, at + MAX_COMMAND_FILENAME + 1);
  let end = at;
  while (end < limit && b[end] !== 0) end++;
  if (end >= limit) return null;
  let text = '';
  for (let i = at; i < end; i++) text += String.fromCharCode(b[i]!);
  return { text, next: at + pad8(end - at + 1) };
}

/** Decode one command payload (see the layout above). */
export function decodeCommand(b: Uint8Array): DqliteCommand {
  if (b.length < 8) return bad(0, `payload of ${b.length} bytes is shorter than the 8-byte command header`);
  if (b[0] !== COMMAND_FORMAT) return bad(0, `command format ${b[0]} (dqlite writes 1)`);
  const type = b[1]!;
  if (type === COMMAND_UNDO) {
    if (b.length < 16) return bad(8, 'UNDO command without its transaction id');
    return { kind: 'undo', txId: u64RoundedAt(b, 8) };
  }
  if (type !== COMMAND_OPEN && type !== COMMAND_FRAMES && type !== COMMAND_CHECKPOINT) return bad(1, `unknown command type ${type}`);
  const name = readText(b, 8);
  if (!name) return bad(8, `the database name is not NUL-terminated within ${MAX_COMMAND_FILENAME} bytes of the payload`);
  if (name.next > b.length) return bad(8, 'the database name runs past the end of the payload');
  if (type !== COMMAND_FRAMES) return { kind: type === COMMAND_OPEN ? 'open' : 'checkpoint', database: name.text };
  const at = name.next;
  if (at + 24 > b.length) return bad(at, 'FRAMES command cut short before its page count');
  const txId = u64RoundedAt(b, at);
  const truncate = u32At(b, at + 8);
  const isCommit = b[at + 12] !== 0;
  const n = u32At(b, at + 16);
  const pageSize = b[at + 20]! | (b[at + 21]! << 8);
  // (65536, SQLite's largest, does not fit the u16: dqlite cannot write it.)
  const size = pageSize;
  if (!isSqlitePageSize(size)) return bad(at + 20, `page size ${pageSize} is not a SQLite page size`);
  const numbersAt = at + 24;
  // Checked before anything is sized by n: n page numbers and n page images must fit the payload.
  if (n === 0 || numbersAt + n * (8 + size) > b.length) return bad(at + 16, `${n} pages of ${size} bytes do not fit the ${b.length}-byte payload`);
  const pageNumbers = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const pgno = u64RoundedAt(b, numbersAt + 8 * i);
    if (pgno < 1 || pgno > 0xfffffffe) return bad(numbersAt + 8 * i, `page number ${pgno} is outside SQLite's 1..4294967294`);
    pageNumbers[i] = pgno;
  }
  return { kind: 'frames', database: name.text, txId, truncate, isCommit, pageSize: size, pageNumbers, pagesAt: numbersAt + 8 * n };
}

/** Encode a FRAMES command (tests build log entries with it; the layout above). */
export function encodeFramesCommand(database: string, pages: { pgno: number; data: Uint8Array }[], pageSize: number, isCommit = true): Uint8Array {
  const nameBytes = pad8(database.length + 1);
  const out = new Uint8Array(8 + nameBytes + 24 + pages.length * (8 + pageSize));
  out[0] = COMMAND_FORMAT;
  out[1] = COMMAND_FRAMES;
  for (let i = 0; i < database.length; i++) out[8 + i] = database.charCodeAt(i) & 0xff;
  const at = 8 + nameBytes;
  out[at + 12] = isCommit ? 1 : 0;
  putU32(out, at + 16, pages.length);
  out[at + 20] = pageSize & 0xff;
  out[at + 21] = (pageSize >>> 8) & 0xff;
  pages.forEach((p, i) => {
    putU64(out, at + 24 + 8 * i, p.pgno);
    out.set(p.data.subarray(0, pageSize), at + 24 + 8 * pages.length + i * pageSize);
  });
  return out;
}
