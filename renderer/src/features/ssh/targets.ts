/**
 * The "New connection" form's text fields turned into an `SshTarget`, and
 * labels for display. Pure functions (tested in Node).
 */
import type { SshEndpoint, SshTarget } from '../../../../shared/contract/ssh';

export interface ConnectionFields {
  host: string;
  port: string;
  user: string;
  identityFile: string;
  /** `user@host:port` entries separated by commas, first hop first (like ProxyJump). */
  jumps: string;
  useAgent: boolean;
  /** Reconnect by itself when the link drops (default on). */
  autoReconnect?: boolean;
}

export type FieldProblem = { kind: 'need-host' } | { kind: 'bad-port' } | { kind: 'bad-jump'; entry: string };

/** `[user@]host[:port]` or `[user@][v6addr]:port`; null when unreadable. */
export function parseEndpoint(text: string, defaultUser: string): SshEndpoint | null {
  const s = text.trim();
  if (!s || /\s/.test(s)) return null;
  const at = s.lastIndexOf('@');
  const user = at >= 0 ? s.slice(0, at) : defaultUser;
  const rest = at >= 0 ? s.slice(at + 1) : s;
  if (!user) return null;
  let host: string;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracket) {
    host = bracket[1];
    portText = bracket[2];
  } else {
    const parts = rest.split(':');
    // A bare IPv6 address without brackets cannot carry a port.
    if (parts.length > 2) {
      host = rest;
    } else {
      host = parts[0];
      portText = parts[1];
    }
  }
  if (!host) return null;
  const port = portText === undefined ? 22 : parsePort(portText);
  if (port === null) return null;
  return { host, port, user };
}

export function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text.trim())) return null;
  const n = Number(text.trim());
  return n >= 1 && n <= 65535 ? n : null;
}

/** Fields to a target, or the first problem to show next to the form. */
export function targetFromFields(f: ConnectionFields): { target: SshTarget } | { problem: FieldProblem } {
  const host = f.host.trim();
  const user = f.user.trim();
  if (!host || !user) return { problem: { kind: 'need-host' } };
  const port = parsePort(f.port || '22');
  if (port === null) return { problem: { kind: 'bad-port' } };
  const jumps: SshEndpoint[] = [];
  for (const entry of f.jumps
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const ep = parseEndpoint(entry, user);
    if (!ep) return { problem: { kind: 'bad-jump', entry } };
    jumps.push(ep);
  }
  const identity = f.identityFile.trim();
  const target: SshTarget = { host, port, user, useAgent: f.useAgent };
  if (identity) target.identityFiles = [identity];
  if (jumps.length) target.jumps = jumps;
  // Default on: only the exception is spelled out.
  if (f.autoReconnect === false) target.autoReconnect = false;
  return { target };
}

/** The form filled from a target (an imported ssh-config host). */
export function fieldsFromTarget(t: SshTarget): ConnectionFields {
  return {
    host: t.host,
    port: String(t.port),
    user: t.user,
    identityFile: t.identityFiles?.[0] ?? '',
    jumps: (t.jumps ?? []).map(endpointText).join(', '),
    useAgent: t.useAgent !== false,
    autoReconnect: t.autoReconnect !== false,
  };
}

export function endpointText(e: SshEndpoint): string {
  const host = e.host.includes(':') ? `[${e.host}]` : e.host;
  // Port 0: "This machine" (no port at all), `root@localhost` as the back end names it.
  return `${e.user}@${host}${e.port === 22 || e.port === 0 ? '' : `:${e.port}`}`;
}

/** `label (user@host:port)` or just `user@host:port`. */
export function targetLabel(t: SshTarget): string {
  const ep = endpointText(t);
  return t.label && t.label !== t.host ? `${t.label} (${ep})` : ep;
}
