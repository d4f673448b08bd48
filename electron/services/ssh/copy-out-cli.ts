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
import type { CopyOutProgress, CopyOutResult, CopyTransport } from '../../../shared/contract/ssh';
import { cliConnect, cliSudo, processCliIo, type CliIo } from './cli-connect';
import { CopyOutError, DirectoryChangingError, copyOut } from './copy-out';
import { sudoCopyOut } from './sudo-copy';

export type { CliIo } from './cli-connect';
const USAGE =
  'usage: lifeboat copy-out [user@]host:PATH --to DIR [--port N] [--identity FILE] [--known-hosts FILE] [--accept-new] [--force] [--sudo] [--json]\n' +
  '  --sudo  read a root-only directory as root (read-only commands): logged in as root, no sudo; else through sudo, whose password is asked\n' +
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
      case '--to':
        a.to = value();
        break;
      case '--port':
        a.port = Number(value());
        break;
      case '--identity':
      case '-i': {
        const v = value();
        if (v) a.identity.push(v);
        break;
      }
      case '--known-hosts':
        a.knownHosts = value();
        break;
      case '--accept-new':
        a.acceptNew = true;
        break;
      case '--force':
        a.force = true;
        break;
      case '--json':
        a.json = true;
        break;
      case '--sudo':
        a.sudo = true;
        break;
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

/** How the bytes travel, as the CLI says it (the UI says it from the catalog: ssh.copy.transport.*). */
const TRANSPORT_TEXT: Record<CopyTransport, string> = {
  exec: 'cat through an SSH channel (read-only; SHA-256 on the node)',
  sftp: 'SFTP: this account cannot run commands (SFTP only), so the node cannot compute SHA-256 and the copy is not verified against it',
  sudo: 'cat as root through sudo',
  root: 'cat as root (logged in as root: no sudo)',
};

function human(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

export async function copyOutCommand(argv: string[], io?: CliIo): Promise<number> {
  const out = io ?? processCliIo();
  const args = parseCopyOutArgs(argv);
  if (typeof args === 'string') {
    out.stderr(`${args}\n${USAGE}\n`);
    return 2;
  }
  const conn = await cliConnect(args, out);
  if (typeof conn === 'number') return conn;
  try {
    let last = 0;
    let told = false;
    const options = {
      remotePath: args.remotePath,
      localDir: args.to,
      force: args.force,
      onProgress: (p: CopyOutProgress) => {
        if (args.json) return;
        if (!told && p.transport !== 'sudo' && p.transport !== 'root') {
          // The copy decides once it knows whether this account runs commands: say which way the bytes come.
          told = true;
          out.stderr(`reading ${args.remotePath} as ${args.user}: ${TRANSPORT_TEXT[p.transport]}\n`);
        }
        if (Date.now() - last < 1000) return;
        last = Date.now();
        const eta = p.etaSeconds === null ? '' : `, ETA ${p.etaSeconds}s`;
        out.stderr(`${p.phase} (${p.transport}): ${human(p.bytesDone)} / ${human(p.bytesTotal)} (${human(p.bytesPerSecond)}/s${eta})\n`);
      },
    };
    let result: CopyOutResult;
    if (args.sudo) {
      const sudo = await cliSudo(conn, args, out);
      if (typeof sudo === 'number') return sudo;
      const how = sudo.known === 'root' ? 'logged in as root: no sudo needed' : 'through sudo';
      if (!args.json) out.stderr(`reading ${args.remotePath} as root, ${how} (read-only: date, find, sha256sum, cat, tail)\n`);
      result = await sudoCopyOut({ ...options, sudo });
    } else {
      result = await copyOut({ ...options, conn });
    }
    if (args.json) out.stdout(JSON.stringify(result, null, 2) + '\n');
    else {
      for (const f of result.files)
        out.stdout(`${f.match ? 'OK      ' : f.remoteSha256 === null ? 'NO-NODE ' : 'MISMATCH'} ${f.localSha256 ?? '-'}  ${f.path}\n`);
      const unverified = result.files.filter((f) => f.remoteSha256 === null).length;
      const verdict = result.allMatch
        ? 'every SHA-256 matches the node'
        : unverified === result.files.length
          ? 'NOT VERIFIED: the node computed no SHA-256 (SFTP-only account); compare the SHA-256 above with sha256sum run on the node'
          : 'SOME HASHES DIFFER FROM THE NODE';
      out.stdout(
        `${result.files.length} files, ${human(result.bytes)} copied to ${result.localPath} in ${(result.elapsedMs / 1000).toFixed(1)} s; ` +
          `${verdict}; manifest ${result.manifestPath}\n`,
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
