/**
 * Session log bookkeeping shared by the node store and its tests. A command
 * that was still running when its connection dropped or closed is marked
 * interrupted: nobody knows whether it finished on the node, and Lifeboat never
 * runs it again by itself (a reconnect opens a new session; re-running is the
 * operator's decision).
 */
import type { NodeCommand } from '../../../../shared/contract/ssh';

export interface LogEntry extends NodeCommand {
  /** Exit code once an exec ended (undefined while running; SFTP entries never end). */
  code?: number | null;
  elapsedMs?: number;
  /** The connection went away while this command was running. */
  interrupted?: boolean;
}

/** Marks `connectionId`'s running exec commands interrupted; returns how many were. */
export function markInterrupted(log: LogEntry[], connectionId: string): number {
  let n = 0;
  for (const e of log) {
    if (e.connectionId === connectionId && e.kind === 'exec' && e.code === undefined && !e.interrupted) {
      e.interrupted = true;
      n++;
    }
  }
  return n;
}
