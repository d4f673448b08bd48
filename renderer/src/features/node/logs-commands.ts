/**
 * The read-only commands the node "Logs" panel runs, built here so the exact
 * text is on screen before it runs (and is what the session log records).
 * Every command bounds its own output (`-n 2000`, `--tail 2000`); the back
 * end caps what it collects besides. Pure functions (tested in Node).
 */
import { quoteIfNeeded } from './commands';
import { inKindContainer } from '../../../../shared/node/kind';

/** Lines asked of every log command. */
export const LOG_LINES = 2000;

export type LogPresetId =
  'microk8s-dqlite' | 'microk8s-kubelite' | 'kubelet' | 'etcd-systemd' | 'k3s' | 'rke2' | 'crictl' | 'kubectl' | 'kind-etcd' | 'docker' | 'file';

/** What a preset needs before its command is complete: nothing, a container/pod picked from a listing, or a path. */
export type LogPresetInput = 'none' | 'pick' | 'path';

export interface LogPreset {
  id: LogPresetId;
  /** Which installs it is for (grouping in the panel). */
  group: 'microk8s' | 'kubeadm' | 'kind' | 'k3s' | 'other';
  input: LogPresetInput;
}

export const LOG_PRESETS: readonly LogPreset[] = [
  { id: 'microk8s-dqlite', group: 'microk8s', input: 'none' },
  { id: 'microk8s-kubelite', group: 'microk8s', input: 'none' },
  { id: 'kubelet', group: 'kubeadm', input: 'none' },
  { id: 'crictl', group: 'kubeadm', input: 'pick' },
  { id: 'kubectl', group: 'kubeadm', input: 'pick' },
  { id: 'kind-etcd', group: 'kind', input: 'pick' },
  // k3s and RKE2 run etcd inside their server: its lines (and panics) are in the server's journal.
  { id: 'k3s', group: 'k3s', input: 'none' },
  { id: 'rke2', group: 'k3s', input: 'none' },
  { id: 'etcd-systemd', group: 'other', input: 'none' },
  { id: 'docker', group: 'other', input: 'pick' },
  { id: 'file', group: 'other', input: 'path' },
];

/** `journalctl` for one systemd unit: the last LOG_LINES lines, ISO times (with the zone). */
export function journalCommand(unit: string): string {
  return `journalctl -u ${quoteIfNeeded(unit)} -n ${LOG_LINES} --no-pager -o short-iso`;
}

/** The journal units behind the presets that need no input. */
export const JOURNAL_UNITS: Readonly<Partial<Record<LogPresetId, string>>> = {
  'microk8s-dqlite': 'snap.microk8s.daemon-k8s-dqlite',
  'microk8s-kubelite': 'snap.microk8s.daemon-kubelite',
  kubelet: 'kubelet',
  'etcd-systemd': 'etcd',
  k3s: 'k3s',
  rke2: 'rke2-server',
};

/** Listing commands for the presets where the user picks a container or pod. */
export const LIST_COMMANDS: Readonly<Partial<Record<LogPresetId, string>>> = {
  crictl: 'crictl ps -a',
  kubectl: 'kubectl -n kube-system get pods -o name',
  // kind's control-plane node containers on this Docker host (etcd runs inside each, under its containerd).
  'kind-etcd': `docker ps -a --filter label=io.x-k8s.kind.role=control-plane --format '{{.ID}} {{.Names}} {{.Status}}'`,
  docker: `docker ps -a --format '{{.ID}} {{.Names}} {{.Status}}'`,
};

/** A container or pod offered after a listing. */
export interface PickRow {
  /** What goes into the logs command (container id, pod name, container name). */
  ref: string;
  name: string;
  detail: string;
  /** etcd or kube-apiserver: the ones a datastore recovery needs first. */
  relevant: boolean;
}

const RELEVANT = /etcd|kube-apiserver|k8s-dqlite/i;

/** The logs command for a preset, or null while its input is missing or unusable. */
export function logCommand(preset: LogPresetId, input = ''): string | null {
  const unit = JOURNAL_UNITS[preset];
  if (unit) return journalCommand(unit);
  const value = input.trim();
  // eslint-disable-next-line no-control-regex -- a control character in a unit name is refused
  if (value === '' || /[\u0000-\u001f\u007f]/.test(value)) return null;
  switch (preset) {
    // Container logs are the container's stdout AND stderr (etcd and klog write to stderr): keep both, in order.
    case 'crictl':
      return `crictl logs --tail ${LOG_LINES} ${quoteIfNeeded(value)} 2>&1`;
    case 'docker':
      return `docker logs --tail ${LOG_LINES} ${quoteIfNeeded(value)} 2>&1`;
    // etcd's container inside a kind node (kind's nodes run no sshd: from the Docker host, through docker exec).
    case 'kind-etcd':
      return inKindContainer(value, `crictl logs --tail ${LOG_LINES} "$(crictl ps -a --name etcd -q | head -n 1)" 2>&1`);
    case 'kubectl':
      return `kubectl -n kube-system logs --tail ${LOG_LINES} ${quoteIfNeeded(value.replace(/^pod\//, ''))}`;
    case 'file':
      return value.startsWith('/') ? `tail -n ${LOG_LINES} -- ${quoteIfNeeded(value)}` : null;
    default:
      return null;
  }
}

/**
 * `crictl ps -a`: a tabwriter table whose CREATED column has spaces ("2
 * hours ago"), so columns are cut at the header's positions, not at blanks.
 */
export function parseCrictlPs(stdout: string): PickRow[] {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const header = lines.findIndex((l) => /^CONTAINER\s/.test(l));
  if (header < 0) return [];
  const head = lines[header];
  const cols = [...head.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], at: m.index ?? 0 }));
  const col = (line: string, name: string): string => {
    const i = cols.findIndex((c) => c.name === name);
    if (i < 0) return '';
    // Cells are padded with at least two blanks: when the count agrees, split on them (robust to odd widths).
    const cells = line.trim().split(/\s{2,}/);
    if (cells.length === cols.length) return cells[i];
    const end = i + 1 < cols.length ? cols[i + 1].at : line.length;
    return line.slice(cols[i].at, end).trim();
  };
  const rows: PickRow[] = [];
  for (const line of lines.slice(header + 1)) {
    const id = col(line, 'CONTAINER') || line.trim().split(/\s+/)[0];
    if (!/^[0-9a-f]{6,64}$/i.test(id)) continue;
    const name = col(line, 'NAME');
    const state = col(line, 'STATE');
    const pod = col(line, 'POD');
    const attempt = col(line, 'ATTEMPT');
    rows.push({
      ref: id,
      name: name || id,
      detail: [state, pod && `pod ${pod}`, attempt && `attempt ${attempt}`, col(line, 'CREATED')].filter(Boolean).join(' · '),
      relevant: RELEVANT.test(name),
    });
  }
  return sortRelevantFirst(rows);
}

/** `docker ps -a --format '{{.ID}} {{.Names}} {{.Status}}'`. */
export function parseDockerPs(stdout: string): PickRow[] {
  const rows: PickRow[] = [];
  for (const line of stdout.split('\n')) {
    const t = line.trim();
    // No `(.*)$` after the name: with a character `.` does not match (U+2028) in the status, the regex tried every
    // shorter name against the rest of the line, quadratic in its length (fuzzed: 0.7 s for a 100 KB line).
    const m = /^([0-9a-f]{6,64})\s+(\S+)/i.exec(t);
    if (!m) continue;
    const status = t.slice(m[0].length).trim();
    rows.push({ ref: m[2], name: m[2], detail: `${m[1].slice(0, 12)} · ${status}`.trim(), relevant: RELEVANT.test(m[2]) });
  }
  return sortRelevantFirst(rows);
}

/** `kubectl get pods -o name`: `pod/etcd-node1` per line. */
export function parseKubectlPods(stdout: string): PickRow[] {
  const rows: PickRow[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^pod\/([a-z0-9.-]{1,253})$/i.exec(line.trim());
    if (m) rows.push({ ref: m[1], name: m[1], detail: 'kube-system', relevant: RELEVANT.test(m[1]) });
  }
  return sortRelevantFirst(rows);
}

export function parsePickList(preset: LogPresetId, stdout: string): PickRow[] {
  if (preset === 'crictl') return parseCrictlPs(stdout);
  if (preset === 'docker') return parseDockerPs(stdout);
  // Every row is a control plane, whose etcd is what the preset reads.
  if (preset === 'kind-etcd') return parseDockerPs(stdout).map((r) => ({ ...r, relevant: true }));
  if (preset === 'kubectl') return parseKubectlPods(stdout);
  return [];
}

function sortRelevantFirst(rows: PickRow[]): PickRow[] {
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => Number(b.r.relevant) - Number(a.r.relevant) || a.i - b.i)
    .map((x) => x.r);
}

/** A fetched source is named after the command that produced it (and the node it ran on). */
export function logSourceName(nodeLabel: string, command: string): string {
  return `${nodeLabel}: ${command}`;
}
