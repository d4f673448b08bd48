/**
 * The ONE place an ssh2 `Client` is created and connected. Every connection
 * (direct, each ProxyJump hop, reconnects) goes through `openClient`, which
 * always installs our known_hosts `hostVerifier`: ssh2 accepts any host key
 * when none is given, and that path must not exist here. A test greps this
 * directory for any other place that creates or connects a Client.
 */
import type { ErrorText } from '../../../shared/contract/error-text';
import { translate, type MessageParams } from '../../../shared/i18n';
import type { SshStringKey } from '../../../shared/i18n/ssh';
import { describeConnectError, SshNetworkError, SshTextError } from './network-error';
import { errorTextOf } from '../api-error';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { Client, type ClientChannel, type ConnectConfig, type PseudoTtyOptions, type SFTPWrapper } from 'ssh2';
import type { ExecResult, HostKeyVerdict, SshEndpoint, SshTarget, UnknownKeyDecision } from '../../../shared/contract/ssh';
import { makeAuthHandler, type AuthState, type PromptFn } from './auth';
import { KnownHostsFile, checkHostKey, fingerprintSha256, keyTypeOfBlob, preferredKeyTypes } from './known-hosts';
import { LocalServer, SFTP_SERVER_PATHS, type LocalServerOptions } from './local-server';
import { rootShellCommand } from '../../../shared/node/run-tag';

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
  /** Sessions for "This machine" (`target.local`): the in-process server's options (tests point it elsewhere). */
  local?: LocalServerOptions;
}

export class HostKeyRejectedError extends Error {
  constructor(
    readonly verdict: HostKeyVerdict,
    /** The presented key, kept so the explicit replace path can use exactly this key. */
    readonly keyBlob: Buffer,
  ) {
    super(describeRejection(verdict));
    this.name = 'HostKeyRejectedError';
    // For the UI: the refusal in its language (the English message above keeps every detail for logs).
    if (verdict.kind === 'changed')
      this.text = { key: 'ssh.hostkey.changed.body', params: { host: verdict.lookupName, keyType: verdict.keyType, fingerprint: verdict.fingerprint } };
    else if (verdict.kind === 'revoked') this.text = { key: 'ssh.hostkey.revoked', params: { host: verdict.lookupName } };
    else if (verdict.kind === 'unknown')
      this.text = { key: 'ssh.hostkey.unknownRefused', params: { host: verdict.lookupName, keyType: verdict.keyType, fingerprint: verdict.fingerprint } };
  }
  readonly text?: ErrorText;
}

export class SshAuthError extends Error {
  constructor(
    message: string,
    readonly problems: string[],
    readonly cancelled: boolean,
    /** For the UI: what happened and what to check, in its language (the message keeps every detail for logs). */
    readonly text?: ErrorText,
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
  // Port 0 is "This machine" (no port at all): `root@localhost`.
  if (e.port === 0) return `${e.user}@${e.host}`;
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

/** A one-shot timeout that can be paused (and resumed with at least `minAfterResumeMs` left). */
class PausableTimer {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private startedAt = 0;
  private onFire: (() => void) | null = null;
  private paused = 0;

  constructor(
    private remainingMs: number,
    private readonly minAfterResumeMs = 10_000,
  ) {}

  start(onFire: () => void): void {
    this.onFire = onFire;
    this.arm();
  }

  private arm(): void {
    if (!this.onFire || this.timer || this.paused > 0 || !(this.remainingMs > 0)) return;
    this.startedAt = Date.now();
    const fire = this.onFire;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onFire = null;
      fire();
    }, this.remainingMs);
  }

  pause(): void {
    this.paused++;
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.remainingMs -= Date.now() - this.startedAt;
  }

  resume(): void {
    if (this.paused === 0) return;
    this.paused--;
    if (this.paused === 0) {
      this.remainingMs = Math.max(this.remainingMs, this.minAfterResumeMs);
      this.arm();
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.onFire = null;
  }
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
async function openClient(endpoint: SshEndpoint, opts: ConnectOptions, sock?: Duplex, pinned?: Buffer): Promise<OpenedClient> {
  const hostKeyAlgs = pinned ? undefined : hostKeyAlgorithms(preferredKeyTypes(await opts.hostKeys.knownHosts.load(), endpoint.host, endpoint.port));
  // The handshake timeout stops counting while the user reads a prompt (a
  // fingerprint to compare, a password to find): only the network is timed.
  const readyTimer = new PausableTimer(opts.readyTimeoutMs ?? 20_000);
  const whilePrompting = async <T>(ask: () => Promise<T>): Promise<T> => {
    readyTimer.pause();
    try {
      return await ask();
    } finally {
      readyTimer.resume();
    }
  };
  const { handler, state } = makeAuthHandler({
    user: endpoint.user,
    host: endpoint.host,
    port: endpoint.port,
    agentSocket: pinned ? null : opts.agentSocket,
    identityFiles: pinned ? undefined : endpoint.identityFiles,
    noneOnly: !!pinned,
    password: opts.passwords?.get(endpointKey(endpoint)),
    interactive: opts.interactive,
    prompt: (request) => whilePrompting(() => opts.prompt(request)),
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
    // Ours instead (readyTimer): ssh2's own cannot be paused for prompts.
    readyTimeout: 0,
    keepaliveInterval: keepalive,
    keepaliveCountMax: opts.keepaliveCountMax ?? 3,
    authHandler: handler,
    algorithms: hostKeyAlgs ? { serverHostKey: hostKeyAlgs as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] } : undefined,
    hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
      void (async () => {
        if (pinned) {
          // "This machine": the in-process server's key, made for this connection alone; any other key is refused.
          verdict = pinnedVerdict(endpoint, key);
          if (key.equals(pinned)) return true;
          rejectedKey = Buffer.from(key);
          return false;
        }
        // Re-read: another connection may have just added the key.
        const v = checkHostKey(await opts.hostKeys.knownHosts.load(), endpoint.host, endpoint.port, key);
        verdict = v;
        if (v.kind === 'known') return true;
        if (v.kind !== 'unknown') {
          rejectedKey = Buffer.from(key);
          return false;
        }
        const decision = await whilePrompting(() => opts.hostKeys.decideUnknown(v));
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
      // A stalled network is not a refusal, even after some authentication requests.
      const where = { host: endpoint.host, port: endpoint.port };
      if ((err as Error & { level?: string }).level === 'client-timeout') {
        const described = describeConnectError(err, where, opts.readyTimeoutMs ?? 20_000);
        return reject(described instanceof Error ? described : err);
      }
      if ((err as Error & { level?: string }).level === 'client-authentication') {
        return reject(authError(endpoint, state));
      }
      if (state.attempts > 0) {
        // sshd hangs up after MaxAuthTries failures: still an authentication failure.
        state.problems.push(`server closed the connection (${err.message})`);
        state.serverClosed = true;
        return reject(authError(endpoint, state));
      }
      const described = describeConnectError(err, where);
      reject(
        described instanceof SshNetworkError ? described : new SshTextError('ssh.error.connectFailed', { target: endpointKey(endpoint), error: err.message }),
      );
    };
    const onReady = () => {
      readyTimer.stop();
      client.removeListener('error', onError);
      resolve();
    };
    client.once('error', onError);
    client.once('ready', onReady);
    readyTimer.start(() => {
      const err = new Error('Timed out while waiting for handshake') as Error & { level?: string };
      err.level = 'client-timeout';
      client.emit('error', err);
      client.destroy();
      sock?.destroy();
    });
    client.connect(config);
  }).finally(() => readyTimer.stop());
  if (!verdict) {
    client.end();
    throw new Error('internal: connected without a host key verdict');
  }
  return { client, verdict };
}

/** Why a live connection dropped, in the UI's language: the network's reason when it is one we name, else ssh2's own words quoted. */
function droppedText(e: Error): ErrorText {
  const own = errorTextOf(e);
  if (own) return own;
  return { key: 'ssh.error.droppedWith', params: { error: e.message } };
}

function authError(endpoint: SshEndpoint, state: AuthState): SshAuthError {
  const why = state.problems.length ? `: ${state.problems.join('; ')}` : '';
  const msg = state.cancelled
    ? `authentication to ${endpointKey(endpoint)} cancelled${why}`
    : `authentication to ${endpointKey(endpoint)} failed (all methods tried)${why}`;
  return new SshAuthError(msg, state.problems, state.cancelled, authErrorText(endpoint, state));
}

/** The one sentence the UI shows for a refused login: cancelled, cut off by the server, unusable key files, or plain refusal. */
function authErrorText(endpoint: SshEndpoint, state: AuthState): ErrorText {
  const target = endpointKey(endpoint);
  if (state.cancelled) return { key: 'ssh.error.authCancelled', params: { target } };
  if (state.serverClosed) return { key: 'ssh.error.authServerClosed', params: { target, attempts: state.attempts } };
  if (state.unusableKeys.length > 0) return { key: 'ssh.error.authKeyFiles', params: { target, files: state.unusableKeys.join(', ') } };
  return { key: 'ssh.error.authRefused', params: { target, user: endpoint.user } };
}

function forwardOut(client: Client, host: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, host, port, (err, stream) =>
      err ? reject(new SshTextError('ssh.error.jumpForward', { host, port, error: err.message })) : resolve(stream),
    );
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

export interface ExecOptions {
  /** Sent to stdin, then stdin is closed. */
  stdin?: string | Buffer;
  /** Cap on collected stdout+stderr bytes (default 16 MiB). */
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

export interface ExecStreamOptions {
  /** Sent to stdin, then stdin is closed (it is closed in any case). */
  stdin?: string | Buffer;
  /** Cap on collected stderr bytes (default 64 KiB). */
  maxStderrBytes?: number;
  /** Closes the channel. */
  signal?: AbortSignal;
}

export interface ExecStreamEnd {
  /** null when there was no exit status (the link died, or the channel was closed first). */
  code: number | null;
  signal: string | null;
  stderr: string;
}

export interface ExecStream {
  stdout: ClientChannel;
  done: Promise<ExecStreamEnd>;
}

/**
 * One live SSH connection (with its jump hops). Emits `dropped` (Error) when
 * the link dies without `close()`, `closed` after `close()`, and
 * `login-privilege` (boolean: the login is root) once `loginIsRoot` learned it.
 */
export class SshConnection extends EventEmitter {
  state: 'ready' | 'dropped' | 'closed' = 'ready';
  private sftpPromise: Promise<SFTPWrapper> | null = null;
  private loginRoot: Promise<boolean> | null = null;

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
        // The same error, with a catalog text beside its English message for the UI.
        this.emit('dropped', lastError ? Object.assign(lastError, { text: droppedText(lastError) }) : new SshTextError('ssh.error.connectionLost'));
      }
      for (const h of this.hops) h.end();
    });
  }

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const cap = opts.maxOutputBytes ?? 16 * 1024 * 1024;
    // Every command is announced before it is sent (the session log shows exactly what ran on the node).
    const id = `cmd-${randomUUID()}`;
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
        onChannelEnd(stream, opts.signal, (code, signal) => {
          ended(code);
          resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8'), truncated });
        });
        if (opts.stdin !== undefined) stream.end(opts.stdin);
      });
    });
  }

  /**
   * Run a command whose stdout is file contents (too big or too binary to
   * collect): `stdout` is the channel itself. Announced like `exec`. The
   * caller must read stdout to its end (or `resume()` it to discard the rest):
   * ssh2 stops granting window while it is not read, which is the
   * backpressure, and `done` settles only after the end was read.
   */
  execStream(command: string, opts: ExecStreamOptions = {}): Promise<ExecStream> {
    const id = `cmd-${randomUUID()}`;
    const startedAt = Date.now();
    this.emit('command', { id, text: command } satisfies CommandEvent);
    let endAnnounced = false;
    const ended = (code: number | null) => {
      if (endAnnounced) return;
      endAnnounced = true;
      this.emit('command-end', { id, code, elapsedMs: Date.now() - startedAt } satisfies CommandEndEvent);
    };
    const cap = opts.maxStderrBytes ?? 64 * 1024;
    return new Promise<ExecStream>((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) {
          ended(null);
          return reject(err);
        }
        const errOut: Buffer[] = [];
        let errBytes = 0;
        stream.stderr.on('data', (d: Buffer) => {
          const part = d.subarray(0, Math.max(0, cap - errBytes));
          errBytes += part.length;
          if (part.length) errOut.push(part);
        });
        const done = new Promise<ExecStreamEnd>((settle) =>
          onChannelEnd(stream, opts.signal, (code, signal) => {
            ended(code);
            settle({ code, signal, stderr: Buffer.concat(errOut).toString('utf8') });
          }),
        );
        // stdin is always closed: nothing run this way waits for input.
        stream.end(opts.stdin ?? '');
        resolve({ stdout: stream, done });
      });
    });
  }

  /**
   * Whether the login user is root (uid 0), learned once per connection with
   * ROOT_PROBE (read-only). Root runs a privileged command itself, so sudo is
   * neither probed nor needed (`privilegeOf`). A probe that fails or prints
   * anything but `0` means "not root": sudo is used as before.
   */
  loginIsRoot(): Promise<boolean> {
    this.loginRoot ??= this.exec(ROOT_PROBE)
      .then((r) => {
        if (r.code === null) throw new SshTextError('ssh.sudo.error.checkLost', { host: this.target.host });
        const root = r.code === 0 && /^0\n?$/.test(r.stdout);
        // Told once per connection, so the panels can say "as root" instead of offering sudo.
        this.emit('login-privilege', root);
        return root;
      })
      .catch((e: unknown) => {
        // A lost link is not an answer: the next use asks again.
        this.loginRoot = null;
        throw e;
      });
    return this.loginRoot;
  }

  sftp(): Promise<SFTPWrapper> {
    this.sftpPromise ??= new Promise<SFTPWrapper>((resolve, reject) => {
      this.client.sftp((err, sftp) => {
        if (err) {
          this.sftpPromise = null;
          return reject(this.sftpError(err));
        }
        sftp.on('close', () => (this.sftpPromise = null));
        resolve(sftp);
      });
    });
    return this.sftpPromise;
  }

  /**
   * A separate SFTP session on its own channel (and flow-control window), for
   * a transfer that wants several; the caller ends it.
   */
  openSftp(): Promise<SFTPWrapper> {
    return new Promise<SFTPWrapper>((resolve, reject) => this.client.sftp((err, sftp) => (err ? reject(this.sftpError(err)) : resolve(sftp))));
  }

  /** This machine's server refuses SFTP only when it found no `sftp-server`: said so, with where it looked. */
  private sftpError(err: Error): Error {
    if (!this.target.local) return err;
    return new SshTextError('ssh.local.noSftpServer', { paths: SFTP_SERVER_PATHS.join(', ') });
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

/** The in-process server's key as a verdict: known, because this connection made it (no known_hosts line). */
function pinnedVerdict(endpoint: SshEndpoint, key: Buffer): HostKeyVerdict {
  const keyType = keyTypeOfBlob(key) ?? 'unknown';
  return { kind: 'known', host: endpoint.host, port: endpoint.port, lookupName: endpoint.host, keyType, fingerprint: fingerprintSha256(key), line: 0 };
}

/**
 * "This machine": a private SSH server in this process (local-server.ts) on an
 * in-memory pipe, its fresh host key pinned; closed with the connection.
 */
async function connectLocal(opts: ConnectOptions): Promise<SshConnection> {
  const server = new LocalServer(opts.local);
  try {
    const { client, verdict } = await openClient(opts.target, opts, server.link(), server.hostKeyPublic);
    client.on('close', () => server.close());
    return new SshConnection(opts.target, client, [verdict], []);
  } catch (e) {
    server.close();
    throw e;
  }
}

/** Connect to `opts.target`, through its ProxyJump chain, verifying every hop's host key. */
export async function connectSsh(opts: ConnectOptions): Promise<SshConnection> {
  if (opts.target.local) return connectLocal(opts);
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
  if (e instanceof SshNetworkError) return e.transient;
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

/** How an automatic reconnect spaces its attempts. */
export interface RetryPolicy {
  /** Delay before the first attempt. */
  baseDelayMs: number;
  /** Cap on any delay. */
  maxDelayMs: number;
  /** 0..1: each delay is shortened by up to this fraction, at random, so nodes cut together do not retry in step. */
  jitter: number;
  /** Give up after this many failed attempts. */
  maxAttempts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelayMs: 1000, maxDelayMs: 30_000, jitter: 0.3, maxAttempts: 20 };

/** Delay before attempt `attempt` (1-based): base * 2^(attempt-1), capped, minus jitter. */
export function retryDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attempt));
  // 2^30 is far past any cap; stop growing there so the number stays finite.
  const raw = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(n - 1, 30));
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.max(0, Math.round(raw * (1 - jitter * random())));
}

export class SudoError extends Error {
  constructor(
    message: string,
    /** The same sentence as a catalog text, for the UI's language. */
    readonly text?: ErrorText,
  ) {
    super(message);
    this.name = 'SudoError';
  }
}

/** A sudo refusal from its catalog text: the English rendering is the message (CLI, logs). */
function sudoError(key: SshStringKey, params?: MessageParams): SudoError {
  return new SudoError(translate('en', key, params), params ? { key, params } : { key });
}

/**
 * What learns whether the login user is root (one exec, read-only). `exec`
 * runs the `id` program itself: neither a shell function nor an alias named
 * `id` in the login shell's start-up files can answer in its place, and it
 * reads the same in sh, bash, zsh, fish and csh.
 */
export const ROOT_PROBE = 'exec id -u';

/**
 * The one decision on how a privileged command runs on `conn`: `'root'` when
 * the login user is root (the command runs as `sh -c '…'`, no sudo at all),
 * else `'sudo'` (probed and asked for by `runSudo` / `SudoRunner`).
 */
export async function privilegeOf(conn: SshConnection): Promise<'root' | 'sudo'> {
  return (await conn.loginIsRoot()) ? 'root' : 'sudo';
}

/**
 * Run a command as root: as it is when the login user is root (`privilegeOf`),
 * else through `sudo -S`. The password (asked once through
 * `prompt` when sudo wants one, then held in `session` memory only) goes to
 * sudo's stdin, never onto a command line or disk. `-p ''` keeps sudo's own
 * prompt out of stderr; passwordless sudo works without asking (`-n` probe).
 */
export async function runSudo(
  conn: SshConnection,
  command: string,
  session: { password?: string; prompt: PromptFn; user: string; host: string; onAccepted?: () => Promise<void> | void },
  execOpts: { maxOutputBytes?: number; signal?: AbortSignal; runTag?: string } = {},
): Promise<ExecResult> {
  const { runTag = null, ...opts } = execOpts;
  if ((await privilegeOf(conn)) === 'root') return conn.exec(sudoWrapped(command, 'root', runTag), opts);
  const probe = await conn.exec(SUDO_PROBE);
  if (probe.code === 0) return conn.exec(sudoWrapped(command, 'passwordless', runTag), opts);
  if (SUDO_MISSING.test(probe.stderr)) throw sudoError('ssh.sudo.error.notInstalled');
  for (let attempt = 1; attempt <= 3; attempt++) {
    if (session.password === undefined) {
      const answer = await session.prompt({ kind: 'sudo', user: session.user, host: session.host, attempt });
      if (answer === null) throw sudoError('ssh.sudo.error.cancelled');
      session.password = answer[0] ?? '';
    }
    // `-k` ignores cached credentials so a wrong password is detected now.
    const res = await conn.exec(sudoWrapped(command, 'password', runTag), { ...opts, stdin: session.password + '\n' });
    if (res.code === 1 && WRONG_SUDO_PASSWORD.test(res.stderr)) {
      session.password = undefined;
      continue;
    }
    await session.onAccepted?.();
    return res;
  }
  throw sudoError('ssh.sudo.error.wrongPassword');
}

/** What sudo keeps per connection: the password (memory only, never on disk) and how to ask for it. */
export interface SudoSession {
  password?: string;
  prompt: PromptFn;
  user: string;
  host: string;
  /**
   * Called each time sudo accepted a password (after the check): the session
   * layer then keeps a password the user asked to remember. A remembered
   * password that sudo refused is forgotten by the prompt itself (asked again).
   */
  onAccepted?: () => Promise<void> | void;
}

/** How a privileged command is sent: sudo without or with a password, or as it is by a root login (no sudo). */
export type SudoMode = 'passwordless' | 'password' | 'root';

const WRONG_SUDO_PASSWORD = /incorrect password|Sorry, try again|no password was provided/i;
/** The login shell's word for a missing `sudo` (bash, dash, busybox sh). */
const SUDO_MISSING = /command not found|not found/i;

/** The probe and the password check a `SudoRunner` sends once per connection (exact texts). */
export const SUDO_PROBE = 'sudo -n true';
export const SUDO_CHECK_PASSWORD = `sudo -S -k -p '' true`;

/** How `runSudo` and `SudoRunner` send `command` (the password is never in the text; a root login sends no sudo). */
export function sudoWrapped(command: string, mode: SudoMode, runTag: string | null = null): string {
  const quoted = rootShellCommand(command, runTag);
  if (mode === 'root') return quoted;
  return mode === 'passwordless' ? `sudo -n ${quoted}` : `sudo -S -k -p '' ${quoted}`;
}

export interface SudoOutput {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  /** stdout beyond `maxBytes` was dropped. */
  truncated: boolean;
}

/**
 * sudo for a series of read-only commands on one connection (validation in
 * place, copy-out). Unlike `runSudo`, which probes before every command, it
 * learns once whether the login user is root (then every command is sent as
 * `sh -c '…'`, with no sudo probe and no password), else whether sudo needs
 * a password, asks for it once (checked with `sudo -S -k -p '' true`, asked
 * again after a wrong one, 3 tries), then sends each command as ONE exec:
 * `sudo -n sh -c '…'` or `sudo -S -k -p '' sh -c '…'` with the password on
 * stdin. The commands sent this way never read
 * stdin, so the password cannot reach their output even if sudo did not
 * consume it. Concurrent first uses share one probe and one prompt.
 */
export class SudoRunner {
  private mode: Promise<SudoMode> | null = null;
  private settled: SudoMode | null = null;

  constructor(
    readonly conn: SshConnection,
    private readonly session: SudoSession,
  ) {}

  ready(): Promise<SudoMode> {
    this.mode ??= this.establish().then(
      (mode) => (this.settled = mode),
      (e: unknown) => {
        this.mode = null;
        throw e;
      },
    );
    return this.mode;
  }

  /** The mode `ready()` last settled on (null before): what a caller says about how commands run, e.g. "as root" with no sudo. */
  get known(): SudoMode | null {
    return this.settled;
  }

  private async establish(): Promise<SudoMode> {
    if ((await privilegeOf(this.conn)) === 'root') return 'root';
    const probe = await this.conn.exec(SUDO_PROBE);
    if (probe.code === 0) return 'passwordless';
    if (probe.code === null) throw new SshTextError('ssh.sudo.error.checkLost', { host: this.session.host });
    if (SUDO_MISSING.test(probe.stderr)) throw sudoError('ssh.sudo.error.notInstalled');
    for (let attempt = 1; attempt <= 3; attempt++) {
      if (this.session.password === undefined) {
        const answer = await this.session.prompt({ kind: 'sudo', user: this.session.user, host: this.session.host, attempt });
        if (answer === null) throw sudoError('ssh.sudo.error.cancelled');
        this.session.password = answer[0] ?? '';
      }
      const res = await this.conn.exec(SUDO_CHECK_PASSWORD, { stdin: this.session.password + '\n' });
      if (res.code === 0) {
        await this.session.onAccepted?.();
        return 'password';
      }
      if (res.code === 1 && WRONG_SUDO_PASSWORD.test(res.stderr)) {
        this.session.password = undefined;
        continue;
      }
      throw sudoError('ssh.sudo.error.refused', {
        user: this.session.user,
        host: this.session.host,
        code: String(res.code),
        stderr: res.stderr.trim().slice(0, 500),
      });
    }
    throw sudoError('ssh.sudo.error.wrongPasswordOn', { host: this.session.host });
  }

  /** Run `command` as root with stdout streamed (read it to the end, see `execStream`). */
  async stream(command: string, opts: { signal?: AbortSignal } = {}): Promise<ExecStream> {
    let mode = await this.ready();
    if (mode === 'password' && this.session.password === undefined) {
      // Forgotten meanwhile (e.g. a wrong-password failure elsewhere): ask again.
      this.mode = null;
      mode = await this.ready();
    }
    const s = await this.conn.execStream(sudoWrapped(command, mode), {
      stdin: mode === 'password' ? `${this.session.password ?? ''}\n` : undefined,
      signal: opts.signal,
    });
    return { stdout: s.stdout, done: s.done.then((end) => this.checked(end, mode)) };
  }

  /**
   * Run `command` as root and collect stdout as bytes (at most `maxBytes` kept). When sudo, found passwordless by the
   * check, asks for a password at the command itself (its cached credentials ran out in between), sudo ran nothing:
   * the command is run once more after a new check, which asks for the password (or uses the remembered one) now,
   * instead of telling the user to try again.
   */
  async run(command: string, maxBytes: number, opts: { signal?: AbortSignal } = {}): Promise<SudoOutput> {
    try {
      return await this.runOnce(command, maxBytes, opts);
    } catch (e) {
      if (!(e instanceof SudoError) || e.text?.key !== 'ssh.sudo.error.nowAsksPassword') throw e;
      return this.runOnce(command, maxBytes, opts);
    }
  }

  private async runOnce(command: string, maxBytes: number, opts: { signal?: AbortSignal }): Promise<SudoOutput> {
    const s = await this.stream(command, opts);
    const chunks: Buffer[] = [];
    let kept = 0;
    let truncated = false;
    s.stdout.on('data', (d: Buffer) => {
      const part = d.subarray(0, Math.max(0, maxBytes - kept));
      if (part.length < d.length) truncated = true;
      kept += part.length;
      if (part.length) chunks.push(part);
    });
    const end = await s.done;
    return { code: end.code, stdout: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, kept), stderr: end.stderr, truncated };
  }

  /** sudo's own refusals after the first check: forget what was learned so the next use asks again. */
  private checked(end: ExecStreamEnd, mode: SudoMode): ExecStreamEnd {
    if (end.code === 1 && mode === 'password' && WRONG_SUDO_PASSWORD.test(end.stderr)) {
      this.mode = null;
      this.session.password = undefined;
      throw sudoError('ssh.sudo.error.passwordNoLongerAccepted', { host: this.session.host });
    }
    if (end.code === 1 && mode === 'passwordless' && /a password is required/i.test(end.stderr)) {
      this.mode = null;
      throw sudoError('ssh.sudo.error.nowAsksPassword', { host: this.session.host });
    }
    return end;
  }
}

/**
 * Calls `end` once: when the channel closes (its exit code and signal), or at once when `signal` aborts (no code).
 * A stopped command's channel is given up rather than waited for: sshd keeps a channel open while its command runs
 * (a close alone does not end it), so the command is asked to end (an SSH "signal" request, which OpenSSH sends to
 * the session's process as the login user: it does not reach sudo's, which are root's) and the channel closed
 * behind it. A command that does not end keeps its channel until it ends on its own.
 */
function onChannelEnd(stream: ClientChannel, signal: AbortSignal | undefined, end: (code: number | null, signal: string | null) => void): void {
  let ended = false;
  const finish = (code: number | null, sig: string | null) => {
    if (ended) return;
    ended = true;
    signal?.removeEventListener('abort', onAbort);
    end(code, sig);
  };
  const onAbort = () => {
    try {
      stream.signal('TERM');
    } catch {
      // the channel is already gone
    }
    stream.close();
    finish(null, null);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  stream.on('close', (code: number | null | undefined, sig?: string) => finish(code ?? null, sig ?? null));
}

/** POSIX single-quote quoting for remote shell commands. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
