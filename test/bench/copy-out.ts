/**
 * Copy-out throughput over loopback against `scp` of the same files, side by side.
 *
 * Starts a real sshd on 127.0.0.1 (test/helpers/sshd: needs root and
 * openssh-server) and two shapes of data: one large file (an etcd `db`) and a
 * dqlite-shaped directory of 8 MiB segments. For each, Lifeboat's whole
 * copy-out job (two listings `settle` apart to refuse a directory being
 * written, SHA-256 on the node, SFTP transfer, SHA-256 of every local file
 * and the per-file comparison) and `scp -r` (transfer only, no verification)
 * run alternately, `rounds` times, so both see the same machine load; the
 * table shows medians. Peak RSS is sampled during Lifeboat's copies (memory
 * stays bounded whatever the size). Returns the lines; `npm run bench` prints them.
 */
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { connectSsh } from '../../electron/services/ssh/connection';
import { copyOut } from '../../electron/services/ssh/copy-out';
import { KnownHostsFile } from '../../electron/services/ssh/known-hosts';
import { generateKey, makeTempDir, SSHD_PATH, startSshd } from '../helpers/sshd';

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
  /** 8 MiB segments in the directory case (default 32: 256 MiB). */
  segments?: number;
  /** Size of the single large file in MiB (default 256). */
  fileMib?: number;
  /** Alternating rounds per shape (default 3; medians are shown). */
  rounds?: number;
  /** Pause between the two listings (default: the app's 1500 ms). */
  settleMs?: number;
}

export async function benchCopyOut(opts: CopyBenchOptions = {}): Promise<string[]> {
  const title = 'copy-out over loopback SSH vs scp';
  if (!existsSync(SSHD_PATH) || process.getuid?.() !== 0 || !existsSync('/usr/bin/scp')) {
    return [title, `  skipped: needs root, ${SSHD_PATH} and /usr/bin/scp`];
  }
  const segments = opts.segments ?? 32;
  const fileMib = opts.fileMib ?? 256;
  const rounds = Math.max(1, opts.rounds ?? 3);
  const sshd = await startSshd();
  const dir = await makeTempDir('lifeboat-bench-copy-');
  try {
    const key = await generateKey(dir, 'id');
    await sshd.authorize(key.publicLine);
    const kh = path.join(dir, 'known_hosts');
    await fs.writeFile(kh, sshd.knownHostsLine() + '\n');
    const data = path.join(dir, 'node');
    await fs.mkdir(data, { mode: 0o755 });
    const shapes = [
      { label: `one ${fileMib} MiB file (etcd db)`, src: path.join(data, 'db'), bytes: fileMib * MIB },
      { label: `${segments} x 8 MiB segments (dqlite dir)`, src: path.join(data, 'k8s-dqlite'), bytes: 0 },
    ];
    await writeRandom(shapes[0].src, shapes[0].bytes);
    shapes[1].bytes = await makeDataDir(shapes[1].src, segments);

    const conn = await connectSsh({
      target: { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [key.privatePath] },
      hostKeys: { knownHosts: new KnownHostsFile(kh), decideUnknown: async () => 'reject' },
      prompt: async () => null,
      agentSocket: null,
      interactive: false,
    });
    const lines: string[] = [];
    try {
      lines.push(`${title} (medians of ${rounds} alternating rounds; cipher ${firstCipher()}, ssh2 native crypto ${nativeCrypto() ? 'on' : 'off'})`);
      lines.push(row(['', 'seconds', 'MiB/s', 'vs scp', 'peak RSS MiB']));
      for (const shape of shapes) {
        const ours: number[] = [];
        const theirs: number[] = [];
        let peakRss = 0;
        for (let r = 0; r < rounds; r++) {
          const out = path.join(dir, `lifeboat-${r}`);
          const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
          const t0 = performance.now();
          let result;
          try {
            result = await copyOut({ conn, remotePath: shape.src, localDir: out, settleMs: opts.settleMs });
          } finally {
            clearInterval(sampler);
          }
          ours.push(performance.now() - t0);
          if (!result.allMatch) throw new Error(`copy-out bench: hashes differ for ${shape.label}`);
          await fs.rm(out, { recursive: true, force: true });

          const scpDest = path.join(dir, `scp-${r}`);
          await fs.mkdir(scpDest);
          const t1 = performance.now();
          await run('/usr/bin/scp', [
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
            scpDest,
          ]);
          theirs.push(performance.now() - t1);
          await fs.rm(scpDest, { recursive: true, force: true });
        }
        const ms = median(ours);
        const scpMs = median(theirs);
        lines.push(`${shape.label}, ${(shape.bytes / MIB).toFixed(0)} MiB`);
        lines.push(
          row([
            '  lifeboat copy-out, whole job (checks + hashes)',
            (ms / 1000).toFixed(2),
            mibPerSecond(shape.bytes, ms),
            `${(scpMs / ms).toFixed(2)}x`,
            (peakRss / MIB).toFixed(0),
          ]),
        );
        lines.push(row(['  scp -r (no verification)', (scpMs / 1000).toFixed(2), mibPerSecond(shape.bytes, scpMs), '1.00x', '']));
      }
    } finally {
      conn.close();
    }
    lines.push('  whole job = listing, change check (second listing 1.5 s later) and SHA-256 on the node beside the');
    lines.push('  SFTP transfer, SHA-256 of each file while it is written, per-file comparison; vs scp > 1 is faster than scp');
    return lines;
  } finally {
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
