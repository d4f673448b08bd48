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
import * as os from 'node:os';
import * as path from 'node:path';
import type { SshEvents, SshMethods, SshPrompt, SshTarget, UnknownKeyDecision } from '../../../shared/contract/ssh';
import type { PromptFn, PromptRequest } from './auth';
import { HostKeyRejectedError, connectSsh, connectWithBackoff, endpointKey, runSudo, type ConnectOptions, type SshConnection } from './connection';
import { copyOut, CopyOutError } from './copy-out';
import { KnownHostsFile } from './known-hosts';
import { SessionRecorder } from './recorder';
import { listRemoteDir } from './sftp-source';
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
}

const config: SshServiceConfig = {
  knownHostsPath: path.join(os.homedir(), '.ssh', 'known_hosts'),
  auditLogPath: path.join(os.homedir(), '.lifeboat', 'host-key-changes.jsonl'),
  recordingsDir: null,
};

/** Set paths (the app points recordings at the recovery session's folder). */
export function configureSsh(patch: Partial<SshServiceConfig>): void {
  Object.assign(config, patch);
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
const copyJobs = new Map<string, AbortController>();
/** Keys refused as changed, by host:port, so the replace path uses exactly the key seen. */
const lastRejected = new Map<string, HostKeyRejectedError>();

function knownHosts(): KnownHostsFile {
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

function connectOptions(target: SshTarget, prompt: PromptFn, passwords: Map<string, string>): ConnectOptions {
  return {
    target,
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
}

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
    if (e instanceof HostKeyRejectedError) lastRejected.set(`${e.verdict.host}:${e.verdict.port}`, e);
    ctx.emit('ssh.state', { connectionId: id, state: 'closed', message: (e as Error).message });
    throw e;
  }
}

export const sshHandlers: SshHandlers = {
  async 'ssh.config.import'({ path: file }) {
    const { hosts } = await importSshConfig(file ?? config.sshConfigPath);
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
    return listRemoteDir(await c.conn.sftp(), remotePath);
  },

  async 'ssh.terminal.open'({ connectionId, cols, rows, term }, ctx) {
    const c = live(connectionId);
    const terminalId = randomUUID();
    const recorder = config.recordingsDir
      ? new SessionRecorder({
          basePath: path.join(config.recordingsDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${c.target.host}-${terminalId.slice(0, 8)}`),
          cols,
          rows,
          title: `${c.target.user}@${c.target.host}`,
        })
      : null;
    const session = await TerminalSession.open(c.conn, {
      cols,
      rows,
      term,
      recorder: recorder ?? undefined,
      onData: (chunk) => ctx.emit('ssh.terminal.data', { terminalId, dataBase64: chunk.toString('base64') }),
    });
    terminals.set(terminalId, { session, recorder, connectionId });
    session.once('exit', (reason: 'exit' | 'dropped' | 'closed', code: number | null) => {
      terminals.delete(terminalId);
      void recorder?.close();
      ctx.emit('ssh.terminal.exit', { terminalId, reason, code });
    });
    return { terminalId };
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

  async 'ssh.copyout.start'({ connectionId, remotePath, localDir, force }, ctx) {
    const c = live(connectionId);
    const jobId = randomUUID();
    const abort = new AbortController();
    copyJobs.set(jobId, abort);
    void copyOut({
      conn: c.conn,
      remotePath,
      localDir,
      force,
      signal: abort.signal,
      onProgress: (progress) => ctx.emit('ssh.copyout.progress', { jobId, progress }),
    }).then(
      (result) => ctx.emit('ssh.copyout.done', { jobId, result }),
      (e: Error) => ctx.emit('ssh.copyout.failed', { jobId, error: e.message, resumable: e instanceof CopyOutError && e.resumable }),
    ).finally(() => copyJobs.delete(jobId));
    return { jobId };
  },

  async 'ssh.copyout.cancel'({ jobId }) {
    const a = copyJobs.get(jobId);
    if (!a) return { cancelled: false };
    a.abort();
    return { cancelled: true };
  },
};

/** Close every connection, terminal and copy job (window closed, web server stopped). */
export async function shutdownSsh(): Promise<void> {
  for (const job of copyJobs.values()) job.abort();
  copyJobs.clear();
  for (const id of [...connections.keys()]) await sshHandlers['ssh.disconnect']({ connectionId: id }, connections.get(id)!.ctx);
}
