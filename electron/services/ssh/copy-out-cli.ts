/**
 * `lifeboat copy-out [user@]host:PATH --to DIR [--port N] [--identity FILE]
 *   [--known-hosts FILE] [--accept-new] [--force] [--sudo] [--json]`
 *
 * `--sudo` reads a root-only directory (MicroK8s `backend/`, `/var/lib/etcd`)
 * as root through sudo with read-only commands (see sudo-copy.ts) instead of
 * SFTP. When sudo wants a password it is asked on the terminal without echo;
 * when stdin is not a terminal, the first line of stdin is the password
 * (`printf '%s\n' "$PW" | lifeboat copy-out … --sudo`). It never goes into
 * argv, the environment or any output, and is held in memory only.
 *
 * Exit codes: 0 copied and every hash matches; 1 copied but hashes differ;
 * 2 usage; 3 host key refused; 4 authentication (or sudo) failed; 5 directory is being
 * written; 6 other failure (a resumable failure says so: run again).
 * Host keys like `StrictHostKeyChecking`: unknown keys are refused unless
 * `--accept-new` (then saved); a changed or revoked key is always refused.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { CopyOutProgress, CopyOutResult } from '../../../shared/contract/ssh';
import type { PromptFn } from './auth';
import { HostKeyRejectedError, SshAuthError, SudoError, SudoRunner, connectSsh } from './connection';
import { CopyOutError, DirectoryChangingError, copyOut } from './copy-out';
import { KnownHostsFile } from './known-hosts';
import { sudoCopyOut } from './sudo-copy';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Secrets from a TTY; undefined when not interactive. */
  askSecret?: (question: string) => Promise<string | null>;
  /**
   * The sudo password for `--sudo` (asked only when sudo wants one): the TTY
   * without echo, else the first line of stdin; null when there is none.
   */
  askSudoPassword?: (question: string) => Promise<string | null>;
}

const USAGE =
  'usage: lifeboat copy-out [user@]host:PATH --to DIR [--port N] [--identity FILE] [--known-hosts FILE] [--accept-new] [--force] [--sudo] [--json]\n' +
  '  --sudo  read a root-only directory as root through sudo (read-only commands); the sudo password is asked\n' +
  '          on the terminal without echo, or read from the first line of stdin when stdin is not a terminal';

interface Args {
  user: string;
  host: string;
  remotePath: string;
  to: string;
  port: number;
  identity: string[];
  knownHosts: string;
  acceptNew: boolean;
  force: boolean;
  sudo: boolean;
  json: boolean;
}

export function parseCopyOutArgs(argv: string[]): Args | string {
  let spec: string | undefined;
  const a: Partial<Args> & { identity: string[] } = { identity: [], acceptNew: false, force: false, sudo: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string | undefined => argv[++i];
    switch (arg) {
      case '--to': a.to = value(); break;
      case '--port': a.port = Number(value()); break;
      case '--identity': case '-i': { const v = value(); if (v) a.identity.push(v); break; }
      case '--known-hosts': a.knownHosts = value(); break;
      case '--accept-new': a.acceptNew = true; break;
      case '--force': a.force = true; break;
      case '--json': a.json = true; break;
      case '--sudo': a.sudo = true; break;
      default:
        if (arg.startsWith('-')) return `unknown option ${arg}`;
        if (spec) return `unexpected argument ${arg}`;
        spec = arg;
    }
  }
  if (!spec) return 'missing [user@]host:PATH';
  if (!a.to) return 'missing --to DIR';
  // [user@]host:PATH, host may be [v6]
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+):(.+)$/.exec(spec);
  if (!m) return `not [user@]host:PATH: ${spec}`;
  const port = a.port ?? 22;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return 'bad --port';
  return {
    user: m[1] ?? os.userInfo().username,
    host: m[2].replace(/^\[(.*)\]$/, '$1'),
    remotePath: m[3],
    to: a.to,
    port,
    identity: a.identity,
    knownHosts: a.knownHosts ?? path.join(os.homedir(), '.ssh', 'known_hosts'),
    acceptNew: a.acceptNew ?? false,
    force: a.force ?? false,
    sudo: a.sudo ?? false,
    json: a.json ?? false,
  };
}

function ttyAskSecret(question: string): Promise<string | null> {
  if (!process.stdin.isTTY) return Promise.resolve(null);
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    // Do not echo the secret.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.includes(question)) process.stderr.write(s);
    };
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    rl.on('SIGINT', () => (rl.close(), resolve(null)));
  });
}

/** The first line of a non-terminal stdin (without its newline); null at EOF with nothing read. */
function stdinFirstLine(): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (line: string | null) => {
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
      process.stdin.pause();
      resolve(line);
    };
    const onData = (d: Buffer) => {
      chunks.push(d);
      size += d.length;
      const all = Buffer.concat(chunks);
      const nl = all.indexOf(0x0a);
      if (nl >= 0) done(all.subarray(0, nl).toString('utf8').replace(/\r$/, ''));
      else if (size > 64 * 1024) done(null); // not a password
    };
    const onEnd = () => done(size > 0 ? Buffer.concat(chunks).toString('utf8').replace(/\r?\n?$/, '') : null);
    process.stdin.on('data', onData);
    process.stdin.once('end', onEnd);
    process.stdin.resume();
  });
}

/** The TTY (no echo, asked again after a wrong one), or stdin's first line once per command (a wrong one is not retried). */
function sudoPasswordAsker(): (question: string) => Promise<string | null> {
  let stdinPasswordRead = false;
  return (question) => {
    if (process.stdin.isTTY) return ttyAskSecret(question);
    if (stdinPasswordRead) return Promise.resolve(null);
    stdinPasswordRead = true;
    return stdinFirstLine();
  };
}

function human(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) (n /= 1024), i++;
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

export async function copyOutCommand(argv: string[], io?: CliIo): Promise<number> {
  const out = io ?? {
    stdout: (s: string) => void process.stdout.write(s),
    stderr: (s: string) => void process.stderr.write(s),
    askSecret: ttyAskSecret,
    askSudoPassword: sudoPasswordAsker(),
  };
  const args = parseCopyOutArgs(argv);
  if (typeof args === 'string') {
    out.stderr(`${args}\n${USAGE}\n`);
    return 2;
  }
  const prompt: PromptFn = async (p) => {
    if (!out.askSecret) return null;
    if (p.kind === 'passphrase') {
      const a = await out.askSecret(`${p.lastError ? `${p.lastError}. ` : ''}Passphrase for ${p.keyFile}: `);
      return a === null ? null : [a];
    }
    if (p.kind === 'password') {
      const a = await out.askSecret(`${p.user}@${p.host}'s password: `);
      return a === null ? null : [a];
    }
    if (p.kind === 'keyboard-interactive') {
      const answers: string[] = [];
      for (const q of p.prompts) {
        const a = await out.askSecret(q.prompt);
        if (a === null) return null;
        answers.push(a);
      }
      return answers;
    }
    return null;
  };
  const knownHosts = new KnownHostsFile(args.knownHosts, { hashNewEntries: false });
  let conn;
  try {
    conn = await connectSsh({
      target: { host: args.host, port: args.port, user: args.user, identityFiles: args.identity },
      hostKeys: {
        knownHosts,
        decideUnknown: async (v) => {
          if (!args.acceptNew) return 'reject';
          out.stderr(`Warning: permanently added ${v.lookupName} (${v.keyType} ${v.fingerprint}) to ${args.knownHosts}\n`);
          return 'accept-save';
        },
      },
      prompt,
      interactive: out.askSecret !== undefined,
    });
  } catch (e) {
    if (e instanceof HostKeyRejectedError) {
      const hint = e.verdict.kind === 'unknown' ? ' (use --accept-new to trust it)' : '';
      out.stderr(`host key refused: ${e.message}${hint}\n`);
      return 3;
    }
    if (e instanceof SshAuthError) {
      out.stderr(`${e.message}\n`);
      return 4;
    }
    out.stderr(`${(e as Error).message}\n`);
    return 6;
  }
  try {
    let last = 0;
    const options = {
      remotePath: args.remotePath,
      localDir: args.to,
      force: args.force,
      onProgress: (p: CopyOutProgress) => {
        if (args.json || Date.now() - last < 1000) return;
        last = Date.now();
        const eta = p.etaSeconds === null ? '' : `, ETA ${p.etaSeconds}s`;
        out.stderr(`${p.phase}: ${human(p.bytesDone)} / ${human(p.bytesTotal)} (${human(p.bytesPerSecond)}/s${eta})\n`);
      },
    };
    let result: CopyOutResult;
    if (args.sudo) {
      const ask = out.askSudoPassword;
      let refused = false;
      const sudo = new SudoRunner(conn, {
        user: args.user,
        host: args.host,
        prompt: async (p) => {
          if (!ask || p.kind !== 'sudo') return null;
          refused ||= p.attempt > 1;
          const a = await ask(`${p.attempt > 1 ? 'Sorry, try again.\n' : ''}[sudo] password for ${p.user}@${p.host}: `);
          return a === null ? null : [a];
        },
      });
      try {
        await sudo.ready();
      } catch (e) {
        // A password from stdin is read once: after a refusal there is no second one to try.
        const why = refused && /cancelled/.test((e as Error).message) ? `sudo on ${args.host} did not accept the password` : (e as Error).message;
        out.stderr(`${e instanceof SudoError ? 'sudo: ' : ''}${why}\n`);
        return 4;
      }
      if (!args.json) out.stderr(`reading ${args.remotePath} as root through sudo (read-only: find, sha256sum, cat, tail)\n`);
      result = await sudoCopyOut({ ...options, sudo });
    } else {
      result = await copyOut({ ...options, conn });
    }
    if (args.json) out.stdout(JSON.stringify(result, null, 2) + '\n');
    else {
      for (const f of result.files) out.stdout(`${f.match ? 'OK      ' : 'MISMATCH'} ${f.localSha256 ?? '-'}  ${f.path}\n`);
      out.stdout(
        `${result.files.length} files, ${human(result.bytes)} copied to ${result.localPath} in ${(result.elapsedMs / 1000).toFixed(1)} s; ` +
          `${result.allMatch ? 'every SHA-256 matches the node' : 'SOME HASHES DIFFER FROM THE NODE'}; manifest ${result.manifestPath}\n`,
      );
    }
    return result.allMatch ? 0 : 1;
  } catch (e) {
    if (e instanceof DirectoryChangingError) {
      out.stderr(`${e.message}\n`);
      return 5;
    }
    const resumable = e instanceof CopyOutError && e.resumable;
    out.stderr(`${(e as Error).message}${resumable ? ' (run the same command again to resume)' : ''}\n`);
    return 6;
  } finally {
    conn.close();
  }
}
