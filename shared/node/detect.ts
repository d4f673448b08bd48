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
import { parseStaticPodManifest, parseSystemdUnit, planRestore } from '../formats/etcd/restore-plan';
import { environmentFiles, parseIpBrief, parseSystemctlCat, type ProbeOutput } from './facts-parse';
import { quoteIfNeeded } from './shell';
import { checkSnapshotDbProbe, snapshotDbProbeCommand } from './backup-check';

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
}

/** Runs one shell command on the node (through sudo when asked and allowed). */
export interface NodeExecutor {
  run(command: string, opts: { sudo: boolean; maxOutputBytes: number }): Promise<ExecResult>;
}

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
}

const MAX_OUTPUT = 256 * 1024;
const MAX_SCRIPTS = 12;
const MAX_BACKUPS = 200;

export const KUBEADM_MANIFEST = '/etc/kubernetes/manifests/etcd.yaml';
export const MICROK8S_BACKEND = '/var/snap/microk8s/current/var/kubernetes/backend';
const K3S_DB = '/var/lib/rancher/k3s/server/db';
/** Where backups are often kept even when no job names them. */
const USUAL_BACKUP_DIRS = ['/var/backups', '/var/lib/etcd-backup', '/backup', '/opt/etcd-backup'];

const UNIT_NAME = /^(etcd[\w@.-]*|k3s[\w@.-]*|snap\.microk8s\.daemon-k8s-dqlite|kubelet)\.service$/;

class ProbeRunner {
  readonly records: ProbeRecord[] = [];
  constructor(
    private readonly exec: NodeExecutor,
    private readonly opts: DetectOptions,
  ) {}
  async run(id: string, command: string, sudo = this.opts.sudo): Promise<ProbeRecord> {
    this.opts.onProbe?.({ id, command, sudo }, null);
    const at = (this.opts.now ?? Date.now)();
    let r: ExecResult;
    try {
      r = await this.exec.run(command, { sudo, maxOutputBytes: MAX_OUTPUT });
    } catch (err) {
      r = { code: null, stdout: '', stderr: err instanceof Error ? err.message : String(err), truncated: false };
    }
    const rec: ProbeRecord = { id, command, sudo, code: r.code, stdout: r.stdout, stderr: r.stderr, truncated: r.truncated, at };
    this.records.push(rec);
    this.opts.onProbe?.({ id, command, sudo }, rec);
    return rec;
  }
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

export async function detectNode(exec: NodeExecutor, opts: DetectOptions): Promise<NodeCard> {
  const p = new ProbeRunner(exec, opts);
  const gaps: string[] = [];

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
  const markers = await p.run(
    'markers',
    `ls -d ${KUBEADM_MANIFEST} ${MICROK8S_BACKEND} ${K3S_DB}/state.db ${K3S_DB}/etcd /kind 2>/dev/null; pgrep -a -x etcd 2>/dev/null | head -n 5`,
  );
  const marked = new Set(lines(markers.stdout).filter((l) => l.startsWith('/')));
  const etcdProcesses = lines(markers.stdout).filter((l) => /^\d+ /.test(l));

  const datastores: DetectedDatastore[] = [];

  // systemd-managed etcd (KubeKey, kubespray, by hand). Configurations are kept to plan restores once backups are known.
  const etcdConfigs: EtcdMemberConfig[] = [];
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
      } else if (!ef.optional) gaps.push(`could not read ${ef.path} (${r.stderr.trim().split('\n')[0] ?? 'error'})`);
    }
    const cfg = parseSystemdUnit(unitSection(text, unit), unit, envTexts);
    etcdConfigs.push(cfg);
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

  // kubeadm static pod (and kind, which is kubeadm in a container)
  if (marked.has(KUBEADM_MANIFEST)) {
    const m = await p.run('etcd-manifest', `cat ${KUBEADM_MANIFEST}`);
    const cfg = parseStaticPodManifest(m.stdout, KUBEADM_MANIFEST);
    etcdConfigs.push(cfg);
    const dataDir = cfg.dataDir;
    datastores.push({
      engine: 'etcd',
      managedBy: marked.has('/kind') ? 'kind' : 'static-pod',
      ...etcdFromConfig(cfg, null, null),
      manifest: KUBEADM_MANIFEST,
      // An etcd process with this data dir runs; other etcd processes leave it open.
      running: etcdProcesses.some((l) => dataDir !== null && l.includes(`--data-dir=${dataDir}`)) ? true : etcdProcesses.length ? null : false,
      backups: [],
      backupJobs: [],
      newestGoodBackup: null,
      evidence: [`static pod ${KUBEADM_MANIFEST}`, ...(marked.has('/kind') ? ['/kind exists: a kind node'] : [])],
    });
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
  if (marked.has(`${K3S_DB}/state.db`) || marked.has(`${K3S_DB}/etcd`)) {
    const embedded = marked.has(`${K3S_DB}/etcd`);
    const state = activeState.get('k3s.service');
    datastores.push({
      engine: embedded ? 'etcd' : 'sqlite',
      managedBy: 'k3s',
      dataDir: embedded ? `${K3S_DB}/etcd` : `${K3S_DB}/state.db`,
      ...(unitNames.includes('k3s.service') ? { unit: 'k3s.service' } : {}),
      running: state === undefined ? null : state === 'active',
      backups: [],
      backupJobs: [],
      newestGoodBackup: null,
      evidence: [`${embedded ? `${K3S_DB}/etcd` : `${K3S_DB}/state.db`} exists`],
    });
  }

  // --- backups: cron, timers, scripts, the directories they write to
  const cron = await p.run(
    'crontabs',
    'for f in /var/spool/cron/crontabs/* /var/spool/cron/*; do [ -f "$f" ] && { echo "### $f"; cat "$f"; }; done; ' +
      'for f in /etc/crontab /etc/cron.d/*; do [ -f "$f" ] && { echo "### $f"; cat "$f"; }; done; ' +
      'for d in /etc/cron.hourly /etc/cron.daily /etc/cron.weekly /etc/cron.monthly; do [ -d "$d" ] && for f in "$d"/*; do [ -f "$f" ] && echo "### $f (run-parts)"; done; done; true',
  );
  if (/Permission denied/.test(cron.stderr) && !opts.sudo) gaps.push('user crontabs are root-only: detect with sudo to see them');
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
      gaps.push(`could not read ${path} (${r.stderr.trim().split('\n')[0] ?? 'error'})`);
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

  const searchDirs = [...new Set([...jobs.flatMap((j) => j.targetDirs), ...USUAL_BACKUP_DIRS])];
  const found = await p.run(
    'backups-find',
    `find ${searchDirs.map(quoteIfNeeded).join(' ')} -maxdepth 4 -type f \\( -name '*.db' -o -name 'snapshot*' \\) -printf '%T@\\t%s\\t%p\\n' 2>/dev/null | sort -rn | head -n ${MAX_BACKUPS}; true`,
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
    backups.push({
      path: file,
      bytes: Number(m[2]),
      mtime: new Date(Math.round(Number(m[1]) * 1000)).toISOString(),
      valid: null,
      foundBy: job ? `${job.kind} ${job.where}` : 'search',
    });
  }
  // Hash-check newest first, until `maxHashChecks`; each check reads the file on the node (read-only).
  const maxChecks = opts.maxHashChecks ?? 10;
  let checked = 0;
  for (const b of backups) {
    if (checked >= maxChecks) {
      b.problem = 'not checked (older than the newest checked backups)';
      continue;
    }
    checked++;
    const r = await p.run(`backup-check:${b.path}`, snapshotDbProbeCommand(b.path));
    const verdict = checkSnapshotDbProbe(r.stdout, r.code);
    b.valid = verdict.valid;
    if (verdict.problem) b.problem = verdict.problem;
  }
  const newestGood = backups.find((b) => b.valid === true)?.path ?? null;
  let configIndex = 0;
  for (const d of datastores) {
    if (d.engine !== 'etcd') continue;
    d.backups = backups;
    d.backupJobs = jobs;
    d.newestGoodBackup = newestGood;
    const cfg = d.managedBy === 'systemd' || d.managedBy === 'static-pod' || d.managedBy === 'kind' ? etcdConfigs[configIndex++] : undefined;
    if (cfg) Object.assign(d, etcdFromConfig(cfg, newestGood, d.running));
  }
  if (datastores.length === 0 && backups.length) {
    gaps.push('etcd backups exist but no etcd unit, static pod, MicroK8s or k3s was found');
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
  };
}
