/**
 * What a failed TCP/SSH connection means, in words an operator can act on.
 * Node's own text (`connect ECONNREFUSED 127.0.0.1:2651`) says which syscall
 * failed, not what to check; the engine's code stays on the error (`code`)
 * and in `detail` for the session log.
 */

import type { ErrorText } from '../../../shared/contract/error-text';
import { translate, type MessageParams } from '../../../shared/i18n';
import type { SshStringKey } from '../../../shared/i18n/ssh';

/**
 * A connection that failed before SSH could authenticate: the network or the server side.
 * `message` is English (CLI, logs); `text` is the same sentence as a catalog key and params,
 * which the renderer says in the user's language.
 */
export class SshNetworkError extends Error {
  readonly text: ErrorText;
  constructor(
    key: SshStringKey,
    params: MessageParams,
    /** Node's error code (ECONNREFUSED, ENOTFOUND, …) or `TIMEOUT`. */
    readonly code: string,
    /** Worth retrying on its own (the node may come back), not a typo to fix. */
    readonly transient: boolean,
    /** The original text, kept for logs. */
    readonly detail: string,
  ) {
    super(translate('en', key, params));
    this.name = 'SshNetworkError';
    this.text = { key, params };
  }
}

/**
 * Any other SSH failure said from a catalog sentence: `message` is its English
 * (CLI, logs, unchanged), `text` the key and params the renderer says in the
 * user's language. Node's or ssh2's own words are an `error` param, kept as they are.
 */
export class SshTextError extends Error {
  readonly text: ErrorText;
  constructor(key: SshStringKey, params: MessageParams = {}) {
    super(translate('en', key, params));
    this.name = 'SshTextError';
    this.text = { key, params };
  }
}

/** The sentences an SshTextError can carry (tests check both languages have each). */
export const SSH_TEXT_ERROR_KEYS: readonly SshStringKey[] = [
  'ssh.error.connectFailed',
  'ssh.error.jumpForward',
  'ssh.error.connectionLost',
  'ssh.error.droppedWith',
  'ssh.error.reconnectFailed',
  'ssh.error.unknownConnection',
  'ssh.error.notConnected.dropped',
  'ssh.error.notConnected.closed',
  'ssh.sudo.error.checkLost',
  'ssh.hostkey.error.noRefusedKey',
  'ssh.hostkey.error.refuseAdd.changed',
  'ssh.hostkey.error.refuseAdd.revoked',
  'ssh.hostkey.error.fingerprintMismatch',
  'ssh.hostkey.error.reasonRequired',
  'ssh.hostkey.error.revoked',
  'ssh.hostkey.error.knownHostsTooLarge',
];

/** Every sentence a network error can carry (tests check both languages have each). */
export const NETWORK_ERROR_KEYS: readonly SshStringKey[] = [
  'ssh.error.refused',
  'ssh.error.hostNotFound',
  'ssh.error.dnsNoAnswer',
  'ssh.error.timeout',
  'ssh.error.timeoutWithin',
  'ssh.error.noRoute',
  'ssh.error.closedEarly',
];

interface Where {
  host: string;
  port: number;
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
  const at = { host: where.host, port: where.port };
  switch (code) {
    case 'ECONNREFUSED':
      return new SshNetworkError('ssh.error.refused', at, code, true, raw);
    case 'ENOTFOUND':
      return new SshNetworkError('ssh.error.hostNotFound', at, code, false, raw);
    case 'EAI_AGAIN':
      return new SshNetworkError('ssh.error.dnsNoAnswer', at, code, true, raw);
    case 'ETIMEDOUT':
    case 'TIMEOUT':
      return timeoutMs
        ? new SshNetworkError('ssh.error.timeoutWithin', { ...at, seconds: Math.round(timeoutMs / 1000) }, 'TIMEOUT', true, raw)
        : new SshNetworkError('ssh.error.timeout', at, 'TIMEOUT', true, raw);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new SshNetworkError('ssh.error.noRoute', at, code, true, raw);
    case 'ECONNRESET':
    case 'EPIPE':
      return new SshNetworkError('ssh.error.closedEarly', at, code, true, raw);
    default:
      return err;
  }
}
