/**
 * Copy-out over SFTP from a real sshd: byte-identical copies with a
 * node-side sha256sum manifest, resume after the connection is killed
 * mid-copy, refusal of a directory being written, the SFTP byte source and
 * the CLI. The remote source is hashed before and after: never modified.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promises as fs, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyOutCommand } from '../../electron/services/ssh/copy-out-cli';
import {
  CopyOutError,
  DirectoryChangingError,
  copyOut,
  listRemoteTree,
  parseFindListing,
  parseNodeHashes,
  remoteHashCommand,
  settleWaitMs,
  sftpTreeReader,
  type RemoteListing,
} from '../../electron/services/ssh/copy-out';
import { sftpDirectory } from '../../electron/services/ssh/sftp-source';
import type { CopyOutProgress } from '../../shared/contract/ssh';
import { contentHashes, copyCutOff, startCopyOutNode, writeTree, type CopyOutNode } from '../helpers/copy-out-node';
import { generateKey, makeTempDir, sshdAvailable, type SshdInstance } from '../helpers/sshd';

/** Run the node-side hash command here with `names` on stdin, under `PATH`. */
function runHash(root: string, names: string[], pathEnv: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('/bin/sh', ['-c', remoteHashCommand(root)], { env: { PATH: pathEnv }, maxBuffer: 1 << 20 }, (err, stdout) =>
      err ? reject(new Error(err.message, { cause: err })) : resolve(stdout),
    );
    child.stdin!.end(names.map((n) => `${n}\0`).join(''));
  });
}

describe('the node-side hash command', () => {
  it('gives the same SHA-256 per file with openssl and, where there is none, with sha256sum', async () => {
    const dir = await makeTempDir('lifeboat-hashcmd-');
    try {
      const files: Record<string, Buffer> = { '-starts-with-dash': randomBytes(1000), 'has space': randomBytes(70_000), 'star*name': Buffer.alloc(0) };
      for (const [n, b] of Object.entries(files)) await fs.writeFile(path.join(dir, n), b);
      const want = new Map(Object.entries(files).map(([n, b]) => [n, createHash('sha256').update(b).digest('hex')]));
      // Only xargs and sha256sum on PATH: the command falls back to coreutils.
      const bin = path.join(dir, '.bin');
      await fs.mkdir(bin);
      for (const tool of ['xargs', 'sha256sum']) await fs.symlink(`/usr/bin/${tool}`, path.join(bin, tool));
      const names = Object.keys(files);
      const withOpenssl = await runHash(dir, names, '/usr/bin:/bin');
      const withoutOpenssl = await runHash(dir, names, bin);
      expect(withOpenssl).not.toContain('\0');
      expect(withoutOpenssl).toContain('\0');
      expect(parseNodeHashes(withOpenssl)).toEqual(want);
      expect(parseNodeHashes(withoutOpenssl)).toEqual(want);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the find listing', () => {
  const record = (type: string, rel: string) => `${type}\u00004096\u00001765000000.5\u00001765000000.5\u0000${rel}\u0000`;
  it('reads a deep path, and names the folder of the first bad name in it', () => {
    const deep = Array.from({ length: 50_000 }, () => 'a').join('/');
    const out = (rel: string) => Buffer.from(`1765000000.1\n${record('d', '')}${record('f', rel)}`);
    expect(parseFindListing(out(deep), '/var/lib/etcd', 10).files.map((f) => f.rel)).toEqual([deep]);
    let error: unknown;
    try {
      parseFindListing(out('member/snap/../db'), '/var/lib/etcd', 10);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CopyOutError);
    expect((error as Error).message).toContain('/var/lib/etcd/member/snap');
    expect((error as Error).message).toContain('".."');
  });
});

describe('how long the change check still waits after the first listing', () => {
  const at = (nodeNow: number | null, ...times: number[]): RemoteListing => ({
    isDir: true,
    files: times.map((t, i) => ({ rel: `f${i}`, size: 1, mtime: t - 5, ctime: t })),
    fine: { dirs: [{ rel: '', size: 0, mtime: 900, ctime: 900 }], nodeNow },
  });

  it('counts the quiet time before the listing, from the newest change on the node', () => {
    expect(settleWaitMs(at(1000, 990, 950), 1500)).toBe(0); // still for 10 s: nothing to wait
    expect(settleWaitMs(at(1000, 999.9, 950), 1500)).toBe(1400); // written 0.1 s ago
    expect(settleWaitMs(at(1000, 998.5), 1500)).toBe(0);
    // A directory's change (an entry made or removed) counts like a file's.
    expect(settleWaitMs({ ...at(1000, 950), fine: { dirs: [{ rel: 'member', size: 0, mtime: 999.5, ctime: 999.5 }], nodeNow: 1000 } }, 1500)).toBe(1000);
  });

  it('waits the whole settle time when it cannot tell: a time in the future, no node clock, whole seconds', () => {
    expect(settleWaitMs(at(1000, 1003), 1500)).toBe(1500);
    expect(settleWaitMs(at(null, 990), 1500)).toBe(1500);
    expect(settleWaitMs({ isDir: true, files: [{ rel: 'a', size: 1, mtime: 10 }] }, 1500)).toBe(1500);
    expect(settleWaitMs(at(1000, 999.9), 300)).toBe(200);
  });
});

describe.skipIf(!sshdAvailable())('copy-out over SFTP (real sshd)', () => {
  let node: CopyOutNode;
  let sshd: SshdInstance;
  let dir: string;
  let src: string; // the "node's" data dir (same machine, served by sshd)

  beforeAll(async () => {
    node = await startCopyOutNode('lifeboat-copy-');
    ({ sshd, dir } = node);
    src = path.join(dir, 'dqlite');
    // Names like a dqlite dir plus awkward ones (spaces, quotes, UTF-8).
    await writeTree(src, {
      '0000000000000001-0000000000000100': randomBytes(3 * 1024 * 1024 + 17),
      'open-1': randomBytes(8 * 1024 * 1024),
      metadata1: randomBytes(16),
      'it\'s "quoted" 数据.yaml': 'id: 1\n',
      'sub dir/empty': '',
    });
    await fs.chmod(path.join(src, 'sub dir'), 0o755);
  });
  afterAll(() => node?.stop());

  it('copies a tree byte-identical, with matching node and local SHA-256 manifests and progress', async () => {
    const before = await contentHashes(src);
    const dest = await makeTempDir('lifeboat-dest-');
    const conn = await node.connect();
    const seen: CopyOutProgress[] = [];
    try {
      const result = await copyOut({ conn, remotePath: src, localDir: dest, settleMs: 300, onProgress: (p) => seen.push(p) });
      expect(result.allMatch).toBe(true);
      expect(result.files.map((f) => f.path).sort()).toEqual(Object.keys(before).sort());
      for (const f of result.files) {
        expect(f.remoteSha256).toBe(before[f.path]);
        expect(f.localSha256).toBe(before[f.path]);
      }
      expect(await contentHashes(result.localPath)).toEqual(before);
      expect(result.localPath).toBe(path.join(dest, 'dqlite'));
      const manifest = await fs.readFile(result.manifestPath, 'utf8');
      expect(manifest).toContain(`${before['open-1']}  open-1\n`);
      const last = seen[seen.length - 1];
      expect(last).toMatchObject({ phase: 'done', bytesDone: result.bytes, bytesTotal: result.bytes, filesDone: 5, filesTotal: 5 });
      expect(seen.some((p) => p.phase === 'copying' && p.bytesPerSecond > 0)).toBe(true);
      // A single file copies too.
      const one = await copyOut({ conn, remotePath: path.join(src, 'metadata1'), localDir: dest, settleMs: 0 });
      expect(one.allMatch).toBe(true);
      expect(await fs.readFile(path.join(dest, 'metadata1'))).toEqual(await fs.readFile(path.join(src, 'metadata1')));
    } finally {
      conn.close();
      await fs.rm(dest, { recursive: true, force: true });
    }
    expect(await contentHashes(src)).toEqual(before);
  });

  it('resumes after the connection is killed mid-copy and ends with identical hashes', async () => {
    const big = path.join(dir, 'big');
    await fs.mkdir(big);
    await fs.writeFile(path.join(big, 'a-segment'), randomBytes(64 * 1024 * 1024));
    await fs.writeFile(path.join(big, 'b-segment'), randomBytes(6 * 1024 * 1024));
    const before = await contentHashes(big);
    const dest = await makeTempDir('lifeboat-dest-');
    try {
      const conn = await node.connect();
      const cut = await copyCutOff(sshd, 1024 * 1024, (onProgress) => copyOut({ conn, remotePath: big, localDir: dest, settleMs: 0, onProgress }));
      expect(cut.dropped).toBe(true);
      expect(cut.error).toBeInstanceOf(CopyOutError);
      expect((cut.error as CopyOutError).resumable).toBe(true);
      const partial = await fs.stat(path.join(dest, 'big', 'a-segment.partial'));
      expect(partial.size).toBeGreaterThan(0);
      expect(partial.size).toBeLessThan(64 * 1024 * 1024);
      conn.close();

      const again = await node.connect();
      try {
        const result = await copyOut({ conn: again, remotePath: big, localDir: dest, settleMs: 0 });
        expect(result.allMatch).toBe(true);
        expect(result.resumedBytes).toBeGreaterThanOrEqual(partial.size);
        expect(await contentHashes(result.localPath)).toEqual(before);
        await expect(fs.stat(path.join(dest, 'big.copyout-state.json'))).rejects.toThrow();
      } finally {
        again.close();
      }
    } finally {
      await fs.rm(dest, { recursive: true, force: true });
    }
    expect(await contentHashes(big)).toEqual(before);
  });

  it('refuses a directory that is being written, unless forced', async () => {
    const live = path.join(dir, 'live');
    await fs.mkdir(live);
    await fs.writeFile(path.join(live, 'open-3'), randomBytes(4096));
    await fs.writeFile(path.join(live, 'metadata1'), randomBytes(16));
    const writer = setInterval(() => void fs.appendFile(path.join(live, 'open-3'), randomBytes(512)), 50);
    const dest = await makeTempDir('lifeboat-dest-');
    const conn = await node.connect();
    try {
      const err = await copyOut({ conn, remotePath: live, localDir: dest, settleMs: 400 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectoryChangingError);
      expect((err as DirectoryChangingError).changed.join()).toMatch(/^open-3 \(/);
      expect(await fs.readdir(dest)).toEqual([]);
      clearInterval(writer);
      const forced = await copyOut({ conn, remotePath: live, localDir: dest, settleMs: 100, force: true });
      expect(forced.files.map((f) => f.path)).toEqual(['metadata1', 'open-3']);
    } finally {
      clearInterval(writer);
      conn.close();
      await fs.rm(dest, { recursive: true, force: true });
    }
  });

  it("lists with the node's sub-second times and clock, the same files SFTP lists", async () => {
    const conn = await node.connect();
    try {
      const sftp = await conn.sftp();
      const fine = await sftpTreeReader(conn, sftp).list(src, 1000);
      const coarse = await listRemoteTree(sftp, src, 1000);
      expect(fine.fine).toBeDefined();
      expect(coarse).not.toHaveProperty('fine');
      expect(fine.files.map((f) => [f.rel, f.size, Math.floor(f.mtime)])).toEqual(coarse.files.map((f) => [f.rel, f.size, f.mtime]));
      for (const f of fine.files) {
        const st = await fs.stat(path.join(src, ...f.rel.split('/')), { bigint: true });
        expect(Math.abs(f.mtime - Number(st.mtimeNs) / 1e9), f.rel).toBeLessThan(1e-5);
        expect(Math.abs(f.ctime! - Number(st.ctimeNs) / 1e9), f.rel).toBeLessThan(1e-5);
      }
      // The same machine: the node's clock is this one's.
      expect(Math.abs(fine.fine!.nodeNow! - Date.now() / 1000)).toBeLessThan(60);
      expect(fine.fine!.dirs.map((d) => d.rel)).toEqual(['', 'sub dir']);
    } finally {
      conn.close();
    }
  });

  it('refuses a file rewritten during the transfer with the same size in the same second, and removes its own output', async () => {
    const tree = path.join(dir, 'rewritten');
    await fs.mkdir(tree);
    const segment = path.join(tree, 'a-segment');
    const meta = path.join(tree, 'metadata1');
    await fs.writeFile(segment, randomBytes(48 * 1024 * 1024));
    await fs.writeFile(meta, randomBytes(4096));
    // Whole seconds (SFTP's view, the old check) cannot see this rewrite: same size, same second.
    const second = Math.floor(Date.now() / 1000) - 100;
    await fs.utimes(meta, second + 0.25, second + 0.25);
    const dest = await makeTempDir('lifeboat-dest-');
    const conn = await node.connect();
    let rewritten = false;
    try {
      const err = await copyOut({
        conn,
        remotePath: tree,
        localDir: dest,
        settleMs: 100,
        onProgress: (p) => {
          if (rewritten || p.phase !== 'copying' || p.bytesDone < 24 * 1024 * 1024) return;
          rewritten = true; // synchronously, while the transfer is still running
          writeFileSync(meta, randomBytes(4096));
          utimesSync(meta, second + 0.75, second + 0.75);
        },
      }).catch((e: unknown) => e);
      expect(rewritten).toBe(true);
      expect(err).toBeInstanceOf(DirectoryChangingError);
      expect((err as DirectoryChangingError).changed).toEqual(['metadata1 (written, still 4096 bytes)']);
      expect(await fs.readdir(dest)).toEqual([]);
      const after = await listRemoteTree(await conn.sftp(), tree);
      expect(after.files.find((f) => f.rel === 'metadata1')!.mtime).toBe(second);
    } finally {
      conn.close();
      await fs.rm(dest, { recursive: true, force: true });
      await fs.rm(tree, { recursive: true, force: true });
    }
  });

  it('reads remote files in place through the SFTP byte source, read-only', async () => {
    const before = await contentHashes(src);
    const conn = await node.connect();
    const remote = sftpDirectory(await conn.sftp(), src);
    try {
      const names = (await remote.list()).map((e) => `${e.name}:${e.kind}`);
      expect(names).toContain('open-1:file');
      expect(names).toContain('sub dir:dir');
      const seg = await remote.open('0000000000000001-0000000000000100');
      const local = await fs.readFile(path.join(src, '0000000000000001-0000000000000100'));
      expect(seg.size).toBe(local.length);
      expect(Buffer.from(await seg.read(0, 8))).toEqual(local.subarray(0, 8));
      const mid = await seg.read(1_000_003, 300_000);
      expect(Buffer.from(mid)).toEqual(local.subarray(1_000_003, 1_300_003));
      const tail = await seg.read(local.length - 5, 100);
      expect(Buffer.from(tail)).toEqual(local.subarray(local.length - 5));
      expect((await seg.read(local.length + 10, 10)).length).toBe(0);
      const sub = await remote.subdir!('sub dir');
      expect((await sub.list()).map((e) => e.name)).toEqual(['empty']);
      await expect(remote.open('../etc/passwd')).rejects.toThrow(/plain file name/);
    } finally {
      await remote.close();
      conn.close();
    }
    expect(await contentHashes(src)).toEqual(before);
  });

  it('CLI: refuses an unknown key without --accept-new, copies with it, and prints a JSON manifest', async () => {
    const dest = await makeTempDir('lifeboat-dest-');
    const kh = path.join(dir, 'cli_known_hosts');
    const io = () => {
      const o = { out: '', err: '' };
      return { o, io: { stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s) } };
    };
    const base = [`${sshd.user}@127.0.0.1:${src}`, '--to', dest, '--port', String(sshd.port), '--identity', node.key.privatePath, '--known-hosts', kh];
    try {
      const a = io();
      expect(await copyOutCommand(base, a.io)).toBe(3);
      expect(a.o.err).toMatch(/not known.*--accept-new/s);
      expect(a.o.err).toContain(sshd.hostKeys.ed25519.fingerprint);

      const b = io();
      expect(await copyOutCommand([...base, '--accept-new', '--json'], b.io)).toBe(0);
      const result = JSON.parse(b.o.out) as { allMatch: boolean; files: { path: string; localSha256: string }[] };
      expect(result.allMatch).toBe(true);
      expect(result.files).toHaveLength(5);
      expect(await fs.readFile(kh, 'utf8')).toContain(sshd.knownHostsLine().split(' ')[2]);

      // A changed key is refused even with --accept-new.
      const other = await generateKey(dir, 'other-host');
      const [alg, b64] = other.publicLine.split(' ');
      await fs.writeFile(kh, `[127.0.0.1]:${sshd.port} ${alg} ${b64}\n`);
      const c = io();
      expect(await copyOutCommand([...base, '--accept-new'], c.io)).toBe(3);
      expect(c.o.err).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/);

      const d = io();
      expect(await copyOutCommand(['nohost', '--to', dest], d.io)).toBe(2);
    } finally {
      await fs.rm(dest, { recursive: true, force: true });
    }
  });
});
