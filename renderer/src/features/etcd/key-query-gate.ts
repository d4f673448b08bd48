/**
 * The key browser's list queries, one at a time, the newest filter first.
 * Past the back end's index (a db of more than ~1.7 million keys) a search is
 * a walk of the whole db (~5 s at 4 million keys), and the back end answers
 * one query after another: typing a search queued one such walk per pause,
 * and the answer to the last one came after all of them. Here a list query
 * waiting for the one in flight is dropped (`SupersededQuery`) when a query
 * for another filter (prefix, search) comes; pages of the same filter keep
 * their order. Other queries (a key's value) pass straight through.
 */
import type { EtcdQuery, EtcdQueryResult } from '../../../../shared/contract/etcd';
import type { EtcdQueryFn } from './query-fn';

/** A list query dropped for a newer filter's: nobody waits for its answer any more (not an error to show). */
export class SupersededQuery extends Error {
  constructor() {
    super('superseded by a newer filter');
    this.name = 'SupersededQuery';
  }
}

interface Waiting {
  filter: string;
  start: () => void;
  drop: () => void;
}

export function latestFilterFirst(query: EtcdQueryFn): EtcdQueryFn {
  let inFlight = false;
  const waiting: Waiting[] = [];
  const next = (): void => {
    if (!inFlight) waiting.shift()?.start();
  };
  return <Q extends EtcdQuery>(q: Q): Promise<EtcdQueryResult<Q>> => {
    if (q.kind !== 'keys') return query(q);
    const filter = JSON.stringify([q.prefix ?? '', q.search ?? '']);
    return new Promise<EtcdQueryResult<Q>>((resolve, reject) => {
      const start = (): void => {
        inFlight = true;
        query(q)
          .then(resolve, reject)
          .finally(() => {
            inFlight = false;
            next();
          });
      };
      // What waits for another filter is not looked at any more.
      for (let i = waiting.length - 1; i >= 0; i--) {
        if (waiting[i]!.filter === filter) continue;
        waiting[i]!.drop();
        waiting.splice(i, 1);
      }
      waiting.push({ filter, start, drop: () => reject(new SupersededQuery()) });
      next();
    });
  };
}
