/**
 * Field report 3 (kind after a Docker restart) end to end against a real
 * 3-member etcd 3.4 cluster on three kubeadm-like realistic nodes (static pod
 * manifests run by the kubelet stand-in, members on their own 127.0.x.y).
 * Every node comes back at a new address and its manifest says so, but the
 * cluster still has every member registered at its old peer URL: each member
 * dials peers nobody listens at, and there is no leader. `member update`
 * cannot fix that in place (it needs a leader to commit), and a member
 * without a leader serves no client request at all in 3.4, so the kind
 * playbook shows the evidence from etcd's log (the old peer addresses it
 * dials against the --initial-cluster configured now), forces a new cluster on
 * n1 (data dir copied first), registers n1 at its new URL, and n2 and n3
 * rejoin with the member-lost playbook. Every key is served afterwards, with
 * its value, by all three members at their new addresses.
 */
import { promises as fs } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { variablesFromDatastore } from '../../shared/guided/variables';
import { detectNode } from '../../shared/node/detect';
import { requireEtcd } from '../helpers/etcd';
import { hasLeader, MANIFEST, manifest, memberAddresses, pollUntil, putAll, walkSession, writeOnNode, type ClusterMember } from '../helpers/etcd-cluster-nodes';
import { clusterSessionService, expectEveryMemberServes, KIND_SURVIVOR_WALK, loadedClusterHooks, rejoinWithMemberLost } from '../helpers/guided-cluster';
import { realisticNodesAvailable } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';

const RUN = requireEtcd() && sshdAvailable() && realisticNodesAvailable();

describe.runIf(RUN)('guided session: kind members registered at addresses they no longer have (report 3), 3 real members', () => {
  const cluster = loadedClusterHooks({ tmpName: 'guided-r3', style: 'static-pod', keys: 60, replicated: true });

  it('shows registered vs current peer URLs, forces a new cluster on n1, re-adds n2 and n3: every key on every member', async () => {
    const { tmp, members, expected } = cluster;
    const old = members.map((m) => ({ ...m }));
    // "Docker restart": every node gets a new address and its manifest follows; the kubelet restarts etcd there.
    const fresh = await memberAddresses(3);
    const freshCluster = members.map((m, i) => `${m.name}=${fresh[i]!.peerUrl}`).join(',');
    for (const [i, m] of members.entries()) {
      Object.assign(m, fresh[i]);
      await writeOnNode(m, MANIFEST, manifest(m.name, fresh[i]!, freshCluster, 'new'));
    }
    // Each member runs at its new address but keeps calling its peers at their old ones: elections never end, and
    // etcd 3.4 serves no client before it has published itself through a leader.
    for (const m of members) {
      let log = '';
      const stuck = await pollUntil(async () => {
        log = (await m.node.exec('crictl logs e7cd00000001 | tail -n 200')).stdout;
        return /could not connect: dial tcp/.test(log) && /is starting a new election/.test(log) && log.includes(m.peerUrl.replace('http://', ''));
      }, 60_000);
      expect(stuck, log.slice(-1500)).toBe(true);
    }
    // A write needs a leader: none is elected (each waits 3 s, three election timeouts), and none is known.
    for (const m of members) {
      await expect(putAll(m.clientUrl, new Map([['/registry/no-leader', m.name]]), 3000), m.name).rejects.toThrow();
      expect(await hasLeader(m.clientUrl).catch(() => false), m.name).toBe(false);
    }

    const [n1, n2, n3] = members as [ClusterMember, ClusterMember, ClusterMember];
    const { store, service } = clusterSessionService(tmp, members);
    const vars = async (m: ClusterMember) => {
      const ds = (await detectNode(m.session, { sudo: true, target: m.session.host })).datastores[0]!;
      expect(ds).toMatchObject({ managedBy: 'static-pod', manifest: MANIFEST, dataDir: '/var/lib/etcd' });
      return variablesFromDatastore(ds);
    };
    const v1 = await vars(n1);
    expect(v1).toMatchObject({ memberName: 'n1', initialAdvertisePeerUrls: n1.peerUrl, endpoint: n1.clientUrl });
    const s1 = await service.create({ playbookId: 'kind-addresses', connectionId: 'n1', variables: v1, language: 'en' });
    const first = await walkSession(service, s1.sessionId, { choose: { choose: 'yes' }, stopAt: 'cluster-healthy' });
    expect(first.walked).toEqual(KIND_SURVIVOR_WALK);
    // The first probe shows what detection's peer-address check compares: the manifest's new URLs, the records etcd keeps at the old ones.
    const probe = first.state.events.find((e) => e.type === 'command-finished' && e.stepId === 'addresses');
    const probeOut = probe?.type === 'command-finished' ? probe.stdout : '';
    expect(probeOut).toContain(`--initial-advertise-peer-urls=${n1.peerUrl}`);
    for (const o of old) expect(probeOut).toMatch(new RegExp(`^"id":\\d+,"peerURLs":\\["${o.peerUrl.replace(/\./g, '\\.')}"\\],"name":"${o.name}"$`, 'm'));
    // The evidence, from etcd's own log: it dials n2 and n3 at their old peer addresses, which the manifest no longer names.
    const evidence = first.state.events.find((e) => e.type === 'command-finished' && e.stepId === 'evidence');
    const out = evidence?.type === 'command-finished' ? evidence.stdout : '';
    const hostPort = (url: string) => url.replace(/^https?:\/\//, '');
    for (const o of old) expect(out).toContain(`address-changed: ${hostPort(o.peerUrl)}`);
    expect(out).toContain(`configured now: ${freshCluster}`);
    // ... and what it has registered: every member at its old peer URL.
    for (const o of old) expect(out).toMatch(new RegExp(`^added member [0-9a-f]+ \\[${o.peerUrl.replace(/\./g, '\\.')}\\]$`, 'm'));
    expect(old.map((o) => hostPort(o.peerUrl))).toContain(first.state.variables['staleAddress']);
    expect(first.state.variables['keyCount']).toBe(String(expected.size));
    // n1 is registered at its new URL, alone, and the manifest no longer forces.
    const list = (await (await fetch(`${n1.clientUrl}/v3/cluster/member/list`, { method: 'POST', body: '{}' })).json()) as {
      members: { name: string; peerURLs: string[] }[];
    };
    expect(list.members.map((m) => [m.name, m.peerURLs])).toEqual([['n1', [n1.peerUrl]]]);
    expect(await fs.readFile(n1.node.hostPath(MANIFEST), 'utf8')).not.toContain('force-new-cluster');

    await rejoinWithMemberLost(service, [n2, n3], n1, 'static-pod', vars);
    const last = await walkSession(service, s1.sessionId);
    expect(last.walked).toEqual(['cluster-healthy']);
    await service.finish(s1.sessionId, 'healthy');

    await expectEveryMemberServes(members, expected);
    // n1's data dir was copied before forcing; n2's and n3's old dirs are moved aside: nothing deleted.
    for (const m of members)
      expect(
        (await fs.readdir(m.node.hostPath('/var/lib'))).filter((n) => n.startsWith('etcd.lifeboat-')),
        m.name,
      ).toHaveLength(1);
    await store.close();
  }, 420_000);
});
