/**
 * The restore planner for a cluster of several etcd members: what to do when
 * (a) one member lost its data while still a member (field report 4: it
 * panics with `tocommit(N) is out of range [lastIndex(0)]`), (b) quorum is
 * lost and the cluster is rebuilt from the survivor with the newest data
 * (`--force-new-cluster`, chosen by the several-members table), or its
 * members were restarted at addresses they are not registered at (kind after
 * a Docker restart), and (c) a snapshot.db restored to every member.
 *
 * Like the single-member planner (restore-plan.ts) the output is data: every
 * step has an explanation, the exact command, the files it touches, the paths
 * to back up first and what could get worse, in English and Chinese, and
 * names the member it runs on (`node`) when that is not the plan's own. The
 * guided playbooks (shared/guided/playbooks/etcd-members.ts) are generated
 * from these plans with placeholder members (`{{dataDir}}` ...), so what a
 * session runs and what `lifeboat` prints are the same commands.
 *
 * Facts of etcd 3.4 this relies on (checked against the real binary by
 * test/guided/session-members-*.test.ts):
 * - A member whose data dir is gone but which is still registered starts with
 *   an empty log; with `--initial-cluster-state existing` the leader's first
 *   heartbeat carries the old commit index and raft panics (`tocommit(N) is
 *   out of range [lastIndex(0)]`). With `new` it refuses instead (`member ...
 *   has already been bootstrapped`). The way back is remove, add, start fresh.
 * - `--force-new-cluster` keeps the member's data and rewrites the membership
 *   to this member alone, at the peer URL it is registered with (not the one
 *   in its flags); it must be dropped again before the next restart.
 * - `member update` needs a leader: with every member at a new address no
 *   member reaches another, so the registered URLs cannot be changed in place;
 *   after `--force-new-cluster` the survivor is its own leader and can.
 * - A member without a leader serves no client request at all (3.4 waits to
 *   publish itself first), so etcdctl cannot show the registered URLs then;
 *   its log can: `added member ID [URL]` and `dial tcp ADDRESS` failures.
 */
import type { EtcdMemberComparison } from '../../contract/etcd';
import type { EtcdMemberConfig, RestoreStep } from '../../contract/etcd-repair';
import type { BiText } from '../../contract/guided';
import type { LocalText } from '../../contract/text';
import { hasMessage, translate, translateLocal, type Locale } from '../../i18n/index';
import { clientEndpoint, dirname, envNameOf, planRestore, shq, tlsFlags } from './restore-plan';
import { stripTrailingSlashes } from '../../text/trailing-slashes';

/** One step of a multi-member plan: a RestoreStep with the words a guided session shows. */
export interface ClusterStep extends RestoreStep {
  /** Stable id (the playbook step id when a playbook is generated from the plan). */
  id: string;
  title: BiText;
  /** `explanation` in both languages. */
  why: BiText;
  /** `risk` in both languages (empty strings when the step changes nothing). */
  riskText: BiText;
  /** Node paths to back up (tar + SHA-256) before the step runs; empty for read-only steps. */
  backup: string[];
  /** Read-only steps: what the output must show to pass. */
  expect?: { exitCode?: number; outputMatches?: string; outputNotMatches?: string };
  /** Poll a read-only step until `expect` holds. */
  poll?: { intervalSeconds: number; timeoutSeconds: number };
  /** Values the step's output provides to later steps (name -> linear regex, one group). */
  captures?: Record<string, string>;
  /** Step id to go to when a read-only step does not pass (default: stop and ask). */
  onFail?: string;
}

export type ClusterPlanKind = 'member-replace' | 'force-new-cluster' | 'cluster-restore';

export interface ClusterPlan {
  kind: ClusterPlanKind;
  /** The member the plan is about: the lost one (a), the survivor (b), or the first member (c). */
  member: string;
  steps: ClusterStep[];
  /** What keeps the plan from being complete or safe, in words. */
  problems: string[];
  /** `problems` as catalog sentences, one for one (shared/i18n/etcd-cluster-plan-text.ts). */
  problemTexts?: LocalText[];
}

/** How etcdctl is called and how the member is addressed; placeholders allowed (playbook templates). */
export interface ClusterPlanCommon {
  /** Suffix for moved-aside and copied data dirs (default `lifeboat-aside`). */
  asideSuffix?: string;
  /** etcdctl's TLS flags as a raw fragment (default: from the member's --trusted-ca-file/--cert-file/--key-file). */
  etcdctlTls?: string;
  /** Where a static pod manifest is parked while etcd is stopped (default `<manifests>/../manifests.lifeboat-stopped`). */
  parkedManifestDir?: string;
}

const NONE: BiText = { en: '', 'zh-CN': '' };

/** A plan's problems in English and as catalog sentences, kept one for one. */
interface Problems {
  problems: string[];
  problemTexts: LocalText[];
}

function noProblems(): Problems {
  return { problems: [], problemTexts: [] };
}

/** `once`: not when the same English problem is listed already (a member re-added after the survivor). */
function addProblem(list: Problems, local: LocalText, once = false): void {
  const english = translateLocal('en', local);
  if (once && list.problems.includes(english)) return;
  list.problems.push(english);
  list.problemTexts.push(local);
}

function problemText(key: string, params: Record<string, string | number>): LocalText {
  return { key, params };
}

/** Problems of the single-member planner or a member's configuration, as sentences (their own when they line up). */
/** The members table's reason in `locale`: its sentence when it has a known one that says the same as the English. */
function reasonIn(locale: Locale, c: EtcdMemberComparison): string {
  return c.reasonText && hasMessage(c.reasonText.key) && translateLocal('en', c.reasonText) === c.reason ? translateLocal(locale, c.reasonText) : c.reason;
}

function ownProblems(p: { problems: string[]; problemTexts?: LocalText[] }): LocalText[] {
  const texts = p.problemTexts?.length === p.problems.length ? p.problemTexts : undefined;
  return p.problems.map((text, i) => texts?.[i] ?? problemText('etcd-cluster.problem.as-is', { text }));
}
const bi = (en: string, zh: string): BiText => ({ en, 'zh-CN': zh });
const PLACEHOLDER = /\{\{(?:raw:)?[A-Za-z][A-Za-z0-9_]*\}\}/;

function step(s: Omit<ClusterStep, 'explanation' | 'risk'>): ClusterStep {
  // A change of several lines stops at the first that fails (the session runs it as one `sh -c`).
  const command = s.kind !== 'check' && s.kind !== 'verify' && s.command.includes('\n') ? `set -e\n${s.command}` : s.command;
  return { ...s, command, explanation: s.why.en, risk: s.riskText.en };
}

function ctl(endpoint: string, tls: string): string {
  return `ETCDCTL_API=3 etcdctl --endpoints=${shq(endpoint)}${tls ? ` ${tls}` : ''}`;
}

function tlsOf(cfg: EtcdMemberConfig, common: ClusterPlanCommon): string {
  return common.etcdctlTls ?? tlsFlags(cfg);
}

function memberName(cfg: EtcdMemberConfig): string {
  return cfg.name ?? 'default';
}

function dataDirOf(cfg: EtcdMemberConfig): string {
  return cfg.dataDir ?? `${memberName(cfg)}.etcd`;
}

function peerUrlOf(cfg: EtcdMemberConfig): string | null {
  return cfg.initialAdvertisePeerUrls?.split(',')[0]?.trim() || null;
}

/** Where the manifest lives and where it is parked while etcd is stopped. */
function manifestPaths(cfg: EtcdMemberConfig, common: ClusterPlanCommon): { live: string; parked: string; parkedDir: string } {
  const live = cfg.manifestPath ?? '/etc/kubernetes/manifests/etcd.yaml';
  // A placeholder path has no directory to derive from: kubeadm's is the default.
  const dir = PLACEHOLDER.test(live) ? '/etc/kubernetes/manifests' : dirname(live);
  const name = PLACEHOLDER.test(live) ? 'etcd.yaml' : live.slice(live.lastIndexOf('/') + 1);
  const parkedDir = common.parkedManifestDir ?? `${dirname(dir)}/manifests.lifeboat-stopped`;
  return { live, parked: `${parkedDir}/${name}`, parkedDir };
}

function unitOf(cfg: EtcdMemberConfig): string {
  return cfg.unitName ?? 'etcd.service';
}

/** The unit file a systemd member's flags are edited in when it has no EnvironmentFile. */
function unitFileOf(cfg: EtcdMemberConfig): string {
  const u = unitOf(cfg);
  return u.startsWith('/') ? u : `/etc/systemd/system/${u.endsWith('.service') || PLACEHOLDER.test(u) ? u : `${u}.service`}`;
}

/** Stop etcd on the member (park the manifest / systemctl stop). */
function stopStep(cfg: EtcdMemberConfig, common: ClusterPlanCommon, id: string, node?: string): ClusterStep[] {
  const name = memberName(cfg);
  if (cfg.style === 'static-pod') {
    const m = manifestPaths(cfg, common);
    return [
      step({
        id,
        node,
        kind: 'stop',
        title: bi(`Stop etcd on ${name}`, `停止 ${name} 上的 etcd`),
        why: bi(
          `The kubelet runs etcd from ${m.live}: moving the manifest to ${m.parkedDir} makes it stop the pod (the manifest is parked, not deleted).`,
          `kubelet 依据 ${m.live} 运行 etcd：将清单移到 ${m.parkedDir} 会使其停止该 Pod（清单只是暂存，不会删除）。`,
        ),
        command: `mkdir -p ${shq(m.parkedDir)} && mv ${shq(m.live)} ${shq(m.parked)}`,
        filesTouched: [m.live, m.parked],
        backup: [m.live],
        riskText: bi(
          'This member stops serving until it is started again; the others keep quorum only if enough of them run.',
          '该成员在重新启动前停止服务；只有足够多的其他成员在运行时才能保持法定人数。',
        ),
      }),
      // crictl, not pgrep: it sees this node's pods only (a host running several kind nodes shares one process table).
      waitStoppedStep(cfg, `${id}-wait`, node, `crictl ps --name etcd 2>/dev/null | grep -q Running && echo running || echo stopped`),
    ];
  }
  const unit = unitOf(cfg);
  return [
    step({
      id,
      node,
      kind: 'stop',
      title: bi(`Stop etcd on ${name}`, `停止 ${name} 上的 etcd`),
      why: bi(
        `etcd runs as the systemd unit ${unit}; it must not run while its data dir is moved.`,
        `etcd 以 systemd 单元 ${unit} 运行；移动其数据目录时它不能运行。`,
      ),
      command: `systemctl stop ${shq(unit)}`,
      filesTouched: [unit],
      backup: [cfg.environmentFile ?? unitFileOf(cfg)],
      riskText: bi(
        'This member stops serving until it is started again; the others keep quorum only if enough of them run.',
        '该成员在重新启动前停止服务；只有足够多的其他成员在运行时才能保持法定人数。',
      ),
    }),
    waitStoppedStep(cfg, `${id}-wait`, node, `systemctl is-active ${shq(unit)}; true`),
  ];
}

function waitStoppedStep(cfg: EtcdMemberConfig, id: string, node: string | undefined, command: string): ClusterStep {
  return step({
    id,
    node,
    kind: 'check',
    title: bi(`Wait until etcd on ${memberName(cfg)} has stopped`, `等待 ${memberName(cfg)} 上的 etcd 停止`),
    why: bi('Polls until no etcd runs on this data dir.', '轮询直到没有 etcd 使用此数据目录。'),
    command,
    filesTouched: [],
    backup: [],
    riskText: NONE,
    expect: { outputMatches: '^(stopped|inactive|failed|unknown)$' },
    poll: { intervalSeconds: 1, timeoutSeconds: 60 },
  });
}

/** Start etcd again (manifest back / systemctl start). */
function startStep(cfg: EtcdMemberConfig, common: ClusterPlanCommon, id: string, why: BiText, risk: BiText, node?: string): ClusterStep {
  const name = memberName(cfg);
  if (cfg.style === 'static-pod') {
    const m = manifestPaths(cfg, common);
    return step({
      id,
      node,
      kind: 'start',
      title: bi(`Start etcd on ${name}`, `启动 ${name} 上的 etcd`),
      why,
      command: `mv ${shq(m.parked)} ${shq(m.live)}`,
      filesTouched: [m.live],
      backup: [m.parked],
      riskText: risk,
    });
  }
  return step({
    id,
    node,
    kind: 'start',
    title: bi(`Start etcd on ${name}`, `启动 ${name} 上的 etcd`),
    why,
    command: `systemctl start ${shq(unitOf(cfg))}`,
    filesTouched: [unitOf(cfg)],
    backup: [cfg.environmentFile ?? unitFileOf(cfg)],
    riskText: risk,
  });
}

/**
 * Commands that set (value) or drop (null) start-up flags where this member's
 * configuration keeps them: the (parked or live) static pod manifest, the
 * unit's EnvironmentFile, or the unit's ExecStart line. Values go through a
 * shell variable so a placeholder or an odd character never lands inside the
 * sed script's quotes.
 */
function setFlagsCommand(cfg: EtcdMemberConfig, flags: [string, string | null][], file: string): string {
  const lines: string[] = [];
  for (const [flag, value] of flags) {
    if (cfg.style === 'static-pod') {
      lines.push(`sed -i '/^[[:space:]]*- --${flag}=/d;/^[[:space:]]*- --${flag}$/d' ${shq(file)}`);
      if (value !== null) {
        lines.push(`v=${shq(value)}; sed -i "s|^\\([[:space:]]*\\)- --data-dir=.*$|&\\n\\1- --${flag}=$v|" ${shq(file)}`);
      }
    } else if (cfg.environmentFile) {
      const env = envNameOf(flag);
      lines.push(`sed -i '/^[[:space:]]*\\(export[[:space:]]\\+\\)\\?${env}=/d' ${shq(file)}`);
      if (value !== null) lines.push(`v=${shq(value)}; printf '%s\\n' "${env}=$v" >> ${shq(file)}`);
    } else {
      lines.push(`sed -i -E 's# --${flag}(=| )[^ ]*##' ${shq(file)}`);
      if (value !== null) lines.push(`v=${shq(value)}; sed -i -E "s#^(ExecStart=.*)\\$#\\1 --${flag}=$v#" ${shq(file)}`);
    }
  }
  if (cfg.style !== 'static-pod' && !cfg.environmentFile) lines.push('systemctl daemon-reload');
  return lines.join('\n');
}

/** The file setFlagsCommand edits: parked manifest while stopped, else the live one; env file; unit file. */
function flagFile(cfg: EtcdMemberConfig, common: ClusterPlanCommon, stopped: boolean): string {
  if (cfg.style === 'static-pod') {
    const m = manifestPaths(cfg, common);
    return stopped ? m.parked : m.live;
  }
  return cfg.environmentFile ?? unitFileOf(cfg);
}

function moveAsideStep(cfg: EtcdMemberConfig, common: ClusterPlanCommon, id: string, node?: string): ClusterStep {
  const data = dataDirOf(cfg);
  const aside = `${stripTrailingSlashes(data)}.${common.asideSuffix ?? 'lifeboat-aside'}`;
  const wal = cfg.walDir
    ? `\nif [ -e ${shq(cfg.walDir)} ]; then test ! -e ${shq(`${cfg.walDir}.${common.asideSuffix ?? 'lifeboat-aside'}`)} && mv ${shq(cfg.walDir)} ${shq(`${cfg.walDir}.${common.asideSuffix ?? 'lifeboat-aside'}`)}; fi`
    : '';
  return step({
    id,
    node,
    kind: 'move-aside',
    title: bi(`Move ${memberName(cfg)}'s data dir aside`, `将 ${memberName(cfg)} 的数据目录移到一旁`),
    why: bi(
      `The member must rejoin with an empty data dir; what is left of the old one goes to ${aside} (never deleted: it is evidence, and may hold data the others lack).`,
      `该成员必须以空数据目录重新加入；旧目录剩下的内容移到 ${aside}（不删除：它是证据，且可能含有其他成员没有的数据）。`,
    ),
    command: `test ! -e ${shq(aside)}\nif [ -e ${shq(data)} ]; then mv ${shq(data)} ${shq(aside)}; fi${wal}`,
    filesTouched: [data, aside, ...(cfg.walDir ? [cfg.walDir] : [])],
    backup: [data],
    riskText: bi('None to the data: it is moved, not deleted.', '对数据无风险：移动而非删除。'),
  });
}

// ---------------------------------------------------------------- (a) a member that lost its data

export interface MemberReplaceOptions extends ClusterPlanCommon {
  /** The member that lost its data, as its configuration says. */
  member: EtcdMemberConfig;
  /** Client URL of a healthy member (etcdctl talks to it for remove and add). */
  healthyEndpoint: string;
  /** The lost member's ID (hex) when known; else a step finds it in `member list` by name or peer URL. */
  memberId?: string;
  /**
   * `--initial-cluster` for the restart: what `member add` prints. Default:
   * the member's own --initial-cluster (the membership did not change).
   */
  initialClusterAfterAdd?: string;
  /** Skip `member remove` (the member is no longer registered, e.g. after --force-new-cluster elsewhere). */
  notRegistered?: boolean;
  /** Prefix for step ids (plans for several members side by side). */
  idPrefix?: string;
  node?: string;
}

/** Report 4: remove the lost member, move its dir aside, add it back, start it as an existing member. */
export function planMemberReplace(opts: MemberReplaceOptions): ClusterPlan {
  const cfg = opts.member;
  const name = memberName(cfg);
  const peer = peerUrlOf(cfg);
  const tls = tlsOf(cfg, opts);
  const healthy = ctl(opts.healthyEndpoint, tls);
  const p = opts.idPrefix ?? '';
  const node = opts.node;
  const problems = noProblems();
  for (const l of ownProblems(cfg)) addProblem(problems, l);
  if (!peer) addProblem(problems, problemText('etcd-cluster.problem.no-peer-url', { name }));
  const initialCluster = opts.initialClusterAfterAdd ?? cfg.initialCluster;
  if (!initialCluster) addProblem(problems, problemText('etcd-cluster.problem.no-initial-cluster', { name }));
  const peerUrl = peer ?? 'http://localhost:2380';
  const steps: ClusterStep[] = [];

  steps.push(...stopStep(cfg, opts, `${p}stop`, node));
  const id = opts.memberId ?? '{{memberId}}';
  if (!opts.notRegistered) {
    if (!opts.memberId) {
      steps.push(
        step({
          id: `${p}find-member`,
          node,
          kind: 'check',
          title: bi(`Find ${name}'s member ID`, `查找 ${name} 的成员 ID`),
          why: bi(
            `Read-only: the cluster's member list from a healthy member (${opts.healthyEndpoint}); ${name} is found by name or by its peer URL ${peerUrl} (a member added but never started has no name yet). When it is not listed, there is nothing to remove.`,
            `只读：从健康成员（${opts.healthyEndpoint}）读取成员列表；按名称或对等 URL ${peerUrl} 查找 ${name}（已添加但从未启动的成员还没有名称）。若未列出，则无需移除。`,
          ),
          command: `${healthy} member list | awk -F', ' -v n=${shq(name)} -v p=${shq(peerUrl)} '$3 == n || $4 == p { print $1 }'`,
          filesTouched: [],
          backup: [],
          riskText: NONE,
          expect: { exitCode: 0, outputMatches: '^[0-9a-f]{1,16}$' },
          captures: { memberId: '^([0-9a-f]{1,16})$' },
          onFail: `${p}move-aside`,
        }),
      );
    }
    steps.push(
      step({
        id: `${p}remove`,
        node,
        kind: 'member-remove',
        title: bi(`Remove ${name} from the cluster`, `将 ${name} 从集群中移除`),
        why: bi(
          `On a healthy member: the cluster stops counting ${name} (its log is gone, so it can never catch up as the member it was).`,
          `在健康成员上执行：集群不再把 ${name} 计入（其日志已丢失，无法以原身份追上）。`,
        ),
        command: `${healthy} member remove ${shq(id)}`,
        filesTouched: ['cluster membership'],
        backup: [dataDirOf(cfg)],
        riskText: bi(
          'The cluster has one member less until it is added back; in a 2-member cluster a failure of the other now stops it.',
          '重新加入前集群少一个成员；在双成员集群中，另一个成员出故障就会使集群停止。',
        ),
      }),
    );
  }
  steps.push(moveAsideStep(cfg, opts, `${p}move-aside`, node));
  steps.push(
    step({
      id: `${p}add`,
      node,
      kind: 'member-add',
      title: bi(`Add ${name} back`, `重新加入 ${name}`),
      why: bi(
        `On a healthy member: register ${name} at ${peerUrl} as a new member. etcdctl prints the --initial-cluster the member must start with. While a member that just rejoined has been connected for less than 5 s etcd answers "unhealthy cluster"; that answer is retried for up to a minute.`,
        `在健康成员上执行：以 ${peerUrl} 将 ${name} 注册为新成员。etcdctl 会输出该成员启动时必须使用的 --initial-cluster。刚重新加入的成员连接不足 5 秒时 etcd 会回答“unhealthy cluster”；此时最多重试一分钟。`,
      ),
      // etcd refuses a new voting member until every member has been connected for 5 s ("unhealthy cluster",
      // its strict reconfiguration check): right after the previous member rejoined that answer is expected, so it is retried.
      command: `i=0\nuntil out=$(${healthy} member add ${shq(name)} --peer-urls=${shq(peerUrl)} 2>&1); do\n  echo "$out" >&2\n  case "$out" in *'unhealthy cluster'*) ;; *) exit 1 ;; esac\n  i=$((i + 1)); [ "$i" -lt 30 ] || exit 1; sleep 2\ndone\necho "$out"`,
      filesTouched: ['cluster membership'],
      backup: [dataDirOf(cfg)],
      riskText: bi(
        'The cluster counts a member that does not run yet (quorum grows by one): start it right after this step.',
        '集群计入了一个尚未运行的成员（法定人数加一）：请在此步之后立即启动它。',
      ),
      captures: { newInitialCluster: 'ETCD_INITIAL_CLUSTER="([^"]+)"' },
    }),
  );
  const file = flagFile(cfg, opts, true);
  steps.push(
    step({
      id: `${p}configure`,
      node,
      kind: 'start',
      title: bi(`Set ${name} to join the existing cluster`, `设置 ${name} 加入现有集群`),
      why: bi(
        `In ${file}: --initial-cluster=${initialCluster ?? '(what member add printed)'} and --initial-cluster-state=existing, so the empty member joins the running cluster instead of forming a new one.`,
        `在 ${file} 中设置 --initial-cluster=${initialCluster ?? '（member add 的输出）'} 与 --initial-cluster-state=existing，使空成员加入正在运行的集群，而不是新建集群。`,
      ),
      command: setFlagsCommand(
        cfg,
        [
          ['initial-cluster', initialCluster ?? '{{newInitialCluster}}'],
          ['initial-cluster-state', 'existing'],
        ],
        file,
      ),
      filesTouched: [file],
      backup: [file],
      riskText: bi(
        'With a wrong --initial-cluster etcd refuses to start (nothing else changes); with state=new it would form a second cluster, which is why the state is set here.',
        '--initial-cluster 错误时 etcd 会拒绝启动（其他不变）；若为 `--initial-cluster-state=new` 会形成第二个集群，因此这里显式设置状态。',
      ),
    }),
  );
  steps.push(
    startStep(
      cfg,
      opts,
      `${p}start`,
      bi(`${name} starts with an empty data dir and receives the cluster's data from the leader.`, `${name} 以空数据目录启动，并从领导者接收集群数据。`),
      bi(
        'If it does not come up, the cluster keeps running without it (remove it again to restore the quorum size).',
        '若它无法启动，集群会在没有它的情况下继续运行（可再次移除它以恢复法定人数规模）。',
      ),
      node,
    ),
  );
  steps.push(clusterHealthyStep(opts.healthyEndpoint, tls, `${p}healthy`, node));
  return { kind: 'member-replace', member: name, steps, ...problems };
}

function clusterHealthyStep(endpoint: string, tls: string, id: string, node?: string): ClusterStep {
  return step({
    id,
    node,
    kind: 'verify',
    title: bi('Wait until every member is healthy', '等待所有成员健康'),
    why: bi(
      'etcdctl endpoint health --cluster asks every registered member (TLS flags from the configuration).',
      '`etcdctl endpoint health --cluster` 会询问每个已注册成员（使用配置中的 TLS 参数）。',
    ),
    command: `${ctl(endpoint, tls)} endpoint health --cluster`,
    filesTouched: [],
    backup: [],
    riskText: NONE,
    expect: { outputMatches: 'is healthy', outputNotMatches: 'unhealthy' },
    poll: { intervalSeconds: 2, timeoutSeconds: 120 },
  });
}

// ---------------------------------------------------------------- (b) one survivor, --force-new-cluster

export interface ForceNewClusterOptions extends ClusterPlanCommon {
  /** Every member's configuration; with `root` when a copy of its data dir was compared. */
  members: { config: EtcdMemberConfig; root?: string }[];
  /** The several-members table: its `keep` names the survivor (by root). */
  comparison?: EtcdMemberComparison;
  /** The survivor's name when there is no comparison (the operator's choice). */
  survivor?: string;
  /**
   * kind after a Docker restart: the survivor is registered at an old peer
   * URL; after forcing it alone, `member update` sets the URL its flags give.
   */
  updatePeerUrl?: boolean;
  /** Plan the survivor's steps only (a guided session runs on one node; the others rejoin with plan (a)). */
  survivorOnly?: boolean;
}

/** Quorum lost (or every address changed): rebuild from the member with the newest data, then add the others one by one. */
export function planForceNewCluster(opts: ForceNewClusterOptions): ClusterPlan {
  const problems = noProblems();
  let survivor = opts.members.find((m) => opts.comparison?.keep && m.root === opts.comparison.keep);
  if (opts.comparison && !survivor) {
    const c = opts.comparison;
    addProblem(
      problems,
      c.keep
        ? problemText('etcd-cluster.problem.keep-not-planned', { keep: c.keep })
        : {
            key: 'etcd-cluster.problem.keep-none',
            texts: {
              reason: [
                c.reasonText && translateLocal('en', c.reasonText) === c.reason ? c.reasonText : problemText('etcd-cluster.problem.as-is', { text: c.reason }),
              ],
            },
          },
    );
  }
  if (!opts.comparison)
    survivor = opts.members.find((m) => memberName(m.config) === opts.survivor) ?? (opts.members.length === 1 ? opts.members[0] : undefined);
  if (!survivor) {
    if (!opts.comparison) addProblem(problems, { key: 'etcd-cluster.problem.no-survivor' });
    return { kind: 'force-new-cluster', member: '', steps: [], ...problems };
  }
  const cfg = survivor.config;
  for (const l of ownProblems(cfg)) addProblem(problems, l);
  const name = memberName(cfg);
  const data = dataDirOf(cfg);
  const tls = tlsOf(cfg, opts);
  const endpoint = clientEndpoint(cfg);
  const own = ctl(endpoint, tls);
  const copy = `${stripTrailingSlashes(data)}.${opts.asideSuffix ?? 'lifeboat-aside'}`;
  const steps: ClusterStep[] = [];
  const reason = opts.comparison ? ` The members table keeps it: ${opts.comparison.reason}` : '';

  if (opts.updatePeerUrl) steps.push(peerUrlEvidenceStep(cfg, opts, 'evidence'));
  steps.push(...stopStep(cfg, opts, 'stop'));
  steps.push(
    step({
      id: 'copy',
      kind: 'move-aside',
      title: bi(`Copy ${name}'s data dir before forcing`, `强制之前复制 ${name} 的数据目录`),
      why: bi(
        `--force-new-cluster rewrites the membership in ${data}'s WAL; a copy at ${copy} (cp -a, never overwritten) is the way back.${reason}`,
        `--force-new-cluster 会改写 ${data} 的 WAL 中的成员关系；${copy} 处的副本（\`cp -a\`，不覆盖）是退路。${opts.comparison ? ` 成员对比表保留它：${reasonIn('zh-CN', opts.comparison)}` : ''}`,
      ),
      command: `test ! -e ${shq(copy)}\ncp -a ${shq(data)} ${shq(copy)}`,
      filesTouched: [copy],
      backup: [data],
      riskText: bi(
        'Needs as much free space as the data dir; nothing is changed if the copy fails.',
        '需要与数据目录同样多的剩余空间；复制失败不会改变任何内容。',
      ),
    }),
  );
  const stoppedFile = flagFile(cfg, opts, true);
  steps.push(
    step({
      id: 'force',
      kind: 'force-new-cluster',
      title: bi(`Start ${name} alone with --force-new-cluster`, `以 --force-new-cluster 单独启动 ${name}`),
      why: bi(
        `Adds --force-new-cluster in ${stoppedFile} and starts etcd: it keeps every key it has and becomes a one-member cluster, so it has a leader again.`,
        `在 ${stoppedFile} 中加入 --force-new-cluster 并启动 etcd：它保留已有的全部键并成为单成员集群，从而重新有了领导者。`,
      ),
      command: `${setFlagsCommand(cfg, [['force-new-cluster', 'true']], stoppedFile)}\n${startStep(cfg, opts, 'x', NONE, NONE).command}`,
      filesTouched: [stoppedFile, data],
      backup: [stoppedFile],
      riskText: bi(
        'The other members are dropped from the membership: writes only they had are lost, and they must rejoin with empty data dirs. Never run this on two members.',
        '其他成员会被移出成员关系：仅存在于它们上的写入会丢失，且它们必须以空数据目录重新加入。切勿在两个成员上执行。',
      ),
    }),
  );
  steps.push(
    step({
      id: 'alone',
      kind: 'verify',
      title: bi(`Wait until ${name} serves as a one-member cluster`, `等待 ${name} 作为单成员集群提供服务`),
      why: bi(`etcdctl endpoint health on ${endpoint}.`, `在 ${endpoint} 上运行 \`etcdctl endpoint health\`。`),
      command: `${own} endpoint health`,
      filesTouched: [],
      backup: [],
      riskText: NONE,
      expect: { outputMatches: 'is healthy', outputNotMatches: 'unhealthy' },
      poll: { intervalSeconds: 2, timeoutSeconds: 120 },
    }),
  );
  const liveFile = flagFile(cfg, opts, false);
  // The kubelet restarts the pod when the manifest changes; wait until no etcd runs with the flag any more.
  // (etcd's own command line is read from /proc: a pgrep -f pattern would match this very script, which names the flag.)
  const restart =
    cfg.style === 'static-pod'
      ? `\nforced() { for p in $(pgrep -x etcd); do tr '\\0' ' ' < /proc/$p/cmdline 2>/dev/null | grep -q -e '--force-new-cluster' && return 0; done; return 1; }\nfor i in $(seq 1 60); do forced || break; sleep 1; done\n! forced`
      : `\nsystemctl restart ${shq(unitOf(cfg))}`;
  steps.push(
    step({
      id: 'unforce',
      kind: 'force-new-cluster',
      title: bi('Remove --force-new-cluster again', '再次移除 --force-new-cluster'),
      why: bi(
        `It must not stay in ${liveFile}: at every start it would drop the members added since. ${cfg.style === 'static-pod' ? 'The kubelet restarts etcd without it.' : 'etcd is restarted without it.'}`,
        `它不能留在 ${liveFile} 中：否则每次启动都会丢弃之后加入的成员。${cfg.style === 'static-pod' ? 'kubelet 会不带该参数重启 etcd。' : '不带该参数重启 etcd。'}`,
      ),
      command: `${setFlagsCommand(cfg, [['force-new-cluster', null]], liveFile)}${restart}`,
      filesTouched: [liveFile],
      backup: [liveFile],
      riskText: bi('etcd restarts once; it is a one-member cluster, so it is down for those seconds.', 'etcd 重启一次；它是单成员集群，因此这几秒内不可用。'),
    }),
  );
  steps.push({ ...steps.find((s) => s.id === 'alone')!, id: 'alone-again', title: bi(`Wait until ${name} is healthy again`, `等待 ${name} 再次健康`) });
  if (opts.updatePeerUrl) {
    const peer = peerUrlOf(cfg) ?? 'http://localhost:2380';
    steps.push(
      step({
        id: 'update-peer',
        kind: 'member-add',
        title: bi(`Register ${name} at its current peer URL`, `以当前对等 URL 注册 ${name}`),
        why: bi(
          `Now that ${name} is its own leader, etcdctl member update sets its registered peer URL to ${peer}, the address its flags advertise (the members added next reach it there).`,
          `${name} 现在是自己的领导者，\`etcdctl member update\` 将其注册的对等 URL 改为 ${peer}，即其参数通告的地址（随后加入的成员通过它联系）。`,
        ),
        command: `${own} member update "$(${own} member list | awk -F', ' -v n=${shq(name)} '$3 == n { print $1 }')" --peer-urls=${shq(peer)}`,
        filesTouched: ['cluster membership'],
        backup: [data],
        riskText: bi(
          'A wrong URL makes members added later unable to reach it; the old value is in the evidence step and can be set back the same way.',
          'URL 错误会使之后加入的成员无法联系它；旧值记录在证据步骤中，可用同样方式改回。',
        ),
      }),
    );
  }
  steps.push(
    step({
      id: 'keys',
      kind: 'verify',
      title: bi(`Count the keys ${name} serves`, `统计 ${name} 提供的键数量`),
      why: bi(
        'The rebuilt cluster serves the keys the survivor had (the count etcd reports for the whole key space).',
        '重建后的集群提供幸存成员已有的键（etcd 报告的整个键空间的数量）。',
      ),
      command: `${own} get '' --prefix --keys-only --limit 1 -w json | sed -n 's/.*"count":\\([0-9]*\\).*/\\1/p'`,
      filesTouched: [],
      backup: [],
      riskText: NONE,
      expect: { outputMatches: '^[1-9][0-9]*$' },
      captures: { keyCount: '^([0-9]+)$' },
    }),
  );

  if (!opts.survivorOnly) {
    // The others, one at a time: add, then start it at once, so the cluster never counts two members that do not run.
    for (const other of opts.members) {
      if (other === survivor) continue;
      const oname = memberName(other.config);
      const sub = planMemberReplace({
        ...opts,
        member: other.config,
        healthyEndpoint: endpoint,
        etcdctlTls: tls,
        notRegistered: true,
        initialClusterAfterAdd: rejoinCluster(opts.members, survivor, other),
        idPrefix: `${oname}-`,
        node: oname,
      });
      for (const l of ownProblems(sub)) addProblem(problems, l, true);
      steps.push(...sub.steps);
    }
  }
  return { kind: 'force-new-cluster', member: name, steps, ...problems };
}

/** --initial-cluster for `other` rejoining: the survivor, the members re-added before it, and itself. */
function rejoinCluster(
  members: ForceNewClusterOptions['members'],
  survivor: ForceNewClusterOptions['members'][number],
  other: ForceNewClusterOptions['members'][number],
): string {
  const order = [survivor, ...members.filter((m) => m !== survivor)];
  const upTo = order.slice(0, order.indexOf(other) + 1);
  return upTo.map((m) => `${memberName(m.config)}=${peerUrlOf(m.config) ?? 'http://localhost:2380'}`).join(',');
}

/** kind's evidence: the peer URL the cluster has registered for this member against the one its flags give now. */
export function peerUrlEvidenceStep(cfg: EtcdMemberConfig, _common: ClusterPlanCommon, id: string): ClusterStep {
  const name = memberName(cfg);
  const peer = peerUrlOf(cfg) ?? 'http://localhost:2380';
  const current = cfg.initialCluster ?? `${name}=${peer}`;
  // Without a leader etcd 3.4 serves no client request (it waits to publish itself first): no etcdctl here, its log is the evidence.
  const logs = cfg.style === 'static-pod' ? `crictl logs "$(crictl ps -a --name etcd -q | head -n 1)"` : `journalctl -u ${shq(unitOf(cfg))} --no-pager -n 3000`;
  return step({
    id,
    kind: 'check',
    title: bi(`Compare the peer addresses ${name} calls with the ones configured now`, `比较 ${name} 联系的对等地址与当前配置的地址`),
    why: bi(
      `Read-only. Without a leader etcd answers no client request, so its log is the evidence: the members it has registered ("added member ... [URL]") and the peer addresses it dials and cannot reach ("dial tcp ADDRESS"), against the --initial-cluster the configuration gives now (${current}). An address it has registered or dials that the configuration does not name means the members are registered at addresses nobody has any more.`,
      `只读。没有领导者时 etcd 不回答任何客户端请求，因此以其日志为证据：它已注册的成员（“added member ... [URL]”）以及它拨号却连不上的对等地址（“dial tcp 地址”），与配置当前给出的 --initial-cluster（${current}）对比。若它注册或拨号的地址不在配置中，说明成员注册在已不存在的地址上。`,
    ),
    command: [
      `logs=$(${logs} 2>&1 | tail -n 3000)`,
      `ic=${shq(current)}`,
      `echo "registered (etcd's log):"`,
      `printf '%s\\n' "$logs" | grep -oE 'added member [0-9a-f]+ \\[[^]]*\\]' | sort -u`,
      `echo "dialled and unreachable:"`,
      `printf '%s\\n' "$logs" | grep -oE 'dial tcp [^ ]+:[0-9]+' | sort -u`,
      `echo "configured now: $ic"`,
      // Registered URLs are logged once at start (deterministic); dial errors only once etcd has tried that peer: both count.
      `for a in $( { printf '%s\\n' "$logs" | grep -oE 'dial tcp [^ ]+:[0-9]+' | cut -d' ' -f3; printf '%s\\n' "$logs" | grep -oE 'added member [0-9a-f]+ \\[[^]]*\\]' | grep -oE '//[^],/]+' | cut -c3-; } | sort -u); do`,
      `  case ",$ic," in *"//$a,"* | *"//$a/"*) ;; *) echo "address-changed: $a" ;; esac`,
      `done`,
    ].join('\n'),
    filesTouched: [],
    backup: [],
    riskText: NONE,
    expect: { outputMatches: '^address-changed: ' },
    captures: { staleAddress: '^address-changed: (\\S+)$' },
  });
}

// ---------------------------------------------------------------- (c) one snapshot to every member

export interface ClusterRestoreOptions extends ClusterPlanCommon {
  /** The snapshot.db, at the same path on every member (copied there first; its SHA-256 is printed on each). */
  snapshot: string;
  members: EtcdMemberConfig[];
  tool?: 'etcdctl' | 'etcdutl';
  expectedKeys?: number;
}

/**
 * The same snapshot restored on every member with the full --initial-cluster
 * (built from every member's name and peer URL) and one token: stop all,
 * move every data dir aside, restore each with its own name and peer URL,
 * start all, then check the whole cluster.
 */
export function planClusterRestore(opts: ClusterRestoreOptions): ClusterPlan {
  const problems = noProblems();
  const names = opts.members.map(memberName);
  if (new Set(names).size !== names.length) addProblem(problems, problemText('etcd-cluster.problem.names-repeat', { names: names.join(', ') }));
  const cluster = opts.members.map((m) => `${memberName(m)}=${peerUrlOf(m) ?? 'http://localhost:2380'}`).join(',');
  const tokens = [...new Set(opts.members.map((m) => m.initialClusterToken).filter((t): t is string => !!t))];
  if (tokens.length > 1) addProblem(problems, problemText('etcd-cluster.problem.tokens-differ', { tokens: tokens.join(', '), token: tokens[0]! }));
  const token = tokens[0] ?? 'etcd-cluster';
  const perMember = opts.members.map((m) => {
    const plan = planRestore({
      snapshot: opts.snapshot,
      member: { ...m, initialCluster: cluster, initialClusterToken: token },
      tool: opts.tool,
      asideSuffix: opts.asideSuffix,
      parkedManifestDir: opts.parkedManifestDir,
      expectedKeys: opts.expectedKeys,
    });
    for (const l of ownProblems(plan))
      addProblem(problems, { key: 'etcd-cluster.problem.of-member', params: { member: memberName(m) }, texts: { problem: [l] } });
    return { name: memberName(m), cfg: m, plan };
  });
  const order: RestoreStep['kind'][] = ['check', 'stop', 'move-aside', 'restore', 'ownership', 'start'];
  const steps: ClusterStep[] = [];
  const words: Partial<Record<RestoreStep['kind'], [BiText, BiText]>> = {
    check: [
      bi('Check the snapshot on {n}', '检查 {n} 上的快照'),
      bi('The same file on every member: compare the SHA-256 printed on each.', '每个成员上是同一个文件：比较各自输出的 SHA-256。'),
    ],
    stop: [bi('Stop etcd on {n}', '停止 {n} 上的 etcd'), bi('Every member stops before any is restored.', '在恢复任何成员之前先停止所有成员。')],
    'move-aside': [bi("Move {n}'s data dir aside", '将 {n} 的数据目录移到一旁'), bi('Never deleted.', '不删除。')],
    restore: [
      bi('Restore the snapshot on {n}', '在 {n} 上恢复快照'),
      bi(
        'Its own --name and peer URL, the full --initial-cluster and the same token as every member.',
        '使用自己的 --name 和对等 URL，以及与所有成员相同的完整 --initial-cluster 和令牌。',
      ),
    ],
    ownership: [
      bi("Fix {n}'s data dir owner", '修正 {n} 数据目录的属主'),
      bi('Same owner as the old one, mode 700, SELinux context.', '与旧目录相同的属主、700 权限及 SELinux 上下文。'),
    ],
    start: [
      bi('Start etcd on {n}', '启动 {n} 上的 etcd'),
      bi('Start every member: they elect a leader once a majority runs.', '启动所有成员：多数成员运行后即选出领导者。'),
    ],
  };
  for (const kind of order) {
    for (const m of perMember) {
      const s = m.plan.steps.find((x) => x.kind === kind);
      if (!s) continue;
      const [title, extra] = words[kind]!;
      const fill = (t: BiText): BiText => ({ en: t.en.replace('{n}', m.name), 'zh-CN': t['zh-CN'].replace('{n}', m.name) });
      const command = kind === 'check' ? `sha256sum ${shq(opts.snapshot)}\n${s.command}` : s.command;
      steps.push({
        ...s,
        command,
        id: `${m.name}-${kind}`,
        node: m.name,
        title: fill(title),
        why: { en: `${s.explanation} ${extra.en}`, 'zh-CN': extra['zh-CN'] },
        riskText: { en: s.risk, 'zh-CN': s.risk ? (RISK_ZH[kind] ?? '') : '' },
        backup:
          kind === 'move-aside' || kind === 'ownership'
            ? [dataDirOf(m.cfg)]
            : kind === 'check'
              ? []
              : s.filesTouched.length
                ? [...s.filesTouched]
                : [m.cfg.environmentFile ?? unitFileOf(m.cfg)],
      });
    }
  }
  const first = perMember[0];
  if (first) {
    const verify = first.plan.steps.find((s) => s.kind === 'verify')!;
    steps.push({
      ...clusterHealthyStep(clientEndpoint(first.cfg), tlsOf(first.cfg, opts), 'healthy', first.name),
    });
    steps.push({
      ...verify,
      id: 'keys',
      node: first.name,
      title: bi('Count the keys the cluster serves', '统计集群提供的键数量'),
      why: { en: verify.explanation, 'zh-CN': '证明恢复成功：etcd 健康并提供这些键。' },
      riskText: NONE,
      backup: [],
    });
  }
  return { kind: 'cluster-restore', member: first?.name ?? '', steps, ...problems };
}

/** The single-member planner's risks (English only there), in Chinese for the cluster plan's steps. */
const RISK_ZH: Partial<Record<RestoreStep['kind'], string>> = {
  stop: '从此刻起控制平面不可用，直到 etcd 重新启动。',
  'move-aside': '若移动中途失败，数据目录可能部分位于两处；不会删除任何内容。',
  restore: '对旧数据无风险（已移到一旁）；恢复失败会留下不完整的新数据目录，重试前需先将其移走。',
  start: '若 etcd 未能启动，其日志会说明原因；旧数据目录仍在一旁。',
};

/**
 * A cluster plan as one POSIX sh script per member, in order (`# on NODE`
 * before each step); the comments in `locale`, the commands as they are.
 */
export function clusterPlanAsText(plan: ClusterPlan, locale: Locale = 'en'): string {
  const say = (key: string, params: Record<string, string | number>) => `# ${translate(locale, key, params)}`;
  const lines = [say('etcd-script.cluster.header', { kind: locale === 'en' ? plan.kind : translate(locale, `etcd-cluster.kind.${plan.kind}`) }), ''];
  plan.steps.forEach((s, i) => {
    const explanation = (locale === 'en' ? s.explanation : s.why[locale]).replace(/\n/g, ' ');
    lines.push(say('etcd-script.cluster.step', { n: i + 1, kind: locale === 'en' ? s.kind : s.title[locale], node: s.node ?? plan.member, explanation }));
    if (s.poll) lines.push(say('etcd-script.cluster.poll', { pattern: s.expect?.outputMatches ?? '', seconds: s.poll.timeoutSeconds }));
    if (s.backup.length) lines.push(say('etcd-script.cluster.backup', { paths: s.backup.join(' ') }));
    if (s.risk) lines.push(say('etcd-script.cluster.risk', { risk: locale === 'en' ? s.risk : s.riskText[locale] || s.risk }));
    lines.push(s.command, '');
  });
  const texts = plan.problemTexts?.length === plan.problems.length ? plan.problemTexts : undefined;
  plan.problems.forEach((p, i) => {
    const problem = locale !== 'en' && texts ? translateLocal(locale, texts[i]!) : p;
    lines.push(say('etcd-script.cluster.problem', { problem }));
  });
  return lines.join('\n');
}
