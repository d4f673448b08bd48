/**
 * Guided recovery sessions: playbooks (data) walked step by step beside the
 * terminals, and the record of what happened (an append-only journal that
 * survives the app being killed). Pure types; the runner is
 * `shared/guided/runner.ts`, the store and the service live in
 * `electron/services/sessions/`.
 */
import type { NodeCard } from './node';
import type { LocalText } from './text';

/** A text in both UI languages (playbooks are data, so their words travel with them). */
export interface BiText {
  en: string;
  'zh-CN': string;
}

export type StepKind = 'explain' | 'probe' | 'check' | 'decision' | 'change' | 'copy-validate' | 'upload' | 'wait' | 'verify';

/** What a command's result must look like for a check, wait or verify step to pass. */
export interface Expectation {
  exitCode?: number;
  /**
   * A linear regular expression the output must match (JavaScript syntax, no
   * backreferences). Output is stdout, a newline, then stderr: tools differ in
   * where they print (etcdctl 3.4 prints `endpoint health` to stderr).
   */
  outputMatches?: string;
  outputNotMatches?: string;
}

export interface PlaybookStep {
  id: string;
  kind: StepKind;
  title: BiText;
  /** Why this step, in plain words. */
  body: BiText;
  /**
   * The exact command, with `{{var}}` placeholders filled from the session's
   * variables (shell-quoted when needed). Absent for explain and decision.
   */
  command?: string;
  /** Run through sudo. */
  sudo?: boolean;
  expect?: Expectation;
  /** change: the node paths the command changes (shown, and backed up first). */
  touches?: string[];
  /** change: node paths to back up before the command runs (tar + SHA-256 recorded). */
  backup?: string[];
  /** change: what could get worse, named in the confirmation. */
  risk?: BiText;
  /** decision: the choices. */
  options?: { id: string; label: BiText; goto: string }[];
  /** wait: poll every `intervalSeconds` until `expect` holds or `timeoutSeconds` pass. */
  intervalSeconds?: number;
  timeoutSeconds?: number;
  /**
   * copy-validate: the node path to copy out and validate; upload: the node
   * path a local file is written to, never over an existing one (placeholders allowed).
   */
  path?: string;
  /** upload: the session variable set to `path` once the upload is verified (e.g. `backup`, for the restore steps). */
  setsVariable?: string;
  /**
   * upload: what the picker offers: salvaged etcd snapshot.db files (the default), or fresh dqlite backends packed
   * by the offline rebuild (`backend.tar`).
   */
  accepts?: UploadKind;
  /** Next step when this one passes (default: the next in the list; 'end' finishes). */
  next?: string;
  /** check/wait/verify/copy-validate: where to go when it fails (default: stop and ask the operator). */
  onFail?: string;
  /** Variables this step sets from its stdout: name -> linear regex with one capture group. */
  captures?: Record<string, string>;
  /**
   * A step only some nodes need (decompress a backup the node card found compressed): reached while `variable`
   * has no value, it is skipped by the service itself, journalled with `otherwise` as the reason.
   */
  onlyWhen?: { variable: string; otherwise: LocalText };
}

export interface Playbook {
  id: string;
  title: BiText;
  summary: BiText;
  /** Which field report(s) and failure signatures lead here. */
  engine: 'etcd' | 'dqlite';
  signatures: string[];
  /** Variables the playbook needs before it starts (from the node card or the operator), with a description. */
  variables: { name: string; description: BiText; from?: string }[];
  steps: PlaybookStep[];
}

export type StepStatus = 'pending' | 'running' | 'passed' | 'failed' | 'skipped' | 'interrupted' | 'done-in-terminal';

/** One line of the session journal. Appended, never rewritten. */
export type SessionEvent =
  /** `asRoot`: the node's login is root, so its sudo steps run as they are (no sudo). */
  | {
      type: 'created';
      at: number;
      sessionId: string;
      playbookId: string;
      node: string;
      variables: Record<string, string>;
      language: 'en' | 'zh-CN';
      asRoot?: true;
      /** The session runs inside this container on the node (a kind node container, through `docker exec`). */
      container?: string;
      /** `docker` is run as it is, not through sudo (the container's card was read so: a login in the docker group). */
      dockerSudo?: false;
    }
  | { type: 'step-started'; at: number; stepId: string }
  /** `sudo`: run through sudo; `asRoot`: a root login ran it as it is, with no sudo (then `sudo` is false). */
  /** `runTag`: the tag it runs with (LIFEBOAT_RUN in its environment), by which what it started is found again. */
  | { type: 'command-shown'; at: number; stepId: string; command: string; host: string; sudo: boolean; asRoot?: true; runTag?: string }
  /**
   * A stopped command's processes ended on the node: `command` is the script that found them by the run's tag and
   * sent TERM (KILL after the grace); its output names them (shared/node/run-tag.ts).
   */
  | {
      type: 'stop-sent';
      at: number;
      stepId: string;
      /** The run it ended (its command-shown's `runTag`). */
      runTag?: string;
      command: string;
      host: string;
      sudo: boolean;
      asRoot?: true;
      code: number | null;
      stdout: string;
      stderr: string;
    }
  | { type: 'confirmed'; at: number; stepId: string; by: string; risk: string }
  | { type: 'backup'; at: number; stepId: string; paths: string[]; archive: string; sha256: string; bytes: number }
  | {
      type: 'command-finished';
      at: number;
      stepId: string;
      command: string;
      host: string;
      code: number | null;
      stdout: string;
      stderr: string;
      truncated: boolean;
    }
  | {
      type: 'step-finished';
      at: number;
      stepId: string;
      status: Exclude<StepStatus, 'pending' | 'running'>;
      next: string | null;
      /** In English (the journal's language); `local` is the same sentence for the UI's language. */
      reason?: string;
      local?: LocalText;
    }
  | { type: 'decision'; at: number; stepId: string; optionId: string }
  | { type: 'variable'; at: number; name: string; value: string; stepId?: string }
  /** `local`: the same sentence as a catalog text, so the checklist and the report say it in their language (`text` is the English). */
  | { type: 'finding'; at: number; stepId: string; severity: 'error' | 'warning' | 'info'; text: string; local?: LocalText }
  | { type: 'quarantined'; at: number; stepId: string; path: string; to: string; sha256?: string }
  /** A local file written to the node by an upload step, its SHA-256 checked on the node against the local file. */
  | { type: 'uploaded'; at: number; stepId: string; host: string; path: string; bytes: number; sha256: string; from: string }
  | { type: 'note'; at: number; text: string; stepId?: string; local?: LocalText }
  | { type: 'went-back'; at: number; fromStepId: string; toStepId: string }
  | { type: 'finished'; at: number; outcome: 'healthy' | 'abandoned' | 'failed'; text?: string };

/** A session as replayed from its journal. */
export interface SessionState {
  sessionId: string;
  playbookId: string;
  node: string;
  language: 'en' | 'zh-CN';
  variables: Record<string, string>;
  /** The container on the node every command runs in (`docker exec`; a kind node container), when not the node itself. */
  container?: string;
  /** `docker` runs as it is, not through sudo (absent: through sudo, unless the login is root). */
  dockerSudo?: false;
  /** The step the operator is on (null when finished). */
  current: string | null;
  status: Record<string, StepStatus>;
  events: SessionEvent[];
  finished: { outcome: 'healthy' | 'abandoned' | 'failed'; at: number } | null;
  /** The journal's last line was torn (the app was killed mid-write); it was ignored. */
  tornTail: boolean;
}

export interface SessionSummary {
  sessionId: string;
  playbookId: string;
  node: string;
  createdAt: number;
  updatedAt: number;
  current: string | null;
  finished: SessionState['finished'];
}

/** What a copy-out + validation of a node path found, reported by the client that ran them. */
export interface CopyValidateOutcome {
  /** The copy is complete and verified and the validator ran (whatever it found: that is in `summary` and `findings`). */
  ok: boolean;
  /** The validator's one-paragraph verdict. */
  summary: string;
  /** `summary` as a catalog sentence, when the validator wrote it from one. */
  summaryText?: LocalText;
  /** `text` in English (the engine's own line when there is one); `local`: the validator's explanation for the UI's language. */
  findings: { severity: 'error' | 'warning' | 'info'; text: string; local?: LocalText }[];
  /** The local copy's manifest, when there is one. */
  manifest?: string;
}

/** What an upload step sends: an etcd snapshot.db, or a fresh dqlite backend in one archive. */
export type UploadKind = 'etcd-snapshot' | 'dqlite-backend';

/** A local file the upload step's picker offers (a salvaged snapshot.db, or a rebuilt backend.tar, the app knows of). */
export interface UploadCandidate {
  /** Absolute path on this machine (web mode: always inside the copies folder). */
  path: string;
  bytes: number;
  /** Modification time, ms since the epoch. */
  mtime: number;
  /** SHA-256 of the whole file, as the node must report it after the upload. */
  sha256: string;
  /**
   * A snapshot.db `etcdctl snapshot restore` would accept (a bbolt db whose 32-byte SHA-256 trailer matches its
   * body); a backend.tar that holds a fresh backend (metadata1, a snapshot and its .meta).
   */
  valid: boolean;
  /** Why it would not restore, when `valid` is false. */
  problem?: LocalText;
  /** Where the app knows it from: a salvage or rebuild run of this window, or the copies folder. */
  origin: 'salvage' | 'copies';
}

export interface UploadCandidates {
  /** What was looked for. */
  accepts: UploadKind;
  /** Newest good first: valid files by time (newest first), then the others by time. */
  candidates: UploadCandidate[];
  /** The folder that was searched (the copies folder). */
  root: string;
  /** Web mode: a typed path must be inside this folder; null when any path may be named. */
  confinedTo: string | null;
  /** A native open dialog is available (`guided.uploadChoose`): desktop only. */
  canChooseWithDialog: boolean;
}

/** Where an upload is, pushed as `guided.upload.progress` while `guided.upload` runs. */
export interface UploadProgress {
  sessionId: string;
  stepId: string;
  phase: 'checking' | 'sending' | 'installing' | 'verifying' | 'done' | 'failed' | 'cancelled';
  bytesSent: number;
  bytesTotal: number;
  /** Average rate since the first byte, bytes per second (0 until known). */
  bytesPerSecond: number;
  /** Seconds left at that rate (null until known). */
  etaSeconds: number | null;
  /** failed/cancelled: what happened and what to do next, in the UI's language. */
  problem?: LocalText;
}

/** Guided sessions and node detection over the contract (both transports). */
export interface GuidedMethods {
  /** Read-only probes on a connected node: the node card. */
  /** `container`: detect inside that container on the node (a kind node container, through `docker exec`). */
  'node.detect': { params: { connectionId: string; sudo: boolean; container?: string }; result: NodeCard };
  'guided.playbooks': { params: Record<string, never>; result: Playbook[] };
  'guided.list': { params: Record<string, never>; result: SessionSummary[] };
  /** Start a session on a connection; variables usually come from the node card. */
  'guided.create': {
    /** `dockerSudo`: with `container`, whether docker goes through sudo (default true): as the container's card was detected. */
    params: { playbookId: string; connectionId: string; variables: Record<string, string>; language: 'en' | 'zh-CN'; container?: string; dockerSudo?: boolean };
    result: SessionState;
  };
  /** Reopen a recorded session on a connection (after a restart: it resumes where it was). */
  'guided.open': { params: { sessionId: string; connectionId: string }; result: SessionState };
  'guided.get': { params: { sessionId: string }; result: SessionState };
  /** A change step's backup (tar + SHA-256 on the node), before the confirmation. */
  'guided.prepare': { params: { sessionId: string; stepId: string }; result: { archive: string; sha256: string; bytes: number; risk: string } };
  'guided.run': { params: { sessionId: string; stepId: string; confirm?: { by: string }; rerunInterrupted?: boolean }; result: SessionState };
  'guided.choose': { params: { sessionId: string; stepId: string; optionId: string }; result: SessionState };
  /** Skip the current step (a reason is required), or mark it done by hand in the terminal. */
  'guided.skip': { params: { sessionId: string; stepId: string; reason: string; doneInTerminal?: boolean }; result: SessionState };
  'guided.back': { params: { sessionId: string; toStepId: string }; result: SessionState };
  'guided.setVariable': { params: { sessionId: string; name: string; value: string }; result: SessionState };
  /** The client ran a copy-validate step's copy-out and validation; record what they found. */
  'guided.copyValidated': { params: { sessionId: string; stepId: string; outcome: CopyValidateOutcome }; result: SessionState };
  /**
   * An upload step: write a local file (e.g. a salvaged snapshot.db) to the
   * step's node path over SFTP (through a private temp and `sudo install`
   * when the step runs with sudo), refusing to overwrite, and verify its
   * SHA-256 on the node.
   */
  'guided.upload': { params: { sessionId: string; stepId: string; localPath: string }; result: SessionState };
  /**
   * The upload picker: the salvaged snapshot.db outputs this window's etcd
   * salvage runs wrote and the `.db` files in the copies folder, each with
   * size, time, SHA-256 and whether its trailer makes it restorable. Web mode
   * lists only files inside the copies folder.
   */
  'guided.uploadCandidates': { params: { accepts?: UploadKind }; result: UploadCandidates };
  /** Desktop only: the native open dialog for the file to upload; null when the user cancelled. */
  'guided.uploadChoose': { params: Record<string, never>; result: { path: string | null } };
  /**
   * Stop the command this session runs now (a step, a poll or a change's backup): Lifeboat stops waiting and ends
   * what it started on the node (TERM, KILL after 5 s, journalled as a 'stop-sent' event); its step ends
   * interrupted with what became of it, to be run again or skipped. Also done by itself when a command outlasts
   * its time limit; a wait step also ends between its polls. False when the session runs nothing now.
   */
  'guided.stop': { params: { sessionId: string }; result: { stopped: boolean } };
  /** Stop the running upload of this step: the node's temp copy is removed, the destination never touched. */
  'guided.uploadCancel': { params: { sessionId: string; stepId: string }; result: { cancelled: boolean } };
  'guided.finish': { params: { sessionId: string; outcome: 'healthy' | 'abandoned' | 'failed'; text?: string }; result: SessionState };
  'guided.export': { params: { sessionId: string; format: 'html' | 'md'; language: 'en' | 'zh-CN' }; result: { fileName: string; text: string } };
}

export interface GuidedEvents {
  'guided.updated': { state: SessionState };
  'guided.upload.progress': UploadProgress;
}
