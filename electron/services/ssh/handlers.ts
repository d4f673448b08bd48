/**
 * Contract handlers for the SSH workstation (`SshMethods` / `SshEvents`): a
 * thin map from method names onto one `SshService`'s parts (connections,
 * terminals, copy-out). Parameters arrive untyped from the wire; each part
 * validates its own.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { EXEC_TIME_LIMIT_SECONDS, type SshMethods } from '../../../shared/contract/ssh';
import { ApiError } from '../api-error';
import type { NodeExecutor } from '../../../shared/node/executor';
import { endTagged, isRunTag } from '../../../shared/node/run-tag';
import { runSudo } from './connection';
import type { SshConnectionService } from './connection-service';
import type { CopyOutService } from './copy-out-service';
import { explainSftpError } from './remote-errors';
import { checkKeyFiles, configImportError, configImportPath } from './server-paths';
import type { SshCallContext, SshServiceConfig } from './settings';
import { listRemoteDir } from './sftp-source';
import { importSshConfig } from './ssh-config';
import type { TerminalService } from './terminal-service';

export type SshHandlers = {
  [M in keyof SshMethods]: (params: SshMethods[M]['params'], ctx: SshCallContext) => Promise<SshMethods[M]['result']>;
};

/** Cap on one command's collected output (bounded memory; also the most `ssh.exec` accepts). */
const MAX_EXEC_OUTPUT = 16 * 1024 * 1024;

export interface SshHandlerParts {
  paths: () => SshServiceConfig;
  connections: SshConnectionService;
  terminals: TerminalService;
  copies: CopyOutService;
  /** How long one `ssh.exec` command may run before its channel is given up with TERM (default EXEC_TIME_LIMIT_SECONDS). */
  execTimeLimitSeconds?: number;
  /** Whether `ssh.connectLocal` is served (off: refused with how to turn it on). */
  thisMachine: boolean;
}

export function createSshHandlers({
  paths,
  connections,
  terminals,
  copies,
  thisMachine,
  execTimeLimitSeconds = EXEC_TIME_LIMIT_SECONDS,
}: SshHandlerParts): SshHandlers {
  return {
    // Server-side paths follow shared/contract/path-rules.ts (web mode: the server's own ~/.ssh only).
    async 'ssh.config.import'(params, ctx) {
      const config = paths();
      const own = config.sshConfigPath ?? path.join(config.keysDir, 'config');
      const requested = (params as { path?: unknown } | undefined)?.path;
      const file = configImportPath(requested, own, ctx.transport);
      try {
        // No ~/.ssh/config is no error (OpenSSH runs without one: nothing to import); a file the user named must exist.
        if (typeof requested === 'string' && requested !== '' && file !== own) await fs.access(file);
        return (await importSshConfig(file)).hosts;
      } catch (e) {
        throw configImportError(e, file, ctx.transport);
      }
    },

    async 'ssh.connect'({ target, profileId }, ctx) {
      await checkKeyFiles(target, paths().keysDir, ctx.transport);
      // Contract: "This machine" is only ever opened by ssh.connectLocal (the page never sends target.local).
      if (target && typeof target === 'object' && 'local' in target) throw new ApiError('bad-params', 'target.local is set only by ssh.connectLocal');
      return connections.open(target, profileId, ctx);
    },

    async 'ssh.connectLocal'(_params, ctx) {
      if (!thisMachine) throw ApiError.localized('this-machine-off', 'ssh.local.off');
      return connections.openLocal(ctx);
    },

    async 'ssh.reconnect'({ connectionId }, ctx) {
      return connections.reconnect(connectionId, ctx);
    },

    async 'ssh.reconnect.stop'({ connectionId }) {
      return connections.stopReconnect(connectionId);
    },

    async 'ssh.profiles.list'() {
      return connections.profileStore().list();
    },

    async 'ssh.profiles.save'(params, ctx) {
      const p = (params ?? {}) as { id?: unknown; label?: unknown; target?: unknown };
      await checkKeyFiles(p.target, paths().keysDir, ctx.transport);
      return connections.profileStore().save({ id: p.id, label: p.label, target: p.target });
    },

    async 'ssh.profiles.delete'({ id }, ctx) {
      const deleted = await connections.profileStore().delete(id);
      if (deleted && typeof id === 'string')
        await connections
          .secretStore(ctx)
          .forget(id)
          .catch(() => 0);
      return { deleted };
    },

    async 'ssh.secrets.status'(_params, ctx) {
      return connections.secretStore(ctx).status();
    },

    async 'ssh.secrets.forget'({ profileId }, ctx) {
      // Contract: the page sends the id of a listed profile.
      if (typeof profileId !== 'string' || !profileId) throw new ApiError('bad-params', 'profileId is required');
      return { removed: await connections.secretStore(ctx).forget(profileId) };
    },

    async 'ssh.disconnect'({ connectionId }) {
      return connections.disconnect(connectionId);
    },

    async 'ssh.prompt.answer'({ promptId, answers, remember }) {
      return connections.answerPrompt(promptId, answers, remember);
    },

    async 'ssh.hostkey.replace'({ host, port, approvedFingerprint, reason }) {
      return connections.replaceHostKey(host, port, approvedFingerprint, reason);
    },

    async 'ssh.privilege'({ connectionId }, ctx) {
      // Read-only (`exec id -u`), once per connection; a lost link rejects and the next call asks again.
      return { loginIsRoot: await connections.owned(connectionId, ctx).conn.loginIsRoot() };
    },

    async 'ssh.exec'({ connectionId, command, sudo, maxOutputBytes, runTag }) {
      const c = connections.live(connectionId);
      // Contract: the panels send their own fixed commands, never an empty one.
      if (typeof command !== 'string' || command.trim() === '') throw new ApiError('bad-params', 'command must be a non-empty string');
      if (runTag !== undefined && (typeof runTag !== 'string' || !isRunTag(runTag))) throw new ApiError('bad-params', 'runTag must be lb- and 16 hex digits');
      const cap =
        typeof maxOutputBytes === 'number' && Number.isFinite(maxOutputBytes) && maxOutputBytes > 0
          ? Math.min(Math.floor(maxOutputBytes), MAX_EXEC_OUTPUT)
          : MAX_EXEC_OUTPUT;
      // A command that never answers (crictl logs against a wedged containerd) must not hold the panel: at the limit
      // its channel is closed with a TERM signal, which ends the login user's command.
      const limit = AbortSignal.timeout(execTimeLimitSeconds * 1000);
      if (!sudo) {
        const r = await c.conn.exec(command, { maxOutputBytes: cap, signal: limit });
        return limit.aborted && r.code === null ? { ...r, stopped: { seconds: execTimeLimitSeconds } } : r;
      }
      // The sudo password, once given, stays in c.sudo (memory) for this connection only; sudo accepting it (it is
      // only asked when needed) lets "Remember" keep it (sudoSession's onAccepted).
      const r = await runSudo(c.conn, command, connections.sudoSession(c), { maxOutputBytes: cap, signal: limit, ...(runTag ? { runTag } : {}) });
      if (!(limit.aborted && r.code === null)) return r;
      if (!runTag) return { ...r, stopped: { seconds: execTimeLimitSeconds } };
      // The TERM does not reach root's processes: what carries the tag is ended on the node, through the same sudo
      // (the script, and its answer, in the session log like every command).
      const asRoot: NodeExecutor = {
        run: (text, opts) => runSudo(c.conn, text, connections.sudoSession(c), { maxOutputBytes: opts.maxOutputBytes, signal: opts.signal }),
      };
      const end = await endTagged(asRoot, runTag, true);
      return { ...r, stopped: { seconds: execTimeLimitSeconds, endedOnNode: end.ended.outcome } };
    },

    async 'ssh.list'({ connectionId, path: remotePath }) {
      const c = connections.live(connectionId);
      connections.recordSftp(c, `sftp (read-only): list ${remotePath}`);
      try {
        return await listRemoteDir(await c.conn.sftp(), remotePath);
      } catch (e) {
        throw explainSftpError(e, remotePath, c.target.user);
      }
    },

    async 'ssh.terminal.open'({ connectionId, cols, rows, term }, ctx) {
      return terminals.open(connectionId, cols, rows, term, ctx);
    },

    async 'ssh.recording.export'({ terminalId, format }) {
      return terminals.exportRecording(terminalId, format);
    },

    async 'ssh.terminal.input'({ terminalId, data }) {
      const t = terminals.get(terminalId);
      if (!t) return { ok: false };
      t.write(data);
      return { ok: true };
    },

    async 'ssh.terminal.resize'({ terminalId, cols, rows }) {
      const t = terminals.get(terminalId);
      if (!t) return { ok: false };
      t.resize(cols, rows);
      return { ok: true };
    },

    async 'ssh.terminal.ack'({ terminalId, bytes }) {
      const t = terminals.get(terminalId);
      if (!t) return { ok: false };
      t.ack(bytes);
      return { ok: true };
    },

    async 'ssh.terminal.close'({ terminalId }) {
      const t = terminals.get(terminalId);
      if (!t) return { ok: false };
      t.close();
      return { ok: true };
    },

    async 'ssh.copyout.plan'({ connectionId, remotePath, sudo }) {
      return copies.plan(connectionId, remotePath, sudo);
    },

    async 'ssh.copyout.start'(params, ctx) {
      return copies.start(params, ctx);
    },

    async 'ssh.copyout.cancel'({ jobId }) {
      return copies.cancel(jobId);
    },
  };
}
