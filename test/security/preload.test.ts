/**
 * The preload with a mocked `electron` module: it must expose exactly
 * `window.lifeboat = { call, on }`, use only the two allow-listed channels,
 * and never hand the IPC event object (which carries `sender`) to the page.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../electron/services/api-error';
import { dispatch } from '../../electron/services/core-handlers';
import { ClientError, wrapPreload, type PreloadBridge } from '../../renderer/src/lib/api/client';
import { IPC_CALL, IPC_EVENT } from '../../shared/contract/api';
import { translate } from '../../shared/i18n';

const h = vi.hoisted(() => ({
  exposed: [] as { key: string; api: unknown }[],
  invokes: [] as { channel: string; args: unknown[] }[],
  onChannels: [] as string[],
  eventListener: null as ((event: unknown, msg: unknown) => void) | null,
  nextResponse: null as unknown,
  touched: new Set<string>(),
}));

vi.mock('electron', () => {
  const ipcRenderer = {
    invoke: (channel: string, ...args: unknown[]) => {
      h.invokes.push({ channel, args });
      return Promise.resolve(h.nextResponse);
    },
    on: (channel: string, listener: (event: unknown, msg: unknown) => void) => {
      h.onChannels.push(channel);
      if (channel === IPC_EVENT) h.eventListener = listener;
    },
  };
  // Record every ipcRenderer member the preload touches (send, sendSync, ... are not allowed).
  const spied = new Proxy(ipcRenderer, {
    get(target, prop, receiver) {
      if (typeof prop === 'string') h.touched.add(prop);
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return {
    contextBridge: {
      exposeInMainWorld: (key: string, api: unknown) => h.exposed.push({ key, api }),
    },
    ipcRenderer: spied,
  };
});

type ExposedApi = {
  call(method: unknown, params?: unknown): Promise<unknown>;
  on(event: unknown, handler: unknown): () => void;
};

let api: ExposedApi;

beforeAll(async () => {
  await import('../../electron/preload');
  expect(h.exposed).toHaveLength(1);
  api = h.exposed[0].api as ExposedApi;
});

describe('preload bridge', () => {
  it('exposes exactly window.lifeboat = { call, on }', () => {
    expect(h.exposed.map((e) => e.key)).toEqual(['lifeboat']);
    expect(Object.keys(api).sort()).toEqual(['call', 'on']);
    expect(typeof api.call).toBe('function');
    expect(typeof api.on).toBe('function');
  });

  it('uses only the allow-listed channels and ipcRenderer members', async () => {
    h.nextResponse = { type: 'result', id: 1, result: null };
    await api.call('app.info', {});
    expect(h.onChannels).toEqual([IPC_EVENT]);
    expect(new Set(h.invokes.map((i) => i.channel))).toEqual(new Set([IPC_CALL]));
    expect([...h.touched].sort()).toEqual(['invoke', 'on']);
  });

  it('forwards a call as one wire request and returns its result', async () => {
    h.invokes.length = 0;
    h.nextResponse = { type: 'result', id: 7, result: { version: '1.2.3' } };
    const result = await api.call('app.info', {});
    expect(result).toEqual({ version: '1.2.3' });
    expect(h.invokes).toHaveLength(1);
    const [request] = h.invokes[0].args as [Record<string, unknown>];
    expect(request).toMatchObject({ type: 'call', method: 'app.info', params: {} });
    expect(typeof request.id).toBe('number');
  });

  it('turns an error response into a rejected promise with the message and code', async () => {
    h.nextResponse = { type: 'error', id: 1, error: { message: 'no sample named "x"', code: 'unknown-sample' } };
    await expect(api.call('validation.start', { source: { kind: 'sample', id: 'x' } })).rejects.toMatchObject({
      message: 'no sample named "x"',
      code: 'unknown-sample',
    });
    h.nextResponse = 'garbage';
    await expect(api.call('app.info', {})).rejects.toThrow(/malformed/);
  });

  it("hands a handler's ApiError to the page with its code and catalog text (as contextBridge copies it)", async () => {
    // The main process's real dispatcher turns the handler's throw into the wire response the preload receives.
    const handlers = {
      'app.info': () => Promise.reject(ApiError.localized('not-found', 'ssh.error.notFound', { path: '/var/lib/etcd' })),
    };
    h.nextResponse = await dispatch(handlers, 3, 'app.info', {}, { transport: 'electron', emit: () => undefined });

    // contextBridge hands an Error to the page with its message only; plain data crosses whole (a structured clone).
    const bridged: PreloadBridge = {
      call: (method, params) =>
        api.call(method, params).catch((rejection: unknown) => {
          throw rejection instanceof Error ? new Error(rejection.message) : structuredClone(rejection);
        }),
      on: (event, handler) => api.on(event, handler),
    };
    const err: unknown = await wrapPreload(bridged)
      .call('app.info', {})
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ClientError);
    const clientError = err as ClientError;
    expect(clientError.message).toBe('/var/lib/etcd does not exist on the node');
    expect(clientError.code).toBe('not-found');
    expect(clientError.text).toEqual({ key: 'ssh.error.notFound', params: { path: '/var/lib/etcd' } });
    const zh = translate('zh-CN', clientError.text?.key ?? '', clientError.text?.params);
    expect(zh).toContain('/var/lib/etcd');
    expect(zh).toMatch(/[\u4e00-\u9fff]/);
  });

  it('refuses a non-string method without touching IPC', async () => {
    const before = h.invokes.length;
    await expect(api.call(42, {})).rejects.toThrow(TypeError);
    expect(h.invokes.length).toBe(before);
  });

  it('delivers only the payload to subscribers, never the IPC event', () => {
    const got: unknown[][] = [];
    const off = api.on('validation.progress', (...args: unknown[]) => got.push(args));
    const ipcEvent = { sender: { secret: 'webContents' }, senderFrame: {} };
    h.eventListener?.(ipcEvent, { type: 'event', event: 'validation.progress', payload: { jobId: 'j1' } });
    h.eventListener?.(ipcEvent, { type: 'event', event: 'validation.done', payload: { jobId: 'j1' } });
    expect(got).toEqual([[{ jobId: 'j1' }]]);

    off();
    h.eventListener?.(ipcEvent, { type: 'event', event: 'validation.progress', payload: { jobId: 'j2' } });
    expect(got).toHaveLength(1);
  });

  it('ignores malformed event messages and survives a throwing subscriber', () => {
    const got: unknown[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    api.on('validation.done', () => {
      throw new Error('boom');
    });
    api.on('validation.done', (p: unknown) => got.push(p));
    h.eventListener?.({}, null);
    h.eventListener?.({}, { type: 'nope' });
    h.eventListener?.({}, { type: 'event', event: 'validation.done', payload: 1 });
    expect(got).toEqual([1]);
    spy.mockRestore();
  });
});
