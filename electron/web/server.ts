/**
 * Web mode: the same renderer and API, served on loopback to a local browser.
 *
 * Who can reach it: anything on this machine can open a TCP connection to
 * 127.0.0.1, and any web page the user visits can make the browser send
 * requests to it. So: the page and the WebSocket need a random 256-bit token
 * (only the person who started the server has the URL), the WebSocket only
 * accepts our own Origin (a foreign page cannot script it even with the token
 * in hand), and every request must carry our own Host header (DNS rebinding:
 * evil.example resolving to 127.0.0.1 would otherwise be "same origin").
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { ApiEvents, EventName, WireEvent, WireResponse } from '../../shared/contract/api';
import { ASSETS_PATH, buildCsp } from '../security';
import { createAllHandlers, dispatch, type Backend } from '../services/core-handlers';
import type { CallContext } from '../services/registry';
import { mimeTypeFor, resolveStaticFile, stripCspMeta } from './static';

export interface WebServerOptions {
  port?: number;
  /** Loopback only: a 127.x.x.x address or ::1. Anything else is refused. */
  host?: string;
  rendererDir: string;
  quiet?: boolean;
  /** Samples directory (default: located like the app does). */
  samplesDir?: string | null;
  /** dist/validation-worker.cjs (default: located automatically). */
  workerPath?: string;
  /** Serve "This machine" (`lifeboat serve --this-machine`; core-handlers.ts `thisMachine`). */
  thisMachine?: boolean;
}

export interface WebServer {
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

/** Largest WebSocket message a client may send (calls are small JSON). */
const MAX_MESSAGE_BYTES = 1024 * 1024;
/** Skip progress events for a client that is not reading (done/failed are never dropped). */
const MAX_BUFFERED_FOR_PROGRESS = 4 * 1024 * 1024;

export function isLoopbackHost(host: string): boolean {
  if (host === '::1') return true;
  if (isIP(host) !== 4) return false;
  return host.split('.')[0] === '127';
}

function tokenMatches(expected: Buffer, given: string | null): boolean {
  if (given === null) return false;
  const g = Buffer.from(given, 'utf8');
  return g.length === expected.length && timingSafeEqual(g, expected);
}

function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\n\r\n${reason}`);
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    throw new Error(`refusing to listen on ${host}: web mode binds to loopback (127.0.0.1) only`);
  }
  const token = randomBytes(32).toString('base64url');
  const tokenBytes = Buffer.from(token, 'utf8');
  const backend: Backend = createAllHandlers({
    transport: 'web',
    samplesDir: opts.samplesDir,
    workerPath: opts.workerPath,
    thisMachine: opts.thisMachine === true,
  });

  // Filled in once listening (port 0 picks a free port).
  let hostHeader = '';
  let origin = '';
  let csp = '';

  const securityHeaders = (): Record<string, string> => ({
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });

  const sendText = (res: http.ServerResponse, status: number, text: string): void => {
    res.writeHead(status, { ...securityHeaders(), 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };

  const handleHttp = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (req.headers.host !== hostHeader) return sendText(res, 421, 'Misdirected request: wrong Host header\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendText(res, 405, 'Method not allowed\n');
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', origin);
    } catch {
      return sendText(res, 400, 'Bad request\n');
    }
    const file = await resolveStaticFile(opts.rendererDir, url.pathname);
    if (!file) return sendText(res, 404, 'Not found\n');
    const isHtml = file.toLowerCase().endsWith('.html');
    if (isHtml && !tokenMatches(tokenBytes, url.searchParams.get('token'))) {
      return sendText(res, 401, 'Open the address printed by `lifeboat serve` (it contains the access token).\n');
    }
    let body: Buffer = await fs.readFile(file);
    if (isHtml) body = Buffer.from(stripCspMeta(body.toString('utf8')), 'utf8');
    res.writeHead(200, { ...securityHeaders(), 'Content-Type': mimeTypeFor(file), 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const server = http.createServer((req, res) => {
    handleHttp(req, res).catch(() => {
      if (!res.headersSent) sendText(res, 500, 'Internal error\n');
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    if (req.headers.host !== hostHeader) return rejectUpgrade(socket, 403, 'Forbidden');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', origin);
    } catch {
      return rejectUpgrade(socket, 400, 'Bad Request');
    }
    if (url.pathname !== '/ws') return rejectUpgrade(socket, 404, 'Not Found');
    if (!tokenMatches(tokenBytes, url.searchParams.get('token'))) return rejectUpgrade(socket, 401, 'Unauthorized');
    if (req.headers.origin !== origin) return rejectUpgrade(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
  });

  const onConnection = (ws: WebSocket): void => {
    const send = (msg: WireResponse | WireEvent): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    };
    const ctx: CallContext = {
      transport: 'web',
      emit<E extends EventName>(event: E, payload: ApiEvents[E]): void {
        if (event === 'validation.progress' && ws.bufferedAmount > MAX_BUFFERED_FOR_PROGRESS) return;
        send({ type: 'event', event, payload });
      },
    };
    ws.on('error', () => ws.terminate());
    ws.on('close', () => void backend.release(ctx));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      void onMessage(data, isBinary).catch(() => undefined);
    });
    const onMessage = async (data: RawData, isBinary: boolean): Promise<void> => {
      if (isBinary) return send({ type: 'error', id: -1, error: { message: 'binary messages are not supported', code: 'bad-request' } });
      let msg: unknown;
      try {
        msg = JSON.parse(rawDataText(data));
      } catch {
        return send({ type: 'error', id: -1, error: { message: 'malformed JSON', code: 'bad-request' } });
      }
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
        return send({ type: 'error', id: -1, error: { message: 'a message must be a JSON object', code: 'bad-request' } });
      }
      const m = msg as Record<string, unknown>;
      const id = typeof m.id === 'number' && Number.isSafeInteger(m.id) ? m.id : -1;
      if (m.type !== 'call' || id < 0 || typeof m.method !== 'string') {
        return send({ type: 'error', id, error: { message: 'expected {type:"call", id, method, params}', code: 'bad-request' } });
      }
      send(await dispatch(backend.handlers, id, m.method, m.params, ctx));
    };
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('web server has no TCP address');
  const port = address.port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  hostHeader = `${hostPart}:${port}`;
  origin = `http://${hostHeader}`;
  // The WebSocket, and the page's own bundled font slices (read to embed them into a Chinese report export).
  csp = buildCsp({ connectSrc: [`ws://${hostHeader}`, `${origin}${ASSETS_PATH}`] });
  const url = `${origin}/?token=${token}`;
  if (!opts.quiet) process.stdout.write(`Lifeboat web UI: ${url}\n`);

  let closing: Promise<void> | null = null;
  return {
    url,
    token,
    port,
    close() {
      closing ??= (async () => {
        for (const client of wss.clients) client.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await backend.shutdown();
      })();
      return closing;
    },
  };
}

/** A text frame's bytes as UTF-8, whichever of ws's three buffer shapes it arrived in. */
function rawDataText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
