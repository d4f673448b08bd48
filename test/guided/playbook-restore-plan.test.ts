/**
 * The systemd and kubeadm playbooks' restore steps are the restore planner's
 * commands (shared/formats/etcd/restore-plan.ts), not a copy: rendered with a
 * member's values, each step's command is the planner's command for that
 * member, line for line (joined with && for a step). And the upload step the
 * kubeadm playbook uses is checked like every other step.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Playbook } from '../../shared/contract/guided';
import { parseStaticPodManifest, parseSystemdUnit, planRestore } from '../../shared/formats/etcd/restore-plan';
import { playbookById } from '../../shared/guided/playbooks';
import { notNeededBecause, playbookProblems, renderCommand } from '../../shared/guided/runner';
import { variablesFromDatastore } from '../../shared/guided/variables';

const join = (command: string) => command.split(/(?<!\\)\n/).join(' && ');

describe('playbook restore steps come from the restore planner', () => {
  const stamp = '20261202T101010Z';
  const unit = '[Service]\nEnvironmentFile=/etc/etcd.env\nExecStart=/usr/bin/etcd\n';
  const env =
    'ETCD_DATA_DIR=/var/lib/etcd data\nETCD_NAME=node-1\nETCD_INITIAL_CLUSTER=node-1=https://10.0.0.5:2380\nETCD_INITIAL_CLUSTER_TOKEN=k8s-etcd\n' +
    'ETCD_INITIAL_ADVERTISE_PEER_URLS=https://10.0.0.5:2380\nETCD_ADVERTISE_CLIENT_URLS=https://10.0.0.5:2379\nETCD_TRUSTED_CA_FILE=/etc/ssl/etcd/ca.pem\n' +
    'ETCD_CERT_FILE=/etc/ssl/etcd/admin.pem\nETCD_KEY_FILE=/etc/ssl/etcd/admin-key.pem\n';

  function rendered(playbookId: string, vars: Record<string, string>): Map<string, string> {
    const pb = playbookById(playbookId)!;
    const out = new Map<string, string>();
    for (const s of pb.steps) {
      // A step the node does not need (no compressed backup here) is never rendered: the session passes it by.
      if (!s.command || notNeededBecause(s, vars)) continue;
      const r = renderCommand(s.command, vars);
      expect(r.missing, s.id).toEqual([]);
      out.set(s.id, r.command);
    }
    return out;
  }

  function systemdVars(envText: string) {
    const cfg = parseSystemdUnit(unit, 'etcd.service', { '/etc/etcd.env': envText });
    const vars = {
      ...variablesFromDatastore({
        engine: 'etcd',
        managedBy: 'systemd',
        dataDir: cfg.dataDir,
        unit: 'etcd.service',
        envFile: '/etc/etcd.env',
        memberName: cfg.name ?? undefined,
        settings: { ...cfg.flags },
        running: false,
        backups: [],
        backupJobs: [],
        newestGoodBackup: '/var/backups/kube_etcd/etcd-1/snapshot.db',
        evidence: [],
      }),
      stamp,
      // What the owner probe captures on the node (the unit's User=, else the old dir's owner).
      ownerUser: 'etcd',
      ownerGroup: 'etcd',
    };
    return { cfg, vars };
  }

  it('systemd: stop, move aside, restore, ownership, start, health and key count are the plan for this unit, word for word', () => {
    const { cfg, vars } = systemdVars(env.replace('/var/lib/etcd data', '/var/lib/etcd'));
    // The planner told the owner the probe found: the chown is its command for a unit run as that user.
    const member = { ...cfg, runsAs: { user: 'etcd', group: 'etcd' } };
    const plan = planRestore({ snapshot: '/var/backups/kube_etcd/etcd-1/snapshot.db', member, asideSuffix: `lifeboat-${stamp}` });
    const cmds = rendered('etcd-systemd-restore', vars);
    const step = (kind: string) => plan.steps.find((s) => s.kind === kind)!.command;
    expect(cmds.get('stop-etcd')).toBe(step('stop').split('\n')[0]);
    expect(cmds.get('wait-stopped')).toBe(step('stop').split('\n')[1]);
    expect(cmds.get('move-aside')).toBe(join(step('move-aside')));
    expect(cmds.get('restore')).toBe(join(step('restore')));
    expect(cmds.get('chown')).toBe(join(step('ownership')));
    expect(cmds.get('chown')).toMatch(/^chown -R etcd:etcd \/var\/lib\/etcd && chmod 700 \/var\/lib\/etcd && /);
    expect(cmds.get('start-etcd')).toBe(step('start'));
    const verify = step('verify').split('\n');
    expect(cmds.get('wait-healthy')).toBe(verify[1]);
    expect(cmds.get('count-keys')).toBe(verify[2]);
    expect(cmds.get('move-aside')).toBe(`test ! -e /var/lib/etcd.lifeboat-${stamp} && mv /var/lib/etcd /var/lib/etcd.lifeboat-${stamp}`);
    expect(cmds.get('wait-healthy')).toBe(
      'ETCDCTL_API=3 etcdctl --endpoints=https://10.0.0.5:2379 --cacert=/etc/ssl/etcd/ca.pem --cert=/etc/ssl/etcd/admin.pem --key=/etc/ssl/etcd/admin-key.pem endpoint health',
    );
  });

  it('a value the shell must quote is quoted per placeholder: the same words as the plan, as sh reads them', () => {
    const { cfg, vars } = systemdVars(env);
    const plan = planRestore({ snapshot: '/var/backups/kube_etcd/etcd-1/snapshot.db', member: cfg, asideSuffix: `lifeboat-${stamp}` });
    const cmds = rendered('etcd-systemd-restore', vars);
    const mine = cmds.get('move-aside')!;
    expect(mine).toBe(`test ! -e '/var/lib/etcd data'.lifeboat-${stamp} && mv '/var/lib/etcd data' '/var/lib/etcd data'.lifeboat-${stamp}`);
    // sh splits both into the same words.
    const words = (cmd: string) => execFileSync('sh', ['-c', `printf '%s\\n' ${cmd.replace(/&&/g, '')}`], { encoding: 'utf8' });
    expect(words(mine)).toBe(words(join(plan.steps.find((s) => s.kind === 'move-aside')!.command)));
    expect(words(mine)).toContain(`/var/lib/etcd data.lifeboat-${stamp}\n`);
  });

  it('kubeadm: the static pod is stopped and started by parking the manifest, as the plan does', () => {
    const manifest =
      'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - command:\n    - etcd\n    - --data-dir=/var/lib/etcd\n    - --name=cp-1\n' +
      '    - --initial-advertise-peer-urls=https://10.0.0.6:2380\n    - --initial-cluster=cp-1=https://10.0.0.6:2380\n    - --advertise-client-urls=https://10.0.0.6:2379\n    name: etcd\n';
    const cfg = parseStaticPodManifest(manifest, '/etc/kubernetes/manifests/etcd.yaml');
    const plan = planRestore({ snapshot: '/var/tmp/s.db', member: cfg, tool: 'etcdctl', asideSuffix: `lifeboat-${stamp}` });
    const vars = {
      dataDir: '/var/lib/etcd',
      manifest: '/etc/kubernetes/manifests/etcd.yaml',
      memberName: 'cp-1',
      initialCluster: 'cp-1=https://10.0.0.6:2380',
      initialClusterToken: 'etcd-cluster',
      initialAdvertisePeerUrls: 'https://10.0.0.6:2380',
      endpoint: 'https://10.0.0.6:2379',
      etcdctlTls: '',
      backup: '/var/tmp/s.db',
      stamp,
      ownerUser: 'root',
      ownerGroup: 'root',
    };
    const cmds = rendered('kubeadm-etcd-db', vars);
    const stop = plan.steps.find((s) => s.kind === 'stop')!.command.split('\n');
    expect(cmds.get('stop-etcd')).toBe(`${stop[0]} && ${stop[1]}`);
    expect(cmds.get('stop-etcd')).toBe(
      'mkdir -p /etc/kubernetes/manifests.lifeboat-stopped && mv /etc/kubernetes/manifests/etcd.yaml /etc/kubernetes/manifests.lifeboat-stopped/etcd.yaml',
    );
    expect(cmds.get('wait-stopped')).toBe(stop[3]);
    expect(cmds.get('start-etcd')).toBe(plan.steps.find((s) => s.kind === 'start')!.command);
  });
});

describe('upload steps are checked like the others', () => {
  const base: Playbook = {
    id: 'u',
    title: { en: 'u', 'zh-CN': 'u' },
    summary: { en: 'u', 'zh-CN': 'u' },
    engine: 'etcd',
    signatures: [],
    variables: [],
    steps: [
      { id: 'up', kind: 'upload', title: { en: 'a', 'zh-CN': 'a' }, body: { en: 'a', 'zh-CN': 'a' }, path: '{{backupDir}}/x.db', setsVariable: 'backup' },
      { id: 'use', kind: 'verify', title: { en: 'b', 'zh-CN': 'b' }, body: { en: 'b', 'zh-CN': 'b' }, command: 'test -f {{backup}}', next: 'end' },
    ],
  };
  it('a variable an upload sets is known to later steps', () => expect(playbookProblems(base)).toEqual([]));
  it('an upload without a destination, or to a relative one', () => {
    const noPath = { ...base, steps: [{ ...base.steps[0]!, path: undefined }, base.steps[1]!] };
    expect(playbookProblems(noPath)).toContain('up: upload step without a destination path');
    const relative = { ...base, steps: [{ ...base.steps[0]!, path: 'x.db' }, base.steps[1]!] };
    expect(playbookProblems(relative)).toContain('up: upload destination x.db is not an absolute path');
  });
  it('the kubeadm playbook uploads the salvaged snapshot into the session backup dir and restores from it', () => {
    const pb = playbookById('kubeadm-etcd-db')!;
    const up = pb.steps.find((s) => s.id === 'upload-salvaged')!;
    expect(up).toMatchObject({
      kind: 'upload',
      path: '{{backupDir}}/{{sessionId}}-salvaged-snapshot.db',
      sudo: true,
      setsVariable: 'backup',
      next: 'check-backup',
    });
    expect(pb.steps.find((s) => s.id === 'have-backup')!.options!.find((o) => o.id === 'salvaged')!.goto).toBe('upload-salvaged');
  });
});
