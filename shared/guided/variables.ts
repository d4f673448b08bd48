/**
 * A session's starting variables from the node card: where the data is, how
 * etcd is configured (flags from ExecStart, the EnvironmentFile or the static
 * pod), the TLS flags etcdctl needs, the newest good backup and a newer compressed one. What cannot
 * be found stays unset, and the steps that need it say so before they run.
 */
import type { DetectedDatastore } from '../contract/node';
import type { RepairPlan } from '../contract/dqlite';
import { newerCompressedBackup } from '../node/backup-check';

/** The first URL of a comma-separated list. */
function firstUrl(list: string | undefined): string | undefined {
  return list
    ?.split(',')
    .map((s) => s.trim())
    .find(Boolean);
}

/** etcdctl's TLS flags from the member's own settings (client cert pair and CA), as kubeadm and KubeKey configure them. */
export function etcdctlTlsFlags(settings: Record<string, string>): string {
  const ca = settings['trusted-ca-file'];
  const cert = settings['cert-file'];
  const key = settings['key-file'];
  const parts: string[] = [];
  if (ca) parts.push(`--cacert=${ca}`);
  if (cert) parts.push(`--cert=${cert}`);
  if (key) parts.push(`--key=${key}`);
  return parts.join(' ');
}

export function variablesFromDatastore(d: DetectedDatastore, now: Date = new Date()): Record<string, string> {
  const s = d.settings ?? {};
  const vars: Record<string, string> = {};
  const set = (k: string, v: string | null | undefined) => {
    if (v !== undefined && v !== null && v !== '') vars[k] = v;
  };
  set('dataDir', d.dataDir);
  set('unit', d.unit);
  set('envFile', d.envFile);
  set('manifest', d.manifest);
  set('memberName', d.memberName ?? s.name);
  set('initialCluster', s['initial-cluster']);
  set('initialClusterToken', s['initial-cluster-token'] ?? 'etcd-cluster');
  set('initialAdvertisePeerUrls', s['initial-advertise-peer-urls']);
  // etcdctl talks to the member's own client URL; a wildcard listen address is no place to connect to.
  set('endpoint', firstUrl(s['advertise-client-urls']) ?? firstUrl(s['listen-client-urls'])?.replace('0.0.0.0', '127.0.0.1'));
  vars.etcdctlTls = etcdctlTlsFlags(s);
  set('backup', d.newestGoodBackup);
  // A later backup etcdctl cannot take as it is: the restore playbooks decompress it first, then restore from it.
  const newer = newerCompressedBackup(d.backups, d.newestGoodBackup);
  if (newer?.decompressCommand && newer.decompressedPath) {
    set('compressedBackup', newer.path);
    set('decompressedBackup', newer.decompressedPath);
    set('decompressBackupCommand', newer.decompressCommand);
  }
  vars.stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return vars;
}

/**
 * A command line with the `sudo ` that opens each of its simple commands
 * taken out (only where a command starts: at the beginning, after `&&`, `||`,
 * `;` or `|`, outside quotes). The repair plan is written for an operator's
 * shell, one `sudo` per command; a guided step runs its whole command through
 * sudo once, and what it shows must be what runs.
 */
export function withoutLeadingSudo(command: string): string {
  let out = '';
  let quote: "'" | '"' | null = null;
  let atCommandStart = true;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote) {
      out += c;
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < command.length) out += command[++i]!;
      continue;
    }
    if (atCommandStart && c !== ' ') {
      atCommandStart = false;
      if (command.startsWith('sudo ', i)) {
        i += 'sudo '.length - 1;
        atCommandStart = true;
        continue;
      }
    }
    out += c;
    if (c === "'" || c === '"') quote = c;
    else if (c === '\\' && i + 1 < command.length) out += command[++i]!;
    else if (c === '&' || c === '|' || c === ';') atCommandStart = true;
  }
  return out;
}

/**
 * The file operations of a dqlite repair plan (quarantine, truncate, write)
 * as one command line for the playbook's quarantine step; stop, backup and
 * start are steps of their own there. The step runs through sudo, so the
 * plan's own `sudo` before each command is left out. Empty when the plan
 * changes no file.
 */
/**
 * The log entries the repair plan gives up for real (lost ranges no snapshot covers), as index ranges a sentence in
 * either language can hold (`1201-1300, 1410`), or `0` when it gives up none: the MicroK8s playbook's choice
 * between the quarantine and the fresh backend names them.
 */
export function dqliteRepairLost(plan: RepairPlan | undefined): string {
  const lost = (plan?.lost ?? []).filter((r) => !r.coveredBySnapshot);
  if (lost.length === 0) return '0';
  const shown = lost.slice(0, 8).map((r) => (r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`));
  return lost.length > 8 ? `${shown.join(', ')}, +${lost.length - 8}` : shown.join(', ');
}

export function dqliteRepairCommands(plan: RepairPlan | undefined): string {
  if (!plan) return '';
  const ops = plan.steps.filter((s) => s.kind === 'quarantine' || s.kind === 'truncate-rename' || s.kind === 'write');
  return ops.map((s) => withoutLeadingSudo(s.command)).join(' && ');
}
