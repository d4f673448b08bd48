/**
 * A link that goes silent (VPN dropped, cable pulled, NAT entry expired)
 * sends no FIN or RST: only keepalive can notice it. Here a loopback relay
 * between us and a real sshd stops forwarding without closing anything, and
 * the connection must report `dropped` (and an open terminal must say it was cut) within
 * keepalive interval x count, not hang forever.
 */
import * as net from 'node:net';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSsh, type SshConnection } from '../../electron/services/ssh/connection';
import { KnownHostsFile } from '../../electron/services/ssh/known-hosts';
import { TerminalSession, type TerminalExitReason } from '../../electron/services/ssh/terminal';
import { generateKey, makeTempDir, sshdAvailable, startSshd, type KeyPair, type SshdInstance } from '../helpers/sshd';

/** A TCP relay on 127.0.0.1 that can go silent: after `blackhole()` bytes are swallowed, sockets stay open. */
async function startRelay(targetPort: number): Promise<{ port: number; blackhole(): void; close(): Promise<void> }> {
  let silent = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(targetPort, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    inbound.on('data', (d) => {
      if (!silent) outbound.write(d);
    });
    outbound.on('data', (d) => {
      if (!silent) inbound.write(d);
    });
    // While forwarding, a close on one side closes the other; once silent, nothing is passed on.
    inbound.on('end', () => !silent && outbound.end());
    outbound.on('end', () => !silent && inbound.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    blackhole: () => (silent = true),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.skipIf(!sshdAvailable())('keepalive on a link that goes silent (real sshd)', () => {
  let dir: string;
  let sshd: SshdInstance;
  let key: KeyPair;

  beforeAll(async () => {
    dir = await makeTempDir('lifeboat-keepalive-');
    sshd = await startSshd();
    key = await generateKey(dir, 'id_ka');
    await sshd.authorize(key.publicLine);
  });

  afterAll(async () => {
    await sshd?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('reports the connection dropped and cuts the open terminal when no FIN or RST ever comes', async () => {
    const relay = await startRelay(sshd.port);
    let conn: SshConnection | null = null;
    try {
      const [alg, b64] = sshd.hostKeys.ed25519.publicLine.split(/\s+/);
      const khPath = path.join(dir, 'known_hosts');
      await fs.writeFile(khPath, `[127.0.0.1]:${relay.port} ${alg} ${b64}\n`);
      conn = await connectSsh({
        target: { host: '127.0.0.1', port: relay.port, user: sshd.user, identityFiles: [key.privatePath] },
        hostKeys: { knownHosts: new KnownHostsFile(khPath), decideUnknown: async () => 'reject' },
        prompt: async () => null,
        agentSocket: null,
        keepaliveIntervalMs: 200,
        keepaliveCountMax: 2,
      });
      expect((await conn.exec('echo alive')).stdout).toBe('alive\n');
      const terminal = await TerminalSession.open(conn, { cols: 80, rows: 24, onData: () => undefined });
      const terminalExit = new Promise<TerminalExitReason>((resolve) => terminal.once('exit', resolve));
      const dropped = new Promise<Error>((resolve) => conn!.once('dropped', resolve));

      const cutAt = Date.now();
      relay.blackhole();
      terminal.write('echo typed-into-the-void\n');
      // 200 ms x 2 unanswered keepalives: well under the 5 s budget, and never "forever".
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no drop detected within 5 s')), 5000));
      const err = await Promise.race([dropped, timeout]);
      expect(Date.now() - cutAt).toBeLessThan(5000);
      expect(err.message).toMatch(/keepalive/i);
      expect(conn.state).toBe('dropped');
      // The open terminal is told it was cut (the pane then offers to reconnect).
      expect(await Promise.race([terminalExit, timeout])).toBe('dropped');
    } finally {
      conn?.close();
      await relay.close();
    }
  }, 20_000);
});
