/**
 * Find out what runs on a node: read-only probes through an injected
 * executor (the SSH service in the app and the CLI, a fake in no test: the
 * tests use real nodes), turned into a node card. Every command is built here
 * so the exact text is recorded with its output; a failing command is a fact
 * ("not there"), never a failed detection. Pure: no Node, no DOM.
 */
import type { BackupFile, BackupJob, DetectedDatastore, NodeCard, ProbeRecord } from '../contract/node';
import { backupJobs, parseBackupScript, parseCrontabListing } from './cron';
import type { EtcdMemberConfig } from '../contract/etcd-repair';
import { parseEnvironmentFile, parseStaticPodManifest, parseSystemdUnit, planRestore } from '../formats/etcd/restore-plan';
import { environmentFiles, parseIpBrief, parseSystemctlCat, unitEnvironment, type ProbeOutput } from './facts-parse';
import { quoteAlways, quoteIfNeeded } from './shell';
import type { ExecResult, NodeExecutor } from './executor';
import { runTagged, type EndedOnNode } from './run-tag';
import { checkSnapshotDbProbe, snapshotDbProbeCommand } from './backup-check';
import {
  DISTRIBUTIONS,
  distributionConfigFile,
  distributionLayout,
  distributionRestoreCommands,
  configFileVariable,
  dataDirVariable,
  isConfigDropIn,
  isZipSnapshot,
  type Distribution,
  type DistributionLayout,
} from './k3s';
import { foreignOwnedProbeCommand, parseForeignOwnedProbe } from './ownership';
import { translateLocal } from '../i18n';
import type { LocalText } from '../contract/text';
import {
  checkPeerAddresses,
  dbMemberRecordsCommand,
  inKindContainer,
  MAX_KIND_CONTAINERS_READ,
  parseDbMemberRecords,
  parseDockerInspect,
  parseIpOAddr,
  parseKubeletFlags,
  parseMemberListJson,
} from './kind';
import {
  etcdEnvironCommand,
  parseEnvirons,
  parsePodLogDirs,
  parsePodVolumeMembers,
  POD_LOG_DIRS_COMMAND,
  POD_VOLUME_MEMBERS_COMMAND,
  statefulSetMember,
} from './statefulset';

export interface DetectOptions {
  /** Run the probes through sudo (root-only files: crontabs, /var/lib/etcd, backups). */
  sudo: boolean;
  /** `user@host:port`, for the card. */
  target: string;
  /** Called as each probe starts (record === null) and ends. */
  onProbe?: (probe: { id: string; command: string; sudo: boolean }, record: ProbeRecord | null) => void;
  /** This machine's clock (ms), for the skew. */
  now?: () => number;
  /** Backups hash-checked at most (newest first); the rest get a quick check only. */
  maxHashChecks?: number;
  /** How long a probe may run (default PROBE_TIME_LIMIT_SECONDS). */
  timeLimits?: Record<keyof typeof PROBE_TIME_LIMIT_SECONDS, number>;
}

const MAX_OUTPUT = 256 * 1024;
const MAX_SCRIPTS = 12;
const MAX_BACKUPS = 200;

export const KUBEADM_MANIFEST = '/etc/kubernetes/manifests/etcd.yaml';
export const KUBEADM_FLAGS = '/var/lib/kubelet/kubeadm-flags.env';
export const MICROK8S_BACKEND = '/var/snap/microk8s/current/var/kubernetes/backend';
/** Where backups are often kept even when no job names them. */
const USUAL_BACKUP_DIRS = ['/var/backups', '/var/lib/etcd-backup', '/backup', '/opt/etcd-backup'];

const UNIT_NAME = /^(etcd[\w@.-]*|k3s[\w@.-]*|rke2[\w@.-]*|snap\.microk8s\.daemon-k8s-dqlite|kubelet)\.service$/;

/**
 * How long one probe may run before detection stops waiting and ends it on the node: a wedged docker or containerd,
 * a hung NFS mount under a path it lists, never answers, and the card must still come. A backup's check reads
 * (and may decompress) the whole file: it gets longer.
 */
export const PROBE_TIME_LIMIT_SECONDS = { probe: 60, backupCheck: 900 } as const;

/** A probe that outlasted its limit, and what its stop found on the node. */
interface TimedOutProbe {
  command: string;
  seconds: number;
  ended: EndedOnNode;
}

class ProbeRunner {
  readonly records: ProbeRecord[] = [];
  readonly timedOut: TimedOutProbe[] = [];
  constructor(
    private readonly exec: NodeExecutor,
    private readonly opts: DetectOptions,
  ) {}
  async run(id: string, command: string, sudo = this.opts.sudo, limit: keyof typeof PROBE_TIME_LIMIT_SECONDS = 'probe'): Promise<ProbeRecord> {
    this.opts.onProbe?.({ id, command, sudo }, null);
    const at = (this.opts.now ?? Date.now)();
    const seconds = (this.opts.timeLimits ?? PROBE_TIME_LIMIT_SECONDS)[limit];
    // Tagged, so that a probe that never answers is ended on the node, not left holding a channel (run-tag.ts).
    const run = await runTagged(this.exec, command, { sudo, maxOutputBytes: MAX_OUTPUT, limitSeconds: seconds });
    let r: ExecResult = run.result;
    if (run.stopped) {
      r = { ...r, stderr: `${r.stderr}${r.stderr && !r.stderr.endsWith('\n') ? '\n' : ''}no answer within ${seconds} s` };
      this.timedOut.push({ command, seconds, ended: run.stopped.ended });
    }
    const rec: ProbeRecord = { id, command, sudo, code: r.code, stdout: r.stdout, stderr: r.stderr, truncated: r.truncated, at };
    this.records.push(rec);
    this.opts.onProbe?.({ id, command, sudo }, rec);
    return rec;
  }
}

/** A timed-out probe as a gap on the card: what it was, and what became of it on the node. */
function timedOutGap(t: TimedOutProbe): LocalText {
  // The first line, shortened: the card names the probe, the probe list holds the whole command.
  const first = t.command.split('\n')[0]!;
  const command = first.length > 120 ? `${first.slice(0, 119)}…` : first;
  const params = { command, seconds: t.seconds };
  if (t.ended.outcome === 'ended') return { key: 'guided.card.gap.probeTimedOutEnded', params: { ...params, processes: t.ended.processes } };
  if (t.ended.outcome === 'gone') return { key: 'guided.card.gap.probeTimedOutGone', params };
  return { key: 'guided.card.gap.probeTimedOut', params };
}

const out = (r: ProbeRecord): ProbeOutput => ({ code: r.code, stdout: r.stdout, stderr: r.stderr });
const lines = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** ExecStart words (first ExecStart line that is not empty; continuation already joined by systemctl cat output). */
function execStartArgs(unitText: string, unit: string): string[] {
  const u = parseSystemctlCat(unitText).get(unit.replace(/\.service$/, ''));
  const exec = u?.entries.filter((e) => e.key === 'ExecStart' && e.value.trim() !== '').pop()?.value ?? '';
  return exec
    .replace(/^[-@:+!]+/, '')
    .split(/\s+/)
    .filter(Boolean);
}

/** One unit's part of a `systemctl cat A B ...` listing: its file and its drop-ins, each after a `# /path` line. */
function unitSection(catText: string, unit: string): string {
  const out: string[] = [];
  let mine = false;
  const base = unit.replace(/\.service$/, '');
  for (const line of catText.split('\n')) {
    const header = /^# (\/\S+)$/.exec(line);
    if (header) {
      const file = header[1]!;
      mine = file.endsWith(`/${unit}`) || file.includes(`/${unit}.d/`) || file.endsWith(`/${base}.service`) || file.includes(`/${base}.service.d/`);
    }
    if (mine) out.push(line);
  }
  return out.join('\n');
}

/**
 * The card's view of an etcd member's configuration, from the restore
 * planner's own parsers (one reading of a unit, env file or manifest for
 * both), and the restore plan from the newest good backup when etcd is down.
 */
function etcdFromConfig(
  cfg: EtcdMemberConfig,
  newestGood: string | null,
  running: boolean | null,
): Pick<DetectedDatastore, 'dataDir' | 'walDir' | 'memberName' | 'settings' | 'restore'> {
  const settings = Object.fromEntries(Object.entries(cfg.flags).filter(([k]) => !k.startsWith('lifeboat-')));
  const restore =
    newestGood && running !== true
      ? {
          from: newestGood,
          commands: planRestore({ snapshot: newestGood, member: cfg })
            .steps.map((st) => st.command)
            .filter((c) => c.trim() !== ''),
        }
      : undefined;
  return {
    dataDir: cfg.dataDir,
    ...(cfg.walDir ? { walDir: cfg.walDir } : {}),
    ...(cfg.flags['name'] ? { memberName: cfg.flags['name'] } : {}),
    settings,
    ...(restore ? { restore } : {}),
  };
}

const DISTRIBUTION_NAMES: readonly Distribution[] = ['k3s', 'rke2'];

/** Most config.yaml.d drop-ins read for one server (k3s reads them all; a handful is usual). */
const MAX_CONFIG_DROP_INS = 16;
/** Most EnvironmentFiles read for one k3s or RKE2 unit (k3s's install script names three). */
const MAX_SERVICE_ENV_FILES = 6;

/** systemd's specifiers a k3s unit uses in EnvironmentFile= (`/etc/default/%N`); null for one not handled. */
function expandUnitSpecifiers(path: string, unit: string): string | null {
  const base = unit.replace(/\.service$/, '');
  let out = '';
  for (let i = 0; i < path.length; i++) {
    if (path[i] !== '%') {
      out += path[i];
      continue;
    }
    const c = path[++i];
    if (c === '%') out += '%';
    else if (c === 'n') out += unit;
    else if (c === 'N' || c === 'p') out += base;
    else return null;
  }
  return out;
}

/**
 * The variables `names` of a k3s or RKE2 unit's service environment: its `Environment=` assignments, then its
 * EnvironmentFiles in order (read through sudo: the install script's k3s.service.env is root's only), each value
 * with where it was set. Only the lines of those variables are read off the node: the same files hold K3S_TOKEN,
 * which the card has no use for and must not carry.
 */
async function serviceEnvironment(
  p: ProbeRunner,
  unitCatText: string,
  unit: string,
  names: readonly string[],
): Promise<Map<string, { value: string; from: string }>> {
  const env = new Map<string, { value: string; from: string }>();
  const uf = parseSystemctlCat(unitCatText).get(unit.replace(/\.service$/, ''));
  if (!uf) return env;
  const wanted = new Set(names);
  for (const [k, v] of unitEnvironment(uf)) if (wanted.has(k)) env.set(k, { value: v, from: `Environment= of ${unit}` });
  const pattern = `^[[:space:]]*(export[[:space:]]+)?(${names.join('|')})=`;
  for (const ef of environmentFiles(uf).slice(0, MAX_SERVICE_ENV_FILES)) {
    const path = expandUnitSpecifiers(ef.path, unit);
    if (path === null || !path.startsWith('/')) continue;
    const r = await p.run(`env:${path}`, `grep -E ${quoteAlways(pattern)} ${quoteIfNeeded(path)} 2>/dev/null; true`);
    for (const [k, v] of Object.entries(parseEnvironmentFile(r.stdout))) if (wanted.has(k)) env.set(k, { value: v, from: path });
  }
  return env;
}

/** A server's config.yaml.d drop-ins that k3s reads (`*.yaml`, `*.yml`; files, in name order), read through sudo. */
async function configDropIns(p: ProbeRunner, dir: string): Promise<{ path: string; text: string }[]> {
  const listed = await p.run(`config-dropins:${dir}`, `find -L ${quoteIfNeeded(dir)} -mindepth 1 -maxdepth 1 ! -type d -printf '%f\\n' 2>/dev/null; true`);
  // Go's os.ReadDir order (by bytes); names are ASCII in practice, where UTF-16 order is the same.
  const names = lines(listed.stdout)
    .filter(isConfigDropIn)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, MAX_CONFIG_DROP_INS);
  const out: { path: string; text: string }[] = [];
  for (const name of names) {
    const path = `${dir}/${name}`;
    const r = await p.run(`config:${path}`, `head -c 65537 ${quoteIfNeeded(path)}`);
    if (r.code === 0) out.push({ path, text: r.stdout });
  }
  return out;
}

/**
 * Where k3s and RKE2 keep their data on this node: their unit's ExecStart, service environment, config file and its
 * drop-ins (read only when present) may move it from the default, in which case the moved db dir is looked for too
 * (added to `marked`).
 */
async function distributionLayouts(
  p: ProbeRunner,
  defaults: readonly DistributionLayout[],
  unitNames: readonly string[],
  unitCatText: string,
  marked: Set<string>,
): Promise<DistributionLayout[]> {
  const out: DistributionLayout[] = [];
  for (const { distribution: dist, dbDir: defaultDbDir } of defaults) {
    const d = DISTRIBUTIONS[dist];
    const hasUnit = unitNames.includes(d.unit);
    const unitText = hasUnit ? unitSection(unitCatText, d.unit) : null;
    const environment = hasUnit
      ? await serviceEnvironment(p, unitCatText, d.unit, [dataDirVariable(dist), configFileVariable(dist)])
      : new Map<string, { value: string; from: string }>();
    const config = distributionConfigFile(dist, unitText, environment);
    const isDefault = config.from === null;
    let configText: string | null = null;
    if (!isDefault || marked.has(d.configFile)) {
      const r = await p.run(`config:${config.path}`, `head -c 65537 ${quoteIfNeeded(config.path)}`);
      if (r.code === 0) configText = r.stdout;
    }
    const dropIns = !isDefault || marked.has(`${d.configFile}.d`) ? await configDropIns(p, `${config.path}.d`) : [];
    const layout = distributionLayout(dist, unitText, configText, { configFile: config.path, dropIns, environment });
    if (config.from) layout.evidence.unshift(`config file ${config.path} (${config.from})`);
    if (layout.dbDir !== defaultDbDir) {
      const moved = await p.run(
        `markers:${dist}`,
        `ls -d ${quoteIfNeeded(`${layout.dbDir}/etcd`)} ${quoteIfNeeded(`${layout.dbDir}/state.db`)} 2>/dev/null; true`,
      );
      for (const l of lines(moved.stdout)) if (l.startsWith('/')) marked.add(l);
    }
    out.push(layout);
  }
  return out;
}

export async function detectNode(exec: NodeExecutor, opts: DetectOptions): Promise<NodeCard> {
  const p = new ProbeRunner(exec, opts);
  // What could not be read, in English (the CLI and the record) and as catalog sentences for the card's language.
  const gaps: string[] = [];
  const gapTexts: LocalText[] = [];
  const gap = (text: LocalText): void => {
    gapTexts.push(text);
    gaps.push(translateLocal('en', text));
  };

  // --- the machine
  const sys = await p.run('system', 'hostname; uname -sr; date -u +%Y-%m-%dT%H:%M:%SZ; . /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"', false);
  const sysLines = lines(sys.stdout);
  const time = sysLines.find((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(l)) ?? null;
  const skew = time ? Math.round((Date.parse(time) - sys.at) / 1000) : null;
  const addrs = await p.run('addresses', 'ip -brief addr', false);
  const addresses = parseIpBrief(out(addrs))
    .flatMap((i) => i.addresses)
    .filter((a) => !a.startsWith('127.') && a !== '::1' && !/^fe80:/i.test(a));
  const toolsRec = await p.run(
    'tools',
    'for t in etcd etcdctl etcdutl crictl kubectl microk8s k3s docker kind; do p=$(command -v "$t") && echo "$t $p" || echo "$t -"; done; etcd --version 2>/dev/null | head -n 1; etcdctl version 2>/dev/null | head -n 1',
    false,
  );
  const tools: Record<string, string | null> = {};
  for (const l of lines(toolsRec.stdout)) {
    const m = /^(\w+) (\S+)$/.exec(l);
    if (m) tools[m[1]!] = m[2] === '-' ? null : m[2]!;
    const v = /^etcd Version: (\S+)/.exec(l) ?? /^etcdctl version: (\S+)/.exec(l);
    if (v) tools[l.startsWith('etcdctl') ? 'etcdctl-version' : 'etcd-version'] = v[1]!;
  }

  // --- units, manifests, snap and k3s markers
  const unitList = await p.run('units', 'ls -1 /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system 2>/dev/null | sort -u', false);
  const unitNames = lines(unitList.stdout).filter((n) => UNIT_NAME.test(n));
  const timerNames = lines(unitList.stdout).filter((n) => n.endsWith('.timer') && /etcd|backup|snapshot/i.test(n));
  let unitCat: ProbeRecord | null = null;
  let unitActive: ProbeRecord | null = null;
  if (unitNames.length) {
    unitCat = await p.run('units-cat', `systemctl cat --no-pager ${unitNames.join(' ')}`, false);
    unitActive = await p.run('units-active', `systemctl is-active ${unitNames.join(' ')}`, false);
  }
  const activeState = new Map<string, string>();
  if (unitActive) lines(unitActive.stdout).forEach((s, i) => unitNames[i] && activeState.set(unitNames[i]!, s));
  // k3s and RKE2 at their default places; their config files, which may move them (data-dir).
  const defaultLayouts = DISTRIBUTION_NAMES.map((dist) => distributionLayout(dist, null, null));
  const markers = await p.run(
    'markers',
    `ls -d ${KUBEADM_MANIFEST} ${MICROK8S_BACKEND} ${defaultLayouts.map((l) => `${l.dbDir}/etcd`).join(' ')} ${DISTRIBUTIONS.k3s.configFile} ${DISTRIBUTIONS.k3s.configFile}.d ${DISTRIBUTIONS.rke2.configFile} ${DISTRIBUTIONS.rke2.configFile}.d ${defaultLayouts[0]!.dbDir}/state.db /kind 2>/dev/null; pgrep -a -x etcd 2>/dev/null | head -n 5`,
  );
  const marked = new Set(lines(markers.stdout).filter((l) => l.startsWith('/')));
  const layouts = await distributionLayouts(p, defaultLayouts, unitNames, unitCat?.stdout ?? '', marked);
  const etcdProcesses = lines(markers.stdout).filter((l) => /^\d+ /.test(l));

  const datastores: DetectedDatastore[] = [];

  // systemd-managed etcd (KubeKey, kubespray, by hand). Configurations are kept to plan restores once backups are known.
  const etcdConfigs: EtcdMemberConfig[] = [];
  const unitUsers = new Map<string, NonNullable<EtcdMemberConfig['runsAs']>>();
  for (const unit of unitNames.filter((u) => u.startsWith('etcd'))) {
    const text = unitCat?.stdout ?? '';
    const uf = parseSystemctlCat(text).get(unit.replace(/\.service$/, ''));
    if (!uf) continue;
    const evidence = [`${unit}: ${uf.files[0] ?? 'unit file'}`];
    const envTexts: Record<string, string> = {};
    let envFile: string | undefined;
    for (const ef of environmentFiles(uf).slice(0, 4)) {
      if (!ef.path.startsWith('/') || ef.path.includes('%')) continue;
      const r = await p.run(`env:${ef.path}`, `cat ${quoteIfNeeded(ef.path)}`);
      if (r.code === 0) {
        envTexts[ef.path] = r.stdout;
        envFile ??= ef.path;
        evidence.push(`EnvironmentFile ${ef.path}`);
      } else if (!ef.optional) gap({ key: 'guided.card.gap.unreadable', params: { path: ef.path, error: r.stderr.trim().split('\n')[0] ?? 'error' } });
    }
    const cfg = parseSystemdUnit(unitSection(text, unit), unit, envTexts);
    etcdConfigs.push(cfg);
    // The user etcd runs as, when not root (the planner's reading of User=/Group=, drop-ins included).
    if (cfg.runsAs) unitUsers.set(unit, cfg.runsAs);
    const state = activeState.get(unit);
    datastores.push({
      engine: 'etcd',
      managedBy: 'systemd',
      ...etcdFromConfig(cfg, null, null),
      unit,
      ...(envFile ? { envFile } : {}),
      running: state === undefined ? null : state === 'active',
      backups: [],
      backupJobs: [],
      newestGoodBackup: null,
      evidence,
    });
  }

  // kubeadm static pod (and kind, which is kubeadm in a container: /kind, or the kubelet's kind:// provider id)
  if (marked.has(KUBEADM_MANIFEST)) {
    const m = await p.run('etcd-manifest', `cat ${KUBEADM_MANIFEST}`);
    const cfg = parseStaticPodManifest(m.stdout, KUBEADM_MANIFEST);
    etcdConfigs.push(cfg);
    const dataDir = cfg.dataDir;
    const kubeletFlags = await p.run('kubelet-flags', `cat ${KUBEADM_FLAGS}`);
    const providerId = kubeletFlags.code === 0 ? (parseKubeletFlags(kubeletFlags.stdout)['provider-id'] ?? '') : '';
    const kind = marked.has('/kind') || providerId.startsWith('kind://');
    const running = etcdProcesses.some((l) => dataDir !== null && l.includes(`--data-dir=${dataDir}`)) ? true : etcdProcesses.length ? null : false;
    const ds: DetectedDatastore = {
      engine: 'etcd',
      managedBy: kind ? 'kind' : 'static-pod',
      ...etcdFromConfig(cfg, null, null),
      manifest: KUBEADM_MANIFEST,
      // An etcd process with this data dir runs; other etcd processes leave it open.
      running,
      backups: [],
      backupJobs: [],
      newestGoodBackup: null,
      evidence: [
        `static pod ${KUBEADM_MANIFEST}`,
        ...(marked.has('/kind') ? ['/kind exists: a kind node'] : []),
        ...(providerId.startsWith('kind://') ? [`kubelet --provider-id=${providerId} in ${KUBEADM_FLAGS}: a kind node`] : []),
      ],
    };
    ds.peerCheck = await peerCheck(p, cfg, tools, kind, running);
    if (ds.peerCheck.verdict === 'mismatch') ds.evidence.push(ds.peerCheck.explanation);
    datastores.push(ds);
  }

  if (marked.has(MICROK8S_BACKEND) || unitNames.includes('snap.microk8s.daemon-k8s-dqlite.service')) {
    const state = activeState.get('snap.microk8s.daemon-k8s-dqlite.service');
    datastores.push({
      engine: 'dqlite',
      managedBy: 'snap',
      dataDir: MICROK8S_BACKEND,
      unit: 'snap.microk8s.daemon-k8s-dqlite.service',
      running: state === undefined ? null : state === 'active',
      backups: [],
      backupJobs: [],
      newestGoodBackup: null,
      evidence: [marked.has(MICROK8S_BACKEND) ? `${MICROK8S_BACKEND} exists` : 'snap.microk8s.daemon-k8s-dqlite unit'],
    });
  }
  // k3s and RKE2: etcd inside their own binary (k3s may use SQLite instead), restored by the server's own reset.
  const distributionEtcd: { ds: DetectedDatastore; layout: DistributionLayout }[] = [];
  for (const layout of layouts) {
    const dist = layout.distribution;
    const etcdDir = `${layout.dbDir}/etcd`;
    const stateDb = `${layout.dbDir}/state.db`;
    const embedded = marked.has(etcdDir);
    if (!embedded && !(dist === 'k3s' && marked.has(stateDb))) continue;
    const unit = unitNames.includes(DISTRIBUTIONS[dist].unit) ? DISTRIBUTIONS[dist].unit : undefined;
    const state = unit ? activeState.get(unit) : undefined;
    const ds: DetectedDatastore = {
      engine: embedded ? 'etcd' : 'sqlite',
      managedBy: dist,
      dataDir: embedded ? etcdDir : stateDb,
      ...(unit ? { unit } : {}),
      running: state === undefined ? null : state === 'active',
      backups: [],
      backupJobs: [],
      newestGoodBackup: null,
      evidence: [`${embedded ? etcdDir : stateDb} exists`, ...layout.evidence],
    };
    datastores.push(ds);
    if (embedded) distributionEtcd.push({ ds, layout });
  }

  // etcd in a StatefulSet: a pod volume holding member/, the pod from its log dir, the member from a running etcd's environment.
  const podMembers = await p.run('pod-volumes', POD_VOLUME_MEMBERS_COMMAND);
  const volumes = parsePodVolumeMembers(podMembers.stdout);
  const statefulSets: { ds: DetectedDatastore; volume: (typeof volumes)[number]; pod: { namespace: string; pod: string } | undefined }[] = [];
  if (volumes.length) {
    const logDirs = parsePodLogDirs((await p.run('pod-logs', POD_LOG_DIRS_COMMAND)).stdout);
    const pids = etcdProcesses.map((l) => Number(/^(\d+) /.exec(l)?.[1])).filter((n) => Number.isInteger(n) && n > 0);
    const environs = pids.length ? parseEnvirons((await p.run('etcd-environ', etcdEnvironCommand(pids))).stdout) : new Map<number, Record<string, string>>();
    for (const v of volumes) {
      const pod = logDirs.get(v.podUid);
      // The etcd process of this pod: its data dir is this volume (same path) or its host name is the pod's.
      const match = [...environs.entries()].find(
        ([pid, env]) =>
          env.ETCD_DATA_DIR === v.dataDir ||
          (pod !== undefined && (env.HOSTNAME === pod.pod || env.MY_POD_NAME === pod.pod || env.POD_NAME === pod.pod)) ||
          etcdProcesses.some((l) => l.startsWith(`${pid} `) && l.includes(v.dataDir)),
      );
      const env = match?.[1] ?? {};
      const settings: Record<string, string> = {};
      for (const [k, val] of Object.entries(env)) if (k.startsWith('ETCD_')) settings[k.slice(5).toLowerCase().replace(/_/g, '-')] = val;
      const memberName = env.ETCD_NAME ?? pod?.pod ?? null;
      const evidence = [
        `member/ on the pod volume ${v.volume} (${v.plugin}) of pod ${v.podUid}: ${v.dataDir}`,
        pod
          ? `pod ${pod.namespace}/${pod.pod} (/var/log/pods/${pod.namespace}_${pod.pod}_${v.podUid})`
          : 'no /var/log/pods entry for this pod: its name and namespace are unknown',
        match
          ? `etcd process ${match[0]}: ETCD_NAME=${env.ETCD_NAME ?? '(unset)'}${env.ETCD_DATA_DIR ? `, ETCD_DATA_DIR=${env.ETCD_DATA_DIR} (inside the container)` : ''}`
          : memberName
            ? `member name ${memberName} assumed from the pod name (charts set ETCD_NAME to it); no running etcd process confirmed it`
            : 'member name unknown',
        'restore through the StatefulSet (scale to 0, restore into the volume, scale back), not through systemd',
      ];
      const ds: DetectedDatastore = {
        engine: 'etcd',
        managedBy: 'statefulset',
        dataDir: v.dataDir,
        ...(memberName ? { memberName } : {}),
        settings,
        running: match ? true : etcdProcesses.length ? null : false,
        backups: [],
        backupJobs: [],
        newestGoodBackup: null,
        evidence,
      };
      datastores.push(ds);
      statefulSets.push({ ds, volume: v, pod });
    }
  }

  // On a Docker host (no etcd of its own): kind's node containers and the addresses Docker gave them now.
  let kindContainers: NodeCard['kindContainers'];
  if (tools['docker'] && !datastores.some((d) => d.engine === 'etcd')) {
    const ids = await p.run('docker-kind', 'docker ps -aq --filter label=io.x-k8s.kind.cluster');
    if (ids.code !== 0) gap({ key: 'guided.card.gap.dockerSilent', params: { error: ids.stderr.trim().split('\n')[0] ?? `exit ${String(ids.code)}` } });
    else {
      const list = lines(ids.stdout)
        .filter((l) => /^[0-9a-f]{12,64}$/.test(l))
        .slice(0, 100);
      if (list.length) {
        const insp = await p.run('docker-inspect', `docker inspect ${list.join(' ')}`);
        const parsed = insp.code === 0 && !insp.truncated ? parseDockerInspect(insp.stdout) : null;
        if (parsed) {
          kindContainers = parsed;
          // Report 3 seen from the Docker host: each running control plane's etcd against the address it has now.
          const planes = parsed.filter((k) => k.role === 'control-plane' && k.state === 'running').slice(0, MAX_KIND_CONTAINERS_READ);
          for (const k of planes) {
            const check = await kindContainerPeerCheck(p, k.name, Object.values(k.addresses), gap);
            if (check) k.peerCheck = check;
          }
        } else gap({ key: 'guided.card.gap.dockerInspect' });
      } else kindContainers = [];
    }
  }

  // --- backups: cron, timers, scripts, the directories they write to
  const cron = await p.run(
    'crontabs',
    'for f in /var/spool/cron/crontabs/* /var/spool/cron/*; do [ -f "$f" ] && { echo "### $f"; cat "$f"; }; done; ' +
      'for f in /etc/crontab /etc/cron.d/*; do [ -f "$f" ] && { echo "### $f"; cat "$f"; }; done; ' +
      'for d in /etc/cron.hourly /etc/cron.daily /etc/cron.weekly /etc/cron.monthly; do [ -d "$d" ] && for f in "$d"/*; do [ -f "$f" ] && echo "### $f (run-parts)"; done; done; true',
  );
  if (/Permission denied/.test(cron.stderr) && !opts.sudo) gap({ key: 'guided.card.gap.crontabs' });
  const listing = parseCrontabListing(cron.stdout);
  const scriptPaths = new Set<string>();
  for (const e of listing.entries) for (const s of backupJobs({ entries: [e], runParts: [] }, new Map())[0]?.scripts ?? []) scriptPaths.add(s);
  for (const r of listing.runParts) if (/etcd|backup|snapshot/i.test(r.file)) scriptPaths.add(r.file);
  const timerServices: { timer: string; schedule: string; service: string }[] = [];
  if (timerNames.length) {
    const tc = await p.run(
      'timers-cat',
      `systemctl cat --no-pager ${timerNames.join(' ')} ${timerNames.map((t) => t.replace(/\.timer$/, '.service')).join(' ')}`,
      false,
    );
    const parsed = parseSystemctlCat(tc.stdout);
    for (const t of timerNames) {
      const base = t.replace(/\.timer$/, '');
      // parseSystemctlCat keys units by name without `.service`; a timer keeps `.timer`.
      const timer = parsed.get(t) ?? parsed.get(base);
      const schedule = timer?.entries.find((e) => e.key === 'OnCalendar')?.value ?? '';
      const svcArgs = execStartArgs(tc.stdout, `${base}.service`);
      const command = svcArgs.join(' ');
      timerServices.push({ timer: t, schedule, service: command });
      for (const s of backupJobs({ entries: [{ file: t, schedule, user: null, command }], runParts: [] }, new Map())[0]?.scripts ?? []) scriptPaths.add(s);
    }
  }
  const scripts = new Map<string, string>();
  const queue = [...scriptPaths];
  while (queue.length && scripts.size < MAX_SCRIPTS) {
    const path = queue.shift()!;
    if (scripts.has(path)) continue;
    const r = await p.run(`script:${path}`, `cat ${quoteIfNeeded(path)}`);
    if (r.code !== 0) {
      gap({ key: 'guided.card.gap.unreadable', params: { path, error: r.stderr.trim().split('\n')[0] ?? 'error' } });
      continue;
    }
    scripts.set(path, r.stdout);
    for (const c of parseBackupScript(r.stdout).calls) if (!scripts.has(c)) queue.push(c);
  }
  const jobs: BackupJob[] = backupJobs(listing, scripts);
  for (const t of timerServices) {
    const j = backupJobs({ entries: [{ file: t.timer, schedule: t.schedule, user: null, command: t.service }], runParts: [] }, scripts)[0];
    if (j) jobs.push({ ...j, kind: 'timer' });
  }

  // k3s and RKE2 write their own snapshots (etcd-snapshot-<node>-<time>, on-demand-<node>-<time>) into their snapshot dir.
  const ownSnapshotDirs = distributionEtcd.map((x) => x.layout.snapshotDir);
  const searchDirs = [...new Set([...jobs.flatMap((j) => j.targetDirs), ...ownSnapshotDirs, ...USUAL_BACKUP_DIRS])];
  const found = await p.run(
    'backups-find',
    `find ${searchDirs.map(quoteIfNeeded).join(' ')} -maxdepth 4 -type f \\( -name '*.db' -o -name 'snapshot*' -o -name '*.db.gz' -o -name '*.db.zst' -o -name '*.db.xz' -o -name '*.db.bz2' -o -name 'etcd-snapshot-*' -o -name 'on-demand-*' \\) -printf '%T@\\t%s\\t%p\\n' 2>/dev/null | sort -rn | head -n ${MAX_BACKUPS}; true`,
  );
  const backups: BackupFile[] = [];
  const seen = new Set<string>();
  for (const l of found.stdout.split('\n')) {
    const m = /^(\d+(?:\.\d+)?)\t(\d+)\t(\/.+)$/.exec(l);
    // Nested search dirs (/var/backups and /var/backups/kube_etcd) list a file twice.
    if (!m || seen.has(m[3]!)) continue;
    const file = m[3]!;
    seen.add(file);
    const job = jobs.find((j) => j.targetDirs.some((d) => file.startsWith(`${d}/`)));
    const own = distributionEtcd.find((x) => file.startsWith(`${x.layout.snapshotDir}/`));
    backups.push({
      path: file,
      bytes: Number(m[2]),
      mtime: new Date(Math.round(Number(m[1]) * 1000)).toISOString(),
      valid: null,
      foundBy: job ? `${job.kind} ${job.where}` : own ? `${own.layout.distribution} snapshot dir ${own.layout.snapshotDir}` : 'search',
    });
  }
  // Hash-check newest first, until `maxHashChecks`; each check reads the file on the node (read-only).
  const maxChecks = opts.maxHashChecks ?? 10;
  let checked = 0;
  for (const b of backups) {
    if (checked >= maxChecks) {
      b.problemText = { key: 'guided.card.problem.notChecked' };
      b.problem = translateLocal('en', b.problemText);
      continue;
    }
    checked++;
    const r = await p.run(`backup-check:${b.path}`, snapshotDbProbeCommand(b.path), opts.sudo, 'backupCheck');
    const verdict = checkSnapshotDbProbe(r.stdout, r.code, b.path);
    b.valid = verdict.valid;
    if (verdict.problem) b.problem = verdict.problem;
    if (verdict.problemText) b.problemText = verdict.problemText;
    if (verdict.compressed) b.compressed = verdict.compressed;
    if (verdict.decompressCommand) b.decompressCommand = verdict.decompressCommand;
    if (verdict.decompressedPath) b.decompressedPath = verdict.decompressedPath;
  }
  // etcdctl restores only a plain file: a good compressed backup is shown with its command (newerCompressedBackup).
  const newestGood = backups.find((b) => b.valid === true && !b.compressed)?.path ?? null;
  let configIndex = 0;
  for (const d of datastores) {
    if (d.engine !== 'etcd') continue;
    d.backups = backups;
    d.backupJobs = jobs;
    d.newestGoodBackup = newestGood;
    const cfg = d.managedBy === 'systemd' || d.managedBy === 'static-pod' || d.managedBy === 'kind' ? etcdConfigs[configIndex++] : undefined;
    if (cfg) Object.assign(d, etcdFromConfig(cfg, newestGood, d.running));
  }
  // k3s and RKE2 restore a zip from --etcd-snapshot-compress as it is (they unpack it themselves): their newest good
  // snapshot may be one, read through unzip (or Python) above.
  const newestGoodForDistribution = backups.find((b) => b.valid === true && (!b.compressed || (b.compressed === 'zip' && isZipSnapshot(b.path))))?.path ?? null;
  for (const { ds, layout } of distributionEtcd) {
    ds.newestGoodBackup = newestGoodForDistribution;
    const from = newestGoodForDistribution;
    if (from && ds.running !== true) {
      ds.restore = {
        from,
        commands: distributionRestoreCommands(layout, ds.unit, from),
        text: {
          key: 'guided.card.distributionRestore',
          params: { dbDir: layout.dbDir, from },
          texts: { tool: [{ key: `guided.card.managedBy.${layout.distribution}` }] },
        },
      };
    }
  }
  for (const st of statefulSets) st.ds.statefulSet = statefulSetMember(st.volume, st.pod, st.ds.memberName ?? '<member name>', newestGood);
  if (datastores.length === 0 && backups.length) {
    gap({ key: 'guided.card.gap.orphanBackups' });
  }
  const warnings = twoEtcdWarning(datastores);
  // An etcd that runs as its own user and a data dir someone else owns (a restore run with sudo): it will not start.
  for (const d of datastores) {
    const runs = d.unit ? unitUsers.get(d.unit) : undefined;
    if (!runs || !d.dataDir?.startsWith('/')) continue;
    const dirs = [d.dataDir, ...(d.walDir?.startsWith('/') ? [d.walDir] : [])];
    const probe = await p.run(`ownership:${d.dataDir}`, foreignOwnedProbeCommand(dirs, runs.user));
    const owned = parseForeignOwnedProbe(probe.stdout);
    if (!owned || owned.count === 0) continue;
    const owner = runs.group ? `${runs.user}:${runs.group}` : `${runs.user}:`;
    warnings.push({
      key: 'guided.card.warn.foreignOwner',
      params: {
        unit: d.unit!,
        user: runs.user,
        dataDir: d.dataDir,
        count: owned.count,
        paths: owned.paths.map((x) => `${x.path} (${x.owner})`).join(', '),
        command: `chown -R ${quoteIfNeeded(owner)} ${dirs.map(quoteIfNeeded).join(' ')}`,
      },
    });
  }

  // --- disk where the data lives
  const disk: NodeCard['disk'] = [];
  const dataPaths = [...new Set(datastores.map((d) => d.dataDir).filter((x): x is string => !!x && x.startsWith('/')))];
  if (dataPaths.length) {
    const df = await p.run('disk', `df -B1 --output=target,size,avail,pcent ${dataPaths.map(quoteIfNeeded).join(' ')} 2>/dev/null; true`);
    for (const l of lines(df.stdout).slice(1)) {
      const f = l.split(/\s+/);
      if (f.length < 4) continue;
      disk.push({ path: f[0]!, sizeBytes: Number(f[1]), availableBytes: Number(f[2]), usePercent: Number(f[3]!.replace('%', '')) });
    }
  }

  for (const t of p.timedOut) gap(timedOutGap(t));

  return {
    target: opts.target,
    hostname: sysLines[0] ?? null,
    kernel: sysLines[1] ?? null,
    os: sysLines.find((l, i) => i > 1 && !/^\d{4}-/.test(l)) ?? null,
    time,
    clockSkewSeconds: skew,
    addresses: [...new Set(addresses)],
    disk,
    tools,
    datastores,
    sudo: opts.sudo,
    probes: p.records,
    gaps,
    gapTexts,
    ...(warnings.length ? { warnings } : {}),
    ...(kindContainers ? { kindContainers } : {}),
  };
}

/**
 * etcd set up twice on one node, as a systemd unit and as a kubeadm static pod (a KubeKey node later joined with
 * kubeadm, a manual install beside it): only one can hold etcd's ports, the other dies with "bind: address
 * already in use", and on one data dir they would take turns writing it. Said before any recovery step.
 */
function twoEtcdWarning(datastores: readonly DetectedDatastore[]): LocalText[] {
  const unit = datastores.find((d) => d.engine === 'etcd' && d.managedBy === 'systemd');
  const pod = datastores.find((d) => d.engine === 'etcd' && (d.managedBy === 'static-pod' || d.managedBy === 'kind'));
  if (!unit || !pod) return [];
  const params = { unit: unit.unit ?? 'etcd.service', manifest: pod.manifest ?? KUBEADM_MANIFEST, unitDir: unit.dataDir ?? '?', podDir: pod.dataDir ?? '?' };
  const same = unit.dataDir !== null && unit.dataDir !== undefined && unit.dataDir === pod.dataDir;
  return [{ key: same ? 'guided.card.warn.twoEtcdSameDir' : 'guided.card.warn.twoEtcd', params }];
}

/** The flags that name this member's peer URLs, as checkPeerAddresses compares them with the node's addresses. */
function peerFlags(cfg: EtcdMemberConfig): { flag: string; value: string | undefined }[] {
  return ['initial-advertise-peer-urls', 'listen-peer-urls', 'initial-cluster'].map((flag) => ({ flag, value: cfg.flags[flag] }));
}

/**
 * A kind control-plane container's etcd, read inside it from the Docker host (`docker exec`, read-only): the
 * manifest's peer URLs and the member records in its db against the addresses Docker gave the container now. etcd
 * there cannot answer (no leader, or it cannot bind its old address), so the records are read in place, as on a node.
 */
async function kindContainerPeerCheck(
  p: ProbeRunner,
  name: string,
  addresses: string[],
  gap: (text: LocalText) => void,
): Promise<NonNullable<DetectedDatastore['peerCheck']> | null> {
  const manifestCommand = inKindContainer(name, `cat ${KUBEADM_MANIFEST}`);
  if (!manifestCommand) return null;
  const m = await p.run(`kind-manifest:${name}`, manifestCommand);
  if (m.code !== 0 || m.truncated) {
    gap({ key: 'guided.card.gap.kindManifest', params: { name, error: m.stderr.trim().split('\n')[0] || `exit ${String(m.code)}` } });
    return null;
  }
  const cfg = parseStaticPodManifest(m.stdout, KUBEADM_MANIFEST);
  let members: { id: string; name: string; peerUrls: string[] }[] = [];
  if (cfg.dataDir) {
    const r = await p.run(`kind-db-members:${name}`, inKindContainer(name, dbMemberRecordsCommand(cfg.dataDir))!);
    members = parseDbMemberRecords(r.stdout);
  }
  return checkPeerAddresses({
    nodeAddresses: addresses,
    configured: peerFlags(cfg),
    members,
    membersFrom: members.length ? 'member/snap/db' : null,
    memberName: cfg.name,
    kind: true,
  });
}

/**
 * The node's addresses now against the peer URLs in the manifest and in etcd's
 * member records: `etcdctl member list` when etcd answers, else the records
 * read in place from member/snap/db (etcd cannot answer when it cannot bind
 * its old address, the usual kind-after-restart state).
 */
async function peerCheck(
  p: ProbeRunner,
  cfg: EtcdMemberConfig,
  tools: Record<string, string | null>,
  kind: boolean,
  running: boolean | null,
): Promise<NonNullable<DetectedDatastore['peerCheck']>> {
  const ip = await p.run('addresses-o', 'ip -o addr', false);
  const nodeAddresses = [...new Set(parseIpOAddr(ip.stdout).map((a) => a.address))];
  let members: { id: string; name: string; peerUrls: string[] }[] = [];
  let membersFrom: 'etcdctl member list' | 'member/snap/db' | null = null;
  if (tools['etcdctl'] && running !== false) {
    const endpoint = (cfg.advertiseClientUrls ?? cfg.listenClientUrls ?? '').split(',')[0]?.trim().replace('://0.0.0.0', '://127.0.0.1');
    if (endpoint) {
      const tls = [
        cfg.cacert ? `--cacert=${quoteIfNeeded(cfg.cacert)}` : '',
        cfg.cert ? `--cert=${quoteIfNeeded(cfg.cert)}` : '',
        cfg.key ? `--key=${quoteIfNeeded(cfg.key)}` : '',
      ]
        .filter(Boolean)
        .join(' ');
      const r = await p.run(
        'etcd-members',
        `ETCDCTL_API=3 etcdctl --endpoints=${quoteIfNeeded(endpoint)}${tls ? ` ${tls}` : ''} --dial-timeout=3s --command-timeout=5s member list -w json`,
      );
      const parsed = r.code === 0 ? parseMemberListJson(r.stdout) : null;
      if (parsed) {
        members = parsed;
        membersFrom = 'etcdctl member list';
      }
    }
  }
  if (!membersFrom && cfg.dataDir) {
    const r = await p.run('etcd-db-members', dbMemberRecordsCommand(cfg.dataDir));
    const parsed = parseDbMemberRecords(r.stdout);
    if (parsed.length) {
      members = parsed;
      membersFrom = 'member/snap/db';
    }
  }
  return checkPeerAddresses({
    nodeAddresses,
    configured: peerFlags(cfg),
    members,
    membersFrom,
    memberName: cfg.name,
    kind,
  });
}
