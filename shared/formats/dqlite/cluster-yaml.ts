/**
 * go-dqlite's membership caches: `cluster.yaml` (a list of Address/ID/Role)
 * and `info.yaml` (this node). They are not authoritative (the raft log and
 * snapshot .meta are), but tools such as `.reconfigure` read them, so a
 * disagreement is worth reporting. IDs are u64: parsed as BigInt, kept as strings.
 */
import type { Finding } from '../../contract/findings';
import type { RaftServer } from '../../contract/dqlite';
import { findingText } from './say';
import type { BoundsRefusal } from '../../text/bounds';
import { parseBoundedYaml, type YamlBounds } from '../../text/bounded-yaml';

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

/** A YAML scalar as text; a mapping or list where a scalar belongs is shown as JSON, not "[object Object]". */
function scalarText(v: unknown): string {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  // A list or map where a scalar belongs (`ID: [-3297041220608546238]`): shown as JSON, big integers as digits
  // (JSON.stringify throws on a BigInt, and on a cycle an alias could make).
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? '';
  } catch {
    return Array.isArray(v) ? '[…]' : '{…}';
  }
}

function node(v: unknown): YamlNode | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const id = o.ID ?? o.Id ?? o.id;
  const address = o.Address ?? o.address;
  if (id === undefined || address === undefined) return null;
  return { id: scalarText(id), address: scalarText(address), role: roleText(o.Role ?? o.role ?? 0) };
}

/**
 * Why a membership file could not be used. `refusal` is set when the text was
 * refused by the bounds or the YAML syntax (offset in characters); `shape` when
 * it parsed but does not hold what go-dqlite writes.
 */
export type YamlParse<T> = { ok: true; value: T } | { ok: false; error: string; refusal?: BoundsRefusal; shape?: boolean };

/**
 * The bounds for go-dqlite's membership caches. Real files are about 60 bytes
 * per node; 16 KiB is over 250 nodes, 1024 entries over 300, depth 8 covers a
 * list of maps with room, and go-dqlite never writes an alias.
 */
export const MEMBERSHIP_YAML_BOUNDS: YamlBounds = { maxBytes: 16 * 1024, maxDepth: 8, maxItems: 1024, maxAliases: 0 };

function parseMembership(name: string, text: string): { ok: true; value: unknown } | { ok: false; error: string; refusal: BoundsRefusal } {
  const r = parseBoundedYaml(text, { bounds: MEMBERSHIP_YAML_BOUNDS, intAsBigInt: true });
  return r.ok ? r : { ok: false, error: `${name} ${r.detail}`, refusal: r };
}

export function parseClusterYaml(text: string): YamlParse<YamlNode[]> {
  const r = parseMembership('cluster.yaml', text);
  if (!r.ok) return r;
  const doc = r.value;
  if (doc === null || doc === undefined) return { ok: true, value: [] };
  if (!Array.isArray(doc)) return { ok: false, error: 'cluster.yaml is not a list of nodes', shape: true };
  const out: YamlNode[] = [];
  for (const item of doc) {
    const n = node(item);
    if (!n) return { ok: false, error: 'cluster.yaml has an entry without ID/Address', shape: true };
    out.push(n);
  }
  return { ok: true, value: out };
}

export function parseInfoYaml(text: string): YamlParse<YamlNode> {
  const r = parseMembership('info.yaml', text);
  if (!r.ok) return r;
  const n = node(r.value);
  return n ? { ok: true, value: n } : { ok: false, error: 'info.yaml has no ID/Address', shape: true };
}

/** UTF-8 length of the first `chars` characters: finding offsets are bytes. */
function byteOffset(text: string, chars: number): number {
  let bytes = 0;
  const end = Math.min(chars, text.length);
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** The finding for a membership file that could not be used (templated, both languages). */
export function membershipYamlFinding(file: string, text: string, size: number, r: Extract<YamlParse<unknown>, { ok: false }>): Finding {
  const refusal = r.refusal;
  if (refusal && refusal.problem !== 'syntax') {
    const offset = refusal.offset === null ? null : Math.min(byteOffset(text, refusal.offset), size);
    const problem = refusal.problem === 'too-deep' || refusal.problem === 'too-many-items' || refusal.problem === 'aliases' ? refusal.problem : 'too-large';
    return {
      severity: 'warning',
      code: 'membership.yaml-out-of-bounds',
      file,
      offset: problem === 'too-large' ? null : offset,
      ...findingText(`finding.membership.yaml-out-of-bounds.message.${problem}`, { file, size, limit: refusal.limit ?? 0, offset: offset ?? 0 }),
    };
  }
  if (refusal) {
    const offset = refusal.offset === null ? null : Math.min(byteOffset(text, refusal.offset), size);
    const error = refusal.detail.replace(/^is not valid YAML: /, '');
    return {
      severity: 'warning',
      code: 'membership.yaml-invalid',
      file,
      offset,
      ...(offset === null
        ? findingText('finding.membership.yaml-invalid.message.no-offset', { file, error })
        : findingText('finding.membership.yaml-invalid.message', { file, offset, error })),
    };
  }
  return {
    severity: 'warning',
    code: 'membership.yaml-invalid',
    file,
    offset: null,
    ...findingText('finding.membership.yaml-invalid.message.shape', { file, error: r.error.replace(`${file} `, '') }),
  };
}

/** A membership file larger than the bounds: refused from its size alone, without reading it. */
export function membershipYamlTooLarge(file: string, size: number): Finding {
  return membershipYamlFinding(file, '', size, {
    ok: false,
    error: `${file} is too large`,
    refusal: { ok: false, problem: 'too-large', limit: MEMBERSHIP_YAML_BOUNDS.maxBytes, offset: null, detail: 'too large' },
  });
}

/** Compare the caches with the membership from the log / snapshot. */
export function membershipFindings(servers: RaftServer[] | null, source: string | null, cluster: YamlNode[] | null, info: YamlNode | null): Finding[] {
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
        ...findingText(
          `finding.membership.cluster-yaml-differs.message.${missing.length && extra.length ? 'both' : missing.length ? 'missing' : 'extra'}${source === null ? '.log' : ''}`,
          {
            ...(source === null ? {} : { source }),
            ...(missing.length ? { missing: missing.join(', ') } : {}),
            ...(extra.length ? { extra: extra.join(', ') } : {}),
          },
        ),
      });
    }
  }
  if (servers && info && !servers.some((s) => s.id === info.id)) {
    out.push({
      severity: 'warning',
      code: 'membership.node-not-in-configuration',
      file: 'info.yaml',
      offset: null,
      ...findingText(`finding.membership.node-not-in-configuration.message${source === null ? '.log' : ''}`, {
        id: info.id,
        address: info.address,
        ...(source === null ? {} : { source }),
      }),
    });
  }
  return out;
}
