/**
 * What the SSH suites set up around a real sshd: a client key and known_hosts
 * trusting the node, a connection by key, a damaged copy of a real dqlite data
 * directory to serve, and local validation's report of it as the reference.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { connectSsh, type SshConnection } from '../../electron/services/ssh/connection';
import { KnownHostsFile } from '../../electron/services/ssh/known-hosts';
import { closedSegments, flipByte } from '../cli/fixtures';
import { generateKey, type KeyPair, type SshdInstance } from './sshd';

export interface KeyClient {
  key: KeyPair;
  knownHostsPath: string;
}

/** A key `id` in `dir` authorized on `sshd`, and a known_hosts file (`knownHostsName`) trusting its host key. */
export async function keyClient(sshd: SshdInstance, dir: string, knownHostsName = 'known_hosts'): Promise<KeyClient> {
  const key = await generateKey(dir, 'id');
  await sshd.authorize(key.publicLine);
  const knownHostsPath = path.join(dir, knownHostsName);
  await fs.writeFile(knownHostsPath, sshd.knownHostsLine() + '\n');
  return { key, knownHostsPath };
}

/** A non-interactive connection by key: unknown host keys rejected, no agent, no prompts. */
export function connectByKey(sshd: SshdInstance, client: KeyClient): Promise<SshConnection> {
  return connectSsh({
    target: { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [client.key.privatePath] },
    hostKeys: { knownHosts: new KnownHostsFile(client.knownHostsPath), decideUnknown: async () => 'reject' },
    prompt: async () => null,
    agentSocket: null,
    interactive: false,
  });
}

/**
 * Copy the data directory `from` to `dest` (parents made 0755) and flip one
 * byte in the middle of its middle closed segment. Returns that segment's name.
 */
export async function copyDamaged(from: string, dest: string): Promise<string> {
  await fs.mkdir(path.dirname(dest), { recursive: true, mode: 0o755 });
  await fs.cp(from, dest, { recursive: true });
  const segs = await closedSegments(dest);
  const damaged = segs[Math.floor(segs.length / 2)];
  await flipByte(path.join(dest, damaged), Math.floor((await fs.stat(path.join(dest, damaged))).size / 2));
  return damaged;
}

/** Local validation of `dir`: the reference remote and copy validation must match. */
export { validateLocalPath, validateLocally, verdictOf } from './validate-local';
