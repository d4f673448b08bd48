/**
 * Ending on the node what a stopped command started. Closing an SSH channel,
 * or its "signal" request, reaches the login user's shell only: a command run
 * through sudo is root's and lives on (a `crictl` against a wedged containerd,
 * an `etcdctl` that never gets an answer), holding locks and a channel. So a
 * guided step's command runs with a tag in its environment, which every
 * process it starts inherits (`env` sets it in the environment the shell is
 * exec'd with, so the shell itself carries it in /proc/PID/environ, not only
 * its children), and the Stop runs a script that finds the processes carrying
 * that tag, sends them TERM, and KILL to any still there after 5 s.
 *
 * The command texts and the parse of the script's answer, and `runTagged` /
 * `endTagged`, which run them through an injected executor (no Node, no DOM).
 */
import type { ExecResult, NodeExecutor } from './executor';
import { quoteAlways } from './shell';

/** The environment variable that carries a run's tag. */
export const RUN_TAG_VARIABLE = 'LIFEBOAT_RUN';

/**
 * `lb-` and 16 hex digits: it goes into a command line and a grep pattern as it is, and all tags have one length,
 * so none is a prefix of another (the script matches it as a substring of a process's environment).
 */
const TAG = /^lb-[0-9a-f]{16}$/;

/** A fresh tag (64 random bits: two runs never share one). */
export function newRunTag(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(8));
  return `lb-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export function isRunTag(tag: string): boolean {
  return TAG.test(tag);
}

/**
 * `command` as root runs it after sudo (or as a root login sends it): `sh -c '…'`, or with `tag` the tagged form
 * (`taggedCommand`), so that a node panel's command that outlasts its time limit can be ended on the node.
 * The panels show this text before anything runs, and the back end sends it (one function for both).
 */
export function rootShellCommand(command: string, tag: string | null = null): string {
  return tag === null ? `sh -c ${quoteAlways(command)}` : taggedCommand(command, tag);
}

/** `command` as it is sent, so that what it starts can be found again by `tag`. */
export function taggedCommand(command: string, tag: string): string {
  if (!isRunTag(tag)) throw new Error(`not a run tag: ${tag}`);
  return `env ${RUN_TAG_VARIABLE}=${tag} sh -c ${quoteAlways(command)}`;
}

/** How long the script waits for TERM to work before it sends KILL (half-second polls). */
export const TERM_GRACE_SECONDS = 5;

/**
 * The script that ends the processes carrying `tag` (POSIX sh and the tools of
 * coreutils or busybox: `grep -l -F`, `kill`, fractional `sleep`). It reads
 * /proc/PID/environ, so it must run as the user the command ran as (root for a
 * sudo step). Prints one line per process it signals: `TERM PID NAME` or
 * `KILL PID NAME`, and `LEFT PID…` (exit 1) if any outlive KILL. Its own
 * processes do not carry the tag: it is never run tagged, and its text never
 * holds the whole tag.
 */
export function endTaggedScript(tag: string): string {
  if (!isRunTag(tag)) throw new Error(`not a run tag: ${tag}`);
  const polls = TERM_GRACE_SECONDS * 2;
  const length = RUN_TAG_VARIABLE.length + 1 + tag.length;
  return [
    // Built in two halves: sudo puts this script's text in its environment (SUDO_COMMAND), where a whole tag would
    // make the script find itself. Braced: `$t` followed by hex digits would name another variable.
    `t=${RUN_TAG_VARIABLE}=lb-; t="\${t}${tag.slice(3)}"`,
    // An empty or short pattern would match every process on the node: refuse before anything is signalled.
    `case "$t" in ${RUN_TAG_VARIABLE}=lb-[0-9a-f]*) ;; *) echo BAD-TAG; exit 2 ;; esac`,
    `[ "\${#t}" -eq ${length} ] || { echo BAD-TAG; exit 2; }`,
    // One grep over every environ (a node may run thousands of processes); never this script, its parent or init.
    `tagged() { for f in $(grep -l -F -e "$t" /proc/[0-9]*/environ 2>/dev/null); do f=\${f#/proc/}; f=\${f%/environ}; case " $$ $PPID 1 " in *" $f "*) ;; *) echo "$f" ;; esac; done; }`,
    `say() { for q in $2; do echo "$1 $q $(cat /proc/$q/comm 2>/dev/null)"; done; }`,
    `p=$(tagged); [ -n "$p" ] || exit 0`,
    // A command's own processes are a handful; hundreds means the match is wrong: signal nothing.
    `[ "$(echo "$p" | wc -l)" -le ${MAX_TAGGED_PROCESSES} ] || { echo TOO-MANY; exit 3; }`,
    `say TERM "$p"; kill -TERM $p 2>/dev/null`,
    `n=0; while [ $n -lt ${polls} ]; do sleep 0.5; p=$(tagged); [ -n "$p" ] || exit 0; n=$((n+1)); done`,
    `say KILL "$p"; kill -KILL $p 2>/dev/null; sleep 0.5`,
    `p=$(tagged); [ -z "$p" ] || { echo LEFT $p; exit 1; }`,
  ].join('\n');
}

/** More processes than this carrying one tag means the match is wrong: the script then signals none. */
export const MAX_TAGGED_PROCESSES = 256;

/** What the script did, from its output. */
export interface EndedProcesses {
  /** The processes sent TERM, by name (`sleep`, `crictl`), in the order listed. */
  termed: { pid: number; name: string }[];
  /** Those still there after the grace, sent KILL. */
  killed: { pid: number; name: string }[];
  /** Pids still there after KILL (a process in uninterruptible sleep: a hung NFS or disk). */
  left: number[];
}

const MAX_LINES = 10_000;

/** Parses the script's stdout; lines it does not know are ignored (a node's shell may print its own). */
export function parseEndedProcesses(stdout: string): EndedProcesses {
  const out: EndedProcesses = { termed: [], killed: [], left: [] };
  const lines = stdout.split('\n', MAX_LINES);
  for (const line of lines) {
    const m = /^(TERM|KILL) (\d{1,10}) ?(.{0,64})$/.exec(line);
    if (m) {
      const entry = { pid: Number(m[2]), name: m[3]!.trim() || '?' };
      (m[1] === 'TERM' ? out.termed : out.killed).push(entry);
      continue;
    }
    const left = /^LEFT((?: \d{1,10}){1,1000})$/.exec(line);
    if (left) out.left.push(...left[1]!.trim().split(' ').map(Number));
  }
  return out;
}

/** The processes' names for a sentence: each name once, in order (`sh, sleep`). */
export function processNames(list: { name: string }[]): string {
  return [...new Set(list.map((p) => p.name))].join(', ');
}

/**
 * What a stop found on the node: the command's processes ended (by name), none of them left by then, or not known
 * (the script could not run: link lost, sudo refused; or a process outlived KILL).
 */
export type EndedOnNode = { outcome: 'ended'; processes: string } | { outcome: 'gone' } | { outcome: 'unknown' };

/** How long the script that ends a stopped command may take (it waits TERM_GRACE_SECONDS before KILL). */
export const END_ON_NODE_SECONDS = 30;

/** A command run tagged, and, when it was stopped, why and what its stop did on the node. */
export interface TaggedRun {
  /** No exit code when stopped. */
  result: ExecResult;
  /** What the executor threw, when it threw (a sudo refusal carries its catalog text). */
  error?: unknown;
  stopped?: {
    why: 'time-limit' | 'operator';
    /** The script that ended it (the exact text run), and its answer. */
    script: string;
    answer: ExecResult;
    ended: EndedOnNode;
  };
}

/**
 * Runs `command` tagged, stopped when it outlasts `limitSeconds` or when `stop` is aborted (the operator); a stopped
 * command is then ended on the node with the script above, run as the command ran. `onStopped` is told as soon as
 * the wait ends, before the script runs (a caller records the command's end first).
 */
export async function runTagged(
  exec: NodeExecutor,
  command: string,
  opts: {
    sudo: boolean;
    maxOutputBytes: number;
    limitSeconds: number;
    /** The tag to run it with (a caller that journals it first); a fresh one when absent. */
    tag?: string;
    stop?: AbortSignal;
    onStopped?: (result: ExecResult) => Promise<void> | void;
  },
): Promise<TaggedRun> {
  const tag = opts.tag ?? newRunTag();
  const waiting = new AbortController();
  let why: 'time-limit' | 'operator' | undefined;
  const halt = (reason: 'time-limit' | 'operator') => {
    why ??= reason;
    waiting.abort();
  };
  const timer = setTimeout(() => halt('time-limit'), opts.limitSeconds * 1000);
  const onStop = () => halt('operator');
  if (opts.stop?.aborted) onStop();
  opts.stop?.addEventListener('abort', onStop, { once: true });
  let result: ExecResult;
  let error: unknown;
  try {
    result = await exec.run(taggedCommand(command, tag), { sudo: opts.sudo, maxOutputBytes: opts.maxOutputBytes, signal: waiting.signal });
  } catch (e) {
    error = e;
    result = { code: null, stdout: '', stderr: e instanceof Error ? e.message : String(e), truncated: false };
  } finally {
    clearTimeout(timer);
    opts.stop?.removeEventListener('abort', onStop);
  }
  const thrown = error === undefined ? {} : { error };
  if (!why) return { result, ...thrown };
  result = { ...result, code: null };
  await opts.onStopped?.(result);
  return { result, ...thrown, stopped: { why, ...(await endTagged(exec, tag, opts.sudo)) } };
}

/**
 * Ends what carries `tag` on the node (a stopped command, or what is left of one whose wait was cut off: the app
 * closed, the link dropped), as the user it ran as: the script, its answer, and what that says.
 */
export async function endTagged(
  exec: NodeExecutor,
  tag: string,
  sudo: boolean,
): Promise<{ script: string; answer: ExecResult; ended: EndedOnNode; left: number[] }> {
  const script = endTaggedScript(tag);
  let answer: ExecResult;
  try {
    answer = await exec.run(script, { sudo, maxOutputBytes: 64 * 1024, signal: AbortSignal.timeout(END_ON_NODE_SECONDS * 1000) });
  } catch (e) {
    answer = { code: null, stdout: '', stderr: e instanceof Error ? e.message : String(e), truncated: false };
  }
  return { script, answer, ended: endedFrom(answer), left: answer.code === 1 ? parseEndedProcesses(answer.stdout).left : [] };
}

/** What the script's answer says became of the command. */
function endedFrom(answer: ExecResult): EndedOnNode {
  if (answer.code !== 0) return { outcome: 'unknown' };
  const ended = parseEndedProcesses(answer.stdout);
  if (ended.left.length) return { outcome: 'unknown' };
  return ended.termed.length ? { outcome: 'ended', processes: processNames(ended.termed) } : { outcome: 'gone' };
}
