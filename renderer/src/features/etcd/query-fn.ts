/** How etcd views read on demand: a finished job's `etcdQuery` (Web Worker or back end). */
import type { EtcdQuery, EtcdQueryResult } from '../../../../shared/contract/etcd';
import { errorSentence } from '../../lib/error-sentence';

export type EtcdQueryFn = <Q extends EtcdQuery>(query: Q) => Promise<EtcdQueryResult<Q>>;

/** A failed query in the UI language: the back end's catalog text when it sent one, else the message. */
export function errorText(e: unknown): string {
  return errorSentence(e, {});
}
