/**
 * Key prefix of a key-browser group (groups come from shared/formats/etcd/keys.ts
 * `keyGroup`): Kubernetes stores objects at `/registry/<resource>/<namespace>/<name>`,
 * where the resource may be two segments (`<group>/<plural>` for custom
 * resources, `services/specs`); keys outside /registry/ are grouped as
 * `(<first segment>)`.
 */
import type { EtcdKeyGroup } from '../../../../shared/contract/etcd';

export function groupPrefix(g: EtcdKeyGroup): string | undefined {
  const other = /^\((.*)\)$/.exec(g.resource);
  if (other) return other[1] === 'other' ? undefined : `/${other[1]}/`;
  const base = `/registry/${g.resource}/`;
  return g.namespace ? `${base}${g.namespace}/` : base;
}
