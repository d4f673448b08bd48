/**
 * The upload step's picker: which local files could go back to the node. At
 * 3 a.m. the operator should not have to remember where salvage wrote its
 * snapshot.db: the app lists what this window's salvage runs wrote and the
 * `.db` files in the copies folder, each checked the way `etcdctl snapshot
 * restore` will check it (a bbolt db whose 32-byte SHA-256 trailer matches
 * the body), newest good first. For a dqlite step, the `backend.tar` files
 * the offline rebuild wrote, each checked to hold a fresh backend. Files are only read; a file is hashed once
 * per size and modification time (the cache belongs to the instance).
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { UploadCandidate, UploadKind } from '../../../shared/contract/guided';
import type { LocalText } from '../../../shared/contract/text';
import { decodeMeta } from '../../../shared/formats/etcd/bbolt-meta';
import { hasHashTrailer, SHA256_TRAILER as TRAILER } from '../../../shared/formats/etcd/bbolt-walk';
import { listUstar } from '../../../shared/formats/archive/ustar';
import { openFileSource } from '../fs-source';
import { strictlyInside } from '../local-path-confine';

/** How deep and how wide the copies folder is searched (it also holds whole copied data dirs). */
const MAX_DEPTH = 5;
const MAX_ENTRIES = 20_000;
const MAX_CANDIDATES = 100;
const HEAD_BYTES = 8192;

export interface SnapshotFileCheck {
  bytes: number;
  sha256: string;
  valid: boolean;
  problem?: LocalText;
}

/** Read `file` once: its SHA-256, and whether etcdctl would restore it (bbolt meta pages, trailer = SHA-256 of the body). */
export async function checkSnapshotFile(file: string): Promise<SnapshotFileCheck> {
  const whole = createHash('sha256');
  const body = createHash('sha256');
  const st = await fs.stat(file);
  const size = st.size;
  const bodyBytes = Math.max(0, size - TRAILER);
  const head = Buffer.alloc(Math.min(HEAD_BYTES, size));
  const trailer = Buffer.alloc(Math.min(TRAILER, size));
  let at = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    whole.update(chunk);
    if (at < head.length) chunk.copy(head, at, 0, Math.min(chunk.length, head.length - at));
    if (at < bodyBytes) body.update(chunk.subarray(0, Math.min(chunk.length, bodyBytes - at)));
    // The last 32 bytes may straddle two chunks.
    const end = at + chunk.length;
    if (end > bodyBytes) {
      const from = Math.max(at, bodyBytes);
      chunk.copy(trailer, from - bodyBytes, from - at);
    }
    at = end;
  }
  const sha256 = whole.digest('hex');
  const judged = (problem?: LocalText): SnapshotFileCheck => ({ bytes: at, sha256, valid: !problem, ...(problem ? { problem } : {}) });
  if (at !== size) return judged({ key: 'guided.upload.problem.changed' });
  if (size < 1024 + TRAILER) return judged({ key: 'guided.upload.problem.tooSmall', params: { bytes: size } });
  const meta0 = decodeMeta(head.subarray(0, 4096), 0);
  const pageSize = meta0.ok ? meta0.pageSize : 4096;
  const meta1 = head.length >= pageSize * 2 ? decodeMeta(head.subarray(pageSize, pageSize * 2), 1) : null;
  if (!meta0.ok && !meta1?.ok) return judged({ key: 'guided.upload.problem.notBbolt', params: { error: meta0.error ?? 'invalid database' } });
  // etcdctl assumes a trailer exactly when size % 512 == 32 (and refuses a file without one).
  if (!hasHashTrailer(size)) return judged({ key: 'guided.upload.problem.noTrailer' });
  const expected = trailer.toString('hex');
  const got = body.digest('hex');
  if (expected !== got) return judged({ key: 'guided.upload.problem.hashMismatch', params: { expected, got } });
  return judged();
}

/** Members of a backend.tar looked at (a fresh backend has a few: metadata1, one snapshot and its .meta, the node's files). */
const MAX_ARCHIVE_MEMBERS = 1000;

/**
 * Read `file` once: its SHA-256, and whether it holds a fresh dqlite backend (a ustar archive whose members are
 * files at its top level, among them metadata1 and a snapshot with its .meta): what the guided swap extracts.
 */
export async function checkBackendArchive(file: string): Promise<SnapshotFileCheck> {
  const st = await fs.stat(file);
  const whole = createHash('sha256');
  let at = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    whole.update(chunk);
    at += chunk.length;
  }
  const sha256 = whole.digest('hex');
  const judged = (problem?: LocalText): SnapshotFileCheck => ({ bytes: at, sha256, valid: !problem, ...(problem ? { problem } : {}) });
  if (at !== st.size) return judged({ key: 'guided.upload.problem.changed' });
  const src = await openFileSource(file);
  try {
    const listed = await listUstar(src, MAX_ARCHIVE_MEMBERS);
    if (listed.problem) return judged({ key: 'guided.upload.problem.notArchive', params: { why: `${listed.problem.why} (byte ${listed.problem.offset})` } });
    const names = listed.members.filter((m) => m.type === 'file' && !m.name.includes('/')).map((m) => m.name);
    const snapshot = names.find((n) => /^snapshot-\d+-\d+-\d+$/.test(n) && names.includes(`${n}.meta`));
    const missing = [...(names.includes('metadata1') ? [] : ['metadata1']), ...(snapshot ? [] : ['snapshot-TERM-INDEX-N + .meta'])];
    if (missing.length > 0) return judged({ key: 'guided.upload.problem.notBackend', params: { missing: missing.join(', ') } });
    return judged();
  } finally {
    await src.close();
  }
}

/** One per guided-handlers instance: finds and checks candidates, remembering checks by path, size and time. */
export class UploadCandidateFinder {
  private readonly checked = new Map<string, { size: number; mtimeMs: number; check: SnapshotFileCheck }>();

  /** Regular files (not links) under `root` whose name ends with `suffix`, breadth first, bounded. */
  private async scan(root: string, suffix: string): Promise<string[]> {
    const found: string[] = [];
    let visited = 0;
    let level = [root];
    for (let depth = 0; depth <= MAX_DEPTH && level.length && found.length < MAX_CANDIDATES; depth++) {
      const next: string[] = [];
      for (const dir of level) {
        const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
        for (const e of entries) {
          if (++visited > MAX_ENTRIES || found.length >= MAX_CANDIDATES) break;
          const p = path.join(dir, e.name);
          if (e.isDirectory()) next.push(p);
          // A salvage still running (or stopped) writes `<name>.lifeboat-part`: never offered.
          else if (e.isFile() && e.name.endsWith(suffix)) found.push(p);
        }
      }
      level = next;
    }
    return found;
  }

  private async check(file: string, accepts: UploadKind): Promise<{ mtime: number; check: SnapshotFileCheck } | null> {
    const st = await fs.lstat(file).catch(() => null);
    if (!st?.isFile()) return null;
    const cacheKey = `${accepts}\n${file}`;
    const known = this.checked.get(cacheKey);
    if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return { mtime: st.mtimeMs, check: known.check };
    const check = await (accepts === 'dqlite-backend' ? checkBackendArchive(file) : checkSnapshotFile(file)).catch(() => null);
    if (!check) return null;
    this.checked.set(cacheKey, { size: st.size, mtimeMs: st.mtimeMs, check });
    return { mtime: st.mtimeMs, check };
  }

  /**
   * `salvaged` (outputs of finished salvage runs) first as origin 'salvage',
   * then what the copies folder holds. With `confine`, a file outside the
   * copies folder (after symlinks) is never read.
   */
  async list(opts: { copiesRoot: string; salvaged: readonly string[]; confine: boolean; accepts?: UploadKind }): Promise<UploadCandidate[]> {
    const accepts = opts.accepts ?? 'etcd-snapshot';
    const realRoot = await fs.realpath(opts.copiesRoot).catch(() => null);
    const out = new Map<string, UploadCandidate>();
    const add = async (file: string, origin: UploadCandidate['origin']): Promise<void> => {
      const real = await fs.realpath(file).catch(() => null);
      if (!real || out.has(real)) return;
      if (opts.confine && (!realRoot || !strictlyInside(realRoot, real))) return;
      const c = await this.check(real, accepts);
      if (!c) return;
      out.set(real, {
        path: real,
        bytes: c.check.bytes,
        mtime: c.mtime,
        sha256: c.check.sha256,
        valid: c.check.valid,
        origin,
        ...(c.check.problem ? { problem: c.check.problem } : {}),
      });
    };
    for (const f of opts.salvaged.slice(-MAX_CANDIDATES)) await add(f, 'salvage');
    if (realRoot) for (const f of await this.scan(realRoot, accepts === 'dqlite-backend' ? '.tar' : '.db')) await add(f, 'copies');
    return [...out.values()].sort((a, b) => Number(b.valid) - Number(a.valid) || b.mtime - a.mtime).slice(0, MAX_CANDIDATES);
  }
}
