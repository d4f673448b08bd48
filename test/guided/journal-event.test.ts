/**
 * A session journal with lines that parse as JSON but are not events this version writes (a field missing or of
 * another type, a time past Date's range, a newer event type) replays and exports as if those lines were not
 * there; only a last line that is not JSON counts as torn.
 */
import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../shared/contract/guided';
import { sessionHtml, sessionMarkdown } from '../../shared/guided/export';
import { isSessionEvent } from '../../shared/guided/journal-event';
import { playbookById } from '../../shared/guided/playbooks';
import { replayJournal } from '../../shared/guided/runner';

const AT = 1_765_000_000_000;
const GOOD: SessionEvent[] = [
  {
    type: 'created',
    at: AT,
    sessionId: 's-1',
    playbookId: 'etcd-systemd-restore',
    node: 'root@10.0.0.1:22',
    variables: { unit: 'etcd.service' },
    language: 'en',
  },
  { type: 'step-started', at: AT + 1, stepId: 'unit-state' },
  { type: 'command-shown', at: AT + 2, stepId: 'unit-state', command: 'systemctl status etcd', host: 'root@10.0.0.1:22', sudo: true },
  {
    type: 'command-finished',
    at: AT + 3,
    stepId: 'unit-state',
    command: 'systemctl status etcd',
    host: 'h',
    code: 3,
    stdout: 'failed',
    stderr: '',
    truncated: false,
  },
  { type: 'step-finished', at: AT + 4, stepId: 'unit-state', status: 'passed', next: 'stop-etcd' },
];
const lines = (events: readonly unknown[]) => events.map((e) => JSON.stringify(e));

describe('session journal lines that are not events', () => {
  it('are passed over: the same state and the same report as without them', () => {
    const clean = lines(GOOD).join('\n') + '\n';
    const odd = [
      { type: 'command-shown', at: AT + 2, stepId: 'unit-state' }, // command, host and sudo missing
      { type: 'step-finished', at: AT + 4, stepId: 'unit-state', status: 'done', next: null }, // no such status
      { type: 'variable', at: 1e20, name: 'x', value: 'y' }, // a time no Date holds
      { type: 'created', at: AT, sessionId: 's-2', playbookId: 'x', node: 'n', variables: { a: 1 }, language: 'en' }, // a variable not text
      { type: 'from-a-newer-version', at: AT + 5, stepId: 'unit-state' },
      ['not', 'an', 'object'],
    ];
    const damaged = [...lines(GOOD.slice(0, 3)), ...lines(odd), ...lines(GOOD.slice(3)), JSON.stringify({ type: 'from-a-newer-version', at: AT + 9 })].join(
      '\n',
    );
    const a = replayJournal(clean, playbookById);
    const b = replayJournal(damaged, playbookById);
    expect(b).toEqual(a);
    expect(b.tornTail).toBe(false);
    const pb = playbookById('etcd-systemd-restore');
    for (const lang of ['en', 'zh-CN'] as const) {
      expect(sessionMarkdown(b, pb, lang)).toBe(sessionMarkdown(a, pb, lang));
      expect(sessionHtml(b, pb, lang)).toBe(sessionHtml(a, pb, lang));
    }
    for (const e of odd) expect(isSessionEvent(e), JSON.stringify(e)).toBe(false);
    for (const e of GOOD) expect(isSessionEvent(e), e.type).toBe(true);
  });

  it('a torn last line is still told as torn; one earlier is passed over', () => {
    const text = lines(GOOD).join('\n');
    expect(replayJournal(`${text}\n{"type":"step-sta`, playbookById).tornTail).toBe(true);
    const mid = [...lines(GOOD.slice(0, 2)), '{"type":"step-sta', ...lines(GOOD.slice(2))].join('\n');
    expect(replayJournal(mid, playbookById)).toEqual(replayJournal(text, playbookById));
  });
});
