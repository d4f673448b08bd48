/**
 * Import hosts from `~/.ssh/config` with the `ssh-config` package (the parser
 * Tabby uses). It does not follow `Include`, so we splice included files in
 * first (globs in the last path component, relative paths from ~/.ssh, depth
 * 16 like OpenSSH). ProxyJump chains (`a,b`) are split and every hop is
 * itself resolved through the config, hops' own ProxyJump first.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import SSHConfig from 'ssh-config';
import type { SshConfigHost, SshEndpoint, SshTarget } from '../../../shared/contract/ssh';
import { patternListMatches, wildcardMatch } from './known-hosts';
import { checkLines, type LineBounds } from '../../../shared/text/bounds';

const MAX_INCLUDE_DEPTH = 16;
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
const MAX_JUMP_DEPTH = 8;

export interface ConfigEnv {
  home: string;
  localUser: string;
}

function defaultEnv(): ConfigEnv {
  return { home: os.homedir(), localUser: os.userInfo().username };
}

function expandTilde(p: string, env: ConfigEnv): string {
  if (p === '~') return env.home;
  if (p.startsWith('~/')) return path.join(env.home, p.slice(2));
  return p;
}

async function globOne(pattern: string): Promise<string[]> {
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  if (!/[*?]/.test(base)) return [pattern];
  try {
    const names = await fs.readdir(dir);
    return names
      .filter((n) => wildcardMatch(n, base))
      .sort()
      .map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

/**
 * The arguments of an `Include` line (`Include a b`, `include=a`), or null for
 * any other line. Plain string work: the former regex backtracked
 * quadratically over a long run of blanks.
 */
export function includeArguments(line: string): string | null {
  const t = line.trimStart();
  if (t.length < 8 || t.slice(0, 7).toLowerCase() !== 'include') return null;
  const rest = t.slice(7);
  const first = rest.charCodeAt(0);
  if (first !== 0x20 && first !== 0x09 && first !== 0x3d) return null;
  let args = rest.trimStart();
  if (args.startsWith('=')) args = args.slice(1);
  args = args.trim();
  return args === '' ? null : args;
}

/** The config text with every `Include` replaced by the included files' text. */
export async function readConfigWithIncludes(file: string, env: ConfigEnv = defaultEnv(), depth = 0, problems: string[] = []): Promise<string> {
  if (depth > MAX_INCLUDE_DEPTH) {
    problems.push(`${file}: Include nested deeper than ${MAX_INCLUDE_DEPTH}`);
    return '';
  }
  let text: string;
  try {
    const st = await fs.stat(file);
    if (st.size > MAX_CONFIG_BYTES) {
      problems.push(`${file}: larger than ${MAX_CONFIG_BYTES} bytes, skipped`);
      return '';
    }
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    // No config file is no error: OpenSSH runs without one, and so do we (no hosts to import).
    // Missing include files are ignored by OpenSSH too.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || depth > 0) return '';
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM')
      throw new Error(`${file} cannot be read (permission denied): check its owner and mode (chmod 600).`, { cause: e });
    if (code === 'EISDIR') throw new Error(`${file} is a directory, not an ssh config file.`, { cause: e });
    throw e;
  }
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const includeArgs = includeArguments(line);
    if (includeArgs === null) {
      out.push(line);
      continue;
    }
    for (const raw of includeArgs.split(/\s+/)) {
      const unq = raw.replace(/^"(.*)"$/, '$1');
      const expanded = expandTilde(unq, env);
      const abs = path.isAbsolute(expanded) ? expanded : path.join(env.home, '.ssh', expanded);
      for (const f of await globOne(abs)) out.push(await readConfigWithIncludes(f, env, depth + 1, problems));
    }
  }
  return out.join('\n');
}

/** `[user@]host[:port]` or `[user@][v6addr]:port`. */
export function parseJumpSpec(spec: string): { user?: string; host: string; port?: number } {
  let rest = spec.trim();
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  let port: number | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (v6) {
    rest = v6[1];
    if (v6[2]) port = Number(v6[2]);
  } else {
    const c = rest.lastIndexOf(':');
    if (c > 0 && rest.indexOf(':') === c) {
      port = Number(rest.slice(c + 1));
      rest = rest.slice(0, c);
    }
  }
  if (!rest || (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))) {
    throw new Error(`bad ProxyJump host: ${spec}`);
  }
  return { user, host: rest, port };
}

const APPLIED = new Set(['host', 'hostname', 'user', 'port', 'identityfile', 'proxyjump', 'include']);

function expandTokens(v: string, host: string, user: string, env: ConfigEnv): string {
  return v.replace(/%([%hdru])/g, (_, t: string) => (t === '%' ? '%' : t === 'h' ? host : t === 'd' ? env.home : t === 'r' ? user : env.localUser));
}

type DirectiveValue = string | readonly ({ val: string } | undefined)[];

function valueList(v: DirectiveValue): string[] {
  return typeof v === 'string' ? [v] : v.map((x) => x?.val ?? '');
}

/** Host and Match patterns: a value list, each item itself a comma list (as the ssh-config package reads them). */
function patternList(v: DirectiveValue): string[] {
  return valueList(v).flatMap((p) => p.split(','));
}

const REPEATABLE = new Set(['identityfile', 'localforward', 'remoteforward', 'dynamicforward', 'certificatefile']);

/**
 * The options `ssh NAME` would use, from the parsed config: first value wins,
 * IdentityFile and the forwards accumulate, Host and Match blocks apply when
 * they match. Our own, not the package's `compute`: that one turns each glob
 * into a backtracking regex (a Host pattern of a few hundred `*` hung the
 * import; found by `npm run fuzz`), runs `Match exec` commands through a shell
 * and calls nslookup for CanonicalizeHostName. Here patterns use the linear
 * wildcard matcher of known_hosts, `Match exec` and `canonical` never match,
 * and nothing is run. Keys are case-insensitive (lower case).
 */
export function computeHost(config: SSHConfig, name: string, localUser: string): { values: Map<string, string[]>; names: Map<string, string> } {
  const values = new Map<string, string[]>();
  const names = new Map<string, string>();
  const params = { host: name, hostname: name, originalhost: name, user: localUser, localuser: localUser };
  let wantFinal = false;
  const set = (param: string, value: DirectiveValue) => {
    const key = param.toLowerCase();
    const list = valueList(value);
    if (!names.has(key)) names.set(key, param);
    if (REPEATABLE.has(key)) values.set(key, [...(values.get(key) ?? []), ...list]);
    else if (!values.has(key)) {
      values.set(key, list);
      if (key === 'hostname') params.hostname = list[0] ?? name;
      if (key === 'user') params.user = list[0] ?? localUser;
    }
  };
  const criteriaMatch = (criteria: Record<string, DirectiveValue>, final: boolean): boolean => {
    for (const [k, v] of Object.entries(criteria)) {
      const key = k.toLowerCase();
      if (key === 'all') continue;
      if (key === 'final') {
        wantFinal = true;
        if (!final) return false;
        continue;
      }
      if (key === 'host' || key === 'originalhost' || key === 'user' || key === 'localuser') {
        if (!patternListMatches(params[key], patternList(v))) return false;
        continue;
      }
      return false; // exec (never run), canonical, anything unknown
    }
    return true;
  };
  const pass = (final: boolean) => {
    for (const line of config) {
      if (line.type !== SSHConfig.DIRECTIVE) continue;
      const param = line.param.toLowerCase();
      const sub = 'config' in line && Array.isArray(line.config) ? line.config : [];
      if (param === 'host') {
        if (!patternListMatches(params.host, patternList(line.value as DirectiveValue))) continue;
        for (const s of sub) if (s.type === SSHConfig.DIRECTIVE) set(s.param, s.value as DirectiveValue);
      } else if (param === 'match') {
        const criteria = 'criteria' in line ? (line.criteria as Record<string, DirectiveValue>) : {};
        if (!criteriaMatch(criteria, final)) continue;
        for (const s of sub) if (s.type === SSHConfig.DIRECTIVE) set(s.param, s.value as DirectiveValue);
      } else {
        set(line.param, line.value as DirectiveValue);
      }
    }
  };
  pass(false);
  if (wantFinal) {
    params.host = params.hostname;
    pass(true);
  }
  return { values, names };
}

/** Resolve one name (alias or plain host) through the config, like `ssh name` would. */
export function resolveHost(
  config: SSHConfig,
  name: string,
  env: ConfigEnv = defaultEnv(),
  overrides: { user?: string; port?: number } = {},
  depth = 0,
): { target: SshTarget; ignored: string[] } {
  if (depth > MAX_JUMP_DEPTH) throw new Error(`ProxyJump chain deeper than ${MAX_JUMP_DEPTH} at ${name}`);
  const computed = computeHost(config, name, env.localUser);
  const c = computed.values;
  const host = expandTokens(c.get('hostname')?.[0] ?? name, name, '', env);
  const user = overrides.user ?? c.get('user')?.[0] ?? env.localUser;
  const portText = c.get('port')?.[0];
  const port = overrides.port ?? (portText ? Number(portText) : 22);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad Port for ${name}: ${portText}`);
  const identityFiles = (c.get('identityfile') ?? []).map((f) => expandTilde(expandTokens(f, host, user, env), env));
  const jumps: SshEndpoint[] = [];
  const jumpText = c.get('proxyjump')?.[0];
  if (jumpText && jumpText.toLowerCase() !== 'none') {
    for (const spec of jumpText.split(',')) {
      const j = parseJumpSpec(spec);
      const hop = resolveHost(config, j.host, env, { user: j.user, port: j.port }, depth + 1).target;
      jumps.push(...(hop.jumps ?? []), { host: hop.host, port: hop.port, user: hop.user, identityFiles: hop.identityFiles });
    }
  }
  const ignored = [...computed.names.entries()].filter(([k]) => !APPLIED.has(k)).map(([, shown]) => shown);
  return {
    target: { label: name, host, port, user, identityFiles, jumps: jumps.length ? jumps : undefined, useAgent: true },
    ignored,
  };
}

/** Bounds for a config with its includes spliced in: far beyond real ones, small enough to import at once. */
export const SSH_CONFIG_BOUNDS: LineBounds = { maxBytes: MAX_CONFIG_BYTES, maxLines: 200_000, maxLineLength: 16 * 1024 };
/** Aliases imported at most. */
export const MAX_CONFIG_HOSTS = 256;
/**
 * ssh-config resolves an alias by walking every line of the config, so an
 * import costs aliases x lines: bound that product (a few seconds at most on a
 * busy machine), never the config's size alone.
 */
export const MAX_CONFIG_RESOLVE_WORK = 500_000;

/** How many aliases a config of `lines` lines may import. */
export function maxConfigHosts(lines: number): number {
  return Math.max(16, Math.min(MAX_CONFIG_HOSTS, Math.floor(MAX_CONFIG_RESOLVE_WORK / Math.max(1, lines))));
}

/** Every concrete alias (Host patterns without wildcards or negation), resolved. */
export function hostsFromConfigText(text: string, env: ConfigEnv = defaultEnv()): { hosts: SshConfigHost[]; problems: string[] } {
  const bounded = checkLines(text, SSH_CONFIG_BOUNDS);
  if (!bounded.ok) return { hosts: [], problems: [`the ssh config (with its includes) ${bounded.detail}; nothing was imported`] };
  let config: SSHConfig;
  try {
    config = SSHConfig.parse(text);
  } catch (e) {
    // The parser's message quotes the config; say what failed without echoing it.
    return {
      hosts: [],
      problems: [
        `the ssh config could not be parsed (${e instanceof Error ? e.name : 'error'}); check it with \`ssh -G HOST\` and fix the line ssh complains about`,
      ],
    };
  }
  const aliases: string[] = [];
  const seen = new Set<string>();
  const limit = maxConfigHosts(bounded.lines);
  let more = false;
  for (const line of config) {
    if (line.type !== SSHConfig.DIRECTIVE || line.param.toLowerCase() !== 'host') continue;
    const values = typeof line.value === 'string' ? line.value.split(/\s+/) : line.value.map((v) => v?.val ?? '');
    for (const v of values) {
      if (!v || /[*?!]/.test(v) || seen.has(v)) continue;
      if (aliases.length >= limit) {
        more = true;
        break;
      }
      seen.add(v);
      aliases.push(v);
    }
  }
  const hosts: SshConfigHost[] = [];
  const problems: string[] = more ? [`more than ${limit} Host aliases in ${bounded.lines} lines: the first ${limit} were imported`] : [];
  for (const alias of aliases) {
    try {
      const { target, ignored } = resolveHost(config, alias, env);
      hosts.push({ alias, target, ignored });
    } catch (e) {
      problems.push(`${alias}: ${(e as Error).message}`);
    }
  }
  return { hosts, problems };
}

export async function importSshConfig(file?: string, env: ConfigEnv = defaultEnv()): Promise<{ hosts: SshConfigHost[]; problems: string[] }> {
  const problems: string[] = [];
  // A path typed into the UI may start with ~ (no shell expands it for us).
  const text = await readConfigWithIncludes(file ? expandTilde(file, env) : path.join(env.home, '.ssh', 'config'), env, 0, problems);
  const r = hostsFromConfigText(text, env);
  return { hosts: r.hosts, problems: [...problems, ...r.problems] };
}
