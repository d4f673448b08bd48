/**
 * The events of a back-end run (etcd repair, the dqlite rebuild, the kine
 * export) name it by the id its start call returns, and the first of them can
 * arrive before that call does. A router keeps what comes early and hands
 * each event on once the id is known, for that run only: one per start.
 */
export class RunRouter {
  private id: string | null = null;
  private readonly early: { id: string; apply: () => void }[] = [];

  /** Hand `apply` on for the event of run `eventId`: now when the id is known, else when `started` names it. */
  route(eventId: string, apply: () => void): void {
    if (this.id === null) this.early.push({ id: eventId, apply });
    else if (eventId === this.id) apply();
  }

  /** The start call returned `id`: what came early for it is handed on now, in order; the rest is dropped. */
  started(id: string): void {
    this.id = id;
    for (const e of this.early.splice(0)) if (e.id === id) e.apply();
  }
}
