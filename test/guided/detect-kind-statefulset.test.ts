/**
 * Detection of the two etcd layouts the first detector left out, on
 * realistic nodes (real sshd in a private mount namespace, real etcd 3.4):
 *
 * - kind after a Docker restart (report 3): the member was created by a real
 *   etcd at 172.18.0.2 (in a private network namespace that had that
 *   address, as the node container did before the restart); the node now has
 *   other addresses, the kubelet stand-in keeps starting etcd from the kind
 *   manifest and etcd cannot bind. Detection must say kind (the kubelet's
 *   kind:// provider id), and compare the node's addresses with the manifest's
 *   peer URLs and the member record etcd stored in its db (read in place).
 * - etcd in a StatefulSet: member/ on a pod volume under /var/lib/kubelet/pods,
 *   the pod in /var/log/pods, a running etcd with ETCD_NAME in its environment.
 *   Detection must name the member, the data dir on the volume and say the
 *   restore goes through the StatefulSet.
 *
 * The Docker host's side of kind, with a real Docker daemon, is in
 * detect-kind-docker.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshConnection } from '../../electron/services/ssh/connection';
import { formatNodeCard } from '../../electron/services/ssh/detect-cli';
import { detectNode } from '../../shared/node/detect';
import { translateLocal } from '../../shared/i18n';
import { checkPeerAddresses, parseDbMemberRecords, parseIpOAddr, parseMemberListJson } from '../../shared/node/kind';
import { parsePodLogDirs, parsePodVolumeMembers } from '../../shared/node/statefulset';
import { makeGoldenWith, requireEtcd, tempDir } from '../helpers/etcd';
import { kindEtcdManifest, kindMemberDir } from '../helpers/kind-member';
import { nodeDockerCli, dockerAvailable } from '../helpers/dockerd';
import { sessionNodeOver, servedKeys } from '../helpers/guided-node';
import { startRealisticNode, realisticNodesAvailable, type RealisticNode } from '../helpers/realistic-node';
import { connectByKey, keyClient } from '../helpers/ssh-node';
import { sshdAvailable } from '../helpers/sshd';

const RUN = requireEtcd() && sshdAvailable() && realisticNodesAvailable();
const OLD_IP = '172.18.0.2';
const MANIFEST = '/etc/kubernetes/manifests/etcd.yaml';

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');

describe.runIf(RUN)('detect: kind after a Docker restart, and etcd in a StatefulSet (realistic nodes)', () => {
  let tmp: string;
  let kind: RealisticNode;
  let kindConn: SshConnection;
  let memberIdHex: string;
  let sts: RealisticNode;
  let stsConn: SshConnection;
  let stsClientUrl: string;
  const podUid = '5f0c1d2e-8a4b-4c3d-9e7f-0a1b2c3d4e5f';
  const volume = 'pvc-3b9d6c1a-7e2f-4a58-b0c4-d1e2f3a4b5c6';
  const volumeDir = `/var/lib/kubelet/pods/${podUid}/volumes/kubernetes.io~local-volume/${volume}/data`;

  beforeAll(async () => {
    tmp = await tempDir('detect-kind-sts');
    const kindDir = path.join(tmp, 'kind-etcd');
    ({ memberIdHex } = await kindMemberDir(kindDir, OLD_IP));
    kind = await startRealisticNode({
      files: {
        // kind's etcd manifest, as kubeadm writes it in the node container (plain http here: no certificates in the test).
        [MANIFEST]: kindEtcdManifest(OLD_IP),
        // What kind's kubeadm config gives the kubelet (kubeletExtraArgs node-ip and provider-id).
        '/var/lib/kubelet/kubeadm-flags.env': `KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock --node-ip=${OLD_IP} --node-labels= --pod-infra-container-image=registry.k8s.io/pause:3.9 --provider-id=kind://docker/kind/kind-control-plane"\n`,
      },
      copies: { '/var/lib/etcd': kindDir },
      kubelet: true,
    });
    await fs.mkdir(path.join(tmp, 'kind-client'));
    kindConn = await connectByKey(kind.sshd, await keyClient(kind.sshd, path.join(tmp, 'kind-client')));

    // A StatefulSet member: its data on a local PV, mounted into pod etcd-0 of namespace default.
    const g = await makeGoldenWith(path.join(tmp, 'sts-etcd'), { name: 'etcd-0' }, async (n) => {
      for (let i = 0; i < 12; i++) await n.put(`/sts/key-${i}`, `value-${i}`);
    });
    stsClientUrl = g.endpoint.clientUrl;
    sts = await startRealisticNode({
      files: {
        [`/var/log/pods/default_etcd-0_${podUid}/etcd/0.log`]: '2026-12-02T10:00:00.000000000Z stderr F {"level":"info","msg":"starting an etcd server"}\n',
      },
      copies: { [volumeDir]: g.dir },
    });
    // The container's etcd process, with the environment the chart gives it (ETCD_NAME from the pod name).
    const ep = g.endpoint;
    const env = [
      'HOSTNAME=etcd-0',
      'ETCD_NAME=etcd-0',
      `ETCD_DATA_DIR=${volumeDir}`,
      `ETCD_LISTEN_CLIENT_URLS=${ep.clientUrl}`,
      `ETCD_ADVERTISE_CLIENT_URLS=${ep.clientUrl}`,
      `ETCD_LISTEN_PEER_URLS=${ep.peerUrl}`,
      `ETCD_INITIAL_ADVERTISE_PEER_URLS=${ep.peerUrl}`,
      `ETCD_INITIAL_CLUSTER=etcd-0=${ep.peerUrl}`,
      'ETCD_INITIAL_CLUSTER_TOKEN=lifeboat-test',
      'ETCD_LISTEN_METRICS_URLS=',
    ].join(' ');
    const start = await sts.exec(
      `mkdir -p /var/lib/lifeboat-standin && cd / && (setsid env -i PATH=/usr/bin:/bin ${env} etcd >/var/lib/sts-etcd.log 2>&1 </dev/null & echo $! >/var/lib/lifeboat-standin/etcd-sts.pid)`,
    );
    expect(start.code, start.stderr).toBe(0);
    let served = new Map<string, string>();
    for (let i = 0; i < 300 && served.size !== 12; i++) {
      await new Promise((r) => setTimeout(r, 200));
      served = await servedKeys(stsClientUrl).catch(() => new Map<string, string>());
    }
    expect(served.size, (await sts.exec('cat /var/lib/sts-etcd.log')).stdout.slice(-2000)).toBe(12);
    await fs.mkdir(path.join(tmp, 'sts-client'));
    stsConn = await connectByKey(sts.sshd, await keyClient(sts.sshd, path.join(tmp, 'sts-client')));
  }, 600_000);

  afterAll(async () => {
    kindConn?.close();
    stsConn?.close();
    await kind?.stop();
    await sts?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('kind: the node has other addresses than the peer URLs in the manifest and in the member record etcd stored; flagged as the Docker-restart case', async () => {
    // The real state: the kubelet keeps starting etcd, which cannot bind the old address.
    let logs = '';
    for (let i = 0; i < 40 && !/cannot assign requested address/.test(logs); i++) {
      await new Promise((r) => setTimeout(r, 500));
      logs = (await kind.exec('crictl logs e7cd00000001')).stdout;
    }
    expect(logs).toContain(`listen tcp ${OLD_IP}:2380: bind: cannot assign requested address`);
    const db = kind.hostPath('/var/lib/etcd/member/snap/db');
    const dbBefore = await sha256(db);

    const node = sessionNodeOver(kindConn, kind);
    // The machine's network namespace is shared with test files running beside this one (the Docker tests add and
    // remove bridges and veths): the addresses detection reads are compared with `ip -o addr` before and after it.
    const addressesNow = async () => [...new Set(parseIpOAddr((await kind.exec('ip -o addr')).stdout).map((a) => a.address))];
    const before = await addressesNow();
    const card = await detectNode(node, { sudo: true, target: node.host });
    const after = await addressesNow();
    const d = card.datastores.find((x) => x.engine === 'etcd')!;
    expect(d).toMatchObject({ managedBy: 'kind', dataDir: '/var/lib/etcd', memberName: 'kind-control-plane', manifest: MANIFEST });
    expect(d.evidence).toContain('kubelet --provider-id=kind://docker/kind/kind-control-plane in /var/lib/kubelet/kubeadm-flags.env: a kind node');
    const pc = d.peerCheck!;
    expect(pc.verdict).toBe('mismatch');
    // The node's own addresses, as `ip -o addr` shows them (the test machine's network namespace): every address
    // there before and after detection, and none that was in neither (with nothing changing beside it: the same list).
    for (const a of before.filter((x) => after.includes(x))) expect(pc.nodeAddresses).toContain(a);
    for (const a of pc.nodeAddresses) expect([...before, ...after]).toContain(a);
    if (before.join() === after.join()) expect(pc.nodeAddresses).toEqual(after);
    expect(pc.nodeAddresses).toContain('127.0.0.1');
    expect(pc.nodeAddresses).not.toContain(OLD_IP);
    expect(pc.urls).toEqual([
      { source: '--initial-advertise-peer-urls', url: `http://${OLD_IP}:2380`, host: OLD_IP, onNode: false },
      { source: '--listen-peer-urls', url: `http://${OLD_IP}:2380`, host: OLD_IP, onNode: false },
      { source: '--initial-cluster (kind-control-plane)', url: `http://${OLD_IP}:2380`, host: OLD_IP, onNode: false },
      { source: 'member kind-control-plane (member/snap/db)', url: `http://${OLD_IP}:2380`, host: OLD_IP, onNode: false },
    ]);
    // The member record etcd itself wrote (its ID is the one `etcdctl member list` printed before the "restart").
    expect(pc.membersFrom).toBe('member/snap/db');
    expect(pc.members).toEqual([{ id: memberIdHex, name: 'kind-control-plane', peerUrls: [`http://${OLD_IP}:2380`] }]);
    expect(pc.explanation).toMatch(/^kind after a Docker restart: etcd is configured\/registered at 172\.18\.0\.2 /);
    // Every probe is read-only: the db is byte for byte what it was.
    expect(await sha256(db)).toBe(dbBefore);
    const grep = card.probes.find((p) => p.id === 'etcd-db-members')!;
    expect(grep.command).toMatch(/^timeout 30 grep -a -o -E '.*' -- \/var\/lib\/etcd\/member\/snap\/db \| sort -u \| head -n 64$/);
    const text = formatNodeCard(card);
    expect(text).toContain('etcd managed by kind (kubeadm in a container)');
    expect(text).toContain(`peer URLs    MISMATCH (node addresses now: ${pc.nodeAddresses.join(', ')})`);
    expect(text).toContain(`NOT HERE http://${OLD_IP}:2380  (--initial-advertise-peer-urls)`);
    expect(text).toContain(`members from member/snap/db: kind-control-plane ${memberIdHex} http://${OLD_IP}:2380`);
  }, 120_000);

  it('StatefulSet: member name and data dir on the pod volume, the pod, and a restore through the StatefulSet', async () => {
    const node = sessionNodeOver(stsConn, sts);
    const card = await detectNode(node, { sudo: true, target: node.host });
    expect(card.datastores.map((x) => x.managedBy)).toEqual(['statefulset']);
    const d = card.datastores[0]!;
    expect(d).toMatchObject({ engine: 'etcd', managedBy: 'statefulset', dataDir: volumeDir, memberName: 'etcd-0', running: true });
    expect(d.settings?.['data-dir']).toBe(volumeDir);
    expect(d.settings?.['initial-cluster-token']).toBe('lifeboat-test');
    expect(d.statefulSet).toMatchObject({ name: 'etcd', namespace: 'default', pod: 'etcd-0', ordinal: 0, podUid, volume, volumeDir });
    expect(d.statefulSet!.restoreSteps[1]).toBe('kubectl -n default scale statefulset etcd --replicas=0   # every member stops; the PVCs stay');
    expect(d.statefulSet!.restoreSteps.join('\n')).toContain(`--name etcd-0`);
    expect(d.restore).toBeUndefined();
    expect(d.unit).toBeUndefined();
    expect(d.evidence).toContain('restore through the StatefulSet (scale to 0, restore into the volume, scale back), not through systemd');
    expect(d.evidence.some((e) => /^etcd process \d+: ETCD_NAME=etcd-0, ETCD_DATA_DIR=/.test(e))).toBe(true);
    const text = formatNodeCard(card);
    expect(text).toContain('etcd managed by a StatefulSet, running');
    expect(text).toContain(`statefulset  default/etcd, pod etcd-0, volume ${volume}`);
    expect(text).toContain('restore through the StatefulSet, not systemd:');

    // With the container stopped (CrashLoopBackOff), the member name comes from the pod, and the card says it is assumed.
    expect(
      (
        await sts.exec(
          'read -r p < /var/lib/lifeboat-standin/etcd-sts.pid; kill "$p"; for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done',
        )
      ).code,
    ).toBe(0);
    const down = await detectNode(node, { sudo: true, target: node.host });
    const dd = down.datastores[0]!;
    expect(dd).toMatchObject({ managedBy: 'statefulset', dataDir: volumeDir, memberName: 'etcd-0' });
    // Not running; `null` (unknown) rather than false when other etcd processes run on the machine (the nodes share its pid namespace).
    expect(dd.running).not.toBe(true);
    expect(dd.evidence).toContain('member name etcd-0 assumed from the pod name (charts set ETCD_NAME to it); no running etcd process confirmed it');
  }, 120_000);

  it.runIf(dockerAvailable())(
    'a Docker host without etcd: docker is asked for kind node containers, and a daemon that does not answer is said, not hidden',
    async () => {
      // A docker CLI whose daemon is gone (its socket does not exist): what a host shows after Docker died. Explicit,
      // so that a Docker daemon this machine may run (docker.io is installed for the kind tests) changes nothing.
      const host = await startRealisticNode({
        files: nodeDockerCli('unix:///run/lifeboat-no-docker.sock'),
      });
      try {
        await fs.mkdir(path.join(tmp, 'host-client'));
        const conn = await connectByKey(host.sshd, await keyClient(host.sshd, path.join(tmp, 'host-client')));
        try {
          const node = sessionNodeOver(conn, host);
          const card = await detectNode(node, { sudo: true, target: node.host });
          expect(card.datastores).toEqual([]);
          const probe = card.probes.find((p) => p.id === 'docker-kind')!;
          expect(probe.command).toBe('docker ps -aq --filter label=io.x-k8s.kind.cluster');
          expect(probe.code).not.toBe(0);
          expect(card.kindContainers).toBeUndefined();
          expect(card.gaps).toContain(`docker is installed but did not answer (${probe.stderr.trim().split('\n')[0]}): kind node containers not listed`);
          expect(probe.stderr).toMatch(/Cannot connect to the Docker daemon/);
        } finally {
          conn.close();
        }
      } finally {
        await host.stop();
      }
    },
    180_000,
  );

  it('a Docker daemon that accepts and never answers: the probe is stopped at its limit and ended on the node, and the card still comes', async () => {
    // Its own sleep length, so that the check below sees only this test's leftovers.
    const wedged = 'sleep 3597';
    const host = await startRealisticNode({ files: { '/usr/local/bin/docker': { content: `#!/bin/sh\nexec ${wedged}\n`, mode: 0o755 } } });
    try {
      await fs.mkdir(path.join(tmp, 'wedged-client'));
      const conn = await connectByKey(host.sshd, await keyClient(host.sshd, path.join(tmp, 'wedged-client')));
      try {
        const node = sessionNodeOver(conn, host);
        const t0 = Date.now();
        const card = await detectNode(node, { sudo: true, target: node.host, timeLimits: { probe: 3, backupCheck: 3 } });
        expect(Date.now() - t0).toBeLessThan(30_000);
        const probe = card.probes.find((p) => p.id === 'docker-kind')!;
        expect(probe).toMatchObject({ code: null, stderr: 'no answer within 3 s' });
        expect(card.kindContainers).toBeUndefined();
        expect(card.gaps).toContain(
          'no answer within 3 s from “docker ps -aq --filter label=io.x-k8s.kind.cluster”: Lifeboat ended it on the node (sh, sleep); what it reads is not on this card',
        );
        expect(
          translateLocal(
            'zh-CN',
            card.gapTexts!.find((g) => g.key === 'guided.card.gap.probeTimedOutEnded')!,
          ),
        ).toBe('“docker ps -aq --filter label=io.x-k8s.kind.cluster”在 3 秒内没有应答：Lifeboat 已在节点上结束它（sh, sleep）；它要读取的内容不在此卡片上');
        // Nothing of it is left on the node (one PID namespace: the node's processes are this machine's).
        expect(spawnSync('pgrep', ['-x', '-f', wedged]).status).toBe(1);
        // The probes after it ran: the disk and the machine are on the card.
        expect(card.hostname).toBeTruthy();
      } finally {
        conn.close();
      }
    } finally {
      await host.stop();
      spawnSync('pkill', ['-x', '-f', wedged]);
    }
  }, 180_000);
});

describe('detect: peer address check and docker inspect parsing (no node)', () => {
  it('a node that has its peer address matches; wildcard and loopback listen URLs count as on the node', () => {
    const ip =
      '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n' +
      '4: eth0    inet 172.18.0.4/16 brd 172.18.255.255 scope global eth0\\       valid_lft forever preferred_lft forever\n' +
      '4: eth0    inet6 fc00:f853:ccd:e793::4/64 scope global nodad \\       valid_lft forever preferred_lft forever\n';
    const nodeAddresses = parseIpOAddr(ip).map((a) => a.address);
    expect(nodeAddresses).toEqual(['127.0.0.1', '172.18.0.4', 'fc00:f853:ccd:e793::4']);
    const ok = checkPeerAddresses({
      nodeAddresses,
      configured: [
        { flag: 'initial-advertise-peer-urls', value: 'https://172.18.0.4:2380' },
        { flag: 'listen-peer-urls', value: 'https://0.0.0.0:2380,https://127.0.0.1:2380' },
        { flag: 'initial-cluster', value: 'a=https://172.18.0.4:2380,b=https://172.18.0.9:2380' },
      ],
      members: [
        { id: '8e9e05c52164694d', name: 'a', peerUrls: ['https://172.18.0.4:2380'] },
        { id: '91bc3c398fb3c146', name: 'b', peerUrls: ['https://172.18.0.9:2380'] },
      ],
      membersFrom: 'etcdctl member list',
      memberName: 'a',
      kind: true,
    });
    expect(ok.verdict).toBe('match');
    // Only this member's entries are checked here: b lives on another node.
    expect(ok.urls.map((u) => u.url)).toEqual([
      'https://172.18.0.4:2380',
      'https://0.0.0.0:2380',
      'https://127.0.0.1:2380',
      'https://172.18.0.4:2380',
      'https://172.18.0.4:2380',
    ]);
    const moved = checkPeerAddresses({
      nodeAddresses,
      configured: [{ flag: 'initial-advertise-peer-urls', value: 'https://10.0.0.7:2380' }],
      members: [],
      membersFrom: null,
      memberName: 'a',
      kind: false,
    });
    expect(moved.verdict).toBe('mismatch');
    expect(moved.explanation).toMatch(/^etcd is configured\/registered at 10\.0\.0\.7 .*re-addressed/);
    expect(checkPeerAddresses({ nodeAddresses: [], configured: [], members: [], membersFrom: null, memberName: null, kind: false }).verdict).toBe('unknown');
  });

  it('member records keep 64-bit IDs exactly, and odd lines are skipped, not guessed', () => {
    expect(parseMemberListJson('{"header":{"cluster_id":1},"members":[{"ID":18446744073709551615,"name":"a","peerURLs":["https://10.0.0.1:2380"]}]}')).toEqual([
      { id: 'ffffffffffffffff', name: 'a', peerUrls: ['https://10.0.0.1:2380'] },
    ]);
    expect(parseMemberListJson('Error: context deadline exceeded')).toBeNull();
    expect(
      parseDbMemberRecords(
        '"id":16050090304094390534,"peerURLs":["http://172.18.0.2:2380"],"name":"kind-control-plane"\n' +
          '"id":99999999999999999999999,"peerURLs":[]\n' +
          '"id":1,"peerURLs":["http://x:1"],"isLearner":true\ngarbage\n',
      ),
    ).toEqual([
      { id: 'debd6018347cc906', name: 'kind-control-plane', peerUrls: ['http://172.18.0.2:2380'] },
      { id: '1', name: '', peerUrls: ['http://x:1'] },
    ]);
  });

  it('pod volumes and pod log dirs: only the kubelet layouts, nothing else', () => {
    const uid = '5f0c1d2e-8a4b-4c3d-9e7f-0a1b2c3d4e5f';
    expect(
      parsePodVolumeMembers(
        `/var/lib/kubelet/pods/${uid}/volumes/kubernetes.io~csi/pvc-1/mount/data/member\n/var/lib/kubelet/pods/${uid}/containers/etcd/member\n/etc/member\n`,
      ),
    ).toEqual([
      { podUid: uid, plugin: 'kubernetes.io~csi', volume: 'pvc-1', dataDir: `/var/lib/kubelet/pods/${uid}/volumes/kubernetes.io~csi/pvc-1/mount/data` },
    ]);
    expect([...parsePodLogDirs(`kube-system_etcd-cp-1_${uid}\nweird_name\ndefault_etcd-2_${uid.replace('5f', '6a')}\n`)]).toEqual([
      [uid, { namespace: 'kube-system', pod: 'etcd-cp-1' }],
      [uid.replace('5f', '6a'), { namespace: 'default', pod: 'etcd-2' }],
    ]);
  });
});
