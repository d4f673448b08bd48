/**
 * A real 3-member etcd 3.4 cluster on three realistic nodes (each its own
 * sshd and mount namespace, see realistic-node.ts): every member binds its
 * own 127.0.x.y, runs as a systemd unit with /etc/etcd.env (the systemctl
 * stand-in) or as a kubeadm-style static pod (the kubelet stand-in), and has
 * its data in the node's own /var/lib/etcd. Plus a walker that takes a guided
 * session through its playbook the way an operator does (backup, confirm,
 * run; decisions by a table), and small HTTP helpers for the v3 gateway.
 */
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import type { SshConnection } from '../../electron/services/ssh/connection';
import type { SessionService } from '../../electron/services/sessions/session-service';
import type { SessionNode } from '../../electron/services/sessions/session-service';
import type { SessionState } from '../../shared/contract/guided';
import { playbookById } from '../../shared/guided/playbooks';
import { loopbackEndpoint } from './etcd';
import { sessionNodeOver, SYSTEMD_ETCD_UNIT } from './guided-node';
import { startRealisticNode, type RealisticNode } from './realistic-node';
import { connectByKey, keyClient } from './ssh-node';

export type MemberStyle = 'systemd' | 'static-pod';
export const MANIFEST = '/etc/kubernetes/manifests/etcd.yaml';
export const TOKEN = 'lifeboat-cluster';

export interface MemberAddress {
  host: string;
  clientUrl: string;
  peerUrl: string;
}

export interface ClusterMember extends MemberAddress {
  name: string;
  node: RealisticNode;
  conn: SshConnection;
  session: SessionNode;
}

export async function memberAddresses(count: number): Promise<MemberAddress[]> {
  const out: MemberAddress[] = [];
  while (out.length < count) {
    const ep = await loopbackEndpoint();
    if (out.some((a) => a.host === ep.host)) continue;
    out.push({ host: ep.host, clientUrl: `http://${ep.host}:${ep.clientPort}`, peerUrl: `http://${ep.host}:${ep.peerPort}` });
  }
  return out;
}

/** /etc/etcd.env for a member (KubeKey style). */
export function envFile(name: string, a: MemberAddress, initialCluster: string, state: 'new' | 'existing'): string {
  return (
    `ETCD_DATA_DIR=/var/lib/etcd\nETCD_NAME=${name}\nETCD_LISTEN_CLIENT_URLS=${a.clientUrl}\nETCD_ADVERTISE_CLIENT_URLS=${a.clientUrl}\n` +
    `ETCD_LISTEN_PEER_URLS=${a.peerUrl}\nETCD_INITIAL_ADVERTISE_PEER_URLS=${a.peerUrl}\nETCD_INITIAL_CLUSTER=${initialCluster}\n` +
    `ETCD_INITIAL_CLUSTER_TOKEN=${TOKEN}\nETCD_INITIAL_CLUSTER_STATE=${state}\nETCD_LISTEN_METRICS_URLS=\nETCD_HEARTBEAT_INTERVAL=100\nETCD_ELECTION_TIMEOUT=1000\n`
  );
}

/** A kubeadm-style static pod manifest for a member. */
export function manifest(name: string, a: MemberAddress, initialCluster: string, state: 'new' | 'existing'): string {
  return (
    `apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - etcd\n` +
    `    - --advertise-client-urls=${a.clientUrl}\n    - --data-dir=/var/lib/etcd\n    - --initial-advertise-peer-urls=${a.peerUrl}\n` +
    `    - --initial-cluster=${initialCluster}\n    - --initial-cluster-state=${state}\n    - --initial-cluster-token=${TOKEN}\n` +
    `    - --listen-client-urls=${a.clientUrl}\n    - --listen-metrics-urls=\n    - --listen-peer-urls=${a.peerUrl}\n    - --name=${name}\n` +
    `    image: registry.k8s.io/etcd:3.4.23-0\n    name: etcd\n  hostNetwork: true\n`
  );
}

/** Three members on three nodes, bootstrapped as a new cluster and healthy (every member answers with a leader). */
export async function startCluster(tmp: string, style: MemberStyle, names = ['n1', 'n2', 'n3']): Promise<ClusterMember[]> {
  const addrs = await memberAddresses(names.length);
  const initialCluster = names.map((n, i) => `${n}=${addrs[i]!.peerUrl}`).join(',');
  const members = await Promise.all(
    names.map(async (name, i) => {
      const a = addrs[i]!;
      const node = await startRealisticNode(
        style === 'systemd'
          ? {
              files: { '/etc/systemd/system/etcd.service': SYSTEMD_ETCD_UNIT, '/etc/etcd.env': envFile(name, a, initialCluster, 'new') },
              setup: ['mkdir -p /var/lib/etcd && chmod 700 /var/lib/etcd'],
              startUnits: ['etcd'],
            }
          : { files: { [MANIFEST]: manifest(name, a, initialCluster, 'new') }, setup: ['mkdir -p /var/lib/etcd && chmod 700 /var/lib/etcd'], kubelet: true },
      );
      const dir = path.join(tmp, `client-${name}`);
      await fs.mkdir(dir, { recursive: true });
      const conn = await connectByKey(node.sshd, await keyClient(node.sshd, dir));
      return { ...a, name, node, conn, session: sessionNodeOver(conn, node) };
    }),
  );
  for (const m of members) {
    if (!(await pollUntil(() => hasLeader(m.clientUrl), 60_000)))
      throw new Error(`member ${m.name} did not join: ${(await m.node.exec('tail -n 20 /var/lib/lifeboat-standin/*.log')).stdout}`);
  }
  return members;
}

/** Write a file on the node from inside its namespace (an overlay's upper layer must not change under it). */
export async function writeOnNode(m: { node: RealisticNode }, nodePath: string, text: string): Promise<void> {
  const r = await m.node.exec(`printf '%s' '${Buffer.from(text).toString('base64')}' | base64 -d > '${nodePath}'`);
  if (r.code !== 0) throw new Error(`writing ${nodePath} on the node failed: ${r.stderr}`);
}

export async function stopCluster(members: ClusterMember[] | undefined): Promise<void> {
  for (const m of members ?? []) {
    m.conn.close();
    await m.node.stop();
  }
}

export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 300): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}

async function post(clientUrl: string, pathname: string, body: unknown, timeoutMs = 5000): Promise<unknown> {
  const res = await fetch(`${clientUrl}${pathname}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${pathname}: HTTP ${res.status}: ${text}`);
  return JSON.parse(text) as unknown;
}

/** The member answers status with a leader it knows. */
export async function hasLeader(clientUrl: string): Promise<boolean> {
  const r = (await post(clientUrl, '/v3/maintenance/status', {}, 3000)) as { leader?: string };
  return !!r.leader && r.leader !== '0';
}

/** Writes key -> value through the v3 gateway (a linearizable write: it needs quorum). */
export async function putAll(clientUrl: string, entries: Map<string, string>, timeoutMs = 5000): Promise<void> {
  for (const [k, v] of entries) {
    await post(clientUrl, '/v3/kv/put', { key: Buffer.from(k).toString('base64'), value: Buffer.from(v).toString('base64') }, timeoutMs);
  }
}

export function keySet(prefix: string, count: number): Map<string, string> {
  return new Map(Array.from({ length: count }, (_, i) => [`/registry/${prefix}/k${String(i).padStart(4, '0')}`, `${prefix}-value-${i}-${'x'.repeat(i % 40)}`]));
}

/** A change step's backup, as the session service reports it once taken. */
export type ChangeBackup = Awaited<ReturnType<SessionService['prepareChange']>>;

export interface WalkOptions {
  /** Decision step id -> option id. */
  choose?: Record<string, string>;
  /** Stop before this step. */
  stopAt?: string;
  /** Step id -> why it is skipped (e.g. a check this test node cannot run). */
  skip?: Record<string, string>;
  /** Before a change's backup is taken (e.g. check that the change refuses to run without it). */
  beforeBackup?: (stepId: string) => Promise<void>;
  /** After a change's backup is taken, before the confirmed run (e.g. check the archive on the node). */
  afterBackup?: (stepId: string, backup: ChangeBackup) => Promise<void>;
}

/**
 * Walk a session from its current step the way an operator does: decisions
 * from `choose` (step id -> option id), steps in `skip` skipped with their
 * reason, change steps backed up first and confirmed, everything else run.
 * Stops at the end or at `stopAt`. Every step must pass (or be skipped),
 * except a check whose failure the playbook routes on (`onFail`): those are
 * listed in `routed`.
 */
export async function walkSession(
  service: SessionService,
  sessionId: string,
  opts: WalkOptions = {},
): Promise<{ state: SessionState; walked: string[]; routed: string[] }> {
  let s = await service.get(sessionId);
  const pb = playbookById(s.playbookId)!;
  const walked: string[] = [];
  const routed: string[] = [];
  while (s.current && s.current !== opts.stopAt) {
    const stepId = s.current;
    const step = pb.steps.find((x) => x.id === stepId)!;
    walked.push(stepId);
    const skipReason = opts.skip?.[stepId];
    if (skipReason !== undefined) {
      s = await service.skip(sessionId, stepId, skipReason);
    } else if (step.kind === 'decision') {
      const option = opts.choose?.[stepId];
      if (!option) throw new Error(`walkSession: no choice given for decision ${stepId}`);
      s = await service.choose(sessionId, stepId, option);
    } else if (step.kind === 'change') {
      await opts.beforeBackup?.(stepId);
      const b = await service.prepareChange(sessionId, stepId);
      if (!/^[0-9a-f]{64}$/.test(b.sha256)) throw new Error(`walkSession: ${stepId} backup has no SHA-256`);
      await opts.afterBackup?.(stepId, b);
      s = await service.run(sessionId, stepId, { confirm: { by: 'test' } });
    } else {
      s = await service.run(sessionId, stepId);
    }
    const status = s.status[stepId];
    if (status === 'failed' && step.onFail && s.current === step.onFail) {
      routed.push(stepId);
      continue;
    }
    if (status !== (skipReason !== undefined ? 'skipped' : 'passed')) {
      const last = s.events.filter((e) => 'stepId' in e && e.stepId === stepId).slice(-3);
      throw new Error(`walkSession: ${pb.id}/${stepId} ended ${status}: ${JSON.stringify(last)}`);
    }
  }
  return { state: s, walked, routed };
}
