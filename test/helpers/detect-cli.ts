/**
 * `lifeboat detect` run as a user runs it against a realistic node (test/helpers/realistic-node.ts): the node's host
 * key pinned in a known_hosts file of its own under `dir`, the test key as identity.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CLI, runNode, type RunResult } from '../cli/fixtures';
import type { NodeCard } from '../../shared/contract/node';
import type { RealisticNode } from './realistic-node';
import type { KeyPair } from './sshd';

export async function detectCli(node: RealisticNode, key: KeyPair, dir: string, extra: readonly string[]): Promise<RunResult> {
  const knownHosts = path.join(dir, `known_hosts-${node.sshd.port}`);
  await fs.writeFile(knownHosts, `${node.sshd.knownHostsLine()}\n`);
  return runNode([
    CLI,
    'detect',
    `${node.sshd.user}@127.0.0.1`,
    '--port',
    String(node.sshd.port),
    '--identity',
    key.privatePath,
    '--known-hosts',
    knownHosts,
    ...extra,
  ]);
}

/** The card `detect --sudo --json` prints; throws with detect's stderr when it failed. */
export async function detectedCard(node: RealisticNode, key: KeyPair, dir: string): Promise<NodeCard> {
  const r = await detectCli(node, key, dir, ['--sudo', '--json']);
  if (r.code !== 0) throw new Error(`lifeboat detect exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as NodeCard;
}
