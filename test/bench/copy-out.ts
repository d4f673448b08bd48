/**
 * Copy-out throughput over loopback against `scp` of the same files, side by side.
 *
 * Starts a real sshd on 127.0.0.1 (test/helpers/sshd: needs root and
 * openssh-server) and, for each size (default 256 MiB and 2 GiB), two shapes
 * of random data: one large file (an etcd `db`) and a dqlite-shaped directory
 * of 8 MiB segments. For each, Lifeboat's whole copy-out job (listing with the
 * live-directory check, SHA-256 on the node, SFTP transfer, SHA-256 of every
 * local file, the per-file comparison), the same job through sudo (read-only
 * commands as root, with a password as on a real node; sizes up to
 * `sudoMaxMib`) and `scp -r` (transfer only, no verification) run
 * alternately, `rounds` times, so all see the same machine load; the table
 * shows medians and the load average around the run. Peak RSS is sampled
 * during each of Lifeboat's copies (memory stays bounded whatever the size).
 * Returns the lines; `npm run bench` prints them.
 */
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { CopyOutResult } from '../../shared/contract/ssh';
import { connectSsh, SudoRunner } from '../../electron/services/ssh/connection';
import { copyOut } from '../../electron/services/ssh/copy-out';
import { KnownHostsFile } from '../../electron/services/ssh/known-hosts';
import { sudoCopyOut } from '../../electron/services/ssh/sudo-copy';
import { generateKey, makeTempDir, SSHD_PATH, startSshd, TEST_USER } from '../helpers/sshd';
import { sudoersDropIn } from '../helpers/sudoers';

const run = promisify(execFile);
const MIB = 1024 * 1024;
const SEGMENT = 8 * MIB;

function mibPerSecond(bytes: number, ms: number): string {
  return ms > 0 ? (bytes / MIB / (ms / 1000)).toFixed(1) : '-';
}

function row(cells: string[]): string {
  const widths = [50, 10, 10, 9, 12];
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' ');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function load(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
}

/** Random bytes (no compression help), written 8 MiB at a time. */
async function writeRandom(file: string, bytes: number): Promise<void> {
  const fh = await fs.open(file, 'w', 0o644);
  const buf = Buffer.alloc(Math.min(SEGMENT, bytes));
  try {
    for (let done = 0; done < bytes; done += buf.length) {
      randomFillSync(buf);
      await fh.write(buf, 0, Math.min(buf.length, bytes - done));
    }
  } finally {
    await fh.close();
  }
}

/** `segments` closed 8 MiB segments plus metadata. */
async function makeDataDir(dir: string, segments: number): Promise<number> {
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  for (let i = 0; i < segments; i++) {
    const first = i * 500 + 1;
    await writeRandom(path.join(dir, `${String(first).padStart(16, '0')}-${String(first + 499).padStart(16, '0')}`), SEGMENT);
  }
  for (const m of ['metadata1', 'metadata2']) await fs.writeFile(path.join(dir, m), Buffer.alloc(32, 1), { mode: 0o644 });
  return segments * SEGMENT + 64;
}

export interface CopyBenchOptions {
  /** Sizes in MiB, each as one file and as a directory of 8 MiB segments (default 256 and 2048). */
  sizesMib?: number[];
  /** Only one size: 8 MiB segments in the directory case (with `fileMib`; the older options). */
  segments?: number;
  /** Only one size: the single large file in MiB. */
  fileMib?: number;
  /** Alternating rounds per shape (default 3; medians are shown). */
  rounds?: number;
  /** The live-directory check's settle time (default: the app's 1500 ms). */
  settleMs?: number;
  /** The sudo row for shapes up to this size (default 256 MiB; 0: no sudo rows). */
  sudoMaxMib?: number;
}

interface Shape {
  label: string;
  src: string;
  bytes: number;
}

/** Time one run of `job`, sampling this process's RSS meanwhile. */
async function timed<T>(job: () => Promise<T>): Promise<{ ms: number; peakRss: number; result: T }> {
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  const t0 = performance.now();
  try {
    const result = await job();
    return { ms: performance.now() - t0, peakRss, result };
  } finally {
    clearInterval(sampler);
  }
}

export async function benchCopyOut(opts: CopyBenchOptions = {}): Promise<string[]> {
  const title = 'copy-out over loopback SSH vs scp';
  if (!existsSync(SSHD_PATH) || process.getuid?.() !== 0 || !existsSync('/usr/bin/scp')) {
    return [title, `  skipped: needs root, ${SSHD_PATH} and /usr/bin/scp`];
  }
  const sizes = opts.fileMib !== undefined || opts.segments !== undefined ? null : (opts.sizesMib ?? [256, 2048]);
  const rounds = Math.max(1, opts.rounds ?? 3);
  const sudoMaxMib = opts.sudoMaxMib ?? 256;
  const withSudo = sudoMaxMib > 0 && existsSync('/usr/bin/sudo') && existsSync('/usr/sbin/visudo');
  const sshd = await startSshd();
  const dir = await makeTempDir('lifeboat-bench-copy-');
  const sudoers = sudoersDropIn('lifeboat-bench-copy');
  try {
    const key = await generateKey(dir, 'id');
    await sshd.authorize(key.publicLine);
    const kh = path.join(dir, 'known_hosts');
    await fs.writeFile(kh, sshd.knownHostsLine() + '\n');
    // As on a real node: sudo wants the login user's password (sent on stdin, once per command).
    if (withSudo) await sudoers.install(`${TEST_USER} ALL=(root) ALL`);
    const data = path.join(dir, 'node');
    await fs.mkdir(data, { mode: 0o755 });
    const shapes: Shape[] = [];
    const fileSizes = sizes ?? [opts.fileMib ?? 256];
    const dirSegments = sizes ? sizes.map((m) => Math.max(1, Math.round(m / 8))) : [opts.segments ?? 32];
    for (let i = 0; i < Math.max(fileSizes.length, dirSegments.length); i++) {
      if (i < fileSizes.length) {
        const src = path.join(data, `db-${fileSizes[i]}`);
        await writeRandom(src, fileSizes[i] * MIB);
        shapes.push({ label: `one ${fileSizes[i]} MiB file (etcd db)`, src, bytes: fileSizes[i] * MIB });
      }
      if (i < dirSegments.length) {
        const src = path.join(data, `k8s-dqlite-${dirSegments[i]}`);
        shapes.push({ label: `${dirSegments[i]} x 8 MiB segments (dqlite dir)`, src, bytes: await makeDataDir(src, dirSegments[i]) });
      }
    }

    const conn = await connectSsh({
      target: { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [key.privatePath] },
      hostKeys: { knownHosts: new KnownHostsFile(kh), decideUnknown: async () => 'reject' },
      prompt: async () => null,
      agentSocket: null,
      interactive: false,
    });
    const sudo = new SudoRunner(conn, { password: sshd.password, prompt: async () => [sshd.password], user: sshd.user, host: sshd.host });
    const scp = (shape: Shape, dest: string) =>
      run('/usr/bin/scp', [
        '-q',
        '-r',
        '-P',
        String(sshd.port),
        '-i',
        key.privatePath,
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `UserKnownHostsFile=${kh}`,
        '-o',
        'IdentitiesOnly=yes',
        `${sshd.user}@127.0.0.1:${shape.src}`,
        dest,
      ]);
    const lines: string[] = [];
    const loadBefore = load();
    const started = performance.now();
    try {
      lines.push(`${title} (medians of ${rounds} alternating rounds; cipher ${firstCipher()}, ssh2 native crypto ${nativeCrypto() ? 'on' : 'off'})`);
      lines.push(row(['', 'seconds', 'MiB/s', 'vs scp', 'peak RSS MiB']));
      for (const shape of shapes) {
        const sudoToo = withSudo && shape.bytes <= sudoMaxMib * MIB + MIB;
        const ours: number[] = [];
        const ourSudo: number[] = [];
        const theirs: number[] = [];
        let peakRss = 0;
        let peakSudoRss = 0;
        const verified = (label: string, result: CopyOutResult) => {
          if (!result.allMatch || result.bytes !== shape.bytes) throw new Error(`copy-out bench: ${label} of ${shape.label} did not verify`);
        };
        for (let r = 0; r < rounds; r++) {
          const out = path.join(dir, `lifeboat-${r}`);
          const a = await timed(() => copyOut({ conn, remotePath: shape.src, localDir: out, settleMs: opts.settleMs }));
          verified('copy-out', a.result);
          ours.push(a.ms);
          peakRss = Math.max(peakRss, a.peakRss);
          await fs.rm(out, { recursive: true, force: true });

          if (sudoToo) {
            const s = await timed(() => sudoCopyOut({ sudo, remotePath: shape.src, localDir: out, settleMs: opts.settleMs }));
            verified('copy-out --sudo', s.result);
            ourSudo.push(s.ms);
            peakSudoRss = Math.max(peakSudoRss, s.peakRss);
            await fs.rm(out, { recursive: true, force: true });
          }

          const scpDest = path.join(dir, `scp-${r}`);
          await fs.mkdir(scpDest);
          const t1 = performance.now();
          await scp(shape, scpDest);
          theirs.push(performance.now() - t1);
          await fs.rm(scpDest, { recursive: true, force: true });
        }
        const scpMs = median(theirs);
        const ourRow = (what: string, ms: number, rss: number) =>
          row([what, (ms / 1000).toFixed(2), mibPerSecond(shape.bytes, ms), `${(scpMs / ms).toFixed(2)}x`, (rss / MIB).toFixed(0)]);
        lines.push(`${shape.label}, ${(shape.bytes / MIB).toFixed(0)} MiB`);
        lines.push(ourRow('  lifeboat copy-out, whole job (checks + hashes)', median(ours), peakRss));
        if (sudoToo) lines.push(ourRow('  lifeboat copy-out --sudo, whole job', median(ourSudo), peakSudoRss));
        lines.push(row(['  scp -r (no verification)', (scpMs / 1000).toFixed(2), mibPerSecond(shape.bytes, scpMs), '1.00x', '']));
      }
    } finally {
      conn.close();
    }
    lines.push(
      `  load average (1, 5, 15 min) before: ${loadBefore}, after: ${load()}; ${os.cpus().length} CPUs; ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    lines.push('  whole job = listing (live-directory check), SHA-256 on the node beside the SFTP transfer, SHA-256 of each file');
    lines.push('  while it is written, listing again, per-file comparison; vs scp > 1 is faster than scp; peak RSS of this process');
    return lines;
  } finally {
    await sudoers.remove();
    await sshd.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** The cipher ssh2 offers first (OpenSSH's sshd accepts it, so it is the one negotiated). */
function firstCipher(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('ssh2/lib/protocol/constants.js') as { DEFAULT_CIPHER: string[] }).DEFAULT_CIPHER[0];
  } catch {
    return '?';
  }
}

/** Whether ssh2 loaded its compiled crypto binding (else it runs ciphers through Node's crypto and JS). */
function nativeCrypto(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('ssh2/lib/protocol/crypto.js') as { bindingAvailable?: boolean }).bindingAvailable === true;
  } catch {
    return false;
  }
}
