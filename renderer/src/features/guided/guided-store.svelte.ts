/**
 * Guided recovery in the renderer: the node card per connection, the
 * playbooks, the recorded sessions, and the open session kept current by the
 * back end's `guided.updated` events. Everything that touches the node goes
 * through the contract (`node.detect`, `guided.*`); the copy-validate step
 * runs the existing copy-out and validation and reports what they found.
 * One instance for the page, like the SSH store.
 */
import type { LifeboatClient } from '../../../../shared/contract/api';
import type {
  CopyValidateOutcome,
  Playbook,
  SessionState,
  SessionSummary,
  UploadCandidates,
  UploadKind,
  UploadProgress,
} from '../../../../shared/contract/guided';
import type { NodeCard } from '../../../../shared/contract/node';
import type { ValidationReport } from '../../../../shared/contract/report';
import { dqliteRepairCommands, dqliteRepairLost, variablesFromDatastore } from '../../../../shared/guided/variables';
import { errorSentence } from '../../lib/error-sentence';
import { UPLOAD_ERRORS } from './upload-errors';
import { findingMessageKey } from '../validation/local-text';
import { hasMessage, translateLocal } from '../../../../shared/i18n';
import { directoryChangesText } from '../../../../shared/node/directory-change';
import type { LocalText } from '../../../../shared/contract/text';
import type { DqliteRebuildReport } from '../../../../shared/contract/dqlite';
import type { Progress } from '../../../../shared/contract/progress';
import type { ErrorText } from '../../../../shared/contract/error-text';
import { REBUILD_ERRORS } from '../dqlite-rebuild/model';
import { RunRouter } from '../../lib/run-router';

/** An error in the UI language: its catalog text when the back end sent one, else its message. */
function message(e: unknown): string {
  return errorSentence(e, {});
}

export class GuidedStore {
  cards = $state<Record<string, NodeCard>>({});
  /** Cards of containers on a connection's Docker host (kind node containers), by connection, then container. */
  containerCards = $state<Record<string, Record<string, NodeCard>>>({});
  detecting = $state<string | null>(null);
  playbooks = $state<Playbook[]>([]);
  sessions = $state<SessionSummary[]>([]);
  session = $state<SessionState | null>(null);
  connectionId = $state<string | null>(null);
  busy = $state(false);
  /** Stop was pressed and the action it stops has not ended yet (the node is ending the command). */
  stopping = $state(false);
  error = $state<string | null>(null);
  /** The backup a change step took, waiting for the confirmation. */
  backup = $state<{ stepId: string; archive: string; sha256: string; bytes: number; risk: string } | null>(null);
  copyProgress = $state<{ done: number; total: number; phase: 'copying' | 'validating' } | null>(null);
  /** The copy-validate step whose last copy was refused because the node directory kept changing (it offers "copy anyway"). */
  copyChanging = $state<{ stepId: string } | null>(null);
  /** The last progress of this session's upload (kept after it ends: it says how it ended). */
  uploadProgress = $state<UploadProgress | null>(null);
  /**
   * The back end's validation job of the dqlite copy this session's copy-validate step made: the upload step of the
   * fresh-backend branch rebuilds it (`dqlite.rebuild.*`) without leaving the checklist. Kept for this page only.
   */
  copyValidation = $state<{ sessionId: string; jobId: string; localPath: string } | null>(null);
  /** The rebuild of that copy: running (its progress), or how it ended. */
  copyRebuild = $state<{
    sessionId: string;
    progress: Progress | null;
    report: DqliteRebuildReport | null;
    /** Why it did not finish: the back end's English, its catalog text when it sent one. */
    error: string | null;
    errorText: ErrorText | null;
    /** Why it was refused before it ran, already in the UI's language (by error code). */
    refused: string | null;
  } | null>(null);

  constructor(private readonly client: LifeboatClient) {
    client.on('guided.updated', ({ state }) => {
      if (this.session && state.sessionId === this.session.sessionId) this.session = state;
    });
    client.on('guided.upload.progress', (p) => {
      if (this.session && p.sessionId === this.session.sessionId) this.uploadProgress = p;
    });
  }

  /**
   * Rebuild the dqlite copy this session validated (the report's "Rebuild the databases", into the folder the back
   * end proposes: web mode, inside the copies folder); resolves when it ended, `copyRebuild` says how.
   */
  async rebuildCopy(): Promise<void> {
    const s = this.session;
    const copy = this.copyValidation;
    if (!s || !copy || copy.sessionId !== s.sessionId) return;
    const state = (this.copyRebuild = { sessionId: s.sessionId, progress: null, report: null, error: null, errorText: null, refused: null });
    try {
      const plan = await this.client.call('dqlite.rebuild.plan', { jobId: copy.jobId });
      // Events may arrive before the id does (RunRouter keeps them until it is known).
      const router = new RunRouter();
      const route = (rebuildId: string, apply: () => void): void => router.route(rebuildId, apply);
      const ended = new Promise<void>((resolve) => {
        const offs = [
          this.client.on('dqlite.rebuild.progress', (e) => route(e.rebuildId, () => (this.copyRebuild = { ...state, progress: e.progress }))),
          this.client.on('dqlite.rebuild.done', (e) =>
            route(e.rebuildId, () => {
              offs.forEach((f) => f());
              this.copyRebuild = { ...state, report: e.report };
              resolve();
            }),
          ),
          this.client.on('dqlite.rebuild.failed', (e) =>
            route(e.rebuildId, () => {
              offs.forEach((f) => f());
              this.copyRebuild = { ...state, error: e.cancelled ? 'cancelled' : e.error, errorText: e.errorText ?? null };
              resolve();
            }),
          ),
        ];
      });
      router.started((await this.client.call('dqlite.rebuild.start', { jobId: copy.jobId, outputPath: plan.defaultOutput })).rebuildId);
      await ended;
    } catch (e) {
      this.copyRebuild = { ...state, refused: errorSentence(e, REBUILD_ERRORS) };
    }
  }

  /** The upload picker's list (the back end reads only the copies folder in web mode). */
  uploadCandidates(accepts: UploadKind = 'etcd-snapshot'): Promise<UploadCandidates> {
    return this.client.call('guided.uploadCandidates', { accepts });
  }

  /** Desktop: the native open dialog; null when cancelled. */
  async chooseUploadFile(): Promise<string | null> {
    try {
      return (await this.client.call('guided.uploadChoose', {})).path;
    } catch (e) {
      this.error = errorSentence(e, UPLOAD_ERRORS);
      return null;
    }
  }

  async cancelUpload(stepId: string): Promise<void> {
    const s = this.session;
    if (s)
      await this.client.call('guided.uploadCancel', { sessionId: s.sessionId, stepId }).catch((e: unknown) => (this.error = errorSentence(e, UPLOAD_ERRORS)));
  }

  async load(): Promise<void> {
    try {
      this.playbooks = await this.client.call('guided.playbooks', {});
      this.sessions = await this.client.call('guided.list', {});
    } catch (e) {
      this.error = message(e);
    }
  }

  /** What `detecting` holds while the node, or a container on it, is being detected. */
  detectingKey(connectionId: string, container?: string): string {
    return container === undefined ? connectionId : `${connectionId} › ${container}`;
  }

  /** `container`: detect inside that container on the connection's Docker host (a kind node container, through docker exec). */
  async detect(connectionId: string, sudo: boolean, container?: string): Promise<void> {
    this.detecting = this.detectingKey(connectionId, container);
    this.error = null;
    try {
      const card = await this.client.call('node.detect', { connectionId, sudo, ...(container !== undefined ? { container } : {}) });
      if (container === undefined) this.cards = { ...this.cards, [connectionId]: card };
      else this.containerCards = { ...this.containerCards, [connectionId]: { ...this.containerCards[connectionId], [container]: card } };
    } catch (e) {
      this.error = message(e);
    } finally {
      this.detecting = null;
    }
  }

  /** `byCode`: the sentences for refusal codes of this action, said in the Chinese UI instead of the English message. */
  private async act(fn: () => Promise<SessionState | void>, byCode: Readonly<Record<string, string>> = {}): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      const s = await fn();
      if (s) this.session = s;
    } catch (e) {
      this.error = errorSentence(e, byCode);
    } finally {
      this.busy = false;
      this.stopping = false;
    }
  }

  /** `container`: the session runs inside that container on the connection's Docker host (its card gives the variables). */
  start(playbookId: string, connectionId: string, language: 'en' | 'zh-CN', container?: string): Promise<void> {
    const card = container !== undefined ? this.containerCards[connectionId]?.[container] : this.cards[connectionId];
    const pb = this.playbooks.find((p) => p.id === playbookId);
    const ds = card?.datastores.find((d) => d.engine === pb?.engine) ?? card?.datastores[0];
    const variables = ds ? variablesFromDatastore(ds) : {};
    this.connectionId = connectionId;
    this.backup = null;
    return this.act(() =>
      this.client.call('guided.create', {
        playbookId,
        connectionId,
        variables,
        language,
        // docker as the container's card was read: through sudo or, for a login in the docker group, as it is.
        ...(container !== undefined ? { container, dockerSudo: card?.sudo ?? true } : {}),
      }),
    );
  }

  resume(sessionId: string, connectionId: string): Promise<void> {
    this.connectionId = connectionId;
    this.backup = null;
    return this.act(() => this.client.call('guided.open', { sessionId, connectionId }));
  }

  run(stepId: string, opts: { confirm?: boolean; rerunInterrupted?: boolean } = {}): Promise<void> {
    const s = this.session;
    if (!s) return Promise.resolve();
    return this.act(async () => {
      const r = await this.client.call('guided.run', {
        sessionId: s.sessionId,
        stepId,
        ...(opts.confirm ? { confirm: { by: 'operator' } } : {}),
        ...(opts.rerunInterrupted ? { rerunInterrupted: true } : {}),
      });
      if (opts.confirm) this.backup = null;
      return r;
    });
  }

  /** Stop the command that runs now, on the node too (the action that started it then ends, with the step interrupted). */
  async stopCommand(): Promise<void> {
    const s = this.session;
    if (!s) return;
    this.stopping = true;
    const r = await this.client.call('guided.stop', { sessionId: s.sessionId }).catch((e: unknown) => {
      this.error = errorSentence(e, {});
      return null;
    });
    // Nothing was running (it ended meanwhile), or the call failed: nothing is being ended.
    if (!r?.stopped || !this.busy) this.stopping = false;
  }

  prepare(stepId: string): Promise<void> {
    const s = this.session;
    if (!s) return Promise.resolve();
    return this.act(async () => {
      const b = await this.client.call('guided.prepare', { sessionId: s.sessionId, stepId });
      this.backup = { stepId, ...b };
      return this.client.call('guided.get', { sessionId: s.sessionId });
    });
  }

  choose(stepId: string, optionId: string): Promise<void> {
    const s = this.session;
    if (!s) return Promise.resolve();
    return this.act(() => this.client.call('guided.choose', { sessionId: s.sessionId, stepId, optionId }));
  }

  skip(stepId: string, reason: string, doneInTerminal: boolean): Promise<void> {
    const s = this.session;
    if (!s) return Promise.resolve();
    return this.act(() => this.client.call('guided.skip', { sessionId: s.sessionId, stepId, reason, doneInTerminal }));
  }

  back(toStepId: string): Promise<void> {
    const s = this.session;
    if (!s) return Promise.resolve();
    this.backup = null;
    return this.act(() => this.client.call('guided.back', { sessionId: s.sessionId, toStepId }));
  }

  /** An upload step: write a local file (a salvaged snapshot.db) to the step's node path; the service checks its SHA-256 there. */
  upload(stepId: string, localPath: string): Promise<void> {
    const s = this.session;
    if (!s) return Promise.resolve();
    this.uploadProgress = null;
    return this.act(() => this.client.call('guided.upload', { sessionId: s.sessionId, stepId, localPath }), UPLOAD_ERRORS);
  }

  setVariable(name: string, value: string): Promise<void> {
    const s = this.session;
    if (!s) return Promise.resolve();
    return this.act(() => this.client.call('guided.setVariable', { sessionId: s.sessionId, name, value }));
  }

  finish(outcome: 'healthy' | 'abandoned'): Promise<void> {
    const s = this.session;
    if (!s) return Promise.resolve();
    return this.act(async () => {
      const r = await this.client.call('guided.finish', { sessionId: s.sessionId, outcome });
      this.sessions = await this.client.call('guided.list', {});
      return r;
    });
  }

  close(): void {
    this.session = null;
    this.backup = null;
    void this.load();
  }

  async exportReport(format: 'html' | 'md', language: 'en' | 'zh-CN'): Promise<{ fileName: string; text: string } | null> {
    const s = this.session;
    if (!s) return null;
    try {
      return await this.client.call('guided.export', { sessionId: s.sessionId, format, language });
    } catch (e) {
      this.error = message(e);
      return null;
    }
  }

  /**
   * The copy-validate step: copy the node path off (verified by SHA-256 on
   * both ends), validate the copy in a worker, and record what it found.
   */
  copyValidate(stepId: string, nodePath: string, sudo: boolean, force = false): Promise<void> {
    const s = this.session;
    const connectionId = this.connectionId;
    if (!s || !connectionId) return Promise.resolve();
    this.copyChanging = null;
    return this.act(async () => {
      const plan = await this.client.call('ssh.copyout.plan', { connectionId, remotePath: nodePath, sudo });
      const { jobId } = await this.client.call('ssh.copyout.start', { connectionId, remotePath: nodePath, localDir: plan.localDir, sudo, force });
      this.copyProgress = { done: 0, total: 0, phase: 'copying' };
      const copied = await new Promise<{ ok: boolean; error?: string; errorText?: LocalText; localPath?: string }>((resolve) => {
        const offs = [
          this.client.on('ssh.copyout.progress', (e) => {
            if (e.jobId === jobId) this.copyProgress = { done: e.progress.bytesDone, total: e.progress.bytesTotal, phase: 'copying' };
          }),
          this.client.on('ssh.copyout.done', (e) => {
            if (e.jobId !== jobId) return;
            offs.forEach((f) => f());
            resolve({ ok: e.result.allMatch, localPath: e.result.localPath });
          }),
          this.client.on('ssh.copyout.failed', (e) => {
            if (e.jobId !== jobId) return;
            offs.forEach((f) => f());
            if (e.changes?.length) {
              // A crash-looping etcd rewrites its directory at every restart: the step offers "copy anyway".
              this.copyChanging = { stepId };
              // What moved, as phrases: the journal keeps the English, the checklist says it in the operator's language.
              resolve({ ok: false, error: e.error, errorText: { key: 'ssh.copyout.changing', texts: { files: directoryChangesText(e.changes) } } });
              return;
            }
            // The journal keeps the English; the checklist says it in the operator's language.
            resolve({ ok: false, error: e.error, ...(e.text ? { errorText: e.text } : {}) });
          }),
        ];
      });
      let outcome: CopyValidateOutcome;
      if (!copied.ok) {
        const summaryText = copied.errorText ?? (copied.error ? undefined : { key: 'guided.step.copyMismatch' });
        outcome = {
          ok: false,
          summary: summaryText ? translateLocal('en', summaryText) : (copied.error ?? ''),
          ...(summaryText ? { summaryText } : {}),
          findings: [],
        };
      } else {
        // Where the verified copy is: the playbook's salvage command names it.
        if (copied.localPath) await this.client.call('guided.setVariable', { sessionId: s.sessionId, name: 'copyPath', value: copied.localPath });
        this.copyProgress = { done: 0, total: 0, phase: 'validating' };
        const { jobId: vJob } = await this.client.call('validation.start', { source: { kind: 'copy', jobId } });
        const report = await new Promise<ValidationReport | string>((resolve) => {
          const offs = [
            this.client.on('validation.done', (e) => {
              if (e.jobId !== vJob) return;
              offs.forEach((f) => f());
              resolve(e.report);
            }),
            this.client.on('validation.failed', (e) => {
              if (e.jobId !== vJob) return;
              offs.forEach((f) => f());
              resolve(e.error);
            }),
          ];
        });
        // The microk8s playbook runs the validator's file operations as its quarantine step, or rebuilds this copy.
        if (typeof report !== 'string' && report.dqlite) {
          if (copied.localPath) this.copyValidation = { sessionId: s.sessionId, jobId: vJob, localPath: copied.localPath };
          await this.client.call('guided.setVariable', { sessionId: s.sessionId, name: 'repairCommands', value: dqliteRepairCommands(report.dqlite.repair) });
          await this.client.call('guided.setVariable', { sessionId: s.sessionId, name: 'repairLost', value: dqliteRepairLost(report.dqlite.repair) });
        }
        outcome =
          typeof report === 'string'
            ? { ok: false, summary: report, findings: [] }
            : {
                ok: true,
                summary: report.summary,
                ...(report.summaryText ? { summaryText: report.summaryText } : {}),
                findings: report.findings.map((f) => {
                  // The journal keeps the engine's own line (English, as journalctl shows it); the checklist also
                  // says what it means in the UI's language when the validator wrote the message from a template.
                  // A finding whose message has no template (the engine's line as it is) still has a catalog title.
                  const key = findingMessageKey(f);
                  const title = `finding.${f.code}`;
                  const local = f.messageText ?? (key ? { key, params: f.params } : hasMessage(title) ? { key: title } : undefined);
                  return {
                    severity: f.severity,
                    text: `${f.file ?? ''}${f.offset !== null ? `@${f.offset}` : ''} ${f.engineError ?? f.message}`.trim(),
                    ...(local ? { local } : {}),
                  };
                }),
              };
      }
      this.copyProgress = null;
      return this.client.call('guided.copyValidated', { sessionId: s.sessionId, stepId, outcome });
    });
  }
}

let instance: GuidedStore | null = null;

/** The page's one guided store (made on first use, like sshStore). */
export function guidedStore(client: LifeboatClient): GuidedStore {
  instance ??= new GuidedStore(client);
  return instance;
}
