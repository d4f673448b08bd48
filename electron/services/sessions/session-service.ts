/**
 * Guided sessions: walks a playbook on a node, one explicit operator action
 * at a time, and records everything in the session journal before and after
 * it happens. Nothing runs by itself: a step runs when the operator asks; a
 * change runs only after its backup was taken and hashed (`prepareChange`)
 * and the operator confirmed the risk (`run` with `confirm`); a step cut off
 * by a dropped connection or a crash is `interrupted` and is run again only
 * when the operator says so, knowing it may have half-run.
 *
 * The commands go through an injected executor per connection (the SSH
 * service in the app, a real SSH connection in the tests), so this service
 * holds no SSH state of its own. One instance per composition root.
 */
import * as path from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import type { CopyValidateOutcome, Playbook, PlaybookStep, SessionEvent, SessionState, SessionSummary, StepStatus } from '../../../shared/contract/guided';
import type { ExecResult, NodeExecutor } from '../../../shared/node/executor';
import { PLAYBOOKS, playbookById } from '../../../shared/guided/playbooks';
import {
  applyEvent,
  backupCommand,
  captureVariables,
  meetsExpectation,
  nextStep,
  notNeededBecause,
  renderCommand,
  stepById,
} from '../../../shared/guided/runner';
import { quoteIfNeeded } from '../../../shared/node/shell';
import { endTagged, newRunTag, runTagged, type TaggedRun } from '../../../shared/node/run-tag';
import { containerExecutor, containerNodeLabel, copyIntoContainerCommand, isContainerName } from '../../../shared/node/kind';
import { ApiError, errorTextOf } from '../api-error';
import { MAX_RECORDED_OUTPUT, type SessionStore } from './session-store';
import { hashLocalFile, sftpPutExclusive, uploadRate } from './upload';
import type { UploadProgress } from '../../../shared/contract/guided';
import type { LocalText } from '../../../shared/contract/text';
import { translateLocal } from '../../../shared/i18n';

/** The values a command of the step still needs, named as the session's form names them ({{name}}). */
function missingVariables(names: string[]): ApiError {
  return ApiError.localized('missing-variable', 'apiError.session.missingVariables', { names: names.map((m) => `{{${m}}}`).join(', ') });
}

type UploadPhase = UploadProgress['phase'];

/** What a node command gave back; `error` is what the executor threw (a sudo refusal, a dropped connection). */
interface StepExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: unknown;
}

export interface UploadOptions {
  /** Told where the upload is (the `guided.upload.progress` event without its ids). */
  onProgress?: (p: Omit<UploadProgress, 'sessionId' | 'stepId'>) => void;
  /** Aborted: stop sending, remove the node's temp copy, leave the destination untouched. */
  signal?: AbortSignal;
}

export interface SessionNode extends NodeExecutor {
  /** `user@host:port`, recorded with every command. */
  readonly host: string;
  /** The connection's SFTP session, for upload steps (absent: this node cannot take uploads). */
  sftp?(): Promise<SFTPWrapper>;
}

export interface SessionServiceDeps {
  store: SessionStore;
  /** The executor for a connection the caller owns; throws ApiError when there is none. */
  nodeFor(connectionId: string): SessionNode;
  /** Where change steps put their backups on the node. */
  backupDir?: string;
  now?: () => number;
  /** Told after every recorded change of a session (the `guided.updated` event). */
  onUpdate?: (state: SessionState) => void;
  /** Waits between polls of a wait step (tests shorten nothing: real seconds). */
  sleep?: (ms: number) => Promise<void>;
  /** How long a command may run, by what it does (default COMMAND_TIME_LIMIT_SECONDS). */
  timeLimits?: Record<TimeLimitKind, number>;
}

type TimeLimitKind = keyof typeof COMMAND_TIME_LIMIT_SECONDS;

interface Live {
  state: SessionState;
  connectionId: string;
  busy: boolean;
  /** Stops waiting for the command running now (the operator's Stop), when one runs. */
  stopCommand?: () => void;
  /** The operator asked to stop while the session was busy: a wait step ends between its polls too. */
  stopAsked?: boolean;
}

/**
 * How long one command of a step may run before the session stops waiting for it: a command that never answers
 * (kubectl against an apiserver that accepts and never replies, a wedged container runtime) must not hold the
 * session for good. Generous: a change may restore or archive gigabytes; a wait's polls are short each.
 */
export const COMMAND_TIME_LIMIT_SECONDS = { read: 300, change: 3600, poll: 120 } as const;

/** Why a command was stopped before it ended, and what became of it on the node. */
type Stopped = Pick<NonNullable<TaggedRun['stopped']>, 'why' | 'ended'>;

export class SessionService {
  private readonly live = new Map<string, Live>();

  constructor(private readonly deps: SessionServiceDeps) {}

  playbooks(): readonly Playbook[] {
    return PLAYBOOKS;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private async record(l: Live, e: SessionEvent): Promise<void> {
    await this.append(l, e);
    if (e.type === 'created' || e.type === 'step-finished') await this.passStepsNotNeeded(l);
  }

  private async append(l: Live, e: SessionEvent): Promise<void> {
    await this.deps.store.append(l.state.sessionId || (e.type === 'created' ? e.sessionId : ''), e);
    // Apply only what was durably written.
    applyEvent(l.state, e, playbookById(l.state.playbookId || (e.type === 'created' ? e.playbookId : '')));
    this.deps.onUpdate?.(l.state);
  }

  /**
   * The session moved on to a step this node does not need (its `onlyWhen` variable has no value): skip it, and
   * any such steps after it, in the journal with the playbook's reason, so the operator is never asked to skip by
   * hand what the node card already answered. Bounded by the playbook's length (a loop of such steps ends).
   */
  private async passStepsNotNeeded(l: Live): Promise<void> {
    const pb = playbookById(l.state.playbookId);
    if (!pb) return;
    for (let hop = 0; hop < pb.steps.length && l.state.current !== null && !l.state.finished; hop++) {
      const step = stepById(pb, l.state.current);
      const why = step ? notNeededBecause(step, l.state.variables) : null;
      if (!step || !why) return;
      await this.append(l, {
        type: 'step-finished',
        at: this.now(),
        stepId: step.id,
        status: 'skipped',
        next: nextStep(pb, step, 'passed'),
        reason: translateLocal('en', why),
        local: why,
      });
    }
  }

  /** The node a session's commands run on: the connection's, or a container on it (`docker exec`, a kind node container). */
  private nodeOf(connectionId: string, { container, dockerSudo }: Pick<SessionState, 'container' | 'dockerSudo'>): SessionNode {
    const host = this.deps.nodeFor(connectionId);
    if (container === undefined) return host;
    // Docker's socket through sudo unless the card was read without it (a root login: as it is). No sftp of its own:
    // an upload goes through the host (upload()).
    return { ...containerExecutor(host, container, dockerSudo !== false), host: containerNodeLabel(host.host, container) };
  }

  async create(req: {
    playbookId: string;
    connectionId: string;
    variables: Record<string, string>;
    language: 'en' | 'zh-CN';
    container?: string;
    /** With `container`: docker through sudo (default true). */
    dockerSudo?: boolean;
  }): Promise<SessionState> {
    const pb = playbookById(req.playbookId);
    // Contract: the page offers only the playbooks it listed.
    if (!pb) throw new ApiError('unknown-playbook', `no playbook ${req.playbookId}`);
    if (req.container !== undefined && !isContainerName(req.container)) throw new ApiError('bad-params', 'container must be a name Docker allows');
    // Recorded only when it is not the default (old journals, which have none, keep docker through sudo).
    const place = req.container === undefined ? {} : { container: req.container, ...(req.dockerSudo === false ? { dockerSudo: false as const } : {}) };
    const node = this.nodeOf(req.connectionId, place);
    const sessionId = this.deps.store.newId();
    const l: Live = {
      state: {
        sessionId: '',
        playbookId: '',
        node: '',
        language: req.language,
        variables: {},
        current: null,
        status: {},
        events: [],
        finished: null,
        tornTail: false,
      },
      connectionId: req.connectionId,
      busy: false,
    };
    const variables = { ...req.variables, sessionId, backupDir: this.deps.backupDir ?? '/var/backups/lifeboat' };
    // Known before any step runs, so the checklist says "as root" rather than "through sudo" from the start.
    const asRoot = await this.asRoot(node, true);
    await this.record(l, {
      type: 'created',
      at: this.now(),
      sessionId,
      playbookId: pb.id,
      node: node.host,
      variables,
      language: req.language,
      ...(asRoot ? { asRoot } : {}),
      ...place,
    });
    this.live.set(sessionId, l);
    return l.state;
  }

  /** A session from its journal (after a restart it resumes where it was; cut-off steps are interrupted). */
  async open(sessionId: string, connectionId: string): Promise<SessionState> {
    const state = await this.deps.store.load(sessionId);
    const l: Live = { state, connectionId, busy: false };
    this.live.set(sessionId, l);
    // Record the interruption itself, so the report says it.
    for (const [stepId, st] of Object.entries(state.status)) {
      if (st === 'interrupted' && !state.events.some((e) => e.type === 'step-finished' && e.stepId === stepId && e.status === 'interrupted')) {
        await this.record(l, {
          type: 'step-finished',
          at: this.now(),
          stepId,
          status: 'interrupted',
          next: stepId,
          reason: translateLocal('en', { key: 'guided.reason.stoppedWhileRunning' }),
          local: { key: 'guided.reason.stoppedWhileRunning' },
        });
      }
    }
    return l.state;
  }

  async get(sessionId: string): Promise<SessionState> {
    return this.live.get(sessionId)?.state ?? this.deps.store.load(sessionId);
  }

  list(): Promise<SessionSummary[]> {
    return this.deps.store.list();
  }

  private session(sessionId: string): { l: Live; pb: Playbook } {
    const l = this.live.get(sessionId);
    if (!l) throw ApiError.localized('unknown-session', 'apiError.session.notOpen');
    const pb = playbookById(l.state.playbookId);
    // Contract: a live session's playbook is one this build has (it was checked when the session was opened).
    if (!pb) throw new ApiError('unknown-playbook', `no playbook ${l.state.playbookId}`);
    return { l, pb };
  }

  private step(l: Live, pb: Playbook, stepId: string): PlaybookStep {
    const step = stepById(pb, stepId);
    // Contract: the page names the steps of the playbook it shows.
    if (!step) throw new ApiError('unknown-step', `no step ${stepId} in ${pb.id}`);
    if (l.state.finished) throw ApiError.localized('session-finished', 'apiError.session.finished');
    if (l.state.current !== stepId) {
      throw ApiError.localized('not-current', 'apiError.session.notCurrent', {
        step: this.stepTitle(l, pb, stepId),
        current: this.stepTitle(l, pb, l.state.current),
      });
    }
    return step;
  }

  private render(l: Live, template: string): string {
    const r = renderCommand(template, l.state.variables);
    if (r.missing.length) throw missingVariables(r.missing);
    return r.command;
  }

  /** A step as the user sees it, in the session's language (its id when the playbook has no such step). */
  private stepTitle(l: Live, pb: Playbook, stepId: string | null): string {
    if (stepId === null) return '—';
    return stepById(pb, stepId)?.title[l.state.language] ?? stepId;
  }

  /** Whether a `sudo` step on this node runs as it is (root login, no sudo); unknown (link lost) counts as no: the command then fails on its own. */
  private async asRoot(node: SessionNode, sudo: boolean): Promise<boolean> {
    if (!sudo || !node.loginIsRoot) return false;
    return node.loginIsRoot().catch(() => false);
  }

  private async exec(
    l: Live,
    stepId: string,
    command: string,
    sudo: boolean,
    limit: TimeLimitKind = 'read',
    /** `host`: on the connection's own machine even when the session runs in a container on it (an upload's temp copy, its docker cp). */
    on: 'node' | 'host' = 'node',
  ): Promise<StepExecResult & { stopped?: Stopped; limitSeconds: number }> {
    const limitSeconds = (this.deps.timeLimits ?? COMMAND_TIME_LIMIT_SECONDS)[limit];
    const node = on === 'host' ? this.deps.nodeFor(l.connectionId) : this.nodeOf(l.connectionId, l.state);
    // The journal must not claim a sudo that did not run.
    const asRoot = await this.asRoot(node, sudo);
    // Journalled with the command, so that what it started can be ended even after the app or the link went away.
    const runTag = newRunTag();
    await this.record(l, {
      type: 'command-shown',
      at: this.now(),
      stepId,
      command,
      host: node.host,
      sudo: sudo && !asRoot,
      ...(asRoot ? { asRoot } : {}),
      runTag,
    });
    const stop = new AbortController();
    l.stopCommand = () => stop.abort();
    let recorded = false;
    const finished = async (r: ExecResult) => {
      recorded = true;
      await this.record(l, {
        type: 'command-finished',
        at: this.now(),
        stepId,
        command,
        host: node.host,
        code: r.code,
        stdout: r.stdout,
        stderr: r.stderr,
        truncated: r.truncated,
      });
    };
    // Tagged, so that a stop ends on the node what the command started (shared/node/run-tag.ts); the command's end
    // is journalled before the script that ends it.
    let run: TaggedRun;
    try {
      run = await runTagged(node, command, {
        sudo,
        maxOutputBytes: MAX_RECORDED_OUTPUT,
        limitSeconds,
        tag: runTag,
        stop: stop.signal,
        onStopped: async (r) => {
          l.stopCommand = undefined;
          await finished(r);
        },
      });
    } finally {
      l.stopCommand = undefined;
    }
    const r = run.result;
    if (!recorded) await finished(r);
    const s = run.stopped;
    if (s) await this.recordStopSent(l, stepId, { runTag, host: node.host, sudo: sudo && !asRoot, asRoot }, s);
    return {
      code: r.code,
      stdout: r.stdout,
      stderr: r.stderr,
      limitSeconds,
      ...(run.error !== undefined ? { error: run.error } : {}),
      ...(s ? { stopped: { why: s.why, ended: s.ended } } : {}),
    };
  }

  /**
   * Before an interrupted step runs again: its last command's wait was cut off (the app closed, the link dropped)
   * and nothing ended it, so it may still run on the node; two copies of a restore or a move must never run at
   * once. Its processes are found by the tag the journal kept and ended, as a stop ends them, and the step says
   * so; one that outlives KILL refuses the run.
   */
  private async endLeftover(l: Live, stepId: string): Promise<void> {
    const events = l.state.events;
    const shownAt = lastIndexOf(events, (e) => e.type === 'command-shown' && e.stepId === stepId);
    const shown = events[shownAt];
    if (shown?.type !== 'command-shown' || !shown.runTag) return;
    const after = events.slice(shownAt + 1);
    // Ended already (a stop), or it ended by itself with an exit code: nothing of it is left.
    if (after.some((e) => e.type === 'stop-sent' && e.runTag === shown.runTag)) return;
    const finished = after.find((e) => e.type === 'command-finished' && e.stepId === stepId);
    if (finished?.type === 'command-finished' && finished.code !== null) return;
    // Where it ran: the session's node, or (a container session's upload) the machine the container is on.
    const host = this.deps.nodeFor(l.connectionId);
    const node = shown.host === host.host ? host : this.nodeOf(l.connectionId, l.state);
    const asRoot = shown.asRoot === true;
    const end = await endTagged(node, shown.runTag, shown.sudo || asRoot);
    await this.recordStopSent(l, stepId, { runTag: shown.runTag, host: node.host, sudo: shown.sudo, asRoot }, end);
    if (end.left.length) throw ApiError.localized('leftover-running', 'apiError.session.leftoverRunning', { pids: end.left.join(' ') });
    if (end.ended.outcome === 'ended') {
      const local: LocalText = { key: 'guided.finding.leftoverEnded', params: { processes: end.ended.processes } };
      await this.record(l, { type: 'finding', at: this.now(), stepId, severity: 'warning', text: translateLocal('en', local), local });
    }
  }

  /** Journals the script that ended a run on the node and its answer, marked as its command was (sudo, or as root). */
  private recordStopSent(
    l: Live,
    stepId: string,
    run: { runTag: string; host: string; sudo: boolean; asRoot: boolean },
    end: { script: string; answer: ExecResult },
  ): Promise<void> {
    return this.record(l, {
      type: 'stop-sent',
      at: this.now(),
      stepId,
      runTag: run.runTag,
      command: end.script,
      host: run.host,
      sudo: run.sudo,
      ...(run.asRoot ? { asRoot: true as const } : {}),
      code: end.answer.code,
      stdout: end.answer.stdout,
      stderr: end.answer.stderr,
    });
  }

  /** Why a stopped command's step ended, in the journal's words: what became of it on the node, and what to look at. */
  private stoppedReason(stopped: Stopped, seconds: number): LocalText {
    const byOperator = stopped.why === 'operator';
    switch (stopped.ended.outcome) {
      case 'ended':
        return byOperator
          ? { key: 'guided.reason.stoppedByOperatorEnded', params: { processes: stopped.ended.processes } }
          : { key: 'guided.reason.timeLimitEnded', params: { seconds, processes: stopped.ended.processes } };
      case 'gone':
        return byOperator ? { key: 'guided.reason.stoppedByOperatorGone' } : { key: 'guided.reason.timeLimitGone', params: { seconds } };
      default:
        return byOperator ? { key: 'guided.reason.stoppedByOperator' } : { key: 'guided.reason.timeLimit', params: { seconds } };
    }
  }

  /**
   * The operator's Stop: stop waiting for the command the session runs now and end what it started on the node. Its
   * step ends interrupted with that reason (to run again or skip). False when no command runs.
   */
  stopCommand(sessionId: string): boolean {
    const l = this.live.get(sessionId);
    if (!l?.busy) return false;
    l.stopAsked = true;
    l.stopCommand?.();
    return true;
  }

  /** A catalog reason is journalled in English with its key, so the checklist says it in the UI's language. */
  private async finishStep(
    l: Live,
    pb: Playbook,
    step: PlaybookStep,
    status: Exclude<StepStatus, 'pending' | 'running'>,
    reason?: string | LocalText,
  ): Promise<void> {
    const next = status === 'interrupted' ? step.id : nextStep(pb, step, status);
    const said = typeof reason === 'string' ? { reason } : reason ? { reason: translateLocal('en', reason), local: reason } : {};
    await this.record(l, { type: 'step-finished', at: this.now(), stepId: step.id, status, next, ...said });
  }

  private async guarded<T>(l: Live, fn: () => Promise<T>): Promise<T> {
    if (l.busy) throw ApiError.localized('busy', 'apiError.session.busy');
    l.busy = true;
    l.stopAsked = false;
    try {
      return await fn();
    } finally {
      l.busy = false;
    }
  }

  /**
   * A change step's first half: take its backup on the node (tar of what it
   * touches into the backup dir) and record the archive's SHA-256. The
   * change itself runs only with `run(..., { confirm })` afterwards.
   */
  async prepareChange(sessionId: string, stepId: string): Promise<{ archive: string; sha256: string; bytes: number; risk: string }> {
    const { l, pb } = this.session(sessionId);
    const step = this.step(l, pb, stepId);
    // Contract: the page offers "prepare" on change steps only.
    if (step.kind !== 'change') throw new ApiError('not-a-change', `${stepId} changes nothing: run it`);
    return this.guarded(l, async () => {
      if (l.state.status[stepId] === 'interrupted') await this.endLeftover(l, stepId);
      if (l.state.status[stepId] !== 'running') await this.record(l, { type: 'step-started', at: this.now(), stepId });
      const b = backupCommand(step, l.state.variables);
      if (b.missing.length) throw missingVariables(b.missing);
      // A backup archives what the change touches: as long as a change may take.
      const r = await this.exec(l, stepId, b.command, true, 'change');
      const m = /^([0-9a-f]{64})\s/m.exec(r.stdout);
      const size = /^(\d+)\s*$/m.exec(r.stdout.slice(m ? m.index + 64 : 0));
      if (r.code !== 0 || !m) {
        const stopped = r.stopped ? this.stoppedReason(r.stopped, r.limitSeconds) : null;
        if (stopped) await this.finishStep(l, pb, step, 'interrupted', stopped);
        else if (r.code === null) await this.finishStep(l, pb, step, 'interrupted', { key: 'guided.reason.droppedBackup' });
        else await this.finishStep(l, pb, step, 'failed', { key: 'guided.reason.backupFailed', params: { code: String(r.code) } });
        throw ApiError.localized('backup-failed', 'apiError.session.backupFailed', {
          title: step.title[l.state.language],
          detail: stopped ? translateLocal(l.state.language, stopped) : (r.stderr.trim().split('\n')[0] ?? ''),
        });
      }
      const paths = (step.backup ?? []).map((p) => renderCommand(p, l.state.variables).command);
      const ev = { type: 'backup' as const, at: this.now(), stepId, paths, archive: b.archive, sha256: m[1]!, bytes: size ? Number(size[1]) : 0 };
      await this.record(l, ev);
      return { archive: ev.archive, sha256: ev.sha256, bytes: ev.bytes, risk: step.risk?.[l.state.language] ?? '' };
    });
  }

  /**
   * Run the current step. A change needs `confirm` (who confirmed) and a
   * backup recorded by `prepareChange` since the step started; an
   * interrupted step needs `rerunInterrupted`.
   */
  async run(sessionId: string, stepId: string, opts: { confirm?: { by: string }; rerunInterrupted?: boolean } = {}): Promise<SessionState> {
    const { l, pb } = this.session(sessionId);
    const step = this.step(l, pb, stepId);
    if (l.state.status[stepId] === 'interrupted' && !opts.rerunInterrupted) {
      throw ApiError.localized('interrupted', 'apiError.session.interrupted');
    }
    if (step.kind === 'decision') throw ApiError.localized('decision', 'apiError.session.decision');
    if (step.kind === 'change') {
      if (!opts.confirm) throw ApiError.localized('confirmation-required', 'apiError.session.confirm', { risk: step.risk?.[l.state.language] ?? '' });
      const started = lastIndexOf(l.state.events, (e) => e.type === 'step-started' && e.stepId === stepId);
      const backedUp = l.state.events.slice(started + 1).some((e) => e.type === 'backup' && e.stepId === stepId);
      if (started < 0 || !backedUp) throw ApiError.localized('backup-required', 'apiError.session.backupRequired');
    }
    return this.guarded(l, async () => {
      if (l.state.status[stepId] === 'interrupted') await this.endLeftover(l, stepId);
      if (l.state.status[stepId] !== 'running') await this.record(l, { type: 'step-started', at: this.now(), stepId });
      switch (step.kind) {
        case 'explain':
          await this.finishStep(l, pb, step, 'passed');
          break;
        case 'change': {
          await this.record(l, { type: 'confirmed', at: this.now(), stepId, by: opts.confirm!.by, risk: step.risk?.en ?? '' });
          await this.commandStep(l, pb, step);
          break;
        }
        case 'probe':
        case 'check':
        case 'verify':
          await this.commandStep(l, pb, step);
          break;
        case 'wait':
          await this.waitStep(l, pb, step);
          break;
        case 'upload':
          throw ApiError.localized('upload', 'apiError.session.uploadStep', { path: this.render(l, step.path ?? '') });
        case 'copy-validate':
          // The client runs the copy-out and the validation (both have their own progress and jobs) and reports back.
          throw ApiError.localized('copy-validate', 'apiError.session.copyValidateStep', { path: this.render(l, step.path ?? '') });
      }
      return l.state;
    });
  }

  private async commandStep(l: Live, pb: Playbook, step: PlaybookStep): Promise<void> {
    const command = this.render(l, step.command ?? '');
    const r = await this.exec(l, step.id, command, step.sudo ?? false, step.kind === 'change' ? 'change' : 'read');
    // Stopped (by its time limit or the operator) or cut off: whether it ran to the end on the node is not known.
    if (r.stopped) return this.finishStep(l, pb, step, 'interrupted', this.stoppedReason(r.stopped, r.limitSeconds));
    if (r.code === null) return this.finishStep(l, pb, step, 'interrupted', { key: 'guided.reason.droppedCommand' });
    const ok = step.kind === 'probe' && !step.expect ? true : meetsExpectation(step.expect, r);
    for (const [name, value] of Object.entries(captureVariables(step, r.stdout))) {
      await this.record(l, { type: 'variable', at: this.now(), name, value, stepId: step.id });
    }
    await this.finishStep(
      l,
      pb,
      step,
      ok || step.kind === 'probe' ? 'passed' : 'failed',
      ok ? undefined : { key: 'guided.reason.unexpected', params: { code: String(r.code) } },
    );
  }

  private async waitStep(l: Live, pb: Playbook, step: PlaybookStep): Promise<void> {
    const command = this.render(l, step.command ?? '');
    const deadline = this.now() + (step.timeoutSeconds ?? 60) * 1000;
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let polls = 0;
    for (;;) {
      polls++;
      const r = await this.exec(l, step.id, command, step.sudo ?? false, 'poll');
      if (r.stopped) return this.finishStep(l, pb, step, 'interrupted', this.stoppedReason(r.stopped, r.limitSeconds));
      if (r.code === null) return this.finishStep(l, pb, step, 'interrupted', { key: 'guided.reason.droppedWait' });
      if (meetsExpectation(step.expect, r)) return this.finishStep(l, pb, step, 'passed', { key: 'guided.reason.afterPolls', params: { polls } });
      if (this.now() >= deadline)
        return this.finishStep(l, pb, step, 'failed', {
          key: 'guided.reason.waitTimeout',
          params: { seconds: step.timeoutSeconds ?? 60, polls },
        });
      await sleep((step.intervalSeconds ?? 2) * 1000);
      // Stop pressed between two polls: no command was running to stop, the wait ends all the same.
      if (l.stopAsked) return this.finishStep(l, pb, step, 'interrupted', { key: 'guided.reason.stoppedBetweenPolls', params: { polls } });
    }
  }

  /**
   * An upload step: write `localPath` (a file on this machine, e.g. a
   * snapshot.db salvaged from a copy) to the step's node path. Refuses when
   * the destination exists (checked first, and again at the moment of
   * writing). The bytes always go over SFTP into a private temp dir of the
   * SSH user (exclusive create, 0600) and `install -m 0600` (through sudo
   * when the step runs with sudo) puts the finished file in place, so a
   * cancel or a dropped connection mid-transfer leaves the destination as it
   * was and the temp is removed. Then the node's SHA-256 of the destination
   * must equal the local file's, and the upload is recorded.
   */
  async upload(sessionId: string, stepId: string, localPath: string, opts: UploadOptions = {}): Promise<SessionState> {
    const { l, pb } = this.session(sessionId);
    const step = this.step(l, pb, stepId);
    // Contract: the page shows the upload picker on upload steps only.
    if (step.kind !== 'upload') throw new ApiError('not-upload', `${stepId} is not an upload step`);
    // An upload cut off earlier may simply be run again: it never overwrites, so a copy that did land makes it fail and say so.
    const dest = this.render(l, step.path ?? '');
    if (!dest.startsWith('/') || dest.endsWith('/') || /[\n\0]/.test(dest))
      throw ApiError.localized('bad-destination', 'apiError.session.badDestination', { path: dest });
    if (!path.isAbsolute(localPath)) throw ApiError.localized('bad-params', 'apiError.session.localNotAbsolute');
    const node = this.nodeOf(l.connectionId, l.state);
    // The temp copy is always on the connection's machine (its SFTP): the node itself, or, for a session in a
    // container, the machine the container runs on, from where docker cp puts it in.
    const inside = l.state.container;
    const host = this.deps.nodeFor(l.connectionId);
    if (!host.sftp) throw ApiError.localized('no-sftp', 'guided.upload.error.no-sftp');
    let local: { bytes: number; sha256: string };
    try {
      local = await hashLocalFile(localPath);
    } catch (e) {
      throw ApiError.localized('local-file', 'apiError.session.localUnreadable', { path: localPath, reason: (e as Error).message });
    }
    const sudo = step.sudo ?? false;
    const asRoot = await this.asRoot(node, sudo);
    const total = local.bytes;
    let sentSoFar = 0;
    const tell = (phase: UploadPhase, extra: { bytesPerSecond?: number; etaSeconds?: number | null; problem?: LocalText } = {}): void =>
      opts.onProgress?.({
        phase,
        bytesSent: sentSoFar,
        bytesTotal: total,
        bytesPerSecond: extra.bytesPerSecond ?? 0,
        etaSeconds: extra.etaSeconds ?? null,
        ...(extra.problem ? { problem: extra.problem } : {}),
      });
    return this.guarded(l, async () => {
      if (l.state.status[stepId] !== 'running') await this.record(l, { type: 'step-started', at: this.now(), stepId });
      tell('checking');
      // The journal keeps the English sentence; the client shows the same text in its language (the progress event's `problem`).
      const fail = async (problem: LocalText, outcome: 'failed' | 'interrupted' | 'cancelled' = 'failed') => {
        const reason = translateLocal('en', problem);
        await this.record(l, {
          type: 'finding',
          at: this.now(),
          stepId,
          severity: outcome === 'cancelled' ? 'warning' : 'error',
          text: reason,
          local: problem,
        });
        await this.finishStep(l, pb, step, outcome === 'interrupted' ? 'interrupted' : 'failed', reason);
        tell(outcome === 'cancelled' ? 'cancelled' : 'failed', { problem });
        return l.state;
      };
      const sudoRefused = (r: StepExecResult): LocalText | null => {
        const text = errorTextOf(r.error);
        if (text?.key.startsWith('ssh.sudo.'))
          return {
            key: 'guided.upload.problem.sudo',
            params: { path: dest },
            texts: { detail: [{ key: text.key, ...(text.params ? { params: text.params } : {}) }] },
          };
        // sudo itself said no (not in sudoers, not allowed, a password it will not take): exit 1 and its own words.
        if (sudo && !asRoot && r.code === 1 && /\bsudo(ers)?\b|not allowed|password/i.test(r.stderr))
          return { key: 'guided.upload.problem.sudoExit', params: { path: dest, stderr: r.stderr.trim().slice(0, 300).replace(/\.$/, '') } };
        return null;
      };
      const q = quoteIfNeeded(dest);
      const dir = quoteIfNeeded(dest.slice(0, dest.lastIndexOf('/')) || '/');
      await this.record(l, {
        type: 'note',
        at: this.now(),
        stepId,
        text:
          inside !== undefined
            ? `upload ${localPath} (${local.bytes} B, sha256 ${local.sha256}) to ${node.host}:${dest} through a private temp dir on ${host.host}, docker cp into ${inside} and install -m 0600 there`
            : `upload ${localPath} (${local.bytes} B, sha256 ${local.sha256}) to ${node.host}:${dest} through a private temp dir and ${sudo && !asRoot ? 'sudo ' : ''}install -m 0600${asRoot ? ' (as root: no sudo)' : ''}`,
      });
      const free = await this.exec(
        l,
        stepId,
        `test ! -e ${q} && test ! -L ${q} || { echo "${dest.replace(/["$`\\]/g, '')} exists: not overwritten" >&2; exit 17; }`,
        sudo,
      );
      const refusedAtCheck = sudoRefused(free);
      if (refusedAtCheck) return fail(refusedAtCheck);
      if (free.code === null) return fail({ key: 'guided.upload.problem.dropped' }, 'interrupted');
      if (free.code === 17) return fail({ key: 'guided.upload.problem.exists', params: { path: dest } });
      if (free.code !== 0)
        return fail({ key: 'guided.upload.problem.checkFailed', params: { path: dest, code: String(free.code), stderr: free.stderr.trim().slice(0, 300) } });
      if (opts.signal?.aborted) return fail({ key: 'guided.upload.problem.cancelled', params: { path: dest, sent: 0, total } }, 'cancelled');

      const mk = await this.exec(l, stepId, 'mktemp -d /tmp/lifeboat-upload.XXXXXXXX', false, 'read', 'host');
      const made = /^(\/tmp\/lifeboat-upload\.[A-Za-z0-9]+)\s*$/.exec(mk.stdout);
      if (mk.code !== 0 || !made)
        return fail(
          { key: 'guided.upload.problem.tempDir', params: { code: String(mk.code), stderr: mk.stderr.trim().slice(0, 300) } },
          mk.code === null ? 'interrupted' : 'failed',
        );
      const tempDir = made[1]!;
      const remoteTemp = `${tempDir}/upload`;
      const t = quoteIfNeeded(remoteTemp);
      // Our own temp copy, not evidence: removed whatever happened.
      const removeTemp = () => this.exec(l, stepId, `rm -f ${t} && rmdir ${quoteIfNeeded(tempDir)}`, false, 'read', 'host');
      const tick = uploadRate(total, (r) => {
        sentSoFar = r.bytesSent;
        tell('sending', r);
      });
      tell('sending');
      let sent: { bytes: number; sha256: string };
      try {
        sent = await sftpPutExclusive(await host.sftp!(), localPath, remoteTemp, tick, opts.signal);
      } catch (e) {
        const cancelled = opts.signal?.aborted === true;
        const message = (e as Error).message;
        const dropped = !cancelled && /closed|reset|ended|not connected/i.test(message);
        if (!dropped) await removeTemp();
        if (cancelled) return fail({ key: 'guided.upload.problem.cancelled', params: { path: dest, sent: sentSoFar, total } }, 'cancelled');
        return fail(
          { key: dropped ? 'guided.upload.problem.droppedSending' : 'guided.upload.problem.sftp', params: { temp: remoteTemp, error: message.slice(0, 300) } },
          dropped ? 'interrupted' : 'failed',
        );
      }
      sentSoFar = sent.bytes;
      if (sent.sha256 !== local.sha256 || sent.bytes !== local.bytes) {
        await removeTemp();
        return fail({ key: 'guided.upload.problem.localChanged', params: { local: localPath } });
      }
      tell('installing');
      const put =
        inside !== undefined
          ? // Docker's socket through sudo (a root login: as it is); inside, the same checks and install as root.
            await this.exec(l, stepId, copyIntoContainerCommand(inside, remoteTemp, dest), l.state.dockerSudo !== false, 'change', 'host')
          : await this.exec(l, stepId, `mkdir -p ${dir} && test ! -e ${q} && install -m 0600 ${t} ${q}`, sudo, 'change');
      await removeTemp();
      const refusedAtInstall = sudoRefused(put);
      if (refusedAtInstall) return fail(refusedAtInstall);
      if (put.code === null) return fail({ key: 'guided.upload.problem.droppedInstall', params: { path: dest } }, 'interrupted');
      // `test` fails silently; mkdir and install say why: a silent exit 1 is a file that appeared since the first check.
      if (put.code === 1 && put.stderr.trim() === '') return fail({ key: 'guided.upload.problem.exists', params: { path: dest } });
      if (put.code !== 0)
        return fail({ key: 'guided.upload.problem.install', params: { path: dest, code: String(put.code), stderr: put.stderr.trim().slice(0, 300) } });
      tell('verifying');
      const check = await this.exec(l, stepId, `sha256sum ${q} && stat -c %s ${q}`, sudo, 'change');
      if (check.code === null) return fail({ key: 'guided.upload.problem.droppedVerify' }, 'interrupted');
      const hash = /^([0-9a-f]{64})\s/m.exec(check.stdout)?.[1];
      const size = /^(\d+)\s*$/m.exec(check.stdout)?.[1];
      if (check.code !== 0 || hash !== local.sha256 || Number(size) !== local.bytes) {
        return fail({
          key: 'guided.upload.problem.mismatch',
          params: { path: dest, nodeSha: hash ?? '?', nodeBytes: size ?? '?', localSha: local.sha256, localBytes: local.bytes },
        });
      }
      await this.record(l, {
        type: 'uploaded',
        at: this.now(),
        stepId,
        host: node.host,
        path: dest,
        bytes: local.bytes,
        sha256: local.sha256,
        from: localPath,
      });
      if (step.setsVariable) await this.record(l, { type: 'variable', at: this.now(), name: step.setsVariable, value: dest, stepId });
      await this.finishStep(l, pb, step, 'passed');
      tell('done');
      return l.state;
    });
  }

  /** The client copied a node path off and validated it for a copy-validate step: record what it found. */
  async copyValidated(sessionId: string, stepId: string, outcome: CopyValidateOutcome): Promise<SessionState> {
    const { l, pb } = this.session(sessionId);
    const step = this.step(l, pb, stepId);
    // Contract: the page reports a copy-validate outcome for that kind of step only.
    if (step.kind !== 'copy-validate') throw new ApiError('not-copy-validate', `${stepId} is not a copy-validate step`);
    return this.guarded(l, async () => {
      if (l.state.status[stepId] !== 'running') await this.record(l, { type: 'step-started', at: this.now(), stepId });
      for (const f of outcome.findings.slice(0, 50)) {
        const local = f.local ? { local: f.local } : {};
        await this.record(l, { type: 'finding', at: this.now(), stepId, severity: f.severity, text: String(f.text).slice(0, 2000), ...local });
      }
      const summaryLocal = outcome.summaryText ? { local: outcome.summaryText } : {};
      await this.record(l, { type: 'note', at: this.now(), stepId, text: String(outcome.summary).slice(0, 4000), ...summaryLocal });
      const why = outcome.summaryText ?? String(outcome.summary).slice(0, 4000);
      await this.finishStep(l, pb, step, outcome.ok ? 'passed' : 'failed', outcome.ok ? undefined : why);
      return l.state;
    });
  }

  /** The connection a session runs on (the handlers check the caller owns it). */
  connectionOf(sessionId: string): string | null {
    return this.live.get(sessionId)?.connectionId ?? null;
  }

  async choose(sessionId: string, stepId: string, optionId: string): Promise<SessionState> {
    const { l, pb } = this.session(sessionId);
    const step = this.step(l, pb, stepId);
    const opt = step.options?.find((o) => o.id === optionId);
    // Contract: the page offers the options of the step it shows.
    if (step.kind !== 'decision' || !opt) throw new ApiError('unknown-option', `no option ${optionId} at ${stepId}`);
    return this.guarded(l, async () => {
      await this.record(l, { type: 'step-started', at: this.now(), stepId });
      await this.record(l, { type: 'decision', at: this.now(), stepId, optionId });
      await this.record(l, { type: 'step-finished', at: this.now(), stepId, status: 'passed', next: opt.goto === 'end' ? null : opt.goto });
      return l.state;
    });
  }

  /** Skip the current step with a reason (recorded), or mark it done by hand in the terminal. */
  async skip(sessionId: string, stepId: string, reason: string, doneInTerminal = false): Promise<SessionState> {
    const { l, pb } = this.session(sessionId);
    const step = this.step(l, pb, stepId);
    if (!reason.trim()) throw ApiError.localized('reason-required', 'apiError.session.reasonRequired');
    return this.guarded(l, async () => {
      await this.record(l, { type: 'note', at: this.now(), stepId, text: reason.slice(0, 4000) });
      await this.record(l, {
        type: 'step-finished',
        at: this.now(),
        stepId,
        status: doneInTerminal ? 'done-in-terminal' : 'skipped',
        next: nextStep(pb, step, 'passed'),
        reason: reason.slice(0, 4000),
      });
      return l.state;
    });
  }

  async back(sessionId: string, toStepId: string): Promise<SessionState> {
    const { l, pb } = this.session(sessionId);
    // Contract: "back" names a step of the playbook shown.
    if (!stepById(pb, toStepId)) throw new ApiError('unknown-step', `no step ${toStepId}`);
    return this.guarded(l, async () => {
      await this.record(l, { type: 'went-back', at: this.now(), fromStepId: l.state.current ?? '', toStepId });
      return l.state;
    });
  }

  async setVariable(sessionId: string, name: string, value: string): Promise<SessionState> {
    const { l } = this.session(sessionId);
    // Contract: the page sets the playbook's own variables.
    if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name)) throw new ApiError('bad-variable', 'a variable name is letters, digits and _');
    // A repair plan's commands can be long (one line per quarantined file); 64 KiB is far beyond any real one.
    await this.record(l, { type: 'variable', at: this.now(), name, value: value.slice(0, 65536) });
    return l.state;
  }

  async finish(sessionId: string, outcome: 'healthy' | 'abandoned' | 'failed', text?: string): Promise<SessionState> {
    const { l } = this.session(sessionId);
    await this.record(l, { type: 'finished', at: this.now(), outcome, ...(text ? { text } : {}) });
    return l.state;
  }
}

function lastIndexOf<T>(a: readonly T[], pred: (x: T) => boolean): number {
  for (let i = a.length - 1; i >= 0; i--) if (pred(a[i]!)) return i;
  return -1;
}
