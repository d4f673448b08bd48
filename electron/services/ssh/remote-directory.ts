/**
 * What validation reads from SSH: a directory on a connection the calling
 * client opened (read-only, over SFTP or through sudo), and the output of
 * this client's finished copy jobs. Another client's connections and jobs do
 * not exist for it.
 */
import * as path from 'node:path';
import type { Stats } from 'ssh2';
import type { DirectorySource } from '../../../shared/bytes/byte-source';
import type { RemoteDirectory, RemoteSources } from '../remote-sources';
import type { LiveConnection, SshConnectionService } from './connection-service';
import type { CopyOutService } from './copy-out-service';
import { explainSftpError, explainSudoError, normaliseRemotePath } from './remote-errors';
import { sftpCall } from './remote-files';
import { sftpDirectory } from './sftp-source';
import { SudoSourceError, sudoDirectory } from './sudo-source';

/** `dirPath` read in place as root (find + dd through sudo; each command announced in the session log). */
async function openSudoDirectory(connections: SshConnectionService, c: LiveConnection, dirPath: string, label: string): Promise<RemoteDirectory> {
  const sudo = await connections.readySudo(c);
  const dir = sudoDirectory(sudo, dirPath, label);
  try {
    // Fail now, with the reason (missing, not a directory), rather than in the report.
    await dir.list();
  } catch (e) {
    await dir.close();
    // A file (a backup's snapshot.db, a lone db): its folder, showing that one file.
    if (e instanceof SudoSourceError && e.code === 'not-a-directory' && e.text.params?.['kind'] === 'file' && dirPath !== '/')
      return oneFileOf(await openSudoDirectory(connections, c, path.posix.dirname(dirPath), label), path.posix.basename(dirPath), label);
    throw explainSudoError(e);
  }
  return explained(dir, label, dirPath, (e) => explainSudoError(e));
}

/**
 * A file on the node as validation takes a local file: a folder of that one file (etcd's lone `db` or
 * `snapshot.db`, a dqlite segment), read through its real folder, whose other files are neither listed nor opened.
 */
function oneFileOf(parent: RemoteDirectory, file: string, label: string): RemoteDirectory {
  return {
    name: label,
    list: async () => (await parent.list()).filter((e) => e.name === file),
    open: (name) => (name === file ? parent.open(name) : Promise.reject(new Error(`${label}: only ${file} is read here, not ${name}`))),
    close: () => parent.close(),
  };
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
  explain: (e: unknown, where: string) => Error,
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

export function createRemoteSources(connections: SshConnectionService, copies: CopyOutService): RemoteSources {
  return {
    async openDirectory(connectionId, remotePath, ctx, options) {
      const c = connections.owned(connectionId, ctx);
      const dirPath = normaliseRemotePath(remotePath);
      const who = c.target.user;
      const label = `${who}@${c.target.label ?? c.target.host}:${dirPath}`;
      if (options?.sudo === true) return openSudoDirectory(connections, c, dirPath, label);
      connections.recordSftp(c, `sftp (read-only): list and read ${dirPath}`);
      const sftp = await c.conn.sftp();
      // A file (a backup's snapshot.db): its folder, showing that one file.
      const st = await sftpCall<Stats>((cb) => sftp.stat(dirPath, cb)).catch(() => null);
      if (st?.isFile() && dirPath !== '/') {
        const folder = path.posix.dirname(dirPath);
        const parent = sftpDirectory(sftp, folder);
        try {
          await parent.open(path.posix.basename(dirPath));
        } catch (e) {
          await parent.close();
          throw explainSftpError(e, dirPath, who);
        }
        return oneFileOf(
          explained(parent, label, folder, (e, where) => explainSftpError(e, where, who)),
          path.posix.basename(dirPath),
          label,
        );
      }
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
      return explained(dir, label, dirPath, (e, where) => explainSftpError(e, where, who));
    },
    copyOutput(jobId, ctx) {
      return copies.output(jobId, ctx);
    },
  };
}
