/**
 * Where the SSH service reads and writes, and how it reconnects. Pure
 * functions of the environment: the service instance keeps its own
 * overrides, so two instances (two clients, two tests) never share them.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { SshEvents } from '../../../shared/contract/ssh';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './connection';
import { lifeboatHome, profilesPath } from './profiles';

/** Who is calling, and how to push events back to them (same shape as `CallContext` in registry.ts). */
export interface SshCallContext {
  transport: 'electron' | 'web';
  emit<E extends keyof SshEvents>(event: E, payload: SshEvents[E]): void;
}

export interface SshServiceConfig {
  knownHostsPath: string;
  /** JSONL log of explicit host-key replacements. */
  auditLogPath: string;
  /** Where terminal recordings go; null disables recording. */
  recordingsDir: string | null;
  /** ssh-config file to import (default `<keysDir>/config`, i.e. ~/.ssh/config). */
  sshConfigPath?: string;
  /** The only folder web mode reads private keys from (default ~/.ssh; `LIFEBOAT_SSH_DIR`). */
  keysDir: string;
  /** Where copy-outs go by default, and the only tree web mode may write to (default ~/lifeboat-copies). */
  copiesRoot: string;
}

/** Saved profiles, remembered secrets and the automatic reconnect (kept apart from the paths above). */
export interface SshSessionConfig {
  /** Saved profiles (default `$LIFEBOAT_HOME/profiles.json`, `~/.lifeboat/profiles.json`). */
  profilesPath: string;
  /** Remembered secrets, ciphertext only (default `$LIFEBOAT_HOME/secrets.json`). */
  secretsPath: string;
  /** Spacing of automatic reconnect attempts. */
  retry: RetryPolicy;
}

/** Defaults follow `LIFEBOAT_HOME` when used; tests point them elsewhere. */
export function defaultSshSessionConfig(): SshSessionConfig {
  return { profilesPath: profilesPath(), secretsPath: path.join(lifeboatHome(), 'secrets.json'), retry: DEFAULT_RETRY_POLICY };
}

/**
 * Defaults, read when used so a test or the CLI can point them elsewhere:
 * `LIFEBOAT_SSH_KNOWN_HOSTS` (known_hosts), `LIFEBOAT_SSH_CONFIG` (ssh config
 * to import), `LIFEBOAT_RECORDINGS_DIR` (terminal recordings; default
 * `~/.lifeboat/sessions/<date>/`), `LIFEBOAT_SSH_AUDIT_LOG` (host-key
 * replacements), `LIFEBOAT_COPIES_DIR` (copy-out destinations; default
 * `~/lifeboat-copies`), `LIFEBOAT_SSH_DIR` (where web mode may read private
 * keys; default `~/.ssh`). Recording is on unless `recordingsDir: null`.
 */
export function defaultSshServiceConfig(): SshServiceConfig {
  const env = process.env;
  const home = os.homedir();
  return {
    knownHostsPath: env.LIFEBOAT_SSH_KNOWN_HOSTS || path.join(home, '.ssh', 'known_hosts'),
    auditLogPath: env.LIFEBOAT_SSH_AUDIT_LOG || path.join(home, '.lifeboat', 'host-key-changes.jsonl'),
    recordingsDir: env.LIFEBOAT_RECORDINGS_DIR || path.join(home, '.lifeboat', 'sessions', localDate(new Date())),
    sshConfigPath: env.LIFEBOAT_SSH_CONFIG || undefined,
    copiesRoot: env.LIFEBOAT_COPIES_DIR || path.join(home, 'lifeboat-copies'),
    keysDir: env.LIFEBOAT_SSH_DIR || path.join(home, '.ssh'),
  };
}

/** `YYYY-MM-DD` in local time: the day the operator sees on the wall clock. */
export function localDate(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}
