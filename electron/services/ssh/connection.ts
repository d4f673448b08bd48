/**
 * The ONE place an ssh2 `Client` is created and connected. Every connection
 * (direct, each ProxyJump hop, reconnects) goes through `openClient`, which
 * always installs our known_hosts `hostVerifier`: ssh2 accepts any host key
 * when none is given, and that path must not exist here. A test greps this
 * directory for any other place that creates or connects a Client.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { Client, type ClientChannel, type ConnectConfig, type PseudoTtyOptions, type SFTPWrapper } from 'ssh2';
import type { ExecResult, HostKeyVerdict, SshEndpoint, SshTarget, UnknownKeyDecision } from '../../../shared/contract/ssh';
import { makeAuthHandler, type AuthState, type PromptFn } from './auth';
import { KnownHostsFile, checkHostKey, preferredKeyTypes } from './known-hosts';

export interface HostKeyPolicy {
  knownHosts: KnownHostsFile;
  /** Asked for unknown keys only; changed and revoked keys are refused without asking. */
  decideUnknown(verdict: HostKeyVerdict): Promise<UnknownKeyDecision>;
}

export interface ConnectOptions {
  target: SshTarget;
  hostKeys: HostKeyPolicy;
  prompt: PromptFn;
  /** Passwords already held in memory, by `user@host:port`. Never persisted. */
  passwords?: Map<string, string>;
  /** ssh-agent socket; default `SSH_AUTH_SOCK`; null disables. */
  agentSocket?: string | null;
  /** Default 10 s; 0 is not allowed (drops must be detected). */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  readyTimeoutMs?: number;
  /** Ask for passwords / keyboard-interactive answers. Default true (false for batch CLI use). */
  interactive?: boolean;
  /** Tries per passphrase / password / keyboard-interactive (OpenSSH: 3). */
  maxAttempts?: number;
}

export class HostKeyRejectedError extends Error {
  constructor(
    readonly verdict: HostKeyVerdict,
    /** The presented key, kept so the explicit replace path can use exactly this key. */
    readonly keyBlob: Buffer,
  ) {
    super(describeRejection(verdict));
    this.name = 'HostKeyRejectedError';
  }
}

export class SshAuthError extends Error {
  constructor(
    message: string,
    readonly problems: string[],
    readonly cancelled: boolean,
  ) {
    super(message);
    this.name = 'SshAuthError';
  }
}

export function describeRejection(v: HostKeyVerdict): string {
  switch (v.kind) {
    case 'changed':
      return (
        `REMOTE HOST IDENTIFICATION HAS CHANGED for ${v.lookupName}: it now presents ${v.keyType} ${v.fingerprint}, ` +
        `known_hosts has ${v.known.map((k) => `${k.fingerprint} (line ${k.line})`).join(', ')}. ` +
        'Someone could be intercepting the connection, or the node was rebuilt. ' +
        'Connection refused; replace the key only if you know why it changed.'
      );
    case 'revoked':
      return `the host key ${v.keyType} ${v.fingerprint} of ${v.lookupName} is marked @revoked (known_hosts line ${v.line}); connection refused`;
    case 'unknown':
      return `the host key ${v.keyType} ${v.fingerprint} of ${v.lookupName} is not known and was not accepted${v.notes.length ? ` (${v.notes.join('; ')})` : ''}`;
    case 'known':
      return `host key of ${v.lookupName} is known`;
  }
}

export function endpointKey(e: { user: string; host: string; port: number }): string {
  return `${e.user}@${e.host}:${e.port}`;
}

const RSA_ALGS = ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
/** ssh2's default host key algorithms (all supported here; ed25519 needs Node >= 12). */
const HOST_KEY_ALGS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', ...RSA_ALGS];

/** Known key types first, like OpenSSH, so a host known only by its rsa key is not asked for ed25519. */
function hostKeyAlgorithms(knownTypes: string[]): string[] | undefined {
  const first = knownTypes.flatMap((t) => (t === 'ssh-rsa' ? RSA_ALGS : [t])).filter((a) => HOST_KEY_ALGS.includes(a));
  if (first.length === 0) return undefined;
  return [...new Set([...first, ...HOST_KEY_ALGS])];
}

interface OpenedClient {
  client: Client;
  verdict: HostKeyVerdict;
}

/**
 * Connect one hop. `sock` is a forwarded channel from the previous hop.
 * The host key is checked against known_hosts under the name the user gave
 * (never a resolved address), as OpenSSH does.
 */
async function openClient(endpoint: SshEndpoint, opts: ConnectOptions, sock?: Duplex): Promise<OpenedClient> {
  const known = await opts.hostKeys.knownHosts.load();
  const hostKeyAlgs = hostKeyAlgorithms(preferredKeyTypes(known, endpoint.host, endpoint.port));
  const { handler, state } = makeAuthHandler({
    user: endpoint.user,
    host: endpoint.host,
    port: endpoint.port,
    agentSocket: opts.agentSocket,
    identityFiles: endpoint.identityFiles,
    password: opts.passwords?.get(endpointKey(endpoint)),
    interactive: opts.interactive,
    prompt: opts.prompt,
    maxAttempts: opts.maxAttempts,
  });
  const keepalive = opts.keepaliveIntervalMs ?? 10_000;
  if (!(keepalive > 0)) throw new Error('keepalive must be on (keepaliveIntervalMs > 0)');

  const client = new Client();
  let verdict: HostKeyVerdict | null = null;
  let rejectedKey: Buffer | null = null;
  let verifierError: Error | null = null;

  const config: ConnectConfig = {
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.user,
    sock,
    readyTimeout: opts.readyTimeoutMs ?? 20_000,
    keepaliveInterval: keepalive,
    keepaliveCountMax: opts.keepaliveCountMax ?? 3,
    authHandler: handler,
    algorithms: hostKeyAlgs ? { serverHostKey: hostKeyAlgs as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] } : undefined,
    hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
      void (async () => {
        // Re-read: another connection may have just added the key.
        const v = checkHostKey(await opts.hostKeys.knownHosts.load(), endpoint.host, endpoint.port, key);
        verdict = v;
        if (v.kind === 'known') return true;
        if (v.kind !== 'unknown') {
          rejectedKey = Buffer.from(key);
          return false;
        }
        const decision = await opts.hostKeys.decideUnknown(v);
        if (decision === 'accept-save') await opts.hostKeys.knownHosts.add(endpoint.host, endpoint.port, key);
        if (decision === 'reject') rejectedKey = Buffer.from(key);
        return decision !== 'reject';
      })().then(verify, (e: Error) => {
        verifierError = e;
        verify(false);
      });
    },
  };

  // A socket error after a failed handshake (EPIPE, ECONNRESET) must never be unhandled.
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      client.removeListener('ready', onReady);
      client.end();
      if (verifierError) return reject(verifierError);
      if (rejectedKey && verdict) return reject(new HostKeyRejectedError(verdict, rejectedKey));
      if ((err as Error & { level?: string }).level === 'client-authentication') {
        return reject(authError(endpoint, state));
      }
      if (state.attempts > 0) {
        // sshd hangs up after MaxAuthTries failures: still an authentication failure.
        state.problems.push(`server closed the connection (${err.message})`);
        return reject(authError(endpoint, state));
      }
      reject(new Error(`ssh ${endpointKey(endpoint)}: ${err.message}`));
    };
    const onReady = () => {
      client.removeListener('error', onError);
      resolve();
    };
    client.once('error', onError);
    client.once('ready', onReady);
    client.connect(config);
  });
  if (!verdict) {
    client.end();
    throw new Error('internal: connected without a host key verdict');
  }
  return { client, verdict };
}

function authError(endpoint: SshEndpoint, state: AuthState): SshAuthError {
  const why = state.problems.length ? `: ${state.problems.join('; ')}` : '';
  const msg = state.cancelled
    ? `authentication to ${endpointKey(endpoint)} cancelled${why}`
    : `authentication to ${endpointKey(endpoint)} failed (all methods tried)${why}`;
  return new SshAuthError(msg, state.problems, state.cancelled);
}

function forwardOut(client: Client, host: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => (err ? reject(new Error(`ProxyJump to ${host}:${port}: ${err.message}`)) : resolve(stream)));
  });
}

/** Emitted as `command` before an exec is sent, and `command-end` when it closed. */
export interface CommandEvent {
  id: string;
  text: string;
}
export interface CommandEndEvent {
  id: string;
  code: number | null;
  elapsedMs: number;
}

let commandSeq = 0;

export interface ExecOptions {
  /** Sent to stdin, then stdin is closed. */
  stdin?: string | Buffer;
  /** Cap on collected stdout+stderr bytes (default 16 MiB). */
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

/**
 * One live SSH connection (with its jump hops). Emits `dropped` (Error) when
 * the link dies without `close()`, and `closed` after `close()`.
 */
export class SshConnection extends EventEmitter {
  state: 'ready' | 'dropped' | 'closed' = 'ready';
  private sftpPromise: Promise<SFTPWrapper> | null = null;

  constructor(
    readonly target: SshTarget,
    readonly client: Client,
    /** Every hop's verdict, first hop first, target last. */
    readonly verdicts: HostKeyVerdict[],
    private readonly hops: Client[],
  ) {
    super();
    let lastError: Error | null = null;
    client.on('error', (e) => (lastError = e));
    client.on('close', () => {
      this.sftpPromise = null;
      if (this.state === 'ready') {
        this.state = 'dropped';
        this.emit('dropped', lastError ?? new Error('connection lost'));
      }
      for (const h of this.hops) h.end();
    });
  }

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const cap = opts.maxOutputBytes ?? 16 * 1024 * 1024;
    // Every command is announced before it is sent (the session log shows exactly what ran on the node).
    const id = `cmd-${++commandSeq}`;
    const startedAt = Date.now();
    this.emit('command', { id, text: command } satisfies CommandEvent);
    const ended = (code: number | null) => this.emit('command-end', { id, code, elapsedMs: Date.now() - startedAt } satisfies CommandEndEvent);
    return new Promise<ExecResult>((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) {
          ended(null);
          return reject(err);
        }
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let total = 0;
        let truncated = false;
        const take = (list: Buffer[]) => (d: Buffer) => {
          if (total + d.length > cap) {
            truncated = true;
            d = d.subarray(0, Math.max(0, cap - total));
          }
          total += d.length;
          if (d.length) list.push(d);
        };
        stream.on('data', take(out));
        stream.stderr.on('data', take(errOut));
        const onAbort = () => stream.close();
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        stream.on('close', (code: number | null, signal?: string) => {
          opts.signal?.removeEventListener('abort', onAbort);
          ended(code ?? null);
          resolve({
            code: code ?? null,
            signal: signal ?? null,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errOut).toString('utf8'),
            truncated,
          });
        });
        if (opts.stdin !== undefined) stream.end(opts.stdin);
      });
    });
  }

  sftp(): Promise<SFTPWrapper> {
    this.sftpPromise ??= new Promise<SFTPWrapper>((resolve, reject) => {
      this.client.sftp((err, sftp) => {
        if (err) {
          this.sftpPromise = null;
          return reject(err);
        }
        sftp.on('close', () => (this.sftpPromise = null));
        resolve(sftp);
      });
    });
    return this.sftpPromise;
  }

  shell(pty: PseudoTtyOptions): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      this.client.shell(pty, (err, stream) => (err ? reject(err) : resolve(stream)));
    });
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.client.end();
    for (const h of this.hops) h.end();
    this.emit('closed');
  }
}

/** Connect to `opts.target`, through its ProxyJump chain, verifying every hop's host key. */
export async function connectSsh(opts: ConnectOptions): Promise<SshConnection> {
  const hops: Client[] = [];
  const verdicts: HostKeyVerdict[] = [];
  const chain: SshEndpoint[] = [...(opts.target.jumps ?? []), opts.target];
  let sock: Duplex | undefined;
  try {
    for (let i = 0; i < chain.length; i++) {
      const { client, verdict } = await openClient(chain[i], opts, sock);
      verdicts.push(verdict);
      if (i === chain.length - 1) return new SshConnection(opts.target, client, verdicts, hops);
      hops.push(client);
      sock = await forwardOut(client, chain[i + 1].host, chain[i + 1].port);
    }
  } catch (e) {
    for (const h of hops) h.end();
    throw e;
  }
  throw new Error('internal: empty connection chain');
}

/** Errors worth retrying: the network, not the user's or the server's refusal. */
export function isTransientError(e: unknown): boolean {
  if (e instanceof HostKeyRejectedError || e instanceof SshAuthError) return false;
  const msg = (e as Error).message ?? '';
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|Timed out|timeout|connection lost|Connection lost/i.test(msg);
}

export interface BackoffOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  onRetry?(attempt: number, delayMs: number, error: Error): void;
}

/** Reconnect with exponential backoff; host-key and auth refusals are never retried. */
export async function connectWithBackoff(opts: ConnectOptions, backoff: BackoffOptions = {}): Promise<SshConnection> {
  const attempts = backoff.attempts ?? 6;
  let delay = backoff.baseDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectSsh(opts);
    } catch (e) {
      if (attempt >= attempts || !isTransientError(e) || backoff.signal?.aborted) throw e;
      backoff.onRetry?.(attempt, delay, e as Error);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, backoff.maxDelayMs ?? 15_000);
    }
  }
}

export class SudoError extends Error {}

/**
 * Run a command as root through `sudo -S`. The password (asked once through
 * `prompt` when sudo wants one, then held in `session` memory only) goes to
 * sudo's stdin, never onto a command line or disk. `-p ''` keeps sudo's own
 * prompt out of stderr; passwordless sudo works without asking (`-n` probe).
 */
export async function runSudo(
  conn: SshConnection,
  command: string,
  session: { password?: string; prompt: PromptFn; user: string; host: string },
): Promise<ExecResult> {
  const quoted = `sh -c ${shellQuote(command)}`;
  const probe = await conn.exec(`sudo -n true`);
  if (probe.code === 0) return conn.exec(`sudo -n ${quoted}`);
  if (/command not found|not found/i.test(probe.stderr)) throw new SudoError('sudo is not installed on the node');
  for (let attempt = 1; attempt <= 3; attempt++) {
    if (session.password === undefined) {
      const answer = await session.prompt({ kind: 'sudo', user: session.user, host: session.host, attempt });
      if (answer === null) throw new SudoError('sudo password cancelled by the user');
      session.password = answer[0] ?? '';
    }
    // `-k` ignores cached credentials so a wrong password is detected now.
    const res = await conn.exec(`sudo -S -k -p '' ${quoted}`, { stdin: session.password + '\n' });
    if (res.code === 1 && /incorrect password|Sorry, try again|no password was provided/i.test(res.stderr)) {
      session.password = undefined;
      continue;
    }
    return res;
  }
  throw new SudoError('sudo: 3 incorrect password attempts');
}

/** POSIX single-quote quoting for remote shell commands. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
