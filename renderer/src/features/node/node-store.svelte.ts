/**
 * "Reading the node": per connected node, the data directory panel's state
 * (path, Look listing, copy-out job), plus the session log of every command
 * and SFTP access the back end announced (`ssh.command`). One instance for
 * the page, like the SSH store, so a copy keeps its progress while the user
 * looks at a terminal or a report.
 */
import type { ErrorText, LifeboatClient, SourceRef } from '../../../../shared/contract/api';
import type { ListingAnalysis } from '../../../../shared/contract/listing';
import type { CopyOutPlan, CopyOutProgress, CopyOutResult, DirectoryChange, SshEvents } from '../../../../shared/contract/ssh';
import { analyzeListing } from '../../../../shared/formats/dqlite/listing';
import { newRunTag } from '../../../../shared/node/run-tag';
import { t } from '../../lib/i18n.svelte';
import { DATA_DIR_PRESETS, checkRemotePath, lookCommand } from './commands';
import { markInterrupted, type LogEntry } from './session-log';
import { stoppedSentence } from './exec-stopped';
import { panelOf, withoutPanel } from './panels';
import { openRemoteDir, type RemoteDirView } from './remote-tree';

export interface LookState {
  status: 'running' | 'done' | 'failed';
  /** The command as shown and sent (before any sudo wrapping). */
  command: string;
  sudo: boolean;
  path: string;
  analysis: ListingAnalysis | null;
  /** ls's own complaint (exit code != 0), or a transport error. */
  error: string | null;
  code: number | null;
}

export type CopyStatus = 'planned' | 'running' | 'done' | 'failed' | 'changing' | 'cancelled';

export interface CopyState {
  plan: CopyOutPlan;
  /** Destination (the plan's default; editable in Electron only). */
  localDir: string;
  status: CopyStatus;
  jobId: string | null;
  progress: CopyOutProgress | null;
  result: CopyOutResult | null;
  error: string | null;
  /** `error` as the back end's catalog text: shown in the UI's language (also after a language switch). */
  errorText: ErrorText | null;
  resumable: boolean;
  /** What moved between the two listings (the "being written" refusal). */
  changing: DirectoryChange[];
  /** The copy was started again into the same place (a resume). */
  attempts: number;
}

export type { LogEntry } from './session-log';

/** Opens a back-end validation in the report view; rejects when it cannot start (the panel shows why). */
export type ValidateOpener = (source: SourceRef, title: string) => Promise<void>;

const MAX_LOG = 2000;

export class NodePanel {
  path = $state(DATA_DIR_PRESETS[0].path);
  sudo = $state(false);
  /** The tag "Look" is sent with through sudo next (shown in the preview; a fresh one after each run). */
  runTag = $state(newRunTag());
  look = $state<LookState | null>(null);
  validating = $state(false);
  validateError = $state<string | null>(null);
  copy = $state<CopyState | null>(null);
  copyError = $state<string | null>(null);
  /** The remote tree picker ("Browse…"), open when not null. */
  browser = $state<RemoteDirView | null>(null);
  browsing = $state(false);

  constructor(readonly connectionId: string) {}
}

export class NodeStore {
  panels = $state<Record<string, NodePanel>>({});
  log = $state<LogEntry[]>([]);
  /**
   * Per connection, whether its login is root, as the back end learned it
   * (`ssh.privilege`, `ssh.privilege.learned`); absent while not known. Never
   * guessed from the user name: the panels then say "as root" instead of
   * offering sudo.
   */
  loginRoot = $state<Record<string, boolean>>({});
  /** Set by the workspace: how a validation is opened in the report view. */
  opener: ValidateOpener | null = null;

  /** Copy events that arrived before `ssh.copyout.start` answered with the job id. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a private buffer of callbacks, never rendered
  private early = new Map<string, (() => void)[]>();
  private readonly unsubscribe: (() => void)[] = [];
  /** Connections whose privilege was asked for (one `ssh.privilege` call each, again only after a failure). */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping of calls in flight, never rendered
  private asked = new Set<string>();

  constructor(readonly client: LifeboatClient) {
    this.unsubscribe.push(
      client.on('ssh.command', (c) => {
        this.log = [...this.log.slice(-(MAX_LOG - 1)), { ...c }];
      }),
      client.on('ssh.state', (e) => {
        if (e.state === 'dropped' || e.state === 'closed') markInterrupted(this.log, e.connectionId);
      }),
      client.on('ssh.privilege.learned', (e) => {
        this.loginRoot = { ...this.loginRoot, [e.connectionId]: e.loginIsRoot };
      }),
      client.on('ssh.command.end', (e) => {
        const entry = this.log.find((l) => l.id === e.id);
        if (entry) {
          entry.code = e.code;
          entry.elapsedMs = e.elapsedMs;
        }
      }),
      client.on('ssh.copyout.progress', (e) => this.route(e.jobId, (c) => (c.progress = e.progress))),
      client.on('ssh.copyout.done', (e) => this.route(e.jobId, (c, panel) => this.copyDone(panel, c, e))),
      client.on('ssh.copyout.failed', (e) => this.route(e.jobId, (c) => this.copyFailed(c, e))),
    );
  }

  dispose(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  panel(connectionId: string): NodePanel {
    return panelOf(this.panels, connectionId, (id) => new NodePanel(id));
  }

  /** The node is gone (disconnected): its panel goes too; its log lines stay. */
  forget(connectionId: string): void {
    if (connectionId in this.panels) this.panels = withoutPanel(this.panels, connectionId);
    this.asked.delete(connectionId);
    if (connectionId in this.loginRoot) {
      const { [connectionId]: _gone, ...rest } = this.loginRoot;
      this.loginRoot = rest;
    }
  }

  /**
   * Ask the back end once whether this connection's login is root (the
   * read-only `exec id -u`, shown in the session log; nothing when already
   * known). A failure (link lost) leaves it unknown: the panels keep
   * offering sudo, and the next panel that opens asks again.
   */
  async learnPrivilege(connectionId: string): Promise<void> {
    if (connectionId in this.loginRoot || this.asked.has(connectionId)) return;
    this.asked.add(connectionId);
    try {
      const { loginIsRoot } = await this.client.call('ssh.privilege', { connectionId });
      this.loginRoot = { ...this.loginRoot, [connectionId]: loginIsRoot };
    } catch {
      this.asked.delete(connectionId);
    }
  }

  /** True only once the back end said the login is root. */
  isRootLogin(connectionId: string): boolean {
    return this.loginRoot[connectionId] === true;
  }

  logFor(connectionId: string): LogEntry[] {
    return this.log.filter((l) => l.connectionId === connectionId);
  }

  private route(jobId: string, fn: (c: CopyState, panel: NodePanel) => void): void {
    for (const panel of Object.values(this.panels)) {
      if (panel.copy?.jobId === jobId) {
        fn(panel.copy, panel);
        return;
      }
    }
    // Not known yet: the start call has not answered. Keep it for a moment.
    const list = this.early.get(jobId) ?? [];
    list.push(() => this.route(jobId, fn));
    this.early.set(jobId, list);
    if (this.early.size > 50) this.early.delete(this.early.keys().next().value!);
  }

  /** Open the remote tree picker at `dir` (SFTP listing, read-only; nothing runs on the node). */
  async browse(panel: NodePanel, dir: string): Promise<void> {
    panel.browsing = true;
    try {
      panel.browser = await openRemoteDir((d) => this.client.call('ssh.list', { connectionId: panel.connectionId, path: d }), dir);
    } finally {
      panel.browsing = false;
    }
  }

  /** The picked directory becomes the panel's path; the picker closes. */
  pick(panel: NodePanel, dir: string): void {
    panel.path = dir;
    panel.browser = null;
    panel.validateError = null;
  }

  /** Run `ls -l --time-style=full-iso` on the node (read-only) and read it as a listing. */
  async look(panel: NodePanel): Promise<void> {
    const dir = panel.path.trim();
    if (checkRemotePath(dir)) return;
    const command = lookCommand(dir);
    const state: LookState = { status: 'running', command, sudo: panel.sudo, path: dir, analysis: null, error: null, code: null };
    panel.look = state;
    const runTag = panel.runTag;
    try {
      const r = await this.client.call('ssh.exec', { connectionId: panel.connectionId, command, sudo: panel.sudo, ...(panel.sudo ? { runTag } : {}) });
      const current = panel.look;
      if (current?.command !== command) return;
      current.code = r.code;
      if (r.code !== 0) {
        current.status = 'failed';
        current.error = r.stopped ? stoppedSentence(r.stopped) : (r.stderr || r.stdout).trim() || `exit ${String(r.code)}`;
        return;
      }
      // Read in place: the plan's commands name this directory.
      current.analysis = analyzeListing(r.stdout, { backend: { path: dir, origin: 'in-place' } });
      current.status = 'done';
    } catch (e) {
      if (panel.look?.command !== command) return;
      panel.look.status = 'failed';
      panel.look.error = messageOf(e);
    } finally {
      if (panel.runTag === runTag) panel.runTag = newRunTag();
    }
  }

  /**
   * Validate the directory in place (SFTP, or read-only sudo commands when
   * "Use sudo" is ticked); the report opens in the normal view.
   */
  async validateInPlace(panel: NodePanel, title: string): Promise<void> {
    const dir = panel.path.trim();
    if (checkRemotePath(dir) || !this.opener) return;
    panel.validating = true;
    panel.validateError = null;
    try {
      await this.opener({ kind: 'remote', connectionId: panel.connectionId, path: dir, ...(panel.sudo ? { sudo: true } : {}) }, title);
    } catch (e) {
      panel.validateError = messageOf(e);
    } finally {
      panel.validating = false;
    }
  }

  /** Ask the back end where the copy would go and which commands it runs (nothing runs yet). */
  async planCopy(panel: NodePanel): Promise<void> {
    const dir = panel.path.trim();
    if (checkRemotePath(dir)) return;
    if (panel.copy?.status === 'running') return;
    panel.copyError = null;
    try {
      const plan = await this.client.call('ssh.copyout.plan', { connectionId: panel.connectionId, remotePath: dir, ...(panel.sudo ? { sudo: true } : {}) });
      panel.copy = {
        plan,
        localDir: plan.localDir,
        status: 'planned',
        jobId: null,
        progress: null,
        result: null,
        error: null,
        errorText: null,
        resumable: false,
        changing: [],
        attempts: 0,
      };
    } catch (e) {
      panel.copyError = messageOf(e);
    }
  }

  /** Start (or resume: same destination) the copy; `force` is the explicit "copy anyway". */
  async startCopy(panel: NodePanel, force = false): Promise<void> {
    const c = panel.copy;
    if (!c || c.status === 'running') return;
    c.status = 'running';
    c.error = null;
    c.errorText = null;
    c.changing = [];
    c.resumable = false;
    c.progress = null;
    c.result = null;
    c.jobId = null;
    c.attempts++;
    try {
      const { jobId } = await this.client.call('ssh.copyout.start', {
        connectionId: panel.connectionId,
        remotePath: c.plan.remotePath,
        localDir: c.localDir,
        force,
        ...(c.plan.sudo ? { sudo: true } : {}),
      });
      c.jobId = jobId;
      for (const fn of this.early.get(jobId) ?? []) fn();
      this.early.delete(jobId);
    } catch (e) {
      c.status = 'failed';
      c.error = messageOf(e);
      c.errorText = errorTextOf(e) ?? null;
    }
  }

  async cancelCopy(panel: NodePanel): Promise<void> {
    const c = panel.copy;
    if (!c?.jobId || c.status !== 'running') return;
    await this.client.call('ssh.copyout.cancel', { jobId: c.jobId }).catch(() => undefined);
  }

  private copyDone(panel: NodePanel, c: CopyState, e: SshEvents['ssh.copyout.done']): void {
    c.status = 'done';
    c.result = e.result;
    // The copy opens in offline validation by itself (the back end resolves the job to the directory it wrote).
    if (this.opener) {
      void this.opener({ kind: 'copy', jobId: e.jobId }, t('ssh.copy.validateTitle', { path: e.result.localPath })).catch((err: unknown) => {
        panel.copyError = messageOf(err);
      });
    }
  }

  private copyFailed(c: CopyState, e: SshEvents['ssh.copyout.failed']): void {
    c.error = e.error;
    c.errorText = e.text ?? null;
    c.resumable = e.resumable;
    if (e.changes && e.changes.length > 0) {
      c.status = 'changing';
      c.changing = e.changes ?? [];
    } else c.status = e.error === 'cancelled' ? 'cancelled' : 'failed';
  }
}

/** An error as a sentence in the UI's language: the back end's catalog text if it sent one, else its message. */
export function messageOf(e: unknown): string {
  const text = errorTextOf(e);
  if (text) return t(text.key, text.params);
  return e instanceof Error ? e.message : String(e);
}

/** The catalog text (key + params) a back-end error carries (a ClientError's `text`), if any. */
export function errorTextOf(e: unknown): ErrorText | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const text = (e as { text?: unknown }).text;
  if (typeof text !== 'object' || text === null || typeof (text as { key?: unknown }).key !== 'string') return undefined;
  return text as ErrorText;
}

/** A failed copy's reason in the UI's current language. */
export function copyErrorSentence(c: Pick<CopyState, 'error' | 'errorText'>): string {
  return c.errorText ? t(c.errorText.key, c.errorText.params) : (c.error ?? '');
}

let store: NodeStore | null = null;

/** The page's one store (created on first use, lives as long as the page). */
export function nodeStore(client: LifeboatClient): NodeStore {
  store ??= new NodeStore(client);
  return store;
}
