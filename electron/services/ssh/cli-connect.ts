/**
 * What the SSH commands of the CLI (`copy-out`, `detect`) share: asking for
 * secrets on the terminal without echo (or the sudo password from the first
 * line of stdin), connecting with OpenSSH-strict host keys (`--accept-new`
 * to trust an unknown key, a changed or revoked key always refused), and
 * sudo through one SudoRunner. Errors map to the CLI's exit codes:
 * 3 host key refused, 4 authentication or sudo failed, 6 other failure.
 */
import type { PromptFn } from './auth';
import { HostKeyRejectedError, SshAuthError, SudoError, SudoRunner, connectSsh, type SshConnection } from './connection';
import { KnownHostsFile } from './known-hosts';
import * as readline from 'node:readline';

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

/** Where and how to connect (the parsed command line). */
export interface CliTarget {
  user: string;
  host: string;
  port: number;
  identity: string[];
  knownHosts: string;
  acceptNew: boolean;
  /** "This machine" (`--this-machine`): commands run here as this user, through the in-process server; no SSH. */
  local?: boolean;
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
    const onEnd = () =>
      done(
        size > 0
          ? Buffer.concat(chunks)
              .toString('utf8')
              .replace(/\r?\n?$/, '')
          : null,
      );
    process.stdin.on('data', onData);
    process.stdin.once('end', onEnd);
    process.stdin.resume();
  });
}

/** The TTY (no echo, asked again after a wrong one), or stdin's first line once (a wrong one is not retried). */
function sudoPasswordAsker(): (question: string) => Promise<string | null> {
  let stdinPasswordRead = false;
  return (question: string) => {
    if (process.stdin.isTTY) return ttyAskSecret(question);
    if (stdinPasswordRead) return Promise.resolve(null);
    stdinPasswordRead = true;
    return stdinFirstLine();
  };
}

/** The CLI's real terminal: stdout, stderr, secrets without echo. */
export function processCliIo(): CliIo {
  return {
    stdout: (s: string) => void process.stdout.write(s),
    stderr: (s: string) => void process.stderr.write(s),
    askSecret: ttyAskSecret,
    askSudoPassword: sudoPasswordAsker(),
  };
}

/** Connect for a CLI command; a number is the exit code to return (the reason is already on stderr). */
export async function cliConnect(args: CliTarget, out: CliIo): Promise<SshConnection | number> {
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
  try {
    return await connectSsh({
      target: args.local
        ? { local: true, host: 'localhost', port: 0, user: args.user }
        : { host: args.host, port: args.port, user: args.user, identityFiles: args.identity },
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
}

/** sudo on that connection, asked for its password once; a number is the exit code (4). */
export async function cliSudo(conn: SshConnection, args: { user: string; host: string }, out: CliIo): Promise<SudoRunner | number> {
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
    return sudo;
  } catch (e) {
    // A password from stdin is read once: after a refusal there is no second one to try.
    const why = refused && /cancelled/.test((e as Error).message) ? `sudo on ${args.host} did not accept the password` : (e as Error).message;
    out.stderr(`${e instanceof SudoError ? 'sudo: ' : ''}${why}\n`);
    return 4;
  }
}
