/**
 * A realistic k3s server with embedded etcd (test/helpers/realistic-node.ts): the unit k3s's install script writes,
 * a real etcd 3.4 data dir where k3s keeps it, and k3s-named snapshots taken from it with the real `etcdctl snapshot
 * save` in k3s's snapshot dir: a good scheduled one, a newer on-demand one damaged afterwards, and the newest zipped
 * (`--etcd-snapshot-compress`), each with the time k3s would have written it. Each holds k3s's bootstrap key.
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { makeGoldenWith, testKey, testValue } from './etcd';
import type { RealisticNodeSpec } from './realistic-node';
import { K3S_INSTALL_UNIT } from './k3s-unit';

export const K3S_SNAPSHOTS = '/var/lib/rancher/k3s/server/db/snapshots';
export const GOOD = `${K3S_SNAPSHOTS}/etcd-snapshot-cp1-1765000000`;
export const DAMAGED = `${K3S_SNAPSHOTS}/on-demand-cp1-1765100000`;
/** The key k3s keeps its bootstrap data under, in every snapshot of this fixture. */
export const K3S_BOOTSTRAP_KEY = '/bootstrap/2b8a4d4e4c1f';
export const ZIPPED = `${K3S_SNAPSHOTS}/etcd-snapshot-cp1-1765200000.zip`;

export function etcdctl(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('etcdctl', args, { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface K3sNodeFixture {
  spec: RealisticNodeSpec;
  /** The etcd data dir (holding member/) copied to the node. */
  etcdDir: string;
  good: Buffer;
  damaged: Buffer;
}

/** Builds the data dir and the snapshots under `tmp` (real etcd on 127.0.x.y, stopped afterwards). */
export async function k3sNodeFixture(tmp: string): Promise<K3sNodeFixture> {
  // A snapshot taken half way and one at the end (the second damaged afterwards).
  const half = path.join(tmp, 'half.db');
  const full = path.join(tmp, 'full.db');
  const golden = await makeGoldenWith(path.join(tmp, 'etcd'), {}, async (node) => {
    for (let i = 0; i < 30; i++) await node.put(testKey(i), testValue(i, 0, 200));
    // k3s's bootstrap data, under the hash of its join token (k3s pkg/cluster/storage.go), and a key that only
    // begins like it.
    await node.put(K3S_BOOTSTRAP_KEY, '{"salt":"c2FsdA==","ciphertext":"Y2lwaGVydGV4dA=="}');
    await node.put('/bootstrapped-note', 'not bootstrap data');
    const a = etcdctl(['--endpoints', node.endpoint.clientUrl, 'snapshot', 'save', half]);
    if (a.code !== 0) throw new Error(`etcdctl snapshot save: ${a.stderr}`);
    for (let i = 30; i < 60; i++) await node.put(testKey(i), testValue(i, 0, 200));
    const b = etcdctl(['--endpoints', node.endpoint.clientUrl, 'snapshot', 'save', full]);
    if (b.code !== 0) throw new Error(`etcdctl snapshot save: ${b.stderr}`);
  });
  const good = await fs.readFile(half);
  const damaged = Buffer.from(await fs.readFile(full));
  damaged[5000]! ^= 0xff;
  // k3s --etcd-snapshot-compress: a real zip of the full snapshot.
  const zipped = path.join(tmp, 'zipped.zip');
  const z = spawnSync('zip', ['-j', '-q', zipped, full]);
  if (z.status !== 0) throw new Error(`zip: ${String(z.stderr)}`);
  return {
    etcdDir: golden.dir,
    good,
    damaged,
    spec: {
      files: {
        '/etc/systemd/system/k3s.service': K3S_INSTALL_UNIT.split('\n').slice(1).join('\n'),
        [GOOD]: { content: good, mode: 0o600 },
        [DAMAGED]: { content: damaged, mode: 0o600 },
        [ZIPPED]: { content: await fs.readFile(zipped), mode: 0o600 },
      },
      copies: { '/var/lib/rancher/k3s/server/db/etcd': golden.dir },
      // k3s writes a snapshot every 12 hours: their times, not the copy's.
      setup: [`touch -d @1765000000 ${GOOD}`, `touch -d @1765100000 ${DAMAGED}`, `touch -d @1765200000 ${ZIPPED}`],
    },
  };
}
