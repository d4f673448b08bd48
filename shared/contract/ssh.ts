/**
 * SSH workstation contract: connections, host-key decisions, prompts,
 * terminals, remote commands and copy-out. Merged into `api.ts` by the lead
 * (`ApiMethods = CoreMethods & SshMethods`). No secrets are ever part of a
 * saved profile; passwords and passphrases travel only as prompt answers.
 */
import type { ErrorText } from './error-text';

/** A key already in known_hosts (for display next to a new or changed key). */
export interface KnownKeyRef {
  line: number;
  keyType: string;
  /** `SHA256:...` like `ssh-keygen -lf`. */
  fingerprint: string;
}

interface VerdictBase {
  host: string;
  port: number;
  /** The known_hosts name: `host` or `[host]:port`. */
  lookupName: string;
  keyType: string;
  fingerprint: string;
}

/** OpenSSH's four outcomes for a presented host key. */
export type HostKeyVerdict =
  | (VerdictBase & { kind: 'known'; line: number })
  | (VerdictBase & { kind: 'unknown'; notes: string[]; known: KnownKeyRef[] })
  | (VerdictBase & { kind: 'changed'; known: KnownKeyRef[] })
  | (VerdictBase & { kind: 'revoked'; line: number });

/** What the user chose for an unknown key. */
export type UnknownKeyDecision = 'accept-save' | 'accept-once' | 'reject';

/** One hop or the final target. */
export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
  /** Private key files to try (after the agent). */
  identityFiles?: string[];
}

/** A connection request (also what a saved profile stores: no secrets). */
export interface SshTarget extends SshEndpoint {
  /** Display name (ssh_config alias or user label). */
  label?: string;
  /** ProxyJump chain, first hop first. */
  jumps?: SshEndpoint[];
  /** Try ssh-agent (`SSH_AUTH_SOCK`) first. Default true. */
  useAgent?: boolean;
  /** Reconnect by itself (exponential backoff) when the link drops. Default true. */
  autoReconnect?: boolean;
  /**
   * The machine the app runs on ("This machine"): reached through an SSH
   * server inside the app on an in-memory pipe, as the app's own user. Only
   * `ssh.connectLocal` makes one; host is `localhost` and port 0.
   */
  local?: true;
}

/**
 * A saved connection (`~/.lifeboat/profiles.json`): where and as whom, key
 * file PATHS and the jump chain. Never a password, passphrase or key.
 */
export interface SshProfile {
  id: string;
  label: string;
  target: SshTarget;
  /** ms since epoch */
  savedAt: number;
}

/** Prompt kinds whose answer can be remembered (encrypted by the OS keychain, Electron only). */
export type RememberableKind = 'password' | 'passphrase' | 'sudo';

/**
 * Whether a prompt may offer "Remember": only in Electron, only for a saved
 * profile, only when the OS keychain encrypts (never `basic_text`).
 */
export type RememberOffer = { offered: true } | { offered: false; reason: 'web' | 'no-profile' | 'unavailable' | 'kind'; detail?: string };

/** A host imported from `~/.ssh/config`. */
export interface SshConfigHost {
  /** The Host pattern as written (aliases only; wildcard blocks are folded into them). */
  alias: string;
  target: SshTarget;
  /** Options we saw but do not apply (e.g. ProxyCommand), for display. */
  ignored: string[];
}

/** A question for the user, answered with `ssh.prompt.answer`. */
export type SshPrompt = (
  | { promptId: string; kind: 'host-key'; verdict: HostKeyVerdict }
  | { promptId: string; kind: 'passphrase'; keyFile: string; attempt: number; lastError?: string }
  | { promptId: string; kind: 'password'; user: string; host: string; port: number; attempt: number }
  | {
      promptId: string;
      kind: 'keyboard-interactive';
      user: string;
      host: string;
      port: number;
      name: string;
      instructions: string;
      prompts: { prompt: string; echo: boolean }[];
    }
  | { promptId: string; kind: 'sudo'; user: string; host: string; attempt: number }
) & {
  /** Set by the session layer for password, passphrase and sudo prompts. */
  remember?: RememberOffer;
  /** Asked during an automatic reconnect (the retries wait for the answer). */
  duringReconnect?: boolean;
};

/** The automatic reconnect's progress, sent with `ssh.state`. */
export interface AutoReconnectState {
  /** 1-based attempt number (the one that is waiting or running). */
  attempt: number;
  /** When the next attempt starts (ms since epoch); null while an attempt runs. */
  retryAt: number | null;
  /** The current attempt waits for the user's answer to a prompt. */
  waitingForPrompt?: boolean;
  /** Set when retrying stopped: a host-key or authentication refusal, the user's Stop, or too many attempts. */
  stopped?: 'host-key' | 'auth' | 'user' | 'attempts';
}

/** Where the secrets the user asked to remember can be kept. */
export interface SecretStoreStatus {
  available: boolean;
  /** Why not: `web` (web mode), `basic_text` (no OS keychain: would be plaintext), `unavailable`. */
  reason?: 'web' | 'basic_text' | 'unavailable';
  detail?: string;
}

export type SshConnectionState = 'connecting' | 'ready' | 'dropped' | 'reconnecting' | 'closed';

export interface RemoteEntry {
  name: string;
  kind: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  mtimeMs: number;
  mode: number;
}

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Output beyond the cap was dropped (the cap protects memory, not the node). */
  truncated: boolean;
  /**
   * `ssh.exec` stopped waiting: the command outlasted EXEC_TIME_LIMIT_SECONDS. Its channel was closed with a TERM
   * signal, which ends a command the login user runs; one run through sudo (root's processes, which that signal
   * does not reach) is ended on the node by its run tag when it was sent with one (`endedOnNode`).
   */
  stopped?: ExecStopped;
}

export interface ExecStopped {
  seconds: number;
  /**
   * A sudo command sent with a run tag, ended on the node as root: `ended` (its processes got TERM, KILL after a
   * grace), `gone` (none was left), `unknown` (the script that ends it did not answer as expected: look on the
   * node). Absent: the login user's command (its channel's TERM ends it), or a sudo command sent without a tag.
   */
  endedOnNode?: 'ended' | 'gone' | 'unknown';
}

/** How long one `ssh.exec` command (a listing, a log fetch, a fact) may run before its wait is given up (see `stopped`). */
export const EXEC_TIME_LIMIT_SECONDS = 120;

/**
 * How a copy-out reads file contents: `exec`, `cat`/`tail` streamed through an SSH command channel
 * as the login user; `sftp`, SFTP reads (the account cannot run commands, e.g. `ForceCommand
 * internal-sftp`: no SHA-256 on the node then); `sudo`, `cat`/`tail` as root through sudo; `root`,
 * `cat`/`tail` run as they are by a root login (no sudo).
 */
export type CopyTransport = 'exec' | 'sftp' | 'sudo' | 'root';

export interface CopyOutProgress {
  phase: 'listing' | 'hashing-remote' | 'copying' | 'hashing-local' | 'done';
  transport: CopyTransport;
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
  currentFile: string | null;
  bytesPerSecond: number;
  /** Seconds, null while unknown. */
  etaSeconds: number | null;
}

export interface ManifestEntry {
  /** Path relative to the copied root, `/`-separated. */
  path: string;
  size: number;
  remoteSha256: string | null;
  localSha256: string | null;
  match: boolean;
}

export interface CopyOutResult {
  remotePath: string;
  localPath: string;
  files: ManifestEntry[];
  bytes: number;
  allMatch: boolean;
  /** Bytes skipped because a previous partial copy already had them (resume). */
  resumedBytes: number;
  elapsedMs: number;
  /** Path of the written manifest (`sha256sum` format). */
  manifestPath: string;
  /** How the contents were read (absent in results recorded before it was reported). */
  transport?: CopyTransport;
}

/** What a copy-out will do, shown to the user before it starts. */
export interface CopyOutPlan {
  /** The remote path as it will be read (normalised). */
  remotePath: string;
  /** Default destination: `<copiesRoot>/<host>-<YYYY-MM-DD>`; the copy lands in `<localDir>/<basename(remotePath)>`. */
  localDir: string;
  /** `~/lifeboat-copies` (or LIFEBOAT_COPIES_DIR). */
  copiesRoot: string;
  /** Web mode: the destination must stay under `copiesRoot` (anyone holding the token URL could name a path). */
  confined: boolean;
  /**
   * The exact shell commands the copy runs on the node (besides read-only SFTP
   * reads). With `sudo`, every read is one of these, each run as root through
   * sudo (`<file>`, `<N>`: each file, the resume point).
   */
  commands: string[];
  /** The copy reads as root through sudo (root-only directories); no SFTP. */
  sudo?: boolean;
}

/** One action on a node, recorded as it starts (exact text; secrets never appear in it). */
export interface NodeCommand {
  id: string;
  connectionId: string;
  /** ms since epoch */
  at: number;
  /** `exec`: a shell command; `sftp`: read-only SFTP access (listing, reading files). */
  kind: 'exec' | 'sftp';
  text: string;
}

/** How a connection's privileged commands run: `loginIsRoot`, as they are (`sh -c '…'`); otherwise through sudo. */
export interface LoginPrivilege {
  loginIsRoot: boolean;
}

export interface RecordingExport {
  /** Suggested download name, e.g. `2026-11-22T16-50-01-node1-ab12cd34.txt`. */
  fileName: string;
  /** Where the recording lives on the machine running the back end. */
  path: string;
  text: string;
  /** Only the last `text.length` characters are included (very long sessions). */
  truncated: boolean;
}

export interface SshMethods {
  'ssh.config.import': { params: { path?: string }; result: SshConfigHost[] };
  /** `profileId`: the saved profile connected to (remembered secrets are keyed by it). */
  'ssh.connect': { params: { target: SshTarget; profileId?: string }; result: { connectionId: string; verdicts: HostKeyVerdict[] } };
  /** "This machine" as a node (Linux: terminals need util-linux `script`; files need OpenSSH's `sftp-server`). */
  'ssh.connectLocal': { params: Record<string, never>; result: { connectionId: string; verdicts: HostKeyVerdict[]; user: string } };
  'ssh.disconnect': { params: { connectionId: string }; result: { closed: boolean } };
  /** Reconnect now (during an automatic reconnect: the next attempt starts at once). */
  'ssh.reconnect': { params: { connectionId: string }; result: { connectionId: string } };
  /** Stop an automatic reconnect; the node stays 'dropped' until reconnected by hand. */
  'ssh.reconnect.stop': { params: { connectionId: string }; result: { stopped: boolean } };
  /**
   * Answer a prompt; `answers: null` cancels it. Host-key prompts take one answer: an UnknownKeyDecision.
   * `remember`: keep this secret encrypted for the profile (only when the prompt offered it).
   */
  'ssh.prompt.answer': { params: { promptId: string; answers: string[] | null; remember?: boolean }; result: { accepted: boolean } };
  'ssh.profiles.list': { params: Record<string, never>; result: SshProfile[] };
  /** Create (no id) or update a profile; secrets are never part of it. */
  'ssh.profiles.save': { params: { id?: string; label: string; target: SshTarget }; result: SshProfile };
  /** Also forgets the profile's remembered secrets. */
  'ssh.profiles.delete': { params: { id: string }; result: { deleted: boolean } };
  'ssh.secrets.status': { params: Record<string, never>; result: SecretStoreStatus };
  'ssh.secrets.forget': { params: { profileId: string }; result: { removed: number } };
  /** The explicit, logged "the node was rebuilt, trust its new key" path. */
  'ssh.hostkey.replace': {
    params: { host: string; port: number; approvedFingerprint: string; reason: string };
    result: { removedLines: number[]; keptSharedLines: number[] };
  };
  /** `maxOutputBytes`: cap on collected output (default and maximum 16 MiB). */
  /**
   * One command on the node (a panel's listing, log read or fact). `runTag` (with `sudo`; `lb-` and 16 hex digits,
   * fresh for each run): the command is sent tagged (`rootShellCommand`, the form the panel showed), and if it
   * outlasts the time limit what carries the tag is ended on the node as root.
   */
  'ssh.exec': { params: { connectionId: string; command: string; sudo?: boolean; maxOutputBytes?: number; runTag?: string }; result: ExecResult };
  'ssh.list': { params: { connectionId: string; path: string }; result: RemoteEntry[] };
  /**
   * Whether the login user is root (uid 0): learned once per connection with
   * the read-only `exec id -u` (recorded in the session log), or already known
   * from an earlier privileged command; a root login runs "sudo" commands with
   * no sudo. Also announced by `ssh.privilege.learned`.
   */
  'ssh.privilege': { params: { connectionId: string }; result: LoginPrivilege };
  'ssh.terminal.open': {
    params: { connectionId: string; cols: number; rows: number; term?: string };
    result: { terminalId: string };
  };
  /** Keystrokes / paste (UTF-8 text). */
  'ssh.terminal.input': { params: { terminalId: string; data: string }; result: { ok: boolean } };
  'ssh.terminal.resize': { params: { terminalId: string; cols: number; rows: number }; result: { ok: boolean } };
  /** The renderer has written `bytes` more bytes into xterm (backpressure). */
  'ssh.terminal.ack': { params: { terminalId: string; bytes: number }; result: { ok: boolean } };
  'ssh.terminal.close': { params: { terminalId: string }; result: { ok: boolean } };
  /**
   * A terminal's recording as text, for "export": `txt` is the readable
   * transcript (rendered by a headless xterm), `cast` the asciicast v2 file.
   * Works while the terminal runs and after it ended (same back-end session).
   */
  'ssh.recording.export': { params: { terminalId: string; format: 'txt' | 'cast' }; result: RecordingExport };
  /** The default destination and the commands a copy-out of `remotePath` will run (nothing runs yet). */
  'ssh.copyout.plan': { params: { connectionId: string; remotePath: string; sudo?: boolean }; result: CopyOutPlan };
  /** In web mode `localDir` must be under the plan's `copiesRoot`. Starting again into the same `localDir` resumes. */
  'ssh.copyout.start': {
    /** `sudo`: read as root through sudo (password asked once per connection, kept in memory only). */
    params: { connectionId: string; remotePath: string; localDir: string; force?: boolean; sudo?: boolean };
    result: { jobId: string };
  };
  'ssh.copyout.cancel': { params: { jobId: string }; result: { cancelled: boolean } };
}

export interface SshEvents {
  'ssh.prompt': SshPrompt;
  /** The back end withdrew a prompt (its connection attempt ended, or the node was disconnected). */
  'ssh.prompt.closed': { promptId: string };
  'ssh.state': {
    connectionId: string;
    state: SshConnectionState;
    message?: string;
    /** `message` as a catalog key and params, when the back end has one (the renderer says it in its language). */
    text?: ErrorText;
    /** Set when the connection was refused over a host key (changed, revoked, or unknown and rejected). */
    hostKey?: HostKeyVerdict;
    /** Present while (and when) the back end reconnects by itself. */
    auto?: AutoReconnectState;
  };
  /** Raw terminal bytes, base64 (the JSON transports carry text). */
  'ssh.terminal.data': { terminalId: string; dataBase64: string };
  'ssh.terminal.exit': { terminalId: string; reason: 'exit' | 'dropped' | 'closed'; code?: number | null };
  'ssh.copyout.progress': { jobId: string; progress: CopyOutProgress };
  'ssh.copyout.done': { jobId: string; result: CopyOutResult };
  /** `changing`: the refusal because the directory is being written (what moved); start again with `force` to copy anyway. */
  'ssh.copyout.failed': {
    jobId: string;
    error: string;
    resumable: boolean;
    changing?: string[];
    /** `changing` as data, to say it in the UI's language (shared/node/directory-change.ts). */
    changes?: DirectoryChange[];
    /** `error` as a catalog text, for the UI's language. */
    text?: ErrorText;
  };
  /** Every command run on a node and every SFTP access, before it runs. */
  'ssh.command': NodeCommand;
  /** The connection learned whether its login is root (the first privileged command, or `ssh.privilege`). */
  'ssh.privilege.learned': LoginPrivilege & { connectionId: string };
  /** A recorded `exec` command ended. */
  'ssh.command.end': { id: string; connectionId: string; code: number | null; elapsedMs: number };
}

/** One thing that moved in a node directory between two listings (`path` below the copied root; '.' is the root). */
export type DirectoryChange = { path: string } & (
  | { kind: 'removed' }
  | { kind: 'new' }
  | { kind: 'resized'; from: number; to: number }
  | { kind: 'written'; size: number }
  /** A directory whose entries changed while no file says more (a file made and removed again). */
  | { kind: 'entries' }
);
