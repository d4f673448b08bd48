import type { SessionEvent } from '../../../shared/contract/guided';
import { sessionHtml, sessionMarkdown } from '../../../shared/guided/export';
import { playbookById } from '../../../shared/guided/playbooks';
import { replayJournal } from '../../../shared/guided/runner';
import { mutateText } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';

/**
 * A guided session's journal (~/.lifeboat/guided/<id>.jsonl: one JSON event a line, fsynced) as a crash, a full
 * disk or a hand edit may leave it: replayed into its state and exported as Markdown and HTML, never a throw.
 */
function journal(): string {
  const at = 1_765_000_000_000;
  const events: SessionEvent[] = [
    {
      type: 'created',
      at,
      sessionId: 's-1',
      playbookId: 'etcd-systemd-restore',
      node: 'root@10.0.0.1:22',
      variables: { unit: 'etcd.service', dataDir: '/var/lib/etcd', backup: '/var/backups/kube_etcd/etcd-2026-12-07/snapshot.db' },
      language: 'zh-CN',
    },
    { type: 'step-started', at: at + 1, stepId: 'unit-state' },
    {
      type: 'command-shown',
      at: at + 2,
      stepId: 'unit-state',
      command: 'systemctl status etcd --no-pager',
      host: 'root@10.0.0.1:22',
      sudo: true,
      runTag: 'lb-0123456789abcdef',
    },
    {
      type: 'command-finished',
      at: at + 3,
      stepId: 'unit-state',
      command: 'systemctl status etcd',
      host: 'h',
      code: 3,
      stdout: '○ etcd.service\n   Active: failed',
      stderr: '',
      truncated: false,
    },
    { type: 'finding', at: at + 4, stepId: 'unit-state', severity: 'warning', text: 'etcd is not running', local: { key: 'guided.card.stopped' } },
    { type: 'step-finished', at: at + 5, stepId: 'unit-state', status: 'passed', next: 'stop-etcd', reason: 'it failed' },
    { type: 'confirmed', at: at + 6, stepId: 'stop-etcd', by: 'operator', risk: 'etcd stops' },
    { type: 'backup', at: at + 7, stepId: 'stop-etcd', paths: ['/var/lib/etcd'], archive: '/var/backups/lifeboat/x.tar', sha256: 'ab'.repeat(32), bytes: 4096 },
    { type: 'variable', at: at + 8, name: 'aside', value: '/var/lib/etcd.lifeboat-aside' },
    { type: 'went-back', at: at + 9, fromStepId: 'stop-etcd', toStepId: 'unit-state' },
    { type: 'note', at: at + 10, text: 'checked by hand' },
    { type: 'finished', at: at + 11, outcome: 'abandoned', text: 'later' },
  ];
  return events.map((e) => JSON.stringify(e)).join('\n') + '\n';
}

export const sessionJournal: FuzzTarget<string, string> = {
  name: 'session-journal',
  what: 'a guided session journal replayed (torn or foreign lines, wrong types) and exported as Markdown and HTML: state and documents, never a throw',
  corpus: journal,
  generate: (r, corpus) =>
    mutateText(r, corpus, ['{"type":"', '"stepId":', '"__proto__"', 'null', '[]', '\n', '"created"', '"step-finished"', '"variable"'], 256 * 1024),
  run: (text) => {
    const s = replayJournal(text, playbookById);
    checkPlain(s, 'state');
    const pb = playbookById(s.playbookId);
    for (const lang of ['en', 'zh-CN'] as const) {
      check(typeof sessionMarkdown(s, pb, lang) === 'string', 'markdown');
      check(typeof sessionHtml(s, pb, lang) === 'string', 'html');
    }
  },
  files: (t) => ({ 'session.jsonl': t }),
  size: (t) => t.length,
};
