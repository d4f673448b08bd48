/**
 * A real etcd 3.4 member as kind's node had it before a Docker restart: created
 * at `ip` (peer and client URLs) inside a private network namespace that has
 * that address, as the node container did, then stopped. Its db keeps the
 * member record with that peer URL.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const KIND_MEMBER_NAME = 'kind-control-plane';

export async function kindMemberDir(dir: string, ip: string): Promise<{ memberIdHex: string; keys: number }> {
  const script = `set -e
ip link set lo up
ip addr add ${ip}/16 dev lo
etcd --name ${KIND_MEMBER_NAME} --data-dir ${dir} --listen-client-urls http://${ip}:2379 --advertise-client-urls http://${ip}:2379 \\
  --listen-peer-urls http://${ip}:2380 --initial-advertise-peer-urls http://${ip}:2380 \\
  --initial-cluster ${KIND_MEMBER_NAME}=http://${ip}:2380 --initial-cluster-token kind-test --listen-metrics-urls '' >${dir}.log 2>&1 &
pid=$!
for i in $(seq 1 150); do ETCDCTL_API=3 etcdctl --endpoints=http://${ip}:2379 endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
for i in $(seq 1 25); do ETCDCTL_API=3 etcdctl --endpoints=http://${ip}:2379 put /registry/minions/k$i v$i >/dev/null; done
ETCDCTL_API=3 etcdctl --endpoints=http://${ip}:2379 member list
kill $pid; wait $pid || true`;
  const r = await run('unshare', ['--net', '--', 'sh', '-c', script], { timeout: 90_000 });
  const id = new RegExp(`^([0-9a-f]{1,16}), started, ${KIND_MEMBER_NAME}, http://${ip.replace(/\./g, '\\.')}:2380`, 'm').exec(r.stdout);
  if (!id) throw new Error(`the kind member was not created: ${r.stdout}\n${r.stderr}\n${await fs.readFile(`${dir}.log`, 'utf8').catch(() => '')}`);
  return { memberIdHex: id[1]!, keys: 25 };
}

/** kind's etcd manifest as kubeadm writes it in the node container for a member at `ip` (plain http: no certificates in the tests). */
export function kindEtcdManifest(ip: string): string {
  return (
    `apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    kubeadm.kubernetes.io/etcd.advertise-client-urls: http://${ip}:2379\n  labels:\n    component: etcd\n    tier: control-plane\n  name: etcd\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - etcd\n` +
    `    - --advertise-client-urls=http://${ip}:2379\n    - --data-dir=/var/lib/etcd\n    - --initial-advertise-peer-urls=http://${ip}:2380\n` +
    `    - --initial-cluster=${KIND_MEMBER_NAME}=http://${ip}:2380\n    - --initial-cluster-token=kind-test\n    - --listen-client-urls=http://${ip}:2379\n    - --listen-metrics-urls=\n` +
    `    - --listen-peer-urls=http://${ip}:2380\n    - --name=${KIND_MEMBER_NAME}\n    - --snapshot-count=10000\n    image: registry.k8s.io/etcd:3.4.23-0\n    name: etcd\n  hostNetwork: true\n`
  );
}
