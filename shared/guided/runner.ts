/**
 * The playbook runner's pure half: replay a session journal into its state,
 * fill a step's command from the session's variables, judge a command's
 * result, pick the next step, and check that a playbook is well formed
 * (every step reachable, every change backed up first and named with its
 * risk, every command shown). The service (electron/services/sessions) does
 * the I/O and appends the events this module reasons about.
 */
import type { Expectation, Playbook, PlaybookStep, SessionEvent, SessionState, StepStatus } from '../contract/guided';
import type { LocalText } from '../contract/text';
import { quoteIfNeeded } from '../node/shell';
import { isSessionEvent } from './journal-event';

/** Lines longer than this in a journal are not events (a torn or foreign file). */
const MAX_EVENT_CHARS = 4 * 1024 * 1024;

export function emptyState(): SessionState {
  return { sessionId: '', playbookId: '', node: '', language: 'en', variables: {}, current: null, status: {}, events: [], finished: null, tornTail: false };
}

/** Apply one event to the state (the journal is replayed through this, in order). */
export function applyEvent(s: SessionState, e: SessionEvent, playbook: Playbook | null): void {
  s.events.push(e);
  switch (e.type) {
    case 'created':
      s.sessionId = e.sessionId;
      s.playbookId = e.playbookId;
      s.node = e.node;
      s.language = e.language;
      s.variables = { ...e.variables };
      if (e.container) s.container = e.container;
      if (e.container && e.dockerSudo === false) s.dockerSudo = false;
      s.current = playbook?.steps[0]?.id ?? null;
      if (playbook) for (const st of playbook.steps) s.status[st.id] = 'pending';
      break;
    case 'step-started':
      s.status[e.stepId] = 'running';
      s.current = e.stepId;
      break;
    case 'step-finished':
      s.status[e.stepId] = e.status;
      s.current = e.next;
      break;
    case 'variable':
      s.variables[e.name] = e.value;
      break;
    case 'went-back':
      s.current = e.toStepId;
      s.status[e.toStepId] = 'pending';
      break;
    case 'finished':
      s.finished = { outcome: e.outcome, at: e.at };
      s.current = null;
      break;
    default:
      break;
  }
}

/**
 * Replay a journal (one JSON event per line). A torn last line (the app was
 * killed mid-write) is ignored and flagged; a step still `running` at the end
 * was cut off and becomes `interrupted`: it is never re-run by itself.
 */
export function replayJournal(text: string, playbookOf: (id: string) => Playbook | null): SessionState {
  const s = emptyState();
  let playbook: Playbook | null = null;
  const lines = text.split('\n');
  let lastLine = lines.length - 1;
  while (lastLine >= 0 && lines[lastLine]!.trim() === '') lastLine--;
  for (let i = 0; i <= lastLine; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      if (line.length > MAX_EVENT_CHARS) throw new Error('too long');
      parsed = JSON.parse(line);
      if (typeof parsed !== 'object' || parsed === null) throw new Error('not an event');
    } catch {
      // Only the last line can be torn by a crash; a line before it that is not JSON is passed over.
      if (i === lastLine) s.tornTail = true;
      continue;
    }
    // JSON, but not an event this version writes (a field missing or of another type, or a newer event type).
    if (!isSessionEvent(parsed)) continue;
    const e = parsed;
    if (e.type === 'created') playbook = playbookOf(e.playbookId);
    applyEvent(s, e, playbook);
  }
  for (const [id, st] of Object.entries(s.status)) if (st === 'running') s.status[id] = 'interrupted';
  return s;
}

export interface RenderedCommand {
  command: string;
  /** Placeholders with no value yet (the step cannot run). */
  missing: string[];
}

/** Fill `{{name}}` placeholders, shell-quoting values that need it (`{{raw:name}}` inserts as is, for values that are command fragments). */
export function renderCommand(template: string, vars: Record<string, string>): RenderedCommand {
  const missing: string[] = [];
  const command = template.replace(/\{\{(raw:)?([A-Za-z][A-Za-z0-9_]*)\}\}/g, (_m, raw: string | undefined, name: string) => {
    const v = vars[name];
    // A raw fragment may be empty (no TLS flags); a quoted value may not (an empty path is never meant).
    if (v === undefined || (v === '' && !raw)) {
      missing.push(name);
      return `{{${name}}}`;
    }
    return raw ? v : quoteIfNeeded(v);
  });
  return { command, missing: [...new Set(missing)] };
}

/** Regexes in playbooks run on node output: refuse shapes that can backtrack badly. */
export function linearRegexProblem(source: string): string | null {
  if (source.length > 500) return 'longer than 500 characters';
  if (/\\[1-9]/.test(source)) return 'has a backreference';
  if (/\([^)]*[+*][^)]*\)[+*{]/.test(source)) return 'has a nested quantifier';
  try {
    new RegExp(source);
  } catch (e) {
    return `does not compile: ${(e as Error).message}`;
  }
  return null;
}

export function meetsExpectation(exp: Expectation | undefined, result: { code: number | null; stdout: string; stderr?: string }): boolean {
  if (!exp) return result.code === 0;
  if (exp.exitCode !== undefined && result.code !== exp.exitCode) return false;
  if (exp.exitCode === undefined && exp.outputMatches === undefined && exp.outputNotMatches === undefined && result.code !== 0) return false;
  // Node output is bounded before it gets here (the executor caps it); the patterns are checked linear.
  const output = result.stderr ? `${result.stdout}\n${result.stderr}` : result.stdout;
  if (exp.outputMatches !== undefined && !new RegExp(exp.outputMatches, 'm').test(output)) return false;
  if (exp.outputNotMatches !== undefined && new RegExp(exp.outputNotMatches, 'm').test(output)) return false;
  return true;
}

/** Values a step captures from its stdout. */
export function captureVariables(step: PlaybookStep, stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, re] of Object.entries(step.captures ?? {})) {
    const m = new RegExp(re, 'm').exec(stdout);
    if (m && m[1] !== undefined) out[name] = m[1];
  }
  return out;
}

/** The step after `step` when it ends with `status` (null = the session is at its end). */
export function nextStep(pb: Playbook, step: PlaybookStep, status: StepStatus): string | null {
  if (status === 'failed') return step.onFail ?? step.id;
  if (step.next === 'end') return null;
  if (step.next) return step.next;
  const i = pb.steps.findIndex((s) => s.id === step.id);
  return pb.steps[i + 1]?.id ?? null;
}

/** Why `step` is not needed with these variables (its `onlyWhen` variable has no value), or null when it is. */
export function notNeededBecause(step: PlaybookStep, vars: Record<string, string>): LocalText | null {
  if (!step.onlyWhen) return null;
  const v = vars[step.onlyWhen.variable];
  return v === undefined || v === '' ? step.onlyWhen.otherwise : null;
}

export function stepById(pb: Playbook, id: string): PlaybookStep | undefined {
  return pb.steps.find((s) => s.id === id);
}

/** Placeholders a playbook's commands use. */
function placeholders(text: string): string[] {
  return [...text.matchAll(/\{\{(?:raw:)?([A-Za-z][A-Za-z0-9_]*)\}\}/g)].map((m) => m[1]!);
}

/**
 * Everything wrong with a playbook, in words; empty when it is well formed:
 * unique ids, every goto names a step, every step reachable from the first,
 * every path ends, every change step names what it touches, backs it up first
 * and says what could get worse, every command's placeholders are declared
 * variables or captured by an earlier step, every pattern is linear.
 */
export function playbookProblems(pb: Playbook): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const s of pb.steps) {
    if (ids.has(s.id)) problems.push(`${s.id}: duplicate step id`);
    ids.add(s.id);
  }
  const targets = (s: PlaybookStep): string[] => {
    const t: string[] = [];
    const i = pb.steps.indexOf(s);
    if (s.kind === 'decision') t.push(...(s.options ?? []).map((o) => o.goto));
    else t.push(s.next ?? pb.steps[i + 1]?.id ?? 'end');
    if (s.onFail) t.push(s.onFail);
    return t;
  };
  for (const s of pb.steps) {
    for (const t of targets(s)) if (t !== 'end' && !ids.has(t)) problems.push(`${s.id}: goes to unknown step ${t}`);
    if (s.kind === 'decision' && (s.options ?? []).length < 2) problems.push(`${s.id}: a decision needs two or more options`);
    if (['probe', 'check', 'change', 'wait', 'verify'].includes(s.kind) && !s.command) problems.push(`${s.id}: ${s.kind} step without a command`);
    if (s.kind === 'copy-validate' && !s.path) problems.push(`${s.id}: copy-validate step without a path`);
    if (s.kind === 'upload') {
      if (!s.path) problems.push(`${s.id}: upload step without a destination path`);
      else if (!s.path.startsWith('/') && !s.path.startsWith('{{')) problems.push(`${s.id}: upload destination ${s.path} is not an absolute path`);
      if (s.setsVariable !== undefined && !/^[A-Za-z][A-Za-z0-9_]*$/.test(s.setsVariable))
        problems.push(`${s.id}: setsVariable ${s.setsVariable} is not a variable name`);
    }
    if (s.kind === 'change') {
      if (!s.touches?.length) problems.push(`${s.id}: change step does not name what it touches`);
      if (!s.backup?.length) problems.push(`${s.id}: change step without a backup first`);
      if (!s.risk?.en || !s.risk['zh-CN']) problems.push(`${s.id}: change step does not say what could get worse (en and zh-CN)`);
    }
    if (s.kind === 'wait' && (!s.timeoutSeconds || !s.intervalSeconds)) problems.push(`${s.id}: wait step without interval and timeout`);
    if (!s.title.en || !s.title['zh-CN'] || !s.body.en || !s.body['zh-CN']) problems.push(`${s.id}: title and body need en and zh-CN`);
    for (const re of [s.expect?.outputMatches, s.expect?.outputNotMatches, ...Object.values(s.captures ?? {})]) {
      if (re === undefined) continue;
      const p = linearRegexProblem(re);
      if (p) problems.push(`${s.id}: pattern ${re} ${p}`);
    }
  }
  // Reachability from the first step.
  const seen = new Set<string>();
  const stack = pb.steps.length ? [pb.steps[0]!.id] : [];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id) || id === 'end') continue;
    seen.add(id);
    const s = stepById(pb, id);
    if (s) stack.push(...targets(s));
  }
  for (const s of pb.steps) if (!seen.has(s.id)) problems.push(`${s.id}: unreachable from the first step`);
  // Some path must end.
  if (!pb.steps.some((s) => targets(s).includes('end'))) {
    problems.push('no step ends the playbook');
  }
  // Placeholders: declared variables, or captured by some step.
  const known = new Set([
    ...pb.variables.map((v) => v.name),
    ...pb.steps.flatMap((s) => Object.keys(s.captures ?? {})),
    ...pb.steps.flatMap((s) => (s.setsVariable ? [s.setsVariable] : [])),
    'sessionId',
    'backupDir',
    'stamp',
  ]);
  for (const s of pb.steps) {
    if (s.onlyWhen && !known.has(s.onlyWhen.variable)) problems.push(`${s.id}: onlyWhen names {{${s.onlyWhen.variable}}}, neither a variable nor captured`);
    for (const p of [
      ...placeholders(s.command ?? ''),
      ...placeholders(s.path ?? ''),
      ...(s.backup ?? []).flatMap(placeholders),
      ...(s.touches ?? []).flatMap(placeholders),
    ]) {
      if (!known.has(p)) problems.push(`${s.id}: placeholder {{${p}}} is neither a variable nor captured`);
    }
  }
  return problems;
}

/** The backup a change step takes first: one tar of its `backup` paths into the session's backup dir, and its SHA-256. */
export function backupCommand(step: PlaybookStep, vars: Record<string, string>): RenderedCommand & { archive: string } {
  const archive = `${vars.backupDir ?? '/var/backups/lifeboat'}/${vars.sessionId ?? 'session'}-${step.id}.tar`;
  const paths = (step.backup ?? []).map((p) => renderCommand(p, vars));
  const missing = paths.flatMap((p) => p.missing);
  const list = paths.map((p) => p.command).join(' ');
  const dir = archive.slice(0, archive.lastIndexOf('/'));
  // --ignore-failed-read: a path that does not exist yet is not a reason to refuse the backup of the others.
  const command = `mkdir -p ${quoteIfNeeded(dir)} && tar --create --file ${quoteIfNeeded(archive)} --absolute-names --ignore-failed-read ${list} && sha256sum ${quoteIfNeeded(archive)} && stat -c %s ${quoteIfNeeded(archive)}`;
  return { command, missing, archive };
}
