/**
 * A root-only data directory read in place through sudo, as a
 * DirectorySource: MicroK8s's `backend/` and etcd's `/var/lib/etcd` are not
 * readable by the login user, so SFTP cannot read them.
 *
 * Only two read-only commands run as root, each one exec through
 * `SudoRunner` (announced, so the session log shows the exact text):
 * - list: `find -H DIR -maxdepth 1 -printf …` with NUL-separated fields (a
 *   name with a newline or a quote cannot break the parsing);
 * - read: `dd if=FILE bs=64K iflag=skip_bytes,count_bytes skip=OFF count=LEN status=none`.
 * Reads go through a small cache of windows that grow while a file is read
 * sequentially (1 MiB up to 16 MiB), so validating a big segment costs a few
 * execs, not one per 1 MiB window the validator asks for.
 */
import * as path from 'node:path';
import type { ByteSource, DirEntry, DirectorySource, EntryKind } from '../../../shared/bytes/byte-source';
import { MAX_READ } from '../../../shared/bytes/byte-source';
import type { ErrorText } from '../../../shared/contract/error-text';
import { translate, type MessageParams } from '../../../shared/i18n';
import type { SshStringKey } from '../../../shared/i18n/ssh';
import { sudoLinkedFileStatCommand, sudoListCommand, sudoReadCommand } from '../../../shared/node/sudo-read';
import type { SudoRunner } from './connection';
import { remoteJoin } from './remote-files';
import { stripTrailingSlashes } from '../../../shared/text/trailing-slashes';

export { sudoLinkedFileStatCommand, sudoListCommand, sudoReadCommand };

/** Fields of one `sudoListCommand` record. */
const LISTING_FIELDS = 6;

/** A listing bigger than this is refused rather than held in memory (about 200 000 entries). */
const MAX_LISTING_BYTES = 32 * 1024 * 1024;
const MIN_WINDOW = 1024 * 1024;
const MAX_WINDOW = 16 * 1024 * 1024;
/** Cached windows per directory, in bytes (least recently used dropped first). */
const CACHE_BYTES = 2 * MAX_WINDOW;

export class SudoSourceError extends Error {
  /** The same sentence as a catalog text, so the UI says it in its language (the message is its English rendering). */
  readonly text: ErrorText;
  constructor(
    /** `not-found`, `not-a-directory`, `failed`. */
    readonly code: 'not-found' | 'not-a-directory' | 'failed',
    key: SshStringKey,
    params?: MessageParams,
  ) {
    super(translate('en', key, params));
    this.name = 'SudoSourceError';
    this.text = params ? { key, params } : { key };
  }
}

/** `find`'s `%Y`: a symbolic link is what it leads to; one that leads nowhere (`N`) or in a loop (`L`) stays a link. */
function kindOf(y: string): EntryKind {
  return y === 'f' ? 'file' : y === 'd' ? 'dir' : y === 'l' || y === 'N' || y === 'L' ? 'symlink' : 'other';
}

function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

/** Parse `sudoListCommand` output; the depth-0 record is the directory itself. */
export function parseSudoListing(out: Buffer, dir: string): { self: EntryKind; entries: DirEntry[] } {
  const fields = out.toString('utf8').split('\0');
  // A complete output ends with a NUL, so the last split part is empty.
  if (fields.pop() !== '' || fields.length % LISTING_FIELDS !== 0) {
    throw new SudoSourceError('failed', 'ssh.sudo.error.sourceListingNotRecords', { path: dir, bytes: out.length });
  }
  let self: EntryKind | null = null;
  const entries: DirEntry[] = [];
  for (let i = 0; i < fields.length; i += LISTING_FIELDS) {
    const [depth, type, size, mtime, name, link] = fields.slice(i, i + LISTING_FIELDS);
    const bytes = Number(size);
    const seconds = Number(mtime);
    if (!/^\d+$/.test(size) || !Number.isSafeInteger(bytes) || !Number.isFinite(seconds)) {
      throw new SudoSourceError('failed', 'ssh.sudo.error.sourceListingBadRecord', {
        path: dir,
        field: i,
        size: JSON.stringify(size),
        mtime: JSON.stringify(mtime),
      });
    }
    if (depth === '0') {
      self = kindOf(type);
      continue;
    }
    if (depth !== '1' || !isPlainName(name))
      throw new SudoSourceError('failed', 'ssh.sudo.error.sourceListingBadName', { path: dir, name: JSON.stringify(name) });
    entries.push({ name, size: bytes, kind: kindOf(type), mtimeMs: Math.round(seconds * 1000), ...(link ? { linkTarget: link } : {}) });
  }
  if (self === null) throw new SudoSourceError('failed', 'ssh.sudo.error.sourceListingNoSelf', { path: dir });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { self, entries };
}

interface Window {
  file: string;
  start: number;
  bytes: Buffer;
}

/** Recently read windows of a directory's files, bounded in bytes. */
class WindowCache {
  private windows: Window[] = [];
  private inFlight: { file: string; start: number; end: number; promise: Promise<Window> }[] = [];
  private total = 0;

  find(file: string, start: number, end: number): Window | Promise<Window> | null {
    const i = this.windows.findIndex((w) => w.file === file && w.start <= start && end <= w.start + w.bytes.length);
    if (i >= 0) {
      const [w] = this.windows.splice(i, 1);
      this.windows.push(w); // most recently used last
      return w;
    }
    const pending = this.inFlight.find((f) => f.file === file && f.start <= start && end <= f.end);
    return pending ? pending.promise : null;
  }

  track(file: string, start: number, end: number, promise: Promise<Window>): void {
    const entry = { file, start, end, promise };
    this.inFlight.push(entry);
    const settle = () => (this.inFlight = this.inFlight.filter((f) => f !== entry));
    promise.then((w) => {
      settle();
      this.add(w);
    }, settle);
  }

  private add(w: Window): void {
    this.windows.push(w);
    this.total += w.bytes.length;
    while (this.total > CACHE_BYTES && this.windows.length > 1) this.total -= this.windows.shift()!.bytes.length;
  }

  clear(): void {
    this.windows = [];
    this.total = 0;
  }
}

/**
 * `dir` on the node, read as root through `sudo`. `list()` runs the listing
 * each time; `open()` takes the size from the latest listing (listing again
 * for a name it has not seen), so opening a file costs no exec.
 */
export function sudoDirectory(sudo: SudoRunner, dir: string, displayName?: string): DirectorySource & { close(): Promise<void> } {
  const cache = new WindowCache();
  /** Where the next sequential read of each file would start, and its window size. */
  const readAhead = new Map<string, { next: number; window: number }>();
  let latest: Map<string, DirEntry> | null = null;

  const list = async (): Promise<DirEntry[]> => {
    const res = await sudo.run(sudoListCommand(dir), MAX_LISTING_BYTES);
    if (res.code !== 0) {
      if (/No such file or directory/.test(res.stderr)) throw new SudoSourceError('not-found', 'ssh.error.notFound', { path: dir });
      if (res.code === null) throw new SudoSourceError('failed', 'ssh.sudo.error.sourceListingLost', { path: dir });
      throw new SudoSourceError('failed', 'ssh.sudo.error.sourceListingFailed', { path: dir, code: res.code, stderr: res.stderr.trim().slice(0, 500) });
    }
    if (res.truncated) throw new SudoSourceError('failed', 'ssh.sudo.error.sourceListingTooLarge', { path: dir, bytes: MAX_LISTING_BYTES });
    const { self, entries } = parseSudoListing(res.stdout, dir);
    if (self !== 'dir') throw new SudoSourceError('not-a-directory', 'ssh.sudo.error.sourceNotDirectory', { path: dir, kind: self });
    // A link to a file (a db on another disk, linked back) is read through: its size is the file's.
    for (const e of entries.filter((x) => x.linkTarget && x.kind === 'file')) {
      const st = await sudo.run(sudoLinkedFileStatCommand(remoteJoin(dir, e.name)), 1024);
      const m = /^(\d+) (\d+)\n?$/.exec(st.stdout.toString('utf8'));
      if (st.code === 0 && m && Number.isSafeInteger(Number(m[1]))) Object.assign(e, { size: Number(m[1]), mtimeMs: Number(m[2]) * 1000 });
      else e.kind = 'symlink';
    }
    latest = new Map(entries.map((e) => [e.name, e]));
    return entries;
  };

  const fetchWindow = async (file: string, start: number, length: number): Promise<Window> => {
    const res = await sudo.run(sudoReadCommand(remoteJoin(dir, file), start, length), length);
    if (res.code !== 0) {
      if (res.code === null) throw new SudoSourceError('failed', 'ssh.sudo.error.sourceReadLost', { file, offset: start });
      throw new SudoSourceError('failed', 'ssh.sudo.error.sourceReadFailed', { file, offset: start, code: res.code, stderr: res.stderr.trim().slice(0, 500) });
    }
    return { file, start, bytes: res.stdout };
  };

  const openFile = (name: string, size: number): ByteSource => ({
    name,
    size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      if (offset < 0 || length < 0 || !Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) {
        throw new RangeError(`bad read ${offset}+${length}`);
      }
      const want = Math.max(0, Math.min(length, MAX_READ, size - offset));
      if (want === 0) return new Uint8Array(0);
      const end = offset + want;
      const hit = cache.find(name, offset, end);
      let w: Window;
      if (hit === null) {
        // Sequential reads double the window (fewer execs); a jump starts small again.
        const ra = readAhead.get(name);
        const windowSize = ra && ra.next === offset ? Math.min(MAX_WINDOW, ra.window * 2) : MIN_WINDOW;
        const len = Math.min(size - offset, Math.max(want, windowSize));
        readAhead.set(name, { next: offset + len, window: windowSize });
        const p = fetchWindow(name, offset, len);
        cache.track(name, offset, offset + len, p);
        w = await p;
      } else w = await hit;
      const from = offset - w.start;
      // Short only where the file ended earlier than listed (it shrank meanwhile).
      const view = w.bytes.subarray(Math.min(from, w.bytes.length), Math.min(from + want, w.bytes.length));
      return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    },
  });

  return {
    name: displayName ?? (stripTrailingSlashes(dir).split('/').pop() || '/'),
    list,
    async open(name: string): Promise<ByteSource> {
      if (!isPlainName(name)) throw new Error(`not a plain file name: ${name}`);
      let entry = latest?.get(name);
      if (!entry) {
        await list();
        entry = latest?.get(name);
      }
      if (!entry) throw new SudoSourceError('not-found', 'ssh.error.notFound', { path: remoteJoin(dir, name) });
      if (entry.kind !== 'file') throw new SudoSourceError('failed', 'ssh.sudo.error.sourceNotFile', { path: remoteJoin(dir, name), kind: entry.kind });
      return openFile(name, entry.size);
    },
    async subdir(name: string) {
      if (!isPlainName(name)) throw new Error(`not a plain directory name: ${name}`);
      return sudoDirectory(sudo, path.posix.join(dir, name));
    },
    async close() {
      cache.clear();
      readAhead.clear();
      latest = null;
    },
  };
}
