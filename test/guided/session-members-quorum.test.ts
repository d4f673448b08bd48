/**
 * Quorum loss end to end (playbook 6) against a real 3-member etcd 3.4
 * cluster on three realistic nodes (systemd units, /etc/etcd.env, members on
 * their own 127.0.x.y): n2 and n3 stop and their data is destroyed; n1 runs
 * on without a leader and refuses writes. The members' data dirs are copied
 * off and compared side by side (the several-members table): it keeps n1,
 * and the force-new-cluster plan built from that table is n1's. The quorum
 * playbook then forces a new cluster on n1 over SSH (data dir copied first),
 * and n2 and n3 rejoin one by one with the member-lost playbook on their own
 * nodes. Every key written before the loss is served afterwards, with its
 * value, by all three members.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { localDirectory } from '../../electron/services/fs-source';
import { parseEnvironmentFile, parseSystemdUnit } from '../../shared/formats/etcd/restore-plan';
import { planForceNewCluster } from '../../shared/formats/etcd/restore-plan-cluster';
import { validateMemberDirs } from '../../shared/formats/etcd/member-dirs';
import { variablesFromDatastore } from '../../shared/guided/variables';
import { detectNode } from '../../shared/node/detect';
import { requireEtcd } from '../helpers/etcd';
import { pollUntil, putAll, walkSession, type ClusterMember } from '../helpers/etcd-cluster-nodes';
import { clusterSessionService, expectEveryMemberServes, loadedClusterHooks, rejoinWithMemberLost } from '../helpers/guided-cluster';
import { servedKeys } from '../helpers/guided-node';
import { realisticNodesAvailable } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';

const RUN = requireEtcd() && sshdAvailable() && realisticNodesAvailable();

describe.runIf(RUN)('guided session: quorum lost in a 3-member etcd, rebuilt from the survivor with the newest data', () => {
  // Every member has applied every write before the loss (the survivor serves them from its own store).
  const cluster = loadedClusterHooks({ tmpName: 'guided-quorum', style: 'systemd', keys: 80, replicated: true });

  it('the members table keeps n1, the playbook forces a new cluster there, n2 and n3 rejoin: every key on every member', async () => {
    const { tmp, members, expected } = cluster;
    const [n1, n2, n3] = members as [ClusterMember, ClusterMember, ClusterMember];
    // Two members go down for good: stopped, their WAL gone and their db zeroed (inside each node's namespace).
    for (const m of [n2, n3]) {
      expect((await m.node.exec('systemctl stop etcd && rm -rf /var/lib/etcd/member/wal && truncate -s 0 /var/lib/etcd/member/snap/db')).code).toBe(0);
    }
    // The survivor has no quorum: it loses its leader and a write is refused.
    expect(await pollUntil(async () => !(await hasLeaderSafe(n1.clientUrl)), 30_000)).toBe(true);
    await expect(putAll(n1.clientUrl, new Map([['/registry/lost', 'x']]), 3000)).rejects.toThrow();

    // The several-members table over copies of the three data dirs: n1 is the one to keep.
    const copies = path.join(tmp, 'members');
    for (const m of members) {
      const r = await m.node.exec(`mkdir -p ${copies} && cp -a /var/lib/etcd ${path.join(copies, m.name)}`);
      expect(r.code, r.stderr).toBe(0);
    }
    const copiesDir = localDirectory(copies);
    const table = await validateMemberDirs(copiesDir).finally(() => copiesDir.close());
    expect(table).not.toBeNull();
    expect(table!.members.map((m) => m.name)).toEqual(['n1', 'n2', 'n3']);
    const keep = table!.comparison.rows.find((r) => r.newest);
    expect(keep?.root).toBe(table!.members[0]!.report.root);
    // n1's log holds every write; the destroyed members have no log left (etcd would start them empty).
    const [r1, r2, r3] = table!.comparison.rows;
    expect(r1!.lastIndex).toBeGreaterThan(expected.size);
    expect(r1!.revision).toBeGreaterThan(expected.size);
    for (const r of [r2!, r3!]) expect(r.lastIndex ?? 0).toBe(0);

    // The planner, given each member's real configuration and the table, picks n1 and re-adds n2 then n3.
    const configs = await Promise.all(
      members.map(async (m) => {
        const unit = await fs.readFile(m.node.hostPath('/etc/systemd/system/etcd.service'), 'utf8');
        const env = await fs.readFile(m.node.hostPath('/etc/etcd.env'), 'utf8');
        expect(parseEnvironmentFile(env)['ETCD_NAME']).toBe(m.name);
        return parseSystemdUnit(unit, 'etcd.service', { '/etc/etcd.env': env });
      }),
    );
    const plan = planForceNewCluster({
      members: configs.map((config, i) => ({ config, root: table!.members[i]!.report.root })),
      comparison: table!.comparison,
    });
    expect(plan.problems).toEqual([]);
    expect(plan.member).toBe('n1');
    expect(plan.steps.filter((s) => s.kind === 'member-add').map((s) => s.node)).toEqual(['n2', 'n3']);
    expect(plan.steps.find((s) => s.id === 'n3-configure')!.command).toContain(`n1=${n1.peerUrl},n2=${n2.peerUrl},n3=${n3.peerUrl}`);

    // The survivor's session: quorum playbook, systemd chain, up to "wait until every member is back".
    const { store, service } = clusterSessionService(tmp, members);
    const vars = async (m: ClusterMember) => variablesFromDatastore((await detectNode(m.session, { sudo: true, target: m.session.host })).datastores[0]!);
    const survivor = await service.create({ playbookId: 'etcd-quorum-space', connectionId: 'n1', variables: await vars(n1), language: 'en' });
    const first = await walkSession(service, survivor.sessionId, { choose: { which: 'quorum', quorum: 'yes', style: 'systemd' }, stopAt: 'cluster-healthy' });
    expect(first.walked).toEqual([
      'which',
      'quorum',
      'style',
      'sd-stop',
      'sd-stop-wait',
      'sd-copy',
      'sd-force',
      'sd-alone',
      'sd-unforce',
      'sd-alone-again',
      'sd-keys',
      'rejoin',
    ]);
    expect(first.state.variables['keyCount']).toBe(String(expected.size));
    // n1 alone now: a cluster of one that takes writes, and the copy made before forcing is on the node.
    expect(await servedKeys(n1.clientUrl)).toEqual(expected);
    const copy = (await fs.readdir(n1.node.hostPath('/var/lib'))).filter((n) => n.startsWith('etcd.lifeboat-'));
    expect(copy).toHaveLength(1);
    expect(await fs.readFile(n1.node.hostPath('/etc/etcd.env'), 'utf8')).not.toMatch(/FORCE_NEW_CLUSTER/);

    // n2, then n3: the member-lost playbook on each node; they are no longer registered, so the remove is routed past.
    await rejoinWithMemberLost(service, [n2, n3], n1, 'systemd', vars);
    // Back on the survivor's session: every member is back and healthy.
    const last = await walkSession(service, survivor.sessionId);
    expect(last.walked).toEqual(['cluster-healthy']);
    await service.finish(survivor.sessionId, 'healthy');

    await expectEveryMemberServes(members, expected);
    // The destroyed data dirs were moved aside on n2 and n3, not deleted.
    for (const m of [n2, n3]) expect((await fs.readdir(m.node.hostPath('/var/lib'))).filter((n) => n.startsWith('etcd.lifeboat-'))).toHaveLength(1);
    await store.close();
  }, 420_000);
});

async function hasLeaderSafe(clientUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${clientUrl}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { leader?: string };
    return !!body.leader && body.leader !== '0';
  } catch {
    return false;
  }
}
