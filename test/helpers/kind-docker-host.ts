/**
 * Field report 3's Docker host, for real: a private Docker daemon
 * (dockerd.ts) running kind-shaped node containers (kind's labels, a `kind`
 * network), the control plane holding a real etcd 3.4 member created at the
 * address Docker gave it first, with kind's etcd manifest for that address
 * (the containers run with this machine's /usr, read-only: dockerd.ts).
 * Docker's restart is the containers stopped and started again in another
 * order, so each comes back at another address, as after a reboot. The host
 * is a realistic node (sshd in its own mount namespace) whose `docker` talks
 * to that daemon.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { nodeDockerCli, startPrivateDocker, USR_READ_ONLY, type PrivateDocker } from './dockerd';
import { kindEtcdManifest, kindMemberDir } from './kind-member';
import { startRealisticNode, type RealisticNode } from './realistic-node';

export const KIND_NETWORK = 'kind';
const IMAGE = 'lifeboat-test/kind-node:1';

export interface KindDockerHost {
  tmp: string;
  docker: PrivateDocker;
  /** The Docker host, reached over SSH. */
  host: RealisticNode;
  /** The control plane's address before Docker's restart (etcd's peer URLs) and now. */
  oldIp: string;
  newIp: string;
  workerIp: string;
  memberIdHex: string;
  /** The member's db as it was copied into the control plane. */
  memberDb: string;
  /** A container with kind's labels for `role` (not started unless `run`). */
  createNode(name: string, role: string, run?: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** `subnet`: the kind network's, one of its own per test file (files run side by side; two bridges with one subnet collide). */
export async function startKindDockerHost(subnet: string): Promise<KindDockerHost> {
  // Short: containerd's socket lives under it (108-byte limit).
  const tmp = await fs.mkdtemp('/tmp/lb-kind-');
  const docker = await startPrivateDocker(tmp);
  let host: RealisticNode | undefined;
  const stop = async () => {
    await host?.stop();
    await docker.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  };
  try {
    // /kind: what kind's node image marks itself with.
    await docker.importUsrImage(IMAGE, ['etc/kubernetes/manifests', 'var/lib', 'kind']);
    await docker.docker(['network', 'create', '--subnet', subnet, KIND_NETWORK]);
    const createNode = async (name: string, role: string, run = false) => {
      const labels = ['--label', 'io.x-k8s.kind.cluster=kind', '--label', `io.x-k8s.kind.role=${role}`];
      await docker.docker([
        run ? 'run' : 'create',
        ...(run ? ['-d'] : []),
        '--name',
        name,
        '--hostname',
        name,
        '--network',
        KIND_NETWORK,
        ...labels,
        ...USR_READ_ONLY,
        IMAGE,
        'sleep',
        'infinity',
      ]);
    };
    await createNode('kind-control-plane', 'control-plane');
    await createNode('kind-worker', 'worker');
    await docker.docker(['start', 'kind-control-plane']);
    await docker.docker(['start', 'kind-worker']);
    const oldIp = await docker.addressOf('kind-control-plane', KIND_NETWORK);

    // The member kubeadm made in the control plane at the address it had then, and kind's manifest for it.
    const memberDir = path.join(tmp, 'etcd');
    const { memberIdHex } = await kindMemberDir(memberDir, oldIp);
    await fs.writeFile(path.join(tmp, 'etcd.yaml'), kindEtcdManifest(oldIp));
    await docker.docker(['cp', memberDir, 'kind-control-plane:/var/lib/etcd']);
    await docker.docker(['cp', path.join(tmp, 'etcd.yaml'), 'kind-control-plane:/etc/kubernetes/manifests/etcd.yaml']);

    // Docker restarts (a reboot): the containers come back in another order, with other addresses.
    await docker.docker(['stop', '-t', '0', 'kind-control-plane', 'kind-worker']);
    await docker.docker(['start', 'kind-worker']);
    await docker.docker(['start', 'kind-control-plane']);
    const newIp = await docker.addressOf('kind-control-plane', KIND_NETWORK);
    const workerIp = await docker.addressOf('kind-worker', KIND_NETWORK);
    if (newIp === oldIp) throw new Error(`Docker gave the control plane its old address ${oldIp} again`);

    // The Docker host over SSH: its docker CLI talks to the test's daemon (a real host has one at the default socket).
    host = await startRealisticNode({
      files: nodeDockerCli(docker.host),
    });
    return { tmp, docker, host, oldIp, newIp, workerIp, memberIdHex, memberDb: path.join(memberDir, 'member', 'snap', 'db'), createNode, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
