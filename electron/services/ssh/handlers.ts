/**
 * Contract handlers for the SSH workstation (`SshMethods` / `SshEvents`).
 * The lead merges them into the transports; until `ApiMethods` includes
 * `SshMethods` they are typed against our own context (same shape as
 * `CallContext` in registry.ts).
 *
 * Secrets: prompt answers (passwords, passphrases, sudo) live only in this
 * process's memory, per connection, and are dropped on disconnect.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { utils as sshUtils } from 'ssh2';
import type {
  CopyOutPlan,
  RememberableKind,
  RememberOffer,
  SshEndpoint,
  SshEvents,
  SshMethods,
  SshPrompt,
  SshTarget,
  UnknownKeyDecision,
} from '../../../shared/contract/ssh';
import type { DirectorySource } from '../../../shared/bytes/byte-source';
import { ApiError, type RemoteDirectory, type RemoteSources } from '../validation-service';
import { SecretStore, configuredSafeStorageOrNull } from '../secret-store';
import type { PromptFn, PromptRequest } from './auth';
import {
  DEFAULT_RETRY_POLICY,
  HostKeyRejectedError,
  SshAuthError,
  SudoError,
  SudoRunner,
  connectSsh,
  connectWithBackoff,
  endpointKey,
  retryDelay,
  runSudo,
  type CommandEndEvent,
  type CommandEvent,
  type ConnectOptions,
  type RetryPolicy,
  type SshConnection,
  type SudoSession,
} from './connection';
import { copyOut, CopyOutError, DirectoryChangingError, remoteHashCommand } from './copy-out';
import { KnownHostsFile } from './known-hosts';
import { SessionRecorder } from './recorder';
import { ProfileStore, lifeboatHome, profilesPath } from './profiles';
import { listRemoteDir, sftpDirectory } from './sftp-source';
import { sudoCopyCommands, sudoCopyOut } from './sudo-copy';
import { SudoSourceError, sudoDirectory } from './sudo-source';
import { importSshConfig } from './ssh-config';
import { TerminalSession } from './terminal';

export interface SshCallContext {
  transport: 'electron' | 'web';
  emit<E extends keyof SshEvents>(event: E, payload: SshEvents[E]): void;
}

export type SshHandlers = {
  [M in keyof SshMethods]: (params: SshMethods[M]['params'], ctx: SshCallContext) => Promise<SshMethods[M]['result']>;
};

export interface SshServiceConfig {
  knownHostsPath: string;
  /** JSONL log of explicit host-key replacements. */
  auditLogPath: string;
  /** Where terminal recordings go; null disables recording. */
  recordingsDir: string | null;
  /** ssh-config file to import (default ~/.ssh/config). */
  sshConfigPath?: string;
  /** Where copy-outs go by default, and the only tree web mode may write to (default ~/lifeboat-copies). */
  copiesRoot: string;
}

/** Saved profiles, remembered secrets and the automatic reconnect (kept apart from the paths above). */
export interface SshSessionConfig {
  /** Saved profiles (default `$LIFEBOAT_HOME/profiles.json`, `~/.lifeboat/profiles.json`). */
  profilesPath: string;
  /** Remembered secrets, ciphertext only (default `$LIFEBOAT_HOME/secrets.json`). */
  secretsPath: string;
  /** Spacing of automatic reconnect attempts. */
  retry: RetryPolicy;
}

const sessionOverrides: Partial<SshSessionConfig> = {};

/** Defaults follow `LIFEBOAT_HOME` when used; tests point them elsewhere. */
export function sshSessionConfig(): SshSessionConfig {
  return { profilesPath: profilesPath(), secretsPath: path.join(lifeboatHome(), 'secrets.json'), retry: DEFAULT_RETRY_POLICY, ...sessionOverrides };
}

export function configureSshSessions(patch: Partial<SshSessionConfig>): void {
  Object.assign(sessionOverrides, patch);
}

/**
 * Defaults, read when used so a test or the CLI can point them elsewhere:
 * `LIFEBOAT_SSH_KNOWN_HOSTS` (known_hosts), `LIFEBOAT_SSH_CONFIG` (ssh config
 * to import), `LIFEBOAT_RECORDINGS_DIR` (terminal recordings; default
 * `~/.lifeboat/sessions/<date>/`), `LIFEBOAT_SSH_AUDIT_LOG` (host-key
 * replacements), `LIFEBOAT_COPIES_DIR` (copy-out destinations; default
 * `~/lifeboat-copies`). Recording is on unless `configureSsh({ recordingsDir: null })`.
 */
function defaultConfig(): SshServiceConfig {
  const env = process.env;
  const home = os.homedir();
  return {
    knownHostsPath: env.LIFEBOAT_SSH_KNOWN_HOSTS || path.join(home, '.ssh', 'known_hosts'),
    auditLogPath: env.LIFEBOAT_SSH_AUDIT_LOG || path.join(home, '.lifeboat', 'host-key-changes.jsonl'),
    recordingsDir: env.LIFEBOAT_RECORDINGS_DIR || path.join(home, '.lifeboat', 'sessions', localDate(new Date())),
    sshConfigPath: env.LIFEBOAT_SSH_CONFIG || undefined,
    copiesRoot: env.LIFEBOAT_COPIES_DIR || path.join(home, 'lifeboat-copies'),
  };
}

/** `YYYY-MM-DD` in local time: the day the operator sees on the wall clock. */
function localDate(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

/** Explicit settings from `configureSsh`; anything not set here comes from `defaultConfig()`. */
const overrides: Partial<SshServiceConfig> = {};

function currentConfig(): SshServiceConfig {
  return { ...defaultConfig(), ...overrides };
}

/** Set paths (the app points recordings at the recovery session's folder; null disables recording). */
export function configureSsh(patch: Partial<SshServiceConfig>): void {
  Object.assign(overrides, patch);
}

/** The paths in effect now (for display and tests). */
export function sshServiceConfig(): SshServiceConfig {
  return currentConfig();
}

interface LiveConnection {
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

const connections = new Map<string, LiveConnection>();
const pendingPrompts = new Map<
  string,
  { resolve(answers: string[] | null, remember?: boolean): void; connectionId: string | null; ctx: SshCallContext }
>();

/**
 * Automatic reconnects in progress, by connection id. A connection that
 * dropped keeps its id (terminals and panels refer to it) while retrying.
 */
interface AutoRetry {
  attempt: number;
  timer: ReturnType<typeof setTimeout> | null;
  running: Promise<void> | null;
  stopped: boolean;
  lastError: string | null;
}
const autoRetries = new Map<string, AutoRetry>();
const manualReconnects = new Map<string, Promise<LiveConnection>>();
const terminals = new Map<string, { session: TerminalSession; recorder: SessionRecorder | null; connectionId: string }>();
interface CopyJob {
  id: string;
  ctx: SshCallContext;
  connectionId: string;
  abort: AbortController;
  state: 'running' | 'done' | 'failed';
  /** What the job wrote (set when done): the only local path a `copy` SourceRef resolves to. */
  localPath: string | null;
  finishedAt: number;
}
const copyJobs = new Map<string, CopyJob>();
/** Finished copy jobs remembered for `{ kind: 'copy' }` validation. */
const MAX_COPY_JOBS_REMEMBERED = 200;
/** Recordings by terminal id, kept after the terminal ends so they can still be exported. */
const recordings = new Map<string, { basePath: string; recorder: SessionRecorder; closing?: Promise<void> }>();
const MAX_RECORDINGS_REMEMBERED = 500;
/** An export travels as one JSON message: cap it (the full file stays on disk). */
const MAX_EXPORT_CHARS = 32 * 1024 * 1024;
const MAX_EXPORT_BYTES = 4 * MAX_EXPORT_CHARS;

function rememberRecording(terminalId: string, rec: { basePath: string; recorder: SessionRecorder }): void {
  recordings.set(terminalId, rec);
  while (recordings.size > MAX_RECORDINGS_REMEMBERED) recordings.delete(recordings.keys().next().value!);
}

/** The last `maxBytes` of a file as UTF-8 (never reads more than that into memory). */
async function readTail(file: string, maxBytes: number): Promise<string> {
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Keys refused as changed, by host:port, so the replace path uses exactly the key seen. */
const lastRejected = new Map<string, HostKeyRejectedError>();

/** Cap on one command's collected output (bounded memory; also the most `ssh.exec` accepts). */
const MAX_EXEC_OUTPUT = 16 * 1024 * 1024;

function knownHosts(): KnownHostsFile {
  const config = currentConfig();
  return new KnownHostsFile(config.knownHostsPath, { hashNewEntries: false, auditLogPath: config.auditLogPath });
}

function secretStore(ctx: SshCallContext): SecretStore {
  return new SecretStore(sshSessionConfig().secretsPath, configuredSafeStorageOrNull(), ctx.transport);
}

function profileStore(): ProfileStore {
  return new ProfileStore(sshSessionConfig().profilesPath);
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

async function rememberOffer(ctx: SshCallContext, profileId: string | null, key: { kind: RememberableKind } | null): Promise<RememberOffer> {
  if (!key) return { offered: false, reason: 'kind' };
  if (ctx.transport === 'web') return { offered: false, reason: 'web' };
  if (!profileId) return { offered: false, reason: 'no-profile' };
  const status = await secretStore(ctx).status();
  return status.available ? { offered: true } : { offered: false, reason: 'unavailable', detail: status.detail };
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

function makePrompt(ctx: SshCallContext, connectionId: string | null, opts: PromptOptions): PromptFn {
  return async (request: PromptRequest) => {
    const key = rememberKey(request, opts.target);
    const id = key ? `${key.kind}\n${key.subject}` : null;
    if (key && id && opts.profileId) {
      const firstAsk = !('attempt' in request) || request.attempt === 1;
      if (opts.secrets.usedRemembered.has(id)) {
        // Asked again after the remembered one was used: it is wrong now (password changed). Forget it.
        void secretStore(ctx).forget(opts.profileId, key).catch(() => undefined);
      } else if (firstAsk && !(request.kind === 'passphrase' && request.lastError)) {
        const stored = await secretStore(ctx).get(opts.profileId, key.kind, key.subject);
        if (stored !== null) {
          opts.secrets.usedRemembered.add(id);
          return [stored];
        }
      }
    }
    const remember = await rememberOffer(ctx, opts.profileId, key);
    opts.onAsk?.();
    return new Promise<string[] | null>((resolve) => {
      const promptId = randomUUID();
      pendingPrompts.set(promptId, {
        connectionId,
        ctx,
        resolve: (answers, wantsRemember) => {
          pendingPrompts.delete(promptId);
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
async function commitRemembered(c: LiveConnection, kinds: readonly RememberableKind[]): Promise<void> {
  if (!c.profileId) return;
  const store = secretStore(c.ctx);
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
function cancelPrompts(connectionId: string): void {
  for (const [pid, p] of [...pendingPrompts]) {
    if (p.connectionId !== connectionId) continue;
    p.resolve(null);
    pendingPrompts.delete(pid);
    p.ctx.emit('ssh.prompt.closed', { promptId: pid });
  }
}

function live(connectionId: string): LiveConnection {
  const c = connections.get(connectionId);
  if (!c) throw new Error(`no such connection: ${connectionId}`);
  if (c.conn.state !== 'ready') throw new Error(`connection ${connectionId} is ${c.conn.state}; reconnect first`);
  return c;
}

/** `~/.ssh/id_x` typed into the form means the home directory, as in ssh_config. */
function expandHome(p: string): string {
  return p === '~' ? os.homedir() : p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}

function withExpandedKeys<T extends SshEndpoint>(e: T): T {
  return e.identityFiles ? { ...e, identityFiles: e.identityFiles.map(expandHome) } : e;
}

function connectOptions(target: SshTarget, prompt: PromptFn, passwords: Map<string, string>): ConnectOptions {
  return {
    target: { ...withExpandedKeys(target), jumps: target.jumps?.map(withExpandedKeys) },
    prompt,
    passwords,
    agentSocket: target.useAgent === false ? null : undefined,
    hostKeys: {
      knownHosts: knownHosts(),
      decideUnknown: async (verdict) => {
        const answer = await prompt({ kind: 'host-key', verdict });
        const d = answer?.[0];
        return d === 'accept-save' || d === 'accept-once' ? (d as UnknownKeyDecision) : 'reject';
      },
    },
  };
}

function watch(c: LiveConnection): void {
  c.conn.once('dropped', (err: Error) => {
    c.ctx.emit('ssh.state', { connectionId: c.id, state: 'dropped', message: err.message });
    if (c.target.autoReconnect !== false && connections.get(c.id) === c) startAutoReconnect(c, err.message);
  });
  // The session log: every exec on the node, exact text, before it is sent.
  c.conn.on('command', (e: CommandEvent) => {
    c.ctx.emit('ssh.command', { id: e.id, connectionId: c.id, at: Date.now(), kind: 'exec', text: e.text });
  });
  c.conn.on('command-end', (e: CommandEndEvent) => {
    c.ctx.emit('ssh.command.end', { id: e.id, connectionId: c.id, code: e.code, elapsedMs: e.elapsedMs });
  });
}

let sftpSeq = 0;

/** Record a read-only SFTP access in the session log (there is no shell command to show). */
function recordSftp(c: LiveConnection, text: string): void {
  c.ctx.emit('ssh.command', { id: `sftp-${++sftpSeq}`, connectionId: c.id, at: Date.now(), kind: 'sftp', text });
}

/**
 * One sudo runner per SSH connection: sudo is probed and its password asked
 * once; the password stays in `c.sudo` (memory only), shared with `ssh.exec`.
 */
const sudoRunners = new WeakMap<SshConnection, SudoRunner>();

/**
 * The connection's sudo state (password in memory, kept across reconnects),
 * bound to its current prompt. Whenever sudo accepts a password, by a runner
 * or by `ssh.exec`, one the user asked to remember is written then: only a
 * password that worked is ever kept.
 */
function sudoSession(c: LiveConnection): SudoSession {
  return Object.assign(c.sudo, {
    prompt: c.prompt,
    user: c.target.user,
    host: c.target.host,
    onAccepted: () => commitRemembered(c, ['sudo']),
  });
}

function sudoRunnerFor(c: LiveConnection): SudoRunner {
  let r = sudoRunners.get(c.conn);
  if (!r) {
    r = new SudoRunner(c.conn, sudoSession(c));
    sudoRunners.set(c.conn, r);
  }
  return r;
}

/** sudo is ready on `c` (asked for the password if it needs one); a refusal is a clear ApiError. */
async function readySudo(c: LiveConnection): Promise<SudoRunner> {
  const sudo = sudoRunnerFor(c);
  try {
    await sudo.ready();
  } catch (e) {
    throw explainSudoError(e);
  }
  return sudo;
}

/** sudo's refusals (wrong password, cancelled, not allowed) and the sudo source's errors, as client errors. */
function explainSudoError(e: unknown): Error {
  if (e instanceof ApiError) return e;
  if (e instanceof SudoError) return new ApiError('sudo-failed', e.message);
  if (e instanceof SudoSourceError) return new ApiError(e.code, e.message);
  return e instanceof Error ? e : new Error(String(e));
}

/** `dirPath` read in place as root (find + dd through sudo; each command announced in the session log). */
async function openSudoDirectory(c: LiveConnection, dirPath: string, label: string): Promise<RemoteDirectory> {
  const sudo = await readySudo(c);
  const dir = sudoDirectory(sudo, dirPath, label);
  try {
    // Fail now, with the reason (missing, not a directory), rather than in the report.
    await dir.list();
  } catch (e) {
    await dir.close();
    throw explainSudoError(e);
  }
  return explained(dir, label, dirPath, (e) => explainSudoError(e));
}

/**
 * A remote directory whose errors are explained (`explain(error, path)`), its
 * subdirectories too (etcd reads member/wal and member/snap below the data
 * dir); closing it closes them (the underlying source tracks its children).
 */
function explained(
  dir: DirectorySource & { close(): Promise<void> },
  name: string,
  dirPath: string,
  explain: (e: unknown, where: string) => unknown,
): RemoteDirectory {
  return {
    name,
    list: () => dir.list().catch((e: unknown) => Promise.reject(explain(e, dirPath))),
    open: (file) => dir.open(file).catch((e: unknown) => Promise.reject(explain(e, `${dirPath}/${file}`))),
    async subdir(sub: string) {
      const where = `${dirPath}/${sub}`;
      if (!dir.subdir) throw new Error(`${dirPath} cannot open subdirectories`);
      const child = await dir.subdir(sub).catch((e: unknown) => Promise.reject(explain(e, where)));
      return explained(child as DirectorySource & { close(): Promise<void> }, sub, where, explain);
    },
    close: () => dir.close(),
  };
}

/** A remote path as the node will read it: absolute, normalised, no trailing slash. */
function normaliseRemotePath(p: unknown): string {
  if (typeof p !== 'string' || p.trim() === '' || p.includes('\0')) throw new ApiError('bad-params', 'the remote path must be a non-empty string');
  if (!p.startsWith('/')) throw new ApiError('bad-params', `the remote path must be absolute (start with /): ${p}`);
  const n = path.posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

const SFTP_PERMISSION_DENIED = 3;
const SFTP_NO_SUCH_FILE = 2;

/**
 * SFTP runs as the login user, not root: MicroK8s and etcd data dirs are
 * usually root-only. Say so, and what to do instead, rather than a bare code.
 */
export function explainSftpError(e: unknown, what: string, user: string): Error {
  const code = (e as { code?: unknown }).code;
  if (code === SFTP_PERMISSION_DENIED) {
    return new ApiError(
      'permission-denied',
      `permission denied: ${user} cannot read ${what} over SFTP (SFTP runs as the login user, not root). ` +
        'Tick "Use sudo" to read it as root through sudo (read-only commands, shown before they run), ' +
        'or connect as a user who can read it (e.g. a member of the directory\'s group).',
    );
  }
  if (code === SFTP_NO_SUCH_FILE) return new ApiError('not-found', `${what} does not exist on the node`);
  return e instanceof Error ? e : new Error(String(e));
}

/** `YYYY-MM-DD`-style safe host label for a local directory name. */
function hostLabel(target: SshTarget): string {
  return (target.label ?? target.host).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || 'node';
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Where a copy may go. Electron: any absolute path the user chose. Web mode:
 * only under the copies root, checked again after symlinks are resolved (a
 * link inside the root must not lead out of it).
 */
async function checkedLocalDir(localDir: unknown, ctx: SshCallContext): Promise<string> {
  if (typeof localDir !== 'string' || localDir.trim() === '' || localDir.includes('\0')) throw new ApiError('bad-params', 'localDir must be a path');
  const expanded = expandHome(localDir.trim());
  if (!path.isAbsolute(expanded)) throw new ApiError('bad-params', `localDir must be absolute: ${localDir}`);
  const dest = path.resolve(expanded);
  if (ctx.transport !== 'web') return dest;
  const root = path.resolve(currentConfig().copiesRoot);
  if (!isInside(root, dest) || dest === root) {
    throw new ApiError('forbidden', `in web mode copies go only under ${root} (a subdirectory of it); ${dest} is outside`);
  }
  await fs.mkdir(root, { recursive: true, mode: 0o700 });
  const realRoot = await fs.realpath(root);
  // The deepest existing ancestor decides where new directories would really be created.
  let probe = dest;
  for (;;) {
    try {
      const real = await fs.realpath(probe);
      if (!isInside(realRoot, real)) throw new ApiError('forbidden', `${dest} leads outside ${root} through a symbolic link`);
      break;
    } catch (e) {
      if (e instanceof ApiError) throw e;
      const up = path.dirname(probe);
      if (up === probe) break;
      probe = up;
    }
  }
  return dest;
}

function rememberCopyJob(job: CopyJob): void {
  copyJobs.set(job.id, job);
  const finished = [...copyJobs.values()].filter((j) => j.state !== 'running').sort((a, b) => a.finishedAt - b.finishedAt);
  while (finished.length > MAX_COPY_JOBS_REMEMBERED) copyJobs.delete(finished.shift()!.id);
}

/**
 * What `ValidationService` needs from SSH: an SFTP directory of a connection
 * this client opened (read-only), and the output of this client's finished
 * copy jobs. Another client's connections and jobs do not exist for it.
 */
export const sshRemoteSources: RemoteSources = {
  async openDirectory(connectionId, remotePath, ctx, options) {
    const c = connections.get(connectionId);
    if (!c || c.ctx !== ctx) throw new ApiError('unknown-connection', `no such connection: ${connectionId}`);
    if (c.conn.state !== 'ready') throw new ApiError('not-connected', `the connection to ${c.target.host} is ${c.conn.state}; reconnect first`);
    const dirPath = normaliseRemotePath(remotePath);
    const who = c.target.user;
    if (options?.sudo === true) return openSudoDirectory(c, dirPath, `${who}@${c.target.label ?? c.target.host}:${dirPath}`);
    recordSftp(c, `sftp (read-only): list and read ${dirPath}`);
    const sftp = await c.conn.sftp();
    const dir = sftpDirectory(sftp, dirPath);
    // Fail now, with the reason, rather than halfway through: the listing and one file.
    let entries;
    try {
      entries = await dir.list();
    } catch (e) {
      await dir.close();
      throw explainSftpError(e, dirPath, who);
    }
    const firstFile = entries.find((e) => e.kind === 'file');
    if (firstFile) {
      try {
        await dir.open(firstFile.name);
      } catch (e) {
        await dir.close();
        throw explainSftpError(e, `${dirPath}/${firstFile.name}`, who);
      }
    }
    const label = `${who}@${c.target.label ?? c.target.host}:${dirPath}`;
    return explained(dir, label, dirPath, (e, where) => explainSftpError(e, where, who));
  },
  copyOutput(jobId, ctx) {
    const job = typeof jobId === 'string' ? copyJobs.get(jobId) : undefined;
    if (!job || job.ctx !== ctx) throw new ApiError('unknown-copy', `no copy-out job ${String(jobId)}`);
    if (job.state !== 'done' || !job.localPath) throw new ApiError('not-finished', 'that copy-out has not finished');
    return job.localPath;
  },
};

interface EstablishOptions {
  previous?: LiveConnection;
  profileId: string | null;
  /** One attempt of an automatic reconnect (its loop reports failures itself). */
  auto?: { retry: AutoRetry };
}

async function establish(id: string, target: SshTarget, ctx: SshCallContext, o: EstablishOptions): Promise<LiveConnection> {
  const { previous, auto } = o;
  const passwords = previous?.passwords ?? new Map<string, string>();
  const secrets: PromptSecrets = { toRemember: previous?.secrets.toRemember ?? new Map(), usedRemembered: new Set() };
  const prompt = makePrompt(ctx, id, {
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
    const opts = connectOptions(target, prompt, passwords);
    const conn = previous && !auto ? await connectWithBackoff(opts, { attempts: 5 }) : await connectSsh(opts);
    if (auto?.retry.stopped || (previous && !connections.has(id))) {
      // Stopped or disconnected while this attempt ran: do not bring a session back to life.
      conn.close();
      throw new Error('reconnect stopped');
    }
    const c: LiveConnection = { id, target, conn, ctx, passwords, sudo: previous?.sudo ?? {}, prompt, profileId: o.profileId, secrets };
    connections.set(id, c);
    watch(c);
    ctx.emit('ssh.state', { connectionId: id, state: 'ready' });
    await commitRemembered(c, ['password', 'passphrase']);
    return c;
  } catch (e) {
    const hostKey = e instanceof HostKeyRejectedError ? e.verdict : undefined;
    if (e instanceof HostKeyRejectedError) lastRejected.set(`${e.verdict.host}:${e.verdict.port}`, e);
    cancelPrompts(id);
    if (!auto) ctx.emit('ssh.state', { connectionId: id, state: previous ? 'dropped' : 'closed', message: (e as Error).message, hostKey });
    throw e;
  }
}

function startAutoReconnect(c: LiveConnection, why: string): void {
  if (autoRetries.has(c.id)) return;
  const r: AutoRetry = { attempt: 0, timer: null, running: null, stopped: false, lastError: why };
  autoRetries.set(c.id, r);
  scheduleRetry(c, r);
}

/** Wait (exponential backoff with jitter), then try once; the UI counts down to `retryAt`. */
function scheduleRetry(c: LiveConnection, r: AutoRetry): void {
  const policy = sshSessionConfig().retry;
  if (r.attempt >= policy.maxAttempts) {
    stopRetry(c, r, 'attempts', `gave up after ${r.attempt} attempts: ${r.lastError ?? 'connection lost'}`);
    return;
  }
  r.attempt++;
  const delay = retryDelay(r.attempt, policy);
  c.ctx.emit('ssh.state', {
    connectionId: c.id,
    state: 'reconnecting',
    message: r.lastError ?? undefined,
    auto: { attempt: r.attempt, retryAt: Date.now() + delay },
  });
  r.timer = setTimeout(() => void runRetry(c, r), delay);
}

function runRetry(c: LiveConnection, r: AutoRetry): Promise<void> {
  if (r.running) return r.running;
  if (r.stopped) return Promise.resolve();
  if (r.timer) clearTimeout(r.timer);
  r.timer = null;
  r.running = (async () => {
    try {
      await establish(c.id, c.target, c.ctx, { previous: c, profileId: c.profileId, auto: { retry: r } });
      if (autoRetries.get(c.id) === r) autoRetries.delete(c.id);
    } catch (e) {
      if (r.stopped) return;
      const message = (e as Error).message;
      r.lastError = message;
      // The user's or the server's refusal: retrying would only repeat it (or lock the account).
      if (e instanceof HostKeyRejectedError) stopRetry(c, r, 'host-key', message, e.verdict);
      else if (e instanceof SshAuthError) stopRetry(c, r, 'auth', message);
      else scheduleRetry(c, r);
    } finally {
      r.running = null;
    }
  })();
  return r.running;
}

function stopRetry(c: LiveConnection, r: AutoRetry, why: 'host-key' | 'auth' | 'user' | 'attempts', message: string, hostKey?: SshEvents['ssh.state']['hostKey']): void {
  r.stopped = true;
  if (r.timer) clearTimeout(r.timer);
  r.timer = null;
  if (autoRetries.get(c.id) === r) autoRetries.delete(c.id);
  cancelPrompts(c.id);
  if (!connections.has(c.id)) return;
  c.ctx.emit('ssh.state', { connectionId: c.id, state: 'dropped', message, hostKey, auto: { attempt: r.attempt, retryAt: null, stopped: why } });
}

export const sshHandlers: SshHandlers = {
  async 'ssh.config.import'({ path: file }) {
    const { hosts } = await importSshConfig(file ?? currentConfig().sshConfigPath);
    return hosts;
  },

  async 'ssh.connect'({ target, profileId }, ctx) {
    const id = randomUUID();
    // Only a profile that exists keys remembered secrets (and they are bound to user@host:port besides).
    const profile = typeof profileId === 'string' && profileId ? await profileStore().get(profileId).catch(() => null) : null;
    const c = await establish(id, target, ctx, { profileId: profile?.id ?? null });
    return { connectionId: id, verdicts: c.conn.verdicts };
  },

  async 'ssh.reconnect'({ connectionId }, ctx) {
    const prev = connections.get(connectionId);
    if (!prev) throw new Error(`no such connection: ${connectionId}`);
    if (prev.conn.state === 'ready') return { connectionId };
    const retry = autoRetries.get(connectionId);
    if (retry && !retry.stopped) {
      // "Reconnect now": the waiting attempt starts at once; a failure goes back to waiting.
      await runRetry(prev, retry);
      const now = connections.get(connectionId);
      if (now?.conn.state !== 'ready') throw new Error(retry.lastError ?? 'reconnect failed');
      return { connectionId };
    }
    // One manual reconnect at a time per connection: a second click joins the first.
    let pending = manualReconnects.get(connectionId);
    if (!pending) {
      pending = establish(connectionId, prev.target, ctx, { previous: prev, profileId: prev.profileId }).finally(() => manualReconnects.delete(connectionId));
      manualReconnects.set(connectionId, pending);
    }
    await pending;
    return { connectionId };
  },

  async 'ssh.reconnect.stop'({ connectionId }) {
    const c = connections.get(connectionId);
    const r = autoRetries.get(connectionId);
    if (!c || !r) return { stopped: false };
    stopRetry(c, r, 'user', r.lastError ?? 'automatic reconnect stopped');
    return { stopped: true };
  },

  async 'ssh.profiles.list'() {
    return profileStore().list();
  },

  async 'ssh.profiles.save'(params) {
    const p = (params ?? {}) as { id?: unknown; label?: unknown; target?: unknown };
    return profileStore().save({ id: p.id, label: p.label, target: p.target });
  },

  async 'ssh.profiles.delete'({ id }, ctx) {
    const deleted = await profileStore().delete(id);
    if (deleted && typeof id === 'string') await secretStore(ctx).forget(id).catch(() => 0);
    return { deleted };
  },

  async 'ssh.secrets.status'(_params, ctx) {
    return secretStore(ctx).status();
  },

  async 'ssh.secrets.forget'({ profileId }, ctx) {
    if (typeof profileId !== 'string' || !profileId) throw new ApiError('bad-params', 'profileId is required');
    return { removed: await secretStore(ctx).forget(profileId) };
  },

  async 'ssh.disconnect'({ connectionId }) {
    const c = connections.get(connectionId);
    if (!c) return { closed: false };
    const retry = autoRetries.get(connectionId);
    if (retry) {
      retry.stopped = true;
      if (retry.timer) clearTimeout(retry.timer);
      autoRetries.delete(connectionId);
    }
    for (const t of terminals.values()) if (t.connectionId === connectionId) t.session.close();
    cancelPrompts(connectionId);
    c.conn.close();
    c.passwords.clear();
    c.sudo.password = undefined;
    c.secrets.toRemember.clear();
    connections.delete(connectionId);
    c.ctx.emit('ssh.state', { connectionId, state: 'closed' });
    return { closed: true };
  },

  async 'ssh.prompt.answer'({ promptId, answers, remember }) {
    const p = pendingPrompts.get(promptId);
    if (!p) return { accepted: false };
    if (answers !== null && (!Array.isArray(answers) || answers.some((a) => typeof a !== 'string'))) {
      throw new ApiError('bad-params', 'answers must be a list of strings, or null to cancel');
    }
    p.resolve(answers, remember === true);
    return { accepted: true };
  },

  async 'ssh.hostkey.replace'({ host, port, approvedFingerprint, reason }) {
    const rejected = lastRejected.get(`${host}:${port}`);
    if (!rejected || rejected.verdict.kind !== 'changed') {
      throw new Error(`no refused changed key on record for ${host}:${port}; connect first to see the new key`);
    }
    const rec = await knownHosts().replace(host, port, rejected.keyBlob, { approvedFingerprint, reason });
    lastRejected.delete(`${host}:${port}`);
    return { removedLines: rec.removedLines, keptSharedLines: rec.keptSharedLines };
  },

  async 'ssh.exec'({ connectionId, command, sudo, maxOutputBytes }) {
    const c = live(connectionId);
    if (typeof command !== 'string' || command.trim() === '') throw new ApiError('bad-params', 'command must be a non-empty string');
    const cap =
      typeof maxOutputBytes === 'number' && Number.isFinite(maxOutputBytes) && maxOutputBytes > 0
        ? Math.min(Math.floor(maxOutputBytes), MAX_EXEC_OUTPUT)
        : MAX_EXEC_OUTPUT;
    // The sudo password, once given, stays in c.sudo (memory) for this connection only.
    if (sudo) {
      // sudo accepting the password (it is only asked when needed) lets "Remember" keep it (sudoSession's onAccepted).
      return runSudo(c.conn, command, sudoSession(c), { maxOutputBytes: cap });
    }
    return c.conn.exec(command, { maxOutputBytes: cap });
  },

  async 'ssh.list'({ connectionId, path: remotePath }) {
    const c = live(connectionId);
    recordSftp(c, `sftp (read-only): list ${remotePath}`);
    try {
      return await listRemoteDir(await c.conn.sftp(), remotePath);
    } catch (e) {
      throw explainSftpError(e, remotePath, c.target.user);
    }
  },

  async 'ssh.terminal.open'({ connectionId, cols, rows, term }, ctx) {
    const c = live(connectionId);
    const terminalId = randomUUID();
    const dir = currentConfig().recordingsDir;
    let recorder: SessionRecorder | null = null;
    if (dir) {
      // Recordings can hold whatever the node printed: owner-only.
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const host = c.target.host.replace(/[^A-Za-z0-9._-]/g, '_');
      recorder = new SessionRecorder({
        basePath: path.join(dir, `${stamp}-${host}-${terminalId.slice(0, 8)}`),
        cols,
        rows,
        title: `${c.target.user}@${c.target.host}`,
      });
    }
    let session: TerminalSession;
    try {
      session = await TerminalSession.open(c.conn, {
        cols,
        rows,
        term,
        recorder: recorder ?? undefined,
        onData: (chunk) => ctx.emit('ssh.terminal.data', { terminalId, dataBase64: chunk.toString('base64') }),
      });
    } catch (e) {
      await recorder?.close();
      throw e;
    }
    terminals.set(terminalId, { session, recorder, connectionId });
    if (recorder) rememberRecording(terminalId, { basePath: recorder.basePath, recorder });
    session.once('exit', (reason: 'exit' | 'dropped' | 'closed', code: number | null) => {
      terminals.delete(terminalId);
      const rec = recordings.get(terminalId);
      if (rec) rec.closing = recorder!.close().then(() => undefined, () => undefined);
      ctx.emit('ssh.terminal.exit', { terminalId, reason, code });
    });
    return { terminalId };
  },

  async 'ssh.recording.export'({ terminalId, format }) {
    const rec = recordings.get(terminalId);
    if (!rec) throw new Error(`no recording for terminal ${terminalId} (recording is off, or it was opened in another session)`);
    if (format !== 'txt' && format !== 'cast') throw new Error(`unknown recording format: ${String(format)}`);
    if (rec.closing) await rec.closing;
    const file = `${rec.basePath}.${format}`;
    let text: string;
    if (format === 'txt') {
      text = rec.closing ? await fs.readFile(file, 'utf8') : await rec.recorder.transcript();
    } else {
      if (!rec.closing) await rec.recorder.flush();
      text = await readTail(file, MAX_EXPORT_BYTES);
    }
    const truncated = text.length > MAX_EXPORT_CHARS;
    if (truncated) text = text.slice(text.length - MAX_EXPORT_CHARS);
    return { fileName: path.basename(file), path: file, text, truncated };
  },

  async 'ssh.terminal.input'({ terminalId, data }) {
    const t = terminals.get(terminalId);
    if (!t) return { ok: false };
    t.session.write(data);
    return { ok: true };
  },

  async 'ssh.terminal.resize'({ terminalId, cols, rows }) {
    const t = terminals.get(terminalId);
    if (!t) return { ok: false };
    t.session.resize(cols, rows);
    return { ok: true };
  },

  async 'ssh.terminal.ack'({ terminalId, bytes }) {
    const t = terminals.get(terminalId);
    if (!t) return { ok: false };
    t.session.ack(bytes);
    return { ok: true };
  },

  async 'ssh.terminal.close'({ terminalId }) {
    const t = terminals.get(terminalId);
    if (!t) return { ok: false };
    t.session.close();
    return { ok: true };
  },

  async 'ssh.copyout.plan'({ connectionId, remotePath, sudo }) {
    const c = live(connectionId);
    const remote = normaliseRemotePath(remotePath);
    const config = currentConfig();
    const root = path.resolve(config.copiesRoot);
    const plan: CopyOutPlan = {
      remotePath: remote,
      localDir: path.join(root, `${hostLabel(c.target)}-${localDate(new Date())}`),
      copiesRoot: root,
      confined: c.ctx.transport === 'web',
      commands: sudo === true ? sudoCopyCommands(remote) : [remoteHashCommand(remote)],
      ...(sudo === true ? { sudo: true } : {}),
    };
    return plan;
  },

  async 'ssh.copyout.start'({ connectionId, remotePath, localDir, force, sudo: asRoot }, ctx) {
    const c = live(connectionId);
    const remote = normaliseRemotePath(remotePath);
    const base = path.posix.basename(remote);
    if (base === '..' || base === '.') throw new ApiError('bad-params', `cannot copy ${remote}`);
    const dest = await checkedLocalDir(localDir, ctx);
    // Through sudo: the password is asked (once per connection) before the job exists, so a refusal answers this call.
    const sudo = asRoot === true ? await readySudo(c) : null;
    const jobId = randomUUID();
    const job: CopyJob = { id: jobId, ctx, connectionId, abort: new AbortController(), state: 'running', localPath: null, finishedAt: 0 };
    rememberCopyJob(job);
    const options = {
      remotePath: remote,
      localDir: dest,
      force: force === true,
      signal: job.abort.signal,
      onProgress: (progress: SshEvents['ssh.copyout.progress']['progress']) => ctx.emit('ssh.copyout.progress', { jobId, progress }),
    };
    // With sudo every read is a command, announced in the session log by itself; SFTP reads are recorded here.
    if (!sudo) recordSftp(c, `sftp (read-only): copy ${remote} to ${dest}`);
    void (sudo ? sudoCopyOut({ ...options, sudo }) : copyOut({ ...options, conn: c.conn })).then(
      (result) => {
        job.state = 'done';
        job.localPath = result.localPath;
        job.finishedAt = Date.now();
        ctx.emit('ssh.copyout.done', { jobId, result });
      },
      (e: unknown) => {
        job.state = 'failed';
        job.finishedAt = Date.now();
        const err = sudo ? explainSudoError(e) : explainSftpError(e, remote, c.target.user);
        ctx.emit('ssh.copyout.failed', {
          jobId,
          error: err.message,
          resumable: e instanceof CopyOutError && e.resumable,
          changing: e instanceof DirectoryChangingError ? e.changed : undefined,
        });
      },
    );
    return { jobId };
  },

  async 'ssh.copyout.cancel'({ jobId }) {
    const job = copyJobs.get(jobId);
    if (!job || job.state !== 'running') return { cancelled: false };
    job.abort.abort();
    return { cancelled: true };
  },
};

/** Close every connection, terminal and copy job (window closed, web server stopped). */
export async function shutdownSsh(): Promise<void> {
  for (const job of copyJobs.values()) job.abort.abort();
  copyJobs.clear();
  for (const id of [...connections.keys()]) await sshHandlers['ssh.disconnect']({ connectionId: id }, connections.get(id)!.ctx);
}

/**
 * A client went away (web-mode socket closed, window gone): close the
 * connections it opened, so no session or pending prompt outlives its UI.
 */
export async function releaseSshContext(ctx: SshCallContext): Promise<void> {
  for (const [id, c] of [...connections]) {
    if (c.ctx === ctx) await sshHandlers['ssh.disconnect']({ connectionId: id }, ctx);
  }
  for (const [id, job] of [...copyJobs]) {
    if (job.ctx !== ctx) continue;
    job.abort.abort();
    copyJobs.delete(id);
  }
}
