/** A small WebSocket client for the web-mode API (the real `ws` package, as a browser would speak it). */
import * as http from 'node:http';
import WebSocket from 'ws';
import type { WireEvent } from '../../shared/contract/api';

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Raw GET: the path is sent exactly as given (no client-side normalisation of `..`). */
export function rawRequest(port: number, rawPath: string, opts: { method?: string; host?: string } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: rawPath, method: opts.method ?? 'GET', headers: { Host: opts.host ?? `127.0.0.1:${port}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export interface ConnectOptions {
  token?: string | null;
  origin?: string | null;
  host?: string;
  path?: string;
}

/** Connect, or report the HTTP status the server answered the upgrade with. */
export function tryConnect(port: number, opts: ConnectOptions): Promise<{ ws: WebSocket } | { status: number }> {
  const p = opts.path ?? '/ws';
  const query = opts.token === null || opts.token === undefined ? '' : `?token=${encodeURIComponent(opts.token)}`;
  const headers: Record<string, string> = {};
  if (opts.host) headers.Host = opts.host;
  const ws = new WebSocket(`ws://127.0.0.1:${port}${p}${query}`, {
    headers,
    ...(opts.origin ? { origin: opts.origin } : {}),
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

export class ApiClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly events: WireEvent[] = [];
  readonly stray: unknown[] = [];
  private readonly waiters: { pred: (e: WireEvent) => boolean; resolve: (e: WireEvent) => void }[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse((data as Buffer).toString('utf8')) as { type: string; id?: number; result?: unknown; error?: { message: string; code?: string } };
      if (msg.type === 'event') {
        const ev = msg as unknown as WireEvent;
        this.events.push(ev);
        for (const w of [...this.waiters]) {
          if (w.pred(ev)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(ev);
          }
        }
        return;
      }
      const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
      if (!p) {
        this.stray.push(msg);
        return;
      }
      this.pending.delete(msg.id as number);
      if (msg.type === 'result') p.resolve(msg.result);
      else p.reject(Object.assign(new Error(msg.error?.message ?? 'error'), { code: msg.error?.code }));
    });
  }

  call<T = unknown>(method: string, params: unknown = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.ws.send(JSON.stringify({ type: 'call', id, method, params }));
    });
  }

  /** Send raw text and wait for the next message that is not an event. */
  sendRaw(text: string | Buffer, binary = false): Promise<unknown> {
    return new Promise((resolve) => {
      const before = this.stray.length;
      const check = (): void => {
        if (this.stray.length > before) resolve(this.stray[before]);
        else setTimeout(check, 10);
      };
      this.ws.send(text, { binary });
      check();
    });
  }

  waitEvent(pred: (e: WireEvent) => boolean, timeoutMs = 30_000): Promise<WireEvent> {
    const found = this.events.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for an event')), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (e) => {
          clearTimeout(t);
          resolve(e);
        },
      });
    });
  }

  close(): void {
    this.ws.close();
  }
}
