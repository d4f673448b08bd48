/**
 * Every contract method that takes a path, and the rule for it, in one place.
 *
 * Web mode (127.0.0.1 + token) is reachable by whoever holds the token URL (a
 * shared screen, shell history, a browser extension), and the server often
 * runs as root: a path the client names on the *server* is confined to the
 * few places Lifeboat needs, and a refusal never echoes the path, says
 * whether it exists, or returns any of its content. Electron mode is the
 * local user's own desktop (the renderer is our own code behind a locked
 * preload), so paths there may be any the user chose. Paths on a *node*
 * (read over SSH as the login user, or as root through sudo when asked) are
 * the point of the tool and follow the node's own permissions in both modes.
 *
 * `test/web/path-rules.test.ts` walks this list over the web transport and
 * checks the list against the contract (a new method with a path must be
 * added here).
 */
import type { MethodName } from './api';

/**
 * `server-file` / `server-dir`: a file or directory on the machine running the
 * back end. `node-path`: a path on the connected node. `job-file`: a file name
 * inside a finished job's own report (never a path).
 */
export type PathKind = 'server-file' | 'server-dir' | 'node-path' | 'job-file';

export interface PathRule {
  method: MethodName;
  /** The parameter, as a dotted path into `params` (`[]` marks every element of a list). */
  param: string;
  kind: PathKind;
  web: string;
  electron: string;
}

const KEY_FILES_WEB =
  'Only key files inside ~/.ssh of the user running the server (LIFEBOAT_SSH_DIR in tests), checked again after `~` expansion and symlinks; ' +
  'anything else is refused (forbidden) before it is opened, with a message that does not repeat the path. There is no server-side file picker yet.';
const KEY_FILES_ELECTRON = 'Any key file the user names (`~/` is the home directory).';

export const PATH_RULES: readonly PathRule[] = [
  {
    method: 'ssh.config.import',
    param: 'path',
    kind: 'server-file',
    web:
      "Only the server's own SSH config (~/.ssh/config, or LIFEBOAT_SSH_CONFIG) and the files it includes: leave `path` out. " +
      'Any other path is refused (forbidden) without being opened; a missing or unreadable config is "no SSH config to import", never the path or an errno.',
    electron: 'Any file the user names; default ~/.ssh/config (and the files it includes).',
  },
  { method: 'ssh.connect', param: 'target.identityFiles[]', kind: 'server-file', web: KEY_FILES_WEB, electron: KEY_FILES_ELECTRON },
  { method: 'ssh.connect', param: 'target.jumps[].identityFiles[]', kind: 'server-file', web: KEY_FILES_WEB, electron: KEY_FILES_ELECTRON },
  { method: 'ssh.profiles.save', param: 'target.identityFiles[]', kind: 'server-file', web: KEY_FILES_WEB, electron: KEY_FILES_ELECTRON },
  { method: 'ssh.profiles.save', param: 'target.jumps[].identityFiles[]', kind: 'server-file', web: KEY_FILES_WEB, electron: KEY_FILES_ELECTRON },
  {
    method: 'ssh.copyout.start',
    param: 'localDir',
    kind: 'server-dir',
    web: 'Only a subdirectory of the copies root (LIFEBOAT_COPIES_DIR, default ~/lifeboat-copies), checked again after symlinks; `ssh.copyout.plan` proposes one.',
    electron: 'Any absolute directory the user chose (`~/` is the home directory).',
  },
  {
    method: 'validation.start',
    param: 'source.path (kind "local-path")',
    kind: 'server-dir',
    web: 'Always refused (forbidden): the browser validates dropped folders itself; a finished copy-out is validated as `{ kind: "copy", jobId }`.',
    electron: 'Any absolute path (file or directory), opened read-only.',
  },
  {
    method: 'validation.start',
    param: 'source.path (kind "remote")',
    kind: 'node-path',
    web: 'An absolute path on a node this client connected, read-only (SFTP as the login user, or sudo when `sudo` is set).',
    electron: 'Same as web.',
  },
  {
    method: 'ssh.list',
    param: 'path',
    kind: 'node-path',
    web: 'An absolute path on a node this client connected, listed over SFTP as the login user.',
    electron: 'Same as web.',
  },
  {
    method: 'ssh.copyout.plan',
    param: 'remotePath',
    kind: 'node-path',
    web: 'An absolute path on the connected node (normalised); nothing runs.',
    electron: 'Same as web.',
  },
  {
    method: 'ssh.copyout.start',
    param: 'remotePath',
    kind: 'node-path',
    web: 'An absolute path on the connected node, read-only (SFTP, or sudo when `sudo` is set); not `/`, `.` or `..`.',
    electron: 'Same as web.',
  },
  {
    method: 'validation.batches',
    param: 'file',
    kind: 'job-file',
    web: "A plain file name (no `/`, `\\`, `..`, NUL) that is a segment of the finished job's report.",
    electron: 'Same as web.',
  },
  {
    method: 'etcd.repair.start',
    param: 'outputPath',
    kind: 'server-file',
    web:
      'Only a new file or an empty folder inside the copies folder (LIFEBOAT_COPIES_DIR, default ~/lifeboat-copies), checked again after symlinks and before the job is looked up; ' +
      "`etcd.repair.plan` proposes one. Refused (forbidden) without repeating the path. The input is the finished job's own source, never a path the client names.",
    electron:
      'Any absolute path the user chose (the native dialog of `etcd.repair.choose`, or typed); never inside the input, never an existing file or non-empty folder.',
  },
  {
    method: 'etcd.repair.choose',
    param: 'suggestedPath',
    kind: 'server-file',
    web: 'Refused (unsupported): there is no file dialog in web mode; the path is only a hint for the desktop dialog and is never opened.',
    electron: 'Only the starting point of the native save or folder dialog; nothing is opened or written until `etcd.repair.start`.',
  },
  {
    method: 'dqlite.rebuild.start',
    param: 'outputPath',
    kind: 'server-file',
    web:
      'Only a new or empty folder inside the copies folder (LIFEBOAT_COPIES_DIR, default ~/lifeboat-copies), checked again after symlinks and before the job is looked up; ' +
      "`dqlite.rebuild.plan` proposes one. Refused (forbidden) without repeating the path. The input is the finished job's own source, never a path the client names.",
    electron:
      'Any absolute path the user chose (the native dialog of `dqlite.rebuild.choose`, or typed); never inside the input, never an existing file or non-empty folder.',
  },
  {
    method: 'dqlite.rebuild.choose',
    param: 'suggestedPath',
    kind: 'server-file',
    web: 'Refused (unsupported): there is no file dialog in web mode; the path is only a hint for the desktop dialog and is never opened.',
    electron: 'Only the starting point of the native folder dialog; nothing is opened or written until `dqlite.rebuild.start`.',
  },
  {
    method: 'kine.export.start',
    param: 'outputPath',
    kind: 'server-file',
    web:
      'Only a new or empty folder inside the copies folder (LIFEBOAT_COPIES_DIR, default ~/lifeboat-copies), checked again after symlinks and before the job is looked up; ' +
      '`kine.export.plan` proposes one. Refused (forbidden) without repeating the path. The input is the SQLite database the finished job found in its own source, never a path the client names.',
    electron:
      'Any absolute path the user chose (the native dialog of `kine.export.choose`, or typed); never inside a local input, never an existing file or non-empty folder.',
  },
  {
    method: 'kine.export.choose',
    param: 'suggestedPath',
    kind: 'server-file',
    web: 'Refused (unsupported): there is no file dialog in web mode; the path is only a hint for the desktop dialog and is never opened.',
    electron: 'Only the starting point of the native folder dialog; nothing is opened or written until `kine.export.start`.',
  },
  {
    method: 'guided.upload',
    param: 'localPath',
    kind: 'server-file',
    web:
      'Only an existing regular file inside the copies folder (LIFEBOAT_COPIES_DIR, default ~/lifeboat-copies; salvage writes its snapshot.db there), ' +
      'checked again after symlinks and before the session is looked up; anything else is refused (forbidden) without repeating the path.',
    electron:
      'Any file the user names (the list of `guided.uploadCandidates`, the native dialog of `guided.uploadChoose`, or typed; `~/` is the home directory); it is only read, and written to the node under a new name.',
  },
  {
    method: 'etcd.query',
    param: 'query.file',
    kind: 'job-file',
    web: "A WAL file name of the finished job's report (the etcd handler resolves it against the job's own source).",
    electron: 'Same as web.',
  },
];
