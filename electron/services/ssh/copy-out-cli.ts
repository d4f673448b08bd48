/**
 * `lifeboat copy-out [user@]host:PATH --to DIR [--port N] [--identity FILE]
 *   [--known-hosts FILE] [--accept-new] [--force] [--json]`
 *
 * Exit codes: 0 copied and every hash matches; 1 copied but hashes differ;
 * 2 usage; 3 host key refused; 4 authentication failed; 5 directory is being
 * written; 6 other failure (a resumable failure says so: run again).
 * Host keys like `StrictHostKeyChecking`: unknown keys are refused unless
 * `--accept-new` (then saved); a changed or revoked key is always refused.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { CopyOutResult } from '../../../shared/contract/ssh';
import type { PromptFn } from './auth';
import { HostKeyRejectedError, SshAuthError, connectSsh } from './connection';
import { CopyOutError, DirectoryChangingError, copyOut } from './copy-out';
import { KnownHostsFile } from './known-hosts';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Secrets from a TTY; undefined when not interactive. */
  askSecret?: (question: string) => Promise<string | null>;
}

const USAGE =
  'usage: lifeboat copy-out [user@]host:PATH --to DIR [--port N] [--identity FILE] [--known-hosts FILE] [--accept-new] [--force] [--json]';

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
  json: boolean;
}

export function parseCopyOutArgs(argv: string[]): Args | string {
  let spec: string | undefined;
  const a: Partial<Args> & { identity: string[] } = { identity: [], acceptNew: false, force: false, json: false };
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
    const result: CopyOutResult = await copyOut({
      conn,
      remotePath: args.remotePath,
      localDir: args.to,
      force: args.force,
      onProgress: (p) => {
        if (args.json || Date.now() - last < 1000) return;
        last = Date.now();
        const eta = p.etaSeconds === null ? '' : `, ETA ${p.etaSeconds}s`;
        out.stderr(`${p.phase}: ${human(p.bytesDone)} / ${human(p.bytesTotal)} (${human(p.bytesPerSecond)}/s${eta})\n`);
      },
    });
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
