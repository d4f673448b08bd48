/**
 * kind after a Docker restart (field report 3): Docker gives the node
 * containers new addresses, but etcd keeps the peer URLs it was started with
 * (the static pod manifest's --initial-advertise-peer-urls / --listen-peer-urls)
 * and the ones it registered (its member records), so it cannot bind or reach
 * its peers. This module builds the read-only probes and compares what a node
 * shows: its addresses (`ip -o addr`), the manifest's flags, the members from
 * `etcdctl member list` or, with etcd down, the member records read in place
 * from member/snap/db. On the Docker host it reads `docker inspect` JSON, and
 * since kind's node containers run no sshd, it also says how a command gets
 * inside one from there (`docker exec`): the container as a node of its own,
 * and an upload's last hop (`docker cp`). Pure; every parser is bounded.
 */
import type { KindNodeContainer, PeerAddressCheck, PeerUrlOnNode } from '../contract/node';
import type { NodeExecutor } from './executor';
import { quoteAlways, quoteIfNeeded } from './shell';
import { stripTrailingSlashes } from '../text/trailing-slashes';

const MAX_TEXT = 4 * 1024 * 1024;
const MAX_MEMBERS = 64;

/** One address per line of `ip -o addr` (`2: eth0    inet 172.18.0.3/16 brd ... scope global eth0`). */
export function parseIpOAddr(text: string): { iface: string; address: string }[] {
  const out: { iface: string; address: string }[] = [];
  for (const line of text.slice(0, MAX_TEXT).split('\n').slice(0, 4096)) {
    const m = /^\d+:\s+(\S+)\s+inet6?\s+([0-9A-Fa-f.:]{2,45})\/\d{1,3}\b/.exec(line);
    if (m) out.push({ iface: m[1]!.replace(/@.*$/, ''), address: m[2]!.toLowerCase() });
  }
  return out;
}

/** The host of an `http(s)://host:port` URL (IPv6 without brackets), or null. */
export function hostOfUrl(url: string): string | null {
  const m = /^[a-z][a-z0-9+.-]{0,15}:\/\/(\[[0-9A-Fa-f:.]{2,45}\]|[^/:\s]{1,253})(?::\d{1,5})?(?:\/|$)/.exec(url.trim());
  return m ? m[1]!.replace(/^\[|\]$/g, '').toLowerCase() : null;
}

function isLocalHost(host: string, nodeAddresses: readonly string[]): boolean {
  if (host === 'localhost' || host === '0.0.0.0' || host === '::' || host === '::1' || /^127\./.test(host)) return true;
  return nodeAddresses.includes(host);
}

/** The read-only command that prints the member records etcd keeps in its bbolt db (members bucket values are JSON). */
export function dbMemberRecordsCommand(dataDir: string): string {
  const db = quoteIfNeeded(`${stripTrailingSlashes(dataDir)}/member/snap/db`);
  // Bounded repetitions only: grep's DFA stays linear on a binary file of any size; `timeout` bounds a huge db.
  return `timeout 30 grep -a -o -E '"id":[0-9]{1,20},"peerURLs":\\[[^]]{0,1024}\\](,"isLearner":(true|false))?(,"name":"[^"]{0,253}")?' -- ${db} | sort -u | head -n ${MAX_MEMBERS}`;
}

/** Member records from `dbMemberRecordsCommand` output: id (hex, as etcdctl prints it), name, peer URLs. */
export function parseDbMemberRecords(text: string): { id: string; name: string; peerUrls: string[] }[] {
  const out: { id: string; name: string; peerUrls: string[] }[] = [];
  for (const line of text.slice(0, MAX_TEXT).split('\n').slice(0, MAX_MEMBERS)) {
    const m = /^"id":(\d{1,20}),"peerURLs":\[([^\]]{0,1024})\](?:,"isLearner":(?:true|false))?(?:,"name":"([^"]{0,253})")?$/.exec(line.trim());
    if (!m) continue;
    const peerUrls = [...m[2]!.matchAll(/"([^"]{1,512})"/g)].map((x) => x[1]!);
    let id: string;
    try {
      id = BigInt(m[1]!).toString(16);
    } catch {
      continue;
    }
    out.push({ id, name: m[3] ?? '', peerUrls });
  }
  return out;
}

/** `etcdctl member list -w json`: `{"members":[{"ID":123,"name":"n1","peerURLs":[...]}]}` (IDs as numbers: read from the text, not as doubles). */
export function parseMemberListJson(text: string): { id: string; name: string; peerUrls: string[] }[] | null {
  if (text.length > MAX_TEXT) return null;
  let doc: unknown;
  try {
    // JSON numbers past 2^53 lose digits: quote the IDs first.
    doc = JSON.parse(text.replace(/"ID":(\d{1,20})/g, '"ID":"$1"'));
  } catch {
    return null;
  }
  const members = (doc as { members?: unknown } | null)?.members;
  if (!Array.isArray(members)) return null;
  return members.slice(0, MAX_MEMBERS).flatMap((m: unknown) => {
    const x = (typeof m === 'object' && m !== null ? m : {}) as { ID?: unknown; name?: unknown; peerURLs?: unknown };
    if (typeof x.ID !== 'string') return [];
    let id: string;
    try {
      id = BigInt(x.ID).toString(16);
    } catch {
      return [];
    }
    const peerUrls = Array.isArray(x.peerURLs) ? x.peerURLs.filter((u): u is string => typeof u === 'string').slice(0, 16) : [];
    return [{ id, name: typeof x.name === 'string' ? x.name : '', peerUrls }];
  });
}

/** `KUBELET_KUBEADM_ARGS="--node-ip=... --provider-id=kind://docker/kind/kind-control-plane"` (kubeadm-flags.env). */
export function parseKubeletFlags(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const m = /^KUBELET_KUBEADM_ARGS="([^"\n]{0,8192})"/m.exec(text.slice(0, MAX_TEXT));
  for (const w of (m?.[1] ?? '').split(/\s+/).slice(0, 200)) {
    const f = /^--([a-z0-9-]{1,64})=(.*)$/.exec(w);
    if (f) out[f[1]!] = f[2]!;
  }
  return out;
}

/**
 * Compare the node's addresses with etcd's peer URLs (configured and stored).
 * `kind` words the mismatch as the kind-after-Docker-restart case.
 */
export function checkPeerAddresses(input: {
  nodeAddresses: readonly string[];
  configured: { flag: string; value: string | undefined }[];
  members: { id: string; name: string; peerUrls: string[] }[];
  membersFrom: PeerAddressCheck['membersFrom'];
  memberName: string | null;
  kind: boolean;
}): PeerAddressCheck {
  const urls: PeerUrlOnNode[] = [];
  const add = (source: string, url: string) => {
    const host = hostOfUrl(url);
    if (host) urls.push({ source, url, host, onNode: isLocalHost(host, input.nodeAddresses) });
  };
  for (const c of input.configured) {
    for (const u of (c.value ?? '').split(',').map((x) => x.trim())) {
      if (!u) continue;
      // --initial-cluster lists every member (name=url): only this member's own entry must be on this node.
      if (c.flag === 'initial-cluster') {
        const eq = u.indexOf('=');
        if (eq > 0 && (input.memberName === null || u.slice(0, eq) === input.memberName)) add(`--initial-cluster (${u.slice(0, eq)})`, u.slice(eq + 1));
      } else add(`--${c.flag}`, u);
    }
  }
  // This member's stored record (others live on other nodes and are not ours to check here).
  const mine = input.members.filter((m) => input.memberName !== null && m.name === input.memberName);
  for (const m of mine) for (const u of m.peerUrls) add(`member ${m.name} (${input.membersFrom ?? 'stored'})`, u);
  const missing = urls.filter((u) => !u.onNode);
  let verdict: PeerAddressCheck['verdict'];
  let explanation: string;
  if (urls.length === 0 || input.nodeAddresses.length === 0) {
    verdict = 'unknown';
    explanation = 'No peer URL or no node address could be read, so whether etcd still fits this node is unknown.';
  } else if (missing.length === 0) {
    verdict = 'match';
    explanation = `Every peer URL etcd uses is an address this node has (${[...new Set(urls.map((u) => u.host))].join(', ')}).`;
  } else {
    verdict = 'mismatch';
    const hosts = [...new Set(missing.map((u) => u.host))].join(', ');
    const where = [...new Set(missing.map((u) => u.source))].join('; ');
    explanation = input.kind
      ? `kind after a Docker restart: etcd is configured/registered at ${hosts} (${where}), but this node container now has ${input.nodeAddresses.join(', ')}. ` +
        'etcd cannot bind its old peer address and its peers are called at addresses nobody has. Follow the kind playbook: the evidence, then force a new cluster on the member with the newest data and update its peer URL.'
      : `etcd is configured/registered at ${hosts} (${where}), an address this node no longer has (it has ${input.nodeAddresses.join(', ')}). ` +
        'The node was re-addressed (DHCP, a moved VM): update the peer URL (member update) and the flags, or give the node its old address back.';
  }
  return { nodeAddresses: [...input.nodeAddresses], urls, members: input.members, membersFrom: input.membersFrom, verdict, explanation };
}

/**
 * `docker inspect` output (a JSON array of container objects) for kind's node
 * containers: name, cluster and role labels, state and the current address on
 * each network. Refuses more than 4 MiB or 500 containers; anything not shaped
 * like a container is skipped.
 */
export function parseDockerInspect(text: string): KindNodeContainer[] | null {
  if (text.length > MAX_TEXT) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(doc)) return null;
  const out: KindNodeContainer[] = [];
  for (const c of doc.slice(0, 500)) {
    if (typeof c !== 'object' || c === null) continue;
    const x = c as {
      Name?: unknown;
      Config?: { Labels?: unknown } | null;
      State?: { Status?: unknown } | null;
      NetworkSettings?: { Networks?: unknown } | null;
    };
    const labels = (typeof x.Config?.Labels === 'object' && x.Config.Labels !== null ? x.Config.Labels : {}) as Record<string, unknown>;
    const cluster = typeof labels['io.x-k8s.kind.cluster'] === 'string' ? labels['io.x-k8s.kind.cluster'] : null;
    if (cluster === null) continue;
    // Names go into commands (docker exec) and onto the card as a command to copy: Docker allows no other kind.
    const name = typeof x.Name === 'string' ? x.Name.replace(/^\//, '') : '';
    if (!isContainerName(name)) continue;
    const addresses: Record<string, string> = {};
    const nets = (typeof x.NetworkSettings?.Networks === 'object' && x.NetworkSettings.Networks !== null ? x.NetworkSettings.Networks : {}) as Record<
      string,
      unknown
    >;
    for (const [net, v] of Object.entries(nets).slice(0, 32)) {
      const ip = (v as { IPAddress?: unknown } | null)?.IPAddress;
      if (typeof ip === 'string' && ip !== '') addresses[net] = ip;
    }
    out.push({
      name,
      cluster,
      role: typeof labels['io.x-k8s.kind.role'] === 'string' ? labels['io.x-k8s.kind.role'] : null,
      state: typeof x.State?.Status === 'string' ? x.State.Status : null,
      addresses,
    });
  }
  return out;
}

/** How many kind control-plane containers detection reads inside (kind makes 1 or 3; a host may hold a few clusters). */
export const MAX_KIND_CONTAINERS_READ = 9;

/** A container name as Docker allows it ([a-zA-Z0-9][a-zA-Z0-9_.-]+): safe to put in a command unquoted. */
export function isContainerName(name: string): boolean {
  return /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/.test(name);
}

/**
 * `command` run inside kind node container `name` from the Docker host (`docker exec NAME sh -c '...'`), or null
 * when the name is not one Docker allows: the name comes from the node's own `docker inspect` output (or the page)
 * and is put in a command, so anything else is refused rather than quoted.
 */
export function inKindContainer(name: string, command: string): string | null {
  if (!isContainerName(name)) return null;
  return `docker exec ${name} sh -c ${quoteAlways(command)}`;
}

/**
 * A node that is a container on the Docker host `host` reaches: every command runs inside it through
 * `docker exec` (kind's node containers run no sshd). Inside, kind's node containers run everything as root, so
 * the node says its login is root (a step's "sudo" means nothing there); what needs root is Docker's socket on the
 * host, so every command goes through the host's sudo when `dockerThroughSudo` (not for a root login; without it
 * the login user must be in the docker group). A tagged command's tag is in the environment of what it starts
 * inside the container, where the stop's script, run the same way, looks for it.
 */
export function containerExecutor(host: NodeExecutor, name: string, dockerThroughSudo: boolean): NodeExecutor {
  if (!isContainerName(name)) throw new Error(`not a container name Docker allows: ${name.slice(0, 64)}`);
  return {
    run: async (command, opts) => {
      const sudo = dockerThroughSudo && !(await host.loginIsRoot?.());
      return host.run(inKindContainer(name, command)!, { ...opts, sudo });
    },
    loginIsRoot: async () => true,
  };
}

/** How a container node is named where a node is (`user@host:port › docker:NAME`): the journal, the report, the session list. */
export function containerNodeLabel(host: string, name: string): string {
  return `${host} › docker:${name}`;
}

/**
 * What puts `hostFile` (a temp copy on the Docker host) at `dest` inside container `name`, run on the host: docker cp
 * to a temp name inside, then there `mkdir -p`, never over an existing file (`test ! -e`: a silent exit 1), install
 * -m 0600 as root, and the temp inside removed whatever happened.
 */
export function copyIntoContainerCommand(name: string, hostFile: string, dest: string): string {
  if (!isContainerName(name)) throw new Error(`not a container name Docker allows: ${name.slice(0, 64)}`);
  const inTemp = `/tmp/lifeboat-upload-${hostFile
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(-48)}`;
  const dir = dest.slice(0, dest.lastIndexOf('/')) || '/';
  const q = quoteIfNeeded;
  const insideScript = `r=0; mkdir -p ${q(dir)} && test ! -e ${q(dest)} && install -m 0600 ${q(inTemp)} ${q(dest)} || r=$?; rm -f ${q(inTemp)}; exit $r`;
  return `docker cp ${q(hostFile)} ${name}:${q(inTemp)} && docker exec ${name} sh -c ${quoteAlways(insideScript)}`;
}
