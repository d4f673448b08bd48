/**
 * Restores a `snapshot.db` with the real `etcdctl snapshot restore` (3.4, never
 * `--skip-hash-check`) into a fresh data dir, starts etcd on it and reads
 * every key back: the oracle for salvage and for the bbolt writer.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ETCDCTL, loopbackEndpoint, spawnEtcd, waitHealthy, type EtcdNode } from './etcd';

export interface RestoreResult {
  /** etcdctl's exit status and output. */
  restoreStatus: number | null;
  restoreOutput: string;
  started: boolean;
  keys: Map<string, Uint8Array> | null;
  revision: number | null;
  etcdOutput: string;
  /** The keys again after `thenOnNode` ran (null without it). */
  keysAfter: Map<string, Uint8Array> | null;
}

export function etcdctlOffline(args: string[], timeoutMs = 60_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(ETCDCTL, args, { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' }, timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `etcdctl snapshot status -w json`: hash, revision, totalKey, totalSize (or the error). */
export function snapshotStatus(file: string): { ok: boolean; revision?: number; totalKey?: number; totalSize?: number; output: string } {
  const r = etcdctlOffline(['snapshot', 'status', file, '-w', 'json']);
  if (r.status !== 0) return { ok: false, output: r.stderr + r.stdout };
  const j = JSON.parse(r.stdout) as { revision: number; totalKey: number; totalSize: number };
  return { ok: true, revision: j.revision, totalKey: j.totalKey, totalSize: j.totalSize, output: r.stdout };
}

/**
 * Restore `snapshotFile` into `workDir/restored` as member `n1`, start etcd, read all keys, stop. `thenOnNode`
 * (writes, deletes, a compaction) runs on the running member after the read, and the keys are read again.
 */
export async function restoreAndRead(snapshotFile: string, workDir: string, thenOnNode?: (node: EtcdNode) => Promise<void>): Promise<RestoreResult> {
  const ep = await loopbackEndpoint();
  const dataDir = path.join(workDir, 'restored');
  const peerUrl = `http://${ep.host}:${ep.peerPort}`;
  const r = etcdctlOffline([
    'snapshot',
    'restore',
    snapshotFile,
    '--data-dir',
    dataDir,
    '--name',
    'n1',
    '--initial-cluster',
    `n1=${peerUrl}`,
    '--initial-advertise-peer-urls',
    peerUrl,
    '--initial-cluster-token',
    'lifeboat-restore',
  ]);
  const restoreOutput = r.stdout + r.stderr;
  if (r.status !== 0) return { restoreStatus: r.status, restoreOutput, started: false, keys: null, revision: null, etcdOutput: '', keysAfter: null };
  const node = await spawnEtcd({
    dataDir,
    name: 'n1',
    host: ep.host,
    clientPort: ep.clientPort,
    peerPort: ep.peerPort,
    initialClusterToken: 'lifeboat-restore',
  });
  try {
    if (!(await waitHealthy(node, 30_000))) {
      return { restoreStatus: r.status, restoreOutput, started: false, keys: null, revision: null, etcdOutput: node.output(), keysAfter: null };
    }
    const keys = await node.rangeBytes('');
    const { revision } = await node.status();
    let keysAfter: Map<string, Uint8Array> | null = null;
    if (thenOnNode) {
      await thenOnNode(node);
      keysAfter = await node.rangeBytes('');
    }
    return { restoreStatus: r.status, restoreOutput, started: true, keys, revision, etcdOutput: node.output(), keysAfter };
  } finally {
    await node.stop();
  }
}
