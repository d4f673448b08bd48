/**
 * The restore planner: from a `snapshot.db` and what is known about how
 * etcd runs on the node (a kubeadm static pod manifest, a systemd unit with
 * its EnvironmentFile, flags seen in logs), the exact commands to stop etcd,
 * move the old data dir aside (never delete), restore, fix ownership and
 * SELinux context, start, and prove it worked. The output is data
 * (`RestorePlan`): each step has an explanation, the command, the files it
 * touches and what could get worse, so a guided session can run it step by
 * step.
 *
 * Parsing is bounded: manifests and unit files above 1 MiB are refused, YAML
 * aliases are capped (`maxAliasCount`), and only the first etcd container's
 * `command` is read. Flag names follow etcd 3.4/3.5 (`--data-dir`, ...) and
 * their `ETCD_*` environment forms (`ETCD_DATA_DIR`, ...).
 */
import type { EtcdMemberConfig, EtcdRunStyle, RestorePlan, RestoreStep } from '../../contract/etcd-repair';
import type { LocalText } from '../../contract/text';
import { hasMessage, translate, translateLocal, type Locale } from '../../i18n/index';
import { stripTrailingSlashes } from '../../text/trailing-slashes';
import { parseBoundedYaml } from '../../text/bounded-yaml';

export const MAX_CONFIG_BYTES = 1 << 20;
const MAX_FLAGS = 500;

/** Flags the plan uses, and the environment variable etcd reads for each. */
/** Default names (kubeadm's manifest file, the usual unit name). */
const DEFAULT_MANIFEST = `etcd.yaml`;
const DEFAULT_UNIT = `etcd.service`;

const KNOWN_FLAGS = [
  'name',
  'data-dir',
  'wal-dir',
  'initial-cluster',
  'initial-cluster-token',
  'initial-cluster-state',
  'initial-advertise-peer-urls',
  'advertise-client-urls',
  'listen-client-urls',
  'listen-peer-urls',
  'trusted-ca-file',
  'cert-file',
  'key-file',
  'client-cert-auth',
  'peer-trusted-ca-file',
  'peer-cert-file',
  'peer-key-file',
  'snapshot-count',
] as const;

export function envNameOf(flag: string): string {
  return `ETCD_${flag.toUpperCase().replace(/-/g, '_')}`;
}

function flagOfEnv(env: string): string | null {
  if (!env.startsWith('ETCD_') || env.length > 64) return null;
  return env.slice(5).toLowerCase().replace(/_/g, '-');
}

/** `--flag=value`, `--flag value` and `-flag=value` tokens of one command line (already split). */
export function flagsFromArgs(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length && Object.keys(out).length < MAX_FLAGS; i++) {
    const a = args[i]!;
    const m = /^--?([a-z0-9][a-z0-9-]{0,63})(?:=([\s\S]*))?$/.exec(a);
    if (!m) continue;
    if (m[2] !== undefined) out[m[1]!] = m[2];
    else if (i + 1 < args.length && !args[i + 1]!.startsWith('-')) out[m[1]!] = args[++i]!;
    else out[m[1]!] = 'true';
  }
  return out;
}

/** Split a shell-ish command line (quotes, backslash-newline continuations); no expansion. */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  let has = false;
  for (let i = 0; i < line.length && out.length < MAX_FLAGS * 2; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && line[i + 1] === '\n') i++;
    else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has || cur) out.push(cur);
  return out;
}

/** A member configuration that knows nothing yet (every flag null): what each reader of a configuration fills in. */
export function emptyConfig(style: EtcdRunStyle): EtcdMemberConfig {
  return {
    style,
    sources: [],
    name: null,
    dataDir: null,
    walDir: null,
    initialCluster: null,
    initialClusterToken: null,
    initialAdvertisePeerUrls: null,
    advertiseClientUrls: null,
    listenClientUrls: null,
    cacert: null,
    cert: null,
    key: null,
    manifestPath: null,
    unitName: null,
    environmentFile: null,
    flags: {},
    problems: [],
    problemTexts: [],
  };
}

/** A problem of the member configuration: the English line and its catalog sentence, side by side. */
function addProblem(cfg: EtcdMemberConfig, local: LocalText): void {
  cfg.problems.push(translateLocal('en', local));
  (cfg.problemTexts ??= []).push(local);
}

/** Fill the named fields from `flags` (later sources do not override earlier ones). */
function applyFlags(cfg: EtcdMemberConfig, flags: Record<string, string>): void {
  for (const [k, v] of Object.entries(flags)) if (!(k in cfg.flags)) cfg.flags[k] = v;
  const f = cfg.flags;
  cfg.name = f['name'] ?? cfg.name;
  cfg.dataDir = f['data-dir'] ?? cfg.dataDir;
  cfg.walDir = f['wal-dir'] || cfg.walDir;
  cfg.initialCluster = f['initial-cluster'] ?? cfg.initialCluster;
  cfg.initialClusterToken = f['initial-cluster-token'] ?? cfg.initialClusterToken;
  cfg.initialAdvertisePeerUrls = f['initial-advertise-peer-urls'] ?? cfg.initialAdvertisePeerUrls;
  cfg.advertiseClientUrls = f['advertise-client-urls'] ?? cfg.advertiseClientUrls;
  cfg.listenClientUrls = f['listen-client-urls'] ?? cfg.listenClientUrls;
  cfg.cacert = f['trusted-ca-file'] ?? cfg.cacert;
  cfg.cert = f['cert-file'] ?? cfg.cert;
  cfg.key = f['key-file'] ?? cfg.key;
}

function finish(cfg: EtcdMemberConfig): EtcdMemberConfig {
  // etcd's defaults when a flag is absent (etcd 3.4 embed.NewConfig).
  cfg.name ??= 'default';
  if (!cfg.dataDir) addProblem(cfg, plan('etcd-plan.problem.no-data-dir'));
  if (!cfg.initialAdvertisePeerUrls) addProblem(cfg, plan('etcd-plan.problem.no-peer-urls'));
  if (!cfg.initialCluster && cfg.initialAdvertisePeerUrls) cfg.initialCluster = `${cfg.name}=${cfg.initialAdvertisePeerUrls.split(',')[0]}`;
  return cfg;
}

/** A kubeadm manifest holds ~100 collection entries a few levels deep; aliases as before (16). */
const MANIFEST_YAML_BOUNDS = { maxBytes: MAX_CONFIG_BYTES, maxDepth: 32, maxItems: 4096, maxAliases: 16 };

/**
 * A kubeadm-style static pod manifest (`/etc/kubernetes/manifests/etcd.yaml`):
 * the etcd container's `command` (and `args`), plus `env` entries named ETCD_*.
 */
export function parseStaticPodManifest(text: string, manifestPath: string): EtcdMemberConfig {
  const cfg = emptyConfig('static-pod');
  cfg.manifestPath = manifestPath;
  cfg.sources.push(manifestPath);
  if (text.length > MAX_CONFIG_BYTES) {
    addProblem(cfg, plan('etcd-plan.problem.manifest-too-large', { file: manifestPath, max: MAX_CONFIG_BYTES }));
    return finish(cfg);
  }
  // Bounded before it is parsed: the yaml package took 11 s on a fuzzed 165 KB manifest of nested flow collections.
  const parsed = parseBoundedYaml(text, { bounds: MANIFEST_YAML_BOUNDS, uniqueKeys: false });
  if (!parsed.ok) {
    addProblem(cfg, plan('etcd-plan.problem.manifest-yaml', { file: manifestPath, error: parsed.detail.replace(/^is not valid YAML: /, '') }));
    return finish(cfg);
  }
  const doc = parsed.value;
  const spec = (doc as { spec?: { containers?: unknown } } | null)?.spec;
  const containers = Array.isArray(spec?.containers) ? (spec!.containers as unknown[]) : [];
  const etcd = (containers.find((c) => (c as { name?: unknown })?.name === 'etcd') ?? containers[0]) as
    { command?: unknown; args?: unknown; env?: unknown; image?: unknown } | undefined;
  if (!etcd) {
    addProblem(cfg, plan('etcd-plan.problem.manifest-no-containers', { file: manifestPath }));
    return finish(cfg);
  }
  const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);
  const args = [...listOf(etcd.command), ...listOf(etcd.args)].filter((a): a is string => typeof a === 'string');
  const flags = flagsFromArgs(args);
  if (Array.isArray(etcd.env)) {
    for (const e of etcd.env as { name?: unknown; value?: unknown }[]) {
      const f = typeof e?.name === 'string' ? flagOfEnv(e.name) : null;
      if (f && typeof e.value === 'string' && !(f in flags)) flags[f] = e.value;
    }
  }
  if (typeof etcd.image === 'string') flags['lifeboat-image'] = etcd.image;
  applyFlags(cfg, flags);
  return finish(cfg);
}

/** `KEY=value` lines of an EnvironmentFile (comments, quotes, `export`). */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (text.length > MAX_CONFIG_BYTES) return out;
  for (const raw of text.split('\n').slice(0, 10_000)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]{0,127})=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!.trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

/**
 * A systemd unit (`[Service]` ExecStart=, Environment=, EnvironmentFile=) and
 * the contents of its EnvironmentFiles (path -> text, as read from the node).
 */
export function parseSystemdUnit(unitText: string, unitName: string, environmentFiles: Record<string, string> = {}): EtcdMemberConfig {
  const cfg = emptyConfig('systemd');
  cfg.unitName = unitName;
  cfg.sources.push(unitName);
  if (unitText.length > MAX_CONFIG_BYTES) {
    addProblem(cfg, plan('etcd-plan.problem.unit-too-large', { unit: unitName, max: MAX_CONFIG_BYTES }));
    return finish(cfg);
  }
  const text = unitText.replace(/\\\n/g, ' ');
  const env: Record<string, string> = {};
  let exec: string[] = [];
  let section = '';
  for (const raw of text.split('\n').slice(0, 10_000)) {
    const line = raw.trim();
    const sec = /^\[(\w+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!;
      continue;
    }
    if (section !== 'Service') continue;
    const kv = /^(\w+)\s*=\s*(.*)$/.exec(line);
    if (!kv) continue;
    const [, key, value] = kv;
    if (key === 'ExecStart' && value!.trim() !== '') exec = splitCommandLine(value!.replace(/^[-@:+!]+/, ''));
    else if (key === 'User' || key === 'Group') {
      // The last one wins, as in systemd; root (or none) opens any file, and is not worth naming.
      const v = value!.trim();
      const runsAs = cfg.runsAs ?? { user: 'root', group: null };
      if (key === 'User') runsAs.user = v || 'root';
      else runsAs.group = v || null;
      cfg.runsAs = runsAs;
    } else if (key === 'Environment') {
      for (const part of splitCommandLine(value!)) {
        const eq = part.indexOf('=');
        if (eq > 0) env[part.slice(0, eq)] = part.slice(eq + 1);
      }
    } else if (key === 'EnvironmentFile') {
      const file = value!.trim().replace(/^-/, '');
      cfg.environmentFile ??= file;
      const body = environmentFiles[file];
      if (body !== undefined) {
        cfg.sources.push(file);
        Object.assign(env, parseEnvironmentFile(body));
      } else addProblem(cfg, plan('etcd-plan.problem.env-file-missing', { file }));
    }
  }
  if (cfg.runsAs && (cfg.runsAs.user === 'root' || cfg.runsAs.user === '0')) delete cfg.runsAs;
  // Command-line flags win over the environment (etcd refuses both for one flag; flags are what it reports).
  const flags = flagsFromArgs(exec.slice(1));
  for (const [k, v] of Object.entries(env)) {
    const f = flagOfEnv(k);
    if (f && !(f in flags)) flags[f] = v;
  }
  applyFlags(cfg, flags);
  return finish(cfg);
}

/**
 * Flags etcd printed at start-up: 3.4 capnslog (`recognized and used
 * environment variable ETCD_DATA_DIR=/var/lib/etcd`, `etcdmain: ... --flag`)
 * and 3.5 zap JSON (`"data-dir":"/var/lib/etcd"`, `"name":"m1"`,
 * `"initial-cluster":"..."`). Fills only what `base` does not know.
 */
export function addFlagsFromLogs(base: EtcdMemberConfig, logText: string, logName: string): EtcdMemberConfig {
  const flags: Record<string, string> = {};
  const text = logText.slice(0, 8 * MAX_CONFIG_BYTES);
  for (const m of text.matchAll(/environment variable (ETCD_[A-Z0-9_]{1,60})=([^\s"]{0,4096})/g)) {
    const f = flagOfEnv(m[1]!);
    if (f) flags[f] ??= m[2]!;
  }
  for (const f of KNOWN_FLAGS) {
    const re = new RegExp(`"${f}":"([^"]{0,4096})"`);
    const m = re.exec(text);
    if (m) flags[f] ??= m[1]!;
    const arr = new RegExp(`"${f}":\\[([^\\]]{0,4096})\\]`).exec(text);
    if (arr) flags[f] ??= arr[1]!.replace(/"/g, '');
  }
  if (Object.keys(flags).length > 0) base.sources.push(logName);
  applyFlags(base, flags);
  return base;
}

// ---------------------------------------------------------------- the plan

/** Single-quote for POSIX sh. */
export function shq(s: string): string {
  if (/^[A-Za-z0-9_./:=,@%+-]+$/.test(s)) return s;
  // A playbook template: `{{name}}` placeholders are filled (and quoted) by the session runner, so they stay bare.
  if (/^(?:\{\{(?:raw:)?[A-Za-z][A-Za-z0-9_]*\}\}|[A-Za-z0-9_./:=,@%+-])+$/.test(s) && s.includes('{{')) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface RestorePlanOptions {
  snapshot: string;
  member: EtcdMemberConfig;
  /** `etcdctl` for etcd 3.4 (default), `etcdutl` for 3.5+; guessed from the image tag when absent. */
  tool?: 'etcdctl' | 'etcdutl';
  /** Suffix for the moved-aside data dir, e.g. a timestamp (default `lifeboat-aside`). */
  asideSuffix?: string;
  /** Where a static pod manifest is parked while etcd is stopped (default: `<manifests>/../manifests.lifeboat-stopped`). */
  parkedManifestDir?: string;
  /** Expected number of keys (from the salvage report), checked after start. */
  expectedKeys?: number;
}

export function toolFor(cfg: EtcdMemberConfig, given?: 'etcdctl' | 'etcdutl'): 'etcdctl' | 'etcdutl' {
  if (given) return given;
  const image = cfg.flags['lifeboat-image'] ?? '';
  const m = /:v?3\.(\d+)\./.exec(image);
  return m && Number(m[1]) >= 5 ? 'etcdutl' : 'etcdctl';
}

export function dirname(p: string): string {
  const i = stripTrailingSlashes(p).lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/** The client endpoint etcdctl should talk to after the restore. */
export function clientEndpoint(cfg: EtcdMemberConfig): string {
  const first = (cfg.advertiseClientUrls ?? cfg.listenClientUrls ?? 'http://127.0.0.1:2379').split(',')[0]!.trim();
  return first.replace('://0.0.0.0', '://127.0.0.1');
}

export function tlsFlags(cfg: EtcdMemberConfig): string {
  const parts: string[] = [];
  if (cfg.cacert) parts.push(`--cacert=${shq(cfg.cacert)}`);
  if (cfg.cert) parts.push(`--cert=${shq(cfg.cert)}`);
  if (cfg.key) parts.push(`--key=${shq(cfg.key)}`);
  return parts.join(' ');
}

/** A sentence of the plan catalog (shared/i18n/etcd-plan-text.ts). */
function plan(key: string, params?: LocalText['params'], texts?: LocalText['texts']): LocalText {
  return { key, ...(params ? { params } : {}), ...(texts ? { texts } : {}) };
}

/** A step's kind and words: the English `explanation` / `risk` and the same as catalog sentences (+ a title) for any language. */
function words(
  kind: RestoreStep['kind'],
  explanation: LocalText,
  risk?: LocalText,
): Pick<RestoreStep, 'kind' | 'explanation' | 'explanationText' | 'titleText' | 'risk' | 'riskLocal'> {
  return {
    kind,
    titleText: plan(`etcd-plan.title.${kind}`),
    explanation: translateLocal('en', explanation),
    explanationText: explanation,
    risk: risk ? translateLocal('en', risk) : '',
    ...(risk ? { riskLocal: risk } : {}),
  };
}

/**
 * Where the member's identity came from: paths and names as they are (one
 * sentence, as before), or, when a source is a description (the validation
 * report), each source as its own catalog sentence.
 */
function sourcesText(cfg: EtcdMemberConfig): LocalText[] {
  if (cfg.sources.length === 0) return [plan('etcd-plan.restore.sources.given')];
  const labels = cfg.sourceLabels ?? {};
  if (!cfg.sources.some((s) => Object.hasOwn(labels, s))) return [plan('etcd-plan.restore.sources', { src: cfg.sources.join(', ') })];
  return cfg.sources.map((s) => (Object.hasOwn(labels, s) ? labels[s]! : plan('etcd-plan.restore.sources', { src: s })));
}

export function planRestore(opts: RestorePlanOptions): RestorePlan {
  const cfg = opts.member;
  const tool = toolFor(cfg, opts.tool);
  const problems = [...cfg.problems];
  // The catalog sentences travel only when they line up with the English problems one for one.
  const problemTexts = cfg.problemTexts && cfg.problemTexts.length === problems.length ? [...cfg.problemTexts] : undefined;
  const dataDir = cfg.dataDir ?? `${cfg.name ?? 'default'}.etcd`;
  const aside = `${stripTrailingSlashes(dataDir)}.${opts.asideSuffix ?? 'lifeboat-aside'}`;
  const walAside = cfg.walDir ? `${stripTrailingSlashes(cfg.walDir)}.${opts.asideSuffix ?? 'lifeboat-aside'}` : null;
  const snap = shq(opts.snapshot);
  const ctlEnv = tool === 'etcdctl' ? 'ETCDCTL_API=3 ' : '';
  const endpoint = clientEndpoint(cfg);
  const tls = tlsFlags(cfg);
  const ctl = `ETCDCTL_API=3 etcdctl --endpoints=${shq(endpoint)}${tls ? ` ${tls}` : ''}`;
  const steps: RestoreStep[] = [];

  steps.push({
    ...words('check', plan('etcd-plan.check', { tool })),
    command: `test -f ${snap}\n${ctlEnv}${tool} snapshot status ${snap} -w table`,
    filesTouched: [],
  });

  const manifests = cfg.manifestPath ? dirname(cfg.manifestPath) : '/etc/kubernetes/manifests';
  const parked = opts.parkedManifestDir ?? `${dirname(manifests)}/manifests.lifeboat-stopped`;
  const manifestName = cfg.manifestPath ? cfg.manifestPath.slice(cfg.manifestPath.lastIndexOf('/') + 1) : DEFAULT_MANIFEST;
  if (cfg.style === 'static-pod') {
    steps.push({
      ...words(
        'stop',
        plan('etcd-plan.stop.static-pod', { manifest: cfg.manifestPath ?? `${manifests}/etcd.yaml`, manifests, parked }),
        plan('etcd-plan.risk.control-plane-down'),
      ),
      command: `mkdir -p ${shq(parked)}\nmv ${shq(`${manifests}/${manifestName}`)} ${shq(`${parked}/${manifestName}`)}\nfor i in $(seq 1 60); do crictl ps --name '^etcd$' -q | grep -q . || break; sleep 2; done\n! crictl ps --name '^etcd$' -q | grep -q .`,
      filesTouched: [`${manifests}/${manifestName}`, `${parked}/${manifestName}`],
    });
  } else {
    const unit = cfg.unitName ?? DEFAULT_UNIT;
    steps.push({
      ...words('stop', plan('etcd-plan.stop.systemd', { unit }), plan('etcd-plan.risk.control-plane-down')),
      command: `systemctl stop ${shq(unit)}\n! systemctl is-active --quiet ${shq(unit)}`,
      filesTouched: [],
    });
  }

  steps.push({
    ...words('move-aside', plan('etcd-plan.move-aside', { aside }), plan('etcd-plan.risk.move-aside', { dataDir })),
    command: `test ! -e ${shq(aside)}\nmv ${shq(dataDir)} ${shq(aside)}${walAside ? `\ntest ! -e ${shq(walAside)}\nmv ${shq(cfg.walDir!)} ${shq(walAside)}` : ''}`,
    filesTouched: [dataDir, aside, ...(walAside ? [cfg.walDir!, walAside] : [])],
  });

  const restoreFlags = [
    `--data-dir ${shq(dataDir)}`,
    ...(cfg.walDir ? [`--wal-dir ${shq(cfg.walDir)}`] : []),
    `--name ${shq(cfg.name ?? 'default')}`,
    ...(cfg.initialCluster ? [`--initial-cluster ${shq(cfg.initialCluster)}`] : []),
    ...(cfg.initialClusterToken ? [`--initial-cluster-token ${shq(cfg.initialClusterToken)}`] : []),
    ...(cfg.initialAdvertisePeerUrls ? [`--initial-advertise-peer-urls ${shq(cfg.initialAdvertisePeerUrls)}`] : []),
  ];
  const members = (cfg.initialCluster ?? '').split(',').filter((m) => m.includes('='));
  steps.push({
    ...words(
      'restore',
      plan(
        'etcd-plan.restore',
        { name: cfg.name ?? 'default' },
        {
          sources: sourcesText(cfg),
          peer: [cfg.initialAdvertisePeerUrls ? plan('etcd-plan.restore.peer', { url: cfg.initialAdvertisePeerUrls }) : plan('etcd-plan.restore.peer.default')],
          token: cfg.initialClusterToken ? [plan('etcd-plan.restore.token', { clusterToken: cfg.initialClusterToken })] : [],
          members: members.length > 1 ? [plan('etcd-plan.restore.members', { count: members.length })] : [],
        },
      ),
      plan('etcd-plan.risk.restore'),
    ),
    command: `${ctlEnv}${tool} snapshot restore ${snap} \\\n  ${restoreFlags.join(' \\\n  ')}`,
    filesTouched: [dataDir, ...(cfg.walDir ? [cfg.walDir] : [])],
  });

  // A unit's User= says who must own the data (the old dir may be root's after a restore by hand gone wrong);
  // otherwise the owner of the old dir. A separate WAL dir is restored as root too, and needs the same.
  const restoredDirs = [dataDir, ...(cfg.walDir ? [cfg.walDir] : [])];
  const restored = restoredDirs.map(shq).join(' ');
  const owner = cfg.runsAs ? shq(`${cfg.runsAs.user}:${cfg.runsAs.group ?? ''}`) : `"$(stat -c %u:%g ${shq(aside)})"`;
  steps.push({
    ...words(
      'ownership',
      cfg.runsAs ? plan('etcd-plan.ownership.unit-user', { unit: cfg.unitName ?? 'etcd.service', user: cfg.runsAs.user }) : plan('etcd-plan.ownership'),
    ),
    command: `chown -R ${owner} ${restored}\nchmod 700 ${restored}\nif command -v restorecon >/dev/null 2>&1; then restorecon -R ${restored}; fi`,
    filesTouched: restoredDirs,
  });

  if (cfg.style === 'static-pod') {
    steps.push({
      ...words('start', plan('etcd-plan.start.static-pod'), plan('etcd-plan.risk.start.static-pod')),
      command: `mv ${shq(`${parked}/${manifestName}`)} ${shq(`${manifests}/${manifestName}`)}`,
      filesTouched: [`${manifests}/${manifestName}`],
    });
  } else {
    const unit = cfg.unitName ?? DEFAULT_UNIT;
    steps.push({
      ...words('start', plan('etcd-plan.start.systemd', { unit }), plan('etcd-plan.risk.start.systemd', { unit })),
      command: `systemctl start ${shq(unit)}`,
      filesTouched: [],
    });
  }

  // etcdctl 3.4 has no --count-only: the range response's "count" is the total even with --limit 1.
  const count = `${ctl} get '' --prefix --keys-only --limit 1 -w json | sed -n 's/.*"count":\\([0-9]*\\).*/\\1/p'`;
  const countCheck = opts.expectedKeys !== undefined ? `\ntest "$(${count})" -ge ${opts.expectedKeys}` : '';
  steps.push({
    ...words(
      'verify',
      plan(
        'etcd-plan.verify',
        { endpoint },
        { atLeast: opts.expectedKeys !== undefined ? [plan('etcd-plan.verify.at-least', { count: opts.expectedKeys })] : [] },
      ),
    ),
    command: `for i in $(seq 1 30); do ${ctl} endpoint health && break; sleep 2; done\n${ctl} endpoint health\necho "keys: $(${count})"${countCheck}\nif command -v kubectl >/dev/null 2>&1; then kubectl --request-timeout=30s get nodes || echo "kubectl get nodes failed: the kube-apiserver may still be starting, try again in a minute"; fi`,
    filesTouched: [],
  });

  return { snapshot: opts.snapshot, member: cfg, tool, asideDir: aside, steps, problems, ...(problemTexts ? { problemTexts } : {}) };
}

/** The whole plan as one POSIX sh script (`set -e`, each step commented in `locale`; the commands as they are). */
export function planAsScript(plan: RestorePlan, locale: Locale = 'en'): string {
  const lines = ['#!/bin/sh', `# ${translate(locale, 'etcd-script.header')}`, 'set -eu', ''];
  plan.steps.forEach((s, i) => {
    // A step's sentence in `locale` when the plan carries it (a plan from an older report may not).
    const local = locale !== 'en' && s.explanationText && hasMessage(s.explanationText.key) ? translateLocal(locale, s.explanationText) : s.explanation;
    // The step named as the JSON names it in English, by its title in another language.
    const kind = locale === 'en' ? s.kind : translate(locale, `restore.step.${s.kind}`);
    lines.push(`# ${translate(locale, 'etcd-script.step', { n: i + 1, kind, explanation: local.replace(/\n/g, ' ') })}`);
    lines.push(s.command, '');
  });
  return lines.join('\n');
}
