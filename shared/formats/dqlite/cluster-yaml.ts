/**
 * go-dqlite's membership caches: `cluster.yaml` (a list of Address/ID/Role)
 * and `info.yaml` (this node). They are not authoritative (the raft log and
 * snapshot .meta are), but tools such as `.reconfigure` read them, so a
 * disagreement is worth reporting. IDs are u64: parsed as BigInt, kept as strings.
 */
import { parse } from 'yaml';
import type { Finding } from '../../contract/findings';
import type { RaftServer } from '../../contract/dqlite';
import { findingText } from './say';

export interface YamlNode {
  id: string;
  address: string;
  role: string;
}

function roleText(v: unknown): string {
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : NaN;
  if (n === 0) return 'voter';
  if (n === 1) return 'standby';
  if (n === 2) return 'spare';
  return String(v);
}

function node(v: unknown): YamlNode | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const id = o.ID ?? o.Id ?? o.id;
  const address = o.Address ?? o.address;
  if (id === undefined || address === undefined) return null;
  return { id: String(id), address: String(address), role: roleText(o.Role ?? o.role ?? 0) };
}

export type YamlParse<T> = { ok: true; value: T } | { ok: false; error: string };

export function parseClusterYaml(text: string): YamlParse<YamlNode[]> {
  try {
    const doc: unknown = parse(text, { intAsBigInt: true, logLevel: 'error' });
    if (doc === null || doc === undefined) return { ok: true, value: [] };
    if (!Array.isArray(doc)) return { ok: false, error: 'cluster.yaml is not a list of nodes' };
    const out: YamlNode[] = [];
    for (const item of doc) {
      const n = node(item);
      if (!n) return { ok: false, error: 'cluster.yaml has an entry without ID/Address' };
      out.push(n);
    }
    return { ok: true, value: out };
  } catch (e) {
    return { ok: false, error: `cluster.yaml is not valid YAML: ${(e as Error).message.split('\n')[0]}` };
  }
}

export function parseInfoYaml(text: string): YamlParse<YamlNode> {
  try {
    const n = node(parse(text, { intAsBigInt: true, logLevel: 'error' }));
    return n ? { ok: true, value: n } : { ok: false, error: 'info.yaml has no ID/Address' };
  } catch (e) {
    return { ok: false, error: `info.yaml is not valid YAML: ${(e as Error).message.split('\n')[0]}` };
  }
}

/** Compare the caches with the membership from the log / snapshot. */
export function membershipFindings(
  servers: RaftServer[] | null,
  source: string | null,
  cluster: YamlNode[] | null,
  info: YamlNode | null,
): Finding[] {
  const out: Finding[] = [];
  if (info && cluster && !cluster.some((c) => c.id === info.id)) {
    out.push({
      severity: 'warning',
      code: 'membership.info-not-in-cluster',
      file: 'info.yaml',
      offset: null,
      ...findingText('finding.membership.info-not-in-cluster.message', { id: info.id, address: info.address }),
    });
  }
  if (servers && cluster) {
    const key = (id: string, a: string) => `${id}@${a}`;
    const logSet = new Set(servers.map((s) => key(s.id, s.address)));
    const yamlSet = new Set(cluster.map((c) => key(c.id, c.address)));
    const missing = [...logSet].filter((k) => !yamlSet.has(k));
    const extra = [...yamlSet].filter((k) => !logSet.has(k));
    if (missing.length || extra.length) {
      out.push({
        severity: 'warning',
        code: 'membership.cluster-yaml-differs',
        file: 'cluster.yaml',
        offset: null,
        ...findingText(`finding.membership.cluster-yaml-differs.message.${missing.length && extra.length ? 'both' : missing.length ? 'missing' : 'extra'}${source === null ? '.log' : ''}`, {
          ...(source === null ? {} : { source }),
          ...(missing.length ? { missing: missing.join(', ') } : {}),
          ...(extra.length ? { extra: extra.join(', ') } : {}),
        }),
      });
    }
  }
  if (servers && info && !servers.some((s) => s.id === info.id)) {
    out.push({
      severity: 'warning',
      code: 'membership.node-not-in-configuration',
      file: 'info.yaml',
      offset: null,
      ...findingText(`finding.membership.node-not-in-configuration.message${source === null ? '.log' : ''}`, { id: info.id, address: info.address, ...(source === null ? {} : { source }) }),
    });
  }
  return out;
}
