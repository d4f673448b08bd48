/**
 * Field report 4 end to end against a real 3-member etcd 3.4 cluster (three
 * realistic nodes, each its own sshd and mount namespace, members on their own
 * 127.0.x.y, systemd units with /etc/etcd.env): n3 loses its data dir while
 * stopped and still a member; started again (as a member that joined an
 * existing cluster) it panics with `tocommit(N) is out of range
 * [lastIndex(0)]`. The log picks the member-lost playbook, detection fills its
 * variables, and the session over SSH removes n3 from a healthy member, moves
 * what is left of its data dir aside, adds it back and starts it as an
 * existing member. Afterwards every key is served by all three members with
 * its value, and what the plan moved aside is still on the node.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionService } from '../../electron/services/sessions/session-service';
import { SessionStore } from '../../electron/services/sessions/session-store';
import { analyzeLogText } from '../../shared/logs';
import { playbookById, suggestPlaybooks } from '../../shared/guided/playbooks';
import { sessionMarkdown } from '../../shared/guided/export';
import { variablesFromDatastore } from '../../shared/guided/variables';
import { detectNode } from '../../shared/node/detect';
import { requireEtcd } from '../helpers/etcd';
import { envFile, keySet, writeOnNode, pollUntil, putAll, walkSession } from '../helpers/etcd-cluster-nodes';
import { expectEveryMemberServes, loadedClusterHooks } from '../helpers/guided-cluster';
import { servedKeys } from '../helpers/guided-node';
import { realisticNodesAvailable } from '../helpers/realistic-node';
import { sshdAvailable } from '../helpers/sshd';

/** A member's ID (hex, as etcdctl prints it) from the v3 gateway's member list. */
async function memberIdOf(clientUrl: string, name: string): Promise<string | undefined> {
  const res = await fetch(`${clientUrl}/v3/cluster/member/list`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { members?: { ID: string; name?: string }[] };
  const m = body.members?.find((x) => x.name === name);
  return m ? BigInt(m.ID).toString(16) : undefined;
}

const RUN = requireEtcd() && sshdAvailable() && realisticNodesAvailable();

describe.runIf(RUN)('guided session: an etcd member lost its data while still a member (report 4), 3 real members', () => {
  const cluster = loadedClusterHooks({ tmpName: 'guided-r4', style: 'systemd', keys: 60, replicated: false });

  it('n3 panics with tocommit after losing its data; the playbook brings it back and all three serve every key', async () => {
    const { tmp, members, expected } = cluster;
    const [n1, , n3] = members;
    // n3 stops; its disk is replaced (the data dir is empty); the cluster goes on writing without it.
    expect((await n3!.node.exec('systemctl stop etcd')).code).toBe(0);
    // (Inside the node's namespace: changing an overlay's upper layer from outside while it is mounted is undefined.)
    expect((await n3!.node.exec('rm -rf /var/lib/etcd/member')).code).toBe(0);
    const during = keySet('during', 20);
    await putAll(n1!.clientUrl, during);
    for (const [k, v] of during) expected.set(k, v);
    // A member that joined an existing cluster starts with --initial-cluster-state=existing.
    const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    await writeOnNode(n3!, '/etc/etcd.env', envFile('n3', n3!, initialCluster, 'existing'));
    await n3!.node.exec('systemctl start etcd');
    let log = '';
    const panicked = await pollUntil(async () => {
      log = (await n3!.node.exec('journalctl -u etcd --no-pager -n 200')).stdout;
      return /tocommit\(\d+\) is out of range \[lastIndex\(0\)\]/.test(log);
    }, 60_000);
    expect(panicked, log.slice(-2000)).toBe(true);
    const tocommit = Number(/tocommit\((\d+)\) is out of range \[lastIndex\(0\)\]/.exec(log)![1]);
    expect(tocommit).toBeGreaterThan(60);
    expect(log).toMatch(/Was the raft log corrupted, truncated, or lost\?/);

    // The log names the playbook; detection on n3 gives its variables.
    const analysis = analyzeLogText('etcd', log);
    const matched = Object.keys(analysis.counts).filter((id) => analysis.counts[id]! > 0);
    expect(suggestPlaybooks(matched, 'etcd').map((p) => p.id)).toEqual(['etcd-member-lost']);
    const card = await detectNode(n3!.session, { sudo: true, target: n3!.session.host });
    const ds = card.datastores[0]!;
    expect(ds).toMatchObject({ managedBy: 'systemd', dataDir: '/var/lib/etcd', unit: 'etcd.service', envFile: '/etc/etcd.env' });

    const n3IdBefore = await memberIdOf(n1!.clientUrl, 'n3');
    expect(n3IdBefore).toMatch(/^[0-9a-f]{1,16}$/);
    const store = new SessionStore(path.join(tmp, 'guided'), playbookById);
    const service = new SessionService({ store, nodeFor: () => n3!.session });
    const variables = { ...variablesFromDatastore(ds), healthyEndpoint: n1!.clientUrl };
    expect(variables).toMatchObject({ memberName: 'n3', initialAdvertisePeerUrls: n3!.peerUrl, endpoint: n3!.clientUrl });
    const s0 = await service.create({ playbookId: 'etcd-member-lost', connectionId: 'n3', variables, language: 'en' });
    const { state, walked, routed } = await walkSession(service, s0.sessionId, { choose: { style: 'systemd' } });
    expect(walked).toEqual([
      'members',
      'style',
      'sd-stop',
      'sd-stop-wait',
      'sd-find-member',
      'sd-remove',
      'sd-move-aside',
      'sd-add',
      'sd-configure',
      'sd-start',
      'sd-healthy',
    ]);
    expect(routed).toEqual([]);
    // The ID it removed is the one n3 had; member add printed the cluster n3 started with.
    expect(state.variables['memberId']).toBe(n3IdBefore);
    expect(state.variables['newInitialCluster']!.split(',').sort()).toEqual(members.map((m) => `${m.name}=${m.peerUrl}`).sort());
    await service.finish(s0.sessionId, 'healthy');

    // Every key, with its value, from every member (n3 answers from its own, rebuilt store).
    await expectEveryMemberServes(members, expected);
    // The cluster takes writes from n3 too, and its env file now says it joins an existing cluster.
    await putAll(n3!.clientUrl, new Map([['/registry/after/k', 'written through n3']]));
    expect((await servedKeys(n1!.clientUrl)).get('/registry/after/k')).toBe('written through n3');
    const env = await fs.readFile(n3!.node.hostPath('/etc/etcd.env'), 'utf8');
    expect(env).toMatch(/^ETCD_INITIAL_CLUSTER_STATE=existing$/m);
    // What was left of the data dir is moved aside, never deleted; the journal recorded every backup's hash.
    const aside = (await fs.readdir(n3!.node.hostPath('/var/lib'))).filter((n) => n.startsWith('etcd.lifeboat-'));
    expect(aside).toHaveLength(1);
    const md = sessionMarkdown(await store.load(s0.sessionId), playbookById('etcd-member-lost'), 'en');
    expect(md).toContain('member remove');
    expect(md).toContain('member add n3');
    expect(md).toMatch(/sha256 `[0-9a-f]{64}`/);
    await store.close();
  }, 300_000);
});
