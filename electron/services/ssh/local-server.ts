/**
 * "This machine" as a node: a private SSH server inside this process, wired
 * to the app's own SSH client by an in-memory pipe (no port, no socket file,
 * nothing another process can reach). Every feature built on a connection
 * (exec, sudo, terminals, SFTP, copy-out, detection, guided sessions, the
 * session log) then works on the machine the app runs on exactly as on a
 * node, with the same commands shown and journalled: the laptop that runs
 * kind is the Docker host, and it runs no sshd.
 *
 * Commands run as the app's user with its environment, through `/bin/sh -c`
 * (what sshd does with the login shell); a terminal gets a real pseudo
 * terminal from util-linux `script`, since Node cannot open one itself; SFTP
 * is OpenSSH's own `sftp-server` on a pipe.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import { Duplex } from 'node:stream';
import { Server, utils as sshUtils, type Connection, type ServerChannel } from 'ssh2';
import { quoteIfNeeded } from '../../../shared/node/shell';

/** Where OpenSSH installs `sftp-server`: Debian/Ubuntu, Fedora/RHEL, Arch, macOS. */
export const SFTP_SERVER_PATHS = ['/usr/lib/openssh/sftp-server', '/usr/libexec/openssh/sftp-server', '/usr/lib/ssh/sftp-server', '/usr/libexec/sftp-server'];

export function findSftpServer(paths: readonly string[] = SFTP_SERVER_PATHS): string | null {
  return paths.find((p) => existsSync(p)) ?? null;
}

/** Two connected in-memory streams: what one writes the other reads (ssh2's own windows bound what is in flight). */
export function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (peer: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        peer().push(chunk);
        cb();
      },
      final(cb) {
        peer().push(null);
        cb();
      },
      destroy(err, cb) {
        const other = peer();
        if (!other.destroyed) other.push(null);
        cb(err);
      },
    });
  ends.push(
    make(() => ends[1]),
    make(() => ends[0]),
  );
  return [ends[0], ends[1]];
}

export interface LocalServerOptions {
  /** The shell a terminal starts (default `$SHELL`, else /bin/sh). */
  shell?: string;
  /** Where to look for `sftp-server` (default SFTP_SERVER_PATHS). */
  sftpServerPaths?: readonly string[];
  /** The environment commands run with (default this process's). */
  env?: NodeJS.ProcessEnv;
}

interface PtyRequest {
  cols: number;
  rows: number;
  term: string;
}

/** The pseudo terminal's size is set on its slave side (`stty -F`): the kernel then signals the shell, as sshd's resize does. */
function applyWindow(tty: string, size: { cols: number; rows: number }): void {
  if (!/^\/dev\/pts\/\d{1,6}$/.test(tty)) return;
  const child = spawn('stty', ['-F', tty, 'rows', String(size.rows), 'cols', String(size.cols)], { stdio: 'ignore' });
  child.on('error', () => undefined);
}

/** The first child of `pid`: from /proc's children list, or (a kernel without it) the process whose parent it is. */
async function firstChildOf(pid: number): Promise<number | null> {
  const listed = await fs.readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => null);
  if (listed !== null) {
    const first = /^\d+/.exec(listed.trim());
    return first ? Number(first[0]) : null;
  }
  for (const name of await fs.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await fs.readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) return Number(name);
  }
  return null;
}

/** The terminal `script` opened for its child: its child's stdin, read from /proc (Linux). */
async function ptyOf(scriptPid: number, signal: { stopped: boolean }): Promise<string | null> {
  for (let i = 0; i < 100 && !signal.stopped; i++) {
    const child = await firstChildOf(scriptPid);
    if (child !== null) {
      const tty = await fs.readlink(`/proc/${child}/fd/0`).catch(() => '');
      if (tty.startsWith('/dev/pts/')) return tty;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return null;
}

/**
 * The server side of one local connection. Children still running when the
 * client closes are left as sshd leaves them (their pipes close); terminals
 * end with their pseudo terminal, as a shell does when sshd's channel closes.
 */
export class LocalServer {
  readonly hostKeyPublic: Buffer;
  private readonly server: Server;
  private readonly terminals = new Set<ChildProcess>();

  constructor(private readonly options: LocalServerOptions = {}) {
    // A fresh host key per connection, never written anywhere: the client pins exactly this key.
    const hostKey = freshHostKey();
    this.hostKeyPublic = hostKey.publicSsh;
    this.server = new Server({ hostKeys: [hostKey.private], ident: `lifeboat-local-${randomUUID().slice(0, 8)}` }, (client) => this.serve(client));
  }

  /** The client end of a new in-memory link to this server. */
  link(): Duplex {
    const [clientEnd, serverEnd] = duplexPair();
    this.server.injectSocket(serverEnd as unknown as Parameters<Server['injectSocket']>[0]);
    return clientEnd;
  }

  close(): void {
    for (const t of this.terminals) t.kill('SIGHUP');
    this.terminals.clear();
    this.server.close();
  }

  private get env(): NodeJS.ProcessEnv {
    return this.options.env ?? process.env;
  }

  private serve(client: Connection): void {
    client.on('error', () => undefined);
    // The only peer is this process's own client on an in-memory pipe.
    client.on('authentication', (ctx) => ctx.accept());
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        let pty: PtyRequest | null = null;
        let tty: string | null = null;
        session.on('pty', (accept, _reject, info) => {
          pty = { cols: cells(info.cols, 80), rows: cells(info.rows, 24), term: /^[A-Za-z0-9._+-]{1,64}$/.test(info.term) ? info.term : 'xterm-256color' };
          accept?.();
        });
        session.on('window-change', (accept, _reject, info) => {
          if (pty) pty = { ...pty, cols: cells(info.cols, pty.cols), rows: cells(info.rows, pty.rows) };
          if (tty && pty) applyWindow(tty, pty);
          accept?.();
        });
        session.on('env', (accept) => accept?.());
        session.on('exec', (accept, _reject, info) => {
          const channel = accept();
          this.run(channel, spawn('/bin/sh', ['-c', info.command], { cwd: os.homedir(), env: this.env, stdio: 'pipe' }));
        });
        session.on('shell', (accept, reject) => {
          if (process.platform !== 'linux') return reject();
          const channel = accept();
          const size = pty ?? { cols: 80, rows: 24, term: 'xterm-256color' };
          const shell = this.options.shell ?? this.env.SHELL ?? '/bin/sh';
          // `script` runs the shell on a new pseudo terminal and copies it to our pipes; `-E never`: the terminal echoes,
          // not script. The shell starts at the size asked for (stty on its terminal first); resizes follow (applyWindow).
          const start = `stty rows ${size.rows} cols ${size.cols} 2>/dev/null; exec ${quoteIfNeeded(shell)} -l`;
          const child = spawn('script', ['-q', '-f', '-e', '-E', 'never', '-c', start, '/dev/null'], {
            cwd: os.homedir(),
            env: { ...this.env, TERM: size.term },
            stdio: 'pipe',
          });
          this.terminals.add(child);
          const state = { stopped: false };
          child.on('close', () => {
            state.stopped = true;
            this.terminals.delete(child);
          });
          if (child.pid)
            void ptyOf(child.pid, state).then((t) => {
              tty = t;
              if (t) applyWindow(t, pty ?? size);
            });
          this.run(channel, child, { hangUpOnClose: true });
        });
        session.on('subsystem', (accept, reject, info) => {
          const server = info.name === 'sftp' ? findSftpServer(this.options.sftpServerPaths) : null;
          if (!server) return reject();
          this.run(accept(), spawn(server, [], { cwd: os.homedir(), env: this.env, stdio: 'pipe' }));
        });
      });
    });
  }

  /** Channel and process joined: input to stdin, stdout and stderr back, then the exit status, then EOF. */
  private run(channel: ServerChannel, child: ChildProcess, opts: { hangUpOnClose?: boolean } = {}): void {
    let exited = false;
    const exit = (send: () => void) => {
      if (exited) return;
      exited = true;
      try {
        send();
        channel.end();
      } catch {
        // The client already closed the channel.
      }
    };
    child.on('error', (e) => {
      // Could not start (no `script`, no `sh`): said on stderr with the shell's "not found" status.
      if (child.pid === undefined) {
        channel.stderr.write(`lifeboat: ${e.message}\n`);
        exit(() => channel.exit(127));
      }
    });
    child.stdin?.on('error', () => undefined);
    channel.on('error', () => undefined);
    if (child.stdin) channel.pipe(child.stdin);
    child.stdout?.pipe(channel, { end: false });
    child.stderr?.pipe(channel.stderr, { end: false });
    channel.on('close', () => {
      // A closed terminal hangs up its shell; a command keeps running, as under sshd, with its pipes gone.
      if (opts.hangUpOnClose && child.exitCode === null) child.kill('SIGHUP');
      child.stdout?.destroy();
      child.stderr?.destroy();
    });
    child.on('close', (code, signal) => exit(() => (signal ? channel.exit(signal.replace(/^SIG/, ''), false, '') : channel.exit(code ?? 255))));
  }
}

/**
 * A new ed25519 host key. ssh2 1.17's generator writes about one key in 250
 * that its own parser rejects ("Malformed OpenSSH private key": a 31-byte
 * public key, its leading zero byte dropped), so a key is made until one
 * parses; ten tries all failing would be a broken ssh2, and is said so.
 */
function freshHostKey(): { private: string; publicSsh: Buffer } {
  let last: Error | null = null;
  for (let i = 0; i < 10; i++) {
    const pair = sshUtils.generateKeyPairSync('ed25519');
    const parsed = sshUtils.parseKey(pair.private);
    if (!(parsed instanceof Error)) return { private: pair.private, publicSsh: parsed.getPublicSSH() };
    last = parsed;
  }
  throw new Error(`could not make a host key for This machine: ${last?.message ?? 'unknown'}`);
}

/** A terminal dimension as a whole number of cells (1-10000), else `fallback`: it goes into a command. */
function cells(n: number, fallback: number): number {
  return Number.isInteger(n) && n >= 1 && n <= 10_000 ? n : fallback;
}
