/**
 * A node whose etcd data dir is read in place over a real sshd (and real sudo
 * for the root-only case): the bundled field-report sample (made by etcd 3.4)
 * served twice under one temp dir, readable by the test user and, as
 * kubeadm's /var/lib/etcd, root only. Both trees are hashed when served and
 * checked again when the node is taken down: whatever read them must not have
 * changed a byte. Plus the SSH service the app would use there and its
 * `ssh.connect` by key.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { SshService } from '../../electron/services/ssh/ssh-service';
import type { SudoTestContext } from './sudo-context';
import { hashTree, REPO } from '../cli/fixtures';
import { makeTempDir, startSshd, TEST_USER, type KeyPair, type SshdInstance } from './sshd';
import { keyClient } from './ssh-node';
import type { SudoersDropIn } from './sudoers';

export const ETCD_FIELD_REPORT_SAMPLE = path.join(REPO, 'resources', 'samples', 'etcd-field-report');

export interface EtcdSampleNode {
  sshd: SshdInstance;
  /** The temp dir holding the node's trees, the client key and known_hosts. */
  dir: string;
  key: KeyPair;
  knownHostsPath: string;
  /** The sample with 0755 directories and 0644 files. */
  readable: string;
  /** The sample as kubeadm's /var/lib/etcd: root only, 0700 directories, 0600 files. */
  rootOnly: string;
  hashes: { readable: Record<string, string>; rootOnly: Record<string, string> };
}

/** Copy the sample to `dest` with the given directory and file modes. */
async function serve(dest: string, dirMode: number, fileMode: number): Promise<void> {
  await fs.mkdir(path.dirname(dest), { recursive: true, mode: 0o755 });
  await fs.cp(ETCD_FIELD_REPORT_SAMPLE, dest, { recursive: true });
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        await walk(p);
        await fs.chmod(p, dirMode);
      } else await fs.chmod(p, fileMode);
    }
  };
  await walk(dest);
  await fs.chmod(dest, dirMode);
}

/** sshd up, a client key it trusts, the test user allowed sudo by `sudoers`, and the sample served both ways under `<dir>/node`. */
export async function startEtcdSampleNode(tempPrefix: string, sudoers: SudoersDropIn): Promise<EtcdSampleNode> {
  const [sshd, dir] = await Promise.all([startSshd(), makeTempDir(tempPrefix)]);
  const { key, knownHostsPath } = await keyClient(sshd, dir);
  await sudoers.install(`${TEST_USER} ALL=(root) ALL`);
  const readable = path.join(dir, 'node', 'etcd-readable');
  await serve(readable, 0o755, 0o644);
  const rootOnly = path.join(dir, 'node', 'etcd');
  await serve(rootOnly, 0o700, 0o600);
  const hashes = { readable: await hashTree(readable), rootOnly: await hashTree(rootOnly) };
  return { sshd, dir, key, knownHostsPath, readable, rootOnly, hashes };
}

/** The sudo rule removed, sshd stopped, both served trees compared with their hashes from the start, the temp dir removed. */
export async function stopEtcdSampleNode(node: EtcdSampleNode | undefined, sudoers: SudoersDropIn): Promise<void> {
  await sudoers.remove();
  await node?.sshd.stop();
  if (!node) return;
  expect(await hashTree(node.readable)).toEqual(node.hashes.readable);
  expect(await hashTree(node.rootOnly)).toEqual(node.hashes.rootOnly);
  await fs.rm(node.dir, { recursive: true, force: true });
}

/** The SSH service with its keys, audit log and recordings in the node's temp dir, copies under `copiesRoot`. */
export function sshServiceFor(node: EtcdSampleNode, copiesRoot = path.join(node.dir, 'copies')): SshService {
  return new SshService({
    paths: {
      keysDir: node.dir,
      knownHostsPath: node.knownHostsPath,
      auditLogPath: path.join(node.dir, 'audit.jsonl'),
      recordingsDir: path.join(node.dir, 'recordings'),
      copiesRoot,
    },
  });
}

/** `ssh.connect` to the node by key, as the UI calls it; the connection id. */
export async function connectToSampleNode(ssh: SshService, node: EtcdSampleNode, ctx: SudoTestContext): Promise<string> {
  const { sshd, key } = node;
  const { connectionId } = await ssh.handlers['ssh.connect'](
    { target: { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [key.privatePath], useAgent: false } },
    ctx,
  );
  return connectionId;
}
