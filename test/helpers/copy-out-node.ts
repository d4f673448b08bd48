/**
 * What the copy-out suites set up around a real sshd: the node (sshd serving
 * the test user, a client key it accepts, a known_hosts file trusting its host
 * key), the node's files written under one temporary folder, an SshService
 * keeping its records there too, and the checks every suite makes of its
 * evidence: content hashes before and after, no secret in anything written.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import type { SshConnection } from '../../electron/services/ssh/connection';
import { SshService } from '../../electron/services/ssh/ssh-service';
import type { CopyOutProgress, SshTarget } from '../../shared/contract/ssh';
import { hashTree } from '../cli/fixtures';
import { connectByKey, keyClient, type KeyClient } from './ssh-node';
import { makeTempDir, startSshd, type SshdInstance, type SshdOptions } from './sshd';

export interface CopyOutNode extends KeyClient {
  readonly sshd: SshdInstance;
  /** The suite's temporary folder: the client's key and known_hosts, the node's files, the service's records. */
  readonly dir: string;
  /** The node as the handlers are asked to connect to it: by key, no agent. */
  readonly target: SshTarget;
  /** A connection by key, unknown host keys rejected, no prompts. */
  connect(): Promise<SshConnection>;
  /** A new SshService whose keys, known hosts, audit log, recordings and copies are under `dir`. */
  sshService(): SshService;
  /** Stop sshd and remove `dir`. */
  stop(): Promise<void>;
}

/** A real sshd with a client that trusts it, and a temporary folder named `tempPrefix…` (0755, readable by the test user). */
export async function startCopyOutNode(tempPrefix: string, sshdOptions: SshdOptions = {}): Promise<CopyOutNode> {
  const [sshd, dir] = await Promise.all([startSshd(sshdOptions), makeTempDir(tempPrefix)]);
  try {
    const client = await keyClient(sshd, dir);
    return {
      sshd,
      dir,
      ...client,
      target: { host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [client.key.privatePath], useAgent: false },
      connect: () => connectByKey(sshd, client),
      sshService: () =>
        new SshService({
          paths: {
            keysDir: dir,
            knownHostsPath: client.knownHostsPath,
            auditLogPath: path.join(dir, 'audit.jsonl'),
            recordingsDir: path.join(dir, 'recordings'),
            copiesRoot: path.join(dir, 'copies'),
          },
        }),
      async stop() {
        await sshd.stop();
        await fs.rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await sshd.stop();
    await fs.rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Write `files` (a `/`-separated path under `root` to its bytes or text), making the folders they need. */
export async function writeTree(root: string, files: Record<string, Uint8Array | string>): Promise<void> {
  for (const [rel, data] of Object.entries(files)) {
    const file = path.join(root, ...rel.split('/'));
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, data);
  }
}

/** Make `dir` root-only the way MicroK8s's backend is: 0700 directories, 0600 files, owned by root. */
export async function makeRootOnly(dir: string): Promise<void> {
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    await fs.chmod(path.join(e.parentPath, e.name), e.isDirectory() ? 0o700 : 0o600);
  }
  await fs.chmod(dir, 0o700);
}

/** A `hashTree` with contents only (a copy has its own modes and mtimes). */
export function contentsOf(tree: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, v.split(':')[0]]));
}

/** The SHA-256 of every regular file under `root`, by `/`-separated relative path. */
export async function contentHashes(root: string): Promise<Record<string, string>> {
  return contentsOf(await hashTree(root));
}

/** Expects that no regular file under `root` contains `secret` (as bytes); returns how many files were read. */
export async function expectNowhere(root: string, secret: string): Promise<number> {
  let n = 0;
  if (!existsSync(root)) return n;
  for (const e of await fs.readdir(root, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const f = path.join(e.parentPath, e.name);
    expect((await fs.readFile(f)).includes(Buffer.from(secret)), f).toBe(false);
    n++;
  }
  return n;
}

/** Waits (polling) for `get` to return something, e.g. a job's event. */
export async function waitFor<T>(get: () => T | undefined, what: string, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Runs `copy` with a progress callback that drops every connection to `sshd` (the link dies, sshd
 * keeps listening) once more than `afterBytes` have been copied: whether it dropped them, and what
 * the copy failed with (undefined when it did not fail).
 */
export async function copyCutOff(
  sshd: SshdInstance,
  afterBytes: number,
  copy: (onProgress: (p: CopyOutProgress) => void) => Promise<unknown>,
): Promise<{ dropped: boolean; error: unknown }> {
  let dropped = false;
  const error = await copy((p) => {
    if (!dropped && p.phase === 'copying' && p.bytesDone > afterBytes) {
      dropped = true;
      void sshd.dropConnections();
    }
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { dropped, error };
}
