/**
 * A step whose command never answers must not hold the session: a kubeadm
 * node whose container runtime is wedged (its crictl never returns, as when
 * containerd hangs), over real SSH and sudo. The session stops the command
 * once it outlasts its time limit, and when the operator says so, and ends it
 * on the node (root's processes, which the SSH channel cannot signal); each
 * time the step ends interrupted with why and what was ended, and it can be
 * run again or skipped. The journal keeps the stop's own script and output,
 * in both languages. A change's backup that hangs is stopped the same way.
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshConnection } from '../../electron/services/ssh/connection';
import { SessionService } from '../../electron/services/sessions/session-service';
import { SessionStore } from '../../electron/services/sessions/session-store';
import { playbookById } from '../../shared/guided/playbooks';
import { sessionMarkdown } from '../../shared/guided/export';
import { tempDir } from '../helpers/etcd';
import { realisticNodesAvailable, type RealisticNode } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';
import { connectedNode, releaseNode, sessionNodeOver } from '../helpers/guided-node';
import { connectByKey, keyClient } from '../helpers/ssh-node';

const RUN = sshdAvailable() && realisticNodesAvailable();
/** How long the wedged tools sleep: a number of their own, so that this file ends only its own leftovers. */
const WEDGED_SECONDS = 3599;

/** The wedged tools' processes still on the node (one PID namespace: the node's are this machine's). */
const wedgedLeft = (): string[] =>
  spawnSync('pgrep', ['-a', '-x', '-f', `sleep ${WEDGED_SECONDS}`], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean);

describe.runIf(RUN)('guided session: a command that never answers', () => {
  let tmp: string;
  let node: RealisticNode;
  let conn: SshConnection;
  let store: SessionStore;

  beforeAll(async () => {
    tmp = await tempDir('guided-stop');
    ({ node, conn } = await connectedNode(tmp, {
      files: {
        // A container runtime that accepts the call and never answers.
        '/usr/local/bin/crictl': { content: `#!/bin/sh\nexec sleep ${WEDGED_SECONDS}\n`, mode: 0o755 },
        // tar never finishing: the backup a change takes first hangs too (a disk gone unresponsive).
        '/usr/local/bin/tar': { content: `#!/bin/sh\nexec sleep ${WEDGED_SECONDS}\n`, mode: 0o755 },
      },
    }));
    store = new SessionStore(path.join(tmp, 'guided'), playbookById);
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await releaseNode({ conn, node, tmp });
    // Only if a test failed before its stop ended them.
    spawnSync('pkill', ['-x', '-f', `sleep ${WEDGED_SECONDS}`]);
  });

  const variables = {
    dataDir: '/var/lib/etcd',
    manifest: '/etc/kubernetes/manifests/etcd.yaml',
    memberName: 'n1',
    endpoint: 'http://127.0.0.1:2379',
    etcdctlTls: '',
  };

  it('stops waiting at the time limit and at the operator’s word; the step can run again or be skipped', async () => {
    const sessionNode = sessionNodeOver(conn, node);
    const service = new SessionService({ store, nodeFor: () => sessionNode, timeLimits: { read: 3, change: 4, poll: 3 } });
    let s = await service.create({ playbookId: 'kubeadm-etcd-db', connectionId: 'c1', variables, language: 'en' });
    const id = s.sessionId;
    expect(service.stopCommand(id)).toBe(false);
    await service.run(id, 'overview');

    // The time limit: the probe ends interrupted after its 3 s, saying why and what to look at.
    const t0 = Date.now();
    s = await service.run(id, 'pod-logs');
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(s.status['pod-logs']).toBe('interrupted');
    expect(s.current).toBe('pod-logs');
    const timedOut = s.events.filter((e) => e.type === 'step-finished' && e.stepId === 'pod-logs').at(-1);
    expect(timedOut).toMatchObject({
      status: 'interrupted',
      reason:
        'no answer within 3 s: Lifeboat ended the command on the node (sh, sleep). It may have half-run: look at what it changed before you run it again or skip it',
    });
    const finished = s.events.filter((e) => e.type === 'command-finished' && e.stepId === 'pod-logs').at(-1);
    expect(finished).toMatchObject({ code: null });
    // Ended on the node, as root through sudo: the journal keeps the script and what it sent TERM to.
    const sent = s.events.filter((e) => e.type === 'stop-sent' && e.stepId === 'pod-logs').at(-1);
    expect(sent).toMatchObject({ code: 0, sudo: true, host: sessionNode.host });
    expect(sent?.type === 'stop-sent' ? sent.stdout : '').toMatch(/^TERM \d+ sleep$/m);
    expect(wedgedLeft()).toEqual([]);

    // The operator's Stop: the same step run again, stopped after a second.
    await expect(service.run(id, 'pod-logs')).rejects.toThrow(/cut off while it ran/);
    const again = service.run(id, 'pod-logs', { rerunInterrupted: true });
    await new Promise((r) => setTimeout(r, 1000));
    expect(service.stopCommand(id)).toBe(true);
    s = await again;
    expect(s.status['pod-logs']).toBe('interrupted');
    const stopped = s.events.filter((e) => e.type === 'step-finished' && e.stepId === 'pod-logs').at(-1);
    expect(stopped?.type === 'step-finished' ? stopped.reason : '').toBe(
      'stopped by you: Lifeboat ended the command on the node (sh, sleep). It may have half-run: look at what it changed before you run it again or skip it',
    );
    expect(wedgedLeft()).toEqual([]);
    // Nothing runs now, and the session goes on: the step is skipped with a reason.
    expect(service.stopCommand(id)).toBe(false);
    s = await service.skip(id, 'pod-logs', 'crictl hangs: containerd is wedged, logs read in the terminal');
    expect(s.current).toBe('copy-validate');

    // The journal says both stops, in Chinese too.
    const zh = sessionMarkdown(await store.load(id), playbookById('kubeadm-etcd-db'), 'zh-CN');
    expect(zh).toContain('3 秒内没有应答：Lifeboat 已在节点上结束该命令（sh, sleep）。');
    expect(zh).toContain('已由你停止：Lifeboat 已在节点上结束该命令（sh, sleep）。');
    expect(zh).toMatch(/已在节点上结束, 退出码 0\n```\n\$ t=LIFEBOAT_RUN=lb-; t="\$\{t\}[0-9a-f]{16}"\n/);
    await service.finish(id, 'abandoned');
  }, 120_000);

  /** A systemd restore session on this node (its steps' values need not be real: nothing here gets that far). */
  async function systemdSession(timeLimits?: { read: number; change: number; poll: number }): Promise<{ service: SessionService; id: string }> {
    const sessionNode = sessionNodeOver(conn, node);
    const service = new SessionService({ store, nodeFor: () => sessionNode, ...(timeLimits ? { timeLimits } : {}) });
    const s = await service.create({
      playbookId: 'etcd-systemd-restore',
      connectionId: 'c1',
      variables: { ...variables, unit: 'etcd.service', envFile: '/etc/etcd.env', backup: '/var/backups/x.db' },
      language: 'en',
    });
    return { service, id: s.sessionId };
  }

  it('stops a wait step at the operator’s word', async () => {
    const { service, id } = await systemdSession();
    // To "wait until etcd is healthy" (no etcd here: it polls every 2 s for 120 s).
    let s = await service.get(id);
    while (s.current !== 'wait-healthy') s = await service.skip(id, s.current!, 'not what this test is about');
    const waiting = service.run(id, 'wait-healthy');
    await new Promise((r) => setTimeout(r, 3000));
    expect(service.stopCommand(id)).toBe(true);
    const t0 = Date.now();
    s = await waiting;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(s.status['wait-healthy']).toBe('interrupted');
    const ended = s.events.filter((e) => e.type === 'step-finished' && e.stepId === 'wait-healthy').at(-1);
    // The poll that ran when Stop came was ended on the node, or Stop came between two polls.
    expect(ended?.type === 'step-finished' ? ended.reason : '').toMatch(
      /^stopped by you(: Lifeboat (ended the command on the node \(.+\)|stopped waiting, and nothing of the command was left running on the node)\.| between two polls \(\d+ so far\): nothing was running on the node)/,
    );
    await service.finish(id, 'abandoned');
  }, 120_000);

  it('stops a change’s backup that never ends: the change does not run', async () => {
    const { service, id } = await systemdSession({ read: 3, change: 3, poll: 3 });
    // To the first change (stop etcd), past the steps before it.
    for (const step of ['overview', 'unit-state', 'check-backup']) await service.skip(id, step, 'not what this test is about');
    expect((await service.get(id)).current).toBe('stop-etcd');
    await expect(service.prepareChange(id, 'stop-etcd')).rejects.toThrow(/no answer within 3 s/);
    const s = await service.get(id);
    expect(s.status['stop-etcd']).toBe('interrupted');
    // The hung tar was ended on the node before the step said so.
    expect(s.events.filter((e) => e.type === 'stop-sent' && e.stepId === 'stop-etcd').at(-1)?.type === 'stop-sent').toBe(true);
    expect(wedgedLeft()).toEqual([]);
    expect(s.events.some((e) => e.type === 'backup' && e.stepId === 'stop-etcd')).toBe(false);
    // Without a backup the change refuses to run.
    await expect(service.run(id, 'stop-etcd', { confirm: { by: 'test' }, rerunInterrupted: true })).rejects.toThrow(/take the backup first/);
    await service.finish(id, 'abandoned');
  }, 120_000);

  it('a command whose connection dropped still runs on the node: it is ended, and said so, before the step runs again', async () => {
    // A connection of its own, dropped while the wedged crictl runs through sudo (root's: it outlives the link).
    const connect = async (name: string) => {
      await fs.mkdir(path.join(tmp, name));
      return connectByKey(node.sshd, await keyClient(node.sshd, path.join(tmp, name)));
    };
    const first = await connect('drop-1');
    let current = sessionNodeOver(first, node);
    const service = new SessionService({ store, nodeFor: () => current, timeLimits: { read: 4, change: 4, poll: 4 } });
    let s = await service.create({ playbookId: 'kubeadm-etcd-db', connectionId: 'c1', variables, language: 'en' });
    const id = s.sessionId;
    await service.run(id, 'overview');
    const running = service.run(id, 'pod-logs');
    await expect.poll(() => wedgedLeft().length, { timeout: 10_000 }).toBeGreaterThan(0);
    first.close();
    s = await running;
    expect(s.status['pod-logs']).toBe('interrupted');
    const cutOff = s.events.filter((e) => e.type === 'command-shown' && e.stepId === 'pod-logs').at(-1);
    const tag = cutOff?.type === 'command-shown' ? cutOff.runTag : undefined;
    expect(tag).toMatch(/^lb-[0-9a-f]{16}$/);
    expect(wedgedLeft().length).toBeGreaterThan(0);

    // Connected again, the operator runs the step again: what was left of the last run is ended first.
    const second = await connect('drop-2');
    try {
      current = sessionNodeOver(second, node);
      s = await service.run(id, 'pod-logs', { rerunInterrupted: true });
      const events = s.events.filter((e) => 'stepId' in e && e.stepId === 'pod-logs');
      const ended = events.findIndex((e) => e.type === 'stop-sent' && e.runTag === tag);
      const rerun = events.findIndex((e, i) => i > ended && e.type === 'command-shown');
      expect(ended).toBeGreaterThan(-1);
      expect(rerun).toBeGreaterThan(ended);
      const sent = events[ended];
      expect(sent?.type === 'stop-sent' ? sent.stdout : '').toMatch(/^TERM \d+ sleep$/m);
      expect(events.find((e) => e.type === 'finding')).toMatchObject({
        severity: 'warning',
        text: 'Before running it again, Lifeboat ended what was still running on the node from its last run, cut off when the app or the connection went away (sh, sleep).',
      });
      // The run again hung too, and was ended at its limit: nothing of either run is left.
      expect(s.status['pod-logs']).toBe('interrupted');
      expect(wedgedLeft()).toEqual([]);
      // A run after a stop ends nothing more: the stop already did.
      const stops = s.events.filter((e) => e.type === 'stop-sent').length;
      s = await service.skip(id, 'pod-logs', 'crictl hangs');
      expect(s.events.filter((e) => e.type === 'stop-sent').length).toBe(stops);
      await service.finish(id, 'abandoned');
    } finally {
      second.close();
    }
  }, 120_000);
});
