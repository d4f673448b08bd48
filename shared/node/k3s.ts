/**
 * k3s and RKE2 servers with embedded etcd. Both run etcd inside their own
 * binary (no etcd unit, no manifest), keep its data in DATA_DIR/server/db/etcd
 * and take their own snapshots, in etcdctl's snapshot.db format (bbolt and
 * the SHA-256 trailer), into DATA_DIR/server/db/snapshots:
 * `etcd-snapshot-<node>-<unix time>` on a schedule (`0 *\/12 * * *` unless
 * set), `on-demand-<node>-<time>` from `k3s etcd-snapshot save`, with `.zip`
 * added when `--etcd-snapshot-compress` is set (a zip of that one file). Where they look is set by
 * `--data-dir` and `--etcd-snapshot-dir`, on the unit's ExecStart, in
 * /etc/rancher/<k3s|rke2>/config.yaml and its config.yaml.d/ drop-ins (the
 * server reads those files itself), or for the data dir K3S_DATA_DIR /
 * RKE2_DATA_DIR in the service's environment.
 *
 * They restore a snapshot themselves, not with `etcdctl snapshot restore`
 * (their restore also brings back their own bootstrap data): with the service
 * stopped, `k3s server --cluster-reset --cluster-reset-restore-path=FILE` moves
 * the old etcd dir aside (`etcd-old-<time>`, nothing deleted), starts a
 * one-member cluster from the file and exits; the service is then started as
 * usual. Other servers of the cluster are stopped first and their db dir moved
 * aside before they join again (k3s's and RKE2's documented procedure; their
 * docs delete it, Lifeboat keeps it).
 *
 * Pure: the unit's text and the config file's text in, the layout and the
 * commands out.
 */
import { parseBoundedYaml } from '../text/bounded-yaml';
import { flagsFromArgs, splitCommandLine } from '../formats/etcd/restore-plan';
import { quoteIfNeeded } from './shell';
import { stripTrailingSlashes } from '../text/trailing-slashes';

export type Distribution = 'k3s' | 'rke2';

interface DistributionDefaults {
  /** The server's systemd unit as the install script names it. */
  unit: string;
  /** The binary when no unit says where it is. */
  binary: string;
  dataDir: string;
  configFile: string;
}

export const DISTRIBUTIONS: Record<Distribution, DistributionDefaults> = {
  k3s: { unit: 'k3s.service', binary: 'k3s', dataDir: '/var/lib/rancher/k3s', configFile: '/etc/rancher/k3s/config.yaml' },
  rke2: { unit: 'rke2-server.service', binary: 'rke2', dataDir: '/var/lib/rancher/rke2', configFile: '/etc/rancher/rke2/config.yaml' },
};

/** Where one server keeps its embedded etcd and its snapshots, and the command line it runs as. */
export interface DistributionLayout {
  distribution: Distribution;
  /** `DATA_DIR/server/db`: the etcd dir, `state.db` (k3s with SQLite) and the default snapshot dir live here. */
  dbDir: string;
  snapshotDir: string;
  /** The server command without the service manager: the binary, `server`, and the unit's own arguments. */
  serverCommand: string[];
  /** Where each setting came from (one short line each), for the card's evidence. */
  evidence: string[];
}

/** Only these keys of config.yaml are read; the file is bounded before it is parsed. */
const CONFIG_BOUNDS = { maxBytes: 64 * 1024, maxDepth: 8, maxItems: 2_000, maxAliases: 0 };

/** The words of the last non-empty ExecStart= of a unit's text (continuation lines joined, quotes removed). */
function execStartWords(unitText: string): string[] {
  let words: string[] = [];
  for (const raw of unitText.replace(/\\\r?\n/g, ' ').split('\n')) {
    const m = /^\s*ExecStart\s*=\s*(.*)$/.exec(raw);
    if (m && m[1]!.trim() !== '') words = splitCommandLine(m[1]!.replace(/^[-@:+!]+/, ''));
  }
  return words;
}

/** The server command of a unit's ExecStart: its binary, the arguments after `server` and the flags they set. */
function serverCommandLine(unitText: string | null): { binary: string | undefined; args: string[] | null; flags: Record<string, string> } {
  const words = unitText ? execStartWords(unitText) : [];
  const serverAt = words.indexOf('server');
  const args = serverAt >= 0 ? words.slice(serverAt + 1) : null;
  return { binary: words[0], args, flags: args ? flagsFromArgs(args) : {} };
}

/** A string setting of config.yaml (`data-dir: /srv/k3s`), or null. */
function configValue(config: unknown, key: string): string | null {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) return null;
  const v = (config as Record<string, unknown>)[key];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

/** What else a server reads its settings from, beside its unit's ExecStart and config.yaml. */
export interface DistributionSettingsSources {
  /** The config file read (`distributionConfigFile`), when not the default; `configText` is its text. */
  configFile?: string;
  /**
   * `config.yaml.d/*.yaml` and `*.yml` (path and text), read after config.yaml in name order: a later file's value
   * wins over an earlier one's, as k3s merges them.
   */
  dropIns?: readonly { path: string; text: string }[];
  /**
   * The service's environment: its unit's `Environment=` and `EnvironmentFile=` assignments, each with where it was
   * set (`K3S_DATA_DIR` is `--data-dir`'s variable; RKE2's is `RKE2_DATA_DIR`).
   */
  environment?: ReadonlyMap<string, { value: string; from: string }>;
}

/** The environment variable a server takes `--data-dir` from when no flag or config file sets it. */
export function dataDirVariable(distribution: Distribution): string {
  return `${distribution.toUpperCase()}_DATA_DIR`;
}

/**
 * The layout of a k3s or RKE2 server from its unit (the `systemctl cat` text of that unit, or null when it has none),
 * its config.yaml (null when absent), its config.yaml.d drop-ins and its service environment. What wins, as in k3s
 * (the config files become flags placed before the command line's own, and urfave/cli takes a variable only for a
 * flag no argument sets): a flag on ExecStart, then the last drop-in that sets it, then config.yaml, then the
 * environment variable (`--data-dir` only), then the default.
 */
export function distributionLayout(
  distribution: Distribution,
  unitText: string | null,
  configText: string | null,
  sources: DistributionSettingsSources = {},
): DistributionLayout {
  const d = DISTRIBUTIONS[distribution];
  const evidence: string[] = [];
  const { binary, args, flags } = serverCommandLine(unitText);
  const readConfig = (path: string, text: string): unknown => {
    const parsed = parseBoundedYaml(text, { bounds: CONFIG_BOUNDS });
    if (parsed.ok) return parsed.value;
    evidence.push(`${path} not read: ${parsed.detail}`);
    return null;
  };
  // Last read first: the drop-ins from the last by name, then config.yaml.
  const configs: { path: string; value: unknown }[] = [];
  for (const dropIn of [...(sources.dropIns ?? [])].reverse()) configs.push({ path: dropIn.path, value: readConfig(dropIn.path, dropIn.text) });
  const configFile = sources.configFile ?? d.configFile;
  if (configText !== null) configs.push({ path: configFile, value: readConfig(configFile, configText) });
  const setting = (key: string, short?: string, variable?: string): string | null => {
    const flag = flags[key] ?? (short ? flags[short] : undefined);
    if (flag !== undefined && flag !== 'true') {
      evidence.push(`--${key}=${flag} on ExecStart of ${d.unit}`);
      return flag;
    }
    for (const c of configs) {
      const v = configValue(c.value, key) ?? (short ? configValue(c.value, short) : null);
      if (v !== null) {
        evidence.push(`${key}: ${v} in ${c.path}`);
        return v;
      }
    }
    const env = variable ? sources.environment?.get(variable) : undefined;
    if (env && env.value.trim() !== '') {
      evidence.push(`${variable}=${env.value} in ${env.from}`);
      return env.value.trim();
    }
    return null;
  };
  const dataDir = stripTrailingSlashes(setting('data-dir', 'd', dataDirVariable(distribution)) ?? d.dataDir) || '/';
  const dbDir = `${dataDir === '/' ? '' : dataDir}/server/db`;
  const snapshotDir = stripTrailingSlashes(setting('etcd-snapshot-dir') ?? `${dbDir}/snapshots`) || '/';
  return {
    distribution,
    dbDir,
    snapshotDir,
    serverCommand: args ? [binary ?? d.binary, 'server', ...args] : [d.binary, 'server'],
    evidence,
  };
}

/** The environment variable that names the config file a server reads. */
export function configFileVariable(distribution: Distribution): string {
  return `${distribution.toUpperCase()}_CONFIG_FILE`;
}

/**
 * The config file a server reads: `K3S_CONFIG_FILE` (`RKE2_CONFIG_FILE`) in its environment, else `--config`/`-c`
 * on its ExecStart, else /etc/rancher/<k3s|rke2>/config.yaml (k3s's configfilearg checks them in that order);
 * `from` says which, null for the default. Its drop-ins are in the same path with `.d` after it.
 */
export function distributionConfigFile(
  distribution: Distribution,
  unitText: string | null,
  environment?: DistributionSettingsSources['environment'],
): { path: string; from: string | null } {
  const d = DISTRIBUTIONS[distribution];
  const variable = configFileVariable(distribution);
  const env = environment?.get(variable);
  if (env && env.value.trim() !== '') return { path: env.value.trim(), from: `${variable} in ${env.from}` };
  const { flags } = serverCommandLine(unitText);
  const flag = flags['config'] ?? flags['c'];
  if (flag !== undefined && flag !== 'true' && flag.trim() !== '') return { path: flag.trim(), from: `--config on ExecStart of ${d.unit}` };
  return { path: d.configFile, from: null };
}

/** Whether k3s reads a file of config.yaml.d (`*.yaml` or `*.yml`, any case), by its name. */
export function isConfigDropIn(name: string): boolean {
  return /\.ya?ml$/i.test(name);
}

/**
 * A `.zip` snapshot (`--etcd-snapshot-compress`): k3s and RKE2 restore it as it is, unpacking it themselves (they
 * tell it by this suffix), so it can be the file of their restore; detection checks what it holds through `unzip`.
 */
export function isZipSnapshot(path: string): boolean {
  return /\.zip$/i.test(path);
}

/**
 * The restore of `snapshot` on this server, one command a line: stop the service, the server's own command with
 * the reset flags (it moves the old etcd dir to etcd-old-<time> and exits when done), start the service.
 */
export function distributionRestoreCommands(layout: DistributionLayout, unit: string | undefined, snapshot: string): string[] {
  const service = (unit ?? DISTRIBUTIONS[layout.distribution].unit).replace(/\.service$/, '');
  return [
    `systemctl stop ${quoteIfNeeded(service)}`,
    [...layout.serverCommand, '--cluster-reset', `--cluster-reset-restore-path=${snapshot}`].map(quoteIfNeeded).join(' '),
    `systemctl start ${quoteIfNeeded(service)}`,
  ];
}
