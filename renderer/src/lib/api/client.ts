/**
 * The renderer's one way to reach the back end. In Electron the preload
 * exposes `window.lifeboat`; in web mode we speak the same contract as JSON
 * over a WebSocket authenticated by the token in the page URL.
 */
import type {
  ApiEvents,
  ErrorText,
  EventName,
  LifeboatClient,
  MethodName,
  ParamsOf,
  ResultOf,
  WireEvent,
  WireRequest,
  WireResponse,
} from '../../../../shared/contract/api';

/** What the Electron preload puts on `window` (see electron/preload). */
export interface PreloadBridge {
  call(method: string, params: unknown): Promise<unknown>;
  on(event: string, handler: (payload: unknown) => void): () => void;
}

export type ConnectionState =
  | { status: 'connecting'; attempt: number }
  | { status: 'open' }
  | { status: 'reconnecting'; attempt: number; retryInMs: number }
  /** No token in the URL: nothing will work until the user opens the printed URL. */
  | { status: 'no-token' }
  /** The server turned us away (bad/expired token, or the server was restarted). */
  | { status: 'refused' };

export class ClientError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    /** The back end's catalog text for this error (say it with `t(text.key, text.params)`). */
    readonly text?: ErrorText,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

/** The subset of the browser WebSocket we use (the `ws` package provides it too, for tests). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (ev: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: () => void): void;
}
export type SocketFactory = (url: string) => SocketLike;

export interface WebClientOptions {
  url: string;
  createSocket: SocketFactory;
  /** Backoff schedule for reconnects. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Consecutive failures before a never-opened socket counts as refused. */
  refuseAfter?: number;
}

export interface WebClient extends LifeboatClient {
  readonly state: ConnectionState;
  onState(listener: (s: ConnectionState) => void): () => void;
  close(): void;
}

const OPEN = 1;
/** Close codes a server may use to say "your token is wrong" (policy violation / app-defined 4401, 4403). */
const REFUSED_CODES = new Set([1008, 4001, 4401, 4403]);

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export function createWebClient(opts: WebClientOptions): WebClient {
  const minDelay = opts.minDelayMs ?? 250;
  const maxDelay = opts.maxDelayMs ?? 8000;
  const refuseAfter = opts.refuseAfter ?? 3;
  const pending = new Map<number, Pending>();
  const handlers = new Map<string, Set<(payload: unknown) => void>>();
  const stateListeners = new Set<(s: ConnectionState) => void>();
  let queue: string[] = [];
  let nextId = 1;
  let socket: SocketLike | null = null;
  let attempt = 0;
  let everOpened = false;
  let failuresWithoutOpen = 0;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let state: ConnectionState = { status: 'connecting', attempt: 0 };

  function setState(s: ConnectionState): void {
    state = s;
    for (const l of stateListeners) l(s);
  }

  function failAll(message: string, code?: string): void {
    const err = new ClientError(message, code);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    queue = [];
  }

  function connect(): void {
    if (closed) return;
    attempt += 1;
    setState({ status: 'connecting', attempt });
    let ws: SocketLike;
    try {
      ws = opts.createSocket(opts.url);
    } catch {
      scheduleReconnect(false);
      return;
    }
    socket = ws;
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      everOpened = true;
      failuresWithoutOpen = 0;
      attempt = 0;
      setState({ status: 'open' });
      const toSend = queue;
      queue = [];
      for (const msg of toSend) ws.send(msg);
    });
    ws.addEventListener('message', (ev) => {
      if (typeof ev.data !== 'string') return;
      let msg: WireResponse | WireEvent;
      try {
        msg = JSON.parse(ev.data) as WireResponse | WireEvent;
      } catch {
        return;
      }
      if (msg.type === 'event') {
        for (const h of handlers.get(msg.event) ?? []) h(msg.payload);
        return;
      }
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.type === 'result') p.resolve(msg.result);
      else p.reject(new ClientError(msg.error?.message ?? 'unknown error', msg.error?.code, msg.error?.text));
    });
    ws.addEventListener('close', (ev) => {
      if (socket === ws) socket = null;
      if (closed) return;
      if (REFUSED_CODES.has(ev.code)) {
        refuse();
        return;
      }
      scheduleReconnect(opened);
    });
    ws.addEventListener('error', () => {
      /* a close event always follows */
    });
  }

  function refuse(): void {
    closed = true;
    setState({ status: 'refused' });
    failAll('The server refused this page. Open the exact URL printed by `lifeboat serve`.', 'refused');
  }

  function scheduleReconnect(wasOpen: boolean): void {
    // Calls in flight cannot be answered by a new connection (the server forgets them).
    failAll('Connection to the Lifeboat server was lost.', 'disconnected');
    if (!wasOpen) failuresWithoutOpen += 1;
    // A token the server rejects makes the upgrade fail before `open`: after a few
    // such failures, and never having been in, stop and say why.
    if (!everOpened && failuresWithoutOpen >= refuseAfter) {
      refuse();
      return;
    }
    const delay = Math.min(maxDelay, minDelay * 2 ** Math.min(attempt, 10));
    setState({ status: 'reconnecting', attempt, retryInMs: delay });
    timer = setTimeout(() => {
      timer = null;
      connect();
    }, delay);
  }

  connect();

  const client: WebClient = {
    transport: 'web',
    get state() {
      return state;
    },
    call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
      if (state.status === 'refused' || state.status === 'no-token') {
        return Promise.reject(new ClientError('Not connected: open the exact URL printed by `lifeboat serve`.', state.status));
      }
      const id = nextId++;
      const req: WireRequest = { type: 'call', id, method, params };
      const text = JSON.stringify(req);
      return new Promise<ResultOf<M>>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        if (socket && socket.readyState === OPEN) socket.send(text);
        else queue.push(text);
      });
    },
    on<E extends EventName>(event: E, handler: (payload: ApiEvents[E]) => void): () => void {
      let set = handlers.get(event);
      if (!set) handlers.set(event, (set = new Set()));
      const h = handler as (payload: unknown) => void;
      set.add(h);
      return () => set.delete(h);
    },
    onState(listener) {
      stateListeners.add(listener);
      listener(state);
      return () => stateListeners.delete(listener);
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      socket?.close(1000, 'client closed');
      failAll('Client closed.', 'closed');
    },
  };
  return client;
}

/** A client that can never connect (no token): every call fails with the next step. */
function noTokenClient(): WebClient {
  const state: ConnectionState = { status: 'no-token' };
  return {
    transport: 'web',
    state,
    call: () => Promise.reject(new ClientError('No access token in this page address. Open the exact URL printed by `lifeboat serve`.', 'no-token')),
    on: () => () => {},
    onState(listener) {
      listener(state);
      return () => {};
    },
    close() {},
  };
}

/**
 * The preload rejects a failed call with plain `{ message, code, text }` data (contextBridge would
 * strip every field of an Error but its message); make it the same ClientError web mode throws.
 */
export function clientErrorFromBridge(rejection: unknown): ClientError {
  if (rejection instanceof ClientError) return rejection;
  if (typeof rejection !== 'object' || rejection === null) return new ClientError(String(rejection));
  const r = rejection as { message?: unknown; code?: unknown; text?: unknown };
  const message = typeof r.message === 'string' ? r.message : 'unknown error';
  const code = typeof r.code === 'string' ? r.code : undefined;
  return new ClientError(message, code, errorTextFrom(r.text));
}

function errorTextFrom(value: unknown): ErrorText | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { key, params } = value as { key?: unknown; params?: unknown };
  if (typeof key !== 'string') return undefined;
  if (typeof params !== 'object' || params === null) return { key };
  const kept: Record<string, string | number> = {};
  for (const [name, v] of Object.entries(params)) if (typeof v === 'string' || typeof v === 'number') kept[name] = v;
  return { key, params: kept };
}

export function wrapPreload(bridge: PreloadBridge): WebClient {
  const state: ConnectionState = { status: 'open' };
  return {
    transport: 'electron',
    state,
    call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
      return (bridge.call(method, params) as Promise<ResultOf<M>>).catch((rejection: unknown) => {
        throw clientErrorFromBridge(rejection);
      });
    },
    on<E extends EventName>(event: E, handler: (payload: ApiEvents[E]) => void): () => void {
      return bridge.on(event, handler as (payload: unknown) => void);
    },
    onState(listener) {
      listener(state);
      return () => {};
    },
    close() {},
  };
}

/** Reads the token from `?token=` (or `#token=`, in case a launcher used the fragment). */
export function tokenFromLocation(loc: { search: string; hash: string }): string | null {
  const fromSearch = new URLSearchParams(loc.search).get('token');
  if (fromSearch) return fromSearch;
  const fromHash = new URLSearchParams(loc.hash.replace(/^#/, '')).get('token');
  return fromHash || null;
}

export function webSocketUrl(loc: { protocol: string; host: string }, token: string): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/ws?token=${encodeURIComponent(token)}`;
}

let singleton: WebClient | null = null;

export function getClient(): WebClient {
  if (singleton) return singleton;
  const bridge = (globalThis as { lifeboat?: PreloadBridge }).lifeboat;
  if (bridge && typeof bridge.call === 'function') {
    singleton = wrapPreload(bridge);
    return singleton;
  }
  const token = tokenFromLocation(location);
  if (!token) {
    singleton = noTokenClient();
    return singleton;
  }
  singleton = createWebClient({
    url: webSocketUrl(location, token),
    createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
  });
  return singleton;
}
