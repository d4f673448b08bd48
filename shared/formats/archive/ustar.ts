/**
 * POSIX ustar (IEEE Std 1003.1 `pax` interchange format, its ustar header):
 * the header block of a regular file, encode beside decode, and a bounded
 * listing of an archive's members. Used for the fresh dqlite backend Lifeboat
 * packs into one file (`backend.tar`) so that a guided session can upload it
 * to the node, its SHA-256 checked there, and `tar -x` it into place.
 *
 * A 512-byte header: name[100] mode[8] uid[8] gid[8] size[12] mtime[12]
 * chksum[8] typeflag[1] linkname[100] magic "ustar\0" version "00"
 * uname[32] gname[32] devmajor[8] devminor[8] prefix[155]; numbers are octal
 * text ended by NUL or space; the checksum is the sum of the header's bytes
 * with its own field taken as eight spaces. File data follows, padded to 512;
 * the archive ends with two zero blocks.
 */
import type { ByteSource } from '../../bytes/byte-source';

export const USTAR_BLOCK = 512;

/** The size field holds 11 octal digits: members up to 8 GiB - 1 (a larger one needs a pax header, not written here). */
export const USTAR_MAX_SIZE = 8 ** 11 - 1;

export interface UstarFileHeader {
  /** The member's name (ASCII, at most 100 bytes: no prefix field is written). */
  name: string;
  size: number;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
}

export type UstarMemberType = 'file' | 'dir' | 'link' | 'symlink' | 'other';

export interface UstarMember {
  /** As the header says it (an extension's header, type 'other', names its own data, e.g. `././@LongLink`). */
  name: string;
  type: UstarMemberType;
  /** Bytes of data after the header (0 for links, devices, directories and FIFOs). */
  size: number;
  mode: number;
  /** Where its data starts in the archive. */
  dataOffset: number;
}

function octal(out: Uint8Array, at: number, width: number, value: number): void {
  const digits = value.toString(8).padStart(width - 1, '0');
  if (digits.length > width - 1) throw new RangeError(`${value} does not fit a ${width}-byte ustar field`);
  for (let i = 0; i < digits.length; i++) out[at + i] = digits.charCodeAt(i);
  out[at + width - 1] = 0;
}

function ascii(out: Uint8Array, at: number, width: number, text: string): void {
  if (text.length > width || !/^[\x20-\x7e]*$/.test(text)) throw new RangeError(`"${text}" does not fit a ${width}-byte ustar field`);
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
}

/** The header block of a regular file owned by root (uid and gid 0). */
export function encodeUstarFileHeader(h: UstarFileHeader): Uint8Array {
  if (!Number.isSafeInteger(h.size) || h.size < 0 || h.size > USTAR_MAX_SIZE) throw new RangeError(`size ${h.size} does not fit a ustar header`);
  const b = new Uint8Array(USTAR_BLOCK);
  ascii(b, 0, 100, h.name);
  octal(b, 100, 8, h.mode & 0o7777);
  octal(b, 108, 8, 0);
  octal(b, 116, 8, 0);
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, Math.max(0, Math.floor(h.mtime)));
  b[156] = 0x30; // '0': a regular file
  ascii(b, 257, 6, 'ustar');
  ascii(b, 263, 2, '00');
  ascii(b, 265, 32, 'root');
  ascii(b, 297, 32, 'root');
  b.fill(0x20, 148, 156);
  octal(b, 148, 7, checksum(b));
  b[155] = 0x20;
  return b;
}

/** Zero bytes after `size` bytes of member data, up to the next block. */
export function ustarPadding(size: number): Uint8Array {
  return new Uint8Array((USTAR_BLOCK - (size % USTAR_BLOCK)) % USTAR_BLOCK);
}

/** The two zero blocks that end an archive. */
export function ustarEnd(): Uint8Array {
  return new Uint8Array(2 * USTAR_BLOCK);
}

function checksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < USTAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : b[i]!;
  return sum;
}

function readOctal(b: Uint8Array, at: number, width: number): number | null {
  let v = 0;
  let digits = 0;
  let i = at;
  while (i < at + width && b[i] === 0x20) i++;
  for (; i < at + width; i++) {
    const c = b[i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) return null;
    v = v * 8 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? null : v;
}

function readText(b: Uint8Array, at: number, width: number): string {
  let s = '';
  for (let i = at; i < at + width && b[i] !== 0; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** One header block: the member, `end` for a zero block, or why it is not a ustar header. Never throws. */
export function decodeUstarHeader(b: Uint8Array): { ok: true; member: Omit<UstarMember, 'dataOffset'> } | { ok: false; end: boolean; why: string } {
  if (b.length < USTAR_BLOCK) return { ok: false, end: false, why: `a header block needs ${USTAR_BLOCK} bytes, ${b.length} left` };
  if (b.every((x) => x === 0)) return { ok: false, end: true, why: 'a zero block' };
  const stored = readOctal(b, 148, 8);
  if (stored === null || stored !== checksum(b)) return { ok: false, end: false, why: 'the header checksum does not match' };
  const size = readOctal(b, 124, 12);
  const mode = readOctal(b, 100, 8);
  if (size === null || mode === null) return { ok: false, end: false, why: 'the size or mode is not an octal number' };
  const prefix = readText(b, 257, 6) === 'ustar' ? readText(b, 345, 155) : '';
  const name = (prefix ? `${prefix}/` : '') + readText(b, 0, 100);
  const flag = b[156]!;
  const type: UstarMemberType = flag === 0x30 || flag === 0 ? 'file' : flag === 0x35 ? 'dir' : flag === 0x31 ? 'link' : flag === 0x32 ? 'symlink' : 'other';
  // Links, devices, directories and FIFOs ('1'-'6') carry no data whatever the size field says; every other type
  // does (files, and the headers of extensions: pax 'x'/'g', GNU long names 'L'/'K'), and is skipped by it.
  const noData = flag >= 0x31 && flag <= 0x36;
  return { ok: true, member: { name, type, size: noData ? 0 : size, mode } };
}

/**
 * The members of the archive in `src`, at most `maxMembers`: each header read and checked, data skipped. A cut
 * archive or a bad header ends the listing with why and where (byte offset). Never throws on bad input.
 */
export async function listUstar(
  src: ByteSource,
  maxMembers: number,
): Promise<{ members: UstarMember[]; problem: { offset: number; why: string } | null; ended: boolean }> {
  const members: UstarMember[] = [];
  let at = 0;
  while (members.length < maxMembers) {
    if (at + USTAR_BLOCK > src.size)
      return { members, problem: { offset: Math.min(at, src.size), why: 'the archive ends before its end blocks' }, ended: false };
    const h = decodeUstarHeader(await src.read(at, USTAR_BLOCK));
    if (!h.ok) return h.end ? { members, problem: null, ended: true } : { members, problem: { offset: at, why: h.why }, ended: false };
    const dataOffset = at + USTAR_BLOCK;
    if (dataOffset + h.member.size > src.size)
      return { members, problem: { offset: at, why: `${h.member.name}: its data runs past the end of the archive` }, ended: false };
    members.push({ ...h.member, dataOffset });
    at = dataOffset + h.member.size + ((USTAR_BLOCK - (h.member.size % USTAR_BLOCK)) % USTAR_BLOCK);
  }
  return { members, problem: { offset: at, why: `more than ${maxMembers} members` }, ended: false };
}
