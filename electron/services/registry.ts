/**
 * Back-end handlers for the contract. Each feature exports a partial map; the
 * transports (Electron IPC in main.ts, WebSocket in web/server.ts) dispatch to
 * the merged map, so both transports always expose the same API.
 */
import type { ApiEvents, ApiMethods, EventName, MethodName } from '../../shared/contract/api';

/** Per-connection context: who is calling, and how to push events back to them. */
export interface CallContext {
  transport: 'electron' | 'web';
  emit<E extends EventName>(event: E, payload: ApiEvents[E]): void;
}

export type Handler<M extends MethodName> = (params: ApiMethods[M]['params'], ctx: CallContext) => Promise<ApiMethods[M]['result']>;

export type Handlers = { [M in MethodName]: Handler<M> };
export type PartialHandlers = Partial<Handlers>;
