/**
 * Is a parsed journal line an event of the shape this version writes? A
 * journal is written by the app itself, but a crash, a full disk, a hand edit
 * or another version may leave lines that parse as JSON and are not such an
 * event (a field missing or of another type): replaying or exporting one
 * threw (the session-journal fuzz target). Such a line is passed over like
 * one that is not JSON at all. An event type this version does not know is
 * passed over too (a newer version's journal). Extra fields are allowed.
 */
import type { SessionEvent, StepStatus } from '../contract/guided';
import type { LocalText } from '../contract/text';

type Fields = Record<string, unknown>;

const str = (v: unknown): v is string => typeof v === 'string';
const optStr = (v: unknown): boolean => v === undefined || str(v);
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const codeOf = (v: unknown): boolean => v === null || num(v);
const bool = (v: unknown): v is boolean => typeof v === 'boolean';
const optTrue = (v: unknown): boolean => v === undefined || v === true;

/** A catalog sentence: a key, scalar params, nested sentences (depth-bounded). */
function isLocalText(v: unknown, depth = 0): v is LocalText {
  if (depth > 4 || v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const t = v as Fields;
  if (!str(t.key)) return false;
  if (t.params !== undefined && !isRecordOf(t.params, (x) => str(x) || num(x))) return false;
  if (t.texts !== undefined && !isRecordOf(t.texts, (x) => Array.isArray(x) && x.every((y) => isLocalText(y, depth + 1)))) return false;
  return true;
}
const optLocal = (v: unknown): boolean => v === undefined || isLocalText(v);

function isRecordOf(v: unknown, each: (x: unknown) => boolean): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v as Fields).every(each);
}

/** The largest time a Date holds (ms from the epoch either way). */
const MAX_TIME_MS = 8.64e15;

const FINISHED_STATUS: readonly StepStatus[] = ['passed', 'failed', 'skipped', 'interrupted', 'done-in-terminal'];

/** Each event type's required and optional fields. */
const SHAPES: Readonly<Record<SessionEvent['type'], (e: Fields) => boolean>> = {
  created: (e) =>
    str(e.sessionId) &&
    str(e.playbookId) &&
    str(e.node) &&
    isRecordOf(e.variables, str) &&
    (e.language === 'en' || e.language === 'zh-CN') &&
    optTrue(e.asRoot) &&
    optStr(e.container) &&
    (e.dockerSudo === undefined || e.dockerSudo === false),
  'step-started': (e) => str(e.stepId),
  'command-shown': (e) => str(e.stepId) && str(e.command) && str(e.host) && bool(e.sudo) && optTrue(e.asRoot) && optStr(e.runTag),
  'stop-sent': (e) =>
    str(e.stepId) && optStr(e.runTag) && str(e.command) && str(e.host) && bool(e.sudo) && optTrue(e.asRoot) && codeOf(e.code) && str(e.stdout) && str(e.stderr),
  confirmed: (e) => str(e.stepId) && str(e.by) && str(e.risk),
  backup: (e) => str(e.stepId) && Array.isArray(e.paths) && e.paths.every(str) && str(e.archive) && str(e.sha256) && num(e.bytes),
  'command-finished': (e) => str(e.stepId) && str(e.command) && str(e.host) && codeOf(e.code) && str(e.stdout) && str(e.stderr) && bool(e.truncated),
  'step-finished': (e) =>
    str(e.stepId) && FINISHED_STATUS.includes(e.status as StepStatus) && (e.next === null || str(e.next)) && optStr(e.reason) && optLocal(e.local),
  decision: (e) => str(e.stepId) && str(e.optionId),
  variable: (e) => str(e.name) && str(e.value) && optStr(e.stepId),
  finding: (e) => str(e.stepId) && (e.severity === 'error' || e.severity === 'warning' || e.severity === 'info') && str(e.text) && optLocal(e.local),
  quarantined: (e) => str(e.stepId) && str(e.path) && str(e.to) && optStr(e.sha256),
  uploaded: (e) => str(e.stepId) && str(e.host) && str(e.path) && num(e.bytes) && str(e.sha256) && str(e.from),
  note: (e) => str(e.text) && optStr(e.stepId) && optLocal(e.local),
  'went-back': (e) => str(e.fromStepId) && str(e.toStepId),
  finished: (e) => (e.outcome === 'healthy' || e.outcome === 'abandoned' || e.outcome === 'failed') && optStr(e.text),
};

export function isSessionEvent(v: unknown): v is SessionEvent {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const e = v as Fields;
  // `at` is a time the reports print (Date's range: toISOString throws past it).
  if (!str(e.type) || !num(e.at) || Math.abs(e.at) > MAX_TIME_MS || !Object.prototype.hasOwnProperty.call(SHAPES, e.type)) return false;
  return SHAPES[e.type as SessionEvent['type']](e);
}
