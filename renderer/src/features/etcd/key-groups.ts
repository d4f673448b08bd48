/**
 * Key prefix of a key-browser group: Kubernetes stores objects at
 * `/registry/<resource>/<namespace>/<name>` (cluster-scoped: no namespace;
 * custom resources: `<group>/<plural>` as the resource), so a group is a
 * plain prefix query.
 */
import type { EtcdKeyGroup } from '../../../../shared/contract/etcd';

export function groupPrefix(g: EtcdKeyGroup): string {
  const base = `/registry/${g.resource}/`;
  return g.namespace ? `${base}${g.namespace}/` : base;
}
