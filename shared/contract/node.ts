/**
 * The node card: what read-only probes over SSH found out about a node's
 * control-plane datastore (what runs, how it is managed, where the data
 * lives, which backups exist and which is the newest good one). Produced by
 * `shared/node/detect.ts`, printed by `lifeboat detect`, shown in the app
 * and used by the guided sessions. Fields may be added, not renamed.
 */

import type { LocalText } from './text';

export type DatastoreEngine = 'etcd' | 'dqlite' | 'sqlite';

export type ManagedBy =
  | 'systemd' // a unit file starts etcd (KubeKey, kubespray, hand-made)
  | 'static-pod' // kubeadm: /etc/kubernetes/manifests/etcd.yaml
  | 'snap' // MicroK8s: snap.microk8s.daemon-k8s-dqlite
  | 'k3s' // k3s server (sqlite state.db or embedded etcd)
  | 'rke2' // RKE2 server (embedded etcd)
  | 'kind' // a kind node container
  | 'statefulset' // etcd in a StatefulSet (member name from the pod, data on a volume)
  | 'unknown';

/** One command the detector ran, exactly as shown to the operator and kept in the record. */
export interface ProbeRecord {
  id: string;
  command: string;
  sudo: boolean;
  code: number | null;
  /** Output as read (bounded; `truncated` when cut). */
  stdout: string;
  stderr: string;
  truncated: boolean;
  /** ms since epoch on this machine. */
  at: number;
}

export interface BackupFile {
  path: string;
  bytes: number;
  /** Modification time on the node, ISO 8601 UTC. */
  mtime: string;
  /**
   * A restorable `etcdctl snapshot save` file: SHA-256 trailer present and
   * matching, and a valid bbolt meta page. null when not checked.
   */
  valid: boolean | null;
  /** In English; `problemText` is the same sentence for the UI's language. */
  problem?: string;
  problemText?: LocalText;
  /** What found it: the cron entry / timer / script that writes there, or `search`. */
  foundBy: string;
  /**
   * Compressed with this tool (`gzip snapshot.db`, or a k3s/RKE2 `--etcd-snapshot-compress` zip): `valid` is what
   * its decompressed bytes say, read through the tool on the node (a zip with `unzip`, else Python's zipfile).
   * `etcdctl snapshot restore` takes only the decompressed file, so such a backup is never the newest good one of
   * an etcd restored with etcdctl; `decompressCommand` writes it beside itself as `decompressedPath` (never over a
   * file, readable by root only) for detection to find. k3s and RKE2 restore their zips as they are.
   */
  compressed?: 'gzip' | 'bzip2' | 'xz' | 'zstd' | 'zip';
  decompressCommand?: string;
  decompressedPath?: string;
}

/** A scheduled job that takes backups. */
export interface BackupJob {
  kind: 'cron' | 'timer' | 'cron-dir';
  /** Crontab file, timer unit or script path. */
  where: string;
  /** Cron schedule (`*\/30 * * * *`), `@daily`, or the timer's OnCalendar; '' when unknown. */
  schedule: string;
  /** The command as written. */
  command: string;
  /** Scripts the command runs (read by the detector). */
  scripts: string[];
  /** Directories the job writes snapshots to, as far as the detector could resolve them. */
  targetDirs: string[];
  /** The `etcdctl ... snapshot save` line that takes the backup, when found. */
  saveCommand: string | null;
}

export interface DetectedDatastore {
  engine: DatastoreEngine;
  managedBy: ManagedBy;
  /** The data directory on the node (etcd: the dir holding member/; dqlite: the backend dir). */
  dataDir: string | null;
  walDir?: string;
  /** systemd unit name, e.g. `etcd.service`. */
  unit?: string;
  /** EnvironmentFile of that unit, e.g. `/etc/etcd.env`. */
  envFile?: string;
  /** Static pod manifest, e.g. `/etc/kubernetes/manifests/etcd.yaml`. */
  manifest?: string;
  /** etcd member name (`--name` / ETCD_NAME). */
  memberName?: string;
  /** Effective etcd settings (flag name without dashes -> value) from ExecStart, the env file and the manifest. */
  settings?: Record<string, string>;
  /** Running now, as far as the probes can tell (null: unknown). */
  running: boolean | null;
  backups: BackupFile[];
  backupJobs: BackupJob[];
  /** Path of the newest backup that is valid, or null. */
  newestGoodBackup: string | null;
  /**
   * The restore planner's plan from the newest valid backup, when the datastore needs one. `text`: what the commands
   * do, where no playbook runs them (k3s and RKE2 restore with their own reset).
   */
  restore?: { from: string; commands: string[]; text?: LocalText };
  /** How each fact was established (one short line per fact, e.g. `ExecStart in /etc/systemd/system/etcd.service`). */
  evidence: string[];
  /** etcd: the node's addresses now against the peer URLs etcd is configured with and has stored (kind after a Docker restart). */
  peerCheck?: PeerAddressCheck;
  /** etcd in a StatefulSet: which pod, which volume, and how a restore goes (through the StatefulSet, not a unit). */
  statefulSet?: StatefulSetMember;
}

/** A peer URL and whether the node has its address now. */
export interface PeerUrlOnNode {
  /** Where it was read: a manifest flag (`--initial-advertise-peer-urls`), `member <name>` from etcd's member records. */
  source: string;
  url: string;
  host: string;
  /** The node has this address on an interface now (wildcards and loopback count as on the node). */
  onNode: boolean;
}

export interface PeerAddressCheck {
  /** Addresses on the node's interfaces now (`ip -o addr`). */
  nodeAddresses: string[];
  urls: PeerUrlOnNode[];
  /** Members as etcd stores them: `etcdctl member list`, or the member records read in place from member/snap/db. */
  members: { id: string; name: string; peerUrls: string[] }[];
  membersFrom: 'etcdctl member list' | 'member/snap/db' | null;
  /** mismatch: etcd is configured or registered at an address this node no longer has. */
  verdict: 'match' | 'mismatch' | 'unknown';
  /** In plain words, with what to do next. */
  explanation: string;
}

export interface StatefulSetMember {
  /** The StatefulSet's name (the pod name without its ordinal), its namespace, the pod and its ordinal. */
  name: string;
  namespace: string | null;
  pod: string | null;
  ordinal: number | null;
  podUid: string;
  /** The kubelet's volume dir holding member/ (what the PVC is mounted from on this node). */
  volumeDir: string;
  /** The volume's name as the kubelet keeps it (often the PV name, `pvc-...`). */
  volume: string;
  /** The restore, in order: through the StatefulSet (scale to 0, restore into the volume, scale back), not through systemd. */
  restoreSteps: string[];
}

/** A kind node container as `docker inspect` shows it on the Docker host. */
export interface KindNodeContainer {
  name: string;
  cluster: string | null;
  role: string | null;
  state: string | null;
  /** Network name -> current IPv4 address. */
  addresses: Record<string, string>;
  /**
   * A running control-plane container's etcd, read inside it through `docker exec` (read-only): the manifest's peer
   * URLs and the member records in its db against the address Docker gave the container now. Absent: not read.
   */
  peerCheck?: PeerAddressCheck;
}

export interface NodeCard {
  /** `user@host:port` as connected. */
  target: string;
  hostname: string | null;
  kernel: string | null;
  os: string | null;
  /** The node's clock (ISO 8601) and its offset from this machine in seconds. */
  time: string | null;
  clockSkewSeconds: number | null;
  addresses: string[];
  /** Free space where the data lives. */
  disk: { path: string; availableBytes: number; sizeBytes: number; usePercent: number }[];
  /** Tool versions found on the node (null when absent). */
  tools: Record<string, string | null>;
  datastores: DetectedDatastore[];
  /** Were probes run through sudo? */
  sudo: boolean;
  probes: ProbeRecord[];
  /** Things the detector could not read (permission denied without sudo, ...), in plain words. */
  gaps: string[];
  /** `gaps` one for one as catalog sentences, for the UI's language. */
  gapTexts?: LocalText[];
  /**
   * What is wrong on the node as found, before any step (etcd configured both as a systemd unit and as a static
   * pod): catalog sentences, shown above the datastores; the CLI prints them in English.
   */
  warnings?: LocalText[];
  /** On a Docker host: the kind node containers and their current addresses (`docker inspect`). */
  kindContainers?: KindNodeContainer[];
}
