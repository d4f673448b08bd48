/**
 * Copy-out throughput over loopback against `scp` of the same files, side by side.
 *
 * Starts a real sshd on 127.0.0.1 (test/helpers/sshd: needs root and
 * openssh-server) and, for each size (default 256 MiB and 2 GiB), two shapes
 * of random data: one large file (an etcd `db`) and a dqlite-shaped directory
 * of 8 MiB segments. For each, Lifeboat's whole copy-out job as the login user
 * (listing with the live-directory check, SHA-256 on the node, `cat` streamed
 * through exec channels, SHA-256 of every local file, the per-file comparison),
 * the same job through sudo (read-only commands as root, with a password as on
 * a real node; sizes up to `sudoMaxMib`, default all) and `scp -r` (transfer
 * only, no verification) run alternately, `rounds` times,
 * so all see the same machine load; the table shows medians, CPU seconds here
 * (this process, or scp's) and on the node side (the sshd tree: sshd, cat,
 * sha256), and the load average around the run. Peak RSS is sampled during
 * each of Lifeboat's copies (memory stays bounded whatever the size). Returns
 * the lines; `npm run bench` prints them.
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
  const widths = [50, 9, 8, 8, 10, 10, 9];
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
  /** The sudo row for shapes up to this size (default: every size; 0: no sudo rows). */
  sudoMaxMib?: number;
}

interface Shape {
  label: string;
  src: string;
  bytes: number;
}

/** One measured run: wall time, CPU seconds here and on the node side, peak RSS of this process. */
interface Sample {
  ms: number;
  cpuHere: number;
  cpuNode: number;
  peakRss: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux (getconf CLK_TCK)

/**
 * CPU seconds used so far by the process tree under `pid` (utime+stime of each living process plus
 * the cutime+cstime of the children it has reaped): each process counted once, dead or alive.
 */
async function treeCpuSeconds(pid: number): Promise<number> {
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await fs.readFile(`/proc/${entry}/stat`, 'latin1').catch(() => null);
    if (stat === null) continue;
    // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]));
  }
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    total += ticks.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total / TICKS_PER_SECOND;
}

/** Time one run of `job`: this process's CPU and RSS, and the node side's CPU (the sshd tree under `sshdPid`). */
async function timed<T>(sshdPid: number, job: () => Promise<T>): Promise<Sample & { result: T }> {
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  const nodeBefore = await treeCpuSeconds(sshdPid);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const result = await job();
    const ms = performance.now() - t0;
    const used = process.cpuUsage(cpu0);
    return { ms, cpuHere: (used.user + used.system) / 1e6, cpuNode: (await treeCpuSeconds(sshdPid)) - nodeBefore, peakRss, result };
  } finally {
    clearInterval(sampler);
  }
}

/** `times` after a command, in sh: the second line is the children's user and system time (`0m1.23s 0m0.45s`). */
function childrenCpuSeconds(timesOutput: string): number {
  const lines = timesOutput.trim().split('\n');
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines[lines.length - 1]?.trim() ?? '');
  return m ? Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) : NaN;
}

export async function benchCopyOut(opts: CopyBenchOptions = {}): Promise<string[]> {
  const title = 'copy-out over loopback SSH vs scp';
  if (!existsSync(SSHD_PATH) || process.getuid?.() !== 0 || !existsSync('/usr/bin/scp')) {
    return [title, `  skipped: needs root, ${SSHD_PATH} and /usr/bin/scp`];
  }
  const sizes = opts.fileMib !== undefined || opts.segments !== undefined ? null : (opts.sizesMib ?? [256, 2048]);
  const rounds = Math.max(1, opts.rounds ?? 3);
  const sudoMaxMib = opts.sudoMaxMib ?? Infinity;
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
    const scp = async (shape: Shape, dest: string): Promise<Sample> => {
      const args = [
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
      ];
      const nodeBefore = await treeCpuSeconds(sshd.pid);
      // scp's connection ends with it, and sshd does not add a finished session's CPU to its own: the
      // node side is sampled while scp runs (the last sample before the session exits is within 0.2 s of it).
      let nodePeak = nodeBefore;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          nodePeak = Math.max(nodePeak, await treeCpuSeconds(sshd.pid));
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      const t0 = performance.now();
      try {
        // `times` in the same sh: scp's own CPU (user + system), as this process's is counted for Lifeboat.
        const { stdout } = await run('/bin/sh', ['-c', 'scp "$@" && times', 'sh', ...args]);
        return { ms: performance.now() - t0, cpuHere: childrenCpuSeconds(stdout), cpuNode: nodePeak - nodeBefore, peakRss: 0 };
      } finally {
        sampling = false;
        await sampler;
      }
    };
    const lines: string[] = [];
    const loadBefore = load();
    const started = performance.now();
    try {
      lines.push(`${title} (medians of ${rounds} alternating rounds; cipher ${firstCipher()}, ssh2 native crypto ${nativeCrypto() ? 'on' : 'off'})`);
      lines.push(row(['', 'seconds', 'MiB/s', 'vs scp', 'CPU here', 'CPU node', 'RSS MiB']));
      for (const shape of shapes) {
        const sudoToo = withSudo && shape.bytes <= sudoMaxMib * MIB + MIB;
        const ours: Sample[] = [];
        const ourSudo: Sample[] = [];
        const theirs: Sample[] = [];
        const verified = (label: string, result: CopyOutResult, transport: string) => {
          if (!result.allMatch || result.bytes !== shape.bytes || result.transport !== transport) {
            throw new Error(`copy-out bench: ${label} of ${shape.label} did not verify (or did not go through ${transport})`);
          }
        };
        for (let r = 0; r < rounds; r++) {
          const out = path.join(dir, `lifeboat-${r}`);
          const a = await timed(sshd.pid, () => copyOut({ conn, remotePath: shape.src, localDir: out, settleMs: opts.settleMs }));
          verified('copy-out', a.result, 'exec');
          ours.push(a);
          await fs.rm(out, { recursive: true, force: true });

          if (sudoToo) {
            const s = await timed(sshd.pid, () => sudoCopyOut({ sudo, remotePath: shape.src, localDir: out, settleMs: opts.settleMs }));
            verified('copy-out --sudo', s.result, 'sudo');
            ourSudo.push(s);
            await fs.rm(out, { recursive: true, force: true });
          }

          const scpDest = path.join(dir, `scp-${r}`);
          await fs.mkdir(scpDest);
          theirs.push(await scp(shape, scpDest));
          await fs.rm(scpDest, { recursive: true, force: true });
        }
        const scpMs = median(theirs.map((t) => t.ms));
        const summary = (what: string, samples: Sample[], withRss: boolean) => {
          const ms = median(samples.map((x) => x.ms));
          return row([
            what,
            (ms / 1000).toFixed(2),
            mibPerSecond(shape.bytes, ms),
            `${(scpMs / ms).toFixed(2)}x`,
            median(samples.map((x) => x.cpuHere)).toFixed(2),
            median(samples.map((x) => x.cpuNode)).toFixed(2),
            withRss ? (Math.max(...samples.map((x) => x.peakRss)) / MIB).toFixed(0) : '',
          ]);
        };
        lines.push(`${shape.label}, ${(shape.bytes / MIB).toFixed(0)} MiB`);
        lines.push(summary('  lifeboat copy-out (login user, cat over exec)', ours, true));
        if (sudoToo) lines.push(summary('  lifeboat copy-out --sudo (cat as root)', ourSudo, true));
        lines.push(summary('  scp -r (no verification)', theirs, false));
      }
    } finally {
      conn.close();
    }
    lines.push(
      `  load average (1, 5, 15 min) before: ${loadBefore}, after: ${load()}; ${os.cpus().length} CPUs; ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    lines.push('  lifeboat rows are the whole job: listing (live-directory check), SHA-256 on the node beside the transfer, SHA-256 of');
    lines.push('  each file while it is written, listing again, per-file comparison; vs scp > 1 is faster than scp; CPU seconds here');
    lines.push("  (this process, or scp's) and on the node (the sshd tree: sshd, cat, sha256); RSS: peak of this process");
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
