/**
 * Copy-out throughput over loopback against `scp` of the same files.
 *
 * Starts a real sshd on 127.0.0.1 (test/helpers/sshd: needs root and
 * openssh-server), writes a dqlite-shaped directory of 8 MiB segments, then
 * times:
 * - Lifeboat copy-out, whole job (two listings 1.5 s apart to refuse a
 *   directory being written, `sha256sum` on the node, SFTP transfer, local
 *   SHA-256 and comparison), and its transfer phase alone;
 * - `scp -r` of the same directory with the same key (transfer only, no
 *   verification), for reference.
 * Returns the lines of a table; `npm run bench` prints them.
 */
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { connectSsh } from '../../electron/services/ssh/connection';
import { copyOut } from '../../electron/services/ssh/copy-out';
import { KnownHostsFile } from '../../electron/services/ssh/known-hosts';
import type { CopyOutProgress } from '../../shared/contract/ssh';
import { generateKey, makeTempDir, SSHD_PATH, startSshd } from '../helpers/sshd';

const run = promisify(execFile);
const SEGMENT = 8 * 1024 * 1024;

function mibPerSecond(bytes: number, ms: number): string {
  return ms > 0 ? ((bytes / 1024 / 1024) / (ms / 1000)).toFixed(1) : '-';
}

function row(cells: string[]): string {
  const widths = [46, 10, 10, 12];
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' ');
}

/** `segments` closed 8 MiB segments plus metadata (random bytes: no compression help). */
async function makeDataDir(dir: string, segments: number): Promise<number> {
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  const buf = Buffer.alloc(SEGMENT);
  let total = 0;
  for (let i = 0; i < segments; i++) {
    randomFillSync(buf);
    const first = i * 500 + 1;
    const name = `${String(first).padStart(16, '0')}-${String(first + 499).padStart(16, '0')}`;
    await fs.writeFile(path.join(dir, name), buf, { mode: 0o644 });
    total += buf.length;
  }
  for (const m of ['metadata1', 'metadata2']) {
    await fs.writeFile(path.join(dir, m), Buffer.alloc(32, 1), { mode: 0o644 });
    total += 32;
  }
  return total;
}

export async function benchCopyOut(opts: { segments?: number } = {}): Promise<string[]> {
  const title = 'copy-out over loopback SSH vs scp';
  if (!existsSync(SSHD_PATH) || process.getuid?.() !== 0 || !existsSync('/usr/bin/scp')) {
    return [title, `  skipped: needs root, ${SSHD_PATH} and /usr/bin/scp`];
  }
  const segments = opts.segments ?? 16;
  const sshd = await startSshd();
  const dir = await makeTempDir('lifeboat-bench-copy-');
  try {
    const src = path.join(dir, 'k8s-dqlite');
    const bytes = await makeDataDir(src, segments);
    const key = await generateKey(dir, 'id');
    await sshd.authorize(key.publicLine);
    const kh = path.join(dir, 'known_hosts');
    await fs.writeFile(kh, sshd.knownHostsLine() + '\n');

    const conn = await connectSsh({
      target: { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [key.privatePath] },
      hostKeys: { knownHosts: new KnownHostsFile(kh), decideUnknown: async () => 'reject' },
      prompt: async () => null,
      agentSocket: null,
      interactive: false,
    });
    let copyStart = 0;
    let copyEnd = 0;
    const onProgress = (p: CopyOutProgress) => {
      if (p.phase === 'copying' && copyStart === 0) copyStart = performance.now();
      if (p.phase === 'hashing-local' && copyEnd === 0) copyEnd = performance.now();
    };
    let result;
    try {
      result = await copyOut({ conn, remotePath: src, localDir: path.join(dir, 'lifeboat'), onProgress });
    } finally {
      conn.close();
    }
    if (!result.allMatch) throw new Error('copy-out bench: hashes differ');
    const transferMs = copyEnd - copyStart;

    const scpDest = path.join(dir, 'scp');
    await fs.mkdir(scpDest);
    const t0 = performance.now();
    await run('/usr/bin/scp', [
      '-q', '-r', '-P', String(sshd.port), '-i', key.privatePath,
      '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${kh}`, '-o', 'IdentitiesOnly=yes',
      `${sshd.user}@127.0.0.1:${src}`, scpDest,
    ]);
    const scpMs = performance.now() - t0;

    const mib = (bytes / 1024 / 1024).toFixed(0);
    return [
      `${title} (${segments} x 8 MiB segments, ${mib} MiB)`,
      row(['', 'seconds', 'MiB/s', 'vs scp']),
      row(['lifeboat copy-out, transfer phase (SFTP)', (transferMs / 1000).toFixed(2), mibPerSecond(bytes, transferMs), `${(scpMs / transferMs).toFixed(2)}x`]),
      row(['lifeboat copy-out, whole job (checks + hashes)', (result.elapsedMs / 1000).toFixed(2), mibPerSecond(bytes, result.elapsedMs), `${(scpMs / result.elapsedMs).toFixed(2)}x`]),
      row(['scp -r (no verification)', (scpMs / 1000).toFixed(2), mibPerSecond(bytes, scpMs), '1.00x']),
      '  whole job = 1.5 s change check + sha256sum on the node + transfer + local SHA-256 compare',
    ];
  } finally {
    await sshd.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}
