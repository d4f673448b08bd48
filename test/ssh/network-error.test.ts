/**
 * Socket errors become sentences that say what happened and what to check
 * (the real ECONNREFUSED path is in connect.test.ts against a closed port).
 */
import { describe, expect, it } from 'vitest';
import { isTransientError } from '../../electron/services/ssh/connection';
import { describeConnectError, SshNetworkError } from '../../electron/services/ssh/network-error';

function sysErr(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('connect errors in plain words', () => {
  const where = { host: 'node-1.lab', port: 2222 };

  it.each([
    [
      'ENOTFOUND',
      'getaddrinfo ENOTFOUND node-1.lab',
      "The host name node-1.lab could not be resolved. Check the spelling, or use the node's IP address.",
      false,
    ],
    [
      'EHOSTUNREACH',
      'connect EHOSTUNREACH 10.0.0.9:2222',
      "There is no network route to node-1.lab:2222. Check that this machine is on the node's network (VPN, cable, Wi-Fi) and that the address is right.",
      true,
    ],
    [
      'ECONNRESET',
      'read ECONNRESET',
      'node-1.lab:2222 closed the connection before SSH started. Check that this port is an SSH server, and whether the node limits connections (MaxStartups, fail2ban).',
      true,
    ],
  ])('%s', (code, raw, message, transient) => {
    const e = describeConnectError(sysErr(code, raw), where);
    expect(e).toBeInstanceOf(SshNetworkError);
    expect((e as SshNetworkError).message).toBe(message);
    expect((e as SshNetworkError).detail).toBe(raw);
    expect(isTransientError(e)).toBe(transient);
  });

  it('a handshake timeout names the wait and what to check', () => {
    const t = Object.assign(new Error('Timed out while waiting for handshake'), { level: 'client-timeout' });
    const e = describeConnectError(t, where, 20_000) as SshNetworkError;
    expect(e.message).toBe(
      'No SSH answer from node-1.lab:2222 within 20 s. Check the address and port, and any firewall or VPN between here and the node; a node that is still booting answers later.',
    );
    expect(isTransientError(e)).toBe(true);
  });

  it('leaves other errors alone', () => {
    const other = new Error('All configured authentication methods failed');
    expect(describeConnectError(other, where)).toBe(other);
  });
});
