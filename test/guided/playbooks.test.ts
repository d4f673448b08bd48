/**
 * The playbooks are well formed (every branch reachable, every change backed
 * up first and named with its risk, every command's placeholders known, every
 * pattern linear, both languages), and the checker really catches each kind
 * of mistake. The runner's pure parts: journal replay after a crash, command
 * rendering, expectations, captures.
 */
import { describe, expect, it } from 'vitest';
import type { Playbook, SessionEvent } from '../../shared/contract/guided';
import { PLAYBOOKS, playbookById, suggestPlaybooks, systemdEtcdRestore } from '../../shared/guided/playbooks';
import { SIGNATURES } from '../../shared/logs/signatures';
import {
  backupCommand,
  captureVariables,
  linearRegexProblem,
  meetsExpectation,
  nextStep,
  playbookProblems,
  renderCommand,
  replayJournal,
  stepById,
} from '../../shared/guided/runner';

describe('the playbooks', () => {
  it('cover the six recovery paths of the issue, one id each', () => {
    expect(PLAYBOOKS.map((p) => p.id)).toEqual([
      'microk8s-dqlite',
      'kubeadm-etcd-db',
      'kind-addresses',
      'etcd-member-lost',
      'etcd-systemd-restore',
      'etcd-quorum-space',
    ]);
  });

  it("start from log signatures that exist, and the field reports' signatures lead to their playbooks", () => {
    const known = new Set(SIGNATURES.map((s) => s.id));
    for (const pb of PLAYBOOKS) for (const id of pb.signatures) expect(known.has(id), `${pb.id}: ${id}`).toBe(true);
    expect(suggestPlaybooks(['etcd.bbolt-freepages', 'kubernetes.crashloop'], 'etcd').map((p) => p.id)).toEqual(['kubeadm-etcd-db', 'etcd-systemd-restore']);
    expect(suggestPlaybooks(['etcd.tocommit-out-of-range'], null).map((p) => p.id)).toEqual(['etcd-member-lost']);
    expect(suggestPlaybooks(['dqlite.closed-segment-batch'], null).map((p) => p.id)).toEqual(['microk8s-dqlite']);
    expect(suggestPlaybooks([], 'dqlite').map((p) => p.id)).toEqual(['microk8s-dqlite']);
  });

  it("put the playbook written for the node card's management first (report 5's systemd etcd is not offered kubeadm's first)", () => {
    const ids = (managedBy: Parameters<typeof suggestPlaybooks>[2]) => suggestPlaybooks([], 'etcd', managedBy).map((p) => p.id);
    expect(ids('systemd')[0]).toBe('etcd-systemd-restore');
    expect(ids('systemd').slice(-2)).toEqual(['kubeadm-etcd-db', 'kind-addresses']);
    expect(ids('static-pod')[0]).toBe('kubeadm-etcd-db');
    expect(ids('kind')[0]).toBe('kind-addresses');
    // Report 2's panic on a systemd node: both match; the systemd one first.
    expect(suggestPlaybooks(['etcd.bbolt-freepages'], 'etcd', 'systemd').map((p) => p.id)).toEqual(['etcd-systemd-restore', 'kubeadm-etcd-db']);
    // Without a card, playbook order as before.
    expect(ids(null)).toEqual(suggestPlaybooks([], 'etcd').map((p) => p.id));
    // k3s and RKE2 restore with their own reset (the card's commands): no etcd playbook fits them, even on a panic.
    expect(ids('k3s')).toEqual([]);
    expect(suggestPlaybooks(['etcd.bbolt-freepages', 'etcd.tocommit-out-of-range'], 'etcd', 'rke2')).toEqual([]);
  });

  for (const pb of PLAYBOOKS) {
    it(`${pb.id} is well formed`, () => {
      expect(playbookProblems(pb)).toEqual([]);
      // Every change step is preceded by its own backup of what it touches.
      for (const s of pb.steps.filter((x) => x.kind === 'change')) {
        expect(s.backup!.length).toBeGreaterThan(0);
        expect(s.command).toBeTruthy();
      }
      // Every path ends with a verification (a verify or wait step) or an explanation that ends it.
      const last = pb.steps.filter((s) => s.next === 'end' || pb.steps.indexOf(s) === pb.steps.length - 1);
      expect(last.some((s) => s.kind === 'verify' || s.kind === 'wait')).toBe(true);
    });
  }
});

const good: Playbook = {
  id: 't',
  title: { en: 't', 'zh-CN': 't' },
  summary: { en: 't', 'zh-CN': 't' },
  engine: 'etcd',
  signatures: [],
  variables: [{ name: 'dir', description: { en: 'd', 'zh-CN': 'd' } }],
  steps: [
    { id: 'a', kind: 'probe', title: { en: 'a', 'zh-CN': 'a' }, body: { en: 'a', 'zh-CN': 'a' }, command: 'ls {{dir}}' },
    { id: 'b', kind: 'verify', title: { en: 'b', 'zh-CN': 'b' }, body: { en: 'b', 'zh-CN': 'b' }, command: 'true', next: 'end' },
  ],
};

describe('the playbook checker catches', () => {
  const withStep = (patch: Partial<Playbook['steps'][number]>, at = 0): Playbook => ({
    ...good,
    steps: good.steps.map((s, i) => (i === at ? { ...s, ...patch } : s)),
  });

  it('nothing on a good one', () => expect(playbookProblems(good)).toEqual([]));
  it('a change without a backup, touches or risk', () => {
    const p = playbookProblems(withStep({ kind: 'change' }));
    expect(p).toContain('a: change step without a backup first');
    expect(p).toContain('a: change step does not name what it touches');
    expect(p).toContain('a: change step does not say what could get worse (en and zh-CN)');
  });
  it('an unknown goto and an unreachable step', () => {
    const p = playbookProblems({ ...good, steps: [{ ...good.steps[0]!, next: 'zzz' }, good.steps[1]!] });
    expect(p).toContain('a: goes to unknown step zzz');
    expect(p).toContain('b: unreachable from the first step');
  });
  it('an undeclared placeholder', () => {
    expect(playbookProblems(withStep({ command: 'rm {{nope}}' }))).toContain('a: placeholder {{nope}} is neither a variable nor captured');
  });
  it('a pattern that could backtrack, and a missing translation', () => {
    const p = playbookProblems(withStep({ expect: { outputMatches: '(a+)+$' }, title: { en: 'a', 'zh-CN': '' } }));
    expect(p).toContain('a: pattern (a+)+$ has a nested quantifier');
    expect(p).toContain('a: title and body need en and zh-CN');
    expect(linearRegexProblem('(x)\\1')).toBe('has a backreference');
  });
});

describe('the runner', () => {
  it('renders commands with shell quoting, keeps raw fragments, and names what is missing', () => {
    expect(renderCommand('mv {{dataDir}} {{dataDir}}.old', { dataDir: '/var/lib/etcd' })).toEqual({
      command: 'mv /var/lib/etcd /var/lib/etcd.old',
      missing: [],
    });
    expect(renderCommand('ls {{d}}', { d: "/tmp/a b'c" }).command).toBe(`ls '/tmp/a b'\\''c'`);
    expect(renderCommand('etcdctl {{raw:tls}} get', { tls: '' })).toEqual({ command: 'etcdctl  get', missing: [] });
    expect(renderCommand('restore {{backup}} --name {{name}}', { backup: '/b.db' }).missing).toEqual(['name']);
  });

  it('judges results against expectations and captures variables', () => {
    expect(meetsExpectation(undefined, { code: 0, stdout: '' })).toBe(true);
    expect(meetsExpectation(undefined, { code: 1, stdout: '' })).toBe(false);
    expect(meetsExpectation({ outputMatches: '^(inactive|failed)$' }, { code: 3, stdout: 'inactive\n' })).toBe(true);
    expect(meetsExpectation({ exitCode: 0, outputMatches: 'is healthy' }, { code: 0, stdout: 'x is unhealthy' })).toBe(false);
    const owner = stepById(systemdEtcdRestore, 'owner')!;
    expect(captureVariables(owner, 'etcd:etcd\n')).toEqual({ ownerUser: 'etcd', ownerGroup: 'etcd' });
    // A line that is not one user:group pair captures nothing (the chown step then cannot run).
    expect(captureVariables(owner, 'stat: cannot statx: No such file or directory\n')).toEqual({});
  });

  it('goes to the next step, the failure branch, or the end', () => {
    const check = stepById(systemdEtcdRestore, 'check-backup')!;
    expect(nextStep(systemdEtcdRestore, check, 'passed')).toBe('stop-etcd');
    expect(nextStep(systemdEtcdRestore, check, 'failed')).toBe('backup-bad');
    expect(nextStep(systemdEtcdRestore, stepById(systemdEtcdRestore, 'kubectl-nodes')!, 'passed')).toBeNull();
  });

  it('backs up every path a change touches into one archive, hashed', () => {
    const move = stepById(systemdEtcdRestore, 'move-aside')!;
    const b = backupCommand(move, { dataDir: '/var/lib/etcd', backupDir: '/var/backups/lifeboat', sessionId: 's1' });
    expect(b.archive).toBe('/var/backups/lifeboat/s1-move-aside.tar');
    expect(b.command).toBe(
      'mkdir -p /var/backups/lifeboat && tar --create --file /var/backups/lifeboat/s1-move-aside.tar --absolute-names --ignore-failed-read /var/lib/etcd && sha256sum /var/backups/lifeboat/s1-move-aside.tar && stat -c %s /var/backups/lifeboat/s1-move-aside.tar',
    );
  });

  it('replays a journal killed mid-write: the torn line is dropped, the running step is interrupted, nothing is re-run', () => {
    const events: SessionEvent[] = [
      { type: 'created', at: 1, sessionId: 's1', playbookId: 'etcd-systemd-restore', node: 'n', variables: { dataDir: '/var/lib/etcd' }, language: 'en' },
      { type: 'step-started', at: 2, stepId: 'overview' },
      { type: 'step-finished', at: 3, stepId: 'overview', status: 'passed', next: 'unit-state' },
      { type: 'step-started', at: 4, stepId: 'unit-state' },
      { type: 'command-shown', at: 5, stepId: 'unit-state', command: 'systemctl is-active etcd', host: 'n', sudo: true },
    ];
    const text = events.map((e) => JSON.stringify(e)).join('\n') + '\n{"type":"command-fini';
    const s = replayJournal(text, playbookById);
    expect(s.tornTail).toBe(true);
    expect(s.events).toHaveLength(5);
    expect(s.current).toBe('unit-state');
    expect(s.status['overview']).toBe('passed');
    expect(s.status['unit-state']).toBe('interrupted');
    expect(s.status['stop-etcd']).toBe('pending');
  });
});
