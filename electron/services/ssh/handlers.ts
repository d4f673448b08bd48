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
import type { CopyOutPlan, SshEndpoint, SshEvents, SshMethods, SshPrompt, SshTarget, UnknownKeyDecision } from '../../../shared/contract/ssh';
import { ApiError, type RemoteDirectory, type RemoteSources } from '../validation-service';
import type { PromptFn, PromptRequest } from './auth';
import {
  HostKeyRejectedError,
  connectSsh,
  connectWithBackoff,
  endpointKey,
  runSudo,
  type CommandEndEvent,
  type CommandEvent,
  type ConnectOptions,
  type SshConnection,
} from './connection';
import { copyOut, CopyOutError, DirectoryChangingError, remoteHashCommand } from './copy-out';
import { KnownHostsFile } from './known-hosts';
import { SessionRecorder } from './recorder';
import { listRemoteDir, sftpDirectory } from './sftp-source';
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
  sudo: { password?: string };
  prompt: PromptFn;
}

const connections = new Map<string, LiveConnection>();
const pendingPrompts = new Map<string, { resolve(answers: string[] | null): void; connectionId: string | null }>();
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

function knownHosts(): KnownHostsFile {
  const config = currentConfig();
  return new KnownHostsFile(config.knownHostsPath, { hashNewEntries: false, auditLogPath: config.auditLogPath });
}

function makePrompt(ctx: SshCallContext, connectionId: string | null, remember?: Map<string, string>): PromptFn {
  return (request: PromptRequest) =>
    new Promise((resolve) => {
      const promptId = randomUUID();
      pendingPrompts.set(promptId, {
        connectionId,
        resolve: (answers) => {
          pendingPrompts.delete(promptId);
          if (answers && remember && request.kind === 'password') remember.set(endpointKey(request), answers[0] ?? '');
          resolve(answers);
        },
      });
      ctx.emit('ssh.prompt', { ...request, promptId } as SshPrompt);
    });
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
        'Copy it out as root instead (sudo tar on the node, then copy the archive), ' +
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
  async openDirectory(connectionId, remotePath, ctx) {
    const c = connections.get(connectionId);
    if (!c || c.ctx !== ctx) throw new ApiError('unknown-connection', `no such connection: ${connectionId}`);
    if (c.conn.state !== 'ready') throw new ApiError('not-connected', `the connection to ${c.target.host} is ${c.conn.state}; reconnect first`);
    const dirPath = normaliseRemotePath(remotePath);
    const who = c.target.user;
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
    const wrapped: RemoteDirectory = {
      name: label,
      list: () => dir.list().catch((e: unknown) => Promise.reject(explainSftpError(e, dirPath, who))),
      open: (name) => dir.open(name).catch((e: unknown) => Promise.reject(explainSftpError(e, `${dirPath}/${name}`, who))),
      close: () => dir.close(),
    };
    return wrapped;
  },
  copyOutput(jobId, ctx) {
    const job = typeof jobId === 'string' ? copyJobs.get(jobId) : undefined;
    if (!job || job.ctx !== ctx) throw new ApiError('unknown-copy', `no copy-out job ${String(jobId)}`);
    if (job.state !== 'done' || !job.localPath) throw new ApiError('not-finished', 'that copy-out has not finished');
    return job.localPath;
  },
};

async function establish(id: string, target: SshTarget, ctx: SshCallContext, previous?: LiveConnection): Promise<LiveConnection> {
  const passwords = previous?.passwords ?? new Map<string, string>();
  const prompt = makePrompt(ctx, id, passwords);
  ctx.emit('ssh.state', { connectionId: id, state: previous ? 'reconnecting' : 'connecting' });
  try {
    const opts = connectOptions(target, prompt, passwords);
    const conn = previous ? await connectWithBackoff(opts, { attempts: 5 }) : await connectSsh(opts);
    const c: LiveConnection = { id, target, conn, ctx, passwords, sudo: previous?.sudo ?? {}, prompt };
    connections.set(id, c);
    watch(c);
    ctx.emit('ssh.state', { connectionId: id, state: 'ready' });
    return c;
  } catch (e) {
    const hostKey = e instanceof HostKeyRejectedError ? e.verdict : undefined;
    if (e instanceof HostKeyRejectedError) lastRejected.set(`${e.verdict.host}:${e.verdict.port}`, e);
    ctx.emit('ssh.state', { connectionId: id, state: previous ? 'dropped' : 'closed', message: (e as Error).message, hostKey });
    throw e;
  }
}

export const sshHandlers: SshHandlers = {
  async 'ssh.config.import'({ path: file }) {
    const { hosts } = await importSshConfig(file ?? currentConfig().sshConfigPath);
    return hosts;
  },

  async 'ssh.connect'({ target }, ctx) {
    const id = randomUUID();
    const c = await establish(id, target, ctx);
    return { connectionId: id, verdicts: c.conn.verdicts };
  },

  async 'ssh.reconnect'({ connectionId }, ctx) {
    const prev = connections.get(connectionId);
    if (!prev) throw new Error(`no such connection: ${connectionId}`);
    if (prev.conn.state === 'ready') return { connectionId };
    await establish(connectionId, prev.target, ctx, prev);
    return { connectionId };
  },

  async 'ssh.disconnect'({ connectionId }) {
    const c = connections.get(connectionId);
    if (!c) return { closed: false };
    for (const t of terminals.values()) if (t.connectionId === connectionId) t.session.close();
    for (const [pid, p] of pendingPrompts) if (p.connectionId === connectionId) p.resolve(null), pendingPrompts.delete(pid);
    c.conn.close();
    c.passwords.clear();
    c.sudo.password = undefined;
    connections.delete(connectionId);
    c.ctx.emit('ssh.state', { connectionId, state: 'closed' });
    return { closed: true };
  },

  async 'ssh.prompt.answer'({ promptId, answers }) {
    const p = pendingPrompts.get(promptId);
    if (!p) return { accepted: false };
    p.resolve(answers);
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

  async 'ssh.exec'({ connectionId, command, sudo }) {
    const c = live(connectionId);
    // The sudo password, once given, stays in c.sudo (memory) for this connection only.
    if (sudo) return runSudo(c.conn, command, Object.assign(c.sudo, { prompt: c.prompt, user: c.target.user, host: c.target.host }));
    return c.conn.exec(command);
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

  async 'ssh.copyout.plan'({ connectionId, remotePath }) {
    const c = live(connectionId);
    const remote = normaliseRemotePath(remotePath);
    const config = currentConfig();
    const root = path.resolve(config.copiesRoot);
    const plan: CopyOutPlan = {
      remotePath: remote,
      localDir: path.join(root, `${hostLabel(c.target)}-${localDate(new Date())}`),
      copiesRoot: root,
      confined: c.ctx.transport === 'web',
      commands: [remoteHashCommand(remote)],
    };
    return plan;
  },

  async 'ssh.copyout.start'({ connectionId, remotePath, localDir, force }, ctx) {
    const c = live(connectionId);
    const remote = normaliseRemotePath(remotePath);
    const base = path.posix.basename(remote);
    if (base === '..' || base === '.') throw new ApiError('bad-params', `cannot copy ${remote}`);
    const dest = await checkedLocalDir(localDir, ctx);
    const jobId = randomUUID();
    const job: CopyJob = { id: jobId, ctx, connectionId, abort: new AbortController(), state: 'running', localPath: null, finishedAt: 0 };
    rememberCopyJob(job);
    recordSftp(c, `sftp (read-only): copy ${remote} to ${dest}`);
    void copyOut({
      conn: c.conn,
      remotePath: remote,
      localDir: dest,
      force: force === true,
      signal: job.abort.signal,
      onProgress: (progress) => ctx.emit('ssh.copyout.progress', { jobId, progress }),
    }).then(
      (result) => {
        job.state = 'done';
        job.localPath = result.localPath;
        job.finishedAt = Date.now();
        ctx.emit('ssh.copyout.done', { jobId, result });
      },
      (e: unknown) => {
        job.state = 'failed';
        job.finishedAt = Date.now();
        const err = explainSftpError(e, remote, c.target.user);
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
