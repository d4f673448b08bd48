/**
 * Sandboxed preload (bundled to one CJS file; only `electron` is external).
 * Exposes exactly `window.lifeboat = { call, on }` and nothing else: no
 * generic `invoke(channel)`, no ipcRenderer, no event objects (the IPC event
 * carries `sender`, which must not leak into the page).
 */
import { contextBridge, ipcRenderer } from 'electron';
import { IPC_CALL, IPC_EVENT } from '../shared/contract/api';
import type { ErrorText, WireEvent, WireRequest, WireResponse } from '../shared/contract/api';

type EventHandler = (payload: unknown) => void;

/** What a failed call rejects with: plain data, so that contextBridge hands every field to the page. */
interface BridgeRejection {
  message: string;
  code?: string;
  text?: ErrorText;
}

const handlers = new Map<string, Set<EventHandler>>();
let nextId = 1;

function isWireEvent(msg: unknown): msg is WireEvent {
  if (typeof msg !== 'object' || msg === null) return false;
  const m = msg as Record<string, unknown>;
  return m.type === 'event' && typeof m.event === 'string';
}

function isWireResponse(msg: unknown): msg is WireResponse {
  if (typeof msg !== 'object' || msg === null) return false;
  const m = msg as Record<string, unknown>;
  return (m.type === 'result' || m.type === 'error') && typeof m.id === 'number';
}

ipcRenderer.on(IPC_EVENT, (_event: unknown, msg: unknown) => {
  if (!isWireEvent(msg)) return;
  const set = handlers.get(msg.event);
  if (!set) return;
  for (const handler of [...set]) {
    try {
      handler(msg.payload);
    } catch (err) {
      // One faulty subscriber must not starve the others.
      console.error('lifeboat event handler failed', err);
    }
  }
});

async function call(method: unknown, params: unknown): Promise<unknown> {
  if (typeof method !== 'string') throw new TypeError('method must be a string');
  const request: WireRequest = { type: 'call', id: nextId++, method, params: params ?? {} };
  const response: unknown = await ipcRenderer.invoke(IPC_CALL, request);
  if (!isWireResponse(response)) throw new Error('malformed response from the back end');
  if (response.type === 'error') {
    // contextBridge copies only `message` of an Error into the page, so a thrown Error would lose
    // `code` and `text`; a plain object crosses whole (the renderer's wrapPreload makes it a ClientError).
    const { message, code, text } = response.error;
    const rejection: BridgeRejection = { message, ...(code ? { code } : {}), ...(text ? { text } : {}) };
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- see above: an Error would not cross the bridge whole
    throw rejection;
  }
  return response.result;
}

function on(event: unknown, handler: unknown): () => void {
  if (typeof event !== 'string') throw new TypeError('event must be a string');
  if (typeof handler !== 'function') throw new TypeError('handler must be a function');
  const fn = handler as EventHandler;
  let set = handlers.get(event);
  if (!set) {
    set = new Set();
    handlers.set(event, set);
  }
  set.add(fn);
  return () => {
    handlers.get(event)?.delete(fn);
  };
}

contextBridge.exposeInMainWorld('lifeboat', { call, on });
