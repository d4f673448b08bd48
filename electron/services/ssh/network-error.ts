/**
 * What a failed TCP/SSH connection means, in words an operator can act on.
 * Node's own text (`connect ECONNREFUSED 127.0.0.1:2651`) says which syscall
 * failed, not what to check; the engine's code stays on the error (`code`)
 * and in `detail` for the session log.
 */

/** A connection that failed before SSH could authenticate: the network or the server side. */
export class SshNetworkError extends Error {
  constructor(
    message: string,
    /** Node's error code (ECONNREFUSED, ENOTFOUND, …) or `TIMEOUT`. */
    readonly code: string,
    /** Worth retrying on its own (the node may come back), not a typo to fix. */
    readonly transient: boolean,
    /** The original text, kept for logs. */
    readonly detail: string,
  ) {
    super(message);
    this.name = 'SshNetworkError';
  }
}

interface Where {
  host: string;
  port: number;
  /** Through these ProxyJump hops, if any (named in the advice). */
  via?: string;
}

function at(w: Where): string {
  return `${w.host}:${w.port}${w.via ? ` (through ${w.via})` : ''}`;
}

/**
 * Map a socket or handshake error to an SshNetworkError; anything else is
 * returned unchanged (authentication and host key errors explain themselves).
 */
export function describeConnectError(err: unknown, where: Where, timeoutMs?: number): unknown {
  if (!(err instanceof Error)) return err;
  const e = err as Error & { code?: string; level?: string };
  const raw = e.message;
  const code = e.code ?? (e.level === 'client-timeout' || /timed out/i.test(raw) ? 'TIMEOUT' : '');
  const secs = timeoutMs ? ` within ${Math.round(timeoutMs / 1000)} s` : '';
  switch (code) {
    case 'ECONNREFUSED':
      return new SshNetworkError(
        `Nothing accepted the connection at ${at(where)}: the connection was refused. Check that sshd is running on the node (systemctl status ssh) and listens on port ${where.port}, and that the port is right.`,
        code,
        true,
        raw,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new SshNetworkError(
        `The host name ${where.host} could not be resolved${code === 'EAI_AGAIN' ? ' (the DNS server did not answer)' : ''}. Check the spelling, or use the node's IP address.`,
        code,
        code === 'EAI_AGAIN',
        raw,
      );
    case 'ETIMEDOUT':
    case 'TIMEOUT':
      return new SshNetworkError(
        `No SSH answer from ${at(where)}${secs}. Check the address and port, and any firewall or VPN between here and the node; a node that is still booting answers later.`,
        'TIMEOUT',
        true,
        raw,
      );
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new SshNetworkError(
        `There is no network route to ${at(where)}. Check that this machine is on the node's network (VPN, cable, Wi-Fi) and that the address is right.`,
        code,
        true,
        raw,
      );
    case 'ECONNRESET':
    case 'EPIPE':
      return new SshNetworkError(
        `${at(where)} closed the connection before SSH started. Check that this port is an SSH server, and whether the node limits connections (MaxStartups, fail2ban).`,
        code,
        true,
        raw,
      );
    default:
      return err;
  }
}
