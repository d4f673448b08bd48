/**
 * The web-mode client against a real WebSocket server (the `ws` package, the
 * same library the back end uses) on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { createWebClient, tokenFromLocation, webSocketUrl, type SocketLike, type WebClient, type ConnectionState } from '../../renderer/src/lib/api/client';

const TOKEN = 'secret-token';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(
  handle: (msg: { id: number; method: string; params: unknown }, send: (o: unknown) => void) => void,
): Promise<{ port: number; wss: WebSocketServer }> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (info: { req: { url?: string } }) => new URL(info.req.url ?? '/', 'http://x').searchParams.get('token') === TOKEN,
  });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (sock) => {
    sock.on('message', (data) => {
      const msg = JSON.parse((data as Buffer).toString('utf8')) as { id: number; method: string; params: unknown };
      handle(msg, (o) => sock.send(JSON.stringify(o)));
    });
  });
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  );
  return { port: (wss.address() as AddressInfo).port, wss };
}

function client(port: number, token: string): WebClient {
  const c = createWebClient({
    url: `ws://127.0.0.1:${port}/ws?token=${token}`,
    createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    minDelayMs: 10,
    maxDelayMs: 40,
  });
  cleanups.push(() => c.close());
  return c;
}

function waitState(c: WebClient, status: ConnectionState['status'], ms = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`state ${status} not reached (now ${c.state.status})`)), ms);
    const off = c.onState((s) => {
      if (s.status === status) {
        clearTimeout(timer);
        queueMicrotask(() => off());
        resolve();
      }
    });
  });
}

describe('web client', () => {
  it('calls methods and receives results, errors and events', async () => {
    const { port } = await server((msg, send) => {
      if (msg.method === 'samples.list') {
        send({
          type: 'event',
          event: 'validation.progress',
          payload: { jobId: 'j1', progress: { phase: 'read', bytesDone: 5, bytesTotal: 10, currentFile: 'open-1' } },
        });
        send({ type: 'result', id: msg.id, result: [{ id: 'healthy', titleKey: 'a', descriptionKey: 'b', engine: 'dqlite' }] });
      } else send({ type: 'error', id: msg.id, error: { message: `unknown method ${msg.method}`, code: 'no-method' } });
    });
    const c = client(port, TOKEN);
    const events: unknown[] = [];
    c.on('validation.progress', (p) => events.push(p));
    // Called before the socket is open: queued, then sent.
    const samples = await c.call('samples.list', {});
    expect(samples.map((s) => s.id)).toEqual(['healthy']);
    expect(events).toEqual([{ jobId: 'j1', progress: { phase: 'read', bytesDone: 5, bytesTotal: 10, currentFile: 'open-1' } }]);
    await expect(c.call('app.info', {})).rejects.toThrow('unknown method app.info');
    expect(c.state.status).toBe('open');
  });

  it('says the token was refused instead of retrying forever', async () => {
    const { port } = await server(() => undefined);
    const c = client(port, 'wrong');
    await waitState(c, 'refused');
    await expect(c.call('samples.list', {})).rejects.toThrow(/lifeboat serve/);
  });

  it('reconnects after the connection drops, failing calls that were in flight', async () => {
    let answer = false;
    const { port, wss } = await server((msg, send) => {
      if (answer) send({ type: 'result', id: msg.id, result: { version: '1', transport: 'web', platform: 'linux' } });
    });
    const c = client(port, TOKEN);
    await waitState(c, 'open');
    const inFlight = c.call('app.info', {});
    await new Promise((r) => setTimeout(r, 50));
    for (const s of wss.clients) s.terminate();
    await expect(inFlight).rejects.toThrow(/lost/);
    answer = true;
    await waitState(c, 'open');
    await expect(c.call('app.info', {})).resolves.toMatchObject({ transport: 'web' });
  });

  it('reads the token from the page address', () => {
    expect(tokenFromLocation({ search: '?token=abc', hash: '' })).toBe('abc');
    expect(tokenFromLocation({ search: '', hash: '#token=xyz' })).toBe('xyz');
    expect(tokenFromLocation({ search: '?x=1', hash: '' })).toBeNull();
    expect(webSocketUrl({ protocol: 'http:', host: '127.0.0.1:8080' }, 'a b')).toBe('ws://127.0.0.1:8080/ws?token=a%20b');
  });
});
