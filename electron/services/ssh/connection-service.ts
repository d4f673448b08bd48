/**
 * The live SSH connections of one back end: connecting (host-key and
 * credential prompts), pending prompts, automatic and manual reconnects,
 * remembered secrets, sudo per connection, and the session log of SFTP
 * accesses. One instance per composition root; nothing here is shared
 * between instances.
 *
 * Secrets: prompt answers (passwords, passphrases, sudo) live only in this
 * instance's memory, per connection, and are dropped on disconnect.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { utils as sshUtils } from 'ssh2';
import type { RememberableKind, RememberOffer, SshEndpoint, SshEvents, SshPrompt, SshTarget, UnknownKeyDecision } from '../../../shared/contract/ssh';
import { ApiError, errorTextOf } from '../api-error';
import { SecretStore, type SafeStorageLike } from '../secret-store';
import type { PromptFn, PromptRequest } from './auth';
import {
  HostKeyRejectedError,
  SshAuthError,
  SudoRunner,
  connectSsh,
  connectWithBackoff,
  endpointKey,
  retryDelay,
  type CommandEndEvent,
  type CommandEvent,
  type ConnectOptions,
  type SshConnection,
  type SudoSession,
} from './connection';
import { KnownHostsFile } from './known-hosts';
import type { LocalServerOptions } from './local-server';
import { ProfileStore } from './profiles';
import { explainSudoError } from './remote-errors';
import { SshTextError } from './network-error';
import { type SshCallContext, type SshServiceConfig, type SshSessionConfig } from './settings';
import { expandHome } from '../home-path';

export interface LiveConnection {
  id: string;
  target: SshTarget;
  conn: SshConnection;
  ctx: SshCallContext;
  /** In memory only. */
  passwords: Map<string, string>;
  sudo: { password?: string; onAccepted?: () => Promise<void> | void };
  prompt: PromptFn;
  /** The saved profile this connection was opened from (remembered secrets are keyed by it). */
  profileId: string | null;
  secrets: PromptSecrets;
}

/**
 * Per connection: answers the user asked to remember (written only once they
 * proved right) and remembered secrets already tried (a wrong one is
 * forgotten, and never tried twice).
 */
interface PromptSecrets {
  toRemember: Map<string, { kind: RememberableKind; subject: string; secret: string }>;
  usedRemembered: Set<string>;
}

interface PendingPrompt {
  resolve(answers: string[] | null, remember?: boolean): void;
  connectionId: string | null;
  ctx: SshCallContext;
}

/**
 * An automatic reconnect in progress. A connection that dropped keeps its id
 * (terminals and panels refer to it) while retrying.
 */
interface AutoRetry {
  attempt: number;
  timer: ReturnType<typeof setTimeout> | null;
  running: Promise<void> | null;
  stopped: boolean;
  lastError: string | null;
  /** The last error's catalog text, so the UI can say it in its language. */
  lastText?: SshEvents['ssh.state']['text'];
}

interface PromptOptions {
  target: SshTarget;
  /** Passwords held for reconnects (memory only). */
  passwords: Map<string, string>;
  profileId: string | null;
  secrets: PromptSecrets;
  /** Called when the user is asked something (an automatic reconnect then waits). */
  onAsk?(): void;
  duringReconnect?: boolean;
}

interface EstablishOptions {
  previous?: LiveConnection;
  profileId: string | null;
  /** One attempt of an automatic reconnect (its loop reports failures itself). */
  auto?: { retry: AutoRetry };
}

export interface ConnectionServiceDeps {
  /** The paths in effect now (known_hosts, audit log). */
  paths(): SshServiceConfig;
  /** Profiles, secrets and the reconnect policy in effect now. */
  sessions(): SshSessionConfig;
  /** Electron's safeStorage (null in web mode, the CLI and tests without a keychain). */
  safeStorage: SafeStorageLike | null;
  /** A connection is about to close (its terminals go first). */
  beforeClose(connectionId: string): void;
  /** "This machine": its in-process server's options (tests point it elsewhere). */
  local?: LocalServerOptions;
}

/**
 * Which remembered secret a prompt asks for: its kind and what it opens.
 * Keyboard-interactive counts only as PAM's plain "Password:" (one hidden
 * question about a password); anything else may be a one-time code. Host-key
 * prompts: never.
 */
function rememberKey(request: PromptRequest, target: SshTarget): { kind: RememberableKind; subject: string } | null {
  if (request.kind === 'password') return { kind: 'password', subject: endpointKey(request) };
  if (request.kind === 'keyboard-interactive') {
    const only = request.prompts.length === 1 ? request.prompts[0] : null;
    return only && !only.echo && /password/i.test(only.prompt) && !/code|token|otp|verification/i.test(only.prompt)
      ? { kind: 'password', subject: endpointKey(request) }
      : null;
  }
  if (request.kind === 'passphrase') return { kind: 'passphrase', subject: request.keyFile };
  // sudo: the node's login, port included (a remembered secret is only ever sent where it was typed).
  if (request.kind === 'sudo') return { kind: 'sudo', subject: endpointKey(target) };
  return null;
}

function withExpandedKeys<T extends SshEndpoint>(e: T): T {
  return e.identityFiles ? { ...e, identityFiles: e.identityFiles.map(expandHome) } : e;
}

export class SshConnectionService {
  private readonly connections = new Map<string, LiveConnection>();
  private readonly pendingPrompts = new Map<string, PendingPrompt>();
  private readonly autoRetries = new Map<string, AutoRetry>();
  private readonly manualReconnects = new Map<string, Promise<LiveConnection>>();
  /** Keys refused as changed, by host:port, so the replace path uses exactly the key seen. */
  private readonly lastRejected = new Map<string, HostKeyRejectedError>();
  /**
   * One sudo runner per SSH connection: sudo is probed and its password asked
   * once; the password stays in `c.sudo` (memory only), shared with `ssh.exec`.
   */
  private readonly sudoRunners = new WeakMap<SshConnection, SudoRunner>();
  private sftpSeq = 0;

  constructor(private readonly deps: ConnectionServiceDeps) {}

  knownHosts(): KnownHostsFile {
    const config = this.deps.paths();
    return new KnownHostsFile(config.knownHostsPath, { hashNewEntries: false, auditLogPath: config.auditLogPath });
  }

  secretStore(ctx: SshCallContext): SecretStore {
    return new SecretStore(this.deps.sessions().secretsPath, this.deps.safeStorage, ctx.transport);
  }

  profileStore(): ProfileStore {
    return new ProfileStore(this.deps.sessions().profilesPath);
  }

  /** A connection by id, whatever its state (undefined if unknown). */
  get(connectionId: string): LiveConnection | undefined {
    return this.connections.get(connectionId);
  }

  /** A ready connection, or an error saying what to do. */
  live(connectionId: string): LiveConnection {
    const c = this.connections.get(connectionId);
    if (!c) throw new Error(`no such connection: ${connectionId}`);
    if (c.conn.state !== 'ready') throw new Error(`connection ${connectionId} is ${c.conn.state}; reconnect first`);
    return c;
  }

  /** A ready connection the calling client opened (another client's connections do not exist for it). */
  owned(connectionId: string, ctx: SshCallContext): LiveConnection {
    const c = this.connections.get(connectionId);
    if (!c || c.ctx !== ctx) throw ApiError.localized('unknown-connection', 'ssh.error.unknownConnection', { id: connectionId });
    if (c.conn.state !== 'ready') throw ApiError.localized('not-connected', `ssh.error.notConnected.${c.conn.state}`, { host: c.target.host });
    return c;
  }

  /** Record a read-only SFTP access in the session log (there is no shell command to show). */
  recordSftp(c: LiveConnection, text: string): void {
    c.ctx.emit('ssh.command', { id: `sftp-${++this.sftpSeq}`, connectionId: c.id, at: Date.now(), kind: 'sftp', text });
  }

  async open(target: SshTarget, profileId: unknown, ctx: SshCallContext): Promise<{ connectionId: string; verdicts: LiveConnection['conn']['verdicts'] }> {
    const id = randomUUID();
    // Only a profile that exists keys remembered secrets (and they are bound to user@host:port besides).
    const profile =
      typeof profileId === 'string' && profileId
        ? await this.profileStore()
            .get(profileId)
            .catch(() => null)
        : null;
    const c = await this.establish(id, target, ctx, { profileId: profile?.id ?? null });
    return { connectionId: id, verdicts: c.conn.verdicts };
  }

  /** "This machine": the app's own user on the machine the app runs on (connection.ts `connectLocal`). */
  async openLocal(ctx: SshCallContext): Promise<{ connectionId: string; verdicts: LiveConnection['conn']['verdicts']; user: string }> {
    const target: SshTarget = { local: true, host: 'localhost', port: 0, user: os.userInfo().username, autoReconnect: false };
    const c = await this.establish(randomUUID(), target, ctx, { profileId: null });
    return { connectionId: c.id, verdicts: c.conn.verdicts, user: target.user };
  }

  async reconnect(connectionId: string, ctx: SshCallContext): Promise<{ connectionId: string }> {
    const prev = this.connections.get(connectionId);
    if (!prev) throw new SshTextError('ssh.error.unknownConnection', { id: connectionId });
    if (prev.conn.state === 'ready') return { connectionId };
    const retry = this.autoRetries.get(connectionId);
    if (retry && !retry.stopped) {
      // "Reconnect now": the waiting attempt starts at once; a failure goes back to waiting.
      await this.runRetry(prev, retry);
      const now = this.connections.get(connectionId);
      if (now?.conn.state !== 'ready') {
        // The last attempt's own error, in the UI's language when it had a catalog text.
        if (retry.lastError === null) throw new SshTextError('ssh.error.reconnectFailed');
        throw Object.assign(new Error(retry.lastError), retry.lastText ? { text: retry.lastText } : {});
      }
      return { connectionId };
    }
    // One manual reconnect at a time per connection: a second click joins the first.
    let pending = this.manualReconnects.get(connectionId);
    if (!pending) {
      pending = this.establish(connectionId, prev.target, ctx, { previous: prev, profileId: prev.profileId }).finally(() =>
        this.manualReconnects.delete(connectionId),
      );
      this.manualReconnects.set(connectionId, pending);
    }
    await pending;
    return { connectionId };
  }

  stopReconnect(connectionId: string): { stopped: boolean } {
    const c = this.connections.get(connectionId);
    const r = this.autoRetries.get(connectionId);
    if (!c || !r) return { stopped: false };
    this.stopRetry(c, r, 'user', r.lastError ?? 'automatic reconnect stopped');
    return { stopped: true };
  }

  disconnect(connectionId: string): { closed: boolean } {
    const c = this.connections.get(connectionId);
    if (!c) return { closed: false };
    const retry = this.autoRetries.get(connectionId);
    if (retry) {
      retry.stopped = true;
      if (retry.timer) clearTimeout(retry.timer);
      this.autoRetries.delete(connectionId);
    }
    this.deps.beforeClose(connectionId);
    this.cancelPrompts(connectionId);
    c.conn.close();
    c.passwords.clear();
    c.sudo.password = undefined;
    c.secrets.toRemember.clear();
    this.connections.delete(connectionId);
    c.ctx.emit('ssh.state', { connectionId, state: 'closed' });
    return { closed: true };
  }

  answerPrompt(promptId: string, answers: unknown, remember: unknown): { accepted: boolean } {
    const p = this.pendingPrompts.get(promptId);
    if (!p) return { accepted: false };
    if (answers !== null && (!Array.isArray(answers) || answers.some((a) => typeof a !== 'string'))) {
      // Contract: the prompt dialog sends strings or null.
      throw new ApiError('bad-params', 'answers must be a list of strings, or null to cancel');
    }
    p.resolve(answers as string[] | null, remember === true);
    return { accepted: true };
  }

  async replaceHostKey(
    host: string,
    port: number,
    approvedFingerprint: string,
    reason: string,
  ): Promise<{ removedLines: number[]; keptSharedLines: number[] }> {
    const rejected = this.lastRejected.get(`${host}:${port}`);
    if (!rejected || rejected.verdict.kind !== 'changed') {
      throw new SshTextError('ssh.hostkey.error.noRefusedKey', { host, port });
    }
    const rec = await this.knownHosts().replace(host, port, rejected.keyBlob, { approvedFingerprint, reason });
    this.lastRejected.delete(`${host}:${port}`);
    return { removedLines: rec.removedLines, keptSharedLines: rec.keptSharedLines };
  }

  /** Close every connection (window closed, web server stopped). */
  closeAll(): void {
    for (const id of [...this.connections.keys()]) this.disconnect(id);
  }

  /** A client went away: close the connections it opened, so no session or pending prompt outlives its UI. */
  release(ctx: SshCallContext): void {
    for (const [id, c] of [...this.connections]) if (c.ctx === ctx) this.disconnect(id);
  }

  /**
   * The connection's sudo state (password in memory, kept across reconnects),
   * bound to its current prompt. Whenever sudo accepts a password, by a runner
   * or by `ssh.exec`, one the user asked to remember is written then: only a
   * password that worked is ever kept.
   */
  sudoSession(c: LiveConnection): SudoSession {
    return Object.assign(c.sudo, {
      prompt: c.prompt,
      user: c.target.user,
      host: c.target.host,
      onAccepted: () => this.commitRemembered(c, ['sudo']),
    });
  }

  /** sudo is ready on `c` (asked for the password if it needs one); a refusal is a clear ApiError. */
  async readySudo(c: LiveConnection): Promise<SudoRunner> {
    let sudo = this.sudoRunners.get(c.conn);
    if (!sudo) {
      sudo = new SudoRunner(c.conn, this.sudoSession(c));
      this.sudoRunners.set(c.conn, sudo);
    }
    try {
      await sudo.ready();
    } catch (e) {
      throw explainSudoError(e);
    }
    return sudo;
  }

  private async rememberOffer(ctx: SshCallContext, profileId: string | null, key: { kind: RememberableKind } | null): Promise<RememberOffer> {
    if (!key) return { offered: false, reason: 'kind' };
    if (ctx.transport === 'web') return { offered: false, reason: 'web' };
    if (!profileId) return { offered: false, reason: 'no-profile' };
    const status = await this.secretStore(ctx).status();
    return status.available ? { offered: true } : { offered: false, reason: 'unavailable', detail: status.detail };
  }

  private makePrompt(ctx: SshCallContext, connectionId: string | null, opts: PromptOptions): PromptFn {
    return async (request: PromptRequest) => {
      const key = rememberKey(request, opts.target);
      const id = key ? `${key.kind}\n${key.subject}` : null;
      if (key && id && opts.profileId) {
        const firstAsk = !('attempt' in request) || request.attempt === 1;
        if (opts.secrets.usedRemembered.has(id)) {
          // Asked again after the remembered one was used: it is wrong now (password changed). Forget it, and
          // finish forgetting before the new answer can be accepted and saved (else the late forget erased it).
          await this.secretStore(ctx)
            .forget(opts.profileId, key)
            .catch(() => undefined);
        } else if (firstAsk && !(request.kind === 'passphrase' && request.lastError)) {
          const stored = await this.secretStore(ctx).get(opts.profileId, key.kind, key.subject);
          if (stored !== null) {
            opts.secrets.usedRemembered.add(id);
            return [stored];
          }
        }
      }
      const remember = await this.rememberOffer(ctx, opts.profileId, key);
      opts.onAsk?.();
      return new Promise<string[] | null>((resolve) => {
        const promptId = randomUUID();
        this.pendingPrompts.set(promptId, {
          connectionId,
          ctx,
          resolve: (answers, wantsRemember) => {
            this.pendingPrompts.delete(promptId);
            if (answers && request.kind === 'password') opts.passwords.set(endpointKey(request), answers[0] ?? '');
            if (answers && key && id && wantsRemember && remember.offered) {
              opts.secrets.toRemember.set(id, { ...key, secret: answers[0] ?? '' });
            } else if (id) opts.secrets.toRemember.delete(id);
            resolve(answers);
          },
        });
        const shown: SshPrompt = { ...request, promptId, remember, ...(opts.duringReconnect ? { duringReconnect: true } : {}) } as SshPrompt;
        ctx.emit('ssh.prompt', shown);
      });
    };
  }

  /** Answers whose "Remember" was ticked, written once they worked. A passphrase is checked against its key file first. */
  private async commitRemembered(c: LiveConnection, kinds: readonly RememberableKind[]): Promise<void> {
    if (!c.profileId) return;
    const store = this.secretStore(c.ctx);
    for (const [id, item] of [...c.secrets.toRemember]) {
      if (!kinds.includes(item.kind)) continue;
      c.secrets.toRemember.delete(id);
      if (item.kind === 'passphrase') {
        const data = await fs.readFile(item.subject).catch(() => null);
        if (!data || data.length > 1024 * 1024 || sshUtils.parseKey(data, item.secret) instanceof Error) continue;
      }
      await store.save(c.profileId, item.kind, item.subject, item.secret).catch(() => undefined);
    }
  }

  /** Prompts of a connection that will never be answered usefully (attempt over, disconnected): cancel them, and tell the UI. */
  private cancelPrompts(connectionId: string): void {
    for (const [pid, p] of [...this.pendingPrompts]) {
      if (p.connectionId !== connectionId) continue;
      p.resolve(null);
      this.pendingPrompts.delete(pid);
      p.ctx.emit('ssh.prompt.closed', { promptId: pid });
    }
  }

  private connectOptions(target: SshTarget, prompt: PromptFn, passwords: Map<string, string>): ConnectOptions {
    return {
      target: { ...withExpandedKeys(target), jumps: target.jumps?.map(withExpandedKeys) },
      prompt,
      passwords,
      agentSocket: target.useAgent === false ? null : undefined,
      ...(this.deps.local ? { local: this.deps.local } : {}),
      hostKeys: {
        knownHosts: this.knownHosts(),
        decideUnknown: async (verdict) => {
          const answer = await prompt({ kind: 'host-key', verdict });
          const d = answer?.[0];
          return d === 'accept-save' || d === 'accept-once' ? (d as UnknownKeyDecision) : 'reject';
        },
      },
    };
  }

  private watch(c: LiveConnection): void {
    c.conn.once('dropped', (err: Error) => {
      const text = errorTextOf(err);
      c.ctx.emit('ssh.state', { connectionId: c.id, state: 'dropped', message: err.message, ...(text ? { text } : {}) });
      if (c.target.autoReconnect !== false && this.connections.get(c.id) === c) this.startAutoReconnect(c, err.message, text);
    });
    // The session log: every exec on the node, exact text, before it is sent.
    c.conn.on('command', (e: CommandEvent) => {
      c.ctx.emit('ssh.command', { id: e.id, connectionId: c.id, at: Date.now(), kind: 'exec', text: e.text });
    });
    c.conn.on('command-end', (e: CommandEndEvent) => {
      c.ctx.emit('ssh.command.end', { id: e.id, connectionId: c.id, code: e.code, elapsedMs: e.elapsedMs });
    });
    c.conn.on('login-privilege', (loginIsRoot: boolean) => {
      c.ctx.emit('ssh.privilege.learned', { connectionId: c.id, loginIsRoot });
    });
  }

  private async establish(id: string, target: SshTarget, ctx: SshCallContext, o: EstablishOptions): Promise<LiveConnection> {
    const { previous, auto } = o;
    const passwords = previous?.passwords ?? new Map<string, string>();
    const secrets: PromptSecrets = {
      toRemember: previous?.secrets.toRemember ?? new Map<string, { kind: RememberableKind; subject: string; secret: string }>(),
      usedRemembered: new Set(),
    };
    const prompt = this.makePrompt(ctx, id, {
      target,
      passwords,
      profileId: o.profileId,
      secrets,
      duringReconnect: !!auto,
      // The retries wait while the user answers (the attempt itself is paused, see openClient).
      onAsk: auto
        ? () => ctx.emit('ssh.state', { connectionId: id, state: 'reconnecting', auto: { attempt: auto.retry.attempt, retryAt: null, waitingForPrompt: true } })
        : undefined,
    });
    ctx.emit('ssh.state', {
      connectionId: id,
      state: previous ? 'reconnecting' : 'connecting',
      ...(auto ? { auto: { attempt: auto.retry.attempt, retryAt: null } } : {}),
    });
    try {
      const opts = this.connectOptions(target, prompt, passwords);
      const conn = previous && !auto ? await connectWithBackoff(opts, { attempts: 5 }) : await connectSsh(opts);
      if (auto?.retry.stopped || (previous && !this.connections.has(id))) {
        // Stopped or disconnected while this attempt ran: do not bring a session back to life.
        conn.close();
        throw new Error('reconnect stopped');
      }
      const c: LiveConnection = { id, target, conn, ctx, passwords, sudo: previous?.sudo ?? {}, prompt, profileId: o.profileId, secrets };
      this.connections.set(id, c);
      this.watch(c);
      ctx.emit('ssh.state', { connectionId: id, state: 'ready' });
      await this.commitRemembered(c, ['password', 'passphrase']);
      return c;
    } catch (e) {
      const hostKey = e instanceof HostKeyRejectedError ? e.verdict : undefined;
      if (e instanceof HostKeyRejectedError) this.lastRejected.set(`${e.verdict.host}:${e.verdict.port}`, e);
      this.cancelPrompts(id);
      const text = errorTextOf(e);
      if (!auto)
        ctx.emit('ssh.state', { connectionId: id, state: previous ? 'dropped' : 'closed', message: (e as Error).message, hostKey, ...(text ? { text } : {}) });
      throw e;
    }
  }

  private startAutoReconnect(c: LiveConnection, why: string, whyText?: AutoRetry['lastText']): void {
    if (this.autoRetries.has(c.id)) return;
    const r: AutoRetry = { attempt: 0, timer: null, running: null, stopped: false, lastError: why, ...(whyText ? { lastText: whyText } : {}) };
    this.autoRetries.set(c.id, r);
    this.scheduleRetry(c, r);
  }

  /** Wait (exponential backoff with jitter), then try once; the UI counts down to `retryAt`. */
  private scheduleRetry(c: LiveConnection, r: AutoRetry): void {
    const policy = this.deps.sessions().retry;
    if (r.attempt >= policy.maxAttempts) {
      this.stopRetry(c, r, 'attempts', `gave up after ${r.attempt} attempts: ${r.lastError ?? 'connection lost'}`);
      return;
    }
    r.attempt++;
    const delay = retryDelay(r.attempt, policy);
    c.ctx.emit('ssh.state', {
      connectionId: c.id,
      state: 'reconnecting',
      message: r.lastError ?? undefined,
      ...(r.lastText ? { text: r.lastText } : {}),
      auto: { attempt: r.attempt, retryAt: Date.now() + delay },
    });
    r.timer = setTimeout(() => void this.runRetry(c, r), delay);
  }

  private runRetry(c: LiveConnection, r: AutoRetry): Promise<void> {
    if (r.running) return r.running;
    if (r.stopped) return Promise.resolve();
    if (r.timer) clearTimeout(r.timer);
    r.timer = null;
    r.running = (async () => {
      try {
        await this.establish(c.id, c.target, c.ctx, { previous: c, profileId: c.profileId, auto: { retry: r } });
        if (this.autoRetries.get(c.id) === r) this.autoRetries.delete(c.id);
      } catch (e) {
        if (r.stopped) return;
        const message = (e as Error).message;
        r.lastError = message;
        r.lastText = errorTextOf(e);
        // The user's or the server's refusal: retrying would only repeat it (or lock the account).
        if (e instanceof HostKeyRejectedError) this.stopRetry(c, r, 'host-key', message, e.verdict);
        else if (e instanceof SshAuthError) this.stopRetry(c, r, 'auth', message);
        else this.scheduleRetry(c, r);
      } finally {
        r.running = null;
      }
    })();
    return r.running;
  }

  private stopRetry(
    c: LiveConnection,
    r: AutoRetry,
    why: 'host-key' | 'auth' | 'user' | 'attempts',
    message: string,
    hostKey?: SshEvents['ssh.state']['hostKey'],
  ): void {
    r.stopped = true;
    if (r.timer) clearTimeout(r.timer);
    r.timer = null;
    if (this.autoRetries.get(c.id) === r) this.autoRetries.delete(c.id);
    this.cancelPrompts(c.id);
    if (!this.connections.has(c.id)) return;
    // The last attempt's error in the UI's language; the stopped reason itself is said by the UI from `auto.stopped`.
    const text = why === 'attempts' || why === 'host-key' ? r.lastText : undefined;
    c.ctx.emit('ssh.state', {
      connectionId: c.id,
      state: 'dropped',
      message,
      ...(text ? { text } : {}),
      hostKey,
      auto: { attempt: r.attempt, retryAt: null, stopped: why },
    });
  }
}
