/**
 * Field report 3 end to end where it happens: three kind control-plane
 * containers on a real Docker daemon (test/helpers/dockerd.ts), each running
 * the kubelet stand-in as its main process, which keeps real etcd 3.4 running
 * from its static pod manifest. The three members form a cluster at the
 * addresses Docker gave them; Docker restarts (every container stopped, other
 * containers on the network started first, the nodes after them), so each
 * comes back at another address; as kind's entrypoint does, each manifest is
 * rewritten to the new addresses, and the cluster, registered at the old
 * ones, has no leader. From the Docker host over SSH, Lifeboat works inside
 * the containers (docker exec): the logs panel's kind preset reads etcd's
 * log inside one (peers dialled at their old addresses, refused: the kind
 * playbook suggested), the kind playbook on the first forces a new
 * cluster and registers it at its new URL, the member-lost playbook brings
 * the other two back, and every member serves every key at its new address.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshConnection } from '../../electron/services/ssh/connection';
import type { SessionNode } from '../../electron/services/sessions/session-service';
import { SessionService } from '../../electron/services/sessions/session-service';
import { SessionStore } from '../../electron/services/sessions/session-store';
import { playbookById, suggestPlaybooks } from '../../shared/guided/playbooks';
import { variablesFromDatastore } from '../../shared/guided/variables';
import { detectNode } from '../../shared/node/detect';
import { containerExecutor, containerNodeLabel } from '../../shared/node/kind';
import { analyzeLogSources } from '../../shared/logs/analyze';
import { LIST_COMMANDS, logCommand, logSourceName, parsePickList } from '../../renderer/src/features/node/logs-commands';
import { requireEtcd } from '../helpers/etcd';
import { dockerAvailable, nodeDockerCli, startPrivateDocker, USR_READ_ONLY, type PrivateDocker } from '../helpers/dockerd';
import { hasLeader, keySet, manifest, MANIFEST, pollUntil, putAll, walkSession, type MemberAddress } from '../helpers/etcd-cluster-nodes';
import { expectEveryMemberServes, KIND_SURVIVOR_WALK, rejoinWithMemberLost } from '../helpers/guided-cluster';
import { servedKeys, sessionNodeOver } from '../helpers/guided-node';
import { realisticNodesAvailable, startRealisticNode, type RealisticNode } from '../helpers/realistic-node';
import { connectByKey, keyClient } from '../helpers/ssh-node';
import { sshdAvailable } from '../helpers/sshd';

const RUN = requireEtcd() && sshdAvailable() && realisticNodesAvailable() && dockerAvailable();
const IMAGE = 'lifeboat-test/kind-usr:1';
const NETWORK = 'kind';
const NAMES = ['kind-control-plane', 'kind-control-plane2', 'kind-control-plane3'];
const STANDINS = path.resolve(__dirname, '..', 'fixtures', 'standins');

interface ContainerMember extends MemberAddress {
  name: string;
}

const addressOf = (ip: string): MemberAddress => ({ host: ip, clientUrl: `http://${ip}:2379`, peerUrl: `http://${ip}:2380` });

describe.runIf(RUN)('guided session inside kind node containers on a real Docker daemon (report 3 from the Docker host)', () => {
  let tmp: string;
  let docker: PrivateDocker;
  let host: RealisticNode;
  let conn: SshConnection;
  let members: ContainerMember[];
  let old: ContainerMember[];
  let expected: Map<string, string>;

  /** Writes `text` to `file` inside container `name` (as kind's entrypoint and kubeadm do). */
  const writeIn = async (name: string, file: string, text: string) => {
    const local = path.join(tmp, `${name}-${path.basename(file)}`);
    await fs.writeFile(local, text);
    await docker.docker(['cp', local, `${name}:${file}`]);
  };
  const logsOf = async (name: string) =>
    docker.docker(['exec', name, 'sh', '-c', 'crictl logs e7cd00000001 2>&1 | tail -n 300']).catch((e: Error) => e.message);

  beforeAll(async () => {
    tmp = await fs.mkdtemp('/tmp/lb-kindc-');
    docker = await startPrivateDocker(tmp);
    await docker.importUsrImage(IMAGE, ['etc/kubernetes/manifests', 'var/lib/etcd', 'var/backups', 'kind']);
    await docker.docker(['network', 'create', '--subnet', '172.31.0.0/16', NETWORK]);
    // Only the two stand-ins a kind node needs here: the kubelet (its main process) and crictl.
    const bin = path.join(tmp, 'node-bin');
    await fs.mkdir(bin);
    for (const f of ['kubelet', 'crictl']) await fs.copyFile(path.join(STANDINS, f), path.join(bin, f));
    await fs.chmod(path.join(bin, 'kubelet'), 0o755);
    await fs.chmod(path.join(bin, 'crictl'), 0o755);
    for (const name of NAMES) {
      await docker.docker([
        'run',
        '-d',
        '--name',
        name,
        '--hostname',
        name,
        '--network',
        NETWORK,
        '--label',
        'io.x-k8s.kind.cluster=kind',
        '--label',
        'io.x-k8s.kind.role=control-plane',
        ...USR_READ_ONLY,
        '--volume',
        `${bin}:/usr/local/bin:ro`,
        IMAGE,
        '/usr/local/bin/kubelet',
      ]);
    }
    members = [];
    for (const name of NAMES) members.push({ name, ...addressOf(await docker.addressOf(name, NETWORK)) });
    const initial = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    for (const m of members) await writeIn(m.name, MANIFEST, manifest(m.name, m, initial, 'new'));
    for (const m of members) {
      if (!(await pollUntil(() => hasLeader(m.clientUrl), 60_000))) throw new Error(`${m.name} did not join:\n${await logsOf(m.name)}`);
    }
    expected = keySet('before', 40);
    await putAll(members[0]!.clientUrl, expected);
    for (const m of members) expect(await pollUntil(async () => (await servedKeys(m.clientUrl)).size === expected.size, 30_000), m.name).toBe(true);

    host = await startRealisticNode({
      files: nodeDockerCli(docker.host),
    });
    await fs.mkdir(path.join(tmp, 'client'));
    conn = await connectByKey(host.sshd, await keyClient(host.sshd, path.join(tmp, 'client')));
  }, 300_000);

  afterAll(async () => {
    conn?.close();
    await host?.stop();
    await docker?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('forces a new cluster inside the first container, brings the others back inside theirs: every key on every member', async () => {
    old = members.map((m) => ({ ...m }));
    // Docker restarts: the nodes stop; other containers on the network start first and take the addresses.
    await docker.docker(['stop', '-t', '2', ...NAMES]);
    for (let i = 0; i < NAMES.length; i++)
      await docker.docker(['run', '-d', '--name', `other-${i}`, '--network', NETWORK, ...USR_READ_ONLY, IMAGE, 'sleep', 'infinity']);
    await docker.docker(['start', ...NAMES]);
    members = [];
    for (const name of NAMES) members.push({ name, ...addressOf(await docker.addressOf(name, NETWORK)) });
    for (const [i, m] of members.entries()) expect(m.host, m.name).not.toBe(old[i]!.host);
    // kind's entrypoint puts the node's new address into its manifests; the members stay registered at the old ones.
    const fresh = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    for (const m of members) await writeIn(m.name, MANIFEST, manifest(m.name, m, fresh, 'new'));
    for (const m of members) {
      const stuck = await pollUntil(async () => /is starting a new election/.test(await logsOf(m.name)), 60_000);
      expect(stuck, m.name).toBe(true);
      expect(await hasLeader(m.clientUrl).catch(() => false), m.name).toBe(false);
    }

    // Lifeboat on the Docker host: each session's node is a container, reached through docker exec.
    const hostNode = sessionNodeOver(conn, host);
    // The node panel's logs from there: the control planes listed, etcd's log read inside one, and what it says.
    const listing = await hostNode.run(LIST_COMMANDS['kind-etcd']!, { sudo: true, maxOutputBytes: 1 << 20 });
    expect(
      parsePickList('kind-etcd', listing.stdout)
        .map((r) => r.name)
        .sort(),
    ).toEqual([...NAMES].sort());
    const logCmd = logCommand('kind-etcd', NAMES[0])!;
    const fetched = await hostNode.run(logCmd, { sudo: true, maxOutputBytes: 4 << 20 });
    expect(fetched.code, fetched.stderr).toBe(0);
    const analysis = analyzeLogSources([{ name: logSourceName(hostNode.host, logCmd), text: fetched.stdout }]);
    const said = new Set(analysis.matches.map((m) => m.signatureId));
    // Report 3's words: etcd dials its peers at their old addresses, now another container's, and is refused.
    const unreachable = analysis.matches.filter((m) => m.signatureId === 'etcd.peer-unreachable');
    expect(unreachable.length).toBeGreaterThan(0);
    expect(new Set(unreachable.map((m) => m.fields['peer']))).toEqual(new Set(old.slice(1).map((o) => `${o.host}:2380`)));
    expect(new Set(unreachable.map((m) => m.fields['error']))).toEqual(new Set(['connection refused']));
    // ... which is what suggests the kind playbook for a kind node.
    expect(suggestPlaybooks([...said], 'etcd', 'kind').map((p) => p.id)).toEqual(['kind-addresses']);

    const inside = new Map<string, SessionNode>(
      NAMES.map((n) => [n, { ...containerExecutor(hostNode, n, true), host: containerNodeLabel(hostNode.host, n) }] as const),
    );
    const store = new SessionStore(path.join(tmp, 'guided'), playbookById);
    const service = new SessionService({ store, nodeFor: (c) => inside.get(c)! });
    const vars = async (m: { name: string }) => {
      const ds = (await detectNode(inside.get(m.name)!, { sudo: true, target: inside.get(m.name)!.host })).datastores[0]!;
      expect(ds).toMatchObject({ managedBy: 'kind', manifest: MANIFEST, dataDir: '/var/lib/etcd', memberName: m.name });
      return variablesFromDatastore(ds);
    };
    const [n1, n2, n3] = members as [ContainerMember, ContainerMember, ContainerMember];
    const v1 = await vars(n1);
    expect(v1).toMatchObject({ memberName: n1.name, initialAdvertisePeerUrls: n1.peerUrl, endpoint: n1.clientUrl });
    const s1 = await service.create({ playbookId: 'kind-addresses', connectionId: n1.name, variables: v1, language: 'en' });
    expect(s1.node).toBe(`${hostNode.host} › docker:${n1.name}`);
    const first = await walkSession(service, s1.sessionId, { choose: { choose: 'yes' }, stopAt: 'cluster-healthy' });
    expect(first.walked).toEqual(KIND_SURVIVOR_WALK);
    // The evidence from etcd's log inside the container: it dials its peers at their old addresses.
    const evidence = first.state.events.find((e) => e.type === 'command-finished' && e.stepId === 'evidence');
    const out = evidence?.type === 'command-finished' ? evidence.stdout : '';
    for (const o of old.slice(1)) expect(out).toContain(`address-changed: ${o.host}:2380`);
    expect(out).toContain(`configured now: ${fresh}`);
    expect(first.state.variables['keyCount']).toBe(String(expected.size));
    const list = (await (await fetch(`${n1.clientUrl}/v3/cluster/member/list`, { method: 'POST', body: '{}' })).json()) as {
      members: { name: string; peerURLs: string[] }[];
    };
    expect(list.members.map((m) => [m.name, m.peerURLs])).toEqual([[n1.name, [n1.peerUrl]]]);

    await rejoinWithMemberLost(service, [n2, n3], n1, 'static-pod', vars);
    const last = await walkSession(service, s1.sessionId);
    expect(last.walked).toEqual(['cluster-healthy']);
    await service.finish(s1.sessionId, 'healthy');
    await expectEveryMemberServes(members, expected);
    // Nothing deleted: the first member's data dir was copied before forcing, the others' moved aside, inside each container.
    for (const m of members) {
      const lib = (await docker.docker(['exec', m.name, 'ls', '/var/lib'])).split('\n').filter((n) => n.startsWith('etcd.lifeboat-'));
      expect(lib, m.name).toHaveLength(1);
    }
    await store.close();
  }, 600_000);
});
