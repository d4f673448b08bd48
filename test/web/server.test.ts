/**
 * Web mode over real HTTP and a real WebSocket: token, Origin and Host checks,
 * static serving without traversal, the API, and a full validation of a
 * sample made by the real engine (dqlite-demo).
 */
import { existsSync, mkdtempSync, promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SampleInfo } from '../../shared/contract/api';
import type { BatchSummary } from '../../shared/contract/dqlite';
import type { ValidationReport } from '../../shared/contract/report';
import { isLoopbackHost, startWebServer, type WebServer } from '../../electron/web/server';
import { closedSegments, copyDir, dqliteDemoAvailable, ensureBuilt, flipByte, hashTree, makeDqliteDir, REPO } from '../cli/fixtures';
import { ApiClient, rawRequest, tryConnect } from './ws-client';
import { FIELD_REPORTS } from '../helpers/field-reports';

const hasDemo = dqliteDemoAvailable();

let tmp: string;
let rendererDir: string;
let samplesDir: string;
let server: WebServer;
let origin: string;
let sampleHashes: Record<string, string>;

async function connect(): Promise<ApiClient> {
  const r = await tryConnect(server.port, { token: server.token, origin });
  if (!('ws' in r)) throw new Error(`upgrade refused: ${r.status}`);
  return new ApiClient(r.ws);
}

beforeAll(async () => {
  await ensureBuilt(); // the validation worker is dist/validation-worker.cjs
  tmp = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-web-'));
  rendererDir = path.join(tmp, 'renderer');
  await fs.mkdir(path.join(rendererDir, 'assets'), { recursive: true });
  await fs.writeFile(
    path.join(rendererDir, 'index.html'),
    `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="connect-src 'none'"><script type="module" src="/assets/app.js"></script></head><body>Lifeboat</body></html>`,
  );
  await fs.writeFile(path.join(rendererDir, 'assets', 'app.js'), 'console.log("app");\n');
  await fs.writeFile(path.join(rendererDir, 'assets', 'app.css'), 'body{}\n');
  await fs.writeFile(path.join(rendererDir, 'assets', 'font.woff2'), Buffer.from([0x77, 0x4f, 0x46, 0x32]));
  await fs.writeFile(path.join(tmp, 'secret.txt'), 'TOP SECRET\n');
  await fs.symlink(path.join(tmp, 'secret.txt'), path.join(rendererDir, 'assets', 'leak.txt'));

  samplesDir = path.join(tmp, 'samples');
  await fs.mkdir(samplesDir, { recursive: true });
  const index: unknown[] = [
    // Entries that must never resolve: outside the samples dir.
    { id: 'escape', dir: '../renderer', titleKey: 't', descriptionKey: 'd', engine: 'dqlite' },
    { id: 'absolute', dir: '/etc', titleKey: 't', descriptionKey: 'd', engine: 'dqlite' },
  ];
  if (hasDemo) {
    const made = await makeDqliteDir(path.join(tmp, 'engine'), 60);
    await copyDir(made, path.join(samplesDir, 'healthy'));
    await copyDir(made, path.join(samplesDir, 'flipped'));
    const segs = await closedSegments(path.join(samplesDir, 'flipped'));
    const big = segs[segs.length - 1];
    const file = path.join(samplesDir, 'flipped', big);
    const size = (await fs.stat(file)).size;
    await flipByte(file, Math.floor(size / 2));
    index.unshift(
      { id: 'healthy', dir: 'healthy', titleKey: 'sample.healthy.title', descriptionKey: 'sample.healthy.description', engine: 'dqlite' },
      { id: 'flipped', dir: 'flipped', titleKey: 'sample.flipped.title', descriptionKey: 'sample.flipped.description', engine: 'dqlite' },
    );
  }
  // A job that cannot finish before a cancel: a 256 MiB never-written (sparse) open segment, read in full.
  await fs.mkdir(path.join(samplesDir, 'long'));
  await fs.writeFile(path.join(samplesDir, 'long', 'open-1'), '');
  await fs.truncate(path.join(samplesDir, 'long', 'open-1'), 256 * 1024 * 1024);
  index.push({ id: 'long', dir: 'long', titleKey: 'sample.long.title', descriptionKey: 'sample.long.description', engine: 'dqlite' });
  await fs.writeFile(path.join(samplesDir, 'index.json'), JSON.stringify(index));
  sampleHashes = await hashTree(samplesDir);

  server = await startWebServer({ port: 0, rendererDir, quiet: true, samplesDir });
  origin = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('startup', () => {
  it('binds loopback only and hands out a 256-bit token URL', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(Buffer.from(server.token, 'base64url').length).toBe(32);
  });

  it('refuses non-loopback hosts', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'localhost', 'example.com']) {
      expect(isLoopbackHost(host)).toBe(false);
      await expect(startWebServer({ host, rendererDir, quiet: true, samplesDir })).rejects.toThrow(/loopback/);
    }
    expect(isLoopbackHost('127.0.0.2')).toBe(true);
  });

  it('prints exactly one line when not quiet', async () => {
    const writes: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    let s: WebServer;
    try {
      s = await startWebServer({ rendererDir, samplesDir, host: '127.0.0.3' });
    } finally {
      process.stdout.write = orig;
    }
    await s.close();
    expect(writes.join('')).toMatch(/^Lifeboat web UI: http:\/\/127\.0\.0\.3:\d+\/\?token=[A-Za-z0-9_-]{43}\n$/);
  });
});

describe('static renderer', () => {
  it('index.html needs the token', async () => {
    expect((await rawRequest(server.port, '/')).status).toBe(401);
    expect((await rawRequest(server.port, '/index.html')).status).toBe(401);
    expect((await rawRequest(server.port, '/?token=wrong')).status).toBe(401);
    expect((await rawRequest(server.port, `/?token=${server.token.slice(0, -1)}`)).status).toBe(401);
    const ok = await rawRequest(server.port, `/?token=${server.token}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('Lifeboat');
  });

  it('sends the CSP (connect only to its own WebSocket), nosniff and no-store', async () => {
    const res = await rawRequest(server.port, `/index.html?token=${server.token}`);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain(`connect-src ws://127.0.0.1:${server.port} http://127.0.0.1:${server.port}/assets/`);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    // A meta CSP written for Electron (connect-src 'none') would block the WebSocket.
    expect(res.body).not.toMatch(/Content-Security-Policy/i);
  });

  it('serves assets without the token, with correct MIME types', async () => {
    const js = await rawRequest(server.port, '/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['x-content-type-options']).toBe('nosniff');
    expect((await rawRequest(server.port, '/assets/app.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await rawRequest(server.port, '/assets/font.woff2')).headers['content-type']).toBe('font/woff2');
  });

  it.each([
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    '/assets/..%5c..%5csecret.txt',
    '/assets/leak.txt',
    '/%00index.html',
    '//etc/passwd',
    '/assets/',
    '/nope.js',
  ])('never serves outside the renderer dir: %s', async (p) => {
    const res = await rawRequest(server.port, p);
    expect([400, 404]).toContain(res.status);
    expect(res.body).not.toContain('TOP SECRET');
    expect(res.body).not.toContain('root:');
  });

  it('rejects a foreign Host header (DNS rebinding) and non-GET methods', async () => {
    const rebound = await rawRequest(server.port, `/?token=${server.token}`, { host: `evil.example:${server.port}` });
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain('Lifeboat</body>');
    expect((await rawRequest(server.port, '/assets/app.js', { host: 'localhost' })).status).toBe(421);
    expect((await rawRequest(server.port, '/assets/app.js', { method: 'POST' })).status).toBe(405);
  });
});

describe('WebSocket admission', () => {
  it('401 without or with a wrong token', async () => {
    expect(await tryConnect(server.port, { origin })).toEqual({ status: 401 });
    expect(await tryConnect(server.port, { origin, token: 'x'.repeat(43) })).toEqual({ status: 401 });
    expect(await tryConnect(server.port, { origin, token: '' })).toEqual({ status: 401 });
  });

  it('403 for a foreign or missing Origin, even with the token', async () => {
    expect(await tryConnect(server.port, { token: server.token, origin: 'http://evil.example' })).toEqual({ status: 403 });
    expect(await tryConnect(server.port, { token: server.token, origin: `http://localhost:${server.port}` })).toEqual({ status: 403 });
    expect(await tryConnect(server.port, { token: server.token, origin: 'null' })).toEqual({ status: 403 });
    expect(await tryConnect(server.port, { token: server.token, origin: null })).toEqual({ status: 403 });
  });

  it('403 for a foreign Host header', async () => {
    expect(await tryConnect(server.port, { token: server.token, origin, host: `evil.example:${server.port}` })).toEqual({
      status: 403,
    });
  });

  it('404 for other paths', async () => {
    expect(await tryConnect(server.port, { token: server.token, origin, path: '/socket' })).toEqual({ status: 404 });
  });
});

describe('API over the WebSocket', () => {
  it('app.info reports the web transport and the package version', async () => {
    const c = await connect();
    const info = await c.call<{ version: string; transport: string }>('app.info');
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(info).toMatchObject({ version: pkg.version, transport: 'web', platform: process.platform });
    c.close();
  });

  it('samples.list lists the catalog without paths, dropping entries that leave the samples dir', async () => {
    const c = await connect();
    const list = await c.call<SampleInfo[]>('samples.list');
    expect(list.map((s) => s.id)).toEqual(hasDemo ? ['healthy', 'flipped', 'long'] : ['long']);
    for (const s of list) expect(Object.keys(s).sort()).toEqual(['descriptionKey', 'engine', 'id', 'titleKey']);
    await expect(c.call('validation.start', { source: { kind: 'sample', id: 'escape' } })).rejects.toMatchObject({ code: 'unknown-sample' });
    await expect(c.call('validation.start', { source: { kind: 'sample', id: 'absolute' } })).rejects.toMatchObject({ code: 'unknown-sample' });
    c.close();
  });

  it('answers malformed traffic with errors and keeps the connection usable', async () => {
    const c = await connect();
    expect(await c.sendRaw('{not json')).toMatchObject({ type: 'error', error: { code: 'bad-request' } });
    expect(await c.sendRaw('[1,2]')).toMatchObject({ type: 'error', error: { code: 'bad-request' } });
    expect(await c.sendRaw('"call"')).toMatchObject({ type: 'error' });
    expect(await c.sendRaw(JSON.stringify({ type: 'call', id: 'x', method: 'app.info' }))).toMatchObject({ type: 'error' });
    expect(await c.sendRaw(Buffer.from([1, 2, 3]), true)).toMatchObject({ type: 'error' });
    await expect(c.call('no.such.method')).rejects.toMatchObject({ code: 'unknown-method' });
    await expect(c.call('__proto__')).rejects.toMatchObject({ code: 'unknown-method' });
    await expect(c.call('constructor')).rejects.toMatchObject({ code: 'unknown-method' });
    await expect(c.call('validation.start', null)).rejects.toMatchObject({ code: 'bad-params' });
    await expect(c.call('validation.start', { source: { kind: 'disk', path: '/' } })).rejects.toMatchObject({ code: 'bad-params' });
    await expect(c.call('listing.analyze', { text: 42 })).rejects.toMatchObject({ code: 'bad-params' });
    await expect(c.call('validation.batches', { jobId: 'nope', file: 'x' })).rejects.toMatchObject({ code: 'unknown-job' });
    // Still alive and answering.
    expect(await c.call('app.info')).toMatchObject({ transport: 'web' });
    c.close();
  });

  it('refuses local paths in web mode', async () => {
    const c = await connect();
    await expect(c.call('validation.start', { source: { kind: 'local-path', path: '/etc' } })).rejects.toMatchObject({
      code: 'forbidden',
    });
    c.close();
  });

  it('listing.analyze parses a pasted ls -l', async () => {
    const c = await connect();
    const listing = await fs.readFile(`${FIELD_REPORTS}/microk8s-backend-listing.txt`, 'utf8');
    const analysis = await c.call<{ entries: unknown[]; segments: { file: string }[] }>('listing.analyze', { text: listing });
    expect(analysis.entries.length).toBeGreaterThan(0);
    expect(analysis.segments.some((s) => s.file === '0000000014232389-0000000014232597')).toBe(true);
    c.close();
  });
});

describe.skipIf(!hasDemo)('validation jobs on real dqlite-demo data', () => {
  it('validates a healthy sample end to end, with events to the caller only', async () => {
    const c = await connect();
    const bystander = await connect();
    const { jobId } = await c.call<{ jobId: string }>('validation.start', { source: { kind: 'sample', id: 'healthy' } });
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    const done = await c.waitEvent((e) => e.event === 'validation.done' || e.event === 'validation.failed');
    expect(done.event).toBe('validation.done');
    const { report } = done.payload as { jobId: string; report: ValidationReport };
    expect((done.payload as { jobId: string }).jobId).toBe(jobId);
    expect(report.engine).toBe('dqlite');
    expect(report.startable).toBe(true);
    expect(report.dataLoss).toBe(false);
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    for (const e of c.events.filter((ev) => ev.event === 'validation.progress')) {
      expect((e.payload as { jobId: string }).jobId).toBe(jobId);
    }
    expect(bystander.events).toEqual([]);

    // Batches of one segment, on demand.
    const seg = report.dqlite?.segments.find((s) => s.entries > 1);
    expect(seg).toBeDefined();
    const batches = await c.call<BatchSummary[]>('validation.batches', { jobId, file: seg!.file });
    expect(batches.length).toBe(seg!.batches);
    expect(batches.reduce((n, b) => n + b.entries, 0)).toBe(seg!.entries);
    expect(batches.every((b) => b.headerCrc === 'ok')).toBe(true);
    await expect(c.call('validation.batches', { jobId, file: '../flipped/metadata1' })).rejects.toMatchObject({ code: 'bad-params' });
    await expect(c.call('validation.batches', { jobId, file: 'metadata1' })).rejects.toMatchObject({ code: 'unknown-file' });
    c.close();
    bystander.close();
  });

  it('reports the flipped byte as an error with file and offset', async () => {
    const c = await connect();
    const { jobId } = await c.call<{ jobId: string }>('validation.start', { source: { kind: 'sample', id: 'flipped' } });
    const done = await c.waitEvent((e) => (e.payload as { jobId?: string }).jobId === jobId && e.event !== 'validation.progress');
    expect(done.event).toBe('validation.done');
    const { report } = done.payload as { report: ValidationReport };
    const segs = await closedSegments(path.join(samplesDir, 'flipped'));
    const broken = report.findings.filter((f) => f.severity === 'error' || f.file === segs[segs.length - 1]);
    expect(broken.length).toBeGreaterThan(0);
    expect(broken.some((f) => f.file === segs[segs.length - 1] && typeof f.offset === 'number')).toBe(true);
    // The last closed segment of a stopped node is renamed by auto-recovery: it starts, losing those entries.
    expect(report).toMatchObject({ startable: true, dataLoss: true });
    expect(report.dqlite?.decision.renamedCorrupt).toEqual([segs[segs.length - 1]]);
    c.close();
  });

  it('cancels a running job: no late "done", no batches, and a second cancel is a no-op', async () => {
    const c = await connect();
    // A 256 MiB never-written open segment: the validator reads all of it to see it is zeros, so the
    // job is certainly still running when the cancel arrives (the sparse file costs no disk).
    const { jobId } = await c.call<{ jobId: string }>('validation.start', { source: { kind: 'sample', id: 'long' } });
    const { cancelled } = await c.call<{ cancelled: boolean }>('validation.cancel', { jobId });
    expect(cancelled).toBe(true);
    const end = await c.waitEvent((e) => (e.payload as { jobId?: string }).jobId === jobId && e.event !== 'validation.progress');
    expect(end).toMatchObject({ event: 'validation.failed', payload: { jobId, cancelled: true } });
    await new Promise((r) => setTimeout(r, 300));
    expect(c.events.filter((e) => e.event === 'validation.done' && (e.payload as { jobId?: string }).jobId === jobId)).toEqual([]);
    await expect(c.call('validation.batches', { jobId, file: 'x' })).rejects.toMatchObject({ code: 'not-finished' });
    expect(await c.call('validation.cancel', { jobId })).toEqual({ cancelled: false });
    c.close();
  });

  it('never modified the sample directories', async () => {
    expect(await hashTree(samplesDir)).toEqual(sampleHashes);
  });
});

describe('default sample catalog', () => {
  it('serves resources/samples/index.json when no directory is given', async () => {
    const s = await startWebServer({ port: 0, rendererDir, quiet: true });
    try {
      const r = await tryConnect(s.port, { token: s.token, origin: `http://127.0.0.1:${s.port}` });
      if (!('ws' in r)) throw new Error(`refused ${r.status}`);
      const c = new ApiClient(r.ws);
      const list = await c.call<SampleInfo[]>('samples.list');
      const indexPath = path.join(REPO, 'resources', 'samples', 'index.json');
      const expected = existsSync(indexPath) ? (JSON.parse(readFileSync(indexPath, 'utf8')) as { id: string }[]).map((e) => e.id) : [];
      expect(list.map((e) => e.id)).toEqual(expected);
      c.close();
    } finally {
      await s.close();
    }
  });

  it('close() stops accepting connections', async () => {
    const s = await startWebServer({ port: 0, rendererDir, quiet: true, samplesDir });
    await s.close();
    await expect(rawRequest(s.port, '/assets/app.js')).rejects.toThrow();
  });
});
