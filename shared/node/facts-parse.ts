/**
 * Parsers for the "Node facts" probe: the plain output of `df`, `stat`,
 * `systemctl`, `ip -brief addr`, `free`, a static pod manifest and an
 * EnvironmentFile, turned into facts with a plain-language headline (an i18n
 * key and its parameters). Pure (no Svelte, DOM or Node): the panel, the
 * tests and later the guided checklist share it. A command that is missing
 * on the node, or a unit or file that does not exist, is a "not present"
 * fact, never an exception; unknown output is kept as "could not read".
 */

/** What one probe command printed (as `ssh.exec` returns it). */
export interface ProbeOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

export type FactLevel = 'ok' | 'info' | 'warn' | 'bad';

export interface NodeFact {
  /** Stable id (for the checklist): e.g. `disk.use`, `unit.etcd`, `etcd.advertise-mismatch`. */
  id: string;
  level: FactLevel;
  /** i18n key of the headline (`ssh.facts.h.*`) and its parameters. */
  key: string;
  params: Record<string, string | number>;
  /** Parsed values for later use (checklist), not shown as such. */
  data?: Record<string, string | number | boolean | string[]>;
}

const fact = (id: string, level: FactLevel, key: string, params: Record<string, string | number> = {}, data?: NodeFact['data']): NodeFact => ({
  id,
  level,
  key: `ssh.facts.h.${key}`,
  params,
  ...(data ? { data } : {}),
});

/** The command itself is not on the node (shell exit 127 / "not found"). */
export function commandMissing(o: ProbeOutput): boolean {
  return o.code === 127 || (o.stdout.trim() === '' && /command not found|: not found$/m.test(o.stderr.trim()));
}

function lines(s: string): string[] {
  return s
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '');
}

// ------------------------------------------------------------ hostname; uname -a; date -Is

export interface SystemInfo {
  hostname: string;
  kernel: string;
  /** The node's clock, ISO 8601 with zone; null when unreadable. */
  time: string | null;
}

export function parseSystem(o: ProbeOutput): SystemInfo | null {
  const l = lines(o.stdout);
  if (l.length < 2) return null;
  const time = l.find((x) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)$/.test(x.trim())) ?? null;
  const uname = l[1].trim().split(/\s+/);
  return { hostname: l[0].trim(), kernel: uname.length >= 3 ? `${uname[0]} ${uname[2]}` : l[1].trim(), time: time?.trim() ?? null };
}

/** Node clock minus this machine's, in seconds (a skewed clock breaks TLS and leases). */
export function clockSkewSeconds(info: SystemInfo, localNowMs: number): number | null {
  if (!info.time) return null;
  const t = Date.parse(info.time);
  return Number.isFinite(t) ? Math.round((t - localNowMs) / 1000) : null;
}

// ------------------------------------------------------------ df -hT PATH / df -i PATH

export interface DfRow {
  filesystem: string;
  type: string | null;
  size: string;
  used: string;
  avail: string;
  usePercent: number | null;
  mountedOn: string;
}

/** `df -hT` (7 columns) or `df -i` / `df -h` (6 columns); a long filesystem name may wrap onto its own line. */
export function parseDf(o: ProbeOutput): DfRow[] {
  const l = lines(o.stdout);
  if (l.length < 2 || !/^Filesystem\s/.test(l[0])) return [];
  const typed = /\sType\s/.test(l[0]);
  const width = typed ? 7 : 6;
  const rows: DfRow[] = [];
  let carry: string[] = [];
  for (const line of l.slice(1)) {
    const f = [...carry, ...line.trim().split(/\s+/)];
    if (f.length < width) {
      carry = f;
      continue;
    }
    carry = [];
    // The mount point may contain spaces: everything after the fixed columns.
    const fixed = f.slice(0, width - 1);
    const mountedOn = f.slice(width - 1).join(' ');
    const [filesystem, ...rest] = fixed;
    const type = typed ? rest.shift()! : null;
    const [size, used, avail, pct] = rest;
    const n = /^(\d+)%$/.exec(pct);
    rows.push({ filesystem, type, size, used, avail, usePercent: n ? Number(n[1]) : null, mountedOn });
  }
  return rows;
}

export function diskFacts(df: ProbeOutput, dfi: ProbeOutput, dataDir: string): NodeFact[] {
  const out: NodeFact[] = [];
  const [row] = parseDf(df);
  if (commandMissing(df)) out.push(fact('disk.use', 'info', 'commandMissing', { command: 'df' }));
  else if (!row) out.push(fact('disk.use', 'warn', 'dfUnreadable', { path: dataDir, error: firstLine(df.stderr) }));
  else {
    const pct = row.usePercent ?? 0;
    const level: FactLevel = pct >= 95 ? 'bad' : pct >= 85 ? 'warn' : 'ok';
    out.push(
      fact(
        'disk.use',
        level,
        'diskFull',
        { percent: pct, avail: row.avail, size: row.size, mount: row.mountedOn, type: row.type ?? '?', device: row.filesystem },
        {
          percent: pct,
          mount: row.mountedOn,
          fsType: row.type ?? '',
        },
      ),
    );
  }
  const [irow] = parseDf(dfi);
  if (irow && irow.usePercent !== null) {
    const pct = irow.usePercent;
    out.push(fact('disk.inodes', pct >= 95 ? 'bad' : pct >= 85 ? 'warn' : 'ok', 'inodes', { percent: pct, free: irow.avail }, { percent: pct }));
  } else if (irow) out.push(fact('disk.inodes', 'info', 'inodesNone', { mount: irow.mountedOn }));
  return out;
}

// ------------------------------------------------------------ stat PATH

export interface StatInfo {
  path: string;
  kind: string;
  mode: string;
  owner: string;
  group: string;
  modified: string | null;
}

export function parseStat(o: ProbeOutput): StatInfo | null {
  const text = o.stdout;
  // `[ \t]*`, not `\s*`: with the m flag `^\s*` rescans every following blank line from each line start (quadratic).
  const file = /^[ \t]*File: (.+)$/m.exec(text);
  const type = /(?:IO Block:\s*\d+\s+)(.+)$/m.exec(text);
  // Bounded fields: an unbounded `[^)]+` is retried to the end of the text at every "Access: (" (quadratic).
  const access = /Access: \((\d{1,8})\/([^)\n]{1,32})\)\s+Uid: \(\s*\d{1,10}\/\s*([^)\n]{1,256})\)\s+Gid: \(\s*\d{1,10}\/\s*([^)\n]{1,256})\)/.exec(text);
  if (!file || !access) return null;
  const modified = /^Modify: (.+)$/m.exec(text);
  return {
    path: file[1].trim().replace(/^'(.*)'$/, '$1'),
    kind: type ? type[1].trim() : 'unknown',
    mode: access[1],
    owner: access[3].trim(),
    group: access[4].trim(),
    modified: modified ? modified[1].trim() : null,
  };
}

export function dataDirFacts(o: ProbeOutput, dataDir: string): NodeFact[] {
  if (/No such file or directory/.test(o.stderr)) return [fact('datadir', 'bad', 'dataDirMissing', { path: dataDir }, { present: false })];
  if (commandMissing(o)) return [fact('datadir', 'info', 'commandMissing', { command: 'stat' })];
  const s = parseStat(o);
  if (!s) return [fact('datadir', 'warn', 'statUnreadable', { path: dataDir, error: firstLine(o.stderr) })];
  return [
    fact(
      'datadir',
      s.kind === 'directory' ? 'ok' : 'bad',
      'dataDir',
      { path: s.path, kind: s.kind, owner: s.owner, group: s.group, mode: s.mode, modified: s.modified ?? '?' },
      {
        present: true,
        kind: s.kind,
        owner: s.owner,
        mode: s.mode,
      },
    ),
  ];
}

// ------------------------------------------------------------ systemctl is-active / systemctl cat

/** The units the probe asks about, in this order. */
export const DATASTORE_UNITS = ['snap.microk8s.daemon-k8s-dqlite', 'snap.microk8s.daemon-kubelite', 'kubelet', 'etcd'] as const;

/** `systemctl is-active A B …` prints one state per unit, in order. */
export function parseIsActive(o: ProbeOutput, units: readonly string[]): Map<string, string> {
  const states = lines(o.stdout).map((l) => l.trim());
  const m = new Map<string, string>();
  if (states.length !== units.length) return m;
  units.forEach((u, i) => m.set(u, states[i]));
  return m;
}

export interface UnitFile {
  unit: string;
  /** `# /path` headers (the unit file and its drop-ins). */
  files: string[];
  /** `Key=value` of every section, in order (a key may repeat). */
  entries: { section: string; key: string; value: string }[];
}

/** `systemctl cat A B …`: each file starts with a `# /path/to/file` line; drop-ins (`X.d/*.conf`) belong to X. */
export function parseSystemctlCat(text: string): Map<string, UnitFile> {
  const units = new Map<string, UnitFile>();
  let current: UnitFile | null = null;
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const header = /^# (\/\S+)$/.exec(line);
    if (header) {
      const file = header[1];
      const dropIn = /\/([^/]+)\.d\/[^/]+\.conf$/.exec(file);
      const unit = (dropIn ? dropIn[1] : file.slice(file.lastIndexOf('/') + 1)).replace(/\.service$/, '');
      current = units.get(unit) ?? { unit, files: [], entries: [] };
      current.files.push(file);
      units.set(unit, current);
      section = '';
      continue;
    }
    if (!current) continue;
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(t);
    if (sec) {
      section = sec[1];
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*)$/.exec(t);
    if (kv) current.entries.push({ section, key: kv[1], value: kv[2] });
  }
  return units;
}

function unitValues(u: UnitFile, key: string): string[] {
  return u.entries.filter((e) => e.key === key).map((e) => e.value);
}

/** `EnvironmentFile=` paths of a unit (a leading `-` means "optional"). */
export function environmentFiles(u: UnitFile): { path: string; optional: boolean }[] {
  return unitValues(u, 'EnvironmentFile').flatMap((v) =>
    v
      .split(/\s+/)
      .filter(Boolean)
      .map((p) => ({ path: p.replace(/^-/, ''), optional: p.startsWith('-') })),
  );
}

/** `Environment=` assignments (quoted or not, several per line). */
export function unitEnvironment(u: UnitFile): Map<string, string> {
  const env = new Map<string, string>();
  for (const v of unitValues(u, 'Environment')) {
    for (const m of v.matchAll(/"([A-Za-z_][A-Za-z0-9_]*)=([^"]*)"|([A-Za-z_][A-Za-z0-9_]*)=(\S*)/g)) {
      if (m[1]) env.set(m[1], m[2]);
      else env.set(m[3], m[4]);
    }
  }
  return env;
}

/** A value without one pair of surrounding double or single quotes. */
function unquote(v: string): string {
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) return v.slice(1, -1);
  return v;
}

/** `- --flag=value` (optionally quoted) as kubeadm writes a container's command list, or null. */
function manifestListItem(raw: string): string | null {
  const t = raw.trim();
  if (t.length < 4 || t[0] !== '-' || (t[1] !== ' ' && t[1] !== '\t')) return null;
  let item = t.slice(2).trimStart();
  if (item[0] === '"' || item[0] === "'") {
    if (item.length < 2 || item[item.length - 1] !== item[0]) return null;
    item = item.slice(1, -1);
  }
  return /^--[A-Za-z0-9-]+(?:=.*)?$/.test(item) ? item : null;
}

/** `KEY=value` lines of an environment file (`export`, quotes and comments allowed). */
export function parseEnvFile(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const raw of text.split('\n')) {
    // Greedy value, trimmed after: a lazy `(.*?)\s*$` rescans every run of blanks (quadratic on a long line).
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(raw);
    if (!m) continue;
    env.set(m[1], unquote(m[2].trim()));
  }
  return env;
}

/** `--flag=value` / `--flag value` in an ExecStart line or a manifest's command list. */
export function flagValue(args: string[], flag: string): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === `--${flag}`) return args[i + 1] ?? null;
    if (a.startsWith(`--${flag}=`)) return a.slice(flag.length + 3);
  }
  return null;
}

export interface UnitFacts {
  facts: NodeFact[];
  /** Environment files the etcd unit reads (the probe reads them next). */
  etcdEnvironmentFiles: string[];
}

export function unitFacts(isActive: ProbeOutput, cat: ProbeOutput, units: readonly string[] = DATASTORE_UNITS): UnitFacts {
  if (commandMissing(cat) && commandMissing(isActive)) return { facts: [fact('units', 'info', 'noSystemctl')], etcdEnvironmentFiles: [] };
  // A container or a node booted without systemd: systemctl exists but cannot answer.
  if (cat.stdout.trim() === '' && /not been booted with systemd|Failed to connect to bus/.test(cat.stderr + isActive.stderr)) {
    return { facts: [fact('units', 'info', 'noSystemd')], etcdEnvironmentFiles: [] };
  }
  const states = parseIsActive(isActive, units);
  const files = parseSystemctlCat(cat.stdout);
  const facts: NodeFact[] = [];
  let etcdEnvironmentFiles: string[] = [];
  for (const unit of units) {
    const f = files.get(unit);
    const state = states.get(unit) ?? 'unknown';
    if (!f) {
      facts.push(fact(`unit.${unit}`, 'info', 'unitMissing', { unit }, { present: false }));
      continue;
    }
    const level: FactLevel = state === 'active' ? 'ok' : state === 'failed' ? 'bad' : 'warn';
    facts.push(fact(`unit.${unit}`, level, 'unitState', { unit, state, file: f.files[0] }, { present: true, state }));
    if (unit === 'etcd') etcdEnvironmentFiles = environmentFiles(f).map((e) => e.path);
  }
  return { facts, etcdEnvironmentFiles };
}

/** Where the etcd unit keeps its data: `--data-dir` on ExecStart, else ETCD_DATA_DIR from an EnvironmentFile, else Environment=. */
export function etcdUnitDataDir(cat: ProbeOutput, envFiles: { path: string; output: ProbeOutput }[]): NodeFact | null {
  const u = parseSystemctlCat(cat.stdout).get('etcd');
  if (!u) return null;
  const exec = unitValues(u, 'ExecStart').pop() ?? '';
  const fromFlag = flagValue(exec.split(/\s+/), 'data-dir');
  if (fromFlag) return fact('etcd.unit', 'info', 'etcdUnit', { dataDir: fromFlag, source: 'ExecStart' }, { dataDir: fromFlag, source: 'ExecStart' });
  // Files are read in order; a later one wins, as systemd does; EnvironmentFile overrides Environment=.
  let dataDir: string | null = null;
  let source = '';
  for (const e of envFiles) {
    if (e.output.code !== 0) continue;
    const v = parseEnvFile(e.output.stdout).get('ETCD_DATA_DIR');
    if (v) {
      dataDir = v;
      source = e.path;
    }
  }
  if (!dataDir) {
    const v = unitEnvironment(u).get('ETCD_DATA_DIR');
    if (v) {
      dataDir = v;
      source = 'Environment=';
    }
  }
  if (!dataDir) return fact('etcd.unit', 'warn', 'etcdUnitNoDataDir', { file: u.files[0] }, { source: 'none' });
  return fact('etcd.unit', 'info', 'etcdUnit', { dataDir, source }, { dataDir, source });
}

// ------------------------------------------------------------ ls -l /etc/kubernetes/manifests, the etcd static pod

export function manifestListFacts(o: ProbeOutput, dir: string): { facts: NodeFact[]; files: string[] } {
  if (/No such file or directory/.test(o.stderr)) return { facts: [fact('manifests', 'info', 'manifestsMissing', { dir }, { present: false })], files: [] };
  if (o.code !== 0) return { facts: [fact('manifests', 'warn', 'manifestsUnreadable', { dir, error: firstLine(o.stderr) })], files: [] };
  const files = lines(o.stdout)
    .filter((l) => /^[-dlcbps][rwxsStT-]{9}/.test(l))
    .map((l) => {
      const name = l.trim().split(/\s+/).slice(8).join(' ');
      const arrow = name.indexOf(' -> ');
      return arrow < 0 ? name : name.slice(0, arrow);
    });
  return {
    facts: [
      fact('manifests', 'info', files.length ? 'manifests' : 'manifestsEmpty', { dir, files: files.join(', '), n: files.length }, { present: true, files }),
    ],
    files,
  };
}

export interface EtcdPodFlags {
  'data-dir': string | null;
  name: string | null;
  'initial-cluster': string | null;
  'listen-client-urls': string | null;
  'listen-peer-urls': string | null;
  'listen-metrics-urls': string | null;
  'advertise-client-urls': string | null;
  'initial-advertise-peer-urls': string | null;
}

const ETCD_FLAGS: (keyof EtcdPodFlags)[] = [
  'data-dir',
  'name',
  'initial-cluster',
  'listen-client-urls',
  'listen-peer-urls',
  'listen-metrics-urls',
  'advertise-client-urls',
  'initial-advertise-peer-urls',
];

/** The `--flag=value` items of a static pod manifest (kubeadm writes `- --data-dir=/var/lib/etcd`), without a YAML parser. */
export function parseEtcdManifest(text: string): EtcdPodFlags {
  const args: string[] = [];
  for (const raw of text.split('\n')) {
    const item = manifestListItem(raw);
    if (item !== null) args.push(item);
  }
  const flags = {} as EtcdPodFlags;
  for (const f of ETCD_FLAGS) flags[f] = flagValue(args, f);
  return flags;
}

/** Hosts (IPv4/IPv6 literals or names) named in a comma-separated URL list or an initial-cluster `name=url,…`. */
export function urlHosts(list: string | null): string[] {
  if (!list) return [];
  const hosts: string[] = [];
  for (const part of list.split(',')) {
    const url = part.includes('=') ? part.slice(part.indexOf('=') + 1) : part;
    const m = /^[a-z]+:\/\/(\[[^\]]+\]|[^:/]+)/i.exec(url.trim());
    if (m) hosts.push(m[1].replace(/^\[(.*)\]$/, '$1'));
  }
  return [...new Set(hosts)];
}

// ------------------------------------------------------------ ip -brief addr

export interface InterfaceAddr {
  name: string;
  state: string;
  /** Addresses without prefix length. */
  addresses: string[];
}

export function parseIpBrief(o: ProbeOutput): InterfaceAddr[] {
  return lines(o.stdout).flatMap((l) => {
    const f = l.trim().split(/\s+/);
    if (f.length < 2) return [];
    const at = f[0].indexOf('@');
    return [{ name: at < 0 ? f[0] : f[0].slice(0, at), state: f[1], addresses: f.slice(2).map((a) => a.replace(/\/\d+$/, '')) }];
  });
}

const isLoopback = (a: string) => a.startsWith('127.') || a === '::1';
const isLinkLocal = (a: string) => /^fe80:/i.test(a);

export function addressFacts(o: ProbeOutput): { facts: NodeFact[]; addresses: string[] } {
  if (commandMissing(o)) return { facts: [fact('addresses', 'info', 'commandMissing', { command: 'ip' })], addresses: [] };
  const ifs = parseIpBrief(o);
  const addresses = ifs.flatMap((i) => i.addresses).filter((a) => !isLoopback(a) && !isLinkLocal(a));
  const shown = ifs
    .filter((i) => i.addresses.some((a) => !isLoopback(a) && !isLinkLocal(a)))
    .map((i) => `${i.name} ${i.addresses.filter((a) => !isLoopback(a) && !isLinkLocal(a)).join(' ')}`);
  return {
    facts: [fact('addresses', addresses.length ? 'info' : 'warn', addresses.length ? 'addresses' : 'noAddresses', { list: shown.join('; ') }, { addresses })],
    addresses,
  };
}

/** Field report 3: nodes came back with new IPs, etcd still names the old ones. */
export function etcdAddressFacts(flags: EtcdPodFlags, nodeAddresses: string[]): NodeFact[] {
  const out: NodeFact[] = [];
  const advertised = urlHosts(flags['initial-advertise-peer-urls'] ?? flags['advertise-client-urls']);
  const listen = urlHosts(flags['listen-peer-urls']).filter((h) => !isLoopback(h) && h !== '0.0.0.0' && h !== '::');
  const literal = (h: string) => /^[\d.]+$/.test(h) || h.includes(':');
  const missingAdv = advertised.filter((h) => literal(h) && !isLoopback(h) && !nodeAddresses.includes(h));
  const missingListen = listen.filter((h) => literal(h) && !nodeAddresses.includes(h));
  const now = nodeAddresses.filter((a) => !a.includes(':')).join(', ') || nodeAddresses.join(', ') || '-';
  if (missingAdv.length)
    out.push(fact('etcd.advertise-mismatch', 'bad', 'advertiseMismatch', { old: missingAdv.join(', '), now }, { advertised: missingAdv, node: nodeAddresses }));
  else if (advertised.length) out.push(fact('etcd.advertise', 'ok', 'advertiseMatches', { address: advertised.join(', ') }));
  if (missingListen.length) out.push(fact('etcd.listen-mismatch', 'bad', 'listenMismatch', { old: missingListen.join(', '), now }, { listen: missingListen }));
  return out;
}

export function etcdManifestFacts(o: ProbeOutput, file: string, nodeAddresses: string[]): NodeFact[] {
  if (/No such file or directory/.test(o.stderr)) return [fact('etcd.pod', 'info', 'etcdPodMissing', { file }, { present: false })];
  if (o.code !== 0) return [fact('etcd.pod', 'warn', 'etcdPodUnreadable', { file, error: firstLine(o.stderr) })];
  const flags = parseEtcdManifest(o.stdout);
  const flagData: Record<string, string> = {};
  for (const f of ETCD_FLAGS) if (flags[f] !== null) flagData[f] = flags[f]!;
  const members = (flags['initial-cluster'] ?? '').split(',').filter(Boolean).length;
  return [
    fact(
      'etcd.pod',
      'info',
      'etcdPod',
      { name: flags.name ?? '?', dataDir: flags['data-dir'] ?? '?', members, cluster: flags['initial-cluster'] ?? '-' },
      flagData,
    ),
    ...etcdAddressFacts(flags, nodeAddresses),
  ];
}

// ------------------------------------------------------------ free -b

export function memoryFacts(o: ProbeOutput): NodeFact[] {
  if (commandMissing(o)) return [fact('memory', 'info', 'commandMissing', { command: 'free' })];
  const mem = lines(o.stdout).find((l) => /^Mem:/.test(l));
  const head = lines(o.stdout)[0] ?? '';
  if (!mem) return [fact('memory', 'warn', 'memoryUnreadable', {})];
  const cols = head.trim().split(/\s+/);
  const vals = mem.trim().split(/\s+/).slice(1).map(Number);
  const total = vals[cols.indexOf('total')];
  const availIdx = cols.indexOf('available');
  const available = availIdx >= 0 ? vals[availIdx] : vals[cols.indexOf('free')];
  if (!Number.isFinite(total) || !Number.isFinite(available) || total <= 0) return [fact('memory', 'warn', 'memoryUnreadable', {})];
  const pct = Math.round((available / total) * 100);
  return [
    fact(
      'memory',
      pct < 5 ? 'bad' : pct < 15 ? 'warn' : 'ok',
      'memory',
      { available: humanBytes(available), total: humanBytes(total), percent: pct },
      { availableBytes: available, totalBytes: total },
    ),
  ];
}

// ------------------------------------------------------------ helpers

export function humanBytes(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

function firstLine(s: string): string {
  return (s.trim().split('\n')[0] ?? '').slice(0, 200);
}
