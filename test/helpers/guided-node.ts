/**
 * What the guided-session tests share around a realistic node: the node
 * started with a key-authenticated SSH connection to it (and both taken down
 * again), a KubeKey-style etcd member's files (systemd unit, /etc/etcd.env,
 * the cron backup job), the node executor over a real SSH connection (plain
 * exec, or root through one SudoRunner, as the app's SSH service does it),
 * and the keys a real etcd serves at its client URL.
 */
import { promises as fs } from 'node:fs';
import { SudoRunner, type SshConnection } from '../../electron/services/ssh/connection';
import type { SessionNode } from '../../electron/services/sessions/session-service';
import type { NodeExecutor } from '../../shared/node/executor';
import { startRealisticNode, type NodeFile, type RealisticNode, type RealisticNodeSpec } from './realistic-node';
import { connectByKey, keyClient } from './ssh-node';

/** The systemd unit of a KubeKey-style member: etcd as root, configured only by /etc/etcd.env. */
export const SYSTEMD_ETCD_UNIT =
  '[Unit]\nDescription=etcd\n\n[Service]\nUser=root\nType=notify\nEnvironmentFile=/etc/etcd.env\nExecStart=/usr/bin/etcd\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n';

/** Where KubeKey's backup script lives on the node (its cron job runs it every 30 minutes). */
export const BACKUP_SCRIPT = '/usr/local/bin/kube-scripts/etcd-backup.sh';

/**
 * A one-member KubeKey-style node's files for the etcd at `ep` (its data in
 * /var/lib/etcd, cluster token `lifeboat-test`): the unit, /etc/etcd.env
 * (with ETCD_INITIAL_CLUSTER_STATE only when `clusterState` is given), root's
 * crontab and the backup script it runs (etcdctl snapshot save into a new
 * dated dir under /var/backups/kube_etcd).
 */
export function kubekeyEtcdFiles(
  ep: { name: string; clientUrl: string; peerUrl: string },
  opts: { clusterState?: 'new' | 'existing' } = {},
): Record<string, NodeFile> {
  return {
    '/etc/systemd/system/etcd.service': SYSTEMD_ETCD_UNIT,
    '/etc/etcd.env':
      `ETCD_DATA_DIR=/var/lib/etcd\nETCD_NAME=${ep.name}\nETCD_LISTEN_CLIENT_URLS=${ep.clientUrl}\nETCD_ADVERTISE_CLIENT_URLS=${ep.clientUrl}\n` +
      `ETCD_LISTEN_PEER_URLS=${ep.peerUrl}\nETCD_INITIAL_ADVERTISE_PEER_URLS=${ep.peerUrl}\nETCD_INITIAL_CLUSTER=${ep.name}=${ep.peerUrl}\n` +
      `ETCD_INITIAL_CLUSTER_TOKEN=lifeboat-test\n${opts.clusterState ? `ETCD_INITIAL_CLUSTER_STATE=${opts.clusterState}\n` : ''}ETCD_LISTEN_METRICS_URLS=\n`,
    '/var/spool/cron/crontabs/root': { content: `*/30 * * * * sh ${BACKUP_SCRIPT}\n`, mode: 0o600 },
    [BACKUP_SCRIPT]: {
      content: `#!/bin/bash\nBACKUP_DIR="/var/backups/kube_etcd/etcd-$(date +%Y-%m-%d-%H-%M-%S)"\nmkdir -p $BACKUP_DIR\nexport ETCDCTL_API=3;/usr/bin/etcdctl --endpoints="${ep.clientUrl}" snapshot save $BACKUP_DIR/snapshot.db > /dev/null\n`,
      mode: 0o755,
    },
  };
}

/**
 * etcd set up twice over one data dir: a systemd unit with its EnvironmentFile and a kubeadm static pod manifest,
 * both on /var/lib/etcd (nothing started): what detection warns of.
 */
export function twoEtcdFiles(): Record<string, NodeFile> {
  return {
    '/etc/systemd/system/etcd.service':
      '[Unit]\nDescription=etcd\n\n[Service]\nEnvironmentFile=/etc/etcd.env\nExecStart=/usr/bin/etcd\n\n[Install]\nWantedBy=multi-user.target\n',
    '/etc/etcd.env': 'ETCD_DATA_DIR=/var/lib/etcd\nETCD_NAME=n1\n',
    '/etc/kubernetes/manifests/etcd.yaml':
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - etcd\n    - --data-dir=/var/lib/etcd\n    - --name=n1\n    image: registry.k8s.io/etcd:3.5.7-0\n    name: etcd\n',
  };
}

/** A realistic node and an SSH connection to it as the test user, by a key made under `tmp`. */
export async function connectedNode(tmp: string, spec: RealisticNodeSpec): Promise<{ node: RealisticNode; conn: SshConnection }> {
  const node = await startRealisticNode(spec);
  const conn = await connectByKey(node.sshd, await keyClient(node.sshd, tmp));
  return { node, conn };
}

/** Takes down what a test's beforeAll got as far as setting up: the connection, the node, the temp dir. */
export async function releaseNode(parts: { conn?: SshConnection; node?: RealisticNode; tmp?: string }): Promise<void> {
  parts.conn?.close();
  await parts.node?.stop();
  if (parts.tmp) await fs.rm(parts.tmp, { recursive: true, force: true });
}

/** The executor the session service and the detector use, on `conn` to `node`. */
export function sessionNodeOver(conn: SshConnection, node: RealisticNode): SessionNode & { sudo: SudoRunner } {
  const sudo = new SudoRunner(conn, { user: node.sshd.user, host: '127.0.0.1', prompt: async () => null });
  const exec: NodeExecutor = {
    async run(command, opts) {
      if (opts.sudo) {
        const r = await sudo.run(command, opts.maxOutputBytes, { signal: opts.signal });
        return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr, truncated: r.truncated };
      }
      const r = await conn.exec(command, { maxOutputBytes: opts.maxOutputBytes, signal: opts.signal });
      return { code: r.code, stdout: r.stdout, stderr: r.stderr, truncated: r.truncated };
    },
    loginIsRoot: () => conn.loginIsRoot(),
  };
  return Object.assign(exec, { host: `${node.sshd.user}@127.0.0.1:${node.sshd.port}`, sudo, sftp: () => conn.sftp() });
}

/** Every key etcd serves at `clientUrl`, key -> value (the v3 JSON gateway). */
export async function servedKeys(clientUrl: string): Promise<Map<string, string>> {
  const res = await fetch(`${clientUrl}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: Buffer.from([0]).toString('base64'), range_end: Buffer.from([0]).toString('base64') }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { kvs?: { key: string; value?: string }[] };
  return new Map((body.kvs ?? []).map((kv) => [Buffer.from(kv.key, 'base64').toString('utf8'), Buffer.from(kv.value ?? '', 'base64').toString('utf8')]));
}
