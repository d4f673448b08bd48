/**
 * Backup jobs on a node: crontab entries (user crontabs, /etc/crontab,
 * /etc/cron.d, the run-parts dirs), the scripts they call, and where those
 * scripts write `etcdctl snapshot save` files. Pure text parsing with
 * bounded input and linear regexes; unknown shapes are skipped, never thrown.
 */
import type { BackupJob } from '../contract/node';

/** One job line from a crontab listing. */
export interface CronEntry {
  file: string;
  schedule: string;
  /** The user column of /etc/crontab and /etc/cron.d files; null for user crontabs. */
  user: string | null;
  command: string;
}

/** Listing format the detector prints: `### <file>` headers, then the file's text; `### <file> (run-parts)` for cron.daily etc. */
export interface CrontabListing {
  entries: CronEntry[];
  /** Scripts in /etc/cron.{hourly,daily,weekly,monthly}. */
  runParts: { file: string; schedule: string }[];
}

const MAX_LINES = 20_000;
const SPECIAL = /^@(reboot|yearly|annually|monthly|weekly|daily|midnight|hourly)$/;
const ENV_LINE = /^[A-Za-z_][A-Za-z0-9_]*\s*=/;

export function parseCrontabListing(text: string): CrontabListing {
  const entries: CronEntry[] = [];
  const runParts: { file: string; schedule: string }[] = [];
  let file = '';
  let systemWide = false;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && i < MAX_LINES; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.startsWith('### ')) {
      const rest = line.slice(4).trim();
      if (rest.endsWith(' (run-parts)')) {
        const f = rest.slice(0, -' (run-parts)'.length);
        const period = /\/cron\.(hourly|daily|weekly|monthly)\//.exec(f)?.[1] ?? '';
        runParts.push({ file: f, schedule: period ? `@${period}` : '' });
        file = '';
        continue;
      }
      file = rest;
      systemWide = file === '/etc/crontab' || file.startsWith('/etc/cron.d/');
      continue;
    }
    if (!file) continue;
    const t = line.trim();
    if (t === '' || t.startsWith('#') || ENV_LINE.test(t)) continue;
    const fields = t.split(/\s+/);
    const special = SPECIAL.test(fields[0]!);
    const head = (special ? 1 : 5) + (systemWide ? 1 : 0);
    if (fields.length <= head) continue;
    const schedule = special ? fields[0]! : fields.slice(0, 5).join(' ');
    const user = systemWide ? fields[head - 1]! : null;
    // The command keeps its own spacing: skip the leading fields of the original line.
    let at = 0;
    for (let f = 0; f < head; f++) {
      while (at < t.length && !/\s/.test(t[at]!)) at++;
      while (at < t.length && /\s/.test(t[at]!)) at++;
    }
    const command = t.slice(at).trim();
    if (!command) continue;
    entries.push({ file, schedule, user, command });
  }
  return { entries, runParts };
}

const INTERPRETERS = new Set([
  'sh',
  'bash',
  'dash',
  'ksh',
  'zsh',
  '/bin/sh',
  '/bin/bash',
  '/usr/bin/sh',
  '/usr/bin/bash',
  '/usr/bin/env',
  'env',
  'nice',
  'ionice',
  'flock',
  'timeout',
]);

/**
 * Scripts a cron command runs: absolute paths in it that are not system
 * binaries (`sh /usr/local/bin/kube-scripts/etcd-backup.sh`, `/opt/backup.sh`,
 * `bash -c '/root/etcd-bk.sh >> /var/log/x'`). Redirect targets are not scripts.
 */
export function scriptsOfCommand(command: string): string[] {
  const out: string[] = [];
  const tokens = command
    .replace(/['"]/g, ' ')
    .split(/[\s;&|()]+/)
    .filter(Boolean);
  for (let i = 0; i < tokens.length && out.length < 8; i++) {
    const tok = tokens[i]!;
    const prev = tokens[i - 1] ?? '';
    if (/^\d*>>?$/.test(prev) || /^\d*[<>]/.test(tok)) continue;
    if (!tok.startsWith('/') || INTERPRETERS.has(tok)) continue;
    if (/^\/(usr\/)?s?bin\/[^/]+$/.test(tok) && !/\.sh$/.test(tok)) continue;
    if (/^\/dev\//.test(tok) || /\.(log|txt|out)$/.test(tok)) continue;
    out.push(tok);
  }
  return [...new Set(out)];
}

/**
 * `v` up to the whitespace before its first `#` that follows whitespace (a shell comment), what /\s+#.*$/ removes,
 * in linear time: that regex scans every whitespace run to its end from each of its characters, quadratic on a long
 * run not followed by `#` (a line of a script read from the node).
 */
function withoutComment(v: string): string {
  for (let i = 1; i < v.length; i++) {
    if (v.charCodeAt(i) !== 0x23 || !/\s/.test(v[i - 1]!)) continue;
    let start = i - 1;
    while (start > 0 && /\s/.test(v[start - 1]!)) start--;
    return v.slice(0, start);
  }
  return v;
}

/** A shell script's simple variable assignments (`X=/a/b`, `X="/a/$Y"`), in order; command substitutions become `*`. */
function scriptVariables(lines: string[]): Map<string, string> {
  const vars = new Map<string, string>();
  for (const raw of lines) {
    const m = /^\s*(?:export\s+|local\s+|readonly\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw);
    if (!m) continue;
    let v = m[2]!.trim();
    v = withoutComment(v);
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    vars.set(m[1]!, expandVariables(v, vars));
  }
  return vars;
}

/** Expand `$X`/`${X}` from `vars`; unknown variables, `$(...)` and backticks become `*`. Bounded and linear. */
export function expandVariables(s: string, vars: Map<string, string>): string {
  let out = '';
  let i = 0;
  let steps = 0;
  while (i < s.length && steps++ < 10_000) {
    const c = s[i]!;
    if (c === '`') {
      const end = s.indexOf('`', i + 1);
      out += '*';
      i = end < 0 ? s.length : end + 1;
    } else if (c === '$' && s[i + 1] === '(') {
      let depth = 0;
      let j = i + 1;
      for (; j < s.length; j++) {
        if (s[j] === '(') depth++;
        else if (s[j] === ')' && --depth === 0) break;
      }
      out += '*';
      i = j + 1;
    } else if (c === '$' && s[i + 1] === '{') {
      const end = s.indexOf('}', i + 2);
      const name = (end < 0 ? s.slice(i + 2) : s.slice(i + 2, end)).replace(/[:%#].*$/, '');
      out += vars.get(name) ?? '*';
      i = end < 0 ? s.length : end + 1;
    } else if (c === '$' && /[A-Za-z_]/.test(s[i + 1] ?? '')) {
      let j = i + 1;
      while (j < s.length && /[A-Za-z0-9_]/.test(s[j]!)) j++;
      out += vars.get(s.slice(i + 1, j)) ?? '*';
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The directory part of a path pattern before its first wildcard: `/var/backups/kube_etcd/etcd-*\/snapshot.db` -> `/var/backups/kube_etcd`. */
export function fixedPrefixDir(pattern: string): string | null {
  if (!pattern.startsWith('/')) return null;
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (let i = 0; i < parts.length - 1; i++) {
    if (parts[i]!.includes('*')) break;
    fixed.push(parts[i]!);
  }
  const dir = fixed.join('/') || '/';
  return dir === '/' ? null : dir;
}

export interface BackupScriptFacts {
  /** `etcdctl ... snapshot save <path>` lines, variables expanded. */
  saveCommands: string[];
  /** Where the snapshots go (fixed directory prefixes of the save paths). */
  targetDirs: string[];
  /** Other scripts it calls. */
  calls: string[];
}

const MAX_SCRIPT_LINES = 5000;

/** What a backup script does, as far as plain reading tells. */
export function parseBackupScript(text: string): BackupScriptFacts {
  const lines = text
    .split('\n')
    .slice(0, MAX_SCRIPT_LINES)
    .map((l) => l.replace(/\r$/, ''));
  // Join continuation lines so a multi-line etcdctl call is one command.
  const joined: string[] = [];
  for (const l of lines) {
    const prev = joined.length ? joined[joined.length - 1]! : null;
    if (prev !== null && prev.endsWith('\\')) joined[joined.length - 1] = prev.slice(0, -1) + ' ' + l.trim();
    else joined.push(l);
  }
  const vars = scriptVariables(joined);
  const saveCommands: string[] = [];
  const targetDirs: string[] = [];
  const calls: string[] = [];
  for (const l of joined) {
    const t = l.trim();
    if (t.startsWith('#')) continue;
    const save = /\bsnapshot\s+save\s+("[^"]*"|'[^']*'|\S+)/.exec(t);
    if (save) {
      const expanded = expandVariables(t, vars);
      saveCommands.push(expanded);
      const target = expandVariables(save[1]!.replace(/^["']|["']$/g, ''), vars);
      const dir = fixedPrefixDir(target);
      if (dir) targetDirs.push(dir);
    }
    for (const s of scriptsOfCommand(t)) if (s.endsWith('.sh')) calls.push(expandVariables(s, vars));
  }
  return { saveCommands, targetDirs: [...new Set(targetDirs)], calls: [...new Set(calls)] };
}

/** Build the backup jobs from cron entries and the scripts read for them. */
export function backupJobs(listing: CrontabListing, scripts: Map<string, string>): BackupJob[] {
  const jobs: BackupJob[] = [];
  const fromScripts = (paths: string[]) => {
    const facts = paths
      .map((p) => scripts.get(p))
      .filter((t): t is string => t !== undefined)
      .map(parseBackupScript);
    return {
      targetDirs: [...new Set(facts.flatMap((f) => f.targetDirs))],
      saveCommand: facts.flatMap((f) => f.saveCommands)[0] ?? null,
    };
  };
  for (const e of listing.entries) {
    const paths = scriptsOfCommand(e.command);
    const direct = parseBackupScript(e.command);
    const viaScripts = fromScripts(paths);
    const targetDirs = [...new Set([...direct.targetDirs, ...viaScripts.targetDirs])];
    const saveCommand = direct.saveCommands[0] ?? viaScripts.saveCommand;
    // An etcd backup takes a snapshot or at least names etcd; "backup" alone is every other job on a box (dpkg, postgres).
    const etcdBackup = saveCommand !== null || /etcd/i.test(e.command);
    if (!etcdBackup) continue;
    jobs.push({ kind: 'cron', where: e.file, schedule: e.schedule, command: e.command, scripts: paths, targetDirs, saveCommand });
  }
  for (const r of listing.runParts) {
    const text = scripts.get(r.file);
    if (text === undefined && !/etcd|backup|snapshot/i.test(r.file)) continue;
    const facts = text !== undefined ? parseBackupScript(text) : { saveCommands: [], targetDirs: [], calls: [] };
    if (facts.saveCommands.length === 0 && !/etcd/i.test(r.file)) continue;
    jobs.push({
      kind: 'cron-dir',
      where: r.file,
      schedule: r.schedule,
      command: r.file,
      scripts: [r.file],
      targetDirs: facts.targetDirs,
      saveCommand: facts.saveCommands[0] ?? null,
    });
  }
  return jobs;
}
