/**
 * Automatic reconnect against a real sshd: after `dropConnections()` the back
 * end retries by itself with exponential backoff (capped, jittered), keeps the
 * connection id, says when the next attempt is, lets the user try now or stop;
 * a terminal on the link reports it was cut; a keyboard-interactive prompt
 * during a retry pauses the retries until answered; an authentication or
 * host-key refusal stops retrying. A TCP relay in front of sshd plays the
 * node being down (connection refused) for a while.
 */
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retryDelay } from '../../electron/services/ssh/connection';
import { SshService, type SshCallContext } from '../../electron/services/ssh/ssh-service';
import type { SshEvents, SshPrompt } from '../../shared/contract/ssh';
import { freePort, generateKey, makeTempDir, sshdAvailable, startSshd, type SshdInstance } from '../helpers/sshd';

describe('retryDelay', () => {
  const policy = { baseDelayMs: 1000, maxDelayMs: 30_000, jitter: 0.3, maxAttempts: 20 };
  it('doubles from the base, stops at the cap, and jitter only shortens', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelay(n, policy, () => 0))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(retryDelay(1000, policy, () => 0)).toBe(30_000);
    expect(retryDelay(3, policy, () => 1)).toBe(2800);
    for (let i = 0; i < 200; i++) {
      const d = retryDelay(4, policy);
      expect(d).toBeGreaterThanOrEqual(5600);
      expect(d).toBeLessThanOrEqual(8000);
    }
  });
});

/** A relay 127.0.0.1:port → sshd that can refuse connections ("node down") and cut the live ones. */
class Relay {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  constructor(
    readonly port: number,
    private readonly target: number,
  ) {}
  async up(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }
  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

interface Recorder {
  ctx: SshCallContext;
  states: SshEvents['ssh.state'][];
  /** When each state event arrived (ms), same order as `states`. */
  stateTimes: number[];
  prompts: SshPrompt[];
  exits: SshEvents['ssh.terminal.exit'][];
  waitFor(pred: () => boolean, ms?: number): Promise<void>;
}

function recorder(ssh: SshService, answer: (p: SshPrompt) => string[] | null | 'hold'): Recorder {
  const r: Recorder = {
    states: [],
    stateTimes: [],
    prompts: [],
    exits: [],
    ctx: {
      transport: 'web',
      emit(event, payload) {
        if (event === 'ssh.state') {
          r.states.push(payload as SshEvents['ssh.state']);
          r.stateTimes.push(Date.now());
        }
        if (event === 'ssh.terminal.exit') r.exits.push(payload as SshEvents['ssh.terminal.exit']);
        if (event === 'ssh.prompt') {
          const p = payload as SshPrompt;
          r.prompts.push(p);
          const a = answer(p);
          if (a !== 'hold') void ssh.handlers['ssh.prompt.answer']({ promptId: p.promptId, answers: a }, r.ctx);
        }
      },
    },
    async waitFor(pred, ms = 30_000) {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`timeout; states: ${JSON.stringify(r.states.slice(-6))}`);
        await new Promise((res) => setTimeout(res, 25));
      }
    },
  };
  return r;
}

describe.skipIf(!sshdAvailable())('automatic reconnect (real sshd)', () => {
  let ssh: SshService;
  let sshd: SshdInstance;
  let dir: string;
  let keyPath: string;
  let knownHosts: string;
  let relay: Relay;

  beforeAll(async () => {
    sshd = await startSshd();
    dir = await makeTempDir('lifeboat-auto-');
    const key = await generateKey(dir, 'id');
    keyPath = key.privatePath;
    await sshd.authorize(key.publicLine);
    relay = new Relay(await freePort(), sshd.port);
    await relay.up();
    knownHosts = path.join(dir, 'known_hosts');
    // The relay's port is what the client names: known under [127.0.0.1]:relayPort.
    await fs.writeFile(knownHosts, sshd.knownHostsLine().replace(`]:${sshd.port} `, `]:${relay.port} `) + '\n' + sshd.knownHostsLine() + '\n');
    ssh = new SshService({
      paths: {
        keysDir: dir,
        knownHostsPath: knownHosts,
        auditLogPath: path.join(dir, 'audit.jsonl'),
        recordingsDir: null,
        copiesRoot: path.join(dir, 'copies'),
      },
      sessions: { retry: { baseDelayMs: 300, maxDelayMs: 1200, jitter: 0.2, maxAttempts: 30 } },
    });
  });
  afterAll(async () => {
    await ssh?.shutdown();
    await relay?.down();
    await sshd?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('retries with growing delays while the node is down, keeps the id, cuts the terminal, then comes back', async () => {
    const rec = recorder(ssh, () => null);
    const target = { host: '127.0.0.1', port: relay.port, user: sshd.user, identityFiles: [keyPath], useAgent: false };
    const { connectionId } = await ssh.handlers['ssh.connect']({ target }, rec.ctx);
    const { terminalId } = await ssh.handlers['ssh.terminal.open']({ connectionId, cols: 80, rows: 24 }, rec.ctx);

    const atDrop = rec.states.length;
    await relay.down();
    await rec.waitFor(() => rec.exits.some((e) => e.terminalId === terminalId));
    expect(rec.exits.find((e) => e.terminalId === terminalId)?.reason).toBe('dropped');
    expect(rec.states.some((s) => s.state === 'dropped')).toBe(true);
    // While down: several attempts, each announced with when it starts.
    await rec.waitFor(() => rec.states.filter((s) => s.auto?.retryAt).length >= 4);
    const waits = rec.states.filter((s) => s.auto?.retryAt);
    expect(waits.map((s) => s.auto!.attempt)).toEqual(waits.map((_, i) => i + 1));
    // The announced waits grow: base 300 ms doubling to the 1200 ms cap, jitter shortening each by at most 20 %.
    const announced = rec.states
      .map((s, i) => (s.auto?.retryAt ? s.auto.retryAt - rec.stateTimes[i] : null))
      .filter((d): d is number => d !== null)
      .slice(0, 4);
    const bounds = [300, 600, 1200, 1200];
    announced.forEach((d, i) => {
      // 0.8 × nominal (jitter) minus scheduling slack, and never above the nominal delay.
      expect(d, `wait before attempt ${i + 1}`).toBeGreaterThanOrEqual(bounds[i] * 0.8 - 50);
      expect(d, `wait before attempt ${i + 1}`).toBeLessThanOrEqual(bounds[i] + 5);
    });
    expect(announced[2]).toBeGreaterThan(announced[0]);
    for (const s of waits) expect(s.state).toBe('reconnecting');
    expect(rec.states.slice(atDrop).filter((s) => s.state === 'ready')).toHaveLength(0);
    // The node is back: the next attempt succeeds, same id, commands run again.
    await relay.up();
    await rec.waitFor(() => rec.states.at(-1)?.state === 'ready');
    expect(rec.states.at(-1)?.connectionId).toBe(connectionId);
    expect((await ssh.handlers['ssh.exec']({ connectionId, command: 'echo back' }, rec.ctx)).stdout).toBe('back\n');
    expect(rec.prompts).toEqual([]);

    // Stop: retrying ends, the node stays dropped; Reconnect (by hand) brings it back.
    await relay.down();
    await rec.waitFor(() => rec.states.at(-1)?.auto?.retryAt != null);
    expect(await ssh.handlers['ssh.reconnect.stop']({ connectionId }, rec.ctx)).toEqual({ stopped: true });
    expect(rec.states.at(-1)).toMatchObject({ state: 'dropped', auto: { stopped: 'user' } });
    const count = rec.states.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(rec.states.length).toBe(count);
    await relay.up();
    await ssh.handlers['ssh.reconnect']({ connectionId }, rec.ctx);
    expect(rec.states.at(-1)?.state).toBe('ready');
    await ssh.handlers['ssh.disconnect']({ connectionId }, rec.ctx);
  }, 90_000);

  it('"Reconnect now" does not wait for the countdown', async () => {
    // Its own service with a slow policy: the other tests' service is untouched.
    const ssh = new SshService({
      paths: {
        keysDir: dir,
        knownHostsPath: knownHosts,
        auditLogPath: path.join(dir, 'audit.jsonl'),
        recordingsDir: null,
        copiesRoot: path.join(dir, 'copies'),
      },
      sessions: { retry: { baseDelayMs: 60_000, maxDelayMs: 60_000, jitter: 0, maxAttempts: 5 } },
    });
    try {
      const rec = recorder(ssh, () => null);
      const target = { host: '127.0.0.1', port: sshd.port, user: sshd.user, identityFiles: [keyPath], useAgent: false };
      const { connectionId } = await ssh.handlers['ssh.connect']({ target }, rec.ctx);
      await sshd.dropConnections();
      await rec.waitFor(() => rec.states.at(-1)?.auto?.retryAt != null);
      expect(rec.states.at(-1)!.auto!.retryAt! - Date.now()).toBeGreaterThan(50_000);
      const t0 = Date.now();
      await ssh.handlers['ssh.reconnect']({ connectionId }, rec.ctx);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(rec.states.at(-1)?.state).toBe('ready');
      await ssh.handlers['ssh.disconnect']({ connectionId }, rec.ctx);
    } finally {
      await ssh.shutdown();
    }
  }, 60_000);

  it('a keyboard-interactive prompt during a retry pauses the retries; cancelling it stops them', async () => {
    let hold = false;
    let cancel = false;
    const rec = recorder(ssh, (p) => {
      if (p.kind !== 'keyboard-interactive') return null;
      if (cancel) return null;
      return hold ? 'hold' : [sshd.password];
    });
    const target = { host: '127.0.0.1', port: sshd.port, user: sshd.user, useAgent: false };
    const { connectionId } = await ssh.handlers['ssh.connect']({ target }, rec.ctx);
    expect(rec.prompts.map((p) => p.kind)).toEqual(['keyboard-interactive']);

    hold = true;
    await sshd.dropConnections();
    await rec.waitFor(() => rec.prompts.length === 2);
    const asked = rec.prompts[1];
    expect(asked).toMatchObject({ kind: 'keyboard-interactive', duringReconnect: true });
    await rec.waitFor(() => rec.states.at(-1)?.auto?.waitingForPrompt === true);
    const before = rec.states.length;
    // Far longer than the backoff: nothing else is tried meanwhile.
    await new Promise((r) => setTimeout(r, 2500));
    expect(rec.states.length).toBe(before);
    expect(rec.prompts).toHaveLength(2);
    await ssh.handlers['ssh.prompt.answer']({ promptId: asked.promptId, answers: [sshd.password] }, rec.ctx);
    await rec.waitFor(() => rec.states.at(-1)?.state === 'ready');

    // The user cancels the prompt of the next retry: an authentication refusal, so retrying stops.
    hold = false;
    cancel = true;
    await sshd.dropConnections();
    await rec.waitFor(() => rec.states.at(-1)?.auto?.stopped !== undefined);
    expect(rec.states.at(-1)).toMatchObject({ state: 'dropped', auto: { stopped: 'auth' } });
    expect(rec.states.at(-1)?.message).toMatch(/cancelled/);
    const n = rec.states.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(rec.states.length).toBe(n);
    await ssh.handlers['ssh.disconnect']({ connectionId }, rec.ctx);
  }, 90_000);

  it('a changed host key stops retrying at once', async () => {
    const rec = recorder(ssh, () => null);
    const target = { host: '127.0.0.1', port: sshd.port, user: sshd.user, identityFiles: [keyPath], useAgent: false };
    const { connectionId } = await ssh.handlers['ssh.connect']({ target }, rec.ctx);
    const saved = await fs.readFile(knownHosts, 'utf8');
    try {
      // The node "was rebuilt": known_hosts now holds another ed25519 key for it.
      const other = await generateKey(dir, 'other_host_key');
      const [alg, b64] = other.publicLine.split(/\s+/);
      await fs.writeFile(knownHosts, `[127.0.0.1]:${sshd.port} ${alg} ${b64}\n`);
      await sshd.dropConnections();
      await rec.waitFor(() => rec.states.at(-1)?.auto?.stopped !== undefined);
      const last = rec.states.at(-1)!;
      expect(last).toMatchObject({ state: 'dropped', auto: { stopped: 'host-key', attempt: 1 }, hostKey: { kind: 'changed' } });
      expect(last.message).toMatch(/HAS CHANGED/);
    } finally {
      await fs.writeFile(knownHosts, saved);
      await ssh.handlers['ssh.disconnect']({ connectionId }, rec.ctx);
    }
  }, 60_000);
});
