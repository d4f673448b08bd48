/**
 * A real Docker daemon of the test's own (Debian's docker.io), for the
 * Docker-host side of kind (field report 3): `dockerd` with its data, exec
 * root, containerd and socket under a temp dir, no default bridge and no
 * iptables rules, so it touches nothing of the machine but the bridge of the
 * network a test creates. Images are made without a registry: `docker import`
 * of a root file system that holds no program, run with this machine's /usr
 * bound read-only (every tool a kind node image has for the commands Lifeboat
 * runs there, etcd among them).
 *
 * With CI=true a missing dockerd or docker client fails the suite.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const DOCKERD = '/usr/sbin/dockerd';
/**
 * Debian's docker client (docker.io brings it with the daemon, the same version). Not /usr/local/bin's: a
 * realistic node's /usr/local is its own, where a test puts the `docker` the node's commands find.
 */
export const DOCKER_CLIENT = '/usr/bin/docker';

/**
 * A realistic node's `docker` (its /usr/local/bin shadows the machine's): Debian's client talking to the daemon at
 * `host` (`unix://…`), so the node's commands reach a test's daemon (or, for a socket that does not exist, none).
 */
export function nodeDockerCli(host: string): Record<string, { content: string; mode: number }> {
  return { '/usr/local/bin/docker': { content: `#!/bin/sh\nexec ${DOCKER_CLIENT} -H ${host} "$@"\n`, mode: 0o755 } };
}

/** Whether a private Docker daemon can run (root, dockerd, a client); with CI=true a missing piece fails. */
export function dockerAvailable(): boolean {
  const ok = process.getuid?.() === 0 && existsSync(DOCKERD) && existsSync(DOCKER_CLIENT);
  if (!ok && process.env.CI === 'true')
    throw new Error(`CI=true but a Docker daemon cannot run here (need root, ${DOCKERD} and a docker client): apt-get install docker.io`);
  return ok;
}

/**
 * `docker run` options that give a container of an importUsrImage image this machine's /usr, read-only, and the
 * /etc/alternatives links some of its commands are (awk is a link there).
 */
export const USR_READ_ONLY = ['--volume', '/usr:/usr:ro', '--volume', '/etc/alternatives:/etc/alternatives:ro'];

export interface PrivateDocker {
  /** `unix://…/docker.sock`, for `docker -H`. */
  host: string;
  /** Run the docker client against this daemon; throws with its stderr on failure. */
  docker(args: string[], timeoutMs?: number): Promise<string>;
  /**
   * An image named `tag` that holds no program of its own: its containers are run with this machine's /usr bound
   * read-only (`USR_READ_ONLY`), so they have every tool the machine has (Debian's merged /usr: /bin, /sbin and
   * the libraries are links into it), etcd and etcdctl among them; `dirs` are made empty.
   */
  importUsrImage(tag: string, dirs: string[]): Promise<void>;
  /** The container's address on `network` now. */
  addressOf(container: string, network: string): Promise<string>;
  stop(): Promise<void>;
}

/** Start a daemon whose state lives under `dir` (short: containerd's socket path is limited to 108 bytes). */
export async function startPrivateDocker(dir: string): Promise<PrivateDocker> {
  const sock = path.join(dir, 'docker.sock');
  const host = `unix://${sock}`;
  const log = await fs.open(path.join(dir, 'dockerd.log'), 'a');
  const daemon = spawn(
    DOCKERD,
    [
      `--data-root=${path.join(dir, 'root')}`,
      `--exec-root=${path.join(dir, 'x')}`,
      `--pidfile=${path.join(dir, 'dockerd.pid')}`,
      `--host=${host}`,
      '--bridge=none',
      '--iptables=false',
      '--ip-masq=false',
    ],
    { stdio: ['ignore', log.fd, log.fd], detached: true },
  );
  let exited = false;
  daemon.on('exit', () => (exited = true));
  const docker = async (args: string[], timeoutMs = 60_000): Promise<string> => {
    try {
      return (await run(DOCKER_CLIENT, ['-H', host, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 })).stdout;
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`docker ${args.join(' ')}: ${err.stderr || err.message}`, { cause: e });
    }
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`dockerd exited at start:\n${await fs.readFile(path.join(dir, 'dockerd.log'), 'utf8')}`);
    try {
      await docker(['info', '--format', '{{.ServerVersion}}'], 5_000);
      break;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`dockerd did not answer within 60 s: ${(e as Error).message}`, { cause: e });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    host,
    docker,
    async importUsrImage(tag, dirs) {
      const rootfs = path.join(dir, `rootfs-${tag.replace(/[^a-z0-9]+/gi, '-')}`);
      for (const d of ['usr', 'tmp', 'proc', 'sys', 'dev', 'etc', 'run', 'root', ...dirs]) await fs.mkdir(path.join(rootfs, d), { recursive: true });
      for (const l of ['bin', 'sbin', 'lib', 'lib64']) await fs.symlink(`usr/${l}`, path.join(rootfs, l));
      await run('sh', ['-c', `tar -C '${rootfs}' -c . | '${DOCKER_CLIENT}' -H '${host}' import - '${tag}'`], { timeout: 120_000 });
    },
    async addressOf(container, network) {
      return (await docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container])).trim();
    },
    async stop() {
      // Containers first (their shims outlive the daemon otherwise), then the daemon and its containerd.
      const ids = (await docker(['ps', '-aq']).catch(() => '')).split('\n').filter(Boolean);
      if (ids.length) await docker(['rm', '-f', ...ids]).catch(() => undefined);
      for (const net of (await docker(['network', 'ls', '-q', '--filter', 'type=custom']).catch(() => '')).split('\n').filter(Boolean)) {
        await docker(['network', 'rm', net]).catch(() => undefined);
      }
      if (!exited) {
        daemon.kill('SIGTERM');
        for (let i = 0; i < 100 && !exited; i++) await new Promise((r) => setTimeout(r, 100));
        if (!exited) daemon.kill('SIGKILL');
      }
      await log.close();
    },
  };
}
