import { addFlagsFromLogs, parseEnvironmentFile, parseStaticPodManifest, parseSystemdUnit, planRestore } from '../../../shared/formats/etcd/restore-plan';
import { checkSnapshotDbProbe } from '../../../shared/node/backup-check';
import { parseSystemctlCat } from '../../../shared/node/facts-parse';
import { parseKubeletFlags, parseMemberListJson } from '../../../shared/node/kind';
import { parseForeignOwnedProbe } from '../../../shared/node/ownership';
import { parseEndedProcesses } from '../../../shared/node/run-tag';
import { parseEnvirons, parsePodLogDirs, parsePodVolumeMembers } from '../../../shared/node/statefulset';
import { mutateText } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { FACTS_TOKENS } from './dictionaries';

/**
 * What detection and the restore planner read from a node besides the facts (node-facts.ts): an etcd unit and its
 * EnvironmentFile, a static pod manifest, etcd's flags in its logs, a backup's check, the ownership probe, running
 * etcd's environment, kubelet pod dirs and logs, `etcdctl member list -w json`, kubelet flags, and what the stop
 * script printed. As real nodes print them (KubeKey, kubeadm, a StatefulSet pod).
 */
const OUTPUTS = {
  unit:
    '# /etc/systemd/system/etcd.service\n[Unit]\nDescription=etcd\nAfter=network.target\n\n[Service]\nUser=etcd\nType=notify\nEnvironmentFile=/etc/etcd.env\n' +
    'ExecStart=/usr/local/bin/etcd \\\n  --name=node1 "--data-dir=/var/lib/etcd" \\\n  --initial-cluster node1=https://10.0.0.1:2380\nRestart=always\n\n' +
    '# /etc/systemd/system/etcd.service.d/override.conf\n[Service]\nEnvironment="ETCD_QUOTA_BACKEND_BYTES=8589934592" ETCD_SNAPSHOT_COUNT=10000\n',
  env:
    '# Environment file for etcd v3.5.7\nETCD_DATA_DIR=/var/lib/etcd\nETCD_ADVERTISE_CLIENT_URLS=https://10.0.0.1:2379\nETCD_INITIAL_ADVERTISE_PEER_URLS=https://10.0.0.1:2380\n' +
    'ETCD_INITIAL_CLUSTER_STATE=existing\nETCD_NAME="etcd-node1"\nETCD_INITIAL_CLUSTER=etcd-node1=https://10.0.0.1:2380,etcd-node2=https://10.0.0.2:2380\n' +
    "export ETCD_CERT_FILE='/etc/ssl/etcd/ssl/member-node1.pem'\nETCD_KEY_FILE=/etc/ssl/etcd/ssl/member-node1-key.pem\n",
  manifest:
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - etcd\n    - --advertise-client-urls=https://192.168.31.2:2379\n' +
    '    - --cert-file=/etc/kubernetes/pki/etcd/server.crt\n    - --data-dir=/var/lib/etcd\n    - --initial-advertise-peer-urls=https://192.168.31.2:2380\n' +
    '    - --initial-cluster=k8s-master=https://192.168.31.2:2380\n    - --name=k8s-master\n    image: registry.k8s.io/etcd:3.5.7-0\n    name: etcd\n' +
    '    volumeMounts:\n    - mountPath: /var/lib/etcd\n      name: etcd-data\n  hostNetwork: true\n  volumes:\n  - hostPath:\n      path: /var/lib/etcd\n      type: DirectoryOrCreate\n    name: etcd-data\n',
  logs:
    '{"level":"info","ts":"2024-03-13T04:30:01.000Z","caller":"embed/etcd.go:124","msg":"configuring peer listeners","listen-peer-urls":["https://192.168.31.2:2380"]}\n' +
    '{"level":"info","ts":"2024-03-13T04:30:01.001Z","caller":"embed/etcd.go:308","msg":"starting an etcd server","name":"k8s-master","data-dir":"/var/lib/etcd","initial-cluster":"k8s-master=https://192.168.31.2:2380","initial-cluster-token":"etcd-cluster"}\n' +
    '2024-03-13 04:30:01.002 I | etcdmain: etcd Version: 3.4.23\n',
  backupCheck: `size 20512\ntrailer ${'ab'.repeat(32)}\nbody ${'ab'.repeat(32)}\nhead ${'00'.repeat(16)}${'ed0cdaed'}${'00'.repeat(200)}\n`,
  zipCheck: `compressed zip\nzhead 504b0304${'00'.repeat(22)}1c00${'00'.repeat(2)}${Buffer.from('etcd-snapshot-cp1-1765200000').toString('hex')}\nztool unzip\nsize 20512\ntrailer ${'cd'.repeat(32)}\nbody ${'cd'.repeat(32)}\nhead ${'00'.repeat(64)}\n`,
  compressedCheck: `compressed gzip\nzhead 1f8b0808${'00'.repeat(40)}\nsize 20512\ntrailer ${'cd'.repeat(32)}\nbody ${'cd'.repeat(32)}\nhead ${'00'.repeat(64)}\n`,
  ownership:
    'foreign-owned 3\nroot\t/var/lib/etcd/member\nroot\t/var/lib/etcd/member/snap\n1001\t/var/lib/etcd/member/wal/0000000000000000-0000000000000000.wal\n',
  environs: '### 4242\nETCD_DATA_DIR=/var/lib/etcd/data\nETCD_NAME=etcd-0\nHOSTNAME=etcd-0\n### 4343\nPOD_NAME=etcd-1\n',
  podLogs: 'kube-system_etcd-k8s-master_0a1b2c3d4e5f67890a1b2c3d4e5f6789\ndefault_etcd-0_11111111-2222-3333-4444-555555555555\n',
  podVolumes:
    '/var/lib/kubelet/pods/11111111-2222-3333-4444-555555555555/volumes/kubernetes.io~csi/pvc-0a1b/mount/data/member\n/var/lib/kubelet/pods/abc/volumes/x/y/member\n',
  memberList:
    '{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"raft_term":2},"members":[{"ID":10276657743932975437,"name":"default","peerURLs":["http://localhost:2380"],"clientURLs":["http://localhost:2379"]},{"ID":18446744073709551615,"name":"n2","peerURLs":["https://10.0.0.2:2380"],"isLearner":true}]}',
  kubeletFlags:
    'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock --node-ip=172.18.0.2 --provider-id=kind://docker/kind/kind-control-plane"\n',
  ended: 'TERM 4242 etcdctl\nTERM 4243 sh\nKILL 4242 etcdctl\nLEFT 4242 4243\nsome shell noise\n',
};
type Key = keyof typeof OUTPUTS;

export const nodeProbes: FuzzTarget<{ key: Key; text: string }, typeof OUTPUTS> = {
  name: 'node-probes',
  what: 'the etcd configuration readers (unit, EnvironmentFile, static pod manifest, flags in logs) and the restore plan from them, a backup check, ownership, pod environment/dirs/volumes, member list JSON, kubelet flags, the stop script: plain data, never a throw',
  corpus: () => OUTPUTS,
  generate: (r, corpus) => {
    const key = r.pick(Object.keys(corpus) as Key[]);
    return { key, text: mutateText(r, corpus[key], FACTS_TOKENS, 256 * 1024) };
  },
  run: ({ key, text }) => {
    const results: unknown[] = [];
    switch (key) {
      case 'unit':
      case 'env': {
        const unit = key === 'unit' ? text : OUTPUTS.unit;
        const env = key === 'env' ? text : OUTPUTS.env;
        results.push([...parseSystemctlCat(unit)], parseEnvironmentFile(env));
        const cfg = parseSystemdUnit(unit, 'etcd.service', { '/etc/etcd.env': env });
        results.push(cfg, planRestore({ snapshot: '/var/backups/etcd/snapshot.db', member: cfg }));
        break;
      }
      case 'manifest':
      case 'logs': {
        const cfg = parseStaticPodManifest(key === 'manifest' ? text : OUTPUTS.manifest, '/etc/kubernetes/manifests/etcd.yaml');
        const withLogs = addFlagsFromLogs(cfg, key === 'logs' ? text : OUTPUTS.logs, 'etcd.log');
        results.push(cfg, withLogs, planRestore({ snapshot: '/var/backups/etcd/snapshot.db', member: withLogs }));
        break;
      }
      case 'backupCheck':
      case 'zipCheck':
      case 'compressedCheck': {
        const v = checkSnapshotDbProbe(text, 0, '/var/backups/etcd/snapshot.db');
        check(typeof v.valid === 'boolean', 'a verdict');
        results.push(v);
        break;
      }
      case 'ownership':
        results.push(parseForeignOwnedProbe(text));
        break;
      case 'environs':
        results.push([...parseEnvirons(text)]);
        break;
      case 'podLogs':
        results.push([...parsePodLogDirs(text)]);
        break;
      case 'podVolumes':
        results.push(parsePodVolumeMembers(text));
        break;
      case 'memberList':
        results.push(parseMemberListJson(text));
        break;
      case 'kubeletFlags':
        results.push(parseKubeletFlags(text));
        break;
      case 'ended':
        results.push(parseEndedProcesses(text));
        break;
    }
    checkPlain(results, key);
  },
  files: ({ key, text }) => ({ [`${key}.txt`]: text }),
  size: ({ text }) => text.length,
};
