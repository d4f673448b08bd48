/** A query over a finished etcd job refused or stopped, with a code the client can act on. */
export class EtcdQueryError extends Error {
  constructor(
    /** `bad-query` (malformed), `not-etcd`, `unknown-file`, `no-db`, `out-of-range`; `interrupted` (a newer search's `interrupt`). */
    readonly code: 'bad-query' | 'not-etcd' | 'unknown-file' | 'no-db' | 'out-of-range' | 'interrupted',
    message: string,
  ) {
    super(message);
    this.name = 'EtcdQueryError';
  }
}
