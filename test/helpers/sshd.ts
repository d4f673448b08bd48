/**
 * Real OpenSSH `sshd` instances for tests: each one listens on 127.0.0.1 on a
 * free port with its own generated host keys (ed25519 + rsa), its own config,
 * AuthorizedKeysFile and PidFile, and serves a real system user
 * (`lifeboat-test`, known password). Keyboard-interactive goes through PAM
 * (pam_unix: one "Password:" prompt); multi-step prompts come from the
 * in-process ssh2 server in `test/ssh/kbd-server.ts`.
 *
 * With CI=true a missing sshd is an error, not a skip.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promises as fs, existsSync, mkdirSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SSHD_PATH = '/usr/sbin/sshd';
export const TEST_USER = 'lifeboat-test';
export const TEST_PASSWORD = 'Lifeboat-test-pw-1';

/** True when tests needing sshd should run; with CI=true a missing sshd throws instead. */
export function sshdAvailable(): boolean {
  const ok = existsSync(SSHD_PATH) && existsSync('/usr/bin/ssh-keygen') && process.getuid?.() === 0;
  if (!ok && process.env.CI === 'true') {
    throw new Error(`CI=true but sshd cannot run here (need ${SSHD_PATH}, ssh-keygen and root)`);
  }
  return ok;
}

/** Fail (CI) or report missing for another tool, e.g. ssh-agent. */
export function toolAvailable(file: string): boolean {
  const ok = existsSync(file);
  if (!ok && process.env.CI === 'true') throw new Error(`CI=true but ${file} is missing`);
  return ok;
}

let userReady: Promise<void> | null = null;

/** Create the test system user once (idempotent, safe against parallel test files). */
export function ensureTestUser(): Promise<void> {
  userReady ??= (async () => {
    try {
      await run('id', [TEST_USER]);
    } catch {
      try {
        await run('useradd', ['--create-home', '--shell', '/bin/bash', TEST_USER]);
      } catch (e) {
        // exit code 9: created meanwhile by a parallel test file
        if ((e as { code?: number }).code !== 9) throw e;
      }
    }
    await new Promise<void>((resolve, reject) => {
      const p = spawn('chpasswd', [], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`chpasswd failed: ${err}`))));
      p.stdin.end(`${TEST_USER}:${TEST_PASSWORD}\n`);
    });
  })();
  return userReady;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A temp dir readable by the test user (sshd opens AuthorizedKeysFile as the user). */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  await fs.chmod(dir, 0o755);
  return dir;
}

export interface KeyPair {
  privatePath: string;
  publicLine: string;
  /** `SHA256:...` as printed by ssh-keygen -lf. */
  fingerprint: string;
}

export async function generateKey(
  dir: string,
  name: string,
  opts: { type?: 'ed25519' | 'rsa' | 'ecdsa'; passphrase?: string; format?: 'openssh' | 'pem' } = {},
): Promise<KeyPair> {
  const type = opts.type ?? 'ed25519';
  const privatePath = path.join(dir, name);
  const args = ['-q', '-t', type, '-N', opts.passphrase ?? '', '-C', `${name}@lifeboat-test`, '-f', privatePath];
  if (type === 'rsa') args.push('-b', '2048');
  if (opts.format === 'pem') args.push('-m', 'PEM');
  await run('ssh-keygen', args);
  const publicLine = (await fs.readFile(`${privatePath}.pub`, 'utf8')).trim();
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${privatePath}.pub`]);
  const fingerprint = stdout.split(/\s+/)[1];
  return { privatePath, publicLine, fingerprint };
}

export interface SshdOptions {
  /** e.g. `publickey,keyboard-interactive` */
  authenticationMethods?: string;
  /** Extra sshd_config lines. */
  extraConfig?: string[];
  /**
   * Run sshd through a wrapper, e.g. `unshare --mount ... sh -c '<mounts>; exec "$0" "$@"'`
   * (test/helpers/realistic-node.ts): the wrapper must exec sshd so the child pid is sshd's.
   */
  wrap?: { command: string; args: string[] };
  /**
   * `'root'`: the node is reached as root, by key only (`PermitRootLogin
   * prohibit-password`, `AllowUsers root`), the key in this instance's own
   * AuthorizedKeysFile (root's ~/.ssh is never touched). Default: TEST_USER.
   */
  loginAs?: 'root';
  /**
   * Commands this node's sessions cannot find (e.g. `['sudo']`): every
   * session's PATH (sshd's `SetEnv`) is /usr/local/sbin, /usr/local/bin (left
   * as they are: a realistic node's stand-ins live there) and a directory of
   * symlinks to everything in the system bin directories except these. The
   * machine is not changed.
   */
  hideCommands?: string[];
}

/** The system directories a session's PATH normally holds, searched for what `hideCommands` keeps. */
const SYSTEM_BIN_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const LOCAL_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin'];

/** `dir` filled with a symlink to every command in SYSTEM_BIN_DIRS except `hidden` (first directory wins, like PATH). */
async function binDirWithout(dir: string, hidden: readonly string[]): Promise<void> {
  for (const local of LOCAL_BIN_DIRS) {
    for (const name of hidden) {
      if (existsSync(path.join(local, name))) throw new Error(`sshd hideCommands: ${local}/${name} exists and stays on PATH`);
    }
  }
  await fs.mkdir(dir, { mode: 0o755 });
  const made = new Set<string>(hidden);
  for (const from of SYSTEM_BIN_DIRS) {
    const names = await fs.readdir(from).catch(() => [] as string[]);
    for (const name of names) {
      if (made.has(name)) continue;
      made.add(name);
      await fs.symlink(path.join(from, name), path.join(dir, name));
    }
  }
}

export interface SshdInstance {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  /** The listening sshd's pid (inside the wrapper's namespaces when `wrap` was given). */
  readonly pid: number;
  readonly user: string;
  readonly password: string;
  readonly hostKeys: { ed25519: KeyPair; rsa: KeyPair };
  readonly authorizedKeysFile: string;
  authorize(publicLine: string): Promise<void>;
  /** `[127.0.0.1]:port ssh-ed25519 AAAA...` */
  knownHostsLine(type?: 'ed25519' | 'rsa'): string;
  /** sshd's stderr so far (for failing assertions). */
  log(): string;
  /** Kill every connection's session process (simulates a dropped link) but keep listening. */
  dropConnections(): Promise<void>;
  stop(): Promise<void>;
}

async function waitForBanner(host: string, port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited (${child.exitCode}): ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host);
      const t = setTimeout(() => (s.destroy(), resolve(false)), 1000);
      s.once('data', (d) => {
        clearTimeout(t);
        s.destroy();
        resolve(d.toString().startsWith('SSH-2.0'));
      });
      s.once('error', () => (clearTimeout(t), resolve(false)));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not come up on ${host}:${port}: ${log()}`);
}

export async function startSshd(opts: SshdOptions = {}): Promise<SshdInstance> {
  sshdAvailable();
  await ensureTestUser();
  // Privilege separation directory, normally made by the init script.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await makeTempDir('lifeboat-sshd-');
  const ed25519 = await generateKey(dir, 'ssh_host_ed25519_key', { type: 'ed25519' });
  const rsa = await generateKey(dir, 'ssh_host_rsa_key', { type: 'rsa' });
  const authorizedKeysFile = path.join(dir, 'authorized_keys');
  await fs.writeFile(authorizedKeysFile, '', { mode: 0o644 });
  const user = opts.loginAs ?? TEST_USER;
  const sessionBin = path.join(dir, 'bin');
  if (opts.hideCommands) await binDirWithout(sessionBin, opts.hideCommands);

  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = [
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${ed25519.privatePath}`,
      `HostKey ${rsa.privatePath}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeysFile}`,
      'UsePAM yes',
      'StrictModes no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication yes',
      opts.loginAs === 'root' ? 'PermitRootLogin prohibit-password' : 'PermitRootLogin no',
      `AllowUsers ${user}`,
      ...(opts.hideCommands ? [`SetEnv PATH=${[...LOCAL_BIN_DIRS, sessionBin].join(':')}`] : []),
      'AllowTcpForwarding yes',
      'X11Forwarding no',
      'PrintMotd no',
      'PrintLastLog no',
      'MaxStartups 64',
      'MaxSessions 32',
      'LogLevel VERBOSE',
      'Subsystem sftp internal-sftp',
      ...(opts.authenticationMethods ? [`AuthenticationMethods ${opts.authenticationMethods}`] : []),
      ...(opts.extraConfig ?? []),
    ].join('\n');
    const configPath = path.join(dir, 'sshd_config');
    await fs.writeFile(configPath, config + '\n', { mode: 0o600 });
    // Validate first: a bad config should fail loudly, not time out.
    await run(SSHD_PATH, ['-t', '-f', configPath]);

    let stderr = '';
    const sshdArgs = ['-D', '-e', '-f', configPath];
    const child = opts.wrap
      ? spawn(opts.wrap.command, [...opts.wrap.args, SSHD_PATH, ...sshdArgs], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(SSHD_PATH, sshdArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000);
    });
    try {
      await waitForBanner('127.0.0.1', port, child, () => stderr);
    } catch (e) {
      child.kill('SIGTERM');
      if (attempt < 3 && /Address already in use/.test(stderr)) continue;
      throw e;
    }

    const instance: SshdInstance = {
      host: '127.0.0.1',
      port,
      dir,
      pid: child.pid!,
      user,
      password: TEST_PASSWORD,
      hostKeys: { ed25519, rsa },
      authorizedKeysFile,
      async authorize(publicLine: string) {
        await fs.appendFile(authorizedKeysFile, publicLine.trim() + '\n');
      },
      knownHostsLine(type: 'ed25519' | 'rsa' = 'ed25519') {
        const k = type === 'ed25519' ? ed25519 : rsa;
        const [alg, b64] = k.publicLine.split(/\s+/);
        return `[127.0.0.1]:${port} ${alg} ${b64}`;
      },
      log: () => stderr,
      async dropConnections() {
        // Per-connection sshd processes ([priv] monitor and the user's child holding
        // the socket) descend from the listener: kill the whole subtree. A process
        // that forks between the listing and the kill would leave a child holding the
        // socket (reparented, out of reach): stop the tree first, list the stopped
        // processes' children again until none is new, then kill them all. Connections
        // the listener accepts meanwhile are left alone (a client reconnecting at once).
        const childrenOf = async (): Promise<Map<number, number[]>> => {
          const { stdout } = await run('ps', ['-e', '-o', 'pid=,ppid=']);
          const kids = new Map<number, number[]>();
          for (const line of stdout.trim().split('\n')) {
            const [pid, ppid] = line.trim().split(/\s+/).map(Number);
            kids.set(ppid, [...(kids.get(ppid) ?? []), pid]);
          }
          return kids;
        };
        const signal = (pid: number, sig: NodeJS.Signals) => {
          try {
            process.kill(pid, sig);
          } catch {
            /* already gone */
          }
        };
        const doomed = new Set<number>();
        let frontier = (await childrenOf()).get(child.pid!) ?? [];
        while (frontier.length > 0) {
          for (const pid of frontier) {
            doomed.add(pid);
            signal(pid, 'SIGSTOP');
          }
          const kids = await childrenOf();
          frontier = [...doomed].flatMap((pid) => kids.get(pid) ?? []).filter((pid) => !doomed.has(pid));
        }
        for (const pid of doomed) signal(pid, 'SIGKILL');
      },
      async stop() {
        await instance.dropConnections();
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
          if (child.exitCode === null) child.kill('SIGKILL');
        }
        await fs.rm(dir, { recursive: true, force: true });
      },
    };
    return instance;
  }
}
