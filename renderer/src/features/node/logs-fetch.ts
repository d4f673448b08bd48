/**
 * Command → capped output → a named log source. Runs one read-only command
 * through `ssh.exec` (optionally via sudo), keeps at most
 * `MAX_LOG_OUTPUT_BYTES` of it (the back end stops collecting there), and
 * turns fetched outputs into sources for `analyzeLogSources` / the log
 * worker, so several nodes' logs land on one timeline. No Svelte, no DOM:
 * tested in Node against the real back end.
 */
import type { LifeboatClient } from '../../../../shared/contract/api';
import type { ExecStopped } from '../../../../shared/contract/ssh';
import type { LogSourceText } from '../../../../shared/logs/analyze';
import { logSourceName } from './logs-commands';

/** What one fetch may hold in memory (a 2000-line journal is far below). */
export const MAX_LOG_OUTPUT_BYTES = 4 * 1024 * 1024;
/** Fetched sources kept at once (oldest dropped first). */
export const MAX_FETCHED_SOURCES = 12;

export interface FetchedLog {
  id: string;
  connectionId: string;
  nodeLabel: string;
  /** Exactly what was sent (before the sudo wrapping the back end adds). */
  command: string;
  sudo: boolean;
  /** The source's name on the timeline. */
  sourceName: string;
  text: string;
  /** What the command said on stderr (shown, not analysed). */
  stderr: string;
  code: number | null;
  /** Output beyond the cap was dropped. */
  truncated: boolean;
  /** It outlasted `ssh.exec`'s time limit and its wait was given up (its channel got TERM): the text is what came before. */
  stopped?: ExecStopped;
  lines: number;
  fetchedAt: number;
}

let seq = 0;

function countLines(s: string): number {
  if (s === '') return 0;
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return s.endsWith('\n') ? n : n + 1;
}

/** Run one log command on a node and keep its (capped) output. Rejects when the command cannot run at all. */
export async function fetchNodeLog(
  client: Pick<LifeboatClient, 'call'>,
  /** `runTag`: sent with a sudo command (`ssh.exec`), the one the panel's preview showed. */
  req: { connectionId: string; nodeLabel: string; command: string; sudo: boolean; maxBytes?: number; runTag?: string },
): Promise<FetchedLog> {
  const cap = Math.min(req.maxBytes ?? MAX_LOG_OUTPUT_BYTES, MAX_LOG_OUTPUT_BYTES);
  const runTag = req.sudo && req.runTag ? { runTag: req.runTag } : {};
  const r = await client.call('ssh.exec', { connectionId: req.connectionId, command: req.command, sudo: req.sudo, maxOutputBytes: cap, ...runTag });
  return {
    id: `log-${Date.now().toString(36)}-${++seq}`,
    connectionId: req.connectionId,
    nodeLabel: req.nodeLabel,
    command: req.command,
    sudo: req.sudo,
    sourceName: logSourceName(req.nodeLabel, req.command),
    text: r.stdout,
    stderr: r.stderr.slice(0, 4000),
    code: r.code,
    truncated: r.truncated,
    ...(r.stopped ? { stopped: r.stopped } : {}),
    lines: countLines(r.stdout),
    fetchedAt: Date.now(),
  };
}

/** Whether a fetch printed any log line (journalctl's own `-- No entries --` / `-- Boot … --` markers do not count). */
export function hasLogLines(text: string): boolean {
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (l !== '' && !/^-- .* --$/.test(l)) return true;
  }
  return false;
}

/** Journald short-iso and container logs carry their zone; other times are read as UTC unless told. */
export function toLogSources(fetched: readonly FetchedLog[], zoneMinutes = 0): LogSourceText[] {
  return fetched.map((f) => ({ name: f.sourceName, text: f.text, zoneMinutes }));
}

/** Add a fetch to the list: a new fetch of the same command on the same node replaces the old one; the list stays bounded. */
export function addFetched(list: readonly FetchedLog[], f: FetchedLog): FetchedLog[] {
  const rest = list.filter((x) => !(x.connectionId === f.connectionId && x.command === f.command && x.sudo === f.sudo));
  return [...rest, f].slice(-MAX_FETCHED_SOURCES);
}
