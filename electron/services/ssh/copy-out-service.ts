/**
 * Copy-out jobs of one SSH service: the plan (destination and commands), the
 * running jobs with their progress events, cancel, and the record of what a
 * finished job wrote (the only local path a `{ kind: 'copy' }` source
 * resolves to).
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { CopyOutPlan, SshEvents, SshTarget } from '../../../shared/contract/ssh';
import { ApiError, errorTextOf } from '../api-error';
import { isInside, strictlyInside } from '../local-path-confine';
import type { SshConnectionService } from './connection-service';
import { copyOut, CopyOutError, DirectoryChangingError, EXEC_PROBE_COMMAND, findListCommand, remoteHashCommand } from './copy-out';
import { explainSftpError, explainSudoError, normaliseRemotePath, sshApiError } from './remote-errors';
import { localDate, type SshCallContext, type SshServiceConfig } from './settings';
import { expandHome } from '../home-path';
import { shellQuote } from './connection';
import { catCommand } from './stream-fetch';
import { sudoCopyCommands, sudoCopyOut } from './sudo-copy';
import { makeDirs } from '../make-dirs';
import { stripTrailingSlashes } from '../../../shared/text/trailing-slashes';

interface CopyJob {
  id: string;
  ctx: SshCallContext;
  connectionId: string;
  abort: AbortController;
  state: 'running' | 'done' | 'failed';
  /** What the job wrote (set when done): the only local path a `copy` SourceRef resolves to. */
  localPath: string | null;
  /** The node directory it was copied from (the repair plan's commands name it). */
  remotePath: string | null;
  finishedAt: number;
}

/** Finished copy jobs remembered for `{ kind: 'copy' }` validation. */
const MAX_COPY_JOBS_REMEMBERED = 200;

/** `YYYY-MM-DD`-style safe host label for a local directory name. */
function hostLabel(target: SshTarget): string {
  return (target.label ?? target.host).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || 'node';
}

/**
 * What a copy as the login user runs (shown before it starts; `<file>` and `<N>` stand for each file
 * and resume point): the hash and the listing first, as the tests and the UI have always shown them.
 */
export function loginUserCopyCommands(remote: string): string[] {
  const file = `${stripTrailingSlashes(remote)}/<file>`;
  return [remoteHashCommand(remote), findListCommand(remote), EXEC_PROBE_COMMAND, `${catCommand([file])} …`, `tail -c +<N> -- ${shellQuote(file)}`];
}

export interface CopyOutStartParams {
  connectionId: string;
  remotePath: unknown;
  localDir: unknown;
  force?: unknown;
  sudo?: unknown;
}

export class CopyOutService {
  private readonly jobs = new Map<string, CopyJob>();

  constructor(
    private readonly connections: SshConnectionService,
    private readonly paths: () => SshServiceConfig,
  ) {}

  plan(connectionId: string, remotePath: unknown, sudo: unknown): CopyOutPlan {
    const c = this.connections.live(connectionId);
    const remote = normaliseRemotePath(remotePath);
    const root = path.resolve(this.paths().copiesRoot);
    return {
      remotePath: remote,
      localDir: path.join(root, `${hostLabel(c.target)}-${localDate(new Date())}`),
      copiesRoot: root,
      confined: c.ctx.transport === 'web',
      commands: sudo === true ? sudoCopyCommands(remote) : loginUserCopyCommands(remote),
      ...(sudo === true ? { sudo: true } : {}),
    };
  }

  async start(p: CopyOutStartParams, ctx: SshCallContext): Promise<{ jobId: string }> {
    const c = this.connections.live(p.connectionId);
    const remote = normaliseRemotePath(p.remotePath);
    const base = path.posix.basename(remote);
    if (remote === '/' || base === '..' || base === '.') throw sshApiError('bad-params', 'ssh.copyout.error.wholeDir', { path: remote });
    const dest = await this.checkedLocalDir(p.localDir, ctx);
    // Through sudo: the password is asked (once per connection) before the job exists, so a refusal answers this call.
    const sudo = p.sudo === true ? await this.connections.readySudo(c) : null;
    const jobId = randomUUID();
    const job: CopyJob = {
      id: jobId,
      ctx,
      connectionId: p.connectionId,
      abort: new AbortController(),
      state: 'running',
      localPath: null,
      remotePath: null,
      finishedAt: 0,
    };
    this.remember(job);
    const options = {
      remotePath: remote,
      localDir: dest,
      force: p.force === true,
      signal: job.abort.signal,
      onProgress: (progress: SshEvents['ssh.copyout.progress']['progress']) => ctx.emit('ssh.copyout.progress', { jobId, progress }),
    };
    // Every command is announced in the session log by itself; SFTP reads (an SFTP-only account, or a
    // node whose find cannot list) are recorded here when the copy opens SFTP.
    const onSftp = () => this.connections.recordSftp(c, `sftp (read-only): copy ${remote} to ${dest}`);
    void (sudo ? sudoCopyOut({ ...options, sudo }) : copyOut({ ...options, conn: c.conn, onSftp })).then(
      (result) => {
        job.state = 'done';
        job.localPath = result.localPath;
        job.remotePath = result.remotePath;
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
          text: errorTextOf(err),
          resumable: e instanceof CopyOutError && e.resumable,
          changing: e instanceof DirectoryChangingError ? e.changed : undefined,
          changes: e instanceof DirectoryChangingError ? e.changes : undefined,
        });
      },
    );
    return { jobId };
  }

  cancel(jobId: string): { cancelled: boolean } {
    const job = this.jobs.get(jobId);
    if (!job || job.state !== 'running') return { cancelled: false };
    job.abort.abort();
    return { cancelled: true };
  }

  /** The local directory a finished job of this client wrote. */
  output(jobId: unknown, ctx: SshCallContext): { localPath: string; remotePath: string } {
    const job = typeof jobId === 'string' ? this.jobs.get(jobId) : undefined;
    if (!job || job.ctx !== ctx) throw sshApiError('unknown-copy', 'ssh.copyout.error.unknownJob', { jobId: String(jobId).slice(0, 100) });
    if (job.state !== 'done' || !job.localPath || !job.remotePath) throw sshApiError('not-finished', 'ssh.copyout.error.notFinished');
    return { localPath: job.localPath, remotePath: job.remotePath };
  }

  /** Stop every job (the service is shutting down). */
  abortAll(): void {
    for (const job of this.jobs.values()) job.abort.abort();
    this.jobs.clear();
  }

  /** A client went away: stop and forget its jobs. */
  release(ctx: SshCallContext): void {
    for (const [id, job] of [...this.jobs]) {
      if (job.ctx !== ctx) continue;
      job.abort.abort();
      this.jobs.delete(id);
    }
  }

  /**
   * Where a copy may go. Electron: any absolute path the user chose. Web mode:
   * only under the copies root, checked again after symlinks are resolved (a
   * link inside the root must not lead out of it).
   */
  private async checkedLocalDir(localDir: unknown, ctx: SshCallContext): Promise<string> {
    if (typeof localDir !== 'string' || localDir.trim() === '' || localDir.includes('\0')) throw sshApiError('bad-params', 'ssh.copyout.error.destMissing');
    const expanded = expandHome(localDir.trim());
    if (!path.isAbsolute(expanded)) throw sshApiError('bad-params', 'ssh.copyout.error.destRelative', { path: localDir });
    const dest = path.resolve(expanded);
    if (ctx.transport !== 'web') return dest;
    const root = path.resolve(this.paths().copiesRoot);
    if (!strictlyInside(root, dest)) {
      // Neither path is repeated: a refusal must not tell a token holder where things are on this machine.
      throw sshApiError('forbidden', 'ssh.copyout.error.destOutsideCopies');
    }
    await makeDirs(root, 0o700);
    const realRoot = await fs.realpath(root);
    // The deepest existing ancestor decides where new directories would really be created.
    let probe = dest;
    for (;;) {
      try {
        const real = await fs.realpath(probe);
        if (!isInside(realRoot, real)) throw sshApiError('forbidden', 'ssh.copyout.error.destLeadsOut');
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

  private remember(job: CopyJob): void {
    this.jobs.set(job.id, job);
    const finished = [...this.jobs.values()].filter((j) => j.state !== 'running').sort((a, b) => a.finishedAt - b.finishedAt);
    while (finished.length > MAX_COPY_JOBS_REMEMBERED) this.jobs.delete(finished.shift()!.id);
  }
}
