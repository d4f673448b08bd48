/**
 * etcd in a StatefulSet (a Helm chart, an operator), seen from the node: the
 * kubelet keeps each pod's volumes under /var/lib/kubelet/pods/<uid>/volumes/
 * <plugin>/<volume>/, one of them holds etcd's member/ directory; the pod's
 * namespace and name are in its log directory /var/log/pods/<ns>_<pod>_<uid>;
 * a running etcd's environment (ETCD_NAME, ETCD_DATA_DIR) is in
 * /proc/<pid>/environ. Such a member is restored through the StatefulSet
 * (scale to 0, restore into the volume, scale back), not through a unit.
 * Pure: probe commands and parsers, bounded.
 */
import type { StatefulSetMember } from '../contract/node';
import { quoteIfNeeded } from './shell';

const MAX_LINES = 2000;

export const POD_VOLUME_MEMBERS_COMMAND =
  'find /var/lib/kubelet/pods -mindepth 4 -maxdepth 8 -type d -name member -path "*/volumes/*" 2>/dev/null | head -n 20';
export const POD_LOG_DIRS_COMMAND = 'ls -1 /var/log/pods 2>/dev/null | head -n 1000';

/** The environment of running etcd processes, ETCD_* and the pod's own name variables only. */
export function etcdEnvironCommand(pids: readonly number[]): string {
  const list = pids.slice(0, 8).join(' ');
  return `for p in ${list}; do echo "### $p"; tr '\\0' '\\n' < /proc/$p/environ 2>/dev/null | grep -E '^(ETCD_[A-Z0-9_]{1,60}|HOSTNAME|MY_POD_NAME|POD_NAME)=' | head -n 100; done; true`;
}

export interface PodVolumeMember {
  podUid: string;
  plugin: string;
  volume: string;
  /** The dir holding member/ on this node. */
  dataDir: string;
}

/** Lines of `POD_VOLUME_MEMBERS_COMMAND`: `/var/lib/kubelet/pods/<uid>/volumes/<plugin>/<volume>/.../member`. */
export function parsePodVolumeMembers(text: string): PodVolumeMember[] {
  const out: PodVolumeMember[] = [];
  for (const line of text.split('\n').slice(0, MAX_LINES)) {
    const m = /^\/var\/lib\/kubelet\/pods\/([0-9a-fA-F-]{8,64})\/volumes\/([^/\s]{1,253})\/([^/\s]{1,253})((?:\/[^/]{1,253}){0,4})\/member$/.exec(line.trim());
    if (!m) continue;
    out.push({ podUid: m[1]!, plugin: m[2]!, volume: m[3]!, dataDir: line.trim().slice(0, -'/member'.length) });
  }
  return out;
}

/** `ls /var/log/pods`: `<namespace>_<pod>_<uid>` -> uid -> (namespace, pod). */
export function parsePodLogDirs(text: string): Map<string, { namespace: string; pod: string }> {
  const out = new Map<string, { namespace: string; pod: string }>();
  for (const line of text.split('\n').slice(0, MAX_LINES)) {
    // Namespaces and pod names are DNS labels/subdomains: no underscores, so the split is unambiguous.
    const m = /^([a-z0-9][a-z0-9-]{0,62})_([a-z0-9][a-z0-9.-]{0,252})_([0-9a-fA-F-]{8,64})$/.exec(line.trim());
    if (m) out.set(m[3]!, { namespace: m[1]!, pod: m[2]! });
  }
  return out;
}

/** `etcdEnvironCommand` output: pid -> variables. */
export function parseEnvirons(text: string): Map<number, Record<string, string>> {
  const out = new Map<number, Record<string, string>>();
  let cur: Record<string, string> | null = null;
  for (const line of text.split('\n').slice(0, MAX_LINES)) {
    const h = /^### (\d{1,10})$/.exec(line);
    if (h) {
      cur = {};
      out.set(Number(h[1]), cur);
      continue;
    }
    const kv = /^([A-Z_][A-Z0-9_]{0,63})=(.{0,4096})$/.exec(line);
    if (kv && cur) cur[kv[1]!] = kv[2]!;
  }
  return out;
}

/** The StatefulSet a pod belongs to, by the `<name>-<ordinal>` pod naming StatefulSets use. */
export function statefulSetOf(pod: string): { name: string; ordinal: number } | null {
  const m = /^(.{1,250})-(\d{1,6})$/.exec(pod);
  return m ? { name: m[1]!, ordinal: Number(m[2]) } : null;
}

/** The restore for a StatefulSet member, in order, with this node's paths (commands an operator runs; nothing here runs them). */
export function statefulSetRestoreSteps(s: {
  name: string;
  namespace: string | null;
  memberName: string;
  volumeDir: string;
  snapshot: string | null;
}): string[] {
  const ns = s.namespace ? `-n ${quoteIfNeeded(s.namespace)} ` : '';
  const snap = s.snapshot ? quoteIfNeeded(s.snapshot) : 'SNAPSHOT.db';
  const dir = quoteIfNeeded(s.volumeDir);
  return [
    `kubectl ${ns}get statefulset ${quoteIfNeeded(s.name)} -o jsonpath='{.spec.replicas}'   # note the replica count`,
    `kubectl ${ns}scale statefulset ${quoteIfNeeded(s.name)} --replicas=0   # every member stops; the PVCs stay`,
    `mv ${dir}/member ${quoteIfNeeded(`${s.volumeDir}/member.lifeboat-aside`)}   # on this node, in the volume: moved aside, not deleted`,
    `ETCDCTL_API=3 etcdctl snapshot restore ${snap} --data-dir ${quoteIfNeeded(`${s.volumeDir}/restore.lifeboat`)} --name ${quoteIfNeeded(s.memberName)} --initial-cluster <every member's name=peer URL> --initial-cluster-token <the chart's token> --initial-advertise-peer-urls <this member's peer URL>`,
    `mv ${quoteIfNeeded(`${s.volumeDir}/restore.lifeboat/member`)} ${dir}/member && chown -R --reference=${quoteIfNeeded(`${s.volumeDir}/member.lifeboat-aside`)} ${dir}/member`,
    '# the same restore for every member of the StatefulSet (its own --name and peer URL), from the same snapshot',
    `kubectl ${ns}scale statefulset ${quoteIfNeeded(s.name)} --replicas=<the count noted above>`,
  ];
}

export function statefulSetMember(
  v: PodVolumeMember,
  pod: { namespace: string; pod: string } | undefined,
  memberName: string,
  snapshot: string | null,
): StatefulSetMember {
  const sts = pod ? statefulSetOf(pod.pod) : null;
  const name = sts?.name ?? pod?.pod ?? 'etcd';
  return {
    name,
    namespace: pod?.namespace ?? null,
    pod: pod?.pod ?? null,
    ordinal: sts?.ordinal ?? null,
    podUid: v.podUid,
    volumeDir: v.dataDir,
    volume: v.volume,
    restoreSteps: statefulSetRestoreSteps({ name, namespace: pod?.namespace ?? null, memberName, volumeDir: v.dataDir, snapshot }),
  };
}
