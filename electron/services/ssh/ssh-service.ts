/**
 * The SSH workstation of one back end: connections, terminals and copy-out,
 * each an instance with its own state, wired together here. The composition
 * roots (electron/main.ts, the web server, the CLI, tests) create and own
 * one; two instances never share a connection, prompt, job or setting.
 */
import type { SFTPWrapper } from 'ssh2';
import type { NodeExecutor } from '../../../shared/node/executor';
import type { RemoteSources } from '../remote-sources';
import { endpointKey, runSudo } from './connection';
import type { SafeStorageLike } from '../secret-store';
import { SshConnectionService } from './connection-service';
import type { LocalServerOptions } from './local-server';
import { CopyOutService } from './copy-out-service';
import { createSshHandlers, type SshHandlers } from './handlers';
import { createRemoteSources } from './remote-directory';
import { defaultSshServiceConfig, defaultSshSessionConfig, type SshCallContext, type SshServiceConfig, type SshSessionConfig } from './settings';
import { TerminalService } from './terminal-service';

export type { SshHandlers } from './handlers';
export type { SshCallContext, SshServiceConfig, SshSessionConfig } from './settings';

export interface SshServiceOptions {
  /** Paths set explicitly; anything not set follows the LIFEBOAT_* environment when used (`defaultSshServiceConfig`). */
  paths?: Partial<SshServiceConfig>;
  /** Profiles, secrets and reconnect policy set explicitly; the rest follows `LIFEBOAT_HOME` when used. */
  sessions?: Partial<SshSessionConfig>;
  /** Electron's safeStorage (remembered secrets); null or absent: "Remember" is refused. */
  safeStorage?: SafeStorageLike | null;
  /** How long one `ssh.exec` command may run (default EXEC_TIME_LIMIT_SECONDS; tests shorten it). */
  execTimeLimitSeconds?: number;
  /** Serve "This machine" (`ssh.connectLocal`); default on (the composition root decides: core-handlers.ts). */
  thisMachine?: boolean;
  /** "This machine": its in-process server's options (tests). */
  local?: LocalServerOptions;
}

export class SshService {
  readonly handlers: SshHandlers;
  /** Handed to the validation service by the composition root. */
  readonly remoteSources: RemoteSources;
  private readonly connections: SshConnectionService;
  private readonly terminals: TerminalService;
  private readonly copies: CopyOutService;
  private readonly pathOverrides: Partial<SshServiceConfig>;
  private readonly sessionOverrides: Partial<SshSessionConfig>;

  constructor(options: SshServiceOptions = {}) {
    this.pathOverrides = { ...options.paths };
    this.sessionOverrides = { ...options.sessions };
    const paths = () => this.config();
    this.connections = new SshConnectionService({
      paths,
      sessions: () => this.sessionConfig(),
      safeStorage: options.safeStorage ?? null,
      beforeClose: (connectionId) => this.terminals.closeFor(connectionId),
      ...(options.local ? { local: options.local } : {}),
    });
    this.terminals = new TerminalService(this.connections, paths);
    this.copies = new CopyOutService(this.connections, paths);
    this.handlers = createSshHandlers({
      paths,
      connections: this.connections,
      terminals: this.terminals,
      copies: this.copies,
      thisMachine: options.thisMachine !== false,
      ...(options.execTimeLimitSeconds ? { execTimeLimitSeconds: options.execTimeLimitSeconds } : {}),
    });
    this.remoteSources = createRemoteSources(this.connections, this.copies);
  }

  /** The paths in effect now (for display and tests). */
  config(): SshServiceConfig {
    return { ...defaultSshServiceConfig(), ...this.pathOverrides };
  }

  /** Profiles, secrets and reconnect policy in effect now. */
  sessionConfig(): SshSessionConfig {
    return { ...defaultSshSessionConfig(), ...this.sessionOverrides };
  }

  /**
   * Run commands on a connection the caller owns, as the node detector and
   * the guided sessions need them: plain exec, or through sudo with the
   * password this connection already holds (asked once when needed).
   */
  nodeExecutor(connectionId: string, ctx: SshCallContext): NodeExecutor & { host: string; sftp(): Promise<SFTPWrapper> } {
    const c = this.connections.owned(connectionId, ctx);
    const connections = this.connections;
    return {
      host: endpointKey(c.target),
      async run(command, opts) {
        // Checked again per command: a dropped or closed connection fails the command, it is never re-sent elsewhere.
        const live = connections.owned(connectionId, ctx);
        const r = opts.sudo
          ? await runSudo(live.conn, command, connections.sudoSession(live), { maxOutputBytes: opts.maxOutputBytes, signal: opts.signal })
          : await live.conn.exec(command, { maxOutputBytes: opts.maxOutputBytes, signal: opts.signal });
        return { code: r.code, stdout: r.stdout, stderr: r.stderr, truncated: r.truncated };
      },
      // Learned once per connection (connection.ts): a root login's "sudo" commands run with no sudo.
      loginIsRoot: () => connections.owned(connectionId, ctx).conn.loginIsRoot(),
      // Upload steps write through the connection's own SFTP session (checked as owned, like every command).
      sftp: () => connections.owned(connectionId, ctx).conn.sftp(),
    };
  }

  /** A client went away (web-mode socket closed, window gone): close what it opened. */
  async release(ctx: SshCallContext): Promise<void> {
    this.connections.release(ctx);
    this.copies.release(ctx);
  }

  /** Close every connection, terminal and copy job (window closed, web server stopped). */
  async shutdown(): Promise<void> {
    this.copies.abortAll();
    this.connections.closeAll();
  }
}
