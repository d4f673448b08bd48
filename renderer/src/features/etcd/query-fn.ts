/** How etcd views read on demand: a finished job's `etcdQuery` (Web Worker or back end). */
import type { EtcdQuery, EtcdQueryResult } from '../../../../shared/contract/etcd';

export type EtcdQueryFn = <Q extends EtcdQuery>(query: Q) => Promise<EtcdQueryResult<Q>>;

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
