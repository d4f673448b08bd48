import { describe, expect, it } from 'vitest';
import { markInterrupted, type LogEntry } from '../../renderer/src/features/node/session-log';

const entry = (id: string, connectionId: string, extra: Partial<LogEntry> = {}): LogEntry => ({
  id,
  connectionId,
  at: 0,
  kind: 'exec',
  text: `cmd ${id}`,
  ...extra,
});

describe('session log', () => {
  it("marks only the dropped connection's still-running commands as interrupted", () => {
    const log = [
      entry('a', 'n1'), // running on the dropped node
      entry('b', 'n1', { code: 0, elapsedMs: 5 }), // finished before the drop
      entry('c', 'n1', { kind: 'sftp' }), // SFTP reads never "end"
      entry('d', 'n2'), // running on another node
    ];
    expect(markInterrupted(log, 'n1')).toBe(1);
    expect(log.map((e) => e.interrupted ?? false)).toEqual([true, false, false, false]);
    // A second drop report changes nothing, and the command is not "finished" either.
    expect(markInterrupted(log, 'n1')).toBe(0);
    expect(log[0].code).toBeUndefined();
  });
});
