/**
 * The key browser's list queries, one at a time, the newest filter first.
 * Past the back end's index (a db of more than ~1.7 million keys) a search is
 * a walk of the whole db (~5 s at 4 million keys), and the back end answers
 * one query after another: typing a search queued one such walk per pause,
 * and the answer to the last one came after all of them. Here a list query
 * waiting for the one in flight is dropped (`SupersededQuery`) when a query
 * for another filter (prefix, search) comes, and the one in flight is asked
 * to stop (`interrupt`: the back end's kept query worker stops its walk, which
 * then fails with code `interrupted`, told here as `SupersededQuery` too); pages
 * of the same filter keep their order. Other queries (a key's value) pass
 * straight through.
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

/** Whether `e` is the back end's answer to an interrupted keys query. */
function wasInterrupted(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'interrupted';
}

export function latestFilterFirst(query: EtcdQueryFn): EtcdQueryFn {
  /** The filter of the list query in flight, and whether it was asked to stop. */
  let inFlight: { filter: string; interrupting: boolean } | null = null;
  const waiting: Waiting[] = [];
  const next = (): void => {
    if (!inFlight) waiting.shift()?.start();
  };
  return <Q extends EtcdQuery>(q: Q): Promise<EtcdQueryResult<Q>> => {
    if (q.kind !== 'keys') return query(q);
    const filter = JSON.stringify([q.prefix ?? '', q.search ?? '']);
    return new Promise<EtcdQueryResult<Q>>((resolve, reject) => {
      const start = (): void => {
        const mine = (inFlight = { filter, interrupting: false });
        // The back end's own error as it came (an ApiError, not always an Error here), but a stop this asked for.
        const failed: (reason: unknown) => void = reject;
        query(q)
          .then(resolve, (e: unknown) => failed(mine.interrupting && wasInterrupted(e) ? new SupersededQuery() : e))
          .finally(() => {
            inFlight = null;
            next();
          });
      };
      // A walk for another filter in flight: nobody waits for its answer any more (where nothing can be stopped,
      // the answer is `interrupted: false` and it runs to its end).
      if (inFlight && inFlight.filter !== filter && !inFlight.interrupting) {
        inFlight.interrupting = true;
        query({ kind: 'interrupt' }).catch(() => undefined);
      }
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
