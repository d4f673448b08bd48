/**
 * `lifeboat logs FILE[=NAME][@ZONE]... [--zone ±HH:MM] [--json]`: the log views'
 * signature matching from the command line, for a shell on a jump host
 * (`journalctl -u snap.microk8s.daemon-k8s-dqlite > dqlite.log`). Files are
 * read in chunks; memory is bounded by the analyzer's budget.
 */
import { CliUsageError } from './cli-usage';
import { createReadStream } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { LogAnalyzer, signatureKey, type LogAnalysis } from '../shared/logs';
import { translate } from '../shared/i18n';

export class LogsUsageError extends CliUsageError {}

/** `+08:00`, `-0530`, `UTC` → minutes east of UTC. */
export function parseZone(text: string): number {
  if (/^(utc|gmt|z)$/i.test(text)) return 0;
  const m = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(text);
  if (!m) throw new LogsUsageError(`--zone takes an offset like +08:00 or UTC, not ${JSON.stringify(text)}`);
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  if (minutes > 14 * 60) throw new LogsUsageError(`--zone ${text} is not a real UTC offset`);
  return m[1] === '-' ? -minutes : minutes;
}

export async function analyzeLogFiles(specs: string[], zoneMinutes: number): Promise<LogAnalysis> {
  const analyzer = new LogAnalyzer();
  for (const spec of specs) {
    // FILE[=NAME][@ZONE]: journald and klog lines carry no zone, and the kubelet
    // journal is often local time while container logs are UTC.
    const at = /@([+-]\d{1,2}(?::?\d{2})?|utc|gmt)$/i.exec(spec);
    const rest = at ? spec.slice(0, at.index) : spec;
    const eq = rest.lastIndexOf('=');
    const file = eq > 0 ? rest.slice(0, eq) : rest;
    const name = eq > 0 ? rest.slice(eq + 1) : path.basename(file);
    const source = analyzer.beginSource(name, { zoneMinutes: at ? parseZone(at[1]) : zoneMinutes });
    for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      source.push(chunk as string);
    }
    source.end();
  }
  return analyzer.finish();
}

function when(ms: number | null): string {
  return ms === null ? '(no time)'.padEnd(24) : new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

export function renderLogAnalysis(a: LogAnalysis): string {
  const en = (key: string, params?: Record<string, string | number>) => translate('en', key, params);
  const lines: string[] = [];
  lines.push(`Sources: ${a.sources.map((s) => `${s.name} (${s.lines} lines)`).join(', ')}`);
  if (a.story.length) {
    lines.push('', en('logs.story.title'));
    a.story.forEach((step, i) => {
      const count = step.count > 1 ? `  [${en('logs.story.times', { n: step.count })}]` : '';
      const earlier = step.earlierThanCause ? `  (${en('logs.story.earlier')})` : '';
      lines.push(`  ${i + 1}. ${when(step.time)}  ${en(signatureKey(step.signatureId, 'title'), step.fields)}${count}${earlier}`);
    });
  }
  const firstOf = new Map<string, (typeof a.matches)[number]>();
  for (const m of a.matches) if (!firstOf.has(m.signatureId)) firstOf.set(m.signatureId, m);
  if (firstOf.size) {
    lines.push('', `Failure signatures (${firstOf.size}):`);
    for (const [id, m] of firstOf) {
      lines.push(`  ${m.severity.toUpperCase().padEnd(9)}${en(signatureKey(id, 'title'), m.fields)}  x${a.counts[id] ?? 1}  [${id}]`);
      lines.push(`          ${en(signatureKey(id, 'explain'), m.fields)}`);
      lines.push(`          next: ${en(signatureKey(id, 'next'), m.fields)}`);
    }
  } else {
    lines.push('', 'No known failure signature matched.');
  }
  for (const note of a.notes) lines.push(`note: ${en(`logs.note.${note.code}`, { ...note.params, source: note.source ?? '' })}`);
  return lines.join('\n');
}

/** Exit 0 when nothing matched, 1 when failure signatures were found. */
export async function logsCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, zone: { type: 'string', default: 'UTC' } },
  });
  if (positionals.length === 0) throw new LogsUsageError('logs needs at least one FILE');
  const analysis = await analyzeLogFiles(positionals, parseZone(values.zone ?? 'UTC'));
  if (values.json) {
    // Records can be large; the JSON keeps what a script needs.
    const { records: _records, ...rest } = analysis;
    out(JSON.stringify(rest, null, 2));
  } else {
    out(renderLogAnalysis(analysis));
  }
  return analysis.matches.length ? 1 : 0;
}
